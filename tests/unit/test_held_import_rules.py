"""The held legacy DMP's own rules (LC-6, LC-3, ADR-0032): one record per
espace, no document held twice, merged or discarded once, and a replay of
its events gives the same record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from espace.application.aggregates import project
from espace.domain.errors import RuleViolation
from espace.domain.held_import import HeldImport, HeldStatus, held_import_id

T0 = datetime(2027, 1, 4, 9, tzinfo=UTC)
ESPACE = uuid4()


def held(key: str) -> dict[str, Any]:
    return {"key": key, "document_id": uuid4(), "version_id": uuid4()}


def test_one_record_per_espace_found_from_its_id_lc_6() -> None:
    record = HeldImport.hold(espace_id=ESPACE, at=T0, documents=[held("a")])
    assert record.id == held_import_id(ESPACE) != held_import_id(uuid4())
    assert (record.status, record.keys) == (HeldStatus.HELD, {"a"})


def test_an_empty_hold_is_refused_lc_6() -> None:
    with pytest.raises(RuleViolation) as caught:
        HeldImport.hold(espace_id=ESPACE, at=T0, documents=[])
    assert caught.value.rule == "LC-6"


def test_a_document_is_never_held_twice_lc_6() -> None:
    record = HeldImport.hold(espace_id=ESPACE, at=T0, documents=[held("a")])
    with pytest.raises(RuleViolation) as caught:
        record.add(at=T0, documents=[held("b"), held("a")])
    assert caught.value.rule == "LC-6"
    assert "a" in caught.value.reason
    record.add(at=T0, documents=[held("b")])
    assert record.keys == {"a", "b"}


@pytest.mark.parametrize("ending", ["merge", "discard"])
def test_a_held_import_ends_once_lc_6_lc_3(ending: str) -> None:
    """LC-6: merged at the opening, or discarded by an opposition (LC-3);
    after either, nothing can be held, merged or discarded again."""
    record = HeldImport.hold(espace_id=ESPACE, at=T0, documents=[held("a")])
    if ending == "merge":
        record.merge(at=T0, merged=["x"], rejected={})
    else:
        record.discard(at=T0, reason="opposed")
    attempts: list[Callable[[], None]] = [
        lambda: record.add(at=T0, documents=[held("b")]),
        lambda: record.merge(at=T0, merged=[], rejected={}),
        lambda: record.discard(at=T0, reason="opposed"),
    ]
    for again in attempts:
        with pytest.raises(RuleViolation) as caught:
            again()
        assert caught.value.rule == "LC-6"
        assert "already" in caught.value.reason


@given(
    batches=st.lists(
        st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=4, unique=True),
        min_size=1,
        max_size=5,
    ),
    ending=st.sampled_from(["merge", "discard", None]),
)
def test_a_replay_of_its_events_is_the_same_record_lc_6(
    batches: list[list[str]], ending: str | None
) -> None:
    """Whatever bundles come (a key seen before is refused, the rest held),
    folding the saved events again gives the same documents and status."""
    record: HeldImport | None = None
    at = T0
    for batch in batches:
        at += timedelta(minutes=1)
        new = [held(k) for k in batch if record is None or k not in record.keys]
        if not new:
            continue
        if record is None:
            record = HeldImport.hold(espace_id=ESPACE, at=at, documents=new)
        else:
            record.add(at=at, documents=new)
    assert record is not None
    if ending == "merge":
        record.merge(
            at=at, merged=[str(d["document_id"]) for d in record.documents], rejected={}
        )
    elif ending == "discard":
        record.discard(at=at, reason="opposed")
    events = record.collect_events()
    again = project(None, events)
    assert again.documents == record.documents
    assert again.status == record.status
    assert again.keys == {k for batch in batches for k in batch}
