"""Keyed hashes and one-time codes, computed at the application edge.

The domain compares digests; it never sees the keys. Aggregate ids are a keyed
hash of the INS (ADR-0003), so they cannot be enumerated from NIRs without the
key, yet a look-up by NIR needs no read model.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from uuid import UUID

from espace.domain.identifiers import NIR_OID

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: the code is typed by hand from a letter (LC-5)."""
CODE_LENGTH = 10


@dataclass(frozen=True)
class Hashing:
    """Keyed hashes: ids from the INS, digests of codes and card serials."""

    id_key: bytes
    pepper: bytes

    def espace_id(self, nir: str, oid: str = NIR_OID) -> UUID:
        """The espace's id: HMAC-SHA256 of the INS, as an RFC 9562 version-8 UUID."""
        digest = hmac.new(self.id_key, f"{oid}:{nir}".encode(), hashlib.sha256)
        raw = bytearray(digest.digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x80  # version 8
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 9562 variant
        return UUID(bytes=bytes(raw))

    def digest(self, purpose: str, value: str, salt: str = "") -> str:
        """A keyed, salted digest; ``purpose`` separates the uses of the key."""
        message = f"{purpose}\x00{salt}\x00{value}".encode()
        return hmac.new(self.pepper, message, hashlib.sha256).hexdigest()

    def code_digest(self, code: str, salt: str) -> str:
        """LC-5: the digest of an activation code under its own salt (ADR-0006);
        case, spaces and dashes do not count."""
        return self.digest("activation-code", normalise_code(code), salt)

    def vitale_digest(self, serial: str) -> str:
        """ID-4, LC-5: the digest of a Vitale card serial, to compare with the
        insurer's record without storing it in clear."""
        return self.digest("vitale-serial", serial)


def normalise_code(code: str) -> str:
    """LC-5: a code as its digest sees it: capitals, letters and digits only,
    so that a dash or a space typed does not matter (ADR-0006)."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_activation_code() -> str:
    """A provisional activation code: 10 characters, about 50 bits, as XXXXX-XXXXX."""
    # 32 symbols: the low 5 bits of a random byte pick one without bias.
    raw = "".join(CODE_ALPHABET[b & 31] for b in secrets.token_bytes(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def new_salt() -> str:
    """LC-5: a fresh salt for one activation code: 16 random bytes, as hex."""
    return secrets.token_hex(16)


def new_receipt() -> str:
    """An opposition receipt number (LC-3)."""
    return f"OPP-{secrets.token_hex(6).upper()}"
