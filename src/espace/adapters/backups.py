"""Backups of a store and of its keystore, apart (ADR-0028, ADR-0030).

A backup is one file and its manifest beside it (``<file>.json``): what it
is (``store`` or ``keystore``), of which database (its URL, redacted), when
(UTC), the store's schema version, and the file's size and SHA-256. A
restore reads the manifest first and refuses a file that does not match it.

- SQLite: the online backup API (``sqlite3.Connection.backup``), consistent
  while other processes write, into one self-contained file (no WAL).
- PostgreSQL: ``pg_dump --format=custom --compress=0`` of the URL's
  ``?schema=`` (else of the database), restored by ``pg_restore`` in one
  transaction, to a URL with the same ``?schema=``.

Nothing here reads the master key: a backup never holds it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import psycopg

from espace.adapters.settings import StoreSettings, connect_timeout, unavailable
from espace.application.errors import ConfigurationError, InvalidInput

FORMAT = "espace-backup/1"
Part = Literal["store", "keystore"]
MARKER_TABLE: dict[Part, str] = {"store": "espace_meta", "keystore": "espace_kek"}
"""The table whose presence says that a store (a keystore) is there."""


@dataclass(frozen=True)
class BackupInfo:
    """One backup: its file and manifest, and what the manifest says of it."""

    what: Part
    kind: str
    file: str
    manifest: str
    source: str
    schema: str | None
    taken_at: datetime
    schema_version: int
    size: int
    sha256: str


@dataclass(frozen=True)
class RestoreInfo:
    """What a restore did: which backup went where, and whether it replaced
    what was there."""

    what: Part
    file: str
    target: str
    taken_at: datetime
    schema_version: int
    replaced: bool


def manifest_path(file: Path) -> Path:
    """Where a backup file's manifest is: beside it, ``<file>.json``."""
    return file.with_name(file.name + ".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _put_in_place(partial: Path, path: Path) -> None:
    """Make the whole file ``partial`` the file at ``path``: private, on
    disk, then renamed (a reader sees the old file or the new one)."""
    partial.chmod(0o600)
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    partial.replace(path)


def backup_directory(directory: Path) -> Path:
    """The folder backups go to, made (0700) if it is missing; a path that
    is not a folder is refused."""
    if directory.exists() and not directory.is_dir():
        raise InvalidInput({"dir": [f"{directory} is not a directory"]})
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(
            {"dir": [f"cannot create {directory}: {exc.strerror}"]}
        ) from None
    return directory


def _new_name(directory: Path, what: Part, taken_at: datetime, suffix: str) -> Path:
    """A file name no backup in ``directory`` has: the part and the UTC
    instant (``espace-store-20270104T090000Z.db``), numbered on a clash."""
    stamp = taken_at.strftime("%Y%m%dT%H%M%SZ")
    for n in range(1000):
        extra = f"-{n}" if n else ""
        name = directory / f"espace-{what}-{stamp}{extra}{suffix}"
        if not name.exists() and not manifest_path(name).exists():
            return name
    raise ConfigurationError(f"too many backups named {stamp} in {directory}")


def take_backup(
    what: Part, source: StoreSettings, directory: Path, schema_version: int
) -> BackupInfo:
    """Back ``source`` up into ``directory``: the file, written under a
    temporary name and renamed once complete, then its manifest."""
    taken_at = datetime.now(UTC).replace(microsecond=0)
    suffix = ".db" if source.kind == "sqlite" else ".pgdump"
    target = _new_name(backup_directory(directory), what, taken_at, suffix)
    partial = target.with_name(f".{target.name}.partial")
    try:
        if source.sqlite_path is not None:
            _sqlite_backup(source.sqlite_path, partial)
        else:
            _pg_dump(source, partial)
        _put_in_place(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    info = BackupInfo(
        what=what,
        kind=source.kind,
        file=str(target),
        manifest=str(manifest_path(target)),
        source=source.redacted_url,
        schema=source.schema or None,
        taken_at=taken_at,
        schema_version=schema_version,
        size=target.stat().st_size,
        sha256=_sha256(target),
    )
    _write_manifest(info)
    return info


def _write_manifest(info: BackupInfo) -> None:
    body: dict[str, Any] = {"format": FORMAT, **dataclasses.asdict(info)}
    body["taken_at"] = info.taken_at.isoformat()
    body["file"] = Path(info.file).name  # the folder may move with its files
    del body["manifest"]
    path = Path(info.manifest)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    _put_in_place(partial, path)


def _sqlite_backup(path: Path, out: Path) -> None:
    """SQLite's online backup of the file at ``path``: the pages of one
    read transaction, whatever other processes write meanwhile; the copy is
    one file, its journal in DELETE mode, so that its bytes are the backup."""
    source = sqlite3.connect(path, timeout=30)
    try:
        copy = sqlite3.connect(out)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()


def _pg_environ(settings: StoreSettings) -> dict[str, str]:
    """libpq's environment for the client tools: the password never appears
    on a command line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(
        PGHOST=settings.host,
        PGPORT=str(settings.port),
        PGUSER=settings.user,
        PGDATABASE=settings.dbname,
        PGCONNECT_TIMEOUT=str(connect_timeout(settings.timeout)),
    )
    if settings.password:
        env["PGPASSWORD"] = settings.password
    return env


def _run_pg_tool(tool: str, args: list[str], settings: StoreSettings) -> None:
    program = shutil.which(tool)
    if program is None:
        raise ConfigurationError(
            f"{tool} is not installed (PostgreSQL's client tools are needed to "
            "back up and restore a PostgreSQL store)"
        )
    done = subprocess.run(  # noqa: S603 - a fixed program, arguments as a list
        [program, *args],
        env=_pg_environ(settings),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[0]
        raise ConfigurationError(
            f"{tool} failed on {settings.redacted_url}: {first}; nothing was "
            "changed there"
        )


def _pg_dump(settings: StoreSettings, out: Path) -> None:
    """``pg_dump --format=custom`` of the schema (else the database): one
    snapshot, consistent while others write. Uncompressed: the events are
    sealed (compression gains little on them), and the dump's bytes can be
    scanned for what must not be in it (a key)."""
    args = [
        "--format=custom",
        "--compress=0",
        "--no-owner",
        "--no-privileges",
        f"--file={out}",
    ]
    if settings.schema:
        args.append(f'--schema="{settings.schema}"')
    _run_pg_tool("pg_dump", args, settings)


def exists(what: Part, settings: StoreSettings) -> bool:
    """Whether a store (a keystore) is at ``settings``: a SQLite file, or a
    PostgreSQL schema (database) holding any table."""
    if settings.sqlite_path is not None:
        return settings.sqlite_path.exists()
    query = (
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s"
        if settings.schema
        else "SELECT count(*) FROM information_schema.tables WHERE table_name = %s"
    )
    with _pg_connect(settings) as conn:
        row = conn.execute(query, (settings.schema or MARKER_TABLE[what],)).fetchone()
    return bool(row and row[0])


def _pg_connect(settings: StoreSettings) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password or None,
            dbname=settings.dbname,
            connect_timeout=connect_timeout(settings.timeout),
            autocommit=True,
        )
    except psycopg.OperationalError as exc:
        raise unavailable(settings, exc) from exc


def read_backup(file: Path, what: Part) -> BackupInfo:
    """The backup at ``file``, checked against its manifest: a missing
    file or manifest, a manifest of another part, or a file whose size or
    SHA-256 differs (changed, truncated) is refused, naming the file."""
    if not file.is_file():
        raise InvalidInput({"file": [f"no backup file {file}"]})
    manifest = manifest_path(file)
    try:
        body = json.loads(manifest.read_text(encoding="utf-8"))
        info = BackupInfo(
            what=body["what"],
            kind=body["kind"],
            file=str(file),
            manifest=str(manifest),
            source=body["source"],
            schema=body.get("schema"),
            taken_at=datetime.fromisoformat(body["taken_at"]),
            schema_version=int(body["schema_version"]),
            size=int(body["size"]),
            sha256=str(body["sha256"]),
        )
        if body.get("format") != FORMAT or body.get("file") != file.name:
            raise ValueError("not this file's manifest")  # noqa: TRY301
    except FileNotFoundError:
        raise InvalidInput(
            {"file": [f"no manifest {manifest} beside the backup file {file}"]}
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            {"file": [f"the manifest {manifest} of {file} is not valid ({exc})"]}
        ) from None
    if info.what != what:
        raise InvalidInput(
            {"file": [f"{file} is a backup of a {info.what}, not of a {what}"]}
        )
    size = file.stat().st_size
    if size != info.size or _sha256(file) != info.sha256:
        raise InvalidInput(
            {
                "file": [
                    f"the backup file {file} does not match its manifest ({size} "
                    f"bytes, {info.size} expected, or another SHA-256): it was "
                    "changed or truncated; nothing was restored"
                ]
            }
        )
    return info


def restore_backup(
    backup: BackupInfo, target: StoreSettings, *, force: bool
) -> RestoreInfo:
    """Put ``backup`` (checked by :func:`read_backup`) at ``target``, all of
    it or nothing: a store (keystore) already there is replaced only with
    ``force``."""
    if backup.kind != target.kind:
        raise InvalidInput(
            {
                "file": [
                    f"{backup.file} is a {backup.kind} backup: {target.kind} "
                    f"cannot restore it ({target.redacted_url})"
                ]
            }
        )
    if target.kind == "postgresql" and (backup.schema or "") != target.schema:
        where = f"?schema={backup.schema}" if backup.schema else "no ?schema="
        raise InvalidInput(
            {
                "file": [
                    f"{backup.file} is a dump of "
                    f"{'schema ' + backup.schema if backup.schema else 'a database'}"
                    f": restore it to a URL with {where} (of this database or "
                    "another)"
                ]
            }
        )
    there = exists(backup.what, target)
    if there and not force:
        raise ConfigurationError(
            f"a {backup.what} exists at {target.redacted_url}: refusing to "
            "overwrite it (stop the espace processes using it and give --force "
            "to replace it); nothing was changed"
        )
    if target.sqlite_path is not None:
        _sqlite_restore(Path(backup.file), target.sqlite_path, replace=there)
    else:
        _run_pg_tool(
            "pg_restore",
            [
                "--single-transaction",
                "--exit-on-error",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                f"--dbname={target.dbname}",
                backup.file,
            ],
            target,
        )
    return RestoreInfo(
        what=backup.what,
        file=backup.file,
        target=target.redacted_url,
        taken_at=backup.taken_at,
        schema_version=backup.schema_version,
        replaced=there,
    )


def _sqlite_restore(file: Path, path: Path, *, replace: bool) -> None:
    """Copy the backup into the file at ``path``: a new file is written
    under a temporary name and renamed once whole; an existing one is
    overwritten by SQLite's backup in one transaction (its WAL stays
    SQLite's to manage)."""
    source = sqlite3.connect(f"file:{file}?immutable=1", uri=True)
    try:
        if replace:
            with contextlib.closing(sqlite3.connect(path, timeout=30)) as copy:
                source.backup(copy)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.restoring-{uuid.uuid4().hex[:8]}")
        try:
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)
            _put_in_place(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    except sqlite3.DatabaseError as exc:
        raise ConfigurationError(
            f"cannot restore {file} to {path}: {exc}; nothing was changed"
        ) from None
    finally:
        source.close()
