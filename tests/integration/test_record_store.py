"""The shared medical record through the public API, down to the database
(DOC-1 to DOC-5, ACC-1 to ACC-6, LC-4, LC-8, LC-11, SEC-1, SEC-2, SEC-4).

Each test runs on a SQLite file and on a PostgreSQL schema (``store_url``),
through ``espace.Store`` alone: given an activated espace whose holder made
choices about access, when professionals and the holder act on the record,
then what they get, the documents, journal and notifications views (synced
after every command), the sealed contents and the event log show what the
rules say. A denied attempt leaves its trace and nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from espace import Conflict, InvalidInput, NotFound, RuleViolation, Store
from espace.adapters.contents import contents as contents_table
from espace.application.records import actor_from
from espace.application.tables import matrix_to_csv, types_to_csv
from espace.domain.actors import Actor, ActorKind
from espace.domain.deadlines import DeadlineKind
from espace.domain.trace import AccessTrace, TraceFacts
from espace.projections.consents import consent_professionals, consent_settings
from espace.projections.deadlines import deadlines as deadlines_table
from espace.projections.documents import documents as documents_table
from espace.projections.documents import versions as versions_table
from espace.projections.espaces import espaces as espaces_table
from espace.projections.journal import journal as journal_table
from espace.projections.notifications import notifications as notifications_table
from raw_store import leaks, raw_store
from records_world import (
    GP,
    NURSE,
    PHYSICIAN,
    STRANGER,
    Record,
    choose,
    list_the_cast,
    make_record,
)

VIEW_TABLES = (
    espaces_table,
    deadlines_table,
    documents_table,
    versions_table,
    consent_settings,
    consent_professionals,
    journal_table,
    notifications_table,
)
ESPACE_VIEWS = VIEW_TABLES[1:]
"""The views whose rows belong to an espace (the espaces view keeps a tombstone)."""


@pytest.fixture
def rec(store: Store, clock: Any, people: Any, helpers: Any) -> Record:
    return make_record(store, clock, people, helpers)


def rows(store: Store, table: sa.Table, espace_id: UUID | None = None) -> list[Any]:
    query = sa.select(table)
    if espace_id is not None:
        query = query.where(table.c.espace_id == espace_id)
    with store._infra.engine.connect() as conn:
        return sorted((tuple(r) for r in conn.execute(query)), key=repr)


def snapshot(
    store: Store, tables: tuple[sa.Table, ...] = VIEW_TABLES
) -> dict[str, Any]:
    return {t.name: rows(store, t) for t in tables}


def denied(rule: str, call: Any, *args: Any, **kw: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as info:
        call(*args, **kw)
    assert info.value.rule == rule, info.value
    return info.value


# --------------------------------------------------------------------- SEC-1


TITLE = "Bilan oncologique de Mme QUINTALBROSSARD"
CONTENT = b"Lymphome folliculaire de grade 2, PET-scan du 3 janvier."


def test_a_deposited_title_and_content_are_never_stored_in_clear_sec_1(
    rec: Record, store_url: str
) -> None:
    document_id = rec.deposit(title=TITLE, content=CONTENT)
    rec.store.records.read(PHYSICIAN, document_id)
    rec.store.records.history(rec.holder, document_id)
    rec.store.rebuild_views()

    blobs = raw_store(store_url)
    # the scan works: the document's id (not secret) is found in the views
    assert any(
        document_id.hex.encode() in b or str(document_id).encode() in b
        for b in blobs.values()
    )
    needles = {
        "title": TITLE.encode(),
        "content": CONTENT,
        "content (utf-16)": CONTENT.decode().encode("utf-16-le"),
    }
    assert leaks(blobs, needles) == []


def test_a_deposited_contents_hash_is_never_stored_in_clear_sec_1(
    rec: Record, store_url: str
) -> None:
    rec.deposit(title=TITLE, content=CONTENT)
    digest = hashlib.sha256(CONTENT)
    needles = {
        "hex digest": digest.hexdigest().encode(),
        "raw digest": digest.digest(),
    }
    assert leaks(raw_store(store_url), needles) == []


# --------------------------------------------------------------------- DOC-1/DOC-3


def test_a_read_returns_the_deposited_bytes_and_their_hash_doc_1(rec: Record) -> None:
    document_id = rec.deposit(category="imaging", content=CONTENT, format="text/plain")
    rec.clock.advance(minutes=1)
    result = rec.store.records.read(GP, document_id)
    assert result["content"] == CONTENT
    assert result["content_hash"] == hashlib.sha256(CONTENT).hexdigest()
    assert result["size"] == len(CONTENT)
    assert (result["category"], result["version_no"], result["versions"]) == (
        "imaging",
        1,
        1,
    )
    assert result["ground"] == "medecin_traitant"
    assert result["title"].startswith("Compte rendu imaging")


def test_a_read_whose_content_no_longer_matches_its_hash_is_refused_doc_1(
    rec: Record, monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id = rec.deposit(content=CONTENT)
    monkeypatch.setattr(rec.store._infra.contents, "get", lambda *_: b"altered bytes")
    with pytest.raises(Conflict) as info:
        rec.store.records.read(PHYSICIAN, document_id)
    assert "altered" in info.value.message


def test_sealed_contents_moved_to_another_version_fail_their_check_doc_1_sec_1(
    rec: Record,
) -> None:
    first = rec.deposit(content=b"first document")
    second = rec.deposit(content=b"second document")
    with rec.store._infra.engine.begin() as conn:
        sealed = {
            r.version_id: r.sealed
            for r in conn.execute(
                sa.select(contents_table.c.version_id, contents_table.c.sealed)
            )
        }
        a, b = (
            (rec.store.views.documents.get(d) or {})["current_version_id"]
            for d in (first, second)
        )
        conn.execute(
            contents_table.update()
            .where(contents_table.c.version_id == a)
            .values(sealed=sealed[b])
        )
    with pytest.raises(NotFound, match="integrity"):
        rec.store.records.read(rec.holder, first)
    assert rec.store.records.read(rec.holder, second)["content"] == b"second document"


def test_bad_metadata_or_empty_content_is_invalid_input_and_writes_nothing_doc_1(
    rec: Record, helpers: Any
) -> None:
    head, traces = helpers.log_head(rec.store), rec.traces()
    for meta, content, field in [
        (rec.meta(category="letter"), b"x", "category"),
        (rec.meta(loinc_code="00000-0"), b"x", "loinc_code"),
        (rec.meta(care_time="2027-01-04T10:00:00"), b"x", "care_time"),
        (rec.meta(format="application/msword"), b"x", "format"),
        (rec.meta(title=""), b"x", "title"),
        (rec.meta(), b"", "content"),
    ]:
        with pytest.raises(InvalidInput) as info:
            rec.store.records.deposit(PHYSICIAN, rec.espace_id, meta, content)
        assert field in info.value.fields
    assert helpers.log_head(rec.store) == head
    assert rec.traces() == traces
    assert rows(rec.store, contents_table) == []


def test_a_document_type_has_its_own_right_and_the_type_list_is_data_acc_3_doc_1(
    rec: Record,
) -> None:
    """ACC-3 by document type: the operator publishes a matrix where a nurse
    reads the imaging study (an imaging type) but not the laboratory report
    (a report type), and a type list that gains a type; deposits take their
    category from the type; every decision and trace names the version."""
    store = rec.store
    before = store.records.matrix()
    lines = matrix_to_csv(before).splitlines()
    table = "\n".join(
        [
            lines[0] + ",11502-2,18748-4",
            *(
                line + (",0,1" if line.startswith("nurse,") else ",,")
                for line in lines[1:]
            ),
        ]
    )
    types = types_to_csv(before.types) + "34109-9,Note,report\n"
    published = store.records.publish_matrix(table, "by-type.csv", types=types)
    version = published["version"]
    assert published["changes"]["added"] == ["type 34109-9"]
    assert published["changes"]["changed"]["nurse"]["after"][-2:] == [
        "11502-2=0",
        "18748-4=1",
    ]
    imaging = rec.deposit(category="imaging", loinc_code="18748-4")
    lab = rec.deposit(loinc_code="11502-2")
    note = rec.deposit(loinc_code="11488-4")
    assert store.records.read(NURSE, imaging)["ground"] == "care_team"
    assert store.records.read(NURSE, note)["ground"] == "care_team"
    refused = denied("ACC-3", store.records.read, NURSE, lab)
    assert f"documents of type 11502-2 (matrix version {version})" in refused.message
    assert rec.listed(NURSE) == {imaging, note}
    reads = [
        t
        for t in store.views.journal.of_espace(rec.espace_id)
        if t["actor_id"] == NURSE.id and t["action"] == "read"
    ]
    read_traces: list[AccessTrace] = [
        store._infra.events.repository.get(t["trace_id"]) for t in reads
    ]
    recorded = {trace.facts.matrix_version for trace in read_traces}
    assert recorded == {version}
    # the category comes from the type list; a type it gained is accepted
    metadata = rec.meta(loinc_code="34109-9")
    del metadata["category"]
    added = store.records.deposit(PHYSICIAN, rec.espace_id, metadata, b"note")
    added_row = store.views.documents.get(UUID(added.document_id or ""))
    assert added_row is not None
    assert added_row["category"] == "report"
    # a type the list does not have is bad input, and writes nothing
    traces = rec.traces()
    with pytest.raises(InvalidInput) as info:
        store.records.deposit(
            PHYSICIAN, rec.espace_id, rec.meta(loinc_code="55112-7"), b"x"
        )
    assert "matrix show --types" in info.value.fields["loinc_code"][0]
    assert rec.traces() == traces
    # an earlier version published again brings back its own types and rights
    store.records.republish_matrix(before.version, allow_removals=True)
    assert "34109-9" not in store.records.matrix().types
    assert store.records.read(NURSE, lab)["ground"] == "care_team"


def test_a_replacement_keeps_the_history_in_both_views_doc_3(rec: Record) -> None:
    document_id = rec.deposit(title="Version un", content=b"v1")
    first = rec.store.views.documents.get(document_id)
    assert first is not None
    rec.clock.advance(hours=1)
    outcome = rec.store.records.replace(
        PHYSICIAN, document_id, rec.meta(title="Version deux"), b"v2"
    )
    assert outcome.document_id == str(document_id)
    assert outcome.version_id != str(first["current_version_id"])

    row = rec.store.views.documents.get(document_id)
    assert row is not None
    assert row["version_count"] == 2
    assert str(row["current_version_id"]) == outcome.version_id
    history = rec.store.records.history(rec.holder, document_id)
    assert [h["version_no"] for h in history] == [1, 2]
    assert [h["title"] for h in history] == ["Version un", "Version deux"]
    assert history[0]["superseded_at"] == rec.clock.now
    assert history[1]["superseded_at"] is None
    assert history[0]["version_id"] == first["current_version_id"]

    old = rec.store.records.read(
        rec.holder, document_id, version_id=first["current_version_id"]
    )
    assert (old["content"], old["version_no"], old["title"]) == (b"v1", 1, "Version un")
    new = rec.store.records.read(rec.holder, document_id)
    assert (new["content"], new["version_no"], new["versions"]) == (b"v2", 2, 2)


def test_only_the_author_replaces_and_a_refusal_leaves_one_trace_doc_3_acc_6(
    rec: Record, helpers: Any
) -> None:
    document_id = rec.deposit()
    before = snapshot(rec.store, ESPACE_VIEWS[:-2])
    head, traces = helpers.log_head(rec.store), rec.traces()
    rec.clock.advance(minutes=1)
    denied("DOC-3", rec.store.records.replace, GP, document_id, rec.meta(), b"v2")
    assert helpers.log_head(rec.store) == head + 1
    assert rec.traces() == traces + 1
    assert snapshot(rec.store, ESPACE_VIEWS[:-2]) == before
    trace = last_trace(rec)
    assert (trace["actor_id"], trace["action"]) == (GP.id, "replace")


def last_trace(rec: Record) -> dict[str, Any]:
    (trace,) = rec.store.records.journal(rec.holder, rec.espace_id, limit=1)
    return trace


def test_an_attempt_refused_by_the_aggregate_is_traced_as_denied_acc_6(
    rec: Record,
) -> None:
    document_id = rec.deposit()
    again = {"idnatps": PHYSICIAN.id}
    attempts = [
        ("DOC-3", rec.store.records.replace, (GP, document_id, rec.meta(), b"v2")),
        ("DOC-4", rec.store.records.delete, (NURSE, document_id)),
        ("DOC-5", rec.store.records.hide_from_holder, (NURSE, document_id)),
        (
            "ACC-1",
            rec.store.records.consent,
            (rec.holder, rec.espace_id, "grant", again),
        ),
    ]
    seen = []
    for rule, call, args in attempts:
        rec.clock.advance(minutes=1)
        denied(rule, call, *args)
        trace = last_trace(rec)
        seen.append((trace["allowed"], trace["ground"], trace["rule"]))
    assert seen == [(False, None, rule) for rule, _, _ in attempts]


def test_a_refusal_by_a_domain_rule_names_its_rule_once_doc_3(rec: Record) -> None:
    document_id = rec.deposit()
    rec.clock.advance(minutes=1)
    error = denied(
        "DOC-3", rec.store.records.replace, GP, document_id, rec.meta(), b"v"
    )
    assert error.message.count("DOC-3") == 1


# --------------------------------------------------------------------- DOC-2


def test_the_holder_uploads_patient_uploaded_documents_doc_2_doc_6(
    rec: Record, store_url: str, request: pytest.FixtureRequest
) -> None:
    rec.clock.advance(minutes=1)
    meta = rec.meta(loinc_code="42348-3", title="Mes directives anticipées")
    del meta["category"]
    outcome = rec.store.records.deposit(rec.holder, rec.espace_id, meta, b"je refuse")
    row = rec.store.views.documents.get(UUID(str(outcome.document_id)))
    assert row is not None
    assert (row["category"], row["author_kind"]) == ("patient_uploaded", "holder")
    assert outcome.ground == "holder"
    # the médecin traitant and consented professionals read it
    assert UUID(str(outcome.document_id)) in rec.listed(PHYSICIAN)


def test_the_holder_cannot_deposit_outside_patient_uploaded_doc_2(rec: Record) -> None:
    rec.clock.advance(minutes=1)
    denied(
        "DOC-2",
        rec.store.records.deposit,
        rec.holder,
        rec.espace_id,
        rec.meta("report"),
        b"x",
    )


def test_a_deposit_refused_by_a_document_rule_leaves_its_trace_acc_6_doc_2(
    rec: Record,
) -> None:
    traces = rec.traces()
    future = (rec.clock.now + timedelta(days=1)).isoformat()
    rec.clock.advance(minutes=1)
    denied(
        "DOC-2",
        rec.store.records.deposit,
        PHYSICIAN,
        rec.espace_id,
        rec.meta(care_time=future),
        b"x",
    )
    assert rec.traces() == traces + 1


# --------------------------------------------------------------------- DOC-4


def test_a_logically_deleted_document_is_denied_to_all_but_kept_in_the_log_doc_4(
    rec: Record,
) -> None:
    document_id = rec.deposit()
    rec.clock.advance(minutes=1)
    denied("DOC-4", rec.store.records.delete, rec.holder, document_id)
    denied("DOC-4", rec.store.records.delete, GP, document_id)
    rec.store.records.delete(PHYSICIAN, document_id)
    row = rec.store.views.documents.get(document_id)
    assert row is not None
    assert row["deleted_at"] == rec.clock.now
    assert rec.store.views.documents.of_espace(rec.espace_id) == []
    for actor in (PHYSICIAN, GP, rec.holder):
        denied("DOC-4", rec.store.records.read, actor, document_id)
        denied("DOC-4", rec.store.records.history, actor, document_id)
        assert document_id not in rec.listed(actor)
    denied("DOC-4", rec.store.records.read, STRANGER, document_id, mode="emergency")


# --------------------------------------------------------------------- DOC-5


def test_masking_is_reflected_in_the_views_and_in_what_professionals_see_doc_5_acc_4(
    rec: Record,
) -> None:
    document_id = rec.deposit(actor=NURSE)
    assert document_id in rec.listed(PHYSICIAN)
    rec.clock.advance(minutes=1)
    rec.store.records.mask(rec.holder, document_id)
    row = rec.store.views.documents.get(document_id)
    assert row is not None
    assert row["masked_from_professionals"] is True

    assert document_id not in rec.listed(PHYSICIAN)
    denied("DOC-5", rec.store.records.read, PHYSICIAN, document_id)
    assert document_id in rec.listed(NURSE)  # the author
    assert document_id in rec.listed(GP)  # the médecin traitant
    assert rec.store.records.read(GP, document_id)["ground"] == "medecin_traitant"
    assert document_id in rec.listed(rec.holder)
    denied("DOC-5", rec.store.records.mask, PHYSICIAN, document_id)

    rec.clock.advance(minutes=1)
    rec.store.records.unmask(rec.holder, document_id)
    row = rec.store.views.documents.get(document_id)
    assert row is not None
    assert row["masked_from_professionals"] is False
    assert document_id in rec.listed(PHYSICIAN)


def test_the_professional_list_shows_only_what_the_rules_allow_acc_1_acc_3_doc_5(
    rec: Record,
) -> None:
    report = rec.deposit(GP, "report")
    imaging = rec.deposit(GP, "imaging")
    certificate = rec.deposit(GP, "certificate")
    masked = rec.deposit(GP, "summary")
    rec.store.records.mask(rec.holder, masked)
    hidden = rec.deposit(GP, "summary", hidden_from_holder=True)
    deleted = rec.deposit(GP, "report")
    rec.store.records.delete(GP, deleted)
    everything = {report, imaging, certificate, masked, hidden}

    assert rec.listed(GP) == everything
    assert rec.listed(PHYSICIAN) == everything - {masked}
    assert rec.listed(NURSE) == {report, hidden}  # no imaging nor certificate
    assert rec.listed(rec.holder) == everything - {hidden}
    denied("ACC-1", rec.listed, STRANGER)
    # a pharmacist in an emergency: the matrix (no imaging, no certificate)
    # and the holder's mask still apply
    assert rec.listed(STRANGER, mode="emergency") == {report, hidden}
    with pytest.raises(InvalidInput):
        rec.listed(PHYSICIAN, mode="insurance")  # ACC-7


def test_a_document_hidden_from_the_holder_is_readable_by_its_author_only_doc_5(
    rec: Record,
) -> None:
    document_id = rec.deposit(hidden_from_holder=True)
    denied("DOC-5", rec.store.records.read, rec.holder, document_id)
    denied("DOC-5", rec.store.records.history, rec.holder, document_id)
    assert rec.store.records.read(PHYSICIAN, document_id)["ground"] == "author"
    assert rec.store.records.read(NURSE, document_id)["ground"] == "care_team"
    rec.clock.advance(days=2)
    denied("DOC-5", rec.store.records.reveal_to_holder, GP, document_id)
    rec.store.records.reveal_to_holder(PHYSICIAN, document_id)
    assert rec.store.records.read(rec.holder, document_id)["ground"] == "holder"
    assert rec.store.views.deadlines.upcoming(kind=DeadlineKind.HOLDER_NOTICE) == []


def test_the_holder_is_told_at_two_weeks_and_sees_the_document_at_one_month_doc_5(
    rec: Record, helpers: Any
) -> None:
    # Thursday 7 January 2027, 10:00 in Paris
    rec.clock.set(helpers.paris(date(2027, 1, 7), 10))
    document_id = rec.deposit(hidden_from_holder=True)
    notice = helpers.paris(date(2027, 1, 22))  # day 14 is 21 January
    reveal = helpers.paris(date(2027, 2, 8))  # one month: 7 February
    kinds = {
        r["kind"]: r["due_at"]
        for r in rec.store.views.deadlines.upcoming()
        if r["subject_id"] == document_id
    }
    assert kinds == {"holder_notice": notice, "holder_reveal": reveal}

    rec.clock.set(notice - timedelta(seconds=1))
    assert rec.store.run_deadlines()["done"] == {}
    assert rec.store.records.pending_notifications(rec.espace_id) == []

    rec.clock.set(notice)
    assert rec.store.run_deadlines()["done"] == {"holder_notice": 1}
    (alert,) = rec.store.records.pending_notifications(rec.espace_id)
    assert (alert["recipient_kind"], alert["reason"], alert["document_id"]) == (
        "holder",
        "update_waiting",
        document_id,
    )
    assert alert["raised_at"] == notice
    row = rec.store.views.documents.get(document_id)
    assert row is not None
    assert (row["hidden_from_holder"], row["holder_told"]) == (
        True,
        True,
    )
    denied("DOC-5", rec.store.records.read, rec.holder, document_id)
    assert rec.store.run_deadlines()["done"] == {}  # idempotent

    rec.clock.set(reveal - timedelta(seconds=1))
    assert rec.store.run_deadlines()["done"] == {}
    denied("DOC-5", rec.store.records.read, rec.holder, document_id)

    rec.clock.set(reveal + timedelta(days=3))  # the job ran late: it catches up
    assert rec.store.run_deadlines()["done"] == {"holder_reveal": 1}
    row = rec.store.views.documents.get(document_id)
    assert row is not None
    assert row["hidden_from_holder"] is False
    assert rec.store.records.read(rec.holder, document_id)["ground"] == "holder"
    assert document_id in rec.listed(rec.holder)
    assert [
        r
        for r in rec.store.views.deadlines.upcoming()
        if r["subject_id"] == document_id
    ] == []


def test_a_document_hidden_from_representatives_is_read_by_the_minor_only_doc_5_lc_12(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    list_the_cast(store)
    minor = people.make(birth_date=date(2012, 3, 3), minor_representative=True)
    helpers.affiliate(store, minor)
    helpers.notify(store, minor)
    clock.advance(days=1)
    store.lifecycle.activate(minor.activation(as_representative=True))
    rec = Record(store, clock, minor.espace_id, minor)
    rep = actor_from({"kind": "representative"}, rec.espace_id)
    choose(rec, "grant", PHYSICIAN)
    confidential = rec.deposit(hidden_from_representatives=True)
    ordinary = rec.deposit()
    assert rec.listed(rep) == {ordinary}
    denied("DOC-5", store.records.read, rep, confidential)
    assert store.records.read(rec.holder, confidential)["ground"] == "holder"
    assert store.records.read(rep, ordinary)["ground"] == "legal_representative"
    other = make_record(store, clock, people, helpers)
    stranger_rep = actor_from({"kind": "representative"}, other.espace_id)
    denied("ACC-1", store.records.read, stranger_rep, ordinary)


# --------------------------------------------------------------------- ACC-1/2


def test_consent_given_then_withdrawn_then_blocking_acc_1_acc_2(rec: Record) -> None:
    document_id = rec.deposit(actor=NURSE)
    denied("ACC-1", rec.store.records.read, STRANGER, document_id)
    choose(rec, "grant", STRANGER)
    assert rec.store.records.read(STRANGER, document_id)["ground"] == "consent"
    choose(rec, "withdraw", STRANGER)
    denied("ACC-1", rec.store.records.read, STRANGER, document_id)
    choose(rec, "block", GP)
    denied("ACC-2", rec.store.records.read, GP, document_id)
    # emergency beats blocking unless refused (ACC-2, ACC-5)
    assert rec.store.records.read(GP, document_id, mode="emergency")["ground"] == (
        "emergency"
    )
    choose(rec, "refuse-emergency")
    denied("ACC-5", rec.store.records.read, GP, document_id, mode="emergency")
    view = rec.store.records.consent_view(rec.holder, rec.espace_id)
    # the holder's side only, and the read is traced (ACC-6)
    denied("DOC-5", rec.store.records.consent_view, GP, rec.espace_id)
    journal = rec.store.records.journal(rec.holder, rec.espace_id)
    assert "consent show" in {t["detail"] for t in journal}
    assert view["settings"]["emergency_refused"] is True
    assert view["settings"]["medecin_traitant"] == GP.id
    flags = {p["idnatps"]: p for p in view["professionals"]}
    assert flags[GP.id]["blocked"]
    assert not flags[GP.id]["authorised"]
    assert STRANGER.id not in flags


def test_a_professional_cannot_change_the_holders_choices_acc_1(rec: Record) -> None:
    with pytest.raises(RuleViolation):
        rec.store.records.consent(
            STRANGER, rec.espace_id, "grant", {"idnatps": STRANGER.id}
        )
    with pytest.raises(InvalidInput) as missing:
        rec.store.records.consent(rec.holder, rec.espace_id, "grant", None)
    assert "professional" in missing.value.as_dict()["fields"]
    with pytest.raises(InvalidInput) as unknown:
        rec.store.records.consent(rec.holder, rec.espace_id, "sell-data", None)
    assert "block" in unknown.value.as_dict()["fields"]["choice"][0]
    with pytest.raises(InvalidInput):
        rec.store.records.consent(
            rec.holder, rec.espace_id, "grant", {"idnatps": "810001045368"}
        )
    denied(
        "ACC-4",
        rec.store.records.consent,
        rec.holder,
        rec.espace_id,
        "designate-medecin-traitant",
        {"idnatps": NURSE.id, "profession": "nurse"},
    )


# --------------------------------------------------------------------- ACC-5


def test_an_emergency_read_notifies_the_holder_and_the_medecin_traitant_acc_5(
    rec: Record,
) -> None:
    document_id = rec.deposit()
    assert rec.store.records.pending_notifications(rec.espace_id) == []
    rec.clock.advance(minutes=5)
    result = rec.store.records.read(STRANGER, document_id, mode="emergency")
    assert result["ground"] == "emergency"
    pending = rec.store.records.pending_notifications(rec.espace_id)
    assert {(a["recipient_kind"], a["recipient_id"]) for a in pending} == {
        ("holder", str(rec.espace_id)),
        ("professional", GP.id),
    }
    assert {a["reason"] for a in pending} == {"emergency_access"}
    assert {a["trace_id"] for a in pending} == {UUID(result["trace_id"])}

    to_holder = next(a for a in pending if a["recipient_kind"] == "holder")
    rec.clock.advance(minutes=5)
    rec.store.records.deliver_notification(to_holder["alert_id"], "email")
    left = rec.store.records.pending_notifications(rec.espace_id)
    assert [a["recipient_id"] for a in left] == [GP.id]
    denied(
        "ACC-5", rec.store.records.deliver_notification, to_holder["alert_id"], "sms"
    )
    with pytest.raises(NotFound):
        rec.store.records.deliver_notification(uuid4())


def test_samu_access_needs_a_physician_and_has_its_own_refusal_acc_5(
    rec: Record,
) -> None:
    document_id = rec.deposit()
    denied("ACC-5", rec.store.records.read, STRANGER, document_id, mode="samu")
    choose(rec, "refuse-emergency")
    regulator = Actor(ActorKind.PROFESSIONAL, "810005000004", "physician")
    assert rec.store.records.read(regulator, document_id, mode="samu")["ground"] == (
        "samu"
    )
    choose(rec, "refuse-samu")
    denied("ACC-5", rec.store.records.read, regulator, document_id, mode="samu")
    reasons = [a["reason"] for a in rec.store.records.pending_notifications()]
    assert reasons.count("samu_access") == 2  # the holder and the GP, once


def test_a_denied_emergency_notifies_nobody_and_emergency_is_read_only_acc_5(
    rec: Record,
) -> None:
    document_id = rec.deposit()
    choose(rec, "refuse-emergency")
    denied("ACC-5", rec.store.records.read, STRANGER, document_id, mode="emergency")
    assert rec.store.records.pending_notifications(rec.espace_id) == []
    with pytest.raises(InvalidInput):
        rec.store.records.read(STRANGER, document_id, mode="employment")  # ACC-7


# --------------------------------------------------------------------- ACC-6


def test_the_journal_is_whole_for_the_holder_and_gp_and_own_for_others_acc_6(
    rec: Record,
) -> None:
    document_id = rec.deposit(actor=PHYSICIAN)
    rec.clock.advance(minutes=1)
    rec.store.records.read(NURSE, document_id)
    with pytest.raises(RuleViolation):
        rec.store.records.read(STRANGER, document_id)
    rec.clock.advance(minutes=1)
    rec.store.records.read(rec.holder, document_id)

    everything = rec.store.records.journal(rec.holder, rec.espace_id)
    assert len(everything) == rec.traces() == 3 + 1 + 1 + 1 + 1
    assert {r["actor_id"] for r in everything} == {
        str(rec.espace_id),
        PHYSICIAN.id,
        NURSE.id,
        STRANGER.id,
    }
    assert rec.store.records.journal(GP, rec.espace_id) == everything
    own = rec.store.records.journal(NURSE, rec.espace_id)
    assert [(r["actor_id"], r["action"], r["ground"]) for r in own] == [
        (NURSE.id, "read", "care_team")
    ]
    (stranger,) = rec.store.records.journal(STRANGER, rec.espace_id)
    assert (stranger["allowed"], stranger["rule"], stranger["document_id"]) == (
        False,
        "ACC-1",
        document_id,
    )
    deposit = next(r for r in everything if r["action"] == "deposit")
    assert (deposit["document_id"], deposit["ground"]) == (document_id, "consent")
    assert everything == sorted(everything, key=lambda r: r["at"], reverse=True)
    heir = actor_from({"kind": "heir", "heir_id": "h-1"}, None)
    denied("LC-11", rec.store.records.journal, heir, rec.espace_id)


def test_a_denied_attempt_leaves_one_trace_and_nothing_else_acc_6(
    rec: Record, helpers: Any
) -> None:
    document_id = rec.deposit()
    attempts: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = [
        (rec.store.records.read, (STRANGER, document_id), {}),
        (rec.store.records.history, (STRANGER, document_id), {}),
        (rec.store.records.list_documents, (STRANGER, rec.espace_id), {}),
        (rec.store.records.mask, (NURSE, document_id), {}),
        (rec.store.records.delete, (NURSE, document_id), {}),
        (rec.store.records.hide_from_holder, (NURSE, document_id), {}),
        (rec.store.records.read, (NURSE, document_id), {"mode": "samu"}),
        (
            rec.store.records.deposit,
            (STRANGER, rec.espace_id, rec.meta(), b"x"),
            {},
        ),
    ]
    others = (*ESPACE_VIEWS[:-2], notifications_table)
    for call, args, kw in attempts:
        before = snapshot(rec.store, others)
        contents_before = rows(rec.store, contents_table)
        head, traces = helpers.log_head(rec.store), rec.traces()
        rec.clock.advance(minutes=1)
        with pytest.raises(RuleViolation):
            call(*args, **kw)
        assert helpers.log_head(rec.store) == head + 1, call.__name__
        assert rec.traces() == traces + 1, call.__name__
        assert snapshot(rec.store, others) == before, call.__name__
        assert rows(rec.store, contents_table) == contents_before
    journal = rec.store.records.journal(rec.holder, rec.espace_id)
    new = journal[: len(attempts)]
    assert {r["actor_id"] for r in new} == {STRANGER.id, NURSE.id}
    # those the decision itself denied say why
    decided = [r for r in new if r["actor_id"] == STRANGER.id or r["mode"] == "samu"]
    assert len(decided) == 5
    assert all(not r["allowed"] and r["rule"] and r["reason"] for r in decided)


def test_a_read_of_an_unknown_version_by_a_denied_professional_is_traced_acc_6(
    rec: Record,
) -> None:
    document_id = rec.deposit()
    traces = rec.traces()
    with pytest.raises(RuleViolation):
        rec.store.records.read(STRANGER, document_id, version_id=uuid4())
    assert rec.traces() == traces + 1


def test_a_thousand_traces_on_one_espace_are_all_in_the_journal_acc_6_sec_2(
    rec: Record,
) -> None:
    document_id = rec.deposit()
    start = rec.traces()
    for batch in range(10):
        traces = [
            AccessTrace.record(
                trace_id=uuid4(),
                at=rec.clock.now + timedelta(seconds=batch * 100 + i),
                facts=TraceFacts(
                    espace_id=rec.espace_id,
                    actor_kind="professional",
                    actor_id=PHYSICIAN.id,
                    actor_profession="physician",
                    action="read",
                    mode="care",
                    allowed=True,
                    ground="consent",
                    document_id=document_id,
                ),
            )
            for i in range(100)
        ]
        rec.store._infra.events.save(*traces)
    rec.store.sync()
    assert rec.traces() == start + 1000
    rec.clock.advance(hours=1)
    rec.store.records.read(NURSE, document_id)
    assert rec.traces() == start + 1001
    latest = rec.store.records.journal(rec.holder, rec.espace_id, limit=1)
    assert latest[0]["actor_id"] == NURSE.id
    page = rec.store.records.journal(PHYSICIAN, rec.espace_id, limit=500, offset=500)
    assert len(page) == 500


# --------------------------------------------------------------------- LC-4/8/11


def test_professionals_feed_a_reopened_unactivated_espace_its_holder_cannot_see_lc_4(
    rec: Record,
) -> None:
    rec.clock.advance(days=1)
    rec.store.lifecycle.close(rec.espace_id)
    rec.clock.advance(days=1)
    issued = rec.store.lifecycle.reopen(rec.espace_id)  # LC-10: open, not activated
    assert issued.espace.state == "open"
    document_id = rec.deposit(actor=PHYSICIAN, category="prescription")
    assert rec.listed(PHYSICIAN) == {document_id}
    assert rec.store.records.read(NURSE, document_id)["ground"] == "care_team"
    denied("LC-4", rec.listed, rec.holder)
    denied("LC-4", rec.store.records.read, rec.holder, document_id)
    denied("LC-4", rec.store.records.journal, rec.holder, rec.espace_id)
    denied("LC-4", choose, rec, "refuse-emergency")

    rec.clock.advance(days=1)
    rec.store.lifecycle.activate(rec.person.activation(code=issued.activation_code))
    assert document_id in rec.listed(rec.holder)


def test_a_professional_given_consent_feeds_an_espace_opened_automatically_lc_4(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    list_the_cast(store)
    person = people.make()
    helpers.affiliate(store, person)
    clock.set(helpers.notify(store, person) + timedelta(minutes=1))
    store.run_deadlines()
    rec = Record(store, clock, person.espace_id, person)
    assert store.lifecycle.summary(rec.espace_id).state == "open"
    assert rec.listed(STRANGER, mode="emergency") == set()
    # The holder cannot act in an espace they have not activated (LC-4); the
    # professional declares the consent given during care (ACC-1, ADR-0010).
    with pytest.raises(RuleViolation) as refused:
        choose(rec, "grant", PHYSICIAN)
    assert refused.value.rule == "LC-4"
    store.records.declare_consent(PHYSICIAN, rec.espace_id)
    document_id = rec.deposit(actor=PHYSICIAN)
    assert rec.listed(PHYSICIAN) == {document_id}
    with pytest.raises(RuleViolation) as denied:
        store.records.read(STRANGER, document_id)
    assert denied.value.rule == "ACC-1"


def test_a_closed_espace_is_a_read_only_archive_for_its_holder_lc_8(
    rec: Record,
) -> None:
    document_id = rec.deposit()
    rec.clock.advance(days=1)
    rec.store.lifecycle.close(rec.espace_id)
    assert rec.store.records.read(rec.holder, document_id)["content"]
    assert rec.listed(rec.holder) == {document_id}
    assert rec.store.records.journal(rec.holder, rec.espace_id)
    denied("LC-8", rec.store.records.mask, rec.holder, document_id)
    for actor in (PHYSICIAN, GP):
        denied("LC-8", rec.store.records.read, actor, document_id)
        denied("LC-8", rec.store.records.read, actor, document_id, mode="emergency")
    denied("LC-8", rec.deposit, actor=GP)


def test_an_heir_reads_a_deceased_holders_archive_read_only_lc_11(rec: Record) -> None:
    document_id = rec.deposit()
    heir = actor_from({"kind": "heir", "heir_id": "fils-aine"}, None)
    with pytest.raises(RuleViolation):
        rec.store.records.grant_heir_access(
            rec.espace_id, {"heir_id": "fils-aine", "relationship": "heir"}
        )
    rec.clock.advance(days=1)
    rec.store.lifecycle.declare_death(rec.espace_id, {"date_of_death": "2027-01-05"})
    denied("LC-11", rec.store.records.read, heir, document_id)
    with pytest.raises(InvalidInput):
        rec.store.records.grant_heir_access(
            rec.espace_id, {"heir_id": "x", "relationship": "friend"}
        )
    rec.store.records.grant_heir_access(
        rec.espace_id, {"heir_id": "fils-aine", "relationship": "heir"}
    )
    assert rec.store.records.read(heir, document_id)["ground"] == "heir"
    assert rec.listed(heir) == {document_id}
    denied("LC-11", rec.store.records.delete, heir, document_id)
    other = actor_from({"kind": "heir", "heir_id": "cousin"}, None)
    denied("LC-11", rec.store.records.read, other, document_id)
    denied("LC-11", rec.store.records.read, rec.holder, document_id)


# --------------------------------------------------------------------- SEC-4


def test_erasure_makes_documents_not_found_and_removes_every_trace_of_them_sec_4(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    rec = make_record(store, clock, people, helpers)
    kept = make_record(store, clock, people, helpers)
    document_id = rec.deposit(title=TITLE, content=CONTENT)
    rec.clock.advance(hours=1)
    store.records.replace(PHYSICIAN, document_id, rec.meta(), b"v2")
    store.records.read(STRANGER, document_id, mode="emergency")
    hidden = rec.deposit(hidden_from_holder=True)
    survivor = kept.deposit()
    assert rows(store, contents_table, rec.espace_id)
    assert store.records.pending_notifications(rec.espace_id)

    clock.advance(days=1)
    store.lifecycle.request_erasure(rec.espace_id)
    report = store.run_deadlines()
    assert report["done"] == {"erasure": 1}

    for target in (document_id, hidden):
        with pytest.raises(NotFound):
            store.records.read(rec.holder, target)
        with pytest.raises(NotFound):
            store.records.read(GP, target)
        with pytest.raises(NotFound):
            store.records.history(rec.holder, target)
    with pytest.raises(NotFound):
        store.records.list_documents(rec.holder, rec.espace_id)
    for table in ESPACE_VIEWS:
        assert rows(store, table, rec.espace_id) == [], table.name
    assert rows(store, contents_table, rec.espace_id) == []
    assert store.views.documents.get(document_id) is None
    assert store.views.documents.history(document_id) == []
    assert store.views.journal.count(rec.espace_id) == 0
    # the other espace is untouched
    assert store.records.read(kept.holder, survivor)["ground"] == "holder"
    assert kept.traces() > 0
    # and a rebuild from the log does not bring anything back
    store.rebuild_views()
    for table in ESPACE_VIEWS:
        assert rows(store, table, rec.espace_id) == [], table.name


# --------------------------------------------------------------------- rebuild


def test_rebuilding_the_views_equals_keeping_them_up_to_date(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    rec = make_record(store, clock, people, helpers)
    a = rec.deposit()
    b = rec.deposit(actor=NURSE, category="care_plan", hidden_from_holder=True)
    c = rec.deposit(category="imaging")
    rec.clock.advance(hours=1)
    store.records.replace(PHYSICIAN, a, rec.meta(title="v2"), b"v2")
    store.records.mask(rec.holder, c)
    store.records.delete(PHYSICIAN, c)
    store.records.read(STRANGER, a, mode="emergency")
    with pytest.raises(RuleViolation):
        store.records.read(STRANGER, a)
    choose(rec, "block", NURSE)
    choose(rec, "refuse-samu")
    alert = store.records.pending_notifications(rec.espace_id)[0]
    store.records.deliver_notification(alert["alert_id"])
    clock.advance(days=15)
    store.run_deadlines()
    assert store.records.history(PHYSICIAN, a)
    rec.listed(rec.holder)
    other = make_record(store, clock, people, helpers)
    other.deposit(hidden_from_representatives=True)
    assert b

    incremental = snapshot(store)
    assert incremental["view_documents"]
    assert incremental["view_notifications"]
    store.rebuild_views()
    assert snapshot(store) == incremental


@pytest.fixture
def unsynced(store_url: str, clock: Any, helpers: Any) -> Iterator[Store]:
    with helpers.fresh_store(store_url, clock, sync_views=False) as opened:
        yield opened


def test_views_catch_up_after_writes_made_without_syncing(
    unsynced: Store, clock: Any, people: Any, helpers: Any
) -> None:
    rec = make_record(unsynced, clock, people, helpers)
    document_id = rec.deposit()
    assert unsynced.views.documents.get(document_id) is None
    unsynced.sync()
    assert unsynced.views.documents.get(document_id) is not None
    assert rec.traces() == 4
