"""One damaged record never takes the system down (ADR-0018), on SQLite and
PostgreSQL.

A stored event that fails to decrypt, a data-key row that fails to unwrap,
or a value that a view cannot store is quarantined, reported and located;
a command on that espace gets a clear integrity error (exit 7 in the CLI);
every other espace and every other view keeps working, and a rebuild never
leaves the views emptier than it found them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from espace import Store
from espace.application.errors import DamagedRecord
from espace.domain.agenda import Appointment
from espace.domain.espace import EspaceSante
from espace.projections.agenda import appointments as appointments_table
from espace.projections.espaces import espaces as espaces_table
from records_world import PHYSICIAN, Record, make_record
from tamper import damage_key, flip_byte


@pytest.fixture
def two(store: Store, clock: Any, people: Any, helpers: Any) -> tuple[Record, Record]:
    """Two activated espaces on one store."""
    return (
        make_record(store, clock, people, helpers),
        make_record(store, clock, people, helpers),
    )


def view_rows(store: Store, table: sa.Table) -> list[tuple[Any, ...]]:
    with store._infra.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.select(table)))


def test_one_changed_byte_is_located_and_only_its_espace_is_refused(
    two: tuple[Record, Record],
) -> None:
    damaged, healthy = two
    store = damaged.store
    flip_byte(store, damaged.espace_id, 2)  # its NoticeSent

    with pytest.raises(DamagedRecord) as info:
        store.lifecycle.close(damaged.espace_id)
    error = info.value
    assert (error.aggregate_id, error.version) == (damaged.espace_id, 2)
    assert str(error.topic).endswith("EspaceSante.NoticeSent")
    assert error.espace_id == damaged.espace_id
    assert error.as_dict()["error"] == "integrity"

    healthy.deposit()  # every other espace keeps working
    store.lifecycle.close(healthy.espace_id)


def test_a_rebuild_past_a_damaged_event_quarantines_it_and_keeps_every_espace(
    two: tuple[Record, Record],
) -> None:
    damaged, healthy = two
    store = damaged.store
    healthy.deposit()
    before = {r[0] for r in view_rows(store, espaces_table)}
    flip_byte(store, damaged.espace_id, 2)

    store.rebuild_views()

    assert {r[0] for r in view_rows(store, espaces_table)} == before
    rows, total = store.quarantined(espace_id=damaged.espace_id)
    assert total == len(rows) >= 1
    assert {r["kind"] for r in rows} == {"damaged"}
    assert {(r["originator_id"], r["originator_version"]) for r in rows} == {
        (damaged.espace_id, 2)
    }
    statuses = store.view_status()
    assert all(v.lag == 0 for v in statuses if v.after_commands)  # ADR-0023
    assert {v.name for v in statuses if v.quarantined} >= {"espaces", "deadlines"}
    assert store.stats()["quarantined"] == total
    assert store.quarantined(espace_id=healthy.espace_id) == ([], 0)


def test_a_value_a_view_cannot_store_is_skipped_by_that_view_alone_ag_1(
    rec: Record,
) -> None:
    """An appointment at the very end of the calendar, saved under the edge
    (an older store, a bug): the agenda view cannot convert it to UTC."""
    store = rec.store
    end_of_time = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    bad = Appointment.schedule(
        appointment_id=uuid4(),
        espace_id=rec.espace_id,
        espace_state="active",
        at=rec.clock.now,
        by_kind="holder",
        by_id=str(rec.espace_id),
        professional_id=None,
        with_label="Dr Martin",
        starts_at=end_of_time,
        place=None,
        reason=None,
    )
    store._infra.events.save(bad)
    rec.clock.advance(minutes=1)

    result = store.agenda.schedule(
        rec.holder,
        rec.espace_id,
        {
            "with": "Dr Martin",
            "starts_at": (rec.clock.now + timedelta(days=3)).isoformat(),
        },
    )

    assert not store.views_behind
    assert {r[0] for r in view_rows(store, appointments_table)} == {
        UUID(result["appointment_id"])
    }
    rows, _ = store.quarantined()
    assert [(r["view"], r["kind"], r["originator_id"]) for r in rows] == [
        ("agenda", "unapplied", bad.id)
    ]
    assert rows[0]["error"].startswith("OverflowError")
    assert all(v.lag == 0 for v in store.view_status() if v.after_commands)


@pytest.fixture
def rec(store: Store, clock: Any, people: Any, helpers: Any) -> Record:
    return make_record(store, clock, people, helpers)


def test_a_damaged_data_key_is_named_and_not_blamed_on_the_master_key(
    two: tuple[Record, Record], store_url: str, store_env: dict[str, str], clock: Any
) -> None:
    damaged, healthy = two
    damage_key(damaged.store, damaged.espace_id)
    # A process that has not cached the key yet: open anew.
    reopened = Store.open(store_url, clock=clock, environ=store_env)
    try:
        with pytest.raises(DamagedRecord) as info:
            reopened.lifecycle.get(damaged.espace_id)
        assert f"data key {damaged.espace_id} is damaged" in info.value.message
        assert "master key is not the one" not in info.value.message
        assert info.value.espace_id == damaged.espace_id
        reopened.lifecycle.get(healthy.espace_id)
    finally:
        reopened.close()


def test_a_rebuild_that_stops_half_way_leaves_the_views_as_they_were(
    two: tuple[Record, Record], monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged, _ = two
    store = damaged.store
    before = view_rows(store, espaces_table)
    positions = [v.position for v in store.view_status()]

    from espace.projections.espaces import EspacesProjection

    def lost(self: Any, conn: sa.Connection, events: Any) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed"))

    monkeypatch.setattr(EspacesProjection, "apply_page", lost)
    with pytest.raises(sa.exc.OperationalError):
        store.rebuild_views()
    monkeypatch.undo()

    assert view_rows(store, espaces_table) == before
    assert [v.position for v in store.view_status()] == positions
    store.rebuild_views()  # and it works once the database is back
    assert view_rows(store, espaces_table) == before


def test_the_espace_aggregate_still_loads_once_the_damaged_event_is_restored(
    two: tuple[Record, Record],
) -> None:
    """Restoring the row (from a backup) makes the espace readable again."""
    damaged, _ = two
    store = damaged.store
    flip_byte(store, damaged.espace_id, 2)
    with pytest.raises(DamagedRecord):
        store.lifecycle.get(damaged.espace_id)
    flip_byte(store, damaged.espace_id, 2)
    espace = store.lifecycle.get(damaged.espace_id)
    assert isinstance(espace, EspaceSante)


def test_a_command_whose_events_committed_returns_its_result_when_the_views_lag(
    two: tuple[Record, Record], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once, a command whose events were saved (a reissued activation code,
    LC-5) failed because the catch-up after it failed, and its result was
    never given (DOC-2 here: the deposit's ids and trace)."""
    rec, other = two
    store = rec.store
    catching_up = store._infra.runner.catch_up

    def lost(*args: Any, **kwargs: Any) -> Any:
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed"))

    monkeypatch.setattr(store._infra.runner, "catch_up", lost)
    rec.clock.advance(minutes=1)
    outcome = other.store.records.deposit(
        PHYSICIAN, other.espace_id, other.meta(), b"compte rendu"
    )

    assert outcome.trace_id
    assert store.views_behind
    monkeypatch.setattr(store._infra.runner, "catch_up", catching_up)
    rec.deposit()  # the next command catches up what was left
    assert not store.views_behind
    assert all(v.lag == 0 for v in store.view_status() if v.after_commands)
