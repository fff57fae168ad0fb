"""The FHIR export (issue 13, ADR-0031): an espace snapshot as a FHIR R4
Bundle of type ``collection``, every resource validated by the R4B models
of ``fhir.resources`` before anything is returned.

One function per resource type builds its JSON from the snapshot; each is
validated by its model (:func:`_validated`), and the bundle is assembled
only when all of them are. A resource that does not validate is a
:class:`ExportInvalid` naming the resource and the element, and nothing is
written. The mapping choices (identifier systems, codes, labels, the
fallback for a professional the directory does not list) are ADR-0031's.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID, uuid4, uuid5

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from espace.application.export import EspaceSnapshot
from espace.domain.actors import Action, ActorKind, Ground, Mode
from espace.domain.agenda import Appointment
from espace.domain.consent import Consent
from espace.domain.directory import Professional, professional_id
from espace.domain.document_metadata import AuthorKind
from espace.domain.documents import Document
from espace.domain.errors import EspaceError
from espace.domain.identifiers import NIA_OID, NIR_OID
from espace.domain.messaging import Message
from espace.domain.profile import MedicalProfile
from espace.domain.trace import OPERATOR, AccessTrace

# ----------------------------------------------------------------- systems

IDNATPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
"""ANS: the OID of the national identifiers of professionals (IdNatPS)."""
FINESS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
"""ANS: the OID of the FINESS numbers of establishments."""
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_STATUS = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
FR_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
"""FR Core's identifier types: INS-NIR, INS-NIA, IDNPS."""
INS_TYPE = {NIR_OID: "INS-NIR", NIA_OID: "INS-NIA"}
BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE = (
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
)
COG_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
PROFESSION_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
SPECIALTY_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/"
    "TRE-R38-SpecialiteOrdinale"
)
LOINC = "http://loinc.org"
ESPACE_CS = "urn:espace:fhir:CodeSystem:"
"""Our own code systems (ADR-0031): the DMP category, the DOC-5 flags, the
grounds of a trace, the consent roles."""
CATEGORY_SYSTEM = ESPACE_CS + "dmp-category"
VISIBILITY_SYSTEM = ESPACE_CS + "doc5-visibility"
GROUND_SYSTEM = ESPACE_CS + "access-ground"
ROLE_SYSTEM = ESPACE_CS + "consent-role"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
URI = "urn:ietf:rfc:3986"

VISIBILITY = {
    "masked_from_professionals": "masked from professionals (DOC-5)",
    "hidden_from_holder": "invisible to the holder (DOC-5)",
    "hidden_from_representatives": "invisible to legal representatives (DOC-5)",
}
"""DOC-5: each flag of a document, one ``securityLabel`` each."""

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


E = TypeVar("E", bound=StrEnum)


class ExportInvalid(EspaceError):
    """A resource of the export does not validate against its FHIR model
    (ADR-0031): nothing is written. It names the resource and the element."""

    code = "export_invalid"


# ----------------------------------------------------------------- bundle


class FhirBundleWriter:
    """:class:`espace.application.export.BundleWriter` for FHIR R4 (R4B models)."""

    def bundle(self, snapshot: EspaceSnapshot) -> dict[str, Any]:
        """The Bundle: every resource validated, then the bundle itself."""
        entries = [
            {"fullUrl": _urn(UUID(resource["id"])), "resource": resource}
            for resource in map(_validated, _resources(snapshot))
        ]
        shell = _validated(
            {
                "resourceType": "Bundle",
                "id": str(uuid4()),  # each export is a bundle of its own
                "meta": {"lastUpdated": _instant(snapshot.exported_at)},
                "type": "collection",
                "timestamp": _instant(snapshot.as_of or snapshot.exported_at),
            }
        )
        return {**shell, "entry": entries}


def _resources(s: EspaceSnapshot) -> Iterator[dict[str, Any]]:
    yield _patient(s)
    for idnatps, entry in s.professionals.items():
        yield _practitioner(idnatps, entry)
        yield from _roles(idnatps, entry)
    for document in s.documents:
        yield from _document_references(s, document)
    if s.consent is not None:
        yield _consent(s, s.consent)
    for trace in s.traces:
        yield _audit_event(s, trace)
    for conversation in s.conversations:
        yield from _communications(s, conversation)
    for appointment in s.appointments:
        yield _appointment(s, appointment)
    if s.profile is not None:
        yield from _profile(s, s.profile)


