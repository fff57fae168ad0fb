"""Where the store lives: one URL, parsed once, for eventsourcing and SQLAlchemy.

``sqlite:///path/to/espace.db`` (the embedded default) or
``postgresql://user[:password]@host[:port]/dbname[?schema=name]``.
Events go through eventsourcing's native recorders; read models, tracking and
the keystore go through SQLAlchemy Core on the same database (ADR-0003).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from espace.application.errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///espace.db"
EVENT_STORE_NAME = "espace"


@dataclass(frozen=True)
class StoreSettings:
    url: str
    kind: Literal["sqlite", "postgresql"]
    sqlite_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    dbname: str = ""
    schema: str = ""

    @property
    def redacted_url(self) -> str:
        """The URL without its password, fit for logs and output."""
        if self.kind == "sqlite":
            return self.url
        schema = f"?schema={self.schema}" if self.schema else ""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}{schema}"

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment for eventsourcing's native recorders."""
        if self.kind == "sqlite":
            assert self.sqlite_path is not None
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_POOL_SIZE": "3",
            "POSTGRES_MAX_OVERFLOW": "3",
            "POSTGRES_CONNECT_TIMEOUT": "10",
            # Never POSTGRES_ENABLE_DB_FUNCTIONS: see ADR-0003.
        }
        if self.schema:
            env["POSTGRES_SCHEMA"] = self.schema
        return env

    def sqlalchemy_url(self) -> sa.URL:
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


def create_engine(settings: StoreSettings) -> sa.Engine:
    """A SQLAlchemy engine on the same database as the event store."""
    kwargs: dict[str, Any] = {}
    if settings.kind == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=3, max_overflow=3, pool_pre_ping=True)
    engine = sa.create_engine(settings.sqlalchemy_url(), **kwargs)
    if settings.kind == "sqlite":

        @sa_event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    elif settings.schema:
        schema = settings.schema

        @sa_event.listens_for(engine, "connect")
        def _pg_search_path(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                cur.execute(f'SET search_path TO "{schema}"')
            dbapi_conn.commit()

    return engine
