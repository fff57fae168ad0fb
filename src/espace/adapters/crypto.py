"""Encryption at rest with one data key per espace, and crypto-shredding.

Why (ADR-0004): SEC-1 asks that health data be encrypted at rest; SEC-4 asks
that an erasure (LC-8, LC-9) leave nothing readable of the person's data, yet
the event log is append-only and its copies (replicas, backups) cannot be
rewritten. So every event is sealed with AES-256-GCM under a *data key of its
espace*; erasing an espace destroys that one key ("crypto-shredding") and every
copy of its events becomes unreadable at once, while topics, ids and versions
stay in clear so that the audit trail can still prove the history was intact.

Three layers of keys:

- one **master key** (32 bytes) held outside the database: ``ESPACE_MASTER_KEY``
  or a key file (for SQLite, ``<db>.key`` beside the database, written by
  ``espace init``); in production a KMS/HSM provides it;
- :class:`Secrets` derived from it with HKDF-SHA256: the **KEK** that wraps data
  keys, the HMAC key for deterministic aggregate ids, the activation-code pepper;
- per-espace **data keys** in the ``espace_keys`` table, wrapped by the KEK
  (:class:`Keystore`), used by :class:`EspaceMapper` for every stored event.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from uuid import UUID

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.domain import CanSnapshotAggregate, DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import resolve_topic
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from espace.adapters.files import private_file
from espace.adapters.settings import StoreSettings
from espace.application.errors import (
    ConfigurationError,
    DamagedRecord,
    NotFound,
    RecordErased,
)
from espace.domain.auditlog import NO_COMMITMENT, SALT_BYTES, content_commitment

__all__ = [
    "KEYSTORE_METADATA",
    "MASTER_KEY_ENV",
    "MASTER_KEY_FILE_ENV",
    "SYSTEM_KEY_ID",
    "DamagedEvent",
    "EspaceMapper",
    "EventKeyShredded",
    "KeyNotFound",
    "KeyShredded",
    "Keystore",
    "SealedHeader",
    "Secrets",
    "default_key_file",
    "generate_master_key_file",
    "load_secrets",
    "new_master_key",
    "sealed_header",
    "sealed_key",
]

MASTER_KEY_ENV: Final = "ESPACE_MASTER_KEY"
MASTER_KEY_FILE_ENV: Final = "ESPACE_KEY_FILE"
KEY_BYTES: Final = 32

# HKDF ``info`` labels: one per purpose, so that no derived key can stand in for
# another. Changing a label changes the key: they are part of the storage contract.
_KEK_INFO: Final = b"espace/v1/kek: wraps per-espace data keys"
_ID_KEY_INFO: Final = b"espace/v1/id-key: HMAC of the INS into aggregate ids"
_PEPPER_INFO: Final = b"espace/v1/pepper: HMAC of activation codes"
_CHECK_INFO: Final = b"espace/v1/kek-check: tells a wrong master key from a damaged row"

SYSTEM_KEY_ID: Final = UUID(int=0)
"""The data key of events that belong to no espace (reference data)."""


# ---------------------------------------------------------------------------
# Master key and derived secrets
# ---------------------------------------------------------------------------


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    """Strict base64url (padding optional): a typo must fail, not shorten the key."""
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)


def new_master_key() -> str:
    """A fresh random master key as base64url text (for ``ESPACE_MASTER_KEY``)."""
    return _b64url_encode(os.urandom(KEY_BYTES))


@dataclass(frozen=True)
class Secrets:
    """The keys derived from the master key. ``repr`` never shows them."""

    kek: bytes = field(repr=False)
    """Key-encryption key: wraps the per-espace data keys (AES-256-GCM)."""
    id_key: bytes = field(repr=False)
    """HMAC-SHA256 key that turns an INS into an aggregate id (not enumerable)."""
    pepper: bytes = field(repr=False)
    """HMAC-SHA256 key for hashing activation codes (a stolen table is useless)."""
    check: bytes = field(repr=False)
    """A value stored beside the keys: it matches only the right master key,
    so that a key row that fails to unwrap is known to be damaged."""

    def __post_init__(self) -> None:
        for name in ("kek", "id_key", "pepper", "check"):
            if len(getattr(self, name)) != KEY_BYTES:
                raise ValueError(f"Secrets.{name} must be {KEY_BYTES} bytes")

    @classmethod
    def from_master_key(cls, raw: bytes) -> Secrets:
        """Derive every secret from one 32-byte master key (HKDF-SHA256).

        One secret to guard, back up and rotate; distinct ``info`` labels make
        the derived keys independent of each other.
        """
        if len(raw) != KEY_BYTES:
            raise ConfigurationError(
                f"the master key must be {KEY_BYTES} bytes, got {len(raw)}"
            )

        def derive(info: bytes) -> bytes:
            hkdf = HKDF(
                algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info
            )
            return hkdf.derive(raw)

        return cls(
            kek=derive(_KEK_INFO),
            id_key=derive(_ID_KEY_INFO),
            pepper=derive(_PEPPER_INFO),
            check=hashlib.sha256(derive(_CHECK_INFO)).digest(),
        )


def default_key_file(settings: StoreSettings) -> Path | None:
    """Where a SQLite store keeps its key file by default: ``<db path>.key``."""
    if settings.kind != "sqlite" or settings.sqlite_path is None:
        return None
    return settings.sqlite_path.with_name(settings.sqlite_path.name + ".key")


def generate_master_key_file(path: Path) -> None:
    """Write a new random master key to ``path``, readable by its owner only.

    The file is created exclusively (never overwritten): replacing the master
    key of an existing store would make every data key, hence every event,
    unreadable.
    """
    with private_file(
        path,
        "key file",
        "refusing to overwrite a master key (the store's data keys are wrapped by it)",
    ) as handle:
        handle.write((new_master_key() + "\n").encode("ascii"))


def _decode_master_key(text: str, source: str, how_to_fix: str) -> bytes:
    try:
        raw = _b64url_decode(text)
    except (binascii.Error, ValueError):
        raise ConfigurationError(
            f"{source} is not valid base64url; {how_to_fix}"
        ) from None
    if len(raw) != KEY_BYTES:
        raise ConfigurationError(
            f"{source} decodes to {len(raw)} bytes, expected {KEY_BYTES}; {how_to_fix}"
        )
    return raw


def _read_key_file(path: Path, source: str, how_to_fix: str) -> bytes:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigurationError(f"{source}: no such file; {how_to_fix}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"{source}: cannot read it ({exc}); {how_to_fix}"
        ) from None
    return _decode_master_key(text, source, how_to_fix)


def load_secrets(
    settings: StoreSettings, environ: Mapping[str, str] = os.environ
) -> Secrets:
    """Find the master key and derive the secrets from it.

    Order: ``ESPACE_MASTER_KEY`` (base64url of 32 bytes), else the file named by
    ``ESPACE_KEY_FILE``, else, for a SQLite store only, ``<db path>.key``.
    A PostgreSQL store has no default: its key must come from the deployment
    (a KMS or secret manager), never from a file that travels with the data.
    Error messages name what to set, and never echo a key.
    """
    fmt = f"base64url text of {KEY_BYTES} random bytes"
    if MASTER_KEY_ENV in environ:
        return Secrets.from_master_key(
            _decode_master_key(
                environ[MASTER_KEY_ENV],
                MASTER_KEY_ENV,
                f"set {MASTER_KEY_ENV} to the {fmt} (43 characters)",
            )
        )
    if MASTER_KEY_FILE_ENV in environ:
        path = Path(environ[MASTER_KEY_FILE_ENV])
        return Secrets.from_master_key(
            _read_key_file(
                path,
                f"{MASTER_KEY_FILE_ENV}={path}",
                f"point {MASTER_KEY_FILE_ENV} at a file holding the {fmt}, "
                f"or set {MASTER_KEY_ENV} instead",
            )
        )
    key_file = default_key_file(settings)
    if key_file is not None:
        return Secrets.from_master_key(
            _read_key_file(
                key_file,
                f"master key file {key_file}",
                f"run `espace init` to create it for a new store, or set "
                f"{MASTER_KEY_ENV} or {MASTER_KEY_FILE_ENV}",
            )
        )
    raise ConfigurationError(
        f"no master key for the PostgreSQL store {settings.redacted_url}: set "
        f"{MASTER_KEY_ENV} to the {fmt} (from your KMS or secret manager), or "
        f"{MASTER_KEY_FILE_ENV} to a file holding it"
    )


# ---------------------------------------------------------------------------
# Keystore: per-espace data keys, wrapped by the KEK
# ---------------------------------------------------------------------------

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


def _utcnow() -> datetime:
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
                    .values(generation=1, check_value=self._check, created_at=_utcnow())
                    .on_conflict_do_nothing(index_elements=[espace_kek.c.generation])
                )
        self.verify_master_key(initialising=True)
        self.ensure_keys([SYSTEM_KEY_ID], at=_utcnow())

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


# ---------------------------------------------------------------------------
# Mapper: seals each stored event's state under the data key of its espace
# ---------------------------------------------------------------------------

_SEAL_V1: Final = 0x01
"""format byte | key id (16) | nonce | ciphertext: events before commitments."""
_SEAL_V2: Final = 0x02
"""format byte | key id (16) | commitment (32) | nonce | ciphertext, whose
plaintext is salt (32) || state (ADR-0021)."""
_HEADERS: Final = {_SEAL_V1: 1 + 16, _SEAL_V2: 1 + 16 + 32}
_TAG_BYTES: Final = 16


@dataclass(frozen=True)
class SealedHeader:
    """The clear header of a sealed state: readable without any key."""

    format: int
    key_id: UUID
    commitment: bytes
    """The content commitment (zeros for format 1)."""
    size: int


def sealed_key(state: bytes) -> tuple[bytes, bytes] | None:
    """The key id (16 bytes) and the commitment of a sealed state, or None if
    it is not one: the header without building it (the audit tree reads
    every stored event through this)."""
    size = _HEADERS.get(state[0]) if state else None
    if size is None or len(state) < size + _NONCE_BYTES + _TAG_BYTES:
        return None
    return state[1:17], (state[17:size] if state[0] == _SEAL_V2 else NO_COMMITMENT)


def sealed_header(state: bytes) -> SealedHeader | None:
    """The header of a sealed state, or None if it is not one."""
    found = sealed_key(state)
    if found is None:
        return None
    key_id, commitment = found
    return SealedHeader(state[0], UUID(bytes=key_id), commitment, _HEADERS[state[0]])


class EventKeyShredded(RecordErased, MapperDeserialisationError):
    """The event's data key was shredded (SEC-4): the event is erased.

    Projection runners catch this and purge that espace's view rows.
    """


class DamagedEvent(DamagedRecord, MapperDeserialisationError):
    """A stored event that cannot be opened: its sealed state was altered,
    moved from another row, names a key the keystore lacks, or does not
    decode. It names the aggregate, the version and, when the sealed header
    is readable, the espace."""

    @classmethod
    def of(cls, stored: StoredEvent, what: str, key_id: UUID | None) -> DamagedEvent:
        return cls(
            f"Stored event with {_event_id(stored)} is damaged: {what}",
            aggregate_id=stored.originator_id,
            version=stored.originator_version,
            topic=stored.topic,
            espace_id=key_id,
        )


def _event_id(stored: StoredEvent) -> str:
    return (
        f"topic '{stored.topic}', originator_id '{stored.originator_id}' "
        f"and originator_version {stored.originator_version}"
    )


def _associated_data(header: SealedHeader, stored: StoredEvent) -> bytes:
    """Bind the ciphertext to its row and to its clear header: swapping
    states between rows, or a commitment between events, must fail.

    Fixed-width fields first, the variable-width id length-prefixed, the topic
    last: no two different rows can produce the same bytes.
    """
    oid = stored.originator_id
    oid_bytes = oid.bytes if isinstance(oid, UUID) else oid.encode("utf-8")
    commitment = header.commitment if header.format == _SEAL_V2 else b""
    return b"".join(
        (
            bytes((header.format,)),
            header.key_id.bytes,
            commitment,
            stored.originator_version.to_bytes(8, "big"),
            len(oid_bytes).to_bytes(2, "big"),
            oid_bytes,
            stored.topic.encode("utf-8"),
        )
    )


def _with_state(stored: StoredEvent, state: bytes) -> StoredEvent:
    """The same row with another state (``dataclasses.replace`` would inspect
    the fields again for every event sealed or opened)."""
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=state,
    )


class EspaceMapper(Mapper[UUID]):
    """eventsourcing's Mapper, sealing each event under its espace's data key.

    Serialisation, class versions and upcasting stay the library's; this
    class only seals the serialised state after ``to_stored_event`` and opens
    it before ``to_domain_event``. Key choice (:meth:`key_id_for`):

    1. ``event.espace_id`` when the event carries one (Document, Consent, ...);
    2. :data:`SYSTEM_KEY_ID` when the event class says ``KEY_SCOPE = "system"``;
    3. for a snapshot, the ``espace_id`` in its state, or the system key when
       the aggregate class says ``KEY_SCOPE = "system"``;
    4. otherwise the ``originator_id`` (the EspaceSante aggregate itself).

    An event class that says ``KEY_SCOPE = "espace"`` must carry ``espace_id``:
    falling back to its originator would leave it readable after an erasure.

    Stored state (ADR-0021): ``0x02 | key id (16) | commitment (32) | nonce
    (12) | AES-GCM(salt (32) || state)``, the associated data binding the
    row and the clear header; ``0x01 | key id | nonce | AES-GCM(state)`` is
    still read (events sealed before commitments).
    """

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
        *,
        keystore: Keystore,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if compressor is not None or cipher is not None:
            raise ConfigurationError(
                "EspaceMapper encrypts with per-espace keys itself: unset "
                "CIPHER_TOPIC/CIPHER_KEY and COMPRESSOR_TOPIC"
            )
        super().__init__(transcoder=transcoder)
        self.keystore = keystore
        self._clock = clock

    # -- key choice ------------------------------------------------------------

    @staticmethod
    def key_id_for(domain_event: object) -> UUID:
        """The id of the data key that must seal this event (see class doc)."""
        espace_id = getattr(domain_event, "espace_id", None)
        if espace_id is not None:
            if not isinstance(espace_id, UUID):
                raise TypeError(
                    f"{type(domain_event).__qualname__}.espace_id must be a UUID"
                )
            return espace_id
        scope = getattr(type(domain_event), "KEY_SCOPE", None)
        if scope == "system":
            return SYSTEM_KEY_ID
        if isinstance(domain_event, CanSnapshotAggregate):
            state = domain_event.state
            snap_espace = state.get("espace_id") if isinstance(state, dict) else None
            if isinstance(snap_espace, UUID):
                return snap_espace
            aggregate_cls = resolve_topic(domain_event.topic)
            if getattr(aggregate_cls, "KEY_SCOPE", None) == "system":
                return SYSTEM_KEY_ID
            scope = getattr(aggregate_cls, "KEY_SCOPE", None)
        if scope == "espace":
            raise TypeError(
                f"{type(domain_event).__qualname__} has KEY_SCOPE 'espace' "
                "but no espace_id: it would escape crypto-shredding (SEC-4)"
            )
        originator_id = getattr(domain_event, "originator_id", None)
        if not isinstance(originator_id, UUID):
            raise TypeError(
                f"{type(domain_event).__qualname__}: cannot choose a data key "
                "without a UUID originator_id"
            )
        return originator_id

    @staticmethod
    def header_of(stored_event: StoredEvent) -> SealedHeader:
        """The clear header of a stored event, without decrypting."""
        header = sealed_header(bytes(stored_event.state))
        if header is None:
            raise DamagedEvent.of(stored_event, "not sealed in a known format", None)
        return header

    @classmethod
    def key_id_of(cls, stored_event: StoredEvent) -> UUID:
        """Read the key id from the sealed header, without decrypting."""
        return cls.header_of(stored_event).key_id

    # -- sealing -----------------------------------------------------------------

    def _aead_for_write(self, key_id: UUID) -> AESGCM:
        try:
            return self.keystore.aead(key_id)
        except KeyNotFound:
            # Batch writers call ensure_keys() first; this covers the rest.
            self.keystore.ensure_keys([key_id], at=self._clock())
            return self.keystore.aead(key_id)

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """Serialise with the library, then seal the state (SEC-1)."""
        stored = super().to_stored_event(domain_event)
        key_id = self.key_id_for(domain_event)
        aead = self._aead_for_write(key_id)
        salt = os.urandom(SALT_BYTES)
        header = SealedHeader(
            _SEAL_V2, key_id, content_commitment(salt, stored.state), 0
        )
        nonce = os.urandom(_NONCE_BYTES)
        sealed = b"".join(
            (
                bytes((_SEAL_V2,)),
                key_id.bytes,
                header.commitment,
                nonce,
                aead.encrypt(
                    nonce, salt + stored.state, _associated_data(header, stored)
                ),
            )
        )
        return _with_state(stored, sealed)

    def open_state(self, stored_event: StoredEvent) -> tuple[bytes | None, bytes]:
        """The salt (None for format 1) and the clear, serialised state of a
        stored event: what an export shows and its commitment binds."""
        header = self.header_of(stored_event)
        plaintext = self._decrypt(stored_event, header)
        if header.format == _SEAL_V2:
            return plaintext[:SALT_BYTES], plaintext[SALT_BYTES:]
        return None, plaintext

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """Open the state, then let the library deserialise and upcast it.

        Errors name the event (topic, id, version), never its payload.
        """
        header = self.header_of(stored_event)
        plaintext = self._decrypt(stored_event, header)
        if header.format == _SEAL_V2:
            plaintext = plaintext[SALT_BYTES:]
        try:
            return super().to_domain_event(_with_state(stored_event, plaintext))
        except Exception as exc:
            # Authentic (the tag held) but unreadable: an unknown topic, a
            # missing upcast, a state the event class cannot take.
            raise DamagedEvent.of(
                stored_event,
                f"it does not decode ({type(exc).__name__})",
                header.key_id,
            ) from exc

    def _decrypt(self, stored_event: StoredEvent, header: SealedHeader) -> bytes:
        key_id = header.key_id
        try:
            aead = self.keystore.aead(key_id)
        except KeyShredded:
            raise EventKeyShredded(
                f"Stored event with {_event_id(stored_event)} is erased: "
                f"its data key {key_id} was shredded (SEC-4)",
                key_id=key_id,
            ) from None
        except KeyNotFound:
            raise DamagedEvent.of(
                stored_event, f"it names data key {key_id}, not in the keystore", key_id
            ) from None
        state = bytes(stored_event.state)
        nonce = state[header.size : header.size + _NONCE_BYTES]
        try:
            return aead.decrypt(
                nonce,
                state[header.size + _NONCE_BYTES :],
                _associated_data(header, stored_event),
            )
        except InvalidTag:
            raise DamagedEvent.of(
                stored_event,
                "it fails to decrypt: its state was altered or belongs to another "
                "event",
                key_id,
            ) from None
