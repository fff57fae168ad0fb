"""The espace's commands beyond the record: the directory of professionals
(PRO-2), secure messaging (MSG-1..MSG-5), the agenda (AG-1), the medical
profile (PRO-1) and the service catalogue (PRO-3)."""

from __future__ import annotations

import mimetypes
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import click

from espace.api import Store
from espace.application.directory import read_extract
from espace.application.errors import InvalidInput
from espace.application.messaging import NewFile
from espace.cli import (
    Context,
    command,
    emit,
    espace_ref,
    file_name,
    main,
    new_table,
    page,
    page_footer,
    page_limit,
    paged,
    progress_bar,
    publish_options,
    publish_table,
    read_document,
    resolve,
    show,
    show_history,
)
from espace.cli.actors import actor_options, resolve_actor
from espace.domain.access import PROFESSIONS, Actor
from espace.domain.catalogue import CATEGORIES
from espace.domain.profile import RELATIONSHIPS, SECTIONS, SEVERITIES


def _espace(store: Store, nir: str | None, espace_id: UUID | None) -> UUID | None:
    """The espace when given (the holder side needs it)."""
    if nir is None and espace_id is None:
        return None
    return resolve(store, nir, espace_id)


def _table(columns: list[str], rows: list[list[Any]]) -> None:
    table = new_table(*columns)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    show(table)


def _place(p: dict[str, Any]) -> str:
    parts = (p["site"], p["postal_code"], p["city"])
    return " ".join(str(v) for v in parts if v)


def _when(value: Any) -> str:
    return value.isoformat(timespec="minutes") if value is not None else ""


# --------------------------------------------------------------------- directory


@main.group("directory")
def directory_group() -> None:
    """PRO-2: the directory of professionals (the national extract)."""


@command(directory_group, "import")
@click.argument("extract", type=click.File("rb"))
@click.option(
    "--full",
    is_flag=True,
    help="The extract is the whole directory: listed professionals absent from "
    "it are withdrawn and act on no espace any more (PRO-2).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read and check everything, say what would change; save nothing.",
)
@click.option(
    "--max-withdrawn",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0, 100),
    help="With --full: withdraw nobody if more than this percentage of the "
    "listed professionals are absent from the extract.",
)
@click.option(
    "--force", is_flag=True, help="With --full: withdraw the absent however many."
)
@click.option(
    "--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000)
)
def directory_import_cmd(
    ctx: Context,
    as_json: bool,
    extract: BinaryIO,
    full: bool,
    dry_run: bool,
    max_withdrawn: float,
    force: bool,
    batch_size: int,
) -> None:
    """PRO-2: import "PS_LibreAcces_Personne_activite" (UTF-8, `|`-separated,
    header row, trailing `|`, one row per activity; - for stdin).

    \b
    Columns are read by name: Identification nationale PP, Type d'identifiant
    PP, Nom d'exercice, Prénom d'exercice, Code profession, Libellé profession,
    Code savoir-faire, Libellé savoir-faire, Code mode exercice, Raison sociale
    site, Code postal / Libellé commune / Bureau cedex (coord. structure).
    IdNatPS are checked (ID-3). A bad row, or a line that cannot be read (not
    UTF-8, over 1 MiB, another number of fields than the header), is reported
    with its line number and does not stop the others; rows of professions
    the access matrix does not know are counted as skipped; re-importing an
    unchanged extract writes nothing. The rows that pass are saved even when
    others are rejected: run the corrected file again.

    \b
    With --full, the listed professionals absent from the extract are listed
    (the first 20, and how many), and withdrawn only if no row was rejected
    and they are at most --max-withdrawn % of the directory, or with --force.
    --dry-run shows all of this and saves nothing.
    Exit code 2 when any row was rejected, 3 when --full withdrew nobody
    because too many were absent.
    """
    rows = read_extract(extract)
    store = ctx.open()
    with progress_bar("professionals", None) as advance:
        report = store.directory.import_rows(
            rows,
            full=full,
            batch_size=batch_size,
            progress=advance,
            dry_run=dry_run,
            max_withdrawn=max_withdrawn / 100,
            force=force,
        )
    name = file_name(extract)

    def human(d: dict[str, Any]) -> None:
        if d["dry_run"]:
            click.echo("dry run: nothing was saved; the counts are what would be")
        click.echo(
            f"{d['file']}: rows {d['rows']}: created {d['created']}, "
            f"updated {d['updated']}, unchanged {d['unchanged']}, "
            f"withdrawn {d['withdrawn']}, rejected {len(d['rejected'])}"
        )
        for profession, n in d["skipped_professions"].items():
            click.echo(f"  skipped (profession {profession}): {n}")
        for r in d["rejected"]:
            reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in r["fields"].items())
            click.echo(f"  {d['file']} line {r['line']}: {reasons}")
        if full:
            click.echo(
                f"  --full: {d['absent']} of {d['listed']} listed are absent from "
                f"the extract: {', '.join(d['absent_sample']) or 'nobody'}"
                + (" …" if d["absent"] > len(d["absent_sample"]) else "")
            )
        if d.get("withdrawal_skipped"):
            click.echo(f"  --full: {d['withdrawal_skipped']} (--force)")

    emit({"file": name, **report.as_dict()}, as_json, human)
    if report.rejected:
        sys.exit(2)
    if report.withdrawal_skipped:
        sys.exit(3)


