"""What the application needs from the outside world, as protocols."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol
from uuid import UUID

Clock = Callable[[], datetime]
"""Returns the current aware instant. Injected: tests and simulations set it."""


class KeyVault(Protocol):
    """The per-espace data keys (see ``espace.adapters.crypto.Keystore``)."""

    def ensure_keys(self, key_ids: Iterable[UUID], at: datetime) -> None:
        """Create the keys that do not exist yet."""

    def shred(self, key_id: UUID, at: datetime) -> None:
        """Destroy a key for good: everything it sealed becomes unreadable."""


class ViewSync(Protocol):
    """Brings the read models up to date with the log."""

    def __call__(self) -> object: ...
