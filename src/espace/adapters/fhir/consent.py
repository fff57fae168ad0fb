"""The Consent of the FHIR export (ADR-0031): the holder's choices as
provision rules (ACC-1, ACC-2, ACC-4, ACC-5).
"""

from __future__ import annotations

from typing import Any

from espace.adapters.fhir.common import (
    ACT_CODE,
    ACT_REASON,
    CONSENT_SCOPE,
    LOINC,
    ROLE_SYSTEM,
    coding,
    concept,
    instant,
    patient_ref,
    practitioner_ref,
)
from espace.application.export import EspaceSnapshot
from espace.domain.consent import Consent


def consent_resource(s: EspaceSnapshot, consent: Consent) -> dict[str, Any]:
    """ACC-1, ACC-2, ACC-4, ACC-5: the holder's choices as provision rules."""
    state = consent.state
    rules: list[dict[str, Any]] = []

    def actor_rule(kind: str, role: str, display: str, ids: set[str]) -> None:
        rules.extend(
            {
                "type": kind,
                "actor": [
                    {
                        "role": concept(ROLE_SYSTEM, role, display),
                        "reference": practitioner_ref(idnatps),
                    }
                ],
            }
            for idnatps in sorted(ids)
        )

    if state.medecin_traitant is not None:
        actor_rule(
            "permit",
            "medecin-traitant",
            "médecin traitant (ACC-4)",
            {state.medecin_traitant},
        )
    actor_rule(
        "permit",
        "authorised",
        "authorised by the holder (ACC-1)",
        set(state.authorised),
    )
    actor_rule("permit", "care-team", "care team (ACC-1)", set(state.care_team))
    actor_rule("deny", "blocked", "blocked by the holder (ACC-2)", set(state.blocked))
    for refused, code, display in (
        (state.emergency_refused, "emergency", "emergency access refused (ACC-5)"),
        (state.samu_refused, "samu", "access by the SAMU regulator refused (ACC-5)"),
    ):
        if refused:
            rules.append(
                {
                    "type": "deny",
                    "purpose": [
                        coding(ACT_REASON, "ETREAT", "emergency treatment"),
                        coding(ROLE_SYSTEM, code, display),
                    ],
                }
            )
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": str(consent.id),
        "status": "active",
        "scope": concept(CONSENT_SCOPE, "patient-privacy", "Privacy Consent"),
        "category": [concept(LOINC, "59284-0", "Patient Consent")],
        "patient": patient_ref(s),
        "dateTime": instant(consent.modified_on),
        "policyRule": concept(ACT_CODE, "OPTIN", "opt-in"),
        "provision": {"type": "deny"} | ({"provision": rules} if rules else {}),
    }
    return resource
