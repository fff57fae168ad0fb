"""Use cases of the medical profile (PRO-1, ACC-6).

The holder (or their legal representative) fills it in; each change is one
event. Reading it, now or as its history (the aggregate's own events,
replayed), is a read of the holder's health data and is traced in the access
journal like a read of the record (ADR-0013).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog

from espace.application import schemas, service_schemas
from espace.application.common import ServiceBase
from espace.application.errors import NotFound
from espace.domain.actors import Action, Actor
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.profile import MedicalProfile, profile_id
from espace.domain.profile_history import describe

log = structlog.get_logger("espace.profile")


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
        p = schemas.load(service_schemas.MeasurementsSchema, data)
        return self._change(
            actor,
            espace_id,
            "measurements",
            lambda prof, t, by: prof.record_measurements(
                at=t, by=by, height_cm=p["height_cm"], weight_kg=p["weight_kg"]
            ),
            at,
        )

    def record_allergy(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: an allergy (substance, reaction, severity)."""
        p = schemas.load(service_schemas.AllergySchema, data)
        entry = uuid4()
        return self._change(
            actor,
            espace_id,
            "allergy",
            lambda prof, t, by: prof.record_allergy(
                at=t,
                by=by,
                entry_id=entry,
                substance=p["substance"],
                reaction=p["reaction"],
                severity=p["severity"],
            ),
            at,
            entry,
        )

    def record_condition(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: a condition (and when it was diagnosed)."""
        p = schemas.load(service_schemas.ConditionSchema, data)
        entry = uuid4()
        return self._change(
            actor,
            espace_id,
            "condition",
            lambda prof, t, by: prof.record_condition(
                at=t,
                by=by,
                entry_id=entry,
                name=p["name"],
                diagnosed_on=p["diagnosed_on"],
            ),
            at,
            entry,
            dates={"diagnosed_on": p["diagnosed_on"]},
        )

    def record_treatment(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: a treatment (dosage, since when)."""
        p = schemas.load(service_schemas.TreatmentSchema, data)
        entry = uuid4()
        return self._change(
            actor,
            espace_id,
            "treatment",
            lambda prof, t, by: prof.record_treatment(
                at=t,
                by=by,
                entry_id=entry,
                name=p["name"],
                dosage=p["dosage"],
                started_on=p["started_on"],
            ),
            at,
            entry,
            dates={"started_on": p["started_on"]},
        )

    def record_vaccination(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: a vaccination (vaccine, date, dose)."""
        p = schemas.load(service_schemas.VaccinationSchema, data)
        entry = uuid4()
        return self._change(
            actor,
            espace_id,
            "vaccination",
            lambda prof, t, by: prof.record_vaccination(
                at=t,
                by=by,
                entry_id=entry,
                vaccine=p["vaccine"],
                given_on=p["given_on"],
                dose=p["dose"],
            ),
            at,
            entry,
            dates={"given_on": p["given_on"]},
        )

    def remove_entry(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: remove an allergy, condition or vaccination; stop a treatment."""
        p = schemas.load(service_schemas.EntrySchema, data)
        return self._change(
            actor,
            espace_id,
            f"{p['section']} removed",
            lambda prof, t, by: prof.remove(
                at=t, by=by, section=p["section"], entry_id=p["entry_id"]
            ),
            at,
        )

    def designate_trusted_person(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-1: the trusted person, reachable by phone or e-mail."""
        p = schemas.load(service_schemas.TrustedPersonSchema, data)
        return self._change(
            actor,
            espace_id,
            "trusted person",
            lambda prof, t, by: prof.designate_trusted_person(
                at=t,
                by=by,
                name=p["name"],
                relationship=p["relationship"],
                phone=p["phone"],
                email=p["email"],
            ),
            at,
        )

    def revoke_trusted_person(
        self, actor: Actor, espace_id: UUID, at: datetime | None = None
    ) -> dict[str, Any]:
        """PRO-1: the holder side revokes the trusted person; returns the change
        and the profile's new version."""
        return self._change(
            actor,
            espace_id,
            "trusted person revoked",
            lambda prof, t, by: prof.revoke_trusted_person(at=t, by=by),
            at,
        )

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

    def _change(
        self,
        actor: Actor,
        espace_id: UUID,
        what: str,
        change: Callable[[MedicalProfile, datetime, str], None],
        at: datetime | None,
        entry_id: UUID | None = None,
        *,
        dates: Mapping[str, date | None] | None = None,
    ) -> dict[str, Any]:
        espace: EspaceSante = self._espace(espace_id)
        for field, day in (dates or {}).items():
            self._since_birth(espace, field, day)
        self._require(self._holder_side(actor), Action.UPLOAD, espace)
        by = str(actor.kind)
        existing = self._maybe(profile_id(espace_id), MedicalProfile, "profile")
        now = self._now(at)
        profile = existing or MedicalProfile.start(espace_id=espace_id, at=now, by=by)
        change(profile, now, by)
        self._save(profile)
        log.info("profile.changed", espace_id=str(espace_id), change=what)
        result: dict[str, Any] = {
            "espace_id": str(espace_id),
            "change": what,
            "version": profile.version,
        }
        if entry_id is not None:
            result["entry_id"] = str(entry_id)
        return result
