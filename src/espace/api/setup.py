"""Making a store: its key, its schema and its metadata (``espace init``,
``espace migrate``). Opening one is :class:`espace.Store`'s."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from marshmallow import fields

from espace.adapters.crypto import (
    default_key_file,
    generate_master_key_file,
    load_secrets,
)
from espace.adapters.meta import WINDOW_POLICIES, read_meta, write_meta
from espace.adapters.schema import SCHEMA_VERSION, create_schema
from espace.adapters.settings import (
    StoreSettings,
    create_engine,
    keystore_settings,
    parse_database_url,
    same_database,
)
from espace.api.bootstrap import view_tables
from espace.api.store import Store
from espace.application.errors import ConfigurationError
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
