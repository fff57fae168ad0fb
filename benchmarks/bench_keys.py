"""What ``espace keys rotate`` costs (ADR-0029), as a ratio against a
baseline measured in the same run, on SQLite and PostgreSQL.

- ``rotate``: a raw re-encrypt of the same keys (one transaction: read every
  wrapped key, unwrap and wrap it with AES-GCM, write it back with one
  executemany), against ``rotate_keys`` (batches of ``--batch`` keys, each
  its own transaction, guarded updates, the compaction at the end). Target:
  >= 0.5 (the baseline's time over the rotation's).

    .venv/bin/python benchmarks/bench_keys.py [--keys 20000] [--batch 5000]
        [--repeat 3] [--no-postgres | --no-sqlite]

Each repetition rotates to a new master key (generation 2, 3, …), after its
raw baseline re-encrypts every key under the current one. The keys are made
straight in the keystore (``ensure_keys``): espaces are not needed to
measure their keys. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common import (
    add_run_options,
    database_kinds,
    fresh_database,
    new_master_key,
    quiet_logs,
    settle,
)
from espace import init_store, rotate_keys
from espace.adapters.crypto import Keystore, Secrets, espace_keys
from espace.adapters.settings import (
    create_engine,
    keystore_settings,
    parse_database_url,
)


def keystore_engine(url: str, env: dict[str, str]) -> sa.Engine:
    """An engine on the store's keystore (beside a SQLite store)."""
    return create_engine(keystore_settings(parse_database_url(url), env))


def raw_reencrypt(engine: sa.Engine, kek: bytes) -> float:
    """Every live key unwrapped and wrapped again under ``kek``, in one
    transaction: the least a re-wrap can cost."""
    aead = AESGCM(kek)
    update = sa.text("UPDATE espace_keys SET wrapped_key = :w WHERE key_id = :k")
    start = time.perf_counter()
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(espace_keys.c.key_id, espace_keys.c.wrapped_key).where(
                espace_keys.c.wrapped_key.is_not(None)
            )
        ).all()
        params = []
        for key_id, wrapped in rows:
            wrapped = bytes(wrapped)
            key = aead.decrypt(wrapped[1:13], wrapped[13:], key_id.bytes)
            nonce = os.urandom(12)
            params.append(
                {
                    "k": key_id.hex if engine.dialect.name == "sqlite" else key_id,
                    "w": wrapped[:1] + nonce + aead.encrypt(nonce, key, key_id.bytes),
                }
            )
        conn.execute(update, params)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5000)
    add_run_options(parser)
    args = parser.parse_args()
    quiet_logs(args.logs)
    results: dict[str, float] = {}
    for kind, keys in database_kinds(args, args.keys, None):
        with fresh_database(kind, args.postgres) as url:
            key, raw_key = new_master_key()
            env = {"ESPACE_MASTER_KEY": key}
            init_store(url, simulation=True, environ=env)
            engine = keystore_engine(url, env)
            keystore = Keystore(engine, Secrets.from_master_key(raw_key))
            keystore.verify_master_key()
            keystore.ensure_keys([uuid.uuid4() for _ in range(keys)], datetime.now(UTC))
            t_raw, t_rotate = [], []
            for _ in range(args.repeat):
                settle(url)
                t_raw.append(
                    raw_reencrypt(engine, Secrets.from_master_key(raw_key).kek)
                )
                new, raw_new = new_master_key()
                settle(url)
                start = time.perf_counter()
                report = rotate_keys(
                    url,
                    environ={
                        "ESPACE_MASTER_KEY": new,
                        "ESPACE_PREVIOUS_MASTER_KEY": key,
                    },
                    batch_size=args.batch,
                )
                t_rotate.append(time.perf_counter() - start)
                if report.remaining or report.rewrapped != keys + 2:
                    raise RuntimeError(f"unexpected rotation: {report}")
                key, raw_key = new, raw_new
            engine.dispose()
        results[kind] = min(t_raw) / min(t_rotate)
        print(
            f"{kind}: {keys} keys; raw re-encrypt {min(t_raw):.2f}s, "
            f"rotate {min(t_rotate):.2f}s ({keys / min(t_rotate):,.0f} keys/s)"
        )
    print()
    figures = " ".join(f"{k}={r:.2f}" for k, r in results.items())
    print(f"RATIO keys-rotate {figures}  (target >= 0.5)")


if __name__ == "__main__":
    main()
