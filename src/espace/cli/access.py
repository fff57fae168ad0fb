"""Who may read the record (ACC-*): the holder's consent choices and heirs
(LC-11), the access journal, notifications, and the access matrix."""

from __future__ import annotations

from typing import Any, BinaryIO
from uuid import UUID

import click

from espace.application.delimited import read_text
from espace.application.errors import InvalidInput
from espace.application.record_consent import CHOICES
from espace.application.tables import matrix_to_csv, types_to_csv
from espace.cli.actors import ActorFlags, act_on, actor_options
from espace.cli.app import Session, main
from espace.cli.options import (
    espace_ref,
    file_name,
    page_limit,
    paged,
    publish_options,
    publish_table,
    resolve,
    show_history,
)
from espace.cli.records import holder_espace
from espace.cli.render import emit, page, page_footer, table
from espace.domain.document_metadata import Category

# --------------------------------------------------------------------- consent


@main.group("consent")
def consent_group() -> None:
    """The holder's access choices (ACC-1, ACC-2, ACC-4, ACC-5), and heirs (LC-11)."""


def _consent_command(choice: str, doc: str) -> None:
    """``consent CHOICE``: the holder (or their representative) chooses."""
    needs_pro = CHOICES[choice].about_professional

    @consent_group.command(choice, help=doc)
    @espace_ref
    @actor_options(heir=True)
    @click.pass_obj
    def consent_cmd(
        session: Session,
        as_json: bool,
        nir: str | None,
        espace_id: UUID | None,
        actor: ActorFlags,
        professional: str | None = None,
    ) -> None:
        store, espace, who = act_on(session, nir, espace_id, actor)
        pro = None
        if needs_pro:
            # the directory says their profession (PRO-2)
            pro = {"idnatps": professional, "profession": None}
        emit(store.records.consent(who, espace, choice, pro), as_json)

    if needs_pro:
        consent_cmd.params.append(
            click.Option(
                ["--professional"],
                required=True,
                metavar="IDNATPS",
                help="The professional concerned (ID-3); the directory says "
                "their profession (PRO-2).",
            )
        )


for _choice, _kind in CHOICES.items():
    _consent_command(_choice, _kind.does)


@consent_group.command("declare")
@espace_ref
@actor_options(heir=True)
@click.pass_obj
def consent_declare_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
) -> None:
    """ACC-1: a professional declares the consent the holder gave during care."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    emit(store.records.declare_consent(who, espace), as_json)


@consent_group.command("show")
@espace_ref
@actor_options()
@click.pass_obj
def consent_show_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
) -> None:
    """ACC-1..ACC-5: the holder's current choices, to the holder or their
    representative; traced (ACC-6)."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    emit(store.records.consent_view(who, espace), as_json)


@consent_group.command("grant-heir")
@espace_ref
@click.option("--heir-id", required=True, help="How the heir is identified.")
@click.option(
    "--relationship",
    required=True,
    type=click.Choice(["heir", "cohabitant", "pacs_partner"]),
)
@click.pass_obj
def grant_heir_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    heir_id: str,
    relationship: str,
) -> None:
    """LC-11: give an heir read access to a deceased holder's archive."""
    store = session.store()
    emit(
        store.records.grant_heir_access(
            resolve(store, nir, espace_id),
            {"heir_id": heir_id, "relationship": relationship},
        ),
        as_json,
    )


# --------------------------------------------------------------------- journal


