"""How fast does the batched runner catch a view up, against the raw database?

    python benchmarks/bench_projection.py --events 20000 [--postgres URL]

For each store (a SQLite file, and PostgreSQL when ``--postgres`` is given;
a fresh schema is made and dropped), the script:

1. writes N events with a real eventsourcing Application (100 aggregates per
   ``save()``);
2. times ``ProjectionRunner.catch_up()`` of the projection under test (a fold
   view writing one row per aggregate), from an empty view;
3. times the baseline, measured in the same run on the same database: the
   same final rows, copied into an identical table by a raw batched insert
   (``executemany`` in pages of the same size, one transaction per page).
   This is the least any page-wise writer of that view can cost;
4. prints the ratio (catch-up time / baseline time), and for reference what
   one transaction per event scores (the runner with ``page_size=1``, which
   is what eventsourcing's own ProjectionRunner does) on a smaller N.

To measure the real espaces view, change :func:`projection_under_test` (and
:func:`make_events` if it needs other events); nothing else depends on it.
Figures, not assertions: no test runs this.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import singledispatchmethod
from pathlib import Path
from time import perf_counter
from typing import Any, ClassVar
from uuid import UUID

import psycopg
import sqlalchemy as sa
import structlog
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Mapper, StoredEvent

from espace.adapters.runner import ProjectionRunner
from espace.adapters.settings import create_engine, parse_database_url
from espace.adapters.tracking import ViewTrackingRecorder
from espace.projections.base import EspaceFoldProjection, Projection, unhandled

# ------------------------------------------------------- what is measured


class Folder(Aggregate):
    class Opened(Aggregate.Created):
        title: str

    class Filed(Aggregate.Event):
        document: str

    @event(Opened)
    def __init__(self, title: str) -> None:
        self.title = title

    @event(Filed)
    def file(self, document: str) -> None:
        pass


BENCH_VIEWS = sa.MetaData()
FOLDERS = sa.Table(
    "bench_folders",
    BENCH_VIEWS,
    sa.Column("espace_id", sa.Uuid, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("documents", sa.Integer, nullable=False),
    sa.Column("last_document", sa.Text),
)


@dataclass
class FolderRow:
    title: str
    documents: int
    last_document: str | None


class FolderView(EspaceFoldProjection[FolderRow]):
    """One row per aggregate: a typical "list of espaces" read model."""

    name: ClassVar[str] = "bench_folders"
    tables = (FOLDERS,)

    def load(
        self, conn: sa.Connection, espace_ids: Collection[UUID]
    ) -> dict[UUID, FolderRow]:
        found: dict[UUID, FolderRow] = {}
        ids = list(espace_ids)
        for i in range(0, len(ids), 500):
            rows = conn.execute(
                sa.select(FOLDERS).where(FOLDERS.c.espace_id.in_(ids[i : i + 500]))
            )
            for r in rows:
                found[r.espace_id] = FolderRow(r.title, r.documents, r.last_document)
        return found

    @singledispatchmethod
    def apply(self, event: Any, state: FolderRow | None) -> FolderRow | None:
        """A folder's row after one of its events."""
        raise unhandled(self, event)

    @apply.register
    def _(self, event: Folder.Opened, state: FolderRow | None) -> FolderRow | None:
        return FolderRow(event.title, 0, None)

    @apply.register
    def _(self, event: Folder.Filed, state: FolderRow | None) -> FolderRow | None:
        assert state is not None
        return FolderRow(state.title, state.documents + 1, event.document)

    def rows(
        self, espace_id: UUID, state: FolderRow
    ) -> dict[sa.Table, list[dict[str, Any]]]:
        return {
            FOLDERS: [
                {
                    "espace_id": espace_id,
                    "title": state.title,
                    "documents": state.documents,
                    "last_document": state.last_document,
                }
            ]
        }


def projection_under_test() -> Projection:
    """The view being measured: swap in the real espaces view here."""
    return FolderView()


def make_events(app: Application[UUID], n: int, per_aggregate: int) -> None:
    """Write ``n`` events, ``per_aggregate`` per aggregate, 100 aggregates per save."""
    written = 0
    while written < n:
        batch: list[Folder] = []
        while len(batch) < 100 and written < n:
            folder = Folder(title=f"folder {written}")
            written += 1
            for k in range(min(per_aggregate - 1, n - written)):
                folder.file(document=f"doc {k}")
                written += 1
            batch.append(folder)
        app.save(*batch)


# ------------------------------------------------------------- machinery


class EventLog(Application[UUID]):
    name = "espace"


