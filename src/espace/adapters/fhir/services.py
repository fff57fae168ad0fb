"""The messages and the agenda in the FHIR export (ADR-0031): a
Communication per message (MSG-1..MSG-4), an Appointment per agenda entry
(AG-1).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid5

from espace.adapters.fhir.common import (
    FINESS_SYSTEM,
    URI,
    instant,
    patient_ref,
    practitioner_ref,
    urn,
)
from espace.application.export import EspaceSnapshot
from espace.domain.actors import ActorKind
from espace.domain.agenda import Appointment
from espace.domain.messaging import Message


def communications(
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
            (holder_side, opener) if from_holder else (opener, patient_ref(s))
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
                                "value": urn(attachment["document_id"]),
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
            "identifier": [{"system": URI, "value": urn(conversation.id)}],
            "status": "completed",
            "subject": patient_ref(s),
            "topic": {"text": conversation.subject},
            "sent": instant(message["posted_at"]),
            "sender": sender,
            "recipient": [recipient],
            "payload": payload,
        }
        if message["read_at"] is not None:
            communication["received"] = instant(message["read_at"])
        yield communication


def _party(s: EspaceSnapshot, kind: str, ident: str) -> dict[str, Any]:
    """A side of a conversation as a reference: a Practitioner, an
    establishment by FINESS, or the Patient (the representative writes for
    the holder)."""
    if kind == ActorKind.PROFESSIONAL:
        return practitioner_ref(ident)
    if kind == ActorKind.ESTABLISHMENT:
        return {
            "type": "Organization",
            "identifier": {"system": FINESS_SYSTEM, "value": ident},
        }
    return patient_ref(s)


def appointment_resource(s: EspaceSnapshot, appointment: Appointment) -> dict[str, Any]:
    """AG-1: who, when, where, why. The agenda records no duration: ``end``
    is ``start`` (FHIR wants both on a booked appointment; ADR-0031)."""
    start = instant(appointment.starts_at)
    other: dict[str, Any] = (
        practitioner_ref(appointment.professional_id)
        if appointment.professional_id
        else {"display": appointment.with_label}
    )
    participants = [
        {"actor": patient_ref(s), "status": "accepted"},
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
        "created": instant(appointment.created_on),
        "participant": participants,
    }
    if appointment.reason:
        resource["reasonCode"] = [{"text": appointment.reason}]
    return resource
