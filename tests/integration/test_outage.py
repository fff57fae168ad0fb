"""A PostgreSQL outage: a command fails with a clear DatabaseUnavailable
within the store's bound (``ESPACE_DB_TIMEOUT``, 5 s by default) and the
same store works again once the server is back.

Once, a command on a long-lived store waited 62 s (a 10 s pool wait, tried
ten times) and then raised the library's ``OperationalError``. The outage is
a proxy in front of the test server (``tests/proxy.py``), cut and restored:
what clients of a server that went away see, without stopping the server
the rest of the suite uses.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from espace import DatabaseUnavailable, Store
from proxy import Proxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy(postgres_available: bool) -> Iterator[Proxy]:
    with Proxy() as opened:
        yield opened


def through(url: str, proxy: Proxy) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def world(pg_url: str, clock: Any, people: Any, helpers: Any) -> Any:
    env = helpers.store_environ(pg_url)
    with helpers.fresh_store(pg_url, clock, environ=env) as store:
        person = people.make()
        helpers.affiliate(store, person)
    return env, person


def test_a_command_during_an_outage_fails_as_unavailable_and_works_after_it(
    pg_url: str, proxy: Proxy, world: Any, clock: Any
) -> None:
    env, person = world
    url = through(pg_url, proxy)
    with Store.open(url, clock=clock, environ=env, db_timeout=2) as store:
        espace_id = store.lifecycle.espace_id_for(person.nir)
        assert store.lifecycle.get(espace_id).state == "affiliated"

        proxy.cut()
        with pytest.raises(DatabaseUnavailable) as info:
            store.lifecycle.send_notice(espace_id)
        assert "database unavailable" in info.value.message
        assert "within 2 s, ESPACE_DB_TIMEOUT" in info.value.message
        assert info.value.as_dict()["error"] == "database_unavailable"
        with pytest.raises(DatabaseUnavailable):
            store.views.espaces.get(espace_id)  # the views' engine too
        # Long enough for the pool's reconnection backoff to pass the bound.
        time.sleep(5)
        with pytest.raises(DatabaseUnavailable):
            store.lifecycle.get(espace_id)

        proxy.restore()
        issued = store.lifecycle.send_notice(espace_id)
        assert issued.espace.state == "notified"
        assert store.views.espaces.get(espace_id)["state"] == "notified"  # type: ignore[index]


def test_the_bound_is_configurable_and_checked(pg_url: str, world: Any) -> None:
    env, _ = world
    with pytest.raises(Exception, match="ESPACE_DB_TIMEOUT"):
        Store.open(pg_url, environ={**env, "ESPACE_DB_TIMEOUT": "soon"})
    with pytest.raises(Exception, match=r"from 0\.5 to 600"):
        Store.open(pg_url, environ=env, db_timeout=0.01)
    with Store.open(pg_url, environ={**env, "ESPACE_DB_TIMEOUT": "2"}) as store:
        assert store.settings.timeout == 2.0


def test_the_cli_says_database_unavailable_as_json_with_exit_6(
    pg_url: str, proxy: Proxy, world: Any
) -> None:
    env, person = world
    proxy.cut()
    cli_env = {**env, "ESPACE_DATABASE_URL": through(pg_url, proxy)}
    base = [sys.executable, "-m", "espace.cli"]

    for args in (["stats", "--json"], ["show", "--nir", person.nir, "--json"]):
        done = subprocess.run(
            [*base, *args],
            env={**_clean(), **cli_env},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 6, done.stderr[-2000:]
        assert '"error": "database_unavailable"' in done.stdout
        assert "Traceback" not in done.stderr


def _clean() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("ESPACE_")}
