"""What an erasure frees leaves the files (SEC-4), on SQLite and PostgreSQL:
the sealed contents deleted and the view rows purged are zeroed in their
pages (SQLite's ``secure_delete``) and the WAL that still held them is
emptied; PostgreSQL vacuums the content and view tables, so their dead rows
are reclaimed."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from espace import Store
from espace.adapters.contents import contents
from espace.projections.documents import documents
from raw_store import sqlite_files
from records_world import make_record


def sealed_of(store: Store, espace_id: Any) -> list[bytes]:
    with store._infra.engine.connect() as conn:
        return [
            bytes(s)
            for (s,) in conn.execute(
                sa.select(contents.c.sealed).where(contents.c.espace_id == espace_id)
            )
        ]


def test_an_erasure_pushes_what_it_freed_out_of_the_files_sec_4(
    store: Store, store_url: str, clock: Any, people: Any, helpers: Any
) -> None:
    record = make_record(store, clock, people, helpers)
    record.deposit(content=b"bilan sanguin: ferritine 12 ng/mL " * 50)
    sealed = sealed_of(store, record.espace_id)
    assert sealed
    clock.advance(minutes=1)
    store.lifecycle.request_erasure(record.espace_id)
    clock.advance(minutes=1)

    assert store.run_deadlines()["done"] == {"erasure": 1}

    assert sealed_of(store, record.espace_id) == []
    if store_url.startswith("sqlite"):
        files = sqlite_files(store_url)
        found = [
            name for name, blob in files.items() for s in sealed if s[12:64] in blob
        ]
        assert found == []
        assert all(len(b) == 0 for n, b in files.items() if n.endswith("-wal"))
        return
    tables = [contents.name, documents.name]
    with store._infra.engine.connect() as conn:
        vacuumed: dict[str, bool] = dict(
            conn.execute(
                sa.text(
                    "SELECT relname, last_vacuum IS NOT NULL FROM pg_stat_user_tables"
                    " WHERE schemaname = :schema AND relname = ANY(:tables)"
                ),
                {"schema": store.settings.schema, "tables": tables},
            ).all()
        )
    assert vacuumed == dict.fromkeys(tables, True)
