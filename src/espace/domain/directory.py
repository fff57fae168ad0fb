"""The directory of professionals: reference data from the national extract
(PRO-2, ID-3).

One ``Professional`` aggregate per IdNatPS, its id derived from the IdNatPS
(public data: a plain uuid5 is enough, unlike the INS). Its events say
``KEY_SCOPE = "system"``: they belong to no espace, are sealed under the
system key and are never erased with an espace (ADR-0004). An entry is
compared with the stored one on each import, so re-importing an unchanged
extract triggers nothing (ADR-0011).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.errors import RuleViolation

DIRECTORY_NAMESPACE = UUID("0b8f5c3e-7d7a-4a5f-9c1e-2f6d8a4b9e21")

PROFESSION_CODES: dict[str, str] = {
    "10": "physician",
    "21": "pharmacist",
    "40": "dentist",
    "50": "midwife",
    "60": "nurse",
    "70": "physiotherapist",
    "91": "speech_therapist",
}
"""PRO-2: the national ``Code profession`` of the professions the access matrix
(ACC-3) knows. Rows of other professions (80 pédicure-podologue, 26
audioprothésiste, ...) are counted as skipped, not imported (ADR-0011): a
professional whose profession has no row in the matrix could read nothing."""

ACTIVITY_FIELDS = (
    "specialty_code",
    "specialty_label",
    "mode",
    "site",
    "postal_code",
    "city",
    "cedex",
)
"""PRO-2: one place of practice (a row of the extract), and its specialty."""

MAX_ACTIVITIES = 50


def professional_id(idnatps: str) -> UUID:
    """The aggregate id of an IdNatPS (public reference data, not keyed)."""
    return uuid.uuid5(DIRECTORY_NAMESPACE, idnatps)


def canonical_activities(
    activities: Iterable[Mapping[str, Any]],
) -> list[dict[str, str | None]]:
    """Activities without duplicates, in a fixed order: two extracts listing
    the same places in another order are the same entry."""
    unique = {
        tuple((k, _text(a.get(k))) for k in ACTIVITY_FIELDS): None for a in activities
    }
    return [dict(key) for key in sorted(unique, key=lambda t: [v or "" for _, v in t])]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class Professional(Aggregate):
    """One professional of the directory, and their places of practice."""

    KEY_SCOPE = "system"

    class Event(Aggregate.Event):
        """The directory's events: reference data of no espace, sealed under the
        system key and never erased with an espace (ADR-0004)."""

        KEY_SCOPE = "system"

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Registered(Aggregate.Created, Event):
        """PRO-2: first seen in an extract of the national directory."""

        idnatps: str
        id_type: str
        last_name: str
        first_name: str | None
        profession: str
        profession_code: str
        profession_label: str | None
        activities: list[dict[str, str | None]]

    class Updated(Event):
        """PRO-2: a later extract says something else about them."""

        last_name: str
        first_name: str | None
        profession: str
        profession_code: str
        profession_label: str | None
        activities: list[dict[str, str | None]]

        def apply(self, aggregate: Any) -> None:
            """The entry takes what the new extract says."""
            aggregate._set(self)

    class Withdrawn(Event):
        """PRO-2: absent from a full extract: no longer acts on any espace."""

        reason: str

        def apply(self, aggregate: Any) -> None:
            """The professional is withdrawn as of the event's time."""
            aggregate.withdrawn_at = self.timestamp

    class Reinstated(Event):
        """PRO-2: listed again after a withdrawal."""

        last_name: str
        first_name: str | None
        profession: str
        profession_code: str
        profession_label: str | None
        activities: list[dict[str, str | None]]

        def apply(self, aggregate: Any) -> None:
            """The entry takes what the extract says, and is listed again."""
            aggregate._set(self)
            aggregate.withdrawn_at = None

    # ------------------------------------------------------------- create

    @classmethod
    def register(cls, *, at: datetime, entry: Mapping[str, Any]) -> Professional:
        """PRO-2: a new professional from the directory's extract."""
        _aware(at)
        clean = _entry(entry)
        return cls._create(
            cls.Registered,
            id=professional_id(clean["idnatps"]),
            timestamp=at,
            **clean,
        )

    def __init__(
        self,
        idnatps: str,
        id_type: str,
        last_name: str,
        first_name: str | None,
        profession: str,
        profession_code: str,
        profession_label: str | None,
        activities: list[dict[str, str | None]],
    ) -> None:
        self.idnatps = idnatps
        self.id_type = id_type
        self.last_name = last_name
        self.first_name = first_name
        self.profession = profession
        self.profession_code = profession_code
        self.profession_label = profession_label
        self.activities = activities
        self.withdrawn_at: datetime | None = None

    @property
    def listed(self) -> bool:
        """PRO-2: whether the directory lists them (not withdrawn); an unlisted
        professional acts on no espace."""
        return self.withdrawn_at is None

    @property
    def entry(self) -> dict[str, Any]:
        """What an extract says of this professional (compared on re-import)."""
        return {
            "idnatps": self.idnatps,
            "id_type": self.id_type,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "profession": self.profession,
            "profession_code": self.profession_code,
            "profession_label": self.profession_label,
            "activities": self.activities,
        }

    # ------------------------------------------------------------- commands

    def update(self, *, at: datetime, entry: Mapping[str, Any]) -> bool:
        """PRO-2: bring the entry in line with a new extract.

        Returns whether anything changed: an unchanged entry triggers no
        event, so a re-import of the same extract writes nothing.
        """
        self._guard(at)
        clean = _entry(entry)
        if clean["idnatps"] != self.idnatps or clean["id_type"] != self.id_type:
            raise RuleViolation("PRO-2", "an entry cannot change its IdNatPS")
        if self.listed and clean == self.entry:
            return False
        clean.pop("idnatps")
        clean.pop("id_type")
        event = self.Updated if self.listed else self.Reinstated
        self.trigger_event(event, timestamp=at, **clean)
        return True

    def withdraw(self, *, at: datetime, reason: str) -> None:
        """PRO-2: absent from the national directory: may act on no espace."""
        self._guard(at)
        if not self.listed:
            raise RuleViolation("PRO-2", "this professional is already withdrawn")
        self.trigger_event(self.Withdrawn, timestamp=at, reason=reason)

    def _set(self, e: Any) -> None:
        self.last_name = e.last_name
        self.first_name = e.first_name
        self.profession = e.profession
        self.profession_code = e.profession_code
        self.profession_label = e.profession_label
        self.activities = e.activities

    def _guard(self, at: datetime) -> None:
        _aware(at)
        if at < self.modified_on:
            raise RuleViolation(
                "PRO-2", "a command cannot be dated before the entry's last event"
            )


