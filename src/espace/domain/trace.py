"""Traces and alerts: one small aggregate per fact (ACC-5, ACC-6, SEC-2).

A trace is its own aggregate with a single event, so recording one is one
insert whatever the length of the record's history (no load, no
contention). It carries ``espace_id``: it is kept inside the record, sealed
under its key, for as long as the record (SEC-2).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.errors import RuleViolation


@dataclass(frozen=True)
class TraceFacts:
    """ACC-6: what a trace says: who, what, on which document, the outcome
    with its ground or its rule and reason, and the versions of everything
    the decision rested on (ADR-0022), so that replaying ``decide`` with the
    facts as they stood gives the recorded outcome again."""

    espace_id: UUID
    actor_kind: str
    actor_id: str
    actor_profession: str | None
    action: str
    mode: str
    allowed: bool
    ground: str | None = None
    rule: str | None = None
    reason: str | None = None
    document_id: UUID | None = None
    version_id: UUID | None = None
    detail: str | None = None
    espace_version: int | None = None
    consent_version: int | None = None
    """0: the holder had made no choice yet (no Consent aggregate)."""
    document_version: int | None = None
    matrix_version: int | None = None
    """The version of the access matrix actually used, whatever its age."""
    listing_version: int | None = None
    """The directory entry of the professional (PRO-2); None if not listed."""
    decided_by: str | None = "decision"
    """``decision``: the outcome is ``decide``'s; ``rule``: the decision
    allowed it and a rule of the aggregate then refused it; ``operator``: no
    decision (an operator's act). None for traces from before it was kept."""

    @classmethod
    def of_event(cls, event: object) -> TraceFacts:
        """The facts a recorded event stores flat, set at once as the
        library sets a stored event's state, not field by field through the
        frozen ``__init__`` (four times slower: every trace loaded, and an
        auditor's history loads tens of thousands, builds its facts)."""
        facts = object.__new__(cls)
        object.__setattr__(
            facts, "__dict__", {name: getattr(event, name) for name in FACT_NAMES}
        )
        return facts


OPERATOR = "operator"
"""The actor kind, and the ``decided_by``, of an operator's act."""

FACT_NAMES = tuple(f.name for f in fields(TraceFacts))
"""The names of a trace's facts: the fields its event stores flat."""

PROVENANCE = (
    "espace_version",
    "consent_version",
    "document_version",
    "matrix_version",
    "listing_version",
    "decided_by",
)


class AccessTrace(Aggregate):
    """ACC-6: who did what, when, on what grounds, or was denied, and why.

    Its fields are :class:`TraceFacts`'; the event stores them flat.
    """

    class Recorded(TraceFacts, Aggregate.Created):
        """The trace, recorded: its facts, stored flat (one key a fact).

        Its fields are :class:`TraceFacts`': a base class, so they are
        declared once. It comes first among the bases on purpose: a
        dataclass puts the fields of the later bases first, so the
        library's (``timestamp``, ``originator_topic``…) stay ahead of the
        facts and the stored state keeps its keys, in their order, as when
        the fields were written out here. The facts' defaults never fill a
        stored event (the mapper sets its state as stored; ``upcast_v1_v2``
        fills the provenance of older ones).
        """

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Traces from before their provenance (ADR-0022): not recorded."""
            for name in PROVENANCE:
                state.setdefault(name, None)

        def apply(self, aggregate: Any) -> None:
            """The trace's facts, as :attr:`AccessTrace.facts` returns them."""
            aggregate._facts = TraceFacts.of_event(self)

    @classmethod
    def record(cls, *, trace_id: UUID, at: datetime, facts: TraceFacts) -> AccessTrace:
        """ACC-6: trace an action, allowed or denied, with its facts; ``at`` must be
        timezone-aware (else RuleViolation)."""
        if at.tzinfo is None:
            raise RuleViolation("ACC-6", "times must be timezone-aware")
        return cls._create(cls.Recorded, id=trace_id, timestamp=at, **asdict(facts))

    @classmethod
    def operator_act(
        cls,
        *,
        trace_id: UUID,
        at: datetime,
        espace_id: UUID,
        operator: str,
        action: str,
        detail: str,
        **provenance: Any,
    ) -> AccessTrace:
        """ACC-6: an operator's act on an espace: allowed, with no decision
        (``decided_by`` operator), in the care mode; ``provenance`` adds the
        versions and ids it rested on (see :class:`TraceFacts`)."""
        return cls.record(
            trace_id=trace_id,
            at=at,
            facts=TraceFacts(
                espace_id=espace_id,
                actor_kind=OPERATOR,
                actor_id=operator,
                actor_profession=None,
                action=action,
                mode="care",
                allowed=True,
                detail=detail,
                decided_by=OPERATOR,
                **provenance,
            ),
        )

    @property
    def facts(self) -> TraceFacts:
        """What the trace says (see :class:`TraceFacts`)."""
        facts: TraceFacts = self.__dict__["_facts"]
        return facts


class Alert(Aggregate):
    """ACC-5, DOC-5: something the holder (or the médecin traitant) must be told."""

    class Event(Aggregate.Event):
        """An alert's events: each carries ``espace_id``, so the alert is sealed
        under the espace's key and kept and erased with the record."""

        espace_id: UUID

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Raised(Aggregate.Created, Event):
        """ACC-5, DOC-5: the holder or the médecin traitant is to be told something
        (an emergency access, an update waiting)."""

        recipient_kind: str
        recipient_id: str
        reason: str
        trace_id: UUID | None
        document_id: UUID | None

    class Delivered(Event):
        """ACC-5, DOC-5: the alert reached its recipient, by ``channel``."""

        channel: str

        def apply(self, aggregate: Any) -> None:
            """The alert is delivered as of the event's time."""
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
        """ACC-5, DOC-5: an alert to a recipient for ``reason`` (``emergency_access``,
        ``samu_access``, ``update_waiting``), with the trace or document behind it."""
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
        """ACC-5: mark the alert delivered by ``channel``; refused if it already was."""
        if self.delivered_at is not None:
            raise RuleViolation("ACC-5", "this notification was already delivered")
        self.trigger_event(
            self.Delivered, timestamp=at, espace_id=self.espace_id, channel=channel
        )
