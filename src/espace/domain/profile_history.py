"""The medical profile's history as callers read it (PRO-1, ADR-0013): one
line per event of :class:`espace.domain.profile.MedicalProfile`, its change
named and its details as plain data.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


def describe(event: Any) -> dict[str, Any]:
    """PRO-1: one line of the profile's history, from one of its events."""
    change = _CHANGES.get(type(event).__name__, type(event).__name__)
    skip = {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "espace_id",
        "by",
    }
    details = {
        k: plain(v) for k, v in vars(event).items() if k not in skip and v is not None
    }
    return {
        "version": event.originator_version,
        "at": event.timestamp,
        "by": event.by,
        "change": change,
        "details": details,
    }


_CHANGES = {
    "Started": "profile_started",
    "MeasurementsRecorded": "measurements_recorded",
    "AllergyRecorded": "allergy_recorded",
    "AllergyRemoved": "allergy_removed",
    "ConditionRecorded": "condition_recorded",
    "ConditionRemoved": "condition_removed",
    "TreatmentRecorded": "treatment_recorded",
    "TreatmentStopped": "treatment_stopped",
    "VaccinationRecorded": "vaccination_recorded",
    "VaccinationRemoved": "vaccination_removed",
    "TrustedPersonDesignated": "trusted_person_designated",
    "TrustedPersonRevoked": "trusted_person_revoked",
}


def plain(value: Any) -> Any:
    """Plain data for callers: dates as ISO text, ids as text, numbers as floats."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value
