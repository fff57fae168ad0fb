"""How an espace changes (ADR-0026): only its own ``apply``, one handler per
event class; the events carry data and hand themselves over."""

from __future__ import annotations

from espace.domain.espace import EspaceSante

EVENTS = [
    kind
    for kind in vars(EspaceSante).values()
    if isinstance(kind, type)
    and issubclass(kind, EspaceSante.Event)
    and kind not in (EspaceSante.Event, EspaceSante.Created)
]
"""The espace's events; ``Created`` is the library's default, never triggered
(``Affiliated`` creates an espace)."""


def test_every_event_of_the_espace_has_its_handler_on_the_espace() -> None:
    registry = vars(EspaceSante)["apply"].dispatcher.registry
    assert len(EVENTS) == 16
    assert [kind.__name__ for kind in EVENTS if kind not in registry] == []


def test_no_event_of_the_espace_changes_it_by_itself() -> None:
    assert [kind.__name__ for kind in EVENTS if "apply" in vars(kind)] == []
