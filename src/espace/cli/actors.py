"""Who acts, as every command takes it: one set of ``--as-…`` flags, read
into the API's one actor type (:class:`espace.Actor`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import click

from espace.application.errors import InvalidInput
from espace.application.records import actor_from
from espace.domain.access import PROFESSIONS, Actor

_KEYS = (
    "as_holder",
    "as_representative",
    "as_professional",
    "profession",
    "as_heir",
    "as_establishment",
    "establishment_name",
)


def actor_options(
    *, heir: bool = False, establishment: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Who acts: exactly one of --as-holder, --as-representative,
    --as-professional IDNATPS (the directory says the profession, PRO-2),
    and where the command allows them --as-heir ID (LC-11) or
    --as-establishment FINESS with --establishment-name (MSG-1, MSG-2)."""
    options = [
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

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorator


def resolve_actor(kw: dict[str, Any], espace_id: UUID | None) -> Actor:
    """The actor the flags name (and takes those flags out of ``kw``); the
    holder and a representative act on ``espace_id``."""
    flags = [k for k in _KEYS if k.startswith("as_") and k in kw]
    given = {k: kw.pop(k, None) for k in _KEYS}
    chosen = [k.removeprefix("as_") for k in flags if given[k]]
    if len(chosen) != 1:
        offered = ", ".join(f"--{k.replace('_', '-')}" for k in flags)
        raise InvalidInput({"actor": [f"give exactly one of {offered}"]})
    kind = chosen[0]
    data: dict[str, Any] = {"kind": kind}
    if kind == "professional":
        data.update(idnatps=given["as_professional"], profession=given["profession"])
    elif kind == "heir":
        data["heir_id"] = given["as_heir"]
    elif kind == "establishment":
        data.update(finess=given["as_establishment"], name=given["establishment_name"])
    return actor_from(data, espace_id)
