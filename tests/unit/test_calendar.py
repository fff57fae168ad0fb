"""Deadlines as pure functions (LC-2, LC-5, LC-7, LC-8, LC-9, LC-12).

The properties state each rule from its text (Paris calendar days, midnight at
the end of the last day) and check the functions against it for any instant.
"""

from __future__ import annotations

import calendar as std_calendar
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from espace.domain import calendar

PARIS = ZoneInfo("Europe/Paris")
FRENCH_HOLIDAYS = holidays.country_holidays("FR", years=range(1995, 2105))


def paris(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=PARIS)


# Any instant between 2000 and 2090, in UTC, in Paris time (both folds) or at a
# fixed offset: the functions must not care how the instant is written.
# (No allow_imaginary: it filters aware values only, and these are naive.)
_naive = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2090, 12, 31),
)
instants = st.one_of(
    _naive.map(lambda d: d.replace(tzinfo=UTC)),
    _naive.map(lambda d: d.replace(tzinfo=PARIS)),
    _naive.map(lambda d: d.replace(tzinfo=PARIS, fold=1)),
    st.tuples(_naive, st.integers(-12 * 60, 14 * 60)).map(
        lambda p: p[0].replace(tzinfo=timezone(timedelta(minutes=p[1])))
    ),
)


def is_paris_midnight(at: datetime) -> bool:
    local = at.astimezone(PARIS)
    return local.time() == time(0)


# ------------------------------------------------------------ Paris days


def test_paris_date_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        calendar.paris_date(datetime(2025, 3, 3, 12))


def test_paris_date_is_the_local_day_not_the_utc_day() -> None:
    assert calendar.paris_date(datetime(2025, 3, 2, 23, 30, tzinfo=UTC)) == date(
        2025, 3, 3
    )
    assert calendar.paris_date(datetime(2025, 7, 1, 21, 59, tzinfo=UTC)) == date(
        2025, 7, 1
    )
    assert calendar.paris_date(datetime(2025, 7, 1, 22, 0, tzinfo=UTC)) == date(
        2025, 7, 2
    )


@pytest.mark.parametrize(
    ("day", "utc"),
    [
        (date(2025, 3, 29), datetime(2025, 3, 29, 23, tzinfo=UTC)),  # CET
        (date(2025, 3, 30), datetime(2025, 3, 30, 22, tzinfo=UTC)),  # 23-hour day
        (date(2025, 10, 26), datetime(2025, 10, 26, 23, tzinfo=UTC)),  # 25-hour day
        (date(2025, 12, 31), datetime(2025, 12, 31, 23, tzinfo=UTC)),
    ],
)
def test_the_end_of_a_paris_day_is_the_next_local_midnight_in_utc(
    day: date, utc: datetime
) -> None:
    end = calendar.end_of_paris_day(day)
    assert end == utc
    assert end.tzinfo is UTC
    assert calendar.start_of_paris_day(day + timedelta(days=1)) == end


# ------------------------------------------------------- LC-2 opposition


def test_opposition_deadline_of_a_notice_sent_before_the_spring_change_lc_2() -> None:
    assert calendar.opposition_deadline(paris(2025, 3, 3, 10)) == datetime(
        2025, 4, 14, 22, tzinfo=UTC
    )


def test_opposition_deadline_of_a_notice_sent_at_2359_paris_lc_2() -> None:
    # Day 1 is 4 March even though the notice left one minute before midnight.
    assert calendar.opposition_deadline(paris(2025, 3, 3, 23, 59)) == paris(2025, 4, 15)


@given(instants)
def test_opposition_deadline_is_midnight_paris_after_day_42_lc_2(
    sent_at: datetime,
) -> None:
    deadline = calendar.opposition_deadline(sent_at)
    assert deadline.tzinfo is UTC
    assert deadline > sent_at
    assert is_paris_midnight(deadline)
    sent_day = sent_at.astimezone(PARIS).date()
    assert deadline.astimezone(PARIS).date() == sent_day + timedelta(days=43)
    # The last accepted second is still on day 42, the same weekday as sending.
    last = (deadline - timedelta(seconds=1)).astimezone(PARIS)
    assert last.date() == sent_day + timedelta(days=42)
    assert last.weekday() == sent_day.weekday()
    assert (last.hour, last.minute, last.second) == (23, 59, 59)


