"""The FHIR export of an espace (issue 13, ADR-0031), on SQLite and
PostgreSQL: every resource of a real export validates against its R4B
model; the INS, the IdNatPS, the contents' SHA-1 and size, the DOC-5
security labels, the DOC-3 versions in ``relatesTo``, the DOC-4 deleted
documents, the consent's provisions (ACC-1, ACC-2, ACC-4, ACC-5), one
AuditEvent per trace (ACC-6); the export as of an instant; its own trace in
the holder's journal; and bad input.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from espace import Actor, InvalidInput, NotFound, RuleViolation, Store
from espace.application.messaging import NewFile
from espace.domain.identifiers import NIR_OID
from fhir_check import assert_complete, validated_kinds
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

OPERATOR = "support-cnam"


@pytest.fixture
def rec(store: Store, clock: Any, people: Any, helpers: Any) -> Record:
    return make_record(store, clock, people, helpers)


def entries(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind
    ]


def by_id(bundle: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in entries(bundle, kind)}


def test_every_resource_of_a_real_export_validates_against_its_r4b_model_acc_6(
    rec: Record,
) -> None:
    rec.deposit(title="Compte rendu")
    bundle = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    assert_complete(json.loads(json.dumps(bundle)))
    assert len({e["fullUrl"] for e in bundle["entry"]}) == len(bundle["entry"])


def test_the_patient_carries_the_ins_and_its_five_traits_id_2(rec: Record) -> None:
    bundle = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    (patient,) = entries(bundle, "Patient")
    row = rec.person.row
    (ins,) = patient["identifier"]
    assert ins["system"] == f"urn:oid:{NIR_OID}"
    assert ins["value"] == row["nir"]
    assert ins["type"]["coding"][0]["code"] == "INS-NIR"
    assert patient["name"][0]["family"] == row["birth_name"]
    assert patient["name"][0]["given"] == row["first_names"].split()
    assert patient["birthDate"] == row["birth_date"]
    assert patient["gender"] == "female"
    (place,) = patient["extension"]
    code = place["valueAddress"]["extension"][0]["valueCoding"]["code"]
    assert code == row["birthplace_code"]


def test_a_minors_legal_representative_is_a_contact_of_the_patient_lc_12(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    child = people.make(birth_date=date(2019, 3, 2), minor_representative=True)
    helpers.affiliate(store, child)
    espace_id = store.lifecycle.espace_id_for(child.nir)
    bundle = store.export.fhir(espace_id, operator=OPERATOR)
    (patient,) = entries(bundle, "Patient")
    (contact,) = patient["contact"]
    assert contact["name"]["text"] == child.row["representative_name"]
    assert contact["relationship"][0]["text"] == "parent"
    assert contact["telecom"][0]["value"] == child.row["representative_email"]


def test_a_document_reference_has_its_type_author_content_hash_and_size_doc_1(
    rec: Record,
) -> None:
    content = "Compte rendu de consultation — tension normale.".encode()
    document_id = rec.deposit(content=content, title="Consultation")
    bundle = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    doc = by_id(bundle, "DocumentReference")[str(document_id)]
    assert doc["status"] == "current"
    assert doc["type"]["coding"][0] == {"system": "http://loinc.org", "code": "11488-4"}
    assert doc["category"][0]["coding"][0]["code"] == "report"
    attachment = doc["content"][0]["attachment"]
    assert base64.b64decode(attachment["data"]) == content
    assert attachment["size"] == len(content)
    sha1 = base64.b64encode(hashlib.sha1(content).digest()).decode()
    assert attachment["hash"] == sha1
    (author,) = doc["author"]
    assert author["identifier"]["value"] == PHYSICIAN.id
    practitioners = {
        p["identifier"][0]["value"]: p for p in entries(bundle, "Practitioner")
    }
    assert author["reference"] == f"urn:uuid:{practitioners[PHYSICIAN.id]['id']}"
    assert "period" in doc["context"]
    assert "securityLabel" not in doc


def test_each_doc_5_flag_is_a_security_label_doc_5(rec: Record) -> None:
    masked = rec.deposit(title="Masqué")
    rec.store.records.mask(rec.holder, masked)
    hidden = rec.deposit(title="Caché", hidden_from_holder=True)
    bundle = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    docs = by_id(bundle, "DocumentReference")

    def labels(document_id: UUID) -> set[str]:
        return {
            c["code"]
            for label in docs[str(document_id)].get("securityLabel", [])
            for c in label["coding"]
        }

    assert labels(masked) == {"masked_from_professionals"}
    assert labels(hidden) == {"hidden_from_holder"}


def test_the_holders_own_export_leaves_out_what_is_hidden_from_them_doc_5(
    rec: Record,
) -> None:
    seen = rec.deposit(title="Visible")
    hidden = rec.deposit(title="Caché", hidden_from_holder=True)
    rec.clock.advance(minutes=1)
    bundle = rec.store.export.fhir(rec.espace_id, actor=rec.holder)
    docs = by_id(bundle, "DocumentReference")
    assert str(seen) in docs
    assert str(hidden) not in docs


def test_replaced_versions_are_in_relates_to_and_with_history_resources_doc_3(
    rec: Record,
) -> None:
    document_id = rec.deposit(title="Bilan v1")
    first = rec.store.views.documents.history(document_id)[0]["version_id"]
    rec.clock.advance(minutes=1)
    rec.store.records.replace(
        PHYSICIAN, document_id, rec.meta(title="Bilan v2"), b"version 2"
    )
    bundle = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    doc = by_id(bundle, "DocumentReference")[str(document_id)]
    assert doc["description"] == "Bilan v2"
    assert base64.b64decode(doc["content"][0]["attachment"]["data"]) == b"version 2"
    (relation,) = doc["relatesTo"]
    assert relation["code"] == "replaces"
    assert relation["target"]["identifier"]["value"] == f"urn:uuid:{first}"
    assert str(first) not in by_id(bundle, "DocumentReference")
    full = rec.store.export.fhir(rec.espace_id, operator=OPERATOR, with_history=True)
    older = by_id(full, "DocumentReference")[str(first)]
    assert older["status"] == "superseded"
    assert older["masterIdentifier"]["value"] == f"urn:uuid:{first}"


def test_a_deleted_document_is_left_out_unless_with_history_doc_4(
    rec: Record,
) -> None:
    document_id = rec.deposit(title="Erreur")
    rec.clock.advance(minutes=1)
    rec.store.records.delete(PHYSICIAN, document_id)
    bundle = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    assert str(document_id) not in by_id(bundle, "DocumentReference")
    full = rec.store.export.fhir(rec.espace_id, operator=OPERATOR, with_history=True)
    doc = by_id(full, "DocumentReference")[str(document_id)]
    assert doc["status"] == "entered-in-error"


def test_the_consent_holds_each_choice_as_a_provision_acc_1_acc_2_acc_4_acc_5(
    rec: Record,
) -> None:
    choose(rec, "block", STRANGER)
    choose(rec, "refuse-emergency")
    bundle = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    (consent,) = entries(bundle, "Consent")
    rules = consent["provision"]["provision"]
    by_role = {
        (r["type"], r["actor"][0]["role"]["coding"][0]["code"]): r["actor"][0][
            "reference"
        ]["identifier"]["value"]
        for r in rules
        if "actor" in r
    }
    assert by_role == {
        ("permit", "medecin-traitant"): GP.id,
        ("permit", "authorised"): PHYSICIAN.id,
        ("permit", "care-team"): NURSE.id,
        ("deny", "blocked"): STRANGER.id,
    }
    (emergency,) = [r for r in rules if "purpose" in r]
    assert emergency["type"] == "deny"
    assert {c["code"] for c in emergency["purpose"]} == {"ETREAT", "emergency"}


def test_every_trace_is_an_audit_event_with_its_outcome_and_ground_acc_6(
    rec: Record,
) -> None:
    document_id = rec.deposit()
    rec.clock.advance(minutes=1)
    with pytest.raises(RuleViolation):
        rec.store.records.read(STRANGER, document_id)
    rows = rec.store.views.journal.of_espace(rec.espace_id, limit=1000)
    bundle = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    events = by_id(bundle, "AuditEvent")
    assert {str(r["trace_id"]) for r in rows} == set(events)
    outcomes = Counter(e["outcome"] for e in events.values())
    assert outcomes["4"] >= 1  # the stranger's denied read
    deposit = next(
        e
        for e in events.values()
        if any(c.get("code") == "deposit" for c in e["subtype"])
    )
    assert deposit["action"] == "C"
    assert deposit["agent"][0]["who"]["identifier"]["value"] == PHYSICIAN.id
    purposes = {c["code"] for c in deposit["purposeOfEvent"][0]["coding"]}
    assert "TREAT" in purposes
    assert any(
        e.get("what", {}).get("identifier", {}).get("value")
        == f"urn:uuid:{document_id}"
        for e in deposit["entity"]
    )


def test_every_export_is_traced_in_the_holders_journal_acc_6(rec: Record) -> None:
    before = rec.traces()
    rec.clock.advance(minutes=1)
    rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    rec.clock.advance(minutes=1)
    rec.store.export.fhir(rec.espace_id, actor=rec.holder)
    assert rec.traces() == before + 2
    again = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    exports = [
        e
        for e in entries(again, "AuditEvent")
        if any(c.get("code") == "export" for c in e["subtype"])
    ]
    whom = sorted(e["agent"][0]["who"].get("display", "holder") for e in exports)
    assert whom == ["holder", f"operator: {OPERATOR}"]


def test_a_professional_may_not_export_and_the_attempt_is_traced_acc_6(
    rec: Record,
) -> None:
    before = rec.traces()
    with pytest.raises(RuleViolation) as caught:
        rec.store.export.fhir(rec.espace_id, actor=GP)
    assert caught.value.rule == "ACC-6"
    assert rec.traces() == before + 1


def test_an_export_as_of_an_instant_holds_only_what_was_then_doc_3(
    rec: Record,
) -> None:
    early = rec.deposit(title="Avant")
    rec.clock.advance(minutes=1)
    then = rec.clock.now
    rec.clock.advance(minutes=1)
    rec.store.records.replace(PHYSICIAN, early, rec.meta(title="Après"), b"v2")
    late = rec.deposit(title="Plus tard")
    bundle = rec.store.export.fhir(rec.espace_id, operator=OPERATOR, as_of=then)
    docs = by_id(bundle, "DocumentReference")
    assert str(late) not in docs
    assert docs[str(early)]["description"] == "Avant"
    assert "relatesTo" not in docs[str(early)]
    assert datetime.fromisoformat(bundle["timestamp"]) == then
    recorded = [
        datetime.fromisoformat(e["recorded"]) for e in entries(bundle, "AuditEvent")
    ]
    assert recorded
    assert max(recorded) <= then


def test_a_professional_the_directory_does_not_list_gets_a_bare_practitioner_pro_2(
    store_url: str, store_env: dict[str, str], clock: Any, people: Any, helpers: Any
) -> None:
    """ADR-0031's fallback: a store without a directory (require_directory
    off) still exports its authors, as a Practitioner with the IdNatPS alone."""
    helpers.fresh_store(store_url, clock, environ=store_env).__enter__().close()
    with Store.open(
        store_url, clock=clock, environ=store_env, require_directory=False
    ) as store:
        person = people.make()
        helpers.affiliate(store, person)
        helpers.notify(store, person)
        clock.advance(days=1)
        store.lifecycle.activate(person.activation())
        rec = Record(store, clock, person.espace_id, person)
        choose(rec, "grant", STRANGER)
        rec.deposit(STRANGER, "dispensation", loinc_code="60593-1")
        bundle = store.export.fhir(rec.espace_id, operator=OPERATOR)
    (practitioner,) = entries(bundle, "Practitioner")
    assert practitioner["identifier"][0]["value"] == STRANGER.id
    assert "name" not in practitioner
    assert practitioner["meta"]["tag"][0]["code"] == "not-in-directory"
    assert entries(bundle, "PractitionerRole") == []


def test_bad_input_is_a_clear_error_never_a_traceback(rec: Record) -> None:
    export = rec.store.export
    with pytest.raises(NotFound):
        export.fhir(uuid4(), operator=OPERATOR)
    with pytest.raises(InvalidInput) as caught:
        export.fhir(rec.espace_id, operator=OPERATOR, as_of="yesterday")  # type: ignore[arg-type]
    assert "as_of" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        export.fhir(
            rec.espace_id, operator=OPERATOR, as_of=rec.clock.now + timedelta(days=1)
        )
    assert "as_of" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        export.fhir(rec.espace_id)
    assert "actor" in caught.value.fields
    with pytest.raises(InvalidInput):
        export.fhir(rec.espace_id, operator=" ")


def test_the_representatives_export_leaves_out_what_is_hidden_from_them_doc_5(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    """LC-12, DOC-5: a minor's confidential care is not in the export their
    legal representative takes; the operator's labels it."""
    list_the_cast(store)
    child = people.make(birth_date=date(2012, 3, 2), minor_representative=True)
    helpers.affiliate(store, child)
    helpers.notify(store, child)
    clock.advance(days=1)
    store.lifecycle.activate(child.activation())
    rec = Record(store, clock, child.espace_id, child)
    representative = Actor.representative(child.espace_id)
    clock.advance(minutes=1)
    store.records.consent(
        representative,
        child.espace_id,
        "grant",
        {"idnatps": PHYSICIAN.id, "profession": "physician"},
    )
    shared = rec.deposit(title="Vaccins")
    confidential = rec.deposit(title="Consultation confidentielle")
    clock.advance(minutes=1)
    store.records.hide_from_representatives(PHYSICIAN, confidential)
    clock.advance(minutes=1)
    theirs = by_id(
        store.export.fhir(child.espace_id, actor=representative), "DocumentReference"
    )
    assert set(theirs) == {str(shared)}
    everything = by_id(
        store.export.fhir(child.espace_id, operator=OPERATOR), "DocumentReference"
    )
    labels = everything[str(confidential)]["securityLabel"]
    assert labels[0]["coding"][0]["code"] == "hidden_from_representatives"