@main.command("journal")
@espace_ref
@actor_options(heir=True)
@paged(100)
@click.pass_obj
def journal_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    limit: int,
    offset: int,
    all_rows: bool,
) -> None:
    """ACC-6: the access journal, newest first (all of it for the holder and
    the médecin traitant; a professional's own actions otherwise); says how
    many remain beyond --limit."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    total = store.records.journal_total(who, espace)
    rows = store.records.journal(
        who, espace, limit=page_limit(limit, all_rows), offset=offset
    )

    def human(d: dict[str, Any]) -> None:
        table(
            ["at", "actor", "action", "allowed", "ground / rule", "document"],
            (
                [
                    r["at"].isoformat(timespec="seconds"),
                    f"{r['actor_kind']} {r['actor_id']}",
                    r["action"] + ("" if r["mode"] == "care" else f" ({r['mode']})"),
                    "yes" if r["allowed"] else "no",
                    r["ground"] or r["rule"],
                    r["document_id"],
                ]
                for r in d["traces"]
            ),
        )
        page_footer(d, "traces")

    emit(page("traces", rows, total, offset), as_json, human)


# --------------------------------------------------------------------- notifications


@main.group("notifications")
def notifications_group() -> None:
    """Notifications to holders and médecins traitants (ACC-5, DOC-5)."""


@notifications_group.command("pending")
@click.option("--nir", help="Only this holder's espace.")
@click.pass_obj
def notifications_pending_cmd(session: Session, as_json: bool, nir: str | None) -> None:
    """Notifications not delivered yet."""
    store = session.store()
    emit(store.records.pending_notifications(holder_espace(store, nir)), as_json)


@notifications_group.command("deliver")
@click.option("--alert", "alert_id", required=True, type=click.UUID)
@click.option(
    "--channel", default="app", type=click.Choice(["app", "email", "sms", "post"])
)
@click.pass_obj
def notifications_deliver_cmd(
    session: Session, as_json: bool, alert_id: UUID, channel: str
) -> None:
    """Mark a notification as delivered."""
    session.store().records.deliver_notification(alert_id, channel)
    emit({"alert_id": str(alert_id), "delivered": True, "channel": channel}, as_json)


# --------------------------------------------------------------------- matrix


@main.group("matrix")
def matrix_group() -> None:
    """ACC-3: the access matrix (profession x category), versioned data."""


@matrix_group.command("show")
@click.option(
    "--version", "version", type=click.IntRange(1), help="An earlier version."
)
@click.option(
    "--csv", "as_csv", is_flag=True, help="As the CSV `matrix publish` takes."
)
@click.option(
    "--types",
    "types",
    is_flag=True,
    help="The version's document types instead (DOC-1): code, name, category.",
)
@click.pass_obj
def matrix_show_cmd(
    session: Session, as_json: bool, version: int | None, as_csv: bool, types: bool
) -> None:
    """The matrix in force (or --version N): every category a column, then
    a column for each document type with rights of its own (empty: the
    category's). The table `matrix publish` takes; --types shows the type
    list it came with (`matrix publish --types` takes it)."""
    matrix = session.store().records.matrix(version)
    if types:
        listed = [
            {"code": t.code, "display": t.display, "category": t.category}
            for t in sorted(matrix.types.values(), key=lambda t: t.code)
        ]
        if as_csv:
            click.echo(types_to_csv(matrix.types), nl=False)
            return
        emit({"version": matrix.version, "types": listed}, as_json)
        return
    if as_csv:
        click.echo(matrix_to_csv(matrix), nl=False)
        return
    categories = [c.value for c in Category]
    own = sorted({c for rights in matrix.by_type.values() for c in rights})
    data = {
        "version": matrix.version,
        "allowed": matrix.to_rows(),
        "by_type": {p: dict(r) for p, r in sorted(matrix.by_type.items())},
    }

    def human(d: dict[str, Any]) -> None:
        def row(profession: str, allowed: list[str]) -> list[Any]:
            rights = d["by_type"].get(profession, {})
            return [
                profession,
                *("1" if c in allowed else "0" for c in categories),
                *(int(rights[c]) if c in rights else "" for c in own),
            ]

        table(
            ["profession", *categories, *own],
            (row(p, allowed) for p, allowed in d["allowed"].items()),
            title=f"version {d['version']}",
        )

    emit(data, as_json, human)


@matrix_group.command("history")
@click.pass_obj
def matrix_history_cmd(session: Session, as_json: bool) -> None:
    """Every published version, newest first: when, from which file, and what
    it changed (professions added, removed, with other rights)."""
    emit(session.store().records.matrix_history(), as_json, show_history)


@matrix_group.command("publish")
@publish_options("matrix")
@click.option(
    "--types",
    "types",
    type=click.File("rb"),
    help="The document types that come with it (DOC-1): a CSV of code, display, "
    "category (default: the list in force; see `matrix show --types --csv`).",
)
@click.pass_obj
def matrix_publish_cmd(
    session: Session,
    as_json: bool,
    table: BinaryIO | None,
    version: int | None,
    dry_run: bool,
    allow_removals: bool,
    types: BinaryIO | None,
) -> None:
    """Publish a new version from a CSV (UTF-8): profession + one 0/1 column
    per category, then optionally a column per document type with rights of
    its own (0, 1, or empty for its category's), every profession in force
    on a row of its own (a profession or type the files leave out is refused
    unless --allow-removals); or publish an earlier --version again. Prints
    what changes; --dry-run publishes nothing."""
    records = session.store().records
    if types is not None and version is not None:
        raise InvalidInput({"--types": ["a version published again keeps its types"]})
    type_list = read_text(types, file_name(types)) if types is not None else None
    publish_table(
        table,
        version,
        lambda text, source: records.publish_matrix(
            text,
            source,
            types=type_list,
            allow_removals=allow_removals,
            dry_run=dry_run,
        ),
        lambda number: records.republish_matrix(
            number, allow_removals=allow_removals, dry_run=dry_run
        ),
        as_json,
    )
