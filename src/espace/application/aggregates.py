"""Loading and saving one aggregate, with the library's errors mapped in one
place for every use case: an aggregate that never existed is ``None`` (each
caller says NotFound in the words of its rule), an id of another kind of
aggregate is NotFound, an erased one raises :class:`RecordErased` on, and a
save that lost a race to a concurrent writer is a :class:`Conflict`
(optimistic concurrency on that aggregate). Batch saves that fall back to
one by one on a conflict (the insurer's feed, the directory's import) catch
the library's error themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import RecordConflictError

from espace.application.errors import Conflict, NotFound

A = TypeVar("A")

CONFLICT = "changed by someone else meanwhile; try again"


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """Replay events: the library's default checks a runtime protocol per
    event, which costs half the load time (architecture.md)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def maybe(
    app: Application[UUID], aggregate_id: UUID, cls: type[A], what: str
) -> A | None:
    """The aggregate, or None if it never existed; NotFound ("no ``what``")
    if the id is another kind of aggregate's, RecordErased if its key was
    destroyed."""
    try:
        found = app.repository.get(aggregate_id, projector_func=project)
    except AggregateNotFoundError:
        return None
    if not isinstance(found, cls):
        raise NotFound(f"no {what} {aggregate_id}")
    return found


def save(app: Application[UUID], *aggregates: Any, conflict: str = CONFLICT) -> None:
    """Save in one transaction; :class:`Conflict` if another writer changed
    one of them meanwhile."""
    try:
        app.save(*aggregates)
    except RecordConflictError:
        raise Conflict(conflict) from None
