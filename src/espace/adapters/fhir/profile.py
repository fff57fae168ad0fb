"""The medical profile in the FHIR export (ADR-0031, PRO-1): what the holder
says of themselves, an Observation per measurement and an
AllergyIntolerance, a Condition, a MedicationStatement or an Immunization
per entry, each self-reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid5

from espace.adapters.fhir.common import (
    ALLERGY_STATUS,
    CLINICAL_STATUS,
    LOINC,
    OBSERVATION_CATEGORY,
    UCUM,
    concept,
    day,
    instant,
    patient_ref,
)
from espace.application.export import EspaceSnapshot
from espace.domain.profile import MedicalProfile

MEASUREMENTS = (
    ("height_cm", "8302-2", "Body height", "cm"),
    ("weight_kg", "29463-7", "Body weight", "kg"),
)
"""PRO-1: the profile's measurements, their LOINC codes and UCUM units."""


def profile_resources(
    s: EspaceSnapshot, profile: MedicalProfile
) -> Iterator[dict[str, Any]]:
    """PRO-1: what the holder says of themselves, each a resource whose
    ``recorder``/``informationSource`` is the Patient (self-reported)."""
    patient = patient_ref(s)
    for attr, code, display, unit in MEASUREMENTS:
        value = getattr(profile, attr)
        if value is None or profile.measured_at is None:
            continue
        yield {
            "resourceType": "Observation",
            "id": str(uuid5(profile.id, attr)),
            "status": "final",
            "category": [concept(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
            "code": concept(LOINC, code, display),
            "subject": patient,
            "effectiveDateTime": instant(profile.measured_at),
            "performer": [patient],
            "valueQuantity": {
                "value": float(value),
                "unit": unit,
                "system": UCUM,
                "code": unit,
            },
        }
    for entry_id, allergy in profile.allergies.items():
        resource: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "id": str(entry_id),
            "clinicalStatus": concept(ALLERGY_STATUS, "active"),
            "code": {"text": allergy["substance"]},
            "patient": patient,
            "recordedDate": instant(allergy["since"]),
            "recorder": patient,
        }
        if allergy["severity"] == "severe":
            resource["criticality"] = "high"
        elif allergy["severity"] in ("mild", "moderate"):
            resource["criticality"] = "low"
        if allergy.get("reaction"):
            severity = allergy["severity"] if allergy["severity"] != "unknown" else None
            reaction: dict[str, Any] = {
                "manifestation": [{"text": allergy["reaction"]}]
            }
            if severity:
                reaction["severity"] = severity
            resource["reaction"] = [reaction]
        yield resource
    for entry_id, condition in profile.conditions.items():
        resource = {
            "resourceType": "Condition",
            "id": str(entry_id),
            "clinicalStatus": concept(CLINICAL_STATUS, "active"),
            "code": {"text": condition["name"]},
            "subject": patient,
            "recorder": patient,
        }
        if condition.get("diagnosed_on"):
            resource["onsetDateTime"] = day(condition["diagnosed_on"])
        yield resource
    for entry_id, treatment in profile.treatments.items():
        resource = {
            "resourceType": "MedicationStatement",
            "id": str(entry_id),
            "status": "active",
            "medicationCodeableConcept": {"text": treatment["name"]},
            "subject": patient,
            "informationSource": patient,
        }
        if treatment.get("started_on"):
            resource["effectivePeriod"] = {"start": day(treatment["started_on"])}
        if treatment.get("dosage"):
            resource["dosage"] = [{"text": treatment["dosage"]}]
        yield resource
    for entry_id, vaccination in profile.vaccinations.items():
        resource = {
            "resourceType": "Immunization",
            "id": str(entry_id),
            "status": "completed",
            "vaccineCode": {"text": vaccination["vaccine"]},
            "patient": patient,
            "occurrenceDateTime": day(vaccination["given_on"]),
            "primarySource": False,
            "reportOrigin": {"text": "reported by the holder (PRO-1)"},
        }
        if vaccination.get("dose"):
            resource["protocolApplied"] = [{"doseNumberString": vaccination["dose"]}]
        yield resource
