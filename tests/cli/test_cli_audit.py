"""`espace audit …` in real processes, on SQLite and PostgreSQL (ADR-0021):
a signing key made by `keygen`, checkpoints signed on demand and by the
deadline job, `verify` exiting 7 with a JSON report naming the first
position that changed, and consistency proofs between checkpoints.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from espace import Store
from espace.adapters.notes import Verifier, open_checkpoint
from espace.domain import merkle
from tamper import flip_byte

T0 = "2027-01-04T10:00:00+01:00"
LATER = "2027-01-04T12:00:00+01:00"


def test_keygen_checkpoint_verify_and_prove_through_the_cli(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    key_file = tmp_path / "audit.key"
    made = cli(
        "audit",
        "keygen",
        "--name",
        "espace.test/audit",
        "--out",
        str(key_file),
        "--json",
    ).json
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    verifier = Verifier.from_key(made["verifier_key"])
    assert verifier.name == "espace.test/audit"
    refused = cli(
        "audit", "keygen", "--name", "x", "--out", str(key_file), "--json", expect=6
    )
    assert "already exists" in refused.json["message"]
    unsigned = cli("audit", "checkpoint", "--json", expect=6).json
    assert "ESPACE_AUDIT_KEY" in unsigned["message"]

    cli.env["ESPACE_AUDIT_KEY_FILE"] = str(key_file)
    people = [holders.make(i) for i in range(1, 4)]
    feed = holders.write_feed(tmp_path / "feed.csv", [p.row for p in people])
    cli("affiliate", str(feed), "--json", clock=T0)
    first = cli("audit", "checkpoint", "--json", clock=T0).json
    assert open_checkpoint(first["note"], [verifier]).size == first["size"] == 3 + 4
    cli("notify", "--pending", "--json", clock=T0)
    ran = cli("deadlines", "run", "--json", clock=LATER).json  # an hour on: due
    assert ran["checkpoint"]["size"] > first["size"]

    listed = cli("audit", "checkpoints", "--json").json["checkpoints"]
    assert [c["size"] for c in listed] == [ran["checkpoint"]["size"], first["size"]]
    proof = cli(
        "audit", "prove-consistency", "--from", str(first["size"]), "--json"
    ).json
    newer, older = listed
    assert merkle.verify_consistency(
        older["size"],
        newer["size"],
        open_checkpoint(older["note"], [verifier]).root,
        open_checkpoint(newer["note"], [verifier]).root,
        [base64.b64decode(p) for p in proof["proof"]],
    )

    intact = cli("audit", "verify", "--verifier-key", verifier.key, "--json").json
    assert intact["intact"] is True
    assert {c["signature"] for c in intact["checkpoints"]} == {"valid"}

    env = {k: v for k, v in cli.env.items() if k.startswith("ESPACE_")}
    with Store.open(env["ESPACE_DATABASE_URL"], environ=env) as store:
        flip_byte(store, store.lifecycle.espace_id_for(people[1].nir), 1)
    broken = cli("audit", "verify", "--json", expect=7).json
    assert broken["intact"] is False
    assert broken["first"]["kind"] == "state_changed"
    assert broken["first"]["position"] == 5  # 4 events of init, then the feed
    plain = cli("audit", "verify", expect=7)
    assert "NOT INTACT" in plain.stdout
    assert "position 5" in plain.stdout
    assert "Traceback" not in plain.stderr


def test_a_mangled_verifier_key_is_refused_as_bad_input(cli: Any) -> None:
    result = cli("audit", "verify", "--verifier-key", "not+a+key", "--json", expect=2)
    assert list(result.json["fields"]) == ["--verifier-key"]


def test_an_auditor_replays_lists_exports_and_verifies_through_the_cli(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    """LC-8, ACC-6: history as of an instant, a professional's attempts and
    the auditors' own reads, paged with what remains; an export that the
    CLI verifies offline. Bad input names its field; nothing is a traceback."""
    key_file = tmp_path / "audit.key"
    made = cli("audit", "keygen", "--name", "espace.test/audit", "--out", str(key_file))
    verifier_key = made.stdout.splitlines()[0]
    cli.env["ESPACE_AUDIT_KEY_FILE"] = str(key_file)
    person = holders.make(1)
    feed = holders.write_feed(tmp_path / "feed.csv", [person.row])
    cli("affiliate", str(feed), "--json", clock=T0)
    cli("notify", "--pending", "--json", clock=LATER)
    auditor = ("--auditor", "A. Martin")

    before = cli(
        "audit",
        "history",
        "--nir",
        person.nir,
        "--as-of",
        T0,
        *auditor,
        "--json",
        clock=LATER,
    ).json
    now = cli("audit", "history", "--nir", person.nir, *auditor, "--json", clock=LATER)
    assert before["espace"]["state"] == "affiliated"
    assert now.json["espace"]["state"] == "notified"
    assert [e["event"] for e in before["events"]] == ["Affiliated"]
    assert len(now.json["events"]) > len(before["events"])
    no_offset = cli(
        "audit",
        "history",
        "--nir",
        person.nir,
        "--as-of",
        "2027-01-04T10:00",
        *auditor,
        "--json",
        expect=2,
    ).json
    assert list(no_offset["fields"]) == ["--as-of"]
    nobody = cli("audit", "history", "--nir", holders.make(2).nir, *auditor, expect=4)
    assert "Traceback" not in nobody.stderr
    needs_at = cli(
        "audit",
        "access",
        "--document",
        str(person_document()),
        *auditor,
        "--json",
        expect=2,
    ).json
    assert list(needs_at["fields"]) == ["--at"]

    attempts = cli(
        "audit",
        "access",
        "--professional",
        "810001045367",
        "--since",
        T0,
        *auditor,
        "--json",
        clock=LATER,
    ).json
    assert (attempts["total"], attempts["shown"]) == (0, 0)
    reads = cli("audit", "log", "--limit", "1", "--json").json
    assert (reads["total"], reads["shown"]) == (3, 1)  # 2 histories, 1 access
    every = cli("audit", "log", "--json").json["reads"]
    assert sorted(r["action"] for r in every) == ["history", "history", "professional"]
    page = cli("audit", "log", "--limit", "1")
    assert "1 of 3 reads" in page.stdout
    assert "2 more: use --offset 1" in page.stdout

    exported = cli(  # --espace ID, as the issue names it, or --nir
        "audit", "export", "--espace", now.json["espace_id"], *auditor, clock=LATER
    ).stdout
    path = tmp_path / "export.json"
    path.write_text(exported, encoding="utf-8")
    ok = cli("audit", "verify-export", str(path), "--verifier-key", verifier_key)
    assert ok.stdout.startswith("valid:")
    stranger = cli(
        "audit", "keygen", "--name", "other.test/x", "--out", str(tmp_path / "o.key")
    )
    refused = cli(
        "audit",
        "verify-export",
        str(path),
        "--verifier-key",
        stranger.stdout.splitlines()[0],
        expect=7,
    )
    assert "no signature by a trusted key" in refused.stdout


def person_document() -> str:
    """A document id nobody deposited."""
    return "00000000-0000-4000-8000-000000000001"
