"""The lifecycle of an espace (LC-*): the insurer's feed, the notices and
their codes, the holder's choices, and the insurer's decisions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import click

from espace.api import MAIL_HOUSE_FORMATS, Store, mail_house_file
from espace.application import outputs
from espace.application.errors import InvalidInput
from espace.application.lifecycle_feed import read_feed
from espace.cli.app import Session, main
from espace.cli.options import F, apply, espace_ref, file_name, resolve
from espace.cli.render import emit, progress_bar, render, show_rejected

# --------------------------------------------------------------------- feed


@main.command("affiliate")
@click.argument("feed", type=click.File("rb"))
@click.option(
    "--delimiter",
    default=",",
    show_default=True,
    help="CSV delimiter: one character.",
)
@click.option(
    "--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000)
)
@click.pass_obj
def affiliate_cmd(
    session: Session, as_json: bool, feed: BinaryIO, delimiter: str, batch_size: int
) -> None:
    """LC-1: create espaces from the insurer's affiliation feed (CSV, - for stdin).

    \b
    Columns: nir, birth_name, first_names, birth_date (YYYY-MM-DD), sex (M/F),
    birthplace_code, vitale_serial, and optionally oid, email, postal_address,
    representative_name, representative_role (parent/guardian/curator),
    representative_email, representative_postal_address, legacy_dmp_ref.
    The file is UTF-8. A bad row, or a line that cannot be read (not UTF-8,
    over 1 MiB, another number of fields than the header), is reported with
    its line number and does not stop the others: the run is not
    all-or-nothing, and running the corrected file again creates only what
    is missing. A person already affiliated is counted, never created twice.
    A file that cannot be read at all (UTF-16, binary, no header) is refused
    before anything is saved. Exit code 2 when any row was rejected.
    """
    rows = read_feed(feed, delimiter)
    store = session.store()
    with progress_bar("rows", None) as advance:
        report = store.lifecycle.affiliate_feed(
            rows, batch_size=batch_size, progress=advance
        )

    def human(data: dict[str, Any]) -> None:
        click.echo(
            f"{data['file']}: created {data['created']}, already affiliated "
            f"{data['already_affiliated']}, rejected {len(data['rejected'])}"
        )
        show_rejected(data["file"], data["rejected"])

    emit({"file": file_name(feed), **outputs.dump(report)}, as_json, human)
    if report.rejected:
        sys.exit(2)


# --------------------------------------------------------------------- notices


def mail_house_options(func: F) -> F:
    """--out and --out-format: the notices for the mail house, in a file."""
    return apply(
        [
            click.option(
                "--out",
                "out",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Write what the mail house needs (name, e-mail or postal "
                "address, code, deadlines in Paris time) to this new file, mode "
                "0600, and print no code. It holds personal data.",
            ),
            click.option(
                "--out-format",
                type=click.Choice(MAIL_HOUSE_FORMATS),
                default="jsonl",
                show_default=True,
                help="With --out: JSON Lines, or CSV with a header row.",
            ),
        ],
        func,
    )


def issue_one(
    issue: Callable[[], Any], out: Path | None, out_format: str, as_json: bool
) -> None:
    """One code issued: printed, or, with --out, written for the mail house
    (the file made before the code is, so a bad path issues nothing)."""
    with mail_house_file(out, out_format) as mail:
        issued = issue()
        if mail is not None:
            mail.write([issued])
    if mail is None:
        emit(issued, as_json)
    else:
        emit({"issued": 1, "file": str(out), "format": out_format}, as_json)


NOTICE_BATCH = 1000
"""Notices sent per batch with --pending (one save per batch)."""


@main.command("notify")
@espace_ref
@click.option("--pending", is_flag=True, help="Send the notices not sent yet.")
@click.option(
    "--limit",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="With --pending: at most this many; the output says how many remain.",
)
@click.option("--all", "all_rows", is_flag=True, help="With --pending: every one.")
@mail_house_options
@click.pass_obj
def notify_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    pending: bool,
    limit: int,
    all_rows: bool,
    out: Path | None,
    out_format: str,
) -> None:
    """LC-1/LC-2: send the notice; prints the provisional activation code(s).

    The codes are for the mail or print house only: they are printed once and
    stored only as salted keyed digests. With --pending, the notices not sent
    yet, --limit at a time (or --all), and how many remain. With --out, each
    notice goes to that file as it is saved, with the addressee's name and
    address (the representative's for a minor, LC-12) and the opposition
    deadline in Paris time, and no code is printed: keep the file as
    personal data and delete it once the mail house has it.
    """
    store = session.store()
    if pending and (nir or espace_id):
        raise InvalidInput({"pending": ["--pending goes without --nir/--id"]})
    if not pending:
        target = resolve(store, nir, espace_id)
        issue_one(lambda: store.lifecycle.send_notice(target), out, out_format, as_json)
        return
    with mail_house_file(out, out_format) as mail:
        waiting = store.views.espaces.count(state="affiliated")
        total = waiting if all_rows else min(limit, waiting)
        notices: list[dict[str, Any]] = []
        sent = 0
        with progress_bar("notices", total) as advance:
            while all_rows or sent < limit:
                batch = NOTICE_BATCH if all_rows else min(NOTICE_BATCH, limit - sent)
                ids = store.views.espaces.ids_in_state("affiliated", limit=batch)
                if not ids:
                    break
                saved = list(store.lifecycle.send_notices(ids))
                if mail is not None:
                    mail.write(saved)
                else:
                    notices += [outputs.dump(n) for n in saved]
                sent += len(saved)
                advance(len(saved))
    remaining = store.views.espaces.count(state="affiliated")
    data: dict[str, Any] = {"sent": sent, "remaining": remaining}
    if mail is not None:
        data.update(file=str(out), format=out_format)
    else:
        data["notices"] = notices

    def human(d: dict[str, Any]) -> None:
        render({k: v for k, v in d.items() if k != "notices"})
        for n in d.get("notices", []):
            render(n)
        if d["remaining"]:
            click.echo(f"{d['remaining']} more: run again, or use --all")

    emit(data, as_json, human)


@main.command("reissue-code")
@espace_ref
@mail_house_options
@click.pass_obj
def reissue_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    out: Path | None,
    out_format: str,
) -> None:
    """LC-5: issue a new provisional code; the old one stops working. With
    --out, the code goes to that file for the mail house (as notify)."""
    store = session.store()
    target = resolve(store, nir, espace_id)
    issue_one(lambda: store.lifecycle.reissue_code(target), out, out_format, as_json)


# --------------------------------------------------------------------- holder


@main.command("oppose")
@espace_ref
@click.option(
    "--channel",
    type=click.Choice(["web", "phone", "post"]),
    default="web",
    show_default=True,
)
@click.pass_obj
def oppose_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    channel: str,
) -> None:
    """LC-3: record an opposition inside the six-week window; prints the receipt."""
    store = session.store()
    emit(
        store.lifecycle.oppose(resolve(store, nir, espace_id), {"channel": channel}),
        as_json,
    )


@main.command("activate")
@click.option("--nir", required=True, help="The holder's NIR.")
@click.option("--code", required=True, help="The provisional activation code.")
@click.option("--birth-date", required=True, help="YYYY-MM-DD.")
@click.option("--vitale-serial", required=True, help="The Vitale card serial number.")
@click.option(
    "--as-representative", is_flag=True, help="The legal representative activates."
)
@click.pass_obj
def activate_cmd(
    session: Session,
    as_json: bool,
    nir: str,
    code: str,
    birth_date: str,
    vitale_serial: str,
    as_representative: bool,
) -> None:
    """LC-5: activate with code + NIR + birth date + Vitale serial (all must match)."""
    store = session.store()
    result = store.lifecycle.activate(
        {
            "nir": nir,
            "code": code,
            "birth_date": birth_date,
            "vitale_serial": vitale_serial,
            "as_representative": as_representative,
        }
    )
    emit(result, as_json)


def _on_espace(name: str, doc: str, act: Callable[[Store, UUID], Any]) -> None:
    """A command that acts on one espace, given by --nir or --id, and
    takes nothing else."""

    @main.command(name, help=doc)
    @espace_ref
    @click.pass_obj
    def on_espace_cmd(
        session: Session, as_json: bool, nir: str | None, espace_id: UUID | None
    ) -> None:
        store = session.store()
        emit(act(store, resolve(store, nir, espace_id)), as_json)


_on_espace(
    "close",
    "LC-7: the holder closes the espace; it is archived ten years (LC-8).",
    lambda store, target: store.lifecycle.close(target),
)
_on_espace(
    "request-erasure",
    "LC-9: express erasure (closes an open espace first); done within three months.",
    lambda store, target: store.lifecycle.request_erasure(target),
)
_on_espace(
    "erase",
    "LC-8, LC-9, SEC-4: carry out now an erasure that is due (requested, or "
    "the archive expired; the deadline job does it too): the data key is "
    "destroyed, the contents deleted, the views purged. Run again, it says "
    "when it was done and changes nothing.",
    lambda store, target: store.lifecycle.erase(target),
)
_on_espace(
    "reopen",
    "LC-10: a new espace for a holder who closed; the archive comes back.",
    lambda store, target: store.lifecycle.reopen(target),
)
_on_espace(
    "object-to-suspension",
    "LC-7: the holder objects to a suspension before it turns into closure.",
    lambda store, target: store.lifecycle.object_to_suspension(target),
)


# --------------------------------------------------------------------- insurer


@main.command("declare-death")
@espace_ref
@click.option("--date-of-death", required=True, help="YYYY-MM-DD.")
@click.pass_obj
def death_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    date_of_death: str,
) -> None:
    """LC-7: death closes the espace; the archive stays readable to heirs (LC-11)."""
    store = session.store()
    emit(
        store.lifecycle.declare_death(
            resolve(store, nir, espace_id), {"date_of_death": date_of_death}
        ),
        as_json,
    )


@main.command("suspend")
@espace_ref
@click.option("--reason", required=True, help="Fraud, serious malfunction, ...")
@click.option(
    "--informed-at", help="When the holder is informed (ISO 8601; default now)."
)
@click.pass_obj
def suspend_cmd(
    session: Session,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    reason: str,
    informed_at: str | None,
) -> None:
    """LC-7: suspend; the espace closes six weeks after the holder is informed."""
    store = session.store()
    data: dict[str, Any] = {"reason": reason}
    if informed_at:
        data["informed_at"] = informed_at
    emit(store.lifecycle.suspend(resolve(store, nir, espace_id), data), as_json)


_on_espace(
    "lift-suspension",
    "LC-7: the insurer lifts its suspension.",
    lambda store, target: store.lifecycle.lift_suspension(target),
)
