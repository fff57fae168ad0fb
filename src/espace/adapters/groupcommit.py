"""Group commit: the concurrent saves of one process in one transaction
(issue 10, ADR-0027).

The library's recorders write each save in its own transaction: on
PostgreSQL each takes the events table's lock and commits (one fsync), so
the threads of an embedding server queue behind each other, one save per
commit. Here a save that finds no write in flight is written at once, alone:
no timer, no added latency. Saves that arrive while one is being written
wait; when it is done, the first of them writes every waiting save in one
transaction, with one table lock and one commit.

Each save of a group of several goes in under its own savepoint: a
conflict (another writer got there first: optimistic concurrency on its own
aggregate) or bad data rolls back that save only, and is raised to its own
caller; the others commit. A save alone in its group needs none.
An error of the transaction itself (the server gone, the commit refused)
is every caller's, as it would have been alone. Insert order is commit
order, as the library guarantees: the lock is held from the first insert
to the commit, and saves are inserted in the order they arrived.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from eventsourcing import persistence
from eventsourcing.persistence import PersistenceError, StoredEvent

_PEP_249 = (
    "IntegrityError",
    "DataError",
    "OperationalError",
    "InterfaceError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
    "DatabaseError",
)
"""The drivers' error classes (PEP 249), most specific first: the library
raises its own class of the same name."""


def library_error(exc: Exception) -> Exception:
    """The library's error for a driver's (psycopg's or sqlite3's), as its
    recorders raise them: what ``Application.save``'s callers expect."""
    if not isinstance(exc, psycopg.Error | sqlite3.Error):
        return exc
    names = {kind.__name__ for kind in type(exc).__mro__}
    for name in _PEP_249:
        if name in names:
            error: Exception = getattr(persistence, name)(str(exc))
            return error
    return PersistenceError(str(exc))


class Save:
    """One caller's events, and what became of them: their notification
    ids, or the error that refused them."""

    __slots__ = ("done", "error", "events", "ids")

    def __init__(self, events: Sequence[StoredEvent]) -> None:
        self.events = events
        self.ids: Sequence[int] | None = None
        self.error: Exception | None = None
        self.done = False


WriteGroup = Callable[[list[Save]], None]
"""Writes saves in one transaction (through :func:`each_under_savepoint`),
setting each one's ``ids`` or ``error``; raises if the transaction fails,
or the error of a save alone in its group."""


Alone = Callable[..., Sequence[int] | None]
"""The library's own ``insert_events``: one save in its own transaction."""


class GroupCommit:
    """The saves of one recorder, written a group at a time (see the module)."""

    def __init__(self, write: WriteGroup, alone: Alone) -> None:
        self._write = write
        self._alone = alone
        self._lock = threading.Lock()
        self._written = threading.Condition(self._lock)
        self._waiting: list[Save] = []
        self._writing = False
        self.groups = 0
        """How many transactions were written (for tests and benchmarks)."""
        self.saves = 0
        """How many saves they held."""

    def save(
        self, events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Write ``events`` (with any saves waiting with them): their
        notification ids, or this save's own error. A save that carries
        more than its events (a process's tracking record, which the library
        writes in the same transaction; an application passes
        ``tracking=None``) is written alone, by the library's own code."""
        if not events or any(value is not None for value in kwargs.values()):
            return self._alone(events, **kwargs)
        mine = Save(events)
        with self._lock:
            self._waiting.append(mine)
            while self._writing and not mine.done:
                self._written.wait()
            if mine.done:  # written in another caller's group
                return _outcome(mine)
            # No write in flight, and this save still waits: lead the next.
            group, self._waiting = self._waiting, []
            self._writing = True
        try:
            self._write(group)
        except Exception as exc:  # noqa: BLE001 - the transaction's: everyone's
            for save in group:  # nothing of the group was committed
                save.ids, save.error = None, exc
        finally:
            with self._lock:
                for save in group:
                    save.done = True
                self._writing = False
                self.groups += 1
                self.saves += len(group)
                self._written.notify_all()
        return _outcome(mine)


def _outcome(save: Save) -> Sequence[int] | None:
    if save.error is not None:
        raise save.error
    return save.ids


def each_under_savepoint(
    saves: list[Save], insert: Callable[[Save], Sequence[int] | None], savepoint: Any
) -> None:
    """Insert each save under its own savepoint (``savepoint()`` opens one,
    a context manager that rolls back to it on error), recording its ids or
    its own error: the loop both databases' group writes share (from the
    start again if the transaction is retried). A save alone in its group
    needs no savepoint: its error is the transaction's, raised as the
    library raises it (two round trips fewer when there is no contention)."""
    if len(saves) == 1:
        saves[0].ids, saves[0].error = None, None
        saves[0].ids = insert(saves[0])
        return
    for save in saves:
        save.ids, save.error = None, None
        try:
            with savepoint():
                ids = insert(save)
        except (psycopg.Error, sqlite3.Error) as exc:
            save.error = library_error(exc)
        else:
            save.ids = ids
