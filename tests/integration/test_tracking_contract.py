"""eventsourcing's own contract for tracking recorders, run against ours.

``ViewTrackingRecorder`` replaces the library's tracking recorders for the read
models, so it must keep the library's promises: positions only move forward,
a duplicate or a gap-filling position raises ``IntegrityError``, and
``wait()`` works. The cases are the library's (``TrackingRecorderTestCase``);
only the database comes from here.

These are unittest cases, which cannot take pytest fixtures, so the
PostgreSQL schema is made here the way ``conftest.py`` makes it, with the same
rule: skipped on a developer's machine when the server is down, failing in CI.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import eventsourcing.tests.persistence as contract
import psycopg
import pytest
import sqlalchemy as sa

from espace.adapters.settings import create_engine, parse_database_url
from espace.adapters.tracking import ViewTrackingRecorder

PG_URL = os.environ.get(
    "ESPACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("CI", "").lower() in ("1", "true", "yes") or (
    os.environ.get("ESPACE_REQUIRE_POSTGRES") == "1"
)


class TestViewTrackingRecorderOnSQLite(contract.TrackingRecorderTestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self._engines: list[sa.Engine] = []

    def tearDown(self) -> None:
        for engine in self._engines:
            engine.dispose()
        self._tmp.cleanup()

    def create_recorder(self) -> ViewTrackingRecorder:
        path = Path(self._tmp.name) / f"{uuid.uuid4().hex}.db"
        engine = create_engine(parse_database_url(f"sqlite:///{path}"))
        self._engines.append(engine)
        recorder = ViewTrackingRecorder(engine)
        recorder.create_tables()
        return recorder


@pytest.mark.postgres
class TestViewTrackingRecorderOnPostgreSQL(contract.TrackingRecorderTestCase):
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
        self._url = f"{base}?schema={self._schema}"
        self._engines: list[sa.Engine] = []

    def tearDown(self) -> None:
        for engine in self._engines:
            engine.dispose()
        self._admin.execute(f'DROP SCHEMA "{self._schema}" CASCADE')
        self._admin.close()

    def create_recorder(self) -> ViewTrackingRecorder:
        engine = create_engine(parse_database_url(self._url))
        self._engines.append(engine)
        recorder = ViewTrackingRecorder(engine)
        recorder.create_tables()
        return recorder
