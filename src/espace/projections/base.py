"""What every read model is: a name, its tables, and how a page of events
changes them.

A projection never reads the clock and never loads an aggregate. The runner
(``espace.adapters.runner``) reads pages of the event log, decrypts them, and
calls :meth:`Projection.apply_page` inside one transaction that also records
the tracking position, so that each event is applied exactly once.

A view says what one event does in its ``apply`` method, which dispatches on
the event's class with :class:`functools.singledispatchmethod`, as
``eventsourcing.projection`` does: the view declares its own ``apply`` (whose
body is for a class it has no handler for: :func:`unhandled`), then one
handler per event class, ``@apply.register``, the class in the annotation of
its ``event`` parameter (a union registers each of its classes)::

    @singledispatchmethod
    def apply(self, event: Any, state: Row | None) -> Row | None:
        raise unhandled(self, event)

    @apply.register
    def _(self, event: Appointment.Moved, state: Row | None) -> Row | None:
        ...

The classes so registered are the view's :attr:`Projection.handled`: the
runner reads it for the topics a view follows, and gives the view the events
of those topics only. Nothing else lists them. Register the classes that are
stored (their topics are those of the log), not a base class they share.
"""

from __future__ import annotations

import functools
import inspect
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

import sqlalchemy as sa

from espace.domain.errors import InvalidInput
from espace.domain.pages import Rows

VIEWS = sa.MetaData()
"""The metadata that holds every read-model table."""


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware instant, stored and returned in UTC on SQLite and PostgreSQL.

    SQLite has no time zones: SQLAlchemy hands back naive values there. This
    type refuses naive input and always returns aware UTC datetimes, so a
    view reads the same on both databases.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        """The value as the database stores it: UTC, naive on SQLite (which has no
        zones); ``ValueError`` for a naive datetime, whose zone is unknown."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: views store aware instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        """The stored value as an aware UTC datetime, whichever database read it."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


S = TypeVar("S")


def page_rows(
    conn: sa.Connection, query: sa.Select[Any], limit: int, offset: int
) -> Rows:
    """The rows of ``query`` from ``offset``, at most ``limit``, and the
    number it has in all (its order and page dropped to count it)."""
    counted = sa.select(sa.func.count()).select_from(
        query.order_by(None).limit(None).offset(None).subquery()
    )
    total = int(conn.execute(counted).scalar_one())
    found = conn.execute(query.limit(limit).offset(offset)).mappings()
    return Rows((dict(r) for r in found), total)


Q = TypeVar("Q")


def checked_queries(cls: type[Q]) -> type[Q]:
    """A read model's queries check what they are given, by the types they
    declare: an id (``UUID``) must be one, ``limit`` a whole number from 1
    (as large as the caller wants every row) and ``offset`` from 0; else
    :class:`InvalidInput` naming the parameter, never a database error. The
    read models are public (``store.views.espaces``, ``store.views.documents``…)."""
    for name, method in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(method):
            continue
        checks = _checks(method)
        if checks:
            setattr(cls, name, _checked(method, checks))
    return cls


def _checks(method: Callable[..., Any]) -> dict[str, Callable[[Any], str | None]]:
    hints = typing.get_type_hints(method)
    found: dict[str, Callable[[Any], str | None]] = {}
    for param in inspect.signature(method).parameters.values():
        hint = hints.get(param.name)
        optional = type(None) in typing.get_args(hint)
        if hint is UUID or (optional and UUID in typing.get_args(hint)):
            found[param.name] = _an_id(optional)
        elif param.name == "limit":
            found[param.name] = _a_count(1, optional)
        elif param.name == "offset":
            found[param.name] = _a_count(0, optional)
    return found


def _an_id(optional: bool) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if (value is None and optional) or isinstance(value, UUID):
            return None
        return f"an id (a UUID), not {type(value).__name__} {value!r:.40}"

    return check


def _a_count(low: int, optional: bool) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= low:
            return None
        return f"a whole number from {low}"

    return check


