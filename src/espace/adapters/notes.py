"""Signed notes (C2SP signed-note, Ed25519) and transparency-log checkpoints
(C2SP tlog-checkpoint): the formats of Go's checksum database
(golang.org/x/mod/sumdb/note), so that existing verifiers read ours.

- A **verifier key** is ``<name>+<hex key id>+base64(0x01 || public key)``;
  a **signer key** is ``PRIVATE+KEY+<name>+<hex key id>+base64(0x01 ||
  seed)``. The key id is the first four bytes of SHA-256(name || 0x0A ||
  0x01 || public key), big-endian.
- A **signed note** is a text ending in a newline, a blank line, then one
  line per signature: ``— <name> base64(key id || Ed25519 signature)``.
- A **checkpoint** is a note whose text is the origin, the tree size in
  decimal, and the base64 RFC 6962 root hash, one per line.

Tested against the vectors of golang/mod and C2SP (``tests/vectors``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from espace.application.errors import ConfigurationError, DamagedRecord

ED25519 = 0x01
"""The signature type byte of Ed25519 (C2SP signed-note)."""
DASH = "\u2014"
MAX_SIGNATURES = 100


class NoteError(DamagedRecord):
    """A note, a checkpoint or a key that is malformed or does not verify."""


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, public: bytes) -> int:
    """SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes((ED25519,)) + public)
    return int.from_bytes(digest.digest()[:4], "big")


