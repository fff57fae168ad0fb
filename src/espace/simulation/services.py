"""The espace beyond the record: the directory (PRO-2), messages (MSG-*),
appointments (AG-1), the medical profile (PRO-1), services (PRO-3).

Their randomness has its own generator (``Simulation.srng``), derived from
the main one's state without drawing from it: the rest of the simulation is
unchanged by what happens here. Their steps are on the services' track.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from espace.application.messaging import NewFile
from espace.domain.actors import Actor
from espace.domain.calendar import PARIS
from espace.domain.directory import PROFESSION_CODES
from espace.simulation.people import BIRTH_NAMES, FIRST_NAMES, Person
from espace.simulation.scenario import (
    ACTIVE_DAYS,
    NothingToDo,
    Simulation,
    Step,
    Track,
    step,
)

SIM_CITIES = [
    ("Paris", "75011"),
    ("Lyon", "69003"),
    ("Marseille", "13001"),
    ("Nantes", "44000"),
    ("Lille", "59000"),
    ("Ajaccio", "20000"),
    ("Saint-Étienne", "42000"),
]
"""Places of practice of the synthetic directory (PRO-2)."""


def import_directory(sim: Simulation) -> None:
    """PRO-2: the synthetic professionals are listed before anyone acts."""
    rng = sim.srng
    codes = {profession: code for code, profession in PROFESSION_CODES.items()}
    rows: list[tuple[int, dict[str, Any]]] = []
    for group in sim.pros.values():
        for pro in group:
            sex = rng.choice("MF")
            last = rng.choice(BIRTH_NAMES)
            first = rng.choice(FIRST_NAMES[sex])
            assert pro.profession is not None
            for _ in range(rng.choice([1, 1, 2])):
                city, postal = rng.choice(SIM_CITIES)
                rows.append(
                    (
                        len(rows) + 2,
                        {
                            "Identification nationale PP": pro.id,
                            "Type d'identifiant PP": pro.id[0],
                            "Nom d'exercice": last,
                            "Prénom d'exercice": first,
                            "Code profession": codes[pro.profession],
                            "Libellé profession": pro.profession,
                            "Code mode exercice": rng.choice("LS"),
                            "Raison sociale site": f"Cabinet {last.title()}",
                            "Code postal (coord. structure)": postal,
                            "Libellé commune (coord. structure)": city,
                        },
                    )
                )
    sim.clock.now = sim.services_day(0, hour=5)
    report = sim.store.directory.import_rows(rows)
    sim.commands += 1
    sim.actions["directory_listed"] = report.created
    sim.store.sync()


def plan_services(
    sim: Simulation, person: Person, notice_day: int, activated_day: int | None
) -> None:
    """Messages from professionals, and for activated holders their
    replies, appointments, profile and connected services."""
    rng = sim.srng
    last = ACTIVE_DAYS - 1

    def later(first: int, days: tuple[int, int], what: Step) -> int:
        """Schedule ``what`` some ``days`` after ``first`` (by the last day)."""
        day = min(first + rng.randint(*days), last)
        sim.schedule(day, what, person)
        return day

    if rng.random() < 0.3:
        day = notice_day + rng.randint(43, ACTIVE_DAYS - 40)
        sim.schedule(day, message_open, person)
        end = day + rng.randint(11, 30)
        if rng.random() < 0.7:
            sim.schedule(end, message_end, person)
        # The holder reads and replies once the espace is activated (LC-4);
        # some try again after the professional ended it (MSG-3).
        if activated_day is not None and rng.random() < 0.6:
            reply = max(day, activated_day + 1) + rng.randint(0, 10)
            sim.schedule(min(reply, last), message_reply, person)
            if reply < end and rng.random() < 0.2:
                later(end, (1, 5), message_late_reply)
    if rng.random() < 0.05:
        sim.schedule(notice_day + rng.randint(43, last), pro_appointment, person)
    if rng.random() < 0.005:
        sim.schedule(notice_day + rng.randint(43, last), unlisted_read, person)
    if activated_day is None:
        return
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        day = later(activated_day, (1, 400), appointment)
        roll = rng.random()
        if roll < 0.3:
            later(day, (1, 20), appointment_move)
        elif roll < 0.45:
            later(day, (1, 20), appointment_cancel)
    if rng.random() < 0.4:
        later(activated_day, (1, 100), profile_measure)
        if rng.random() < 0.5:
            later(activated_day, (101, 500), profile_measure)
    if rng.random() < 0.2:
        later(activated_day, (1, 300), profile_allergy)
    if rng.random() < 0.2:
        later(activated_day, (1, 300), profile_vaccination)
    if rng.random() < 0.1:
        day = later(activated_day, (1, 300), service_connect)
        if rng.random() < 0.3:
            later(day, (1, 200), service_disconnect)


# ---------------------------------------------------------------- the steps


@step("message_open", Track.SERVICES)
def message_open(sim: Simulation, p: Person) -> None:
    """MSG-1: a physician opens a conversation, some with a report attached."""
    assert p.espace_id is not None
    rng = sim.srng
    pro = rng.choice(sim.pros["physician"])
    party = Actor.professional(pro.id)
    files = []
    if rng.random() < 0.2:
        files = [NewFile("compte-rendu.pdf", "application/pdf", b"%PDF-1.4 cr")]
    opened = sim.store.messaging.open(
        party,
        p.espace_id,
        {"subject": "Suite de votre consultation", "body": "Bonjour, ..."},
        files=files,
    )
    sim.conversations[p.espace_id].append((UUID(opened["conversation_id"]), party))


def _last_conversation(sim: Simulation, p: Person) -> tuple[UUID, Actor]:
    """The person's latest conversation and who opened it, if any."""
    assert p.espace_id is not None
    if not sim.conversations[p.espace_id]:
        raise NothingToDo
    return sim.conversations[p.espace_id][-1]


