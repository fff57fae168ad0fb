"""Changing a store behind espace's back, as an attacker or a failing disk
would: the rows of the event log and of the keystore, read and written with
plain SQL. Importable as ``tamper``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace import Store


def events_table(store: Store) -> str:
    return str(store._infra.events.recorder.events_table_name)  # type: ignore[attr-defined]


def event_rows(store: Store) -> list[dict[str, Any]]:
    """Every stored event, in log order, as the database holds it."""
    table = events_table(store)
    position = (
        "rowid" if store._infra.engine.dialect.name == "sqlite" else "notification_id"
    )
    with store._infra.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT {position} AS notification_id, originator_id, "
                f"originator_version, topic, state FROM {table} ORDER BY 1"
            )
        ).mappings()
        return [
            {
                **r,
                "originator_id": UUID(str(r["originator_id"])),
                "state": bytes(r["state"]),
            }
            for r in rows
        ]


def row_of(store: Store, originator_id: UUID, version: int) -> dict[str, Any]:
    (row,) = [
        r
        for r in event_rows(store)
        if r["originator_id"] == originator_id and r["originator_version"] == version
    ]
    return row


def _where(store: Store) -> str:
    cast = (
        "CAST(:oid AS uuid)"
        if store._infra.engine.dialect.name == "postgresql"
        else ":oid"
    )
    return f"originator_id = {cast} AND originator_version = :version"


def _oid(store: Store, originator_id: UUID) -> Any:
    return (
        str(originator_id)
        if store._infra.engine.dialect.name == "postgresql"
        else originator_id.hex
    )


def set_state(store: Store, originator_id: UUID, version: int, state: bytes) -> None:
    with store._infra.engine.begin() as conn:
        conn.execute(
            sa.text(
                f"UPDATE {events_table(store)} SET state = :state WHERE {_where(store)}"
            ),
            {"state": state, "oid": _oid(store, originator_id), "version": version},
        )


def flip_byte(store: Store, originator_id: UUID, version: int, at: int = -5) -> None:
    """Change one byte of one stored event's sealed state (the ciphertext,
    not its header: the key id stays readable)."""
    state = bytearray(row_of(store, originator_id, version)["state"])
    state[at] ^= 0x01
    set_state(store, originator_id, version, bytes(state))


def delete_event(store: Store, originator_id: UUID, version: int) -> None:
    with store._infra.engine.begin() as conn:
        conn.execute(
            sa.text(f"DELETE FROM {events_table(store)} WHERE {_where(store)}"),
            {"oid": _oid(store, originator_id), "version": version},
        )


def damage_key(store: Store, key_id: UUID) -> None:
    """Change one byte of a wrapped data key in the keystore."""
    from espace.adapters.crypto import espace_keys

    with store._infra.keystore.engine.begin() as conn:
        wrapped = conn.execute(
            sa.select(espace_keys.c.wrapped_key).where(espace_keys.c.key_id == key_id)
        ).scalar_one()
        damaged = bytearray(wrapped)
        damaged[-3] ^= 0x40
        conn.execute(
            espace_keys.update()
            .where(espace_keys.c.key_id == key_id)
            .values(wrapped_key=bytes(damaged))
        )


def _position_column(store: Store) -> str:
    return (
        "rowid" if store._infra.engine.dialect.name == "sqlite" else "notification_id"
    )


def swap_states(store: Store, a: tuple[UUID, int], b: tuple[UUID, int]) -> None:
    """Exchange the sealed states of two rows."""
    first, second = row_of(store, *a)["state"], row_of(store, *b)["state"]
    set_state(store, *a, second)
    set_state(store, *b, first)


def insert_row(
    store: Store,
    *,
    at: int,
    originator_id: UUID,
    version: int,
    topic: str,
    state: bytes,
) -> None:
    """A forged row at log position ``at``: the rows from there on move up
    (their notification ids change), as a forger inserting in the middle of
    the log would have to do."""
    table, position = events_table(store), _position_column(store)
    with store._infra.engine.begin() as conn:
        conn.execute(
            sa.text(
                f"UPDATE {table} SET {position} = {position} + 1000000 "
                f"WHERE {position} >= :at"
            ),
            {"at": at},
        )
        columns = f"{position}, originator_id, originator_version, topic, state"
        conn.execute(
            sa.text(
                f"INSERT INTO {table} ({columns}) VALUES (:at, "
                + (
                    "CAST(:oid AS uuid)"
                    if store._infra.engine.dialect.name == "postgresql"
                    else ":oid"
                )
                + ", :version, :topic, :state)"
            ),
            {
                "at": at,
                "oid": _oid(store, originator_id),
                "version": version,
                "topic": topic,
                "state": state,
            },
        )


def set_tree_hash(store: Store, leaf_index: int, value: bytes) -> None:
    """Change the stored hash of one leaf of the audit tree."""
    from espace.adapters.audittree import leaves

    with store._infra.engine.begin() as conn:
        conn.execute(
            leaves.update()
            .where(leaves.c.leaf_index == leaf_index)
            .values(leaf_hash=value)
        )
