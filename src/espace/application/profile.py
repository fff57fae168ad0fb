"""Use cases of the medical profile (PRO-1, ACC-6).

The holder (or their legal representative) fills it in; each change is one
event. Reading it, now or as its history (the aggregate's own events,
replayed), is a read of the holder's health data and is traced in the access
journal like a read of the record (ADR-0013).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from marshmallow import Schema

from espace.application import schemas, service_schemas
from espace.application.common import ServiceBase
from espace.application.errors import NotFound
from espace.domain.actors import Action, Actor
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.profile import MedicalProfile, profile_id
from espace.domain.profile_history import describe

log = structlog.get_logger("espace.profile")


@dataclass(frozen=True)
class ProfileChange:
    """One kind of change to the profile: the schema of its input, whose
    fields are the keyword arguments of the aggregate's ``command``; what
    the log and the result call it (formatted with the input); and whether
    it makes a new entry, whose id the result gives. Every date in the
    input is checked against the holder's birth (ADR-0017)."""

    schema: type[Schema] | None
    command: Callable[..., None]
    what: str
    new_entry: bool = False


MEASUREMENTS = ProfileChange(
    service_schemas.MeasurementsSchema,
    MedicalProfile.record_measurements,
    "measurements",
)
ALLERGY = ProfileChange(
    service_schemas.AllergySchema,
    MedicalProfile.record_allergy,
    "allergy",
    new_entry=True,
)
CONDITION = ProfileChange(
    service_schemas.ConditionSchema,
    MedicalProfile.record_condition,
    "condition",
    new_entry=True,
)
TREATMENT = ProfileChange(
    service_schemas.TreatmentSchema,
    MedicalProfile.record_treatment,
    "treatment",
    new_entry=True,
)
VACCINATION = ProfileChange(
    service_schemas.VaccinationSchema,
    MedicalProfile.record_vaccination,
    "vaccination",
    new_entry=True,
)
ENTRY_REMOVED = ProfileChange(
    service_schemas.EntrySchema, MedicalProfile.remove, "{section} removed"
)
TRUSTED_PERSON = ProfileChange(
    service_schemas.TrustedPersonSchema,
    MedicalProfile.designate_trusted_person,
    "trusted person",
)
TRUSTED_PERSON_REVOKED = ProfileChange(
    None, MedicalProfile.revoke_trusted_person, "trusted person revoked"
)


class ProfileService(ServiceBase):
    """PRO-1: the holder's medical profile."""

    # ----------------------------------------------------------------- changes

    def record_measurements(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: height (cm) and weight (kg), within plausible ranges."""
        return self.change(MEASUREMENTS, actor, espace_id, data, at)

    def record_allergy(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: an allergy (substance, reaction, severity)."""
        return self.change(ALLERGY, actor, espace_id, data, at)

    def record_condition(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: a condition (and when it was diagnosed)."""
        return self.change(CONDITION, actor, espace_id, data, at)

    def record_treatment(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: a treatment (dosage, since when)."""
        return self.change(TREATMENT, actor, espace_id, data, at)

    def record_vaccination(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: a vaccination (vaccine, date, dose)."""
        return self.change(VACCINATION, actor, espace_id, data, at)

    def remove_entry(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: remove an allergy, condition or vaccination; stop a treatment."""
        return self.change(ENTRY_REMOVED, actor, espace_id, data, at)

    def designate_trusted_person(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: the trusted person, reachable by phone or e-mail."""
        return self.change(TRUSTED_PERSON, actor, espace_id, data, at)

    def revoke_trusted_person(
        self, actor: Actor, espace_id: UUID, at: datetime | None = None
    ) -> dict[str, Any]:
        """PRO-1: the holder side revokes the trusted person; returns the change
        and the profile's new version."""
        return self.change(TRUSTED_PERSON_REVOKED, actor, espace_id, {}, at)

    def change(
        self,
        kind: ProfileChange,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: the one handler of every change to the profile: the input
        checked by its schema, the holder side's right to change it, the
        aggregate's command, one save."""
        given = schemas.load(kind.schema, data) if kind.schema is not None else {}
        espace: EspaceSante = self._espace(espace_id)
        for field, value in given.items():
            if isinstance(value, date):
                self._since_birth(espace, field, value)
        self._require(self._holder_side(actor), Action.UPLOAD, espace)
        by = str(actor.kind)
        existing = self._maybe(profile_id(espace_id), MedicalProfile, "profile")
        now = self._now(at)
        profile = existing or MedicalProfile.start(espace_id=espace_id, at=now, by=by)
        entry = uuid4() if kind.new_entry else None
        arguments = {**given, "entry_id": entry} if entry is not None else given
        kind.command(profile, at=now, by=by, **arguments)
        self._save(profile)
        what = kind.what.format(**given)
        log.info("profile.changed", espace_id=str(espace_id), change=what)
        result: dict[str, Any] = {
            "espace_id": str(espace_id),
            "change": what,
            "version": profile.version,
        }
        if entry is not None:
            result["entry_id"] = str(entry)
        return result

    # ----------------------------------------------------------------- reads

    def show(
        self, actor: Actor, espace_id: UUID, at: datetime | None = None
    ) -> dict[str, Any]:
        """PRO-1: the profile as it stands; traced as a read (ACC-6)."""
        espace = self._espace(espace_id)
        now = self._now(at)
        gate = self._open_gate(actor, Action.PROFILE, espace, now, detail="profile")
        trace = gate.trace()
        profile = self._maybe(profile_id(espace_id), MedicalProfile, "profile")
        self._save(trace)
        if profile is None:
            raise NotFound(f"espace {espace_id} has no medical profile yet")
        return {**profile.current(), "trace_id": str(trace.id)}

    def history(
        self, actor: Actor, espace_id: UUID, at: datetime | None = None
    ) -> list[dict[str, Any]]:
        """PRO-1: every change, oldest first, replayed from the profile's own
        events; traced as a read (ACC-6)."""
        espace = self._espace(espace_id)
        now = self._now(at)
        gate = self._open_gate(
            actor, Action.PROFILE, espace, now, detail="profile history"
        )
        trace = gate.trace()
        events = list(self.app.repository.event_store.get(profile_id(espace_id)))
        self._save(trace)
        return [describe(e) for e in events]

    # ----------------------------------------------------------------- helpers

    def _holder_side(self, actor: Actor) -> Actor:
        """PRO-1: the holder fills in the profile; the record's decision then
        says when (LC-4 activated, LC-8 read-only archive, LC-11, LC-12)."""
        if not actor.holder_side:
            raise RuleViolation(
                "PRO-1", "the medical profile is the holder's: only they fill it in"
            )
        return actor
