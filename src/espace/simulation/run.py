"""The driver: prepare a simulation store, draw the population, run the
days, and return the report."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from espace.adapters.auditlog import SIGNER_ENV, SIGNER_FILE_ENV
from espace.adapters.meta import read_meta
from espace.adapters.notes import Signer
from espace.adapters.settings import (
    create_engine,
    keystore_settings,
    parse_database_url,
)
from espace.api import Store, init_store
from espace.application.errors import ConfigurationError
from espace.simulation.audit import audit_after_erasures, audit_day
from espace.simulation.drill import backup_drill
from espace.simulation.lifecycle import affiliate, plan_life, send_notices
from espace.simulation.people import Person, make_person, make_professionals
from espace.simulation.reference import reference_tables
from espace.simulation.scenario import (
    ACTIVE_DAYS,
    START,
    SimulatedClock,
    Simulation,
    Track,
)
from espace.simulation.services import import_directory


def _prepare_store(url: str | None, fresh: bool) -> str:
    """The URL of a simulation store made ready (emptied first if ``fresh``);
    refuses a production store."""
    settings = parse_database_url(url)
    if fresh:
        if settings.kind != "sqlite" or settings.sqlite_path is None:
            raise ConfigurationError(
                "--fresh works on SQLite files; give an empty schema"
            )
        path = settings.sqlite_path
        if path.exists():
            engine = create_engine(settings)
            try:
                mode = read_meta(engine).get("mode")
            finally:
                engine.dispose()
            if mode != "simulation":
                raise ConfigurationError(
                    f"{path} is not a simulation store: --fresh refuses to delete it"
                )
            for suffix in ("", "-wal", "-shm", ".key"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            keys = keystore_settings(settings, os.environ).sqlite_path
            for suffix in ("", "-wal", "-shm") if keys is not None else ():
                Path(f"{keys}{suffix}").unlink(missing_ok=True)
    init_store(settings.url, simulation=True)
    engine = create_engine(settings)
    try:
        meta = read_meta(engine)
    finally:
        engine.dispose()
    if meta.get("mode") != "simulation":
        raise ConfigurationError(
            f"{settings.redacted_url} is a production store: simulate only writes to "
            "simulation stores (use another --database, or --fresh on a simulation "
            "file)"
        )
    return settings.url


def run_simulation(
    url: str | None,
    *,
    people: int,
    seed: int,
    fresh: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the synthetic rollout; return the summary."""
    url = _prepare_store(url, fresh)
    clock = SimulatedClock(START)
    environ = dict(os.environ)
    if not (environ.get(SIGNER_ENV) or environ.get(SIGNER_FILE_ENV)):
        # No log key given: sign this run's checkpoints with a key of its own,
        # whose verifier key the summary prints.
        environ[SIGNER_ENV] = Signer.generate("espace.simulation/audit").key
    with Store.open(url, clock=clock, sync_views=False, environ=environ) as store:
        store.sync()
        if sum(store.views.espaces.counts_by_state().values()) > 0:
            raise ConfigurationError(
                "the simulation store already holds espaces: use --fresh or another "
                "file"
            )
        # The order of the draws is the seed's simulation: the professionals,
        # the population, then the services' generator, derived from the
        # main one's state without drawing from it.
        rng = random.Random(seed)
        pros = make_professionals(rng)
        started = time.perf_counter()
        population = [make_person(rng, i + 2, START.date()) for i in range(people)]
        srng = random.Random(repr(rng.getstate()[1]))
        sim = Simulation(store, clock, rng, srng, pros)
        _run(sim, population, progress)
        elapsed = time.perf_counter() - started
        drill = backup_drill(sim, population, environ)
        store.sync()
        events = store.head()
        return {
            "people": people,
            "seed": seed,
            "database": store.settings.redacted_url,
            "states": store.views.espaces.counts_by_state(),
            "events": events,
            "commands": sim.commands,
            "rejected_rows": sim.rejected_rows,
            "actions": dict(sorted(sim.actions.items())),
            **store.views.counts(),
            "deadlines": dict(sorted(sim.deadlines.items())),
            "reference_tables": sim.reference,
            "audit": sim.audit,
            "backup_drill": drill,
            "elapsed_s": round(elapsed, 2),
            "events_per_s": round(events / elapsed) if elapsed else 0,
            "commands_per_s": round(sim.commands / elapsed) if elapsed else 0,
            "simulated_until": clock.now.isoformat(),
        }


def _run(sim: Simulation, population: list[Person], progress: bool) -> None:
    """The scenario: directory, affiliation, plans, the days of daily life,
    the auditor and the reference tables, then ten years on."""
    columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress, transient=True) as bar:
        task = bar.add_task("affiliation", total=len(population) + ACTIVE_DAYS + 1)
        import_directory(sim)
        affiliate(sim, population, lambda n: bar.advance(task, n))
        for person in population:
            if person.espace_id is not None:
                plan_life(sim, person)
        bar.update(task, description="daily life")
        for day in range(ACTIVE_DAYS):
            live_day(sim, day)
            bar.advance(task)
        bar.update(task, description="audit")
        reference_tables(sim)
        audit_day(sim, population)
        bar.update(task, description="ten years on")
        sim.clock.now = sim.at_day(ACTIVE_DAYS + 3653 + 30, hour=2)
        run_deadlines(sim)
        audit_after_erasures(sim, population)
        bar.advance(task)


def live_day(sim: Simulation, day: int) -> None:
    """One simulated day: the notices at 7, each track's steps in the order
    they were planned (the main track first), the deadline job at 2 the
    next night."""
    sim.day = day
    send_notices(sim, day)
    for track in Track:
        for what, person in sim.agendas[track].pop(day, []):
            sim.clock.now = max(sim.clock.now, sim.moment(track, day))
            sim.perform(what, person)
    sim.clock.now = sim.at_day(day + 1, hour=2)
    run_deadlines(sim)


def run_deadlines(sim: Simulation) -> None:
    """The deadline job: what fell due is done, or counted as skipped."""
    report = sim.store.deadlines.run_due()
    sim.deadlines.update(report.done)
    for kind, n in report.skipped.items():
        sim.deadlines[f"{kind}_skipped"] += n
