"""The keystore apart from the event store (ADR-0028; SEC-4, LC-9), on
SQLite and PostgreSQL: the keys live where ``ESPACE_KEYSTORE_URL`` says
(another PostgreSQL schema here, another SQLite file), never in the store's
database, so that a backup of the database holds none; a store opened
without its keystore, or with its keys not yet moved, is refused with what
to do; ``migrate`` moves an older store's keys out, and refuses a keystore
that is another store's, moving nothing.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from espace import (
    ConfigurationError,
    DatabaseUnavailable,
    Store,
    init_store,
    migrate_store,
)
from espace.adapters.crypto import Keystore, Secrets, espace_keys
from espace.adapters.settings import (
    KEYSTORE_URL_ENV,
    create_engine,
    parse_database_url,
)
from raw_store import sqlite_files


def has_keys_table(url: str) -> bool:
    engine = create_engine(parse_database_url(url))
    try:
        return sa.inspect(engine).has_table("espace_keys")
    finally:
        engine.dispose()


def wrapped_key(store: Store, key_id: uuid.UUID) -> bytes:
    with store._infra.keystore.engine.connect() as conn:
        found: bytes = conn.execute(
            sa.select(espace_keys.c.wrapped_key).where(espace_keys.c.key_id == key_id)
        ).scalar_one()
    return found


def test_the_keys_live_in_the_keystore_apart_never_in_the_store_sec_4(
    store_url: str, keystore_url: str, clock: Any, people: Any, helpers: Any
) -> None:
    env = {**helpers.store_environ(store_url), KEYSTORE_URL_ENV: keystore_url}
    info = init_store(store_url, simulation=True, environ=env)
    assert info.keystore.split("?")[0] in keystore_url
    with Store.open(store_url, clock=clock, environ=env) as store:
        person = people.make()
        espace_id = helpers.affiliate(store, person)
        helpers.notify(store, person)
        assert store.lifecycle.get(espace_id).state == "notified"
        assert len(wrapped_key(store, espace_id)) > 32
    assert has_keys_table(keystore_url)
    assert not has_keys_table(store_url)

    without = {k: v for k, v in env.items() if k != KEYSTORE_URL_ENV}
    with pytest.raises(ConfigurationError, match=KEYSTORE_URL_ENV):
        Store.open(store_url, clock=clock, environ=without)


def test_a_keystore_that_cannot_be_reached_refuses_the_command_and_writes_nothing(
    store_url: str, keystore_url: str, clock: Any, people: Any, helpers: Any
) -> None:
    """SEC-4, ADR-0028: a keystore on a server that does not answer is a
    clear DatabaseUnavailable naming the keystore (exit 6 in the CLI); the
    store is left as it was: nothing half-written."""
    env = {**helpers.store_environ(store_url), KEYSTORE_URL_ENV: keystore_url}
    init_store(store_url, simulation=True, environ=env)
    with Store.open(store_url, clock=clock, environ=env) as store:
        head = store.head()
    down = {
        **env,
        KEYSTORE_URL_ENV: "postgresql://postgres@127.0.0.1:1/test",
        "ESPACE_DB_TIMEOUT": "2",
    }
    with pytest.raises(DatabaseUnavailable, match="the keystore of the store"):
        Store.open(store_url, clock=clock, environ=down)
    with Store.open(store_url, clock=clock, environ=env) as store:
        assert store.head() == head
        helpers.affiliate(store, people.make())  # and it works again


def test_a_sqlite_stores_keystore_is_a_file_beside_it_and_its_backup_holds_no_key(
    sqlite_url: str, clock: Any, people: Any, helpers: Any, tmp_path: Path
) -> None:
    """SEC-4: the store's own file, as a backup copies it, holds no wrapped
    key; without the keystore file the store is refused, naming it."""
    with helpers.fresh_store(sqlite_url, clock) as store:
        person = people.make()
        espace_id = helpers.affiliate(store, person)
        wrapped = wrapped_key(store, espace_id)
    files = sqlite_files(sqlite_url)
    assert "espace.keystore.db" in files
    assert [n for n, blob in files.items() if wrapped in blob] == ["espace.keystore.db"]
    keystore = tmp_path / "espace.keystore.db"
    keystore.rename(tmp_path / "elsewhere.db")
    with pytest.raises(ConfigurationError, match=r"espace\.keystore\.db"):
        Store.open(sqlite_url, clock=clock, environ={})


def test_migrate_moves_an_older_stores_keys_out_and_leaves_no_copy_sec_4(
    store_url: str, keystore_url: str, clock: Any, people: Any, helpers: Any
) -> None:
    """A store that keeps its keys in its own database (as every store did
    before ADR-0028) is refused once a keystore apart is configured, until
    ``migrate`` moves them: then every espace reads as before, and the
    store's database holds no key."""
    env = helpers.store_environ(store_url)
    inside = {**env, KEYSTORE_URL_ENV: store_url}  # the keys in the store itself
    init_store(store_url, simulation=True, environ=inside)
    with Store.open(store_url, clock=clock, environ=inside) as store:
        persons = [people.make() for _ in range(3)]
        ids = [helpers.affiliate(store, p) for p in persons]
        wrapped = wrapped_key(store, ids[0])
    assert has_keys_table(store_url)

    apart = {**env, KEYSTORE_URL_ENV: keystore_url}
    with pytest.raises(ConfigurationError, match="espace migrate"):
        Store.open(store_url, clock=clock, environ=apart)
    moved = migrate_store(store_url, environ=apart)
    assert moved["keys_moved"] == 5  # three espaces, the system key, the hashing
    assert not has_keys_table(store_url)
    with Store.open(store_url, clock=clock, environ=apart) as store:
        assert [store.lifecycle.get(i).state for i in ids] == ["affiliated"] * 3
        assert wrapped_key(store, ids[0]) == wrapped
    if store_url.startswith("sqlite"):
        files = sqlite_files(store_url)
        assert [n for n, blob in files.items() if wrapped in blob] == []
    assert migrate_store(store_url, environ=apart)["keys_moved"] == 0


def test_migrate_refuses_a_keystore_that_is_another_stores_and_moves_nothing(
    store_url: str, keystore_url: str, clock: Any, helpers: Any, people: Any
) -> None:
    env = helpers.store_environ(store_url)
    init_store(store_url, simulation=True, environ={**env, KEYSTORE_URL_ENV: store_url})
    # Another store's keystore there, under another master key.
    engine = create_engine(parse_database_url(keystore_url))
    try:
        Keystore(engine, Secrets.from_master_key(os.urandom(32))).create_tables()
    finally:
        engine.dispose()
    with pytest.raises(ConfigurationError, match="not this store's"):
        migrate_store(store_url, environ={**env, KEYSTORE_URL_ENV: keystore_url})
    assert has_keys_table(store_url)
    with Store.open(
        store_url, clock=clock, environ={**env, KEYSTORE_URL_ENV: store_url}
    ) as store:
        espace_id = helpers.affiliate(store, people.make())
        assert store.lifecycle.get(espace_id).state == "affiliated"
