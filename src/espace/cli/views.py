"""The read models: one espace, lists and counts from the views, and the
views' own upkeep (status, quarantine, rebuild, continuous run)."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

import click

from espace.application.errors import InvalidInput, NotFound
from espace.application.schemas import parse_instant
from espace.cli.app import Session, main
from espace.cli.options import espace_ref, page_limit, paged, resolve
from espace.cli.render import day, emit, page, page_footer, progress_bar, table

STATES = [
    "affiliated",
    "notified",
    "opposed",
    "open",
    "active",
    "suspended",
    "closed",
    "erased",
]
"""The states an espace can be listed by."""


@main.command("show")
@espace_ref
@click.pass_obj
def show_cmd(
    session: Session, as_json: bool, nir: str | None, espace_id: UUID | None
) -> None:
    """One espace from the espaces view: state, key dates, next deadline."""
    store = session.store()
    key = resolve(store, nir, espace_id)
    row = store.views.espaces.get(key)
    if row is None:
        raise NotFound(f"no espace {key}")
    emit(row, as_json)


@main.command("list")
@click.option("--state", type=click.Choice(STATES))
@click.option(
    "--deadline-before", help="Only espaces whose next deadline is before (ISO)."
)
@paged(50)
@click.pass_obj
def list_cmd(
    session: Session,
    as_json: bool,
    state: str | None,
    deadline_before: str | None,
    limit: int,
    offset: int,
    all_rows: bool,
) -> None:
    """Espaces by state and next deadline (from the espaces view); says how
    many remain beyond --limit."""
    store = session.store()
    before = (
        parse_instant(deadline_before, "deadline_before") if deadline_before else None
    )
    total = store.views.espaces.count(state=state, deadline_before=before)
    rows = store.views.espaces.find(
        state=state,
        deadline_before=before,
        limit=page_limit(limit, all_rows),
        offset=offset,
    )

    def human(d: dict[str, Any]) -> None:
        table(
            ["espace id", "state", "affiliated", "next deadline", "due"],
            (
                [
                    r["espace_id"],
                    r["state"],
                    day(r["affiliated_at"]),
                    r["next_deadline_kind"],
                    day(r["next_deadline_at"]),
                ]
                for r in d["espaces"]
            ),
        )
        page_footer(d, "espaces")

    emit(page("espaces", rows, total, offset), as_json, human)


@main.command("stats")
@click.pass_obj
def stats_cmd(session: Session, as_json: bool) -> None:
    """Counts by state, pending and due deadlines, what the espaces hold
    (documents, messages, appointments, profiles, connections), view lag."""
    data = session.store().stats()

    def human(d: dict[str, Any]) -> None:
        table(["state", "espaces"], d["states"].items())
        table(
            ["deadline", "pending", "due now", "past its legal limit"],
            (
                [kind, c["pending"], c["due"], c["overdue"]]
                for kind, c in sorted(d["deadlines"].items())
            ),
        )
        table(
            ["held in the espaces", "count"],
            [
                *((f"documents: {k}", n) for k, n in sorted(d["documents"].items())),
                *((f"messaging: {k}", n) for k, n in d["messaging"].items()),
                *(
                    (f"appointments: {k}", n)
                    for k, n in sorted(d["appointments"].items())
                ),
                ("medical profiles", d["profiles"]),
                *(
                    (f"service connections: {k}", n)
                    for k, n in sorted(d["service_connections"].items())
                ),
                *(
                    (f"listed professionals: {k}", n)
                    for k, n in sorted(d["directory"].items())
                ),
            ],
        )
        behind = [v for v in d["views"] if v["lag"]]
        click.echo(
            f"views: {len(d['views'])}, behind: {len(behind)}, "
            f"quarantined events: {d['quarantined']}"
        )

    emit(data, as_json, human)


# --------------------------------------------------------------------- projections


@main.group("projections")
def projections_group() -> None:
    """The read models: status, rebuild, continuous run."""


@projections_group.command("status")
@click.pass_obj
def projections_status_cmd(session: Session, as_json: bool) -> None:
    """Each view's position in the event log and its lag."""
    rows = [v.__dict__ for v in session.store().view_status()]

    def human(data: list[dict[str, Any]]) -> None:
        table(
            ["view", "position", "head", "lag", "quarantined", "caught up"],
            (
                [
                    r["name"],
                    r["position"],
                    r["head"],
                    r["lag"],
                    r["quarantined"],
                    "after each command" if r["after_commands"] else "by the runner",
                ]
                for r in data
            ),
        )
        if any(r["quarantined"] for r in data):
            click.echo("see them with: espace projections quarantine")
        if any(r["lag"] and not r["after_commands"] for r in data):
            click.echo(
                "the audit tree follows `espace projections run` (or --once), the "
                "deadline job and the audit commands (ADR-0023)"
            )

    emit(rows, as_json, human)


