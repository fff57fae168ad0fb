"""Making a store: its key, its schema and its metadata (``espace init``,
``espace migrate``), and its backups and the keystore's, apart (``espace
backup``, ``keys backup``, ``restore``, ``keys restore``; ADR-0030).
Opening one is :class:`espace.Store`'s."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from marshmallow import fields

from espace.adapters.backups import (
    BackupInfo,
    Part,
    RestoreInfo,
    exists,
    read_backup,
    restore_backup,
    take_backup,
)
from espace.adapters.crypto import (
    default_key_file,
    generate_master_key_file,
    load_secrets,
)
from espace.adapters.meta import WINDOW_POLICIES, read_meta, write_meta
from espace.adapters.schema import SCHEMA_VERSION, create_schema
from espace.adapters.settings import (
    KEYSTORE_URL_ENV,
    StoreSettings,
    create_engine,
    keystore_settings,
    parse_database_url,
    same_database,
)
from espace.api.bootstrap import view_tables
from espace.api.store import Store
from espace.application.errors import ConfigurationError, InvalidInput
from espace.application.outputs import Output, dumps


def generate_master_key(path: str | os.PathLike[str]) -> Path:
    """Write a new master key (base64url of 32 random bytes) to ``path``,
    created 0600 and never overwritten: the key a PostgreSQL store is given
    by ``ESPACE_KEY_FILE``. Keep it apart from the database and its backups."""
    target = Path(path)
    generate_master_key_file(target)
    return target


@dataclass(frozen=True)
class StoreInfo:
    """What ``init`` made or found: the store's redacted URL, its database,
    mode and window policy, the key file it wrote (SQLite), where its
    keystore is (ADR-0028), and whether it was created now."""

    url: str
    kind: str
    mode: str
    window_policy: str
    key_file: str | None
    keystore: str
    created: bool


@dumps(StoreInfo)
class StoreInfoSchema(Output):
    """What ``init`` prints: every field, by name."""

    url = fields.String()
    kind = fields.String()
    mode = fields.String()
    window_policy = fields.String()
    key_file = fields.String(allow_none=True)
    keystore = fields.String()
    created = fields.Boolean()


def init_store(
    url: str | None = None,
    *,
    simulation: bool = False,
    window_policy: str = "calendar",
    environ: Mapping[str, str] | None = None,
) -> StoreInfo:
    """Create a store: its master key file (SQLite, unless a key is configured),
    its tables and its metadata. Idempotent: an existing store is left as is.
    """
    if window_policy not in WINDOW_POLICIES:
        raise ConfigurationError(
            f"window_policy must be one of {', '.join(WINDOW_POLICIES)}"
        )
    env = os.environ if environ is None else environ
    settings = parse_database_url(url or env.get("ESPACE_DATABASE_URL"))
    key_file: Path | None = None
    if not env.get("ESPACE_MASTER_KEY") and not env.get("ESPACE_KEY_FILE"):
        key_file = default_key_file(settings)
        if key_file is None:
            raise ConfigurationError(
                "a PostgreSQL store needs ESPACE_MASTER_KEY or ESPACE_KEY_FILE "
                "(the master key is never stored in the database)"
            )
        if not key_file.exists():
            if settings.sqlite_path is not None and settings.sqlite_path.exists():
                raise ConfigurationError(
                    f"{settings.sqlite_path} exists but its key file {key_file} "
                    "does not: without it the events cannot be read"
                )
            key_file.parent.mkdir(parents=True, exist_ok=True)
            generate_master_key_file(key_file)
    secrets = load_secrets(settings, env)
    existing = _existing_meta(settings)
    wanted = {
        "mode": "simulation" if simulation else "production",
        "window_policy": window_policy,
    }
    differs = {
        k: existing[k] for k, v in wanted.items() if k in existing and existing[k] != v
    }
    if differs:
        what = ", ".join(f"{k} {v}" for k, v in differs.items())
        raise ConfigurationError(
            f"the store at {settings.redacted_url} already exists with {what}: "
            "those are fixed when a store is created"
        )
    keys_at = keystore_settings(settings, env)
    if (
        not existing
        and keys_at.sqlite_path is not None
        and keys_at.sqlite_path.exists()
        and not same_database(settings, keys_at)
    ):
        raise ConfigurationError(
            f"the keystore {keys_at.sqlite_path} exists but its store "
            f"{settings.redacted_url} does not: it is another store's (move it "
            "away, or restore its store)"
        )
    create_schema(settings, secrets, view_tables(), keys_at)
    engine = create_engine(settings)
    try:
        write_meta(engine, {**wanted, "created_at": datetime.now(UTC).isoformat()})
        meta = read_meta(engine)
    finally:
        engine.dispose()
    with Store.open(settings.url, environ=env) as store:
        store.records.ensure_default_matrix()
        store.catalogue.ensure_default()
    return StoreInfo(
        url=settings.redacted_url,
        kind=settings.kind,
        mode=meta["mode"],
        window_policy=meta["window_policy"],
        key_file=str(key_file) if key_file else None,
        keystore=keys_at.redacted_url,
        created=not existing,
    )


def migrate_store(
    url: str | None = None, *, environ: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Bring a store's tables to this espace's schema version (``espace
    migrate``): create what is missing, move the keys of an older store
    into its keystore apart (ADR-0028), record the version. Idempotent;
    nothing stored is lost."""
    env = os.environ if environ is None else environ
    settings = parse_database_url(url or env.get("ESPACE_DATABASE_URL"))
    existing = _existing_meta(settings)
    if not existing:
        raise ConfigurationError(
            f"no espace store at {settings.redacted_url}: run `espace init` first"
        )
    moved = create_schema(
        settings,
        load_secrets(settings, env),
        view_tables(),
        keystore_settings(settings, env),
    )
    return {
        "from": int(existing.get("schema_version", "1")),
        "to": SCHEMA_VERSION,
        "keys_moved": moved,
    }


