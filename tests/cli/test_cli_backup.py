"""The README's backups, as printed, on SQLite (SEC-1, SEC-2, SEC-4): an
online copy of a live store and of its keystore with SQLite's backup (what
`sqlite3 .backup` does), restored elsewhere with its key file, verifies
against every checkpoint it holds and serves reads; without its key, or
without its keystore, it reads nothing: the store's copy holds no key."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

T0 = "2027-01-04T10:00:00+01:00"


def test_an_online_backup_restored_with_its_key_verifies_and_reads_sec_2(
    sqlite_cli: Any, holders: Any, processes: Any, tmp_path: Path
) -> None:
    cli = sqlite_cli
    key = tmp_path / "audit.key"
    cli("init", "--simulation", "--json")
    cli("audit", "keygen", "--name", "espace.test/audit", "--out", str(key))
    cli.env["ESPACE_AUDIT_KEY_FILE"] = str(key)
    people = [holders.make(i) for i in range(1, 4)]
    cli(
        "affiliate",
        str(holders.write_feed(tmp_path / "f.csv", [p.row for p in people])),
    )
    cli("notify", "--pending", "--all", "--json", clock=T0)
    signed = cli("audit", "checkpoint", "--json").json

    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    for name in ("espace.db", "espace.keystore.db"):
        with (
            sqlite3.connect(tmp_path / name) as live,
            sqlite3.connect(restored_dir / f"{name}.bak") as copy,
        ):
            live.backup(copy)  # `sqlite3 espace.db ".backup …"`, while it is live
    (restored_dir / "espace.db.bak").rename(restored_dir / "espace.db")
    # The event store's backup holds no key at all (ADR-0028).
    assert b"espace_keys" not in (restored_dir / "espace.db").read_bytes()
    copy_env = processes.environ(
        ESPACE_DATABASE_URL=f"sqlite:///{restored_dir / 'espace.db'}",
        ESPACE_AUDIT_KEY_FILE=str(key),
    )
    keyless = processes.cli(copy_env, restored_dir)
    refused = keyless("show", "--nir", people[0].nir, "--json", expect=6).json
    assert refused["error"] == "configuration"

    shutil.copy(tmp_path / "espace.db.key", restored_dir / "espace.db.key")
    no_keystore = processes.cli(copy_env, restored_dir)
    refused = no_keystore("show", "--nir", people[0].nir, "--json", expect=6).json
    assert "espace.keystore.db" in refused["message"]

    (restored_dir / "espace.keystore.db.bak").rename(
        restored_dir / "espace.keystore.db"
    )
    restored = processes.cli(copy_env, restored_dir)
    report = restored("audit", "verify", "--json").json
    assert report["intact"] is True
    assert [c["root"] for c in report["checkpoints"]] == ["matches"]
    assert report["rows"] >= signed["size"]
    shown = restored("show", "--nir", people[0].nir, "--json").json
    assert shown["state"] == "notified"
