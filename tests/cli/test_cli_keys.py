"""`espace keys generate`: the master key a PostgreSQL store is given, made
by the CLI (ADR-0004, SEC-4). Real processes."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest


def test_keys_generate_writes_a_0600_key_once_and_never_overwrites_it(
    sqlite_cli: Any, tmp_path: Path
) -> None:
    key = tmp_path / "espace.key"
    made = sqlite_cli("keys", "generate", "--out", str(key), "--json").json
    assert made == {"key_file": str(key), "env": f"ESPACE_KEY_FILE={key}"}
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    text = key.read_text(encoding="ascii").strip()
    assert len(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))) == 32
    again = sqlite_cli("keys", "generate", "--out", str(key), "--json", expect=6)
    assert "already exists" in again.json["message"]
    assert key.read_text(encoding="ascii").strip() == text
    nowhere = sqlite_cli(
        "keys", "generate", "--out", str(tmp_path / "no" / "k"), "--json", expect=6
    )
    assert "cannot create key file" in nowhere.json["message"]
    assert "Traceback" not in nowhere.stderr


@pytest.mark.postgres
def test_a_postgresql_store_runs_on_a_generated_key_file(
    pg_cli: Any, holders: Any, tmp_path: Path
) -> None:
    key = tmp_path / "espace.key"
    pg_cli("keys", "generate", "--out", str(key))
    del pg_cli.env["ESPACE_MASTER_KEY"]
    pg_cli.env["ESPACE_KEY_FILE"] = str(key)
    pg_cli("init", "--json")
    feed = holders.write_feed(tmp_path / "feed.csv", [holders.make(1).row])
    assert pg_cli("affiliate", str(feed), "--json").json["created"] == 1
    other = tmp_path / "other.key"
    pg_cli("keys", "generate", "--out", str(other))
    pg_cli.env["ESPACE_KEY_FILE"] = str(other)
    refused = pg_cli("stats", "--json", expect=6).json
    assert refused["error"] == "configuration"


def activate(cli: Any, person: Any) -> None:
    """Notify the person, then activate their espace with the code."""
    code = cli("notify", "--nir", person.nir, "--json").json["activation_code"]
    cli(
        "activate",
        "--nir",
        person.nir,
        "--code",
        code,
        "--birth-date",
        person.birth_date,
        "--vitale-serial",
        person.vitale_serial,
    )


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)]
)
def test_keys_status_says_where_the_keys_are_and_counts_them_sec_4(
    kind: str, request: pytest.FixtureRequest, holders: Any, tmp_path: Path
) -> None:
    """ADR-0028: `espace keys status` names the keystore (beside a SQLite
    store; in the PostgreSQL database unless ESPACE_KEYSTORE_URL says
    otherwise), its master-key generation, and how many data keys are live
    and shredded (SEC-4: an erasure shreds one); it never prints a key."""
    cli = request.getfixturevalue(f"{kind}_cli")
    cli("init", "--simulation", "--json")
    person = holders.make(1)
    cli("affiliate", str(holders.write_feed(tmp_path / "f.csv", [person.row])))
    status = cli("keys", "status", "--json").json
    assert status["apart"] is (kind == "sqlite")
    assert status["keystore"].endswith("espace.keystore.db") is (kind == "sqlite")
    assert [g["generation"] for g in status["generations"]] == [1]
    assert status["generations"][0]["created_at"].endswith("+00:00")
    assert (status["live_keys"], status["shredded_keys"]) == (
        3,
        0,
    )  # and the store's two
    activate(cli, person)
    cli("request-erasure", "--nir", person.nir, "--json")
    cli("deadlines", "run", "--json")
    after = cli("keys", "status", "--json").json
    assert (after["live_keys"], after["shredded_keys"]) == (2, 1)
    shown = cli("keys", "status")
    assert "2 live, 1 shredded" in shown.stdout
    assert "password" not in shown.stdout


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)]
)
def test_erase_carries_out_a_due_erasure_and_a_second_time_is_a_no_op_lc_9(
    kind: str, request: pytest.FixtureRequest, holders: Any, tmp_path: Path
) -> None:
    """`espace erase` refuses an espace whose erasure is not due (LC-9 names
    the rule), carries out one that is (SEC-4: its key shredded), and run
    again says when it was done, exits 0 and writes nothing."""
    cli = request.getfixturevalue(f"{kind}_cli")
    cli("init", "--simulation", "--json")
    person = holders.make(1)
    cli("affiliate", str(holders.write_feed(tmp_path / "f.csv", [person.row])))
    activate(cli, person)
    early = cli("erase", "--nir", person.nir, "--json", expect=3).json
    assert early["error"] == "rule_violation"
    cli("request-erasure", "--nir", person.nir, "--json")
    done = cli("erase", "--nir", person.nir, "--json").json
    assert done["state"] == "erased"
    assert "note" not in done
    assert cli("keys", "status", "--json").json["shredded_keys"] == 1
    head = cli("stats", "--json").json["views"][0]["head"]
    again = cli("erase", "--nir", person.nir, "--json").json
    assert again["note"] == (f"already erased on {done['erased_on']}: nothing was done")
    assert cli("stats", "--json").json["views"][0]["head"] == head
    shown = cli("erase", "--nir", person.nir)
    assert "nothing was done" in shown.stdout


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)]
)
def test_keys_rotate_moves_every_key_to_the_new_master_key_sec_4(
    kind: str, request: pytest.FixtureRequest, holders: Any, tmp_path: Path
) -> None:
    """ADR-0029: `espace keys rotate`, given the new master key and the old
    one, re-wraps every live key; `keys status` shows each generation and
    what it still wraps; the old key alone is then refused; a bad batch
    size names the option; without the old key it says what to set."""
    cli = request.getfixturevalue(f"{kind}_cli")
    cli("init", "--simulation", "--json")
    people = [holders.make(1), holders.make(2)]
    cli(
        "affiliate",
        str(holders.write_feed(tmp_path / "f.csv", [p.row for p in people])),
    )
    old = cli.env.pop("ESPACE_MASTER_KEY", None)
    if old is None:
        cli.env["ESPACE_PREVIOUS_KEY_FILE"] = str(tmp_path / "espace.db.key")
    else:
        cli.env["ESPACE_PREVIOUS_MASTER_KEY"] = old
    cli("keys", "generate", "--out", str(tmp_path / "new.key"))
    cli.env["ESPACE_KEY_FILE"] = str(tmp_path / "new.key")
    bad = cli("keys", "rotate", "--batch-size", "0", "--json", expect=2).json
    assert "--batch-size" in bad["fields"]

    done = cli("keys", "rotate", "--batch-size", "2", "--json").json

    assert done == {"generation": 2, "rewrapped": 4, "remaining": 0, "began": True}
    shown = cli("keys", "status").stdout
    assert "generation 1: since" in shown
    assert "wraps 0 keys" in shown
    assert "wraps 4 keys (the configured master key)" in shown
    previous = {k: cli.env.pop(k) for k in list(cli.env) if "PREVIOUS" in k}
    assert cli("stats", "--json").json["states"]["affiliated"] == 2
    nir = people[1].nir
    assert cli("notify", "--nir", nir, "--json").json["state"] == "notified"
    cli.env.update(previous)
    cli.env.pop("ESPACE_KEY_FILE")
    if old is not None:
        cli.env["ESPACE_MASTER_KEY"] = old
    cli.env.pop("ESPACE_PREVIOUS_KEY_FILE", None)
    cli.env.pop("ESPACE_PREVIOUS_MASTER_KEY", None)
    refused = cli("stats", "--json", expect=6).json
    assert "rotated to generation 2" in refused["message"]
    cli.env["ESPACE_KEY_FILE"] = str(tmp_path / "new.key")
    cli.env.pop("ESPACE_MASTER_KEY", None)
    cli("keys", "generate", "--out", str(tmp_path / "third.key"))
    cli.env["ESPACE_KEY_FILE"] = str(tmp_path / "third.key")
    alone = cli("keys", "rotate", "--json", expect=6).json
    assert "ESPACE_PREVIOUS_MASTER_KEY" in alone["message"]
