"""The master key and what is derived from it (ADR-0004): the key is held
outside the database (``ESPACE_MASTER_KEY``, or a key file beside a SQLite
store); :class:`Secrets` derives from it, with HKDF-SHA256, the KEK that wraps
the data keys, the HMAC key of aggregate ids and the activation-code pepper."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from espace.adapters.files import private_file
from espace.adapters.settings import StoreSettings
from espace.application.errors import (
    ConfigurationError,
)

MASTER_KEY_ENV: Final = "ESPACE_MASTER_KEY"
MASTER_KEY_FILE_ENV: Final = "ESPACE_KEY_FILE"
PREVIOUS_MASTER_KEY_ENV: Final = "ESPACE_PREVIOUS_MASTER_KEY"
PREVIOUS_KEY_FILE_ENV: Final = "ESPACE_PREVIOUS_KEY_FILE"
"""The master key being rotated away from (ADR-0029): given to every
process, beside the new one, while ``espace keys rotate`` re-wraps the keys."""
KEY_BYTES: Final = 32

# HKDF ``info`` labels: one per purpose, so that no derived key can stand in for
# another. Changing a label changes the key: they are part of the storage contract.
_KEK_INFO: Final = b"espace/v1/kek: wraps per-espace data keys"
_ID_KEY_INFO: Final = b"espace/v1/id-key: HMAC of the INS into aggregate ids"
_PEPPER_INFO: Final = b"espace/v1/pepper: HMAC of activation codes"
_CHECK_INFO: Final = b"espace/v1/kek-check: tells a wrong master key from a damaged row"


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
        """Refuse a secret that is not ``KEY_BYTES`` long (``ValueError``): a short
        key must fail at construction, never weaken what it protects."""
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


_FORMAT: Final = f"base64url text of {KEY_BYTES} random bytes"


def _configured(
    environ: Mapping[str, str], key_env: str, file_env: str, what: str
) -> Secrets | None:
    """The secrets of the key in ``key_env``, else in the file ``file_env``
    names; None if neither is set. ``what`` names the key in the errors."""
    if key_env in environ:
        return Secrets.from_master_key(
            _decode_master_key(
                environ[key_env],
                key_env,
                f"set {key_env} to {what}, the {_FORMAT} (43 characters)",
            )
        )
    if file_env in environ:
        path = Path(environ[file_env])
        return Secrets.from_master_key(
            _read_key_file(
                path,
                f"{file_env}={path}",
                f"point {file_env} at a file holding {what}, the {_FORMAT}, "
                f"or set {key_env} instead",
            )
        )
    return None


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
    found = _configured(environ, MASTER_KEY_ENV, MASTER_KEY_FILE_ENV, "the master key")
    if found is not None:
        return found
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
        f"{MASTER_KEY_ENV} to the {_FORMAT} (from your KMS or secret manager), or "
        f"{MASTER_KEY_FILE_ENV} to a file holding it"
    )


def load_previous_secrets(environ: Mapping[str, str] = os.environ) -> Secrets | None:
    """The secrets of the master key being rotated away from (ADR-0029):
    ``ESPACE_PREVIOUS_MASTER_KEY``, else the file named by
    ``ESPACE_PREVIOUS_KEY_FILE``; None when neither is set (no rotation)."""
    return _configured(
        environ, PREVIOUS_MASTER_KEY_ENV, PREVIOUS_KEY_FILE_ENV, "the old master key"
    )
