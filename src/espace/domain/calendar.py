"""Deadlines as pure functions of event times (LC-2, LC-7, LC-8, LC-9, LC-12).

Periods are counted as French procedure counts them: day 1 is the day after
the starting event (in Europe/Paris), and the period ends at midnight at the
end of its last day. Every function returns that instant as an aware UTC
datetime: the first instant at which the period is over.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

OPPOSITION_DAYS = 42
"""LC-2: six weeks from the sending of the notice."""
SUSPENSION_DAYS = 42
"""LC-7: a suspension closes six weeks after the holder is informed."""
ARCHIVE_YEARS = 10
"""LC-8: the archive is kept ten years from the closure date."""
ERASURE_MONTHS = 3
"""LC-9: an express erasure is carried out within three months."""
MAJORITY_YEARS = 18
"""LC-12: the age at which a minor's espace is handed over."""

NonWorkingDay = Callable[[date], bool]


def paris_date(at: datetime) -> date:
    """The calendar day in Paris of an aware instant."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: every instant in espace is timezone-aware")
    return at.astimezone(PARIS).date()


def end_of_paris_day(day: date) -> datetime:
    """Midnight (Paris) at the end of ``day``, as UTC."""
    start_next = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)
    return start_next.astimezone(UTC)


def start_of_paris_day(day: date) -> datetime:
    """Midnight (Paris) at the start of ``day``, as UTC (LC-12: a birthday)."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def _last_day(day: date, non_working: NonWorkingDay | None) -> date:
    if non_working is not None:
        while non_working(day):
            day += timedelta(days=1)
    return day


def days_after(
    at: datetime, days: int, non_working: NonWorkingDay | None = None
) -> datetime:
    """End of a period of ``days`` days starting the day after ``at``.

    With ``non_working``, a period whose last day is not a working day runs on
    to the next working day (ADR-0002: off by default).
    """
    return end_of_paris_day(
        _last_day(paris_date(at) + timedelta(days=days), non_working)
    )


def opposition_deadline(
    sent_at: datetime, non_working: NonWorkingDay | None = None
) -> datetime:
    """LC-2: the first instant at which opposition is refused."""
    return days_after(sent_at, OPPOSITION_DAYS, non_working)


def suspension_deadline(informed_at: datetime) -> datetime:
    """LC-7: the first instant at which a suspended espace closes."""
    return days_after(informed_at, SUSPENSION_DAYS)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def archive_deadline(closed_at: datetime) -> datetime:
    """LC-8: ten years from the closure date, then the content is erased."""
    return end_of_paris_day(add_months(paris_date(closed_at), 12 * ARCHIVE_YEARS))


def erasure_deadline(requested_at: datetime) -> datetime:
    """LC-9: the instant by which an express erasure must have been carried out."""
    return end_of_paris_day(add_months(paris_date(requested_at), ERASURE_MONTHS))


def majority_at(birth_date: date) -> datetime:
    """LC-12: the start of the 18th birthday (29 February → 1 March), Paris."""
    year = birth_date.year + MAJORITY_YEARS
    try:
        day = birth_date.replace(year=year)
    except ValueError:
        day = date(year, 3, 1)
    return start_of_paris_day(day)


def is_minor(birth_date: date, at: datetime) -> bool:
    """LC-12: whether someone born on ``birth_date`` is still a minor at ``at``."""
    return at < majority_at(birth_date)


def minutes_after(at: datetime, minutes: int) -> datetime:
    """A plain duration (not a calendar period): used for activation locks."""
    return at.astimezone(UTC) + timedelta(minutes=minutes)


# ---------------------------------------------------------------------------
# Plausible instants (ADR-0017)
# ---------------------------------------------------------------------------

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
"""No instant the record holds is earlier: nobody alive was born before it."""
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""No instant the record holds is this late. Far enough for every deadline
computed from a plausible instant (ten years of archive, a code's 90 days),
near enough that no deadline overflows the calendar and every view can
store it on SQLite and PostgreSQL alike."""
APPOINTMENT_HORIZON_YEARS = 10
"""AG-1: an appointment is made at most ten years ahead."""
INFORMED_WITHIN_DAYS = 365
"""LC-7: the holder is told of a suspension within a year of it."""


def instant_problem(value: datetime) -> str | None:
    """Why an instant cannot be recorded, or ``None`` if it can."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "needs a UTC offset, e.g. +01:00 or Z"
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        return (
            f"must be from {EARLIEST.date().isoformat()} to before "
            f"{LATEST.date().isoformat()}"
        )
    return None


def date_problem(value: date) -> str | None:
    """Why a calendar day cannot be recorded, or ``None`` if it can."""
    if isinstance(value, datetime):
        return "a date (YYYY-MM-DD), not a date and time"
    if not EARLIEST.date() <= value < LATEST.date():
        return (
            f"must be from {EARLIEST.date().isoformat()} to before "
            f"{LATEST.date().isoformat()}"
        )
    return None


def years_after(at: datetime, years: int) -> datetime:
    """The same Paris day ``years`` later, at the end of that day."""
    return end_of_paris_day(add_months(paris_date(at), 12 * years))
