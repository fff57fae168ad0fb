"""Who acts, as every command takes it: one set of ``--as-…`` flags, given
to the command as one :class:`ActorFlags`, read into the API's one actor
type (:class:`espace.Actor`) once the espace is known."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any
from uuid import UUID

import click

from espace.api import Store
from espace.application.errors import InvalidInput
from espace.application.records import actor_from
from espace.cli.app import Session
from espace.cli.options import apply, resolve
from espace.domain.actors import PROFESSIONS, Actor


@dataclass(frozen=True)
class ActorFlags:
    """The ``--as-…`` flags of one call, and which of them the command offers."""

    offered: tuple[str, ...]
    as_holder: bool = False
    as_representative: bool = False
    as_professional: str | None = None
    profession: str | None = None
    as_heir: str | None = None
    as_establishment: str | None = None
    establishment_name: str | None = None

    def on(self, espace_id: UUID | None) -> Actor:
        """The actor the flags name; the holder and a representative act on
        ``espace_id``. Exactly one of the offered --as-… flags is required."""
        chosen = [k.removeprefix("as_") for k in self.offered if getattr(self, k)]
        if len(chosen) != 1:
            given = ", ".join(f"--{k.replace('_', '-')}" for k in self.offered)
            raise InvalidInput({"actor": [f"give exactly one of {given}"]})
        kind = chosen[0]
        data: dict[str, Any] = {"kind": kind}
        if kind == "professional":
            data.update(idnatps=self.as_professional, profession=self.profession)
        elif kind == "heir":
            data["heir_id"] = self.as_heir
        elif kind == "establishment":
            data.update(finess=self.as_establishment, name=self.establishment_name)
        return actor_from(data, espace_id)


_FLAGS = tuple(f.name for f in fields(ActorFlags) if f.name != "offered")


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def actor_options(*, heir: bool = False, establishment: bool = False) -> Decorator:
    """Who acts: exactly one of --as-holder, --as-representative,
    --as-professional IDNATPS (the directory says the profession, PRO-2),
    and where the command allows them --as-heir ID (LC-11) or
    --as-establishment FINESS with --establishment-name (MSG-1, MSG-2).
    The command takes them as one parameter, ``actor: ActorFlags``."""
    options: list[Decorator] = [
        click.option("--as-holder", is_flag=True, help="The holder acts."),
        click.option(
            "--as-representative", is_flag=True, help="The legal representative acts."
        ),
        click.option(
            "--as-professional",
            metavar="IDNATPS",
            help="A professional of the directory acts (ID-3, PRO-2).",
        ),
        click.option(
            "--profession",
            type=click.Choice(PROFESSIONS),
            help="The acting professional's profession (default: the "
            "directory's; a different one is refused, PRO-2).",
        ),
    ]
    if heir:
        options.append(
            click.option("--as-heir", metavar="HEIR_ID", help="An heir reads (LC-11).")
        )
    if establishment:
        options += [
            click.option(
                "--as-establishment",
                metavar="FINESS",
                help="An establishment acts (MSG-1), by its FINESS number.",
            ),
            click.option(
                "--establishment-name",
                help="The establishment's name, as the holder sees it (MSG-2).",
            ),
        ]
    offered = tuple(
        name
        for name, wanted in [
            ("as_holder", True),
            ("as_representative", True),
            ("as_professional", True),
            ("as_heir", heir),
            ("as_establishment", establishment),
        ]
        if wanted
    )

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def taking_actor(*args: Any, **params: Any) -> Any:
            given = {k: params.pop(k) for k in _FLAGS if k in params}
            return func(*args, actor=ActorFlags(offered, **given), **params)

        command: Callable[..., Any] = taking_actor
        return apply(options, command)

    return decorator


def act_on(
    session: Session, nir: str | None, espace_id: UUID | None, actor: ActorFlags
) -> tuple[Store, UUID, Actor]:
    """Open the store, find the espace that --nir or --id names, then who
    acts on it: the store, the espace, the actor."""
    store = session.store()
    espace = resolve(store, nir, espace_id)
    return store, espace, actor.on(espace)
