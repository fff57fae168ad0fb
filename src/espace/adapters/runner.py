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
  espace was destroyed (erasure, SEC-4) it raises a subclass of
  :class:`~eventsourcing.persistence.MapperDeserialisationError` that carries
  the espace id in a ``key_id`` attribute (a :class:`~uuid.UUID`). The runner
  then skips the event and purges that espace from every view, in the same
  transaction. Any other deserialisation error is a real fault and stops the
  catch-up.
* ``mapper.key_id_of`` names the key of a stored event without decrypting it,
  so ``preload`` can fetch a page's keys in one round trip.
* Notification ids grow with commit order (eventsourcing locks the events
  table on PostgreSQL; SQLite serialises writers), so once the largest id is
  ``H``, every event up to ``H`` is visible and a view can be tracked at ``H``
  even when its last events were of topics it ignores.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from time import monotonic
from typing import Any, Protocol
from uuid import UUID

import psycopg
import sqlalchemy as sa
import structlog
from eventsourcing.persistence import (
    ApplicationRecorder,
    MapperDeserialisationError,
    Notification,
    StoredEvent,
    Tracking,
)
from eventsourcing.utils import get_topic
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy import event as sa_event

from espace.adapters.settings import StoreSettings
from espace.adapters.tracking import TRACKING_METADATA, ViewTrackingRecorder
from espace.projections.base import Projection

log = structlog.get_logger(__name__)

_STOP_CHECK_SECONDS = 0.2
"""How long a LISTEN wait blocks before looking at the stop flag again."""


class EventMapper(Protocol):
    """What the runner needs from a mapper (``espace.adapters.crypto.EspaceMapper``).

    A protocol rather than an import so that the read side does not depend
    on how keys are stored; eventsourcing's ``Mapper`` plus a ``key_id_of``
    satisfies it.
    """

    def to_domain_event(self, stored_event: StoredEvent) -> object:
        """Decrypt and decode; raise an error with ``key_id`` if the key is shredded."""

    def key_id_of(self, stored_event: StoredEvent) -> UUID:
        """The id of the key that encrypts this event, read from clear fields."""


@dataclass(frozen=True)
class PgListen:
    """Where to LISTEN for new events on PostgreSQL.

    eventsourcing's PostgreSQL recorder runs ``NOTIFY <channel>`` in every
    transaction that inserts events, the channel being the events table's
    name (``PostgresApplicationRecorder.channel_name``). Channels are
    database-wide, not per schema: writers in another schema of the same
    database wake this runner too, which costs one empty catch-up.
    """

    conninfo: str = field(repr=False)  # may hold a password: keep it out of logs
    channel: str

    @classmethod
    def for_store(
        cls, settings: StoreSettings, recorder: ApplicationRecorder
    ) -> PgListen | None:
        """The LISTEN config for this store, or ``None`` on SQLite (which polls)."""
        channel = getattr(recorder, "channel_name", None)
        if settings.kind != "postgresql" or not isinstance(channel, str):
            return None
        conninfo = make_conninfo(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password or None,
            dbname=settings.dbname,
        )
        return cls(conninfo=conninfo, channel=channel)


