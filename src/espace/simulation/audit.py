"""The auditor's part of the scenario (ADR-0021, ADR-0022): sign the log,
verify it, replay a few espaces as of an earlier instant, ask who could read
a document then, list a professional's accesses, export espaces and check
the exports offline. Its choices use a generator of its own, drawn from
nobody's.
"""

from __future__ import annotations

import random
from collections import Counter

from espace.adapters.auditexport import verify_export
from espace.simulation.people import Person
from espace.simulation.scenario import ACTIVE_DAYS, Simulation

AUDITOR = "simulation auditor"
"""Who the audit trail says asked."""
AUDITED = 5
"""How many espaces with documents the auditor looks into."""


def audit_day(sim: Simulation, population: list[Person]) -> None:
    """LC-8, ACC-6: the auditor's day, at the end of daily life."""
    audit, rng = sim.store.audit, random.Random(len(population))
    signed = audit.checkpoint()
    verifier = audit.verifier()  # run_simulation always gives a key
    with_documents = [p for p in population if p.documents]
    chosen = rng.sample(with_documents, min(AUDITED, len(with_documents)))
    midway = sim.at_day(ACTIVE_DAYS // 2, hour=12)
    counts: Counter[str] = Counter()
    for person in chosen:
        assert person.espace_id is not None
        history = audit.history(person.espace_id, as_of=midway, auditor=AUDITOR)
        counts["history_events"] += len(history["events"])
        document = person.documents[0]
        access = audit.access(document, at=sim.clock.now, auditor=AUDITOR)
        counts["access_routes"] += len(access["who"])
        export = audit.export(person.espace_id, auditor=AUDITOR)
        check = verify_export(export, [verifier])
        counts["exports_valid" if check.valid else "exports_invalid"] += 1
        counts["exported_entries"] += check.entries
    physician = sim.pros["physician"][0]
    attempts = audit.professional(physician.id, auditor=AUDITOR, limit=1)
    report = audit.verify()
    sim.audit.update(
        verifier_key=verifier.key,
        checkpoint_size=signed.size,
        audited_espaces=len(chosen),
        **dict(sorted(counts.items())),
        professional_attempts=attempts["total"],
        verified_rows=report.rows,
        intact=report.intact,
    )


def audit_after_erasures(sim: Simulation, population: list[Person]) -> None:
    """Ten years on, erased espaces' leaves still verify (SEC-4)."""
    audit = sim.store.audit
    signed = audit.checkpoint()
    report = audit.verify()
    erased = [
        p
        for p in population
        if p.espace_id is not None
        and (sim.store.views.espaces.get(p.espace_id) or {}).get("state") == "erased"
    ][:1]
    for person in erased:
        assert person.espace_id is not None
        export = audit.export(person.espace_id, auditor=AUDITOR)
        sim.audit["erased_export_entries"] = len(export["entries"])
    sim.audit.update(
        final_checkpoint_size=signed.size,
        final_verified_rows=report.rows,
        intact_after_erasures=report.intact,
    )
