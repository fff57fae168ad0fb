"""The README's backups, as printed, on SQLite and PostgreSQL (ADR-0028,
ADR-0030; SEC-1, SEC-2, SEC-4): `espace backup` of a store in use and
`espace keys backup` of its keystore, restored elsewhere by `espace restore`
and `espace keys restore`, verify against every checkpoint they hold and
serve reads; the store's backup holds no key (scanned byte by byte), and
without its master key or its keystore it reads nothing. Bad input is
refused naming what is wrong, and nothing is changed. Real processes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from pg_schema import database_url, schema_url
from raw_store import cells, leaks

T0 = "2027-01-04T10:00:00+01:00"
KEYSTORE = "ESPACE_KEYSTORE_URL"


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def apart(request: pytest.FixtureRequest) -> Iterator[Any]:
    """`espace` on a store whose keystore is apart (ADR-0028): beside a
    SQLite file, or in another PostgreSQL schema."""
    if request.param == "sqlite":
        cli = request.getfixturevalue("sqlite_cli")
        cli.keystore_url = f"sqlite:///{cli.cwd / 'espace.keystore.db'}"
        yield cli
        return
    cli = request.getfixturevalue("pg_cli")
    with schema_url(cli.env["ESPACE_DATABASE_URL"], "k") as keys:
        cli.env[KEYSTORE] = cli.keystore_url = keys
        yield cli


def wrapped_keys(keystore_url: str) -> dict[str, bytes]:
    """Every wrapped data key of the keystore, as stored and as a text dump
    writes it (hex), to look for in the bytes of a backup."""
    found = {
        name: blob
        for name, blob in cells(keystore_url).items()
        if name.startswith("espace_keys[") and name.endswith(".wrapped_key")
    }
    assert found
    return {
        **found,
        **{f"{name} (hex)": blob.hex().encode() for name, blob in found.items()},
    }


def test_a_backup_of_a_store_in_use_restores_elsewhere_verifies_and_reads_sec_2(
    apart: Any, holders: Any, processes: Any, tmp_path: Path
) -> None:
    cli = apart
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

    more = [holders.make(i) for i in range(10, 400)]
    feed = holders.write_feed(tmp_path / "more.csv", [p.row for p in more])
    writer = subprocess.Popen(
        [sys.executable, "-m", "espace.cli", "affiliate", str(feed)],
        env=cli.env,
        cwd=cli.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stored = cli("backup", str(tmp_path / "backups"), "--json").json
    finally:
        _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    keys = cli("keys", "backup", str(tmp_path / "vault"), "--json").json

    assert (stored["what"], keys["what"]) == ("store", "keystore")
    store_file, keys_file = Path(stored["file"]), Path(keys["file"])
    assert store_file.name.startswith("espace-store-")
    assert store_file.name.endswith(
        "Z.db" if stored["kind"] == "sqlite" else "Z.pgdump"
    )
    manifest = json.loads(Path(stored["manifest"]).read_text(encoding="utf-8"))
    assert manifest["sha256"] == hashlib.sha256(store_file.read_bytes()).hexdigest()
    assert manifest["schema_version"] == stored["schema_version"] >= 5
    assert "password" not in manifest["source"]
    # SEC-4: the event store's backup holds no key; the keystore's does.
    needles = {**wrapped_keys(cli.keystore_url), "the keys table": b"espace_keys"}
    assert leaks({store_file.name: store_file.read_bytes()}, needles) == []
    assert leaks({keys_file.name: keys_file.read_bytes()}, needles)
    for backup in (store_file, keys_file):  # never the master key
        for secret in (cli.env.get("ESPACE_MASTER_KEY"), _key_file_text(cli)):
            assert not secret or secret.encode() not in backup.read_bytes()

    with ExitStack() as cleanup:
        copy_env = _elsewhere(cli, processes, tmp_path, cleanup)
        restored = processes.cli(copy_env, tmp_path)
        done = restored("restore", str(store_file), "--json").json
        assert done["replaced"] is False
        keyless = processes.cli(_without_key(copy_env), tmp_path)
        refused = keyless("show", "--nir", people[0].nir, "--json", expect=6).json
        assert refused["error"] == "configuration"
        no_keystore = restored("show", "--nir", people[0].nir, "--json", expect=6)
        assert "keystore" in no_keystore.json["message"]

        restored("keys", "restore", str(keys_file), "--json")
        report = restored("audit", "verify", "--json").json
        assert report["intact"] is True
        assert [c["root"] for c in report["checkpoints"]] == ["matches"]
        assert report["rows"] >= signed["size"]
        for person in people:
            shown = restored("show", "--nir", person.nir, "--json").json
            assert shown["state"] == "notified"
        stats = restored("stats", "--json").json
        assert len(people) <= sum(stats["states"].values()) <= len(people) + len(more)


def _key_file_text(cli: Any) -> str | None:
    key_file = cli.cwd / "espace.db.key"
    return key_file.read_text(encoding="ascii").strip() if key_file.exists() else None


def _elsewhere(cli: Any, processes: Any, tmp_path: Path, cleanup: ExitStack) -> Any:
    """The environment of a fresh place to restore to: another folder (the
    master key file named by ESPACE_KEY_FILE), or another database."""
    audit = cli.env["ESPACE_AUDIT_KEY_FILE"]
    if cli.env["ESPACE_DATABASE_URL"].startswith("sqlite"):
        folder = tmp_path / "restored"
        folder.mkdir()
        return processes.environ(
            ESPACE_DATABASE_URL=f"sqlite:///{folder / 'espace.db'}",
            ESPACE_KEY_FILE=str(cli.cwd / "espace.db.key"),
            ESPACE_AUDIT_KEY_FILE=audit,
        )
    base = cleanup.enter_context(database_url(cli.env["ESPACE_DATABASE_URL"], "r"))
    store_schema = cli.env["ESPACE_DATABASE_URL"].split("?")[1]
    keys_schema = cli.env[KEYSTORE].split("?")[1]
    return processes.environ(
        ESPACE_DATABASE_URL=f"{base}?{store_schema}",
        ESPACE_KEYSTORE_URL=f"{base}?{keys_schema}",
        ESPACE_MASTER_KEY=cli.env["ESPACE_MASTER_KEY"],
        ESPACE_AUDIT_KEY_FILE=audit,
    )


def _without_key(env: dict[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in env.items()
        if k not in ("ESPACE_KEY_FILE", "ESPACE_MASTER_KEY")
    }


def test_bad_backups_and_restores_are_refused_naming_what_and_change_nothing(
    apart: Any, holders: Any, tmp_path: Path
) -> None:
    """A DIR that is a file, a missing backup, a backup changed or truncated
    (its SHA-256 is not its manifest's), a keystore's backup given as a
    store's, and a restore onto a store that exists without --force: each
    refused with what is wrong, the store left as it was (SEC-4: nothing
    half-restored)."""
    cli = apart
    cli("init", "--simulation", "--json")
    cli("affiliate", str(holders.write_feed(tmp_path / "f.csv", [holders.make(1).row])))
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x", encoding="utf-8")
    refused = cli("backup", str(a_file), "--json", expect=2).json
    assert refused["fields"] == {"DIR": [f"{a_file} is not a directory"]}

    missing = tmp_path / "nowhere.db"
    refused = cli("restore", str(missing), "--json", expect=2).json
    assert str(missing) in refused["message"]

    stored = Path(cli("backup", str(tmp_path / "b"), "--json").json["file"])
    keys = Path(cli("keys", "backup", str(tmp_path / "k"), "--json").json["file"])
    refused = cli("restore", str(keys), "--force", "--json", expect=2).json
    assert "a backup of a keystore, not of a store" in refused["message"]

    before = cli("stats", "--json").json
    refused = cli("restore", str(stored), "--json", expect=6).json
    assert "--force" in refused["message"]
    assert "nothing was changed" in refused["message"]
    refused = cli("keys", "restore", str(keys), "--json", expect=6).json
    assert "--force" in refused["message"]

    whole = stored.read_bytes()
    stored.write_bytes(whole[:-1] + bytes([whole[-1] ^ 1]))
    for damaged in ("changed", "truncated"):
        refused = cli("restore", str(stored), "--force", "--json", expect=2).json
        assert (
            f"the backup file {stored} does not match its manifest"
            in (refused["message"])
        ), damaged
        stored.write_bytes(whole[: len(whole) // 2])
    stored.with_name(stored.name + ".json").unlink()
    refused = cli("restore", str(stored), "--force", "--json", expect=2).json
    assert f"no manifest {stored}.json" in refused["message"]
    assert cli("stats", "--json").json == before
    assert cli("audit", "verify", "--json").json["intact"] is True


@pytest.mark.postgres
def test_a_store_that_keeps_its_keys_is_not_backed_up_sec_4(
    pg_cli: Any, tmp_path: Path
) -> None:
    """ADR-0028: a PostgreSQL store without ESPACE_KEYSTORE_URL keeps its
    keys in its database: `espace backup` refuses, saying how to move them."""
    pg_cli("init", "--json")
    refused = pg_cli("backup", str(tmp_path / "b"), "--json", expect=6).json
    assert KEYSTORE in refused["message"]
    assert "espace migrate" in refused["message"]
    assert not (tmp_path / "b").exists()


def test_a_keystore_backup_from_before_a_rotation_opens_with_no_key_sec_4(
    apart: Any, holders: Any, tmp_path: Path
) -> None:
    """The issue's third proof (ADR-0029): back the keystore up, rotate to a
    new master key, then restore that backup: with the new key nothing can
    be read (the old key is destroyed), and the store says so instead of
    serving anything."""
    cli = apart
    cli("init", "--simulation", "--json")
    person = holders.make(1)
    cli("affiliate", str(holders.write_feed(tmp_path / "f.csv", [person.row])))
    saved = cli("keys", "backup", str(tmp_path / "keys"), "--json").json
    old = cli.env.pop("ESPACE_MASTER_KEY", None)
    if old is None:
        cli.env["ESPACE_PREVIOUS_KEY_FILE"] = str(cli.cwd / "espace.db.key")
    else:
        cli.env["ESPACE_PREVIOUS_MASTER_KEY"] = old
    cli("keys", "generate", "--out", str(tmp_path / "new.key"))
    cli.env["ESPACE_KEY_FILE"] = str(tmp_path / "new.key")
    assert cli("keys", "rotate", "--json").json["remaining"] == 0
    for name in ("ESPACE_PREVIOUS_KEY_FILE", "ESPACE_PREVIOUS_MASTER_KEY"):
        cli.env.pop(name, None)  # the old key is destroyed
    assert cli("notify", "--nir", person.nir, "--json").json["state"] == "notified"

    cli("keys", "restore", saved["file"], "--force", "--json")

    refused = cli("notify", "--nir", person.nir, "--json", expect=6).json
    assert "not the one this store was created with" in refused["message"]
    assert "Traceback" not in json.dumps(refused)
