"""The audit log's Merkle tree, stored (ADR-0021): a raw projection over the
whole notification log, in log order, and the queries proofs need.

- ``audit_leaves``: one row per stored event, in log order (``leaf_index``
  counts from 0; notification ids may have gaps). The leaf's bytes
  (:class:`espace.domain.auditlog.Leaf`) and their RFC 6962 hash, with the
  espace the event is sealed under, so that one espace's events are found
  without reading the others.
- ``audit_nodes``: every complete perfect subtree above the leaves
  (``level`` >= 1), written once, when its last leaf arrives.
- ``audit_checkpoints``: the signed tree heads (C2SP tlog-checkpoint). Not
  part of the projection: a rebuild of the tree recomputes it from the log,
  and the checkpoints are what it must agree with.

The tree is tracked like any view (rows and position in one transaction),
so each event is a leaf exactly once. It reads the sealed state as stored:
no key is needed, and an erased espace's events stay leaves that reveal
nothing (SEC-4).

The library's events table, as the log reads it beside the tree, is in
:mod:`espace.adapters.auditevents`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain import merkle
from espace.domain.auditlog import NO_COMMITMENT, encode_leaf
from espace.projections.base import Projection, UtcDateTime

AUDIT_METADATA = sa.MetaData()
"""Apart from the views: the checkpoints must survive any rebuild."""

leaves = sa.Table(
    "audit_leaves",
    AUDIT_METADATA,
    sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("notification_id", sa.BigInteger, nullable=False, unique=True),
    sa.Column("espace_id", sa.Uuid, nullable=True),
    sa.Column("originator_id", sa.Uuid, nullable=False),
    sa.Column("originator_version", sa.BigInteger, nullable=False),
    sa.Column("leaf", sa.LargeBinary, nullable=False),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    sa.Index("ix_audit_leaves_espace", "espace_id", "leaf_index"),
    # An aggregate's leaves: the record of an espace's erasure is sealed under
    # the system key, found by its aggregate id (history, export).
    sa.Index("ix_audit_leaves_originator", "originator_id", "originator_version"),
)

nodes = sa.Table(
    "audit_nodes",
    AUDIT_METADATA,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("node_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

checkpoints = sa.Table(
    "audit_checkpoints",
    AUDIT_METADATA,
    sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("key_name", sa.Text, nullable=False),
    sa.Column("signed_at", UtcDateTime(), nullable=False),
)

HeaderReader = Callable[[bytes], tuple[bytes, bytes] | None]
"""The key id (16 bytes) and commitment of a sealed state (None if it is
not one)."""

_IN_CHUNK = 400


_SYSTEM_KEY = bytes(16)


def leaf_bytes(
    notification_id: int,
    originator_id: bytes,
    originator_version: int,
    topic: str,
    state: bytes,
    read: tuple[bytes, bytes] | None,
) -> bytes:
    """The leaf of one stored event, from its clear fields, its sealed bytes
    and what their header says (``read``: key id and commitment). The tree's
    projection and ``audit verify`` both build leaves here."""
    key_id, commitment = read if read is not None else (_SYSTEM_KEY, NO_COMMITMENT)
    return encode_leaf(
        notification_id,
        key_id,
        originator_id,
        originator_version,
        topic,
        hashlib.sha256(state).digest(),
        commitment,
    )


class AuditTreeProjection(Projection):
    """Appends every stored event to the Merkle tree, in log order."""

    name = "audit_tree"
    tables = (leaves, nodes)
    raw = True
    after_commands = False

    def __init__(self, header: HeaderReader) -> None:
        self.header = header

    def apply_page(self, conn: sa.Connection, events: Sequence[Any]) -> None:
        """Add the page's events as the next leaves (ADR-0021): each leaf from the
        event's clear fields and sealed header, then the subtree nodes the new
        leaves complete, computed from the stored frontier, never from all leaves."""
        if not events:
            return
        size = size_in(conn)
        frontier = [
            (node, value)
            for node, value in fetch_nodes(conn, merkle.frontier_nodes(size))
        ]
        leaf_rows: list[tuple[Any, ...]] = []
        hashes: list[bytes] = []
        for notification in events:
            state = bytes(notification.state)
            read = self.header(state)
            originator: UUID = notification.originator_id
            version = notification.originator_version
            raw = leaf_bytes(
                notification.id,
                originator.bytes,
                version,
                notification.topic,
                state,
                read,
            )
            hashed = merkle.leaf_hash(raw)
            hashes.append(hashed)
            leaf_rows.append(
                (
                    size + len(leaf_rows),
                    notification.id,
                    read[0].hex() if read is not None else None,
                    originator,
                    version,
                    raw,
                    hashed,
                )
            )
        append_rows(conn, leaves, leaf_rows)
        append_rows(
            conn,
            nodes,
            [
                (level, first + i, h)
                for level, first, run in merkle.extend_levels(frontier, size, hashes)
                for i, h in enumerate(run)
            ],
        )

    def purge(self, conn: sa.Connection, espace_ids: Collection[UUID]) -> None:
        """An erased espace's leaves stay: they reveal nothing of it (SEC-4),
        and the proof that the log was intact needs them."""


def driver_cursor(conn: sa.Connection) -> closing[Any]:
    """A cursor of the driver itself, closed after use: the tree's hot loops
    (its writes, ``audit verify``, an espace's events) take plain tuples,
    past SQLAlchemy's per-row processing."""
    return closing(conn.connection.dbapi_connection.cursor())  # type: ignore[union-attr]


def append_rows(
    conn: sa.Connection, table: sa.Table, rows: list[tuple[Any, ...]]
) -> None:
    """Insert the tree's rows: tuples in the table's column order, of
    integers, bytes and ids (a UUID, or its 32 hex digits). Straight to the
    driver, past SQLAlchemy's per-row parameter processing: PostgreSQL
    takes them by COPY, twice as fast as a pipelined executemany (the tree
    writes two rows per event), SQLite by executemany, ids as the hex text
    SQLAlchemy's ``Uuid`` stores there. Either way into the table the
    connection's schema_translate_map names: a rebuild's shadow (ADR-0018)."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in table.columns)
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    schema = translate.get(table.schema)
    name = f"{quote(schema)}.{quote(table.name)}" if schema else quote(table.name)
    with driver_cursor(conn) as cursor:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        ids = [i for i, c in enumerate(table.columns) if isinstance(c.type, sa.Uuid)]
        if ids:
            rows = [_hex_ids(row, ids) for row in rows]
        marks = ", ".join("?" * len(table.columns))
        insert = f"INSERT INTO {name} ({columns}) VALUES ({marks})"  # noqa: S608 - our table
        cursor.executemany(insert, rows)


def _hex_ids(row: tuple[Any, ...], positions: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in positions:
        if isinstance(values[i], UUID):
            values[i] = values[i].hex
    return tuple(values)


def size_in(conn: sa.Connection) -> int:
    """The number of leaves the stored tree has: the next leaf's index."""
    found = conn.execute(sa.select(sa.func.max(leaves.c.leaf_index))).scalar()
    return 0 if found is None else int(found) + 1


def fetch_nodes(
    conn: sa.Connection, wanted: Iterable[merkle.Node]
) -> list[tuple[merkle.Node, bytes]]:
    """The hashes of these perfect subtrees, in the order asked (one query
    per table and chunk); KeyError if one is missing from the tree."""
    order = list(wanted)
    found: dict[merkle.Node, bytes] = {}
    level0 = sorted({i for lv, i in order if lv == 0})
    upper = sorted({(lv, i) for lv, i in order if lv > 0})
    for start in range(0, len(level0), _IN_CHUNK):
        chunk = level0[start : start + _IN_CHUNK]
        query = sa.select(leaves.c.leaf_index, leaves.c.leaf_hash).where(
            leaves.c.leaf_index.in_(chunk)
        )
        for index, value in conn.execute(query):
            found[(0, int(index))] = bytes(value)
    for start in range(0, len(upper), _IN_CHUNK):
        # A join with the pairs as a VALUES list (a CTE, which SQLite can
        # name the columns of): both databases probe their
        # primary key once per pair. (SQLite scans every node for a
        # row-value IN; a UNION of one IN per level costs PostgreSQL a plan
        # per level.)
        wanted_pairs = (
            sa.values(
                sa.column("level", sa.SmallInteger),
                sa.column("node_index", sa.BigInteger),
                name="wanted",
            )
            .data(upper[start : start + _IN_CHUNK])
            .cte("wanted")
        )
        query = sa.select(nodes.c.level, nodes.c.node_index, nodes.c.hash).join(
            wanted_pairs,
            sa.and_(
                nodes.c.level == wanted_pairs.c.level,
                nodes.c.node_index == wanted_pairs.c.node_index,
            ),
        )
        for row in conn.execute(query):
            found[(int(row.level), int(row.node_index))] = bytes(row.hash)
    return [(node, found[node]) for node in order]


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed tree head as stored (ADR-0021): the tree's size and root hash at
    signing, the C2SP checkpoint note, the name of the key that signed it, and
    when."""

    size: int
    root: bytes
    note: str
    key_name: str
    signed_at: datetime


class AuditTree:
    """Queries on the stored tree: roots and proofs at any size it reached,
    the leaves of one espace, the signed checkpoints."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def size(self) -> int:
        """The number of leaves the tree has reached (events appended so far)."""
        with self.engine.connect() as conn:
            return size_in(conn)

    def _hashes(self, ranges: Sequence[merkle.Range]) -> list[bytes]:
        with self.engine.connect() as conn:
            got = dict(fetch_nodes(conn, merkle.needed_nodes(ranges)))
        return merkle.resolve(ranges, got.__getitem__)

    def root(self, size: int) -> bytes:
        """The RFC 6962 root hash of the tree's first ``size`` leaves: the root a
        checkpoint of that size signs. ``ValueError`` beyond the tree's size."""
        self._within(size)
        return self._hashes([(0, size)])[0] if size else merkle.EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The audit path that proves leaf ``index`` is in the tree of ``size``
        leaves (RFC 6962); ``ValueError`` beyond the tree's size."""
        self._within(size)
        return self._hashes(merkle.inclusion_ranges(index, size))

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The proof that the tree of ``first`` leaves is a prefix of the tree of
        ``second`` (RFC 6962): what shows a new checkpoint extends the last one,
        nothing rewritten. ``ValueError`` beyond the tree's size."""
        self._within(second)
        return self._hashes(merkle.consistency_ranges(first, second))

    def _within(self, size: int) -> None:
        if size > self.size():
            raise ValueError(f"the tree has not reached {size} leaves")

    def leaves(
        self, *, espace_id: UUID | None = None, below: int | None = None
    ) -> list[dict[str, Any]]:
        """Leaf rows in log order: all, or one espace's; below a size."""
        query = leaves.select().order_by(leaves.c.leaf_index)
        if espace_id is not None:
            query = query.where(leaves.c.espace_id == espace_id)
        if below is not None:
            query = query.where(leaves.c.leaf_index < below)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def inclusion_proofs(
        self, indices: Sequence[int], size: int
    ) -> dict[int, list[bytes]]:
        """Inclusion proofs of many leaves against one size: the nodes they
        all need are fetched together."""
        self._within(size)
        ranges = {i: merkle.inclusion_ranges(i, size) for i in indices}
        needed = merkle.needed_nodes(r for rs in ranges.values() for r in rs)
        with self.engine.connect() as conn:
            got = dict(fetch_nodes(conn, needed))
        return {i: merkle.resolve(rs, got.__getitem__) for i, rs in ranges.items()}

    # -- checkpoints ------------------------------------------------------------

    def checkpoints(
        self, limit: int | None = 100, offset: int = 0
    ) -> list[StoredCheckpoint]:
        """The signed checkpoints, newest first (every one with no limit)."""
        query = (
            checkpoints.select()
            .order_by(checkpoints.c.tree_size.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            return [_checkpoint(r) for r in conn.execute(query).mappings()]

    def checkpoint_count(self) -> int:
        """How many signed checkpoints are stored, for paging through them."""
        with self.engine.connect() as conn:
            query = sa.select(sa.func.count()).select_from(checkpoints)
            return int(conn.execute(query).scalar_one())

    def checkpoint(self, size: int) -> StoredCheckpoint | None:
        """The signed checkpoint of exactly this tree size, if one was recorded."""
        query = checkpoints.select().where(checkpoints.c.tree_size == size)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _checkpoint(row) if row is not None else None

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size: the head a new one must be consistent
        with."""
        found = self.checkpoints(limit=1)
        return found[0] if found else None

    def record_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint, unless one of its size is stored already: the
        first signature of a size stays, never overwritten."""
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(checkpoints.c.tree_size).where(
                    checkpoints.c.tree_size == checkpoint.size
                )
            ).first()
            if exists is None:
                conn.execute(
                    checkpoints.insert().values(
                        tree_size=checkpoint.size,
                        root_hash=checkpoint.root,
                        note=checkpoint.note,
                        key_name=checkpoint.key_name,
                        signed_at=checkpoint.signed_at,
                    )
                )


def _checkpoint(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(
        size=int(row["tree_size"]),
        root=bytes(row["root_hash"]),
        note=str(row["note"]),
        key_name=str(row["key_name"]),
        signed_at=row["signed_at"],
    )
