"""Errors raised at the application edge. They extend the domain hierarchy."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from espace.domain.errors import EspaceError, InvalidInput

__all__ = [
    "ConfigurationError",
    "Conflict",
    "DamagedRecord",
    "DatabaseUnavailable",
    "InvalidInput",
    "NotFound",
    "RecordErased",
]


class NotFound(EspaceError):
    """The thing asked for does not exist, or was erased (exit 4)."""

    code = "not_found"


class Conflict(EspaceError):
    """A concurrent write, or something that already exists (exit 5)."""

    code = "conflict"


class ConfigurationError(EspaceError):
    """The store or its secrets are missing or inconsistent (exit 6)."""

    code = "configuration"


class RecordErased(NotFound):
    """What was asked for was erased: its data key is destroyed (SEC-4, exit 4).

    ``key_id`` names the destroyed key (the espace's id).
    """

    def __init__(self, message: str, key_id: UUID) -> None:
        super().__init__(message)
        self.key_id = key_id


class DamagedRecord(EspaceError):
    """A stored record fails its integrity check: it was altered or damaged,
    or it belongs to another row (exit 7).

    It names what is damaged: the aggregate and its version for an event,
    the key for a keystore row; ``espace_id`` locates it when it is known.
    """

    code = "integrity"

    def __init__(
        self,
        message: str,
        *,
        aggregate_id: UUID | str | None = None,
        version: int | None = None,
        topic: str | None = None,
        espace_id: UUID | None = None,
    ) -> None:
        super().__init__(message)
        self.aggregate_id = aggregate_id
        self.version = version
        self.topic = topic
        self.espace_id = espace_id

    def as_dict(self) -> dict[str, Any]:
        """The JSON body, with the aggregate, version, topic and espace it names."""
        located = {
            "aggregate_id": self.aggregate_id,
            "version": self.version,
            "topic": self.topic,
            "espace_id": self.espace_id,
        }
        return {
            **super().as_dict(),
            **{k: str(v) if isinstance(v, UUID) else v for k, v in located.items()},
        }


class DatabaseUnavailable(EspaceError):
    """The database did not answer within the configured bound (exit 6).

    Nothing was written by the command that got it, unless it says so.
    """

    code = "database_unavailable"
