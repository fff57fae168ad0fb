"""What ``audit verify`` reports (ADR-0021): each problem at its position
in the log, each signed checkpoint's check, and the report that counts them
all but lists at most :data:`MAX_PROBLEMS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import fields

from espace.application.outputs import Output, dumps

MAX_PROBLEMS = 100


@dataclass
class Problem:
    """One difference between the log, its tree and its checkpoints."""

    kind: str
    position: int | None
    notification_id: int | None
    detail: str


@dataclass
class CheckpointCheck:
    """What ``audit verify`` found of one signed checkpoint: its size, when it was
    signed, whether its signature holds and whether its root is the log's."""

    size: int
    signed_at: str
    signature: str
    """``valid``, ``invalid``, or ``unchecked`` (no trusted key given)."""
    root: str
    """``matches`` the log, ``differs``, or ``beyond`` the log's end."""


@dataclass
class VerifyReport:
    """The outcome of ``audit verify``: intact, or where it is not and how."""

    rows: int = 0
    tree_size: int = 0
    unsigned_rows: int = 0
    checkpoints: list[CheckpointCheck] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problems_total: int = 0

    @property
    def intact(self) -> bool:
        """True when no problem was found, counting those past ``MAX_PROBLEMS`` that
        the report does not list."""
        return self.problems_total == 0

    @property
    def first(self) -> Problem | None:
        """The listed problem earliest in the log (``verify`` sorts them by
        position): the first place the log differs from its tree or checkpoints."""
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        """Count a problem, and keep it in the list while it has fewer than
        ``MAX_PROBLEMS``: a badly damaged log must not fill the report."""
        self.problems_total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


class ProblemSchema(Output):
    """One problem: its kind, where in the log, and what differs."""

    kind = fields.String()
    position = fields.Integer(allow_none=True)
    notification_id = fields.Integer(allow_none=True)
    detail = fields.String()


class CheckpointCheckSchema(Output):
    """One checkpoint's check."""

    size = fields.Integer()
    signed_at = fields.String()
    signature = fields.String()
    root = fields.String()


@dumps(VerifyReport)
class VerifyReportSchema(Output):
    """The report as the CLI prints it in JSON, with ``intact`` and ``first``."""

    rows = fields.Integer()
    tree_size = fields.Integer()
    unsigned_rows = fields.Integer()
    checkpoints = fields.List(fields.Nested(CheckpointCheckSchema))
    problems = fields.List(fields.Nested(ProblemSchema))
    problems_total = fields.Integer()
    intact = fields.Boolean()
    first = fields.Nested(ProblemSchema, allow_none=True)
