"""Where the store lives: one URL, parsed once, for eventsourcing and SQLAlchemy.

``sqlite:///path/to/espace.db`` (the embedded default) or
``postgresql://user[:password]@host[:port]/dbname[?schema=name]``.
Events go through eventsourcing's native recorders; read models, tracking and
the keystore go through SQLAlchemy Core on the same database (ADR-0003).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from espace.application.errors import ConfigurationError, DatabaseUnavailable

DEFAULT_DATABASE_URL = "sqlite:///espace.db"
DEFAULT_TIMEOUT = 5.0
TIMEOUT_ENV = "ESPACE_DB_TIMEOUT"
RETRIES = 10
"""How many times eventsourcing's PostgreSQL recorder tries an operation
that fails with a connection error (its ``retry`` decorator, 0.2 s apart)."""
EVENT_STORE_NAME = "espace"


@dataclass(frozen=True)
class StoreSettings:
    """The store URL, parsed once (ADR-0003): which database, where, and how
    long a command waits for it (ADR-0020). Made by :func:`parse_database_url`."""

    url: str
    kind: Literal["sqlite", "postgresql"]
    sqlite_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    dbname: str = ""
    schema: str = ""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds a command waits for an unreachable database before it fails
    with DatabaseUnavailable (``ESPACE_DB_TIMEOUT``)."""
    group_commit: bool = True
    """Concurrent saves of one process share one transaction (ADR-0027);
    off, each save is its own, as the library writes them."""

    @property
    def redacted_url(self) -> str:
        """The URL without its password, fit for logs and output."""
        if self.kind == "sqlite":
            return self.url
        schema = f"?schema={self.schema}" if self.schema else ""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}{schema}"

    def eventsourcing_env(self, *, create_tables: bool = False) -> dict[str, str]:
        """The environment for eventsourcing's native recorders.

        The library creates its tables on every open unless told not to;
        only ``init`` and ``migrate`` may (``espace.adapters.schema``).
        """
        create = {"CREATE_TABLE": "y" if create_tables else "n"}
        if self.kind == "sqlite":
            assert self.sqlite_path is not None
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "30",
                **create,
            }
            if self.group_commit:
                env["APPLICATION_RECORDER_TOPIC"] = (
                    "espace.adapters.eventstore:GroupCommitSQLiteRecorder"
                )
            return env
        env = {
            **create,
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_POOL_SIZE": "3",
            "POSTGRES_MAX_OVERFLOW": "3",
            # An integer here; EventStore narrows the wait per attempt so
            # that all the library's attempts fit in ``timeout``.
            "POSTGRES_CONNECT_TIMEOUT": "1",
            "APPLICATION_RECORDER_TOPIC": (
                "espace.adapters.eventstore:"
                + (
                    "GroupCommitPostgresRecorder"
                    if self.group_commit
                    else "PostgresRecorder"
                )
            ),
            # Never POSTGRES_ENABLE_DB_FUNCTIONS: see ADR-0003.
        }
        if self.schema:
            env["POSTGRES_SCHEMA"] = self.schema
        return env

    def sqlalchemy_url(self) -> sa.URL:
        """The URL of the same database for SQLAlchemy, which holds the read models,
        the tracking and the keystore (with psycopg 3 on PostgreSQL); the schema is
        set per connection by :func:`create_engine`, not here."""
        if self.kind == "sqlite":
            return sa.URL.create("sqlite+pysqlite", database=str(self.sqlite_path))
        return sa.URL.create(
            "postgresql+psycopg",
            username=self.user,
            password=self.password or None,
            host=self.host,
            port=self.port,
            database=self.dbname,
        )


def connect_timeout(timeout: float) -> int:
    """The ``connect_timeout`` libpq is given: whole seconds, at least 2 as it asks."""
    return max(2, math.ceil(timeout))


