"""The batched projection runner, on a SQLite file and on PostgreSQL (ADR-0005).

Events are saved by a real eventsourcing Application on the store URL; the
views are small fold projections defined here (events counted per
aggregate), so that a double or a missed application shows as a wrong count.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import singledispatchmethod
from typing import Any, ClassVar
from uuid import UUID

import pytest
import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import (
    Mapper,
    StoredEvent,
    Transcoder,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from espace.adapters.listen import PgListen
from espace.adapters.runner import ProjectionRunner, ViewStatus
from espace.adapters.settings import StoreSettings, create_engine, parse_database_url
from espace.adapters.tracking import ViewTrackingRecorder
from espace.application.errors import DamagedRecord, RecordErased
from espace.projections.base import (
    AppendProjection,
    EspaceFoldProjection,
    Projection,
    unhandled,
)

# ------------------------------------------------------------------ the domain


class Tally(Aggregate):
    class Opened(Aggregate.Created):
        label: str

    class Ticked(Aggregate.Event):
        pass

    @event(Opened)
    def __init__(self, label: str) -> None:
        self.label = label

    @event(Ticked)
    def tick(self) -> None:
        pass


class Note(Aggregate):
    """Another topic, about an espace (a Tally) through ``espace_id``."""

    class Written(Aggregate.Created):
        espace_id: UUID

    @event(Written)
    def __init__(self, espace_id: UUID) -> None:
        self.espace_id = espace_id


class EventLog(Application[UUID]):
    name = "espace"


# ------------------------------------------------------------------- the views

TEST_VIEWS = sa.MetaData()


def _count_table(name: str) -> sa.Table:
    return sa.Table(
        name,
        TEST_VIEWS,
        sa.Column("espace_id", sa.Uuid, primary_key=True),
        sa.Column("events", sa.Integer, nullable=False),
    )


class _Counts(EspaceFoldProjection[int]):
    """Counts the events of each espace: applying one twice shows."""

    table: ClassVar[sa.Table]

    def load(
        self, conn: sa.Connection, espace_ids: Collection[UUID]
    ) -> dict[UUID, int]:
        rows = conn.execute(
            sa.select(self.table).where(self.table.c.espace_id.in_(list(espace_ids)))
        )
        return {row.espace_id: row.events for row in rows}

    def rows(self, espace_id: UUID, state: int) -> dict[sa.Table, list[dict[str, Any]]]:
        return {self.table: [{"espace_id": espace_id, "events": state}]}


class TallyCounts(_Counts):
    name = "tally_counts"
    table = _count_table("test_tally_counts")
    tables = (table,)

    @singledispatchmethod
    def apply(self, event: Any, state: int | None) -> int | None:
        raise unhandled(self, event)

    @apply.register
    def _(self, event: Tally.Opened | Tally.Ticked, state: int | None) -> int | None:
        return (state or 0) + 1


class TallyCountsCopy(TallyCounts):
    name = "tally_counts_copy"
    table = _count_table("test_tally_counts_copy")
    tables = (table,)


class NoteCounts(_Counts):
    name = "note_counts"
    table = _count_table("test_note_counts")
    tables = (table,)

    @singledispatchmethod
    def apply(self, event: Any, state: int | None) -> int | None:
        raise unhandled(self, event)

    @apply.register
    def _(self, event: Note.Written, state: int | None) -> int | None:
        return (state or 0) + 1


class ExplodesOnBoom(AppendProjection):
    """Fails on a Tally labelled "boom", after the other views have written."""

    name = "explodes_on_boom"
    tables = ()

    @singledispatchmethod
    def apply(self, event: Any) -> dict[sa.Table, list[dict[str, Any]]]:
        raise unhandled(self, event)

    @apply.register
    def _(self, event: Tally.Opened) -> dict[sa.Table, list[dict[str, Any]]]:
        if event.label == "boom":
            raise RuntimeError("boom")
        return {}


class LosesTheConnection(AppendProjection):
    """Fails as a dropped connection does."""

    name = "loses_the_connection"
    tables = ()

    @singledispatchmethod
    def apply(self, event: Any) -> dict[sa.Table, list[dict[str, Any]]]:
        raise unhandled(self, event)

    @apply.register
    def _(self, event: Tally.Opened) -> dict[sa.Table, list[dict[str, Any]]]:
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed"))


# ------------------------------------------------------------------ the mapper


class KeyShreddedForTest(RecordErased):
    """What ``EspaceMapper`` raises for an erased espace: it carries ``key_id``."""

    def __init__(self, key_id: UUID) -> None:
        super().__init__(f"key {key_id} was shredded", key_id)


class RecordingMapper(Mapper[UUID]):
    """eventsourcing's Mapper, with a key per aggregate and shreddable keys."""

    def __init__(self, transcoder: Transcoder) -> None:
        super().__init__(transcoder)
        self.shredded: set[UUID] = set()
        self.corrupt: set[UUID] = set()
        self.decrypted: list[StoredEvent] = []

    @staticmethod
    def key_id_of(stored_event: StoredEvent) -> UUID:
        assert isinstance(stored_event.originator_id, UUID)
        return stored_event.originator_id

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        self.decrypted.append(stored_event)
        if stored_event.originator_id in self.shredded:
            raise KeyShreddedForTest(self.key_id_of(stored_event))
        if stored_event.originator_id in self.corrupt:
            raise DamagedRecord(
                "corrupt ciphertext",
                aggregate_id=stored_event.originator_id,
                version=stored_event.originator_version,
            )
        return super().to_domain_event(stored_event)


