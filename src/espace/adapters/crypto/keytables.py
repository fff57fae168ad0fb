"""The keystore's tables (ADR-0004, ADR-0028, ADR-0029): the data keys,
each wrapped under a master-key generation, and the check value of each
generation; the reserved key ids; the statements both databases share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

SYSTEM_KEY_ID: Final = UUID(int=0)
"""The data key of events that belong to no espace (reference data)."""
HASHING_KEY_ID: Final = UUID(int=1)
"""The row of the hashing secrets: the HMAC key of aggregate ids and the
pepper of activation codes (64 bytes, never an AEAD key; ADR-0029)."""
RESERVED_KEY_IDS: Final = frozenset({SYSTEM_KEY_ID, HASHING_KEY_ID})

KEYSTORE_METADATA: Final = sa.MetaData()

espace_keys: Final = sa.Table(
    "espace_keys",
    KEYSTORE_METADATA,
    sa.Column("key_id", sa.Uuid(), primary_key=True),
    # NULL once shredded: the row stays as a tombstone (SEC-4).
    sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True),
    # The master-key generation that wraps it (ADR-0029); 1 for the rows of
    # a store from before rotation.
    sa.Column("generation", sa.Integer(), nullable=False, server_default="1"),
)

espace_kek: Final = sa.Table(
    "espace_kek",
    KEYSTORE_METADATA,
    sa.Column("generation", sa.Integer(), primary_key=True, autoincrement=False),
    # A value derived from the master key (Secrets.check), never the key.
    sa.Column("check_value", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

PG_INSERT_KEYS: Final = sa.text(
    "INSERT INTO espace_keys (key_id, wrapped_key, created_at, shredded_at, "
    "generation) SELECT k, w, :at, NULL, :generation "
    "FROM unnest(CAST(:ids AS uuid[]), CAST(:wrapped AS bytea[])) AS t(k, w) "
    "ON CONFLICT (key_id) DO NOTHING RETURNING key_id"
)


def dialect_insert(
    conn: sa.Connection | sa.Engine,
) -> Callable[[sa.Table], Any]:
    """The dialect's INSERT, which has ``on_conflict_do_nothing``."""
    return postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert


def add_generation_column(engine: sa.Engine) -> None:
    """Give the ``espace_keys`` of a keystore from before rotation its
    ``generation`` column (1: its rows are the first master key's), for
    ``migrate``; idempotent."""
    inspector = sa.inspect(engine)
    if not inspector.has_table("espace_keys"):
        return
    if "generation" in {c["name"] for c in inspector.get_columns("espace_keys")}:
        return
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "ALTER TABLE espace_keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 1"
        )
