"""Input schemas of the espace's services beyond the record: the directory
extract, messaging, agenda, medical profile, service catalogue.

Like :mod:`espace.application.schemas` (whose base and helpers they use):
each loader returns plain values or raises :class:`InvalidInput` with one
message list per field, before anything is written.
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from espace.application.schemas import Day, Identifier, InputSchema, Instant
from espace.domain.actors import PROFESSIONS
from espace.domain.catalogue import CATEGORIES
from espace.domain.document_metadata import FORMATS, TYPE_CODE
from espace.domain.identifiers import validate_idnatps
from espace.domain.messaging import MAX_BODY, MAX_SUBJECT
from espace.domain.profile_entries import RELATIONSHIPS, SECTIONS, SEVERITIES

# ----------------------------------------------------------------- directory

ID = "Identification nationale PP"
ID_TYPE = "Type d'identifiant PP"
LAST_NAME = "Nom d'exercice"
FIRST_NAME = "Prénom d'exercice"
PROFESSION_CODE = "Code profession"
PROFESSION_LABEL = "Libellé profession"
SPECIALTY_CODE = "Code savoir-faire"
SPECIALTY_LABEL = "Libellé savoir-faire"
MODE = "Code mode exercice"
SITE = "Raison sociale site"
POSTAL_CODE = "Code postal (coord. structure)"
CITY = "Libellé commune (coord. structure)"
CEDEX = "Bureau cedex (coord. structure)"

DIRECTORY_COLUMNS = (
    ID,
    ID_TYPE,
    LAST_NAME,
    FIRST_NAME,
    PROFESSION_CODE,
    PROFESSION_LABEL,
    SPECIALTY_CODE,
    SPECIALTY_LABEL,
    MODE,
    SITE,
    POSTAL_CODE,
    CITY,
    CEDEX,
)
"""PRO-2: the columns read from the national extract, by name (it has about
fifty; the others are ignored)."""
REQUIRED_DIRECTORY_COLUMNS = (ID, ID_TYPE, LAST_NAME, PROFESSION_CODE)


def _optional(length: int) -> fields.String:
    return fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=length)
    )


class DirectoryRowSchema(InputSchema):
    """PRO-2, ID-3: one row (one activity) of "PS_LibreAcces_Personne_activite".

    Fields are named by the extract's own column names, so a bad row is
    reported against the column an operator sees in the file.
    """

    class Meta:
        """The extract's other columns (about fifty in all) are ignored."""

        unknown = EXCLUDE

    idnatps = Identifier(validate_idnatps, data_key=ID, required=True)
    id_type = fields.String(
        data_key=ID_TYPE, required=True, validate=validate.OneOf(["0", "8"])
    )
    last_name = fields.String(
        data_key=LAST_NAME, required=True, validate=validate.Length(min=1, max=200)
    )
    first_name = fields.String(
        data_key=FIRST_NAME,
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
    )
    profession_code = fields.String(
        data_key=PROFESSION_CODE,
        required=True,
        validate=validate.Regexp(r"^\d{1,4}$", error="a numeric profession code"),
    )
    profession_label = fields.String(
        data_key=PROFESSION_LABEL, load_default=None, allow_none=True
    )
    specialty_code = fields.String(
        data_key=SPECIALTY_CODE,
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=16),
    )
    specialty_label = fields.String(
        data_key=SPECIALTY_LABEL,
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
    )
    mode = fields.String(
        data_key=MODE,
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=8),
    )
    site = fields.String(
        data_key=SITE,
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=300),
    )
    postal_code = fields.String(
        data_key=POSTAL_CODE,
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^\d{5}$", error="a 5-digit postal code"),
    )
    city = fields.String(
        data_key=CITY,
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
    )
    cedex = fields.String(
        data_key=CEDEX,
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
    )

    @validates_schema
    def _type_matches(self, data: dict[str, Any], **kwargs: Any) -> None:
        idnatps = (data.get("idnatps") or "").replace(" ", "")
        if data.get("id_type") and idnatps and idnatps[0] != data["id_type"]:
            raise ValidationError(
                "does not match the first digit of the IdNatPS (ID-3)", ID_TYPE
            )


