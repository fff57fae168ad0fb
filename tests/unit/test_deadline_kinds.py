"""The kinds of deadline are one typed registry (LC-4, LC-7, LC-8, LC-9,
LC-12, DOC-5): the view computes only those kinds, and the deadline job is
refused if one of them has no command."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from espace.application.deadlines import DeadlineService
from espace.domain.deadlines import DEADLINE_KINDS, DeadlineKind, Subject
from espace.projections.deadlines import _changed

AT = datetime(2027, 3, 1, tzinfo=UTC)


def command(subject_id: UUID, at: datetime | None = None, /) -> None:
    """A command that does nothing."""


def modified(subject_id: UUID) -> datetime:
    return AT


def service(**changes: Any) -> DeadlineService:
    commands = dict.fromkeys(DeadlineKind, command)
    modified_on = dict.fromkeys(Subject, modified)
    options: dict[str, Any] = {"commands": commands, "modified_on": modified_on}
    options.update(changes)
    return DeadlineService(None, None, lambda: AT, lambda: None, **options)  # type: ignore[arg-type]


def test_every_kind_is_declared_with_the_rule_that_sets_it() -> None:
    assert set(DEADLINE_KINDS) == set(DeadlineKind)
    rules = {kind: rule.rule for kind, rule in DEADLINE_KINDS.items()}
    assert rules == {
        DeadlineKind.OPENING: "LC-4",
        DeadlineKind.SUSPENSION_CLOSURE: "LC-7",
        DeadlineKind.ARCHIVE_EXPIRY: "LC-8",
        DeadlineKind.ERASURE: "LC-9",
        DeadlineKind.MAJORITY: "LC-12",
        DeadlineKind.HOLDER_NOTICE: "DOC-5",
        DeadlineKind.HOLDER_REVEAL: "DOC-5",
    }
    document_kinds = {k for k, r in DEADLINE_KINDS.items() if r.subject == "document"}
    assert document_kinds == {DeadlineKind.HOLDER_NOTICE, DeadlineKind.HOLDER_REVEAL}


def test_erasures_are_acts_recorded_when_done_lc_8_lc_9() -> None:
    acts = {k for k, r in DEADLINE_KINDS.items() if r.acts_now}
    assert acts == {DeadlineKind.ARCHIVE_EXPIRY, DeadlineKind.ERASURE}


def test_the_job_is_refused_a_kind_without_its_command() -> None:
    service()  # complete: accepted
    commands = {k: command for k in DeadlineKind if k != DeadlineKind.MAJORITY}
    with pytest.raises(ValueError, match="majority"):
        service(commands=commands)
    with pytest.raises(ValueError, match="document"):
        service(modified_on={Subject.ESPACE: modified})


def test_the_view_holds_only_declared_kinds() -> None:
    espace = uuid4()
    state = _changed(None, espace, opening=(AT, None))
    assert state == {(DeadlineKind.OPENING, espace): (AT, None)}
    assert _changed(state, espace, "opening") is None
    with pytest.raises(ValueError, match="openning"):
        _changed(None, espace, openning=(AT, None))
