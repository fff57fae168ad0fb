"""The import of a legacy DMP (issue 13, LC-6, ADR-0032), on SQLite and
PostgreSQL: a FHIR Bundle of one person's DocumentReferences is merged into
their open espace, each document deposited with its author and traced
(DOC-1, DOC-2, ACC-6); the same bundle twice adds nothing; a bundle with any
bad entry is refused whole, naming the entry and the element, and nothing
is written; an espace not open, or whose holder opposed, is refused (LC-6).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from espace import Actor, InvalidInput, NotFound, RuleViolation, Store
from espace.application.record_base import default_matrix_text, default_types_text
from espace.domain.identifiers import NIR_OID
from raw_store import rows_naming
from records_world import NURSE, PHYSICIAN, Record, make_record

OPERATOR = "support-cnam"
INS = f"urn:oid:{NIR_OID}"


@pytest.fixture
def rec(store: Store, clock: Any, people: Any, helpers: Any) -> Record:
    return make_record(store, clock, people, helpers)


@pytest.fixture
def target(rec: Record, people: Any, helpers: Any) -> Any:
    """Another person, whose espace is activated (open, LC-5)."""
    person = people.make()
    helpers.affiliate(rec.store, person)
    helpers.notify(rec.store, person)
    rec.clock.advance(minutes=1)
    rec.store.lifecycle.activate(person.activation())
    return person


def entries(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind
    ]


def legacy_bundle(rec: Record, nir: str) -> dict[str, Any]:
    """The source espace's export, its patient now ``nir``: a legacy DMP."""
    bundle = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    for patient in entries(bundle, "Patient"):
        patient["identifier"][0]["value"] = nir
    return bundle


def documents(store: Store, espace_id: UUID) -> dict[str, dict[str, Any]]:
    """The espace's documents as its operator export shows them, by title."""
    bundle = store.export.fhir(espace_id, operator=OPERATOR)
    return {d["description"]: d for d in entries(bundle, "DocumentReference")}


def head(store: Store) -> int:
    return store.head()


def test_a_legacy_dmp_round_trips_into_an_open_espace_lc_6_doc_1(
    rec: Record, target: Any
) -> None:
    """LC-6, DOC-1, DOC-2: titles, bytes, LOINC, category, author and time
    of care come through the export and the import unchanged."""
    rec.deposit(title="Consultation", content=b"tension normale")
    rec.deposit(
        NURSE,
        category="treatment_administered",
        loinc_code="87273-9",
        title="Vaccination",
        content=b"\x00\x01 binaire",
    )
    bundle = legacy_bundle(rec, target.nir)
    rec.clock.advance(minutes=1)

    report = rec.store.imports.legacy_dmp(json.dumps(bundle), operator=OPERATOR)

    assert report.espace_id == str(target.espace_id)
    assert len(report.imported) == 2
    assert report.already_imported == []
    source = documents(rec.store, rec.espace_id)
    merged = documents(rec.store, target.espace_id)
    assert set(merged) == {"Consultation", "Vaccination"}
    for title, doc in merged.items():
        original = source[title]
        for element in ("type", "category", "context"):
            assert doc[element] == original[element], element
        assert doc["author"][0]["identifier"] == original["author"][0]["identifier"]
        got, sent = (
            doc["content"][0]["attachment"],
            original["content"][0]["attachment"],
        )
        assert base64.b64decode(got["data"]) == base64.b64decode(sent["data"])
        assert got["hash"] == sent["hash"]
        assert got["contentType"] == sent["contentType"]
    assert merged["Vaccination"]["author"][0]["identifier"]["value"] == NURSE.id
    assert merged["Consultation"]["author"][0]["identifier"]["value"] == PHYSICIAN.id


def test_each_imported_document_is_traced_in_the_holders_journal_acc_6(
    rec: Record, target: Any
) -> None:
    """ACC-6: who (the operator), what (a deposit), on which document."""
    rec.deposit(title="Consultation")
    report = rec.store.imports.legacy_dmp(
        legacy_bundle(rec, target.nir), operator=OPERATOR
    )
    traces = rec.store.views.journal.of_espace(target.espace_id, limit=50)
    imported = [t for t in traces if t["actor_kind"] == "operator"]
    assert len(imported) == 1
    (trace,) = imported
    assert trace["actor_id"] == OPERATOR
    assert trace["action"] == "deposit"
    assert str(trace["document_id"]) == report.imported[0]
    assert "LC-6" in trace["detail"]
    assert PHYSICIAN.id in trace["detail"]


