"""The operators' and auditors' command line, built on the public API alone.

Every command takes ``--json``. Data goes to stdout, diagnostics (logs,
warnings) to stderr. Exit codes: 0 ok, 1 unexpected error, 2 bad input,
3 refused by a rule, 4 not found, 5 conflict, 6 configuration or database
unavailable, 7 a stored record failed its integrity check.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, NoReturn
from uuid import UUID

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from espace.api import (
    MAIL_HOUSE_FORMATS,
    Store,
    generate_master_key,
    init_store,
    mail_house_file,
    migrate_store,
)
from espace.application.delimited import read_text
from espace.application.errors import (
    ConfigurationError,
    Conflict,
    DamagedRecord,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
)
from espace.application.lifecycle import read_feed
from espace.application.schemas import parse_instant
from espace.domain.deadlines import DeadlineKind
from espace.domain.documents import MAX_SIZE
from espace.domain.errors import EspaceError, InvalidIdentifier, RuleViolation

EXIT_CODES: dict[type[EspaceError], int] = {
    InvalidInput: 2,
    InvalidIdentifier: 2,
    RuleViolation: 3,
    NotFound: 4,
    Conflict: 5,
    ConfigurationError: 6,
    DatabaseUnavailable: 6,
    DamagedRecord: 7,
}

stderr = Console(stderr=True, highlight=False)


@dataclass
class Context:
    database: str | None
    clock: datetime | None
    log_level: str
    stores: list[Store] = field(default_factory=list)

    def open(self) -> Store:
        """Open the store; a clock override is accepted only by a simulation store."""
        from espace.adapters.logging import configure_logging

        configure_logging(self.log_level)
        fixed = self.clock
        store = Store.open(self.database, clock=(lambda: fixed) if fixed else None)
        self.stores.append(store)
        if fixed is not None:
            if store.mode != "simulation":
                raise ConfigurationError(
                    "--clock is refused: this is a production store (only a store "
                    "created with `espace init --simulation` accepts a clock override)"
                )
            stderr.print(f"[bold yellow]simulated clock:[/] {fixed.isoformat()}")
        return store

    def close(self) -> None:
        for store in self.stores:
            if store.views_behind:
                stderr.print(
                    "[bold yellow]warning:[/] the command was saved, but the views "
                    "could not catch up; they will at the next command, or run "
                    "`espace projections status`"
                )
            store.close()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "as_dict"):
        return value.as_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    """Write the command's data to stdout, as JSON or for a person."""
    if hasattr(data, "as_dict"):
        data = data.as_dict()
    if as_json:
        click.echo(json.dumps(data, default=_json_default, ensure_ascii=False))
    elif human is not None:
        human(data)
    else:
        render(data)


