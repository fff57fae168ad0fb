"""What ``audit verify`` reports (ADR-0021): each problem at its position
in the log, each signed checkpoint's check, and the report that counts them
all but lists at most :data:`MAX_PROBLEMS`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

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

    def as_dict(self) -> dict[str, Any]:
        """The report as the CLI prints it in JSON, with ``intact`` and ``first``."""
        data = asdict(self)
        data["intact"] = self.intact
        data["first"] = asdict(self.first) if self.first else None
        return data
