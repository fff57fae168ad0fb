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
  keys (one per master-key generation: ``espace keys rotate`` moves every key
  to a new one, ADR-0029), and, for a store's first master key, the HMAC key
  for deterministic aggregate ids and the activation-code pepper, which the
  keystore then keeps, wrapped, so that they outlive that key;
- per-espace **data keys** in the ``espace_keys`` table, wrapped by the KEK
  (:class:`Keystore`), used by :class:`EspaceMapper` for every stored event.

The package: :mod:`.masterkey` (the master key and :class:`Secrets`),
:mod:`.keystore` (the data keys), :mod:`.keytables` (its tables),
:mod:`.rotation` (moving them to a new master key), :mod:`.sealing` (the
stored events).
"""

from __future__ import annotations

from espace.adapters.crypto.keystore import KeyNotFound, KeyShredded, Keystore
from espace.adapters.crypto.keytables import (
    HASHING_KEY_ID,
    KEYSTORE_METADATA,
    SYSTEM_KEY_ID,
    add_generation_column,
    espace_keys,
)
from espace.adapters.crypto.masterkey import (
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    PREVIOUS_KEY_FILE_ENV,
    PREVIOUS_MASTER_KEY_ENV,
    Secrets,
    default_key_file,
    generate_master_key_file,
    load_previous_secrets,
    load_secrets,
    new_master_key,
)
from espace.adapters.crypto.rotation import RotationReport, rotate
from espace.adapters.crypto.sealing import (
    DamagedEvent,
    EspaceMapper,
    EventKeyShredded,
    SealedHeader,
    sealed_header,
    sealed_key,
)

__all__ = [
    "HASHING_KEY_ID",
    "KEYSTORE_METADATA",
    "MASTER_KEY_ENV",
    "MASTER_KEY_FILE_ENV",
    "PREVIOUS_KEY_FILE_ENV",
    "PREVIOUS_MASTER_KEY_ENV",
    "SYSTEM_KEY_ID",
    "DamagedEvent",
    "EspaceMapper",
    "EventKeyShredded",
    "KeyNotFound",
    "KeyShredded",
    "Keystore",
    "RotationReport",
    "SealedHeader",
    "Secrets",
    "add_generation_column",
    "default_key_file",
    "espace_keys",
    "generate_master_key_file",
    "load_previous_secrets",
    "load_secrets",
    "new_master_key",
    "rotate",
    "sealed_header",
    "sealed_key",
]
