"""Fresh copies of the views' tables, for a rebuild that never empties them.

A rebuild replays the whole log. Done in place, the views would be empty
while it runs, and emptier than before if it stopped half-way (a crash, a
lost connection). So it builds into a *shadow*: the same tables in another
namespace, with their own tracking and quarantine, and swaps the result in
at the end, in one transaction (ADR-0018).

- PostgreSQL: a schema beside the store's own, ``<schema>__rebuild``.
- SQLite: a file beside the store's own, ``<db>.rebuild``, attached to the
  connections of the rebuild as ``rebuild``.

The projections are not told: SQLAlchemy's ``schema_translate_map`` renders
every table of theirs (whose schema is ``None``) into the shadow namespace
on the build engine, and the swap engine reaches both.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from espace.application.errors import Conflict

SQLITE_SHADOW = "rebuild"


def sqlite_immediate_engine(
    url: sa.URL, *, attach: dict[str, Path] | None = None
) -> sa.Engine:
    """A private engine on a SQLite file whose transactions ``BEGIN IMMEDIATE``.

    sqlite3's legacy transaction control emits no BEGIN before a SELECT, so
    "read my position, then write" would run the read outside the transaction
    and two runners could both apply a page. SQLAlchemy's documented recipe
    ("Enabling Non-Legacy SQLite Transactional Modes", sqlite dialect docs):
    turn sqlite3's own BEGIN off on connect and emit ours on the ``begin``
    event. Ours is ``BEGIN IMMEDIATE``: the write lock is taken at once, so
    the read and the writes are serialised against every other writer.

    A separate engine rather than listeners on the caller's one, so that the
    other users of that engine keep the behaviour they were written for. The
    pragmas mirror ``espace.adapters.settings.create_engine``. ``attach``
    names other database files to attach to every connection (a rebuild's
    shadow): they are throw-away, so they are written without a WAL and
    without waiting for the disk.
    """
    private = sa.create_engine(url, connect_args={"timeout": 30})

    @sa_event.listens_for(private, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        for name, path in (attach or {}).items():
            cur.execute(f"ATTACH DATABASE ? AS {name}", (str(path),))
            cur.execute(f"PRAGMA {name}.journal_mode=MEMORY")
            cur.execute(f"PRAGMA {name}.synchronous=OFF")
        cur.close()

    @sa_event.listens_for(private, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return private


@dataclass(frozen=True)
class Shadow:
    """Where a rebuild writes, and how the swap reaches it."""

    build: sa.Engine
    """Its statements land in the shadow tables (tracking included)."""
    swap: sa.Engine
    """Sees the store's tables as they are named, and the shadow's qualified."""
    schema: str
    """The shadow's namespace on ``swap``."""

    def table(self, table: sa.Table) -> sa.Table:
        """The shadow copy of one of the store's tables, as ``swap`` names it."""
        return table.to_metadata(sa.MetaData(), schema=self.schema)


@contextmanager
def shadow_of(engine: sa.Engine, tables: Iterable[sa.Table]) -> Iterator[Shadow]:
    """A fresh, empty shadow of ``tables``, dropped on exit.

    One rebuild at a time per store: a second one gets a :class:`Conflict`
    at once rather than two rebuilds racing over one shadow.
    """
    tables = list(tables)
    if engine.dialect.name == "sqlite":
        with _sqlite_shadow(engine, tables) as shadow:
            yield shadow
    else:
        with _postgres_shadow(engine, tables) as shadow:
            yield shadow


def _create(build: sa.Engine, tables: list[sa.Table]) -> None:
    by_metadata: dict[sa.MetaData, list[sa.Table]] = {}
    for table in tables:
        by_metadata.setdefault(table.metadata, []).append(table)
    with build.begin() as conn:
        for metadata, group in by_metadata.items():
            metadata.create_all(conn, tables=group)


@contextmanager
def _sqlite_shadow(engine: sa.Engine, tables: list[sa.Table]) -> Iterator[Shadow]:
    database = engine.url.database
    assert database is not None  # a file store (ADR-0003)
    path = Path(f"{database}.{SQLITE_SHADOW}")
    with Path(f"{path}.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("another rebuild of this store is running") from None
        _remove(path)
        swap = sqlite_immediate_engine(engine.url, attach={SQLITE_SHADOW: path})
        build = swap.execution_options(schema_translate_map={None: SQLITE_SHADOW})
        try:
            _create(build, tables)
            yield Shadow(build=build, swap=swap, schema=SQLITE_SHADOW)
        finally:
            swap.dispose()
            _remove(path)


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def _postgres_shadow(engine: sa.Engine, tables: list[sa.Table]) -> Iterator[Shadow]:
    with engine.connect() as holder:
        schema = holder.execute(sa.text("SELECT current_schema()")).scalar_one()
        shadow = f"{schema}__rebuild"[:63]
        got = holder.execute(
            sa.text("SELECT pg_try_advisory_lock(hashtext(:key))"),
            {"key": f"espace.rebuild:{shadow}"},
        ).scalar_one()
        holder.commit()
        if not got:
            raise Conflict("another rebuild of this store is running")
        quoted = holder.dialect.identifier_preparer.quote_identifier(shadow)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")
                conn.exec_driver_sql(f"CREATE SCHEMA {quoted}")
            build = engine.execution_options(schema_translate_map={None: shadow})
            _create(build, tables)
            yield Shadow(build=build, swap=engine, schema=shadow)
        finally:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")
            holder.execute(
                sa.text("SELECT pg_advisory_unlock(hashtext(:key))"),
                {"key": f"espace.rebuild:{shadow}"},
            )
            holder.commit()