def unavailable(settings: StoreSettings, exc: BaseException) -> DatabaseUnavailable:
    """The error an operator reads when the database does not answer."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return DatabaseUnavailable(
        f"database unavailable at {settings.redacted_url} (no answer within "
        f"{settings.timeout:g} s, ESPACE_DB_TIMEOUT): {first}"
    )


def _map_unavailable(engine: sa.Engine, settings: StoreSettings) -> None:
    """Connection failures and lost connections become DatabaseUnavailable;
    the engine's pool replaces the dead connections by itself."""

    @sa_event.listens_for(engine, "handle_error")
    def _unavailable(context: sa.engine.ExceptionContext) -> None:
        if context.is_pre_ping:
            return  # the pool replaces the dead connection and tries again
        original = context.original_exception
        if context.is_disconnect or isinstance(
            original, psycopg.OperationalError | psycopg.InterfaceError
        ):
            if isinstance(original, psycopg.errors.QueryCanceled):
                return
            raise unavailable(settings, original) from original


def parse_database_url(url: str | None = None) -> StoreSettings:
    """Parse a store URL; ``None`` reads ``ESPACE_DATABASE_URL`` or the default."""
    raw = url or os.environ.get("ESPACE_DATABASE_URL") or DEFAULT_DATABASE_URL
    parts = urlsplit(raw)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc or not path or path == "/":
            raise ConfigurationError(
                f"database URL {raw!r}: expected sqlite:///relative/path.db "
                "or sqlite:////absolute/path.db"
            )
        return StoreSettings(url=raw, kind="sqlite", sqlite_path=Path(path[1:]))
    if scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise ConfigurationError(f"database URL {raw!r}: no database name")
        query = parse_qs(parts.query)
        schema = query.get("schema", [""])[0]
        if schema and not schema.replace("_", "").isalnum():
            raise ConfigurationError(f"database URL: invalid schema name {schema!r}")
        return StoreSettings(
            url=raw,
            kind="postgresql",
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=dbname,
            schema=schema,
        )
    raise ConfigurationError(
        f"database URL {raw!r}: the scheme must be sqlite or postgresql"
    )


KEYSTORE_URL_ENV = "ESPACE_KEYSTORE_URL"


def keystore_settings(
    settings: StoreSettings, environ: Mapping[str, str] = os.environ
) -> StoreSettings:
    """Where the store's keystore lives (ADR-0028): ``ESPACE_KEYSTORE_URL``
    (another database, or another server), else, for a SQLite store, a
    second file beside it (``espace.db``: ``espace.keystore.db``), else the
    PostgreSQL store's own database. It waits for its database as the store
    does (``timeout``)."""
    url = environ.get(KEYSTORE_URL_ENV)
    if url:
        found = parse_database_url(url)
    elif settings.sqlite_path is not None:
        path = settings.sqlite_path
        beside = path.with_name(f"{path.stem}.keystore{path.suffix or '.db'}")
        found = parse_database_url(f"sqlite:///{beside}")
    else:
        return settings
    return dataclasses.replace(found, timeout=settings.timeout)


def same_database(first: StoreSettings, second: StoreSettings) -> bool:
    """Whether two settings name the same tables: one SQLite file, or one
    PostgreSQL database and schema on one server."""
    if first.sqlite_path is not None or second.sqlite_path is not None:
        return (
            first.sqlite_path is not None
            and second.sqlite_path is not None
            and first.sqlite_path.resolve() == second.sqlite_path.resolve()
        )
    return (first.host, first.port, first.dbname, first.schema) == (
        second.host,
        second.port,
        second.dbname,
        second.schema,
    )


def create_engine(settings: StoreSettings) -> sa.Engine:
    """A SQLAlchemy engine on the same database as the event store."""
    kwargs: dict[str, Any] = {}
    if settings.kind == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(
            pool_size=3,
            max_overflow=3,
            pool_pre_ping=True,
            pool_timeout=settings.timeout,
            connect_args={"connect_timeout": connect_timeout(settings.timeout)},
        )
    engine = sa.create_engine(settings.sqlalchemy_url(), **kwargs)
    if settings.kind == "postgresql":
        _map_unavailable(engine, settings)
    if settings.kind == "sqlite":

        @sa_event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # A freed value is zeroed in its page (SEC-4: an erasure's purge).
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

    elif settings.schema:
        schema = settings.schema

        @sa_event.listens_for(engine, "connect")
        def _pg_search_path(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(f'SET search_path TO "{schema}"')
            dbapi_conn.commit()

    return engine