def test_the_same_bundle_twice_adds_nothing_lc_6(rec: Record, target: Any) -> None:
    """LC-6: idempotent: the second import reports every document as
    already imported and writes no event."""
    rec.deposit(title="Consultation")
    rec.deposit(title="Bilan")
    bundle = legacy_bundle(rec, target.nir)
    first = rec.store.imports.legacy_dmp(bundle)
    before = head(rec.store)
    rec.clock.advance(minutes=1)
    second = rec.store.imports.legacy_dmp(bundle)
    assert head(rec.store) == before
    assert second.imported == []
    assert sorted(second.already_imported) == sorted(first.imported)
    assert len(documents(rec.store, target.espace_id)) == 2


def test_the_espace_named_must_be_the_bundles_patient_lc_6(
    rec: Record, target: Any
) -> None:
    rec.deposit()
    bundle = legacy_bundle(rec, target.nir)
    before = head(rec.store)
    with pytest.raises(InvalidInput) as caught:
        rec.store.imports.legacy_dmp(bundle, espace_id=rec.espace_id)
    assert "entry[0] Patient.identifier" in caught.value.fields
    assert head(rec.store) == before


def _bad(bundle: dict[str, Any], case: str) -> dict[str, Any] | str:
    """The bundle spoiled one way; returns what to import."""
    spoiled = copy.deepcopy(bundle)
    doc = entries(spoiled, "DocumentReference")[0]
    attachment = doc["content"][0]["attachment"]
    if case == "not json":
        return "{not json"
    if case == "not a bundle":
        return json.dumps({"resourceType": "Patient"})
    if case == "r4b model":
        doc["content"] = "not a list"
    elif case == "base64":
        attachment["data"] = "@@ not base64 @@"
    elif case == "hash":
        attachment["hash"] = base64.b64encode(hashlib.sha1(b"x").digest()).decode()
    elif case == "size":
        attachment["size"] = attachment["size"] + 1
    elif case == "category":
        doc["category"][0]["coding"][0]["code"] = "horoscope"
    elif case == "loinc":
        doc["type"]["coding"][0]["code"] = "99999-9"
    elif case == "patient identifier":
        for patient in entries(spoiled, "Patient"):
            patient["identifier"] = [{"system": "urn:example", "value": "x"}]
    elif case == "author":
        doc["author"] = [{"display": "Dr Nobody"}]
    return spoiled


