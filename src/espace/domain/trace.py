"""Traces and alerts: one small aggregate per fact (ACC-5, ACC-6, SEC-2).

A trace is its own aggregate with a single event, so recording one is one
insert whatever the length of the record's history (no load, no
contention). It carries ``espace_id``: it is kept inside the record, sealed
under its key, for as long as the record (SEC-2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.errors import RuleViolation


class AccessTrace(Aggregate):
    """ACC-6: who did what, when, on what grounds — or was denied, and why."""

    class Recorded(Aggregate.Created):
        espace_id: UUID
        actor_kind: str
        actor_id: str
        actor_profession: str | None
        action: str
        mode: str
        allowed: bool
        ground: str | None
        rule: str | None
        reason: str | None
        document_id: UUID | None
        version_id: UUID | None
        detail: str | None

    @classmethod
    def record(
        cls,
        *,
        trace_id: UUID,
        espace_id: UUID,
        at: datetime,
        actor_kind: str,
        actor_id: str,
        actor_profession: str | None,
        action: str,
        mode: str,
        allowed: bool,
        ground: str | None = None,
        rule: str | None = None,
        reason: str | None = None,
        document_id: UUID | None = None,
        version_id: UUID | None = None,
        detail: str | None = None,
    ) -> AccessTrace:
        if at.tzinfo is None:
            raise RuleViolation("ACC-6", "times must be timezone-aware")
        return cls._create(
            cls.Recorded,
            id=trace_id,
            timestamp=at,
            espace_id=espace_id,
            actor_kind=actor_kind,
            actor_id=actor_id,
            actor_profession=actor_profession,
            action=action,
            mode=mode,
            allowed=allowed,
            ground=ground,
            rule=rule,
            reason=reason,
            document_id=document_id,
            version_id=version_id,
            detail=detail,
        )

    def __init__(
        self,
        espace_id: UUID,
        actor_kind: str,
        actor_id: str,
        actor_profession: str | None,
        action: str,
        mode: str,
        allowed: bool,
        ground: str | None,
        rule: str | None,
        reason: str | None,
        document_id: UUID | None,
        version_id: UUID | None,
        detail: str | None,
    ) -> None:
        self.espace_id = espace_id
        self.actor_kind = actor_kind
        self.actor_id = actor_id
        self.actor_profession = actor_profession
        self.action = action
        self.mode = mode
        self.allowed = allowed
        self.ground = ground
        self.rule = rule
        self.reason = reason
        self.document_id = document_id
        self.version_id = version_id
        self.detail = detail


class Alert(Aggregate):
    """ACC-5, DOC-5: something the holder (or the médecin traitant) must be told."""

    class Event(Aggregate.Event):
        espace_id: UUID

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Raised(Aggregate.Created, Event):
        recipient_kind: str
        recipient_id: str
        reason: str
        trace_id: UUID | None
        document_id: UUID | None

    class Delivered(Event):
        channel: str

        def apply(self, aggregate: Any) -> None:
            aggregate.delivered_at = self.timestamp

    @classmethod
    def raise_(
        cls,
        *,
        alert_id: UUID,
        espace_id: UUID,
        at: datetime,
        recipient_kind: str,
        recipient_id: str,
        reason: str,
        trace_id: UUID | None = None,
        document_id: UUID | None = None,
    ) -> Alert:
        return cls._create(
            cls.Raised,
            id=alert_id,
            timestamp=at,
            espace_id=espace_id,
            recipient_kind=recipient_kind,
            recipient_id=recipient_id,
            reason=reason,
            trace_id=trace_id,
            document_id=document_id,
        )

    def __init__(
        self,
        espace_id: UUID,
        recipient_kind: str,
        recipient_id: str,
        reason: str,
        trace_id: UUID | None,
        document_id: UUID | None,
    ) -> None:
        self.espace_id = espace_id
        self.recipient_kind = recipient_kind
        self.recipient_id = recipient_id
        self.reason = reason
        self.trace_id = trace_id
        self.document_id = document_id
        self.delivered_at: datetime | None = None

    def deliver(self, *, at: datetime, channel: str) -> None:
        if self.delivered_at is not None:
            raise RuleViolation("ACC-5", "this notification was already delivered")
        self.trigger_event(
            self.Delivered, timestamp=at, espace_id=self.espace_id, channel=channel
        )
