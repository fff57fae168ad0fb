"""Rebuild equals incremental (architecture, convention 6), as a property.

For any sequence of lifecycle commands on a few espaces, with the clock moving
by random steps (a refused command is part of life: its RuleViolation is
ignored), the views kept up to date after every command hold exactly the rows
that a rebuild from the whole log gives: the full contents of
``view_espaces`` and ``view_deadlines``. Each example runs on a fresh store.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from espace import Conflict, NotFound, RuleViolation, Store
from espace.projections.deadlines import deadlines as deadlines_table
from espace.projections.espaces import espaces as espaces_table
from pg_schema import schema_url

PEOPLE = 3
COMMANDS = [
    "affiliate",
    "notify",
    "oppose",
    "activate",
    "activate_wrong",
    "reissue",
    "close",
    "reopen",
    "suspend",
    "object",
    "lift",
    "request_erasure",
    "declare_death",
    "run_deadlines",
]
ADVANCES = st.one_of(
    st.just(0),
    st.integers(1, 60 * 24 * 3),  # up to three days, in minutes
    st.sampled_from([60 * 24 * 42, 60 * 24 * 43, 60 * 24 * 365]),  # windows, years
    st.just(60 * 24 * 3660),  # past the ten-year archive
)
STEPS = st.lists(
    st.tuples(st.sampled_from(COMMANDS), st.integers(0, PEOPLE - 1), ADVANCES),
    min_size=1,
    max_size=25,
)


def table_rows(store: Store, table: sa.Table) -> list[tuple[Any, ...]]:
    with store._infra.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.select(table))]
    return sorted(rows, key=repr)


def views(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "view_espaces": table_rows(store, espaces_table),
        "view_deadlines": table_rows(store, deadlines_table),
    }


def run(store: Store, clock: Any, persons: list[Any], command: str, who: int) -> None:
    person = persons[who]
    life = store.lifecycle
    espace_id = life.espace_id_for(person.nir)
    if command == "affiliate":
        life.affiliate_feed([(2, person.row)])
    elif command == "notify":
        person.code = life.send_notice(espace_id).activation_code
    elif command == "oppose":
        life.oppose(espace_id, {"channel": "web"})
    elif command in ("activate", "activate_wrong"):
        code = person.code if command == "activate" else "WRONG-CODE0"
        life.activate(
            person.activation(
                code=code or "NO-CODE-YET",
                as_representative="representative_name" in person.row,
            )
        )
    elif command == "reissue":
        person.code = life.reissue_code(espace_id).activation_code
    elif command == "close":
        life.close(espace_id)
    elif command == "reopen":
        person.code = life.reopen(espace_id).activation_code
    elif command == "suspend":
        life.suspend(espace_id, {"reason": "suspected fraud"})
    elif command == "object":
        life.object_to_suspension(espace_id)
    elif command == "lift":
        life.lift_suspension(espace_id)
    elif command == "request_erasure":
        life.request_erasure(espace_id)
    elif command == "declare_death":
        day = clock.now.date().isoformat()
        life.declare_death(espace_id, {"date_of_death": day})
    elif command == "run_deadlines":
        store.run_deadlines()
    else:  # pragma: no cover - COMMANDS lists them all
        raise AssertionError(command)


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="espace-prop-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'espace.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    with schema_url(prefix="p") as url:
        yield url


Backend = tuple[Callable[[], AbstractContextManager[str]], int]


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest) -> Backend:
    """A factory of fresh, empty store URLs, and how many examples to try."""
    if request.param == "sqlite":
        return sqlite_url, 25
    request.getfixturevalue("postgres_available")
    return postgres_url, 6


def check_rebuild_equals_incremental(
    helpers: Any, url: str, steps: Any
) -> dict[str, list[tuple[Any, ...]]]:
    clock = helpers.Clock()
    people = helpers.People()
    persons = [
        people.make(legacy_dmp_ref="DMP-10000001"),
        people.make(birth_date=date(2009, 2, 20), minor_representative=True),
        people.make(sex="M", birth_date=date(1949, 7, 1), email="", place="2B033"),
    ]
    with helpers.fresh_store(url, clock) as store:
        for command, who, minutes in steps:
            clock.advance(minutes=minutes)
            with suppress(RuleViolation, NotFound, Conflict):
                run(store, clock, persons, command, who)
        store.sync()
        assert all(v.lag == 0 for v in store.view_status())
        incremental = views(store)

        store.rebuild_views()

        assert all(v.lag == 0 for v in store.view_status())
        assert views(store) == incremental
    return incremental


def test_views_rebuilt_from_the_log_equal_the_views_kept_up_to_date_incrementally(
    backend: Backend, helpers: Any
) -> None:
    fresh_url, examples = backend

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(steps=STEPS)
    def property_holds(steps: Any) -> None:
        everyone = [("affiliate", who, 0) for who in range(PEOPLE)]
        with fresh_url() as url:
            check_rebuild_equals_incremental(helpers, url, everyone + steps)

    property_holds()


def test_rebuild_equals_incremental_on_a_whole_life_of_each_espace(
    store_url: str, helpers: Any
) -> None:
    """An explicit example that reaches every kind of deadline and erasure."""
    steps = [
        ("affiliate", 0, 0),
        ("affiliate", 1, 0),
        ("affiliate", 2, 0),
        ("notify", 0, 10),
        ("notify", 1, 10),
        ("notify", 2, 10),
        ("activate_wrong", 0, 60),
        ("activate", 0, 1),
        ("oppose", 2, 60),
        ("run_deadlines", 0, 60 * 24 * 43),
        ("suspend", 1, 60),
        ("object", 1, 60),
        ("suspend", 0, 60),
        ("run_deadlines", 0, 60 * 24 * 43),
        ("reopen", 0, 60),
        ("reopen", 2, 60),
        ("request_erasure", 2, 60),
        ("run_deadlines", 1, 60 * 24 * 365),
        ("close", 1, 60),
        ("run_deadlines", 0, 60 * 24 * 3660),
    ]

    final = check_rebuild_equals_incremental(helpers, store_url, steps)

    states = sorted(row[1] for row in final["view_espaces"])
    assert states == ["erased", "erased", "open"]
