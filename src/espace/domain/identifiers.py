"""Identifiers of people and professionals (ID-1 to ID-4).

Validation is delegated to python-stdnum (NIR key with Corsica, Luhn); this
module only names the rule that each failure breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fr import nir as stdnum_nir

from espace.domain.errors import InvalidIdentifier

NIR_OID = "1.2.250.1.213.1.4.8"
"""OID saying that an INS is built on a NIR (ID-2)."""
NIA_OID = "1.2.250.1.213.1.4.9"
"""OID saying that an INS is built on a NIA (a number awaiting registration)."""
INS_OIDS = frozenset({NIR_OID, NIA_OID})

_MALE_DIGITS = frozenset("137")
_FEMALE_DIGITS = frozenset("248")
_COG = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_VITALE = re.compile(r"^\d{6,20}$")


def validate_nir(value: str, field: str = "nir") -> str:
    """The compact NIR, or :class:`InvalidIdentifier` naming ID-1."""
    try:
        return _compact_nir(value)
    except ValidationError as exc:
        raise InvalidIdentifier(field, "ID-1", f"not a valid NIR ({exc})") from None


@lru_cache(maxsize=4096)
def _compact_nir(value: str) -> str:
    """stdnum's check, remembered for recent valid numbers: a feed row's NIR is
    checked by its input schema and again by :meth:`Ins.create`, and stdnum's
    character cleaning costs about 4 µs a call. Failures are not cached."""
    return str(stdnum_nir.validate(value))


def validate_idnatps(value: str, field: str = "idnatps") -> str:
    """An IdNatPS: ``8`` + RPPS (11 digits) or ``0`` + ADELI (9 digits), Luhn (ID-3)."""
    compact = value.replace(" ", "")
    if re.fullmatch(r"8\d{11}", compact) or re.fullmatch(r"0\d{9}", compact):
        number = compact[1:]
    else:
        raise InvalidIdentifier(
            field, "ID-3", "expected 8 + 11-digit RPPS or 0 + 9-digit ADELI"
        )
    if not luhn.is_valid(number):
        raise InvalidIdentifier(field, "ID-3", "the Luhn check digit does not match")
    return compact


_FINESS = re.compile(r"^(\d{2}|2[AB])\d{7}$")


def validate_finess(value: str, field: str = "finess") -> str:
    """An establishment's FINESS number: nine characters, the département first
    (2A/2B in Corsica); the last digit is a Luhn key, checked on all-digit
    numbers (how Corsican numbers compute it is left unchecked)."""
    compact = value.replace(" ", "").upper()
    if not _FINESS.fullmatch(compact):
        raise InvalidIdentifier(field, "MSG-1", "a FINESS number has 9 characters")
    if compact.isdigit() and not luhn.is_valid(compact):
        raise InvalidIdentifier(field, "MSG-1", "the FINESS key does not match")
    return compact


def validate_vitale_serial(value: str, field: str = "vitale_serial") -> str:
    """The Vitale card serial: an opaque string of digits (ID-4)."""
    compact = value.replace(" ", "")
    if not _VITALE.fullmatch(compact):
        raise InvalidIdentifier(field, "ID-4", "expected 6 to 20 digits")
    return compact


@dataclass(frozen=True)
class Ins:
    """The national health identity (ID-2): a NIR or NIA, its OID, five traits."""

    nir: str
    oid: str
    birth_name: str
    first_names: str
    birth_date: date
    sex: str
    birthplace_code: str

    @classmethod
    def create(
        cls,
        *,
        nir: str,
        birth_name: str,
        first_names: str,
        birth_date: date,
        sex: str,
        birthplace_code: str,
        oid: str = NIR_OID,
    ) -> Ins:
        """Validate the identity: the NIR key, the OID and the traits' coherence."""
        compact = validate_nir(nir)
        if oid not in INS_OIDS:
            raise InvalidIdentifier("oid", "ID-2", f"unknown INS OID {oid!r}")
        if not birth_name.strip():
            raise InvalidIdentifier("birth_name", "ID-2", "the birth name is required")
        if not first_names.strip():
            raise InvalidIdentifier("first_names", "ID-2", "first names are required")
        if sex not in ("M", "F"):
            raise InvalidIdentifier("sex", "ID-2", "expected M or F")
        if (sex == "M" and compact[0] not in _MALE_DIGITS) or (
            sex == "F" and compact[0] not in _FEMALE_DIGITS
        ):
            raise InvalidIdentifier("sex", "ID-2", "does not match the NIR's sex digit")
        if int(compact[1:3]) != birth_date.year % 100:
            raise InvalidIdentifier(
                "birth_date", "ID-2", "the birth year does not match the NIR"
            )
        month = int(compact[3:5])
        if 1 <= month <= 12 and month != birth_date.month:
            raise InvalidIdentifier(
                "birth_date", "ID-2", "the birth month does not match the NIR"
            )
        code = birthplace_code.strip().upper()
        if not _COG.fullmatch(code):
            raise InvalidIdentifier(
                "birthplace_code", "ID-2", "expected a 5-character COG code"
            )
        return cls(
            nir=compact,
            oid=oid,
            birth_name=birth_name.strip(),
            first_names=first_names.strip(),
            birth_date=birth_date,
            sex=sex,
            birthplace_code=code,
        )

    @property
    def key(self) -> str:
        """The string the espace id is derived from: OID and number."""
        return f"{self.oid}:{self.nir}"
