"""The FHIR export's Bundle (issue 13, ADR-0031): an espace snapshot as a
FHIR R4 Bundle of type ``collection``, every resource validated by the R4B
models of ``fhir.resources`` before anything is returned.

One function per resource type (the modules beside this one) builds its
JSON from the snapshot; each is validated by its model (:func:`validated`),
and the bundle is assembled only when all of them are. A resource that does
not validate is a :class:`ExportInvalid` naming the resource and the
element, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
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
from espace.application.export import EspaceSnapshot


class FhirBundleWriter:
    """:class:`espace.application.export.BundleWriter` for FHIR R4 (R4B models)."""

    def bundle(self, snapshot: EspaceSnapshot) -> dict[str, Any]:
        """The Bundle: every resource validated, then the bundle itself."""
        entries = [
            {"fullUrl": urn(UUID(resource["id"])), "resource": resource}
            for resource in map(validated, resources(snapshot))
        ]
        shell = validated(
            {
                "resourceType": "Bundle",
                "id": str(uuid4()),  # each export is a bundle of its own
                "meta": {"lastUpdated": instant(snapshot.exported_at)},
                "type": "collection",
                "timestamp": instant(snapshot.as_of or snapshot.exported_at),
            }
        )
        return {**shell, "entry": entries}


def resources(s: EspaceSnapshot) -> Iterator[dict[str, Any]]:
    """Every resource of the export, as built (not validated yet)."""
    yield patient_resource(s)
    for idnatps, entry in s.professionals.items():
        yield practitioner_resource(idnatps, entry)
        yield from role_resources(idnatps, entry)
    for document in s.documents:
        yield from document_references(s, document)
    if s.consent is not None:
        yield consent_resource(s, s.consent)
    for trace in s.traces:
        yield audit_event(s, trace)
    for conversation in s.conversations:
        yield from communications(s, conversation)
    for appointment in s.appointments:
        yield appointment_resource(s, appointment)
    if s.profile is not None:
        yield from profile_resources(s, s.profile)


def validated(resource: dict[str, Any]) -> dict[str, Any]:
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
