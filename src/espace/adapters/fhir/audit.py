"""The AuditEvents of the FHIR export (ADR-0031, ACC-6): one per trace, in
IHE BALP's RESTful shape where it fits.
"""

from __future__ import annotations

from typing import Any

from espace.adapters.fhir.common import (
    ACT_REASON,
    AUDIT_TYPE,
    ENTITY_TYPE,
    ESPACE_CS,
    GROUND_SYSTEM,
    OBJECT_ROLE,
    PARTICIPATION,
    RESTFUL,
    URI,
    coding,
    concept,
    instant,
    member,
    patient_ref,
    practitioner_ref,
    urn,
)
from espace.application.export import EspaceSnapshot
from espace.domain.actors import Action, ActorKind, Ground, Mode
from espace.domain.trace import OPERATOR, AccessTrace

AUDIT_ACTION = {
    Action.DEPOSIT: ("C", "create"),
    Action.UPLOAD: ("C", "create"),
    Action.DELETE: ("D", "delete"),
    Action.READ: ("R", "read"),
    Action.LIST: ("R", "search-type"),
    Action.JOURNAL: ("R", "history-instance"),
    Action.PROFILE: ("R", "read"),
    Action.EXPORT: ("R", "search-system"),
}
"""ACC-6: a trace's action as an AuditEvent action and its BALP RESTful
subtype; every other action changes the record (``U``, ``update``)."""

PURPOSE = {
    Mode.CARE: ("TREAT", "treatment"),
    Mode.EMERGENCY: ("ETREAT", "emergency treatment"),
    Mode.SAMU: ("ETREAT", "emergency treatment"),
}
"""ACC-5, ACC-7: care is the only purpose; emergencies are ``ETREAT``."""
HOLDER_PURPOSE = ("PATRQT", "patient requested")
HOLDER_GROUNDS = frozenset({Ground.HOLDER, Ground.LEGAL_REPRESENTATIVE, Ground.HEIR})


def audit_event(s: EspaceSnapshot, trace: AccessTrace) -> dict[str, Any]:
    """ACC-6: who, what, when, the outcome, the ground as purposeOfEvent
    (IHE BALP's RESTful shape where it fits)."""
    facts = trace.facts
    action = member(Action, facts.action)
    code, interaction = (
        AUDIT_ACTION.get(action, ("U", "update"))
        if action is not None
        else ("E", "operation")
    )
    mode = member(Mode, facts.mode) or Mode.CARE
    purpose = [coding(*_purpose(mode, facts.ground))]
    if facts.ground:
        purpose.append(coding(GROUND_SYSTEM, facts.ground))
    outcome = "0" if facts.allowed else "4"
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(trace.id),
        "type": coding(AUDIT_TYPE, "rest", "RESTful Operation"),
        "subtype": [
            coding(RESTFUL, interaction),
            coding(ESPACE_CS + "action", facts.action),
        ],
        "action": code,
        "recorded": instant(trace.created_on),
        "outcome": outcome,
        "purposeOfEvent": [{"coding": purpose}],
        "agent": [_agent(s, facts.actor_kind, facts.actor_id, facts.actor_profession)],
        "source": {"observer": {"display": "espace"}},
        "entity": [
            {
                "what": patient_ref(s),
                "type": coding(ENTITY_TYPE, "1", "Person"),
                "role": coding(OBJECT_ROLE, "1", "Patient"),
            }
        ],
    }
    desc = "; ".join(
        x
        for x in (
            f"{facts.rule}: {facts.reason}" if facts.rule else facts.reason,
            facts.detail,
        )
        if x
    )
    if desc:
        event["outcomeDesc"] = desc
    if facts.document_id is not None:
        what: dict[str, Any] = {
            "type": "DocumentReference",
            "identifier": {"system": URI, "value": urn(facts.document_id)},
        }
        entity: dict[str, Any] = {
            "what": what,
            "type": coding(ENTITY_TYPE, "2", "System Object"),
            "role": coding(OBJECT_ROLE, "3", "Report"),
        }
        if facts.version_id is not None:
            entity["detail"] = [
                {"type": "version", "valueString": urn(facts.version_id)}
            ]
        event["entity"].append(entity)
    return event


def _purpose(mode: Mode, ground: str | None) -> tuple[str, str, str]:
    if ground in HOLDER_GROUNDS:
        return (ACT_REASON, *HOLDER_PURPOSE)
    return (ACT_REASON, *PURPOSE[mode])


def _agent(
    s: EspaceSnapshot, kind: str, ident: str, profession: str | None
) -> dict[str, Any]:
    """Who acted: a Practitioner by IdNatPS, the Patient, or a name."""
    agent: dict[str, Any] = {"requestor": True}
    if kind == ActorKind.PROFESSIONAL:
        agent["who"] = practitioner_ref(ident)
        agent["type"] = concept(PARTICIPATION, "AUT", "author (originator)")
        if profession:
            agent["role"] = [{"text": profession}]
    elif kind == ActorKind.HOLDER:
        agent["who"] = patient_ref(s)
        agent["type"] = concept(PARTICIPATION, "IRCP", "information recipient")
    elif kind == ActorKind.REPRESENTATIVE:
        agent["who"] = {"display": "the holder's legal representative"}
        agent["type"] = concept(PARTICIPATION, "IRCP", "information recipient")
    else:
        agent["who"] = {"display": f"{kind}: {ident}" if kind != ident else kind}
        agent["type"] = concept(
            PARTICIPATION, "CST" if kind == OPERATOR else "IRCP", kind
        )
    return agent