@given(instants)
def test_opposition_window_lasts_between_41_and_43_days_of_real_time_lc_2(
    sent_at: datetime,
) -> None:
    length = calendar.opposition_deadline(sent_at) - sent_at
    assert timedelta(days=42) - timedelta(hours=1) < length
    assert length <= timedelta(days=43, hours=1)


def weekend_or_holiday(day: date) -> bool:
    return day.weekday() >= 5 or day in FRENCH_HOLIDAYS


@given(instants)
def test_with_non_working_days_the_last_day_is_the_first_working_day_lc_2(
    sent_at: datetime,
) -> None:
    plain = calendar.opposition_deadline(sent_at)
    extended = calendar.opposition_deadline(sent_at, weekend_or_holiday)
    assert is_paris_midnight(extended)
    assert extended >= plain
    last_day = extended.astimezone(PARIS).date() - timedelta(days=1)
    assert not weekend_or_holiday(last_day)
    # It runs on no further than needed: every day skipped was non-working.
    day = plain.astimezone(PARIS).date() - timedelta(days=1)
    while day < last_day:
        assert weekend_or_holiday(day)
        day += timedelta(days=1)


def test_a_window_ending_on_easter_saturday_runs_to_tuesday_lc_2() -> None:
    # Sent Saturday 8 March 2025: day 42 is Saturday 19 April; Monday 21 April is
    # Easter Monday, so the last day is Tuesday 22 April.
    deadline = calendar.opposition_deadline(paris(2025, 3, 8, 9), weekend_or_holiday)
    assert deadline == paris(2025, 4, 23)


def test_a_window_ending_on_a_working_day_is_unchanged_by_the_predicate_lc_2() -> None:
    sent = paris(2025, 3, 3, 10)
    assert calendar.opposition_deadline(sent, weekend_or_holiday) == (
        calendar.opposition_deadline(sent)
    )


# ----------------------------------------------------- LC-5 code validity


@given(instants, st.integers(0, 400))
def test_days_after_ends_at_midnight_paris_n_plus_one_days_later_lc_5(
    at: datetime, days: int
) -> None:
    end = calendar.days_after(at, days)
    assert is_paris_midnight(end)
    assert end.astimezone(PARIS).date() == at.astimezone(PARIS).date() + timedelta(
        days=days + 1
    )


@given(instants, st.integers(1, 24 * 60))
def test_minutes_after_is_a_plain_duration_for_utc_and_fixed_offsets_lc_5(
    at: datetime, minutes: int
) -> None:
    assume(not isinstance(at.tzinfo, ZoneInfo))
    result = calendar.minutes_after(at, minutes)
    assert result.tzinfo is UTC
    assert result - at == timedelta(minutes=minutes)


def test_minutes_after_is_a_plain_duration_across_the_autumn_change_lc_5() -> None:
    at = datetime(2024, 10, 27, 2, 45, tzinfo=PARIS)  # 00:45 UTC
    assert calendar.minutes_after(at, 30) - at == timedelta(minutes=30)


# ---------------------------------------------------- LC-7 suspension


@given(instants)
def test_suspension_deadline_is_six_weeks_counted_like_the_opposition_lc_7(
    informed_at: datetime,
) -> None:
    deadline = calendar.suspension_deadline(informed_at)
    assert is_paris_midnight(deadline)
    assert deadline.astimezone(PARIS).date() == informed_at.astimezone(
        PARIS
    ).date() + timedelta(days=43)


# ------------------------------------------------ LC-8 / LC-9 month periods


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2024, 2, 29), 120, date(2034, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 5, 31), 0, date(2025, 5, 31)),
    ],
)
def test_add_months_keeps_the_day_or_clamps_to_the_end_of_the_month(
    day: date, months: int, expected: date
) -> None:
    assert calendar.add_months(day, months) == expected


