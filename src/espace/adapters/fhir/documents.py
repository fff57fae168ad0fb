"""The DocumentReferences of the FHIR export (ADR-0031, DOC-1..DOC-5): the
current version with its inline content, the superseded ones in
``relatesTo`` (and, with history, as resources of their own), a
``securityLabel`` per DOC-5 flag.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

from espace.adapters.fhir.common import (
    CATEGORY_SYSTEM,
    LOINC,
    URI,
    VISIBILITY_SYSTEM,
    concept,
    instant,
    patient_ref,
    practitioner_ref,
    urn,
)
from espace.application.export import EspaceSnapshot
from espace.domain.document_metadata import AuthorKind
from espace.domain.documents import Document

VISIBILITY = {
    "masked_from_professionals": "masked from professionals (DOC-5)",
    "hidden_from_holder": "invisible to the holder (DOC-5)",
    "hidden_from_representatives": "invisible to legal representatives (DOC-5)",
}
"""DOC-5: each flag of a document, one ``securityLabel`` each."""


def document_references(
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
        practitioner_ref(document.author_id)
        if document.author_kind == AuthorKind.PROFESSIONAL
        else patient_ref(s)
    )
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(document.id if current else version["version_id"]),
        "masterIdentifier": {"system": URI, "value": urn(version["version_id"])},
        "identifier": [{"system": URI, "value": urn(document.id)}],
        "status": status,
        "docStatus": "final",
        "type": concept(LOINC, version["loinc_code"]),
        "category": [concept(CATEGORY_SYSTEM, str(document.category))],
        "subject": patient_ref(s),
        "date": instant(version["at"]),
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
                    "creation": instant(version["care_time"]),
                }
            }
        ],
        "context": {"period": {"start": instant(version["care_time"])}},
    }
    labels = [
        concept(VISIBILITY_SYSTEM, flag, display)
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
                    "identifier": {"system": URI, "value": urn(old["version_id"])},
                    "display": old["title"],
                },
            }
            for old in reversed(replaced)
        ]
    return resource
