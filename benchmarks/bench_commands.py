"""Single commands per second through ``store.lifecycle``, against the library.

    python benchmarks/bench_commands.py [--espaces 500] [--pg-espaces N]
        [--repeat 3] [--postgres URL | --no-postgres | --no-sqlite]
        [--logs off|json] [--with-sync] [--profile]

What is measured, per database kind (a SQLite file in a temporary directory,
and PostgreSQL in a fresh schema that the script creates and drops):

* **espace**: ``store.lifecycle.send_notice`` then ``store.lifecycle.oppose``
  on N pre-affiliated espaces, one command (load, decide, one ``save()``) at a
  time, ``sync_views=False`` so that only the write path is timed. Each
  command loads its espace (decrypting its events), runs the rule, generates a
  code or a receipt, seals the new event under the espace's key and saves it.
* **library** (the baseline of the headline ratio, ADR-0015): the same
  commands done with the library's means, on a plain ``Application`` with
  its own fresh database of the same kind and the library's AES cipher (one
  key for everything): ``repository.get()``, the same input schema, a fresh
  code and its digest (or a receipt), the domain method, ``save()``. The
  ratio is what espace's own command path (per-espace keys, sealing with
  associated data, logging with bound ids) costs against the library's.
* **save**, for reference: eventsourcing's ``Application.save()`` alone of
  the same events (``NoticeSent`` then ``OppositionDeclared``), one event
  per ``save()``, aggregates decided before the clock starts: the issue's
  literal baseline, which does no loading, no deciding and no encryption
  (ADR-0015 explains why 0.7 against it is out of reach for a command that
  must load its aggregate).
* **save+aes**, for reference: the same, with the library's own cipher.
* with ``--with-sync``, **espace with sync_views=True** (the API's default:
  every view caught up after each command, ADR-0009), for reference.

Each side runs ``--repeat`` times on a fresh database (interleaved, so drift
hits every side alike; on PostgreSQL a CHECKPOINT precedes each timed phase)
and the median is reported. Ratio = espace commands/s divided by library
commands/s (target >= 0.7); the paired ratio (median of per-run ratios) and the
best-run ratio are printed too, because the machines are noisy. ``--profile``
adds a cProfile of the espace side (top 15 by cumulative time). Figures, not
assertions.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import perf_counter
from typing import Any

from common import (
    DEFAULT_POSTGRES,
    BaselineApp,
    add_run_options,
    affiliated,
    baseline_env,
    database_kinds,
    fresh_database,
    make_people,
    new_master_key,
    print_ratios,
    quiet_logs,
    settle,
    validate_rows,
)
from espace.adapters.crypto import Secrets
from espace.api import Store, init_store
from espace.application import schemas
from espace.application.security import (
    Hashing,
    new_activation_code,
    new_receipt,
    new_salt,
)
from espace.domain.espace import EspaceSante
from espace.simulation import START, Person

TARGET = 0.7
SAVE_BATCH = 500

# ------------------------------------------------------------- plumbing


def hashing_for(raw_master_key: bytes) -> Hashing:
    """The store's keyed hashes, derived as the store derives them."""
    secrets = Secrets.from_master_key(raw_master_key)
    return Hashing(id_key=secrets.id_key, pepper=secrets.pepper)


def build_espaces(
    rows: list[dict[str, Any]], hashing: Hashing, at: datetime
) -> list[EspaceSante]:
    """The same aggregates the store creates from these rows (LC-1)."""
    espaces = []
    for data in rows:
        espaces.append(
            EspaceSante.affiliate(
                espace_id=hashing.espace_id(data["ins"].nir, data["ins"].oid),
                ins=data["ins"],
                vitale_digest=hashing.vitale_digest(data["vitale_serial"]),
                at=at,
                email=data["email"],
                postal_address=data["postal_address"],
                representative=data["representative"],
                legacy_dmp_ref=data["legacy_dmp_ref"],
            )
        )
    return espaces


@dataclass
class Timing:
    """Seconds for each phase of one run (N commands per phase)."""

    send_notice: float
    oppose: float

    @property
    def total(self) -> float:
        return self.send_notice + self.oppose


# ------------------------------------------------------------- the sides

NOTICE_AT = START + timedelta(hours=1)
OPPOSE_AT = START + timedelta(days=3)


