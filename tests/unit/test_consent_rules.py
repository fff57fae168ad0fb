"""The Consent aggregate, rule by rule (ACC-1, ACC-2, ACC-4, ACC-5, LC-11),
and the trace and alert aggregates (ACC-5, ACC-6).

Each test is given a consent built through its own commands, runs one
command, and checks the events it triggered or the ``RuleViolation`` (and its
rule), with no event triggered; then the access decision on the resulting
state, so that a choice of the holder is seen to change who reads. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate

from espace.application.record_consent import CHOICES
from espace.domain.access import AccessMatrix
from espace.domain.actors import Action, Actor, ActorKind, Ground, Mode
from espace.domain.consent import Consent, ConsentState, consent_id
from espace.domain.decision import DocumentFacts, EspaceFacts, decide
from espace.domain.errors import RuleViolation
from espace.domain.espace_state import State
from espace.domain.trace import AccessTrace, Alert, TraceFacts

ESPACE = UUID("0b7c2a44-1d7e-4c1b-9e55-2d3f0a6b8c11")
AT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
PHYSICIAN = "810001045367"
GP = "810002000007"
NURSE = "810003000006"
MATRIX = AccessMatrix(
    version=1,
    allowed={
        "physician": frozenset({"report", "imaging"}),
        "nurse": frozenset({"report"}),
    },
)
REPORT = DocumentFacts(
    category="report",
    author_kind="professional",
    author_id="810006000003",
    masked=False,
    hidden_from_holder=False,
    hidden_from_representatives=False,
    deleted=False,
)


def started() -> Consent:
    consent = Consent.start(espace_id=ESPACE, at=AT)
    consent.collect_events()
    return consent


def later(minutes: int = 1) -> datetime:
    return AT + timedelta(minutes=minutes)


def names(consent: Consent) -> list[str]:
    return [type(e).__name__ for e in consent.collect_events()]


def refused(rule: str, consent: Consent, command: Any, **kw: Any) -> str:
    before = consent.state
    with pytest.raises(RuleViolation) as info:
        command(**kw)
    assert info.value.rule == rule, info.value
    assert consent.collect_events() == []
    assert consent.state == before
    return info.value.message


def reads(
    state: ConsentState,
    idnatps: str,
    profession: str = "physician",
    mode: Mode = Mode.CARE,
) -> tuple[bool, str | None]:
    decision = decide(
        Actor(ActorKind.PROFESSIONAL, idnatps, profession),
        Action.READ,
        espace=EspaceFacts(ESPACE, State.ACTIVE, deceased=False, represented=False),
        consent=state,
        matrix=MATRIX,
        document=REPORT,
        mode=mode,
    )
    return decision.allowed, (decision.ground or decision.rule)


A = TypeVar("A", bound=Aggregate)


def replay(cls: type[A], events: Sequence[CanMutateAggregate[UUID]]) -> A:
    aggregate: A | None = None
    for event in events:
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, cls)
    return aggregate


# --------------------------------------------------------------------- identity


def test_the_consent_of_an_espace_has_an_id_derived_from_it() -> None:
    assert consent_id(ESPACE) == consent_id(UUID(str(ESPACE)))
    assert consent_id(ESPACE) != consent_id(uuid4())
    consent = Consent.start(espace_id=ESPACE, at=AT)
    assert consent.id == consent_id(ESPACE)
    (event,) = consent.collect_events()
    assert isinstance(event, Consent.Event)
    assert event.espace_id == ESPACE  # sealed under the espace's key (SEC-4)


def test_a_started_consent_authorises_nobody_acc_1() -> None:
    state = started().state
    assert state == ConsentState()
    assert reads(state, PHYSICIAN) == (False, "ACC-1")


# --------------------------------------------------------------------- ACC-1


def test_consent_given_to_one_professional_lets_them_read_acc_1() -> None:
    consent = started()
    consent.authorise(at=later(), idnatps=PHYSICIAN)
    assert names(consent) == ["ProfessionalAuthorised"]
    assert reads(consent.state, PHYSICIAN) == (True, Ground.CONSENT)
    assert reads(consent.state, NURSE, "nurse") == (False, "ACC-1")


def test_consent_withdrawn_denies_again_acc_1() -> None:
    consent = started()
    consent.authorise(at=later(1), idnatps=PHYSICIAN)
    consent.withdraw(at=later(2), idnatps=PHYSICIAN)
    assert names(consent) == ["ProfessionalAuthorised", "AuthorisationWithdrawn"]
    assert reads(consent.state, PHYSICIAN) == (False, "ACC-1")


def test_consent_twice_or_a_withdrawal_without_consent_is_refused_acc_1() -> None:
    consent = started()
    refused("ACC-1", consent, consent.withdraw, at=later(), idnatps=PHYSICIAN)
    consent.authorise(at=later(), idnatps=PHYSICIAN)
    consent.collect_events()
    refused("ACC-1", consent, consent.authorise, at=later(), idnatps=PHYSICIAN)


def test_the_care_team_is_deemed_authorised_until_it_is_left_acc_1() -> None:
    consent = started()
    consent.join_care_team(at=later(1), idnatps=NURSE)
    assert names(consent) == ["CareTeamJoined"]
    assert reads(consent.state, NURSE, "nurse") == (True, Ground.CARE_TEAM)
    refused("ACC-1", consent, consent.join_care_team, at=later(2), idnatps=NURSE)
    consent.leave_care_team(at=later(3), idnatps=NURSE)
    assert names(consent) == ["CareTeamLeft"]
    assert reads(consent.state, NURSE, "nurse") == (False, "ACC-1")
    refused("ACC-1", consent, consent.leave_care_team, at=later(4), idnatps=NURSE)


def test_consent_and_care_team_are_independent_acc_1() -> None:
    consent = started()
    consent.authorise(at=later(), idnatps=NURSE)
    consent.join_care_team(at=later(), idnatps=NURSE)
    consent.withdraw(at=later(), idnatps=NURSE)
    assert reads(consent.state, NURSE, "nurse") == (True, Ground.CARE_TEAM)


@pytest.mark.parametrize(
    "command",
    ["authorise", "withdraw", "block", "unblock", "join_care_team", "leave_care_team"],
)
def test_a_naive_time_is_refused_acc_1(command: str) -> None:
    consent = started()
    refused(
        "ACC-1",
        consent,
        getattr(consent, command),
        at=AT.replace(tzinfo=None),
        idnatps=PHYSICIAN,
    )


def test_a_choice_dated_before_the_last_one_is_refused_acc_1() -> None:
    consent = started()
    consent.authorise(at=later(10), idnatps=PHYSICIAN)
    consent.collect_events()
    refused("ACC-1", consent, consent.block, at=later(9), idnatps=NURSE)


# --------------------------------------------------------------------- ACC-2


def test_blocking_beats_consent_care_team_and_medecin_traitant_acc_2() -> None:
    consent = started()
    consent.authorise(at=later(), idnatps=GP)
    consent.join_care_team(at=later(), idnatps=GP)
    consent.designate_medecin_traitant(at=later(), idnatps=GP, profession="physician")
    assert reads(consent.state, GP) == (True, Ground.MEDECIN_TRAITANT)
    consent.block(at=later(), idnatps=GP)
    assert names(consent)[-1] == "ProfessionalBlocked"
    assert reads(consent.state, GP) == (False, "ACC-2")
    assert reads(consent.state, GP, mode=Mode.EMERGENCY) == (True, Ground.EMERGENCY)
    consent.unblock(at=later(), idnatps=GP)
    assert reads(consent.state, GP) == (True, Ground.MEDECIN_TRAITANT)


def test_blocking_twice_or_unblocking_the_unblocked_is_refused_acc_2() -> None:
    consent = started()
    refused("ACC-2", consent, consent.unblock, at=later(), idnatps=NURSE)
    consent.block(at=later(), idnatps=NURSE)
    consent.collect_events()
    refused("ACC-2", consent, consent.block, at=later(), idnatps=NURSE)


def test_a_blocked_professional_keeps_their_consent_for_after_unblocking_acc_2() -> (
    None
):
    consent = started()
    consent.authorise(at=later(), idnatps=NURSE)
    consent.block(at=later(), idnatps=NURSE)
    assert NURSE in consent.state.authorised
    assert reads(consent.state, NURSE, "nurse") == (False, "ACC-2")


# --------------------------------------------------------------------- ACC-4


@pytest.mark.parametrize("profession", ["nurse", "pharmacist", "dentist", "", "GP"])
def test_the_medecin_traitant_must_be_a_physician_acc_4(profession: str) -> None:
    consent = started()
    refused(
        "ACC-4",
        consent,
        consent.designate_medecin_traitant,
        at=later(),
        idnatps=NURSE,
        profession=profession,
    )


def test_designating_a_new_medecin_traitant_replaces_the_old_one_acc_4() -> None:
    consent = started()
    consent.designate_medecin_traitant(at=later(), idnatps=GP, profession="physician")
    consent.collect_events()
    refused(
        "ACC-4",
        consent,
        consent.designate_medecin_traitant,
        at=later(),
        idnatps=GP,
        profession="physician",
    )
    consent.designate_medecin_traitant(
        at=later(), idnatps=PHYSICIAN, profession="physician"
    )
    assert names(consent) == ["MedecinTraitantDesignated"]
    assert consent.state.medecin_traitant == PHYSICIAN
    assert reads(consent.state, GP) == (False, "ACC-1")


def test_revoking_the_medecin_traitant_ends_their_rights_acc_4() -> None:
    consent = started()
    refused("ACC-4", consent, consent.revoke_medecin_traitant, at=later())
    consent.designate_medecin_traitant(at=later(), idnatps=GP, profession="physician")
    consent.revoke_medecin_traitant(at=later())
    assert names(consent) == ["MedecinTraitantDesignated", "MedecinTraitantRevoked"]
    assert consent.state.medecin_traitant is None
    assert reads(consent.state, GP) == (False, "ACC-1")


# --------------------------------------------------------------------- ACC-5


def test_emergency_and_samu_refusals_are_separate_acc_5() -> None:
    consent = started()
    consent.refuse_emergency_access(at=later())
    assert names(consent) == ["EmergencyAccessRefused"]
    assert consent.state.emergency_refused
    assert not consent.state.samu_refused
    assert reads(consent.state, PHYSICIAN, mode=Mode.EMERGENCY) == (False, "ACC-5")
    assert reads(consent.state, PHYSICIAN, mode=Mode.SAMU) == (True, Ground.SAMU)

    consent.refuse_emergency_access(at=later(), samu=True)
    assert names(consent) == ["SamuAccessRefused"]
    assert reads(consent.state, PHYSICIAN, mode=Mode.SAMU) == (False, "ACC-5")

    consent.allow_emergency_access(at=later())
    assert names(consent) == ["EmergencyAccessAllowed"]
    assert reads(consent.state, PHYSICIAN, mode=Mode.EMERGENCY) == (
        True,
        Ground.EMERGENCY,
    )
    assert consent.state.samu_refused
    consent.allow_emergency_access(at=later(), samu=True)
    assert names(consent) == ["SamuAccessAllowed"]
    assert reads(consent.state, PHYSICIAN, mode=Mode.SAMU) == (True, Ground.SAMU)


@pytest.mark.parametrize("samu", [False, True])
def test_refusing_twice_or_allowing_what_is_allowed_is_refused_acc_5(
    samu: bool,
) -> None:
    consent = started()
    refused("ACC-5", consent, consent.allow_emergency_access, at=later(), samu=samu)
    consent.refuse_emergency_access(at=later(), samu=samu)
    consent.collect_events()
    refused("ACC-5", consent, consent.refuse_emergency_access, at=later(), samu=samu)


# --------------------------------------------------------------------- LC-11


@pytest.mark.parametrize("relationship", ["heir", "cohabitant", "pacs_partner"])
def test_an_heir_cohabitant_or_pacs_partner_may_be_granted_access_lc_11(
    relationship: str,
) -> None:
    consent = started()
    consent.grant_heir_access(at=later(), heir_id="h-1", relationship=relationship)
    (event,) = consent.collect_events()
    assert isinstance(event, Consent.HeirAccessGranted)
    assert (event.heir_id, event.relationship) == ("h-1", relationship)
    assert consent.state.heirs == frozenset({"h-1"})


@pytest.mark.parametrize("relationship", ["friend", "employer", "insurer", ""])
def test_nobody_else_is_granted_an_heirs_access_lc_11(relationship: str) -> None:
    consent = started()
    refused(
        "LC-11",
        consent,
        consent.grant_heir_access,
        at=later(),
        heir_id="h-1",
        relationship=relationship,
    )


def test_the_same_heir_is_granted_once_lc_11() -> None:
    consent = started()
    consent.grant_heir_access(at=later(), heir_id="h-1", relationship="heir")
    consent.collect_events()
    refused(
        "LC-11",
        consent,
        consent.grant_heir_access,
        at=later(),
        heir_id="h-1",
        relationship="cohabitant",
    )


# --------------------------------------------------------------------- replay


def test_replaying_the_choices_gives_the_same_state() -> None:
    consent = Consent.start(espace_id=ESPACE, at=AT)
    consent.authorise(at=later(1), idnatps=PHYSICIAN)
    consent.authorise(at=later(2), idnatps=NURSE)
    consent.withdraw(at=later(3), idnatps=NURSE)
    consent.block(at=later(4), idnatps=NURSE)
    consent.join_care_team(at=later(5), idnatps=GP)
    consent.designate_medecin_traitant(at=later(6), idnatps=GP, profession="physician")
    consent.refuse_emergency_access(at=later(7), samu=True)
    consent.grant_heir_access(at=later(8), heir_id="h", relationship="heir")
    events = consent.collect_events()
    assert all(isinstance(e, Consent.Event) and e.espace_id == ESPACE for e in events)
    assert replay(Consent, events).state == consent.state
    assert consent.state == ConsentState(
        authorised=frozenset({PHYSICIAN}),
        blocked=frozenset({NURSE}),
        care_team=frozenset({GP}),
        medecin_traitant=GP,
        emergency_refused=False,
        samu_refused=True,
        heirs=frozenset({"h"}),
    )


def test_each_choice_the_api_and_the_cli_take_is_one_command_acc_1_acc_2_acc_4_acc_5() -> (
    None
):
    """The holder's choices are declared once: each, made in the order they
    are declared, is one event of the consent, and they undo each other."""
    consent = Consent.start(espace_id=ESPACE, at=AT)
    consent.collect_events()
    for step, kind in enumerate(CHOICES.values(), start=1):
        kind.apply(consent, later(step), GP, "physician")
        assert len(consent.collect_events()) == 1, kind.does
        if kind.with_profession:
            assert consent.state.medecin_traitant == GP
    assert consent.state == ConsentState()


# --------------------------------------------------------------------- traces


def trace(**overrides: Any) -> AccessTrace:
    kw: dict[str, Any] = {
        "trace_id": uuid4(),
        "espace_id": ESPACE,
        "at": AT,
        "actor_kind": "professional",
        "actor_id": NURSE,
        "actor_profession": "nurse",
        "action": "read",
        "mode": "care",
        "allowed": False,
        "rule": "ACC-1",
        "reason": "no consent from the holder",
        "document_id": uuid4(),
    }
    kw.update(overrides)
    trace_id, at = kw.pop("trace_id"), kw.pop("at")
    return AccessTrace.record(trace_id=trace_id, at=at, facts=TraceFacts(**kw))


def test_a_trace_records_who_what_when_and_on_what_grounds_acc_6() -> None:
    t = trace()
    (event,) = t.collect_events()
    assert type(event).__name__ == "Recorded"
    assert isinstance(event, AccessTrace.Recorded)
    assert (event.espace_id, event.timestamp, event.actor_id, event.action) == (
        ESPACE,
        AT,
        NURSE,
        "read",
    )
    assert (event.allowed, event.ground, event.rule) == (False, None, "ACC-1")
    assert event.originator_version == 1  # one event, one insert, no load (ACC-6)
    assert replay(AccessTrace, [event]).facts.reason == "no consent from the holder"


def test_a_trace_with_a_naive_time_is_refused_acc_6() -> None:
    with pytest.raises(RuleViolation) as info:
        trace(at=AT.replace(tzinfo=None))
    assert info.value.rule == "ACC-6"


def test_an_alert_is_delivered_once_acc_5() -> None:
    alert = Alert.raise_(
        alert_id=uuid4(),
        espace_id=ESPACE,
        at=AT,
        recipient_kind="holder",
        recipient_id=str(ESPACE),
        reason="emergency_access",
        trace_id=uuid4(),
    )
    alert.deliver(at=later(), channel="app")
    events = alert.collect_events()
    assert [type(e).__name__ for e in events] == ["Raised", "Delivered"]
    assert all(isinstance(e, Alert.Event) and e.espace_id == ESPACE for e in events)
    assert alert.delivered_at == later()
    with pytest.raises(RuleViolation) as info:
        alert.deliver(at=later(2), channel="email")
    assert info.value.rule == "ACC-5"
    assert alert.collect_events() == []
