"""The agenda (AG-1) and the medical profile (PRO-1), rule by rule.

Given an aggregate built through its own commands, when one command runs,
then it triggers the expected events or raises the ``RuleViolation`` naming
the rule, and triggers nothing. No I/O.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from espace.domain.agenda import Appointment, Status
from espace.domain.errors import RuleViolation
from espace.domain.profile import MedicalProfile, profile_id
from espace.domain.profile_entries import HEIGHT_CM, WEIGHT_KG
from espace.domain.profile_history import describe

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ESPACE = UUID("11111111-2222-4333-8444-555555555555")
HOLDER = str(ESPACE)
DOCTOR = "810001045367"
OTHER = "810002000007"


def refused(rule: str, call: Any, aggregate: Any = None) -> None:
    with pytest.raises(RuleViolation) as err:
        call()
    assert err.value.rule == rule, err.value.message
    if aggregate is not None:
        assert aggregate.collect_events() == []


# ===================================================================== AG-1


def scheduled(
    *,
    by_kind: str = "holder",
    by_id: str = HOLDER,
    state: str = "active",
    professional_id: str | None = DOCTOR,
    with_label: str | None = None,
    starts_at: datetime = T0 + timedelta(days=7),
) -> Appointment:
    a = Appointment.schedule(
        appointment_id=uuid4(),
        espace_id=ESPACE,
        espace_state=state,
        at=T0,
        by_kind=by_kind,
        by_id=by_id,
        professional_id=professional_id,
        with_label=with_label,
        starts_at=starts_at,
        place="Cabinet, 3 rue des Lilas, Nantes",
        reason="Renouvellement d'ordonnance",
    )
    a.collect_events()
    return a


def test_the_holder_books_an_appointment_who_when_where_why_ag_1() -> None:
    a = Appointment.schedule(
        appointment_id=uuid4(),
        espace_id=ESPACE,
        espace_state="active",
        at=T0,
        by_kind="holder",
        by_id=HOLDER,
        professional_id=None,
        with_label="Dr Martin (ophtalmologue)",
        starts_at=T0 + timedelta(days=3),
        place="Clinique",
        reason="Fond d'œil",
    )
    [event] = a.collect_events()
    assert type(event).__name__ == "Scheduled"
    assert isinstance(event, Appointment.Scheduled)
    assert event.espace_id == ESPACE
    assert (a.status, a.with_label, a.place, a.reason) == (
        Status.SCHEDULED,
        "Dr Martin (ophtalmologue)",
        "Clinique",
        "Fond d'œil",
    )


@pytest.mark.parametrize("state", ["open", "active"])
def test_a_professional_books_in_an_open_or_activated_espace_ag_1(state: str) -> None:
    a = scheduled(by_kind="professional", by_id=DOCTOR, state=state)
    assert a.concerns("professional", DOCTOR)
    assert a.concerns("holder", HOLDER)
    assert not a.concerns("professional", OTHER)


@pytest.mark.parametrize(
    ("state", "rule"), [("open", "LC-4"), ("suspended", "LC-7"), ("closed", "LC-8")]
)
def test_the_holder_books_only_in_an_activated_espace_lc_4(
    state: str, rule: str
) -> None:
    refused(rule, lambda: scheduled(state=state))


@pytest.mark.parametrize(
    ("professional_id", "with_label"), [(None, None), (None, "  "), (DOCTOR, "Dr X")]
)
def test_who_is_a_professional_or_a_name_exactly_one_ag_1(
    professional_id: str | None, with_label: str | None
) -> None:
    refused(
        "AG-1",
        lambda: scheduled(professional_id=professional_id, with_label=with_label),
    )


def test_an_appointment_is_made_for_the_future_with_aware_times_ag_1() -> None:
    refused("AG-1", lambda: scheduled(starts_at=T0))
    refused("AG-1", lambda: scheduled(starts_at=T0.replace(tzinfo=None)))
    refused("AG-1", lambda: scheduled(by_kind="heir"))


def test_an_appointment_is_moved_to_the_future_keeping_its_place_ag_1() -> None:
    a = scheduled()
    later = T0 + timedelta(days=10)
    a.move(
        at=T0 + timedelta(hours=1),
        by_kind="holder",
        by_id=HOLDER,
        espace_state="active",
        starts_at=later,
    )
    [event] = a.collect_events()
    assert type(event).__name__ == "Moved"
    assert (a.starts_at, a.place) == (later, "Cabinet, 3 rue des Lilas, Nantes")
    a.move(
        at=T0 + timedelta(hours=2),
        by_kind="professional",
        by_id=DOCTOR,
        espace_state="active",
        starts_at=later,
        place="Téléconsultation",
    )
    assert a.place == "Téléconsultation"
    refused(
        "AG-1",
        lambda: a.move(
            at=T0 + timedelta(hours=3),
            by_kind="holder",
            by_id=HOLDER,
            espace_state="active",
            starts_at=T0 + timedelta(hours=2),
        ),
    )
    a.collect_events()
    refused(
        "AG-1",
        lambda: a.move(
            at=T0 + timedelta(hours=3),
            by_kind="holder",
            by_id=HOLDER,
            espace_state="active",
            starts_at=later,
            place="Téléconsultation",
        ),
        a,
    )


def test_a_cancelled_appointment_is_not_moved_or_cancelled_again_ag_1() -> None:
    a = scheduled()
    a.cancel(
        at=T0 + timedelta(hours=1),
        by_kind="holder",
        by_id=HOLDER,
        espace_state="active",
    )
    assert [type(e).__name__ for e in a.collect_events()] == ["Cancelled"]
    assert a.status is Status.CANCELLED
    refused(
        "AG-1",
        lambda: a.cancel(
            at=T0 + timedelta(hours=2),
            by_kind="holder",
            by_id=HOLDER,
            espace_state="active",
        ),
        a,
    )


def test_an_appointment_that_took_place_is_not_changed_any_more_ag_1() -> None:
    a = scheduled(starts_at=T0 + timedelta(days=1))
    refused(
        "AG-1",
        lambda: a.cancel(
            at=T0 + timedelta(days=1),
            by_kind="holder",
            by_id=HOLDER,
            espace_state="active",
        ),
        a,
    )


def test_only_the_holder_or_the_professionals_concerned_change_it_ag_1() -> None:
    a = scheduled(professional_id=None, with_label="Kiné du quartier")
    for kind, who in [("professional", OTHER), ("holder", str(uuid4()))]:
        refused(
            "AG-1",
            lambda kind=kind, who=who: a.cancel(
                at=T0, by_kind=kind, by_id=who, espace_state="active"
            ),
            a,
        )


# ===================================================================== PRO-1


def started() -> MedicalProfile:
    profile = MedicalProfile.start(espace_id=ESPACE, at=T0, by="holder")
    profile.collect_events()
    return profile


def test_one_profile_per_espace_its_id_derived_pro_1() -> None:
    assert started().id == profile_id(ESPACE) != profile_id(uuid4())


@pytest.mark.parametrize(
    ("height", "weight"),
    [
        (HEIGHT_CM[0], None),
        (HEIGHT_CM[1], None),
        (None, WEIGHT_KG[0]),
        (None, WEIGHT_KG[1]),
        (Decimal(172), Decimal("64.5")),
        (Decimal("45.5"), Decimal("2.8")),
    ],
)
def test_plausible_heights_and_weights_are_recorded_pro_1(
    height: Decimal | None, weight: Decimal | None
) -> None:
    profile = started()
    profile.record_measurements(at=T0, by="holder", height_cm=height, weight_kg=weight)
    [event] = profile.collect_events()
    assert type(event).__name__ == "MeasurementsRecorded"
    assert isinstance(event, MedicalProfile.MeasurementsRecorded)
    assert (event.height_cm, event.weight_kg) == (height, weight)


@pytest.mark.parametrize(
    ("height", "weight"),
    [
        (Decimal("1.75"), None),  # metres
        (Decimal(1750), None),  # millimetres
        (Decimal("19.9"), None),
        (Decimal("272.1"), None),
        (None, Decimal(72000)),  # grams
        (None, Decimal("0.29")),
        (None, Decimal("650.1")),
        (None, Decimal(-1)),
    ],
)
def test_implausible_heights_and_weights_are_refused_pro_1(
    height: Decimal | None, weight: Decimal | None
) -> None:
    profile = started()
    refused(
        "PRO-1",
        lambda: profile.record_measurements(
            at=T0, by="holder", height_cm=height, weight_kg=weight
        ),
        profile,
    )


def test_measurements_need_a_value_that_changes_something_pro_1() -> None:
    profile = started()
    refused("PRO-1", lambda: profile.record_measurements(at=T0, by="holder"), profile)
    profile.record_measurements(at=T0, by="holder", height_cm=Decimal(170))
    profile.collect_events()
    refused(
        "PRO-1",
        lambda: profile.record_measurements(at=T0, by="holder", height_cm=Decimal(170)),
        profile,
    )


def test_allergies_conditions_treatments_vaccinations_and_removals_pro_1() -> None:
    profile = started()
    allergy, condition, treatment, vaccine = uuid4(), uuid4(), uuid4(), uuid4()
    profile.record_allergy(
        at=T0, by="holder", entry_id=allergy, substance="Pénicilline", severity="severe"
    )
    profile.record_condition(
        at=T0,
        by="holder",
        entry_id=condition,
        name="Asthme",
        diagnosed_on=date(2010, 5, 1),
    )
    profile.record_treatment(
        at=T0,
        by="representative",
        entry_id=treatment,
        name="Ventoline",
        dosage="2 bouffées",
    )
    profile.record_vaccination(
        at=T0, by="holder", entry_id=vaccine, vaccine="DTP", given_on=date(2026, 9, 1)
    )
    profile.remove(at=T0, by="holder", section="treatments", entry_id=treatment)
    assert [type(e).__name__ for e in profile.collect_events()] == [
        "AllergyRecorded",
        "ConditionRecorded",
        "TreatmentRecorded",
        "VaccinationRecorded",
        "TreatmentStopped",
    ]
    current = profile.current()
    assert [a["substance"] for a in current["allergies"]] == ["Pénicilline"]
    assert current["conditions"][0]["diagnosed_on"] == "2010-05-01"
    assert current["treatments"] == []
    assert current["vaccinations"][0]["given_on"] == "2026-09-01"


def test_entries_are_checked_pro_1() -> None:
    profile = started()
    profile.record_allergy(at=T0, by="holder", entry_id=uuid4(), substance="Latex")
    profile.collect_events()
    cases = [
        lambda: profile.record_allergy(
            at=T0, by="holder", entry_id=uuid4(), substance="latex"
        ),
        lambda: profile.record_allergy(
            at=T0, by="holder", entry_id=uuid4(), substance="Iode", severity="deadly"
        ),
        lambda: profile.record_allergy(
            at=T0, by="holder", entry_id=uuid4(), substance=""
        ),
        lambda: profile.record_vaccination(
            at=T0,
            by="holder",
            entry_id=uuid4(),
            vaccine="ROR",
            given_on=date(2027, 3, 2),
        ),
        lambda: profile.remove(
            at=T0, by="holder", section="allergies", entry_id=uuid4()
        ),
        lambda: profile.remove(at=T0, by="holder", section="moods", entry_id=uuid4()),
        lambda: profile.revoke_trusted_person(at=T0, by="holder"),
        lambda: profile.designate_trusted_person(
            at=T0, by="holder", name="Paul", relationship="spouse"
        ),
        lambda: profile.designate_trusted_person(
            at=T0, by="holder", name="Paul", relationship="boss", phone="0600000000"
        ),
    ]
    for case in cases:
        refused("PRO-1", case, profile)


def test_the_trusted_person_is_designated_replaced_and_revoked_pro_1() -> None:
    profile = started()
    profile.designate_trusted_person(
        at=T0,
        by="holder",
        name="Paul Martin",
        relationship="spouse",
        phone="0601020304",
    )
    profile.designate_trusted_person(
        at=T0,
        by="holder",
        name="Léa Martin",
        relationship="child",
        email="lea@example.org",
    )
    assert profile.trusted_person is not None
    assert profile.trusted_person["name"] == "Léa Martin"
    profile.revoke_trusted_person(at=T0, by="holder")
    assert profile.trusted_person is None
    assert [type(e).__name__ for e in profile.collect_events()] == [
        "TrustedPersonDesignated",
        "TrustedPersonDesignated",
        "TrustedPersonRevoked",
    ]


def test_each_change_is_an_event_and_the_history_replays_them_pro_1() -> None:
    profile = MedicalProfile.start(espace_id=ESPACE, at=T0, by="holder")
    profile.record_measurements(
        at=T0 + timedelta(days=1), by="holder", weight_kg=Decimal("70.2")
    )
    profile.record_measurements(
        at=T0 + timedelta(days=30), by="holder", weight_kg=Decimal("68.9")
    )
    events = profile.collect_events()
    history = [describe(e) for e in events]
    assert [h["change"] for h in history] == [
        "profile_started",
        "measurements_recorded",
        "measurements_recorded",
    ]
    assert [h["details"].get("weight_kg") for h in history] == [None, 70.2, 68.9]
    assert [h["version"] for h in history] == [1, 2, 3]
    replayed: Any = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.current() == profile.current()


def test_profile_commands_are_never_dated_before_the_last_change_pro_1() -> None:
    profile = started()
    refused(
        "PRO-1",
        lambda: profile.record_measurements(
            at=T0 - timedelta(seconds=1), by="holder", height_cm=Decimal(170)
        ),
        profile,
    )


def test_every_profile_change_takes_its_schema_fields_as_its_command_arguments() -> (
    None
):
    """PRO-1: each kind of change hands its checked input, field for field,
    to the aggregate's command: a schema field the command does not take, or
    a required argument no field gives, is caught here, not by a holder."""
    import inspect

    from espace.application import profile as use_cases

    kinds = [
        v for v in vars(use_cases).values() if isinstance(v, use_cases.ProfileChange)
    ]
    assert len(kinds) == 8
    for kind in kinds:
        given = set(kind.schema().fields) if kind.schema is not None else set()
        if kind.new_entry:
            given.add("entry_id")
        params = inspect.signature(kind.command).parameters
        taken = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY} - {
            "at",
            "by",
        }
        required = {n for n in taken if params[n].default is inspect.Parameter.empty}
        assert given <= taken, kind
        assert required <= given, kind
