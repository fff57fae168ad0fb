"""Input schemas: everything from outside is validated here, once.

Each loader returns plain, typed values or raises :class:`InvalidInput` with
one message list per field; nothing is written when it raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from espace.application.errors import InvalidInput
from espace.domain import calendar
from espace.domain.actors import PROFESSIONS, ActorKind, Mode
from espace.domain.document_metadata import FORMATS, TYPE_CODE, Category
from espace.domain.errors import InvalidIdentifier
from espace.domain.identifiers import (
    INS_OIDS,
    NIR_OID,
    Ins,
    validate_finess,
    validate_idnatps,
    validate_nir,
    validate_vitale_serial,
)

CATEGORIES = [c.value for c in Category]

_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
NOTICE_CHANNELS = ("web", "phone", "post")
REPRESENTATIVE_ROLES = ("parent", "guardian", "curator")


def _blank_to_none(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, str) and not v.strip() else v)
        for k, v in data.items()
    }


def text_problem(value: str) -> str | None:
    """Why a text cannot be recorded, or ``None`` if it can: a NUL character
    (PostgreSQL text cannot hold it) or a lone surrogate (not Unicode text:
    it has no UTF-8 form)."""
    if "\x00" in value:
        return "contains a NUL character"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired surrogate: not valid Unicode text"
    return None


def require_text(value: str, field: str) -> str:
    """``value`` if it is recordable text, else InvalidInput naming ``field``
    (and the line, for a text of several lines)."""
    problem = text_problem(value)
    if problem is None:
        return value
    for number, line in enumerate(value.splitlines(), start=1):
        if text_problem(line) is not None:
            if number > 1 or "\n" in value:
                problem = f"line {number} {problem}"
            break
    raise InvalidInput({field: [problem]})


class InputSchema(Schema):
    """What every input schema is: unknown fields refused, text recordable."""

    @pre_load
    def _recordable_text(self, data: Any, **kwargs: Any) -> Any:
        """Every declared text field holds recordable text (no NUL, no lone
        surrogate), whatever its own validators say."""
        if not isinstance(data, Mapping):
            return data
        errors: dict[str, list[str]] = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            value = data.get(key)
            if isinstance(value, str):
                problem = text_problem(value)
                if problem is not None:
                    errors[key] = [problem]
        if errors:
            raise ValidationError(errors)
        return data

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        """Raise :class:`InvalidInput` naming each field, not marshmallow's error."""
        messages = error.messages
        if isinstance(messages, dict):
            fields_ = {str(k): _flat(v) for k, v in messages.items()}
        else:
            fields_ = {"_schema": _flat(messages)}
        raise InvalidInput(fields_)


def _flat(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _flat(v)]
    return [str(value)]


