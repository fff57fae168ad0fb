"""`espace import …`: what comes from outside into an espace (issue 13).

`import legacy-dmp FILE` merges a legacy DMP's FHIR Bundle (LC-6,
ADR-0032): validated whole, then imported in one transaction, or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import click

from espace.application.errors import InvalidInput
from espace.application.legacy_import import DEFAULT_OPERATOR
from espace.cli.app import Session, main
from espace.cli.options import espace_ref
from espace.cli.render import emit


@main.group("import")
def import_group() -> None:
    """Import into an espace from a standard format (issue 13): `import legacy-dmp`."""


@import_group.command("legacy-dmp")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@espace_ref
@click.option(
    "--operator",
    metavar="NAME",
    default=DEFAULT_OPERATOR,
    show_default=True,
    help="Who imports, as the holder's journal names them (ACC-6).",
)
@click.pass_obj
def legacy_dmp_cmd(
    session: Session,
    as_json: bool,
    file: Path,
    nir: str | None,
    espace_id: UUID | None,
    operator: str,
) -> None:
    """Merge a legacy DMP into its holder's espace (LC-6): FILE is a FHIR R4
    Bundle (JSON) of DocumentReferences for one person, identified by the
    INS (a Patient entry, or each DocumentReference's subject.identifier;
    system urn:oid:1.2.250.1.213.1.4.8 for a NIR, …4.9 for a NIA).

    \b
    Each current DocumentReference becomes a document (DOC-1): its LOINC
    type, its category (the export's code system, else the type's), its
    author (a Practitioner with its IdNatPS, or the Patient for an
    upload), the time of care (context.period.start, else date), its title
    (description), and its inline content (base64; size and SHA-1 hash
    checked if given). Every entry is validated by the FHIR R4B models and
    by the deposit's rules first: one bad entry imports nothing (exit 2,
    each error naming the entry and the element). Each imported document is
    traced in the holder's journal (ACC-6).

    \b
    --nir/--id, if given, must name the bundle's patient. Into an open or
    activated espace the documents are deposited now. Before the opening
    (the opposition window runs, LC-2) they are checked the same way and
    held: the opening (LC-4, or an activation, LC-5) merges them, each
    traced; an opposition (LC-3) discards them and deletes their bytes.
    A holder who opposed, or a suspended or closed espace, is refused with
    rule LC-6 (exit 3); none, or an erased one, exits 4. Importing the same
    bundle again adds nothing (already_imported).
    """
    if nir is not None and espace_id is not None:
        raise InvalidInput({"nir": ["give at most one of --nir or --id"]})
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput({"file": [f"cannot read {file}: {exc.strerror}"]}) from None
    store = session.store()
    target = store.lifecycle.espace_id_for(nir) if nir is not None else espace_id
    report = store.imports.legacy_dmp(data, espace_id=target, operator=operator)

    def human(d: dict[str, Any]) -> None:
        click.echo(
            f"espace {d['espace_id']}: {d['imported']} imported, "
            f"{d['held']} held until the opening, "
            f"{d['already_imported']} already imported"
        )

    emit(report, as_json, human)
