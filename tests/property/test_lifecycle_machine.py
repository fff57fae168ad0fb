"""The espace lifecycle as a hypothesis state machine against a plain model.

The model below is written from the rule book (LC-1 to LC-12, ID-*) and the
decisions recorded for it (ADR-0002 no weekend run-on by default, ADR-0006
activation numbers, ADR-0007 hand-over at 18), not from the aggregate's code:
it is a dataclass of a phase, a few instants and flags, with its own
deadline arithmetic. Every step runs one command on the aggregate at the
current time; the aggregate must accept exactly when the model allows it
(else raise ``RuleViolation`` and trigger nothing), trigger exactly the events
the model expects, and end in the state the model holds. Time advances by
minutes to years, and often lands exactly on (or one second either side of)
a pending deadline. After each step, replaying every event so far rebuilds an
aggregate equal to the live one.
"""

from __future__ import annotations

import calendar as std_calendar
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.identifiers import Ins

PARIS = ZoneInfo("Europe/Paris")

# Decisions the model takes as given (ADR-0006): a code lasts until the end of
# its 90th day; five failures in a row lock activation for thirty minutes.
CODE_VALIDITY_DAYS = 90
MAX_FAILURES = 5
LOCK = timedelta(minutes=30)

AFFILIATED, NOTIFIED, OPPOSED = "affiliated", "notified", "opposed"
OPEN, ACTIVE, SUSPENDED = "open", "active", "suspended"
CLOSED, ERASED = "closed", "erased"
LIVE = {OPEN, ACTIVE, SUSPENDED}

ADULT = Ins(
    nir="295109912611193",
    oid="1.2.250.1.213.1.4.8",
    birth_name="MARTIN",
    first_names="Claire",
    birth_date=date(1995, 10, 3),
    sex="F",
    birthplace_code="99126",
)
MINOR = Ins(  # born on 29 February 2008: of age on 1 March 2026
    nir="108027505612330",
    oid="1.2.250.1.213.1.4.8",
    birth_name="PETIT",
    first_names="Hugo",
    birth_date=date(2008, 2, 29),
    sex="M",
    birthplace_code="75056",
)
VITALE = "vitale-digest"


# ------------------------------------------------- the model's own calendar


def midnight_paris(day: date) -> datetime:
    """00:00 in Paris at the start of ``day``, as a UTC instant."""
    return datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)


def local_day(at: datetime) -> date:
    return at.astimezone(PARIS).date()


def period_end(start: datetime, days: int, skip: Callable[[date], bool]) -> datetime:
    """Day 1 is the day after ``start`` (Paris); the period is over at midnight
    ending its last day; a skipped last day moves to the next one."""
    last = local_day(start) + timedelta(days=days)
    while skip(last):
        last += timedelta(days=1)
    return midnight_paris(last + timedelta(days=1))


def months_later(day: date, months: int) -> date:
    """Same day number ``months`` later, or the last day of a shorter month."""
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, std_calendar.monthrange(year, month)[1]))


def majority(birth: date) -> datetime:
    year = birth.year + 18
    if (birth.month, birth.day) == (2, 29) and not std_calendar.isleap(year):
        return midnight_paris(date(year, 3, 1))
    return midnight_paris(birth.replace(year=year))


def never(day: date) -> bool:
    return False


def weekend(day: date) -> bool:
    return day.weekday() >= 5


# ------------------------------------------------------------- the model


@dataclass
class Model:
    phase: str
    last_event: datetime
    birth_date: date
    represented: bool
    legacy: bool
    opposition_deadline: datetime | None = None
    code: str | None = None
    code_expires: datetime | None = None
    failures: int = 0
    locked_until: datetime | None = None
    ever_opposed: bool = False
    merged: bool = False
    resume: str | None = None
    suspension_closes: datetime | None = None
    archive_until: datetime | None = None
    dead: bool = False
    erasure_requested: bool = False
    erasure_due: datetime | None = None
    activated_by: str | None = None

    def give_code(self, code: str, now: datetime) -> None:
        self.code = code
        self.code_expires = period_end(now, CODE_VALIDITY_DAYS, never)

    def opening_events(self) -> list[str]:
        """LC-6: opening brings the legacy DMP, once, unless the person opposed."""
        due = self.legacy and not self.merged and not self.ever_opposed
        return ["LegacyDmpMerged"] if due else []

    def open(self) -> None:
        self.merged = self.merged or bool(self.opening_events())
        self.phase = OPEN

    def close(self, now: datetime) -> None:
        """LC-7/LC-8: archived until the end of the same day ten years on."""
        self.phase = CLOSED
        self.archive_until = midnight_paris(
            months_later(local_day(now), 120) + timedelta(days=1)
        )
        self.code = self.code_expires = None
        self.resume = self.suspension_closes = None


