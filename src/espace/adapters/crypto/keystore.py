"""The keystore: one data key per espace, wrapped by the KEK, in the
``espace_keys`` table; shredding a key erases its espace (SEC-4, ADR-0004).

Each row says which master-key generation wraps it (``espace_kek`` holds a
check value per generation): :func:`.rotation.rotate` re-wraps every live key under the
newest master key, in batches, so that the old one can be destroyed
(ADR-0029). The hashing secrets (the HMAC keys of aggregate ids and of
activation codes) are a row too, :data:`HASHING_KEY_ID`: they must outlive
the master key they were first derived from, and a rotation re-wraps them
with the rest.

The module stays over 500 lines because it is one class whose parts share
one state: every read, write and shred goes through the same lock, the
same bounded cache and the same view of the generations. What stands
apart is apart: the tables (:mod:`.keytables`) and the rotation's batches
(:mod:`.rotation`)."""

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

from espace.adapters.compaction import compact_files
from espace.adapters.crypto.keytables import (
    HASHING_KEY_ID,
    KEYSTORE_METADATA,
    PG_INSERT_KEYS,
    RESERVED_KEY_IDS,
    SYSTEM_KEY_ID,
    add_generation_column,
    dialect_insert,
    espace_kek,
    espace_keys,
)
from espace.adapters.crypto.masterkey import (
    KEY_BYTES,
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    PREVIOUS_KEY_FILE_ENV,
    PREVIOUS_MASTER_KEY_ENV,
    Secrets,
)
from espace.application.errors import (
    ConfigurationError,
    DamagedRecord,
    NotFound,
)

