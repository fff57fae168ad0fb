"""The agenda: the Appointment aggregate, one per medical appointment (AG-1).

An appointment says who (a professional of the directory, by IdNatPS, or free
text), when (an aware instant), where and why. It is created by the holder or
by a professional, and moved or cancelled. Every event carries ``espace_id``:
the place, the free-text "who" and the reason are health data, sealed under
the espace's key and erased with it (ADR-0013).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.actors import ActorKind
from espace.domain.errors import RuleViolation


class Status(StrEnum):
    """AG-1: whether an appointment still stands or was cancelled."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


HOLDER_KINDS = frozenset({ActorKind.HOLDER, ActorKind.REPRESENTATIVE})
PROFESSIONAL_STATES = frozenset({"open", "active"})
"""LC-4: professionals feed an opened espace, activated or not."""

MAX_TEXT = 500


class Appointment(Aggregate):
    """AG-1: a medical appointment in a holder's agenda."""

    class Event(Aggregate.Event):
        """An appointment's events: each carries ``espace_id``, so the health data
        they hold is sealed under the espace's key and erased with it (ADR-0013)."""

        espace_id: UUID

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Scheduled(Aggregate.Created, Event):
        """AG-1: who, when, where, reason."""

        created_by_kind: str
        created_by_id: str
        professional_id: str | None
        with_label: str | None
        starts_at: datetime
        place: str | None
        reason: str | None

    class Moved(Event):
        """AG-1: a new time (and perhaps a new place)."""

        by_kind: str
        by_id: str
        starts_at: datetime
        place: str | None

        def apply(self, aggregate: Any) -> None:
            """The appointment takes the new time and place."""
            a: Appointment = aggregate
            a.starts_at = self.starts_at
            a.place = self.place

    class Cancelled(Event):
        """AG-1: the appointment will not take place."""

        by_kind: str
        by_id: str

        def apply(self, aggregate: Any) -> None:
            """The appointment is cancelled as of the event's time."""
            a: Appointment = aggregate
            a.status = Status.CANCELLED
            a.cancelled_at = self.timestamp

    # ---------------------------------------------------------------- create

    @classmethod
    def schedule(
        cls,
        *,
        appointment_id: UUID,
        espace_id: UUID,
        espace_state: str,
        at: datetime,
        by_kind: str,
        by_id: str,
        professional_id: str | None,
        with_label: str | None,
        starts_at: datetime,
        place: str | None,
        reason: str | None,
    ) -> Appointment:
        """AG-1: the holder (activated espace) or a professional (open or
        activated espace) creates an appointment in the future."""
        _aware(at, starts_at)
        _may_write(by_kind, espace_state)
        if (professional_id is None) == (not (with_label or "").strip()):
            raise RuleViolation(
                "AG-1", "who: give a professional of the directory or a name, not both"
            )
        if starts_at <= at:
            raise RuleViolation("AG-1", "an appointment is made for the future")
        _texts(with_label, place, reason)
        return cls._create(
            cls.Scheduled,
            id=appointment_id,
            timestamp=at,
            espace_id=espace_id,
            created_by_kind=by_kind,
            created_by_id=by_id,
            professional_id=professional_id,
            with_label=(with_label or "").strip() or None,
            starts_at=starts_at,
            place=(place or "").strip() or None,
            reason=(reason or "").strip() or None,
        )

    def __init__(
        self,
        espace_id: UUID,
        created_by_kind: str,
        created_by_id: str,
        professional_id: str | None,
        with_label: str | None,
        starts_at: datetime,
        place: str | None,
        reason: str | None,
    ) -> None:
        self.espace_id = espace_id
        self.created_by_kind = created_by_kind
        self.created_by_id = created_by_id
        self.professional_id = professional_id
        self.with_label = with_label
        self.starts_at = starts_at
        self.place = place
        self.reason = reason
        self.status = Status.SCHEDULED
        self.cancelled_at: datetime | None = None

    def concerns(self, kind: str, party_id: str) -> bool:
        """The holder side of the espace, or the professional it is with or
        who made it."""
        if kind in HOLDER_KINDS:
            return party_id == str(self.espace_id)
        return kind == ActorKind.PROFESSIONAL and party_id in (
            self.professional_id,
            self.created_by_id
            if self.created_by_kind == ActorKind.PROFESSIONAL
            else None,
        )

    # ---------------------------------------------------------------- commands

    def move(
        self,
        *,
        at: datetime,
        by_kind: str,
        by_id: str,
        espace_state: str,
        starts_at: datetime,
        place: str | None = None,
    ) -> None:
        """AG-1: to a new time in the future; the place stays unless given."""
        self._guard(at, by_kind, by_id, espace_state)
        _aware(starts_at)
        if starts_at <= at:
            raise RuleViolation("AG-1", "an appointment is moved to the future")
        new_place = (place or "").strip() or self.place
        if starts_at == self.starts_at and new_place == self.place:
            raise RuleViolation("AG-1", "the appointment is already at that time")
        _texts(new_place)
        self.trigger_event(
            self.Moved,
            timestamp=at,
            espace_id=self.espace_id,
            by_kind=by_kind,
            by_id=by_id,
            starts_at=starts_at,
            place=new_place,
        )

    def cancel(
        self, *, at: datetime, by_kind: str, by_id: str, espace_state: str
    ) -> None:
        """AG-1: an appointment still to come can be cancelled."""
        self._guard(at, by_kind, by_id, espace_state)
        self.trigger_event(
            self.Cancelled,
            timestamp=at,
            espace_id=self.espace_id,
            by_kind=by_kind,
            by_id=by_id,
        )

    def _guard(self, at: datetime, by_kind: str, by_id: str, espace_state: str) -> None:
        _aware(at)
        if at < self.modified_on:
            raise RuleViolation(
                "AG-1", "a command cannot be dated before the appointment's last event"
            )
        if not self.concerns(by_kind, by_id):
            raise RuleViolation(
                "AG-1",
                "only the holder, or the professional it is with or who made it, "
                "changes an appointment",
            )
        _may_write(by_kind, espace_state)
        if self.status is Status.CANCELLED:
            raise RuleViolation("AG-1", "the appointment is cancelled")
        if self.starts_at <= at:
            raise RuleViolation("AG-1", "the appointment has already taken place")


def _may_write(by_kind: str, espace_state: str) -> None:
    if by_kind in HOLDER_KINDS:
        if espace_state != "active":
            rule = {"open": "LC-4", "suspended": "LC-7", "closed": "LC-8"}.get(
                espace_state, "LC-4"
            )
            raise RuleViolation(
                rule, f"the holder's agenda is not writable (espace {espace_state})"
            )
    elif by_kind == ActorKind.PROFESSIONAL:
        if espace_state not in PROFESSIONAL_STATES:
            raise RuleViolation(
                "LC-7" if espace_state == "suspended" else "LC-4",
                f"no agenda is open to professionals (espace {espace_state})",
            )
    else:
        raise RuleViolation("AG-1", f"{by_kind!r} does not keep an agenda")


def _texts(*values: str | None) -> None:
    for value in values:
        if value is not None and len(value) > MAX_TEXT:
            raise RuleViolation("AG-1", f"at most {MAX_TEXT} characters")


def _aware(*values: datetime) -> None:
    for value in values:
        if value.tzinfo is None or value.utcoffset() is None:
            raise RuleViolation("AG-1", "times must be timezone-aware")