def paged(default: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--limit, --offset and --all for a command that lists many rows: a
    list that stops early says how many remain (``page``)."""

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option(
            "--all", "all_rows", is_flag=True, help="Every row (no --limit)."
        )(func)
        func = click.option(
            "--offset", default=0, show_default=True, type=click.IntRange(0)
        )(func)
        return click.option(
            "--limit",
            default=default,
            show_default=True,
            type=click.IntRange(1, 1_000_000),
            help="At most this many rows; the output says how many remain.",
        )(func)

    return wrap


EVERY_ROW = 2**62
"""A LIMIT that both databases take and no store reaches: --all."""


def page_limit(limit: int, all_rows: bool) -> int:
    """The number of rows to ask for: --limit, or every one with --all."""
    return EVERY_ROW if all_rows else limit


def page(key: str, rows: list[Any], total: int, offset: int) -> dict[str, Any]:
    """One page of a list, as JSON gives it: the total, what is shown, and
    how many rows remain after it."""
    return {
        "total": total,
        "shown": len(rows),
        "offset": offset,
        "remaining": max(total - offset - len(rows), 0),
        key: rows,
    }


def page_footer(d: Mapping[str, Any], what: str) -> None:
    """For a person: how many rows there are in all, and how to see the rest."""
    click.echo(f"{d['shown']} of {d['total']} {what}")
    if d["remaining"] > 0:
        click.echo(
            f"{d['remaining']} more: use --offset {d['offset'] + d['shown']} or --all"
        )


def new_table(*headers: str, title: str | None = None) -> Table:
    """A table whose cells are never cut: ids and instants are printed whole
    (folded on a narrow terminal, never ended with an ellipsis)."""
    table = Table(title=title)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def show(renderable: Any) -> None:
    """Print a table to stdout: at the terminal's width on a terminal,
    unbounded in a pipe or a file, so that nothing is cut."""
    wide = None if sys.stdout.isatty() else 100_000
    Console(highlight=False, width=wide).print(renderable)


def render(data: Any) -> None:
    """The one rendering for people of what a command returns: a list of
    records as a table, a record as aligned ``key  value`` lines (its lists
    of records as tables, its nested records indented below it)."""
    if isinstance(data, list):
        if data and all(isinstance(r, Mapping) for r in data):
            columns = list(dict.fromkeys(k for r in data for k in r))
            table = new_table(*map(str, columns))
            for r in data:
                table.add_row(*(cell(r.get(c)) for c in columns))
            show(table)
        else:
            click.echo("\n".join(cell(v) for v in data) if data else "(none)")
        return
    if not isinstance(data, Mapping):
        click.echo(cell(data))
        return
    flat = {k: v for k, v in data.items() if not isinstance(v, Mapping | list)}
    width = max((len(str(k)) for k in flat), default=0)
    for key, value in flat.items():
        click.echo(f"{str(key).ljust(width)}  {cell(value)}".rstrip())
    for key, value in data.items():
        if isinstance(value, Mapping | list) and key not in flat:
            click.echo(f"{key}:")
            if isinstance(value, Mapping) and not any(
                isinstance(v, Mapping | list) for v in value.values()
            ):
                inner = max((len(str(k)) for k in value), default=0)
                for k, v in value.items():
                    click.echo(f"  {str(k).ljust(inner)}  {cell(v)}".rstrip())
            else:
                render(value)


def cell(value: Any) -> str:
    """One value for a person: instants in ISO 8601, ids whole, yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(cell(v) for v in value)
    return str(value)


def fail(exc: BaseException, as_json: bool) -> NoReturn:
    """Map an error to its exit code; JSON on stdout with --json, text on stderr."""
    if isinstance(exc, EspaceError):
        code = next((c for t, c in EXIT_CODES.items() if isinstance(exc, t)), 1)
        body = exc.as_dict()
    else:
        code = 1
        body = {"error": "internal", "message": f"{type(exc).__name__}: {exc}"}
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False))
    else:
        stderr.print(f"[bold red]error[/] ({body['error']}): {body['message']}")
    sys.exit(code)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON on stdout."
)


def command(group: click.Group, name: str, **kwargs: Any) -> Callable[..., Any]:
    """A command whose EspaceErrors become exit codes and JSON errors."""

    def decorator(func: Callable[..., Any]) -> Any:
        @functools.wraps(func)
        def wrapper(**kw: Any) -> None:
            ctx: Context = click.get_current_context().find_root().obj
            as_json = bool(kw.get("as_json"))
            try:
                func(ctx, **kw)
            except InvalidInput as exc:
                fail(in_flags(exc, click.get_current_context().command), as_json)
            except EspaceError as exc:
                fail(exc, as_json)
            finally:
                ctx.close()

        return group.command(name, **kwargs)(json_option(wrapper))

    return decorator


FIELD_PARAMETERS = {
    "loinc_code": ("loinc",),
    "format": ("fmt",),
    "with": ("with_label",),
    "height_cm": ("height",),
    "weight_kg": ("weight",),
    "idnatps": ("professional", "as_professional", "idnatps"),
    "heir_id": ("as_heir",),
    "finess": ("as_establishment",),
    "name": ("establishment_name",),
    "content": ("file",),
    "verifier_key": ("keys", "verifier_key"),
}
"""The CLI parameter that carries an API field, where their names differ
(the first one the command has)."""


def in_flags(exc: InvalidInput, cmd: click.Command) -> InvalidInput:
    """The refusal as the operator typed it: each API field named by the
    flag (or argument) that carried it (``starts_at`` is ``--at``)."""
    params = {p.name: p for p in cmd.params if p.name}
    renamed: dict[str, list[str]] = {}
    for field_name, messages in exc.fields.items():
        name = field_name
        for candidate in (field_name, *FIELD_PARAMETERS.get(field_name, ())):
            param = params.get(candidate)
            if param is not None:
                name = (
                    max(param.opts, key=len)
                    if isinstance(param, click.Option)
                    else param.human_readable_name
                )
                break
        renamed.setdefault(name, []).extend(messages)
    return InvalidInput(renamed) if renamed != exc.fields else exc


