"""The FHIR export's Bundle (issue 13, ADR-0031): an espace snapshot as a
FHIR R4 Bundle of type ``collection``, every resource validated by the R4B
model of its type before it is handed on.

One function per resource type (the modules beside this one) builds its
JSON from the snapshot; :func:`entries` validates each one by its model and
yields the model's own JSON, one at a time. Both forms stand on it:
:meth:`FhirBundleWriter.write` streams them to a text stream as they come
(the traces are read from the log as they are written: memory does not
grow with them), :meth:`FhirBundleWriter.bundle` gathers them into a dict.
A resource that does not validate is a :class:`ExportInvalid` naming the
resource and the element.

The order of the entries (free in a ``collection``): the Patient, the
DocumentReferences, the Consent, the Communications, the Appointments, the
profile's resources, the AuditEvents in the log's order, and last every
Practitioner and its PractitionerRoles, sorted by IdNatPS: the
professionals the traces name are known only once the traces are read.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any, NamedTuple
from uuid import UUID, uuid4

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from espace.adapters.fhir.audit import audit_event
from espace.adapters.fhir.common import ExportInvalid, instant, urn
from espace.adapters.fhir.consent import consent_resource
from espace.adapters.fhir.documents import document_references
from espace.adapters.fhir.patient import patient_resource
from espace.adapters.fhir.practitioners import practitioner_resource, role_resources
from espace.adapters.fhir.profile import profile_resources
from espace.adapters.fhir.services import appointment_resource, communications
from espace.application.export import EspaceSnapshot, TextOut
from espace.domain.actors import ActorKind


class Entry(NamedTuple):
    """A validated entry: its type, its fullUrl, and the resource's JSON as
    its model writes it."""

    kind: str
    full_url: str
    text: str


class FhirBundleWriter:
    """:class:`espace.application.export.BundleWriter` for FHIR R4 (R4B models)."""

    def write(self, snapshot: EspaceSnapshot, out: TextOut) -> dict[str, int]:
        """The Bundle's JSON to ``out``: its shell validated first, then each
        entry as soon as it validated. How many resources of each type."""
        head = validated_json(_shell(snapshot))
        out.write(head[:-1])  # the shell's JSON without its closing brace
        counts: Counter[str] = Counter()
        opening = ',"entry":['
        for entry in entries(snapshot):
            out.write(
                f'{opening}{{"fullUrl":"{entry.full_url}","resource":{entry.text}}}'
            )
            opening = ","
            counts[entry.kind] += 1
        out.write("]}" if counts else "}")
        return dict(counts)

    def bundle(self, snapshot: EspaceSnapshot) -> dict[str, Any]:
        """The Bundle as a dict: the same entries, gathered."""
        shell: dict[str, Any] = json.loads(validated_json(_shell(snapshot)))
        gathered = [
            {"fullUrl": entry.full_url, "resource": json.loads(entry.text)}
            for entry in entries(snapshot)
        ]
        return {**shell, "entry": gathered} if gathered else shell


def _shell(snapshot: EspaceSnapshot) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": str(uuid4()),  # each export is a bundle of its own
        "meta": {"lastUpdated": instant(snapshot.exported_at)},
        "type": "collection",
        "timestamp": instant(snapshot.as_of or snapshot.exported_at),
    }


def entries(snapshot: EspaceSnapshot) -> Iterator[Entry]:
    """Every resource of the export, validated, one at a time."""
    for resource in resources(snapshot):
        yield Entry(
            resource["resourceType"],
            urn(UUID(resource["id"])),
            validated_json(resource),
        )


def resources(s: EspaceSnapshot) -> Iterator[dict[str, Any]]:
    """Every resource of the export, as built (not validated yet), in the
    order the module says; the traces iterated once, as they come."""
    yield patient_resource(s)
    for document in s.documents:
        yield from document_references(s, document)
    if s.consent is not None:
        yield consent_resource(s, s.consent)
    for conversation in s.conversations:
        yield from communications(s, conversation)
    for appointment in s.appointments:
        yield appointment_resource(s, appointment)
    if s.profile is not None:
        yield from profile_resources(s, s.profile)
    named = set(s.professionals)
    for trace in s.traces:
        if trace.facts.actor_kind == ActorKind.PROFESSIONAL:
            named.add(trace.facts.actor_id)
        yield audit_event(s, trace)
    for idnatps in sorted(named):
        entry = (
            s.professionals[idnatps]
            if idnatps in s.professionals
            else s.directory(idnatps)
        )
        yield practitioner_resource(idnatps, entry)
        yield from role_resources(idnatps, entry)


def validated_json(resource: dict[str, Any]) -> str:
    """The resource's JSON as its R4B model validates and writes it, or
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
    return model.model_dump_json(exclude_none=True)