def _reply(sim: Simulation, p: Person) -> None:
    """The holder reads their latest conversation and replies."""
    assert p.espace_id is not None
    conversation_id, _ = _last_conversation(sim, p)
    holder = Actor.holder(p.espace_id)
    sim.store.messaging.read(holder, conversation_id)
    sim.store.messaging.reply(holder, conversation_id, {"body": "Merci docteur."})


@step("message_reply", Track.SERVICES)
def message_reply(sim: Simulation, p: Person) -> None:
    """MSG-3: the holder, once the espace is activated (LC-4), reads and
    replies."""
    _reply(sim, p)


@step("message_late_reply", Track.SERVICES)
def message_late_reply(sim: Simulation, p: Person) -> None:
    """MSG-3: the holder replies again, some after the conversation ended."""
    _reply(sim, p)


@step("message_end", Track.SERVICES)
def message_end(sim: Simulation, p: Person) -> None:
    """MSG-3: the professional who opened the conversation ends it."""
    conversation_id, party = _last_conversation(sim, p)
    sim.store.messaging.end(party, conversation_id)


def _book(sim: Simulation, p: Person, by: Actor, data: dict[str, str]) -> None:
    """AG-1: ``by`` schedules an appointment on the person's agenda."""
    assert p.espace_id is not None
    booked = sim.store.agenda.schedule(by, p.espace_id, {**data, "reason": "suivi"})
    sim.appointments_of[p.espace_id].append(UUID(booked["appointment_id"]))


@step("appointment", Track.SERVICES)
def appointment(sim: Simulation, p: Person) -> None:
    """AG-1: the holder books a physician or a dentist within two months."""
    assert p.espace_id is not None
    when = sim.services_day(sim.day + sim.srng.randint(1, 60))
    who = sim.srng.choice(sim.pros["physician"] + sim.pros["dentist"])
    data = {"with_professional": who.id, "starts_at": when.isoformat()}
    _book(sim, p, Actor.holder(p.espace_id), data)


