"""A throw-away PostgreSQL schema for unittest cases (the library's contract
cases cannot take pytest fixtures), made the way ``conftest.py`` makes its
own, with the same rule: skipped on a developer's machine when the server is
down, failing in CI.
"""

from __future__ import annotations

import os
import unittest
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG_URL = os.environ.get(
    "ESPACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("CI", "").lower() in ("1", "true", "yes") or (
    os.environ.get("ESPACE_REQUIRE_POSTGRES") == "1"
)


def throwaway_schema(case: unittest.TestCase) -> tuple[str, str]:
    """A new schema for ``case``, dropped when it is cleaned up (after its
    ``tearDown``): its name, and the store URL that names it."""
    base = PG_URL.split("?")[0]
    try:
        admin = psycopg.connect(base, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        if REQUIRE_PG:
            case.fail(f"PostgreSQL is required here but unreachable: {exc}")
        case.skipTest(f"PostgreSQL unreachable ({exc}); set CI=true to make this fail")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()

    case.addCleanup(drop)
    return schema, f"{base}?schema={schema}"


@contextmanager
def schema_url(base: str = PG_URL, prefix: str = "s") -> Iterator[str]:
    """A store URL on a new schema of the database at ``base``, dropped
    when the block ends (for tests that need more than the ``pg_url``
    fixture's one schema)."""
    plain = base.split("?", maxsplit=1)[0]
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{plain}?schema={schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def database_url(base: str = PG_URL, prefix: str = "d") -> Iterator[str]:
    """The URL of a new database on the server of ``base`` (for a restore
    into a fresh place), dropped when the block ends."""
    plain = base.split("?", maxsplit=1)[0]
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{plain.rsplit('/', 1)[0]}/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