_WRONG_MASTER_KEY: Final = (
    "the master key is not the one this store was created with (check "
    f"{MASTER_KEY_ENV}, {MASTER_KEY_FILE_ENV} or the key file beside the database)"
)
_NOT_CONFIGURED: Final = (
    "{what} is wrapped under master-key generation {generation}, whose key is "
    "not configured: while `espace keys rotate` runs, give every process the "
    f"old master key in {PREVIOUS_MASTER_KEY_ENV} (or {PREVIOUS_KEY_FILE_ENV}) "
    "beside the new one, and run the rotation to its end"
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


@dataclass(frozen=True)
class _Generations:
    """The master-key generations of a keystore this process can open: each
    one's KEK (those whose key is configured), the generation new keys are
    wrapped under, and the newest one the keystore has."""

    keks: dict[int, AESGCM] = field(repr=False)
    current: int | None
    """The generation of the configured master key; None if it has none."""
    newest: int
    checked: bool
    """False for a keystore from before the check values: its one
    generation's KEK is the configured key's, unverified."""
    loaded_at: float

    @property
    def wrapping(self) -> int | None:
        """The generation new keys are wrapped under: the master key's; or,
        while a rotation to it has not begun, the newest one (the previous
        key's), so that a process restarted with both keys works at once."""
        if self.current is not None:
            return self.current
        return self.newest if self.newest in self.keks else None


class Keystore:
    """Per-espace AES-256 data keys, stored wrapped by the KEK.

    A shredded key keeps its row (``wrapped_key`` NULL, ``shredded_at`` set) so
    that nobody can re-create a key under an erased id and the erasure itself
    stays provable. Unwrapped keys are cached in-process (LRU, bounded) because
    every event read needs one; entries expire after ``ttl_seconds`` so that a
    shred done by another process takes effect here too. ``previous`` is the
    master key being rotated away from (ADR-0029): its generation's rows open
    with it until the rotation has re-wrapped them.
    """

    def __init__(
        self,
        engine: sa.Engine,
        secrets: Secrets,
        *,
        previous: Secrets | None = None,
        cache_size: int = 100_000,
        ttl_seconds: float | None = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if cache_size < 1:
            raise ValueError("cache_size must be at least 1")
        self.engine = engine
        self._secrets = secrets
        self._previous = previous
        self._generations: _Generations | None = None
        self._master_verified = False
        self._cache: OrderedDict[UUID, _Cached] = OrderedDict()
        self._cache_size = cache_size
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()

    # -- schema --------------------------------------------------------------

    def create_tables(self) -> None:
        """Create the keystore's tables, its master-key check, the system key
        and the hashing secrets (``espace init`` and ``espace migrate``), then
        check the master key.

        The check value is written once. A store from before it gets one only
        if its system key opens under the master key given: a wrong key is
        never recorded as the right one. The hashing secrets of a store from
        before they were kept here are derived from its first master key, as
        they always were; a keystore past its first generation without them
        is damaged.
        """
        KEYSTORE_METADATA.create_all(self.engine)
        add_generation_column(self.engine)
        if not self._load_generations().checked:
            self._master_verified = False
            with suppress(KeyNotFound):
                self._fresh(SYSTEM_KEY_ID)  # ConfigurationError if the key is wrong
            with self.engine.begin() as conn:
                conn.execute(
                    dialect_insert(conn)(espace_kek)
                    .values(
                        generation=1,
                        check_value=self._secrets.check,
                        created_at=utcnow(),
                    )
                    .on_conflict_do_nothing(index_elements=[espace_kek.c.generation])
                )
            self._generations = None
        self.verify_master_key(initialising=True)
        self.ensure_keys([SYSTEM_KEY_ID], at=utcnow())
        self._ensure_hashing_secrets()

    def _ensure_hashing_secrets(self) -> None:
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(espace_keys.c.key_id).where(
                    espace_keys.c.key_id == HASHING_KEY_ID
                )
            ).first()
        if found is not None:
            return
        if self._load_generations().current != 1:
            raise self._no_hashing_secrets()
        raw = self._secrets.id_key + self._secrets.pepper
        generation, kek = self.wrapping()
        row = self._row(
            HASHING_KEY_ID, wrap_under(kek, HASHING_KEY_ID, raw), utcnow(), generation
        )
        with self.engine.begin() as conn:
            conn.execute(self._insert_new_rows(conn), [row])

    @staticmethod
    def _no_hashing_secrets() -> DamagedRecord:
        return DamagedRecord(
            "the hashing secrets are missing from the keystore: no espace id "
            "can be computed (restore the keystore from a backup)",
            espace_id=HASHING_KEY_ID,
        )

    def verify_master_key(self, *, initialising: bool = False) -> None:
        """Check the master key against the stored check values, then unwrap
        the system key.

        A wrong master key is a :class:`ConfigurationError`, and so is an
        older generation's key once the keystore has rotated past it; once
        the master key is known to be right, a key row that fails to unwrap
        is damaged (:class:`DamagedRecord`, naming the key), and so is a
        missing system key outside ``init``.
        """
        generations = self._load_generations()
        if generations.checked and generations.wrapping is None:
            raise ConfigurationError(_WRONG_MASTER_KEY)
        if generations.current is not None and generations.current < generations.newest:
            raise ConfigurationError(
                f"the master key given is generation {generations.current} of "
                f"this keystore, which has been rotated to generation "
                f"{generations.newest} (`espace keys rotate`): give the newest "
                "master key"
            )
        self._master_verified = generations.checked
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

    def _load_generations(self) -> _Generations:
        """The generations, read again from the database."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(espace_kek.c.generation, espace_kek.c.check_value).order_by(
                    espace_kek.c.generation
                )
            ).all()
        keks: dict[int, AESGCM] = {}
        current = None
        for generation, check in rows:
            for secrets in (self._secrets, self._previous):
                if secrets is not None and hmac.compare_digest(
                    bytes(check), secrets.check
                ):
                    keks[generation] = AESGCM(secrets.kek)
                    if secrets is self._secrets:
                        current = generation
        if not rows:  # a store from before the check values: one generation
            keks[1] = AESGCM(self._secrets.kek)
            current = 1
        loaded = _Generations(
            keks=keks,
            current=current,
            newest=rows[-1].generation if rows else 1,
            checked=bool(rows),
            loaded_at=self._monotonic(),
        )
        self._generations = loaded
        return loaded

    def _known_generations(self) -> _Generations:
        """The generations as last read; read again once the cache's time to
        live has passed, so that a rotation begun by another process is
        seen here (new keys are then wrapped under its generation)."""
        known = self._generations
        if known is None or (
            self._ttl is not None and self._monotonic() - known.loaded_at > self._ttl
        ):
            return self._load_generations()
        return known

    def _fresh(self, key_id: UUID) -> bytes:
        """The key read from the database, not the cache."""
        with self._lock:
            self._cache.pop(key_id, None)
        return self.data_key(key_id)

    # -- wrapping ------------------------------------------------------------

    def wrapping(self) -> tuple[int, AESGCM]:
        """The generation new keys are wrapped under, and its KEK."""
        generations = self._known_generations()
        generation = generations.wrapping
        if generation is None:
            raise ConfigurationError(_WRONG_MASTER_KEY)
        return generation, generations.keks[generation]

    def _kek_of(self, key_id: UUID, generation: int) -> AESGCM:
        kek = self._known_generations().keks.get(generation)
        if kek is None:  # a rotation begun since they were read?
            kek = self._load_generations().keks.get(generation)
        if kek is not None:
            return kek
        if self._generations is not None and self._generations.wrapping is None:
            raise ConfigurationError(_WRONG_MASTER_KEY)
        which = "the system key" if key_id == SYSTEM_KEY_ID else f"data key {key_id}"
        raise ConfigurationError(
            _NOT_CONFIGURED.format(what=which, generation=generation)
        )

    def unwrap(self, key_id: UUID, wrapped: bytes, generation: int) -> bytes:
        """A key row's key, unwrapped by its generation's KEK: a
        ConfigurationError if that generation's master key is not given (or
        the master key is wrong), DamagedRecord if the row fails under it."""
        kek = self._kek_of(key_id, generation)
        wrapped = bytes(wrapped)
        if wrapped[:1] == _WRAP_FORMAT and len(wrapped) >= 1 + _NONCE_BYTES + 16:
            nonce = wrapped[1 : 1 + _NONCE_BYTES]
            with suppress(InvalidTag):
                return kek.decrypt(nonce, wrapped[1 + _NONCE_BYTES :], key_id.bytes)
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

    def _store_row(
        self, key_id: UUID, wrapped: bytes | None, generation: int
    ) -> _Cached:
        if wrapped is None:
            return self._cache_put(key_id, None)
        return self._cache_put(key_id, self.unwrap(key_id, wrapped, generation))

    # -- reads ---------------------------------------------------------------

    def _entry(self, key_id: UUID) -> _Cached:
        entry = self._cache_get(key_id)
        if entry is None:
            with self.engine.connect() as conn:
                row = conn.execute(
                    sa.select(
                        espace_keys.c.wrapped_key, espace_keys.c.generation
                    ).where(espace_keys.c.key_id == key_id)
                ).first()
            if row is None:
                raise KeyNotFound(key_id)
            entry = self._store_row(key_id, row.wrapped_key, row.generation)
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
                    sa.select(
                        espace_keys.c.key_id,
                        espace_keys.c.wrapped_key,
                        espace_keys.c.generation,
                    ).where(espace_keys.c.key_id.in_(chunk))
                )
                for row in rows:
                    self._store_row(row.key_id, row.wrapped_key, row.generation)

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
        insert: sa.Insert = (
            dialect_insert(conn)(espace_keys)
            .on_conflict_do_nothing(index_elements=[espace_keys.c.key_id])
            .returning(espace_keys.c.key_id)
        )
        return insert

    @staticmethod
    def _row(
        key_id: UUID, wrapped: bytes | None, at: datetime, generation: int
    ) -> dict[str, Any]:
        """A key row, wrapped under ``generation`` (a tombstone, ``wrapped``
        None, is shredded at ``at``)."""
        return {
            "key_id": key_id,
            "wrapped_key": wrapped,
            "created_at": at,
            "shredded_at": at if wrapped is None else None,
            "generation": generation,
        }

    def _insert_keys(
        self,
        conn: sa.Connection,
        wrapped: Mapping[UUID, bytes],
        at: datetime,
        generation: int,
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
                PG_INSERT_KEYS,
                {
                    "at": at,
                    "ids": list(wrapped),
                    "wrapped": list(wrapped.values()),
                    "generation": generation,
                },
            )
        else:
            result = conn.execute(
                self._insert_new_rows(conn),
                [
                    self._row(key_id, key, at, generation)
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
        generation, kek = self.wrapping()
        wrapped = {
            key_id: wrap_under(kek, key_id, key) for key_id, key in created.items()
        }
        with self.engine.begin() as conn:
            kept = self._insert_keys(conn, wrapped, at, generation)
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
        if key_id in RESERVED_KEY_IDS:
            raise ValueError(
                "the system key protects reference data and the hashing "
                "secrets every espace's id: never shred them"
            )
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
                tombstone = self._row(key_id, None, at, self.wrapping()[0])
                conn.execute(self._insert_new_rows(conn), [tombstone])
        self._cache_put(key_id, None)

    def hashing_secrets(self) -> tuple[bytes, bytes]:
        """The HMAC key of aggregate ids and the pepper of activation codes,
        as the keystore holds them (ADR-0029); DamagedRecord if it does not."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(espace_keys.c.wrapped_key, espace_keys.c.generation).where(
                    espace_keys.c.key_id == HASHING_KEY_ID
                )
            ).first()
        if row is None or row.wrapped_key is None:
            raise self._no_hashing_secrets()
        raw = self.unwrap(HASHING_KEY_ID, row.wrapped_key, row.generation)
        if len(raw) != 2 * KEY_BYTES:
            raise self._no_hashing_secrets()
        return raw[:KEY_BYTES], raw[KEY_BYTES:]

    # -- rotation (ADR-0029) ---------------------------------------------------

    def begin_rotation(self) -> bool:
        """Register the configured master key as the keystore's next
        generation, unless it already is one. The previous key must be the
        newest generation's: a rotation starts from where the keystore is.
        Returns whether this call registered it."""
        generations = self._load_generations()
        if generations.current is not None:
            return False
        if self._previous is None:
            raise ConfigurationError(
                f"{_WRONG_MASTER_KEY}; to rotate to this master key, give the "
                f"current one in {PREVIOUS_MASTER_KEY_ENV} or {PREVIOUS_KEY_FILE_ENV}"
            )
        if generations.newest not in generations.keks:
            raise ConfigurationError(
                "neither the master key nor the previous one "
                f"({PREVIOUS_MASTER_KEY_ENV} or {PREVIOUS_KEY_FILE_ENV}) is this "
                f"keystore's newest generation, {generations.newest}: nothing "
                "can be rotated"
            )
        with self.engine.begin() as conn:
            conn.execute(
                dialect_insert(conn)(espace_kek)
                .values(
                    generation=generations.newest + 1,
                    check_value=self._secrets.check,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=[espace_kek.c.generation])
            )
        if self._load_generations().current is None:  # another rotation won
            raise ConfigurationError(
                "another master key was registered as the next generation at the "
                "same time: run `espace keys status`"
            )
        return True

    def status(self) -> dict[str, Any]:
        """What the keystore holds, without a key: its master-key generations
        (when each was set up, how many live keys each still wraps, which is
        the configured key's), the keys still live and those shredded (SEC-4:
        a shredded key keeps its row, with no key in it). The live keys count
        the store's own two: the system key and the hashing secrets."""
        current = self._load_generations().current
        with self.engine.connect() as conn:
            wrapping: dict[int, int] = dict(
                conn.execute(
                    sa.select(espace_keys.c.generation, sa.func.count())
                    .where(espace_keys.c.wrapped_key.is_not(None))
                    .group_by(espace_keys.c.generation)
                ).all()
            )
            generations = [
                {
                    "generation": g,
                    # SQLite hands back the stored UTC instant without its zone.
                    "created_at": (
                        at if at.tzinfo else at.replace(tzinfo=UTC)
                    ).isoformat(),
                    "live_keys": int(wrapping.get(g, 0)),
                    "current": g == current,
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
        return compact_files(self.engine, [espace_keys.name])


def wrap_under(kek: AESGCM, key_id: UUID, key: bytes) -> bytes:
    """A key wrapped by ``kek``, bound to its id (the associated data)."""
    nonce = os.urandom(_NONCE_BYTES)
    return _WRAP_FORMAT + nonce + kek.encrypt(nonce, key, key_id.bytes)
