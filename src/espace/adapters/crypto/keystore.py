"""The keystore: one data key per espace, wrapped by the KEK, in the
``espace_keys`` table; shredding a key erases its espace (SEC-4, ADR-0004)."""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from espace.adapters.crypto.masterkey import (
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    Secrets,
)
from espace.application.errors import (
    ConfigurationError,
    DamagedRecord,
    NotFound,
)

SYSTEM_KEY_ID: Final = UUID(int=0)
"""The data key of events that belong to no espace (reference data)."""

KEYSTORE_METADATA: Final = sa.MetaData()

espace_keys: Final = sa.Table(
    "espace_keys",
    KEYSTORE_METADATA,
    sa.Column("key_id", sa.Uuid(), primary_key=True),
    # NULL once shredded: the row stays as a tombstone (SEC-4).
    sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True),
)

espace_kek: Final = sa.Table(
    "espace_kek",
    KEYSTORE_METADATA,
    sa.Column("generation", sa.Integer(), primary_key=True, autoincrement=False),
    # A value derived from the master key (Secrets.check), never the key.
    sa.Column("check_value", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

_PG_INSERT_KEYS: Final = sa.text(
    "INSERT INTO espace_keys (key_id, wrapped_key, created_at, shredded_at) "
    "SELECT k, w, :at, NULL "
    "FROM unnest(CAST(:ids AS uuid[]), CAST(:wrapped AS bytea[])) AS t(k, w) "
    "ON CONFLICT (key_id) DO NOTHING RETURNING key_id"
)
_WRONG_MASTER_KEY: Final = (
    "the master key is not the one this store was created with (check "
    f"{MASTER_KEY_ENV}, {MASTER_KEY_FILE_ENV} or the key file beside the database)"
)
_WRAP_FORMAT: Final = b"\x01"  # AES-256-GCM under the HKDF-derived KEK, v1
_NONCE_BYTES: Final = 12
_SELECT_CHUNK: Final = 500  # ids per IN (...) clause, well under SQLite's limit


class KeyShredded(NotFound):
    """The data key was destroyed (SEC-4): what it protected is erased."""

    def __init__(self, key_id: UUID) -> None:
        super().__init__(f"data key {key_id} was shredded: its data is erased (SEC-4)")
        self.key_id = key_id


class KeyNotFound(NotFound):
    """No data key was ever created under this id."""

    def __init__(self, key_id: UUID) -> None:
        super().__init__(f"no data key {key_id} in the keystore")
        self.key_id = key_id


@dataclass(frozen=True)
class _Cached:
    """A cache entry: the unwrapped key (``None`` if shredded) and its AEAD."""

    key: bytes | None = field(repr=False)
    aead: AESGCM | None = field(repr=False)
    loaded_at: float


def _chunks(
    items: Sequence[UUID], size: int = _SELECT_CHUNK
) -> Iterator[Sequence[UUID]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def utcnow() -> datetime:
    """Now, in UTC: when a key is made or shredded, by default."""
    return datetime.now(UTC)


class Keystore:
    """Per-espace AES-256 data keys, stored wrapped by the KEK.

    A shredded key keeps its row (``wrapped_key`` NULL, ``shredded_at`` set) so
    that nobody can re-create a key under an erased id and the erasure itself
    stays provable. Unwrapped keys are cached in-process (LRU, bounded) because
    every event read needs one; entries expire after ``ttl_seconds`` so that a
    shred done by another process takes effect here too.
    """

    def __init__(
        self,
        engine: sa.Engine,
        secrets: Secrets,
        *,
        cache_size: int = 100_000,
        ttl_seconds: float | None = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if cache_size < 1:
            raise ValueError("cache_size must be at least 1")
        self.engine = engine
        self._kek = AESGCM(secrets.kek)
        self._check = secrets.check
        self._master_verified = False
        self._cache: OrderedDict[UUID, _Cached] = OrderedDict()
        self._cache_size = cache_size
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()

    # -- schema --------------------------------------------------------------

    def create_tables(self) -> None:
        """Create the keystore's tables, its master-key check and the system
        key (``espace init`` and ``espace migrate``), then check the master key.

        The check value is written once. A store from before it gets one only
        if its system key opens under the master key given: a wrong key is
        never recorded as the right one.
        """
        KEYSTORE_METADATA.create_all(self.engine)
        if self._stored_check() is None:
            self._master_verified = False
            with suppress(KeyNotFound):
                self._fresh(SYSTEM_KEY_ID)  # ConfigurationError if the key is wrong
            dialect_insert = (
                postgresql_insert
                if self.engine.dialect.name == "postgresql"
                else sqlite_insert
            )
            with self.engine.begin() as conn:
                conn.execute(
                    dialect_insert(espace_kek)
                    .values(generation=1, check_value=self._check, created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=[espace_kek.c.generation])
                )
        self.verify_master_key(initialising=True)
        self.ensure_keys([SYSTEM_KEY_ID], at=utcnow())

    def verify_master_key(self, *, initialising: bool = False) -> None:
        """Check the master key against the stored check value, then unwrap
        the system key.

        A wrong master key is a :class:`ConfigurationError`; once the master
        key is known to be right, a key row that fails to unwrap is damaged
        (:class:`DamagedRecord`, naming the key), and so is a missing system
        key outside ``init``.
        """
        stored = self._stored_check()
        if stored is not None and not hmac.compare_digest(stored, self._check):
            raise ConfigurationError(_WRONG_MASTER_KEY)
        self._master_verified = stored is not None
        try:
            self._fresh(SYSTEM_KEY_ID)
        except KeyNotFound:
            if initialising:
                return
            raise DamagedRecord(
                "the system key is missing from the keystore: reference data "
                "cannot be read (restore the keystore from a backup)",
                espace_id=SYSTEM_KEY_ID,
            ) from None
        self._master_verified = True

    def _stored_check(self) -> bytes | None:
        with self.engine.connect() as conn:
            stored = conn.execute(
                sa.select(espace_kek.c.check_value)
                .order_by(espace_kek.c.generation.desc())
                .limit(1)
            ).scalar_one_or_none()
        return None if stored is None else bytes(stored)

    def _fresh(self, key_id: UUID) -> bytes:
        """The key read from the database, not the cache."""
        with self._lock:
            self._cache.pop(key_id, None)
        return self.data_key(key_id)

    # -- wrapping ------------------------------------------------------------

    def _wrap(self, key_id: UUID, key: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _WRAP_FORMAT + nonce + self._kek.encrypt(nonce, key, key_id.bytes)

    def _unwrap(self, key_id: UUID, wrapped: bytes) -> bytes:
        wrapped = bytes(wrapped)
        if wrapped[:1] == _WRAP_FORMAT and len(wrapped) >= 1 + _NONCE_BYTES + 16:
            nonce = wrapped[1 : 1 + _NONCE_BYTES]
            with suppress(InvalidTag):
                return self._kek.decrypt(
                    nonce, wrapped[1 + _NONCE_BYTES :], key_id.bytes
                )
        if not self._master_verified:
            raise ConfigurationError(_WRONG_MASTER_KEY)
        which = "the system key" if key_id == SYSTEM_KEY_ID else f"data key {key_id}"
        raise DamagedRecord(
            f"{which} is damaged in the keystore: its row fails its integrity "
            "check under the right master key (restore it from a keystore "
            "backup; every other key still opens)",
            espace_id=key_id,
        )

    # -- cache ---------------------------------------------------------------

    def _cache_get(self, key_id: UUID) -> _Cached | None:
        with self._lock:
            entry = self._cache.get(key_id)
            if entry is None:
                return None
            expired = (
                entry.key is not None
                and self._ttl is not None
                and self._monotonic() - entry.loaded_at > self._ttl
            )
            if expired:
                del self._cache[key_id]
                return None
            self._cache.move_to_end(key_id)
            return entry

    def _cache_put(self, key_id: UUID, key: bytes | None) -> _Cached:
        entry = _Cached(
            key=key,
            aead=AESGCM(key) if key is not None else None,
            loaded_at=self._monotonic(),
        )
        with self._lock:
            self._cache[key_id] = entry
            self._cache.move_to_end(key_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return entry

    def _store_row(self, key_id: UUID, wrapped: bytes | None) -> _Cached:
        if wrapped is None:
            return self._cache_put(key_id, None)
        return self._cache_put(key_id, self._unwrap(key_id, wrapped))

    # -- reads ---------------------------------------------------------------

    def _entry(self, key_id: UUID) -> _Cached:
        entry = self._cache_get(key_id)
        if entry is None:
            with self.engine.connect() as conn:
                row = conn.execute(
                    sa.select(espace_keys.c.wrapped_key).where(
                        espace_keys.c.key_id == key_id
                    )
                ).first()
            if row is None:
                raise KeyNotFound(key_id)
            entry = self._store_row(key_id, row.wrapped_key)
        if entry.key is None:
            raise KeyShredded(key_id)
        return entry

    def data_key(self, key_id: UUID) -> bytes:
        """The unwrapped data key; :class:`KeyShredded` or :class:`KeyNotFound`."""
        key = self._entry(key_id).key
        assert key is not None  # _entry raised otherwise
        return key

    def aead(self, key_id: UUID) -> AESGCM:
        """The AES-GCM object of a data key, cached with it (saves a key schedule)."""
        aead = self._entry(key_id).aead
        assert aead is not None  # _entry raised otherwise
        return aead

    def preload(self, key_ids: Iterable[UUID]) -> None:
        """Load many keys in a few queries (a projection page spans many espaces).

        Ids without a row are left out; reading them later raises KeyNotFound.
        """
        wanted = [k for k in dict.fromkeys(key_ids) if self._cache_get(k) is None]
        if not wanted:
            return
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                rows = conn.execute(
                    sa.select(espace_keys.c.key_id, espace_keys.c.wrapped_key).where(
                        espace_keys.c.key_id.in_(chunk)
                    )
                )
                for row in rows:
                    self._store_row(row.key_id, row.wrapped_key)

    def is_shredded(self, key_id: UUID) -> bool:
        """Whether the key was destroyed (always read from the database)."""
        with self.engine.connect() as conn:
            shredded_at = conn.execute(
                sa.select(espace_keys.c.shredded_at).where(
                    espace_keys.c.key_id == key_id
                )
            ).scalar_one_or_none()
        return shredded_at is not None

    # -- writes --------------------------------------------------------------

    @staticmethod
    def _insert_new_rows(conn: sa.Connection) -> sa.Insert:
        """``INSERT ... ON CONFLICT (key_id) DO NOTHING RETURNING key_id``: an
        id that already has a row, live or a tombstone, keeps it, and only the
        ids actually inserted come back."""
        dialect_insert = (
            postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
        )
        return (
            dialect_insert(espace_keys)
            .on_conflict_do_nothing(index_elements=[espace_keys.c.key_id])
            .returning(espace_keys.c.key_id)
        )

    def _insert_keys(
        self, conn: sa.Connection, wrapped: Mapping[UUID, bytes], at: datetime
    ) -> list[UUID]:
        """Insert key rows unless their id has one; the ids inserted.

        PostgreSQL takes the whole batch as two arrays in one statement
        (``INSERT ... SELECT FROM unnest(...)``): one round trip and one plan,
        where SQLAlchemy's multi-VALUES rendering sends long texts that
        psycopg parses anew each time (twice the cost). SQLite has no arrays:
        SQLAlchemy's batched ``INSERT ... RETURNING`` is its fast path.
        """
        if conn.dialect.name == "postgresql":
            result = conn.execute(
                _PG_INSERT_KEYS,
                {"at": at, "ids": list(wrapped), "wrapped": list(wrapped.values())},
            )
        else:
            result = conn.execute(
                self._insert_new_rows(conn),
                [
                    {
                        "key_id": key_id,
                        "wrapped_key": key,
                        "created_at": at,
                        "shredded_at": None,
                    }
                    for key_id, key in wrapped.items()
                ],
            )
        return list(result.scalars())

    def ensure_keys(self, key_ids: Iterable[UUID], at: datetime) -> set[UUID]:
        """Create the keys that do not exist yet, in one transaction, without
        reading first (the insert skips the ids that have a row).

        Idempotent: an id with a row keeps its key, and an id cached here is
        not even offered. A shredded id counts as existing (its tombstone row
        conflicts): an erased espace never gets a fresh key. If another
        process inserts one of the same ids meanwhile, its row wins and is
        read here when the key is first needed, so both use the same key.

        Returns the ids that had a key already (or its tombstone): the
        callers' hint that these espaces may exist.
        """
        wanted = list(dict.fromkeys(key_ids))
        ids = [k for k in wanted if self._cache_get(k) is None]
        if not ids:
            return set(wanted)
        created = {key_id: AESGCM.generate_key(bit_length=256) for key_id in ids}
        wrapped = {key_id: self._wrap(key_id, key) for key_id, key in created.items()}
        with self.engine.begin() as conn:
            kept = self._insert_keys(conn, wrapped, at)
        for key_id in kept:
            self._cache_put(key_id, created[key_id])
        return set(wanted) - set(kept)

    def shredded(self, key_ids: Iterable[UUID]) -> set[UUID]:
        """Which of these keys were destroyed, read from the database."""
        ids = list(dict.fromkeys(key_ids))
        found: set[UUID] = set()
        if not ids:
            return found
        with self.engine.connect() as conn:
            for chunk in _chunks(ids):
                found.update(
                    conn.execute(
                        sa.select(espace_keys.c.key_id)
                        .where(espace_keys.c.key_id.in_(chunk))
                        .where(espace_keys.c.shredded_at.is_not(None))
                    ).scalars()
                )
        return found

    def shred(self, key_id: UUID, at: datetime) -> None:
        """Destroy a data key (SEC-4): its events become unreadable everywhere.

        The row stays as a tombstone with ``shredded_at``; an id never seen
        gets a tombstone too, so no key can be created for it later. Idempotent.
        On SQLite, ``secure_delete`` zeroes the freed bytes in the page; call
        :meth:`compact` after a batch so that the WAL forgets them as well.
        """
        if key_id == SYSTEM_KEY_ID:
            raise ValueError("the system key protects reference data: never shred it")
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA secure_delete=ON")
            updated = conn.execute(
                espace_keys.update()
                .where(espace_keys.c.key_id == key_id)
                .where(espace_keys.c.shredded_at.is_(None))
                .values(wrapped_key=None, shredded_at=at)
            ).rowcount
            if not updated:
                conn.execute(
                    self._insert_new_rows(conn),
                    [
                        {
                            "key_id": key_id,
                            "wrapped_key": None,
                            "created_at": at,
                            "shredded_at": at,
                        }
                    ],
                )
        self._cache_put(key_id, None)

    def status(self) -> dict[str, Any]:
        """What the keystore holds, without a key: its master-key generations
        (when each was set up), the data keys still live and those shredded
        (SEC-4: a shredded key keeps its row, with no key in it)."""
        with self.engine.connect() as conn:
            generations = [
                {
                    "generation": g,
                    # SQLite hands back the stored UTC instant without its zone.
                    "created_at": (
                        at if at.tzinfo else at.replace(tzinfo=UTC)
                    ).isoformat(),
                }
                for g, at in conn.execute(
                    sa.select(
                        espace_kek.c.generation, espace_kek.c.created_at
                    ).order_by(espace_kek.c.generation)
                )
            ]
            live, shredded = conn.execute(
                sa.select(
                    sa.func.count(espace_keys.c.wrapped_key),
                    sa.func.count(espace_keys.c.shredded_at),
                )
            ).one()
        return {
            "generations": generations,
            "live_keys": int(live),
            "shredded_keys": int(shredded),
        }

    def compact(self) -> bool:
        """Push shredded key material out of the database files' free space.

        SQLite: checkpoint and truncate the WAL, which still holds old pages.
        PostgreSQL: ``VACUUM espace_keys`` so dead row versions are reclaimed.
        Neither reaches backups: those hold only KEK-wrapped keys (ADR-0004).
        Returns False when SQLite could not complete the checkpoint (a reader
        was busy); calling again later finishes it.
        """
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                busy, _log, _ckpt = conn.exec_driver_sql(
                    "PRAGMA wal_checkpoint(TRUNCATE)"
                ).one()
            return not busy
        with self.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as conn:
            conn.exec_driver_sql("VACUUM espace_keys")
        return True