def _entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry as stored: checked, stripped, activities canonical."""
    idnatps = _text(entry.get("idnatps")) or ""
    id_type = _text(entry.get("id_type")) or ""
    if id_type not in ("0", "8") or not idnatps.startswith(id_type):
        raise RuleViolation(
            "ID-3", "the identifier type must be 8 (RPPS) or 0 (ADELI), its first digit"
        )
    last_name = _text(entry.get("last_name"))
    if last_name is None:
        raise RuleViolation("PRO-2", "a professional has a name")
    profession = _text(entry.get("profession")) or ""
    code = _text(entry.get("profession_code")) or ""
    if PROFESSION_CODES.get(code) != profession:
        raise RuleViolation("PRO-2", f"profession code {code!r} is not {profession!r}")
    activities = canonical_activities(entry.get("activities") or [])
    if not 1 <= len(activities) <= MAX_ACTIVITIES:
        raise RuleViolation(
            "PRO-2", f"a professional has 1 to {MAX_ACTIVITIES} places of practice"
        )
    return {
        "idnatps": idnatps,
        "id_type": id_type,
        "last_name": last_name,
        "first_name": _text(entry.get("first_name")),
        "profession": profession,
        "profession_code": code,
        "profession_label": _text(entry.get("profession_label")),
        "activities": activities,
    }


def _aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise RuleViolation("PRO-2", "times must be timezone-aware")
