"""Checks of an exported FHIR Bundle (ADR-0031) that the integration and
CLI tests share. Importable as ``fhir_check``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

REQUIRED = (
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "DocumentReference",
    "Consent",
    "AuditEvent",
)
"""The resource types every export of an espace with a document holds."""


def validated_kinds(bundle: dict[str, Any]) -> Counter[str]:
    """Every entry parsed by the R4B model of its type, the Bundle by its
    own; how many resources of each type there are."""
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    Bundle.model_validate(bundle)
    kinds: Counter[str] = Counter()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        kinds[resource["resourceType"]] += 1
    return kinds


def assert_complete(bundle: dict[str, Any]) -> Counter[str]:
    """Valid, and holding every type of :data:`REQUIRED`."""
    kinds = validated_kinds(bundle)
    missing = [k for k in REQUIRED if not kinds[k]]
    assert not missing, kinds
    return kinds
