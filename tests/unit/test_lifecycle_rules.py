"""The lifecycle of an espace, rule by rule (LC-1 to LC-12).

Each test is given events (built through the aggregate's own commands, then
drained with ``collect_events()``), runs one command, and checks the events it
triggered or the ``RuleViolation`` (and the rule it names). No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from espace.domain import calendar
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.espace_state import (
    ACTIVATION_CODE_VALIDITY_DAYS,
    NO_FAILURES,
    Archive,
    ProvisionalCode,
    State,
)
from espace.domain.identifiers import NIA_OID, Ins

PARIS = ZoneInfo("Europe/Paris")
VITALE = "vitale-digest-A"
CODE = "code-digest-1"


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


def nir_with_key(first13: str) -> str:
    """A NIR with its ID-1 key: 97 - (first 13 digits mod 97), 2A→19, 2B→18."""
    number = int(first13.replace("2A", "19").replace("2B", "18"))
    return f"{first13}{97 - number % 97:02d}"


ADULT = Ins.create(
    nir="295109912611193",
    birth_name="MARTIN",
    first_names="Claire",
    birth_date=date(1995, 10, 3),
    sex="F",
    birthplace_code="99126",
)
LEAP_MINOR = Ins.create(  # born on 29 February 2008 in Paris
    nir=nir_with_key("1080275056123"),
    birth_name="PETIT",
    first_names="Hugo",
    birth_date=date(2008, 2, 29),
    sex="M",
    birthplace_code="75056",
)
AFFILIATED_AT = paris(2025, 2, 1, 9)
SENT_AT = paris(2025, 3, 3, 10)  # a Monday, CET; day 42 is in CEST
LATER = paris(2025, 6, 2, 9)
PARENT = {"name": "PETIT Anne", "role": "parent", "email": "anne@example.org"}


# ------------------------------------------------------------------ builders


def affiliated(
    at: datetime = AFFILIATED_AT,
    *,
    ins: Ins = ADULT,
    email: str | None = "claire@example.org",
    postal_address: str | None = None,
    representative: dict[str, str] | None = None,
    legacy_dmp_ref: str | None = None,
) -> EspaceSante:
    espace = EspaceSante.affiliate(
        espace_id=uuid4(),
        ins=ins,
        vitale_digest=VITALE,
        at=at,
        email=email,
        postal_address=postal_address,
        representative=representative,
        legacy_dmp_ref=legacy_dmp_ref,
    )
    espace.collect_events()
    return espace


def notified(sent_at: datetime = SENT_AT, **kw: Any) -> EspaceSante:
    espace = affiliated(sent_at - timedelta(hours=1), **kw)
    espace.send_notice(at=sent_at, code_digest=CODE, code_salt="salt-1")
    espace.collect_events()
    return espace


def opened(sent_at: datetime = SENT_AT, **kw: Any) -> EspaceSante:
    espace = notified(sent_at, **kw)
    assert espace.opposition_deadline is not None
    espace.open_automatically(at=espace.opposition_deadline)
    espace.collect_events()
    return espace


def activate(
    espace: EspaceSante,
    at: datetime,
    *,
    code: str = CODE,
    nir: str = ADULT.nir,
    birth_date: date = ADULT.birth_date,
    vitale: str = VITALE,
    by: str = "holder",
) -> bool:
    return espace.attempt_activation(
        at=at,
        code_digest=code,
        nir=nir,
        birth_date=birth_date,
        vitale_digest=vitale,
        by=by,
    )


def active(sent_at: datetime = SENT_AT, **kw: Any) -> EspaceSante:
    espace = notified(sent_at, **kw)
    assert activate(espace, sent_at + timedelta(days=1))
    espace.collect_events()
    return espace


def suspended(at: datetime = LATER, informed_at: datetime | None = None) -> EspaceSante:
    espace = active()
    espace.suspend(at=at, reason="fraud suspected", informed_at=informed_at or at)
    espace.collect_events()
    return espace


def closed(at: datetime = LATER, **kw: Any) -> EspaceSante:
    espace = active(**kw)
    espace.close(at=at)
    espace.collect_events()
    return espace


def names(events: Any) -> list[str]:
    return [type(e).__name__ for e in events]


def refused(rule: str, command: Callable[[], object], espace: EspaceSante) -> None:
    """The command raises a RuleViolation naming ``rule`` and triggers nothing."""
    version = espace.version
    with pytest.raises(RuleViolation) as info:
        command()
    assert info.value.rule == rule, info.value.message
    assert espace.collect_events() == []
    assert espace.version == version


# ---------------------------------------------------------------------- LC-1


def test_affiliation_from_the_feed_creates_an_espace_awaiting_its_notice_lc_1() -> None:
    at = paris(2025, 2, 1, 9)
    espace = EspaceSante.affiliate(
        espace_id=uuid4(), ins=ADULT, vitale_digest=VITALE, at=at, email="c@x.org"
    )
    events = espace.collect_events()
    assert names(events) == ["Affiliated"]
    event = events[0]
    assert isinstance(event, EspaceSante.Affiliated)
    assert event.nir == ADULT.nir
    assert espace.state is State.AFFILIATED
    assert espace.ins == ADULT
    assert espace.created_on == at


def test_affiliation_without_email_or_postal_address_is_refused_lc_1() -> None:
    with pytest.raises(RuleViolation) as info:
        EspaceSante.affiliate(
            espace_id=uuid4(), ins=ADULT, vitale_digest=VITALE, at=paris(2025, 2, 1)
        )
    assert info.value.rule == "LC-1"


def test_affiliation_with_a_birth_date_after_the_affiliation_day_is_refused_lc_1() -> (
    None
):
    with pytest.raises(RuleViolation) as info:
        EspaceSante.affiliate(
            espace_id=uuid4(),
            ins=ADULT,
            vitale_digest=VITALE,
            at=paris(1995, 10, 2, 23, 59, 59),
            email="c@x.org",
            representative=PARENT,
        )
    assert info.value.rule == "LC-1"


def test_notice_sent_by_email_when_an_address_is_known_starts_the_window_lc_1() -> None:
    espace = affiliated()
    sent = paris(2025, 3, 3, 10)
    espace.send_notice(at=sent, code_digest=CODE, code_salt="s")
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.NoticeSent
    assert (event.channel, event.recipient) == ("email", "holder")
    assert espace.state is State.NOTIFIED
    assert espace.notice_sent_at == sent
    assert espace.code_digest == CODE


def test_notice_goes_by_post_when_no_email_is_known_lc_1() -> None:
    espace = affiliated(email=None, postal_address="1 rue de la Paix, 75002 Paris")
    espace.send_notice(at=paris(2025, 3, 3), code_digest=CODE, code_salt="s")
    [event] = espace.collect_events()
    assert isinstance(event, EspaceSante.NoticeSent)
    assert event.channel == "post"


def test_notice_of_a_minor_goes_to_the_legal_representative_lc_1_lc_12() -> None:
    espace = affiliated(
        paris(2015, 6, 1), ins=LEAP_MINOR, email=None, representative=PARENT
    )
    espace.send_notice(at=paris(2015, 6, 2), code_digest=CODE, code_salt="s")
    [event] = espace.collect_events()
    assert isinstance(event, EspaceSante.NoticeSent)
    assert (event.channel, event.recipient) == ("email", "representative")


def test_notice_cannot_be_sent_twice_lc_1() -> None:
    espace = notified()
    refused(
        "LC-1",
        lambda: espace.send_notice(
            at=paris(2025, 3, 4), code_digest="x", code_salt="s"
        ),
        espace,
    )


@pytest.mark.parametrize(
    "command",
    [
        lambda e, at: e.declare_opposition(at=at, channel="web", receipt="R"),
        lambda e, at: activate(e, at),
        lambda e, at: e.reissue_code(at=at, code_digest="c2", code_salt="s"),
        lambda e, at: e.declare_death(at=at, date_of_death=date(2025, 1, 1)),
    ],
    ids=["oppose", "activate", "reissue", "death"],
)
def test_a_command_dated_before_the_last_event_is_refused_lc_1(
    command: Callable[[EspaceSante, datetime], object],
) -> None:
    espace = notified(paris(2025, 3, 3, 10))
    refused("LC-1", lambda: command(espace, paris(2025, 3, 3, 9, 59, 59)), espace)


def test_a_command_dated_exactly_at_the_last_event_is_accepted_lc_1() -> None:
    espace = notified(paris(2025, 3, 3, 10))
    espace.declare_opposition(at=paris(2025, 3, 3, 10), channel="web", receipt="R")
    assert names(espace.collect_events()) == ["OppositionDeclared"]


NAIVE = datetime(2025, 3, 10, 12, 0)


@pytest.mark.parametrize(
    "command",
    [
        lambda e: e.send_notice(at=NAIVE, code_digest="c", code_salt="s"),
        lambda e: e.declare_opposition(at=NAIVE, channel="web", receipt="R"),
        lambda e: e.close(at=NAIVE),
        lambda e: e.suspend(at=NAIVE, reason="fraud", informed_at=NAIVE),
    ],
    ids=["notice", "oppose", "close", "suspend"],
)
def test_naive_datetimes_are_refused_lc_2(
    command: Callable[[EspaceSante], object],
) -> None:
    espace = affiliated()
    refused("LC-2", lambda: command(espace), espace)


def test_affiliation_at_a_naive_datetime_is_refused_lc_2() -> None:
    with pytest.raises(RuleViolation) as info:
        EspaceSante.affiliate(
            espace_id=uuid4(), ins=ADULT, vitale_digest=VITALE, at=NAIVE, email="x@y.z"
        )
    assert info.value.rule == "LC-2"


def test_suspension_informed_at_a_naive_datetime_is_refused_lc_2() -> None:
    espace = active()
    at = paris(2025, 6, 2)
    refused(
        "LC-2",
        lambda: espace.suspend(at=at, reason="fraud", informed_at=NAIVE),
        espace,
    )


# ---------------------------------------------------------------------- LC-2


def test_window_of_a_winter_notice_ends_at_midnight_paris_after_day_42_lc_2() -> None:
    espace = notified(paris(2025, 1, 6, 15))  # Monday; day 42 is Monday 17 Feb
    assert espace.opposition_deadline == paris(2025, 2, 18)
    assert espace.opposition_deadline == datetime(2025, 2, 17, 23, tzinfo=UTC)


def test_window_spanning_the_spring_dst_change_ends_at_midnight_cest_lc_2() -> None:
    # Sent on Monday 3 March (CET); the clocks go forward on Sunday 30 March;
    # day 42 is Monday 14 April (CEST), so the window ends at 22:00 UTC.
    espace = notified(paris(2025, 3, 3, 10))
    assert espace.opposition_deadline == datetime(2025, 4, 14, 22, tzinfo=UTC)


def test_window_spanning_the_autumn_dst_change_ends_at_midnight_cet_lc_2() -> None:
    # Sent on Monday 22 September (CEST); clocks go back on 26 October.
    espace = notified(paris(2025, 9, 22, 10))
    assert espace.opposition_deadline == datetime(2025, 11, 3, 23, tzinfo=UTC)


def test_window_counts_days_from_the_paris_date_of_sending_not_utc_lc_2() -> None:
    # 23:30 UTC on Sunday 2 March is already Monday 3 March in Paris.
    espace = notified(datetime(2025, 3, 2, 23, 30, tzinfo=UTC))
    assert espace.opposition_deadline == paris(2025, 4, 15)


def test_a_window_ending_on_a_weekend_runs_on_only_if_configured_lc_2() -> None:
    def weekend(day: date) -> bool:
        return day.weekday() >= 5

    sent = paris(2025, 3, 1, 10)  # Saturday: day 42 is Saturday 12 April
    plain = notified(sent)
    assert plain.opposition_deadline == paris(2025, 4, 13)
    extended = affiliated(sent - timedelta(hours=1))
    extended.send_notice(
        at=sent, code_digest=CODE, code_salt="s", non_working_day=weekend
    )
    assert extended.opposition_deadline == paris(2025, 4, 15)  # end of Monday 14


# ---------------------------------------------------------------------- LC-3


def test_opposition_at_235959_paris_on_day_42_across_dst_is_accepted_lc_3() -> None:
    espace = notified(paris(2025, 3, 3, 10))
    espace.declare_opposition(
        at=paris(2025, 4, 14, 23, 59, 59), channel="phone", receipt="OPP-1"
    )
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.OppositionDeclared
    assert (event.channel, event.receipt) == ("phone", "OPP-1")
    assert espace.state is State.OPPOSED
    assert espace.opposition_receipt == "OPP-1"
    assert espace.code_digest is None


def test_opposition_at_0000_paris_on_day_43_across_dst_is_refused_lc_3() -> None:
    espace = notified(paris(2025, 3, 3, 10))
    refused(
        "LC-3",
        lambda: espace.declare_opposition(
            at=paris(2025, 4, 15), channel="web", receipt="R"
        ),
        espace,
    )
    assert espace.state is State.NOTIFIED


def test_opposition_one_hour_before_midnight_utc_plus_two_is_still_day_42_lc_3() -> (
    None
):
    # 21:30 UTC on 14 April is 23:30 CEST: a UTC+1 reckoning would refuse it.
    espace = notified(paris(2025, 3, 3, 10))
    at = datetime(2025, 4, 14, 21, 30, tzinfo=UTC)
    espace.declare_opposition(at=at, channel="web", receipt="R")
    assert espace.state is State.OPPOSED


def test_opposition_before_the_notice_is_sent_is_accepted_lc_3_lc_12() -> None:
    espace = affiliated()
    espace.declare_opposition(at=paris(2025, 2, 2), channel="post", receipt="R")
    assert names(espace.collect_events()) == ["OppositionDeclared"]


def test_opposition_after_the_espace_opened_is_refused_lc_3() -> None:
    espace = opened()
    refused(
        "LC-3",
        lambda: espace.declare_opposition(
            at=paris(2025, 4, 20), channel="web", receipt="R"
        ),
        espace,
    )


def test_a_second_opposition_is_refused_lc_3() -> None:
    espace = notified()
    espace.declare_opposition(at=paris(2025, 3, 4), channel="web", receipt="R1")
    espace.collect_events()
    refused(
        "LC-3",
        lambda: espace.declare_opposition(
            at=paris(2025, 3, 5), channel="web", receipt="R2"
        ),
        espace,
    )


def test_an_opposed_espace_never_opens_lc_3() -> None:
    espace = notified()
    espace.declare_opposition(at=paris(2025, 3, 4), channel="web", receipt="R")
    espace.collect_events()
    refused("LC-4", lambda: espace.open_automatically(at=paris(2025, 5, 1)), espace)
    refused("LC-5", lambda: activate(espace, paris(2025, 5, 1)), espace)
    assert espace.opened_at is None


# ---------------------------------------------------------------------- LC-4


def test_automatic_opening_at_235959_on_day_42_is_refused_lc_4() -> None:
    espace = notified(paris(2025, 3, 3, 10))
    refused(
        "LC-4",
        lambda: espace.open_automatically(at=paris(2025, 4, 14, 23, 59, 59)),
        espace,
    )


def test_automatic_opening_at_the_deadline_opens_the_espace_unactivated_lc_4() -> None:
    espace = notified(paris(2025, 3, 3, 10))
    espace.open_automatically(at=paris(2025, 4, 15))
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.Opened
    assert event.automatic is True
    assert espace.state is State.OPEN
    assert espace.opened_at == paris(2025, 4, 15)
    assert espace.activated_at is None  # invisible to the holder


def test_automatic_opening_long_after_the_deadline_still_opens_lc_4() -> None:
    espace = notified(paris(2025, 3, 3, 10))
    espace.open_automatically(at=paris(2026, 1, 1))
    assert names(espace.collect_events()) == ["Opened"]


@pytest.mark.parametrize("builder", [affiliated, opened, active])
def test_automatic_opening_of_an_espace_that_is_not_notified_is_refused_lc_4(
    builder: Callable[[], EspaceSante],
) -> None:
    espace = builder()
    refused("LC-4", lambda: espace.open_automatically(at=paris(2026, 1, 1)), espace)


# ---------------------------------------------------------------------- LC-5


def test_activation_inside_the_window_opens_at_once_lc_5() -> None:
    espace = notified(paris(2025, 3, 3, 10))
    at = paris(2025, 3, 10, 18)
    assert activate(espace, at) is True
    events = espace.collect_events()
    assert names(events) == ["Opened", "Activated"]
    opened_event, activated = events
    assert isinstance(opened_event, EspaceSante.Opened)
    assert isinstance(activated, EspaceSante.Activated)
    assert opened_event.automatic is False
    assert activated.by == "holder"
    assert espace.state is State.ACTIVE
    assert espace.opened_at == espace.activated_at == at
    assert espace.code_digest is None  # the code is spent


def test_activation_of_an_automatically_opened_espace_activates_it_lc_5() -> None:
    espace = opened()
    assert activate(espace, paris(2025, 5, 1))
    assert names(espace.collect_events()) == ["Activated"]
    assert espace.state is State.ACTIVE


def test_activation_after_the_window_before_any_scheduler_run_opens_it_lc_5() -> None:
    espace = notified(paris(2025, 3, 3, 10))
    assert activate(espace, paris(2025, 5, 1))
    assert names(espace.collect_events()) == ["Opened", "Activated"]


WRONG_FACTORS: dict[str, dict[str, Any]] = {
    "code": {"code": "code-digest-other"},
    "nir": {"nir": "253072B07300470"},
    "birth_date": {"birth_date": date(1995, 10, 4)},
    "vitale": {"vitale": "vitale-digest-B"},
}


@pytest.mark.parametrize("factor", sorted(WRONG_FACTORS))
def test_activation_with_one_wrong_factor_fails_and_is_counted_lc_5(
    factor: str,
) -> None:
    espace = notified()
    at = paris(2025, 3, 5)
    assert activate(espace, at, **WRONG_FACTORS[factor]) is False
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.ActivationFailed
    assert (event.failures, event.locked_until) == (1, None)
    assert espace.state is State.NOTIFIED
    assert espace.activation_failures == 1


def test_a_failed_activation_does_not_reveal_which_factor_was_wrong_lc_5() -> None:
    recorded = set()
    for factor in WRONG_FACTORS.values():
        espace = notified()
        activate(espace, paris(2025, 3, 5), **factor)
        [event] = espace.collect_events()
        private = {"originator_id", "originator_version", "timestamp"}
        recorded.add(
            tuple(sorted((k, v) for k, v in vars(event).items() if k not in private))
        )
    assert len(recorded) == 1
    [fields] = recorded
    assert {k for k, _ in fields} == {"failures", "locked_until"}


def test_five_failures_lock_activation_for_thirty_minutes_lc_5() -> None:
    espace = notified()
    start = paris(2025, 3, 5, 12)
    for i in range(1, 5):
        assert not activate(espace, start + timedelta(minutes=i), code="bad")
        assert espace.activation_failures == i
        assert espace.activation_locked_until is None
    fifth = start + timedelta(minutes=5)
    assert not activate(espace, fifth, code="bad")
    events = espace.collect_events()
    assert names(events) == ["ActivationFailed"] * 5
    failed = [e for e in events if isinstance(e, EspaceSante.ActivationFailed)]
    assert [e.failures for e in failed] == [1, 2, 3, 4, 5]
    assert failed[-1].locked_until == fifth + timedelta(minutes=30)
    assert espace.activation_locked_until == fifth + timedelta(minutes=30)


def _locked(at: datetime) -> EspaceSante:
    espace = notified()
    for i in range(5):
        activate(espace, at + timedelta(seconds=i), vitale="wrong")
    espace.collect_events()
    assert espace.activation_locked_until is not None
    return espace


def test_activation_with_the_right_factors_is_refused_while_locked_lc_5() -> None:
    espace = _locked(paris(2025, 3, 5, 12))
    until = espace.activation_locked_until
    assert until is not None
    refused("LC-5", lambda: activate(espace, until - timedelta(seconds=1)), espace)
    assert espace.state is State.NOTIFIED


def test_activation_unlocks_thirty_minutes_after_the_fifth_failure_lc_5() -> None:
    espace = _locked(paris(2025, 3, 5, 12))
    until = espace.activation_locked_until
    assert until is not None
    assert activate(espace, until)
    assert names(espace.collect_events()) == ["Opened", "Activated"]
    assert espace.activation_failures == 0
    assert espace.activation_locked_until is None


def test_a_failure_after_the_lock_expires_counts_from_one_again_lc_5() -> None:
    espace = _locked(paris(2025, 3, 5, 12))
    until = espace.activation_locked_until
    assert until is not None
    assert not activate(espace, until + timedelta(minutes=1), code="bad")
    [event] = espace.collect_events()
    assert isinstance(event, EspaceSante.ActivationFailed)
    assert (event.failures, event.locked_until) == (1, None)


def test_the_lock_lasts_thirty_real_minutes_across_the_autumn_dst_change_lc_5() -> None:
    # 02:45 CEST (first pass, fold=0) on 27 October 2024 is 00:45 UTC.
    at = datetime(2024, 10, 27, 2, 45, tzinfo=PARIS)
    espace = affiliated(at - timedelta(days=2))
    espace.send_notice(at=at - timedelta(days=1), code_digest=CODE, code_salt="s")
    for _ in range(5):
        activate(espace, at, code="bad")
    assert espace.activation_locked_until == datetime(2024, 10, 27, 1, 15, tzinfo=UTC)


def test_a_reissued_code_voids_the_old_one_lc_5() -> None:
    espace = notified()
    espace.reissue_code(at=paris(2025, 3, 5), code_digest="code-2", code_salt="s2")
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.CodeReissued
    assert not activate(espace, paris(2025, 3, 6), code=CODE)
    assert activate(espace, paris(2025, 3, 6, 1), code="code-2")
    assert names(espace.collect_events()) == ["ActivationFailed", "Opened", "Activated"]


def test_a_reissued_code_resets_failures_and_lifts_the_lock_lc_5() -> None:
    espace = _locked(paris(2025, 3, 5, 12))
    espace.reissue_code(
        at=paris(2025, 3, 5, 12, 1), code_digest="code-2", code_salt="s"
    )
    assert espace.activation_failures == 0
    assert espace.activation_locked_until is None
    assert activate(espace, paris(2025, 3, 5, 12, 2), code="code-2")


def test_a_code_is_valid_until_the_end_of_its_ninetieth_day_lc_5() -> None:
    espace = notified(paris(2025, 3, 3, 10))
    assert espace.code_expires_at == paris(2025, 6, 2)  # end of 1 June
    assert activate(espace, paris(2025, 6, 1, 23, 59, 59))


def test_an_expired_code_is_refused_without_counting_a_failure_lc_5() -> None:
    espace = notified(paris(2025, 3, 3, 10))
    refused("LC-5", lambda: activate(espace, paris(2025, 6, 2)), espace)
    assert espace.activation_failures == 0


def test_a_new_code_after_expiry_activates_lc_5() -> None:
    espace = opened(paris(2025, 3, 3, 10))
    espace.reissue_code(at=paris(2025, 7, 1), code_digest="code-2", code_salt="s")
    assert activate(espace, paris(2025, 7, 2), code="code-2")


@pytest.mark.parametrize("builder", [affiliated, active, closed])
def test_no_code_is_issued_for_an_espace_not_awaiting_activation_lc_5(
    builder: Callable[[], EspaceSante],
) -> None:
    espace = builder()
    refused(
        "LC-5",
        lambda: espace.reissue_code(
            at=paris(2026, 1, 1), code_digest="c", code_salt="s"
        ),
        espace,
    )


@pytest.mark.parametrize("builder", [affiliated, active, closed, suspended])
def test_activation_of_an_espace_not_awaiting_it_is_refused_lc_5(
    builder: Callable[[], EspaceSante],
) -> None:
    espace = builder()
    refused("LC-5", lambda: activate(espace, paris(2026, 1, 1)), espace)


def test_activation_by_the_representative_of_nobody_is_refused_lc_12() -> None:
    espace = notified()
    refused(
        "LC-12",
        lambda: activate(espace, paris(2025, 3, 5), by="representative"),
        espace,
    )


# ---------------------------------------------------------------------- LC-6


def test_a_legacy_dmp_is_merged_when_the_espace_opens_automatically_lc_6() -> None:
    espace = notified(legacy_dmp_ref="DMP-42")
    assert espace.opposition_deadline is not None
    espace.open_automatically(at=espace.opposition_deadline)
    events = espace.collect_events()
    assert names(events) == ["Opened", "LegacyDmpMerged"]
    merged = events[1]
    assert isinstance(merged, EspaceSante.LegacyDmpMerged)
    assert merged.legacy_dmp_ref == "DMP-42"
    assert espace.legacy_dmp_merged is True


def test_a_legacy_dmp_is_merged_when_activation_opens_the_espace_lc_6() -> None:
    espace = notified(legacy_dmp_ref="DMP-42")
    assert activate(espace, paris(2025, 3, 5))
    assert names(espace.collect_events()) == ["Opened", "LegacyDmpMerged", "Activated"]


def test_no_merge_happens_without_a_legacy_dmp_lc_6() -> None:
    espace = notified()
    assert activate(espace, paris(2025, 3, 5))
    assert "LegacyDmpMerged" not in names(espace.collect_events())
    assert espace.legacy_dmp_merged is False


def test_a_legacy_dmp_is_not_merged_into_an_espace_reopened_after_opposition_lc_6() -> (
    None
):
    espace = notified(legacy_dmp_ref="DMP-42")
    espace.declare_opposition(at=paris(2025, 3, 5), channel="web", receipt="R")
    espace.collect_events()
    espace.reopen(at=paris(2026, 1, 5), code_digest="code-2", code_salt="s")
    assert names(espace.collect_events()) == ["Reopened"]
    assert espace.legacy_dmp_merged is False


def test_a_legacy_dmp_is_merged_only_once_across_a_reopening_lc_6() -> None:
    espace = notified(legacy_dmp_ref="DMP-42")
    activate(espace, paris(2025, 3, 5))
    espace.close(at=paris(2025, 6, 1))
    espace.collect_events()
    espace.reopen(at=paris(2025, 7, 1), code_digest="code-2", code_salt="s")
    assert names(espace.collect_events()) == ["Reopened"]


# ---------------------------------------------------------------------- LC-7


@pytest.mark.parametrize("builder", [opened, active, suspended])
def test_the_holder_may_close_an_open_active_or_suspended_espace_lc_7(
    builder: Callable[[], EspaceSante],
) -> None:
    espace = builder()
    at = paris(2025, 7, 1, 10)
    espace.close(at=at)
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.Closed
    assert event.reason == "holder"
    assert espace.state is State.CLOSED
    assert espace.closed_at == at
    assert espace.suspension_closes_at is None
    assert espace.code_digest is None  # nothing left to activate


@pytest.mark.parametrize("builder", [affiliated, notified, closed])
def test_closing_an_espace_that_is_not_open_is_refused_lc_7(
    builder: Callable[[], EspaceSante],
) -> None:
    espace = builder()
    refused("LC-7", lambda: espace.close(at=paris(2026, 1, 1)), espace)


def test_closing_an_opposed_espace_is_refused_lc_7() -> None:
    espace = notified()
    espace.declare_opposition(at=paris(2025, 3, 5), channel="web", receipt="R")
    espace.collect_events()
    refused("LC-7", lambda: espace.close(at=paris(2025, 3, 6)), espace)


@pytest.mark.parametrize("builder", [notified, opened, active, suspended])
def test_death_closes_the_espace_lc_7(builder: Callable[[], EspaceSante]) -> None:
    espace = builder()
    at = paris(2025, 8, 1, 10)
    espace.declare_death(at=at, date_of_death=date(2025, 7, 30))
    events = espace.collect_events()
    assert names(events) == ["DeathDeclared", "Closed"]
    closure = events[1]
    assert isinstance(closure, EspaceSante.Closed)
    assert closure.reason == "death"
    assert espace.state is State.CLOSED
    assert espace.date_of_death == date(2025, 7, 30)


def test_death_of_a_holder_whose_espace_is_closed_is_recorded_only_lc_7() -> None:
    espace = closed()
    espace.declare_death(at=paris(2025, 8, 1), date_of_death=date(2025, 7, 30))
    assert names(espace.collect_events()) == ["DeathDeclared"]
    assert espace.closure_reason == "holder"


def test_death_declared_twice_is_refused_lc_7() -> None:
    espace = active()
    espace.declare_death(at=paris(2025, 8, 1), date_of_death=date(2025, 7, 30))
    espace.collect_events()
    refused(
        "LC-7",
        lambda: espace.declare_death(
            at=paris(2025, 8, 2), date_of_death=date(2025, 7, 30)
        ),
        espace,
    )


def test_a_date_of_death_in_the_future_or_before_birth_is_refused_lc_7() -> None:
    espace = active()
    refused(
        "LC-7",
        lambda: espace.declare_death(
            at=paris(2025, 8, 1), date_of_death=date(2025, 8, 2)
        ),
        espace,
    )
    refused(
        "LC-7",
        lambda: espace.declare_death(
            at=paris(2025, 8, 1), date_of_death=date(1995, 10, 2)
        ),
        espace,
    )


def test_death_forbids_reopening_and_erasure_requests_lc_7_lc_11() -> None:
    espace = active()
    espace.declare_death(at=paris(2025, 8, 1), date_of_death=date(2025, 7, 30))
    espace.collect_events()
    refused(
        "LC-11",
        lambda: espace.reopen(at=paris(2025, 9, 1), code_digest="c", code_salt="s"),
        espace,
    )
    refused("LC-11", lambda: espace.request_erasure(at=paris(2025, 9, 1)), espace)


def test_suspension_closes_six_weeks_after_the_holder_is_informed_lc_7() -> None:
    espace = active()
    at = paris(2025, 3, 10, 9)
    informed = paris(2025, 3, 12, 16)  # day 42 is Wednesday 23 April (CEST)
    espace.suspend(at=at, reason="fraud suspected", informed_at=informed)
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.Suspended
    assert event.closes_at == paris(2025, 4, 24)
    assert event.informed_at == informed
    assert espace.state is State.SUSPENDED
    assert espace.suspension_reason == "fraud suspected"


def test_objection_at_235959_on_day_42_lifts_the_suspension_lc_7() -> None:
    espace = suspended(paris(2025, 3, 10, 9), informed_at=paris(2025, 3, 12, 16))
    espace.object_to_suspension(at=paris(2025, 4, 23, 23, 59, 59))
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.SuspensionEnded
    assert event.by == "holder"
    assert espace.state is State.ACTIVE
    assert espace.suspension_closes_at is None


def test_objection_at_0000_on_day_43_is_refused_lc_7() -> None:
    espace = suspended(paris(2025, 3, 10, 9), informed_at=paris(2025, 3, 12, 16))
    refused("LC-7", lambda: espace.object_to_suspension(at=paris(2025, 4, 24)), espace)


def test_closing_after_suspension_before_the_deadline_is_refused_lc_7() -> None:
    espace = suspended(paris(2025, 3, 10, 9), informed_at=paris(2025, 3, 12, 16))
    refused(
        "LC-7",
        lambda: espace.close_after_suspension(at=paris(2025, 4, 23, 23, 59, 59)),
        espace,
    )


def test_a_suspension_without_objection_closes_at_its_deadline_lc_7() -> None:
    espace = suspended(paris(2025, 3, 10, 9), informed_at=paris(2025, 3, 12, 16))
    espace.close_after_suspension(at=paris(2025, 4, 24))
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.Closed
    assert event.reason == "suspension"
    assert espace.state is State.CLOSED


def test_the_insurer_may_lift_a_suspension_even_after_the_objection_period_lc_7() -> (
    None
):
    espace = suspended(paris(2025, 3, 10, 9))
    espace.lift_suspension(at=paris(2025, 6, 1))
    [event] = espace.collect_events()
    assert isinstance(event, EspaceSante.SuspensionEnded)
    assert event.by == "insurer"
    assert espace.state is State.ACTIVE


def test_a_suspension_of_an_unactivated_espace_resumes_to_open_lc_7() -> None:
    espace = opened()
    espace.suspend(
        at=paris(2025, 5, 1), reason="malfunction", informed_at=paris(2025, 5, 1)
    )
    espace.lift_suspension(at=paris(2025, 5, 2))
    assert espace.state is State.OPEN


def test_suspending_an_espace_that_is_not_open_is_refused_lc_7() -> None:
    for espace in (notified(), suspended(), closed()):
        at = paris(2026, 1, 1)
        refused(
            "LC-7",
            partial(espace.suspend, at=at, reason="fraud", informed_at=at),
            espace,
        )


def test_a_suspension_needs_a_reason_and_cannot_inform_before_it_starts_lc_7() -> None:
    espace = active()
    at = paris(2025, 6, 1, 12)
    refused("LC-7", lambda: espace.suspend(at=at, reason="  ", informed_at=at), espace)
    refused(
        "LC-7",
        lambda: espace.suspend(
            at=at, reason="fraud", informed_at=at - timedelta(seconds=1)
        ),
        espace,
    )


@pytest.mark.parametrize(
    "command",
    [
        lambda e, at: e.object_to_suspension(at=at),
        lambda e, at: e.lift_suspension(at=at),
        lambda e, at: e.close_after_suspension(at=at),
    ],
    ids=["object", "lift", "close-after"],
)
def test_suspension_commands_on_an_espace_that_is_not_suspended_are_refused_lc_7(
    command: Callable[[EspaceSante, datetime], object],
) -> None:
    espace = active()
    refused("LC-7", lambda: command(espace, paris(2026, 1, 1)), espace)


def test_closing_a_suspended_espace_clears_the_whole_suspension_lc_7() -> None:
    espace = suspended()
    espace.close(at=paris(2025, 6, 3))
    assert (espace.suspended_at, espace.suspension_closes_at) == (None, None)
    assert espace.suspension_reason is None


# ---------------------------------------------------------------------- LC-8


def test_closure_archives_the_content_for_ten_years_from_the_closure_date_lc_8() -> (
    None
):
    espace = closed(paris(2025, 3, 15, 14))
    assert espace.archive_until == paris(2035, 3, 16)  # end of 15 March 2035


def test_closure_on_29_february_archives_until_the_end_of_28_february_lc_8() -> None:
    espace = active(paris(2024, 1, 8, 10))
    espace.close(at=paris(2024, 2, 29, 12))
    assert espace.archive_until == paris(2034, 3, 1)


def test_erasure_before_the_end_of_the_archive_is_refused_lc_8() -> None:
    espace = closed(paris(2025, 3, 15, 14))
    refused("LC-8", lambda: espace.erase(at=paris(2035, 3, 15, 23, 59, 59)), espace)


def test_erasure_at_the_end_of_the_archive_is_accepted_lc_8() -> None:
    espace = closed(paris(2025, 3, 15, 14))
    espace.erase(at=paris(2035, 3, 16))
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.Erased
    assert event.reason == "archive-expired"
    assert espace.state is State.ERASED


@pytest.mark.parametrize("builder", [notified, opened, active, suspended])
def test_erasing_an_espace_that_is_not_closed_is_refused_lc_8(
    builder: Callable[[], EspaceSante],
) -> None:
    espace = builder()
    refused("LC-8", lambda: espace.erase(at=paris(2040, 1, 1)), espace)


def test_the_archive_of_a_deceased_holder_is_kept_ten_years_lc_8_lc_11() -> None:
    espace = active()
    espace.declare_death(at=paris(2025, 8, 1, 10), date_of_death=date(2025, 7, 30))
    espace.collect_events()
    assert espace.archive_until == paris(2035, 8, 2)
    refused("LC-8", lambda: espace.erase(at=paris(2030, 1, 1)), espace)


ALL_COMMANDS: dict[str, Callable[[EspaceSante, datetime], object]] = {
    "send_notice": lambda e, at: e.send_notice(at=at, code_digest="c", code_salt="s"),
    "oppose": lambda e, at: e.declare_opposition(at=at, channel="web", receipt="R"),
    "open": lambda e, at: e.open_automatically(at=at),
    "activate": lambda e, at: activate(e, at),
    "reissue": lambda e, at: e.reissue_code(at=at, code_digest="c", code_salt="s"),
    "close": lambda e, at: e.close(at=at),
    "death": lambda e, at: e.declare_death(at=at, date_of_death=date(2036, 1, 1)),
    "suspend": lambda e, at: e.suspend(at=at, reason="fraud", informed_at=at),
    "object": lambda e, at: e.object_to_suspension(at=at),
    "lift": lambda e, at: e.lift_suspension(at=at),
    "close_after_suspension": lambda e, at: e.close_after_suspension(at=at),
    "request_erasure": lambda e, at: e.request_erasure(at=at),
    "erase": lambda e, at: e.erase(at=at),
    "reopen": lambda e, at: e.reopen(at=at, code_digest="c", code_salt="s"),
    "end_representation": lambda e, at: e.end_representation(at=at),
}


@pytest.mark.parametrize("name", sorted(ALL_COMMANDS))
def test_an_erased_espace_refuses_every_command_lc_8(name: str) -> None:
    espace = closed(paris(2025, 3, 15, 14), representative=PARENT)
    espace.erase(at=paris(2035, 3, 16))
    espace.collect_events()
    refused("LC-8", lambda: ALL_COMMANDS[name](espace, paris(2036, 6, 1)), espace)


# ---------------------------------------------------------------------- LC-9


def test_erasure_request_on_an_open_espace_closes_it_due_in_3_months_lc_9() -> None:
    espace = active()
    at = paris(2025, 5, 20, 11)
    espace.request_erasure(at=at)
    events = espace.collect_events()
    assert names(events) == ["Closed", "ErasureRequested"]
    closure, requested = events
    assert isinstance(closure, EspaceSante.Closed)
    assert isinstance(requested, EspaceSante.ErasureRequested)
    assert closure.reason == "erasure"
    assert requested.due_by == paris(2025, 8, 21)  # end of 20 August
    assert espace.erasure_requested_at == at
    assert espace.state is State.CLOSED


def test_an_erasure_request_on_a_closed_espace_only_records_the_request_lc_9() -> None:
    espace = closed(paris(2025, 6, 2))
    espace.request_erasure(at=paris(2025, 6, 3))
    assert names(espace.collect_events()) == ["ErasureRequested"]


@pytest.mark.parametrize(
    ("requested", "due"),
    [
        (paris(2025, 11, 30, 10), paris(2026, 3, 1)),  # 30 Nov → end of 28 Feb
        (paris(2023, 11, 30, 10), paris(2024, 3, 1)),  # 30 Nov → end of 29 Feb
        (paris(2025, 5, 31, 10), paris(2025, 9, 1)),  # 31 May → end of 31 Aug
        (paris(2025, 3, 31, 10), paris(2025, 7, 1)),  # 31 Mar → end of 30 Jun
    ],
)
def test_the_erasure_deadline_clamps_to_the_end_of_a_shorter_month_lc_9(
    requested: datetime, due: datetime
) -> None:
    espace = active(paris(2023, 1, 9, 10))
    espace.request_erasure(at=requested)
    assert espace.erasure_due_by == due


def test_a_requested_erasure_may_be_carried_out_at_once_lc_9() -> None:
    espace = active()
    espace.request_erasure(at=paris(2025, 5, 20))
    espace.collect_events()
    espace.erase(at=paris(2025, 5, 21))
    [event] = espace.collect_events()
    assert isinstance(event, EspaceSante.Erased)
    assert event.reason == "holder-request"
    assert espace.state is State.ERASED


def test_a_second_erasure_request_is_refused_lc_9() -> None:
    espace = closed()
    espace.request_erasure(at=paris(2025, 6, 3))
    espace.collect_events()
    refused("LC-9", lambda: espace.request_erasure(at=paris(2025, 6, 4)), espace)


@pytest.mark.parametrize("builder", [affiliated, notified])
def test_an_erasure_request_before_anything_opened_is_refused_lc_9(
    builder: Callable[[], EspaceSante],
) -> None:
    espace = builder()
    refused("LC-9", lambda: espace.request_erasure(at=paris(2025, 3, 4)), espace)


def test_an_erasure_request_of_an_opposed_espace_is_refused_lc_9() -> None:
    espace = notified()
    espace.declare_opposition(at=paris(2025, 3, 4), channel="web", receipt="R")
    espace.collect_events()
    refused("LC-9", lambda: espace.request_erasure(at=paris(2025, 3, 5)), espace)


# --------------------------------------------------------------------- LC-10


def test_reopening_a_closed_espace_brings_content_back_with_a_new_code_lc_10() -> None:
    espace = closed(paris(2025, 6, 2), legacy_dmp_ref="DMP-42")
    espace_id = espace.id
    at = paris(2027, 1, 4, 10)
    espace.reopen(at=at, code_digest="code-2", code_salt="s2")
    [event] = espace.collect_events()
    assert type(event) is EspaceSante.Reopened
    assert espace.id == espace_id
    assert espace.state is State.OPEN
    assert (espace.closed_at, espace.archive_until) == (None, None)
    assert espace.legacy_dmp_merged is True  # the archived content is back
    assert espace.code_digest == "code-2"
    assert espace.code_expires_at == paris(2027, 4, 5)  # end of day 90
    assert not activate(espace, paris(2027, 1, 5), code=CODE)
    assert activate(espace, paris(2027, 1, 5, 1), code="code-2")


def test_an_opposed_person_may_ask_for_an_espace_later_lc_10() -> None:
    espace = notified()
    espace.declare_opposition(at=paris(2025, 3, 4), channel="web", receipt="R")
    espace.collect_events()
    espace.reopen(at=paris(2026, 3, 4), code_digest="code-2", code_salt="s")
    assert espace.state is State.OPEN


@pytest.mark.parametrize("builder", [affiliated, notified, opened, active, suspended])
def test_reopening_an_espace_that_is_not_closed_is_refused_lc_10(
    builder: Callable[[], EspaceSante],
) -> None:
    espace = builder()
    refused(
        "LC-10",
        lambda: espace.reopen(at=paris(2026, 1, 1), code_digest="c", code_salt="s"),
        espace,
    )


def test_reopening_after_an_erasure_request_is_refused_lc_10_lc_9() -> None:
    espace = active()
    espace.request_erasure(at=paris(2025, 5, 20))
    espace.collect_events()
    refused(
        "LC-9",
        lambda: espace.reopen(at=paris(2025, 5, 21), code_digest="c", code_salt="s"),
        espace,
    )


def test_a_reopened_espace_starts_with_no_activation_failures_lc_10_lc_5() -> None:
    espace = opened()
    for i in range(5):
        activate(espace, paris(2025, 5, 1, 12, i), code="bad")
    espace.close(at=paris(2025, 5, 1, 12, 10))
    espace.reopen(at=paris(2025, 5, 1, 12, 11), code_digest="code-2", code_salt="s")
    assert espace.activation_failures == 0
    assert espace.activation_locked_until is None


# --------------------------------------------------------------------- LC-11


def test_a_deceased_holders_espace_stays_archived_read_only_lc_11() -> None:
    espace = suspended()
    espace.declare_death(at=paris(2025, 8, 1), date_of_death=date(2025, 7, 30))
    espace.collect_events()
    assert espace.state is State.CLOSED
    assert espace.closure_reason == "death"
    refused("LC-7", lambda: espace.close(at=paris(2025, 8, 2)), espace)


# --------------------------------------------------------------------- LC-12


def test_a_minors_espace_without_a_representative_is_refused_lc_12() -> None:
    with pytest.raises(RuleViolation) as info:
        EspaceSante.affiliate(
            espace_id=uuid4(),
            ins=LEAP_MINOR,
            vitale_digest=VITALE,
            at=paris(2008, 3, 1),
            email="x@y.z",
        )
    assert info.value.rule == "LC-12"


def test_a_newborns_espace_is_created_with_the_declaring_parent_lc_12() -> None:
    espace = affiliated(paris(2008, 3, 1), ins=LEAP_MINOR, representative=PARENT)
    assert espace.representative == PARENT
    assert espace.is_minor_represented


def test_a_person_on_their_18th_birthday_needs_no_representative_lc_12() -> None:
    espace = affiliated(paris(2026, 3, 1), ins=LEAP_MINOR)
    assert espace.representative is None


def test_the_representative_may_activate_a_minors_espace_lc_12() -> None:
    espace = notified(paris(2015, 6, 1), ins=LEAP_MINOR, representative=PARENT)
    assert activate(
        espace,
        paris(2015, 6, 2),
        nir=LEAP_MINOR.nir,
        birth_date=LEAP_MINOR.birth_date,
        by="representative",
    )
    last = espace.collect_events()[-1]
    assert isinstance(last, EspaceSante.Activated)
    assert last.by == "representative"


def test_representation_cannot_end_before_the_18th_birthday_lc_12() -> None:
    # Born 29 February 2008: majority starts on 1 March 2026 (no 29 Feb in 2026).
    espace = notified(paris(2015, 6, 1), ins=LEAP_MINOR, representative=PARENT)
    refused(
        "LC-12",
        lambda: espace.end_representation(at=paris(2026, 2, 28, 23, 59, 59)),
        espace,
    )
    assert espace.representative == PARENT


def test_representation_ends_at_0000_on_1_march_for_a_29_february_birth_lc_12() -> None:
    espace = notified(paris(2015, 6, 1), ins=LEAP_MINOR, representative=PARENT)
    espace.end_representation(at=paris(2026, 3, 1))
    assert names(espace.collect_events()) == ["RepresentationEnded"]
    assert espace.representative is None
    assert espace.notice_recipient == "holder"


def test_ending_a_representation_that_does_not_exist_is_refused_lc_12() -> None:
    espace = active()
    refused("LC-12", lambda: espace.end_representation(at=paris(2026, 1, 1)), espace)


def test_an_nia_based_identity_is_kept_with_its_oid_lc_1() -> None:
    ins = Ins.create(
        nir=ADULT.nir,
        oid=NIA_OID,
        birth_name="MARTIN",
        first_names="Claire",
        birth_date=date(1995, 10, 3),
        sex="F",
        birthplace_code="99126",
    )
    espace = affiliated(ins=ins)
    assert espace.ins.oid == NIA_OID


# ------------------------------------------------------------ value objects
# What changes together is one value object, replaced whole (ADR-0026); the
# flat attributes read them.


def test_a_notice_issues_a_provisional_code_and_no_failures_lc_5() -> None:
    espace = notified()
    expires_at = calendar.days_after(SENT_AT, ACTIVATION_CODE_VALIDITY_DAYS)
    assert espace.code == ProvisionalCode(CODE, "salt-1", expires_at)
    assert (espace.code_digest, espace.code_salt) == (CODE, "salt-1")
    assert espace.code_expires_at == expires_at
    assert espace.failures is NO_FAILURES


def test_a_closure_replaces_the_suspension_and_the_code_with_an_archive_lc_7_lc_8() -> (
    None
):
    espace = suspended()
    suspension = espace.suspension
    assert suspension is not None
    assert suspension.resume_state is State.ACTIVE
    assert espace.suspended_at == LATER
    closes_at = suspension.closes_at
    espace.close_after_suspension(at=closes_at)
    assert (espace.suspension, espace.code) == (None, None)
    assert espace.archive == Archive(
        closes_at, "suspension", calendar.archive_deadline(closes_at)
    )
    assert (espace.closed_at, espace.closure_reason, espace.archive_until) == (
        closes_at,
        "suspension",
        espace.archive.until,
    )
    assert [espace.resume_state, espace.suspended_at, espace.suspension_reason] == [
        None,
        None,
        None,
    ]


def test_a_reopening_replaces_the_archive_the_failures_and_the_code_lc_10() -> None:
    espace = closed()
    espace.reopen(at=LATER + timedelta(days=1), code_digest="code-2", code_salt="s-2")
    assert espace.archive is None
    assert espace.closed_at is None
    assert espace.failures is NO_FAILURES
    assert espace.code is not None
    assert espace.code.digest == "code-2"


def test_the_flat_state_keeps_the_names_and_order_the_espace_always_had_lc_8() -> None:
    """The audit history shows these (ADR-0022): value objects spelled out."""
    espace = notified()
    assert list(espace.flat_state()) == FLAT_NAMES
    assert espace.flat_state()["code_salt"] == "salt-1"
    assert espace.flat_state()["suspension_closes_at"] is None


FLAT_NAMES = [
    "ins",
    "vitale_digest",
    "email",
    "postal_address",
    "representative",
    "legacy_dmp_ref",
    "state",
    "affiliated_at",
    "notice_sent_at",
    "notice_channel",
    "opposition_deadline",
    "opposed_at",
    "opposition_receipt",
    "ever_opposed",
    "opened_at",
    "activated_at",
    "activated_by",
    "legacy_dmp_merged",
    "code_digest",
    "code_salt",
    "code_expires_at",
    "activation_failures",
    "activation_locked_until",
    "resume_state",
    "suspended_at",
    "suspension_reason",
    "suspension_closes_at",
    "closed_at",
    "closure_reason",
    "archive_until",
    "date_of_death",
    "erasure_requested_at",
    "erasure_due_by",
    "erased_at",
    "reopened_at",
]
