"""`espace export …`: an espace in a format of the outside world (issue 13).

`export fhir` writes a FHIR R4 Bundle (ADR-0031). It is written only once
every resource has validated: to stdout, or to --out through a temporary
file renamed at the end, so that a failed export leaves no partial file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
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
    help="Write the Bundle to this file (replaced whole, only once valid) "
    "instead of stdout; a summary is printed.",
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
    if operator is not None:
        bundle = store.export.fhir(
            target, operator=operator, as_of=when, with_history=with_history
        )
    else:
        bundle = store.export.fhir(
            target, actor=actor.on(target), as_of=when, with_history=with_history
        )
    if out is None:
        _write(bundle, sys.stdout)
        sys.stdout.write("\n")
        return
    _write_file(bundle, out)
    kinds = Counter(e["resource"]["resourceType"] for e in bundle.get("entry", []))
    summary = {"out": str(out), "espace_id": str(target), "resources": dict(kinds)}

    def human(d: dict[str, Any]) -> None:
        counted = ", ".join(f"{n} {k}" for k, n in sorted(d["resources"].items()))
        click.echo(f"wrote {d['out']}: {counted}")

    emit(summary, as_json, human)


def _write(bundle: dict[str, Any], stream: IO[str]) -> None:
    """The Bundle as JSON, written piece by piece."""
    for chunk in json.JSONEncoder(ensure_ascii=False).iterencode(bundle):
        stream.write(chunk)


def _write_file(bundle: dict[str, Any], out: Path) -> None:
    """Through a temporary file beside ``out``, renamed over it at the end."""
    folder = out.resolve().parent
    if not folder.is_dir():
        raise InvalidInput({"out": [f"no folder {folder}"]})
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            _write(bundle, stream)
            stream.write("\n")
        Path(name).replace(out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