def test_an_erased_espace_has_nothing_left_to_export_lc_9_sec_4(
    rec: Record,
) -> None:
    rec.deposit()
    rec.clock.advance(minutes=1)
    rec.store.lifecycle.request_erasure(rec.espace_id)
    rec.clock.advance(minutes=1)
    rec.store.lifecycle.erase(rec.espace_id)
    rec.clock.advance(minutes=1)
    with pytest.raises(NotFound) as caught:
        rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    assert "erased" in str(caught.value)


def test_an_export_that_does_not_validate_writes_and_traces_nothing_acc_6(
    rec: Record, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR-0031: every resource is validated before anything is returned; a
    bad one is an error naming the resource and the element."""
    from espace.adapters.fhir import ExportInvalid, bundle, patient

    real = patient.patient_resource

    def broken(snapshot: Any) -> dict[str, Any]:
        return {**real(snapshot), "birthDate": "the fourteenth of June"}

    monkeypatch.setattr(bundle, "patient_resource", broken)
    before = rec.traces()
    with pytest.raises(ExportInvalid) as caught:
        rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    assert f"Patient/{rec.espace_id}: birthDate" in str(caught.value)
    assert rec.traces() == before


def test_messages_appointments_and_the_profile_are_exported_msg_4_ag_1_pro_1(
    rec: Record,
) -> None:
    """MSG-1..MSG-4: a Communication per message; AG-1: an Appointment per
    agenda entry; PRO-1: an Observation per measurement, and an
    AllergyIntolerance, a Condition, a MedicationStatement and an
    Immunization per entry; the trusted person a contact."""
    store, holder, now = rec.store, rec.holder, rec.clock.now
    report = rec.deposit(title="Résultats")
    rec.clock.advance(minutes=1)
    opened = store.messaging.open(
        PHYSICIAN,
        rec.espace_id,
        {"subject": "Vos résultats", "body": "Bonjour, voici vos résultats."},
        files=[NewFile("ordonnance.pdf", "application/pdf", b"%PDF-1.4 ordonnance")],
        documents=[report],
    )
    rec.clock.advance(minutes=5)
    store.messaging.read(holder, UUID(opened["conversation_id"]))
    store.messaging.reply(holder, UUID(opened["conversation_id"]), {"body": "Merci"})
    store.agenda.schedule(
        holder,
        rec.espace_id,
        {
            "with_professional": GP.id,
            "starts_at": (now + timedelta(days=7)).isoformat(),
            "place": "Cabinet du Parc",
            "reason": "Suivi",
        },
    )
    store.agenda.schedule(
        holder,
        rec.espace_id,
        {
            "with": "Kiné du quartier",
            "starts_at": (now + timedelta(days=9)).isoformat(),
        },
    )
    profile = store.profile
    profile.record_measurements(
        holder, rec.espace_id, {"height_cm": "168", "weight_kg": "61.5"}
    )
    profile.record_allergy(
        holder, rec.espace_id, {"substance": "Pénicilline", "severity": "severe"}
    )
    profile.record_condition(holder, rec.espace_id, {"name": "Asthme"})
    profile.record_treatment(
        holder, rec.espace_id, {"name": "Ventoline", "dosage": "2 bouffées"}
    )
    profile.record_vaccination(
        holder, rec.espace_id, {"vaccine": "Grippe", "given_on": "2026-10-15"}
    )
    profile.designate_trusted_person(
        holder,
        rec.espace_id,
        {"name": "Paul Martin", "relationship": "spouse", "phone": "06 01 02 03 04"},
    )
    rec.clock.advance(minutes=1)

    bundle = store.export.fhir(rec.espace_id, actor=holder)
    kinds = validated_kinds(bundle)
    assert kinds["Communication"] == 2
    assert kinds["Appointment"] == 2
    assert kinds["Observation"] == 2
    for kind in (
        "AllergyIntolerance",
        "Condition",
        "MedicationStatement",
        "Immunization",
    ):
        assert kinds[kind] == 1, kinds
    first, reply = sorted(entries(bundle, "Communication"), key=lambda c: c["sent"])
    assert first["sender"]["identifier"]["value"] == PHYSICIAN.id
    assert first["topic"]["text"] == "Vos résultats"
    assert "received" in first
    targets = [
        p["contentReference"] for p in first["payload"] if "contentReference" in p
    ]
    assert targets[0]["identifier"]["value"] == f"urn:uuid:{report}"
    files = [
        p["contentAttachment"] for p in first["payload"] if "contentAttachment" in p
    ]
    assert files[0]["title"] == "ordonnance.pdf"
    assert reply["sender"]["reference"] == f"urn:uuid:{rec.espace_id}"
    with_gp = next(
        a
        for a in entries(bundle, "Appointment")
        if any(
            p["actor"].get("identifier", {}).get("value") == GP.id
            for p in a["participant"]
        )
    )
    assert with_gp["status"] == "booked"
    assert with_gp["reasonCode"][0]["text"] == "Suivi"
    weights = [
        o["valueQuantity"]
        for o in entries(bundle, "Observation")
        if o["code"]["coding"][0]["code"] == "29463-7"
    ]
    assert weights == [
        {
            "value": 61.5,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        }
    ]
    (allergy,) = entries(bundle, "AllergyIntolerance")
    assert allergy["criticality"] == "high"
    (patient,) = entries(bundle, "Patient")
    assert [c["name"]["text"] for c in patient["contact"]] == ["Paul Martin"]
