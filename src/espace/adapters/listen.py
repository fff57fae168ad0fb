"""How a continuous projection runner learns that there are new events:
LISTEN/NOTIFY on PostgreSQL (eventsourcing's recorder notifies on every
insert), polling on SQLite or when LISTEN fails."""

from __future__ import annotations

import threading
from contextlib import suppress
from dataclasses import dataclass, field
from time import monotonic
from typing import Any, Protocol

import psycopg
import structlog
from eventsourcing.persistence import ApplicationRecorder
from psycopg import sql
from psycopg.conninfo import make_conninfo

from espace.adapters.settings import StoreSettings

log = structlog.get_logger(__name__)

_STOP_CHECK_SECONDS = 0.2
"""How often a waiter looks at its stop event while it waits."""


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


class Waiter(Protocol):
    """Sleeps between catch-ups until there may be something to apply."""

    def wait(self, stop: threading.Event, timeout: float) -> None:
        """Return when there may be new events, after ``timeout`` seconds at
        most, or soon after ``stop`` is set."""

    def close(self) -> None:
        """Release what the waiter holds (a connection); it is not used after."""


class PollWaiter:
    """Polls: sleeps the whole interval (SQLite, or LISTEN unavailable)."""

    def wait(self, stop: threading.Event, timeout: float) -> None:
        """Sleep the whole interval, or until ``stop`` is set: nothing wakes it."""
        stop.wait(timeout)

    def close(self) -> None:
        """Nothing to release: a poller holds no connection."""


class ListenWaiter:
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
        """Return on the first NOTIFY (draining the others queued), at ``timeout``, or
        when ``stop`` is set. Without a connection it tries to reconnect: on success
        it returns at once (notifications may have been missed), else it polls. A
        connection lost while waiting is logged and closed, to be retried next time."""
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
        """Close the LISTEN connection, errors ignored; the next ``wait`` reconnects."""
        if self._conn is not None:
            with suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


def waiter_for(listen: PgListen | None) -> Waiter:
    """A LISTEN waiter where there is a channel, else a poller."""
    return ListenWaiter(listen) if listen is not None else PollWaiter()