BAD = {
    "not json": "bundle",
    "not a bundle": "bundle",
    "r4b model": "DocumentReference.content",
    "base64": "DocumentReference.content[0].attachment.data",
    "hash": "DocumentReference.content[0].attachment.hash",
    "size": "DocumentReference.content[0].attachment.size",
    "category": "DocumentReference.category",
    "loinc": "DocumentReference.type",
    "patient identifier": "Patient.identifier",
    "author": "DocumentReference.author[0]",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_bundle_names_the_entry_and_element_and_imports_nothing_doc_1(
    rec: Record, target: Any, case: str
) -> None:
    """DOC-1, LC-6: one bad entry, a clear error naming it, nothing written."""
    rec.deposit(title="Consultation")
    rec.deposit(title="Bilan")
    bundle = _bad(legacy_bundle(rec, target.nir), case)
    before = head(rec.store)
    with pytest.raises(InvalidInput) as caught:
        rec.store.imports.legacy_dmp(bundle)
    assert any(BAD[case] in key for key in caught.value.fields), caught.value.fields
    if case not in ("not json", "not a bundle"):
        assert any(k.startswith("entry[") for k in caught.value.fields)
    assert head(rec.store) == before
    assert documents(rec.store, target.espace_id) == {}


def test_a_patient_with_no_espace_is_not_found_lc_6(rec: Record, people: Any) -> None:
    rec.deposit()
    stranger = people.make()
    bundle = legacy_bundle(rec, stranger.nir)
    before = head(rec.store)
    with pytest.raises(NotFound):
        rec.store.imports.legacy_dmp(bundle)
    assert head(rec.store) == before


@pytest.fixture
def waiting(rec: Record, people: Any, helpers: Any) -> Any:
    """Another person, notified: their opposition window runs (LC-2); the
    insurer's feed declares their legacy DMP (LC-6)."""
    person = people.make(legacy_dmp_ref="DMP-55501238")
    helpers.affiliate(rec.store, person)
    person.deadline = helpers.notify(rec.store, person)
    return person


def journal_details(store: Store, espace_id: UUID) -> list[str]:
    traces = store.records.journal(Actor.holder(espace_id), espace_id)
    return [str(trace.get("detail") or "") for trace in traces]


def test_an_import_before_the_opening_is_held_then_merged_when_it_opens_lc_6_lc_4(
    rec: Record, waiting: Any
) -> None:
    """LC-6, LC-4: a legacy DMP that comes while the window runs is held
    (nothing in the record yet), and the automatic opening merges it, with
    each document's trace, in the opening's own save."""
    rec.deposit(title="Consultation", content=b"tension normale")
    rec.deposit(NURSE, loinc_code="87273-9", title="Vaccination", content=b"vaccin")
    bundle = legacy_bundle(rec, waiting.nir)
    rec.clock.advance(minutes=1)

    report = rec.store.imports.legacy_dmp(bundle, operator=OPERATOR)

    assert (report.imported, report.already_imported) == ([], [])
    assert len(report.held) == 2
    assert rec.store.lifecycle.summary(waiting.espace_id).state == "notified"
    assert rows_naming(rec.store, waiting.espace_id).get("document_contents") == 2

    rec.clock.set(waiting.deadline + timedelta(hours=1))
    done = rec.store.run_deadlines()

    assert done["done"].get("opening") == 1
    merged = documents(rec.store, waiting.espace_id)
    assert set(merged) == {"Consultation", "Vaccination"}
    assert {d["id"] for d in merged.values()} == set(report.held)
    assert (
        base64.b64decode(merged["Vaccination"]["content"][0]["attachment"]["data"])
        == b"vaccin"
    )
    assert merged["Vaccination"]["author"][0]["identifier"]["value"] == NURSE.id
    rec.store.lifecycle.activate(waiting.activation())
    details = journal_details(rec.store, waiting.espace_id)
    held = [d for d in details if "legacy DMP import (LC-6)" in d]
    assert len(held) == 2
    assert all("held since" in d for d in held)


def test_an_activation_inside_the_window_merges_the_held_import_lc_6_lc_5(
    rec: Record, waiting: Any
) -> None:
    """LC-5: activating inside the window opens at once: the held import is
    merged then."""
    rec.deposit(title="Consultation")
    rec.store.imports.legacy_dmp(legacy_bundle(rec, waiting.nir))
    rec.clock.advance(minutes=1)

    rec.store.lifecycle.activate(waiting.activation())

    assert set(documents(rec.store, waiting.espace_id)) == {"Consultation"}
    again = rec.store.imports.legacy_dmp(legacy_bundle(rec, waiting.nir))
    assert (again.imported, again.held) == ([], [])
    assert len(again.already_imported) == 1


def test_the_same_bundle_twice_before_the_opening_holds_it_once_lc_6(
    rec: Record, waiting: Any
) -> None:
    """LC-6: a held document is not held twice; a second bundle adds only
    what is new, and the opening merges each document once."""
    rec.deposit(title="Consultation")
    bundle = legacy_bundle(rec, waiting.nir)
    first = rec.store.imports.legacy_dmp(bundle)
    before = head(rec.store)
    second = rec.store.imports.legacy_dmp(bundle)
    assert head(rec.store) == before
    assert (second.held, second.already_imported) == ([], first.held)

    rec.deposit(title="Radiographie")
    third = rec.store.imports.legacy_dmp(legacy_bundle(rec, waiting.nir))
    assert len(third.held) == 1
    assert third.already_imported == first.held

    rec.clock.advance(minutes=1)
    rec.store.lifecycle.activate(waiting.activation())
    assert set(documents(rec.store, waiting.espace_id)) == {
        "Consultation",
        "Radiographie",
    }


def test_an_opposition_discards_the_held_import_and_its_bytes_lc_3_lc_6(
    rec: Record, waiting: Any
) -> None:
    """LC-3: the holder opposed, so no DMP is created: the held documents
    are never merged and their sealed bytes are deleted."""
    rec.deposit(title="Consultation", content=b"tension normale")
    rec.store.imports.legacy_dmp(legacy_bundle(rec, waiting.nir))
    assert rows_naming(rec.store, waiting.espace_id).get("document_contents") == 1
    rec.clock.advance(minutes=1)

    rec.store.lifecycle.oppose(waiting.espace_id)

    assert "document_contents" not in rows_naming(rec.store, waiting.espace_id)
    rec.clock.advance(minutes=1)
    rec.store.lifecycle.reopen(waiting.espace_id)
    assert documents(rec.store, waiting.espace_id) == {}
    with pytest.raises(RuleViolation) as caught:
        rec.store.imports.legacy_dmp(legacy_bundle(rec, waiting.nir))
    assert caught.value.rule == "LC-6"


def test_a_held_document_that_cannot_be_deposited_at_the_opening_is_named_lc_6(
    rec: Record, waiting: Any
) -> None:
    """Nothing held is dropped silently: a document whose type was withdrawn
    from the type list (DOC-1) between the import and the opening is named,
    with its rule, by the held import's ``Merged`` event; the others are
    merged and the espace opens."""
    rec.deposit(title="Consultation")
    rec.deposit(NURSE, loinc_code="87273-9", title="Vaccination")
    report = rec.store.imports.legacy_dmp(legacy_bundle(rec, waiting.nir))
    assert len(report.held) == 2
    types = "\n".join(
        line
        for line in default_types_text().splitlines()
        if not line.startswith("87273-9,")
    )
    rec.clock.advance(minutes=1)
    rec.store.records.publish_matrix(
        default_matrix_text(), "types withdrawn", types=types, allow_removals=True
    )
    rec.clock.advance(minutes=1)

    rec.store.lifecycle.activate(waiting.activation())

    assert set(documents(rec.store, waiting.espace_id)) == {"Consultation"}
    history = rec.store.audit.history(waiting.espace_id, auditor="cnil")
    merged = [
        e
        for e in history["events"]
        if (e["aggregate"], e["event"]) == ("HeldImport", "Merged")
    ]
    assert len(merged) == 1
    (reason,) = merged[0]["content"]["rejected"].values()
    assert reason.startswith("DOC-1")


def test_before_the_opening_only_a_declared_legacy_dmp_is_held_lc_6(
    rec: Record, people: Any, helpers: Any
) -> None:
    """LC-6: a legacy DMP is held before the opening only for an espace the
    insurer's feed declared one for (legacy_dmp_ref); for another, the
    import is refused with LC-6 and writes nothing."""
    rec.deposit()
    undeclared = people.make()
    helpers.affiliate(rec.store, undeclared)
    helpers.notify(rec.store, undeclared)
    bundle = legacy_bundle(rec, undeclared.nir)
    before = head(rec.store)
    with pytest.raises(RuleViolation) as caught:
        rec.store.imports.legacy_dmp(bundle)
    assert caught.value.rule == "LC-6"
    assert "legacy_dmp_ref" in str(caught.value)
    assert head(rec.store) == before
    assert "document_contents" not in rows_naming(rec.store, undeclared.espace_id)


def test_a_holder_who_opposed_gets_no_merge_lc_6_lc_3(
    rec: Record, people: Any, helpers: Any
) -> None:
    """LC-6: unless the holder opposed (LC-3)."""
    rec.deposit()
    opposed = people.make()
    helpers.affiliate(rec.store, opposed)
    helpers.notify(rec.store, opposed)
    rec.store.lifecycle.oppose(opposed.espace_id)
    bundle = legacy_bundle(rec, opposed.nir)
    before = head(rec.store)
    with pytest.raises(RuleViolation) as caught:
        rec.store.imports.legacy_dmp(bundle)
    assert caught.value.rule == "LC-6"
    assert "opposed" in str(caught.value)
    assert head(rec.store) == before


def test_an_erased_espace_is_not_found_lc_9(rec: Record, target: Any) -> None:
    rec.deposit()
    bundle = legacy_bundle(rec, target.nir)
    rec.clock.advance(minutes=1)
    rec.store.lifecycle.request_erasure(target.espace_id)
    rec.clock.advance(minutes=1)
    rec.store.lifecycle.erase(target.espace_id)
    with pytest.raises(NotFound) as caught:
        rec.store.imports.legacy_dmp(bundle)
    assert "erased" in str(caught.value)


def test_a_document_may_name_its_patient_by_subject_identifier_id_2(
    rec: Record, target: Any
) -> None:
    """ID-2: no Patient entry; each DocumentReference's subject.identifier."""
    rec.deposit(title="Consultation")
    bundle = legacy_bundle(rec, target.nir)
    docs = entries(bundle, "DocumentReference")
    for doc in docs:
        doc["subject"] = {"identifier": {"system": INS, "value": target.nir}}
    practitioners = entries(bundle, "Practitioner")
    bundle["entry"] = [
        {"resource": r} for r in docs + practitioners
    ]  # no fullUrl: the author by its identifier
    report = rec.store.imports.legacy_dmp(bundle)
    assert len(report.imported) == 1
    merged = documents(rec.store, target.espace_id)
    assert merged["Consultation"]["author"][0]["identifier"]["value"] == PHYSICIAN.id
