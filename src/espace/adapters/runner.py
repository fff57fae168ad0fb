"""Keeps the read models up to date with the event log, a page at a time.

Why our own runner (ADR-0005): eventsourcing 9.5.6's ``ProjectionRunner``
commits one transaction per event (675 events/s measured on PostgreSQL,
against 28,151/s for a page per transaction), and SQLite's recorder has no
``subscribe()`` at all. This runner reads the log in pages with
``ApplicationRecorder.select_notifications`` and, for each page, writes every
view's rows and its tracking position in ONE SQLAlchemy transaction: a page is
applied completely and exactly once, or not at all.

Contracts this module relies on:

* ``mapper.to_domain_event`` decrypts a stored event. When the key of an
  espace was destroyed (erasure, SEC-4) it raises
  :class:`~espace.application.errors.RecordErased`, which carries the espace
  id in ``key_id``. The runner then skips the event and purges that espace
  from every view, in the same transaction. When the event cannot be opened
  (altered, moved, undecodable) it raises
  :class:`~espace.application.errors.DamagedRecord`: the event is quarantined
  for the views that wanted it, and everything else goes on (ADR-0018).
* A view that fails on an event (a value it cannot store, a bug) gets that
  event quarantined for it alone; the other views and the other events of
  the page are applied. A lost connection is not a bad event: the page is
  tried again at the next catch-up.
* ``mapper.key_id_of`` names the key of a stored event without decrypting it,
  so ``preload`` can fetch a page's keys in one round trip.
* Notification ids grow with commit order (eventsourcing locks the events
  table on PostgreSQL; SQLite serialises writers), so once the largest id is
  ``H``, every event up to ``H`` is visible and a view can be tracked at ``H``
  even when its last events were of topics it ignores.

Over 500 lines on purpose: :class:`ProjectionRunner` is one class because
catch-up, rebuild, quarantine and status share one write transaction, its
locks and the tracking rows; splitting it would spread the exactly-once
argument over several files. How a continuous runner wakes is apart, in
``espace.adapters.listen``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import psycopg
import sqlalchemy as sa
import structlog
from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    StoredEvent,
    Tracking,
)
from eventsourcing.utils import get_topic

from espace.adapters.auditevents import events_table
from espace.adapters.listen import PgListen, waiter_for
from espace.adapters.shadow import Shadow, shadow_of, sqlite_immediate_engine
from espace.adapters.tracking import (
    QUARANTINE_TABLE,
    TRACKING_METADATA,
    TRACKING_TABLE,
    ViewTrackingRecorder,
)
from espace.application.errors import DamagedRecord, DatabaseUnavailable, RecordErased
from espace.projections.base import Projection

log = structlog.get_logger(__name__)

"""How long a LISTEN wait blocks before looking at the stop flag again."""


class EventMapper(Protocol):
    """What the runner needs from a mapper (``espace.adapters.crypto.EspaceMapper``).

    A protocol rather than an import so that the read side does not depend
    on how keys are stored; eventsourcing's ``Mapper`` plus a ``key_id_of``
    satisfies it.
    """

    def to_domain_event(self, stored_event: StoredEvent) -> object:
        """Decrypt and decode; RecordErased if the key is shredded,
        DamagedRecord if the event cannot be opened."""

    def key_id_of(self, stored_event: StoredEvent) -> UUID:
        """The id of the key that encrypts this event, read from clear fields."""


@dataclass(frozen=True)
class ViewStatus:
    """How far a view is behind the log: ``lag`` counts the events after its
    position that it reads; position 0 means before the first event."""

    name: str
    position: int
    head: int
    lag: int
    quarantined: int = 0
    """Events this view skipped because it could not apply them (ADR-0018)."""
    after_commands: bool = True
    """Caught up after each command of a synced store; False for the audit
    tree, which the runner and the audit calls catch up (ADR-0023)."""


@dataclass
class _Page:
    """A page read from the log, planned against positions read before locking."""

    notifications: Sequence[Notification]
    end: int
    planned: dict[str, int]
    per_view: dict[str, list[Notification]]


class ProjectionRunner:
    """Applies the event log to a set of views, in batched, tracked pages."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: EventMapper,
        engine: sa.Engine,
        tracking: ViewTrackingRecorder,
        projections: Sequence[Projection],
        *,
        page_size: int = 1000,
        preload: Callable[[Collection[UUID]], None] | None = None,
        listen: PgListen | None = None,
        write_engine: sa.Engine | None = None,
        lock_namespace: str | None = None,
        purge_events: Sequence[type[Any]] = (),
    ) -> None:
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError(f"projection names must be unique: {names}")
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.recorder = recorder
        self.mapper = mapper
        self.engine = engine
        self.tracking = tracking
        self.projections = tuple(projections)
        self.page_size = page_size
        self.preload = preload
        self.listen = listen
        self.purge_events = tuple(purge_events)
        self._topics: dict[str, frozenset[str]] = {
            p.name: frozenset(get_topic(cls) for cls in p.handled) for p in projections
        }
        # What each view reads: its own topics, and the events that purge an
        # espace from every view (an erasure completed, SEC-4).
        purges = frozenset(get_topic(cls) for cls in self.purge_events)
        self._reads = {name: topics | purges for name, topics in self._topics.items()}
        self._dialect = engine.dialect.name
        self._schema: str | None = lock_namespace
        if write_engine is not None:
            self._write_engine = write_engine
        elif self._dialect == "sqlite":
            self._write_engine = sqlite_immediate_engine(engine.url)
        else:
            self._write_engine = engine
        self._owns_write_engine = write_engine is None

    def close(self) -> None:
        """Release the runner's own SQLite connections (the engine is the caller's)."""
        if self._owns_write_engine and self._write_engine is not self.engine:
            self._write_engine.dispose()

    def create_tables(self) -> None:
        """Create the views' tables and the tracking table, if missing."""
        by_metadata: dict[sa.MetaData, list[sa.Table]] = {}
        for projection in self.projections:
            for table in projection.tables:
                by_metadata.setdefault(table.metadata, []).append(table)
        with self.engine.begin() as conn:
            TRACKING_METADATA.create_all(conn)
            for metadata, tables in by_metadata.items():
                metadata.create_all(conn, tables=tables)

    # ---------------------------------------------------------------- catch-up

    def catch_up(
        self, max_events: int | None = None, names: Collection[str] | None = None
    ) -> dict[str, int]:
        """Apply what the views (all, or the named ones) have not seen yet, up
        to the log's current head.

        ``max_events`` bounds how many notifications are read in this call, so
        a scheduler tick does a bounded amount of work. Returns the number of
        events applied to each view.
        """
        return self._catch_up(self._select(names), max_events)

    def consumers(self, topics: Collection[str], among: Collection[str]) -> list[str]:
        """The views (of ``among``) that read any of these topics: those a
        save of events of these topics leaves behind (a raw view reads all)."""
        wanted = set(topics)
        return [
            p.name
            for p in self.projections
            if p.name in among and (p.raw or self._reads[p.name] & wanted)
        ]

    def rebuild(
        self,
        names: Collection[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, int]:
        """Rebuild the named views (all by default) from the start of the log.

        The log is replayed into fresh copies of their tables (a shadow,
        :mod:`espace.adapters.shadow`), with their own positions and
        quarantine; the copies are swapped in, in one transaction, only once
        they reached the head of the log. Until then readers and the other
        runners use the views as they were; if the rebuild stops half-way,
        nothing of the store changed. Returns the events applied per view;
        ``progress`` is told how many events each page read.
        """
        views = self._select(names)
        tables = [TRACKING_TABLE, QUARANTINE_TABLE]
        tables += [t for view in views for t in view.tables]
        log.info("projection.rebuild", views=[v.name for v in views])
        with shadow_of(self.engine, tables) as shadow:
            builder = ProjectionRunner(
                self.recorder,
                self.mapper,
                shadow.build,
                ViewTrackingRecorder(shadow.build),
                views,
                page_size=self.page_size,
                preload=self.preload,
                write_engine=shadow.build,
                lock_namespace=shadow.schema,
                purge_events=self.purge_events,
            )
            applied = builder._catch_up(views, None, progress)
            self._swap_in(shadow, views)
        log.info("projection.rebuilt", applied=applied)
        return applied

    def _swap_in(self, shadow: Shadow, views: Sequence[Projection]) -> None:
        """Replace the views' rows, positions and quarantine by the shadow's,
        in one transaction under the views' locks."""
        names = [v.name for v in views]
        keyed = (
            (TRACKING_TABLE, "application_name"),
            (QUARANTINE_TABLE, "view"),
        )
        with shadow.swap.begin() as conn:
            self._lock(conn, views)
            for view in views:
                for table in reversed(view.tables):
                    conn.execute(table.delete())
                for table in view.tables:
                    _copy(conn, shadow.table(table), table)
            for table, key in keyed:
                conn.execute(table.delete().where(table.c[key].in_(names)))
                copy = shadow.table(table)
                _copy(conn, copy, table, copy.c[key].in_(names))

    def status(self) -> list[ViewStatus]:
        """The position, the head of the log and the lag of each view: the
        events after its position that it reads (a view that reads none of
        them is current, wherever its position: the next catch-up only moves
        it on)."""
        head = self.recorder.max_notification_id() or 0
        positions = self.tracking.positions([p.name for p in self.projections])
        query = sa.select(QUARANTINE_TABLE.c.view, sa.func.count()).group_by(
            QUARANTINE_TABLE.c.view
        )
        events, column = events_table(
            self.engine,
            self.recorder.events_table_name,  # type: ignore[attr-defined]
        )
        with self.engine.connect() as conn:
            skipped = {str(v): int(n) for v, n in conn.execute(query)}
            lags = {}
            for p in self.projections:
                start = positions[p.name]
                if start >= head:
                    lags[p.name] = 0
                    continue
                behind = (
                    sa.select(sa.func.count())
                    .select_from(events)
                    .where(events.c[column] > start, events.c[column] <= head)
                )
                if not p.raw:
                    behind = behind.where(
                        events.c.topic.in_(sorted(self._reads[p.name]))
                    )
                lags[p.name] = int(conn.execute(behind).scalar_one())
        return [
            ViewStatus(
                name=p.name,
                position=positions[p.name],
                head=head,
                lag=lags[p.name],
                quarantined=skipped.get(p.name, 0),
                after_commands=p.after_commands,
            )
            for p in self.projections
        ]

    def quarantined(
        self,
        *,
        view: str | None = None,
        espace_id: UUID | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """The quarantined events (position order) and how many there are in
        all: where each is (position, aggregate, version, espace), which view
        skipped it, and why."""
        table = QUARANTINE_TABLE
        where = []
        if view is not None:
            where.append(table.c.view == view)
        if espace_id is not None:
            where.append(table.c.espace_id == espace_id)
        query = (
            table.select()
            .where(*where)
            .order_by(table.c.notification_id, table.c.view)
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
            total = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(*where)
            ).scalar_one()
        return rows, int(total)

    def _select(self, names: Collection[str] | None) -> tuple[Projection, ...]:
        if names is None:
            return self.projections
        unknown = set(names) - {p.name for p in self.projections}
        if unknown:
            raise KeyError(f"unknown views: {sorted(unknown)}")
        return tuple(p for p in self.projections if p.name in names)

    def _catch_up(
        self,
        views: Sequence[Projection],
        max_events: int | None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, int]:
        applied = {v.name: 0 for v in views}
        head = self.recorder.max_notification_id() or 0
        budget = max_events
        stuck_at: dict[str, int] | None = None
        while budget is None or budget > 0:
            limit = self.page_size if budget is None else min(self.page_size, budget)
            page = self._read_page(views, head, limit)
            if page is None:
                break
            moved = self._apply_page(views, page)
            for name, count in moved.items():
                applied[name] += count
            if progress is not None:
                progress(len(page.notifications))
            if page.end >= head and len(moved) == len(page.per_view):
                break  # every view behind is now at the head read above
            if not moved and page.planned == stuck_at:
                break  # a raw view failed twice on this page: it waits
            stuck_at = page.planned if not moved else None
            if budget is not None:
                budget -= len(page.notifications)
        return applied

    def _read_page(
        self, views: Sequence[Projection], head: int, limit: int
    ) -> _Page | None:
        """The next page for the views behind ``head``, or ``None`` if none is."""
        planned = self.tracking.positions([v.name for v in views])
        behind = [v for v in views if planned[v.name] < head]
        if not behind:
            return None
        start = min(planned[v.name] for v in behind)
        everything = any(v.raw for v in behind)
        topics = sorted(set().union(*(self._reads[v.name] for v in behind)))
        notifications: Sequence[Notification] = ()
        if topics or everything:
            notifications = self.recorder.select_notifications(
                start,
                limit,
                stop=head,
                topics=() if everything else topics,
                inclusive_of_start=False,
            )
        # A full page ends at its last id; a short one has seen every event of
        # these topics up to the head, so the views can be tracked at the head.
        end = notifications[-1].id if len(notifications) == limit else head
        per_view = {
            v.name: [
                n
                for n in notifications
                if (v.raw or n.topic in self._reads[v.name]) and n.id > planned[v.name]
            ]
            for v in behind
            if planned[v.name] < end
        }
        return _Page(notifications, end, planned, per_view)

    def _apply_page(self, views: Sequence[Projection], page: _Page) -> dict[str, int]:
        """Decrypt outside the transaction, then write views and tracking inside it.

        Decrypting (and preloading keys) before taking the write lock keeps
        the lock short: on SQLite it blocks the event writers too. An event
        that cannot be opened is quarantined for every view that wanted it
        (ADR-0018). The page is first written as a whole; if a view fails on
        it, the transaction is rolled back and the page written again with
        each view in its own savepoint, and the failing view event by event,
        so that one bad event is quarantined for that view alone.
        """
        raw = {v.name for v in views if v.raw}
        needed = {
            n.id: n for name, ns in page.per_view.items() if name not in raw for n in ns
        }
        if self.preload is not None and needed:
            self.preload(
                {k for n in needed.values() if (k := _key_id_or_none(self.mapper, n))}
            )
        opened = _Opened()
        for nid in sorted(needed):
            try:
                opened.events[nid] = self.mapper.to_domain_event(needed[nid])
            except RecordErased as erased:
                opened.shredded.add(erased.key_id)
            except DamagedRecord as damaged:
                opened.damaged[nid] = damaged
        try:
            return self._write_page(views, page, needed, opened, careful=False)
        except Exception as exc:
            if _is_unavailable(exc):
                raise
            log.warning(
                "projection.page_failed", end=page.end, error=type(exc).__name__
            )
            return self._write_page(views, page, needed, opened, careful=True)

    def _write_page(
        self,
        views: Sequence[Projection],
        page: _Page,
        needed: dict[int, Notification],
        opened: _Opened,
        *,
        careful: bool,
    ) -> dict[str, int]:
        participants = [v for v in views if v.name in page.per_view]
        applied: dict[str, int] = {}
        quarantined: list[dict[str, Any]] = []
        purged = opened.shredded | {
            e.erased_espace  # type: ignore[attr-defined]
            for e in opened.events.values()
            if getattr(type(e), "PURGES_ESPACE", False)
        }
        with self._write_transaction() as conn:
            self._lock(conn, participants)
            current = self.tracking.positions_in(conn, [v.name for v in participants])
            moved: list[Tracking] = []
            for view in participants:
                position = current[view.name]
                if position >= page.end or position < page.planned[view.name]:
                    # Another runner applied this page, or a rebuild reset the
                    # view since we planned: the next page is planned afresh.
                    continue
                mine = [n for n in page.per_view[view.name] if n.id > position]
                if view.raw:
                    done = self._apply_raw(conn, view, mine, careful)
                    if done is not None:
                        applied[view.name] = done
                        moved.append(Tracking(view.name, page.end))
                    continue
                handled = self._topics[view.name]
                batch = [
                    (n, opened.events[n.id])
                    for n in mine
                    if n.id in opened.events and n.topic in handled
                ]
                quarantined.extend(
                    _quarantine_row(
                        view.name, n, "damaged", opened.damaged[n.id], self.mapper
                    )
                    for n in mine
                    if n.id in opened.damaged
                )
                if careful:
                    failed = self._apply_guarded(conn, view, batch)
                    quarantined.extend(
                        _quarantine_row(view.name, n, "unapplied", exc, self.mapper)
                        for n, exc in failed
                    )
                    applied[view.name] = len(batch) - len(failed)
                else:
                    if batch:
                        view.apply_page(conn, [e for _, e in batch])
                    applied[view.name] = len(batch)
                if purged:
                    view.purge(conn, purged)
                moved.append(Tracking(view.name, page.end))
            if quarantined:
                conn.execute(QUARANTINE_TABLE.insert(), quarantined)
            self.tracking.insert_trackings_in(conn, moved)
        if purged:
            log.info("projection.purged", espaces=len(purged), views=sorted(applied))
        for row in quarantined:
            log.error(
                "projection.quarantined",
                view=row["view"],
                position=row["notification_id"],
                kind=row["kind"],
                topic=row["topic"],
                espace_id=str(row["espace_id"]),
            )
        log.debug("projection.page", end=page.end, applied=applied)
        return applied

    @staticmethod
    def _apply_raw(
        conn: sa.Connection,
        view: Projection,
        notifications: list[Notification],
        careful: bool,
    ) -> int | None:
        """A raw view (the audit tree) takes the stored events as they are,
        every one, in order: it may skip none. If it fails on a page, it
        stays where it was (its lag shows, and it tries again at the next
        catch-up) while the other views move on; None then."""
        if not notifications:
            return 0
        if not careful:
            view.apply_page(conn, notifications)
            return len(notifications)
        try:
            with conn.begin_nested():
                view.apply_page(conn, notifications)
        except Exception as exc:
            if _is_unavailable(exc):
                raise
            log.error(  # noqa: TRY400 - described, no traceback: it may quote content
                "projection.raw_view_failed", view=view.name, error=describe_error(exc)
            )
            return None
        return len(notifications)

    @staticmethod
    def _apply_guarded(
        conn: sa.Connection, view: Projection, batch: list[tuple[Notification, object]]
    ) -> list[tuple[Notification, Exception]]:
        """Apply a view's batch in a savepoint; if it fails, event by event,
        each in its own savepoint. Returns the events the view failed on."""
        if not batch:
            return []
        try:
            with conn.begin_nested():
                view.apply_page(conn, [e for _, e in batch])
        except Exception as exc:
            if _is_unavailable(exc):
                raise
        else:
            return []
        failed: list[tuple[Notification, Exception]] = []
        for notification, event in batch:
            try:
                with conn.begin_nested():
                    view.apply_page(conn, [event])
            except Exception as exc:
                if _is_unavailable(exc):
                    raise
                failed.append((notification, exc))
        return failed

    @contextmanager
    def _write_transaction(self) -> Iterator[sa.Connection]:
        """A transaction that holds the write lock from its first statement.

        On SQLite the runner's own engine emits ``BEGIN IMMEDIATE``, so the
        read of the positions and the writes happen under one write lock. On
        PostgreSQL the lock is an advisory lock per view (:meth:`_lock`), and
        the commit does not wait for the WAL flush (ADR-0016): a crash can
        lose the last pages, rows and positions together, and the next
        catch-up applies them again from the log.
        """
        with self._write_engine.begin() as conn:
            if self._dialect == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            yield conn

    def _lock(self, conn: sa.Connection, views: Sequence[Projection]) -> None:
        """Serialise runners per view on PostgreSQL, always in name order.

        A fixed order means two runners locking overlapping sets of views
        cannot deadlock: one statement takes the locks in the order of the
        array, which ``unnest`` keeps. The key includes the schema, so that
        two stores in one database do not block each other.
        """
        if self._dialect != "postgresql":
            return
        if self._schema is None:
            self._schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        schema = self._schema
        keys = [
            _advisory_key(f"{schema}.projection:{name}")
            for name in sorted(v.name for v in views)
        ]
        conn.execute(
            sa.text(
                "SELECT pg_advisory_xact_lock(k) "
                "FROM unnest(CAST(:keys AS bigint[])) AS k"
            ),
            {"keys": keys},
        )

    # -------------------------------------------------------------- continuous

    def run(self, stop: threading.Event, poll_interval: float = 1.0) -> None:
        """Keep the views caught up until ``stop`` is set.

        On PostgreSQL (with ``listen``) the runner sleeps until eventsourcing's
        NOTIFY announces new events, and still catches up every
        ``poll_interval`` in case a notification was lost while reconnecting;
        on SQLite, or when LISTEN fails, it polls every ``poll_interval``.
        An error in a catch-up is logged and retried after the interval: a
        continuous runner must survive a database restart, and the lag shows
        in :meth:`status` if the fault persists.
        """
        waiter = waiter_for(self.listen)
        try:
            while not stop.is_set():
                try:
                    self.catch_up()
                except Exception:
                    log.exception("projection.catch_up_failed")
                waiter.wait(stop, poll_interval)
        finally:
            waiter.close()


def _advisory_key(text: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock``.

    Python's ``hash()`` is salted per process, so two processes would not
    agree on it; a digest is the same everywhere.
    """
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )


@dataclass
class _Opened:
    """The events of a page, opened: decoded, erased (their key is gone) or
    damaged (they cannot be opened)."""

    events: dict[int, object] = field(default_factory=dict)
    shredded: set[UUID] = field(default_factory=set)
    damaged: dict[int, Exception] = field(default_factory=dict)


def _copy(
    conn: sa.Connection,
    source: sa.Table,
    target: sa.Table,
    where: sa.ColumnElement[bool] | None = None,
) -> None:
    """``INSERT INTO target SELECT ... FROM source [WHERE ...]``."""
    select = sa.select(*source.columns)
    if where is not None:
        select = select.where(where)
    conn.execute(target.insert().from_select([c.name for c in source.columns], select))


def _key_id_or_none(mapper: EventMapper, notification: Notification) -> UUID | None:
    try:
        return mapper.key_id_of(notification)
    except DamagedRecord:
        return None


_QUOTED = re.compile(r"""("[^"]*"|'[^']*')""")


def describe_error(exc: BaseException) -> str:
    """An error's class and first line, quoted values cut: what a quarantine
    row keeps. Database errors quote the values they refused, and a value
    may be health data; SQLAlchemy's messages add the statement and its
    parameters, so only the driver's own error is kept."""
    orig = getattr(exc, "orig", None)
    source = orig if isinstance(orig, BaseException) else exc
    first = (str(source).splitlines() or [""])[0]
    text = _QUOTED.sub("'…'", first)[:300]
    return f"{type(source).__name__}: {text}" if text else type(source).__name__


def _quarantine_row(
    view: str,
    notification: Notification,
    kind: str,
    exc: Exception,
    mapper: EventMapper,
) -> dict[str, Any]:
    return {
        "view": view,
        "notification_id": notification.id,
        "originator_id": notification.originator_id,
        "originator_version": notification.originator_version,
        "topic": notification.topic,
        "espace_id": _key_id_or_none(mapper, notification),
        "kind": kind,
        "error": describe_error(exc),
        "quarantined_at": datetime.now(UTC),
    }


def _is_unavailable(exc: BaseException) -> bool:
    """A lost connection or an unreachable database: the page must be tried
    again later, never quarantined."""
    if isinstance(
        exc, DatabaseUnavailable | sa.exc.OperationalError | sa.exc.InterfaceError
    ):
        return True
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
