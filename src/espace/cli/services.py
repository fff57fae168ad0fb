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
from espace.cli.actors import ActorFlags, act_on, actor_options
from espace.cli.app import Session, main
from espace.cli.options import (
    F,
    apply,
    espace_ref,
    file_name,
    page_limit,
    paged,
    publish_options,
    publish_table,
    read_document,
    resolve,
    show_history,
)
from espace.cli.render import (
    day,
    emit,
    page,
    page_footer,
    progress_bar,
    show_rejected,
    table,
)
from espace.domain.access import PROFESSIONS, Actor
from espace.domain.catalogue import CATEGORIES
from espace.domain.profile import RELATIONSHIPS, SECTIONS, SEVERITIES


@main.group("directory")
def directory_group() -> None:
    """PRO-2: the directory of professionals (the national extract)."""


@directory_group.command("import")
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
@click.pass_obj
def directory_import_cmd(
    session: Session,
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
    store = session.store()
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
        show_rejected(d["file"], d["rejected"])
        if full:
            click.echo(
                f"  --full: {d['absent']} of {d['listed']} listed are absent from "
                f"the extract: {', '.join(d['absent_sample']) or 'nobody'}"
                + (" …" if d["absent"] > len(d["absent_sample"]) else "")
            )
        if d.get("withdrawal_skipped"):
            click.echo(f"  --full: {d['withdrawal_skipped']} (--force)")

    emit({"file": file_name(extract), **report.as_dict()}, as_json, human)
    if report.rejected:
        sys.exit(2)
    if report.withdrawal_skipped:
        sys.exit(3)


SEARCH_PAGE = 10_000
"""The most rows one directory search returns (--all pages through them)."""


def place(p: dict[str, Any]) -> str:
    """A place of practice on one line: site, postal code, city."""
    parts = (p["site"], p["postal_code"], p["city"])
    return " ".join(str(v) for v in parts if v)


@directory_group.command("search")
@click.option("--name", help="Part of the name (accents and case ignored).")
@click.option("--profession", type=click.Choice(PROFESSIONS))
@click.option("--city", help="A city (or its start), or a postal code prefix.")
@paged(50)
@click.pass_obj
def directory_search_cmd(
    session: Session,
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
    store = session.store()

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
        table(
            ["IdNatPS", "name", "profession", "specialties", "places"],
            (
                [
                    r["idnatps"],
                    f"{r['first_name'] or ''} {r['last_name']}".strip(),
                    r["profession"],
                    r["specialties"],
                    "; ".join(place(p) for p in r["places"]),
                ]
                for r in d["professionals"]
            ),
        )
        page_footer(d, "professionals")

    emit(page("professionals", rows, rows.total, offset), as_json, human)


@directory_group.command("show")
@click.option(
    "--professional",
    "--idnatps",
    "idnatps",
    required=True,
    metavar="IDNATPS",
    help="The professional concerned, by IdNatPS (ID-3), as in every command.",
)
@click.pass_obj
def directory_show_cmd(session: Session, as_json: bool, idnatps: str) -> None:
    """PRO-2: one professional of the directory, with their places of practice."""
    emit(session.store().directory.get(idnatps), as_json)


def given_espace(store: Store, nir: str | None, espace_id: UUID | None) -> UUID | None:
    """The espace when given (the holder side needs it)."""
    if nir is None and espace_id is None:
        return None
    return resolve(store, nir, espace_id)


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
attachment_option = click.option(
    "--attachment", "attachment_id", required=True, type=click.UUID
)


def with_attachments(func: F) -> F:
    """--attach and --attach-document, repeatable (MSG-4)."""
    return apply(
        [
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
        ],
        func,
    )


def _files(streams: tuple[BinaryIO, ...]) -> list[NewFile]:
    files = []
    for stream in streams:
        name = Path(stream.name).name
        guessed, _ = mimetypes.guess_type(name)
        if guessed is None:
            raise InvalidInput({"attach": [f"cannot tell the format of {name}"]})
        files.append(NewFile(name, guessed, read_document(stream, "attach")))
    return files


@message_group.command("open")
@espace_ref
@actor_options(establishment=True)
@click.option("--subject", required=True, help="The subject (sealed, SEC-1).")
@click.option("--body", required=True, help="The first message.")
@with_attachments
@click.pass_obj
def message_open_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    subject: str,
    body: str,
    attach: tuple[BinaryIO, ...],
    attach_document: tuple[UUID, ...],
) -> None:
    """MSG-1: a professional or an establishment starts a conversation with a
    holder (never the holder); MSG-5: the espace must be open or activated."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    result = store.messaging.open(
        who,
        espace,
        {"subject": subject, "body": body},
        files=_files(attach),
        documents=list(attach_document),
    )
    emit(result, as_json)


@message_group.command("reply")
@conversation_option
@espace_ref
@actor_options(establishment=True)
@click.option("--body", required=True, help="The message.")
@with_attachments
@click.pass_obj
def message_reply_cmd(
    session: Session,
    as_json: bool,
    conversation_id: UUID,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    body: str,
    attach: tuple[BinaryIO, ...],
    attach_document: tuple[UUID, ...],
) -> None:
    """The holder replies (or the professional writes again); MSG-3: refused
    once the professional has ended the conversation."""
    store = session.store()
    result = store.messaging.reply(
        actor.on(given_espace(store, nir, espace_id)),
        conversation_id,
        {"body": body},
        files=_files(attach),
        documents=list(attach_document),
    )
    emit(result, as_json)


@message_group.command("end")
@conversation_option
@actor_options(establishment=True)
@click.pass_obj
def message_end_cmd(
    session: Session, as_json: bool, conversation_id: UUID, actor: ActorFlags
) -> None:
    """MSG-3: the professional who opened the conversation ends it; the holder
    can no longer reply."""
    store = session.store()
    emit(store.messaging.end(actor.on(None), conversation_id), as_json)


@message_group.command("read")
@conversation_option
@espace_ref
@actor_options(establishment=True)
@click.pass_obj
def message_read_cmd(
    session: Session,
    as_json: bool,
    conversation_id: UUID,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
) -> None:
    """A conversation as one party sees it; marks the other side's messages
    read (read receipts). The holder sees names, never addresses (MSG-2)."""
    store = session.store()
    who = actor.on(given_espace(store, nir, espace_id))
    result = store.messaging.read(who, conversation_id)

    def human(d: dict[str, Any]) -> None:
        click.echo(f"{d['subject']}  ({d['opened_by']['name']})")
        for m in d["messages"]:
            read = f", read {day(m['read_at'])}" if m["read_at"] else ""
            click.echo(f"#{m['message_no']} {m['author']} {day(m['posted_at'])}{read}")
            click.echo(f"  {m['body']}")
            for a in m["attachments"]:
                click.echo(f"  [{a['kind']}] {a.get('filename') or a['document_id']}")
        if d["ended_at"]:
            click.echo(f"ended {day(d['ended_at'])}")

    emit(result, as_json, human)


@message_group.command("inbox")
@espace_ref
@actor_options(establishment=True)
@paged(50)
@click.pass_obj
def message_inbox_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    limit: int,
    offset: int,
    all_rows: bool,
) -> None:
    """The conversations of one actor, latest first, with unread counts (MSG-5:
    the holder's inbox exists once the espace is open or activated)."""
    store = session.store()
    who = actor.on(given_espace(store, nir, espace_id))
    rows = store.messaging.inbox(who, limit=page_limit(limit, all_rows), offset=offset)

    def human(d: dict[str, Any]) -> None:
        table(
            ["conversation", "with", "subject", "last", "messages", "unread", "ended"],
            (
                [
                    r["conversation_id"],
                    r.get("counterpart_name") or r.get("holder_name"),
                    r["subject"],
                    day(r["last_posted_at"]),
                    r["messages"],
                    r["unread"],
                    day(r["ended_at"]),
                ]
                for r in d["conversations"]
            ),
        )
        page_footer(d, "conversations")

    emit(page("conversations", rows, rows.total, offset), as_json, human)


@message_group.command("add-to-record")
@conversation_option
@espace_ref
@actor_options()
@attachment_option
@click.option("--loinc", required=True, help="LOINC type code of the document (DOC-1).")
@click.option("--title", help="The document's title (default: the file name).")
@click.option("--care-time", help="Time of care (ISO 8601; default: the message's).")
@click.pass_obj
def message_add_to_record_cmd(
    session: Session,
    as_json: bool,
    conversation_id: UUID,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    attachment_id: UUID,
    loinc: str,
    title: str | None,
    care_time: str | None,
) -> None:
    """MSG-4: the holder adds a file attachment to their DMP, as a
    patient-uploaded document (traced, ACC-6); once per attachment."""
    store = session.store()
    who = actor.on(given_espace(store, nir, espace_id))
    meta = {"loinc_code": loinc, "title": title, "care_time": care_time}
    emit(
        store.messaging.add_to_record(who, conversation_id, attachment_id, meta),
        as_json,
    )


@message_group.command("attachment")
@conversation_option
@espace_ref
@actor_options(establishment=True)
@attachment_option
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the file.",
)
@click.pass_obj
def message_attachment_cmd(
    session: Session,
    as_json: bool,
    conversation_id: UUID,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    attachment_id: UUID,
    output: Path,
) -> None:
    """MSG-4: save an attached file (a actor to the conversation only)."""
    store = session.store()
    who = actor.on(given_espace(store, nir, espace_id))
    result = store.messaging.attachment(who, conversation_id, attachment_id)
    content: bytes = result.pop("content")
    output.write_bytes(content)
    result["written_to"] = str(output)
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
