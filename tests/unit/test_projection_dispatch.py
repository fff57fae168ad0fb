"""A view's handled events are the classes its ``apply`` registers
(``espace.projections.base``): the runner follows their topics, so each must
be a class that is stored, and nothing else may list them."""

from __future__ import annotations

import json
from functools import singledispatchmethod
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from espace.api.bootstrap import all_projections
from espace.domain.agenda import Appointment
from espace.projections.base import RowFoldProjection, unhandled

PIN = Path(__file__).with_name("event_topics.json")


class Touches(RowFoldProjection):
    name = "touches"
    tables = ()

    @singledispatchmethod
    def apply(self, event: Any, state: dict[str, Any] | None) -> dict[str, Any] | None:
        raise unhandled(self, event)

    @apply.register
    def _(
        self, event: Appointment.Scheduled, state: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        return {"touched": 1}

    @apply.register
    def _(
        self,
        event: Appointment.Moved | Appointment.Cancelled,
        state: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        return {"touched": (state or {}).get("touched", 0) + 1}


def test_the_handled_classes_are_those_registered_a_union_for_each() -> None:
    assert Touches.handled == (
        Appointment.Scheduled,
        Appointment.Moved,
        Appointment.Cancelled,
    )


def test_a_subclass_inherits_the_handlers() -> None:
    class Again(Touches):
        name = "again"

    assert Again.handled == Touches.handled


def test_an_event_of_no_registered_class_is_refused() -> None:
    with pytest.raises(TypeError, match="'touches' has no handler for object"):
        Touches().apply(object(), None)


def test_a_view_may_not_list_its_handled_events_apart() -> None:
    with pytest.raises(TypeError, match="handled"):

        class Listed(Touches):
            name = "listed"
            handled = (Appointment.Scheduled,)


def test_every_view_handles_stored_classes_only_and_the_tree_reads_all() -> None:
    stored = set(json.loads(PIN.read_text()))
    views = all_projections()
    for view in views:
        topics = {get_topic(cls) for cls in view.handled}
        assert topics <= stored, (view.name, topics - stored)
        assert bool(topics) is not view.raw, view.name
