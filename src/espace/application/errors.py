"""Errors raised at the application edge. They extend the domain hierarchy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from espace.domain.errors import EspaceError


class InvalidInput(EspaceError):
    """Input from outside failed validation: one message list per field (exit 2)."""

    code = "invalid_input"

    def __init__(self, fields: Mapping[str, Sequence[str]]) -> None:
        self.fields = {k: list(v) for k, v in fields.items()}
        summary = "; ".join(f"{k}: {', '.join(v)}" for k, v in self.fields.items())
        super().__init__(f"invalid input: {summary}")

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "fields": self.fields}


class NotFound(EspaceError):
    """The thing asked for does not exist, or was erased (exit 4)."""

    code = "not_found"


class Conflict(EspaceError):
    """A concurrent write, or something that already exists (exit 5)."""

    code = "conflict"


class ConfigurationError(EspaceError):
    """The store or its secrets are missing or inconsistent (exit 6)."""

    code = "configuration"