# ----------------------------------------------------------------- the harness


@dataclass
class Harness:
    settings: StoreSettings
    app: EventLog
    engine: sa.Engine
    tracking: ViewTrackingRecorder
    mapper: RecordingMapper
    runners: list[ProjectionRunner] = field(default_factory=list)
    expected: dict[UUID, int] = field(default_factory=dict)

    def runner(
        self, *views: Projection, page_size: int = 1000, **kw: Any
    ) -> ProjectionRunner:
        runner = ProjectionRunner(
            self.app.recorder,
            self.mapper,
            self.engine,
            self.tracking,
            views,
            page_size=page_size,
            **kw,
        )
        runner.create_tables()
        self.runners.append(runner)
        return runner

    def open_tallies(self, n: int, ticks: int = 0, label: str = "t") -> list[Tally]:
        tallies = [Tally(label) for _ in range(n)]
        for tally in tallies:
            for _ in range(ticks):
                tally.tick()
            self.expected[tally.id] = 1 + ticks
        self.app.save(*tallies)
        return tallies

    def tick(self, tally_id: UUID) -> None:
        tally: Tally = self.app.repository.get(tally_id)
        tally.tick()
        self.app.save(tally)
        self.expected[tally_id] += 1

    def write_note(self, espace_id: UUID) -> Note:
        note = Note(espace_id)
        self.app.save(note)
        return note

    def counts(self, view: type[_Counts]) -> dict[UUID, int]:
        with self.engine.connect() as conn:
            return {r.espace_id: r.events for r in conn.execute(sa.select(view.table))}

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def close(self) -> None:
        for runner in self.runners:
            runner.close()
        self.app.close()
        self.engine.dispose()


def _harness(url: str) -> Iterator[Harness]:
    settings = parse_database_url(url)
    app = EventLog(env=settings.eventsourcing_env(create_tables=True))
    engine = create_engine(settings)
    tracking = ViewTrackingRecorder(engine)
    tracking.create_tables()
    harness = Harness(
        settings, app, engine, tracking, RecordingMapper(app.mapper.transcoder)
    )
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def harness(store_url: str) -> Iterator[Harness]:
    yield from _harness(store_url)


@pytest.fixture
def pg_harness(pg_url: str) -> Iterator[Harness]:
    yield from _harness(pg_url)


@pytest.fixture
def sqlite_harness(sqlite_url: str) -> Iterator[Harness]:
    yield from _harness(sqlite_url)


# ------------------------------------------------------------------- catch-up


def test_a_catch_up_applies_each_event_once_and_a_second_one_applies_nothing(
    harness: Harness,
) -> None:
    harness.open_tallies(5, ticks=2)
    runner = harness.runner(TallyCounts())

    assert runner.catch_up() == {"tally_counts": 15}
    assert runner.catch_up() == {"tally_counts": 0}
    assert harness.counts(TallyCounts) == harness.expected
    assert harness.tracking.max_tracking_id("tally_counts") == harness.head()


def test_a_new_runner_resumes_from_the_tracked_position(harness: Harness) -> None:
    harness.open_tallies(3, ticks=1)
    harness.runner(TallyCounts()).catch_up()
    first = harness.open_tallies(2)
    harness.tick(first[0].id)

    assert harness.runner(TallyCounts()).catch_up() == {"tally_counts": 3}
    assert harness.counts(TallyCounts) == harness.expected


