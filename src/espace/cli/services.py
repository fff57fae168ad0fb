"""The holder's services beyond the record: the agenda (AG-1), the medical
profile (PRO-1) and the catalogue of referenced services (PRO-3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO
from uuid import UUID

import click

from espace.api import Store
from espace.cli.actors import ActorFlags, act_on, actor_options
from espace.cli.app import Session, main
from espace.cli.messages import given_espace
from espace.cli.options import (
    F,
    espace_ref,
    page_limit,
    paged,
    publish_options,
    publish_table,
    show_history,
)
from espace.cli.render import day, emit, page, page_footer, table
from espace.domain.actors import Actor
from espace.domain.catalogue import CATEGORIES
from espace.domain.profile_entries import RELATIONSHIPS, SECTIONS, SEVERITIES

# --------------------------------------------------------------------- agenda


@main.group("agenda")
def agenda_group() -> None:
    """AG-1: the holder's agenda of medical appointments."""


appointment_option = click.option(
    "--appointment",
    "appointment_id",
    required=True,
    type=click.UUID,
    help="The appointment id.",
)


@agenda_group.command("add")
@espace_ref
@actor_options()
@click.option("--with-professional", help="Who: a professional's IdNatPS (PRO-2).")
@click.option("--with", "with_label", help="Who, as free text (not in the directory).")
@click.option("--at", "starts_at", required=True, help="When (ISO 8601 with offset).")
@click.option("--place", help="Where.")
@click.option("--reason", help="Why (health data: sealed, never in a view).")
@click.pass_obj
def agenda_add_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    with_professional: str | None,
    with_label: str | None,
    starts_at: str,
    place: str | None,
    reason: str | None,
) -> None:
    """AG-1: the holder or a professional creates an appointment in the future."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    data = {
        "with_professional": with_professional,
        "with": with_label,
        "starts_at": starts_at,
        "place": place,
        "reason": reason,
    }
    emit(store.agenda.schedule(who, espace, data), as_json)


@agenda_group.command("move")
@appointment_option
@espace_ref
@actor_options()
@click.option("--at", "starts_at", required=True, help="The new time (ISO 8601).")
@click.option("--place", help="A new place (default: unchanged).")
@click.pass_obj
def agenda_move_cmd(
    session: Session,
    as_json: bool,
    appointment_id: UUID,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    starts_at: str,
    place: str | None,
) -> None:
    """AG-1: move an appointment still to come to a new time."""
    store = session.store()
    who = actor.on(given_espace(store, nir, espace_id))
    data = {"starts_at": starts_at, "place": place}
    emit(store.agenda.move(who, appointment_id, data), as_json)


@agenda_group.command("cancel")
@appointment_option
@espace_ref
@actor_options()
@click.pass_obj
def agenda_cancel_cmd(
    session: Session,
    as_json: bool,
    appointment_id: UUID,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
) -> None:
    """AG-1: cancel an appointment still to come."""
    store = session.store()
    who = actor.on(given_espace(store, nir, espace_id))
    emit(store.agenda.cancel(who, appointment_id), as_json)


@agenda_group.command("list")
@espace_ref
@actor_options()
@click.option("--include-cancelled", is_flag=True, help="Cancelled ones too.")
@paged(100)
@click.pass_obj
def agenda_list_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    include_cancelled: bool,
    limit: int,
    offset: int,
    all_rows: bool,
) -> None:
    """AG-1: upcoming appointments, soonest first (a professional sees theirs);
    says how many remain beyond --limit."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    rows = store.agenda.upcoming(
        who,
        espace,
        include_cancelled=include_cancelled,
        limit=page_limit(limit, all_rows),
        offset=offset,
    )

    def human(d: dict[str, Any]) -> None:
        table(
            ["appointment", "when", "with", "where", "status"],
            (
                [
                    r["appointment_id"],
                    day(r["starts_at"]),
                    r["with"],
                    r["place"],
                    r["status"],
                ]
                for r in d["appointments"]
            ),
        )
        page_footer(d, "appointments")

    emit(page("appointments", rows, rows.total, offset), as_json, human)