class ClearMapper:
    """The application's mapper, keyed per aggregate (the runner's protocol)."""

    def __init__(self, mapper: Mapper[UUID]) -> None:
        self._mapper = mapper

    def to_domain_event(self, stored_event: StoredEvent) -> object:
        return self._mapper.to_domain_event(stored_event)

    @staticmethod
    def key_id_of(stored_event: StoredEvent) -> UUID:
        assert isinstance(stored_event.originator_id, UUID)
        return stored_event.originator_id


@dataclass
class Store:
    label: str
    url: str


@contextmanager
def sqlite_store() -> Iterator[Store]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Store("SQLite file", f"sqlite:///{Path(tmp) / 'bench.db'}")


@contextmanager
def postgres_store(base_url: str) -> Iterator[Store]:
    base = base_url.split("?", maxsplit=1)[0]
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield Store("PostgreSQL", f"{base}?schema={schema}")
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def timed(fn: Callable[[], object]) -> float:
    started = perf_counter()
    fn()
    return perf_counter() - started


def copy_rows_batched(
    engine: sa.Engine, tables: Sequence[sa.Table], page_size: int
) -> tuple[float, int]:
    """The baseline: the view's final rows into identical tables, batched."""
    copies = sa.MetaData()
    pairs = [(t, t.to_metadata(copies, name=f"baseline_{t.name}")) for t in tables]
    with engine.begin() as conn:
        copies.create_all(conn)
        rows = {
            copy: [dict(r._mapping) for r in conn.execute(sa.select(src))]
            for src, copy in pairs
        }

    def insert() -> None:
        for copy, table_rows in rows.items():
            for i in range(0, len(table_rows), page_size):
                with engine.begin() as conn:
                    conn.execute(copy.insert(), table_rows[i : i + page_size])

    return timed(insert), sum(len(r) for r in rows.values())


def measure(
    store: Store, events: int, per_aggregate: int, page_size: int
) -> dict[str, float]:
    settings = parse_database_url(store.url)
    app = EventLog(env=settings.eventsourcing_env(create_tables=True))
    engine = create_engine(settings)
    tracking = ViewTrackingRecorder(engine)
    view = projection_under_test()
    runner = ProjectionRunner(
        app.recorder,
        ClearMapper(app.mapper),
        engine,
        tracking,
        [view],
        page_size=page_size,
    )
    try:
        runner.create_tables()
        t_write = timed(lambda: make_events(app, events, per_aggregate))
        t_catch_up = timed(runner.catch_up)
        t_baseline, rows = copy_rows_batched(engine, view.tables, page_size)
    finally:
        runner.close()
        app.close()
        engine.dispose()
    return {
        "write": t_write,
        "catch_up": t_catch_up,
        "baseline": t_baseline,
        "rows": rows,
    }


def report(store_factory: Callable[[], Any], args: argparse.Namespace) -> None:
    with store_factory() as store:
        batched = measure(store, args.events, args.per_aggregate, args.page_size)
    with store_factory() as store:
        per_event = measure(store, args.per_event_events, args.per_aggregate, 1)
    n, m = args.events, args.per_event_events
    catch_up = n / batched["catch_up"]
    one_per_tx = m / per_event["catch_up"]
    print(
        f"\n== {store.label}: {n} events, {args.per_aggregate} per aggregate, "
        f"pages of {args.page_size}"
    )
    print(f"  writing the log            {n / batched['write']:>10,.0f} events/s")
    print(f"  catch-up (batched runner)  {catch_up:>10,.0f} events/s  ", end="")
    print(f"{batched['catch_up']:.2f} s")
    print(
        f"  baseline (raw executemany) {batched['rows'] / batched['baseline']:>10,.0f}",
        end="",
    )
    print(
        f" rows/s    {batched['baseline']:.2f} s for {batched['rows']:,.0f} final rows"
    )
    ratio = batched["catch_up"] / batched["baseline"]
    print(f"  ratio catch-up / baseline time: {ratio:.1f}x")
    print(
        f"  reference, one transaction per event ({m} events): {one_per_tx:,.0f} "
        f"events/s, {catch_up / one_per_tx:.0f}x slower than batched"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument(
        "--per-aggregate",
        type=int,
        default=1,
        help="events per aggregate (default 1: rows = events)",
    )
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument(
        "--per-event-events",
        type=int,
        default=2000,
        help="N for the one-transaction-per-event reference",
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="also measure on this PostgreSQL database"
    )
    args = parser.parse_args()
    # The runner logs each page at debug level: keep that out of the timings.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING)
    )
    report(sqlite_store, args)
    if args.postgres:
        report(lambda: postgres_store(args.postgres), args)


if __name__ == "__main__":
    main()