def test_a_catch_up_to_the_head_plans_once_and_takes_its_locks_in_one_statement(
    harness: Harness,
) -> None:
    """ADR-0016: one page reaching the head ends the catch-up (no second
    planning read); on PostgreSQL the page's advisory locks are one statement
    and its commit does not wait for the WAL flush."""
    harness.open_tallies(2)
    harness.write_note(harness.open_tallies(1)[0].id)
    runner = harness.runner(TallyCounts(), NoteCounts(), TallyCountsCopy())
    statements: list[str] = []
    for engine in {harness.engine, runner._write_engine}:
        sa.event.listen(
            engine,
            "before_cursor_execute",
            lambda *args: statements.append(str(args[2])),
        )

    assert runner.catch_up() == {
        "tally_counts": 3,
        "note_counts": 1,
        "tally_counts_copy": 3,
    }
    plans = [s for s in statements if "projection_tracking" in s and "IN (" in s]
    assert len(plans) == 2  # the plan, then the read under the lock
    locks = [s for s in statements if "pg_advisory_xact_lock" in s]
    async_commits = [s for s in statements if "synchronous_commit" in s]
    if harness.settings.kind == "postgresql":
        assert len(locks) == 1
        assert async_commits == ["SET LOCAL synchronous_commit TO OFF"]
    else:
        assert locks == async_commits == []
    assert harness.counts(TallyCounts) == harness.expected


@pytest.mark.parametrize("page_size", [1, 4, 1000])
def test_pages_smaller_or_bigger_than_the_log_give_the_same_view(
    harness: Harness, page_size: int
) -> None:
    harness.open_tallies(5, ticks=1)
    runner = harness.runner(TallyCounts(), page_size=page_size)

    assert runner.catch_up() == {"tally_counts": 10}
    assert harness.counts(TallyCounts) == harness.expected
    assert runner.status() == [
        ViewStatus("tally_counts", harness.head(), harness.head(), 0)
    ]


def test_max_events_bounds_how_much_of_the_log_one_call_reads(harness: Harness) -> None:
    harness.open_tallies(7)
    runner = harness.runner(TallyCounts(), page_size=3)

    assert runner.catch_up(max_events=5) == {"tally_counts": 5}
    assert runner.status()[0].lag == 2
    assert runner.catch_up() == {"tally_counts": 2}


def test_views_at_different_positions_each_get_only_what_they_have_not_seen(
    harness: Harness,
) -> None:
    (espace,) = harness.open_tallies(1, ticks=1)
    harness.runner(TallyCounts()).catch_up()
    harness.write_note(espace.id)
    harness.tick(espace.id)

    both = harness.runner(TallyCounts(), NoteCounts(), page_size=2)

    assert both.catch_up() == {"tally_counts": 1, "note_counts": 1}
    assert harness.counts(TallyCounts) == {espace.id: 3}
    assert harness.counts(NoteCounts) == {espace.id: 1}


def test_a_view_is_tracked_at_the_head_when_the_last_events_are_of_topics_it_ignores(
    harness: Harness,
) -> None:
    (espace,) = harness.open_tallies(1)
    harness.write_note(espace.id)
    harness.write_note(espace.id)
    runner = harness.runner(TallyCounts())

    runner.catch_up()

    assert [s.lag for s in runner.status()] == [0]


def test_each_notification_is_decrypted_once_and_only_for_the_topics_views_handle(
    harness: Harness,
) -> None:
    (espace,) = harness.open_tallies(1, ticks=2)
    harness.write_note(espace.id)
    runner = harness.runner(TallyCounts(), TallyCountsCopy())

    runner.catch_up()

    decrypted = [
        (e.originator_id, e.originator_version) for e in harness.mapper.decrypted
    ]
    assert decrypted == [(espace.id, 1), (espace.id, 2), (espace.id, 3)]
    assert (
        harness.counts(TallyCountsCopy) == harness.counts(TallyCounts) == {espace.id: 3}
    )


def test_preload_is_given_the_key_ids_of_each_page_once_before_decrypting(
    harness: Harness,
) -> None:
    tallies = harness.open_tallies(5)
    calls: list[set[UUID]] = []
    runner = harness.runner(
        TallyCounts(), page_size=2, preload=lambda ids: calls.append(set(ids))
    )

    runner.catch_up()

    assert calls == [{t.id for t in tallies[i : i + 2]} for i in (0, 2, 4)]


