"""Shared helpers of the integration tests: a store opened through the public
API on SQLite and PostgreSQL, a clock the test moves by hand, and synthetic
insured people with valid NIRs and coherent INS traits.
"""

from __future__ import annotations

import base64
import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from stdnum.fr import nir as stdnum_nir

from espace import Store, init_store
from espace.application import outputs
from espace.domain.calendar import PARIS
from pg_schema import schema_url

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
"""Monday 4 January 2027, 10:00 in Paris: the start of every scenario."""


def paris(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant given as a wall-clock time in Paris, as UTC."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=PARIS).astimezone(
        UTC
    )


class Clock:
    """A mutable clock: the store reads it for every command."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> datetime:
        self.now = now
        return now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


def store_environ(url: str) -> dict[str, str]:
    """The environment a store needs: a fresh master key for PostgreSQL (its key
    never lives in the database); nothing for SQLite (the key file is beside it).
    """
    if url.startswith("postgresql"):
        raw = os.urandom(32)
        return {"ESPACE_MASTER_KEY": base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return {}


@contextmanager
def fresh_store(
    url: str,
    clock: Callable[[], datetime],
    *,
    environ: dict[str, str] | None = None,
    simulation: bool = True,
    sync_views: bool = True,
) -> Iterator[Store]:
    """Initialise a store at ``url`` and open it on ``clock``."""
    env = store_environ(url) if environ is None else environ
    init_store(url, simulation=simulation, environ=env)
    store = Store.open(url, clock=clock, sync_views=sync_views, environ=env)
    try:
        yield store
    finally:
        store.close()


@dataclass
class Person:
    """An insured person as the insurer's feed describes them."""

    nir: str
    birth_date: date
    vitale_serial: str
    row: dict[str, str]
    espace_id: UUID | None = None
    code: str | None = None

    def activation(self, code: str | None = None, **overrides: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "nir": self.nir,
            "code": code if code is not None else self.code,
            "birth_date": self.birth_date.isoformat(),
            "vitale_serial": self.vitale_serial,
        }
        data.update(overrides)
        return data


@dataclass
class People:
    """Makes people with distinct valid NIRs, names and contacts."""

    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def make(
        self,
        *,
        sex: str = "F",
        birth_date: date = date(1987, 6, 14),
        place: str = "75056",
        minor_representative: bool = False,
        **overrides: str,
    ) -> Person:
        n = next(self.counter)
        body = f"{1 if sex == 'M' else 2}{birth_date.year % 100:02d}"
        body += f"{birth_date.month:02d}{place}{n:03d}"
        nir = body + stdnum_nir.calc_check_digits(body)
        serial = f"80{n:03d}41{n:03d}7"
        row = {
            "nir": nir,
            "birth_name": f"QUINTALBROSSARD{_letters(n)}",
            "first_names": f"Zephyrine{_letters(n).lower()}",
            "birth_date": birth_date.isoformat(),
            "sex": sex,
            "birthplace_code": place,
            "vitale_serial": serial,
        }
        if minor_representative:
            row.update(
                representative_name=f"Ondine VARLAMOVSKA{_letters(n)}",
                representative_role="parent",
                representative_email=f"ondine.varlamovska.{n}@example.org",
                representative_postal_address=f"{n} impasse des Tilleuls, 29200 Brest",
            )
        else:
            row.update(
                email=f"zephyrine.quintal.{n}@example.org",
                postal_address=f"{n} allée des Mésanges, 44000 Nantes",
            )
        row.update(overrides)
        return Person(nir=nir, birth_date=birth_date, vitale_serial=serial, row=row)


def _letters(n: int) -> str:
    """A distinct all-letter suffix per person (names carry no digits)."""
    out = ""
    n += 26
    while n:
        n, r = divmod(n, 26)
        out = chr(ord("A") + r) + out
    return out


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def people() -> People:
    return People()


@pytest.fixture
def store_env(store_url: str) -> dict[str, str]:
    """The environment the ``store`` fixture opens its store with (its master
    key, on PostgreSQL), for tests that open the same store again."""
    return store_environ(store_url)


@pytest.fixture
def keystore_url(store_url: str, tmp_path: Path) -> Iterator[str]:
    """Where the keystore goes (ADR-0028): another SQLite file in another
    folder, or another PostgreSQL schema, dropped after the test."""
    if store_url.startswith("sqlite"):
        (tmp_path / "vault").mkdir()
        yield f"sqlite:///{tmp_path / 'vault' / 'keys.db'}"
        return
    with schema_url(store_url, "k") as url:
        yield url


@pytest.fixture
def store(store_url: str, clock: Clock, store_env: dict[str, str]) -> Iterator[Store]:
    """A simulation store on SQLite and on PostgreSQL, views synced after writes."""
    with fresh_store(store_url, clock, environ=store_env) as opened:
        yield opened


def log_head(store: Store) -> int:
    """The notification id of the last event in the log (0 when empty)."""
    return store.head()


def affiliate(store: Store, person: Person) -> UUID:
    """Affiliate one person through the feed; returns the espace id."""
    report = store.lifecycle.affiliate_feed([(2, person.row)])
    assert report.created == 1, outputs.dump(report)
    person.espace_id = store.lifecycle.espace_id_for(person.nir)
    return person.espace_id


def notify(store: Store, person: Person) -> datetime:
    """Send the notice; remembers the code; returns the opposition deadline."""
    assert person.espace_id is not None
    issued = store.lifecycle.send_notice(person.espace_id)
    person.code = issued.activation_code
    deadline = issued.espace.opposition_deadline
    assert deadline is not None
    return datetime.fromisoformat(deadline)


@pytest.fixture
def helpers() -> Any:
    """Plain helper functions, for tests in files that cannot import conftest."""

    class _Helpers:
        log_head = staticmethod(log_head)
        affiliate = staticmethod(affiliate)
        notify = staticmethod(notify)
        paris = staticmethod(paris)
        fresh_store = staticmethod(fresh_store)
        store_environ = staticmethod(store_environ)
        Clock = Clock
        People = People

    return _Helpers
