"""Master-key rotation (ADR-0029; SEC-1, SEC-4), on SQLite and PostgreSQL:
``rotate_keys`` re-wraps every live key under the new master key, in
batches, while the store is in use; the espaces' ids and codes do not
change (the hashing secrets live in the keystore); the old master key then
opens nothing, and a keystore backup from before the rotation opens with
neither key; a rotation killed mid-way resumes and loses no key; bad input
and missing keys are refused with what to set, nothing written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from espace import ConfigurationError, InvalidInput, Store, rotate_keys
from espace.adapters.crypto import (
    KEYSTORE_METADATA,
    Keystore,
    Secrets,
    espace_keys,
    new_master_key,
)
from espace.adapters.crypto.keytables import espace_kek
from espace.adapters.crypto.masterkey import (
    MASTER_KEY_ENV,
    PREVIOUS_MASTER_KEY_ENV,
    _b64url_decode,
)
from espace.adapters.settings import create_engine, parse_database_url
from espace.application import outputs
from pg_schema import schema_url

PEOPLE = 12


def master_key(store_url: str, env: dict[str, str]) -> str:
    """The store's master key as text: its key file's beside a SQLite
    store, ``ESPACE_MASTER_KEY`` on PostgreSQL."""
    if store_url.startswith("sqlite"):
        path = Path(store_url.removeprefix("sqlite:///") + ".key")
        return path.read_text(encoding="ascii").strip()
    return env[MASTER_KEY_ENV]


def rotating(old: str, new: str) -> dict[str, str]:
    """The environment of every process while the keys move from ``old``."""
    return {MASTER_KEY_ENV: new, PREVIOUS_MASTER_KEY_ENV: old}


def key_rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    """The keystore's rows, as a backup of it holds them."""
    with store._infra.keystore.engine.connect() as conn:
        return {
            table.name: [dict(r) for r in conn.execute(sa.select(table)).mappings()]
            for table in (espace_keys, espace_kek)
        }


@pytest.fixture
def elsewhere(store_url: str, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database to restore a keystore backup into."""
    url = f"sqlite:///{tmp_path / 'restored.db'}"
    if store_url.startswith("sqlite"):
        engine = create_engine(parse_database_url(url))
        yield engine
        engine.dispose()
        return
    with schema_url(store_url, "r") as pg:
        engine = create_engine(parse_database_url(pg))
        yield engine
        engine.dispose()


@pytest.fixture
def populated(
    store: Store, people: Any, helpers: Any, clock: Any
) -> tuple[Store, list[Any]]:
    """A store of PEOPLE notified espaces, one of them erased (SEC-4)."""
    persons = [people.make() for _ in range(PEOPLE)]
    for person in persons:
        helpers.affiliate(store, person)
        helpers.notify(store, person)
    gone = persons[0]
    store._infra.keystore.shred(gone.espace_id, clock.now)
    return store, persons


def readable(store: Store, persons: list[Any]) -> None:
    """Every espace but the first (erased) opens, found by its NIR."""
    for person in persons[1:]:
        assert store.lifecycle.espace_id_for(person.nir) == person.espace_id
        assert store.lifecycle.get(person.espace_id).id == person.espace_id


def test_rotation_rewraps_every_live_key_and_the_old_key_then_opens_nothing_sec_4(
    populated: tuple[Store, list[Any]],
    store_url: str,
    store_env: dict[str, str],
    clock: Any,
    elsewhere: sa.Engine,
) -> None:
    store, persons = populated
    old, new = master_key(store_url, store_env), new_master_key()
    backup = key_rows(store)  # a keystore backup from before the rotation
    store.close()

    report = rotate_keys(store_url, environ=rotating(old, new), batch_size=5)

    live = PEOPLE - 1 + 2  # the erased one stays shredded; the store's two
    assert outputs.dump(report) == {
        "generation": 2,
        "rewrapped": live,
        "remaining": 0,
        "began": True,
    }
    with Store.open(store_url, clock=clock, environ={MASTER_KEY_ENV: new}) as after:
        readable(after, persons)
        status = after.keys_status()
        assert [
            (g["generation"], g["live_keys"], g["current"])
            for g in status["generations"]
        ] == [(1, 0, False), (2, live, True)]
        assert status["shredded_keys"] == 1
    with pytest.raises(ConfigurationError, match="rotated to generation 2"):
        Store.open(store_url, clock=clock, environ={MASTER_KEY_ENV: old})
    again = rotate_keys(store_url, environ=rotating(old, new))
    assert (again.rewrapped, again.remaining, again.began) == (0, 0, False)

    KEYSTORE_METADATA.create_all(elsewhere)  # the old backup, restored
    with elsewhere.begin() as conn:
        for table in (espace_keys, espace_kek):
            conn.execute(table.insert(), backup[table.name])
    restored = Keystore(elsewhere, Secrets.from_master_key(_b64url_decode(new)))
    with pytest.raises(ConfigurationError, match="not the one"):
        restored.verify_master_key()
    with pytest.raises(ConfigurationError):
        restored.data_key(persons[1].espace_id)


def test_processes_given_both_keys_read_on_through_the_rotation_sec_1(
    populated: tuple[Store, list[Any]],
    store_url: str,
    store_env: dict[str, str],
    clock: Any,
    people: Any,
    helpers: Any,
) -> None:
    """A process restarted with the new key and the old one before the
    rotation begins reads everything and writes new keys under the old
    generation (it has not seen the new one); after the rotation it still
    reads all; a second run re-wraps what it made meanwhile."""
    store, persons = populated
    old, new = master_key(store_url, store_env), new_master_key()
    store.close()
    with Store.open(store_url, clock=clock, environ=rotating(old, new)) as reader:
        readable(reader, persons)
        first = rotate_keys(store_url, environ=rotating(old, new), batch_size=4)
        assert first.remaining == 0
        late = people.make()
        helpers.affiliate(reader, late)  # its key: under the generation it knows
        assert reader.keys_status()["generations"][0]["live_keys"] == 1
        reader._infra.keystore._cache.clear()
        readable(reader, [*persons, late])
    second = rotate_keys(store_url, environ=rotating(old, new))
    assert (second.rewrapped, second.remaining) == (1, 0)
    with Store.open(store_url, clock=clock, environ={MASTER_KEY_ENV: new}) as after:
        readable(after, [*persons, late])


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from espace import rotate_keys
    batches = [0]
    def progress(n):
        batches[0] += 1
        if batches[0] == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # dies between two batches
    rotate_keys(sys.argv[1], batch_size=3, progress=progress)
    """
)


