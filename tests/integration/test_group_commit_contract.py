"""eventsourcing's own contract for application recorders, run against the
group-commit recorders (issue 10, ADR-0027).

``GroupCommitSQLiteRecorder`` and ``GroupCommitPostgresRecorder`` replace the
library's recorders for the event store, so they must keep its promises:
inserts and selects, notification ids in insert order, a duplicate version
raising ``IntegrityError``, concurrent writers that never interleave or lose
an event. The cases are the library's (``ApplicationRecorderTestCase``); only
the recorder comes from here. Unittest cases cannot take pytest fixtures: the
PostgreSQL schema comes from ``pg_schema.throwaway_schema``.
"""

from __future__ import annotations

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
from pg_schema import PG_URL, throwaway_schema


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
        self._schema, _ = throwaway_schema(self)
        self._datastores: list[PostgresDatastore] = []

    def tearDown(self) -> None:
        for datastore in self._datastores:
            datastore.close()

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
