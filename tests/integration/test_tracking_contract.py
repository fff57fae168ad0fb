"""eventsourcing's own contract for tracking recorders, run against ours.

``ViewTrackingRecorder`` replaces the library's tracking recorders for the read
models, so it must keep the library's promises: positions only move forward,
a duplicate or a gap-filling position raises ``IntegrityError``, and
``wait()`` works. The cases are the library's (``TrackingRecorderTestCase``);
only the database comes from here.

These are unittest cases, which cannot take pytest fixtures: the PostgreSQL
schema comes from ``pg_schema.throwaway_schema``.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import eventsourcing.tests.persistence as contract
import pytest
import sqlalchemy as sa

from espace.adapters.settings import create_engine, parse_database_url
from espace.adapters.tracking import ViewTrackingRecorder
from pg_schema import throwaway_schema


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
        _, self._url = throwaway_schema(self)
        self._engines: list[sa.Engine] = []

    def tearDown(self) -> None:
        for engine in self._engines:
            engine.dispose()

    def create_recorder(self) -> ViewTrackingRecorder:
        engine = create_engine(parse_database_url(self._url))
        self._engines.append(engine)
        recorder = ViewTrackingRecorder(engine)
        recorder.create_tables()
        return recorder
