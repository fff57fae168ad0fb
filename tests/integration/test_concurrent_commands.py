"""Concurrent commands on one aggregate get a Conflict, never a rule they did
not break (ADR-0017), on SQLite and PostgreSQL.

A command reads its time after loading what it decides on. If it read the
clock first, another process could save a change in between; the command
would then load that newer state and refuse its own, older, time as "dated
before the last event" (exit 3), where the truth is a conflict (exit 5).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from espace import Conflict, Store
from espace.application.records import actor_from


def test_a_change_saved_between_clock_and_load_gives_a_conflict_pro_1(
    store_url: str, clock: Any, people: Any, helpers: Any
) -> None:
    env = helpers.store_environ(store_url)
    with helpers.fresh_store(store_url, clock, environ=env) as first:
        person = people.make()
        espace_id = helpers.affiliate(first, person)
        helpers.notify(first, person)
        clock.advance(days=1)
        first.lifecycle.activate(person.activation())
        holder = actor_from({"kind": "holder"}, espace_id)
        first.profile.record_measurements(holder, espace_id, {"height_cm": 170})
        later = clock.now + timedelta(seconds=5)
        other = Store.open(store_url, clock=lambda: later, environ=env)
        interfered: list[bool] = []

        def racing_clock() -> datetime:
            # The other process saves its change while this one reads its clock.
            if not interfered:
                interfered.append(True)
                other.profile.record_measurements(holder, espace_id, {"weight_kg": 60})
            now: datetime = clock.now
            return now + timedelta(seconds=1)

        racer = Store.open(store_url, clock=racing_clock, environ=env)
        try:
            try:
                racer.profile.record_measurements(holder, espace_id, {"weight_kg": 61})
            except Conflict:
                outcome = "conflict"
            else:
                outcome = "saved"
        finally:
            racer.close()
            other.close()
        assert interfered == [True]
        assert outcome == "conflict"


def test_many_threads_updating_one_profile_see_conflicts_only_pro_1(
    store_url: str, people: Any, helpers: Any
) -> None:
    """Eight threads, each with its own store and the real clock, update one
    profile twenty times: every failure is a Conflict."""
    env = helpers.store_environ(store_url)
    start = datetime.now().astimezone()
    with helpers.fresh_store(
        store_url, lambda: start - timedelta(days=3), environ=env
    ) as setup:
        person = people.make()
        espace_id = helpers.affiliate(setup, person)
        helpers.notify(setup, person)
    holder = actor_from({"kind": "holder"}, espace_id)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stores = [Store.open(store_url, environ=env, sync_views=False) for _ in range(8)]
    try:
        stores[0].lifecycle.activate(person.activation())

        def work(store: Store, n: int) -> None:
            for i in range(20):
                try:
                    store.profile.record_measurements(
                        holder, espace_id, {"weight_kg": 50 + n + i / 100}
                    )
                    kind = "saved"
                except Conflict:
                    kind = "conflict"
                except Exception as exc:  # anything else is the bug
                    kind = f"{type(exc).__name__}: {exc}"
                with lock:
                    outcomes[kind] += 1

        threads = [
            threading.Thread(target=work, args=(s, n)) for n, s in enumerate(stores)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in stores:
            s.close()
    assert set(outcomes) <= {"saved", "conflict"}, outcomes
    assert outcomes["saved"] >= 1
    assert sum(outcomes.values()) == 160


def test_a_person_already_affiliated_in_a_batch_keeps_the_batch_one_save_lc_1(
    store: Store, people: Any, monkeypatch: Any
) -> None:
    """One repeated person in a 500-row batch once made the conflict retry
    save the batch one row per transaction (8 s to 65 s for 20 000 rows)."""
    rows = [people.make().row for _ in range(500)]
    first = store.lifecycle.affiliate_feed([(2, rows[250])])
    assert first.created == 1
    recorder = store._infra.events.recorder
    saves: list[int] = []
    original = recorder.insert_events

    def counted(stored_events: Any, **kwargs: Any) -> Any:
        saves.append(len(stored_events))
        return original(stored_events, **kwargs)

    monkeypatch.setattr(recorder, "insert_events", counted)
    report = store.lifecycle.affiliate_feed(enumerate(rows, start=2), batch_size=500)

    assert (report.created, report.already_affiliated) == (499, 1)
    assert saves == [499]
