"""What the use cases return, as JSON holds it: each result type has a
marshmallow schema, declared beside the type and registered for it with
:func:`dumps`; :func:`dump` finds it by the value's type. The CLI prints
results through it, and an embedding application calls it for the same
JSON (``espace.dump(report)``).

Errors are not results: each carries its JSON body (``EspaceError.as_dict``),
in the domain, which marshmallow does not enter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from marshmallow import Schema, fields, post_dump

S = TypeVar("S", bound=type[Schema])

_SCHEMAS: dict[type[Any], Schema] = {}


class Output(Schema):
    """Base of the output schemas: the declared fields, in their order.
    With ``omit_none``, a field whose value is None is left out (a date
    that does not apply, an id the result does not have)."""

    omit_none: ClassVar[bool] = False

    @post_dump
    def _without_none(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if not self.omit_none:
            return data
        return {k: v for k, v in data.items() if v is not None}


class RowRejectedSchema(Output):
    """One input row refused: its line, and each field's messages."""

    line = fields.Integer()
    fields_ = fields.Dict(data_key="fields", attribute="fields")


def dumps(kind: type[Any]) -> Callable[[S], S]:
    """Class decorator: the schema dumps the values of ``kind``."""

    def register(schema: S) -> S:
        _SCHEMAS[kind] = schema()
        return schema

    return register


def dumpable(value: object) -> bool:
    """Whether ``value`` is of a result type with a schema."""
    return type(value) in _SCHEMAS


def dump(value: object) -> dict[str, Any]:
    """``value`` as JSON holds it, by its type's schema; TypeError if its
    type has none."""
    schema = _SCHEMAS.get(type(value))
    if schema is None:
        raise TypeError(f"no output schema for {type(value).__name__}")
    data: dict[str, Any] = schema.dump(value)
    return data
