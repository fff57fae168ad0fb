"""The library's stored events table as the audit log reads it (ADR-0021):
its columns by name (:func:`events_table`), which aggregates it holds
(:class:`StoredAggregates`), and one espace's leaves of the tree, each
joined with the stored event it was made from (:func:`espace_leaves`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import Notification

from espace.adapters.audittree import _IN_CHUNK, driver_cursor, leaves


class LeafRow(NamedTuple):
    """A leaf of the tree and the stored event it was made from (None if the
    log no longer has that row)."""

    leaf_index: int
    leaf: bytes
    leaf_hash: bytes
    notification_id: int
    row: Notification | None


class StoredAggregates:
    """Which aggregates the library's events table holds, by id: one query
    per chunk of ids, on its primary key (:class:`KnownAggregates`)."""

    def __init__(self, engine: sa.Engine, table_name: str) -> None:
        self.engine = engine
        self.table, _ = events_table(engine, table_name)

    def existing(self, aggregate_ids: Collection[UUID]) -> set[UUID]:
        """Those of these ids that have a stored event (their version 1): a bulk
        import tells a new aggregate from a known one without loading it."""
        sqlite = self.engine.dialect.name == "sqlite"  # ids are hex text there
        ids = [i.hex if sqlite else i for i in aggregate_ids]
        column = self.table.c.originator_id
        found: set[UUID] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _IN_CHUNK):
                query = sa.select(column).where(
                    self.table.c.originator_version == 1,
                    column.in_(ids[start : start + _IN_CHUNK]),
                )
                found.update(
                    i if isinstance(i, UUID) else UUID(str(i))
                    for (i,) in conn.execute(query)
                )
        return found


def events_table(engine: sa.Engine, table_name: str) -> tuple[sa.TableClause, str]:
    """The library's stored events table, and its notification id column."""
    position = "rowid" if engine.dialect.name == "sqlite" else "notification_id"
    return (
        sa.table(
            table_name,
            sa.column(position),
            sa.column("originator_id"),
            sa.column("originator_version"),
            sa.column("topic"),
            sa.column("state"),
        ),
        position,
    )


def espace_leaves(
    engine: sa.Engine,
    table_name: str,
    espace_id: UUID,
    record_id: UUID,
    *,
    below: int | None = None,
    except_topic: str | None = None,
) -> list[LeafRow]:
    """One espace's leaves (those sealed under its key, and the record of its
    erasure, ``record_id``), below a size, in log order, each with its stored
    event (those of ``except_topic`` left out): through the tree's indexes
    and the log's key. Two queries, each in its index's order, merged here:
    one with an OR would sort every row, states included. Read as the
    driver's tuples: an espace's history is every one of its events, and
    SQLAlchemy's rows cost three times the query (benchmarks/bench_audit.py).
    A leaf whose row is gone is kept (its ``row`` None) whatever the topic
    left out: the caller says the log is damaged."""
    mark = _mark(engine)
    where = f" AND l.leaf_index < {mark}" if below is not None else ""
    params: tuple[Any, ...] = () if below is None else (below,)
    if except_topic is not None:
        where += f" AND (e.topic IS NULL OR e.topic <> {mark})"
        params += (except_topic,)
    found: list[LeafRow] = []
    with engine.connect() as conn, driver_cursor(conn) as cursor:
        for column, key in (("espace_id", espace_id), ("originator_id", record_id)):
            found += _leaf_rows(
                cursor,
                _leaves_query(engine, table_name, column, where),
                (_key(engine, key), *params),
            )
    found.sort(key=lambda leaf: leaf.leaf_index)
    return found


def espace_topic_page(
    engine: sa.Engine,
    table_name: str,
    espace_id: UUID,
    topic: str,
    *,
    after: int,
    below: int,
    limit: int,
) -> list[LeafRow]:
    """Up to ``limit`` of one espace's leaves whose events are of ``topic``,
    after the leaf ``after`` and below ``below``, in log order: a page of a
    lazy read (keyset paging on the tree's index, one short query each, no
    cursor left open between pages)."""
    mark = _mark(engine)
    where = f" AND l.leaf_index > {mark} AND l.leaf_index < {mark} AND e.topic = {mark}"
    statement = _leaves_query(engine, table_name, "espace_id", where)
    with engine.connect() as conn, driver_cursor(conn) as cursor:
        return _leaf_rows(
            cursor,
            f"{statement} LIMIT {int(limit)}",
            (_key(engine, espace_id), after, below, topic),
        )


def _mark(engine: sa.Engine) -> str:
    return "?" if engine.dialect.name == "sqlite" else "%s"


def _key(engine: sa.Engine, key: UUID) -> UUID | str:
    """An id as the driver takes it: hex text on SQLite."""
    return key.hex if engine.dialect.name == "sqlite" else key


def _leaves_query(engine: sa.Engine, table_name: str, column: str, where: str) -> str:
    """The leaves of one key (``column`` = the first parameter), joined with
    their stored events, in the index's order; ``where`` adds conditions."""
    position = "rowid" if engine.dialect.name == "sqlite" else "notification_id"
    return (  # the tree's and the log's own tables: no input in it
        "SELECT l.leaf_index, l.leaf, l.leaf_hash, l.notification_id, "  # noqa: S608
        "e.originator_id, e.originator_version, e.topic, e.state "
        f"FROM {leaves.name} l LEFT OUTER JOIN {table_name} e "
        f"ON e.{position} = l.notification_id "
        f"WHERE l.{column} = {_mark(engine)}{where} ORDER BY l.leaf_index"
    )


def _leaf_rows(cursor: Any, statement: str, params: tuple[Any, ...]) -> list[LeafRow]:
    cursor.execute(statement, params)
    return [
        LeafRow(
            index,
            bytes(leaf),
            bytes(hashed),
            nid,
            None
            if state is None
            else Notification(
                id=nid,
                originator_id=oid if isinstance(oid, UUID) else UUID(oid),
                originator_version=version,
                topic=topic,
                state=bytes(state),
            ),
        )
        for index, leaf, hashed, nid, oid, version, topic, state in cursor
    ]
