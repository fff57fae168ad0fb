"""Catch-up of the real read models on the real (encrypted) event store.

    python benchmarks/bench_views.py [--people 20000] [--postgres URL]

Affiliates N synthetic people (one sealed event each) with the views
switched off, then times a rebuild of the ``espaces`` view through the
batched runner: read the log in pages, decrypt each event with its espace's
key, fold, write rows and tracking in one transaction per page. The baseline,
measured in the same run on the same database, is a raw batched insert
(executemany, one transaction per page) of the same final rows into an
identical table. Prints the ratio catch-up events/s / baseline rows/s
(target >= 0.3; one transaction per event scores about 0.02).
"""

from __future__ import annotations

import argparse
import random
import statistics
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from time import perf_counter

import sqlalchemy as sa

from common import fresh_database, new_master_key
from espace.adapters.logging import configure_logging
from espace.api import Store, init_store
from espace.projections.espaces import espaces
from espace.simulation import make_person

KEY, _ = new_master_key()


def timed(fn: Callable[[], object]) -> float:
    started = perf_counter()
    fn()
    return perf_counter() - started


def baseline(engine: sa.Engine, page: int) -> float:
    copies = sa.MetaData()
    copy = espaces.to_metadata(copies, name=f"baseline_{uuid.uuid4().hex[:6]}")
    with engine.begin() as conn:
        copies.create_all(conn)
        rows = [dict(r._mapping) for r in conn.execute(sa.select(espaces))]

    def insert() -> None:
        for i in range(0, len(rows), page):
            with engine.begin() as conn:
                conn.execute(copy.insert(), rows[i : i + page])

    elapsed = timed(insert)
    copies.drop_all(engine)
    return elapsed


def measure(url: str, people: int, repeats: int) -> tuple[float, float, int]:
    env = {"ESPACE_MASTER_KEY": KEY}
    init_store(url, simulation=True, environ=env)
    rng = random.Random(7)
    today = datetime(2027, 1, 4, tzinfo=UTC).date()
    feed = [(i + 2, make_person(rng, i + 2, today).row) for i in range(people)]
    with Store.open(url, sync_views=False, environ=env) as store:
        store.lifecycle.affiliate_feed(feed, batch_size=1000)
        catch_ups, baselines = [], []
        for _ in range(repeats):
            catch_ups.append(timed(lambda: store.rebuild_views(["espaces"])))
            baselines.append(
                baseline(store._infra.engine, store._infra.runner.page_size)
            )
        n = store.views.espaces.counts_by_state()["affiliated"]
    return statistics.median(catch_ups), statistics.median(baselines), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")
    kinds = ["sqlite"] if args.no_postgres else ["sqlite", "postgres"]
    ratios = {}
    for label in kinds:
        with fresh_database(label, args.postgres) as url:
            catch_up, base, n = measure(url, args.people, args.repeats)
        ratio = (n / catch_up) / (n / base)
        ratios[label] = ratio
        print(
            f"{label}: {n} events; catch-up {n / catch_up:,.0f} events/s; "
            f"raw batched insert {n / base:,.0f} rows/s; ratio {ratio:.2f}"
        )
    print("RATIO views " + " ".join(f"{k}={v:.2f}" for k, v in ratios.items()))


if __name__ == "__main__":
    main()
