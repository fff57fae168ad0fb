"""The record that an espace was erased, which outlives the espace (LC-8,
LC-9, SEC-4).

Erasing destroys the espace's data key: after it nothing of the espace can
be read, not even that it was erased. So the erasure is also written as an
aggregate of its own, under the system key, that names the espace by its
id (a keyed hash of the INS, not personal data) and says when and why. It
is begun in the same save as the espace's ``Erased`` event and completed
once the key is destroyed: an erasure begun and not completed is an
erasure to finish, whatever stopped it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.errors import RuleViolation

ERASURES = uuid.UUID("0b7f3c52-6a1e-4f0d-9c3b-5d2e8a4f7c19")
"""Namespace of the erasure records' ids: one record per espace."""

REASONS = ("holder-request", "archive-expired", "found-destroyed")
"""LC-9 an express erasure; LC-8 ten years of archive ran out; or an espace
found with its key already destroyed and its erasure never recorded."""


def erasure_id(espace_id: UUID) -> UUID:
    """The id of an espace's erasure record, derived from its espace id: one
    record per espace, found without a look-up."""
    return uuid.uuid5(ERASURES, str(espace_id))


class Erasure(Aggregate):
    """SEC-4: that an espace's data was erased, when and why; nothing else."""

    KEY_SCOPE = "system"

    class Event(Aggregate.Event):
        """The erasure record's events: under the system key, so they survive the
        destruction of the espace's key (SEC-4)."""

        KEY_SCOPE = "system"
        erased_espace: UUID

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Begun(Aggregate.Created, Event):
        """Saved with the espace's ``Erased`` event; the key is destroyed next."""

        reason: str

    class Completed(Event):
        """The espace's data key is destroyed: nothing of it can be read."""

        PURGES_ESPACE = True
        """Read models drop every row of ``erased_espace`` (SEC-4)."""

        def apply(self, aggregate: Any) -> None:
            """The erasure is complete as of the event's time."""
            aggregate.completed_at = self.timestamp

    @classmethod
    def begin(cls, *, espace_id: UUID, at: datetime, reason: str) -> Erasure:
        """LC-8, LC-9: begin the record of espace ``espace_id``'s erasure, for one of
        the :data:`REASONS` (else RuleViolation)."""
        if reason not in REASONS:
            raise RuleViolation("LC-9", f"unknown reason for an erasure: {reason!r}")
        return cls._create(
            cls.Begun,
            id=erasure_id(espace_id),
            timestamp=at,
            erased_espace=espace_id,
            reason=reason,
        )

    def __init__(self, erased_espace: UUID, reason: str) -> None:
        self.erased_espace = erased_espace
        self.reason = reason
        self.completed_at: datetime | None = None

    def complete(self, *, at: datetime) -> None:
        """The key is destroyed. A second time is refused, with the date."""
        if self.completed_at is not None:
            raise RuleViolation(
                "LC-9",
                f"espace {self.erased_espace} was already erased on "
                f"{self.completed_at.isoformat()}",
            )
        self.trigger_event(
            self.Completed,
            timestamp=max(at, self.modified_on),
            erased_espace=self.erased_espace,
        )
