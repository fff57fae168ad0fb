"""What every scenario step shares: the simulated clock, the simulation's
state, and the step itself.

A step is one kind of action a person takes (or a professional takes on
their espace) on a planned day: a function decorated with :func:`step`,
which names it (its name is its key in the report's ``actions``) and puts
it on a track. The planners of each family (``lifecycle``, ``record``,
``services``) schedule steps on days; each day the driver performs them in
the order they were planned, and :meth:`Simulation.perform` counts each one
done or refused. Adding a step is adding one decorated function and
scheduling it in its family's planner.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any
from uuid import UUID

from espace.api import Store
from espace.domain.actors import Actor
from espace.domain.calendar import PARIS
from espace.domain.errors import EspaceError
from espace.simulation.people import Person, make_professional

START = datetime(2027, 1, 4, 8, 0, tzinfo=PARIS).astimezone(UTC)
ACTIVE_DAYS = 800
"""How many simulated days of daily life, before the ten-year jump."""


class SimulatedClock:
    """The store's clock: the instant the simulation last set."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        """The current simulated instant."""
        return self.now


class Track(Enum):
    """Which agenda a step is on, and so which generator draws its instants.

    ``MAIN`` (the lifecycle and the record) draws from the main generator;
    ``SERVICES`` (directory, messages, appointments, profile, connected
    services) from a generator of its own, so that adding to the services
    leaves the rest of a seed's simulation unchanged. On a day the main
    track's steps come first, then the services'."""

    MAIN = "main"
    SERVICES = "services"


class NothingToDo(Exception):
    """A planned action that has nothing to act on (no document yet): it is
    neither a command nor counted."""


StepAct = Callable[["Simulation", Person], None]


@dataclass(frozen=True)
class Step:
    """One kind of scheduled action: its name in the report, its track, and
    what it does to a person's espace (raising :class:`NothingToDo` when
    there is nothing to act on, an ``EspaceError`` when refused)."""

    name: str
    track: Track
    act: StepAct


STEPS: dict[str, Step] = {}
"""Every step, by name, in the order the families define them."""


def step(name: str, track: Track = Track.MAIN) -> Callable[[StepAct], Step]:
    """Declare the decorated function the step ``name`` on ``track``."""

    def register(act: StepAct) -> Step:
        if name in STEPS:
            raise ValueError(f"two simulation steps are named {name!r}")
        STEPS[name] = made = Step(name, track, act)
        return made

    return register


class Simulation:
    """The state of one run: the store, its clock, the generators, the pool
    of professionals, the agendas, and the counters the report prints.

    ``srng`` is the services' generator; the driver derives it from the main
    generator's state once the population is drawn. Its first draw is the
    professional the directory does not list."""

    def __init__(
        self,
        store: Store,
        clock: SimulatedClock,
        rng: random.Random,
        srng: random.Random,
        pros: dict[str, list[Actor]],
    ) -> None:
        self.store = store
        self.clock = clock
        self.rng = rng
        self.srng = srng
        self.pros = pros
        self.unlisted = make_professional(srng, "physician")
        self.day = 0
        self.commands = 0
        self.rejected_rows = 0
        self.actions: Counter[str] = Counter()
        self.deadlines: Counter[str] = Counter()
        self.audit: dict[str, Any] = {}
        self.reference: dict[str, Any] = {}
        self.notices: dict[int, list[Person]] = defaultdict(list)
        self.agendas: dict[Track, dict[int, list[tuple[Step, Person]]]] = {
            track: defaultdict(list) for track in Track
        }
        # What the services' steps act on again: a person's conversations
        # (with the professional who opened each) and appointments.
        self.conversations: dict[UUID, list[tuple[UUID, Actor]]] = defaultdict(list)
        self.appointments_of: dict[UUID, list[UUID]] = defaultdict(list)

    def schedule(self, day: int, what: Step, person: Person) -> None:
        """Plan ``what`` for ``person`` on ``day``, on its track's agenda."""
        self.agendas[what.track][day].append((what, person))

    def at_day(self, day: int, hour: int = 10) -> datetime:
        """An instant of ``day`` at ``hour`` (Paris time), at a minute drawn
        from the main generator."""
        minutes = self.rng.randint(0, 59)
        return (_midnight(day) + timedelta(hours=hour, minutes=minutes)).astimezone(UTC)

    def services_day(self, day: int, hour: int | None = None) -> datetime:
        """Like ``at_day``, drawing from the services' own generator (the
        hour too, between 8 and 17, unless given)."""
        hours = self.srng.randint(8, 17) if hour is None else hour
        minutes = self.srng.randint(0, 59)
        return (_midnight(day) + timedelta(hours=hours, minutes=minutes)).astimezone(
            UTC
        )

    def moment(self, track: Track, day: int) -> datetime:
        """When a step of ``track`` happens on ``day``: ``at_day`` for the
        main track, ``services_day`` for the services'."""
        return self.at_day(day) if track is Track.MAIN else self.services_day(day)

    def perform(self, what: Step, person: Person) -> None:
        """Do one planned step and count it: done under its name, refused
        under ``<name>_refused_<rule>``, not at all if it had nothing to do."""
        assert person.espace_id is not None
        self.commands += 1
        try:
            what.act(self, person)
        except NothingToDo:
            self.commands -= 1
            return
        except EspaceError as exc:
            rule = getattr(exc, "rule", exc.code)
            self.actions[f"{what.name}_refused_{rule}"] += 1
        else:
            self.actions[what.name] += 1


def _midnight(day: int) -> datetime:
    """The start of the simulation's ``day``, in Paris."""
    return datetime.combine(
        START.astimezone(PARIS).date() + timedelta(days=day),
        datetime.min.time(),
        tzinfo=PARIS,
    )
