"""Backups of the event store and of its keystore, apart, through the public
API (ADR-0028, ADR-0030; SEC-4, LC-9), on SQLite and PostgreSQL.

The proof of the issue: take a backup of both, erase an espace, put the
store's backup back with the CURRENT keystore: the erased person's record
cannot be read (its key is gone from the only keystore in use), everyone
else's can, and the restored log verifies against its tree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from espace import (
    ConfigurationError,
    NotFound,
    Store,
    backup_keystore,
    backup_store,
    init_store,
    restore_store,
)
from espace.adapters.settings import KEYSTORE_URL_ENV


def test_a_store_backup_restored_after_an_erasure_reads_nothing_of_the_erased_sec_4(
    store_url: str,
    keystore_url: str,
    clock: Any,
    people: Any,
    helpers: Any,
    tmp_path: Path,
) -> None:
    """SEC-4, LC-9: the store's backup holds no key, so restoring it after
    an erasure, with the keystore as it is now, brings nothing of the erased
    espace back; the others read as they did."""
    env = {**helpers.store_environ(store_url), KEYSTORE_URL_ENV: keystore_url}
    init_store(store_url, simulation=True, environ=env)
    erased, kept = people.make(), people.make()
    with Store.open(store_url, clock=clock, environ=env) as store:
        ids = [helpers.affiliate(store, p) for p in (erased, kept)]
        for person in (erased, kept):
            helpers.notify(store, person)
        clock.advance(days=43)
        assert store.run_deadlines()["done"]["opening"] == 2

    stored = backup_store(store_url, tmp_path / "store", environ=env)
    keys = backup_keystore(store_url, tmp_path / "keys", environ=env)
    assert (stored.what, keys.what) == ("store", "keystore")
    assert Path(stored.file).parent != Path(keys.file).parent

    with Store.open(store_url, clock=clock, environ=env) as store:
        clock.advance(minutes=1)
        store.lifecycle.request_erasure(ids[0])
        clock.advance(minutes=1)
        assert store.run_deadlines()["done"]["erasure"] == 1
        with pytest.raises(NotFound):
            store.lifecycle.get(ids[0])

    with pytest.raises(ConfigurationError, match="--force"):
        restore_store(store_url, stored.file, environ=env)
    restored = restore_store(store_url, stored.file, force=True, environ=env)
    assert restored.replaced is True

    with Store.open(store_url, clock=clock, environ=env) as store:
        assert store._infra.keystore.is_shredded(ids[0])
        with pytest.raises(NotFound, match="erased"):
            store.lifecycle.get(ids[0])
        assert store.lifecycle.get(ids[1]).state == "open"
        assert store.audit.verify().intact is True


@pytest.mark.postgres
def test_a_store_whose_keys_are_in_its_database_is_not_backed_up_sec_4(
    pg_url: str, clock: Any, helpers: Any, tmp_path: Path
) -> None:
    """ADR-0028: without ESPACE_KEYSTORE_URL a PostgreSQL store keeps its keys
    in its own database; a backup of it would hold them: refused, naming what
    to do, and nothing is written."""
    env = helpers.store_environ(pg_url)
    init_store(pg_url, simulation=True, environ=env)
    for backup in (backup_store, backup_keystore):
        with pytest.raises(ConfigurationError, match=KEYSTORE_URL_ENV) as refused:
            backup(pg_url, tmp_path / "out", environ=env)
        assert "espace migrate" in str(refused.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
