"""The read models are public (``store.views.espaces``, ``store.views.documents``…):
every query refuses an id that is not a UUID, a limit below 1 (or not a
whole number) and a negative offset with InvalidInput naming the
parameter, on both databases, never with a database error (bad input names
the field)."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any, cast
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from espace import InvalidInput, Store

NOT_IDS = st.one_of(
    st.text(max_size=40),
    st.integers(),
    st.binary(max_size=16),
    st.lists(st.integers(), max_size=2),
)
BAD_LIMITS = st.one_of(
    st.integers(max_value=0),
    st.text(max_size=5),
    st.booleans(),
    st.floats(allow_nan=False),
)


def id_queries(store: Store) -> list[tuple[str, Any, str, dict[str, Any]]]:
    """(read model, bound method, id parameter, the other arguments it needs)."""
    found = []
    for field in dataclasses.fields(store.views):  # every read model the store has
        model, queries = field.name, getattr(store.views, field.name)
        for name, method in inspect.getmembers(queries, inspect.ismethod):
            if name.startswith("_"):
                continue
            hints = typing.get_type_hints(inspect.unwrap(method))
            params = inspect.signature(method).parameters
            ids = [p for p in params if hints.get(p) is UUID]
            required = [p for p in params.values() if p.default is p.empty]
            if not ids or any(hints.get(p.name) is not UUID for p in required):
                continue  # a query that needs more than ids: its own tests
            for param in ids:
                rest = {p.name: uuid4() for p in required if p.name != param}
                found.append((model, method, param, rest))
    return found


def test_every_read_model_has_queries_that_check_their_ids(store: Store) -> None:
    models = {model for model, *_ in id_queries(store)}
    assert models >= {"espaces", "documents", "consents", "journal", "messaging"}


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_an_id_that_is_not_a_uuid_is_refused_naming_it(store: Store, data: Any) -> None:
    model, method, param, rest = data.draw(st.sampled_from(id_queries(store)))
    bad = data.draw(NOT_IDS)
    with pytest.raises(InvalidInput) as info:
        method(**rest, **{param: bad})
    assert param in info.value.fields, (model, method.__name__)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=BAD_LIMITS, offset=st.integers(max_value=-1))
def test_a_bad_page_is_refused_naming_the_parameter(
    store: Store, limit: Any, offset: int
) -> None:
    with pytest.raises(InvalidInput) as info:
        store.views.espaces.ids_in_state("notified", limit=limit)
    assert "limit" in info.value.fields
    with pytest.raises(InvalidInput) as info:
        store.views.journal.of_espace(uuid4(), limit=10, offset=offset)
    assert "offset" in info.value.fields
    assert store.views.journal.of_espace(uuid4(), limit=10, offset=0) == []
    assert store.views.espaces.ids_in_state("notified", limit=2**62) == []  # --all


def test_the_auditor_calls_refuse_an_id_that_is_not_a_uuid_and_trace_nothing(
    store: Store,
) -> None:
    reads = store.audit.log()[1]
    # Not UUIDs, on purpose: the bad input under test.
    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: store.audit.history(cast("Any", "x"), auditor="a"), "espace_id"),
        (lambda: store.audit.export(cast("Any", 3), auditor="a"), "espace_id"),
        (
            lambda: store.audit.access(cast("Any", "x"), at=store.clock(), auditor="a"),
            "document_id",
        ),
    ]
    for call, field in calls:
        with pytest.raises(InvalidInput) as info:
            call()
        assert field in info.value.fields
    assert store.audit.log()[1] == reads