@projections_group.command("quarantine")
@click.option("--view", help="Only the events this view skipped.")
@click.option("--id", "espace_id", type=click.UUID, help="Only this espace's events.")
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1, 100_000)
)
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@click.pass_obj
def projections_quarantine_cmd(
    session: Session,
    as_json: bool,
    view: str | None,
    espace_id: UUID | None,
    limit: int,
    offset: int,
) -> None:
    """Events a view skipped (ADR-0018): where each is (log position,
    aggregate and version, espace), which view, and why. "damaged": the event
    cannot be opened (altered, or its key is damaged); "unapplied": the view
    could not apply it. The other events and views went on."""
    rows, total = session.store().quarantined(
        view=view, espace_id=espace_id, limit=limit, offset=offset
    )
    data = {"total": total, "shown": len(rows), "offset": offset, "events": rows}

    def human(d: dict[str, Any]) -> None:
        table(
            ["position", "view", "kind", "aggregate", "version", "espace", "why"],
            (
                [
                    r["notification_id"],
                    r["view"],
                    r["kind"],
                    r["originator_id"],
                    r["originator_version"],
                    r["espace_id"],
                    r["error"],
                ]
                for r in d["events"]
            ),
        )
        rest = d["total"] - d["offset"] - d["shown"]
        if rest > 0:
            click.echo(f"{rest} more: use --offset {d['offset'] + d['shown']}")

    emit(data, as_json, human)


@projections_group.command("rebuild")
@click.option(
    "--view", "views", multiple=True, help="A view name (repeatable); default all."
)
@click.pass_obj
def projections_rebuild_cmd(
    session: Session, as_json: bool, views: tuple[str, ...]
) -> None:
    """Drop the views' rows and rebuild them from the start of the log."""
    store = session.store()
    known = {v.name for v in store.view_status()}
    unknown = sorted(set(views) - known)
    if unknown:
        raise InvalidInput({"--view": [f"unknown view(s): {', '.join(unknown)}"]})
    with progress_bar("events", store.head()) as advance:
        rebuilt = store.rebuild_views(list(views) or None, progress=advance)
    emit(rebuilt, as_json)


@projections_group.command("run")
@click.option(
    "--poll-interval", default=1.0, show_default=True, type=click.FloatRange(0.05)
)
@click.option(
    "--once",
    is_flag=True,
    help="Catch every view (the audit tree too) up to the log's head, print "
    "the events applied to each, and exit: for cron, or after a batch.",
)
@click.pass_obj
def projections_run_cmd(
    session: Session, as_json: bool, poll_interval: float, once: bool
) -> None:
    """Keep the views up to date (LISTEN/NOTIFY on PostgreSQL), until Ctrl-C."""
    store = session.store()
    if once:
        emit(store.sync(), as_json)
        return
    stop = threading.Event()
    try:
        store.run_views(stop, poll_interval=poll_interval)
    except KeyboardInterrupt:
        stop.set()