@given(st.dates(date(1900, 1, 1), date(2200, 12, 31)), st.integers(0, 600))
def test_add_months_lands_in_the_right_month_on_the_closest_day(
    day: date, months: int
) -> None:
    result = calendar.add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    last = std_calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(day.day, last)


@pytest.mark.parametrize(
    ("closed_at", "expected"),
    [
        (paris(2025, 3, 15, 14), paris(2035, 3, 16)),
        (paris(2024, 2, 29, 12), paris(2034, 3, 1)),  # no 29 Feb in 2034
        (paris(2020, 2, 29, 12), paris(2030, 3, 1)),
        (paris(2028, 2, 29, 12), paris(2038, 3, 1)),
        (datetime(2025, 12, 31, 23, 30, tzinfo=UTC), paris(2036, 1, 2)),  # 1 Jan
    ],
)
def test_archive_deadline_is_the_end_of_the_same_day_ten_years_later_lc_8(
    closed_at: datetime, expected: datetime
) -> None:
    assert calendar.archive_deadline(closed_at) == expected


@given(instants)
def test_archive_deadline_is_midnight_after_the_tenth_anniversary_lc_8(
    closed_at: datetime,
) -> None:
    deadline = calendar.archive_deadline(closed_at)
    closed_day = closed_at.astimezone(PARIS).date()
    last_day = deadline.astimezone(PARIS).date() - timedelta(days=1)
    assert is_paris_midnight(deadline)
    assert last_day.year == closed_day.year + 10
    assert last_day.month == closed_day.month
    if (closed_day.month, closed_day.day) == (2, 29):
        assert last_day.day == std_calendar.monthrange(last_day.year, 2)[1]
    else:
        assert last_day.day == closed_day.day


@pytest.mark.parametrize(
    ("requested", "due"),
    [
        (paris(2025, 11, 30, 10), paris(2026, 3, 1)),
        (paris(2023, 11, 30, 10), paris(2024, 3, 1)),
        (paris(2025, 11, 29, 10), paris(2026, 3, 1)),
        (paris(2025, 11, 28, 10), paris(2026, 3, 1)),
        (paris(2025, 11, 27, 10), paris(2026, 2, 28)),
        (paris(2025, 1, 15, 10), paris(2025, 4, 16)),
    ],
)
def test_erasure_deadline_is_the_end_of_the_same_day_three_months_later_lc_9(
    requested: datetime, due: datetime
) -> None:
    assert calendar.erasure_deadline(requested) == due


@given(instants)
def test_erasure_deadline_falls_between_90_and_93_days_later_lc_9(
    requested: datetime,
) -> None:
    deadline = calendar.erasure_deadline(requested)
    assert is_paris_midnight(deadline)
    days = (deadline.astimezone(PARIS).date() - requested.astimezone(PARIS).date()).days
    assert 90 <= days <= 93


# ---------------------------------------------------------- LC-12 majority


@pytest.mark.parametrize(
    ("birth", "majority"),
    [
        (date(2008, 2, 29), paris(2026, 3, 1)),
        (date(2007, 7, 14), paris(2025, 7, 14)),
        (date(2007, 12, 31), paris(2025, 12, 31)),
        (date(2012, 2, 29), paris(2030, 3, 1)),
        (date(2014, 2, 28), paris(2032, 2, 28)),
    ],
)
def test_majority_starts_at_midnight_paris_on_the_18th_birthday_lc_12(
    birth: date, majority: datetime
) -> None:
    assert calendar.majority_at(birth) == majority
    assert calendar.is_minor(birth, majority - timedelta(seconds=1))
    assert not calendar.is_minor(birth, majority)


@given(st.dates(date(1950, 1, 1), date(2080, 12, 31)))
def test_majority_is_eighteen_years_after_birth_lc_12(birth: date) -> None:
    majority = calendar.majority_at(birth)
    assert is_paris_midnight(majority)
    day = majority.astimezone(PARIS).date()
    assert day.year == birth.year + 18
    if (birth.month, birth.day) == (2, 29) and not std_calendar.isleap(day.year):
        assert (day.month, day.day) == (3, 1)
    else:
        assert (day.month, day.day) == (birth.month, birth.day)