def test_an_event_that_cannot_be_opened_is_quarantined_and_the_rest_applied(
    harness: Harness,
) -> None:
    good, bad = harness.open_tallies(2)
    later = harness.open_tallies(1)
    harness.mapper.corrupt.add(bad.id)
    runner = harness.runner(TallyCounts())

    runner.catch_up()

    assert harness.counts(TallyCounts) == {good.id: 1, later[0].id: 1}
    (status,) = runner.status()
    assert (status.lag, status.quarantined) == (0, 1)
    rows, total = runner.quarantined()
    assert total == 1
    assert rows[0]["originator_id"] == bad.id
    assert rows[0]["originator_version"] == 1
    assert rows[0]["kind"] == "damaged"
    assert rows[0]["error"] == "DamagedRecord: corrupt ciphertext"


# -------------------------------------------------------------- SEC-4 erasure


def test_a_shredded_key_purges_its_espace_from_every_view_whatever_its_topics_sec_4(
    harness: Harness,
) -> None:
    erased, kept = harness.open_tallies(2)
    harness.write_note(erased.id)
    harness.write_note(kept.id)
    runner = harness.runner(TallyCounts(), NoteCounts())
    runner.catch_up()

    harness.mapper.shredded.add(erased.id)
    harness.tick(erased.id)  # an event under the destroyed key reaches the views
    applied = runner.catch_up()

    assert applied == {"tally_counts": 0, "note_counts": 0}
    assert harness.counts(TallyCounts) == {kept.id: 1}
    assert harness.counts(NoteCounts) == {kept.id: 1}
    assert [s.lag for s in runner.status()] == [0, 0]


def test_a_rebuild_after_erasure_leaves_the_erased_espace_out_sec_4(
    harness: Harness,
) -> None:
    erased, kept = harness.open_tallies(2, ticks=1)
    runner = harness.runner(TallyCounts())
    runner.catch_up()

    harness.mapper.shredded.add(erased.id)

    assert runner.rebuild() == {"tally_counts": 2}
    assert harness.counts(TallyCounts) == {kept.id: 2}


# ------------------------------------------------------------------ atomicity


def test_a_view_that_fails_on_one_event_skips_it_alone_and_every_view_moves_on(
    harness: Harness,
) -> None:
    first = harness.open_tallies(2)
    runner = harness.runner(TallyCounts(), ExplodesOnBoom())
    runner.catch_up()

    (boom,) = harness.open_tallies(1, label="boom")
    after = harness.open_tallies(1)
    runner.catch_up()

    assert set(harness.counts(TallyCounts)) == {t.id for t in [*first, boom, *after]}
    statuses = {s.name: s for s in runner.status()}
    assert statuses["tally_counts"].quarantined == 0
    assert statuses["explodes_on_boom"].quarantined == 1
    assert all(s.lag == 0 for s in statuses.values())
    rows, _ = runner.quarantined(view="explodes_on_boom")
    assert [(r["originator_id"], r["kind"]) for r in rows] == [(boom.id, "unapplied")]
    assert rows[0]["error"] == "RuntimeError: boom"


def test_a_lost_connection_is_not_a_bad_event_and_quarantines_nothing(
    harness: Harness,
) -> None:
    harness.open_tallies(2)
    runner = harness.runner(TallyCounts(), LosesTheConnection())
    before = [s.position for s in runner.status()]

    with pytest.raises(sa.exc.OperationalError):
        runner.catch_up()

    assert [s.position for s in runner.status()] == before
    assert harness.counts(TallyCounts) == {}
    assert runner.quarantined() == ([], 0)


# -------------------------------------------------------------------- rebuild


def test_a_rebuild_gives_the_same_view_as_the_incremental_catch_up(
    harness: Harness,
) -> None:
    tallies = harness.open_tallies(4, ticks=1)
    runner = harness.runner(TallyCounts(), NoteCounts(), page_size=3)
    runner.catch_up()
    harness.write_note(tallies[0].id)
    harness.tick(tallies[1].id)
    runner.catch_up()
    incremental = (harness.counts(TallyCounts), harness.counts(NoteCounts))

    assert runner.rebuild(["tally_counts"]) == {"tally_counts": 9}
    assert (harness.counts(TallyCounts), harness.counts(NoteCounts)) == incremental
    assert [s.lag for s in runner.status()] == [0, 0]