def _b64decode(text: str) -> bytes:
    """Strict standard base64: any other character or padding fails (the
    text must be exactly what encoding the bytes gives)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"not standard base64: {text[:20]!r}") from None
    if _b64(raw) != text:
        raise NoteError(f"not standard base64: {text[:20]!r}")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signatures of one name."""

    name: str
    id: int
    public: bytes = field(repr=False)

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key; any mangling is refused."""
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key is name+hash+key")
        name, hex_id, encoded = parts
        if not _valid_name(name) or len(hex_id) != 8 or hex_id != hex_id.lower():
            raise NoteError(f"malformed verifier key for {name!r}")
        try:
            claimed = int(hex_id, 16)
        except ValueError:
            raise NoteError("the key id of a verifier key is 8 hex digits") from None
        raw = _b64decode(encoded)
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("only Ed25519 verifier keys (type 0x01, 32 bytes)")
        if key_id(name, raw[1:]) != claimed:
            raise NoteError(f"the key id of {name} does not match its key")
        return cls(name=name, id=claimed, public=raw[1:])

    @property
    def key(self) -> str:
        """The verifier key string, as Go's note package writes it."""
        return f"{self.name}+{self.id:08x}+{_b64(bytes((ED25519,)) + self.public)}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``text``: False,
        not an error, for one that does not verify."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes under one name."""

    name: str
    id: int
    seed: bytes = field(repr=False)

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse a signer key (``PRIVATE+KEY+name+hash+key``)."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise ConfigurationError(
                "the audit signing key is PRIVATE+KEY+name+hash+key "
                "(make one with `espace audit keygen`)"
            )
        name, hex_id, encoded = parts[2:]
        try:
            raw = _b64decode(encoded)
            claimed = int(hex_id, 16)
        except (NoteError, ValueError):
            raise ConfigurationError("the audit signing key is malformed") from None
        if len(hex_id) != 8 or not _valid_name(name):
            raise ConfigurationError("the audit signing key is malformed")
        if len(raw) != 33 or raw[0] != ED25519:
            raise ConfigurationError("the audit signing key is not an Ed25519 key")
        signer = cls(name=name, id=claimed, seed=raw[1:])
        if key_id(name, signer.verifier.public) != claimed:
            raise ConfigurationError("the audit signing key's id does not match it")
        return signer

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A new random Ed25519 key under ``name`` (``espace audit keygen``); a name
        with a space or a ``+`` is refused, as the key formats cannot hold it."""
        if not _valid_name(name):
            raise ConfigurationError(
                f"a key name has no space and no '+': {name!r} "
                "(e.g. espace.example/audit)"
            )
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        public = _raw_public(Ed25519PrivateKey.from_private_bytes(seed).public_key())
        return cls(name=name, id=key_id(name, public), seed=seed)

    @property
    def key(self) -> str:
        """The signer key string (keep it secret)."""
        encoded = _b64(bytes((ED25519,)) + self.seed)
        return f"PRIVATE+KEY+{self.name}+{self.id:08x}+{encoded}"

    @property
    def verifier(self) -> Verifier:
        """The public half of this key: what an auditor is given to check the
        checkpoints and exports it signs."""
        public = _raw_public(
            Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        )
        return Verifier(name=self.name, id=self.id, public=public)

    def sign(self, text: str) -> str:
        """The signed note of ``text`` (which ends in a newline)."""
        body = _checked_text(text)
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(body)
        line = f"{DASH} {self.name} {_b64(self.id.to_bytes(4, 'big') + signature)}\n"
        return f"{text}\n{line}"


def _checked_text(text: str) -> bytes:
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    if any(unicodedata.category(c) == "Cc" and c != "\n" for c in text):
        raise NoteError("a note holds no control character but newlines")
    return text.encode("utf-8")


@dataclass(frozen=True)
class Opened:
    """A note whose signature by a known key verified."""

    text: str
    signed_by: tuple[str, ...]


def open_note(note: str, verifiers: Iterable[Verifier]) -> Opened:
    """Check a signed note against the trusted keys (C2SP signed-note):
    signatures by unknown keys are ignored; one by a known key that fails
    rejects the note; at least one known key must have signed it."""
    known = {(v.name, v.id): v for v in verifiers}
    if not note.endswith("\n"):
        raise NoteError("a signed note ends with a newline")
    split = note.rfind("\n\n", 0, len(note) - 1)
    if split < 0:
        raise NoteError("a signed note has a blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    body = _checked_text(text)
    lines = block.split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError("a signed note has from 1 to 100 signature lines")
    signed: list[str] = []
    for line in lines:
        prefix = f"{DASH} "
        if not line.startswith(prefix) or line.count(" ") != 2:
            raise NoteError(f"malformed signature line: {line[:40]!r}")
        name, encoded = line[len(prefix) :].split(" ")
        raw = _b64decode(encoded)
        if not _valid_name(name) or len(raw) < 5:
            raise NoteError(f"malformed signature line: {line[:40]!r}")
        verifier = known.get((name, int.from_bytes(raw[:4], "big")))
        if verifier is None:
            continue
        if not verifier.verify(body, raw[4:]):
            raise NoteError(f"the signature of {name} does not verify")
        signed.append(name)
    if not signed:
        raise NoteError("no signature by a trusted key")
    return Opened(text=text, signed_by=tuple(signed))


# ---------------------------------------------------------------------------
# Checkpoints (C2SP tlog-checkpoint)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size, its RFC 6962 root hash."""

    origin: str
    size: int
    root: bytes = field(repr=False)

    def text(self) -> str:
        """The checkpoint's note text (C2SP tlog-checkpoint): origin, size in decimal,
        base64 root hash, one per line. ``NoteError`` for an origin that is not one
        non-empty line."""
        if not self.origin or "\n" in self.origin:
            raise NoteError("a checkpoint's origin is one non-empty line")
        return f"{self.origin}\n{self.size}\n{_b64(self.root)}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint's note text, refusing any other spelling: a size with a
        leading zero, non-standard base64, a root that is not 32 bytes. Extension
        lines after the root are allowed (C2SP) and ignored."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("a checkpoint is origin, size and root hash, one per line")
        origin, size, root = lines[0], lines[1], lines[2]
        if not size.isascii() or not size.isdigit() or (size != "0" and size[0] == "0"):
            raise NoteError(f"a checkpoint's size is a decimal number: {size!r}")
        raw = _b64decode(root)
        if len(raw) != 32:
            raise NoteError("a checkpoint's root hash is 32 bytes")
        return cls(origin=origin, size=int(size), root=raw)


def open_checkpoint(note: str, verifiers: Iterable[Verifier]) -> Checkpoint:
    """Verify a signed checkpoint and read it."""
    return Checkpoint.parse(open_note(note, verifiers).text)