def _validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as its R4B model validates and writes it, or
    :class:`ExportInvalid` naming the resource and the element."""
    kind = resource["resourceType"]
    try:
        model = get_fhir_model_class(kind).model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ExportInvalid(
            f"{kind}/{resource.get('id')}: {where}: {first['msg']}"
        ) from None
    written: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True))
    return written


# ----------------------------------------------------------------- helpers


def _urn(value: UUID) -> str:
    return f"urn:uuid:{value}"


def _instant(value: datetime) -> str:
    return value.isoformat()


def _day(value: date) -> str:
    return value.isoformat()


def _patient_ref(s: EspaceSnapshot) -> dict[str, Any]:
    return {"reference": _urn(s.espace.id), "type": "Patient"}


def _practitioner_ref(idnatps: str) -> dict[str, Any]:
    return {
        "reference": _urn(professional_id(idnatps)),
        "type": "Practitioner",
        "identifier": {"system": IDNATPS_SYSTEM, "value": idnatps},
    }


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [_coding(system, code, display)]}


# ----------------------------------------------------------------- Patient


def _patient(s: EspaceSnapshot) -> dict[str, Any]:
    """ID-2: the INS as identifier and the five identity traits; LC-12: the
    legal representative as a contact."""
    espace = s.espace
    ins = espace.ins
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(espace.id),
        "identifier": [
            {
                "use": "official",
                "type": _concept(FR_V2_0203, INS_TYPE[ins.oid]),
                "system": f"urn:oid:{ins.oid}",
                "value": ins.nir,
            }
        ],
        "name": [
            {
                "use": "official",
                "family": ins.birth_name,
                "given": ins.first_names.split(),
            }
        ],
        "gender": "male" if ins.sex == "M" else "female",
        "birthDate": _day(ins.birth_date),
        "extension": [
            {
                "url": BIRTH_PLACE,
                "valueAddress": {
                    "extension": [
                        {
                            "url": INSEE_CODE,
                            "valueCoding": _coding(COG_SYSTEM, ins.birthplace_code),
                        }
                    ]
                },
            }
        ],
    }
    if espace.date_of_death is not None:
        patient["deceasedDateTime"] = _day(espace.date_of_death)
    if espace.email:
        patient["telecom"] = [{"system": "email", "value": espace.email}]
    if espace.postal_address:
        patient["address"] = [{"text": espace.postal_address}]
    rep = espace.representative
    if rep:
        contact: dict[str, Any] = {
            "relationship": [
                {
                    "coding": [_coding(ROLE_CODE, "GUARD", "guardian")],
                    "text": rep.get("role"),
                }
            ],
            "name": {"text": rep.get("name")},
        }
        if rep.get("email"):
            contact["telecom"] = [{"system": "email", "value": rep["email"]}]
        if rep.get("postal_address"):
            contact["address"] = {"text": rep["postal_address"]}
        patient["contact"] = [contact]
    trusted = s.profile.trusted_person if s.profile is not None else None
    if trusted:
        patient.setdefault("contact", []).append(_trusted_person(trusted))
    return patient


def _trusted_person(trusted: dict[str, Any]) -> dict[str, Any]:
    """PRO-1: the person of trust (personne de confiance), a contact."""
    contact: dict[str, Any] = {
        "relationship": [
            {
                "coding": [
                    _coding(ROLE_SYSTEM, "trusted-person", "personne de confiance")
                ],
                "text": trusted["relationship"],
            }
        ],
        "name": {"text": trusted["name"]},
    }
    telecom = [
        {"system": system, "value": trusted[key]}
        for system, key in (("phone", "phone"), ("email", "email"))
        if trusted.get(key)
    ]
    if telecom:
        contact["telecom"] = telecom
    return contact


# ----------------------------------------------------------------- Practitioner


def _practitioner(idnatps: str, entry: Professional | None) -> dict[str, Any]:
    """PRO-2: the directory's entry; one it does not have is a Practitioner
    with its identifier alone (ADR-0031)."""
    practitioner: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(professional_id(idnatps)),
        "identifier": [
            {
                "use": "official",
                "type": _concept(FR_V2_0203, "IDNPS"),
                "system": IDNATPS_SYSTEM,
                "value": idnatps,
            }
        ],
    }
    if entry is None:
        practitioner["meta"] = {
            "tag": [_coding(ESPACE_CS + "export", "not-in-directory")]
        }
        return practitioner
    name: dict[str, Any] = {"use": "usual", "family": entry.last_name}
    if entry.first_name:
        name["given"] = [entry.first_name]
    practitioner["name"] = [name]
    practitioner["active"] = entry.listed
    return practitioner


def _roles(idnatps: str, entry: Professional | None) -> Iterator[dict[str, Any]]:
    """PRO-2: one PractitionerRole per place of practice."""
    if entry is None:
        return
    for n, activity in enumerate(entry.activities, start=1):
        role: dict[str, Any] = {
            "resourceType": "PractitionerRole",
            "id": str(uuid5(professional_id(idnatps), f"role/{n}")),
            "active": entry.listed,
            "practitioner": _practitioner_ref(idnatps),
            "code": [
                _concept(
                    PROFESSION_SYSTEM, entry.profession_code, entry.profession_label
                )
            ],
        }
        if activity.get("specialty_code"):
            role["specialty"] = [
                _concept(
                    SPECIALTY_SYSTEM,
                    str(activity["specialty_code"]),
                    activity.get("specialty_label"),
                )
            ]
        if activity.get("site"):
            role["organization"] = {"display": activity["site"]}
        place = " ".join(
            str(activity[k])
            for k in ("postal_code", "city", "cedex")
            if activity.get(k)
        )
        if place:
            role["location"] = [{"display": place}]
        yield role


# ----------------------------------------------------------------- DocumentReference


def _document_references(
    s: EspaceSnapshot, document: Document
) -> Iterator[dict[str, Any]]:
    """DOC-1..DOC-5: the current version, the superseded ones in
    ``relatesTo``; with history, each superseded version as its own
    resource too."""
    versions = document.versions
    yield _document_reference(s, document, versions[-1], versions[:-1], current=True)
    if s.with_history:
        for older in versions[:-1]:
            yield _document_reference(s, document, older, [], current=False)


def _document_reference(
    s: EspaceSnapshot,
    document: Document,
    version: dict[str, Any],
    replaced: list[dict[str, Any]],
    *,
    current: bool,
) -> dict[str, Any]:
    content = s.contents[version["version_id"]]
    if document.deleted_at is not None:
        status = "entered-in-error"  # DOC-4: logically deleted
    else:
        status = "current" if current else "superseded"
    author = (
        _practitioner_ref(document.author_id)
        if document.author_kind == AuthorKind.PROFESSIONAL
        else _patient_ref(s)
    )
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(document.id if current else version["version_id"]),
        "masterIdentifier": {"system": URI, "value": _urn(version["version_id"])},
        "identifier": [{"system": URI, "value": _urn(document.id)}],
        "status": status,
        "docStatus": "final",
        "type": _concept(LOINC, version["loinc_code"]),
        "category": [_concept(CATEGORY_SYSTEM, str(document.category))],
        "subject": _patient_ref(s),
        "date": _instant(version["at"]),
        "author": [author],
        "description": version["title"],
        "content": [
            {
                "attachment": {
                    "contentType": version["format"],
                    "data": base64.b64encode(content).decode("ascii"),
                    "size": len(content),
                    "hash": base64.b64encode(hashlib.sha1(content).digest()).decode(  # noqa: S324 - FHIR's Attachment.hash is SHA-1
                        "ascii"
                    ),
                    "title": version["title"],
                    "creation": _instant(version["care_time"]),
                }
            }
        ],
        "context": {"period": {"start": _instant(version["care_time"])}},
    }
    labels = [
        _concept(VISIBILITY_SYSTEM, flag, display)
        for flag, display in VISIBILITY.items()
        if getattr(document, flag)
    ]
    if labels:
        resource["securityLabel"] = labels
    if replaced:
        resource["relatesTo"] = [
            {
                "code": "replaces",
                "target": {
                    "type": "DocumentReference",
                    "identifier": {"system": URI, "value": _urn(old["version_id"])},
                    "display": old["title"],
                },
            }
            for old in reversed(replaced)
        ]
    return resource


# ----------------------------------------------------------------- Consent


def _consent(s: EspaceSnapshot, consent: Consent) -> dict[str, Any]:
    """ACC-1, ACC-2, ACC-4, ACC-5: the holder's choices as provision rules."""
    state = consent.state
    rules: list[dict[str, Any]] = []

    def actor_rule(kind: str, role: str, display: str, ids: set[str]) -> None:
        rules.extend(
            {
                "type": kind,
                "actor": [
                    {
                        "role": _concept(ROLE_SYSTEM, role, display),
                        "reference": _practitioner_ref(idnatps),
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
                        _coding(ACT_REASON, "ETREAT", "emergency treatment"),
                        _coding(ROLE_SYSTEM, code, display),
                    ],
                }
            )
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": str(consent.id),
        "status": "active",
        "scope": _concept(CONSENT_SCOPE, "patient-privacy", "Privacy Consent"),
        "category": [_concept(LOINC, "59284-0", "Patient Consent")],
        "patient": _patient_ref(s),
        "dateTime": _instant(consent.modified_on),
        "policyRule": _concept(ACT_CODE, "OPTIN", "opt-in"),
        "provision": {"type": "deny"} | ({"provision": rules} if rules else {}),
    }
    return resource


