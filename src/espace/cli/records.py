"""The documents of the DMP (DOC-*): deposit, upload, replace, mask, hide,
delete, read, list and history; every read is traced (ACC-6)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import click

from espace.api import Store
from espace.application.errors import InvalidInput
from espace.application.record_documents import CHANGES, DocumentChange
from espace.cli.actors import ActorFlags, act_on, actor_options
from espace.cli.app import Session, main
from espace.cli.options import F, apply, espace_ref, read_document
from espace.cli.render import day, emit, table


def mode_of(emergency: bool, samu: bool) -> str:
    """The access route that --emergency and --samu ask for (ACC-5)."""
    if emergency and samu:
        raise InvalidInput({"mode": ["--emergency or --samu, not both"]})
    return "samu" if samu else "emergency" if emergency else "care"


def _format_of(path: str, given: str | None) -> str:
    if given:
        return given
    guessed, _ = mimetypes.guess_type(path)
    if guessed is None:
        raise InvalidInput({"format": ["cannot guess the format: give --format"]})
    return guessed


def _metadata(
    loinc: str,
    title: str,
    care_time: str,
    fmt: str,
    category: str | None = None,
    hidden_from_holder: bool = False,
    hidden_from_representatives: bool = False,
) -> dict[str, Any]:
    return {
        "category": category,
        "loinc_code": loinc,
        "title": title,
        "care_time": care_time,
        "format": fmt,
        "hidden_from_holder": hidden_from_holder,
        "hidden_from_representatives": hidden_from_representatives,
    }


def holder_espace(store: Store, nir: str | None) -> UUID | None:
    """The espace of --nir, when given (the holder's side of a document)."""
    return store.lifecycle.espace_id_for(nir) if nir else None


document_option = click.option(
    "--document", "document_id", required=True, type=click.UUID, help="The document id."
)
holder_nir_option = click.option(
    "--nir", help="The holder's NIR (for --as-holder/--as-representative)."
)


def with_route(func: F) -> F:
    """--emergency and --samu: the access route of a read (ACC-5)."""
    return apply(
        [
            click.option(
                "--emergency",
                is_flag=True,
                help="ACC-5: emergency access (bris de glace).",
            ),
            click.option(
                "--samu", is_flag=True, help="ACC-5: access by the SAMU regulator."
            ),
        ],
        func,
    )


def with_content(func: F) -> F:
    """--file, --loinc, --title, --care-time and --format: a document's content."""
    return apply(
        [
            click.option(
                "--file",
                "file",
                required=True,
                type=click.File("rb"),
                help="The document's file.",
            ),
            click.option(
                "--loinc",
                required=True,
                help="Document type: a LOINC code of the type list, e.g. 11502-2 "
                "(DOC-1; `espace matrix show --types`).",
            ),
            click.option("--title", required=True, help="The document's title."),
            click.option(
                "--care-time",
                required=True,
                help="Time of care (ISO 8601 with offset).",
            ),
            click.option(
                "--format",
                "fmt",
                help="MIME type (default: guessed from the file name).",
            ),
        ],
        func,
    )


# --------------------------------------------------------------------- documents


@main.group("doc")
def doc_group() -> None:
    """Documents of the DMP: deposit, upload, replace, mask, hide, delete, read."""


@doc_group.command("deposit")
@espace_ref
@actor_options(heir=True)
@with_content
@click.option(
    "--category",
    type=click.Choice(
        [
            "report",
            "summary",
            "imaging",
            "prescription",
            "dispensation",
            "care_plan",
            "treatment_administered",
            "certificate",
            "reimbursement",
            "management",
        ]
    ),
    help="DOC-1 category (default: the one the type list gives the type).",
)
@click.option("--hidden-from-holder", is_flag=True, help="DOC-5: until announced.")
@click.option(
    "--hidden-from-representatives", is_flag=True, help="DOC-5: minor's request."
)
@click.pass_obj
def deposit_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    file: BinaryIO,
    loinc: str,
    title: str,
    care_time: str,
    fmt: str | None,
    category: str | None,
    hidden_from_holder: bool,
    hidden_from_representatives: bool,
) -> None:
    """DOC-2: a professional deposits a document into a holder's DMP."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    meta = _metadata(
        loinc,
        title,
        care_time,
        _format_of(file.name, fmt),
        category,
        hidden_from_holder,
        hidden_from_representatives,
    )
    emit(store.records.deposit(who, espace, meta, read_document(file, "file")), as_json)


@doc_group.command("upload")
@espace_ref
@actor_options(heir=True)
@with_content
@click.pass_obj
def upload_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    file: BinaryIO,
    loinc: str,
    title: str,
    care_time: str,
    fmt: str | None,
) -> None:
    """DOC-2/DOC-6: the holder uploads a document (patient-uploaded category)."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    meta = _metadata(loinc, title, care_time, _format_of(file.name, fmt))
    emit(store.records.deposit(who, espace, meta, read_document(file, "file")), as_json)


