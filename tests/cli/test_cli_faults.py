"""Faults through the CLI, in real processes, on SQLite and PostgreSQL
(ADR-0018): a changed byte in one stored event, and a rebuild killed half-way.

Once, flipping one byte of one stored event made `espace projections rebuild`
die with a traceback and leave every view empty. Now the rebuild goes past
it, the event is quarantined and located, a command on that espace exits 7
with a JSON body naming the aggregate and version, and every other espace
keeps working.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from espace import Store
from espace.projections.deadlines import deadlines as deadlines_table
from espace.projections.espaces import espaces as espaces_table
from tamper import flip_byte

T0 = "2027-01-04T10:00:00+01:00"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cli(request: pytest.FixtureRequest) -> Any:
    name = "sqlite_cli" if request.param == "sqlite" else "pg_cli"
    return request.getfixturevalue(name)


def open_store(cli: Any) -> Store:
    env = {k: v for k, v in cli.env.items() if k.startswith("ESPACE_")}
    return Store.open(env["ESPACE_DATABASE_URL"], environ=env)


def affiliated(cli: Any, holders: Any, tmp_path: Path, n: int) -> list[Any]:
    people = [
        holders.make(i % 999 + 1, birth=date(1980 + i // 999, 3, 9)) for i in range(n)
    ]
    feed = holders.write_feed(tmp_path / "feed.csv", [p.row for p in people])
    cli("init", "--simulation", "--json")
    cli("affiliate", str(feed), "--json", clock=T0)
    cli("notify", "--pending", "--json", clock=T0)
    return people


def test_a_changed_byte_is_quarantined_located_and_exits_7_for_its_espace_only(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    damaged, healthy, _other = affiliated(cli, holders, tmp_path, 3)
    with open_store(cli) as store:
        target = store.lifecycle.espace_id_for(damaged.nir)
        flip_byte(store, target, 2)

    rebuilt = cli("projections", "rebuild", "--json", clock=T0)
    assert rebuilt.json["espaces"] >= 5
    assert len(cli("list", "--json").json["espaces"]) == 3

    refused = cli("oppose", "--nir", damaged.nir, "--json", clock=T0, expect=7).json
    assert refused["error"] == "integrity"
    assert (refused["aggregate_id"], refused["version"]) == (str(target), 2)
    assert refused["espace_id"] == str(target)
    plain = cli("oppose", "--nir", damaged.nir, clock=T0, expect=7)
    assert "Traceback" not in plain.stderr
    assert "damaged" in plain.stderr

    cli("oppose", "--nir", healthy.nir, "--json", clock=T0)

    status = {v["name"]: v for v in cli("projections", "status", "--json").json}
    assert status["espaces"]["quarantined"] == 1
    assert status["espaces"]["lag"] == 0
    listed = cli("projections", "quarantine", "--json").json
    assert listed["total"] >= 2  # the espaces and deadlines views wanted it
    assert {e["espace_id"] for e in listed["events"]} == {str(target)}
    assert {e["originator_version"] for e in listed["events"]} == {2}
    assert cli("stats", "--json").json["quarantined"] == listed["total"]
    human = cli("projections", "status")
    assert "quarantined" in human.stdout
    assert "espace projections quarantine" in human.stdout


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    with store._infra.engine.connect() as conn:
        return {
            t.name: sorted(tuple(r) for r in conn.execute(sa.select(t)))
            for t in (espaces_table, deadlines_table)
        }


def shadow_exists(cli: Any) -> bool:
    """Whether a rebuild is writing its shadow copy of the views."""
    url = cli.env["ESPACE_DATABASE_URL"]
    if url.startswith("sqlite"):
        return Path(url.removeprefix("sqlite:///") + ".rebuild").exists()
    with open_store(cli) as store, store._infra.engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT count(*) FROM information_schema.schemata "
                "WHERE schema_name = current_schema() || '__rebuild'"
            )
        ).scalar_one()
    return bool(found)


def test_a_rebuild_killed_half_way_leaves_the_views_as_they_were(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    affiliated(cli, holders, tmp_path, 1500)
    with open_store(cli) as store:
        before = snapshot(store)
        positions = [v.position for v in store.view_status()]
    rng = random.Random(7)
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "espace.cli", "projections", "rebuild"],
            env=cli.env,
            cwd=cli.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not shadow_exists(cli):
            assert proc.poll() is None, "the rebuild ended before it built anything"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        assert proc.poll() is None, "the rebuild ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with open_store(cli) as store:
            assert snapshot(store) == before
            assert [v.position for v in store.view_status()] == positions
    cli("projections", "rebuild", "--json")  # a stale shadow never blocks the next
    assert not shadow_exists(cli)
    with open_store(cli) as store:
        assert snapshot(store) == before