# ----------------------------------------------------------- the machine


class LifecycleMachine(RuleBasedStateMachine):
    espace: EspaceSante
    model: Model
    now: datetime
    tz: timezone
    events: list[Any]

    @initialize(
        person=st.sampled_from(["adult", "minor"]),
        legacy=st.booleans(),
        start=st.datetimes(datetime(2019, 1, 1), datetime(2025, 12, 31)),
        tz=st.sampled_from(
            [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))]
        ),
        warm_up=st.sampled_from(
            ["affiliated", "notified", "open", "active", "suspended"]
        ),
    )
    def affiliate(
        self, person: str, legacy: bool, start: datetime, tz: timezone, warm_up: str
    ) -> None:
        self.tz = tz
        self.now = start.replace(tzinfo=UTC)
        self.issued: list[str] = []
        ins = ADULT if person == "adult" else MINOR
        representative = (
            {"name": "PETIT Anne", "role": "parent", "email": "anne@example.org"}
            if person == "minor"
            else None
        )
        self.espace = EspaceSante.affiliate(
            espace_id=uuid4(),
            ins=ins,
            vitale_digest=VITALE,
            at=self.at,
            email="holder@example.org",
            representative=representative,
            legacy_dmp_ref="DMP-7" if legacy else None,
        )
        self.events = list(self.espace.collect_events())
        assert [type(e).__name__ for e in self.events] == ["Affiliated"]
        self.model = Model(
            phase=AFFILIATED,
            last_event=self.now,
            birth_date=ins.birth_date,
            represented=representative is not None,
            legacy=legacy,
        )
        self.ins = ins
        # Start some runs further down the happy path, through the same rules,
        # so that the later phases get as many steps as the early ones.
        if warm_up == "affiliated":
            return
        self.send_notice(working_days_only=False)
        if warm_up == "notified":
            return
        if warm_up == "open":
            assert self.model.opposition_deadline is not None
            self.now = self.model.opposition_deadline
            self.open_automatically()
            return
        self.time_passes(timedelta(days=2))
        self.attempt_activation(wrong=None, by="holder")
        if warm_up == "suspended":
            self.suspend(informed_after=timedelta(hours=2), reason="fraud suspected")

    def new_code(self) -> str:
        self.issued.append(f"code-{len(self.issued) + 1}")
        return self.issued[-1]

    @property
    def at(self) -> datetime:
        """The current time, written in the run's time zone."""
        return self.now.astimezone(self.tz)

    # ---------------------------------------------------------- plumbing

    def run(
        self,
        allowed: bool,
        expected: list[str],
        command: Callable[[], Any],
        rule: str | None = None,
    ) -> Any:
        """Run ``command``: accepted with ``expected`` events iff ``allowed``;
        when refused, by a RuleViolation (naming ``rule`` when given)."""
        event(f"{sys._getframe(1).f_code.co_name}: {'ok' if allowed else 'refused'}")
        version = self.espace.version
        if not allowed:
            with pytest.raises(RuleViolation) as info:
                command()
            if rule is not None:
                assert info.value.rule == rule, info.value.message
            assert self.espace.collect_events() == []
            assert self.espace.version == version
            return None
        result = command()
        new = self.espace.collect_events()
        assert [type(e).__name__ for e in new] == expected
        self.events.extend(new)
        if new:
            self.model.last_event = self.now
        return result

    # -------------------------------------------------------------- time

    @rule(
        step=st.one_of(
            st.integers(1, 59).map(lambda n: timedelta(minutes=n)),
            st.integers(1, 48).map(lambda n: timedelta(hours=n)),
            st.integers(1, 120).map(lambda n: timedelta(days=n)),
            st.integers(1, 12).map(lambda n: timedelta(days=365 * n)),
            st.integers(1, 10**6).map(lambda n: timedelta(seconds=n)),
        )
    )
    def time_passes(self, step: timedelta) -> None:
        self.now += step

    def pending_deadlines(self) -> list[datetime]:
        """The model's deadlines still ahead (each one second early or late
        too), soonest first."""
        m = self.model
        candidates = [
            m.opposition_deadline,
            m.code_expires,
            m.locked_until,
            m.suspension_closes,
            m.archive_until,
            m.erasure_due,
            majority(m.birth_date),
        ]
        return sorted(
            d + timedelta(seconds=s)
            for d in candidates
            if d is not None
            for s in (-1, 0, 1)
            if d + timedelta(seconds=s) > self.now
        )

    @rule(pick=st.integers(0, 20))
    def time_reaches_a_deadline(self, pick: int) -> None:
        pending = self.pending_deadlines()
        if pending:
            self.now = pending[pick % len(pending)]

    # ---------------------------------------------------------- commands

    @rule(working_days_only=st.booleans())
    def send_notice(self, working_days_only: bool) -> None:
        m = self.model
        code = self.new_code()
        allowed = m.phase == AFFILIATED
        self.run(
            allowed,
            ["NoticeSent"],
            lambda: self.espace.send_notice(
                at=self.at,
                code_digest=code,
                code_salt="salt",
                non_working_day=weekend if working_days_only else None,
            ),
        )
        if allowed:
            m.phase = NOTIFIED
            m.opposition_deadline = period_end(
                self.now, 42, weekend if working_days_only else never
            )
            m.give_code(code, self.now)

    @rule()
    def oppose(self) -> None:
        m = self.model
        allowed = m.phase == AFFILIATED or (
            m.phase == NOTIFIED
            and m.opposition_deadline is not None
            and self.now < m.opposition_deadline
        )
        self.run(
            allowed,
            ["OppositionDeclared"],
            lambda: self.espace.declare_opposition(
                at=self.at, channel="web", receipt="OPP-1"
            ),
        )
        if allowed:
            m.phase = OPPOSED
            m.ever_opposed = True
            m.code = m.code_expires = None

    @rule()
    def open_automatically(self) -> None:
        m = self.model
        allowed = (
            m.phase == NOTIFIED
            and m.opposition_deadline is not None
            and self.now >= m.opposition_deadline
        )
        expected = ["Opened", *m.opening_events()]
        self.run(allowed, expected, lambda: self.espace.open_automatically(at=self.at))
        if allowed:
            m.open()

    @rule(
        wrong=st.sampled_from([None, None, "code", "nir", "birth_date", "vitale"]),
        by=st.sampled_from(["holder", "holder", "representative"]),
    )
    def attempt_activation(self, wrong: str | None, by: str) -> None:
        m = self.model
        locked = m.locked_until is not None and self.now < m.locked_until
        code_valid = m.code_expires is not None and self.now < m.code_expires
        allowed = (
            m.phase in (NOTIFIED, OPEN)
            and not locked
            and m.code is not None
            and code_valid
            and not (by == "representative" and not m.represented)
        )
        success = wrong is None
        if success:
            opening = ["Opened", *m.opening_events()] if m.phase == NOTIFIED else []
            expected = [*opening, "Activated"]
        else:
            expected = ["ActivationFailed"]
        factors: dict[str, Any] = {
            "code_digest": m.code or "no-code",
            "nir": self.ins.nir,
            "birth_date": self.ins.birth_date,
            "vitale_digest": VITALE,
        }
        if wrong == "code":  # a code voided by a newer one, or never issued
            factors["code_digest"] = next(
                (c for c in reversed(self.issued) if c != m.code), "code-0"
            )
        elif wrong == "nir":
            factors["nir"] = "253072B07300470"
        elif wrong == "birth_date":
            factors["birth_date"] = self.ins.birth_date + timedelta(days=1)
        elif wrong == "vitale":
            factors["vitale_digest"] = "another-card"
        result = self.run(
            allowed,
            expected,
            lambda: self.espace.attempt_activation(at=self.at, by=by, **factors),
        )
        if not allowed:
            return
        assert result is success
        if success:
            if m.phase == NOTIFIED:
                m.open()
            m.phase = ACTIVE
            m.activated_by = by
            m.failures, m.locked_until = 0, None
            m.code = m.code_expires = None
        else:
            m.failures = 1 if m.locked_until is not None else m.failures + 1
            m.locked_until = self.now + LOCK if m.failures >= MAX_FAILURES else None

    @rule()
    def reissue_code(self) -> None:
        m = self.model
        code = self.new_code()
        allowed = m.phase in (NOTIFIED, OPEN)
        self.run(
            allowed,
            ["CodeReissued"],
            lambda: self.espace.reissue_code(
                at=self.at, code_digest=code, code_salt="s"
            ),
        )
        if allowed:
            m.give_code(code, self.now)
            m.failures, m.locked_until = 0, None

    @rule()
    def close(self) -> None:
        m = self.model
        allowed = m.phase in LIVE
        self.run(allowed, ["Closed"], lambda: self.espace.close(at=self.at))
        if allowed:
            m.close(self.now)

    @rule(
        days_ago=st.one_of(st.integers(0, 3), st.integers(-1, 12000)),
        dice=st.integers(0, 2),
    )
    def declare_death(self, days_ago: int, dice: int) -> None:
        if dice:  # death ends most lifecycles: keep it to a third of its draws
            return
        m = self.model
        day = local_day(self.now) - timedelta(days=days_ago)
        allowed = (
            not m.dead and m.phase != ERASED and days_ago >= 0 and day >= m.birth_date
        )
        closes = m.phase in (AFFILIATED, NOTIFIED) or m.phase in LIVE
        self.run(
            allowed,
            ["DeathDeclared"] + (["Closed"] if closes else []),
            lambda: self.espace.declare_death(at=self.at, date_of_death=day),
        )
        if allowed:
            m.dead = True
            if closes:
                m.close(self.now)

    @rule(
        informed_after=st.sampled_from(
            [timedelta(0), timedelta(hours=2), timedelta(days=3), timedelta(seconds=-1)]
        ),
        reason=st.sampled_from(["fraud suspected", "malfunction", " "]),
    )
    def suspend(self, informed_after: timedelta, reason: str) -> None:
        m = self.model
        informed = self.now + informed_after
        allowed = (
            m.phase in (OPEN, ACTIVE)
            and bool(reason.strip())
            and informed_after >= timedelta(0)
        )
        self.run(
            allowed,
            ["Suspended"],
            lambda: self.espace.suspend(
                at=self.at, reason=reason, informed_at=informed.astimezone(PARIS)
            ),
        )
        if allowed:
            m.resume = m.phase
            m.phase = SUSPENDED
            m.suspension_closes = period_end(informed, 42, never)

    def _end_suspension(self) -> None:
        m = self.model
        assert m.resume is not None
        m.phase, m.resume, m.suspension_closes = m.resume, None, None

    @rule()
    def object_to_suspension(self) -> None:
        m = self.model
        allowed = (
            m.phase == SUSPENDED
            and m.suspension_closes is not None
            and self.now < m.suspension_closes
        )
        self.run(
            allowed,
            ["SuspensionEnded"],
            lambda: self.espace.object_to_suspension(at=self.at),
        )
        if allowed:
            self._end_suspension()

    @rule()
    def lift_suspension(self) -> None:
        allowed = self.model.phase == SUSPENDED
        self.run(
            allowed,
            ["SuspensionEnded"],
            lambda: self.espace.lift_suspension(at=self.at),
        )
        if allowed:
            self._end_suspension()

    @rule()
    def close_after_suspension(self) -> None:
        m = self.model
        allowed = (
            m.phase == SUSPENDED
            and m.suspension_closes is not None
            and self.now >= m.suspension_closes
        )
        self.run(
            allowed, ["Closed"], lambda: self.espace.close_after_suspension(at=self.at)
        )
        if allowed:
            m.close(self.now)

    @rule()
    def request_erasure(self) -> None:
        m = self.model
        allowed = (
            not m.dead
            and not m.erasure_requested
            and m.phase in (OPEN, ACTIVE, SUSPENDED, CLOSED)
        )
        closes = m.phase in LIVE
        self.run(
            allowed,
            (["Closed"] if closes else []) + ["ErasureRequested"],
            lambda: self.espace.request_erasure(at=self.at),
        )
        if allowed:
            if closes:
                m.close(self.now)
            m.erasure_requested = True
            m.erasure_due = midnight_paris(
                months_later(local_day(self.now), 3) + timedelta(days=1)
            )

    @rule()
    def erase(self) -> None:
        m = self.model
        allowed = m.phase == CLOSED and (
            m.erasure_requested
            or (m.archive_until is not None and self.now >= m.archive_until)
        )
        self.run(allowed, ["Erased"], lambda: self.espace.erase(at=self.at))
        if allowed:
            m.phase = ERASED

    # A reopened espace gets a new code: earlier activation failures and the
    # lock are reset, as for any new code (ADR-0006).
    @rule()
    def reopen(self) -> None:
        m = self.model
        code = self.new_code()
        allowed = (
            not m.dead and m.phase in (CLOSED, OPPOSED) and not m.erasure_requested
        )
        self.run(
            allowed,
            ["Reopened", *m.opening_events()],
            lambda: self.espace.reopen(at=self.at, code_digest=code, code_salt="s"),
        )
        if allowed:
            m.open()
            m.archive_until = None
            m.give_code(code, self.now)
            m.failures, m.locked_until = 0, None

    @rule()
    def end_representation(self) -> None:
        m = self.model
        allowed = (
            m.phase != ERASED and m.represented and self.now >= majority(m.birth_date)
        )
        self.run(
            allowed,
            ["RepresentationEnded"],
            lambda: self.espace.end_representation(at=self.at),
        )
        if allowed:
            m.represented = False
            # ADR-0007: what the representative activated, the adult activates.
            if m.phase == ACTIVE and m.activated_by == "representative":
                m.phase, m.activated_by = OPEN, None

    # ------------------------------------------------ commands out of time

    @rule(
        command=st.sampled_from(["close", "oppose", "reissue", "lift", "notice"]),
        back=st.integers(1, 10**7),
    )
    def a_command_dated_before_the_last_event(self, command: str, back: int) -> None:
        at = self.model.last_event - timedelta(seconds=back)
        commands: dict[str, Callable[[], Any]] = {
            "close": lambda: self.espace.close(at=at),
            "oppose": lambda: self.espace.declare_opposition(
                at=at, channel="web", receipt="R"
            ),
            "reissue": lambda: self.espace.reissue_code(
                at=at, code_digest="c", code_salt="s"
            ),
            "lift": lambda: self.espace.lift_suspension(at=at),
            "notice": lambda: self.espace.send_notice(
                at=at, code_digest="c", code_salt="s"
            ),
        }
        guard = "LC-8" if self.model.phase == ERASED else "LC-1"
        self.run(False, [], commands[command], rule=guard)

    @rule(command=st.sampled_from(["close", "oppose", "open", "erase"]))
    def a_command_at_a_naive_time(self, command: str) -> None:
        at = self.now.replace(tzinfo=None)
        commands: dict[str, Callable[[], Any]] = {
            "close": lambda: self.espace.close(at=at),
            "oppose": lambda: self.espace.declare_opposition(
                at=at, channel="web", receipt="R"
            ),
            "open": lambda: self.espace.open_automatically(at=at),
            "erase": lambda: self.espace.erase(at=at),
        }
        self.run(False, [], commands[command], rule="LC-2")

    # -------------------------------------------------------- invariants

    @invariant()
    def the_aggregate_is_in_the_models_state(self) -> None:
        e, m = self.espace, self.model
        assert e.state == m.phase
        assert e.version == len(self.events)
        assert e.modified_on == m.last_event
        assert e.opposition_deadline == m.opposition_deadline
        assert e.code_digest == m.code
        assert e.code_expires_at == m.code_expires
        assert e.activation_failures == m.failures
        assert e.activation_locked_until == m.locked_until
        assert e.ever_opposed == m.ever_opposed
        assert e.legacy_dmp_merged == m.merged
        assert e.resume_state == m.resume
        assert e.suspension_closes_at == m.suspension_closes
        assert e.archive_until == m.archive_until
        assert (e.date_of_death is not None) == m.dead
        assert (e.erasure_requested_at is not None) == m.erasure_requested
        assert e.erasure_due_by == m.erasure_due
        assert (e.representative is not None) == m.represented

    @invariant()
    def replaying_the_events_rebuilds_the_live_aggregate(self) -> None:
        replayed: Any = None
        for recorded in self.events:
            replayed = recorded.mutate(replayed)
        assert isinstance(replayed, EspaceSante)
        assert _state(replayed) == _state(self.espace)


def _state(espace: EspaceSante) -> dict[str, Any]:
    return {k: v for k, v in vars(espace).items() if k != "_pending_events"}


LifecycleMachine.TestCase.settings = settings(
    max_examples=600,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_lifecycle_machine = LifecycleMachine.TestCase
