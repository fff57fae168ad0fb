"""Loads and saves map the library's errors in one place
(``espace.application.aggregates``): absent is None, another kind of
aggregate is NotFound, a lost race is a Conflict."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from espace.application import aggregates
from espace.application.errors import Conflict, NotFound


class Note(Aggregate):
    def __init__(self, text: str) -> None:
        self.text = text


class Other(Aggregate):
    pass


def test_absent_is_none_another_kind_is_not_found_and_a_lost_race_a_conflict() -> None:
    app: Application[UUID] = Application()
    note = Note("hello")
    aggregates.save(app, note)
    assert aggregates.maybe(app, uuid4(), Note, "note") is None
    loaded = aggregates.maybe(app, note.id, Note, "note")
    assert loaded is not None
    assert loaded.text == "hello"
    with pytest.raises(NotFound, match=f"no other {note.id}"):
        aggregates.maybe(app, note.id, Other, "other")
    first = aggregates.maybe(app, note.id, Note, "note")
    second = aggregates.maybe(app, note.id, Note, "note")
    assert first is not None
    assert second is not None
    first.trigger_event(Aggregate.Event)
    second.trigger_event(Aggregate.Event)
    aggregates.save(app, first)
    with pytest.raises(Conflict, match="changed by someone else"):
        aggregates.save(app, second)
