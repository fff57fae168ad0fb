"""What the benchmark scripts share: throw-away databases, quiet logs,
synthetic people, and the plain eventsourcing application they compare with.

Imported as ``common`` by the scripts beside it (``python benchmarks/X.py``).
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import random
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.application import Application
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import JSONTranscoder

from espace.adapters.logging import configure_logging
from espace.adapters.settings import parse_database_url
from espace.adapters.transcodings import register_transcodings
from espace.application import outputs, schemas
from espace.simulation import START, Person, make_person

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_database(kind: str, postgres_url: str) -> Iterator[str]:
    """A store URL on an empty database: a temp SQLite file or a new PG schema."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="espace-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    base = postgres_url.split("?", maxsplit=1)[0]
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{base}?schema={schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def settle(url: str) -> None:
    """Before a timed phase: on PostgreSQL, force a checkpoint so that one
    does not land inside the phase of one side only (less noise)."""
    if url.startswith("postgresql"):
        with psycopg.connect(url.split("?", maxsplit=1)[0], autocommit=True) as conn:
            conn.execute("CHECKPOINT")


def postgres_reachable(url: str) -> bool:
    try:
        with psycopg.connect(url.split("?", maxsplit=1)[0], connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def quiet_logs(mode: str) -> None:
    """``off``: warnings only. ``json``: the production configuration (INFO,
    JSON, redaction), written to /dev/null, to see what operator logs cost."""
    if mode == "json":
        saved = sys.stderr
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - kept for the process
        try:
            configure_logging("INFO")
        finally:
            sys.stderr = saved
    else:
        structlog.configure(
            wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING)
        )


def new_master_key() -> tuple[str, bytes]:
    """A random master key: as ESPACE_MASTER_KEY text, and raw."""
    raw = os.urandom(32)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), raw


def make_people(n: int, seed: int) -> list[Person]:
    """``n`` valid people with distinct NIRs (simulation.make_person)."""
    rng = random.Random(seed)
    today = START.date()
    people: list[Person] = []
    seen: set[str] = set()
    line = 2
    while len(people) < n:
        person = make_person(rng, line, today)
        line += 1
        if person.nir not in seen:
            seen.add(person.nir)
            people.append(person)
    return people


def affiliated(store: Any, people: list[Person]) -> list[UUID]:
    """Affiliate ``people`` through the store's feed (LC-1): their espace ids."""
    life = store.lifecycle
    report = life.affiliate_feed([(p.line, p.row) for p in people])
    if report.created != len(people):
        raise RuntimeError(f"unexpected affiliation report: {outputs.dump(report)}")
    return [life.espace_id_for(p.nir) for p in people]


class BaselineApp(Application[UUID]):
    """A plain eventsourcing Application: only the ``date`` transcoding added,
    which the events need to be stored at all (no cipher unless configured)."""

    name = "espace"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)


def baseline_env(url: str, aes: bool) -> dict[str, str]:
    """The library's own settings for a baseline on ``url``: its tables, and
    with ``aes`` its AES cipher (one key for everything)."""
    env = parse_database_url(url).eventsourcing_env(create_tables=True)
    if aes:
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = AESCipher.create_key(32)
    return env


def validate_rows(people: list[Person]) -> list[dict[str, Any]]:
    """The feed rows as the store's schema loads them (done once, untimed)."""
    return [schemas.load(schemas.AffiliationSchema, p.row) for p in people]


# ------------------------------------------------------------- ratio scripts


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options every ratio script shares: repetitions, seed, databases,
    logs, profile."""
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, metavar="URL")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--logs", choices=("off", "json"), default="off")
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of each kind"
    )


def database_kinds(
    args: argparse.Namespace, size: int, pg_size: int | None
) -> list[tuple[str, int]]:
    """The kinds of database to measure, with their sizes; an unreachable
    PostgreSQL is said and skipped."""
    kinds: list[tuple[str, int]] = []
    if not args.no_sqlite:
        kinds.append(("sqlite", size))
    if not args.no_postgres:
        if postgres_reachable(args.postgres):
            kinds.append(("postgres", pg_size or size))
        else:
            print(f"PostgreSQL unreachable at {args.postgres}: skipped")
    return kinds


def print_ratios(name: str, results: Mapping[str, Any]) -> None:
    """The ``RATIO`` lines: headline, paired, best, and the bare-save references.

    Each result has ``ratio``, ``ratio_paired``, ``ratio_best``, ``save``,
    ``aes`` and ``ratio_to(timings)``.
    """
    lines: dict[str, Callable[[Any], float]] = {
        "": lambda r: r.ratio,
        "-paired": lambda r: r.ratio_paired,
        "-best": lambda r: r.ratio_best,
        "-vs-save-alone": lambda r: r.ratio_to(r.save),
        "-vs-save-alone+aes": lambda r: r.ratio_to(r.aes),
    }
    print()
    for suffix, value in lines.items():
        figures = " ".join(f"{k}={value(r):.2f}" for k, r in results.items())
        print(f"RATIO {name}{suffix} {figures}")
