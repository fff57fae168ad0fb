"""Use cases of the agenda (AG-1, PRO-2, ACC-2).

The holder, or a professional listed in the directory, creates an
appointment: who, when, where, why; it can be moved or cancelled. The
upcoming appointments come from the agenda view; the place, the "who" in
free text and the reason are read from the sealed events (ADR-0013).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import Application

from espace.application import schemas, service_schemas
from espace.application.common import ServiceBase
from espace.application.errors import InvalidInput
from espace.application.lifecycle import LifecycleService
from espace.application.ports import Clock, ProfessionalDirectory
from espace.application.queries import AgendaView, DirectoryView
from espace.domain import calendar
from espace.domain.actors import Action, Actor, ActorKind
from espace.domain.agenda import Appointment
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.pages import Rows

log = structlog.get_logger("espace.agenda")


class AgendaService(ServiceBase):
    """AG-1: the holder's agenda of medical appointments."""

    def __init__(
        self,
        app: Application[UUID],
        lifecycle: LifecycleService,
        clock: Clock,
        *,
        queries: AgendaView,
        directory_view: DirectoryView,
        directory: ProfessionalDirectory | None = None,
    ) -> None:
        super().__init__(app, lifecycle, clock, directory=directory)
        self.queries = queries
        self.directory_view = directory_view

    def schedule(
        self,
        actor: Actor,
        espace_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """AG-1: a new appointment, made by the holder or by a professional."""
        params = schemas.load(service_schemas.AppointmentSchema, data)
        espace = self._espace(espace_id)
        now = self._now(at)
        self._plausible(espace, params["starts_at"], now)
        self._may(actor, espace)
        with_pro = params["with_professional"]
        if with_pro is not None:
            self._require_listed(with_pro)
        appointment = Appointment.schedule(
            appointment_id=uuid4(),
            espace_id=espace_id,
            espace_state=str(espace.state),
            at=now,
            by_kind=str(actor.kind),
            by_id=actor.id,
            professional_id=with_pro,
            with_label=params["with_label"],
            starts_at=params["starts_at"],
            place=params["place"],
            reason=params["reason"],
        )
        self._save(appointment)
        log.info(
            "appointment.scheduled",
            espace_id=str(espace_id),
            appointment_id=str(appointment.id),
        )
        return self._summary(appointment)

    def move(
        self,
        actor: Actor,
        appointment_id: UUID,
        data: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """AG-1: to a new time in the future (and perhaps a new place)."""
        params = schemas.load(service_schemas.MoveSchema, data)
        appointment = self._appointment(appointment_id)
        espace = self._espace(appointment.espace_id)
        now = self._now(at)
        self._plausible(espace, params["starts_at"], now)
        self._may(actor, espace)
        appointment.move(
            at=now,
            by_kind=str(actor.kind),
            by_id=actor.id,
            espace_state=str(espace.state),
            starts_at=params["starts_at"],
            place=params["place"],
        )
        self._save(appointment)
        return self._summary(appointment)

    def cancel(
        self, actor: Actor, appointment_id: UUID, at: datetime | None = None
    ) -> dict[str, Any]:
        """AG-1: an appointment still to come is cancelled."""
        appointment = self._appointment(appointment_id)
        espace = self._espace(appointment.espace_id)
        now = self._now(at)
        self._may(actor, espace)
        appointment.cancel(
            at=now,
            by_kind=str(actor.kind),
            by_id=actor.id,
            espace_state=str(espace.state),
        )
        self._save(appointment)
        return self._summary(appointment)

    def upcoming(
        self,
        actor: Actor,
        espace_id: UUID,
        *,
        include_cancelled: bool = False,
        limit: int = 100,
        offset: int = 0,
        at: datetime | None = None,
    ) -> Rows:
        """AG-1: the appointments to come, soonest first, with their details,
        and how many there are in all (``total``).

        The holder sees all of them; a professional, those with them or made
        by them (the view selects them, so the total is what they may see).
        """
        espace = self._espace(espace_id)
        now = self._now(at)
        if actor.kind is ActorKind.PROFESSIONAL:
            self._may(actor, espace)
        else:
            self._holder(actor, Action.LIST, espace)
        rows = self.queries.upcoming(
            now=now,
            espace_id=espace_id,
            professional_id=(
                actor.id if actor.kind is ActorKind.PROFESSIONAL else None
            ),
            include_cancelled=include_cancelled,
            limit=limit,
            offset=offset,
        )
        names = self.directory_view.names(
            [r["professional_id"] for r in rows if r["professional_id"]]
        )
        out = []
        skipped = 0
        for row in rows:
            appointment = self._appointment(row["appointment_id"])
            if not appointment.concerns(str(actor.kind), actor.id):
                skipped += 1  # the view is behind the appointment's events
                continue
            out.append(
                {
                    **self._summary(appointment),
                    "with": names.get(appointment.professional_id or "")
                    or appointment.with_label,
                    "place": appointment.place,
                    "reason": appointment.reason,
                    "created_by": appointment.created_by_kind,
                }
            )
        return Rows(out, rows.total - skipped)

    # ----------------------------------------------------------------- helpers

    def _plausible(
        self, espace: EspaceSante, starts_at: datetime, now: datetime
    ) -> None:
        """ADR-0017: an appointment falls between the holder's birth and
        ten years from now (AG-1)."""
        self._since_birth(espace, "starts_at", starts_at)
        horizon = calendar.years_after(now, calendar.APPOINTMENT_HORIZON_YEARS)
        if starts_at >= horizon:
            raise InvalidInput(
                {
                    "starts_at": [
                        "an appointment is made at most "
                        f"{calendar.APPOINTMENT_HORIZON_YEARS} years ahead"
                    ]
                }
            )

    def _may(self, actor: Actor, espace: EspaceSante) -> None:
        """PRO-2 and ACC-2 for a professional; the holder side by the record's
        decision (LC-4, LC-8, LC-11, LC-12)."""
        if actor.kind is ActorKind.PROFESSIONAL:
            self._require(actor, Action.APPOINTMENT, espace)
        elif actor.holder_side:
            self._holder(actor, Action.UPLOAD, espace)
        else:
            raise RuleViolation("AG-1", f"an {actor.kind} does not keep an agenda")

    def _holder(self, actor: Actor, action: Action, espace: EspaceSante) -> None:
        self._require(actor, action, espace)

    def _appointment(self, appointment_id: UUID) -> Appointment:
        return self._load(appointment_id, Appointment, "appointment")

    @staticmethod
    def _summary(a: Appointment) -> dict[str, Any]:
        return {
            "appointment_id": str(a.id),
            "espace_id": str(a.espace_id),
            "status": str(a.status),
            "starts_at": a.starts_at,
            "professional_id": a.professional_id,
            "version": a.version,
        }
