"""The auditor: read-only, never a holder's or a professional's right, and
traced like everyone else (ACC-6, SEC-2; ADR-0022).

Every read by an auditor (a history, an access question, an export) is a
trace of its own, under the system key: it belongs to the audit log, not to
the holder's journal, and it survives the espace's erasure without naming
the person (the espace is named by its id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.errors import RuleViolation

AUDITOR_ACTIONS = ("history", "access", "professional", "export")


class AuditorRead(Aggregate):
    """ACC-6: which auditor read what, when."""

    KEY_SCOPE = "system"

    class Recorded(Aggregate.Created):
        """ACC-6: an auditor read a history, an access question, a professional's
        actions or an export; sealed under the system key, it outlives an erasure."""

        KEY_SCOPE = "system"
        auditor: str
        action: str
        subject: str
        detail: str | None

    @classmethod
    def record(
        cls,
        *,
        read_id: UUID,
        at: datetime,
        auditor: str,
        action: str,
        subject: str,
        detail: str | None = None,
    ) -> AuditorRead:
        """ACC-6: trace one auditor's read of ``subject``, by id (an espace, a
        document, an IdNatPS), never a person's name. ``action`` is one of
        :data:`AUDITOR_ACTIONS` and ``at`` is timezone-aware, else RuleViolation."""
        if action not in AUDITOR_ACTIONS:
            raise RuleViolation("ACC-6", f"unknown auditor action {action!r}")
        if at.tzinfo is None:
            raise RuleViolation("ACC-6", "times must be timezone-aware")
        return cls._create(
            cls.Recorded,
            id=read_id,
            timestamp=at,
            auditor=auditor,
            action=action,
            subject=subject,
            detail=detail,
        )

    def __init__(
        self, auditor: str, action: str, subject: str, detail: str | None
    ) -> None:
        self.auditor = auditor
        self.action = action
        self.subject = subject
        self.detail = detail

    def describe(self) -> dict[str, Any]:
        """The read as plain data: who, what, on what subject, when."""
        return {
            "read_id": str(self.id),
            "at": self.created_on,
            "auditor": self.auditor,
            "action": self.action,
            "subject": self.subject,
            "detail": self.detail,
        }
