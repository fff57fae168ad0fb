"""The record's part of the scenario (DOC-*, ACC-*): care episodes deposit
documents and read them, a few professionals try without consent, rare
emergencies; activated holders choose a médecin traitant, mask documents,
refuse emergency access. Everything here draws from the main generator.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from espace.domain.actors import Actor
from espace.simulation.people import Person
from espace.simulation.scenario import ACTIVE_DAYS, NothingToDo, Simulation, step

DOCUMENT_MIX = [
    # (weight, category, LOINC, title, author profession)
    (40, "report", "11502-2", "Compte rendu d'examens biologiques", "physician"),
    (22, "prescription", "57833-6", "Ordonnance", "physician"),
    (12, "imaging", "18748-4", "Compte rendu d'imagerie", "physician"),
    (10, "summary", "18842-5", "Lettre de liaison de sortie", "physician"),
    (10, "report", "87273-9", "Note de vaccination", "nurse"),
    (6, "dispensation", "60593-1", "Dispensation de médicaments", "pharmacist"),
]
"""DOC-1: lab reports the largest share, then prescriptions, imaging,
discharge letters, vaccinations and dispensations."""
DOCUMENT_WEIGHTS = [w for w, *_ in DOCUMENT_MIX]


def plan_holder(sim: Simulation, person: Person, activated_day: int) -> None:
    """An activated holder's choices: médecin traitant, masks, refusals."""
    rng = sim.rng
    if rng.random() < 0.5:
        sim.schedule(activated_day + rng.randint(1, 60), designate_mt, person)
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        sim.schedule(activated_day + rng.randint(30, 500), mask, person)
    if rng.random() < 0.02:
        sim.schedule(activated_day + rng.randint(1, 300), refuse_emergency, person)


def plan_record(sim: Simulation, person: Person, notice_day: int) -> None:
    """Care episodes after the espace opens: deposits and reads, a few
    unconsented attempts, and rare emergencies."""
    rng = sim.rng
    visits = rng.choice([0, 1, 1, 2, 2, 3])
    for _ in range(visits):
        day = notice_day + rng.randint(43, ACTIVE_DAYS - 1)
        sim.schedule(day, visit, person)
        sim.schedule(min(day + rng.randint(0, 30), ACTIVE_DAYS - 1), read, person)
    if rng.random() < 0.1:
        sim.schedule(
            notice_day + rng.randint(43, ACTIVE_DAYS - 1), unconsented_read, person
        )
    if rng.random() < 0.005:
        sim.schedule(notice_day + rng.randint(43, ACTIVE_DAYS - 1), emergency, person)


# ---------------------------------------------------------------- the steps


@step("visit")
def visit(sim: Simulation, p: Person) -> None:
    """DOC-1: a care episode: the professional declares the care
    relationship the first time, then deposits a document (some lab reports
    hidden from the holder until revealed)."""
    assert p.espace_id is not None
    records, rng = sim.store.records, sim.rng
    _, category, loinc, title, profession = rng.choices(
        DOCUMENT_MIX, weights=DOCUMENT_WEIGHTS
    )[0]
    pro = rng.choice(sim.pros[profession])
    if pro.id not in p.consented:
        records.declare_consent(pro, p.espace_id)
        p.consented.add(pro.id)
    hidden = category == "report" and loinc == "11502-2" and rng.random() < 0.1
    body = f"%PDF-1.4 synthetic {title} {rng.random()}".encode()
    outcome = records.deposit(
        pro,
        p.espace_id,
        {
            "category": category,
            "loinc_code": loinc,
            "title": title,
            "care_time": (sim.clock.now - timedelta(hours=2)).isoformat(),
            "format": "application/pdf",
            "hidden_from_holder": hidden,
        },
        body,
    )
    p.documents.append(UUID(outcome.document_id))


def _read(sim: Simulation, p: Person, *, consented: bool, mode: str) -> None:
    """A professional reads one of the person's documents: one they consented
    to if ``consented`` and there is one, else a physician."""
    if not p.documents:
        raise NothingToDo
    rng = sim.rng
    document = rng.choice(p.documents)
    if consented and p.consented:
        idnatps = rng.choice(sorted(p.consented))
        pro = next(a for group in sim.pros.values() for a in group if a.id == idnatps)
    else:
        pro = rng.choice(sim.pros["physician"])
    sim.store.records.read(pro, document, mode=mode)


@step("read")
def read(sim: Simulation, p: Person) -> None:
    """ACC-1: a professional of the person's care reads a document."""
    _read(sim, p, consented=True, mode="care")


@step("unconsented_read")
def unconsented_read(sim: Simulation, p: Person) -> None:
    """ACC-1: a physician with no care relationship tries to read (refused)."""
    _read(sim, p, consented=False, mode="care")


@step("emergency")
def emergency(sim: Simulation, p: Person) -> None:
    """ACC-5: a physician reads a document in emergency mode."""
    _read(sim, p, consented=False, mode="emergency")


@step("mask")
def mask(sim: Simulation, p: Person) -> None:
    """DOC-5: the holder masks one of their documents."""
    if not p.documents:
        raise NothingToDo
    assert p.espace_id is not None
    sim.store.records.mask(Actor.holder(p.espace_id), sim.rng.choice(p.documents))


@step("designate_mt")
def designate_mt(sim: Simulation, p: Person) -> None:
    """ACC-4: the holder designates a physician their médecin traitant."""
    assert p.espace_id is not None
    pro = sim.rng.choice(sim.pros["physician"])
    sim.store.records.consent(
        Actor.holder(p.espace_id),
        p.espace_id,
        "designate-medecin-traitant",
        {"idnatps": pro.id, "profession": "physician"},
    )


@step("refuse_emergency")
def refuse_emergency(sim: Simulation, p: Person) -> None:
    """ACC-5: the holder refuses emergency access to their record."""
    assert p.espace_id is not None
    sim.store.records.consent(
        Actor.holder(p.espace_id), p.espace_id, "refuse-emergency"
    )
