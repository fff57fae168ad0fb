"""The operators' commands around the espaces: the store (init, migrate),
its backups and the keystore's, the master key, the deadline job, and
simulations."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from espace.api import (
    backup_keystore,
    backup_store,
    generate_master_key,
    init_store,
    migrate_store,
    restore_keystore,
    restore_store,
    rotate_keys,
)
from espace.application.errors import InvalidInput
from espace.application.schemas import parse_instant
from espace.cli.app import Session, main
from espace.cli.options import page_limit, paged, resolve
from espace.cli.render import (
    day,
    emit,
    page,
    page_footer,
    progress_bar,
    render,
    table,
    write_json,
)
from espace.domain.deadlines import DeadlineKind

# --------------------------------------------------------------------- init


@main.command("init")
@click.option("--simulation", is_flag=True, help="A store for simulations and tests.")
@click.option(
    "--window-policy",
    type=click.Choice(["calendar", "working-day"]),
    default="calendar",
    show_default=True,
    help="LC-2: whether a window ending on a weekend or public holiday runs on "
    "to the next working day (ADR-0002). Fixed for the life of the store.",
)
@click.pass_obj
def init_cmd(
    session: Session, as_json: bool, simulation: bool, window_policy: str
) -> None:
    """Create the store: master key file (SQLite), tables, metadata.

    Idempotent with the same options; an existing store made with another
    --simulation or --window-policy is refused (they are fixed at creation).
    """
    session.configure_logging()
    info = init_store(
        session.database, simulation=simulation, window_policy=window_policy
    )
    emit(info, as_json)


@main.command("migrate")
@click.pass_obj
def migrate_cmd(session: Session, as_json: bool) -> None:
    """Bring the store's tables to this version of espace (creates what is
    missing, records the schema version; idempotent, nothing is lost).
    `Store.open` runs no DDL: a store too old for this espace is refused
    until it is migrated."""
    session.configure_logging()
    emit(migrate_store(session.database), as_json)


# --------------------------------------------------------------------- backups

backup_dir = click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
backup_file = click.argument("file", metavar="FILE", type=click.Path(path_type=Path))
force_option = click.option(
    "--force",
    is_flag=True,
    help="Replace what is there (stop every espace process using it first). "
    "Without it, an existing one is refused and left as it is.",
)


@main.command("backup")
@backup_dir
@click.pass_obj
def backup_cmd(session: Session, as_json: bool, directory: Path) -> None:
    """Back up the event store into DIR (made if missing): the log, the views,
    the audit tree and its checkpoints, and no key (SEC-4, ADR-0028).

    \b
    SQLite: SQLite's online backup, consistent while commands run.
    PostgreSQL: pg_dump --format=custom of ?schema= (else of the database).
    The file is named by the UTC instant (espace-store-20270104T090000Z.db),
    with its manifest beside it (FILE.json: what, from where, when, schema
    version, SHA-256) that `espace restore` checks.

    Refused while the store keeps its keys in its own database: set
    ESPACE_KEYSTORE_URL and run `espace migrate` first. Then run
    `espace keys backup` to another place (after this, so that it holds the
    key of every event in this backup). The master key is never written.
    """
    session.configure_logging()
    emit(backup_store(session.database, directory), as_json)


@main.command("restore")
@backup_file
@force_option
@click.pass_obj
def restore_cmd(session: Session, as_json: bool, file: Path, force: bool) -> None:
    """Restore the event store from FILE (made by `espace backup`) at
    --database / ESPACE_DATABASE_URL, whole or not at all.

    FILE is checked against its manifest (FILE.json) first: a file changed or
    truncated is refused. An existing store is replaced only with --force.
    A PostgreSQL dump goes back to a URL with the same ?schema= (in this
    database or another). Then give the same master key, restore the
    keystore if it is lost (`espace keys restore`), run `espace migrate` if
    espace was upgraded, and `espace audit verify`.
    """
    session.configure_logging()
    emit(restore_store(session.database, file, force=force), as_json)


# --------------------------------------------------------------------- keys


@main.group("keys")
def keys_group() -> None:
    """The master key that wraps every espace's data key, and the keystore
    that holds them (ADR-0004, ADR-0028)."""


@keys_group.command("generate")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the key (created 0600, never overwritten).",
)
def keys_generate_cmd(as_json: bool, out: Path) -> None:
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


@keys_group.command("status")
@click.pass_obj
def keys_status_cmd(session: Session, as_json: bool) -> None:
    """Where the keystore is (ESPACE_KEYSTORE_URL, else beside a SQLite store,
    else in the PostgreSQL database; ADR-0028), its master-key generations
    with how many live keys each still wraps (ADR-0029), and how many data
    keys are live or shredded (SEC-4). No key is shown."""
    status = session.store().keys_status()

    def human(d: dict[str, Any]) -> None:
        where = "apart from the event store" if d["apart"] else "in the event store"
        click.echo(f"keystore: {d['keystore']} ({where})")
        for g in d["generations"]:
            click.echo(
                f"master key generation {g['generation']}: since {g['created_at']}, "
                f"wraps {g['live_keys']} keys"
                + (" (the configured master key)" if g["current"] else "")
            )
        click.echo(f"data keys: {d['live_keys']} live, {d['shredded_keys']} shredded")

    emit(status, as_json, human)


@keys_group.command("rotate")
@click.option(
    "--batch-size",
    type=int,
    default=5000,
    show_default=True,
    help="Keys re-wrapped per transaction (1 to 100,000).",
)
@click.pass_obj
def keys_rotate_cmd(session: Session, as_json: bool, batch_size: int) -> None:
    """Re-wrap every live data key under a new master key (ADR-0029), in
    batches, while the store is in use; after it, the old master key can be
    destroyed, and a keystore backup from before it opens with neither.

    \b
    1. espace keys generate --out new.key
    2. give every process the new key (ESPACE_KEY_FILE=new.key, or
       ESPACE_MASTER_KEY) and the old one in ESPACE_PREVIOUS_KEY_FILE (or
       ESPACE_PREVIOUS_MASTER_KEY); restart them: they read both
    3. espace keys rotate   (interrupted, run it again: it goes on, no key
       is lost)
    4. when it reports 0 remaining, take the old key away from every
       process, destroy it, and destroy the keystore backups made before
    """
    session.configure_logging()
    with progress_bar("keys", None) as advance:
        report = rotate_keys(session.database, batch_size=batch_size, progress=advance)

    def human(d: dict[str, Any]) -> None:
        click.echo(
            f"master key generation {d['generation']}: {d['rewrapped']} keys "
            f"re-wrapped, {d['remaining']} remaining under an older one"
        )
        if d["remaining"]:
            click.echo(
                "some process still wraps new keys under the old master key: "
                "restart it with the new one, then run `espace keys rotate` again",
                err=True,
            )

    emit(report, as_json, human)


@keys_group.command("backup")
@backup_dir
@click.pass_obj
def keys_backup_cmd(session: Session, as_json: bool, directory: Path) -> None:
    """Back up the keystore on its own into DIR (made if missing): every
    espace's data key, wrapped by the master key; never the master key.

    \b
    SQLite: the keystore file (ESPACE_KEYSTORE_URL, else espace.keystore.db
    beside the store), by SQLite's online backup. PostgreSQL: pg_dump
    --format=custom of the database ESPACE_KEYSTORE_URL names.
    Named by the UTC instant (espace-keystore-….db), its manifest beside it.

    Keep these apart from the store's backups and 30 days at most
    (ADR-0028): an erasure is absolute once no copy of its key is left.
    Refused while the keys are in the store's own database.
    """
    session.configure_logging()
    emit(backup_keystore(session.database, directory), as_json)


@keys_group.command("restore")
@backup_file
@force_option
@click.pass_obj
def keys_restore_cmd(session: Session, as_json: bool, file: Path, force: bool) -> None:
    """Restore the keystore from FILE (made by `espace keys backup`) where the
    store keeps it (ESPACE_KEYSTORE_URL, else beside a SQLite store), whole or
    not at all.

    FILE is checked against its manifest (FILE.json) first. An existing
    keystore is replaced only with --force. A keystore backup older than
    an erasure brings that espace's key back: erase it again (SEC-4).
    """
    session.configure_logging()
    emit(restore_keystore(session.database, file, force=force), as_json)


# --------------------------------------------------------------------- deadlines


@main.group("deadlines")
def deadlines_group() -> None:
    """The deadline job: openings, closures after suspension, erasures, majority."""


@deadlines_group.command("run")
@click.pass_obj
def deadlines_run_cmd(session: Session, as_json: bool) -> None:
    """Do once all that fell due (idempotent; catches up after downtime)."""
    store = session.store()
    with progress_bar("deadlines", None) as advance:
        report = store.run_deadlines(progress=advance)
    emit(report, as_json)


@deadlines_group.command("list")
@click.option("--kind", type=click.Choice([k.value for k in DeadlineKind]))
@click.option("--before", help="Only deadlines due before this instant (ISO 8601).")
@click.option("--nir", help="Only this person's espace's deadlines.")
@click.option("--id", "espace_id", type=click.UUID, help="Only this espace's.")
@paged(50)
@click.pass_obj
def deadlines_list_cmd(
    session: Session,
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
    store = session.store()
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
        table(
            ["espace id", "kind", "due"],
            ([r["espace_id"], r["kind"], day(r["due_at"])] for r in d["deadlines"]),
        )
        page_footer(d, "deadlines")

    emit(page("deadlines", rows, total, offset), as_json, human)


@deadlines_group.command("schedule")
@click.option("--interval", default=300.0, show_default=True, type=click.FloatRange(1))
@click.pass_obj
def deadlines_schedule_cmd(session: Session, as_json: bool, interval: float) -> None:
    """Run the deadline job now, then every INTERVAL seconds, until Ctrl-C."""
    from espace.adapters.scheduler import run_scheduler

    store = session.store()
    if session.clock is not None:
        raise InvalidInput({"clock": ["the scheduler runs on the real clock only"]})

    def job() -> None:
        report = store.run_deadlines()
        if as_json:
            write_json(report, ascii_only=True)

    with contextlib.suppress(KeyboardInterrupt):
        run_scheduler(job, interval_seconds=interval)


# --------------------------------------------------------------------- simulate


@main.command("simulate")
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
@click.pass_obj
def simulate_cmd(
    session: Session,
    as_json: bool,
    people: int,
    seed: int,
    fresh: bool,
    progress: bool,
) -> None:
    """A synthetic rollout on a simulation store, with a simulated clock.

    Affiliation (with a few bad rows), notices, about 2 % oppositions, about
    20 % activations (some failing first), automatic openings, suspensions,
    closures, deaths, erasure requests, reopenings, and the deadline job,
    ending ten years on when the archives expire.
    """
    from espace.simulation import run_simulation

    session.configure_logging()
    summary = run_simulation(
        session.database,
        people=people,
        seed=seed,
        fresh=fresh,
        progress=progress and not as_json,
    )

    def human(d: dict[str, Any]) -> None:
        table(
            ["state", "espaces"],
            d["states"].items(),
            title=f"{d['people']} people, seed {d['seed']}",
        )
        render({k: v for k, v in d.items() if k not in ("states", "people", "seed")})

    emit(summary, as_json, human)