@doc_group.command("replace")
@document_option
@actor_options(heir=True)
@with_content
@click.option("--nir", help="The holder's NIR (when the holder replaces an upload).")
@click.pass_obj
def replace_cmd(
    session: Session,
    as_json: bool,
    document_id: UUID,
    actor: ActorFlags,
    file: BinaryIO,
    loinc: str,
    title: str,
    care_time: str,
    fmt: str | None,
    nir: str | None,
) -> None:
    """DOC-3: the author replaces a document by a new version."""
    store = session.store()
    who = actor.on(holder_espace(store, nir))
    meta = _metadata(loinc, title, care_time, _format_of(file.name, fmt))
    emit(
        store.records.replace(who, document_id, meta, read_document(file, "file")),
        as_json,
    )


def _flag_command(kind: DocumentChange) -> None:
    """A command that sets or clears one flag of a document (DOC-4, DOC-5)."""

    @doc_group.command(kind.name, help=kind.does)
    @document_option
    @actor_options(heir=True)
    @holder_nir_option
    @click.pass_obj
    def flag_cmd(
        session: Session,
        as_json: bool,
        document_id: UUID,
        actor: ActorFlags,
        nir: str | None,
    ) -> None:
        store = session.store()
        who = actor.on(holder_espace(store, nir))
        emit(store.records.change(kind, who, document_id), as_json)


for _kind in CHANGES:
    _flag_command(_kind)


@doc_group.command("read")
@document_option
@actor_options(heir=True)
@holder_nir_option
@with_route
@click.option("--version", "version_id", type=click.UUID, help="A version (DOC-3).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write content here.",
)
@click.pass_obj
def read_cmd(
    session: Session,
    as_json: bool,
    document_id: UUID,
    actor: ActorFlags,
    nir: str | None,
    emergency: bool,
    samu: bool,
    version_id: UUID | None,
    output: Path | None,
) -> None:
    """Read a document, as the rules allow (every read is traced, ACC-6)."""
    store = session.store()
    who = actor.on(holder_espace(store, nir))
    result = store.records.read(
        who, document_id, mode=mode_of(emergency, samu), version_id=version_id
    )
    content: bytes = result.pop("content")
    if output is not None:
        output.write_bytes(content)
        result["written_to"] = str(output)
    emit(result, as_json)


@doc_group.command("list")
@espace_ref
@actor_options(heir=True)
@with_route
@click.pass_obj
def list_docs_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    actor: ActorFlags,
    emergency: bool,
    samu: bool,
) -> None:
    """The documents of one holder that this actor may see (traced)."""
    store, espace, who = act_on(session, nir, espace_id, actor)
    rows = store.records.list_documents(who, espace, mode=mode_of(emergency, samu))

    def human(data: list[dict[str, Any]]) -> None:
        table(
            ["document id", "title", "category", "care time", "versions"],
            (
                [
                    r["document_id"],
                    r["title"],
                    r["category"],
                    day(r["care_time"]),
                    r["versions"],
                ]
                for r in data
            ),
        )

    emit(rows, as_json, human)


@doc_group.command("history")
@document_option
@actor_options(heir=True)
@holder_nir_option
@click.pass_obj
def history_cmd(
    session: Session,
    as_json: bool,
    document_id: UUID,
    actor: ActorFlags,
    nir: str | None,
) -> None:
    """DOC-3: the versions of a document (traced as a read)."""
    store = session.store()
    who = actor.on(holder_espace(store, nir))
    emit(store.records.history(who, document_id), as_json)
