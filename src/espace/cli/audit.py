"""`espace audit …`: the auditors' commands (ADR-0021).

The signing key of checkpoints is not the master key: it is read from
ESPACE_AUDIT_KEY, or the file in ESPACE_AUDIT_KEY_FILE (`audit keygen`
writes one). Verification trusts the verifier key given with
--verifier-key (or ESPACE_AUDIT_VERIFIER_KEY), else the signing key's own.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import click

from espace.adapters.auditexport import verify_export
from espace.adapters.auditlog import VERIFIER_ENV, write_signer_file
from espace.adapters.notes import NoteError, Signer, Verifier
from espace.application import outputs
from espace.application.delimited import read_text
from espace.application.errors import InvalidInput
from espace.application.schemas import parse_instant
from espace.cli.app import Session, main
from espace.cli.options import espace_ref, file_name, page_limit, paged, resolve
from espace.cli.render import emit, page, page_footer, table, write_json

EXIT_NOT_INTACT = 7


@main.group("audit")
def audit_group() -> None:
    """The audit log: a Merkle tree over every stored event (RFC 6962), signed
    checkpoints (C2SP tlog-checkpoint), verification and proofs."""


@audit_group.command("keygen")
@click.option(
    "--name",
    required=True,
    help="The log's name, also the checkpoints' origin: a schema-less URL "
    "such as espace.example/audit (no space, no '+').",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signing key (created 0600, never overwritten).",
)
def keygen_cmd(as_json: bool, name: str, out: Path) -> None:
    """Make a checkpoint signing key (Ed25519, C2SP signed-note); print the
    verifier key to give to auditors. Set ESPACE_AUDIT_KEY_FILE to the file."""
    signer = Signer.generate(name)
    write_signer_file(out, signer)
    data = {"name": name, "key_file": str(out), "verifier_key": signer.verifier.key}

    def human(d: dict[str, Any]) -> None:
        click.echo(d["verifier_key"])
        click.echo(
            f"signing key written to {d['key_file']}: keep it apart from the "
            "master key; set ESPACE_AUDIT_KEY_FILE to it",
            err=True,
        )

    emit(data, as_json, human)


@audit_group.command("checkpoint")
@click.pass_obj
def checkpoint_cmd(session: Session, as_json: bool) -> None:
    """Sign a checkpoint of the log as it stands now (the deadline job signs
    one every 10 000 events or every hour)."""
    store = session.store()
    signed = store.audit.checkpoint()
    data = {"size": signed.size, "note": signed.note}
    emit(data, as_json, lambda d: click.echo(d["note"], nl=False))


@audit_group.command("checkpoints")
@paged(20)
@click.pass_obj
def checkpoints_cmd(
    session: Session, as_json: bool, limit: int, offset: int, all_rows: bool
) -> None:
    """The signed checkpoints, newest first."""
    store = session.store()
    found, total = store.audit.checkpoints(
        limit=page_limit(limit, all_rows), offset=offset
    )
    rows = [
        {
            "size": c.size,
            "signed_at": c.signed_at,
            "key_name": c.key_name,
            "note": c.note,
        }
        for c in found
    ]

    def human(data: dict[str, Any]) -> None:
        table(
            ["size", "signed at", "key", "root"],
            (
                [
                    r["size"],
                    r["signed_at"].isoformat(),
                    r["key_name"],
                    r["note"].split("\n")[2],
                ]
                for r in data["checkpoints"]
            ),
        )
        page_footer(data, "checkpoints")

    emit(page("checkpoints", rows, total, offset), as_json, human)


def _verifiers(keys: tuple[str, ...]) -> list[Verifier]:
    import os

    given = list(keys) or (
        [os.environ[VERIFIER_ENV]] if os.environ.get(VERIFIER_ENV) else []
    )
    try:
        return [Verifier.from_key(k) for k in given]
    except NoteError as exc:
        raise InvalidInput({"verifier_key": [exc.message]}) from None


@audit_group.command("verify")
@click.option(
    "--verifier-key",
    "keys",
    multiple=True,
    help="A trusted verifier key (name+hash+key; repeatable). Default: "
    "ESPACE_AUDIT_VERIFIER_KEY, else the signing key's own.",
)
@click.pass_obj
def verify_cmd(session: Session, as_json: bool, keys: tuple[str, ...]) -> None:
    """Recompute every leaf from the stored events and every root from the
    leaves, and check them against the stored tree and every signed
    checkpoint. Reports the first position that differs and what changed.
    Exit 7 when the log is not intact."""
    verifiers = _verifiers(keys)
    store = session.store()
    report = store.audit.verify(verifiers)

    def human(d: dict[str, Any]) -> None:
        verdict = "intact" if d["intact"] else "NOT INTACT"
        click.echo(
            f"{verdict}: {d['rows']} events, tree of {d['tree_size']}, "
            f"{len(d['checkpoints'])} checkpoints, {d['unsigned_rows']} events "
            "not yet signed"
        )
        for c in d["checkpoints"][-3:]:
            click.echo(
                f"  checkpoint {c['size']}: signature {c['signature']}, "
                f"root {c['root']}"
            )
        for p in d["problems"]:
            where = f"position {p['position']}" if p["position"] is not None else "tree"
            nid = (
                f" (notification {p['notification_id']})"
                if p["notification_id"]
                else ""
            )
            click.echo(f"  {where}{nid}: {p['kind']}: {p['detail']}")
        if d["problems_total"] > len(d["problems"]):
            click.echo(f"  … {d['problems_total'] - len(d['problems'])} more problems")

    emit(outputs.dump(report), as_json, human)
    if not report.intact:
        sys.exit(EXIT_NOT_INTACT)


@audit_group.command("prove-consistency")
@click.option(
    "--from",
    "first",
    required=True,
    type=click.IntRange(1),
    help="A checkpoint's size.",
)
@click.option(
    "--to",
    "second",
    type=click.IntRange(1),
    help="A later checkpoint's size (default: the latest).",
)
@click.pass_obj
def prove_consistency_cmd(
    session: Session, as_json: bool, first: int, second: int | None
) -> None:
    """An RFC 9162 consistency proof between two signed checkpoints: the
    later log contains the earlier one unchanged."""
    store = session.store()
    data = store.audit.prove_consistency(first, second)

    def human(d: dict[str, Any]) -> None:
        click.echo(f"from {d['from']['size']} to {d['to']['size']}:")
        for p in d["proof"]:
            click.echo(p)

    emit(data, as_json, human)


# --------------------------------------------------------------------- reads

auditor_option = click.option(
    "--auditor",
    required=True,
    help="Who audits (a name the audit log keeps with this read).",
)


def _instant(value: str | None, flag: str) -> datetime | None:
    return parse_instant(value, flag) if value else None


@audit_group.command("history")
@espace_ref
@click.option("--as-of", help="The instant to replay to (ISO 8601; default now).")
@auditor_option
@click.pass_obj
def history_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    as_of: str | None,
    auditor: str,
) -> None:
    """The espace as it stood at --as-of, replayed from its events (state and
    deadlines, documents with versions and flags, consent, agenda, profile,
    journal), and every event up to then: when, which aggregate and event,
    who acted, the decrypted content. Traced in the audit log."""
    when = _instant(as_of, "as_of")
    store = session.store()
    data = store.audit.history(
        resolve(store, nir, espace_id), as_of=when, auditor=auditor
    )

    def human(d: dict[str, Any]) -> None:
        espace = d["espace"] or {}
        click.echo(
            f"espace {d['espace_id']} as of {d['as_of'] or 'now'}: "
            f"{espace.get('state', 'erased')}"
            + (f" ({d['erased_events']} events erased)" if d["erased"] else "")
        )
        for name in ("documents", "agenda", "conversations", "journal", "services"):
            click.echo(f"  {name}: {len(d[name])}")
        table(
            ["position", "at", "aggregate", "event", "version", "by"],
            (
                [
                    e["position"],
                    e.get("at", "erased"),
                    e["aggregate"],
                    e["event"],
                    e["version"],
                    " ".join(str(v) for v in (e.get("by") or {}).values() if v),
                ]
                for e in d["events"]
            ),
        )

    emit(data, as_json, human)


@audit_group.command("access")
@click.option("--document", "document_id", type=click.UUID, help="Who could read it.")
@click.option("--at", "at", help="The instant (ISO 8601), with --document.")
@click.option("--professional", "idnatps", help="Every access attempt of this IdNatPS.")
@click.option("--since", help="With --professional: from this instant (ISO 8601).")
@click.option("--until", help="With --professional: up to this instant (ISO 8601).")
@paged(100)
@auditor_option
@click.pass_obj
def access_cmd(
    session: Session,
    as_json: bool,
    document_id: UUID | None,
    at: str | None,
    idnatps: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    offset: int,
    all_rows: bool,
    auditor: str,
) -> None:
    """--document D --at T: who could read D at T and on what grounds (the
    holder, representatives, heirs, médecin traitant, consented, care-team
    and blocked professionals, the emergency and SAMU routes), replayed
    through the access decision, with the matrix version in force.
    --professional P: every access attempt of P across espaces."""
    if (document_id is None) == (idnatps is None):
        raise InvalidInput(
            {"document": ["give exactly one of --document or --professional"]}
        )
    if document_id is not None:
        if not at:
            raise InvalidInput({"at": ["--document needs --at (ISO 8601)"]})
        when = parse_instant(at, "at")
        store = session.store()
        data = store.audit.access(document_id, at=when, auditor=auditor)

        def human(d: dict[str, Any]) -> None:
            click.echo(
                f"document {d['document_id']} at {d['at']} "
                f"(matrix v{d['matrix_version']}, document v{d['document_version']}, "
                f"consent v{d['consent_version']})"
            )
            table(
                ["who", "id", "profession", "mode", "may read", "why"],
                (
                    [
                        r["role"],
                        r["id"],
                        r["profession"],
                        r["mode"],
                        "yes" if r["may_read"] else "no",
                        r["ground"] or f"{r['rule']}: {r['reason']}",
                    ]
                    for r in d["who"]
                ),
            )

        emit(data, as_json, human)
        return
    assert idnatps is not None
    window = (_instant(since, "since"), _instant(until, "until"))
    store = session.store()
    data = store.audit.professional(
        idnatps,
        since=window[0],
        until=window[1],
        auditor=auditor,
        limit=page_limit(limit, all_rows),
        offset=offset,
    )

    def human_pro(d: dict[str, Any]) -> None:
        table(
            ["at", "espace", "action", "mode", "outcome", "ground or rule"],
            (
                [
                    r["at"],
                    r["espace_id"],
                    r["action"],
                    r["mode"],
                    "allowed" if r["allowed"] else "denied",
                    r["ground"] or r["rule"],
                ]
                for r in d["attempts"]
            ),
        )
        page_footer(d, "attempts")

    emit(data, as_json, human_pro)


@audit_group.command("export")
@espace_ref
@click.option("--as-of", help="Export the espace as it stood then (ISO 8601).")
@auditor_option
@click.pass_obj
def export_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    as_of: str | None,
    auditor: str,
) -> None:
    """Write one espace's decrypted history, for offline verification, as
    JSON on stdout (docs/audit-export.md): every event with its leaf, an
    inclusion proof against a checkpoint signed now, and the data binding
    its clear content to the leaf. It holds personal data: keep it as such.
    Traced in the audit log."""
    when = _instant(as_of, "as_of")
    store = session.store()
    document = store.audit.export(
        resolve(store, nir, espace_id), as_of=when, auditor=auditor
    )
    write_json(document, indent=1)


@audit_group.command("verify-export")
@click.argument("export", type=click.File("rb"))
@click.option(
    "--verifier-key",
    "keys",
    multiple=True,
    required=True,
    help="The verifier key you trust (name+hash+key; repeatable).",
)
def verify_export_cmd(as_json: bool, export: BinaryIO, keys: tuple[str, ...]) -> None:
    """Check an export offline (no database, no master key, no network): the
    signatures, every inclusion proof, the binding of every clear value to
    its leaf, the order of the entries, and that each aggregate's versions
    run without a gap. Exit 7, naming the entry, if anything was changed,
    dropped or moved."""
    verifiers = _verifiers(keys)
    try:
        document = json.loads(read_text(export, file_name(export)))
    except json.JSONDecodeError as exc:
        raise InvalidInput({file_name(export): [f"not JSON: {exc}"]}) from None
    check = verify_export(document, verifiers)

    def human(d: dict[str, Any]) -> None:
        verdict = "valid" if d["valid"] else "NOT VALID"
        click.echo(
            f"{verdict}: espace {d['espace_id']}, {d['entries']} entries against a "
            f"tree of {d['tree_size']}, {d['bound']} bound to their content"
        )
        for p in d["problems"]:
            where = f"entry {p['entry']}" if p["entry"] is not None else "document"
            click.echo(f"  {where}: {p['what']}")

    emit(outputs.dump(check), as_json, human)
    if not check.valid:
        sys.exit(EXIT_NOT_INTACT)


@audit_group.command("log")
@click.option(
    "--subject", help="Only the reads of this espace, document or professional."
)
@paged(100)
@click.pass_obj
def log_cmd(
    session: Session,
    as_json: bool,
    subject: str | None,
    limit: int,
    offset: int,
    all_rows: bool,
) -> None:
    """The auditors' reads, newest first: the audit log (not the holder's
    journal)."""
    store = session.store()
    rows, total = store.audit.log(
        subject=subject, limit=page_limit(limit, all_rows), offset=offset
    )
    data = page("reads", rows, total, offset)

    def human(d: dict[str, Any]) -> None:
        table(
            ["at", "auditor", "action", "subject", "detail"],
            (
                [
                    r["at"].isoformat(),
                    r["auditor"],
                    r["action"],
                    r["subject"],
                    r["detail"],
                ]
                for r in d["reads"]
            ),
        )
        page_footer(d, "reads")

    emit(data, as_json, human)
