"""What a document is, before it is one: the DMP's categories (DOC-1), its
document types as LOINC codes, the formats and size it accepts, who may
author a document (DOC-2), and the check of the metadata every version
carries (DOC-1).

None of these is stored by topic; :class:`espace.domain.documents.Document`
and its events use them.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from enum import StrEnum

from stdnum import luhn

from espace.domain.errors import RuleViolation


class Category(StrEnum):
    """DOC-1: the DMP's 11 content categories."""

    REPORT = "report"
    SUMMARY = "summary"
    IMAGING = "imaging"
    PRESCRIPTION = "prescription"
    DISPENSATION = "dispensation"
    CARE_PLAN = "care_plan"
    TREATMENT_ADMINISTERED = "treatment_administered"
    CERTIFICATE = "certificate"
    REIMBURSEMENT = "reimbursement"
    PATIENT_UPLOADED = "patient_uploaded"
    MANAGEMENT = "management"


TYPE_CODE = re.compile(r"^\d{1,7}-\d$")
"""What a LOINC code looks like (the DMP's document types are LOINC codes)."""


def is_loinc(code: str) -> bool:
    """A LOINC code: digits, a hyphen, and their mod 10 check digit."""
    if not TYPE_CODE.fullmatch(code):
        return False
    number, check = code.split("-")
    return luhn.calc_check_digit(number) == check


LEGACY_TYPES = {
    "11488-4": ("Consultation note", "report"),
    "11369-6": ("History of immunization", "summary"),
    "87273-9": ("Immunization note", "treatment_administered"),
    "57833-6": ("Prescription for medication", "prescription"),
    "11502-2": ("Laboratory report", "report"),
    "60591-5": ("Patient summary", "summary"),
    "18748-4": ("Diagnostic imaging study", "imaging"),
    "18842-5": ("Discharge summary", "summary"),
    "34133-9": ("Summary of episode note", "summary"),
    "42348-3": ("Advance directives", "patient_uploaded"),
    "57016-8": ("Privacy policy acknowledgment", "certificate"),
    "60593-1": ("Medication dispensed", "dispensation"),
    "51851-4": ("Administrative note", "management"),
}
"""The document types known before the type list became data (DOC-1):
what a matrix version published then is read with (ADR-0025). The list in
force is the access matrix's (``espace matrix show --types``)."""

FORMATS = frozenset(
    {
        "application/pdf",
        "text/plain",
        "image/jpeg",
        "image/png",
        "application/fhir+json",
        "application/hl7-v3+xml",
        "application/dicom",
    }
)
MAX_SIZE = 50 * 1024 * 1024
"""50 MiB: the largest document the DMP accepts."""


class AuthorKind(StrEnum):
    """DOC-2: who wrote a document: a professional deposits, the holder uploads."""

    PROFESSIONAL = "professional"
    HOLDER = "holder"


def validate_metadata(
    *,
    types: Collection[str],
    category: str,
    loinc_code: str,
    title: str,
    fmt: str,
    size: int,
    content_hash: str,
) -> None:
    """DOC-1: the metadata every version carries."""
    if category not in Category.__members__.values():
        raise RuleViolation("DOC-1", f"unknown category {category!r}")
    if loinc_code not in types:
        raise RuleViolation(
            "DOC-1",
            f"unknown document type {loinc_code!r}: not in the type list in force "
            "(espace matrix show --types)",
        )
    if not title.strip() or len(title) > 250:
        raise RuleViolation("DOC-1", "a title of 1 to 250 characters is required")
    if fmt not in FORMATS:
        raise RuleViolation("DOC-1", f"unsupported format {fmt!r}")
    if not 0 < size <= MAX_SIZE:
        raise RuleViolation("DOC-1", f"size must be 1 byte to {MAX_SIZE} bytes")
    if len(content_hash) != 64 or any(
        c not in "0123456789abcdef" for c in content_hash
    ):
        raise RuleViolation("DOC-1", "content_hash must be a hex SHA-256")