class Identifier(fields.String):
    """A national identifier, loaded as its compact form once ``check`` (one of
    :mod:`espace.domain.identifiers`' validators) accepts it; a refusal names
    the rule it breaks (ID-1, ID-3, ID-4...)."""

    def __init__(self, check: Callable[[str, str], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return self.check(text, attr or "")
        except InvalidIdentifier as exc:
            raise ValidationError(exc.reason) from None


class Instant(fields.AwareDateTime):
    """An aware ISO 8601 instant that the record can hold (ADR-0017)."""

    default_error_messages: dict[str, Any] = {  # noqa: RUF012 - marshmallow's
        "invalid": "not an ISO 8601 date-time with its offset "
        "(e.g. 2027-03-01T09:00:00+01:00)",
        "naive": "needs a UTC offset, e.g. +01:00 or Z",
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> datetime:
        if isinstance(value, datetime):
            parsed = value
            if parsed.tzinfo is None or parsed.utcoffset() is None:
                raise ValidationError("needs a UTC offset, e.g. +01:00 or Z")
        else:
            parsed = super()._deserialize(value, attr, data, **kwargs)
        problem = calendar.instant_problem(parsed)
        if problem is not None:
            raise ValidationError(problem)
        return parsed


class Day(fields.Date):
    """A calendar day (YYYY-MM-DD) that the record can hold (ADR-0017)."""

    default_error_messages: dict[str, Any] = {  # noqa: RUF012 - marshmallow's
        "invalid": "not a date (YYYY-MM-DD, e.g. 1984-03-09)"
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> date:
        if isinstance(value, datetime):
            raise ValidationError("a date (YYYY-MM-DD), not a date and time")
        parsed = (
            value
            if isinstance(value, date)
            else super()._deserialize(value, attr, data, **kwargs)
        )
        problem = calendar.date_problem(parsed)
        if problem is not None:
            raise ValidationError(problem)
        return parsed


class AffiliationSchema(InputSchema):
    """One row of the insurer's affiliation feed (LC-1, ID-1, ID-2, ID-4, LC-12)."""

    class Meta:
        """The feed's other columns are ignored, not refused."""

        unknown = EXCLUDE

    nir = Identifier(validate_nir, required=True)
    oid = fields.String(load_default=NIR_OID, validate=validate.OneOf(sorted(INS_OIDS)))
    birth_name = _name
    first_names = fields.String(required=True, validate=validate.Length(min=1, max=200))
    birth_date = Day(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(["M", "F"]))
    birthplace_code = fields.String(required=True, validate=validate.Length(equal=5))
    vitale_serial = Identifier(validate_vitale_serial, required=True)
    email = fields.Email(load_default=None, allow_none=True)
    postal_address = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=500)
    )
    representative_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200)
    )
    representative_role = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(REPRESENTATIVE_ROLES),
    )
    representative_email = fields.Email(load_default=None, allow_none=True)
    representative_postal_address = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=500)
    )
    legacy_dmp_ref = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=64)
    )

    @validates_schema
    def _coherent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("representative_name") and not data.get("representative_role"):
            raise ValidationError(
                "required with representative_name", "representative_role"
            )
        if (
            data.get("representative_email")
            or data.get("representative_postal_address")
        ) and not data.get("representative_name"):
            raise ValidationError(
                "required with a representative's contact", "representative_name"
            )
        if data.get("representative_role") and not data.get("representative_name"):
            raise ValidationError(
                "required with representative_role", "representative_name"
            )

    @post_load
    def _build(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        try:
            data["ins"] = Ins.create(
                nir=data.pop("nir"),
                oid=data.pop("oid"),
                birth_name=data.pop("birth_name"),
                first_names=data.pop("first_names"),
                birth_date=data.pop("birth_date"),
                sex=data.pop("sex"),
                birthplace_code=data.pop("birthplace_code"),
            )
        except InvalidIdentifier as exc:
            raise ValidationError(exc.reason, exc.field) from None
        rep_name = data.pop("representative_name")
        rep_role = data.pop("representative_role")
        rep_email = data.pop("representative_email")
        rep_post = data.pop("representative_postal_address")
        data["representative"] = None
        if rep_name:
            data["representative"] = {
                k: v
                for k, v in {
                    "name": rep_name,
                    "role": rep_role,
                    "email": rep_email,
                    "postal_address": rep_post,
                }.items()
                if v
            }
        return data


class ActivationSchema(InputSchema):
    """LC-5: the four things the holder types to activate."""

    nir = Identifier(validate_nir, required=True)
    oid = fields.String(load_default=NIR_OID, validate=validate.OneOf(sorted(INS_OIDS)))
    code = fields.String(required=True, validate=validate.Length(min=4, max=32))
    birth_date = Day(required=True)
    vitale_serial = Identifier(validate_vitale_serial, required=True)
    as_representative = fields.Boolean(load_default=False)


class OppositionSchema(InputSchema):
    """LC-3: how the opposition reached the insurer."""

    channel = fields.String(
        load_default="web", validate=validate.OneOf(NOTICE_CHANNELS)
    )


class SuspensionSchema(InputSchema):
    """LC-7: why, and when the holder is informed (default: now)."""

    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))
    informed_at = Instant(load_default=None, allow_none=True)


class DeathSchema(InputSchema):
    """LC-7: the date of death from the civil registry feed."""

    date_of_death = Day(required=True)


class NirSchema(InputSchema):
    """ID-1, ID-2: an INS number (NIR or NIA, key checked) and its OID."""

    nir = Identifier(validate_nir, required=True)
    oid = fields.String(load_default=NIR_OID, validate=validate.OneOf(sorted(INS_OIDS)))


_INSTANCES: dict[type[Schema], Schema] = {}


