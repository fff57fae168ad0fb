"""eventsourcing's own contract for application recorders, run against the
group-commit recorders (issue 10, ADR-0027).

``GroupCommitSQLiteRecorder`` and ``GroupCommitPostgresRecorder`` replace the
library's recorders for the event store, so they must keep its promises:
inserts and selects, notification ids in insert order, a duplicate version
raising ``IntegrityError``, concurrent writers that never interleave or lose
an event. The cases are the library's (``ApplicationRecorderTestCase``); only
the recorder comes from here. Unittest cases cannot take pytest fixtures: the
PostgreSQL schema is made here as ``conftest.py`` makes it, skipped on a
developer's machine when the server is down, failing in CI.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import eventsourcing.tests.persistence as contract
import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from espace.adapters.eventstore import (
    GroupCommitPostgresRecorder,
    GroupCommitSQLiteRecorder,
)

PG_URL = os.environ.get(
    "ESPACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("CI", "").lower() in ("1", "true", "yes") or (
    os.environ.get("ESPACE_REQUIRE_POSTGRES") == "1"
)


class TestGroupCommitOnSQLite(
    contract.ApplicationRecorderTestCase[GroupCommitSQLiteRecorder]
):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)

    def tearDown(self) -> None:
        # The datastores are not closed here: the library's concurrent case
        # may leave a reader thread in a query, and closing an SQLite
        # connection under a running statement crashes the interpreter.
        # They close when collected; the files go with the directory.
        self._tmp.cleanup()

    def create_recorder(self) -> GroupCommitSQLiteRecorder:
        path = Path(self._tmp.name) / f"{uuid.uuid4().hex}.db"
        datastore = SQLiteDatastore(db_name=str(path))
        recorder = GroupCommitSQLiteRecorder(datastore)
        recorder.create_table()
        return recorder


@pytest.mark.postgres
class TestGroupCommitOnPostgreSQL(
    contract.ApplicationRecorderTestCase[GroupCommitPostgresRecorder]
):
    def setUp(self) -> None:
        base = PG_URL.split("?")[0]
        try:
            self._admin = psycopg.connect(base, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            if REQUIRE_PG:
                self.fail(f"PostgreSQL is required here but unreachable: {exc}")
            self.skipTest(
                f"PostgreSQL unreachable ({exc}); set CI=true to make this fail"
            )
        self._schema = f"t_{uuid.uuid4().hex[:12]}"
        self._admin.execute(f'CREATE SCHEMA "{self._schema}"')
        self._datastores: list[PostgresDatastore] = []

    def tearDown(self) -> None:
        for datastore in self._datastores:
            datastore.close()
        self._admin.execute(f'DROP SCHEMA "{self._schema}" CASCADE')
        self._admin.close()

    def create_recorder(self) -> GroupCommitPostgresRecorder:
        info = psycopg.conninfo.conninfo_to_dict(PG_URL.split("?")[0])
        datastore = PostgresDatastore(
            dbname=str(info.get("dbname", "test")),
            host=str(info.get("host", "127.0.0.1")),
            port=str(info.get("port", "5432")),
            user=str(info.get("user", "postgres")),
            password=str(info.get("password", "")),
            schema=self._schema,
            pool_size=10,
            max_overflow=10,
        )
        self._datastores.append(datastore)
        recorder = GroupCommitPostgresRecorder(datastore)
        recorder.create_table()
        return recorder
