"""The simulation's steps (issue 12): each kind of action is one declared
step, named as the report counts it, on the track whose generator draws its
instants; planning a person's life needs no store and is the same for the
same seed. No I/O."""

from __future__ import annotations

import random
from typing import cast
from uuid import UUID

import pytest

from espace.api import Store
from espace.simulation import START, STEPS, Person, Track, make_person
from espace.simulation.lifecycle import plan_life
from espace.simulation.people import make_professionals
from espace.simulation.scenario import SimulatedClock, Simulation, step
from espace.simulation.services import plan_services

MAIN = {
    "legacy_dmp",
    "oppose",
    "activate",
    "activate_wrong",
    "close",
    "reopen",
    "death",
    "erasure",
    "suspend",
    "object",
    "visit",
    "read",
    "unconsented_read",
    "emergency",
    "mask",
    "designate_mt",
    "refuse_emergency",
}
SERVICES = {
    "message_open",
    "message_reply",
    "message_late_reply",
    "message_end",
    "appointment",
    "pro_appointment",
    "appointment_move",
    "appointment_cancel",
    "profile_measure",
    "profile_allergy",
    "profile_vaccination",
    "service_connect",
    "service_disconnect",
    "unlisted_read",
}


def test_every_step_is_declared_once_under_its_report_name_on_its_track() -> None:
    assert set(STEPS) == MAIN | SERVICES
    assert {n for n, s in STEPS.items() if s.track is Track.MAIN} == MAIN
    assert all(s.name == n for n, s in STEPS.items())


def test_a_second_step_of_the_same_name_is_refused() -> None:
    before = dict(STEPS)
    with pytest.raises(ValueError, match="'visit'"):
        step("visit")(lambda sim, person: None)
    assert before == STEPS


def planned(seed: int) -> list[tuple[str, int, str, int]]:
    """What the planners schedule for 50 people, without a store."""
    rng = random.Random(seed)
    pros = make_professionals(rng)
    people = [make_person(rng, i + 2, START.date()) for i in range(50)]
    srng = random.Random(repr(rng.getstate()[1]))
    sim = Simulation(cast("Store", None), SimulatedClock(START), rng, srng, pros)
    for person in people:
        person.espace_id = UUID(int=person.line)
        plan_life(sim, person)
    return [
        (track.value, day, what.name, person.line)
        for track, agenda in sim.agendas.items()
        for day, todo in sorted(agenda.items())
        for what, person in todo
    ] + [
        ("notice", day, "notice", p.line) for day, ps in sim.notices.items() for p in ps
    ]


def test_the_same_seed_plans_the_same_lives_each_step_on_its_own_agenda() -> None:
    first = planned(3)
    assert first == planned(3)
    assert first != planned(4)
    for track, _, name, _ in first:
        assert name == "notice" or STEPS[name].track.value == track
    assert {name for *_, name, _ in first} >= {"notice", "visit", "message_open"}


def test_the_services_planner_draws_only_from_its_own_generator() -> None:
    rng, srng = random.Random(1), random.Random(2)
    sim = Simulation(cast("Store", None), SimulatedClock(START), rng, srng, {})
    state = rng.getstate()
    plan_services(sim, Person(2, "", START.date(), "", {}), 0, 10)
    assert rng.getstate() == state
