"""The shared medical record's write paths per second, against the library.

    python benchmarks/bench_records.py [--deposits 300] [--reads 300]
        [--prior-traces 100000] [--trace-sample 200] [--repeat 3]
        [--postgres URL | --no-postgres]

Per database kind (a SQLite file in a temporary directory, and PostgreSQL in
a fresh schema that the script creates and drops), each side measured
``--repeat`` times (interleaved, on fresh databases) and the median kept:

(a) **deposits/s**: ``store.records.deposit`` by a consented physician
    (``sync_views=False``: the write path only). Each deposit loads the
    espace, the consent, the access matrix and the directory entry, decides,
    seals the content beside the events, and saves the Document and its
    AccessTrace (two events) in one ``save()``.
    **Baseline**: a plain eventsourcing ``Application`` saving pre-built
    ``Document`` aggregates, one aggregate with one event per ``save()``, on
    its own fresh database of the same kind (no loading, deciding or sealing).
(b) **reads-with-trace/s**: ``store.records.read`` of deposited documents
    (load, decide, save one AccessTrace, unseal the content and check its
    hash). **Baseline**: the same plain ``Application`` saving pre-built
    ``AccessTrace`` aggregates, one per ``save()``.
(c) **trace cost flat in history length** (ACC-6, SEC-2): the time to record
    one trace (a denied read: load, decide, save the trace) on an espace with
    no prior trace, and on an espace of the same store with ``--prior-traces``
    traces (single reads alternating between the two, median per run),
    inserted beforehand as AccessTrace aggregates through
    ``store._infra.events.save(*traces)`` in batches of 1,000. The ratio should be
    about 1.0: a trace is one insert whatever the record's history.

Figures, not assertions. Ratios are espace / baseline rates (a, b) and time
per trace with history / without (c).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import logging
import os
import statistics
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import perf_counter
from typing import Any
from uuid import UUID

import structlog

from common import (
    DEFAULT_POSTGRES,
    BaselineApp,
    fresh_database,
    postgres_reachable,
    settle,
)
from espace.adapters.settings import parse_database_url
from espace.api import Store, init_store
from espace.application import outputs
from espace.application.records import actor_from
from espace.domain.actors import Actor, ActorKind
from espace.domain.documents import Document
from espace.domain.errors import RuleViolation
from espace.domain.trace import AccessTrace, TraceFacts

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
PHYSICIAN = Actor(ActorKind.PROFESSIONAL, "810001045367", "physician")
OUTSIDER = Actor(ActorKind.PROFESSIONAL, "810002000007", "physician")
DIRECTORY = (
    "Identification nationale PP|Type d'identifiant PP|Nom d'exercice|"
    "Prénom d'exercice|Code profession|Libellé profession|\n"
    "810001045367|8|DUPONT|Jean|10|Médecin|\n"
    "810002000007|8|DURAND|Paul|10|Médecin|\n"
)
PEOPLE = [
    {
        "nir": "295109912611193",
        "birth_name": "MARTIN",
        "first_names": "Claire",
        "birth_date": "1995-10-03",
        "sex": "F",
        "birthplace_code": "99126",
        "vitale_serial": "8000141000017",
        "email": "claire.martin@example.org",
    },
    {
        "nir": "253072B07300470",
        "birth_name": "CASANOVA",
        "first_names": "Angèle",
        "birth_date": "1953-07-01",
        "sex": "F",
        "birthplace_code": "2B073",
        "vitale_serial": "8000241000027",
        "email": "ange.casanova@example.org",
    },
]
CONTENT = b"Compte rendu de consultation. " * 40  # about 1.2 kB
META = {
    "category": "report",
    "loinc_code": "11488-4",
    "title": "Compte rendu de consultation",
    "care_time": (T0 - timedelta(hours=1)).isoformat(),
    "format": "text/plain",
}
TRACE_BATCH = 1000


# ------------------------------------------------------------- plumbing


def environ_for(url: str) -> dict[str, str]:
    if url.startswith("postgresql"):
        key = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        return {"ESPACE_MASTER_KEY": key}
    return {}


@contextmanager
def record_store(url: str) -> Iterator[tuple[Store, list[UUID]]]:
    """A store with the professionals listed (PRO-2) and two activated espaces
    whose holders consented to PHYSICIAN (ACC-1). Views are not synced."""
    environ = environ_for(url)
    init_store(url, simulation=True, environ=environ)
    clock = [T0 - timedelta(days=2)]
    with Store.open(
        url, clock=lambda: clock[0], sync_views=False, environ=environ
    ) as store:
        store.directory.import_extract(io.StringIO(DIRECTORY))
        espaces = []
        report = store.lifecycle.affiliate_feed(list(enumerate(PEOPLE, start=2)))
        assert report.created == len(PEOPLE), outputs.dump(report)
        for person in PEOPLE:
            espace_id = store.lifecycle.espace_id_for(person["nir"])
            code = store.lifecycle.send_notice(espace_id).activation_code
            clock[0] = T0 - timedelta(days=1)
            store.lifecycle.activate(
                {
                    "nir": person["nir"],
                    "code": code,
                    "birth_date": person["birth_date"],
                    "vitale_serial": person["vitale_serial"],
                }
            )
            holder = actor_from({"kind": "holder"}, espace_id)
            store.records.consent(holder, espace_id, "grant", {"idnatps": PHYSICIAN.id})
            espaces.append(espace_id)
        clock[0] = T0
        yield store, espaces


def trace_aggregate(espace_id: UUID, document_id: UUID, at: datetime) -> AccessTrace:
    return AccessTrace.record(
        trace_id=uuid.uuid4(),
        at=at,
        facts=TraceFacts(
            espace_id=espace_id,
            actor_kind="professional",
            actor_id=PHYSICIAN.id,
            actor_profession="physician",
            action="read",
            mode="care",
            allowed=True,
            ground="consent",
            document_id=document_id,
            version_id=uuid.uuid4(),
        ),
    )


def document_aggregate(espace_id: UUID) -> Document:
    return Document.deposit(
        document_id=uuid.uuid4(),
        espace_id=espace_id,
        version_id=uuid.uuid4(),
        at=T0,
        author_kind="professional",
        author_id=PHYSICIAN.id,
        author_profession="physician",
        category="report",
        loinc_code="11488-4",
        title="Compte rendu de consultation",
        care_time=T0 - timedelta(hours=1),
        fmt="text/plain",
        size=len(CONTENT),
        content_hash=hashlib.sha256(CONTENT).hexdigest(),
        types=("11488-4",),
    )


# ------------------------------------------------------------- the sides


def espace_deposits(url: str, n: int) -> float:
    """(a) seconds for ``n`` deposits through store.records.deposit."""
    with record_store(url) as (store, espaces):
        settle(url)
        started = perf_counter()
        for i in range(n):
            store.records.deposit(PHYSICIAN, espaces[i % 2], META, CONTENT)
        return perf_counter() - started


def espace_reads(url: str, n: int) -> float:
    """(b) seconds for ``n`` reads (each traced) through store.records.read."""
    with record_store(url) as (store, espaces):
        documents = [
            UUID(
                str(
                    store.records.deposit(
                        PHYSICIAN, espaces[0], META, CONTENT
                    ).document_id
                )
            )
            for _ in range(min(n, 50))
        ]
        settle(url)
        started = perf_counter()
        for i in range(n):
            store.records.read(PHYSICIAN, documents[i % len(documents)])
        return perf_counter() - started


def baseline_saves(url: str, build: Callable[[], Any], n: int) -> float:
    """Seconds for ``n`` pre-built one-event aggregates, one per save()."""
    app = BaselineApp(env=parse_database_url(url).eventsourcing_env(create_tables=True))
    try:
        aggregates = [build() for _ in range(n)]
        settle(url)
        started = perf_counter()
        for aggregate in aggregates:
            app.save(aggregate)
        return perf_counter() - started
    finally:
        app.close()


@dataclass
class FlatResult:
    without_history: float
    with_history: float
    prior: int
    insert_rate: float

    @property
    def ratio(self) -> float:
        return self.with_history / self.without_history


def trace_cost(url: str, prior: int, sample: int, repeat: int) -> FlatResult:
    """(c) seconds per denied read (one trace) on a fresh espace and on an
    espace with ``prior`` traces, in the same store; medians of ``repeat``."""
    with record_store(url) as (store, espaces):
        fresh, busy = espaces
        fresh_doc = UUID(
            str(store.records.deposit(PHYSICIAN, fresh, META, CONTENT).document_id)
        )
        busy_doc = UUID(
            str(store.records.deposit(PHYSICIAN, busy, META, CONTENT).document_id)
        )
        started = perf_counter()
        for start in range(0, prior, TRACE_BATCH):
            size = min(TRACE_BATCH, prior - start)
            store._infra.events.save(
                *[
                    trace_aggregate(busy, busy_doc, T0 + timedelta(seconds=start + i))
                    for i in range(size)
                ]
            )
        insert_rate = prior / (perf_counter() - started) if prior else 0.0

        def one_trace(document_id: UUID) -> float:
            began = perf_counter()
            with contextlib.suppress(RuleViolation):  # a denial, traced, is timed
                store.records.read(OUTSIDER, document_id)
            return perf_counter() - began

        for document_id in (fresh_doc, busy_doc):  # warm-up: caches, connections
            one_trace(document_id)
        # Reads alternate between the two espaces one by one, so that a WAL
        # checkpoint or a noisy neighbour hits both alike; the median of the
        # single-trace times of each run, then the median of the runs.
        without, with_ = [], []
        for _ in range(repeat):
            settle(url)
            pairs = [(one_trace(fresh_doc), one_trace(busy_doc)) for _ in range(sample)]
            without.append(statistics.median(a for a, _ in pairs))
            with_.append(statistics.median(b for _, b in pairs))
        return FlatResult(
            statistics.median(without), statistics.median(with_), prior, insert_rate
        )


# ------------------------------------------------------------- report


@dataclass
class Pair:
    espace: list[float]
    baseline: list[float]
    n: int

    def rate(self, seconds: list[float]) -> float:
        return self.n / statistics.median(seconds)

    @property
    def ratio(self) -> float:
        return self.rate(self.espace) / self.rate(self.baseline)


def measure_pair(
    kind: str,
    postgres_url: str,
    repeat: int,
    n: int,
    espace_side: Callable[[str, int], float],
    build: Callable[[], Any],
) -> Pair:
    pair = Pair([], [], n)
    for _ in range(repeat):
        with fresh_database(kind, postgres_url) as url:
            pair.espace.append(espace_side(url, n))
        with fresh_database(kind, postgres_url) as url:
            pair.baseline.append(baseline_saves(url, build, n))
    return pair


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deposits", type=int, default=300)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--prior-traces", type=int, default=100_000)
    parser.add_argument("--trace-sample", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING)
    )

    kinds = ["sqlite"]
    if not args.no_postgres:
        if postgres_reachable(args.postgres):
            kinds.append("postgresql")
        else:
            print(f"PostgreSQL unreachable at {args.postgres}: SQLite only")
    espace_id = uuid.uuid4()
    results: dict[str, Any] = {}
    for kind in kinds:
        began = perf_counter()
        deposits = measure_pair(
            kind,
            args.postgres,
            args.repeat,
            args.deposits,
            espace_deposits,
            lambda: document_aggregate(espace_id),
        )
        reads = measure_pair(
            kind,
            args.postgres,
            args.repeat,
            args.reads,
            espace_reads,
            lambda: trace_aggregate(espace_id, espace_id, T0),
        )
        with fresh_database(kind, args.postgres) as url:
            flat = trace_cost(url, args.prior_traces, args.trace_sample, args.repeat)
        results[kind] = {"deposits": deposits, "reads": reads, "flat": flat}
        print(f"\n== {kind} (median of {args.repeat}; {perf_counter() - began:.0f} s)")
        print(
            f"(a) deposits/s      espace {deposits.rate(deposits.espace):8.1f}   "
            f"baseline {deposits.rate(deposits.baseline):8.1f}   "
            f"ratio {deposits.ratio:.2f}   (n={deposits.n})"
        )
        print(
            f"(b) reads+trace/s   espace {reads.rate(reads.espace):8.1f}   "
            f"baseline {reads.rate(reads.baseline):8.1f}   "
            f"ratio {reads.ratio:.2f}   (n={reads.n})"
        )
        print(
            f"(c) trace cost      0 prior {flat.without_history * 1e3:7.2f} ms   "
            f"{flat.prior} prior {flat.with_history * 1e3:7.2f} ms   "
            f"ratio {flat.ratio:.2f}   (prior traces inserted at "
            f"{flat.insert_rate:,.0f}/s)"
        )
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
