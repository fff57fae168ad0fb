"""The whole espace lifecycle through the public API, down to the database.

Each test runs on a SQLite file and on a PostgreSQL schema (``store_url``),
through ``espace.Store`` alone: given a store and a clock the test moves, when
a use case runs, then the espaces and deadlines views (synced after every
command) show it, and a refused command leaves the event log untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from espace import (
    ConfigurationError,
    Conflict,
    InvalidInput,
    NotFound,
    RuleViolation,
    Store,
    init_store,
)
from espace.projections.espaces import tombstone

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def deadline_rows(store: Store, espace_id: UUID) -> dict[str, dict[str, Any]]:
    rows = store.views.deadlines.upcoming(limit=10_000)
    return {r["kind"]: r for r in rows if r["espace_id"] == espace_id}


def view(store: Store, espace_id: UUID | None) -> dict[str, Any]:
    assert espace_id is not None
    row = store.views.espaces.get(espace_id)
    assert row is not None, f"no view row for {espace_id}"
    return row


def active_espace(
    store: Store, clock: Any, people: Any, helpers: Any, **row: str
) -> Any:
    """Given an espace notified and activated by its holder."""
    person = people.make(**row)
    helpers.affiliate(store, person)
    helpers.notify(store, person)
    clock.advance(days=3)
    store.lifecycle.activate(person.activation())
    return person


# --------------------------------------------------------------------- LC-1


def test_a_feed_reports_bad_rows_by_line_and_field_and_never_doubles_lc_1(
    store: Store, people: Any, helpers: Any
) -> None:
    good, other = people.make(), people.make(sex="M", birth_date=date(1972, 11, 2))
    bad_nir = people.make()
    bad_nir.row["nir"] = bad_nir.nir[:-2] + f"{(int(bad_nir.nir[-2:]) + 1) % 97:02d}"
    bad_sex = people.make(sex="F", birth_date=date(1990, 2, 1))
    bad_sex.row["sex"] = "M"
    no_name = people.make(birth_name="")
    no_contact = people.make(email="", postal_address="")
    minor_alone = people.make(birth_date=date(2015, 5, 5))
    bad_email = people.make(email="not-an-address")
    feed = [
        (2, good.row),
        (3, bad_nir.row),
        (4, other.row),
        (5, dict(good.row)),  # the insurer sent the same person twice
        (6, bad_sex.row),
        (7, no_name.row),
        (8, no_contact.row),
        (9, minor_alone.row),
        (10, bad_email.row),
    ]

    report = store.lifecycle.affiliate_feed(feed)

    assert (report.created, report.already_affiliated) == (2, 1)
    rejected = {r.line: r.fields for r in report.rejected}
    assert sorted(rejected) == [3, 6, 7, 8, 9, 10]
    assert "nir" in rejected[3]
    assert "sex" in rejected[6]
    assert "birth_name" in rejected[7]
    assert "LC-1" in rejected[8]
    assert "LC-12" in rejected[9]
    assert "email" in rejected[10]
    for person in (good, other):
        row = view(store, store.lifecycle.espace_id_for(person.nir))
        assert row["state"] == "affiliated"
        assert row["version"] == 1
    assert store.views.espaces.counts_by_state()["affiliated"] == 2
    head = helpers.log_head(store)

    again = store.lifecycle.affiliate_feed(feed)

    assert (again.created, again.already_affiliated) == (0, 3)
    assert sorted(r.line for r in again.rejected) == [3, 6, 7, 8, 9, 10]
    assert helpers.log_head(store) == head
    assert store.views.espaces.counts_by_state()["affiliated"] == 2


@pytest.mark.parametrize("batch_size", [500, 2])
def test_a_feed_batch_holding_an_already_affiliated_person_still_saves_the_others_lc_1(
    store: Store, people: Any, helpers: Any, batch_size: int
) -> None:
    known = people.make()
    helpers.affiliate(store, known)
    newcomers = [people.make() for _ in range(3)]
    feed = [(2, newcomers[0].row), (3, known.row), (4, newcomers[1].row)]
    feed.append((5, newcomers[2].row))

    report = store.lifecycle.affiliate_feed(feed, batch_size=batch_size)

    assert (report.created, report.already_affiliated, report.rejected) == (3, 1, [])
    assert report.events == 3
    for person in newcomers:
        espace_id = store.lifecycle.espace_id_for(person.nir)
        assert store.lifecycle.summary(espace_id).state == "affiliated"
        assert view(store, espace_id)["state"] == "affiliated"
    assert view(store, known.espace_id)["version"] == 1
    assert store.views.espaces.counts_by_state()["affiliated"] == 4


def test_a_single_affiliation_of_a_known_person_is_a_conflict_and_writes_nothing_lc_1(
    store: Store, people: Any, helpers: Any
) -> None:
    person = people.make()
    summary = store.lifecycle.affiliate(person.row)
    assert summary.state == "affiliated"
    head = helpers.log_head(store)

    with pytest.raises(Conflict):
        store.lifecycle.affiliate(person.row)

    assert helpers.log_head(store) == head


def _bad_inputs(store: Store, person: Any) -> list[tuple[str, Any]]:
    life = store.lifecycle
    espace_id = person.espace_id
    bad_nir = person.nir[:-1] + str((int(person.nir[-1]) + 1) % 10)
    return [
        ("nir", lambda: life.affiliate({**person.row, "nir": bad_nir})),
        (
            "birth_date",
            lambda: life.affiliate({**person.row, "birth_date": "1987-02-30"}),
        ),
        ("nir", lambda: life.espace_id_for("12345")),
        ("channel", lambda: life.oppose(espace_id, {"channel": "fax"})),
        ("birth_date", lambda: life.activate(person.activation(birth_date="14/06/87"))),
        ("vitale_serial", lambda: life.activate(person.activation(vitale_serial="x"))),
        ("nir", lambda: life.activate(person.activation(nir=bad_nir))),
        ("code", lambda: life.activate(person.activation(code=""))),
        ("reason", lambda: life.suspend(espace_id, {})),
        (
            "informed_at",
            lambda: life.suspend(
                espace_id, {"reason": "fraud", "informed_at": "2027-01-05T10:00:00"}
            ),
        ),
        ("date_of_death", lambda: life.declare_death(espace_id, {"date_of_death": ""})),
        ("_schema", lambda: life.oppose(espace_id, ["web"])),  # type: ignore[arg-type]
    ]


def test_bad_input_names_the_field_and_writes_nothing_lc_1_lc_3_lc_5_lc_7(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = people.make()
    helpers.affiliate(store, person)
    helpers.notify(store, person)
    clock.advance(hours=1)
    head = helpers.log_head(store)
    status = store.view_status()
    before = view(store, person.espace_id)

    for field, call in _bad_inputs(store, person):
        with pytest.raises(InvalidInput) as caught:
            call()
        assert field in caught.value.fields, (field, caught.value.fields)
        assert caught.value.fields[field], caught.value.fields

    assert helpers.log_head(store) == head
    assert store.view_status() == status
    assert view(store, person.espace_id) == before


def test_a_feed_of_bad_rows_only_writes_nothing_lc_1(
    store: Store, people: Any, helpers: Any
) -> None:
    head = helpers.log_head(store)
    rows = [(2, {"nir": "295109912611199"}), (3, {}), (4, {"_row": "too many"})]

    report = store.lifecycle.affiliate_feed(rows)

    assert report.created == 0
    assert [r.line for r in report.rejected] == [2, 3, 4]
    assert "nir" in report.rejected[0].fields
    assert helpers.log_head(store) == head
    assert sum(store.views.espaces.counts_by_state().values()) == 0


# --------------------------------------------------------------------- LC-2/3


def test_notice_then_opposition_in_the_window_gives_a_receipt_and_never_opens_lc_2_lc_3(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = people.make(legacy_dmp_ref="DMP-55501234")
    espace_id = helpers.affiliate(store, person)

    issued = store.lifecycle.send_notice(espace_id)
    person.code = issued.activation_code

    assert (issued.channel, issued.recipient) == ("email", "holder")
    row = view(store, espace_id)
    assert row["state"] == "notified"
    assert row["notice_sent_at"] == T0
    assert row["notice_channel"] == "email"
    assert row["opposition_deadline"] == helpers.paris(date(2027, 2, 16))
    assert row["next_deadline_kind"] == "opening"
    assert set(deadline_rows(store, espace_id)) == {"opening"}

    clock.advance(days=10)
    result = store.lifecycle.oppose(espace_id, {"channel": "phone"})

    assert result["receipt"].startswith("OPP-")
    assert result["state"] == "opposed"
    row = view(store, espace_id)
    assert (row["state"], row["opposed_at"]) == ("opposed", clock.now)
    assert row["next_deadline_kind"] is None
    assert deadline_rows(store, espace_id) == {}
    head = helpers.log_head(store)
    with pytest.raises(RuleViolation) as again:
        store.lifecycle.oppose(espace_id)
    assert again.value.rule == "LC-3"
    with pytest.raises(RuleViolation) as activation:
        store.lifecycle.activate(person.activation())
    assert activation.value.rule == "LC-5"
    assert helpers.log_head(store) == head

    clock.advance(days=60)
    report = store.run_deadlines()

    assert report["done"] == {}
    row = view(store, espace_id)
    assert row["state"] == "opposed"
    assert row["legacy_dmp_merged"] is False


@pytest.mark.parametrize(
    ("sent_on", "day_42"),
    [
        (date(2027, 1, 4), date(2027, 2, 15)),  # winter: CET all along
        (date(2027, 3, 1), date(2027, 4, 12)),  # the window spans the DST change
    ],
)
def test_opposition_at_235959_on_day_42_passes_at_midnight_is_refused_lc_2_lc_3(
    store: Store,
    clock: Any,
    people: Any,
    helpers: Any,
    sent_on: date,
    day_42: date,
) -> None:
    clock.set(helpers.paris(sent_on, 10))
    in_time, too_late = people.make(), people.make()
    for person in (in_time, too_late):
        helpers.affiliate(store, person)
        deadline = helpers.notify(store, person)
        assert deadline == helpers.paris(day_42 + timedelta(days=1))
        assert view(store, person.espace_id)["opposition_deadline"] == deadline

    clock.set(helpers.paris(day_42, 23, 59, 59))
    store.lifecycle.oppose(in_time.espace_id)
    assert view(store, in_time.espace_id)["state"] == "opposed"

    clock.set(helpers.paris(day_42 + timedelta(days=1), 0, 0, 0))
    head = helpers.log_head(store)
    with pytest.raises(RuleViolation) as refused:
        store.lifecycle.oppose(too_late.espace_id)

    assert refused.value.rule == "LC-3"
    assert helpers.log_head(store) == head
    assert view(store, too_late.espace_id)["state"] == "notified"


# --------------------------------------------------------------------- LC-4/5/6


def test_activation_in_the_window_opens_at_once_and_merges_the_legacy_dmp_lc_5_lc_6(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = people.make(legacy_dmp_ref="DMP-55501235")
    espace_id = helpers.affiliate(store, person)
    helpers.notify(store, person)
    clock.advance(days=5)

    summary = store.lifecycle.activate(person.activation())

    assert summary.state == "active"
    row = view(store, espace_id)
    assert row["state"] == "active"
    assert row["opened_at"] == row["activated_at"] == clock.now
    assert row["legacy_dmp_merged"] is True
    assert row["activation_failures"] == 0
    assert deadline_rows(store, espace_id) == {}


def test_the_legacy_dmp_is_merged_on_opening_but_not_after_opposition_lc_4_lc_6(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    silent = people.make(legacy_dmp_ref="DMP-55501236")
    opposed = people.make(legacy_dmp_ref="DMP-55501237")
    for person in (silent, opposed):
        helpers.affiliate(store, person)
        deadline = helpers.notify(store, person)
    clock.advance(days=1)
    store.lifecycle.oppose(opposed.espace_id)

    clock.set(deadline + timedelta(hours=3))
    report = store.run_deadlines()

    assert report["done"] == {"opening": 1}
    row = view(store, silent.espace_id)
    assert (row["state"], row["legacy_dmp_merged"]) == ("open", True)
    assert row["opened_at"] == deadline
    assert row["activated_at"] is None

    store.lifecycle.reopen(opposed.espace_id)

    row = view(store, opposed.espace_id)
    assert (row["state"], row["legacy_dmp_merged"]) == ("open", False)


def test_repeated_activation_failures_lock_activation_for_a_while_lc_5(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = people.make()
    espace_id = helpers.affiliate(store, person)
    helpers.notify(store, person)
    wrong = [
        person.activation(code="WRONG-CODE1"),
        person.activation(birth_date="1987-06-15"),
        person.activation(vitale_serial="99999999999"),
        person.activation(code="WRONG-CODE2"),
        person.activation(code="WRONG-CODE3"),
    ]

    messages = []
    for attempt, data in enumerate(wrong, start=1):
        clock.advance(minutes=1)
        with pytest.raises(RuleViolation) as failed:
            store.lifecycle.activate(data)
        assert failed.value.rule == "LC-5"
        messages.append(failed.value.message)
        assert view(store, espace_id)["activation_failures"] == attempt

    assert "locked until" in messages[-1]
    assert all("locked" not in m for m in messages[:-1])
    head = helpers.log_head(store)
    clock.advance(minutes=29)
    with pytest.raises(RuleViolation) as locked:
        store.lifecycle.activate(person.activation())
    assert locked.value.rule == "LC-5"
    assert "locked" in locked.value.message
    assert helpers.log_head(store) == head
    assert view(store, espace_id)["state"] == "notified"

    clock.advance(minutes=1)
    store.lifecycle.activate(person.activation())

    row = view(store, espace_id)
    assert (row["state"], row["activation_failures"]) == ("active", 0)


def test_a_reissued_code_voids_the_old_one_and_an_expired_code_needs_a_new_one_lc_5(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = people.make()
    espace_id = helpers.affiliate(store, person)
    deadline = helpers.notify(store, person)
    old_code = person.code
    clock.advance(days=2)

    reissued = store.lifecycle.reissue_code(espace_id)

    assert reissued.activation_code != old_code
    assert reissued.channel == "email"
    with pytest.raises(RuleViolation) as old:
        store.lifecycle.activate(person.activation(code=old_code))
    assert old.value.rule == "LC-5"
    assert view(store, espace_id)["activation_failures"] == 1

    # The espace opens at the end of the window; the code expires after 90 days.
    clock.set(deadline + timedelta(days=1))
    store.run_deadlines()
    assert view(store, espace_id)["state"] == "open"
    clock.advance(days=60)
    head = helpers.log_head(store)
    with pytest.raises(RuleViolation) as expired:
        store.lifecycle.activate(person.activation(code=reissued.activation_code))
    assert expired.value.rule == "LC-5"
    assert "expired" in expired.value.message
    assert helpers.log_head(store) == head

    fresh = store.lifecycle.reissue_code(espace_id)
    assert view(store, espace_id)["activation_failures"] == 0
    store.lifecycle.activate(person.activation(code=fresh.activation_code))

    assert view(store, espace_id)["state"] == "active"


# --------------------------------------------------------------------- LC-7/8/10/11


def test_a_suspension_the_holder_objects_to_resumes_the_previous_state_lc_7(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = active_espace(store, clock, people, helpers)
    espace_id = person.espace_id
    clock.advance(days=30)
    suspended_at = clock.now

    summary = store.lifecycle.suspend(espace_id, {"reason": "suspected fraud"})

    closes_at = helpers.paris(suspended_at.date() + timedelta(days=43))
    assert summary.suspension_closes_at == closes_at.isoformat()
    row = view(store, espace_id)
    assert (row["state"], row["resume_state"]) == ("suspended", "active")
    assert row["suspended_at"] == suspended_at
    assert row["suspension_closes_at"] == closes_at
    assert (row["next_deadline_kind"], row["next_deadline_at"]) == (
        "suspension_closure",
        closes_at,
    )
    assert deadline_rows(store, espace_id)["suspension_closure"]["due_at"] == closes_at

    clock.advance(days=10)
    store.lifecycle.object_to_suspension(espace_id)

    row = view(store, espace_id)
    assert (row["state"], row["resume_state"]) == ("active", None)
    assert row["suspended_at"] is row["suspension_closes_at"] is None
    assert deadline_rows(store, espace_id) == {}

    clock.advance(days=1)
    store.lifecycle.suspend(espace_id, {"reason": "serious malfunction"})
    store.lifecycle.lift_suspension(espace_id)
    assert view(store, espace_id)["state"] == "active"


def test_an_objection_after_the_suspension_period_is_refused_lc_7(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = active_espace(store, clock, people, helpers)
    summary = store.lifecycle.suspend(person.espace_id, {"reason": "suspected fraud"})
    clock.set(datetime.fromisoformat(summary.suspension_closes_at or ""))
    head = helpers.log_head(store)

    with pytest.raises(RuleViolation) as late:
        store.lifecycle.object_to_suspension(person.espace_id)

    assert late.value.rule == "LC-7"
    assert helpers.log_head(store) == head
    assert view(store, person.espace_id)["state"] == "suspended"


def test_closing_archives_ten_years_and_reopening_brings_it_back_lc_7_lc_8_lc_10(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = active_espace(store, clock, people, helpers)
    espace_id = person.espace_id
    clock.set(helpers.paris(date(2027, 5, 20), 15))

    store.lifecycle.close(espace_id)

    archive_until = helpers.paris(date(2037, 5, 21))
    row = view(store, espace_id)
    assert (row["state"], row["closure_reason"]) == ("closed", "holder")
    assert row["closed_at"] == clock.now
    assert row["archive_until"] == archive_until
    assert (row["next_deadline_kind"], row["next_deadline_at"]) == (
        "archive_expiry",
        archive_until,
    )
    assert deadline_rows(store, espace_id)["archive_expiry"]["due_at"] == archive_until

    clock.advance(days=200)
    issued = store.lifecycle.reopen(espace_id)

    row = view(store, espace_id)
    assert row["state"] == "open"
    assert row["reopened_at"] == row["opened_at"] == clock.now
    assert row["closed_at"] is row["archive_until"] is None
    assert deadline_rows(store, espace_id) == {}
    clock.advance(days=1)
    store.lifecycle.activate(person.activation(code=issued.activation_code))
    assert view(store, espace_id)["state"] == "active"


def test_death_closes_the_espace_for_good_no_reopening_no_erasure_lc_7_lc_11(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = active_espace(store, clock, people, helpers)
    espace_id = person.espace_id
    clock.set(helpers.paris(date(2027, 9, 10), 11))
    head = helpers.log_head(store)
    with pytest.raises(RuleViolation) as future:
        store.lifecycle.declare_death(espace_id, {"date_of_death": "2027-09-11"})
    assert future.value.rule == "LC-7"
    assert helpers.log_head(store) == head

    store.lifecycle.declare_death(espace_id, {"date_of_death": "2027-09-09"})

    row = view(store, espace_id)
    assert (row["state"], row["closure_reason"], row["deceased"]) == (
        "closed",
        "death",
        True,
    )
    assert row["archive_until"] == helpers.paris(date(2037, 9, 11))
    head = helpers.log_head(store)
    refusals: list[tuple[Callable[[], object], str]] = [
        (lambda: store.lifecycle.reopen(espace_id), "LC-11"),
        (lambda: store.lifecycle.request_erasure(espace_id), "LC-11"),
        (
            lambda: store.lifecycle.declare_death(
                espace_id, {"date_of_death": "2027-09-09"}
            ),
            "LC-7",
        ),
    ]
    for command, rule in refusals:
        with pytest.raises(RuleViolation) as refused:
            command()
        assert refused.value.rule == rule
    assert helpers.log_head(store) == head


# --------------------------------------------------------------------- LC-9, SEC-4


def test_the_deadline_job_carries_out_an_erasure_leaving_a_tombstone_lc_9_sec_4(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = active_espace(store, clock, people, helpers, legacy_dmp_ref="DMP-5550")
    bystander = active_espace(store, clock, people, helpers)
    espace_id = person.espace_id
    clock.set(helpers.paris(date(2027, 4, 8), 16))

    summary = store.lifecycle.request_erasure(espace_id)

    due_by = helpers.paris(date(2027, 7, 9))
    assert summary.erasure_due_by == due_by.isoformat()
    row = view(store, espace_id)
    assert (row["state"], row["closure_reason"]) == ("closed", "erasure")
    assert row["erasure_requested_at"] == clock.now
    assert row["erasure_due_by"] == due_by
    assert (row["next_deadline_kind"], row["next_deadline_at"]) == ("erasure", due_by)
    erasure = deadline_rows(store, espace_id)
    assert set(erasure) == {"erasure"}
    assert erasure["erasure"]["due_at"] == clock.now
    assert erasure["erasure"]["limit_at"] == due_by

    clock.advance(hours=1)
    report = store.run_deadlines()

    assert report["done"] == {"erasure": 1}
    assert report["failed"] == []
    with pytest.raises(NotFound):
        store.lifecycle.get(espace_id)
    with pytest.raises(NotFound):
        store.lifecycle.summary(espace_id)
    assert view(store, espace_id) == tombstone(espace_id)
    assert deadline_rows(store, espace_id) == {}
    assert store._infra.keystore.is_shredded(espace_id)
    head = helpers.log_head(store)
    for command in (
        lambda: store.lifecycle.reopen(espace_id),
        lambda: store.lifecycle.close(espace_id),
        lambda: store.lifecycle.activate(person.activation()),
    ):
        with pytest.raises(NotFound):
            command()
    assert helpers.log_head(store) == head

    store.rebuild_views()

    assert view(store, espace_id) == tombstone(espace_id)
    assert deadline_rows(store, espace_id) == {}
    assert view(store, bystander.espace_id)["state"] == "active"
    assert store.views.espaces.counts_by_state()["erased"] == 1


def test_an_espace_never_opened_cannot_ask_for_erasure_lc_9(
    store: Store, people: Any, helpers: Any
) -> None:
    person = people.make()
    espace_id = helpers.affiliate(store, person)
    helpers.notify(store, person)
    head = helpers.log_head(store)

    with pytest.raises(RuleViolation) as refused:
        store.lifecycle.request_erasure(espace_id)

    assert refused.value.rule == "LC-9"
    assert helpers.log_head(store) == head


# --------------------------------------------------------------------- LC-12


def test_a_minor_needs_a_representative_lc_12(
    store: Store, people: Any, helpers: Any
) -> None:
    minor = people.make(birth_date=date(2015, 5, 5))
    head = helpers.log_head(store)

    with pytest.raises(InvalidInput) as refused:
        store.lifecycle.affiliate(minor.row)

    assert "LC-12" in refused.value.fields
    assert helpers.log_head(store) == head
    assert store.views.espaces.counts_by_state()["affiliated"] == 0


def test_a_minors_espace_is_run_by_the_representative_until_18_lc_12(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    minor = people.make(birth_date=date(2010, 3, 15), minor_representative=True)
    espace_id = helpers.affiliate(store, minor)
    majority = helpers.paris(date(2028, 3, 15))

    row = view(store, espace_id)
    assert row["minor_represented"] is True
    assert deadline_rows(store, espace_id)["majority"]["due_at"] == majority
    issued = store.lifecycle.send_notice(espace_id)
    assert (issued.channel, issued.recipient) == ("email", "representative")
    minor.code = issued.activation_code
    clock.advance(days=1)
    store.lifecycle.activate(minor.activation(as_representative=True))
    assert view(store, espace_id)["state"] == "active"

    clock.set(majority - timedelta(seconds=1))
    assert store.run_deadlines()["done"] == {}
    assert view(store, espace_id)["minor_represented"] is True

    clock.set(majority + timedelta(days=2))
    report = store.run_deadlines()

    assert report["done"] == {"majority": 1}
    row = view(store, espace_id)
    # ADR-0007: what the representative activated, the adult activates anew.
    assert (row["state"], row["minor_represented"]) == ("open", False)
    assert deadline_rows(store, espace_id) == {}
    assert store.run_deadlines()["done"] == {}
    minor.code = store.lifecycle.reissue_code(espace_id).activation_code
    store.lifecycle.activate(minor.activation())
    assert view(store, espace_id)["state"] == "active"


# --------------------------------------------------------------------- LC-2 policy


def test_a_working_day_store_runs_a_window_ending_on_a_weekend_on_to_monday_lc_2(
    store_url: str, clock: Any, people: Any, helpers: Any
) -> None:
    env = helpers.store_environ(store_url)
    info = init_store(
        store_url, simulation=True, window_policy="working-day", environ=env
    )
    assert info.window_policy == "working-day"
    with pytest.raises(ConfigurationError, match="window_policy working-day"):
        init_store(store_url, simulation=True, window_policy="calendar", environ=env)
    again = init_store(
        store_url, simulation=True, window_policy="working-day", environ=env
    )
    assert again.window_policy == "working-day"  # fixed for the life of the store
    clock.set(helpers.paris(date(2027, 1, 2), 11))  # a Saturday: day 42 is too
    with Store.open(store_url, clock=clock, environ=env) as working:
        person = people.make()
        helpers.affiliate(working, person)

        deadline = helpers.notify(working, person)

        assert deadline == helpers.paris(date(2027, 2, 16))  # end of Monday 15th
        clock.set(helpers.paris(date(2027, 2, 15), 18))
        assert working.lifecycle.oppose(person.espace_id)["state"] == "opposed"


# --------------------------------------------------------------------- ID-2 (NIA)


NIA_OID = "1.2.250.1.213.1.4.9"


def test_a_person_identified_by_a_nia_is_affiliated_one_by_one_id_2_lc_1(
    store: Store, people: Any, helpers: Any
) -> None:
    person = people.make(oid=NIA_OID)
    head = helpers.log_head(store)

    summary = store.lifecycle.affiliate(person.row)

    assert summary.state == "affiliated"
    assert helpers.log_head(store) == head + 1


def test_a_holder_identified_by_a_nia_can_activate_id_2_lc_5(
    store: Store, clock: Any, people: Any
) -> None:
    person = people.make(oid=NIA_OID)
    report = store.lifecycle.affiliate_feed([(2, person.row)])
    assert report.created == 1
    [espace_id] = store.views.espaces.ids_in_state("affiliated")
    person.code = store.lifecycle.send_notice(espace_id).activation_code
    clock.advance(days=1)

    summary = store.lifecycle.activate(person.activation())

    assert (summary.espace_id, summary.state) == (str(espace_id), "active")


# --------------------------------------------------------------------- stats


def test_stats_count_espaces_deadlines_and_contents_naming_nobody_lc_1_lc_2_lc_4(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    person = people.make()
    helpers.affiliate(store, person)
    helpers.notify(store, person)
    stats = store.stats()
    assert {k: n for k, n in stats["states"].items() if n} == {"notified": 1}
    assert stats["deadlines"]["opening"] == {"pending": 1, "due": 0, "overdue": 0}
    assert (stats["documents"], stats["appointments"], stats["profiles"]) == (
        {},
        {},
        0,
    )
    assert stats["messaging"] == {"conversations": 0, "messages": 0, "ended": 0}
    assert {v["name"] for v in stats["views"]} >= {"espaces", "deadlines"}
    assert all(v["lag"] == 0 for v in stats["views"] if v["after_commands"])
    assert person.nir not in json.dumps(stats, default=str)

    clock.advance(days=43)  # past the window: the opening is due (LC-4)
    assert store.stats()["deadlines"]["opening"] == {
        "pending": 1,
        "due": 1,
        "overdue": 0,
    }
    store.run_deadlines()
    stats = store.stats()
    assert {k: n for k, n in stats["states"].items() if n} == {"open": 1}
    assert "opening" not in stats["deadlines"]