# --------------------------------------------------------------------- profile


@main.group("profile")
def profile_group() -> None:
    """PRO-1: the holder's medical profile; every change is kept."""


def profile_command(name: str, doc: str | None = None) -> Callable[[F], Any]:
    """A command of the profile: the holder's espace (--nir or --id) and who
    acts (--as-…) come first, then the command's own options."""

    def decorate(func: F) -> Any:
        return profile_group.command(name, help=doc)(espace_ref(actor_options()(func)))

    return decorate


@profile_command("measurements")
@click.option("--height", help="Height in centimetres, e.g. 172.")
@click.option("--weight", help="Weight in kilograms, e.g. 64.5.")
@click.pass_obj
def profile_measurements_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    height: str | None,
    weight: str | None,
) -> None:
    """PRO-1: height (cm) and weight (kg), refused outside plausible ranges."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    data = {"height_cm": height, "weight_kg": weight}
    emit(store.profile.record_measurements(who, espace, data), as_json)


@profile_command("add-allergy")
@click.option("--substance", required=True)
@click.option("--reaction")
@click.option("--severity", type=click.Choice(SEVERITIES), default="unknown")
@click.pass_obj
def profile_add_allergy_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    substance: str,
    reaction: str | None,
    severity: str,
) -> None:
    """PRO-1: record an allergy."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    data = {"substance": substance, "reaction": reaction, "severity": severity}
    emit(store.profile.record_allergy(who, espace, data), as_json)


@profile_command("add-condition")
@click.option("--name", required=True)
@click.option("--diagnosed-on", help="YYYY-MM-DD.")
@click.pass_obj
def profile_add_condition_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    name: str,
    diagnosed_on: str | None,
) -> None:
    """PRO-1: record a condition."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    data = {"name": name, "diagnosed_on": diagnosed_on}
    emit(store.profile.record_condition(who, espace, data), as_json)


@profile_command("add-treatment")
@click.option("--name", required=True)
@click.option("--dosage")
@click.option("--started-on", help="YYYY-MM-DD.")
@click.pass_obj
def profile_add_treatment_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    name: str,
    dosage: str | None,
    started_on: str | None,
) -> None:
    """PRO-1: record a treatment."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    data = {"name": name, "dosage": dosage, "started_on": started_on}
    emit(store.profile.record_treatment(who, espace, data), as_json)


@profile_command("add-vaccination")
@click.option("--vaccine", required=True)
@click.option("--given-on", required=True, help="YYYY-MM-DD.")
@click.option("--dose")
@click.pass_obj
def profile_add_vaccination_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    vaccine: str,
    given_on: str,
    dose: str | None,
) -> None:
    """PRO-1: record a vaccination."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    data = {"vaccine": vaccine, "given_on": given_on, "dose": dose}
    emit(store.profile.record_vaccination(who, espace, data), as_json)


@profile_command("remove")
@click.option("--section", required=True, type=click.Choice(sorted(SECTIONS)))
@click.option("--entry", required=True, help="The entry id.")
@click.pass_obj
def profile_remove_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    section: str,
    entry: str,
) -> None:
    """PRO-1: remove an entry (a treatment is stopped)."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    data = {"section": section, "entry_id": entry}
    emit(store.profile.remove_entry(who, espace, data), as_json)


