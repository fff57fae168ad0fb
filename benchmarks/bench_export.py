"""What the FHIR export costs (issue 13, ADR-0031), as a ratio against a
baseline measured in the same run, on SQLite and PostgreSQL.

An espace with ``--documents`` documents (each with its content, about
1.2 kB) and ``--traces`` traces (reads by a physician), built fast:
``bench_records``' store and aggregates, saved straight through the
store's event store, the contents sealed through its content store, the
views not synced.

- ``export``: ``store.export.fhir_to`` (the streaming form, the operator's
  export) to a sink that keeps nothing: the log's index read, every event
  decrypted, the small parts replayed, the traces folded as they stream,
  every content unsealed and checked, every resource validated by its R4B
  model and written.
- ``baseline``: the same resources built straight from the rows: the
  espace's stored events read raw through the same index (one query),
  decrypted by the store's mapper, its contents read raw (one query) and
  unsealed; each DocumentReference and AuditEvent built by the adapter's
  own mapping functions from an object made straight from its one decoded
  event (no replay through aggregates, no validation), ``json.dumps`` of
  each. The few resources of many events (the Patient, the Consent, the
  Practitioner) are built from their aggregates, folded once: a handful
  among thousands.

Ratio = baseline time / export time (target >= 0.3). Figures, not
assertions.

    .venv/bin/python benchmarks/bench_export.py [--documents 1000]
        [--traces 10000] [--repeat 3] [--no-postgres] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import Notification

from bench_records import (
    CONTENT,
    PHYSICIAN,
    T0,
    document_aggregate,
    record_store,
    trace_aggregate,
)
from common import (
    add_run_options,
    database_kinds,
    fresh_database,
    quiet_logs,
    settle,
)
from espace import Store
from espace.adapters.audittree import leaves
from espace.adapters.contents import contents as content_rows
from espace.adapters.fhir.audit import audit_event
from espace.adapters.fhir.consent import consent_resource
from espace.adapters.fhir.documents import document_references
from espace.adapters.fhir.patient import patient_resource
from espace.adapters.fhir.practitioners import practitioner_resource, role_resources
from espace.application.aggregates import project
from espace.application.export import EspaceSnapshot
from espace.domain.consent import Consent
from espace.domain.directory import professional_id
from espace.domain.documents import Document
from espace.domain.espace import EspaceSante
from espace.domain.trace import AccessTrace, TraceFacts

BATCH = 1000
OPERATOR = "bench"


class Discard:
    """A text sink that keeps nothing."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str, /) -> int:
        self.chars += len(text)
        return len(text)


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


# ------------------------------------------------------------- the world


def fill(store: Store, espace_id: UUID, documents: int, traces: int) -> None:
    """``documents`` documents with their contents and ``traces`` reads of
    them by PHYSICIAN, saved straight (bench_records' aggregates)."""
    events, sealed = store._infra.events, store._infra.contents
    document_ids: list[UUID] = []
    for start in range(0, documents, BATCH):
        batch = [
            document_aggregate(espace_id) for _ in range(min(BATCH, documents - start))
        ]
        for d in batch:
            sealed.put(espace_id, d.current["version_id"], CONTENT)
        events.save(*batch)
        document_ids += [d.id for d in batch]
    for start in range(0, traces, BATCH):
        events.save(
            *(
                trace_aggregate(
                    espace_id,
                    document_ids[i % len(document_ids)],
                    T0 - timedelta(seconds=traces - i),
                )
                for i in range(start, min(start + BATCH, traces))
            )
        )
    store.sync()


# ------------------------------------------------------------- the sides


def export(store: Store, espace_id: UUID) -> None:
    store.export.fhir_to(Discard(), espace_id, operator=OPERATOR)


