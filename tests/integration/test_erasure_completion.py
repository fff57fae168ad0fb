"""An interrupted erasure is always finished (LC-8, LC-9, SEC-4), on SQLite
and PostgreSQL.

An erasure has three steps: the espace's ``Erased`` event is saved with the
erasure's record, the data key is destroyed, the record is completed. A
process can die between any two. Once, a death after the first left the
person's data readable for good: the deadline row was dropped as soon as
``Erased`` was applied and nothing destroyed the key. Now the erasure stays
due, in ``stats`` and ``deadlines list``, until its record is complete, and
every deadline run finishes what is left.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from espace import NotFound, Store
from espace.adapters.crypto import espace_keys
from espace.application import outputs
from espace.domain.erasure import Erasure, erasure_id
from espace.projections.espaces import espaces as espaces_table
from raw_store import rows_naming

SWEEP = 40


class Killed(BaseException):
    """Stands for the process dying at that point (not an Exception: nothing
    may catch it)."""


def requested_erasures(store: Store, clock: Any, people: Any, n: int) -> list[UUID]:
    """n espaces opened at the end of their window, then closed by an
    express erasure request (LC-9): each erasure is due at once."""
    persons = [people.make() for _ in range(n)]
    report = store.lifecycle.affiliate_feed(enumerate((p.row for p in persons), 2))
    assert report.created == n
    ids = [store.lifecycle.espace_id_for(p.nir) for p in persons]
    for espace_id in ids:
        store.lifecycle.send_notice(espace_id)
    clock.advance(days=43)
    assert store.run_deadlines()["done"]["opening"] == n
    for espace_id in ids:
        clock.advance(minutes=1)
        store.lifecycle.request_erasure(espace_id)
    clock.advance(minutes=1)
    return ids


def assert_erased(store: Store, espace_id: UUID) -> None:
    """Nothing of the espace can be read; only its tombstone and the record
    that it was erased are left (SEC-4)."""
    with pytest.raises(NotFound):
        store.lifecycle.get(espace_id)
    assert store._infra.keystore.is_shredded(espace_id)
    assert rows_naming(store, espace_id) == {espaces_table.name: 1}
    assert store.views.espaces.get(espace_id)["state"] == "erased"  # type: ignore[index]
    record: Erasure = store._infra.events.repository.get(erasure_id(espace_id))
    assert record.completed_at is not None


def erasure_due(store: Store) -> int:
    due: int = store.stats()["deadlines"].get("erasure", {}).get("due", 0)
    return due


def test_a_death_after_erased_is_saved_leaves_the_erasure_due_and_the_next_run_ends_it(
    store: Store, clock: Any, people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (espace_id,) = requested_erasures(store, clock, people, 1)

    def die(*_: Any, **__: Any) -> None:
        raise Killed

    monkeypatch.setattr(store._infra.keystore, "shred", die)
    with pytest.raises(Killed):
        store.run_deadlines()
    monkeypatch.undo()

    store.sync()
    assert store.lifecycle.get(espace_id).state == "erased"  # still readable
    assert erasure_due(store) == 1
    assert [r["kind"] for r in store.views.deadlines.upcoming()] == ["erasure"]

    report = store.run_deadlines()

    assert report["done"] == {"erasure": 1}
    assert_erased(store, espace_id)
    assert erasure_due(store) == 0


def test_a_death_after_the_key_is_destroyed_is_finished_by_the_next_run_lc_9(
    store: Store, clock: Any, people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (espace_id,) = requested_erasures(store, clock, people, 1)
    completing = Erasure.complete

    def die(self: Erasure, *, at: Any) -> None:
        raise Killed

    monkeypatch.setattr(Erasure, "complete", die)
    with pytest.raises(Killed):
        store.run_deadlines()
    monkeypatch.setattr(Erasure, "complete", completing)

    store.sync()
    assert store._infra.keystore.is_shredded(espace_id)
    assert erasure_due(store) == 1  # the record is not complete yet

    assert store.run_deadlines()["done"] == {"erasure": 1}
    assert_erased(store, espace_id)


def test_erasing_twice_is_a_no_op_that_says_when_it_was_done_lc_9(
    store: Store, clock: Any, people: Any
) -> None:
    (espace_id,) = requested_erasures(store, clock, people, 1)
    store.run_deadlines()
    head = store._infra.events.recorder.max_notification_id()

    clock.advance(days=1)
    again = outputs.dump(store.lifecycle.erase(espace_id))

    assert again["state"] == "erased"
    assert again["note"].startswith(f"already erased on {again['erased_on']}")
    assert "nothing was done" in again["note"]
    assert store._infra.events.recorder.max_notification_id() == head
    assert store.run_deadlines()["done"] == {}


def test_erasing_again_destroys_a_key_a_restored_keystore_brought_back_sec_4(
    store: Store, clock: Any, people: Any
) -> None:
    """An older keystore backup restored holds the key of an espace erased
    since: erasing it again destroys the key again, and writes no event."""
    (espace_id,) = requested_erasures(store, clock, people, 1)
    keys = store._infra.keystore
    with keys.engine.connect() as conn:
        before = conn.execute(
            sa.select(espace_keys).where(espace_keys.c.key_id == espace_id)
        ).one()
    store.run_deadlines()
    assert keys.is_shredded(espace_id)
    with keys.engine.begin() as conn:  # the old keystore's row, restored
        conn.execute(
            espace_keys.update()
            .where(espace_keys.c.key_id == espace_id)
            .values(wrapped_key=before.wrapped_key, shredded_at=None)
        )
    keys._cache.clear()
    head = store._infra.events.recorder.max_notification_id()

    again = outputs.dump(store.lifecycle.erase(espace_id))

    assert "destroyed again" in again["note"]
    assert keys.is_shredded(espace_id)
    assert store._infra.events.recorder.max_notification_id() == head


def test_an_archive_that_expires_is_erased_and_recorded_as_such_lc_8(
    store: Store, clock: Any, people: Any
) -> None:
    person = people.make()
    report = store.lifecycle.affiliate_feed([(2, person.row)])
    assert report.created == 1
    espace_id = store.lifecycle.espace_id_for(person.nir)
    store.lifecycle.send_notice(espace_id)
    clock.advance(days=43)
    store.run_deadlines()
    store.lifecycle.close(espace_id)
    clock.advance(days=365 * 10 + 5)

    assert store.run_deadlines()["done"] == {"archive_expiry": 1}

    assert_erased(store, espace_id)
    record: Erasure = store._infra.events.repository.get(erasure_id(espace_id))
    assert record.reason == "archive-expired"


# ------------------------------------------------------- real processes, kill -9


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import datetime
    from espace import Store
    from espace.adapters.crypto import Keystore

    url, at, after = sys.argv[1], datetime.fromisoformat(sys.argv[2]), int(sys.argv[3])
    shredded = [0]
    original = Keystore.shred

    def shred(self, key_id, at):
        if shredded[0] == after:
            os.kill(os.getpid(), signal.SIGKILL)  # dies right after an Erased
        shredded[0] += 1
        original(self, key_id, at)

    Keystore.shred = shred
    with Store.open(url, clock=lambda: at) as store:
        store.run_deadlines()
    """
)


