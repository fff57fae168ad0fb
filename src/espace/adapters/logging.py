"""Operator logs: structlog, JSON lines on stderr, bound with ids (SEC-3).

Logs carry ids (espace ids are keyed hashes), states and counts; never a NIR,
a name, an e-mail address, a code or health data. A last processor drops any
field whose name says it could hold such a value, and masks anything in a
value that looks like a NIR, so a mistake in a call site cannot leak one.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

SENSITIVE_KEYS = frozenset(
    {
        "nir",
        "ins",
        "name",
        "birth_name",
        "first_names",
        "email",
        "postal_address",
        "address",
        "code",
        "activation_code",
        "vitale_serial",
        "birth_date",
        "representative",
        "password",
    }
)
_NIR_LIKE = re.compile(
    r"(?<![0-9A-Za-z])[12378]\d{2}(?:0[1-9]|1[0-2]|[2-9]\d)(?:\d{2}|2[AB])\d{6}\d{2}"
    r"(?!\d)"
)
_EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _clean(value: Any, depth: int = 0) -> Any:
    """Mask NIR-like and e-mail-like text anywhere in a value; drop sensitive keys."""
    if depth > 8:
        return "[too deep]"
    if isinstance(value, str):
        return _EMAIL_LIKE.sub("[email]", _NIR_LIKE.sub("[nir]", value))
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        text = str(value)
        return "[nir]" if _NIR_LIKE.fullmatch(text) else value
    if isinstance(value, Mapping):
        return {
            k: "[redacted]"
            if str(k).lower() in SENSITIVE_KEYS
            else _clean(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v, depth + 1) for v in value]
    return value


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Drop sensitive keys; mask NIR-like or e-mail-like text at any depth (SEC-3)."""
    for key in list(event_dict):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = "[redacted]"
        else:
            event_dict[key] = _clean(event_dict[key])
    return event_dict


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Configure structlog once for the process: JSON to stderr by default."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
