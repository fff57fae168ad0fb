"""`espace audit …`: the auditors' commands (ADR-0021).

The signing key of checkpoints is not the master key: it is read from
ESPACE_AUDIT_KEY, or the file in ESPACE_AUDIT_KEY_FILE (`audit keygen`
writes one). Verification trusts the verifier key given with
--verifier-key (or ESPACE_AUDIT_VERIFIER_KEY), else the signing key's own.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from espace.adapters.auditlog import VERIFIER_ENV, write_signer_file
from espace.adapters.notes import NoteError, Signer, Verifier
from espace.application.errors import InvalidInput
from espace.cli import Context, command, emit, main

EXIT_NOT_INTACT = 7


@main.group("audit")
def audit_group() -> None:
    """The audit log: a Merkle tree over every stored event (RFC 6962), signed
    checkpoints (C2SP tlog-checkpoint), verification and proofs."""


@command(audit_group, "keygen")
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
def keygen_cmd(ctx: Context, as_json: bool, name: str, out: Path) -> None:
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


@command(audit_group, "checkpoint")
def checkpoint_cmd(ctx: Context, as_json: bool) -> None:
    """Sign a checkpoint of the log as it stands now (the deadline job signs
    one every 10 000 events or every hour)."""
    store = ctx.open()
    signed = store.audit.checkpoint(store.clock())
    data = {"size": signed.size, "note": signed.note}
    emit(data, as_json, lambda d: click.echo(d["note"], nl=False))


@command(audit_group, "checkpoints")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
def checkpoints_cmd(ctx: Context, as_json: bool, limit: int) -> None:
    """The signed checkpoints, newest first."""
    store = ctx.open()
    rows = [
        {
            "size": c.size,
            "signed_at": c.signed_at,
            "key_name": c.key_name,
            "note": c.note,
        }
        for c in store.audit.tree.checkpoints(limit=limit)
    ]

    def human(data: list[dict[str, Any]]) -> None:
        table = Table("size", "signed at", "key", "root")
        for r in data:
            table.add_row(
                str(r["size"]),
                r["signed_at"].isoformat(),
                r["key_name"],
                r["note"].split("\n")[2],
            )
        Console().print(table)

    emit(rows, as_json, human)


def _verifiers(keys: tuple[str, ...]) -> list[Verifier]:
    import os

    given = list(keys) or (
        [os.environ[VERIFIER_ENV]] if os.environ.get(VERIFIER_ENV) else []
    )
    try:
        return [Verifier.from_key(k) for k in given]
    except NoteError as exc:
        raise InvalidInput({"verifier_key": [exc.message]}) from None


@command(audit_group, "verify")
@click.option(
    "--verifier-key",
    "keys",
    multiple=True,
    help="A trusted verifier key (name+hash+key; repeatable). Default: "
    "ESPACE_AUDIT_VERIFIER_KEY, else the signing key's own.",
)
def verify_cmd(ctx: Context, as_json: bool, keys: tuple[str, ...]) -> None:
    """Recompute every leaf from the stored events and every root from the
    leaves, and check them against the stored tree and every signed
    checkpoint. Reports the first position that differs and what changed.
    Exit 7 when the log is not intact."""
    verifiers = _verifiers(keys)
    store = ctx.open()
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

    emit(report.as_dict(), as_json, human)
    if not report.intact:
        ctx.close()
        sys.exit(EXIT_NOT_INTACT)


@command(audit_group, "prove-consistency")
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
def prove_consistency_cmd(
    ctx: Context, as_json: bool, first: int, second: int | None
) -> None:
    """An RFC 9162 consistency proof between two signed checkpoints: the
    later log contains the earlier one unchanged."""
    store = ctx.open()
    data = store.audit.prove_consistency(first, second)

    def human(d: dict[str, Any]) -> None:
        click.echo(f"from {d['from']['size']} to {d['to']['size']}:")
        for p in d["proof"]:
            click.echo(p)

    emit(data, as_json, human)
