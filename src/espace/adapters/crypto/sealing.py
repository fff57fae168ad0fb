"""Sealed events: every stored event's state is sealed with AES-256-GCM under
the data key of its espace, behind a clear header (format, key id and, from
format 2, the content commitment of the audit leaf, ADR-0021)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
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

from espace.adapters.crypto.keystore import (
    KeyNotFound,
    KeyShredded,
    Keystore,
    utcnow,
)
from espace.adapters.crypto.keytables import SYSTEM_KEY_ID
from espace.application.errors import (
    ConfigurationError,
    DamagedRecord,
    RecordErased,
)
from espace.domain.auditlog import NO_COMMITMENT, SALT_BYTES, content_commitment

_SEAL_V1: Final = 0x01
"""format byte | key id (16) | nonce | ciphertext: events before commitments."""
_SEAL_V2: Final = 0x02
"""format byte | key id (16) | commitment (32) | nonce | ciphertext, whose
plaintext is salt (32) || state (ADR-0021)."""
_HEADERS: Final = {_SEAL_V1: 1 + 16, _SEAL_V2: 1 + 16 + 32}
_TAG_BYTES: Final = 16
_NONCE_BYTES: Final = 12  # AES-GCM's


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
        """The error for one stored event that failed to open, saying what failed
        (``what``) and naming its row; ``key_id`` is the espace its header names,
        when it was readable (ADR-0018 quarantines the event)."""
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
        clock: Callable[[], datetime] = utcnow,
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
