"""The auditor's questions, on SQLite and PostgreSQL (ADR-0022; ACC-1..ACC-6,
DOC-3, DOC-4, LC-8, SEC-2, SEC-4): an espace as it stood at any instant,
who could read a document at an instant and why, a professional's accesses,
and the invariant that every trace in the log is what the access decision,
replayed on the facts it names, decides again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from espace import InvalidInput, NotFound, RuleViolation, Store
from espace.adapters.notes import Signer
from espace.domain.trace import AccessTrace
from records_world import GP, NURSE, PHYSICIAN, STRANGER, Record, choose, make_record

SIGNER = Signer.generate("espace.test/audit")
AUDITOR = "inspection-cnil"


@pytest.fixture
def audited(
    store_url: str, store_env: dict[str, str], clock: Any, people: Any, helpers: Any
) -> Iterator[Record]:
    env = {**store_env, "ESPACE_AUDIT_KEY": SIGNER.key}
    helpers.fresh_store(store_url, clock, environ=env).__enter__().close()
    with Store.open(store_url, clock=clock, environ=env) as store:
        yield make_record(store, clock, people, helpers)


def traces(store: Store) -> list[AccessTrace]:
    """Every trace in the log, read from the events (not the journal)."""
    events = store._infra.events
    found: list[AccessTrace] = []
    for notification in events.recorder.select_notifications(0, 100_000):
        if notification.topic.endswith("AccessTrace.Recorded"):
            assert isinstance(notification.originator_id, UUID)
            found.append(events.repository.get(notification.originator_id))
    return found


def test_history_as_of_an_instant_replays_the_espace_as_it_stood_doc_3_doc_5(
    audited: Record,
) -> None:
    rec, store, clock = audited, audited.store, audited.clock
    document_id = rec.deposit(title="Bilan v1")
    before_mask = clock.advance(minutes=1)
    clock.advance(minutes=1)
    store.records.mask(rec.holder, document_id)
    clock.advance(minutes=1)
    store.records.replace(PHYSICIAN, document_id, rec.meta(title="Bilan v2"), b"v2")
    journal_before = rec.traces()

    then = store.audit.history(rec.espace_id, as_of=before_mask, auditor=AUDITOR)
    now = store.audit.history(rec.espace_id, auditor=AUDITOR)

    [doc_then] = then["documents"]
    [doc_now] = now["documents"]
    assert (doc_then["masked_from_professionals"], len(doc_then["versions"])) == (
        False,
        1,
    )
    assert (doc_now["masked_from_professionals"], len(doc_now["versions"])) == (True, 2)
    assert doc_now["title"] == "Bilan v2"
    assert then["espace"]["state"] == "active"
    assert then["consent"]["medecin_traitant"] == GP.id
    assert all(e["at"] <= before_mask.isoformat() for e in then["events"])
    assert len(then["events"]) < len(now["events"])
    deposited = [e for e in now["events"] if e["event"] == "Deposited"]
    assert deposited[0]["by"] == {"kind": "professional", "id": PHYSICIAN.id}
    assert deposited[0]["content"]["title"] == "Bilan v1"
    assert len(now["journal"]) >= len(then["journal"]) > 0
    # ACC-6: the auditor's reads are traced, in the audit log, not the journal
    store.sync()
    reads, total = store.audit.log(subject=str(rec.espace_id))
    assert total == 2
    assert {r["auditor"] for r in reads} == {AUDITOR}
    assert rec.traces() == journal_before


def test_an_auditor_reads_a_deleted_documents_history_doc_4(audited: Record) -> None:
    rec, store = audited, audited.store
    document_id = rec.deposit(title="Compte rendu retiré")
    rec.clock.advance(minutes=1)
    store.records.delete(PHYSICIAN, document_id)
    with pytest.raises(RuleViolation):
        store.records.history(rec.holder, document_id)

    history = store.audit.history(rec.espace_id, auditor=AUDITOR)

    [doc] = history["documents"]
    assert doc["deleted_at"] is not None
    assert doc["versions"][0]["title"] == "Compte rendu retiré"


def test_who_could_read_a_document_at_an_instant_and_why_acc_1_to_acc_5(
    audited: Record,
) -> None:
    rec, store, clock = audited, audited.store, audited.clock
    document_id = rec.deposit(category="report")
    first = clock.advance(minutes=1)
    choose(rec, "block", STRANGER)
    choose(rec, "refuse-samu")
    second = clock.advance(minutes=1)

    at_first = store.audit.access(document_id, at=first, auditor=AUDITOR)
    at_second = store.audit.access(document_id, at=second, auditor=AUDITOR)

    def who(answer: dict[str, Any]) -> dict[str, tuple[bool, str | None]]:
        return {
            r["id"] if r["kind"] != "holder" else "holder": (
                r["may_read"],
                r["ground"] or r["rule"],
            )
            for r in answer["who"]
        }

    then, now = who(at_first), who(at_second)
    assert then["holder"] == (True, "holder")
    assert then[GP.id] == (True, "medecin_traitant")
    assert then[PHYSICIAN.id] == (True, "medecin_traitant") or then[PHYSICIAN.id][0]
    assert then[NURSE.id][0] is True  # care team, nurses read reports
    assert STRANGER.id not in then
    assert now[STRANGER.id] == (False, "ACC-2")
    routes = {r["role"]: r for r in at_second["who"] if r["kind"] == "professional"}
    emergency = next(r for k, r in routes.items() if "emergency" in k)
    samu = next(r for k, r in routes.items() if "SAMU" in k)
    assert (emergency["may_read"], emergency["ground"]) == (True, "emergency")
    assert (samu["may_read"], samu["rule"]) == (False, "ACC-5")
    assert at_second["matrix_version"] == 1
    assert at_second["consent_version"] > at_first["consent_version"]
    with pytest.raises(NotFound):
        store.audit.access(document_id, at=first - timedelta(days=30), auditor=AUDITOR)


def test_a_professionals_accesses_across_espaces_with_outcome_and_ground(
    audited: Record, people: Any, helpers: Any
) -> None:
    rec, store = audited, audited.store
    other = make_record(store, rec.clock, people, helpers)
    for record in (rec, other):
        document_id = record.deposit()
        record.clock.advance(minutes=1)
        store.records.read(PHYSICIAN, document_id)
    with pytest.raises(RuleViolation):
        store.records.list_documents(STRANGER, rec.espace_id)

    mine = store.audit.professional(PHYSICIAN.id, auditor=AUDITOR)
    theirs = store.audit.professional(STRANGER.id, auditor=AUDITOR)

    assert {a["espace_id"] for a in mine["attempts"]} == {
        str(rec.espace_id),
        str(other.espace_id),
    }
    assert {(a["action"], a["allowed"]) for a in mine["attempts"]} >= {
        ("deposit", True),
        ("read", True),
    }
    assert [(a["allowed"], a["rule"]) for a in theirs["attempts"]] == [(False, "ACC-1")]
    since = store.audit.professional(
        PHYSICIAN.id, since=rec.clock.now + timedelta(days=1), auditor=AUDITOR
    )
    assert since["total"] == 0


def test_every_trace_is_what_the_decision_replayed_on_its_facts_decides_acc_6(
    audited: Record, people: Any, helpers: Any
) -> None:
    """Invariant: replaying ``decide`` with the facts as they stood at each
    trace (the versions it records) gives its recorded outcome and ground;
    a denial by a rule of the aggregate replays as an allowed decision."""
    rec, store, clock = audited, audited.store, audited.clock
    document_id = rec.deposit()
    clock.advance(minutes=1)
    store.records.read(NURSE, document_id)
    choose(rec, "block", NURSE)
    for call in (
        lambda: store.records.read(NURSE, document_id),
        lambda: store.records.read(STRANGER, document_id),
        lambda: store.records.read(PHYSICIAN, document_id, mode="samu"),
        lambda: store.records.delete(NURSE, document_id),
        lambda: store.records.mask(PHYSICIAN, document_id),
    ):
        clock.advance(minutes=1)
        with suppress(RuleViolation):
            call()
    clock.advance(minutes=1)
    store.records.mask(rec.holder, document_id)
    clock.advance(minutes=1)
    store.records.read(GP, document_id)  # ACC-4, masked
    clock.advance(minutes=1)
    with pytest.raises(RuleViolation):
        store.records.deposit(
            PHYSICIAN,
            rec.espace_id,
            rec.meta(care_time=(clock.now + timedelta(days=2)).isoformat()),
            b"x",
        )  # allowed by the decision, then DOC-2 by the aggregate
    found = traces(store)
    assert len(found) >= 12
    kinds = set()
    for trace in found:
        assert_replays(store, trace)
        kinds.add(trace.facts.decided_by)
    assert kinds == {"decision", "rule"}


def assert_replays(store: Store, trace: Any) -> None:
    """A trace's recorded outcome and ground are what ``decide`` gives with
    the facts it names; a refusal made before any fact was loaded (a rule)
    is one that the facts alone would have allowed."""
    facts = trace.facts
    replayed = store.audit.replay_trace(facts, trace.created_on)
    if facts.decided_by == "decision":
        assert (replayed.allowed, replayed.ground, replayed.rule) == (
            facts.allowed,
            facts.ground,
            facts.rule,
        ), facts
    elif facts.decided_by == "rule":
        assert replayed.allowed, facts
        assert not facts.allowed, facts


def test_the_auditor_is_named_and_the_instants_are_checked(audited: Record) -> None:
    store = audited.store
    with pytest.raises(InvalidInput) as info:
        store.audit.history(audited.espace_id, auditor="")
    assert list(info.value.fields) == ["auditor"]
    with pytest.raises(InvalidInput) as info:
        store.audit.history(
            audited.espace_id, as_of=datetime(1, 1, 1, tzinfo=UTC), auditor=AUDITOR
        )
    assert list(info.value.fields) == ["as_of"]


ACTORS = [PHYSICIAN, NURSE, GP, STRANGER]
STEPS = st.tuples(
    st.sampled_from(
        [
            "read",
            "read-emergency",
            "read-samu",
            "list",
            "deposit",
            "delete",
            "mask",
            "unmask",
            "grant",
            "block",
            "unblock",
            "withdraw",
            "refuse-emergency",
            "allow-emergency",
            "refuse-samu",
        ]
    ),
    st.sampled_from(ACTORS),
)


def test_the_trace_replay_invariant_holds_for_any_sequence_of_actions_acc_6(
    store_url: str,
    store_env: dict[str, str],
    clock: Any,
    people: Any,
    helpers: Any,
) -> None:
    """A property: whatever the holder chose and whoever tried what, every
    trace replays to its recorded outcome and ground."""
    env = {**store_env, "ESPACE_AUDIT_KEY": SIGNER.key}
    helpers.fresh_store(store_url, clock, environ=env).__enter__().close()
    examples = 8 if store_url.startswith("sqlite") else 4

    with Store.open(store_url, clock=clock, environ=env) as store:

        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(st.lists(STEPS, min_size=3, max_size=14))
        def run(steps: list[tuple[str, Any]]) -> None:
            rec = make_record(store, clock, people, helpers)
            document_id = rec.deposit()
            for step, actor in steps:
                clock.advance(minutes=1)
                with suppress(RuleViolation, NotFound):
                    act(rec, step, actor, document_id)
            seen = [t for t in traces(store) if t.facts.espace_id == rec.espace_id]
            assert seen
            for trace in seen:
                assert_replays(store, trace)

        run()


def act(rec: Record, step: str, actor: Any, document_id: Any) -> None:
    records = rec.store.records
    if step.startswith("read"):
        mode = {"read": "care", "read-emergency": "emergency", "read-samu": "samu"}[
            step
        ]
        records.read(actor, document_id, mode=mode)
    elif step == "list":
        records.list_documents(actor, rec.espace_id)
    elif step == "deposit":
        rec.deposit(actor=actor)
    elif step == "delete":
        records.delete(actor, document_id)
    elif step in ("mask", "unmask"):
        getattr(records, step)(rec.holder, document_id)
    elif step in ("grant", "block", "unblock", "withdraw"):
        choose(rec, step, actor)
    else:
        choose(rec, step)
