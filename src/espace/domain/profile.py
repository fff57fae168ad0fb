"""The medical profile: one per espace, filled in by the holder (PRO-1).

Height, weight, allergies, conditions, treatments, vaccinations and a trusted
person. Each change is its own event, so the history of the profile is the
aggregate's event stream, replayed (ADR-0013). Every event carries
``espace_id``: the whole profile is health data, sealed under the espace's key
and erased with it; no view holds any of it (SEC-1, SEC-4).

What each entry may hold, and the checks on it, are in
:mod:`espace.domain.profile_entries`; the lines of its history
(:func:`espace.domain.profile_history.describe`) in
:mod:`espace.domain.profile_history`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.errors import RuleViolation
from espace.domain.profile_entries import (
    HEIGHT_CM,
    MAX_ENTRIES,
    RELATIONSHIPS,
    SECTIONS,
    SEVERITIES,
    WEIGHT_KG,
    in_range,
    not_future,
    optional,
    required,
)
from espace.domain.profile_history import plain

PROFILE_NAMESPACE = UUID("a4c2e1f0-5b3d-4e8a-9f7c-6d1b2a3c4e5f")


def profile_id(espace_id: UUID) -> UUID:
    """One profile per espace: its id is derived, no look-up needed."""
    return uuid.uuid5(PROFILE_NAMESPACE, str(espace_id))


class MedicalProfile(Aggregate):
    """PRO-1: the holder's medical profile."""

    class Event(Aggregate.Event):
        """The profile's events: each carries ``espace_id`` (sealed under the
        espace's key, erased with it) and ``by``, who made the change."""

        espace_id: UUID
        by: str

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Started(Aggregate.Created, Event):
        """PRO-1: the holder's first entry."""

    class MeasurementsRecorded(Event):
        """PRO-1: height (cm) and/or weight (kg)."""

        height_cm: Decimal | None
        weight_kg: Decimal | None

        def apply(self, aggregate: Any) -> None:
            """The given measurements replace the previous ones; the other stays."""
            p: MedicalProfile = aggregate
            if self.height_cm is not None:
                p.height_cm = self.height_cm
            if self.weight_kg is not None:
                p.weight_kg = self.weight_kg
            p.measured_at = self.timestamp

    class AllergyRecorded(Event):
        """PRO-1: the holder recorded an allergy: substance, reaction, severity."""

        entry_id: UUID
        substance: str
        reaction: str | None
        severity: str

        def apply(self, aggregate: Any) -> None:
            """The allergy joins the profile, under its entry id."""
            aggregate.allergies[self.entry_id] = {
                "substance": self.substance,
                "reaction": self.reaction,
                "severity": self.severity,
                "since": self.timestamp,
            }

    class AllergyRemoved(Event):
        """PRO-1: the holder removed an allergy from the profile."""

        entry_id: UUID

        def apply(self, aggregate: Any) -> None:
            """The allergy leaves the profile."""
            aggregate.allergies.pop(self.entry_id, None)

    class ConditionRecorded(Event):
        """PRO-1: the holder recorded a condition, perhaps with its diagnosis date."""

        entry_id: UUID
        name: str
        diagnosed_on: date | None

        def apply(self, aggregate: Any) -> None:
            """The condition joins the profile, under its entry id."""
            aggregate.conditions[self.entry_id] = {
                "name": self.name,
                "diagnosed_on": self.diagnosed_on,
            }

    class ConditionRemoved(Event):
        """PRO-1: the holder removed a condition from the profile."""

        entry_id: UUID

        def apply(self, aggregate: Any) -> None:
            """The condition leaves the profile."""
            aggregate.conditions.pop(self.entry_id, None)

    class TreatmentRecorded(Event):
        """PRO-1: the holder recorded a treatment, its dosage and start date."""

        entry_id: UUID
        name: str
        dosage: str | None
        started_on: date | None

        def apply(self, aggregate: Any) -> None:
            """The treatment joins the profile, under its entry id."""
            aggregate.treatments[self.entry_id] = {
                "name": self.name,
                "dosage": self.dosage,
                "started_on": self.started_on,
            }

    class TreatmentStopped(Event):
        """PRO-1: the holder stopped a treatment: it leaves the profile."""

        entry_id: UUID

        def apply(self, aggregate: Any) -> None:
            """The treatment leaves the profile."""
            aggregate.treatments.pop(self.entry_id, None)

    class VaccinationRecorded(Event):
        """PRO-1: the holder recorded a vaccination, the day it was given, the dose."""

        entry_id: UUID
        vaccine: str
        given_on: date
        dose: str | None

        def apply(self, aggregate: Any) -> None:
            """The vaccination joins the profile, under its entry id."""
            aggregate.vaccinations[self.entry_id] = {
                "vaccine": self.vaccine,
                "given_on": self.given_on,
                "dose": self.dose,
            }

    class VaccinationRemoved(Event):
        """PRO-1: the holder removed a vaccination from the profile."""

        entry_id: UUID

        def apply(self, aggregate: Any) -> None:
            """The vaccination leaves the profile."""
            aggregate.vaccinations.pop(self.entry_id, None)

    class TrustedPersonDesignated(Event):
        """PRO-1: the person of trust (personne de confiance)."""

        name: str
        relationship: str
        phone: str | None
        email: str | None

        def apply(self, aggregate: Any) -> None:
            """The trusted person replaces any previous one."""
            aggregate.trusted_person = {
                "name": self.name,
                "relationship": self.relationship,
                "phone": self.phone,
                "email": self.email,
            }

    class TrustedPersonRevoked(Event):
        """PRO-1: the holder no longer has a trusted person."""

        def apply(self, aggregate: Any) -> None:
            """The profile has no trusted person."""
            aggregate.trusted_person = None

    # ---------------------------------------------------------------- create

    @classmethod
    def start(cls, *, espace_id: UUID, at: datetime, by: str) -> MedicalProfile:
        """PRO-1: the profile of espace ``espace_id``, at its derived id
        (:func:`profile_id`), on the holder's first entry."""
        _aware(at)
        return cls._create(
            cls.Started,
            id=profile_id(espace_id),
            timestamp=at,
            espace_id=espace_id,
            by=by,
        )

    def __init__(self, espace_id: UUID, by: str) -> None:
        self.espace_id = espace_id
        self.height_cm: Decimal | None = None
        self.weight_kg: Decimal | None = None
        self.measured_at: datetime | None = None
        self.allergies: dict[UUID, dict[str, Any]] = {}
        self.conditions: dict[UUID, dict[str, Any]] = {}
        self.treatments: dict[UUID, dict[str, Any]] = {}
        self.vaccinations: dict[UUID, dict[str, Any]] = {}
        self.trusted_person: dict[str, Any] | None = None

    # ---------------------------------------------------------------- commands

    def record_measurements(
        self,
        *,
        at: datetime,
        by: str,
        height_cm: Decimal | None = None,
        weight_kg: Decimal | None = None,
    ) -> None:
        """PRO-1: height and weight, each within its plausible range."""
        self._guard(at)
        if height_cm is None and weight_kg is None:
            raise RuleViolation("PRO-1", "give a height, a weight or both")
        in_range("height_cm", height_cm, HEIGHT_CM, "cm")
        in_range("weight_kg", weight_kg, WEIGHT_KG, "kg")
        if (height_cm is None or height_cm == self.height_cm) and (
            weight_kg is None or weight_kg == self.weight_kg
        ):
            raise RuleViolation("PRO-1", "these measurements are already recorded")
        self._trigger(
            self.MeasurementsRecorded, at, by, height_cm=height_cm, weight_kg=weight_kg
        )

    def record_allergy(
        self,
        *,
        at: datetime,
        by: str,
        entry_id: UUID,
        substance: str,
        reaction: str | None = None,
        severity: str = "unknown",
    ) -> None:
        """PRO-1: an allergy, by substance (once each, whatever the case), with a
        severity among :data:`SEVERITIES`."""
        self._guard(at)
        substance = required(substance, "substance")
        if severity not in SEVERITIES:
            raise RuleViolation("PRO-1", f"severity is one of {', '.join(SEVERITIES)}")
        if any(
            a["substance"].casefold() == substance.casefold()
            for a in self.allergies.values()
        ):
            raise RuleViolation("PRO-1", f"an allergy to {substance} is recorded")
        self._new_entry(self.allergies, entry_id)
        self._trigger(
            self.AllergyRecorded,
            at,
            by,
            entry_id=entry_id,
            substance=substance,
            reaction=optional(reaction),
            severity=severity,
        )

    def record_condition(
        self,
        *,
        at: datetime,
        by: str,
        entry_id: UUID,
        name: str,
        diagnosed_on: date | None = None,
    ) -> None:
        """PRO-1: a condition; its diagnosis date, if given, is not in the future."""
        self._guard(at)
        name = required(name, "name")
        not_future(diagnosed_on, at)
        self._new_entry(self.conditions, entry_id)
        self._trigger(
            self.ConditionRecorded,
            at,
            by,
            entry_id=entry_id,
            name=name,
            diagnosed_on=diagnosed_on,
        )

    def record_treatment(
        self,
        *,
        at: datetime,
        by: str,
        entry_id: UUID,
        name: str,
        dosage: str | None = None,
        started_on: date | None = None,
    ) -> None:
        """PRO-1: a treatment; its start date, if given, is not in the future."""
        self._guard(at)
        name = required(name, "name")
        not_future(started_on, at)
        self._new_entry(self.treatments, entry_id)
        self._trigger(
            self.TreatmentRecorded,
            at,
            by,
            entry_id=entry_id,
            name=name,
            dosage=optional(dosage),
            started_on=started_on,
        )

    def record_vaccination(
        self,
        *,
        at: datetime,
        by: str,
        entry_id: UUID,
        vaccine: str,
        given_on: date,
        dose: str | None = None,
    ) -> None:
        """PRO-1: a vaccination, on a day that is not in the future."""
        self._guard(at)
        vaccine = required(vaccine, "vaccine")
        not_future(given_on, at)
        self._new_entry(self.vaccinations, entry_id)
        self._trigger(
            self.VaccinationRecorded,
            at,
            by,
            entry_id=entry_id,
            vaccine=vaccine,
            given_on=given_on,
            dose=optional(dose),
        )

    def remove(self, *, at: datetime, by: str, section: str, entry_id: UUID) -> None:
        """PRO-1: remove an entry (a treatment is *stopped*)."""
        self._guard(at)
        removals = {
            "allergies": (self.allergies, self.AllergyRemoved),
            "conditions": (self.conditions, self.ConditionRemoved),
            "treatments": (self.treatments, self.TreatmentStopped),
            "vaccinations": (self.vaccinations, self.VaccinationRemoved),
        }
        if section not in removals:
            raise RuleViolation("PRO-1", f"unknown section {section!r}")
        entries, event = removals[section]
        if entry_id not in entries:
            raise RuleViolation("PRO-1", f"no {SECTIONS[section]} {entry_id}")
        self._trigger(event, at, by, entry_id=entry_id)

    def designate_trusted_person(
        self,
        *,
        at: datetime,
        by: str,
        name: str,
        relationship: str,
        phone: str | None = None,
        email: str | None = None,
    ) -> None:
        """PRO-1: the trusted person; a new one replaces the previous one."""
        self._guard(at)
        name = required(name, "name")
        if relationship not in RELATIONSHIPS:
            raise RuleViolation(
                "PRO-1", f"relationship is one of {', '.join(RELATIONSHIPS)}"
            )
        if not (phone or email):
            raise RuleViolation(
                "PRO-1", "a trusted person can be reached: phone or email"
            )
        person = {
            "name": name,
            "relationship": relationship,
            "phone": optional(phone),
            "email": optional(email),
        }
        if self.trusted_person == person:
            raise RuleViolation("PRO-1", "this trusted person is already designated")
        self._trigger(self.TrustedPersonDesignated, at, by, **person)

    def revoke_trusted_person(self, *, at: datetime, by: str) -> None:
        """PRO-1: the profile no longer names a trusted person."""
        self._guard(at)
        if self.trusted_person is None:
            raise RuleViolation("PRO-1", "no trusted person is designated")
        self._trigger(self.TrustedPersonRevoked, at, by)

    # ---------------------------------------------------------------- views

    def current(self) -> dict[str, Any]:
        """The profile as it stands."""

        def listed(entries: dict[UUID, dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {"entry_id": str(k), **{f: plain(v) for f, v in e.items()}}
                for k, e in entries.items()
            ]

        return {
            "espace_id": str(self.espace_id),
            "height_cm": _number(self.height_cm),
            "weight_kg": _number(self.weight_kg),
            "measured_at": self.measured_at,
            "allergies": listed(self.allergies),
            "conditions": listed(self.conditions),
            "treatments": listed(self.treatments),
            "vaccinations": listed(self.vaccinations),
            "trusted_person": self.trusted_person,
            "updated_at": self.modified_on,
            "version": self.version,
        }

    # ---------------------------------------------------------------- helpers

    def _new_entry(self, entries: dict[UUID, Any], entry_id: UUID) -> None:
        if entry_id in entries:
            raise RuleViolation("PRO-1", "each entry has its own id")
        if len(entries) >= MAX_ENTRIES:
            raise RuleViolation("PRO-1", f"at most {MAX_ENTRIES} entries per section")

    def _trigger(
        self, event_class: type[Any], at: datetime, by: str, **kwargs: Any
    ) -> None:
        self.trigger_event(
            event_class, timestamp=at, espace_id=self.espace_id, by=by, **kwargs
        )

    def _guard(self, at: datetime) -> None:
        _aware(at)
        if at < self.modified_on:
            raise RuleViolation(
                "PRO-1", "a command cannot be dated before the profile's last event"
            )


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise RuleViolation("PRO-1", "times must be timezone-aware")
