"""The deadline job: one method that does what has fallen due (LC-4, LC-7,
LC-8, LC-9, LC-12).

It asks the deadlines view what is due, then issues the lifecycle commands.
The view is only a to-do list: each aggregate checks the deadline again, so a
stale row is refused by the rule and skipped, and running the job twice does
nothing the second time. Because the view is built from the log, a run after
any downtime finds everything that fell due meanwhile.

A deadline whose legal effect is at a fixed instant (the end of the window,
of a suspension, the 18th birthday) is recorded at that instant (or just after
the espace's last event); an erasure is an act and is recorded when done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from espace.application import schemas
from espace.application.errors import Conflict, NotFound
from espace.application.lifecycle import LifecycleService
from espace.application.ports import Clock
from espace.application.queries import DeadlineView
from espace.domain.errors import RuleViolation

log = structlog.get_logger("espace.deadlines")

ACT_NOW = frozenset({"erasure", "archive_expiry"})


@dataclass
class DeadlineReport:
    """What one run did, per deadline kind."""

    now: str
    done: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now,
            "done": dict(self.done),
            "skipped": dict(self.skipped),
            "failed": self.failed,
        }


class DeadlineService:
    def __init__(
        self,
        lifecycle: LifecycleService,
        queries: DeadlineView,
        clock: Clock,
        sync: Callable[[], object],
    ) -> None:
        self.lifecycle = lifecycle
        self.queries = queries
        self.clock = clock
        self.sync = sync
        self._commands: dict[str, Callable[[UUID, datetime], object]] = {
            "opening": lambda i, t: lifecycle.open_automatically(i, at=t),
            "suspension_closure": lambda i, t: lifecycle.close_after_suspension(
                i, at=t
            ),
            "archive_expiry": lambda i, t: lifecycle.erase(i, at=t, compact=False),
            "erasure": lambda i, t: lifecycle.erase(i, at=t, compact=False),
            "majority": lambda i, t: lifecycle.end_representation(i, at=t),
        }
        self._subject_commands: dict[str, Callable[[UUID, datetime], object]] = {}
        self._subject_modified: Callable[[UUID], datetime] = lambda _id: datetime.min

    def register_subject_commands(
        self,
        commands: dict[str, Callable[[UUID, datetime], object]],
        modified_on: Callable[[UUID], datetime],
    ) -> None:
        """Deadlines about something other than the espace (a document's DOC-5
        timers): the command takes the subject's id."""
        self._subject_commands.update(commands)
        self._subject_modified = modified_on

    def run_due(
        self,
        now: datetime | None = None,
        batch: int = 500,
        progress: Callable[[int], None] | None = None,
    ) -> DeadlineReport:
        """Carry out every deadline due at ``now`` (default: the clock);
        ``progress`` is told of each one attempted."""
        now = schemas.command_time(now, self.clock)
        report = DeadlineReport(now=now.isoformat())
        self.sync()
        attempted: set[tuple[UUID, str, UUID]] = set()
        while True:
            rows = [
                r
                for r in self.queries.due(now, limit=batch + len(attempted))
                if (r["espace_id"], r["kind"], r["subject_id"]) not in attempted
            ]
            if not rows:
                break
            for row in rows[:batch]:
                key = (row["espace_id"], row["kind"], row["subject_id"])
                attempted.add(key)
                self._run_one(*key, row["due_at"], now, report)
                if progress is not None:
                    progress(1)
            self.sync()
        if report.done["erasure"] or report.done["archive_expiry"]:
            self.lifecycle.compact_keys()
        log.info("deadlines.run", **{f"done_{k}": v for k, v in report.done.items()})
        return report

    def _run_one(
        self,
        espace_id: UUID,
        kind: str,
        subject_id: UUID,
        due_at: datetime,
        now: datetime,
        report: DeadlineReport,
    ) -> None:
        if kind in self._subject_commands:
            self._run_command(
                self._subject_commands[kind],
                subject_id,
                kind,
                lambda: max(due_at, self._subject_modified(subject_id)),
                report,
                espace_id,
            )
            return
        command = self._commands.get(kind)
        if command is None:
            report.failed.append(
                {"espace_id": str(espace_id), "kind": kind, "error": "unknown kind"}
            )
            return

        def when() -> datetime:
            if kind in ACT_NOW:
                return now
            return max(due_at, self.lifecycle.get(espace_id).modified_on)

        self._run_command(command, espace_id, kind, when, report, espace_id)

    def _run_command(
        self,
        command: Callable[[UUID, datetime], object],
        subject_id: UUID,
        kind: str,
        when: Callable[[], datetime],
        report: DeadlineReport,
        espace_id: UUID,
    ) -> None:
        try:
            command(subject_id, when())
        except (RuleViolation, NotFound, Conflict) as exc:
            # Stale row (the subject moved on), erased, or raced: the rule decides.
            report.skipped[kind] += 1
            log.info(
                "deadline.skipped",
                espace_id=str(espace_id),
                subject_id=str(subject_id),
                kind=kind,
                reason=exc.code,
            )
        else:
            report.done[kind] += 1