@profile_command("trusted-person")
@click.option("--name", required=True)
@click.option("--relationship", required=True, type=click.Choice(RELATIONSHIPS))
@click.option("--phone")
@click.option("--email")
@click.pass_obj
def profile_trusted_person_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    name: str,
    relationship: str,
    phone: str | None,
    email: str | None,
) -> None:
    """PRO-1: designate the trusted person (reachable by phone or e-mail)."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    data = {"name": name, "relationship": relationship, "phone": phone, "email": email}
    emit(store.profile.designate_trusted_person(who, espace, data), as_json)


def _profile_read(
    name: str, doc: str, call: Callable[[Store, Actor, UUID], Any]
) -> None:
    """A command of the profile that takes nothing but who acts."""

    @profile_command(name, doc)
    @click.pass_obj
    def profile_cmd(
        session: Session,
        as_json: bool,
        nir: str | None,
        espace_id: UUID | None,
        actor: ActorFlags,
    ) -> None:
        store, espace, who = act_on(session, nir, espace_id, actor)
        emit(call(store, who, espace), as_json)


_profile_read(
    "revoke-trusted-person",
    "PRO-1: no trusted person any more.",
    lambda store, who, espace: store.profile.revoke_trusted_person(who, espace),
)
_profile_read(
    "show",
    "PRO-1: the profile as it stands (traced as a read, ACC-6).",
    lambda store, who, espace: store.profile.show(who, espace),
)
_profile_read(
    "history",
    "PRO-1: every change of the profile, oldest first (traced as a read, ACC-6).",
    lambda store, who, espace: store.profile.history(who, espace),
)


# --------------------------------------------------------------------- services


@main.group("services")
def services_group() -> None:
    """PRO-3: the catalogue of referenced services, and connections to them."""


@services_group.command("list")
@click.option("--category", type=click.Choice(CATEGORIES))
@click.pass_obj
def services_list_cmd(session: Session, as_json: bool, category: str | None) -> None:
    """PRO-3: the referenced services in force."""
    rows = session.store().catalogue.services(category)

    def human(data: list[dict[str, Any]]) -> None:
        table(
            ["service", "name", "provider", "category", "url"],
            (
                [r["service_id"], r["name"], r["provider"], r["category"], r["url"]]
                for r in data
            ),
        )

    emit(rows, as_json, human)


@services_group.command("publish")
@publish_options("catalogue")
@click.pass_obj
def services_publish_cmd(
    session: Session,
    as_json: bool,
    table: BinaryIO | None,
    version: int | None,
    dry_run: bool,
    allow_removals: bool,
) -> None:
    """PRO-3: publish a new catalogue version from a CSV (UTF-8: service_id,
    name, provider, category, description, url), every service in force on
    a row of its own (a service the file leaves out is refused unless
    --allow-removals); or publish an earlier --version again. Prints what
    changes; --dry-run publishes nothing."""
    catalogue = session.store().catalogue
    publish_table(
        table,
        version,
        lambda text, source: catalogue.publish(
            text, source, allow_removals=allow_removals, dry_run=dry_run
        ),
        lambda number: catalogue.republish(
            number, allow_removals=allow_removals, dry_run=dry_run
        ),
        as_json,
    )


@services_group.command("history")
@click.pass_obj
def services_history_cmd(session: Session, as_json: bool) -> None:
    """PRO-3: every published catalogue version, newest first: when, from
    which file, and what it changed."""
    emit(session.store().catalogue.history(), as_json, show_history)


def _service_command(name: str, doc: str, method: str) -> None:
    """``services connect|disconnect``: the holder and one service."""

    @services_group.command(name, help=doc)
    @espace_ref
    @actor_options()
    @click.option("--service", "service_id", required=True, help="The service id.")
    @click.pass_obj
    def service_cmd(
        session: Session,
        as_json: bool,
        nir: str | None,
        espace_id: UUID | None,
        actor: ActorFlags,
        service_id: str,
    ) -> None:
        store, espace, who = act_on(session, nir, espace_id, actor)
        emit(getattr(store.catalogue, method)(who, espace, service_id), as_json)


_service_command(
    "connect",
    "PRO-3: the holder connects a referenced service: an authorisation, traced "
    "in the access journal (ACC-6).",
    "connect",
)
_service_command(
    "disconnect",
    "PRO-3: the holder disconnects a service, at any time (traced, ACC-6).",
    "disconnect",
)


@services_group.command("connections")
@espace_ref
@actor_options()
@click.pass_obj
def services_connections_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
) -> None:
    """PRO-3: the services one holder has connected, to the holder or their
    representative; traced (ACC-6)."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    emit(store.catalogue.connections(who, espace), as_json)
