"""Master-key rotation (ADR-0029): every live key of an older generation
re-wrapped under the configured master key, a batch a transaction, each
row replaced in place under a guard, so that a crash loses nothing and a
second run goes on; the data keys themselves do not change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from espace.adapters.crypto.keystore import Keystore, wrap_under
from espace.adapters.crypto.keytables import espace_keys


@dataclass(frozen=True)
class RotationReport:
    """What ``espace keys rotate`` did (ADR-0029): the generation every live
    key is now wrapped under, how many it re-wrapped, and how many are
    still under an older one (0 once it is done)."""

    generation: int
    rewrapped: int
    remaining: int
    began: bool
    """Whether this run registered the new generation."""


def rotate(
    keystore: Keystore,
    *,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> RotationReport:
    """Re-wrap every live key of an older generation under the master key
    (ADR-0029), ``batch_size`` keys a transaction, in key order. Each row
    is replaced in place, and only if it still holds a key of the
    generation read (a key shredded meanwhile stays shredded; only a
    rotation rewrites a key, and it changes the generation), so a crash
    loses nothing and a
    run again goes on where it stopped. The data keys do not change:
    readers go on, with both master keys configured. Passes again while
    keys made meanwhile under the old generation remain (a process that
    has not seen the rotation yet), then pushes the old wrapped bytes out
    of the files (:meth:`compact`)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    began = keystore.begin_rotation()
    keystore.verify_master_key()
    generation, kek = keystore.wrapping()
    rewrapped = 0
    for _ in range(3):
        done = _rotate_pass(keystore, generation, kek, batch_size, progress)
        rewrapped += done
        if not done:
            break
    keystore.compact()
    return RotationReport(
        generation=generation,
        rewrapped=rewrapped,
        remaining=_older_than(keystore.engine, generation),
        began=began,
    )


def _rotate_pass(
    keystore: Keystore,
    generation: int,
    kek: AESGCM,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> int:
    done = 0
    after: UUID | None = None
    update = (
        espace_keys.update()
        .where(espace_keys.c.key_id == sa.bindparam("b_key"))
        .where(espace_keys.c.generation == sa.bindparam("b_from"))
        .where(espace_keys.c.wrapped_key.is_not(None))
        .values(wrapped_key=sa.bindparam("b_new"), generation=generation)
    )
    while True:
        query = (
            sa.select(
                espace_keys.c.key_id,
                espace_keys.c.wrapped_key,
                espace_keys.c.generation,
            )
            .where(espace_keys.c.wrapped_key.is_not(None))
            .where(espace_keys.c.generation != generation)
            .order_by(espace_keys.c.key_id)
            .limit(batch_size)
        )
        if after is not None:
            query = query.where(espace_keys.c.key_id > after)
        with keystore.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA secure_delete=ON")
            rows = conn.execute(query).all()
            if not rows:
                return done
            conn.execute(
                update,
                [
                    {
                        "b_key": r.key_id,
                        "b_from": r.generation,
                        "b_new": wrap_under(
                            kek,
                            r.key_id,
                            keystore.unwrap(r.key_id, r.wrapped_key, r.generation),
                        ),
                    }
                    for r in rows
                ],
            )
        after = rows[-1].key_id
        done += len(rows)
        if progress is not None:
            progress(len(rows))


def _older_than(engine: sa.Engine, generation: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(espace_keys)
                .where(espace_keys.c.wrapped_key.is_not(None))
                .where(espace_keys.c.generation < generation)
            ).scalar_one()
        )