def test_a_rebuild_of_an_unknown_view_is_refused(harness: Harness) -> None:
    runner = harness.runner(TallyCounts())

    with pytest.raises(KeyError, match="nope"):
        runner.rebuild(["nope"])


_steps = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.integers(1, 3), st.integers(0, 2)),
        st.tuples(st.just("tick"), st.integers(0, 50), st.just(0)),
        st.tuples(st.just("note"), st.integers(0, 50), st.just(0)),
        st.tuples(st.just("catch_up"), st.integers(1, 5), st.integers(1, 6)),
    ),
    max_size=8,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=_steps, rebuild_page_size=st.integers(1, 8))
def test_any_sequence_of_saves_and_catch_ups_rebuilds_to_the_incremental_view(
    harness: Harness, steps: list[tuple[str, int, int]], rebuild_page_size: int
) -> None:
    # The store outlives each example, so the log only grows: the invariant
    # holds for the whole log, whatever came before.
    for action, a, b in steps:
        ids = list(harness.expected)
        if action == "open":
            harness.open_tallies(a, ticks=b)
        elif action == "tick" and ids:
            harness.tick(ids[a % len(ids)])
        elif action == "note" and ids:
            harness.write_note(ids[a % len(ids)])
        elif action == "catch_up":
            harness.runner(TallyCounts(), NoteCounts(), page_size=a).catch_up(
                max_events=b
            )
    harness.runner(TallyCounts(), NoteCounts(), page_size=5).catch_up()
    incremental = (harness.counts(TallyCounts), harness.counts(NoteCounts))

    harness.runner(TallyCounts(), NoteCounts(), page_size=rebuild_page_size).rebuild()

    assert (harness.counts(TallyCounts), harness.counts(NoteCounts)) == incremental
    assert incremental[0] == harness.expected


# ---------------------------------------------------------------- concurrency


def test_two_runners_racing_apply_every_event_exactly_once(harness: Harness) -> None:
    harness.open_tallies(40, ticks=4)
    runners = [
        harness.runner(TallyCounts(), NoteCounts(), page_size=7) for _ in range(2)
    ]
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def race(runner: ProjectionRunner) -> None:
        try:
            start.wait()
            results.append(runner.catch_up())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sum(r["tally_counts"] for r in results) == 200
    assert harness.counts(TallyCounts) == harness.expected


# ---------------------------------------------------------------- continuous


def _run_in_thread(
    runner: ProjectionRunner, poll_interval: float
) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(
        target=runner.run, args=(stop, poll_interval), daemon=True
    )
    thread.start()
    return stop, thread


@pytest.mark.postgres
def test_run_on_postgresql_wakes_on_notify_and_stops_when_asked(
    pg_harness: Harness,
) -> None:
    h = pg_harness
    listen = PgListen.for_store(h.settings, h.app.recorder)
    assert listen is not None
    assert listen.channel == "espace_events"
    h.open_tallies(1)
    # A poll interval far beyond the wait below: only NOTIFY can wake it in time.
    stop, thread = _run_in_thread(
        h.runner(TallyCounts(), listen=listen), poll_interval=600
    )
    try:
        h.tracking.wait("tally_counts", h.head(), timeout=10)
        h.open_tallies(1)
        h.tracking.wait("tally_counts", h.head(), timeout=10)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert h.counts(TallyCounts) == h.expected


@pytest.mark.postgres
def test_run_falls_back_to_polling_when_it_cannot_listen(pg_harness: Harness) -> None:
    h = pg_harness
    unreachable = PgListen(
        conninfo="host=127.0.0.1 port=1 dbname=test", channel="espace_events"
    )
    stop, thread = _run_in_thread(
        h.runner(TallyCounts(), listen=unreachable), poll_interval=0.05
    )
    try:
        h.open_tallies(1)
        h.tracking.wait("tally_counts", h.head(), timeout=10)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert not thread.is_alive()


def test_run_on_sqlite_polls_for_new_events_and_stops_when_asked(
    sqlite_harness: Harness,
) -> None:
    h = sqlite_harness
    assert PgListen.for_store(h.settings, h.app.recorder) is None
    stop, thread = _run_in_thread(h.runner(TallyCounts()), poll_interval=0.05)
    try:
        h.open_tallies(2)
        h.tracking.wait("tally_counts", h.head(), timeout=10)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert h.counts(TallyCounts) == h.expected
