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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

import structlog
from marshmallow import fields

from espace.application import schemas
from espace.application.errors import Conflict, NotFound
from espace.application.lifecycle import LifecycleService
from espace.application.outputs import Output, dumps
from espace.application.ports import Clock
from espace.application.queries import DeadlineView
from espace.domain.deadlines import DEADLINE_KINDS, DeadlineKind, Subject
from espace.domain.errors import RuleViolation

log = structlog.get_logger("espace.deadlines")


class DeadlineCommand(Protocol):
    """What the job calls for one deadline: the subject's id (the espace, or
    the document of a DOC-5 timer) and the instant to record it at."""

    def __call__(self, subject_id: UUID, at: datetime | None = None, /) -> object:
        """Carry the deadline out (a rule refuses a stale one)."""
        ...


@dataclass
class DeadlineReport:
    """What one run did, per deadline kind."""

    now: str
    done: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    failed: list[dict[str, str]] = field(default_factory=list)


@dumps(DeadlineReport)
class DeadlineReportSchema(Output):
    """A run's report: when, and per kind what was done, skipped, failed."""

    now = fields.String()
    done = fields.Dict()
    skipped = fields.Dict()
    failed = fields.List(fields.Dict())


class DeadlineService:
    """The deadline job: every kind of :data:`DEADLINE_KINDS` has its
    command, and each subject kind the instant it last changed."""

    def __init__(
        self,
        lifecycle: LifecycleService,
        queries: DeadlineView,
        clock: Clock,
        sync: Callable[[], object],
        *,
        commands: Mapping[DeadlineKind, DeadlineCommand],
        modified_on: Mapping[Subject, Callable[[UUID], datetime]],
    ) -> None:
        missing = [k.value for k in DEADLINE_KINDS if k not in commands]
        missing += [s.value for s in Subject if s not in modified_on]
        if missing:
            raise ValueError(f"the deadline job lacks: {', '.join(missing)}")
        self.lifecycle = lifecycle
        self.queries = queries
        self.clock = clock
        self.sync = sync
        self._commands = dict(commands)
        self._modified_on = dict(modified_on)

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
        erased = (
            report.done[DeadlineKind.ERASURE] + report.done[DeadlineKind.ARCHIVE_EXPIRY]
        )
        if erased:
            self.lifecycle.compact()
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
        if kind not in DEADLINE_KINDS:  # a row written by a newer espace
            report.failed.append(
                {"espace_id": str(espace_id), "kind": kind, "error": "unknown kind"}
            )
            return
        known = DeadlineKind(kind)
        rule = DEADLINE_KINDS[known]
        modified_on = self._modified_on[rule.subject]

        def when() -> datetime:
            if rule.acts_now:
                return now
            return max(due_at, modified_on(subject_id))

        self._run_command(
            self._commands[known], subject_id, known, when, report, espace_id
        )

    def _run_command(
        self,
        command: DeadlineCommand,
        subject_id: UUID,
        kind: DeadlineKind,
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