def _checked(
    method: Callable[..., Any], checks: dict[str, Callable[[Any], str | None]]
) -> Callable[..., Any]:
    signature = inspect.signature(method)

    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        wrong = {
            name: [told]
            for name, check in checks.items()
            if name in bound.arguments
            and (told := check(bound.arguments[name])) is not None
        }
        if wrong:
            raise InvalidInput(wrong)
        return method(*args, **kwargs)

    return run


def handled_by(method: functools.singledispatchmethod[Any]) -> tuple[type[Any], ...]:
    """The event classes a dispatching method has a handler for, in the order
    they were registered: its registry but ``object``, the default."""
    return tuple(cls for cls in method.dispatcher.registry if cls is not object)


def unhandled(view: Projection, event: Any) -> TypeError:
    """What a view's ``apply`` raises for an event of a class it registered no
    handler for. The runner never gives it one: it passes each view the events
    of the topics of its :attr:`Projection.handled` classes only."""
    return TypeError(f"view {view.name!r} has no handler for {type(event).__name__}")


class Projection(ABC):
    """A read model built from the event log."""

    name: ClassVar[str]
    """The tracking name: the position of this view in the log is kept under it."""

    tables: ClassVar[tuple[sa.Table, ...]]

    handled: ClassVar[tuple[type[Any], ...]] = ()
    """The event classes this view reacts to; the runner skips the others.
    Derived when the class is made, from the handlers its ``apply`` registers
    (see the module's docstring), never declared: none for a view without
    them (a raw view reads every event)."""

    raw: ClassVar[bool] = False
    """A raw view gets every stored event, sealed, as the log holds it
    (eventsourcing ``Notification`` objects), none skipped: the audit tree.
    It is never purged, and it may quarantine nothing."""

    after_commands: ClassVar[bool] = True
    """Caught up after each command of a store with ``sync_views`` (ADR-0009):
    somebody reads it right after writing. The audit tree is not (ADR-0023):
    the runner, and the audit calls that read it, catch it up."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Derive ``handled`` from the class's ``apply`` (its own, or the one
        it inherits), and refuse a class that declares it."""
        super().__init_subclass__(**kwargs)
        if "handled" in vars(cls):
            raise TypeError(
                f"{cls.__name__}: the handled events are those apply registers"
            )
        apply = inspect.getattr_static(cls, "apply", None)
        if isinstance(apply, functools.singledispatchmethod):
            cls.handled = handled_by(apply)

    @abstractmethod
    def apply_page(self, conn: sa.Connection, events: Sequence[Any]) -> None:
        """Apply a page of events, in log order, inside the caller's transaction."""

    @abstractmethod
    def purge(self, conn: sa.Connection, espace_ids: Collection[UUID]) -> None:
        """Remove what the view holds about espaces whose key was shredded (SEC-4)."""


