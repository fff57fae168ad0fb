"""Secure messaging (MSG-1..MSG-5): conversations between professionals or
establishments and holders, with attachments."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import click

from espace.api import Store
from espace.application.errors import InvalidInput
from espace.application.messaging import NewFile
from espace.cli.actors import ActorFlags, act_on, actor_options
from espace.cli.app import Session, main
from espace.cli.options import (
    F,
    apply,
    espace_ref,
    page_limit,
    paged,
    read_document,
    resolve,
)
from espace.cli.render import day, emit, page, page_footer, table


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
    """MSG-4: save an attached file (a party to the conversation only)."""
    store = session.store()
    who = actor.on(given_espace(store, nir, espace_id))
    result = store.messaging.attachment(who, conversation_id, attachment_id)
    content: bytes = result.pop("content")
    output.write_bytes(content)
    result["written_to"] = str(output)
    emit(result, as_json)
