"""The record's commands: documents, consent, reading, journal, notifications,
and the access matrix (DOC-*, ACC-*)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import click

from espace.api import Store
from espace.application.delimited import read_text
from espace.application.errors import InvalidInput
from espace.application.tables import matrix_to_csv, types_to_csv
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
from espace.cli.render import day, emit, page, page_footer, table
from espace.domain.documents import Category


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


def _flag_command(name: str, doc: str, method: str) -> None:
    """A command that sets or clears one flag of a document (DOC-4, DOC-5)."""

    @doc_group.command(name, help=doc)
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
        emit(getattr(store.records, method)(who, document_id), as_json)


for _name, _doc, _method in [
    ("mask", "DOC-5: the holder masks a document from professionals.", "mask"),
    ("unmask", "DOC-5: the holder unmasks a document.", "unmask"),
    (
        "hide",
        "DOC-5: the author hides it from the holder until announced.",
        "hide_from_holder",
    ),
    (
        "reveal",
        "DOC-5: the author reveals it after the announcement.",
        "reveal_to_holder",
    ),
    (
        "hide-from-representatives",
        "DOC-5: the author hides it from legal representatives (minor's request).",
        "hide_from_representatives",
    ),
    (
        "show-to-representatives",
        "DOC-5: the author shows it to legal representatives again.",
        "show_to_representatives",
    ),
    ("delete", "DOC-4: the author deletes a document (logically).", "delete"),
]:
    _flag_command(_name, _doc, _method)


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


CONSENT_CHOICES = {
    "grant": "ACC-1: authorise a professional",
    "withdraw": "ACC-1: withdraw a professional's authorisation",
    "block": "ACC-2: block a professional (beats everything but emergency)",
    "unblock": "ACC-2: unblock a professional",
    "care-team-add": "ACC-1: add a professional to the care team",
    "care-team-remove": "ACC-1: remove a professional from the care team",
    "designate-medecin-traitant": "ACC-4: designate the médecin traitant (a physician)",
    "revoke-medecin-traitant": "ACC-4: revoke the médecin traitant",
    "refuse-emergency": "ACC-5: refuse emergency access",
    "allow-emergency": "ACC-5: allow emergency access again",
    "refuse-samu": "ACC-5: refuse access by the SAMU regulator",
    "allow-samu": "ACC-5: allow access by the SAMU regulator again",
}
"""Each consent choice, a command of its own, and what it does."""

NEEDS_PROFESSIONAL = {
    "grant",
    "withdraw",
    "block",
    "unblock",
    "care-team-add",
    "care-team-remove",
    "designate-medecin-traitant",
}
"""The choices about one professional: they take --professional."""


# --------------------------------------------------------------------- consent


@main.group("consent")
def consent_group() -> None:
    """The holder's access choices (ACC-1, ACC-2, ACC-4, ACC-5), and heirs (LC-11)."""


def _consent_command(choice: str, doc: str) -> None:
    """``consent CHOICE``: the holder (or their representative) chooses."""
    needs_pro = choice in NEEDS_PROFESSIONAL

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


for _choice, _doc in CONSENT_CHOICES.items():
    _consent_command(_choice, _doc)


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