class FoldProjection(Projection, Generic[S]):
    """A view whose rows are grouped under one key (by default the espace).

    A page is applied by loading the current state of the espaces it touches
    (one SELECT), folding the events into that state in memory, then writing
    the result back (one DELETE and one bulk INSERT per table). This is what
    makes a catch-up cost a few statements per page instead of per event.
    """

    @abstractmethod
    def load(self, conn: sa.Connection, espace_ids: Collection[UUID]) -> dict[UUID, S]:
        """The current state of the given espaces, as stored in the view."""

    @functools.singledispatchmethod
    @abstractmethod
    def apply(self, event: Any, state: S | None) -> S | None:
        """The state after one event; ``None`` means the key has no rows.
        Each view declares its own, and registers a handler per event class."""

    @abstractmethod
    def rows(self, espace_id: UUID, state: S) -> dict[sa.Table, list[dict[str, Any]]]:
        """The rows that represent ``state``, per table."""

    key_column: ClassVar[str] = "espace_id"
    """The column that holds the key in every table of the view."""

    def espace_id_of(self, event: Any) -> UUID:
        """The key of the rows an event changes: the espace for a view keyed
        by ``espace_id``, else the aggregate the event belongs to."""
        if self.key_column == "espace_id":
            espace_id: UUID = getattr(event, "espace_id", None) or event.originator_id
            return espace_id
        key: UUID = event.originator_id
        return key

    def apply_page(self, conn: sa.Connection, events: Sequence[Any]) -> None:
        """Fold a page in memory: load the state of the keys it touches, apply each
        event in log order, then replace those keys' rows in one write."""
        if not events:
            return
        keys = {self.espace_id_of(e) for e in events}
        loaded = self.load(conn, keys)
        states: dict[UUID, S | None] = dict(loaded)
        apply = self.apply
        for event in events:
            key = self.espace_id_of(event)
            states[key] = apply(event, states.get(key))
        self._write(conn, states, existing=loaded.keys())

    def purge(self, conn: sa.Connection, espace_ids: Collection[UUID]) -> None:
        """Delete every row of these espaces, in every table of the view (SEC-4)."""
        if espace_ids:
            purge_espaces(conn, self.tables, espace_ids)

    def _delete(self, conn: sa.Connection, keys: Iterable[UUID]) -> None:
        ids = list(keys)
        for table in reversed(self.tables):
            column = table.c[self.key_column]
            for chunk in _chunks(ids, 500):
                conn.execute(table.delete().where(column.in_(chunk)))

    def _write(
        self,
        conn: sa.Connection,
        states: dict[UUID, S | None],
        existing: Collection[UUID] | None = None,
    ) -> None:
        """Replace the rows of these espaces: delete those that had rows
        (all of them when ``existing`` is not known), insert the new ones."""
        self._delete(conn, states if existing is None else existing)
        inserts: dict[sa.Table, list[dict[str, Any]]] = {t: [] for t in self.tables}
        for espace_id, state in states.items():
            if state is None:
                continue
            for table, rows in self.rows(espace_id, state).items():
                inserts[table].extend(rows)
        for table in self.tables:
            if inserts[table]:
                conn.execute(table.insert(), inserts[table])


EspaceFoldProjection = FoldProjection
"""A fold keyed by espace (the default key)."""


Row = dict[str, Any]
"""One row of a view's table, by column name."""


class RowFoldProjection(FoldProjection[Row]):
    """A fold whose state is the one row its key has in its one table."""

    def load(self, conn: sa.Connection, keys: Collection[UUID]) -> dict[UUID, Row]:
        """The stored row of each key that has one; a key without a row is absent."""
        (table,) = self.tables
        column = table.c[self.key_column]
        rows: dict[UUID, Row] = {}
        for chunk in _chunks(list(keys), 500):
            for r in conn.execute(table.select().where(column.in_(chunk))).mappings():
                rows[r[self.key_column]] = dict(r)
        return rows

    def rows(self, key: UUID, state: Row) -> dict[sa.Table, list[Row]]:
        """The state is the row itself: it goes back as it is, in the view's table."""
        return {self.tables[0]: [state]}


class AppendProjection(Projection):
    """An append-only view (a journal): each event adds rows, none changes."""

    @functools.singledispatchmethod
    @abstractmethod
    def apply(self, event: Any) -> dict[sa.Table, list[dict[str, Any]]]:
        """The rows one event adds, per table. Each view declares its own,
        and registers a handler per event class."""

    def apply_page(self, conn: sa.Connection, events: Sequence[Any]) -> None:
        """Insert the rows the page's events add, one bulk INSERT per table."""
        inserts: dict[sa.Table, list[dict[str, Any]]] = {t: [] for t in self.tables}
        apply = self.apply
        for event in events:
            for table, rows in apply(event).items():
                inserts[table].extend(rows)
        for table in self.tables:
            if inserts[table]:
                conn.execute(table.insert(), inserts[table])

    def purge(self, conn: sa.Connection, espace_ids: Collection[UUID]) -> None:
        """Delete every row of these espaces, in every table of the view (SEC-4)."""
        if espace_ids:
            purge_espaces(conn, self.tables, espace_ids)


def purge_espaces(
    conn: sa.Connection, tables: Sequence[sa.Table], espace_ids: Collection[UUID]
) -> None:
    """Delete every row of these espaces (SEC-4): tables have ``espace_id``."""
    ids = list(espace_ids)
    for table in reversed(tables):
        for chunk in _chunks(ids, 500):
            conn.execute(table.delete().where(table.c.espace_id.in_(chunk)))


def _chunks(items: list[UUID], size: int) -> Iterable[list[UUID]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
