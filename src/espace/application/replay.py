"""Replay as of an instant (ADR-0022): the aggregates an espace's events
make, folded from the events up to that instant, never from a view.

The auditor's history (:mod:`espace.application.audit`) and the FHIR export
(:mod:`espace.application.export`, ADR-0031) both stand on it, so that an
espace "as of T" is one thing whichever of them asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from espace.application.aggregates import project
from espace.application.ports import LoggedEvent


def kept_as_of(
    logged: Iterable[LoggedEvent], when: datetime | None
) -> list[LoggedEvent]:
    """The events up to ``when`` (every one without it); an erased event,
    whose time is not readable any more, is kept (it says it was erased)."""
    return list(_kept(logged, when))


def _kept(
    logged: Iterable[LoggedEvent], when: datetime | None
) -> Iterator[LoggedEvent]:
    return (
        e
        for e in logged
        if e.event is None or when is None or e.event.timestamp <= when
    )


def replay(events: Iterable[LoggedEvent]) -> list[Any]:
    """The aggregates these events make, each folded in version order (the
    erased ones, with no event to fold, are left out)."""
    by_aggregate: dict[UUID, list[Any]] = {}
    for logged in events:
        if logged.event is not None:
            by_aggregate.setdefault(logged.originator_id, []).append(logged.event)
    return [
        project(None, sorted(evs, key=lambda e: e.originator_version))
        for evs in by_aggregate.values()
    ]


def replay_each(logged: Iterable[LoggedEvent], when: datetime | None) -> Iterator[Any]:
    """The aggregates of a single event each (traces, ACC-6) whose event is
    up to ``when``, each folded as it comes and handed on: a lazy
    ``replay(kept_as_of(...))`` that holds none of them (the export's
    stream, ADR-0031). Erased events, with nothing to fold, are left out."""
    for e in _kept(logged, when):
        if e.event is not None:
            yield project(None, (e.event,))


def aggregate_as_of(
    app: Application[UUID], aggregate_id: UUID, at: datetime, version: int | None = None
) -> Any:
    """An aggregate as it stood at ``at`` (or at ``version``), from its own
    events; None if it did not exist yet."""
    events: list[Any] = list(app.repository.event_store.get(aggregate_id))
    kept = [
        e
        for e in events
        if (version is None and e.timestamp <= at)
        or (version is not None and e.originator_version <= version)
    ]
    return project(None, kept) if kept else None