@dataclass(frozen=True)
class ViewStatus:
    """How far a view is behind the log; 0 means before the first event."""

    name: str
    position: int
    head: int
    lag: int


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
        self._topics: dict[str, frozenset[str]] = {
            p.name: frozenset(get_topic(cls) for cls in p.handled) for p in projections
        }
        self._dialect = engine.dialect.name
        self._schema: str | None = None
        self._write_engine = (
            _sqlite_immediate_engine(engine) if self._dialect == "sqlite" else engine
        )

    def close(self) -> None:
        """Release the runner's own SQLite connections (the engine is the caller's)."""
        if self._write_engine is not self.engine:
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

    def catch_up(self, max_events: int | None = None) -> dict[str, int]:
        """Apply what the views have not seen yet, up to the log's current head.

        ``max_events`` bounds how many notifications are read in this call, so
        a scheduler tick does a bounded amount of work. Returns the number of
        events applied to each view.
        """
        return self._catch_up(self.projections, max_events)

    def rebuild(self, names: Collection[str] | None = None) -> dict[str, int]:
        """Empty the named views (all by default) and replay the log into them.

        The clearing and the reset of their positions commit together, so a
        crash leaves either the old view or an empty one at position 0, never a
        view whose rows disagree with its position. Readers see the view fill
        up again while it catches up.
        """
        views = self._select(names)
        with self._write_transaction() as conn:
            self._lock(conn, views)
            for view in views:
                view.clear(conn)
                self.tracking.reset(conn, view.name)
        log.info("projection.rebuild", views=[v.name for v in views])
        return self._catch_up(views, None)

    def status(self) -> list[ViewStatus]:
        """The position, the head of the log and the lag of each view."""
        head = self.recorder.max_notification_id() or 0
        positions = self.tracking.positions([p.name for p in self.projections])
        return [
            ViewStatus(
                name=p.name,
                position=positions[p.name],
                head=head,
                lag=max(0, head - positions[p.name]),
            )
            for p in self.projections
        ]

    def _select(self, names: Collection[str] | None) -> tuple[Projection, ...]:
        if names is None:
            return self.projections
        unknown = set(names) - {p.name for p in self.projections}
        if unknown:
            raise KeyError(f"unknown views: {sorted(unknown)}")
        return tuple(p for p in self.projections if p.name in names)

    def _catch_up(
        self, views: Sequence[Projection], max_events: int | None
    ) -> dict[str, int]:
        applied = {v.name: 0 for v in views}
        head = self.recorder.max_notification_id() or 0
        budget = max_events
        while budget is None or budget > 0:
            limit = self.page_size if budget is None else min(self.page_size, budget)
            page = self._read_page(views, head, limit)
            if page is None:
                break
            moved = self._apply_page(views, page)
            for name, count in moved.items():
                applied[name] += count
            if page.end >= head and len(moved) == len(page.per_view):
                break  # every view behind is now at the head read above
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
        topics = sorted(set().union(*(self._topics[v.name] for v in behind)))
        notifications: Sequence[Notification] = ()
        if topics:
            notifications = self.recorder.select_notifications(
                start, limit, stop=head, topics=topics, inclusive_of_start=False
            )
        # A full page ends at its last id; a short one has seen every event of
        # these topics up to the head, so the views can be tracked at the head.
        end = notifications[-1].id if len(notifications) == limit else head
        per_view = {
            v.name: [
                n
                for n in notifications
                if n.topic in self._topics[v.name] and n.id > planned[v.name]
            ]
            for v in behind
            if planned[v.name] < end
        }
        return _Page(notifications, end, planned, per_view)

    def _apply_page(self, views: Sequence[Projection], page: _Page) -> dict[str, int]:
        """Decrypt outside the transaction, then write views and tracking inside it.

        Decrypting (and preloading keys) before taking the write lock keeps
        the lock short: on SQLite it blocks the event writers too.
        """
        needed = {n.id: n for ns in page.per_view.values() for n in ns}
        if self.preload is not None and needed:
            self.preload({self.mapper.key_id_of(n) for n in needed.values()})
        events: dict[int, object] = {}
        shredded: set[UUID] = set()
        for nid in sorted(needed):
            try:
                events[nid] = self.mapper.to_domain_event(needed[nid])
            except MapperDeserialisationError as error:
                key_id = getattr(error, "key_id", None)
                if not isinstance(key_id, UUID):
                    raise
                shredded.add(key_id)

        participants = [v for v in views if v.name in page.per_view]
        applied: dict[str, int] = {}
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
                batch = [
                    events[n.id]
                    for n in page.per_view[view.name]
                    if n.id > position and n.id in events
                ]
                if batch:
                    view.apply_page(conn, batch)
                if shredded:
                    view.purge(conn, shredded)
                moved.append(Tracking(view.name, page.end))
                applied[view.name] = len(batch)
            self.tracking.insert_trackings_in(conn, moved)
        if shredded:
            log.info("projection.purged", espaces=len(shredded), views=sorted(applied))
        log.debug("projection.page", end=page.end, applied=applied)
        return applied

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
        waiter: _Waiter = (
            _ListenWaiter(self.listen) if self.listen is not None else _PollWaiter()
        )
        try:
            while not stop.is_set():
                try:
                    self.catch_up()
                except Exception:
                    log.exception("projection.catch_up_failed")
                waiter.wait(stop, poll_interval)
        finally:
            waiter.close()


