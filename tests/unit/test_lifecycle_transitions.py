"""LC-7..LC-12: the espace's changes of state that take only the command's
time are declared once (``lifecycle_base.Transition``) and run by one
handler: each declared command is the aggregate's, and takes the time, and
only what the use case checked before it. No I/O.
"""

from __future__ import annotations

import inspect

from espace.application import lifecycle_base
from espace.application.lifecycle_base import DEATH, Transition
from espace.domain.espace import EspaceSante


def declared() -> list[Transition]:
    return [v for v in vars(lifecycle_base).values() if isinstance(v, Transition)]


def test_each_transition_is_a_command_of_the_espace_taking_its_time_lc_7() -> None:
    kinds = declared()
    assert len(kinds) == 7
    for kind in kinds:
        name = kind.command.__name__
        assert getattr(EspaceSante, name) is kind.command, name
        params = inspect.signature(kind.command).parameters
        required = {
            p for p, v in params.items() if v.default is inspect.Parameter.empty
        } - {"self"}
        extra = {"date_of_death"} if kind is DEATH else set()
        assert required == {"at"} | extra, name
        assert kind.logged_as.count(".") == 1, kind.logged_as
