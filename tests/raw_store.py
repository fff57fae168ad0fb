"""What a store holds, read underneath espace and its libraries (SEC-1, SEC-4).

Importable as ``raw_store`` (``pythonpath = ["tests"]`` in pyproject.toml).
Scans for data that must never be stored in clear use these, so that every
scan sees the same bytes: on SQLite the files as a backup copies them (the
database, its WAL and journals) and every cell; on PostgreSQL every cell of
every table of the store's schema. And which rows of the views (and of
the content store) still name an espace (``rows_naming``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import psycopg
import sqlalchemy as sa
from psycopg import sql

from espace import Store
from espace.adapters.contents import contents as contents_table
from espace.adapters.settings import keystore_settings, parse_database_url
from espace.projections.base import VIEWS


def sqlite_files(url: str) -> dict[str, bytes]:
    """The database file, its keystore beside it (ADR-0028) and their
    companions, by file name: what backups of a SQLite store copy."""
    path = Path(urlsplit(url).path[1:])
    keystore = keystore_settings(parse_database_url(url), {}).sqlite_path
    assert keystore is not None
    files = {
        f"{base.name}{suffix}": Path(f"{base}{suffix}").read_bytes()
        for base in (path, keystore)
        for suffix in ("", "-wal", "-shm", "-journal")
        if Path(f"{base}{suffix}").exists()
    }
    assert path.name in files, f"no SQLite file at {path}"
    return files


def _add_cells(
    cells: dict[str, bytes], table: str, names: list[str], records: Iterable[Any]
) -> None:
    for n, record in enumerate(records):
        for name, value in zip(names, record, strict=True):
            if isinstance(value, bytes | bytearray | memoryview):
                cells[f"{table}[{n}].{name}"] = bytes(value)
            elif value is not None:
                cells[f"{table}[{n}].{name}"] = str(value).encode("utf-8")


def sqlite_cells(url: str) -> dict[str, bytes]:
    """Every non-NULL cell of every table, through the sqlite3 module alone
    (a value spread over overflow pages is whole here)."""
    cells: dict[str, bytes] = {}
    with sqlite3.connect(urlsplit(url).path[1:]) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'"
            )
        ]
        assert tables, "no table in the store"
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            _add_cells(cells, table, [d[0] for d in cursor.description], cursor)
    return cells


def postgres_cells(url: str) -> dict[str, bytes]:
    """Every non-NULL cell of every table in the store's schema."""
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    cells: dict[str, bytes] = {}
    with psycopg.connect(url.split("?", maxsplit=1)[0], autocommit=True) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s",
                (schema,),
            )
        ]
        assert tables, "no table in the store"
        for table in tables:
            cursor = conn.execute(
                sql.SQL("SELECT * FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
            names = [d.name for d in cursor.description or []]
            _add_cells(cells, table, names, cursor)
    return cells


def cells(url: str) -> dict[str, bytes]:
    """Every non-NULL cell of the store's tables, on either database."""
    return sqlite_cells(url) if url.startswith("sqlite") else postgres_cells(url)


def raw_store(url: str) -> dict[str, bytes]:
    """Everything the store holds, by where it was found: the cells, and on
    SQLite the files too (a freed value may linger in the WAL)."""
    if url.startswith("sqlite"):
        return {**sqlite_files(url), **sqlite_cells(url)}
    return postgres_cells(url)


def rows_naming(store: Store, espace_id: UUID) -> dict[str, int]:
    """How many rows of each view (and of the content store) name the espace."""
    found: dict[str, int] = {}
    with store._infra.engine.connect() as conn:
        for table in [*VIEWS.sorted_tables, contents_table]:
            if "espace_id" not in table.c:
                continue
            n = conn.execute(
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.espace_id == espace_id)
            ).scalar_one()
            if n:
                found[table.name] = n
    return found


def leaks(haystacks: dict[str, bytes], needles: dict[str, bytes]) -> list[str]:
    """Each needle found in a haystack, as it is or in any letter case."""
    return [
        f"{what} in {where}"
        for where, blob in haystacks.items()
        for what, needle in needles.items()
        if needle in blob or needle.lower() in blob.lower()
    ]