class SearchSchema(InputSchema):
    """PRO-2: a search of the directory."""

    name = _optional(200)
    profession = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(PROFESSIONS)
    )
    city = _optional(200)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 10_000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0))


# ----------------------------------------------------------------- messaging


class OpeningSchema(InputSchema):
    """MSG-1: the subject and first message of a conversation."""

    subject = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_SUBJECT)
    )
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY))


class ReplySchema(InputSchema):
    """MSG-1, MSG-3: a reply of the holder or a follow-up of the professional."""

    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY))


class FileSchema(InputSchema):
    """MSG-4: a file attached to a message (DOC-1 formats)."""

    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    format = fields.String(required=True, validate=validate.OneOf(sorted(FORMATS)))


class AddToRecordSchema(InputSchema):
    """MSG-4: what the DMP needs of an attachment the holder adds (DOC-1)."""

    loinc_code = fields.String(
        required=True,
        validate=validate.Regexp(TYPE_CODE, error="not a LOINC code (e.g. 11488-4)"),
    )
    title = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=250)
    )
    care_time = Instant(load_default=None, allow_none=True)


# ----------------------------------------------------------------- agenda


class AppointmentSchema(InputSchema):
    """AG-1: who (a professional of the directory, or a name), when, where, why."""

    with_professional = Identifier(validate_idnatps, load_default=None, allow_none=True)
    with_label = fields.String(
        data_key="with",
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=200),
    )
    starts_at = Instant(required=True)
    place = _optional(500)
    reason = _optional(500)

    @validates_schema
    def _who(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("with_professional") is None) == (data.get("with_label") is None):
            raise ValidationError(
                "give exactly one of with_professional (an IdNatPS) or with (a name)",
                "with",
            )


class MoveSchema(InputSchema):
    """AG-1: the new time (and perhaps place) of an appointment."""

    starts_at = Instant(required=True)
    place = _optional(500)


# ----------------------------------------------------------------- profile


class MeasurementsSchema(InputSchema):
    """PRO-1: height in centimetres, weight in kilograms (ranges: the domain)."""

    height_cm = fields.Decimal(load_default=None, allow_none=True)
    weight_kg = fields.Decimal(load_default=None, allow_none=True)

    @validates_schema
    def _one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("height_cm") is None and data.get("weight_kg") is None:
            raise ValidationError("give a height, a weight or both", "height_cm")


class AllergySchema(InputSchema):
    """PRO-1: an allergy: the substance, the reaction, the severity."""

    substance = fields.String(required=True, validate=validate.Length(min=1, max=200))
    reaction = _optional(200)
    severity = fields.String(
        load_default="unknown", validate=validate.OneOf(SEVERITIES)
    )


class ConditionSchema(InputSchema):
    """PRO-1: a condition, and the day it was diagnosed if known."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    diagnosed_on = Day(load_default=None, allow_none=True)


class TreatmentSchema(InputSchema):
    """PRO-1: a treatment, its dosage, and the day it started if known."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    dosage = _optional(200)
    started_on = Day(load_default=None, allow_none=True)


class VaccinationSchema(InputSchema):
    """PRO-1: a vaccination, the day it was given, and the dose."""

    vaccine = fields.String(required=True, validate=validate.Length(min=1, max=200))
    given_on = Day(required=True)
    dose = _optional(200)


class TrustedPersonSchema(InputSchema):
    """PRO-1: the trusted person: a name, a relationship, a phone or an e-mail."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    relationship = fields.String(required=True, validate=validate.OneOf(RELATIONSHIPS))
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^\+?[0-9 .-]{6,20}$", error="not a phone number"),
    )
    email = fields.Email(load_default=None, allow_none=True)


class EntrySchema(InputSchema):
    """PRO-1: one entry of a section of the profile, by its id."""

    section = fields.String(required=True, validate=validate.OneOf(sorted(SECTIONS)))
    entry_id = fields.UUID(required=True)


# ----------------------------------------------------------------- catalogue


class ServiceRefSchema(InputSchema):
    """PRO-3: a service of the catalogue, by its id (a lowercase slug)."""

    service_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$", error="a service id"),
    )


class CategorySchema(InputSchema):
    """PRO-3: the category the list of services is filtered by, if any."""

    category = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(CATEGORIES)
    )