@step("pro_appointment", Track.SERVICES)
def pro_appointment(sim: Simulation, p: Person) -> None:
    """AG-1: a nurse books home care within two months."""
    when = sim.services_day(sim.day + sim.srng.randint(1, 60))
    nurse = sim.srng.choice(sim.pros["nurse"])
    _book(sim, p, nurse, {"with": "Soins infirmiers", "starts_at": when.isoformat()})


def _last_appointment(sim: Simulation, p: Person) -> UUID:
    """The person's latest appointment, if any."""
    assert p.espace_id is not None
    if not sim.appointments_of[p.espace_id]:
        raise NothingToDo
    return sim.appointments_of[p.espace_id][-1]


@step("appointment_move", Track.SERVICES)
def appointment_move(sim: Simulation, p: Person) -> None:
    """AG-1: the holder moves their latest appointment up to a month on."""
    assert p.espace_id is not None
    appointment_id = _last_appointment(sim, p)
    when = sim.clock.now + timedelta(days=sim.srng.randint(1, 30))
    sim.store.agenda.move(
        Actor.holder(p.espace_id), appointment_id, {"starts_at": when.isoformat()}
    )


@step("appointment_cancel", Track.SERVICES)
def appointment_cancel(sim: Simulation, p: Person) -> None:
    """AG-1: the holder cancels their latest appointment."""
    assert p.espace_id is not None
    appointment_id = _last_appointment(sim, p)
    sim.store.agenda.cancel(Actor.holder(p.espace_id), appointment_id)


@step("profile_measure", Track.SERVICES)
def profile_measure(sim: Simulation, p: Person) -> None:
    """PRO-1: the holder records their height and weight."""
    assert p.espace_id is not None
    rng = sim.srng
    sim.store.profile.record_measurements(
        Actor.holder(p.espace_id),
        p.espace_id,
        {
            "height_cm": str(rng.randint(150, 195)),
            "weight_kg": f"{rng.uniform(45, 110):.1f}",
        },
    )


@step("profile_allergy", Track.SERVICES)
def profile_allergy(sim: Simulation, p: Person) -> None:
    """PRO-1: the holder records an allergy."""
    assert p.espace_id is not None
    substance = sim.srng.choice(["Pénicilline", "Arachide", "Latex", "Pollen"])
    sim.store.profile.record_allergy(
        Actor.holder(p.espace_id), p.espace_id, {"substance": substance}
    )


@step("profile_vaccination", Track.SERVICES)
def profile_vaccination(sim: Simulation, p: Person) -> None:
    """PRO-1: the holder records a vaccination of the last 900 days."""
    assert p.espace_id is not None
    rng = sim.srng
    today = sim.clock.now.astimezone(PARIS).date()
    given = today - timedelta(days=rng.randint(0, 900))
    sim.store.profile.record_vaccination(
        Actor.holder(p.espace_id),
        p.espace_id,
        {
            "vaccine": rng.choice(["Grippe", "DTP", "ROR"]),
            "given_on": given.isoformat(),
        },
    )


@step("service_connect", Track.SERVICES)
def service_connect(sim: Simulation, p: Person) -> None:
    """PRO-3: the holder connects a service of the catalogue."""
    assert p.espace_id is not None
    service = sim.srng.choice(["pilulier", "suivi-tension", "arret-tabac"])
    sim.store.catalogue.connect(Actor.holder(p.espace_id), p.espace_id, service)


@step("service_disconnect", Track.SERVICES)
def service_disconnect(sim: Simulation, p: Person) -> None:
    """PRO-3: the holder disconnects the first service they connected."""
    assert p.espace_id is not None
    holder = Actor.holder(p.espace_id)
    connected = sim.store.catalogue.connections(holder, p.espace_id)
    if not connected:
        raise NothingToDo
    sim.store.catalogue.disconnect(holder, p.espace_id, connected[0]["service_id"])


@step("unlisted_read", Track.SERVICES)
def unlisted_read(sim: Simulation, p: Person) -> None:
    """PRO-2: a professional the directory does not list tries to read."""
    assert p.espace_id is not None
    sim.store.records.list_documents(sim.unlisted, p.espace_id)
