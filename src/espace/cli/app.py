"""The frame of the command line: the root group and its options, the
session a run shares (the store it opens, closed by click whatever
happens), and the one mapping of errors to exit codes and messages.

Every command is an :class:`EspaceCommand` (it takes ``--json``) in an
:class:`EspaceGroup`: sub-groups made with ``group.group(...)`` are
EspaceGroups too, and ``group.command(...)`` makes EspaceCommands.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import click

from espace.api import Store
from espace.application.errors import (
    ConfigurationError,
    Conflict,
    DamagedRecord,
    DatabaseUnavailable,
    InvalidInput,
    NotFound,
)
from espace.application.schemas import parse_instant
from espace.cli.render import stderr, write_json
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
"""The exit code of each family of errors (1 for any other)."""

RUNNING = "espace.running"
"""Where ``ctx.meta`` keeps the context of the command being run."""


@dataclass
class Session:
    """One run of ``espace``: the root options, and the store it opens."""

    database: str | None
    clock: datetime | None
    log_level: str
    root: click.Context

    def configure_logging(self) -> None:
        """The JSON logs on stderr, at --log-level."""
        from espace.adapters.logging import configure_logging

        configure_logging(self.log_level)

    def store(self) -> Store:
        """Open the store; a clock override is accepted only by a simulation
        store. Click closes it with the root context, after the command and
        the report of any error it raised."""
        self.configure_logging()
        fixed = self.clock
        store = self.root.with_resource(
            _opened(self.database, (lambda: fixed) if fixed else None)
        )
        if fixed is not None:
            if store.mode != "simulation":
                raise ConfigurationError(
                    "--clock is refused: this is a production store (only a store "
                    "created with `espace init --simulation` accepts a clock override)"
                )
            stderr.print(f"[bold yellow]simulated clock:[/] {fixed.isoformat()}")
        return store


@contextlib.contextmanager
def _opened(
    database: str | None, clock: Callable[[], datetime] | None
) -> Iterator[Store]:
    store = Store.open(database, clock=clock)
    try:
        yield store
    finally:
        if store.views_behind:
            stderr.print(
                "[bold yellow]warning:[/] the command was saved, but the views "
                "could not catch up; they will at the next command, or run "
                "`espace projections status`"
            )
        store.close()


class EspaceCommand(click.Command):
    """A command of espace: its first option is ``--json``; the group it
    belongs to turns its errors into exit codes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.insert(
            0,
            click.Option(
                ["--json", "as_json"], is_flag=True, help="Print JSON on stdout."
            ),
        )

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, its context kept where the error mapping reads
        --json and the flags' names."""
        ctx.meta[RUNNING] = ctx
        return super().invoke(ctx)


class EspaceGroup(click.Group):
    """A group of espace's commands: an EspaceError, from its callback or
    any command below it, becomes its exit code, its message on stderr or,
    with --json, its JSON body on stdout.

    At the top: a usage error (an unknown option, a value out of range, a
    missing argument) is JSON on stdout when the call asked for --json,
    like every other error, and names the flag the operator typed."""

    command_class = EspaceCommand
    group_class = type

    def invoke(self, ctx: click.Context) -> Any:
        """Run the group and its command; map an EspaceError it raises."""
        try:
            return super().invoke(ctx)
        except EspaceError as exc:
            running: click.Context | None = ctx.meta.get(RUNNING)
            if running is None:  # raised by a group's callback (--clock)
                fail(exc, False)
            if isinstance(exc, InvalidInput):
                exc = in_flags(exc, running.command)
            fail(exc, bool(running.params.get("as_json")))

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the CLI, usage errors as JSON with --json."""
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
            write_json(body)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def fail(exc: EspaceError, as_json: bool) -> NoReturn:
    """Exit with the error's code; JSON on stdout with --json, text on stderr."""
    code = next((c for t, c in EXIT_CODES.items() if isinstance(exc, t)), 1)
    body = exc.as_dict()
    if as_json:
        write_json(body)
    else:
        stderr.print(f"[bold red]error[/] ({body['error']}): {body['message']}")
    sys.exit(code)


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
    "dir": ("directory",),
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
      espace backup DIR                back up the event store (no key in it)
      espace keys backup DIR           back up the keystore, elsewhere

    \b
    The record and the rest of the espace (each group has its own --help):
      espace doc | consent | journal | notifications | matrix     (DOC, ACC)
      espace directory | message | agenda | profile | services    (PRO, MSG, AG)

    Secrets: the master key is read from ESPACE_MASTER_KEY, else the file in
    ESPACE_KEY_FILE, else (SQLite) the .key file beside the database. The
    keystore (the wrapped data keys) is at ESPACE_KEYSTORE_URL, else (SQLite)
    the .keystore.db file beside the database, else in the PostgreSQL
    database itself.
    """
    instant = parse_instant(clock, "clock") if clock else None
    ctx.obj = Session(database=database, clock=instant, log_level=log_level, root=ctx)
