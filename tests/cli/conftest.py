"""Helpers of the CLI tests: run `espace` in a real subprocess, write feeds."""

from __future__ import annotations

import base64
import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from stdnum.fr import nir as stdnum_nir

from extracts import FEED_COLUMNS


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        """stdout parsed as ONE JSON document: it must hold nothing else."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:  # pragma: no cover - a failure report
            raise AssertionError(
                f"stdout of espace {' '.join(self.args)} is not one JSON document "
                f"({exc}):\n{self.stdout}\n--- stderr:\n{self.stderr}"
            ) from None

    def __str__(self) -> str:
        return (
            f"espace {' '.join(self.args)} -> {self.code}\n--- stdout:\n"
            f"{self.stdout}\n--- stderr:\n{self.stderr}"
        )


class Espace:
    """The `espace` command line against one store, as an operator runs it."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    def __call__(
        self, *args: str, clock: str | None = None, expect: int | None = 0
    ) -> Result:
        argv = ["--clock", clock, *args] if clock else list(args)
        proc = subprocess.run(
            [sys.executable, "-m", "espace.cli", *argv],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        result = Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
        if expect is not None:
            assert result.code == expect, str(result)
        return result


def clean_environ(**extra: str) -> dict[str, str]:
    """The process environment without any ESPACE_* setting of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESPACE_")}
    env.update(extra)
    return env


def new_master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Espace:
    """`espace` on a SQLite file in a temporary directory."""
    url = f"sqlite:///{tmp_path / 'espace.db'}"
    return Espace(clean_environ(ESPACE_DATABASE_URL=url), tmp_path)


@pytest.fixture
def pg_cli(pg_url: str, tmp_path: Path) -> Espace:
    """`espace` on a fresh PostgreSQL schema, its master key in the environment."""
    env = clean_environ(ESPACE_DATABASE_URL=pg_url, ESPACE_MASTER_KEY=new_master_key())
    return Espace(env, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cli(request: pytest.FixtureRequest) -> Espace:
    """`espace` on a fresh simulation store, once on SQLite, once on PostgreSQL."""
    espace: Espace = request.getfixturevalue(
        "sqlite_cli" if request.param == "sqlite" else "pg_cli"
    )
    espace("init", "--simulation", "--json")
    return espace


@dataclass
class Holder:
    nir: str
    birth_date: str
    vitale_serial: str
    row: dict[str, str]


def make_holder(
    n: int,
    *,
    sex: str = "F",
    birth: date = date(1984, 3, 9),
    place: str = "75056",
    **extra: str,
) -> Holder:
    body = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{place}"
    body += f"{n:03d}"
    nir = body + stdnum_nir.calc_check_digits(body)
    serial = f"7{n:03d}55{n:03d}1"
    row = {
        "nir": nir,
        "birth_name": f"LAMBERTIN{chr(ord('A') + n)}",
        "first_names": "Odile",
        "birth_date": birth.isoformat(),
        "sex": sex,
        "birthplace_code": place,
        "vitale_serial": serial,
        "email": f"odile.{n}@example.org",
    }
    row.update(extra)
    return Holder(nir, birth.isoformat(), serial, row)


def write_feed(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=FEED_COLUMNS, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in FEED_COLUMNS})
    return path


@pytest.fixture
def holders() -> Any:
    class _Holders:
        make = staticmethod(make_holder)
        write_feed = staticmethod(write_feed)

    return _Holders


@pytest.fixture(scope="session")
def processes() -> Any:
    """The helpers that run `espace` against a store of the test's own (for
    tests that open a second store, or one per module): ``processes.cli(env,
    folder)`` and ``processes.environ(**settings)``."""

    class _Processes:
        cli = Espace
        environ = staticmethod(clean_environ)

    return _Processes
