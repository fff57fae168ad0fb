"""Options that many commands share, and the helpers that read them: which
espace (--nir or --id), pages of a list (--limit, --offset, --all), files
given as arguments, and the publication of reference data (the access
matrix, ACC-3; the service catalogue, PRO-3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from uuid import UUID

import click

from espace.api import Store
from espace.application.delimited import read_text
from espace.application.errors import InvalidInput
from espace.cli.render import emit
from espace.domain.document_metadata import MAX_SIZE

F = TypeVar("F", bound=Callable[..., Any])


def apply(options: list[Callable[[F], F]], func: F) -> F:
    """Decorate ``func`` with ``options``, listed as in ``--help``."""
    for option in reversed(options):
        func = option(func)
    return func


def espace_ref(func: F) -> F:
    """--nir or --id: which espace. The id is derived from the NIR by a keyed hash."""
    func = click.option(
        "--id",
        "--espace",
        "espace_id",
        type=click.UUID,
        help="The espace id (from `show`/`list`).",
    )(func)
    return click.option("--nir", help="The holder's NIR (15 characters).")(func)


def resolve(store: Store, nir: str | None, espace_id: UUID | None) -> UUID:
    """The espace that exactly one of --nir and --id names."""
    if (nir is None) == (espace_id is None):
        raise InvalidInput({"nir": ["give exactly one of --nir or --id"]})
    if espace_id is not None:
        return espace_id
    assert nir is not None
    return store.lifecycle.espace_id_for(nir)


def paged(default: int) -> Callable[[F], F]:
    """--limit, --offset and --all for a command that lists many rows: a
    list that stops early says how many remain (``page``)."""

    def wrap(func: F) -> F:
        func = click.option(
            "--all", "all_rows", is_flag=True, help="Every row (no --limit)."
        )(func)
        func = click.option(
            "--offset", default=0, show_default=True, type=click.IntRange(0)
        )(func)
        return click.option(
            "--limit",
            default=default,
            show_default=True,
            type=click.IntRange(1, 1_000_000),
            help="At most this many rows; the output says how many remain.",
        )(func)

    return wrap


EVERY_ROW = 2**62
"""A LIMIT that both databases take and no store reaches: --all."""


def page_limit(limit: int, all_rows: bool) -> int:
    """The number of rows to ask for: --limit, or every one with --all."""
    return EVERY_ROW if all_rows else limit


def file_name(stream: Any) -> str:
    """How the operator named a file argument (``-`` for stdin)."""
    return str(getattr(stream, "name", "-"))


def read_document(stream: BinaryIO, flag: str) -> bytes:
    """A file to deposit or attach, read whole, up to the largest document
    the DMP accepts (DOC-1): a larger one is refused naming ``flag``."""
    data = stream.read(MAX_SIZE + 1)
    if len(data) > MAX_SIZE:
        raise InvalidInput(
            {
                flag: [
                    f"{Path(file_name(stream)).name} is larger than "
                    f"{MAX_SIZE // 2**20} MiB (DOC-1)"
                ]
            }
        )
    return data


# --------------------------------------------------------------------- publish


def publish_options(what: str) -> Callable[[F], F]:
    """The options of a publication of reference data (ACC-3, PRO-3)."""
    options: list[Callable[[F], F]] = [
        click.argument("table", type=click.File("rb"), required=False),
        click.option(
            "--version",
            "version",
            type=click.IntRange(1),
            help=f"Publish this earlier version of the {what} again "
            "(instead of a file): the way back.",
        ),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Show what would change; publish nothing.",
        ),
        click.option(
            "--allow-removals",
            is_flag=True,
            help=f"Let the {what} lose the entries the file leaves out "
            "(refused otherwise: a partial file must not remove them).",
        ),
    ]
    return lambda func: apply(options, func)


def publish_table(
    table: BinaryIO | None,
    version: int | None,
    from_file: Callable[[str, str], dict[str, Any]],
    again: Callable[[int], dict[str, Any]],
    as_json: bool,
) -> None:
    """Publish from a file, or an earlier version again; print what changed."""
    if (table is None) == (version is None):
        raise InvalidInput({"table": ["give a file, or --version N (not both)"]})
    if table is not None:
        name = file_name(table)
        published = from_file(read_text(table, name), Path(name).name)
    else:
        assert version is not None
        published = again(version)

    def human(d: dict[str, Any]) -> None:
        if d["dry_run"]:
            click.echo(f"dry run: nothing published (version {d['previous']} in force)")
        else:
            click.echo(f"published version {d['version']}")
        show_changes(d["changes"])

    emit(published, as_json, human)


def show_changes(changes: dict[str, Any], indent: str = "  ") -> None:
    """The entries a version adds, removes and changes, one per line."""
    for key in changes["added"]:
        click.echo(f"{indent}+ {key}")
    for key in changes["removed"]:
        click.echo(f"{indent}- {key}")
    for key, both in changes["changed"].items():
        click.echo(f"{indent}~ {key}: {both['before']} -> {both['after']}")


def show_history(versions: list[dict[str, Any]]) -> None:
    """Published versions, newest first, each with what it changed."""
    for v in versions:
        click.echo(
            f"version {v['version']}  {v['published_at'].isoformat()}  "
            f"{v['source']}  ({v['entries']} entries)"
        )
        show_changes(v["changes"], indent="    ")