def run_espace(
    url: str,
    people: list[Person],
    environ: dict[str, str],
    profiler: cProfile.Profile | None = None,
    *,
    sync_views: bool = False,
) -> Timing:
    """send_notice then oppose, one command per save, through store.lifecycle.

    ``sync_views=True`` (the API's default) also catches every view up after
    each command: a reference for what read-after-write costs (ADR-0009).
    """
    init_store(url, simulation=True, environ=environ)
    now = [START]
    with Store.open(
        url, clock=lambda: now[0], sync_views=sync_views, environ=environ
    ) as store:
        life = store.lifecycle
        ids = affiliated(store, people)
        if profiler is not None:
            profiler.enable()
        settle(url)
        now[0] = NOTICE_AT
        started = perf_counter()
        for espace_id in ids:
            life.send_notice(espace_id)
        noticed = perf_counter()
        now[0] = OPPOSE_AT
        for espace_id in ids:
            life.oppose(espace_id, {"channel": "web"})
        done = perf_counter()
        if profiler is not None:
            profiler.disable()
    return Timing(noticed - started, done - noticed)


def run_baseline(
    url: str, rows: list[dict[str, Any]], hashing: Hashing, *, aes: bool
) -> Timing:
    """The library's save() of the same events, one per save, pre-built."""
    app = BaselineApp(env=baseline_env(url, aes))
    try:
        espaces = build_espaces(rows, hashing, START)
        for i in range(0, len(espaces), SAVE_BATCH):
            app.save(*espaces[i : i + SAVE_BATCH])
        for e in espaces:
            salt = new_salt()
            e.send_notice(
                at=NOTICE_AT,
                code_digest=hashing.code_digest(new_activation_code(), salt),
                code_salt=salt,
            )
        settle(url)
        started = perf_counter()
        for e in espaces:
            app.save(e)
        noticed = perf_counter()
        for e in espaces:
            e.declare_opposition(at=OPPOSE_AT, channel="web", receipt=new_receipt())
        paused = perf_counter()
        for e in espaces:
            app.save(e)
        done = perf_counter()
    finally:
        app.close()
    return Timing(noticed - started, done - paused)


def run_library_commands(
    url: str, rows: list[dict[str, Any]], hashing: Hashing
) -> Timing:
    """The same commands with the library's means: ``repository.get()``, the
    same input schema, a fresh code and digest (or receipt), the domain
    method, ``save()``, with the library's AES cipher."""
    app = BaselineApp(env=baseline_env(url, aes=True))
    try:
        espaces = build_espaces(rows, hashing, START)
        for i in range(0, len(espaces), SAVE_BATCH):
            app.save(*espaces[i : i + SAVE_BATCH])
        ids = [e.id for e in espaces]
        settle(url)
        started = perf_counter()
        for espace_id in ids:
            e: EspaceSante = app.repository.get(espace_id)
            salt = new_salt()
            e.send_notice(
                at=NOTICE_AT,
                code_digest=hashing.code_digest(new_activation_code(), salt),
                code_salt=salt,
            )
            app.save(e)
        noticed = perf_counter()
        for espace_id in ids:
            e = app.repository.get(espace_id)
            data = schemas.load(schemas.OppositionSchema, {"channel": "web"})
            e.declare_opposition(
                at=OPPOSE_AT, channel=data["channel"], receipt=new_receipt()
            )
            app.save(e)
        done = perf_counter()
    finally:
        app.close()
    return Timing(noticed - started, done - noticed)


# ------------------------------------------------------------- measurement


@dataclass
class KindResult:
    kind: str
    commands: int
    espace: list[Timing]
    library: list[Timing]
    save: list[Timing]
    aes: list[Timing]
    synced: list[Timing] = field(default_factory=list)

    def rate(self, timings: list[Timing], phase: str = "total") -> float:
        n = self.commands if phase == "total" else self.commands // 2
        return float(statistics.median(n / getattr(t, phase) for t in timings))

    def ratio_to(self, timings: list[Timing]) -> float:
        return self.rate(self.espace) / self.rate(timings)

    @property
    def ratio(self) -> float:
        """Median espace rate over median library rate (the headline)."""
        return self.ratio_to(self.library)

    @property
    def ratio_paired(self) -> float:
        """Median of the per-repetition ratios (adjacent runs: drift cancels)."""
        return statistics.median(
            b.total / e.total for e, b in zip(self.espace, self.library, strict=True)
        )

    @property
    def ratio_best(self) -> float:
        """Best espace run over best library run (least disturbed by noise)."""
        return min(t.total for t in self.library) / min(t.total for t in self.espace)


