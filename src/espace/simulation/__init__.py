"""The main job: a synthetic rollout on a simulation store, with a simulated clock.

People are generated from a seed (valid NIRs, Corsica and births abroad
included, a fifth of them minors with a parent), affiliated from a feed that
has a few bad and duplicate rows, notified, and then live their lives: about
2 % oppose, about 20 % activate (some mistype first), a few are suspended,
close, die, ask for erasure or reopen. The deadline job runs every simulated
day, and once more ten years on, when the archives expire.

Everything goes through the public API, as an embedding application would.

The package, by concern: ``people`` (the synthetic population and the feed),
``scenario`` (the clock, the state of a run, and the :class:`Step`
mechanism), one module per family of steps (``lifecycle``, ``record``,
``services``, ``audit``, ``reference``), and ``run`` (the driver and its
report).
"""

from espace.simulation.people import Person, make_person, make_professional
from espace.simulation.run import run_simulation
from espace.simulation.scenario import ACTIVE_DAYS, START, STEPS, Step, Track

__all__ = [
    "ACTIVE_DAYS",
    "START",
    "STEPS",
    "Person",
    "Step",
    "Track",
    "make_person",
    "make_professional",
    "run_simulation",
]