def test_a_rotation_killed_mid_way_resumes_and_loses_no_key_sec_4(
    populated: tuple[Store, list[Any]],
    store_url: str,
    store_env: dict[str, str],
    clock: Any,
) -> None:
    store, persons = populated
    old, new = master_key(store_url, store_env), new_master_key()
    store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESPACE_")}
    env.update(rotating(old, new))
    killed = subprocess.run(
        [sys.executable, "-c", CHILD, store_url], env=env, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    with Store.open(store_url, clock=clock, environ=rotating(old, new)) as half:
        moved = [g["live_keys"] for g in half.keys_status()["generations"]]
        assert moved == [PEOPLE + 1 - 6, 6]  # two batches of three committed
        readable(half, persons)

    resumed = rotate_keys(store_url, environ=rotating(old, new))

    assert (resumed.rewrapped, resumed.remaining, resumed.began) == (
        PEOPLE - 5,
        0,
        False,
    )
    with Store.open(store_url, clock=clock, environ={MASTER_KEY_ENV: new}) as after:
        readable(after, persons)


def test_a_rotation_without_the_right_keys_or_with_a_bad_batch_writes_nothing(
    populated: tuple[Store, list[Any]],
    store_url: str,
    store_env: dict[str, str],
    tmp_path: Path,
) -> None:
    store, _ = populated
    before = key_rows(store)
    store.close()
    old, new = master_key(store_url, store_env), new_master_key()
    with pytest.raises(InvalidInput) as bad:
        rotate_keys(store_url, environ=rotating(old, new), batch_size=0)
    assert "batch_size" in bad.value.fields
    with pytest.raises(ConfigurationError, match=PREVIOUS_MASTER_KEY_ENV):
        rotate_keys(store_url, environ={MASTER_KEY_ENV: new})
    with pytest.raises(ConfigurationError, match="newest generation"):
        rotate_keys(store_url, environ=rotating(new_master_key(), new))
    with pytest.raises(ConfigurationError, match="not valid base64url"):
        rotate_keys(store_url, environ={**rotating(old, new), MASTER_KEY_ENV: "x!"})
    with pytest.raises(ConfigurationError, match="no espace store"):
        rotate_keys(f"sqlite:///{tmp_path / 'none.db'}", environ=rotating(old, new))
    env = {MASTER_KEY_ENV: old}
    with Store.open(store_url, environ=env) as unchanged:
        assert key_rows(unchanged) == before


def test_the_espace_ids_outlive_the_first_master_key_sec_1(
    populated: tuple[Store, list[Any]],
    store_url: str,
    store_env: dict[str, str],
    clock: Any,
) -> None:
    """The HMAC key that makes an espace's id from its NIR was derived from
    the first master key: the keystore keeps it, so after two rotations,
    with only the third key, every NIR still finds its espace."""
    store, persons = populated
    store.close()
    first, second, third = master_key(store_url, store_env), new_master_key(), ""
    rotate_keys(store_url, environ=rotating(first, second))
    third = new_master_key()
    rotate_keys(store_url, environ=rotating(second, third))
    with Store.open(store_url, clock=clock, environ={MASTER_KEY_ENV: third}) as after:
        readable(after, persons)
        generations = after.keys_status()["generations"]
        assert [g["generation"] for g in generations] == [1, 2, 3]