def _existing_meta(settings: StoreSettings) -> dict[str, str]:
    """The metadata of the store at ``settings``, {} if there is none. A
    SQLite file that does not exist is not created."""
    if settings.sqlite_path is not None and not settings.sqlite_path.exists():
        return {}
    engine = create_engine(settings)
    try:
        return read_meta(engine)
    finally:
        engine.dispose()


@dumps(BackupInfo)
class BackupInfoSchema(Output):
    """What ``backup`` and ``keys backup`` print: the file, its manifest
    and what the manifest says."""

    what = fields.String()
    kind = fields.String()
    file = fields.String()
    manifest = fields.String()
    source = fields.String()
    schema = fields.String(allow_none=True)
    taken_at = fields.DateTime()
    schema_version = fields.Integer()
    size = fields.Integer()
    sha256 = fields.String()


@dumps(RestoreInfo)
class RestoreInfoSchema(Output):
    """What ``restore`` and ``keys restore`` print."""

    what = fields.String()
    file = fields.String()
    target = fields.String()
    taken_at = fields.DateTime()
    schema_version = fields.Integer()
    replaced = fields.Boolean()


def _settings(url: str | None, environ: Mapping[str, str] | None) -> StoreSettings:
    env = os.environ if environ is None else environ
    return parse_database_url(url or env.get("ESPACE_DATABASE_URL"))


def _apart(
    settings: StoreSettings, environ: Mapping[str, str] | None
) -> tuple[dict[str, str], StoreSettings]:
    """The metadata of the store at ``settings`` and where its keystore is,
    refused unless the keys live apart from it (ADR-0028): a backup of the
    store would hold them."""
    meta = _existing_meta(settings)
    if not meta:
        raise ConfigurationError(
            f"no espace store at {settings.redacted_url}: nothing to back up"
        )
    keys_at = keystore_settings(settings, os.environ if environ is None else environ)
    if meta.get("keystore", "store") == "store" or same_database(settings, keys_at):
        raise ConfigurationError(
            f"the store at {settings.redacted_url} keeps its keys in its own "
            "database: a backup of it would hold them (SEC-4, ADR-0028). Set "
            f"{KEYSTORE_URL_ENV} to another database and run `espace migrate` "
            "to move the keys there, then back up each on its own"
        )
    return meta, keys_at


def backup_store(
    url: str | None,
    directory: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
) -> BackupInfo:
    """Back up the event store (log, views, audit tree and checkpoints) into
    ``directory``: a consistent copy while others write (SQLite's online
    backup, or ``pg_dump --format=custom``), named by the UTC instant, its
    manifest beside it. It holds no key: refused while the store keeps its
    keys in its own database. Back the keystore up after it
    (:func:`backup_keystore`), to another place."""
    settings = _settings(url, environ)
    meta, _ = _apart(settings, environ)
    version = int(meta.get("schema_version", "1"))
    return take_backup("store", settings, Path(directory), version)


def backup_keystore(
    url: str | None,
    directory: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
) -> BackupInfo:
    """Back up the keystore of the store at ``url`` (every data key,
    wrapped by the master key; never the master key) into ``directory``,
    which should not be where the store's backups go. Keep it 30 days at
    most (ADR-0028): an erasure is absolute once no copy of its key is left."""
    settings = _settings(url, environ)
    meta, keys_at = _apart(settings, environ)
    if not exists("keystore", keys_at):
        raise ConfigurationError(
            f"no keystore at {keys_at.redacted_url} for the store at "
            f"{settings.redacted_url}: nothing to back up"
        )
    version = int(meta.get("schema_version", "1"))
    return take_backup("keystore", keys_at, Path(directory), version)


def restore_store(
    url: str | None,
    file: str | os.PathLike[str],
    *,
    force: bool = False,
    environ: Mapping[str, str] | None = None,
) -> RestoreInfo:
    """Put the store backup at ``file`` back at ``url``, after checking it
    against its manifest (size and SHA-256). A store already there is
    replaced only with ``force``; the restore is whole or nothing. Then give
    the same master key and a keystore (:func:`restore_keystore`), and run
    ``espace audit verify``."""
    settings = _settings(url, environ)
    return _restore("store", Path(file), settings, force=force)


def restore_keystore(
    url: str | None,
    file: str | os.PathLike[str],
    *,
    force: bool = False,
    environ: Mapping[str, str] | None = None,
) -> RestoreInfo:
    """Put the keystore backup at ``file`` back where the store at ``url``
    keeps its keystore (``ESPACE_KEYSTORE_URL``, else beside a SQLite store),
    after checking it against its manifest. An existing keystore is replaced
    only with ``force``: a keystore older than the last erasures brings
    their keys back (erase those espaces again)."""
    settings = _settings(url, environ)
    keys_at = keystore_settings(settings, os.environ if environ is None else environ)
    if same_database(settings, keys_at):
        raise ConfigurationError(
            f"the store at {settings.redacted_url} has no keystore apart: set "
            f"{KEYSTORE_URL_ENV} to where its keystore goes (ADR-0028)"
        )
    return _restore("keystore", Path(file), keys_at, force=force)


def _restore(
    what: Part, file: Path, target: StoreSettings, *, force: bool
) -> RestoreInfo:
    backup = read_backup(file, what)
    if backup.schema_version > SCHEMA_VERSION:
        raise InvalidInput(
            {
                "file": [
                    f"{file} is of schema version {backup.schema_version}, newer "
                    f"than this espace's ({SCHEMA_VERSION}): use the espace that "
                    "made it"
                ]
            }
        )
    return restore_backup(backup, target, force=force)
