"""`espace export …`: an espace in a format of the outside world (issue 13).

`export fhir` writes a FHIR R4 Bundle (ADR-0031), streamed: each entry
written as it validates, the traces read from the log as they are written,
so that memory does not grow with them. Nothing reaches the destination
unless the whole bundle validated: it is streamed to a temporary file,
renamed over --out at the end (beside it, on the same file system), or
copied to stdout once whole; a failed export leaves no partial output.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import click

from espace.application.errors import InvalidInput
from espace.application.schemas import parse_instant
from espace.cli.actors import ActorFlags, actor_options
from espace.cli.app import Session, main
from espace.cli.options import espace_ref, resolve
from espace.cli.render import emit


@main.group("export")
def export_group() -> None:
    """Export an espace in a standard format (issue 13): `export fhir`."""


@export_group.command("fhir")
@espace_ref
@click.option(
    "--as-of",
    help="Export the espace as it stood at this instant (ISO 8601 with its "
    "offset; default now), replayed from its events.",
)
@click.option(
    "--with-history",
    is_flag=True,
    help="Also the logically deleted documents (status entered-in-error, "
    "DOC-4) and every superseded version as its own DocumentReference (DOC-3).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Bundle to this file (through a temporary file beside it, "
    "renamed over it once the whole bundle is valid) instead of stdout; a "
    "summary is printed.",
)
@click.option(
    "--operator",
    metavar="NAME",
    help="The operator exports (a name kept in the holder's journal): every "
    "document, each DOC-5 flag as a securityLabel.",
)
@actor_options()
@click.pass_obj
def fhir_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    as_of: str | None,
    with_history: bool,
    out: Path | None,
    operator: str | None,
    actor: ActorFlags,
) -> None:
    """Write the espace as a FHIR R4 Bundle (type collection, R4B models of
    fhir.resources, ADR-0031): the Patient with the INS and its five traits
    (ID-2) and the legal representative as contact (LC-12); a
    DocumentReference per document (LOINC type, DMP category, author, time
    of care, inline content with size and SHA-1, a securityLabel per DOC-5
    flag, replaced versions in relatesTo, DOC-3); a Practitioner and its
    PractitionerRoles for every professional named (PRO-2); the Consent
    with its provision rules (ACC-1, ACC-2, ACC-4, ACC-5); an AuditEvent per
    trace (ACC-6); a Communication per message (MSG-*), an Appointment per
    agenda entry (AG-1), and the medical profile as Observation,
    AllergyIntolerance, Condition, MedicationStatement and Immunization
    (PRO-1).

    \b
    Who exports: the holder (--as-holder) or their legal representative
    (--as-representative), their right of access, without the documents
    hidden from them (DOC-5); or --operator NAME. A professional is refused.
    Every export, and every refused attempt, is traced in the holder's
    journal (ACC-6). An erased espace has nothing left to export (exit 4).
    """
    when = parse_instant(as_of, "as_of") if as_of else None
    store = session.store()
    target = resolve(store, nir, espace_id)
    chose_actor = any(getattr(actor, k) for k in actor.offered)
    if operator is not None and chose_actor:
        raise InvalidInput({"actor": ["give --operator or an --as-… flag, not both"]})

    def export(stream: IO[str]) -> dict[str, int]:
        if operator is not None:
            return store.export.fhir_to(
                stream, target, operator=operator, as_of=when, with_history=with_history
            )
        return store.export.fhir_to(
            stream,
            target,
            actor=actor.on(target),
            as_of=when,
            with_history=with_history,
        )

    if out is None:
        _to_stdout(export)
        return
    kinds = _to_file(export, out)
    summary = {"out": str(out), "espace_id": str(target), "resources": kinds}

    def human(d: dict[str, Any]) -> None:
        counted = ", ".join(f"{n} {k}" for k, n in sorted(d["resources"].items()))
        click.echo(f"wrote {d['out']}: {counted}")

    emit(summary, as_json, human)


Export = Callable[[IO[str]], dict[str, int]]
"""The export streamed to a text stream; how many resources of each type."""


def _to_stdout(export: Export) -> None:
    """Through an anonymous temporary file, copied to stdout once whole."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        export(spool)
        spool.write("\n")
        spool.seek(0)
        shutil.copyfileobj(spool, sys.stdout)


def _to_file(export: Export, out: Path) -> dict[str, int]:
    """Through a temporary file beside ``out``, renamed over it at the end."""
    folder = out.resolve().parent
    if not folder.is_dir():
        raise InvalidInput({"out": [f"no folder {folder}"]})
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            kinds = export(stream)
            stream.write("\n")
        Path(name).replace(out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return kinds
