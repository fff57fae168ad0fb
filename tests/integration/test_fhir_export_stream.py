"""The FHIR export streamed (issue 13, ADR-0031), on SQLite and PostgreSQL:
its memory does not grow with the number of traces (ACC-6, measured with
``tracemalloc``); the streamed bundle is the dict form's, entry for entry;
a resource that does not validate midway stops the stream and traces
nothing; a professional only the traces name is a Practitioner all the
same (PRO-2).
"""

from __future__ import annotations

import io
import json
import tracemalloc
from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from espace import Store
from espace.adapters import auditlog
from espace.adapters.fhir import ExportInvalid, audit, bundle
from espace.domain.trace import AccessTrace, TraceFacts
from fhir_check import validated_kinds
from records_world import PHYSICIAN, Record, make_record

OPERATOR = "support-cnam"
UNLISTED = "899999999999"
"""An IdNatPS the directory of the records world does not list."""


@pytest.fixture
def rec(store: Store, clock: Any, people: Any, helpers: Any) -> Record:
    return make_record(store, clock, people, helpers)


class Discard:
    """A text sink that keeps nothing: only how much it was given."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str, /) -> int:
        self.chars += len(text)
        return len(text)


def add_traces(
    rec: Record, n: int, document_id: UUID, actor_id: str = PHYSICIAN.id
) -> None:
    """``n`` reads of a document, saved straight as traces (ACC-6)."""
    for start in range(0, n, 200):
        rec.clock.advance(minutes=1)
        traces = [
            AccessTrace.record(
                trace_id=uuid4(),
                at=rec.clock.now + timedelta(milliseconds=i),
                facts=TraceFacts(
                    espace_id=rec.espace_id,
                    actor_kind="professional",
                    actor_id=actor_id,
                    actor_profession="physician",
                    action="read",
                    mode="care",
                    allowed=True,
                    ground="consent",
                    document_id=document_id,
                    detail="a long enough detail to weigh in memory " * 4,
                ),
            )
            for i in range(min(200, n - start))
        ]
        rec.store._infra.events.save(*traces)
    rec.store.sync()
    rec.clock.advance(minutes=1)


def peak_of_export(rec: Record) -> tuple[int, dict[str, int]]:
    """The peak of memory allocated while the export streams to a sink
    that keeps nothing, above what was allocated before it."""
    sink = Discard()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        kinds = rec.store.export.fhir_to(sink, rec.espace_id, operator=OPERATOR)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.chars > 0
    return peak - before, kinds


def test_the_streamed_exports_memory_does_not_grow_with_the_traces_acc_6(
    rec: Record, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR-0031's bound: the traces are read from the log a page at a time
    and written as they validate; four times as many traces must not take
    anywhere near four times the memory (an export gathering them grows in
    proportion: 4.8 MB for 400 traces, 18.8 MB for 1,600, where the
    streamed export stays near 0.4 MB for both)."""
    monkeypatch.setattr(auditlog, "STREAM_PAGE", 100)  # several pages at N
    document_id = rec.deposit()
    n = 400
    add_traces(rec, n, document_id)
    rec.store.export.fhir_to(Discard(), rec.espace_id, operator=OPERATOR)  # warm
    small, kinds_small = peak_of_export(rec)
    add_traces(rec, 3 * n, document_id)
    large, kinds_large = peak_of_export(rec)
    assert kinds_large["AuditEvent"] - kinds_small["AuditEvent"] >= 3 * n
    print(f"peak: {small} bytes at N traces, {large} bytes at 4N")
    assert large < 1.5 * small + 256 * 1024, (small, large)


def test_the_streamed_bundle_is_the_dict_forms_entry_for_entry_acc_6(
    rec: Record,
) -> None:
    """One mechanism: the stream and the dict hold the same validated
    entries; the second export holds the first one's trace, an export
    never its own (ACC-6)."""
    rec.deposit(title="Compte rendu")
    add_traces(rec, 30, rec.deposit(title="Lu"))
    out = io.StringIO()
    kinds = rec.store.export.fhir_to(out, rec.espace_id, operator=OPERATOR)
    streamed = json.loads(out.getvalue())
    assert dict(validated_kinds(streamed)) == kinds
    rec.clock.advance(minutes=1)
    gathered = rec.store.export.fhir(rec.espace_id, operator=OPERATOR)
    assert set(streamed) == set(gathered)
    assert streamed["type"] == gathered["type"] == "collection"
    extra = [e for e in gathered["entry"] if e not in streamed["entry"]]
    (own,) = extra
    assert own["resource"]["resourceType"] == "AuditEvent"
    assert any(c.get("code") == "export" for c in own["resource"]["subtype"])
    assert [e for e in gathered["entry"] if e != own] == streamed["entry"]


def test_a_resource_that_fails_midway_stops_the_stream_and_traces_nothing_acc_6(
    rec: Record, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR-0031: a bad AuditEvent met after others were written raises
    ExportInvalid naming it, and the export is not traced (the CLI throws
    the temporary file away)."""
    add_traces(rec, 20, rec.deposit())
    real = audit.audit_event
    seen = Counter[str]()

    def broken_on_the_tenth(snapshot: Any, trace: AccessTrace) -> dict[str, Any]:
        seen["n"] += 1
        event = real(snapshot, trace)
        return event if seen["n"] < 10 else {**event, "recorded": "at noon"}

    monkeypatch.setattr(bundle, "audit_event", broken_on_the_tenth)
    before = rec.traces()
    sink = Discard()
    with pytest.raises(ExportInvalid) as caught:
        rec.store.export.fhir_to(sink, rec.espace_id, operator=OPERATOR)
    assert "AuditEvent/" in str(caught.value)
    assert "recorded" in str(caught.value)
    assert sink.chars > 0  # it had begun: the destination is the caller's
    assert rec.traces() == before


def test_a_professional_only_the_traces_name_is_a_practitioner_pro_2(
    rec: Record,
) -> None:
    """The professionals of the traces are gathered as the AuditEvents are
    written, and their Practitioners come after (ADR-0031's order)."""
    add_traces(rec, 5, rec.deposit(), actor_id=UNLISTED)
    out = io.StringIO()
    rec.store.export.fhir_to(out, rec.espace_id, operator=OPERATOR)
    kinds = [e["resource"]["resourceType"] for e in json.loads(out.getvalue())["entry"]]
    assert kinds[0] == "Patient"
    last_event = max(i for i, k in enumerate(kinds) if k == "AuditEvent")
    first_practitioner = kinds.index("Practitioner")
    assert first_practitioner > last_event
    practitioners = {
        e["resource"]["identifier"][0]["value"]: e["resource"]
        for e in json.loads(out.getvalue())["entry"]
        if e["resource"]["resourceType"] == "Practitioner"
    }
    assert practitioners[UNLISTED]["meta"]["tag"][0]["code"] == "not-in-directory"
    assert "name" in practitioners[PHYSICIAN.id]
