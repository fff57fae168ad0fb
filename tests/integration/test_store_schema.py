"""The schema is made by `init` and `migrate` only: opening a store runs no
DDL, on SQLite and PostgreSQL.

Once, sixteen processes opening a PostgreSQL store at the same moment
crashed with "tuple concurrently updated": every open ran the library's
``CREATE TABLE IF NOT EXISTS``. Now the store records a schema version;
``Store.open`` checks it and creates nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from espace import ConfigurationError, Store, migrate_store
from espace.adapters.meta import set_meta
from espace.adapters.schema import SCHEMA_VERSION
from espace.adapters.tracking import QUARANTINE_TABLE

OPEN_AND_COUNT = textwrap.dedent(
    """
    import sys
    from espace import Store
    with Store.open(sys.argv[1]) as store:
        print(sum(store.views.espaces.counts_by_state().values()))
    """
)


def test_sixteen_processes_open_one_store_at_once_and_all_succeed(
    store_url: str, store_env: dict[str, str], store: Store, people: Any
) -> None:
    store.lifecycle.affiliate_feed([(2, people.make().row)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESPACE_")}
    env.update(store_env)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_COUNT, store_url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(16)
    ]
    outcomes = [p.communicate(timeout=120) for p in procs]
    failures = [
        err[-500:] for p, (_, err) in zip(procs, outcomes, strict=True) if p.returncode
    ]
    assert failures == []
    assert [out.strip() for out, _ in outcomes] == ["1"] * 16


def test_opening_creates_no_table(
    store_url: str, store_env: dict[str, str], store: Store
) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    try:
        Store.open(store_url, environ=store_env).close()
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", record)
    ddl = [s for s in statements if s.lstrip().upper().startswith(("CREATE", "ALTER"))]
    assert ddl == []


def test_opening_a_missing_sqlite_store_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.db"
    with pytest.raises(ConfigurationError, match="run `espace init`"):
        Store.open(f"sqlite:///{path}")
    assert not path.exists()


def test_a_store_of_an_older_schema_is_refused_until_migrated(
    store_url: str, store_env: dict[str, str], store: Store, people: Any
) -> None:
    store.lifecycle.affiliate_feed([(2, people.make().row)])
    added_since = {"audit_leaves": "ix_audit_leaves_originator"}
    added_since["view_access_journal"] = "ix_view_access_journal_actor_id"
    with store._infra.engine.begin() as conn:
        QUARANTINE_TABLE.drop(conn)
        for name in added_since.values():  # tables an older espace made
            conn.exec_driver_sql(f"DROP INDEX {name}")
    set_meta(store._infra.engine, "schema_version", "1")

    with pytest.raises(ConfigurationError, match="run `espace migrate`"):
        Store.open(store_url, environ=store_env)

    assert migrate_store(store_url, environ=store_env) == {
        "from": 1,
        "to": SCHEMA_VERSION,
        "keys_moved": 0,  # a store made by this espace: its keys are in place
    }
    with Store.open(store_url, environ=store_env) as migrated:
        assert sum(migrated.views.espaces.counts_by_state().values()) == 1
        assert migrated.quarantined() == ([], 0)
        inspector = sa.inspect(migrated._infra.engine)
        for table, index in added_since.items():
            assert index in {i["name"] for i in inspector.get_indexes(table)}
    assert migrate_store(store_url, environ=store_env)["from"] == SCHEMA_VERSION


def test_a_store_of_a_newer_schema_is_refused(
    store_url: str, store_env: dict[str, str], store: Store
) -> None:
    set_meta(store._infra.engine, "schema_version", str(SCHEMA_VERSION + 1))
    with pytest.raises(ConfigurationError, match="newer than this espace"):
        Store.open(store_url, environ=store_env)


def test_migrating_where_there_is_no_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="run `espace init` first"):
        migrate_store(f"sqlite:///{tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()
