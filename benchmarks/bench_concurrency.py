"""Commands per second when several threads of one process share one store,
with group commit (ADR-0027) and without it, against one thread, on SQLite
and PostgreSQL.

    .venv/bin/python benchmarks/bench_concurrency.py [--espaces 1600]
        [--threads 1 4 16] [--repeat 3] [--no-postgres | --no-sqlite]

An embedding server (a web app with a thread pool) calls one ``Store`` from
many threads. Each thread here sends the notice of its share of ``--espaces``
pre-affiliated espaces (``store.lifecycle.send_notice``: load, decide, one
save each), ``sync_views=False`` so that the write path is what is timed.
Each run has a fresh database; sides are interleaved, and the best of
``--repeat`` runs of each is kept (the machines are noisy).

Ratios, all measured in the same run:

- ``group-N``: N threads with group commit, against one thread (how the
  store scales with its clients; the issue's figure without it was 0.81 for
  16 processes).
- ``gain-N``: N threads with group commit, against N threads without it.

Figures, not assertions.
"""

from __future__ import annotations

import argparse
import threading
from datetime import timedelta
from time import perf_counter
from uuid import UUID

from common import (
    add_run_options,
    affiliated,
    database_kinds,
    fresh_database,
    make_people,
    new_master_key,
    quiet_logs,
    settle,
)
from espace import Store, init_store
from espace.simulation import START, Person

NOTICE_AT = START + timedelta(hours=1)


def run(url: str, people: list[Person], threads: int, *, group_commit: bool) -> float:
    """Commands per second: ``threads`` threads sending every notice."""
    env = {"ESPACE_MASTER_KEY": new_master_key()[0]} if "postgres" in url else {}
    init_store(url, simulation=True, environ=env)
    now = [START]
    with Store.open(
        url,
        clock=lambda: now[0],
        sync_views=False,
        environ=env,
        group_commit=group_commit,
    ) as store:
        life = store.lifecycle
        ids = affiliated(store, people)
        now[0] = NOTICE_AT
        errors: list[BaseException] = []

        def work(mine: list[UUID]) -> None:
            try:
                for espace_id in mine:
                    life.send_notice(espace_id)
            except BaseException as exc:
                errors.append(exc)

        workers = [
            threading.Thread(target=work, args=(ids[n::threads],))
            for n in range(threads)
        ]
        settle(url)
        started = perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = perf_counter() - started
        if errors:
            raise RuntimeError(f"{len(errors)} commands failed: {errors[0]!r}")
    return len(ids) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--espaces", type=int, default=1600)
    parser.add_argument("--threads", type=int, nargs="+", default=[4, 16])
    add_run_options(parser)
    args = parser.parse_args()
    quiet_logs(args.logs)
    people = make_people(args.espaces, args.seed)
    ratios: dict[str, dict[str, float]] = {}
    for kind, _ in database_kinds(args, args.espaces, None):
        sides = [(1, True)] + [(n, g) for n in args.threads for g in (True, False)]
        rates: dict[tuple[int, bool], float] = {}
        for _ in range(args.repeat):
            for threads, group in sides:
                with fresh_database(kind, args.postgres) as url:
                    rate = run(url, people, threads, group_commit=group)
                rates[threads, group] = max(rates.get((threads, group), 0.0), rate)
        print(
            f"{kind}: "
            + ", ".join(
                f"{n} thread(s) {'group' if g else 'alone'} {rates[n, g]:.0f}/s"
                for n, g in sides
            )
        )
        for n in args.threads:
            ratios.setdefault(f"group-{n}", {})[kind] = rates[n, True] / rates[1, True]
            ratios.setdefault(f"gain-{n}", {})[kind] = rates[n, True] / rates[n, False]
    print()
    for name, figures in ratios.items():
        shown = " ".join(f"{k}={v:.2f}" for k, v in figures.items())
        print(f"RATIO concurrency-{name} {shown}")


if __name__ == "__main__":
    main()