def measure(
    kind: str,
    *,
    espaces: int,
    repeat: int,
    postgres_url: str = DEFAULT_POSTGRES,
    seed: int = 42,
    with_sync: bool = False,
) -> KindResult:
    """Run every side ``repeat`` times on fresh databases; keep all timings."""
    people = make_people(espaces, seed)
    master_key, raw = new_master_key()
    environ = {"ESPACE_MASTER_KEY": master_key}
    hashing = hashing_for(raw)
    rows = validate_rows(people)
    result = KindResult(kind, 2 * len(people), [], [], [], [])
    for _ in range(repeat):
        with fresh_database(kind, postgres_url) as url:
            result.espace.append(run_espace(url, people, environ))
        with fresh_database(kind, postgres_url) as url:
            result.library.append(run_library_commands(url, rows, hashing))
        with fresh_database(kind, postgres_url) as url:
            result.save.append(run_baseline(url, rows, hashing, aes=False))
        with fresh_database(kind, postgres_url) as url:
            result.aes.append(run_baseline(url, rows, hashing, aes=True))
        if with_sync:
            with fresh_database(kind, postgres_url) as url:
                result.synced.append(run_espace(url, people, environ, sync_views=True))
    return result


def profile(kind: str, *, espaces: int, postgres_url: str, top: int = 15) -> None:
    """cProfile of the espace side's timed loop, top functions by cumtime."""
    people = make_people(espaces, seed=7)
    environ = {"ESPACE_MASTER_KEY": new_master_key()[0]}
    profiler = cProfile.Profile()
    with fresh_database(kind, postgres_url) as url:
        run_espace(url, people, environ, profiler)
    print(f"\n-- profile, {kind}: {2 * espaces} commands, top {top} by cumtime")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def print_result(r: KindResult) -> None:
    print(f"\n== {r.kind}: {r.commands} commands (median of {len(r.espace)} runs)")
    rows: list[tuple[str, str, list[Timing]]] = [
        ("espace", "espace store.lifecycle", r.espace),
        ("library", "library get+decide+save", r.library),
        ("save", "save() alone", r.save),
        ("save+aes", "save() alone + AES", r.aes),
    ]
    if r.synced:
        rows.append(("synced", "espace, sync_views=True", r.synced))
    print(f"  {'':26}{'total/s':>10}{'notice/s':>10}{'oppose/s':>10}")
    for _short, label, timings in rows:
        print(
            f"  {label:26}{r.rate(timings):>10,.0f}"
            f"{r.rate(timings, 'send_notice'):>10,.0f}"
            f"{r.rate(timings, 'oppose'):>10,.0f}"
        )
    spread = ", ".join(
        f"{short} {min(n):,.0f}-{max(n):,.0f}"
        for short, _label, timings in rows
        for n in [[r.commands / t.total for t in timings]]
    )
    print(f"  spread (min-max total/s): {spread}")
    verdict = "ok" if r.ratio >= TARGET else f"MISSED (target {TARGET})"
    print(f"  ratio vs library commands:  {r.ratio:.2f}  {verdict}")
    print(
        f"  same, paired per run:       {r.ratio_paired:.2f}; "
        f"best run vs best run: {r.ratio_best:.2f}"
    )
    print(f"  ratio vs save() alone:      {r.ratio_to(r.save):.2f}  (reference)")
    print(f"  ratio vs save() alone+AES:  {r.ratio_to(r.aes):.2f}  (reference)")


def main(argv: list[str] | None = None) -> dict[str, KindResult]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--espaces", type=int, default=500, help="espaces (2 commands each)"
    )
    parser.add_argument(
        "--pg-espaces", type=int, default=None, help="espaces on PostgreSQL"
    )
    add_run_options(parser)
    parser.add_argument(
        "--with-sync",
        action="store_true",
        help="also time the API default, sync_views=True (views caught up "
        "after each command)",
    )
    args = parser.parse_args(argv)
    quiet_logs(args.logs)

    results: dict[str, KindResult] = {}
    for kind, n in database_kinds(args, args.espaces, args.pg_espaces):
        results[kind] = measure(
            kind,
            espaces=n,
            repeat=args.repeat,
            postgres_url=args.postgres,
            seed=args.seed,
            with_sync=args.with_sync,
        )
        print_result(results[kind])
        if args.profile:
            profile(kind, espaces=n, postgres_url=args.postgres)
    print_ratios("commands", results)
    return results


if __name__ == "__main__":
    main()
