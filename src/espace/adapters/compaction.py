"""What an erasure leaves in the files, pushed out (SEC-4): the keys a
shred destroyed, the sealed contents deleted and the view rows purged.

Every SQLite connection runs with ``secure_delete`` (``create_engine``), so
a freed value is zeroed in its page as it is freed; what remains is the WAL,
which still holds the pages as they were: a ``TRUNCATE`` checkpoint writes
them back and empties it. PostgreSQL keeps deleted rows until ``VACUUM``
reclaims them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:  # the keystore compacts its own table through compact_files
    from espace.adapters.crypto import Keystore


def compact_files(engine: sa.Engine, tables: Iterable[str]) -> bool:
    """Push freed bytes out of one database's files: on SQLite a
    ``TRUNCATE`` checkpoint of the WAL (False if a reader kept it busy:
    call again later), on PostgreSQL ``VACUUM`` of each of ``tables``."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            busy, _log, _done = conn.exec_driver_sql(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).one()
        return not busy
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.exec_driver_sql(f'VACUUM "{table}"')
    return True


class StoreCompaction:
    """Compacts the keystore, then the store's tables that hold an espace's
    rows (the contents and every view)."""

    def __init__(
        self, engine: sa.Engine, keystore: Keystore, tables: Sequence[sa.Table]
    ) -> None:
        self.engine = engine
        self.keystore = keystore
        self.tables = list(tables)

    def compact(self) -> bool:
        """Push freed bytes out of the keystore's and the store's files;
        False when SQLite could not finish a checkpoint (a reader was busy:
        the next call finishes it)."""
        keys_done = self.keystore.compact()
        if self.keystore.engine is self.engine and self.engine.dialect.name == "sqlite":
            return keys_done  # the keystore's checkpoint was the store's
        return compact_files(self.engine, (t.name for t in self.tables)) and keys_done
