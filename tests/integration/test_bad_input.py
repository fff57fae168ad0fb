"""Bad values are refused at the edge, naming the field, and write nothing
(ADR-0017), on SQLite and PostgreSQL.

Each of these was once accepted, committed, and then froze every view: the
view write overflowed (a time of care of 0001-01-01, an appointment at
9999-12-31) or PostgreSQL refused the text (a NUL byte in an heir's id).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from espace import InvalidInput, Store
from records_world import PHYSICIAN, Record, make_record


@pytest.fixture
def rec(store: Store, clock: Any, people: Any, helpers: Any) -> Record:
    return make_record(store, clock, people, helpers)


def refused(store: Store, call: Any, *args: Any, **kw: Any) -> dict[str, list[str]]:
    """The InvalidInput's fields; and nothing was written to the log."""
    before = store._infra.events.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as info:
        call(*args, **kw)
    assert store._infra.events.recorder.max_notification_id() == before
    return info.value.fields


def views_caught_up(store: Store) -> None:
    store.sync()
    assert all(v.lag == 0 for v in store.view_status())


@pytest.mark.parametrize(
    "care_time",
    ["0001-01-01T00:00:00+01:00", "1901-01-01T00:00:00+00:00"],
    ids=["year-1", "before-birth"],
)
def test_a_time_of_care_before_the_holders_birth_is_refused_doc_1(
    rec: Record, care_time: str
) -> None:
    fields = refused(
        rec.store,
        rec.store.records.deposit,
        PHYSICIAN,
        rec.espace_id,
        rec.meta(care_time=care_time),
        b"compte rendu",
    )
    assert list(fields) == ["care_time"]
    rec.deposit()  # the store goes on
    views_caught_up(rec.store)


def test_a_replacement_before_the_holders_birth_is_refused_doc_3(rec: Record) -> None:
    document_id = rec.deposit()
    fields = refused(
        rec.store,
        rec.store.records.replace,
        PHYSICIAN,
        document_id,
        rec.meta(care_time="1950-06-01T00:00:00+00:00"),
        b"v2",
    )
    assert "before the holder's birth" in fields["care_time"][0]


@pytest.mark.parametrize(
    ("starts_at", "words"),
    [
        ("9999-12-31T10:00:00+01:00", "before 2200-01-01"),
        ("2040-01-01T10:00:00+01:00", "at most 10 years ahead"),
    ],
)
def test_an_appointment_far_in_the_future_is_refused_ag_1(
    rec: Record, starts_at: str, words: str
) -> None:
    fields = refused(
        rec.store,
        rec.store.agenda.schedule,
        rec.holder,
        rec.espace_id,
        {"with": "Dr Martin", "starts_at": starts_at},
    )
    assert list(fields) == ["starts_at"]
    assert words in fields["starts_at"][0]
    views_caught_up(rec.store)


def test_an_heir_id_with_a_nul_byte_is_refused_lc_11(rec: Record) -> None:
    rec.clock.advance(days=1)
    rec.store.lifecycle.declare_death(rec.espace_id, {"date_of_death": "2027-01-05"})
    fields = refused(
        rec.store,
        rec.store.records.grant_heir_access,
        rec.espace_id,
        {"heir_id": "fils\x00aine", "relationship": "heir"},
    )
    assert fields == {"heir_id": ["contains a NUL character"]}
    views_caught_up(rec.store)


def test_a_profile_day_before_the_birth_is_refused_pro_1(rec: Record) -> None:
    fields = refused(
        rec.store,
        rec.store.profile.record_vaccination,
        rec.holder,
        rec.espace_id,
        {"vaccine": "BCG", "given_on": "1960-05-01"},
    )
    assert list(fields) == ["given_on"]


def test_a_suspension_told_years_later_is_refused_lc_7(rec: Record) -> None:
    later = rec.clock.now + timedelta(days=800)
    fields = refused(
        rec.store,
        rec.store.lifecycle.suspend,
        rec.espace_id,
        {"reason": "fraude", "informed_at": later.isoformat()},
    )
    assert list(fields) == ["informed_at"]
    fields = refused(
        rec.store,
        rec.store.lifecycle.suspend,
        rec.espace_id,
        {"reason": "fraude", "informed_at": "9999-12-31T00:00:00-12:00"},
    )
    assert list(fields) == ["informed_at"]


def test_a_date_and_time_given_as_a_date_of_death_is_refused_lc_7(
    rec: Record,
) -> None:
    fields = refused(
        rec.store,
        rec.store.lifecycle.declare_death,
        rec.espace_id,
        {"date_of_death": datetime(2027, 1, 4, 8, 0)},
    )
    assert list(fields) == ["date_of_death"]


def test_the_time_of_a_command_given_by_the_caller_is_checked_too(
    rec: Record,
) -> None:
    far = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    fields = refused(rec.store, rec.store.lifecycle.close, rec.espace_id, at=far)
    assert list(fields) == ["at"]


def test_one_row_with_a_lone_surrogate_is_rejected_and_the_others_are_created_lc_1(
    store: Store, people: Any
) -> None:
    rows = [people.make().row for _ in range(3)]
    rows[1] = {**rows[1], "first_names": "Zo\udce9"}
    report = store.lifecycle.affiliate_feed(enumerate(rows, start=2))
    assert report.created == 2
    assert [(r.line, list(r.fields)) for r in report.rejected] == [(3, ["first_names"])]
    views_caught_up(store)


def test_a_birth_date_in_year_one_is_rejected_for_its_row_lc_1(
    store: Store, people: Any
) -> None:
    good, bad = people.make().row, people.make().row
    bad["birth_date"] = date(1, 1, 1).isoformat()
    report = store.lifecycle.affiliate_feed([(2, good), (3, bad)])
    assert report.created == 1
    assert report.rejected[0].line == 3
    assert list(report.rejected[0].fields) == ["birth_date"]
