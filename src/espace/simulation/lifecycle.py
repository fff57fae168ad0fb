"""The lifecycle's part of the scenario: affiliation, notices, and each
person's life (LC-*): about 2 % oppose, about 20 % activate (some mistype
first), a few are suspended, close, die, ask for erasure or reopen.

:func:`plan_life` is a person's whole decision tree: it also calls the
record's and the services' planners, at the point of the tree where they
have always drawn, so that a seed keeps giving the same simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

from espace.domain.calendar import PARIS
from espace.simulation.people import Person, legacy_bundle, make_feed
from espace.simulation.record import plan_holder, plan_record
from espace.simulation.scenario import Simulation, step
from espace.simulation.services import plan_services


def affiliate(
    sim: Simulation, population: list[Person], advance: Callable[[int], None]
) -> None:
    """LC-1: the insurer's feed (a few bad and duplicate rows) creates the
    espaces; each person learns theirs."""
    feed = make_feed(sim.rng, population)
    sim.clock.now = sim.at_day(0, hour=6)
    report = sim.store.lifecycle.affiliate_feed(feed, progress=advance)
    sim.commands += len(feed)
    sim.rejected_rows = len(report.rejected)
    sim.actions["affiliated"] = report.created
    sim.actions["affiliation_duplicates"] = report.already_affiliated
    rejected = {r.line for r in report.rejected}
    for person in population:
        if person.line not in rejected:
            person.espace_id = sim.store.lifecycle.espace_id_for(person.nir)
    sim.store.sync()


def plan_life(sim: Simulation, person: Person) -> None:
    """Decide one affiliated person's life: notices go out in five daily
    waves; then an opposition, or maybe an activation, care and services,
    and maybe a closure, a death, an erasure request or a suspension."""
    rng = sim.rng
    notice_day = rng.randrange(5)
    person.notice_day = notice_day
    sim.notices[notice_day].append(person)
    if person.row.get("legacy_dmp_ref"):
        # LC-6: the insurer's batch brings the legacy DMP the day after the
        # notice, while the window runs: held, then merged at the opening
        # (or discarded by an opposition). No draw: the seed's plans stay.
        sim.schedule(notice_day + 1, legacy_dmp, person)
    roll = rng.random()
    if roll < 0.02:
        late = rng.random() < 0.1
        sim.schedule(
            notice_day + (rng.randint(43, 60) if late else rng.randint(1, 41)),
            oppose,
            person,
        )
        return
    activated_day = None
    if roll < 0.22:
        in_window = rng.random() < 0.4
        activated_day = notice_day + (
            rng.randint(1, 41) if in_window else rng.randint(43, 200)
        )
        if rng.random() < 0.15:
            sim.schedule(activated_day, activate_wrong, person)
        sim.schedule(activated_day, activate, person)
        plan_holder(sim, person, activated_day)
    plan_record(sim, person, notice_day)
    plan_services(sim, person, notice_day, activated_day)
    later = rng.random()
    if later < 0.01:
        day = rng.randint(60, 400)
        sim.schedule(day, close, person)
        if rng.random() < 0.2:
            sim.schedule(day + rng.randint(30, 200), reopen, person)
    elif later < 0.015:
        sim.schedule(rng.randint(30, 700), death, person)
    elif later < 0.018:
        sim.schedule(rng.randint(60, 400), erasure, person)
    elif later < 0.020:
        day = rng.randint(100, 300)
        sim.schedule(day, suspend, person)
        if rng.random() < 0.5:
            sim.schedule(day + rng.randint(1, 30), object_to_suspension, person)


def send_notices(sim: Simulation, day: int) -> None:
    """LC-1: the day's wave of notices, sent in one batch at 7 a.m.; each
    person keeps their activation code."""
    notices = sim.notices.pop(day, [])
    if not notices:
        return
    sim.clock.now = sim.at_day(day, hour=7)
    by_id = {p.espace_id: p for p in notices if p.espace_id is not None}
    for issued in sim.store.lifecycle.send_notices(list(by_id)):
        by_id[UUID(issued.espace.espace_id)].code = issued.activation_code
        sim.actions["notice"] += 1
        count_mail_record(sim, issued.mail_record())
    sim.commands += len(notices)


def count_mail_record(sim: Simulation, record: dict[str, str]) -> None:
    """LC-1, LC-12: what the mail house gets for a notice: an address
    for its channel, and the last day to oppose (LC-2)."""
    address = (
        record["email"] if record["channel"] == "email" else record["postal_address"]
    )
    sim.actions["mail_record"] += 1
    if not (address and record["name"] and record["last_day_to_oppose"]):
        sim.actions["mail_record_unaddressed"] += 1


# ---------------------------------------------------------------- the steps


@step("legacy_dmp")
def legacy_dmp(sim: Simulation, p: Person) -> None:
    """LC-6: the legacy DMP of a person the feed says had one, as the
    insurer's batch sends it: a FHIR Bundle of their DocumentReferences."""
    author = sim.pros["physician"][p.line % len(sim.pros["physician"])]
    care = sim.clock.now - timedelta(days=400)
    report = sim.store.imports.legacy_dmp(legacy_bundle(p, author.id, care))
    if report.held:
        sim.actions["legacy_dmp_held_documents"] += len(report.held)


