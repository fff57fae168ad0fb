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
   by an older espace lack (the journal's by actor).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import sqlalchemy as sa

from espace.adapters.audittree import AUDIT_METADATA
from espace.adapters.contents import CONTENT_METADATA
from espace.adapters.crypto import Keystore, Secrets
from espace.adapters.eventstore import EventStore
from espace.adapters.meta import META_METADATA, set_meta
from espace.adapters.settings import StoreSettings, create_engine
from espace.adapters.tracking import TRACKING_METADATA
from espace.application.errors import ConfigurationError

SCHEMA_VERSION = 4
"""The version of the tables this espace reads and writes."""


def create_schema(
    settings: StoreSettings, secrets: Secrets, view_tables: Iterable[sa.Table]
) -> None:
    """Create every missing table of a store (idempotent), check the master
    key against the keystore, and record :data:`SCHEMA_VERSION`."""
    if settings.kind == "postgresql" and settings.schema:
        _create_pg_schema(settings)
    engine = create_engine(settings)
    try:
        META_METADATA.create_all(engine)
        keystore = Keystore(engine, secrets)
        keystore.create_tables()
        events = EventStore(settings.eventsourcing_env(create_tables=True), keystore)
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
        set_meta(engine, "schema_version", str(SCHEMA_VERSION))
    finally:
        engine.dispose()


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