def baseline(store: Store, espace_id: UUID) -> None:
    """The same resources, straight from the rows (see the module)."""
    infra = store._infra
    engine: sa.Engine = infra.engine
    table = infra.events.recorder.events_table_name  # type: ignore[attr-defined]
    mapper: Any = infra.events.mapper
    sqlite = engine.dialect.name == "sqlite"
    position = "rowid" if sqlite else "notification_id"
    key: Any = espace_id.hex if sqlite else espace_id
    query = sa.text(
        "SELECT e.originator_id, e.originator_version, e.topic, e.state "
        f"FROM {leaves.name} l JOIN {table} e ON e.{position} = l.notification_id "
        "WHERE l.espace_id = :key ORDER BY l.leaf_index"
    )
    sealed_query = sa.select(content_rows.c.version_id, content_rows.c.sealed).where(
        content_rows.c.espace_id == espace_id
    )
    aead = infra.keystore.aead(espace_id)
    by_aggregate: dict[UUID, list[Any]] = {}
    documents: list[Any] = []
    traces: list[Any] = []
    with engine.connect() as conn:
        for oid, version, topic, state in conn.execute(query, {"key": key}):
            event = mapper.to_domain_event(
                Notification(
                    id=0,
                    originator_id=oid if isinstance(oid, UUID) else UUID(oid),
                    originator_version=version,
                    topic=topic,
                    state=bytes(state),
                )
            )
            if isinstance(event, AccessTrace.Recorded):
                traces.append(straight_trace(event))
            elif isinstance(event, Document.Deposited):
                documents.append(straight_document(event))
            else:
                by_aggregate.setdefault(event.originator_id, []).append(event)
        clear = {}
        for version_id, sealed in conn.execute(sealed_query):
            blob = bytes(sealed)
            clear[version_id] = aead.decrypt(
                blob[:12],
                blob[12:],
                b"espace-content-v1" + espace_id.bytes + version_id.bytes,
            )
    folded = [project(None, evs) for evs in by_aggregate.values()]
    espace = next(a for a in folded if isinstance(a, EspaceSante))
    consent = next(a for a in folded if isinstance(a, Consent))
    entry: Any = store._infra.events.repository.get(professional_id(PHYSICIAN.id))
    s = EspaceSnapshot(
        espace=espace,
        exported_at=T0,
        as_of=None,
        audience="operator",
        with_history=False,
        documents=[],
        contents=clear,
        consent=consent,
        traces=[],
    )
    sink = Discard()
    built = [patient_resource(s), consent_resource(s, consent)]
    built += [practitioner_resource(PHYSICIAN.id, entry)]
    built += role_resources(PHYSICIAN.id, entry)
    for resource in built:
        sink.write(json.dumps(resource))
    for d in documents:
        for resource in document_references(s, d):
            sink.write(json.dumps(resource))
    for t in traces:
        sink.write(json.dumps(audit_event(s, t)))


def straight_document(event: Any) -> Any:
    """What the mapping reads of a Document, from its one Deposited event."""
    return SimpleNamespace(
        id=event.originator_id,
        author_kind=event.author_kind,
        author_id=event.author_id,
        category=event.category,
        deleted_at=None,
        masked_from_professionals=False,
        hidden_from_holder=event.hidden_from_holder,
        hidden_from_representatives=event.hidden_from_representatives,
        versions=[
            {
                "version_id": event.version_id,
                "title": event.title,
                "loinc_code": event.loinc_code,
                "care_time": event.care_time,
                "format": event.format,
                "at": event.timestamp,
            }
        ],
    )


def straight_trace(event: Any) -> Any:
    """What the mapping reads of an AccessTrace, from its one event."""
    return SimpleNamespace(
        id=event.originator_id,
        created_on=event.timestamp,
        facts=TraceFacts.of_event(event),
    )


# ------------------------------------------------------------- the run


def measure(
    store: Store, espace_id: UUID, repeat: int, profile: bool
) -> tuple[float, float]:
    """The best of ``repeat`` runs of each side, interleaved."""
    t_base, t_export = [], []
    export(store, espace_id)  # warm: imports, model classes, the key
    baseline(store, espace_id)
    for _ in range(repeat):
        settle(store.settings.url)
        store._infra.keystore._cache.clear()  # both sides unwrap the key once
        t_base.append(timed(lambda: baseline(store, espace_id)))
        settle(store.settings.url)
        store._infra.keystore._cache.clear()
        t_export.append(timed(lambda: export(store, espace_id)))
    if profile:
        for name, side in (("export", export), ("baseline", baseline)):
            profiler = cProfile.Profile()
            profiler.runcall(side, store, espace_id)
            print(f"--- cProfile of {name}")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return min(t_base), min(t_export)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--traces", type=int, default=10_000)
    add_run_options(parser)
    args = parser.parse_args()
    quiet_logs(args.logs)
    ratios: dict[str, float] = {}
    for kind, _ in database_kinds(args, 1, None):
        with (
            fresh_database(kind, args.postgres) as url,
            record_store(url) as (
                store,
                espaces,
            ),
        ):
            fill(store, espaces[0], args.documents, args.traces)
            base, exported = measure(store, espaces[0], args.repeat, args.profile)
        ratios[kind] = base / exported
        print(
            f"{kind}: {args.documents} documents, {args.traces} traces: export "
            f"{exported:.2f}s, baseline (straight from the rows) {base:.2f}s"
        )
    figures = " ".join(f"{k}={r:.2f}" for k, r in ratios.items())
    print(f"\nRATIO export {figures}  (target >= 0.3)")


if __name__ == "__main__":
    main()
