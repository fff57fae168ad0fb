"""What the audit log costs, as ratios against baselines measured in the same
run (ADR-0021, ADR-0022), on SQLite and PostgreSQL.

- ``catch-up``: rebuilding every view with the Merkle tree, against the same
  rebuild without it (target >= 0.8).
- ``verify``: ``audit verify`` against a raw read of the same rows plus the
  SHA-256 of their bytes (target >= 0.3).
- ``replay``: the as-of history of one espace of ``--events`` events against
  reading and decrypting the same rows raw (target <= 3, a cost ratio).
- ``proof``: an inclusion proof in a tree of ``--leaves`` leaves against one in
  a tree of 1,000 (target <= 2, a cost ratio).

    .venv/bin/python benchmarks/bench_audit.py [--people 5000] [--events 10000]
        [--leaves 1000000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import Notification

from common import (
    add_run_options,
    database_kinds,
    fresh_database,
    make_people,
    new_master_key,
    quiet_logs,
    settle,
)
from espace import Store, init_store
from espace.adapters.auditevents import events_table
from espace.adapters.audittree import (
    AUDIT_METADATA,
    AuditTree,
    leaves,
    nodes,
)
from espace.adapters.notes import Signer
from espace.adapters.settings import create_engine, parse_database_url
from espace.domain import merkle
from espace.domain.trace import AccessTrace, TraceFacts
from espace.simulation import START

PHYSICIAN = "810001045367"


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def best(samples: list[float]) -> float:
    return min(samples)


def store_env(url: str) -> dict[str, str]:
    env = {"ESPACE_AUDIT_KEY": Signer.generate("bench/audit").key}
    if url.startswith("postgresql"):
        env["ESPACE_MASTER_KEY"] = new_master_key()[0]
    return env


def filled(url: str, env: dict[str, str], people: int, seed: int) -> Store:
    init_store(url, simulation=True, environ=env)
    now = [START]
    store = Store.open(url, clock=lambda: now[0], environ=env, sync_views=False)
    rows = [(i + 2, p.row) for i, p in enumerate(make_people(people, seed))]
    store.lifecycle.affiliate_feed(rows)
    ids = [store.lifecycle.espace_id_for(p["nir"]) for _, p in rows]
    now[0] = START + timedelta(hours=1)
    for _ in store.lifecycle.send_notices(ids):
        pass
    store.sync()
    return store


def catch_up(store: Store, repeat: int) -> tuple[float, float]:
    names = [v.name for v in store.view_status()]
    without = [n for n in names if n != "audit_tree"]
    t_with, t_without = [], []
    for _ in range(repeat):
        settle(store.settings.url)
        t_without.append(timed(lambda: store.rebuild_views(without)))
        settle(store.settings.url)
        t_with.append(timed(lambda: store.rebuild_views(names)))
    return best(t_without), best(t_with)


def verify(store: Store, repeat: int) -> tuple[float, float]:
    table = store._infra.events.recorder.events_table_name  # type: ignore[attr-defined]

    def raw() -> None:
        with store._infra.engine.connect() as conn:
            for (state,) in conn.execute(sa.text(f"SELECT state FROM {table}")):
                hashlib.sha256(bytes(state)).digest()

    store.audit.checkpoint()
    t_raw, t_verify = [], []
    for _ in range(repeat):
        t_raw.append(timed(raw))
        t_verify.append(timed(lambda: store.audit.verify()))
    return best(t_raw), best(t_verify)


def replay(store: Store, events: int, repeat: int) -> tuple[float, float]:
    espace_id = store.views.espaces.ids_in_state("notified", limit=1)[0]
    at = START + timedelta(hours=2)
    for start in range(0, events, 500):
        traces = [
            AccessTrace.record(
                trace_id=uuid.uuid4(),
                at=at + timedelta(seconds=start + i),
                facts=TraceFacts(
                    espace_id=espace_id,
                    actor_kind="professional",
                    actor_id=PHYSICIAN,
                    actor_profession="physician",
                    action="read",
                    mode="care",
                    allowed=False,
                    rule="LC-4",
                    reason="there is no open record (espace notified)",
                ),
            )
            for i in range(min(500, events - start))
        ]
        store._infra.events.save(*traces)
    store.sync()
    rows = store._infra.audit_log.tree.leaves(espace_id=espace_id)
    ids = [int(r["notification_id"]) for r in rows]
    table = store._infra.events.recorder.events_table_name  # type: ignore[attr-defined]
    mapper: Any = store._infra.events.mapper

    stored, position = events_table(store._infra.engine, table)

    def raw() -> None:
        with store._infra.engine.connect() as conn:
            for start in range(0, len(ids), 400):
                query = sa.select(stored).where(
                    stored.c[position].in_(ids[start : start + 400])
                )
                for nid, originator, version, topic, state in conn.execute(query):
                    mapper.open_state(
                        Notification(
                            id=nid,
                            originator_id=UUID(str(originator)),
                            originator_version=version,
                            topic=topic,
                            state=bytes(state),
                        )
                    )

    t_raw, t_replay = [], []
    for _ in range(repeat):
        store._infra.keystore._cache.clear()  # both sides unwrap the key once
        t_raw.append(timed(raw))
        store._infra.keystore._cache.clear()
        t_replay.append(timed(lambda: store.audit.history(espace_id, auditor="bench")))
    return best(t_raw), best(t_replay)


def proofs(kind: str, postgres: str, leaves_n: int) -> tuple[float, float]:
    """Inclusion proofs in a small and a large tree, written straight into the
    audit tables of a throw-away database (synthetic leaves)."""
    with fresh_database(kind, postgres) as url:
        settings = parse_database_url(url)
        if settings.kind == "postgresql":
            from espace.adapters.schema import _create_pg_schema

            _create_pg_schema(settings)
        engine = create_engine(settings)
        AUDIT_METADATA.create_all(engine)
        frontier: list[tuple[merkle.Node, bytes]] = []
        leaf_rows, node_rows = [], []
        with engine.begin() as conn:
            for i in range(leaves_n):
                h = hashlib.sha256(i.to_bytes(8, "big")).digest()
                leaf_rows.append(
                    {
                        "leaf_index": i,
                        "notification_id": i + 1,
                        "espace_id": None,
                        "originator_id": uuid.UUID(int=i + 1),
                        "originator_version": 1,
                        "leaf": b"",
                        "leaf_hash": h,
                    }
                )
                node_rows += [
                    {"level": lv, "node_index": ix, "hash": v}
                    for (lv, ix), v in merkle.append(frontier, i, h)
                ]
                if len(leaf_rows) >= 20_000:
                    conn.execute(leaves.insert(), leaf_rows)
                    conn.execute(nodes.insert(), node_rows)
                    leaf_rows, node_rows = [], []
            if leaf_rows:
                conn.execute(leaves.insert(), leaf_rows)
            if node_rows:
                conn.execute(nodes.insert(), node_rows)
        tree = AuditTree(engine)
        rng = random.Random(7)

        def sample(size: int) -> float:
            picks = [rng.randrange(size) for _ in range(300)]
            times = [timed(partial(tree.inclusion_proof, i, size)) for i in picks]
            return statistics.median(times)

        sample(1000)
        small, large = sample(1000), sample(leaves_n)
        engine.dispose()
        return small, large


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    add_run_options(parser)
    args = parser.parse_args()
    quiet_logs(args.logs)
    results: dict[str, dict[str, float]] = {}
    for kind, people in database_kinds(args, args.people, None):
        with fresh_database(kind, args.postgres) as url:
            env = store_env(url)
            store = filled(url, env, people, args.seed)
            try:
                head = store._infra.events.recorder.max_notification_id()
                without, with_tree = catch_up(store, args.repeat)
                raw_read, verified = verify(store, args.repeat)
                raw_decrypt, replayed = replay(store, args.events, args.repeat)
            finally:
                store.close()
        small, large = proofs(kind, args.postgres, args.leaves)
        results[kind] = {
            "catch-up": without / with_tree,
            "verify": raw_read / verified,
            "replay": replayed / raw_decrypt,
            "proof": large / small,
        }
        print(
            f"{kind}: {head} events; rebuild {without:.2f}s without the tree, "
            f"{with_tree:.2f}s with it; raw read+sha256 {raw_read:.2f}s, verify "
            f"{verified:.2f}s; replay of {args.events} events {replayed:.2f}s, raw "
            f"read+decrypt {raw_decrypt:.2f}s; proof at 1000 {small * 1e3:.2f}ms, "
            f"at {args.leaves} {large * 1e3:.2f}ms"
        )
    print()
    targets = {
        "catch-up": ">= 0.8",
        "verify": ">= 0.3",
        "replay": "<= 3 (cost)",
        "proof": "<= 2 (cost)",
    }
    for name, target in targets.items():
        figures = " ".join(f"{k}={r[name]:.2f}" for k, r in results.items())
        print(f"RATIO audit-{name} {figures}  (target {target})")


if __name__ == "__main__":
    main()