class _Waiter(Protocol):
    def wait(self, stop: threading.Event, timeout: float) -> None: ...

    def close(self) -> None: ...


class _PollWaiter:
    def wait(self, stop: threading.Event, timeout: float) -> None:
        stop.wait(timeout)

    def close(self) -> None:
        pass


class _ListenWaiter:
    """Wakes on NOTIFY, on a dedicated connection, and falls back to polling.

    The LISTEN is registered before the first catch-up, so an event committed
    between a catch-up and the next wait is still announced: PostgreSQL queues
    the notification on this connection.
    """

    def __init__(self, listen: PgListen) -> None:
        self._listen = listen
        self._conn: psycopg.Connection[Any] | None = None
        self._connect()

    def _connect(self) -> bool:
        try:
            conn = psycopg.connect(
                self._listen.conninfo, autocommit=True, connect_timeout=5
            )
            conn.execute(
                sql.SQL("LISTEN {}").format(sql.Identifier(self._listen.channel))
            )
        except psycopg.Error as exc:
            log.warning("projection.listen_failed", error=str(exc), fallback="polling")
            return False
        self._conn = conn
        return True

    def wait(self, stop: threading.Event, timeout: float) -> None:
        if self._conn is None:
            if not self._connect():
                stop.wait(timeout)
            # Just (re)connected: notifications may have been missed, so
            # return and let the caller catch up at once.
            return
        deadline = monotonic() + timeout
        try:
            while not stop.is_set():
                remaining = deadline - monotonic()
                if remaining <= 0:
                    return
                slice_ = min(remaining, _STOP_CHECK_SECONDS)
                notified = False
                for _ in self._conn.notifies(timeout=slice_, stop_after=1):
                    notified = True
                if notified:
                    # Drain what else is queued: one catch-up covers them all.
                    for _ in self._conn.notifies(timeout=0):
                        pass
                    return
        except psycopg.Error as exc:
            log.warning("projection.listen_lost", error=str(exc), fallback="polling")
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            with suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


def _advisory_key(text: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock``.

    Python's ``hash()`` is salted per process, so two processes would not
    agree on it; a digest is the same everywhere.
    """
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )


def _sqlite_immediate_engine(engine: sa.Engine) -> sa.Engine:
    """A private engine on the same SQLite file whose transactions ``BEGIN IMMEDIATE``.

    sqlite3's legacy transaction control emits no BEGIN before a SELECT, so
    "read my position, then write" would run the read outside the transaction
    and two runners could both apply a page. SQLAlchemy's documented recipe
    ("Enabling Non-Legacy SQLite Transactional Modes", sqlite dialect docs):
    turn sqlite3's own BEGIN off on connect and emit ours on the ``begin``
    event. Ours is ``BEGIN IMMEDIATE``: the write lock is taken at once, so
    the read and the writes are serialised against every other writer.

    A separate engine rather than listeners on the caller's one, so that the
    other users of that engine keep the behaviour they were written for. The
    pragmas mirror ``espace.adapters.settings.create_engine``.
    """
    private = sa.create_engine(engine.url, connect_args={"timeout": 30})

    @sa_event.listens_for(private, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @sa_event.listens_for(private, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return private
