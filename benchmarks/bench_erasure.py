"""How fast the deadline job carries out due erasures (LC-9, SEC-4), as a
ratio against baselines measured in the same run, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_erasure.py [--espaces 10000]
        [--repeat 1] [--no-postgres | --no-sqlite]

Setup (untimed but for the baseline): ``--espaces`` people are affiliated
(LC-1), sent their notice one command each, opened at the end of their
window by a first deadline run (LC-4), then ask for express erasure one by
one (LC-9): an erasure is due as soon as it is requested. The store is a
simulation store whose clock the script moves (``Store.open(clock=...)``),
views caught up before each timed phase.

Timed:

- ``sweep``: one ``store.run_deadlines()`` erasing them all. The job
  (``DeadlineService.run_due``, src/espace/application/deadlines.py) reads
  the due rows of the deadlines view 500 at a time, carries each one out
  with its own command (``lifecycle.erase``: the ``Erased`` event and the
  erasure record saved together, the key shredded in the keystore, the
  sealed contents deleted, the record completed: three transactions at the
  least), catches the views up after each batch, and compacts the keystore
  once at the end (SQLite: WAL checkpoint; PostgreSQL: ``VACUUM``).
- baseline ``notice``: the same number of ``send_notice`` commands (one
  load-decide-save each, views not caught up), timed during the setup of the
  same store: the cost of one plain command.
- baseline ``shred``: the same number of bare ``Keystore.shred`` calls on
  keys made for the purpose, after the sweep: the one step of an erasure
  that cannot be batched away.

``RATIO erasure-vs-notice`` is erasures per second over notices per second
(1.0: an erasure costs one plain command); ``RATIO erasure-vs-shred`` the
same against bare shreds. After the sweep the script checks that every
espace is erased and every key shredded, and fails loudly otherwise.
With ``--profile``, a cProfile of each kind's sweep is printed. Figures,
not assertions.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

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


class Clock:
    """The simulation store's clock, moved by the script."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def check(what: str, got: Any, expected: Any) -> None:
    """A benchmark that silently did less must fail."""
    if got != expected:
        raise RuntimeError(f"{what}: {got!r}, expected {expected!r}")


def run(
    url: str, people: list[Person], profiler: cProfile.Profile | None = None
) -> dict[str, float]:
    """The rates (per second) of the sweep and of both baselines; with
    ``profiler``, the sweep is profiled."""
    n = len(people)
    env = {"ESPACE_MASTER_KEY": new_master_key()[0]} if "postgres" in url else {}
    init_store(url, simulation=True, environ=env)
    clock = Clock(START)
    with Store.open(url, clock=clock, sync_views=False, environ=env) as store:
        life = store.lifecycle
        ids = affiliated(store, people)
        clock.advance(hours=1)
        settle(url)
        start = time.perf_counter()
        for espace_id in ids:
            life.send_notice(espace_id)
        notice = time.perf_counter() - start

        clock.advance(days=43)  # the windows are over (LC-2)
        check("openings", store.run_deadlines()["done"], {"opening": n})
        for espace_id in ids:
            life.request_erasure(espace_id)
        clock.advance(minutes=1)
        store.sync()
        check("erasures due", store.stats()["deadlines"]["erasure"]["due"], n)

        settle(url)
        if profiler is not None:
            profiler.enable()
        start = time.perf_counter()
        report = store.run_deadlines()
        sweep = time.perf_counter() - start
        if profiler is not None:
            profiler.disable()

        check("sweep report", (report["done"], report["failed"]), ({"erasure": n}, []))
        store.sync()
        check("shredded keys", store.keys_status()["shredded_keys"], n)
        check("erased espaces", store.stats()["states"].get("erased"), n)
        check("erasures still due", store.stats()["deadlines"].get("erasure"), None)

        keystore = store._infra.keystore
        spare = [uuid.uuid4() for _ in range(n)]
        keystore.ensure_keys(spare, clock.now)
        settle(url)
        start = time.perf_counter()
        for key_id in spare:
            keystore.shred(key_id, clock.now)
        shred = time.perf_counter() - start
        check(
            "shredded keys after the baseline",
            keystore.status()["shredded_keys"],
            2 * n,
        )
    return {"sweep": n / sweep, "notice": n / notice, "shred": n / shred}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--espaces", type=int, default=10_000)
    add_run_options(parser)
    parser.set_defaults(repeat=1)
    args = parser.parse_args()
    quiet_logs(args.logs)
    people = make_people(args.espaces, args.seed)
    ratios: dict[str, dict[str, float]] = {"vs-notice": {}, "vs-shred": {}}
    for kind, _ in database_kinds(args, args.espaces, None):
        best: dict[str, float] = {}
        profiler = cProfile.Profile() if args.profile else None
        for _ in range(args.repeat):
            with fresh_database(kind, args.postgres) as url:
                rates = run(url, people, profiler)
            best = {k: max(best.get(k, 0.0), v) for k, v in rates.items()}
        if profiler is not None:
            print(f"--- {kind}: the sweep, by own time")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        print(
            f"{kind}: {args.espaces} espaces; sweep {best['sweep']:,.0f} erasures/s "
            f"({args.espaces / best['sweep']:.1f}s); baselines: send_notice "
            f"{best['notice']:,.0f} commands/s, Keystore.shred {best['shred']:,.0f}/s"
        )
        ratios["vs-notice"][kind] = best["sweep"] / best["notice"]
        ratios["vs-shred"][kind] = best["sweep"] / best["shred"]
    print()
    for name, figures in ratios.items():
        shown = " ".join(f"{k}={v:.2f}" for k, v in figures.items())
        print(f"RATIO erasure-{name} {shown}")


if __name__ == "__main__":
    main()
