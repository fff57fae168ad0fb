"""The audit export, made on SQLite and PostgreSQL and checked offline
(ADR-0022; LC-8, ACC-6, SEC-2, SEC-4): it validates against its JSON Schema,
a stranger with the verifier key verifies it with no database, and any
change to it, an entry dropped, entries reordered or a wrong key, is found
and named.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from espace import Store
from espace.adapters.auditexport import verify_export
from espace.adapters.notes import Signer
from espace.application import outputs
from records_world import PHYSICIAN, Record, make_record

SIGNER = Signer.generate("espace.test/audit")
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "audit-export.schema.json").read_text()
)
AUDITOR = "inspection-cnil"


@pytest.fixture
def exported(
    store_url: str, store_env: dict[str, str], clock: Any, people: Any, helpers: Any
) -> Iterator[tuple[Record, dict[str, Any]]]:
    env = {**store_env, "ESPACE_AUDIT_KEY": SIGNER.key}
    helpers.fresh_store(store_url, clock, environ=env).__enter__().close()
    with Store.open(store_url, clock=clock, environ=env) as store:
        rec = make_record(store, clock, people, helpers)
        document_id = rec.deposit(title="Bilan rénal")
        clock.advance(minutes=1)
        store.records.read(PHYSICIAN, document_id)
        clock.advance(minutes=1)
        store.records.mask(rec.holder, document_id)
        yield rec, store.audit.export(rec.espace_id, auditor=AUDITOR)


def problems(document: dict[str, Any]) -> list[tuple[int | None, str]]:
    check = verify_export(document, [SIGNER.verifier])
    return [(p.entry, p.what) for p in check.problems]


def test_an_export_validates_against_its_schema_and_verifies_offline(
    exported: tuple[Record, dict[str, Any]],
) -> None:
    rec, document = exported
    jsonschema.validate(document, SCHEMA)
    check = verify_export(document, [SIGNER.verifier])
    assert check.valid, outputs.dump(check)
    assert check.entries == len(document["entries"]) == check.bound
    topics = {e["topic"].split(":")[1].split(".")[0] for e in document["entries"]}
    assert {"EspaceSante", "Document", "Consent", "AccessTrace"} <= topics
    deposited = next(e for e in document["entries"] if e["topic"].endswith("Deposited"))
    assert deposited["content"]["title"] == "Bilan rénal"
    assert document["exported_by"] == AUDITOR
    reads, _ = rec.store.audit.log(subject=str(rec.espace_id))
    assert [r["action"] for r in reads] == ["export"]


def test_a_changed_value_is_found_and_its_entry_named(
    exported: tuple[Record, dict[str, Any]],
) -> None:
    _, document = exported
    changed = copy.deepcopy(document)
    n = next(
        i for i, e in enumerate(changed["entries"]) if e["topic"].endswith("Deposited")
    )
    changed["entries"][n]["state"] = changed["entries"][n]["state"].replace(
        "Bilan rénal", "Bilan normal"
    )
    changed["entries"][n]["content"]["title"] = "Bilan normal"
    assert (n, "its clear state does not match its leaf's commitment") in problems(
        changed
    )
    shown = copy.deepcopy(document)
    shown["entries"][n]["content"]["title"] = "Bilan normal"
    assert problems(shown) == [(n, "its content is not its clear state")]


def test_a_dropped_entry_breaks_the_manifest_and_the_version_sequence(
    exported: tuple[Record, dict[str, Any]],
) -> None:
    _, document = exported
    dropped = copy.deepcopy(document)
    espace_events = [
        i
        for i, e in enumerate(dropped["entries"])
        if e["aggregate_id"] == document["espace_id"]
    ]
    del dropped["entries"][espace_events[1]]
    found = problems(dropped)
    assert any("versions [1, 3" in what for _, what in found)
    assert any(what.startswith("manifest:") for _, what in found)
    last = copy.deepcopy(document)
    del last["entries"][-1]
    assert [w for _, w in problems(last)] == [
        "manifest: the entries are not those the exporter signed (one was "
        "dropped, added, changed or moved)"
    ]


def test_reordered_entries_are_found(exported: tuple[Record, dict[str, Any]]) -> None:
    _, document = exported
    moved = copy.deepcopy(document)
    moved["entries"][2], moved["entries"][3] = moved["entries"][3], moved["entries"][2]
    found = problems(moved)
    assert (3, "out of order: entries follow the log's order") in found


def test_a_changed_leaf_or_proof_no_longer_leads_to_the_signed_root(
    exported: tuple[Record, dict[str, Any]],
) -> None:
    _, document = exported
    forged = copy.deepcopy(document)
    forged["entries"][0]["leaf_index"] += 1
    assert (0, "its inclusion proof does not lead to the signed root") in problems(
        forged
    )


def test_an_export_checked_with_another_key_is_refused(
    exported: tuple[Record, dict[str, Any]],
) -> None:
    _, document = exported
    check = verify_export(document, [Signer.generate("espace.test/audit").verifier])
    assert not check.valid
    assert check.problems[0].what.startswith("checkpoint:")


def test_an_export_as_of_an_instant_holds_only_what_was_then(
    exported: tuple[Record, dict[str, Any]],
) -> None:
    rec, everything = exported
    before = rec.clock.now
    rec.clock.advance(minutes=5)
    rec.deposit()
    later = rec.store.audit.export(rec.espace_id, as_of=before, auditor=AUDITOR)
    assert verify_export(later, [SIGNER.verifier]).valid
    assert len(later["entries"]) == len(everything["entries"])
    assert later["as_of"] == before.isoformat()


def test_an_erased_espace_exports_only_that_it_was_erased_sec_4(
    exported: tuple[Record, dict[str, Any]],
) -> None:
    rec, _ = exported
    rec.clock.advance(minutes=1)
    rec.store.lifecycle.request_erasure(rec.espace_id)
    rec.clock.advance(minutes=1)
    rec.store.run_deadlines()
    document = rec.store.audit.export(rec.espace_id, auditor=AUDITOR)
    jsonschema.validate(document, SCHEMA)
    assert document["erased"] is True
    assert document["erased_events"] > 10
    assert {e["topic"].rsplit(":", 1)[-1] for e in document["entries"]} == {
        "Erasure.Begun",
        "Erasure.Completed",
    }
    assert "QUINTALBROSSARD" not in json.dumps(document)
    assert verify_export(document, [SIGNER.verifier]).valid


def test_the_cli_verifies_an_export_with_no_database_no_key_and_no_network(
    exported: tuple[Record, dict[str, Any]], tmp_path: Path
) -> None:
    _, document = exported
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESPACE_")}
    env["ESPACE_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
    command = [sys.executable, "-m", "espace.cli", "audit", "verify-export", str(path)]
    ok = subprocess.run(
        [*command, "--verifier-key", SIGNER.verifier.key, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert json.loads(ok.stdout)["valid"] is True
    changed = copy.deepcopy(document)
    del changed["entries"][1]
    path.write_text(json.dumps(changed), encoding="utf-8")
    bad = subprocess.run(
        [*command, "--verifier-key", SIGNER.verifier.key],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert bad.returncode == 7
    assert "NOT VALID" in bad.stdout
    assert "Traceback" not in bad.stderr