def test_kills_at_random_points_of_an_erasure_sweep_leave_nothing_readable_sec_4(
    store_url: str, store_env: dict[str, str], clock: Any, people: Any, helpers: Any
) -> None:
    """A sweep of 40 due erasures, killed with SIGKILL: once right after an
    ``Erased`` is saved, then three times at random instants; a last run
    finishes. No erased espace's data can be read after it."""
    with helpers.fresh_store(store_url, clock, environ=store_env) as store:
        ids = requested_erasures(store, clock, people, SWEEP)
    at = (clock.now + timedelta(minutes=5)).isoformat()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESPACE_")}
    env.update(store_env)
    exact = subprocess.run(
        [sys.executable, "-c", CHILD, store_url, at, "3"],
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert exact.returncode == -signal.SIGKILL, exact.stderr.decode()[-2000:]
    rng = random.Random(14)
    command = [sys.executable, "-m", "espace.cli", "--database", store_url]
    command += ["--clock", at, "deadlines", "run"]
    for _ in range(3):
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.5, 1.5))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done = subprocess.run(command, env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]

    with Store.open(store_url, clock=clock, environ=store_env) as store:
        for espace_id in ids:
            assert_erased(store, espace_id)
        assert erasure_due(store) == 0
        assert "erasure" not in store.stats()["deadlines"]


def test_the_sweep_script_child_is_importable_as_written(tmp_path: Path) -> None:
    """The child script above is plain Python (a syntax slip would make the
    kill test pass for the wrong reason: it checks the exit signal)."""
    compile(CHILD, str(tmp_path / "child.py"), "exec")
