"""The deadline job (LC-4, LC-7, LC-8, LC-9, LC-12) on SQLite and PostgreSQL.

Given espaces whose deadlines the test sets up through the public API, when
the clock passes them and ``store.run_deadlines()`` runs, then the views show
what the law says happened, and when. The job is a to-do list read from a view
built from the log: it is idempotent, catches up after downtime, and skips a
stale row rather than failing on it. The APScheduler adapter only calls it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.blocking import BlockingScheduler
from eventsourcing.domain import Aggregate

from espace import NotFound, Store
from espace.adapters import scheduler as scheduler_module
from espace.adapters.crypto import espace_keys
from espace.domain.calendar import PARIS
from espace.domain.deadlines import DeadlineKind
from espace.domain.espace import EspaceSante
from espace.projections.espaces import tombstone

GENEROUS_WAIT = 20.0
"""Seconds a background thread gets before a test gives up (never a timing claim)."""

E = TypeVar("E", bound=Aggregate.Event)


@pytest.fixture
def saved_events(store: Store) -> Iterator[list[Any]]:
    """Every domain event the store saves, captured on its way to the log."""
    captured: list[Any] = []
    original = store._infra.events.save

    def spy(*objs: Any, **kwargs: Any) -> Any:
        for obj in objs:
            pending = getattr(obj, "pending_events", None)
            captured.extend(list(pending) if pending is not None else [obj])
        return original(*objs, **kwargs)

    store._infra.events.save = spy  # type: ignore[method-assign]
    yield captured
    del store._infra.events.save


def events_of(saved: list[Any], espace_id: UUID | None, kind: type[E]) -> list[E]:
    return [e for e in saved if isinstance(e, kind) and e.originator_id == espace_id]


def view(store: Store, espace_id: UUID | None) -> dict[str, Any]:
    assert espace_id is not None
    row = store.views.espaces.get(espace_id)
    assert row is not None
    return row


def deadline_kinds(store: Store, espace_id: UUID | None) -> set[str]:
    rows = store.views.deadlines.upcoming(limit=10_000)
    return {r["kind"] for r in rows if r["espace_id"] == espace_id}


def activated(store: Store, clock: Any, people: Any, helpers: Any, **row: Any) -> Any:
    person = people.make(**row)
    helpers.affiliate(store, person)
    helpers.notify(store, person)
    clock.advance(hours=2)
    store.lifecycle.activate(
        person.activation(as_representative="representative_name" in person.row)
    )
    return person


# --------------------------------------------------------------------- LC-4


def test_the_window_end_opens_the_espace_dated_at_the_window_end_not_the_run_time_lc_4(
    store: Store, clock: Any, people: Any, helpers: Any, saved_events: list[Any]
) -> None:
    person = people.make(legacy_dmp_ref="DMP-77701234")
    espace_id = helpers.affiliate(store, person)
    deadline = helpers.notify(store, person)

    clock.set(deadline - timedelta(seconds=1))
    early = store.run_deadlines()
    assert early["done"] == {}
    assert early["skipped"] == {}
    assert view(store, espace_id)["state"] == "notified"

    clock.set(deadline + timedelta(days=3, hours=5))
    report = store.run_deadlines()

    assert report["done"] == {"opening": 1}
    assert report["now"] == clock.now.isoformat()
    row = view(store, espace_id)
    assert (row["state"], row["opened_at"]) == ("open", deadline)
    assert row["legacy_dmp_merged"] is True
    assert row["updated_at"] == deadline
    [opened] = events_of(saved_events, espace_id, EspaceSante.Opened)
    assert opened.timestamp == deadline
    assert opened.automatic is True
    [merged] = events_of(saved_events, espace_id, EspaceSante.LegacyDmpMerged)
    assert merged.timestamp == deadline
    assert deadline_kinds(store, espace_id) == set()


# --------------------------------------------------------------------- LC-7


def test_a_suspension_without_objection_closes_at_its_end_dated_then_lc_7(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = activated(store, clock, people, helpers)
    espace_id = person.espace_id
    clock.advance(days=20)
    informed = clock.now + timedelta(days=2)
    summary = store.lifecycle.suspend(
        espace_id, {"reason": "suspected fraud", "informed_at": informed.isoformat()}
    )
    closes_at = datetime.fromisoformat(summary.suspension_closes_at or "")
    assert closes_at == helpers.paris(
        informed.astimezone(PARIS).date() + timedelta(days=43)
    )

    clock.set(closes_at - timedelta(seconds=1))
    assert store.run_deadlines()["done"] == {}
    assert view(store, espace_id)["state"] == "suspended"

    clock.set(closes_at + timedelta(days=12))
    report = store.run_deadlines()

    assert report["done"] == {"suspension_closure": 1}
    row = view(store, espace_id)
    assert (row["state"], row["closure_reason"]) == ("closed", "suspension")
    assert row["closed_at"] == closes_at
    assert deadline_kinds(store, espace_id) == {"archive_expiry"}


# --------------------------------------------------------------------- LC-8/9


def test_the_archive_is_erased_ten_years_after_closure_dated_at_the_run_lc_8_sec_4(
    store: Store, clock: Any, people: Any, helpers: Any, saved_events: list[Any]
) -> None:
    person = activated(store, clock, people, helpers)
    espace_id = person.espace_id
    clock.set(helpers.paris(date(2027, 6, 30), 18))
    store.lifecycle.close(espace_id)
    archive_until = helpers.paris(date(2037, 7, 1))
    assert view(store, espace_id)["archive_until"] == archive_until

    clock.set(archive_until - timedelta(seconds=1))
    assert store.run_deadlines()["done"] == {}
    assert store.lifecycle.summary(espace_id).state == "closed"

    run_at = clock.set(archive_until + timedelta(days=40, minutes=7))
    report = store.run_deadlines()

    assert report["done"] == {"archive_expiry": 1}
    [erased] = events_of(saved_events, espace_id, EspaceSante.Erased)
    assert erased.timestamp == run_at
    assert erased.reason == "archive-expired"
    with pytest.raises(NotFound):
        store.lifecycle.get(espace_id)
    assert view(store, espace_id) == tombstone(espace_id)
    assert deadline_kinds(store, espace_id) == set()
    with store._infra.keystore.engine.connect() as conn:
        key = conn.execute(
            sa.select(espace_keys).where(espace_keys.c.key_id == espace_id)
        ).one()
    assert key.wrapped_key is None
    assert key.shredded_at is not None


def test_an_express_erasure_is_carried_out_at_the_next_run_dated_then_lc_9_sec_4(
    store: Store, clock: Any, people: Any, helpers: Any, saved_events: list[Any]
) -> None:
    person = activated(store, clock, people, helpers)
    espace_id = person.espace_id
    clock.advance(days=3)
    requested_at = clock.now
    store.lifecycle.request_erasure(espace_id)

    run_at = clock.advance(hours=6)
    report = store.run_deadlines()

    assert report["done"] == {"erasure": 1}
    [erased] = events_of(saved_events, espace_id, EspaceSante.Erased)
    assert erased.timestamp == run_at != requested_at
    assert erased.reason == "holder-request"
    with pytest.raises(NotFound):
        store.lifecycle.summary(espace_id)
    assert view(store, espace_id) == tombstone(espace_id)
    assert store.views.espaces.counts_by_state()["erased"] == 1


# --------------------------------------------------------------------- LC-12


def test_representation_ends_at_the_18th_birthday_dated_then_lc_12(
    store: Store, clock: Any, people: Any, helpers: Any, saved_events: list[Any]
) -> None:
    minor = activated(
        store,
        clock,
        people,
        helpers,
        birth_date=date(2011, 8, 20),
        minor_representative=True,
    )
    majority = helpers.paris(date(2029, 8, 20))

    clock.set(majority + timedelta(days=100))
    report = store.run_deadlines()

    assert report["done"] == {"majority": 1}
    [ended] = events_of(saved_events, minor.espace_id, EspaceSante.RepresentationEnded)
    assert ended.timestamp == majority
    assert view(store, minor.espace_id)["minor_represented"] is False
    assert deadline_kinds(store, minor.espace_id) == set()


# --------------------------------------------------------------------- the job


def test_a_second_run_does_nothing_lc_4_lc_7_lc_9_lc_12(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    notified = people.make()
    helpers.affiliate(store, notified)
    deadline = helpers.notify(store, notified)
    erasing = activated(store, clock, people, helpers)
    store.lifecycle.request_erasure(erasing.espace_id)
    clock.set(deadline + timedelta(hours=1))
    first = store.run_deadlines()
    assert first["done"] == {"opening": 1, "erasure": 1}
    head = helpers.log_head(store)
    views = (
        store.views.espaces.find(limit=100),
        store.views.deadlines.upcoming(limit=100),
    )

    second = store.run_deadlines()

    assert (second["done"], second["skipped"], second["failed"]) == ({}, {}, [])
    assert helpers.log_head(store) == head
    assert (
        store.views.espaces.find(limit=100),
        store.views.deadlines.upcoming(limit=100),
    ) == (views)


def test_one_run_after_downtime_catches_up_on_everything_that_fell_due_lc_4_to_lc_12(
    store: Store, clock: Any, people: Any, helpers: Any, saved_events: list[Any]
) -> None:
    # Given: a notice, a suspension, an erasure request, a minor, a closure...
    quiet = people.make()
    helpers.affiliate(store, quiet)
    window_end = helpers.notify(store, quiet)
    suspended = activated(store, clock, people, helpers)
    summary = store.lifecycle.suspend(suspended.espace_id, {"reason": "fraud check"})
    suspension_end = datetime.fromisoformat(summary.suspension_closes_at or "")
    erasing = activated(store, clock, people, helpers)
    store.lifecycle.request_erasure(erasing.espace_id)
    minor = activated(
        store,
        clock,
        people,
        helpers,
        birth_date=date(2012, 1, 31),
        minor_representative=True,
    )
    closing = activated(store, clock, people, helpers)
    store.lifecycle.close(closing.espace_id)
    untouched = activated(store, clock, people, helpers)
    # ...and no job ran for eleven years.
    run_at = clock.set(datetime(2038, 2, 1, 12, 0, tzinfo=UTC))

    report = store.run_deadlines()

    assert report["done"] == {
        "opening": 1,
        "suspension_closure": 1,
        "archive_expiry": 2,  # the closed one, and the one closed by suspension
        "erasure": 1,
        "majority": 1,
    }
    assert (report["skipped"], report["failed"]) == ({}, [])
    opened = view(store, quiet.espace_id)
    assert (opened["state"], opened["opened_at"]) == ("open", window_end)
    [closed] = events_of(saved_events, suspended.espace_id, EspaceSante.Closed)
    assert closed.timestamp == suspension_end
    for gone in (suspended, erasing, closing):
        assert view(store, gone.espace_id) == tombstone(gone.espace_id)
        [erased] = events_of(saved_events, gone.espace_id, EspaceSante.Erased)
        assert erased.timestamp == run_at
    assert view(store, minor.espace_id)["minor_represented"] is False
    assert view(store, untouched.espace_id)["state"] == "active"
    assert store.views.deadlines.due(run_at) == []
    assert store.run_deadlines()["done"] == {}


def test_a_stale_deadline_row_is_skipped_not_failed_lc_3_lc_4(
    store: Store,
    clock: Any,
    people: Any,
    helpers: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stale, fresh = people.make(), people.make()
    for person in (stale, fresh):
        helpers.affiliate(store, person)
        deadline = helpers.notify(store, person)
    # The views fall behind: the opposition is in the log, not in the to-do list.
    monkeypatch.setattr(store._infra.events, "after_save", None)
    monkeypatch.setattr(store.deadlines, "sync", lambda: None)
    clock.advance(days=4)
    store.lifecycle.oppose(stale.espace_id)
    assert deadline_kinds(store, stale.espace_id) == {"opening"}

    clock.set(deadline + timedelta(minutes=5))
    report = store.run_deadlines()

    assert report["done"] == {"opening": 1}
    assert report["skipped"] == {"opening": 1}
    assert report["failed"] == []
    assert store.lifecycle.summary(stale.espace_id).state == "opposed"
    assert store.lifecycle.summary(fresh.espace_id).state == "open"
    monkeypatch.undo()
    store.sync()
    assert view(store, stale.espace_id)["state"] == "opposed"
    assert deadline_kinds(store, stale.espace_id) == set()
    assert store.run_deadlines()["done"] == {}


# --------------------------------------------------------------------- scheduler


def test_the_scheduler_runs_the_deadline_job_and_stops_when_told_lc_4(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = people.make()
    helpers.affiliate(store, person)
    deadline = helpers.notify(store, person)
    clock.set(deadline + timedelta(hours=1))
    reports: list[dict[str, Any]] = []
    ran, stop = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def job() -> None:
        try:
            reports.append(store.run_deadlines())
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        ran.set()

    thread = threading.Thread(
        target=scheduler_module.run_scheduler,
        args=(job,),
        kwargs={"interval_seconds": 3600.0, "stop": stop},
        daemon=True,
    )
    thread.start()
    assert ran.wait(GENEROUS_WAIT), "the scheduler never ran the job"
    stop.set()
    thread.join(GENEROUS_WAIT)

    assert not thread.is_alive(), "the scheduler did not stop"
    assert errors == []
    assert reports[0]["done"] == {"opening": 1}
    assert view(store, person.espace_id)["state"] == "open"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_the_scheduler_returns_when_told_to_stop_before_it_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[Any] = []

    class Recording(BlockingScheduler):  # type: ignore[misc]  # apscheduler is untyped
        def start(self, *args: Any, **kwargs: Any) -> None:
            started.append(self)
            super().start(*args, **kwargs)

    monkeypatch.setattr(scheduler_module, "BlockingScheduler", Recording)
    stop = threading.Event()
    stop.set()
    thread = threading.Thread(
        target=scheduler_module.run_scheduler,
        args=(lambda: None,),
        kwargs={"interval_seconds": 3600.0, "stop": stop},
        daemon=True,
    )
    thread.start()
    thread.join(5.0)
    alive = thread.is_alive()
    for scheduler in started:  # never leave a scheduler thread behind
        if scheduler.running:
            scheduler.shutdown(wait=False)
    thread.join(GENEROUS_WAIT)

    assert not alive, "run_scheduler kept running although stop was set"


def test_the_deadline_view_pages_and_filters_by_espace_and_the_head_counts_lc_4(
    store: Store, people: Any, helpers: Any
) -> None:
    """LC-4: one espace's openings, found without reading the others'; the
    pages say how many there are; ``store.head()`` is the log's position."""
    assert store.head() == helpers.log_head(store) >= 0
    before = store.head()
    ids = [helpers.affiliate(store, people.make()) for _ in range(3)]
    for espace_id in ids:
        store.lifecycle.send_notice(espace_id)
    assert store.head() > before
    assert store.head() == max(v.head for v in store.view_status())

    mine = store.views.deadlines.upcoming(espace_id=ids[1])
    assert [(r["espace_id"], r["kind"]) for r in mine] == [(ids[1], "opening")]
    assert store.views.deadlines.count(kind=DeadlineKind.OPENING) == 3
    assert store.views.deadlines.count(espace_id=ids[1]) == 1
    first, rest = (
        store.views.deadlines.upcoming(kind=DeadlineKind.OPENING, limit=1),
        store.views.deadlines.upcoming(kind=DeadlineKind.OPENING, limit=10, offset=1),
    )
    assert (len(first), len(rest)) == (1, 2)
    assert {r["espace_id"] for r in [*first, *rest]} == set(ids)


def test_the_long_jobs_report_their_progress_lc_4(
    store: Store, people: Any, helpers: Any, clock: Any
) -> None:
    """LC-4: the deadline job tells of each deadline it does, a rebuild of
    each page of the log it reads: what the CLI's progress bars show."""
    ids = [helpers.affiliate(store, people.make()) for _ in range(3)]
    for espace_id in ids:
        store.lifecycle.send_notice(espace_id)
    clock.advance(days=60)
    done: list[int] = []

    report = store.run_deadlines(progress=done.append)

    assert sum(done) == sum(report["done"].values()) == 3
    read: list[int] = []
    store.rebuild_views(progress=read.append)
    assert sum(read) == store.head()
