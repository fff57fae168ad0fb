"""The store's tables: created by ``espace init``, upgraded by ``espace
migrate``, never touched by ``Store.open``.

Opening a store runs no DDL. Concurrent ``CREATE TABLE IF NOT EXISTS`` from
many processes opening at once collide on PostgreSQL ("tuple concurrently
updated"), and a store is opened by every command. So the schema has a
version, recorded in the store's metadata; ``Store.open`` checks it and
refuses a store that is too old (run ``espace migrate``) or too new (a newer
espace made it).

Versions:

1. the first stores (no version recorded);
2. the projection quarantine, the keystore's master-key check (ADR-0018);
   every table created by ``init`` and ``migrate`` only;
3. the audit log: the Merkle tree's leaves and nodes, the signed
   checkpoints (ADR-0021);
4. the audit leaves indexed by aggregate (an espace's erasure record
   without a scan), and ``migrate`` creating the indexes that tables made
   by an older espace lack (the journal's by actor);
5. the keystore apart from the event store (ADR-0028): ``migrate`` moves
   the keys of an older store out of its database into its keystore (a
   second SQLite file beside it, or ``ESPACE_KEYSTORE_URL``), and the meta
   key ``keystore`` says where they are (``apart``, or ``store`` for a
   PostgreSQL store that keeps them in its own database).
6. master-key rotation (ADR-0029): each key row names the generation of the
   master key that wraps it, and the keystore keeps the hashing secrets
   (the HMAC keys of aggregate ids and activation codes), which ``migrate``
   derives, as they always were, from the store's first master key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import sqlalchemy as sa

from espace.adapters.audittree import AUDIT_METADATA
from espace.adapters.contents import CONTENT_METADATA
from espace.adapters.crypto import (
    KEYSTORE_METADATA,
    Keystore,
    Secrets,
    add_generation_column,
)
from espace.adapters.eventstore import EventStore
from espace.adapters.meta import META_METADATA, set_meta
from espace.adapters.settings import StoreSettings, create_engine, same_database
from espace.adapters.tracking import TRACKING_METADATA
from espace.application.errors import ConfigurationError

SCHEMA_VERSION = 6
"""The version of the tables this espace reads and writes."""


def create_schema(
    settings: StoreSettings,
    secrets: Secrets,
    view_tables: Iterable[sa.Table],
    keystore: StoreSettings | None = None,
) -> int:
    """Create every missing table of a store and of its keystore (at
    ``keystore``; default: the store's own database), idempotently; move the
    keys of an older store into a keystore apart; check the master key; and
    record :data:`SCHEMA_VERSION` and where the keys are. Returns how many
    keys were moved."""
    keys_at = keystore or settings
    apart = not same_database(settings, keys_at)
    for where in (settings, keys_at) if apart else (settings,):
        if where.kind == "postgresql" and where.schema:
            _create_pg_schema(where)
    engine = create_engine(settings)
    keys_engine = create_engine(keys_at) if apart else engine
    try:
        META_METADATA.create_all(engine)
        moved = move_keys(engine, keys_engine) if apart else 0
        keystore_ = Keystore(keys_engine, secrets)
        keystore_.create_tables()
        events = EventStore(settings.eventsourcing_env(create_tables=True), keystore_)
        events.close()
        tables = list(view_tables)
        with engine.begin() as conn:
            fixed = (TRACKING_METADATA, CONTENT_METADATA, AUDIT_METADATA)
            for metadata in fixed:
                metadata.create_all(conn)
            by_metadata: dict[sa.MetaData, list[sa.Table]] = {}
            for table in tables:
                by_metadata.setdefault(table.metadata, []).append(table)
            for metadata, group in by_metadata.items():
                metadata.create_all(conn, tables=group)
            every = [t for m in fixed for t in m.tables.values()] + tables
            _create_missing_indexes(conn, every)
        set_meta(engine, "keystore", "apart" if apart else "store")
        set_meta(engine, "schema_version", str(SCHEMA_VERSION))
    finally:
        if keys_engine is not engine:
            keys_engine.dispose()
        engine.dispose()
    return moved


_MOVE_BATCH = 10_000


def _material(row: dict[str, object], table: sa.Table) -> tuple[object, ...]:
    """A key row's bytes (the wrapped key, the check value): what must be the
    same in the keystore as in the store; instants may read back differently
    from one database to another."""
    return tuple(
        row[c.name] for c in table.columns if isinstance(c.type, sa.LargeBinary)
    )


def move_keys(store: sa.Engine, keystore: sa.Engine) -> int:
    """Move the keys a store made before ADR-0028 kept in its own database
    into its keystore: every row compared with the keystore's first (one
    that is there with other bytes means another store's keystore: nothing
    is written), then the missing ones copied, counted, and only then
    dropped from the store, whose SQLite file is rewritten (VACUUM) so that
    no page of them is left. Returns how many data keys were moved; 0 if the
    store holds none."""
    if not sa.inspect(store).has_table("espace_keys"):
        return 0
    add_generation_column(store)
    KEYSTORE_METADATA.create_all(keystore)
    add_generation_column(keystore)
    copies: list[tuple[sa.Table, list[dict[str, object]]]] = []
    for table in KEYSTORE_METADATA.sorted_tables:
        key = next(iter(table.primary_key.columns))
        with store.connect() as source:
            rows = [dict(r) for r in source.execute(sa.select(table)).mappings()]
        fresh: list[dict[str, object]] = []
        with keystore.connect() as target:
            for start in range(0, len(rows), _MOVE_BATCH):
                batch = rows[start : start + _MOVE_BATCH]
                there = {
                    r[key.name]: _material(dict(r), table)
                    for r in target.execute(
                        sa.select(table).where(key.in_([r[key.name] for r in batch]))
                    ).mappings()
                }
                for row in batch:
                    if row[key.name] not in there:
                        fresh.append(row)
                    elif there[row[key.name]] != _material(row, table):
                        raise ConfigurationError(
                            f"the keystore already holds another row of "
                            f"{table.name} for {row[key.name]}: it is not this "
                            "store's; nothing was moved"
                        )
        copies.append((table, fresh))
    with keystore.begin() as target:
        for table, fresh in copies:
            for start in range(0, len(fresh), _MOVE_BATCH):
                target.execute(table.insert(), fresh[start : start + _MOVE_BATCH])
    moved = 0
    with keystore.connect() as target, store.connect() as source:
        for table in KEYSTORE_METADATA.sorted_tables:
            count = source.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            held = target.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            if held < count:
                raise ConfigurationError(
                    f"the keystore holds {held} rows of {table.name}, the store "
                    f"{count}: the keys were not moved (run `espace migrate` again)"
                )
            if table.name == "espace_keys":
                moved = count
    with store.begin() as conn:
        KEYSTORE_METADATA.drop_all(conn)
    if store.dialect.name == "sqlite":
        with store.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return moved


def _create_missing_indexes(conn: sa.Connection, tables: Iterable[sa.Table]) -> None:
    """``create_all`` makes a table's indexes with the table only: an index
    declared since an older espace made the table is created here."""
    inspector = sa.inspect(conn)
    for table in {t.name: t for t in tables}.values():  # once each: it caches
        present = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                index.create(conn)


def check_schema_version(meta: dict[str, str], redacted_url: str) -> None:
    """Refuse a store whose tables are not the ones this espace expects."""
    found = int(meta.get("schema_version", "1"))
    if found < SCHEMA_VERSION:
        raise ConfigurationError(
            f"the store at {redacted_url} has schema version {found}, this espace "
            f"needs {SCHEMA_VERSION}: run `espace migrate` (nothing is lost)"
        )
    if found > SCHEMA_VERSION:
        raise ConfigurationError(
            f"the store at {redacted_url} has schema version {found}, newer than "
            f"this espace ({SCHEMA_VERSION}): use the espace that made it"
        )


def _create_pg_schema(settings: StoreSettings) -> None:
    """The PostgreSQL schema named by ``?schema=``, on a connection that does
    not set the search path to it."""
    plain = dataclasses.replace(settings, schema="")
    engine = create_engine(plain)
    try:
        with engine.begin() as conn:
            quoted = conn.dialect.identifier_preparer.quote_identifier(settings.schema)
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
    finally:
        engine.dispose()
