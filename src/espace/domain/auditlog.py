"""What a leaf of the audit log's Merkle tree says about one stored event,
and the commitment that binds its clear content to it (ADR-0021). Pure.

A leaf is these bytes, hashed as RFC 6962 hashes leaves:

====  =====  ===================================================
size  field  meaning
====  =====  ===================================================
1     0x01   the leaf format
8            the event's notification id (position in the log)
16           the data key it is sealed under: its espace, or the
             system key (all zeros) for reference data
16           the originator (aggregate) id
8            the originator version
2            the length of the topic, then the topic (UTF-8)
32           SHA-256 of the stored, sealed state, byte for byte
32           the content commitment: SHA-256(label || salt || the
             event's clear state), where the 32-byte salt is sealed
             inside the state; zeros for an event sealed before
             commitments existed
====  =====  ===================================================

Integers are big-endian. The stored state hash binds the exact bytes in
the database; the commitment lets an export show the clear content and a
stranger check it against the leaf, while after an erasure (the key, hence
the salt, destroyed) the leaf reveals nothing of it and still verifies.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from dataclasses import dataclass
from uuid import UUID

LEAF_FORMAT = 0x01
COMMITMENT_LABEL = b"espace/v1/content-commitment\x00"
SALT_BYTES = 32
NO_COMMITMENT = bytes(32)
_HEAD = struct.Struct(">BQ16s16sQ")
"""Format, notification id, key id, originator id, version."""


def content_commitment(salt: bytes, state: bytes) -> bytes:
    """SHA-256(label || salt || clear state): hiding without the salt,
    binding with it."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a commitment salt is {SALT_BYTES} bytes")
    return hashlib.sha256(COMMITMENT_LABEL + salt + state).digest()


@dataclass(frozen=True)
class Leaf:
    """One stored event, as the audit log's tree commits to it."""

    notification_id: int
    key_id: UUID
    originator_id: UUID
    originator_version: int
    topic: str
    state_hash: bytes
    commitment: bytes

    def encode(self) -> bytes:
        """The leaf's bytes (see the module's table), as the tree hashes them."""
        return encode_leaf(
            self.notification_id,
            self.key_id.bytes,
            self.originator_id.bytes,
            self.originator_version,
            self.topic,
            self.state_hash,
            self.commitment,
        )

    @classmethod
    def decode(cls, raw: bytes) -> Leaf:
        """The leaf these bytes encode; ValueError if they are not one."""
        if len(raw) < 1 + 8 + 16 + 16 + 8 + 2 + 64 or raw[0] != LEAF_FORMAT:
            raise ValueError("not a leaf of format 1")
        at = 1
        nid = int.from_bytes(raw[at : at + 8], "big")
        key_id = UUID(bytes=raw[at + 8 : at + 24])
        originator = UUID(bytes=raw[at + 24 : at + 40])
        version = int.from_bytes(raw[at + 40 : at + 48], "big")
        length = int.from_bytes(raw[at + 48 : at + 50], "big")
        at += 50
        if len(raw) != at + length + 64:
            raise ValueError("the length of a leaf does not match its topic")
        topic = raw[at : at + length].decode("utf-8")
        at += length
        return cls(
            notification_id=nid,
            key_id=key_id,
            originator_id=originator,
            originator_version=version,
            topic=topic,
            state_hash=raw[at : at + 32],
            commitment=raw[at + 32 : at + 64],
        )


def encode_leaf(
    notification_id: int,
    key_id: bytes,
    originator_id: bytes,
    originator_version: int,
    topic: str,
    state_hash: bytes,
    commitment: bytes,
) -> bytes:
    """A leaf's bytes from its fields (ids as their 16 bytes): what
    ``Leaf.encode`` returns, without building the object on hot paths."""
    return b"".join(
        (
            _HEAD.pack(
                LEAF_FORMAT, notification_id, key_id, originator_id, originator_version
            ),
            _topic_field(topic),
            state_hash,
            commitment,
        )
    )


@functools.lru_cache(maxsize=4096)
def _topic_field(topic: str) -> bytes:
    """A topic as a leaf holds it: its length, then its UTF-8 bytes (the
    topics are the event classes: a few, each encoded once)."""
    encoded = topic.encode("utf-8")
    if len(encoded) > 0xFFFF:
        raise ValueError("a topic is at most 65535 bytes")
    return len(encoded).to_bytes(2, "big") + encoded
