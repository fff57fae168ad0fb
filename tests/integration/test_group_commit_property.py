"""Group commit as a property, on SQLite and PostgreSQL (ADR-0027): whatever
saves several threads make at once, some of them conflicting, each save is
all or nothing, each (aggregate, version) is stored once, by the save that
got ids for it, and the log holds exactly the saves that succeeded, each
under the ids it was given, in insert order.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SAVES = st.lists(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(1, 3)),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    min_size=1,
    max_size=12,
)
"""Saves of (aggregate of a pool of four, version) pairs: collisions are
common, within and across saves."""


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(saves=SAVES, threads=st.integers(2, 6))
def test_concurrent_saves_are_each_all_or_nothing_and_stored_exactly_once(
    store: Any, saves: list[list[tuple[int, int]]], threads: int
) -> None:
    recorder = store._infra.events.recorder
    pool = [uuid.uuid4() for _ in range(4)]
    batches = [
        [
            StoredEvent(
                originator_id=pool[a], originator_version=v, topic="t", state=b"s"
            )
            for a, v in save
        ]
        for save in saves
    ]
    outcomes: dict[int, Any] = {}
    start = threading.Barrier(threads)

    def work(mine: list[int]) -> None:
        start.wait()
        for i in mine:
            try:
                outcomes[i] = recorder.insert_events(batches[i])
            except IntegrityError as exc:
                outcomes[i] = exc

    workers = [
        threading.Thread(target=work, args=(list(range(n, len(saves), threads)),))
        for n in range(threads)
    ]
    head = recorder.max_notification_id() or 0
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sorted(outcomes) == list(range(len(saves)))
    stored = {
        (n.originator_id, n.originator_version): n.id
        for n in recorder.select_notifications(start=head + 1, limit=1000)
    }
    expected: dict[tuple[uuid.UUID | str, int], int] = {}
    for i, batch in enumerate(batches):
        if isinstance(outcomes[i], IntegrityError):
            continue
        assert len(outcomes[i]) == len(batch)
        assert list(outcomes[i]) == sorted(outcomes[i])
        for e, nid in zip(batch, outcomes[i], strict=True):
            key = (e.originator_id, e.originator_version)
            assert key not in expected, "one version stored twice"
            expected[key] = nid
    # Every pair was stored by the save that got ids for it, and only those.
    assert stored == expected
    # A save refused wanted at least one pair someone else stored.
    for i, batch in enumerate(batches):
        if isinstance(outcomes[i], IntegrityError):
            assert any((e.originator_id, e.originator_version) in stored for e in batch)
