"""The directory of professionals (PRO-2): the national extract, imported
in full or in part, and searched."""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

import click

from espace.application import outputs
from espace.application.directory import read_extract
from espace.cli.app import Session, main
from espace.cli.options import file_name, paged
from espace.cli.render import (
    emit,
    page,
    page_footer,
    progress_bar,
    show_rejected,
    table,
)
from espace.domain.actors import PROFESSIONS


@main.group("directory")
def directory_group() -> None:
    """PRO-2: the directory of professionals (the national extract)."""


@directory_group.command("import")
@click.argument("extract", type=click.File("rb"))
@click.option(
    "--full",
    is_flag=True,
    help="The extract is the whole directory: listed professionals absent from "
    "it are withdrawn and act on no espace any more (PRO-2).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read and check everything, say what would change; save nothing.",
)
@click.option(
    "--max-withdrawn",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0, 100),
    help="With --full: withdraw nobody if more than this percentage of the "
    "listed professionals are absent from the extract.",
)
@click.option(
    "--force", is_flag=True, help="With --full: withdraw the absent however many."
)
@click.option(
    "--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000)
)
@click.pass_obj
def directory_import_cmd(
    session: Session,
    as_json: bool,
    extract: BinaryIO,
    full: bool,
    dry_run: bool,
    max_withdrawn: float,
    force: bool,
    batch_size: int,
) -> None:
    """PRO-2: import "PS_LibreAcces_Personne_activite" (UTF-8, `|`-separated,
    header row, trailing `|`, one row per activity; - for stdin).

    \b
    Columns are read by name: Identification nationale PP, Type d'identifiant
    PP, Nom d'exercice, Prénom d'exercice, Code profession, Libellé profession,
    Code savoir-faire, Libellé savoir-faire, Code mode exercice, Raison sociale
    site, Code postal / Libellé commune / Bureau cedex (coord. structure).
    IdNatPS are checked (ID-3). A bad row, or a line that cannot be read (not
    UTF-8, over 1 MiB, another number of fields than the header), is reported
    with its line number and does not stop the others; rows of professions
    the access matrix does not know are counted as skipped; re-importing an
    unchanged extract writes nothing. The rows that pass are saved even when
    others are rejected: run the corrected file again.

    \b
    With --full, the listed professionals absent from the extract are listed
    (the first 20, and how many), and withdrawn only if no row was rejected
    and they are at most --max-withdrawn % of the directory, or with --force.
    --dry-run shows all of this and saves nothing.
    Exit code 2 when any row was rejected, 3 when --full withdrew nobody
    because too many were absent.
    """
    rows = read_extract(extract)
    store = session.store()
    with progress_bar("professionals", None) as advance:
        report = store.directory.import_rows(
            rows,
            full=full,
            batch_size=batch_size,
            progress=advance,
            dry_run=dry_run,
            max_withdrawn=max_withdrawn / 100,
            force=force,
        )

    def human(d: dict[str, Any]) -> None:
        if d["dry_run"]:
            click.echo("dry run: nothing was saved; the counts are what would be")
        click.echo(
            f"{d['file']}: rows {d['rows']}: created {d['created']}, "
            f"updated {d['updated']}, unchanged {d['unchanged']}, "
            f"withdrawn {d['withdrawn']}, rejected {len(d['rejected'])}"
        )
        for profession, n in d["skipped_professions"].items():
            click.echo(f"  skipped (profession {profession}): {n}")
        show_rejected(d["file"], d["rejected"])
        if full:
            click.echo(
                f"  --full: {d['absent']} of {d['listed']} listed are absent from "
                f"the extract: {', '.join(d['absent_sample']) or 'nobody'}"
                + (" …" if d["absent"] > len(d["absent_sample"]) else "")
            )
        if d.get("withdrawal_skipped"):
            click.echo(f"  --full: {d['withdrawal_skipped']} (--force)")

    emit({"file": file_name(extract), **outputs.dump(report)}, as_json, human)
    if report.rejected:
        sys.exit(2)
    if report.withdrawal_skipped:
        sys.exit(3)


SEARCH_PAGE = 10_000
"""The most rows one directory search returns (--all pages through them)."""


def place(p: dict[str, Any]) -> str:
    """A place of practice on one line: site, postal code, city."""
    parts = (p["site"], p["postal_code"], p["city"])
    return " ".join(str(v) for v in parts if v)


@directory_group.command("search")
@click.option("--name", help="Part of the name (accents and case ignored).")
@click.option("--profession", type=click.Choice(PROFESSIONS))
@click.option("--city", help="A city (or its start), or a postal code prefix.")
@paged(50)
@click.pass_obj
def directory_search_cmd(
    session: Session,
    as_json: bool,
    name: str | None,
    profession: str | None,
    city: str | None,
    limit: int,
    offset: int,
    all_rows: bool,
) -> None:
    """PRO-2: find professionals by name, profession and city; says how many
    match beyond --limit."""
    store = session.store()

    def search(at: int, size: int) -> Any:
        return store.directory.search(
            name=name, profession=profession, city=city, limit=size, offset=at
        )

    rows = search(offset, SEARCH_PAGE if all_rows else limit)
    while all_rows and offset + len(rows) < rows.total:  # --all: page by page
        more = search(offset + len(rows), SEARCH_PAGE)
        if not more:
            break
        rows.extend(more)

    def human(d: dict[str, Any]) -> None:
        table(
            ["IdNatPS", "name", "profession", "specialties", "places"],
            (
                [
                    r["idnatps"],
                    f"{r['first_name'] or ''} {r['last_name']}".strip(),
                    r["profession"],
                    r["specialties"],
                    "; ".join(place(p) for p in r["places"]),
                ]
                for r in d["professionals"]
            ),
        )
        page_footer(d, "professionals")

    emit(page("professionals", rows, rows.total, offset), as_json, human)


@directory_group.command("show")
@click.option(
    "--professional",
    "--idnatps",
    "idnatps",
    required=True,
    metavar="IDNATPS",
    help="The professional concerned, by IdNatPS (ID-3), as in every command.",
)
@click.pass_obj
def directory_show_cmd(session: Session, as_json: bool, idnatps: str) -> None:
    """PRO-2: one professional of the directory, with their places of practice."""
    emit(session.store().directory.get(idnatps), as_json)