def file_name(stream: Any) -> str:
    """How the operator named a file argument (``-`` for stdin)."""
    return str(getattr(stream, "name", "-"))


def read_document(stream: BinaryIO, flag: str) -> bytes:
    """A file to deposit or attach, read whole, up to the largest document
    the DMP accepts (DOC-1): a larger one is refused naming ``flag``."""
    data = stream.read(MAX_SIZE + 1)
    if len(data) > MAX_SIZE:
        raise InvalidInput(
            {
                flag: [
                    f"{Path(file_name(stream)).name} is larger than "
                    f"{MAX_SIZE // 2**20} MiB (DOC-1)"
                ]
            }
        )
    return data


def espace_ref(func: Callable[..., Any]) -> Callable[..., Any]:
    """--nir or --id: which espace. The id is derived from the NIR by a keyed hash."""
    func = click.option(
        "--id",
        "--espace",
        "espace_id",
        type=click.UUID,
        help="The espace id (from `show`/`list`).",
    )(func)
    return click.option("--nir", help="The holder's NIR (15 characters).")(func)


def resolve(store: Store, nir: str | None, espace_id: UUID | None) -> UUID:
    if (nir is None) == (espace_id is None):
        raise InvalidInput({"nir": ["give exactly one of --nir or --id"]})
    if espace_id is not None:
        return espace_id
    assert nir is not None
    return store.lifecycle.espace_id_for(nir)


# --------------------------------------------------------------------- group


class EspaceGroup(click.Group):
    """The top-level group: a usage error (an unknown option, a value out of
    range, a missing argument) is JSON on stdout when the call asked for
    --json, like every other error, and names the flag the operator typed."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        given = kwargs.get("args", args[0] if args else None)
        argv = list(sys.argv[1:] if given is None else given)
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.ClickException as exc:
            if "--json" not in argv:
                exc.show()
                sys.exit(exc.exit_code)
            body: dict[str, Any] = {"error": "usage", "message": exc.format_message()}
            param = getattr(exc, "param", None)
            if param is not None:
                flag = param.opts[0] if param.opts else param.name
                body["fields"] = {flag: [exc.format_message()]}
            click.echo(json.dumps(body, ensure_ascii=False))
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=EspaceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database",
    envvar="ESPACE_DATABASE_URL",
    help="Store URL: sqlite:///path.db (default sqlite:///espace.db) or "
    "postgresql://user@host:5432/db. Also ESPACE_DATABASE_URL.",
)
@click.option(
    "--clock",
    help="SIMULATION STORES ONLY: run the command as if it were this ISO 8601 "
    "instant (e.g. 2027-03-01T09:00:00+01:00). Refused on a production store.",
)
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Level of the JSON logs written to stderr.",
)
@click.version_option(package_name="espace")
@click.pass_context
def main(
    ctx: click.Context, database: str | None, clock: str | None, log_level: str
) -> None:
    """espace: the lifecycle of "Mon espace santé" digital health spaces.

    \b
    Start with:
      espace init                      create the store (SQLite file by default)
      espace affiliate feed.csv        create espaces from the insurer's feed
      espace notify --pending          send notices, print activation codes
      espace deadlines run             open, close and erase what fell due
      espace stats                     espaces by state, deadlines, contents
      espace simulate --people 2000    a synthetic rollout on a simulation store

    \b
    The record and the rest of the espace (each group has its own --help):
      espace doc | consent | journal | notifications | matrix     (DOC, ACC)
      espace directory | message | agenda | profile | services    (PRO, MSG, AG)

    Secrets: the master key is read from ESPACE_MASTER_KEY, else the file in
    ESPACE_KEY_FILE, else (SQLite) the .key file beside the database.
    """
    try:
        instant = parse_instant(clock, "clock") if clock else None
    except InvalidInput as exc:
        fail(exc, False)
    ctx.obj = Context(database=database, clock=instant, log_level=log_level)


# --------------------------------------------------------------------- init


@command(main, "init")
@click.option("--simulation", is_flag=True, help="A store for simulations and tests.")
@click.option(
    "--window-policy",
    type=click.Choice(["calendar", "working-day"]),
    default="calendar",
    show_default=True,
    help="LC-2: whether a window ending on a weekend or public holiday runs on "
    "to the next working day (ADR-0002). Fixed for the life of the store.",
)
def init_cmd(ctx: Context, as_json: bool, simulation: bool, window_policy: str) -> None:
    """Create the store: master key file (SQLite), tables, metadata.

    Idempotent with the same options; an existing store made with another
    --simulation or --window-policy is refused (they are fixed at creation).
    """
    from espace.adapters.logging import configure_logging

    configure_logging(ctx.log_level)
    info = init_store(ctx.database, simulation=simulation, window_policy=window_policy)
    emit(info, as_json)


@command(main, "migrate")
def migrate_cmd(ctx: Context, as_json: bool) -> None:
    """Bring the store's tables to this version of espace (creates what is
    missing, records the schema version; idempotent, nothing is lost).
    `Store.open` runs no DDL: a store too old for this espace is refused
    until it is migrated."""
    from espace.adapters.logging import configure_logging

    configure_logging(ctx.log_level)
    emit(migrate_store(ctx.database), as_json)


# --------------------------------------------------------------------- feed


@command(main, "affiliate")
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
def affiliate_cmd(
    ctx: Context, as_json: bool, feed: BinaryIO, delimiter: str, batch_size: int
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
    store = ctx.open()
    with progress_bar("rows", None) as advance:
        report = store.lifecycle.affiliate_feed(
            rows, batch_size=batch_size, progress=advance
        )

    def human(data: dict[str, Any]) -> None:
        click.echo(
            f"{data['file']}: created {data['created']}, already affiliated "
            f"{data['already_affiliated']}, rejected {len(data['rejected'])}"
        )
        for r in data["rejected"]:
            reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in r["fields"].items())
            click.echo(f"  {data['file']} line {r['line']}: {reasons}")

    emit({"file": file_name(feed), **report.as_dict()}, as_json, human)
    if report.rejected:
        sys.exit(2)


# --------------------------------------------------------------------- notices


def mail_house_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--out and --out-format: the notices for the mail house, in a file."""
    func = click.option(
        "--out-format",
        type=click.Choice(MAIL_HOUSE_FORMATS),
        default="jsonl",
        show_default=True,
        help="With --out: JSON Lines, or CSV with a header row.",
    )(func)
    return click.option(
        "--out",
        "out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write what the mail house needs (name, e-mail or postal address, "
        "code, deadlines in Paris time) to this new file, mode 0600, and print "
        "no code. It holds personal data.",
    )(func)