def load(schema: type[Schema], data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``data``; blank strings count as missing. Raises InvalidInput.

    One instance per schema class is kept, since building a marshmallow
    schema deep-copies its fields (most of a small input's cost).
    """
    instance = _INSTANCES.get(schema)
    if instance is None:
        instance = _INSTANCES[schema] = schema()
    if not isinstance(data, Mapping):
        raise InvalidInput({"_schema": ["expected an object"]})
    result: dict[str, Any] = instance.load(_blank_to_none(data))
    return result


def parse_instant(value: str, field: str = "at") -> datetime:
    """An ISO 8601 instant with its offset, within the range the record holds
    (ADR-0017), or InvalidInput naming ``field``."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            {field: ["not an ISO 8601 date-time (e.g. 2027-03-01T09:00:00+01:00)"]}
        ) from None
    return checked_instant(parsed, field)


def checked_instant(value: datetime, field: str = "at") -> datetime:
    """``value`` if the record can hold it (aware, in range), else InvalidInput."""
    if not isinstance(value, datetime):
        raise InvalidInput({field: ["not a date-time"]})
    problem = calendar.instant_problem(value)
    if problem is not None:
        raise InvalidInput({field: [problem]})
    return value


def checked_id(value: UUID, field: str) -> UUID:
    """``value`` if it is an id (a UUID), else InvalidInput naming ``field``."""
    if not isinstance(value, UUID):
        raise InvalidInput({field: [f"an id (a UUID), not {type(value).__name__}"]})
    return value


def command_time(at: datetime | None, clock: Callable[[], datetime]) -> datetime:
    """The time of a command: ``at`` when the caller gives one, else the clock.

    Read it after loading the aggregates the command decides on: a time read
    before the load can be older than a change another process saved
    meanwhile, and the aggregate would refuse the command as dated before its
    last event, where the truth is a conflict (ADR-0017).
    """
    if at is not None:
        return checked_instant(at, "at")
    return checked_instant(clock(), "clock")


def parse_date(value: str, field: str) -> date:
    """An ISO 8601 calendar day within the range the record holds (ADR-0017),
    or InvalidInput naming ``field``."""
    try:
        parsed = date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput({field: ["not an ISO 8601 date (YYYY-MM-DD)"]}) from None
    problem = calendar.date_problem(parsed)
    if problem is not None:
        raise InvalidInput({field: [problem]})
    return parsed


class ActorSchema(InputSchema):
    """Who acts (ACC-1..ACC-7, MSG-1): the holder and the legal representative
    are bound to the espace; a professional is known by IdNatPS (ID-3), with
    a profession where the store has no directory to say it (PRO-2); an heir
    by the id under which access was granted (LC-11); an establishment by
    FINESS and the name the holder sees (MSG-2)."""

    kind = fields.String(
        required=True, validate=validate.OneOf([k.value for k in ActorKind])
    )
    idnatps = Identifier(validate_idnatps, load_default=None, allow_none=True)
    profession = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(PROFESSIONS)
    )
    heir_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=64)
    )
    finess = Identifier(validate_finess, load_default=None, allow_none=True)
    name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=200)
    )

    @validates_schema
    def _coherent(self, data: dict[str, Any], **kwargs: Any) -> None:
        needs = {
            ActorKind.PROFESSIONAL: ("idnatps",),
            ActorKind.HEIR: ("heir_id",),
            ActorKind.ESTABLISHMENT: ("finess", "name"),
        }
        for name in needs.get(data["kind"], ()):
            if not data.get(name):
                raise ValidationError(
                    f"required for an actor of kind {data['kind']}", name
                )


class ModeSchema(InputSchema):
    """ACC-7: the purpose of an access is care, or an emergency; nothing else."""

    mode = fields.String(
        load_default=Mode.CARE.value, validate=validate.OneOf([m.value for m in Mode])
    )


class DocumentSchema(InputSchema):
    """DOC-1: the metadata of a deposit, an upload or a replacement."""

    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))
    loinc_code = fields.String(
        required=True,
        validate=validate.Regexp(TYPE_CODE, error="not a LOINC code (e.g. 11488-4)"),
    )
    title = fields.String(required=True, validate=validate.Length(min=1, max=250))
    care_time = Instant(required=True)
    format = fields.String(required=True, validate=validate.OneOf(sorted(FORMATS)))
    hidden_from_holder = fields.Boolean(load_default=False)
    hidden_from_representatives = fields.Boolean(load_default=False)


class ProfessionalRefSchema(InputSchema):
    """A professional named in a consent choice (ID-3)."""

    idnatps = Identifier(validate_idnatps, required=True)
    profession = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(PROFESSIONS)
    )


class HeirSchema(InputSchema):
    """LC-11: who is given read access to a deceased holder's archive."""

    heir_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    relationship = fields.String(
        required=True, validate=validate.OneOf(["heir", "cohabitant", "pacs_partner"])
    )


class DeliverySchema(InputSchema):
    """ACC-5, DOC-5: how a notification reached its recipient."""

    channel = fields.String(
        load_default="app", validate=validate.OneOf(["app", "email", "sms", "post"])
    )
