"""The one error hierarchy of `espace`.

Every error that `espace` raises on purpose derives from :class:`EspaceError`.
The CLI maps each family to an exit code and a JSON body (see ``espace.cli``).
Domain errors name the rule they protect (``rule="LC-3"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class EspaceError(Exception):
    """Base of every error raised on purpose by `espace`."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, Any]:
        """The JSON body the CLI prints for this error: its code and message."""
        return {"error": self.code, "message": self.message}


class InvalidInput(EspaceError):
    """Input from outside failed validation: one message list per field (exit 2)."""

    code = "invalid_input"

    def __init__(self, fields: Mapping[str, Sequence[str]]) -> None:
        self.fields = {k: list(v) for k, v in fields.items()}
        summary = "; ".join(f"{k}: {', '.join(v)}" for k, v in self.fields.items())
        super().__init__(f"invalid input: {summary}")

    def as_dict(self) -> dict[str, Any]:
        """The JSON body, with the messages of each field."""
        return {**super().as_dict(), "fields": self.fields}


class RuleViolation(EspaceError):
    """A command that a domain rule forbids (exit code 3)."""

    code = "rule_violation"

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.reason = message

    def as_dict(self) -> dict[str, Any]:
        """The JSON body, with the id of the rule that forbids the command."""
        return {**super().as_dict(), "rule": self.rule}


class InvalidIdentifier(EspaceError):
    """An identifier (NIR, INS, IdNatPS) that fails its format or key check."""

    code = "invalid_input"

    def __init__(self, field: str, rule: str, message: str) -> None:
        self.reason = f"{message} ({rule})"
        super().__init__(f"{field}: {self.reason}")
        self.field = field
        self.rule = rule

    def as_dict(self) -> dict[str, Any]:
        """The JSON body, with the rule and the message of the field that failed."""
        return {
            **super().as_dict(),
            "rule": self.rule,
            "fields": {self.field: [self.reason]},
        }
