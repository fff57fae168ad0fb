"""The event store: one eventsourcing Application for every aggregate.

One application means one notification log, which every projection reads in
order. Its mapper seals each event under its espace's key (ADR-0004).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import (
    InterfaceError,
    JSONTranscoder,
    Mapper,
    OperationalError,
    Recording,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import retry

from espace.adapters.crypto import EspaceMapper, Keystore
from espace.adapters.groupcommit import GroupCommit, Save, each_under_savepoint
from espace.adapters.settings import (
    RETRIES,
    StoreSettings,
    connect_timeout,
    unavailable,
)
from espace.adapters.transcodings import register_transcodings


class EventStore(Application[UUID]):
    """Events of all espaces, encrypted per espace, on SQLite or PostgreSQL."""

    name = "espace"

    def __init__(
        self,
        env: dict[str, str],
        keystore: Keystore,
        settings: StoreSettings | None = None,
    ) -> None:
        self.keystore = keystore
        self.after_save: Callable[[frozenset[str]], object] | None = None
        """Called after each save with the topics it stored: the store's
        read-your-writes catch-up (ADR-0009), in one place for every use case."""
        self._held = threading.local()
        super().__init__(env)
        if isinstance(self.recorder, PostgresRecorder) and settings is not None:
            self.recorder.bound(settings)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        topics = frozenset(r.notification.topic for r in recordings)
        held: set[str] | None = getattr(self._held, "topics", None)
        if held is not None:
            held.update(topics)
        elif topics and self.after_save is not None:
            self.after_save(topics)

    @contextmanager
    def saves_held(self) -> Iterator[None]:
        """Bulk work (a feed, an import, an erasure's saves): ``after_save``
        runs once, when the outermost hold ends, with every topic saved in it
        by this thread, even if the work stopped half-way (what was saved is
        committed)."""
        if getattr(self._held, "topics", None) is not None:
            yield
            return
        self._held.topics = set()
        try:
            yield
        finally:
            topics = frozenset(self._held.topics)
            self._held.topics = None
            if topics and self.after_save is not None:
                self.after_save(topics)

    def construct_mapper(self) -> Mapper[UUID]:
        """The mapper that seals each event under its espace's data key (ADR-0004),
        in place of the library's one cipher per application."""
        return EspaceMapper(
            transcoder=self.construct_transcoder(), keystore=self.keystore
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Add the ``date`` transcoding to the library's UUID, Decimal and
        datetime: events carry calendar dates (birth dates, LC-2's notice day)."""
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def construct_env(self, name: str, env: Any = None) -> Any:
        # Configuration comes from the store URL alone, never from stray
        # variables in the process environment (PERSISTENCE_MODULE, ...).
        """The application's environment from the ``env`` given (the store URL's)
        only, never from stray variables of the process (``PERSISTENCE_MODULE``...)."""
        from eventsourcing.utils import Environment

        return Environment(name, dict(env or {}))


class PostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, failing within the store's bound.

    The library retries an operation that fails with a connection error
    (ten attempts), each waiting for a pooled connection; unbounded, a
    command on a long-lived store waited a minute for a server that was gone,
    then raised the library's error. Here the wait per attempt is cut so that
    all attempts fit in ``StoreSettings.timeout``, and what is left of the
    error is :class:`DatabaseUnavailable`. The pool reconnects by itself
    once the server is back.
    """

    _settings: StoreSettings | None = None

    def bound(self, settings: StoreSettings) -> None:
        """Fit the pool's waits in the store's timeout (ADR-0020): the wait per
        attempt for a pooled connection, the reconnection and connection timeouts."""
        self._settings = settings
        pool = self.datastore.pool
        pool.timeout = max(0.05, settings.timeout / RETRIES - 0.2)
        # psycopg_pool backs off (1 s, 2 s, 4 s...) between reconnection
        # attempts and gives up on an attempt after reconnect_timeout; a new
        # one starts when a command asks. Bounded like a command, the pool
        # is ready within seconds of the server's return, whatever the outage.
        pool.reconnect_timeout = settings.timeout
        assert isinstance(pool.kwargs, dict)
        pool.kwargs["connect_timeout"] = connect_timeout(settings.timeout)

    @contextmanager
    def _answering(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            if self._settings is None:
                raise
            raise unavailable(self._settings, exc) from exc

    def insert_events(self, *args: Any, **kwargs: Any) -> Any:
        """Store events, as the library does; a database that does not answer
        within the bound raises :class:`DatabaseUnavailable`."""
        with self._answering():
            return super().insert_events(*args, **kwargs)

    def select_events(self, *args: Any, **kwargs: Any) -> Any:
        """Read an aggregate's events, as the library does; a database that does
        not answer within the bound raises :class:`DatabaseUnavailable`."""
        with self._answering():
            return super().select_events(*args, **kwargs)

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        """Read a page of the log, as the library does; a database that does not
        answer within the bound raises :class:`DatabaseUnavailable`."""
        with self._answering():
            return super().select_notifications(*args, **kwargs)

    def max_notification_id(self) -> int | None:
        """The log's last position, as the library reads it; a database that does
        not answer within the bound raises :class:`DatabaseUnavailable`."""
        with self._answering():
            found: int | None = super().max_notification_id()
            return found


class GroupCommitPostgresRecorder(PostgresRecorder):
    """:class:`PostgresRecorder` whose concurrent saves are written a group
    at a time: one table lock, one NOTIFY and one commit for all of them,
    each save under its own savepoint (:mod:`espace.adapters.groupcommit`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group_commit = GroupCommit(self._write_group, super().insert_events)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Store events with any other thread's saves waiting with them; a
        database that does not answer within the bound raises
        :class:`DatabaseUnavailable`."""
        with self._answering():
            return self.group_commit.save(stored_events, **kwargs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _write_group(self, saves: list[Save]) -> None:
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.cursor() as curs:
                self._lock_table(curs)
                self._notify_channel(curs)

            def insert(save: Save) -> Sequence[int] | None:
                with conn.cursor() as curs:
                    # The plain insert: the lock and the NOTIFY are the group's.
                    PostgresAggregateRecorder._insert_stored_events(  # noqa: SLF001
                        self, curs, save.events
                    )
                    return self._fetch_ids_after_insert_events(curs, save.events)

            each_under_savepoint(saves, insert, conn.transaction)


class GroupCommitSQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder whose concurrent saves are written a
    group at a time: one transaction and one commit for all of them, each
    save under its own savepoint (:mod:`espace.adapters.groupcommit`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group_commit = GroupCommit(self._write_group, super().insert_events)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Store events with any other thread's saves waiting with them."""
        return self.group_commit.save(stored_events, **kwargs)

    def _write_group(self, saves: list[Save]) -> None:
        with self.datastore.transaction(commit=True) as cursor:

            @contextmanager
            def savepoint() -> Iterator[None]:
                cursor.execute("SAVEPOINT espace_save")
                try:
                    yield
                except BaseException:
                    cursor.execute("ROLLBACK TO SAVEPOINT espace_save")
                    raise
                finally:
                    cursor.execute("RELEASE SAVEPOINT espace_save")

            def insert(save: Save) -> Sequence[int] | None:
                return self._insert_events(cursor, save.events)

            each_under_savepoint(saves, insert, savepoint)
