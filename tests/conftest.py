"""Shared fixtures: a real SQLite file and a real PostgreSQL schema per test.

PostgreSQL tests run against ``ESPACE_TEST_POSTGRES_URL`` (default: the local
server every machine runs). When it cannot be reached they are skipped on a
developer's machine, and fail in CI (``CI=true``) or when
``ESPACE_REQUIRE_POSTGRES=1``: CI never skips them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get(
    "ESPACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("CI", "").lower() in ("1", "true", "yes") or (
    os.environ.get("ESPACE_REQUIRE_POSTGRES") == "1"
)


def _pg_connect() -> object:
    import psycopg

    return psycopg.connect(PG_URL.split("?")[0], autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        conn = _pg_connect()
    except Exception as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required here but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable ({exc}); set CI=true to make this fail")
    conn.close()  # type: ignore[attr-defined]
    return True


@pytest.fixture
def pg_url(postgres_available: bool) -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = _pg_connect()
    conn.execute(f'CREATE SCHEMA "{schema}"')  # type: ignore[attr-defined]
    try:
        yield f"{PG_URL.split('?')[0]}?schema={schema}"
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'espace.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'espace.db'}"
    return str(request.getfixturevalue("pg_url"))