@step("oppose")
def oppose(sim: Simulation, p: Person) -> None:
    """LC-3: the person opposes, on the web or by phone (some after the window)."""
    assert p.espace_id is not None
    channel = sim.rng.choice(["web", "phone"])
    sim.store.lifecycle.oppose(p.espace_id, {"channel": channel})


def _activate(sim: Simulation, p: Person, *, wrong: bool) -> None:
    """LC-5: activate with the code of the notice (a new one if it is about
    to expire), or with a mistyped one."""
    assert p.espace_id is not None
    life = sim.store.lifecycle
    if sim.day - p.notice_day >= 85 and p.code is not None:
        # The provisional code expires after 90 days: ask for a new one.
        p.code = life.reissue_code(p.espace_id).activation_code
        sim.actions["reissue"] += 1
    code = "WRONG-CODE1" if wrong else p.code or ""
    life.activate(
        {
            "nir": p.nir,
            "code": code,
            "birth_date": p.birth_date.isoformat(),
            "vitale_serial": p.vitale_serial,
            "as_representative": "representative_name" in p.row,
        }
    )


@step("activate")
def activate(sim: Simulation, p: Person) -> None:
    """LC-5: the holder (or their representative) activates the espace."""
    _activate(sim, p, wrong=False)


@step("activate_wrong")
def activate_wrong(sim: Simulation, p: Person) -> None:
    """LC-5: a mistyped code first, refused and counted towards the lock."""
    _activate(sim, p, wrong=True)


@step("close")
def close(sim: Simulation, p: Person) -> None:
    """LC-7, LC-8: the holder closes the espace; its archive starts."""
    assert p.espace_id is not None
    sim.store.lifecycle.close(p.espace_id)


@step("reopen")
def reopen(sim: Simulation, p: Person) -> None:
    """LC-10: a closed espace is reopened, with a new activation code."""
    assert p.espace_id is not None
    p.code = sim.store.lifecycle.reopen(p.espace_id).activation_code


@step("death")
def death(sim: Simulation, p: Person) -> None:
    """LC-7, LC-11: the holder's death, the day before, is declared."""
    assert p.espace_id is not None
    day = sim.clock.now.astimezone(PARIS).date() - timedelta(days=1)
    sim.store.lifecycle.declare_death(p.espace_id, {"date_of_death": day.isoformat()})


@step("erasure")
def erasure(sim: Simulation, p: Person) -> None:
    """LC-9: the holder asks for their espace's erasure."""
    assert p.espace_id is not None
    sim.store.lifecycle.request_erasure(p.espace_id)


@step("suspend")
def suspend(sim: Simulation, p: Person) -> None:
    """LC-7: the insurer suspends the espace, on suspicion of fraud."""
    assert p.espace_id is not None
    sim.store.lifecycle.suspend(p.espace_id, {"reason": "suspected fraud"})


@step("object")
def object_to_suspension(sim: Simulation, p: Person) -> None:
    """LC-7: the holder objects to the suspension."""
    assert p.espace_id is not None
    sim.store.lifecycle.object_to_suspension(p.espace_id)
