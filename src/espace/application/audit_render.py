"""How the auditor's history renders (ADR-0022): values as JSON holds them
(:func:`plain`), an aggregate's state (:func:`state_of`), who an event names
(:func:`who_acted`), the sections of the history and each event described,
the keyed digests of secrets left out (:data:`HIDDEN`), and the collector
paused while a history is built.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from espace.application.ports import LoggedEvent
from espace.domain.espace import EspaceSante
from espace.domain.trace import AccessTrace

HIDDEN = frozenset({"code_digest", "code_salt", "vitale_digest"})
"""Keyed digests of secrets: no auditor needs them."""

_AS_IS = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _field_names(kind: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind) if f.name not in HIDDEN)


_AS_TEXT: dict[type[Any], Callable[[Any], str]] = {
    UUID: UUID.__str__,
    Decimal: Decimal.__str__,
    datetime: datetime.isoformat,
    date: date.isoformat,
}
"""The types most values are, and their text: found by type, before the
``isinstance`` checks (a history renders every value of every event)."""


def plain(value: Any) -> Any:
    """A value as JSON can hold it: ids and instants as text, sets sorted."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    as_text = _AS_TEXT.get(kind)
    if as_text is not None:
        return as_text(value)
    if isinstance(value, dict):
        return _plain_fields(value.items(), HIDDEN)
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            name: v if type(v := getattr(value, name)) in _AS_IS else plain(v)
            for name in _field_names(type(value))
        }
    if isinstance(value, frozenset | set):
        return sorted(plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _plain_fields(
    items: Iterable[tuple[Any, Any]], skip: frozenset[str]
) -> dict[str, Any]:
    """Named values as JSON can hold them, but those ``skip`` names: the
    history renders every event and aggregate through here, so plain values
    skip the call."""
    return {
        str(k): v if type(v) in _AS_IS else plain(v) for k, v in items if k not in skip
    }


_NOT_STATE = HIDDEN | {"originator_id", "originator_version"}
"""What an event's attributes hold beyond its content: the history shows
the aggregate and version beside it."""


def state_of(aggregate: Any) -> dict[str, Any]:
    """An aggregate's state as it stands: its public attributes (an espace's
    value objects spelled out, as they always were shown)."""
    named = (
        aggregate.flat_state().items()
        if isinstance(aggregate, EspaceSante)
        else ((k, v) for k, v in vars(aggregate).items() if not k.startswith("_"))
    )
    state = _plain_fields(named, HIDDEN)
    if isinstance(aggregate, AccessTrace):
        state["facts"] = plain(aggregate.facts)
    return state


def who_acted(event: Any) -> dict[str, Any] | None:
    """The actor an event names, if it names one."""
    for kind, ident in (
        ("actor_kind", "actor_id"),
        ("author_kind", "author_id"),
        ("by_kind", "by_id"),
        ("opener_kind", "opener_id"),
        ("reader_kind", "reader_id"),
    ):
        if hasattr(event, kind):
            return {"kind": getattr(event, kind), "id": getattr(event, ident, None)}
    by = getattr(event, "by", None)
    return {"kind": str(by)} if by is not None else None


SECTIONS = {
    "EspaceSante": "espace",
    "Document": "documents",
    "Consent": "consent",
    "Appointment": "agenda",
    "MedicalProfile": "profile",
    "Message": "conversations",
    "AccessTrace": "journal",
    "Alert": "notifications",
    "ServiceConnections": "services",
    "Erasure": "erasure",
}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a history is built: it makes
    tens of thousands of objects that all live until it returns, and each
    collection would walk them all again (a third of the time, measured by
    benchmarks/bench_audit.py). Nothing made here forms a cycle that must
    be freed early; the collector runs again when it is done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _deadlines(espace: dict[str, Any]) -> dict[str, Any]:
    return {
        k: espace.get(k)
        for k in (
            "opposition_deadline",
            "code_expires_at",
            "activation_locked_until",
            "suspension_closes_at",
            "archive_until",
            "erasure_due_by",
        )
        if espace.get(k) is not None
    }


@functools.cache
def _names(topic: str) -> tuple[str, str]:
    """The aggregate's and the event's class names, from an event's topic."""
    aggregate, _, name = topic.rpartition(":")[2].rpartition(".")
    return aggregate, name


def _described(logged: LoggedEvent) -> dict[str, Any]:
    """One event of the history: when, which aggregate and event, who acted,
    and its decrypted content (none once erased)."""
    aggregate, name = _names(logged.topic)
    entry: dict[str, Any] = {
        "position": logged.leaf_index,
        "aggregate": aggregate,
        "aggregate_id": str(logged.originator_id),
        "version": logged.originator_version,
        "event": name,
    }
    if logged.event is None:
        return {**entry, "erased": True}
    event = logged.event
    entry["at"] = event.timestamp.isoformat()
    entry["by"] = who_acted(event)
    entry["content"] = _plain_fields(vars(event).items(), _NOT_STATE)
    return entry