SEARCH_PAGE = 10_000
"""The most rows one directory search returns (--all pages through them)."""


@command(directory_group, "search")
@click.option("--name", help="Part of the name (accents and case ignored).")
@click.option("--profession", type=click.Choice(PROFESSIONS))
@click.option("--city", help="A city (or its start), or a postal code prefix.")
@paged(50)
def directory_search_cmd(
    ctx: Context,
    as_json: bool,
    name: str | None,
    profession: str | None,
    city: str | None,
    limit: int,
    offset: int,
    all_rows: bool,
) -> None:
    """PRO-2: find professionals by name, profession and city; says how many
    match beyond --limit."""
    store = ctx.open()

    def search(at: int, size: int) -> Any:
        return store.directory.search(
            name=name, profession=profession, city=city, limit=size, offset=at
        )

    rows = search(offset, SEARCH_PAGE if all_rows else limit)
    while all_rows and offset + len(rows) < rows.total:  # --all: page by page
        more = search(offset + len(rows), SEARCH_PAGE)
        if not more:
            break
        rows.extend(more)

    def human(d: dict[str, Any]) -> None:
        data = d["professionals"]
        _table(
            ["IdNatPS", "name", "profession", "specialties", "places"],
            [
                [
                    r["idnatps"],
                    f"{r['first_name'] or ''} {r['last_name']}".strip(),
                    r["profession"],
                    r["specialties"],
                    "; ".join(_place(p) for p in r["places"]),
                ]
                for r in data
            ],
        )
        page_footer(d, "professionals")

    emit(page("professionals", rows, rows.total, offset), as_json, human)


@command(directory_group, "show")
@click.option(
    "--professional",
    "--idnatps",
    "idnatps",
    required=True,
    metavar="IDNATPS",
    help="The professional concerned, by IdNatPS (ID-3), as in every command.",
)
def directory_show_cmd(ctx: Context, as_json: bool, idnatps: str) -> None:
    """PRO-2: one professional of the directory, with their places of practice."""
    store = ctx.open()
    emit(store.directory.get(idnatps), as_json)


# --------------------------------------------------------------------- messages


@main.group("message")
def message_group() -> None:
    """MSG-1..MSG-5: secure messaging between professionals and holders."""


conversation_option = click.option(
    "--conversation",
    "conversation_id",
    required=True,
    type=click.UUID,
    help="The conversation id.",
)
attach_options = [
    click.option(
        "--attach",
        "attach",
        multiple=True,
        type=click.File("rb"),
        help="A file to attach (repeatable; DOC-1 formats, MSG-4).",
    ),
    click.option(
        "--attach-document",
        "attach_document",
        multiple=True,
        type=click.UUID,
        help="A document of the holder's DMP to refer to (repeatable, MSG-4).",
    ),
]