def publish_options(what: str) -> Callable[..., Any]:
    """The options of a publication of reference data (ACC-3, PRO-3)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(
            [
                click.argument("table", type=click.File("rb"), required=False),
                click.option(
                    "--version",
                    "version",
                    type=click.IntRange(1),
                    help=f"Publish this earlier version of the {what} again "
                    "(instead of a file): the way back.",
                ),
                click.option(
                    "--dry-run",
                    is_flag=True,
                    help="Show what would change; publish nothing.",
                ),
                click.option(
                    "--allow-removals",
                    is_flag=True,
                    help=f"Let the {what} lose the entries the file leaves out "
                    "(refused otherwise: a partial file must not remove them).",
                ),
            ]
        ):
            func = option(func)
        return func

    return decorate


def publish_table(
    table: BinaryIO | None,
    version: int | None,
    from_file: Callable[[str, str], dict[str, Any]],
    again: Callable[[int], dict[str, Any]],
    as_json: bool,
) -> None:
    """Publish from a file, or an earlier version again; print what changed."""
    if (table is None) == (version is None):
        raise InvalidInput({"table": ["give a file, or --version N (not both)"]})
    if table is not None:
        name = file_name(table)
        published = from_file(read_text(table, name), Path(name).name)
    else:
        assert version is not None
        published = again(version)

    def human(d: dict[str, Any]) -> None:
        if d["dry_run"]:
            click.echo(f"dry run: nothing published (version {d['previous']} in force)")
        else:
            click.echo(f"published version {d['version']}")
        show_changes(d["changes"])

    emit(published, as_json, human)


def show_changes(changes: dict[str, Any], indent: str = "  ") -> None:
    """The entries a version adds, removes and changes, one per line."""
    for key in changes["added"]:
        click.echo(f"{indent}+ {key}")
    for key in changes["removed"]:
        click.echo(f"{indent}- {key}")
    for key, both in changes["changed"].items():
        click.echo(f"{indent}~ {key}: {both['before']} -> {both['after']}")


def show_history(versions: list[dict[str, Any]]) -> None:
    """Published versions, newest first, each with what it changed."""
    for v in versions:
        click.echo(
            f"version {v['version']}  {v['published_at'].isoformat()}  "
            f"{v['source']}  ({v['entries']} entries)"
        )
        show_changes(v["changes"], indent="    ")


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


@contextlib.contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, shown on a terminal only (never in a pipe
    or a log); ``total`` None counts without an end (a streamed file).
    Yields the function that advances it."""
    counted = (
        MofNCompleteColumn() if total is not None else TextColumn("{task.completed}")
    )
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        counted,
        TimeElapsedColumn() if total is None else TimeRemainingColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@command(main, "notify")
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
def notify_cmd(
    ctx: Context,
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
    store = ctx.open()
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
                    notices += [n.as_dict() for n in saved]
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


NOTICE_BATCH = 1000
"""Notices sent per batch with --pending (one save per batch)."""


@command(main, "reissue-code")
@espace_ref
@mail_house_options
def reissue_cmd(
    ctx: Context,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    out: Path | None,
    out_format: str,
) -> None:
    """LC-5: issue a new provisional code; the old one stops working. With
    --out, the code goes to that file for the mail house (as notify)."""
    store = ctx.open()
    target = resolve(store, nir, espace_id)
    issue_one(lambda: store.lifecycle.reissue_code(target), out, out_format, as_json)


# --------------------------------------------------------------------- holder


@command(main, "oppose")
@espace_ref
@click.option(
    "--channel",
    type=click.Choice(["web", "phone", "post"]),
    default="web",
    show_default=True,
)
def oppose_cmd(
    ctx: Context, as_json: bool, nir: str | None, espace_id: UUID | None, channel: str
) -> None:
    """LC-3: record an opposition inside the six-week window; prints the receipt."""
    store = ctx.open()
    emit(
        store.lifecycle.oppose(resolve(store, nir, espace_id), {"channel": channel}),
        as_json,
    )


@command(main, "activate")
@click.option("--nir", required=True, help="The holder's NIR.")
@click.option("--code", required=True, help="The provisional activation code.")
@click.option("--birth-date", required=True, help="YYYY-MM-DD.")
@click.option("--vitale-serial", required=True, help="The Vitale card serial number.")
@click.option(
    "--as-representative", is_flag=True, help="The legal representative activates."
)
def activate_cmd(
    ctx: Context,
    as_json: bool,
    nir: str,
    code: str,
    birth_date: str,
    vitale_serial: str,
    as_representative: bool,
) -> None:
    """LC-5: activate with code + NIR + birth date + Vitale serial (all must match)."""
    store = ctx.open()
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


@command(main, "close")
@espace_ref
def close_cmd(
    ctx: Context, as_json: bool, nir: str | None, espace_id: UUID | None
) -> None:
    """LC-7: the holder closes the espace; it is archived ten years (LC-8)."""
    store = ctx.open()
    emit(store.lifecycle.close(resolve(store, nir, espace_id)), as_json)


@command(main, "request-erasure")
@espace_ref
def erasure_cmd(
    ctx: Context, as_json: bool, nir: str | None, espace_id: UUID | None
) -> None:
    """LC-9: express erasure (closes an open espace first); done within three months."""
    store = ctx.open()
    emit(store.lifecycle.request_erasure(resolve(store, nir, espace_id)), as_json)


@command(main, "reopen")
@espace_ref
def reopen_cmd(
    ctx: Context, as_json: bool, nir: str | None, espace_id: UUID | None
) -> None:
    """LC-10: a new espace for a holder who closed; the archive comes back."""
    store = ctx.open()
    emit(store.lifecycle.reopen(resolve(store, nir, espace_id)), as_json)


@command(main, "object-to-suspension")
@espace_ref
def object_cmd(
    ctx: Context, as_json: bool, nir: str | None, espace_id: UUID | None
) -> None:
    """LC-7: the holder objects to a suspension before it turns into closure."""
    store = ctx.open()
    emit(store.lifecycle.object_to_suspension(resolve(store, nir, espace_id)), as_json)


# --------------------------------------------------------------------- insurer


@command(main, "declare-death")
@espace_ref
@click.option("--date-of-death", required=True, help="YYYY-MM-DD.")
def death_cmd(
    ctx: Context,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    date_of_death: str,
) -> None:
    """LC-7: death closes the espace; the archive stays readable to heirs (LC-11)."""
    store = ctx.open()
    emit(
        store.lifecycle.declare_death(
            resolve(store, nir, espace_id), {"date_of_death": date_of_death}
        ),
        as_json,
    )


@command(main, "suspend")
@espace_ref
@click.option("--reason", required=True, help="Fraud, serious malfunction, ...")
@click.option(
    "--informed-at", help="When the holder is informed (ISO 8601; default now)."
)
def suspend_cmd(
    ctx: Context,
    as_json: bool,
    nir: str | None,
    espace_id: UUID | None,
    reason: str,
    informed_at: str | None,
) -> None:
    """LC-7: suspend; the espace closes six weeks after the holder is informed."""
    store = ctx.open()
    data: dict[str, Any] = {"reason": reason}
    if informed_at:
        data["informed_at"] = informed_at
    emit(store.lifecycle.suspend(resolve(store, nir, espace_id), data), as_json)


@command(main, "lift-suspension")
@espace_ref
def lift_cmd(
    ctx: Context, as_json: bool, nir: str | None, espace_id: UUID | None
) -> None:
    """LC-7: the insurer lifts its suspension."""
    store = ctx.open()
    emit(store.lifecycle.lift_suspension(resolve(store, nir, espace_id)), as_json)


# --------------------------------------------------------------------- queries


@command(main, "show")
@espace_ref
def show_cmd(
    ctx: Context, as_json: bool, nir: str | None, espace_id: UUID | None
) -> None:
    """One espace from the espaces view: state, key dates, next deadline."""
    store = ctx.open()
    key = resolve(store, nir, espace_id)
    row = store.views.espaces.get(key)
    if row is None:
        raise NotFound(f"no espace {key}")
    emit(row, as_json)


@command(main, "list")
@click.option(
    "--state",
    type=click.Choice(
        [
            "affiliated",
            "notified",
            "opposed",
            "open",
            "active",
            "suspended",
            "closed",
            "erased",
        ]
    ),
)
@click.option(
    "--deadline-before", help="Only espaces whose next deadline is before (ISO)."
)
@paged(50)
def list_cmd(
    ctx: Context,
    as_json: bool,
    state: str | None,
    deadline_before: str | None,
    limit: int,
    offset: int,
    all_rows: bool,
) -> None:
    """Espaces by state and next deadline (from the espaces view); says how
    many remain beyond --limit."""
    store = ctx.open()
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
        table = new_table("espace id", "state", "affiliated", "next deadline", "due")
        for r in d["espaces"]:
            table.add_row(
                str(r["espace_id"]),
                r["state"],
                _day(r["affiliated_at"]),
                r["next_deadline_kind"] or "",
                _day(r["next_deadline_at"]),
            )
        show(table)
        page_footer(d, "espaces")

    emit(page("espaces", rows, total, offset), as_json, human)


def _day(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else ""


@command(main, "stats")
def stats_cmd(ctx: Context, as_json: bool) -> None:
    """Counts by state, pending and due deadlines, what the espaces hold
    (documents, messages, appointments, profiles, connections), view lag."""
    store = ctx.open()
    data = store.stats()

    def human(d: dict[str, Any]) -> None:
        table = new_table("state", "espaces")
        for state, n in d["states"].items():
            table.add_row(state, str(n))
        show(table)
        table = new_table("deadline", "pending", "due now", "past its legal limit")
        for kind, c in sorted(d["deadlines"].items()):
            table.add_row(kind, str(c["pending"]), str(c["due"]), str(c["overdue"]))
        show(table)
        table = new_table("held in the espaces", "count")
        rows = [
            *((f"documents: {k}", n) for k, n in sorted(d["documents"].items())),
            *((f"messaging: {k}", n) for k, n in d["messaging"].items()),
            *((f"appointments: {k}", n) for k, n in sorted(d["appointments"].items())),
            ("medical profiles", d["profiles"]),
            *(
                (f"service connections: {k}", n)
                for k, n in sorted(d["service_connections"].items())
            ),
            *(
                (f"listed professionals: {k}", n)
                for k, n in sorted(d["directory"].items())
            ),
        ]
        for label, n in rows:
            table.add_row(label, str(n))
        show(table)
        behind = [v for v in d["views"] if v["lag"]]
        click.echo(
            f"views: {len(d['views'])}, behind: {len(behind)}, "
            f"quarantined events: {d['quarantined']}"
        )

    emit(data, as_json, human)


# --------------------------------------------------------------------- deadlines


@main.group("keys")
def keys_group() -> None:
    """The master key that wraps every espace's data key (ADR-0004)."""


@command(keys_group, "generate")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the key (created 0600, never overwritten).",
)
def keys_generate_cmd(ctx: Context, as_json: bool, out: Path) -> None:
    """Make a master key for a PostgreSQL store (a SQLite store's is made by
    `init`): point ESPACE_KEY_FILE at the file, and keep it apart from the
    database and its backups. Losing it loses every espace's data."""
    written = generate_master_key(out)
    data = {"key_file": str(written), "env": f"ESPACE_KEY_FILE={written}"}

    def human(d: dict[str, Any]) -> None:
        click.echo(d["env"])
        click.echo(
            f"master key written to {d['key_file']} (0600): keep it apart from "
            "the database and its backups",
            err=True,
        )

    emit(data, as_json, human)


@main.group("deadlines")
def deadlines_group() -> None:
    """The deadline job: openings, closures after suspension, erasures, majority."""


@command(deadlines_group, "run")
def deadlines_run_cmd(ctx: Context, as_json: bool) -> None:
    """Do once all that fell due (idempotent; catches up after downtime)."""
    store = ctx.open()
    with progress_bar("deadlines", None) as advance:
        report = store.run_deadlines(progress=advance)
    emit(report, as_json)


@command(deadlines_group, "list")
@click.option("--kind", type=click.Choice([k.value for k in DeadlineKind]))
@click.option("--before", help="Only deadlines due before this instant (ISO 8601).")
@click.option("--nir", help="Only this person's espace's deadlines.")
@click.option("--id", "espace_id", type=click.UUID, help="Only this espace's.")
@paged(50)
def deadlines_list_cmd(
    ctx: Context,
    as_json: bool,
    kind: str | None,
    before: str | None,
    nir: str | None,
    espace_id: UUID | None,
    limit: int,
    offset: int,
    all_rows: bool,
) -> None:
    """Pending deadlines, soonest first; says how many remain beyond --limit."""
    store = ctx.open()
    until = parse_instant(before, "before") if before else None
    which = resolve(store, nir, espace_id) if nir or espace_id else None
    view = store.views.deadlines
    wanted = DeadlineKind(kind) if kind else None
    total = view.count(kind=wanted, before=until, espace_id=which)
    rows = view.upcoming(
        kind=wanted,
        before=until,
        espace_id=which,
        limit=page_limit(limit, all_rows),
        offset=offset,
    )

    def human(d: dict[str, Any]) -> None:
        table = new_table("espace id", "kind", "due")
        for r in d["deadlines"]:
            table.add_row(str(r["espace_id"]), r["kind"], _day(r["due_at"]))
        show(table)
        page_footer(d, "deadlines")

    emit(page("deadlines", rows, total, offset), as_json, human)


@command(deadlines_group, "schedule")
@click.option("--interval", default=300.0, show_default=True, type=click.FloatRange(1))
def deadlines_schedule_cmd(ctx: Context, as_json: bool, interval: float) -> None:
    """Run the deadline job now, then every INTERVAL seconds, until Ctrl-C."""
    from espace.adapters.scheduler import run_scheduler

    store = ctx.open()
    if ctx.clock is not None:
        raise InvalidInput({"clock": ["the scheduler runs on the real clock only"]})

    def job() -> None:
        report = store.run_deadlines()
        if as_json:
            click.echo(json.dumps(report, default=_json_default))

    with contextlib.suppress(KeyboardInterrupt):
        run_scheduler(job, interval_seconds=interval)


# --------------------------------------------------------------------- projections


@main.group("projections")
def projections_group() -> None:
    """The read models: status, rebuild, continuous run."""


@command(projections_group, "status")
def projections_status_cmd(ctx: Context, as_json: bool) -> None:
    """Each view's position in the event log and its lag."""
    store = ctx.open()
    rows = [v.__dict__ for v in store.view_status()]

    def human(data: list[dict[str, Any]]) -> None:
        table = new_table("view", "position", "head", "lag", "quarantined", "caught up")
        for r in data:
            table.add_row(
                r["name"],
                str(r["position"]),
                str(r["head"]),
                str(r["lag"]),
                str(r["quarantined"]),
                "after each command" if r["after_commands"] else "by the runner",
            )
        show(table)
        if any(r["quarantined"] for r in data):
            click.echo("see them with: espace projections quarantine")
        if any(r["lag"] and not r["after_commands"] for r in data):
            click.echo(
                "the audit tree follows `espace projections run` (or --once), the "
                "deadline job and the audit commands (ADR-0023)"
            )

    emit(rows, as_json, human)


@command(projections_group, "quarantine")
@click.option("--view", help="Only the events this view skipped.")
@click.option("--id", "espace_id", type=click.UUID, help="Only this espace's events.")
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1, 100_000)
)
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
def projections_quarantine_cmd(
    ctx: Context,
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
    store = ctx.open()
    rows, total = store.quarantined(
        view=view, espace_id=espace_id, limit=limit, offset=offset
    )
    data = {"total": total, "shown": len(rows), "offset": offset, "events": rows}

    def human(d: dict[str, Any]) -> None:
        table = new_table(
            "position", "view", "kind", "aggregate", "version", "espace", "why"
        )
        for r in d["events"]:
            table.add_row(
                str(r["notification_id"]),
                r["view"],
                r["kind"],
                str(r["originator_id"]),
                str(r["originator_version"]),
                str(r["espace_id"] or ""),
                r["error"],
            )
        show(table)
        rest = d["total"] - d["offset"] - d["shown"]
        if rest > 0:
            click.echo(f"{rest} more: use --offset {d['offset'] + d['shown']}")

    emit(data, as_json, human)


@command(projections_group, "rebuild")
@click.option(
    "--view", "views", multiple=True, help="A view name (repeatable); default all."
)
def projections_rebuild_cmd(
    ctx: Context, as_json: bool, views: tuple[str, ...]
) -> None:
    """Drop the views' rows and rebuild them from the start of the log."""
    store = ctx.open()
    known = {v.name for v in store.view_status()}
    unknown = sorted(set(views) - known)
    if unknown:
        raise InvalidInput({"--view": [f"unknown view(s): {', '.join(unknown)}"]})
    with progress_bar("events", store.head()) as advance:
        rebuilt = store.rebuild_views(list(views) or None, progress=advance)
    emit(rebuilt, as_json)


@command(projections_group, "run")
@click.option(
    "--poll-interval", default=1.0, show_default=True, type=click.FloatRange(0.05)
)
@click.option(
    "--once",
    is_flag=True,
    help="Catch every view (the audit tree too) up to the log's head, print "
    "the events applied to each, and exit: for cron, or after a batch.",
)
def projections_run_cmd(
    ctx: Context, as_json: bool, poll_interval: float, once: bool
) -> None:
    """Keep the views up to date (LISTEN/NOTIFY on PostgreSQL), until Ctrl-C."""
    store = ctx.open()
    if once:
        emit(store.sync(), as_json)
        return
    stop = threading.Event()
    try:
        store.run_views(stop, poll_interval=poll_interval)
    except KeyboardInterrupt:
        stop.set()


# --------------------------------------------------------------------- simulate


@command(main, "simulate")
@click.option(
    "--people", default=1000, show_default=True, type=click.IntRange(1, 10_000_000)
)
@click.option("--seed", default=1, show_default=True, type=int)
@click.option(
    "--fresh",
    is_flag=True,
    help="Start from an empty store: deletes the SQLite file first (simulation "
    "stores only).",
)
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def simulate_cmd(
    ctx: Context, as_json: bool, people: int, seed: int, fresh: bool, progress: bool
) -> None:
    """A synthetic rollout on a simulation store, with a simulated clock.

    Affiliation (with a few bad rows), notices, about 2 % oppositions, about
    20 % activations (some failing first), automatic openings, suspensions,
    closures, deaths, erasure requests, reopenings, and the deadline job,
    ending ten years on when the archives expire.
    """
    from espace.adapters.logging import configure_logging
    from espace.simulation import run_simulation

    configure_logging(ctx.log_level)
    summary = run_simulation(
        ctx.database,
        people=people,
        seed=seed,
        fresh=fresh,
        progress=progress and not as_json,
    )

    def human(d: dict[str, Any]) -> None:
        table = new_table(
            "state", "espaces", title=f"{d['people']} people, seed {d['seed']}"
        )
        for state, n in d["states"].items():
            table.add_row(state, str(n))
        show(table)
        render({k: v for k, v in d.items() if k not in ("states", "people", "seed")})

    emit(summary, as_json, human)


# The record's commands live in their own module; importing it registers them.
from espace.cli import audit as _audit  # noqa: E402,F401
from espace.cli import records as _records  # noqa: E402,F401
from espace.cli import services as _services  # noqa: E402,F401
