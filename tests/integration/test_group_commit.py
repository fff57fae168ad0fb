"""Group commit (issue 10, ADR-0027), on SQLite and PostgreSQL: the saves
that wait behind a write are committed together, in one transaction, and
each caller still gets its own outcome: its notification ids, or its own
conflict. The library's contract for recorders runs against the same
recorders in ``test_group_commit_contract.py``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent

from espace import Store
from espace.adapters import groupcommit

WAIT = 10.0


def event(originator: uuid.UUID, version: int = 1) -> StoredEvent:
    return StoredEvent(
        originator_id=originator, originator_version=version, topic="t", state=b"s"
    )


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def waiting(group: Any, count: int) -> bool:
    return len(group._waiting) == count


def grouped(recorder: Any, saves: list[list[StoredEvent]]) -> dict[int, Any]:
    """Run each save in its own thread: the first is written alone, and held
    until all the others wait behind it, in order; then they are written
    together. Each save's ids, or the error it raised."""
    group = recorder.group_commit
    release = threading.Event()
    write = group._write

    def held_write(batch: list[Any]) -> None:
        if group.groups == 0:
            release.wait(WAIT)
        write(batch)

    group._write = held_write
    outcomes: dict[int, Any] = {}

    def run(i: int) -> None:
        try:
            outcomes[i] = recorder.insert_events(saves[i])
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(saves))]
    threads[0].start()
    until(lambda: group._writing)
    for i, thread in enumerate(threads[1:], start=1):
        thread.start()
        until(partial(waiting, group, i))
    release.set()
    for thread in threads:
        thread.join(WAIT)
    group._write = write
    assert (group.groups, group.saves) == (2, len(saves))
    return outcomes


def test_saves_waiting_behind_a_write_commit_together_each_with_its_own_outcome(
    store_url: str, clock: Any, helpers: Any
) -> None:
    """One write in flight; five saves arrive behind it, two of which
    conflict (one with a committed event, one with a save of its own group).
    They are written in one more transaction: the three others commit, in
    the order they arrived, and each conflict is its own caller's only."""
    with helpers.fresh_store(store_url, clock, sync_views=False) as store:
        recorder = store._infra.events.recorder
        a, b, c, d = (uuid.uuid4() for _ in range(4))
        outcomes = grouped(
            recorder,
            [
                [event(a)],  # written alone, first
                [event(b)],
                [event(a)],  # a's version 1 is taken: conflict
                [event(c)],
                [event(b)],  # b's version 1 was taken earlier in this group
                [event(d, 1), event(d, 2)],
            ],
        )
        assert isinstance(outcomes[2], IntegrityError)
        assert isinstance(outcomes[4], IntegrityError)
        ids = [outcomes[0], outcomes[1], outcomes[3], outcomes[5]]
        flat = [n for found in ids for n in found]
        assert [len(found) for found in ids] == [1, 1, 1, 2]
        assert flat == sorted(flat)
        assert len(set(flat)) == len(flat)
        stored = recorder.select_notifications(start=flat[0], limit=10)
        assert [(n.id, n.originator_id, n.originator_version) for n in stored] == [
            (flat[0], a, 1),
            (flat[1], b, 1),
            (flat[2], c, 1),
            (flat[3], d, 1),
            (flat[4], d, 2),
        ]


def test_a_failed_group_transaction_fails_every_save_in_it_and_keeps_none(
    store_url: str, clock: Any, helpers: Any, monkeypatch: Any
) -> None:
    """An error of the transaction itself, not of one save, is every
    caller's in the group, and nothing of the group is left in the log."""
    with helpers.fresh_store(store_url, clock, sync_views=False) as store:
        recorder = store._infra.events.recorder
        inserted = groupcommit.each_under_savepoint
        calls: list[int] = []

        def then_fail(saves: list[Any], *args: Any) -> None:
            inserted(saves, *args)
            calls.append(len(saves))
            if len(calls) == 2:  # the second group, after its inserts
                raise RuntimeError("the transaction failed")

        monkeypatch.setattr(
            "espace.adapters.eventstore.each_under_savepoint", then_fail
        )
        a, b, c = (uuid.uuid4() for _ in range(3))
        outcomes = grouped(recorder, [[event(a)], [event(b)], [event(c)]])
        assert calls == [1, 2]
        assert [type(outcomes[i]) for i in (1, 2)] == [RuntimeError, RuntimeError]
        stored = recorder.select_notifications(start=outcomes[0][0], limit=10)
        assert [n.originator_id for n in stored] == [a]


def test_threads_sharing_one_store_each_get_their_own_result_lc_2(
    store_url: str, clock: Any, people: Any, helpers: Any
) -> None:
    """LC-2: eight threads of one embedding process send notices through one
    store (views caught up after each command): every notice is saved once,
    every view row is there, and the saves went through the group writer."""
    with helpers.fresh_store(store_url, clock) as store:
        persons = [people.make() for _ in range(40)]
        report = store.lifecycle.affiliate_feed(
            [(i + 2, p.row) for i, p in enumerate(persons)]
        )
        assert report.created == 40
        espace_ids = [store.lifecycle.espace_id_for(p.nir) for p in persons]
        group = store._infra.events.recorder.group_commit
        saves_before = group.saves
        errors: list[BaseException] = []

        def work(mine: list[uuid.UUID]) -> None:
            try:
                for espace_id in mine:
                    store.lifecycle.send_notice(espace_id)
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=work, args=(espace_ids[n::8],)) for n in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT * 6)
        assert errors == []
        assert group.saves - saves_before == 40
        notified = set(store.views.espaces.ids_in_state("notified", limit=100))
        assert notified == set(espace_ids)
        assert isinstance(store, Store)