def with_attachments(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(attach_options):
        func = option(func)
    return func


def _files(streams: tuple[BinaryIO, ...]) -> list[NewFile]:
    files = []
    for stream in streams:
        name = Path(stream.name).name
        guessed, _ = mimetypes.guess_type(name)
        if guessed is None:
            raise InvalidInput({"attach": [f"cannot tell the format of {name}"]})
        files.append(NewFile(name, guessed, read_document(stream, "attach")))
    return files


@command(message_group, "open")
@espace_ref
@actor_options(establishment=True)
@click.option("--subject", required=True, help="The subject (sealed, SEC-1).")
@click.option("--body", required=True, help="The first message.")
@with_attachments
def message_open_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """MSG-1: a professional or an establishment starts a conversation with a
    holder (never the holder); MSG-5: the espace must be open or activated."""
    store = ctx.open()
    espace_id = resolve(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    result = store.messaging.open(
        actor,
        espace_id,
        {"subject": kw["subject"], "body": kw["body"]},
        files=_files(kw["attach"]),
        documents=list(kw["attach_document"]),
    )
    emit(result, as_json)


@command(message_group, "reply")
@conversation_option
@espace_ref
@actor_options(establishment=True)
@click.option("--body", required=True, help="The message.")
@with_attachments
def message_reply_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """The holder replies (or the professional writes again); MSG-3: refused
    once the professional has ended the conversation."""
    store = ctx.open()
    espace_id = _espace(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    result = store.messaging.reply(
        actor,
        kw["conversation_id"],
        {"body": kw["body"]},
        files=_files(kw["attach"]),
        documents=list(kw["attach_document"]),
    )
    emit(result, as_json)


@command(message_group, "end")
@conversation_option
@actor_options(establishment=True)
def message_end_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """MSG-3: the professional who opened the conversation ends it; the holder
    can no longer reply."""
    store = ctx.open()
    actor = resolve_actor(kw, None)
    emit(store.messaging.end(actor, kw["conversation_id"]), as_json)


@command(message_group, "read")
@conversation_option
@espace_ref
@actor_options(establishment=True)
def message_read_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """A conversation as one party sees it; marks the other side's messages
    read (read receipts). The holder sees names, never addresses (MSG-2)."""
    store = ctx.open()
    espace_id = _espace(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    result = store.messaging.read(actor, kw["conversation_id"])

    def human(d: dict[str, Any]) -> None:
        click.echo(f"{d['subject']}  ({d['opened_by']['name']})")
        for m in d["messages"]:
            read = f", read {_when(m['read_at'])}" if m["read_at"] else ""
            click.echo(
                f"#{m['message_no']} {m['author']} {_when(m['posted_at'])}{read}"
            )
            click.echo(f"  {m['body']}")
            for a in m["attachments"]:
                click.echo(f"  [{a['kind']}] {a.get('filename') or a['document_id']}")
        if d["ended_at"]:
            click.echo(f"ended {_when(d['ended_at'])}")

    emit(result, as_json, human)


@command(message_group, "inbox")
@espace_ref
@actor_options(establishment=True)
@paged(50)
def message_inbox_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """The conversations of one actor, latest first, with unread counts (MSG-5:
    the holder's inbox exists once the espace is open or activated)."""
    store = ctx.open()
    espace_id = _espace(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    limit = page_limit(kw["limit"], kw["all_rows"])
    rows = store.messaging.inbox(actor, limit=limit, offset=kw["offset"])

    def human(d: dict[str, Any]) -> None:
        data = d["conversations"]
        _table(
            ["conversation", "with", "subject", "last", "messages", "unread", "ended"],
            [
                [
                    r["conversation_id"],
                    r.get("counterpart_name") or r.get("holder_name"),
                    r["subject"],
                    _when(r["last_posted_at"]),
                    r["messages"],
                    r["unread"],
                    _when(r["ended_at"]),
                ]
                for r in data
            ],
        )
        page_footer(d, "conversations")

    emit(page("conversations", rows, rows.total, kw["offset"]), as_json, human)


@command(message_group, "add-to-record")
@conversation_option
@espace_ref
@actor_options()
@click.option("--attachment", "attachment_id", required=True, type=click.UUID)
@click.option("--loinc", required=True, help="LOINC type code of the document (DOC-1).")
@click.option("--title", help="The document's title (default: the file name).")
@click.option("--care-time", help="Time of care (ISO 8601; default: the message's).")
def message_add_to_record_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """MSG-4: the holder adds a file attachment to their DMP, as a
    patient-uploaded document (traced, ACC-6); once per attachment."""
    store = ctx.open()
    espace_id = _espace(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    meta = {
        "loinc_code": kw["loinc"],
        "title": kw["title"],
        "care_time": kw["care_time"],
    }
    result = store.messaging.add_to_record(
        actor, kw["conversation_id"], kw["attachment_id"], meta
    )
    emit(result, as_json)


@command(message_group, "attachment")
@conversation_option
@espace_ref
@actor_options(establishment=True)
@click.option("--attachment", "attachment_id", required=True, type=click.UUID)
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the file.",
)
def message_attachment_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """MSG-4: save an attached file (a actor to the conversation only)."""
    store = ctx.open()
    espace_id = _espace(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    result = store.messaging.attachment(
        actor, kw["conversation_id"], kw["attachment_id"]
    )
    content: bytes = result.pop("content")
    kw["output"].write_bytes(content)
    result["written_to"] = str(kw["output"])
    emit(result, as_json)


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


@command(agenda_group, "add")
@espace_ref
@actor_options()
@click.option("--with-professional", help="Who: a professional's IdNatPS (PRO-2).")
@click.option("--with", "with_label", help="Who, as free text (not in the directory).")
@click.option("--at", "starts_at", required=True, help="When (ISO 8601 with offset).")
@click.option("--place", help="Where.")
@click.option("--reason", help="Why (health data: sealed, never in a view).")
def agenda_add_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """AG-1: the holder or a professional creates an appointment in the future."""
    store = ctx.open()
    espace_id = resolve(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    data = {
        "with_professional": kw["with_professional"],
        "with": kw["with_label"],
        "starts_at": kw["starts_at"],
        "place": kw["place"],
        "reason": kw["reason"],
    }
    emit(store.agenda.schedule(actor, espace_id, data), as_json)


@command(agenda_group, "move")
@appointment_option
@espace_ref
@actor_options()
@click.option("--at", "starts_at", required=True, help="The new time (ISO 8601).")
@click.option("--place", help="A new place (default: unchanged).")
def agenda_move_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """AG-1: move an appointment still to come to a new time."""
    store = ctx.open()
    espace_id = _espace(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    data = {"starts_at": kw["starts_at"], "place": kw["place"]}
    emit(store.agenda.move(actor, kw["appointment_id"], data), as_json)


@command(agenda_group, "cancel")
@appointment_option
@espace_ref
@actor_options()
def agenda_cancel_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """AG-1: cancel an appointment still to come."""
    store = ctx.open()
    espace_id = _espace(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    emit(store.agenda.cancel(actor, kw["appointment_id"]), as_json)


@command(agenda_group, "list")
@espace_ref
@actor_options()
@click.option("--include-cancelled", is_flag=True, help="Cancelled ones too.")
@paged(100)
def agenda_list_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """AG-1: upcoming appointments, soonest first (a professional sees theirs);
    says how many remain beyond --limit."""
    store = ctx.open()
    espace_id = resolve(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    rows = store.agenda.upcoming(
        actor,
        espace_id,
        include_cancelled=kw["include_cancelled"],
        limit=page_limit(kw["limit"], kw["all_rows"]),
        offset=kw["offset"],
    )

    def human(d: dict[str, Any]) -> None:
        _table(
            ["appointment", "when", "with", "where", "status"],
            [
                [
                    r["appointment_id"],
                    _when(r["starts_at"]),
                    r["with"],
                    r["place"],
                    r["status"],
                ]
                for r in d["appointments"]
            ],
        )
        page_footer(d, "appointments")

    emit(page("appointments", rows, rows.total, kw["offset"]), as_json, human)


# --------------------------------------------------------------------- profile


@main.group("profile")
def profile_group() -> None:
    """PRO-1: the holder's medical profile; every change is kept."""


def _profile_command(
    name: str,
    doc: str,
    options: list[Any],
    call: Callable[[Store, Actor, UUID, dict[str, Any]], Any],
) -> None:
    @command(profile_group, name, help=doc)
    @espace_ref
    @actor_options()
    def profile_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
        store = ctx.open()
        espace_id = resolve(store, kw.pop("nir"), kw.pop("espace_id"))
        actor = resolve_actor(kw, espace_id)
        emit(call(store, actor, espace_id, kw), as_json)

    for option in options:
        profile_cmd.params.append(option)
    profile_cmd.__name__ = f"profile_{name.replace('-', '_')}_cmd"


def _data(kw: dict[str, Any], **names: str) -> dict[str, Any]:
    return {field: kw.get(option) for field, option in names.items()}


_profile_command(
    "measurements",
    "PRO-1: height (cm) and weight (kg), refused outside plausible ranges.",
    [
        click.Option(["--height"], help="Height in centimetres, e.g. 172."),
        click.Option(["--weight"], help="Weight in kilograms, e.g. 64.5."),
    ],
    lambda s, a, e, kw: s.profile.record_measurements(
        a, e, _data(kw, height_cm="height", weight_kg="weight")
    ),
)
_profile_command(
    "add-allergy",
    "PRO-1: record an allergy.",
    [
        click.Option(["--substance"], required=True),
        click.Option(["--reaction"]),
        click.Option(["--severity"], type=click.Choice(SEVERITIES), default="unknown"),
    ],
    lambda s, a, e, kw: s.profile.record_allergy(
        a, e, _data(kw, substance="substance", reaction="reaction", severity="severity")
    ),
)
_profile_command(
    "add-condition",
    "PRO-1: record a condition.",
    [
        click.Option(["--name"], required=True),
        click.Option(["--diagnosed-on"], help="YYYY-MM-DD."),
    ],
    lambda s, a, e, kw: s.profile.record_condition(
        a, e, _data(kw, name="name", diagnosed_on="diagnosed_on")
    ),
)
_profile_command(
    "add-treatment",
    "PRO-1: record a treatment.",
    [
        click.Option(["--name"], required=True),
        click.Option(["--dosage"]),
        click.Option(["--started-on"], help="YYYY-MM-DD."),
    ],
    lambda s, a, e, kw: s.profile.record_treatment(
        a, e, _data(kw, name="name", dosage="dosage", started_on="started_on")
    ),
)
_profile_command(
    "add-vaccination",
    "PRO-1: record a vaccination.",
    [
        click.Option(["--vaccine"], required=True),
        click.Option(["--given-on"], required=True, help="YYYY-MM-DD."),
        click.Option(["--dose"]),
    ],
    lambda s, a, e, kw: s.profile.record_vaccination(
        a, e, _data(kw, vaccine="vaccine", given_on="given_on", dose="dose")
    ),
)
_profile_command(
    "remove",
    "PRO-1: remove an entry (a treatment is stopped).",
    [
        click.Option(["--section"], required=True, type=click.Choice(sorted(SECTIONS))),
        click.Option(["--entry"], required=True, help="The entry id."),
    ],
    lambda s, a, e, kw: s.profile.remove_entry(
        a, e, _data(kw, section="section", entry_id="entry")
    ),
)
_profile_command(
    "trusted-person",
    "PRO-1: designate the trusted person (reachable by phone or e-mail).",
    [
        click.Option(["--name"], required=True),
        click.Option(
            ["--relationship"], required=True, type=click.Choice(RELATIONSHIPS)
        ),
        click.Option(["--phone"]),
        click.Option(["--email"]),
    ],
    lambda s, a, e, kw: s.profile.designate_trusted_person(
        a,
        e,
        _data(
            kw, name="name", relationship="relationship", phone="phone", email="email"
        ),
    ),
)
_profile_command(
    "revoke-trusted-person",
    "PRO-1: no trusted person any more.",
    [],
    lambda s, a, e, kw: s.profile.revoke_trusted_person(a, e),
)
_profile_command(
    "show",
    "PRO-1: the profile as it stands (traced as a read, ACC-6).",
    [],
    lambda s, a, e, kw: s.profile.show(a, e),
)
_profile_command(
    "history",
    "PRO-1: every change of the profile, oldest first (traced as a read, ACC-6).",
    [],
    lambda s, a, e, kw: s.profile.history(a, e),
)


# --------------------------------------------------------------------- services


@main.group("services")
def services_group() -> None:
    """PRO-3: the catalogue of referenced services, and connections to them."""


@command(services_group, "list")
@click.option("--category", type=click.Choice(CATEGORIES))
def services_list_cmd(ctx: Context, as_json: bool, category: str | None) -> None:
    """PRO-3: the referenced services in force."""
    store = ctx.open()
    rows = store.catalogue.services(category)

    def human(data: list[dict[str, Any]]) -> None:
        _table(
            ["service", "name", "provider", "category", "url"],
            [
                [r["service_id"], r["name"], r["provider"], r["category"], r["url"]]
                for r in data
            ],
        )

    emit(rows, as_json, human)


@command(services_group, "publish")
@publish_options("catalogue")
def services_publish_cmd(
    ctx: Context,
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
    catalogue = ctx.open().catalogue
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


@command(services_group, "history")
def services_history_cmd(ctx: Context, as_json: bool) -> None:
    """PRO-3: every published catalogue version, newest first: when, from
    which file, and what it changed."""
    emit(ctx.open().catalogue.history(), as_json, show_history)


def _service_command(name: str, doc: str, method: str) -> None:
    @command(services_group, name, help=doc)
    @espace_ref
    @actor_options()
    @click.option("--service", "service_id", required=True, help="The service id.")
    def service_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
        store = ctx.open()
        espace_id = resolve(store, kw.pop("nir"), kw.pop("espace_id"))
        actor = resolve_actor(kw, espace_id)
        emit(
            getattr(store.catalogue, method)(actor, espace_id, kw["service_id"]),
            as_json,
        )

    service_cmd.__name__ = f"services_{name}_cmd"


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


@command(services_group, "connections")
@espace_ref
@actor_options()
def services_connections_cmd(ctx: Context, as_json: bool, **kw: Any) -> None:
    """PRO-3: the services one holder has connected, to the holder or their
    representative; traced (ACC-6)."""
    store = ctx.open()
    espace_id = resolve(store, kw.pop("nir"), kw.pop("espace_id"))
    actor = resolve_actor(kw, espace_id)
    emit(store.catalogue.connections(actor, espace_id), as_json)
