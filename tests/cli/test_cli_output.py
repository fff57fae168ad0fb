"""Output a person can read and a machine can take back: every command's
human output goes through one renderer, with no Python repr, ids printed
whole in a pipe, instants with their time of day (ACC-6: the journal says
when). Real processes, on a simulated rollout."""

from __future__ import annotations

import re
from typing import Any

import pytest

REPR = re.compile(r"UUID\(|datetime\.datetime\(|\{'|\[\{|…")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def rolled_out(tmp_path_factory: pytest.TempPathFactory, processes: Any) -> Any:
    folder = tmp_path_factory.mktemp("output")
    url = f"sqlite:///{folder / 'espace.db'}"
    cli = processes.cli(processes.environ(ESPACE_DATABASE_URL=url), folder)
    cli("init", "--simulation", "--json")
    cli.simulated = cli("simulate", "--people", "40", "--no-progress")
    return cli


def test_the_simulation_ends_with_tables_not_a_blob(rolled_out: Any) -> None:
    told = rolled_out.simulated
    assert not REPR.search(told.stdout)
    assert not re.search(r"^\w+: \{", told.stdout, re.MULTILINE)
    assert re.search(r"^actions:$", told.stdout, re.MULTILINE)
    assert re.search(r"^  notice\s+\d+$", told.stdout, re.MULTILINE)


def test_lists_print_every_id_whole_in_a_pipe(rolled_out: Any) -> None:
    listed = rolled_out("list", "--limit", "5", "--json").json["espaces"]
    human = rolled_out("list", "--limit", "5").stdout
    for row in listed:
        assert row["espace_id"] in human
    pending = rolled_out("notifications", "pending")
    assert not REPR.search(pending.stdout)
    ids = UUID_TEXT.findall(pending.stdout)
    assert ids, pending.stdout
    assert all(len(i) == 36 for i in ids)


def test_the_journal_and_the_profile_history_say_when_to_the_minute_acc_6(
    rolled_out: Any,
) -> None:
    active = rolled_out("list", "--state", "active", "--all", "--json").json
    shown = 0
    for row in active["espaces"]:
        ref = ["--id", row["espace_id"], "--as-holder"]
        journal = rolled_out("journal", *ref)
        history = rolled_out("profile", "history", *ref, expect=None)
        for out in (journal.stdout, history.stdout if history.code == 0 else ""):
            assert not REPR.search(out), out
        if re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", journal.stdout):
            shown += 1
    assert shown, "no journal of an active espace shows its instants"


def test_a_long_command_shows_a_progress_bar_on_a_terminal_only(
    rolled_out: Any,
) -> None:
    """The bar goes to stderr when it is a terminal; a pipe or a log gets
    none (and stdout keeps only the command's data)."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    try:
        try:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "espace.cli",
                    "projections",
                    "rebuild",
                    "--json",
                ],
                env={**rolled_out.env, "COLUMNS": "100"},
                cwd=rolled_out.cwd,
                stdout=subprocess.PIPE,
                stderr=slave,
                timeout=120,
                check=True,
            )
        finally:
            os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert b"events" in shown
    assert done.stdout.decode().startswith("{")
    piped = rolled_out("projections", "rebuild", "--json")
    assert "events" not in piped.stderr
    assert "━" not in piped.stderr