# ----------------------------------------------------------------- AuditEvent


def _audit_event(s: EspaceSnapshot, trace: AccessTrace) -> dict[str, Any]:
    """ACC-6: who, what, when, the outcome, the ground as purposeOfEvent
    (IHE BALP's RESTful shape where it fits)."""
    facts = trace.facts
    action = _member(Action, facts.action)
    code, interaction = (
        AUDIT_ACTION.get(action, ("U", "update"))
        if action is not None
        else ("E", "operation")
    )
    mode = _member(Mode, facts.mode) or Mode.CARE
    purpose = [_coding(*_purpose(mode, facts.ground))]
    if facts.ground:
        purpose.append(_coding(GROUND_SYSTEM, facts.ground))
    outcome = "0" if facts.allowed else "4"
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(trace.id),
        "type": _coding(AUDIT_TYPE, "rest", "RESTful Operation"),
        "subtype": [
            _coding(RESTFUL, interaction),
            _coding(ESPACE_CS + "action", facts.action),
        ],
        "action": code,
        "recorded": _instant(trace.created_on),
        "outcome": outcome,
        "purposeOfEvent": [{"coding": purpose}],
        "agent": [_agent(s, facts.actor_kind, facts.actor_id, facts.actor_profession)],
        "source": {"observer": {"display": "espace"}},
        "entity": [
            {
                "what": _patient_ref(s),
                "type": _coding(ENTITY_TYPE, "1", "Person"),
                "role": _coding(OBJECT_ROLE, "1", "Patient"),
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
            "identifier": {"system": URI, "value": _urn(facts.document_id)},
        }
        entity: dict[str, Any] = {
            "what": what,
            "type": _coding(ENTITY_TYPE, "2", "System Object"),
            "role": _coding(OBJECT_ROLE, "3", "Report"),
        }
        if facts.version_id is not None:
            entity["detail"] = [
                {"type": "version", "valueString": _urn(facts.version_id)}
            ]
        event["entity"].append(entity)
    return event


def _member(kind: type[E], value: str) -> E | None:
    """The member of ``kind`` of that value; None for a value of an older
    or newer release (a trace is kept as recorded)."""
    try:
        return kind(value)
    except ValueError:
        return None


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
        agent["who"] = _practitioner_ref(ident)
        agent["type"] = _concept(PARTICIPATION, "AUT", "author (originator)")
        if profession:
            agent["role"] = [{"text": profession}]
    elif kind == ActorKind.HOLDER:
        agent["who"] = _patient_ref(s)
        agent["type"] = _concept(PARTICIPATION, "IRCP", "information recipient")
    elif kind == ActorKind.REPRESENTATIVE:
        agent["who"] = {"display": "the holder's legal representative"}
        agent["type"] = _concept(PARTICIPATION, "IRCP", "information recipient")
    else:
        agent["who"] = {"display": f"{kind}: {ident}" if kind != ident else kind}
        agent["type"] = _concept(
            PARTICIPATION, "CST" if kind == OPERATOR else "IRCP", kind
        )
    return agent


# ----------------------------------------------------------------- Communication


def _communications(
    s: EspaceSnapshot, conversation: Message
) -> Iterator[dict[str, Any]]:
    """MSG-1..MSG-4: each message of a conversation, its sender and
    recipient, its body and attachments (a document by its identifier, a
    file by its name, type and size: its bytes stay in the store)."""
    opener = _party(s, conversation.opener_kind, conversation.opener_id)
    if conversation.opener_name:
        opener["display"] = conversation.opener_name
    for message in conversation.messages:
        from_holder = message["side"] == "holder"
        holder_side = _party(s, message["author_kind"], message["author_id"])
        sender, recipient = (
            (holder_side, opener) if from_holder else (opener, _patient_ref(s))
        )
        payload: list[dict[str, Any]] = [{"contentString": message["body"]}]
        for attachment in message["attachments"]:
            if attachment.get("kind") == "document":
                payload.append(
                    {
                        "contentReference": {
                            "type": "DocumentReference",
                            "identifier": {
                                "system": URI,
                                "value": _urn(attachment["document_id"]),
                            },
                        }
                    }
                )
            else:
                payload.append(
                    {
                        "contentAttachment": {
                            "contentType": attachment.get("format"),
                            "size": attachment.get("size"),
                            "title": attachment.get("filename"),
                        }
                    }
                )
        communication: dict[str, Any] = {
            "resourceType": "Communication",
            "id": str(uuid5(conversation.id, f"message/{message['message_no']}")),
            "identifier": [{"system": URI, "value": _urn(conversation.id)}],
            "status": "completed",
            "subject": _patient_ref(s),
            "topic": {"text": conversation.subject},
            "sent": _instant(message["posted_at"]),
            "sender": sender,
            "recipient": [recipient],
            "payload": payload,
        }
        if message["read_at"] is not None:
            communication["received"] = _instant(message["read_at"])
        yield communication


def _party(s: EspaceSnapshot, kind: str, ident: str) -> dict[str, Any]:
    """A side of a conversation as a reference: a Practitioner, an
    establishment by FINESS, or the Patient (the representative writes for
    the holder)."""
    if kind == ActorKind.PROFESSIONAL:
        return _practitioner_ref(ident)
    if kind == ActorKind.ESTABLISHMENT:
        return {
            "type": "Organization",
            "identifier": {"system": FINESS_SYSTEM, "value": ident},
        }
    return _patient_ref(s)


# ----------------------------------------------------------------- Appointment


def _appointment(s: EspaceSnapshot, appointment: Appointment) -> dict[str, Any]:
    """AG-1: who, when, where, why. The agenda records no duration: ``end``
    is ``start`` (FHIR wants both on a booked appointment; ADR-0031)."""
    start = _instant(appointment.starts_at)
    other: dict[str, Any] = (
        _practitioner_ref(appointment.professional_id)
        if appointment.professional_id
        else {"display": appointment.with_label}
    )
    participants = [
        {"actor": _patient_ref(s), "status": "accepted"},
        {"actor": other, "status": "accepted"},
    ]
    if appointment.place:
        participants.append(
            {
                "actor": {"type": "Location", "display": appointment.place},
                "status": "accepted",
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appointment.id),
        "status": "cancelled" if appointment.status == "cancelled" else "booked",
        "start": start,
        "end": start,
        "created": _instant(appointment.created_on),
        "participant": participants,
    }
    if appointment.reason:
        resource["reasonCode"] = [{"text": appointment.reason}]
    return resource


# ----------------------------------------------------------------- profile

MEASUREMENTS = (
    ("height_cm", "8302-2", "Body height", "cm"),
    ("weight_kg", "29463-7", "Body weight", "kg"),
)
"""PRO-1: the profile's measurements, their LOINC codes and UCUM units."""


def _profile(s: EspaceSnapshot, profile: MedicalProfile) -> Iterator[dict[str, Any]]:
    """PRO-1: what the holder says of themselves, each a resource whose
    ``recorder``/``informationSource`` is the Patient (self-reported)."""
    patient = _patient_ref(s)
    for attr, code, display, unit in MEASUREMENTS:
        value = getattr(profile, attr)
        if value is None or profile.measured_at is None:
            continue
        yield {
            "resourceType": "Observation",
            "id": str(uuid5(profile.id, attr)),
            "status": "final",
            "category": [_concept(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
            "code": _concept(LOINC, code, display),
            "subject": patient,
            "effectiveDateTime": _instant(profile.measured_at),
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
            "clinicalStatus": _concept(ALLERGY_STATUS, "active"),
            "code": {"text": allergy["substance"]},
            "patient": patient,
            "recordedDate": _instant(allergy["since"]),
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
            "clinicalStatus": _concept(CLINICAL_STATUS, "active"),
            "code": {"text": condition["name"]},
            "subject": patient,
            "recorder": patient,
        }
        if condition.get("diagnosed_on"):
            resource["onsetDateTime"] = _day(condition["diagnosed_on"])
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
            resource["effectivePeriod"] = {"start": _day(treatment["started_on"])}
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
            "occurrenceDateTime": _day(vaccination["given_on"]),
            "primarySource": False,
            "reportOrigin": {"text": "reported by the holder (PRO-1)"},
        }
        if vaccination.get("dose"):
            resource["protocolApplied"] = [{"doseNumberString": vaccination["dose"]}]
        yield resource
