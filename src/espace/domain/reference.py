"""Reference data the operator publishes as a whole table: the access
matrix (ACC-3) and the service catalogue (PRO-3). Pure.

Every version stays in the log and can be shown, compared and published
again; a new table is compared with the one in force before it is
published; and a table that leaves out entries the one in force has (a
partial file) is refused unless the operator says those entries are to go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from espace.domain.errors import RuleViolation


@dataclass(frozen=True)
class Version:
    """One published version: its entries by key, where it came from, when."""

    number: int
    entries: Mapping[str, Any]
    source: str
    published_at: datetime


@dataclass(frozen=True)
class Difference:
    """What a new table changes against the one in force, by key."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each changed key, with its ``before`` and ``after`` values."""

    @classmethod
    def between(
        cls, before: Mapping[str, Any] | None, after: Mapping[str, Any]
    ) -> Difference:
        """ACC-3, PRO-3: the keys ``after`` adds, removes and changes against
        ``before`` (None: nothing published yet), each list sorted."""
        old = before or {}
        return cls(
            added=sorted(k for k in after if k not in old),
            removed=sorted(k for k in old if k not in after),
            changed={
                k: {"before": old[k], "after": after[k]}
                for k in sorted(after)
                if k in old and old[k] != after[k]
            },
        )

    @property
    def empty(self) -> bool:
        """Whether the new table changes nothing (then it is not published)."""
        return not (self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        """The difference as plain data, as a publication or its history shows it."""
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def checked_change(
    current: Version | None,
    entries: Mapping[str, Any],
    *,
    rule: str,
    what: str,
    allow_removals: bool,
) -> Difference:
    """The difference a new table makes; refused (``rule``) when it changes
    nothing, or when it leaves out entries of the version in force and
    ``allow_removals`` was not given: a partial file must not remove them
    silently."""
    change = Difference.between(current.entries if current else None, entries)
    if current is not None and change.empty:
        raise RuleViolation(rule, f"identical to version {current.number}")
    if change.removed and not allow_removals:
        shown = ", ".join(change.removed[:20])
        more = len(change.removed) - 20
        raise RuleViolation(
            rule,
            f"the {what} would lose {len(change.removed)} entries of version "
            f"{current.number if current else 0} that the file leaves out "
            f"({shown}{f' and {more} more' if more > 0 else ''}): add them back, "
            "or publish with allow_removals (--allow-removals) if they are to go",
        )
    return change


def version_of(versions: Mapping[int, Version], number: int, rule: str) -> Version:
    """A published version; refused (``rule``) if there is none of that number."""
    found = versions.get(number)
    if found is None:
        known = f"1 to {max(versions)}" if versions else "none yet"
        raise RuleViolation(rule, f"no version {number} (published: {known})")
    return found


def publication(
    number: int | None, previous: int | None, change: Difference, *, dry_run: bool
) -> dict[str, Any]:
    """What a publication (or its dry run) reports: the new version (None in
    a dry run), the one it replaces, and what changes."""
    return {
        "version": number,
        "previous": previous,
        "dry_run": dry_run,
        "changes": change.as_dict(),
    }


def history(versions: Mapping[int, Version]) -> list[dict[str, Any]]:
    """Every published version, newest first, with what it changed."""
    shown: list[dict[str, Any]] = []
    before: Version | None = None
    for number in sorted(versions):
        version = versions[number]
        change = Difference.between(before.entries if before else None, version.entries)
        shown.append(
            {
                "version": number,
                "published_at": version.published_at,
                "source": version.source,
                "entries": len(version.entries),
                "changes": change.as_dict(),
            }
        )
        before = version
    return shown[::-1]
