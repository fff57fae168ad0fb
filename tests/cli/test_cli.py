"""The operators' CLI, in real subprocesses (`python -m espace.cli`).

Given a store made by `espace init` (a SQLite simulation store, so that
`--clock` can move time; and once a PostgreSQL production store on the real
clock), when an operator runs the lifecycle commands, then stdout holds only
the data (one JSON document with --json), logs and notices go to stderr, and
each kind of error has its exit code: 2 bad input, 3 refused by a rule,
4 not found, 6 configuration.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from espace import Store
from espace.cli import main

T0 = "2027-01-04T10:00:00+01:00"
DAY1 = "2027-01-05T10:00:00+01:00"
DAY2 = "2027-01-06T10:00:00+01:00"
AFTER_WINDOW = "2027-02-20T09:00:00+01:00"
LATER = "2027-03-01T09:00:00+01:00"
LATER2 = "2027-03-02T09:00:00+01:00"


def ref(holder: Any) -> list[str]:
    return ["--nir", holder.nir]


def activation(holder: Any, code: str) -> list[str]:
    return [
        "activate",
        "--nir",
        holder.nir,
        "--code",
        code,
        "--birth-date",
        holder.birth_date,
        "--vitale-serial",
        holder.vitale_serial,
        "--json",
    ]


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    found: list[list[str]] = []
    for name, command in sorted(group.commands.items()):
        found.append([*prefix, name])
        if isinstance(command, click.Group):
            found.extend(all_commands(command, (*prefix, name)))
    return found


# --------------------------------------------------------------------- help


def test_espace_help_and_the_help_of_every_subcommand_work(sqlite_cli: Any) -> None:
    top = sqlite_cli("--help")
    assert "Usage:" in top.stdout
    for name in ("init", "affiliate", "notify", "oppose", "activate", "deadlines"):
        assert name in top.stdout
    assert "rebuild" in sqlite_cli("projections", "--help").stdout
    # Every (sub)command, through the same click entry point, in-process.
    runner = CliRunner()
    commands = all_commands(main)
    assert len(commands) >= 20
    for path in commands:
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output, path


def test_the_installed_entry_point_runs_too(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("espace")
    if not script.exists():
        pytest.skip("no `espace` script beside this interpreter")
    proc = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "version" in proc.stdout


# --------------------------------------------------------------------- SQLite


def test_the_whole_lifecycle_through_the_cli_on_a_simulation_store_lc_1_to_lc_12(
    sqlite_cli: Any, holders: Any, tmp_path: Path
) -> None:
    espace = sqlite_cli
    a = holders.make(1)
    b = holders.make(2, email="", postal_address="3 rue du Four, 75006 Paris")
    c = holders.make(3, sex="M", birth=date(1961, 10, 30), place="2A004")
    minor = holders.make(
        4,
        birth=date(2012, 5, 17),
        email="",
        representative_name="Paul LAMBERTIN",
        representative_role="parent",
        representative_email="paul.lambertin@example.org",
    )
    bad = holders.make(5)
    bad.row["nir"] = bad.nir[:-2] + f"{(int(bad.nir[-2:]) + 1) % 97:02d}"
    feed = holders.write_feed(
        tmp_path / "feed.csv", [a.row, b.row, c.row, minor.row, bad.row, a.row]
    )

    # init, twice: idempotent
    info = espace("init", "--simulation", "--json").json
    assert (info["mode"], info["created"], info["kind"]) == (
        "simulation",
        True,
        "sqlite",
    )
    assert espace("init", "--simulation", "--json").json["created"] is False

    # LC-1: a bad row exits 2 and names its line; the duplicate is not doubled
    fed = espace("affiliate", str(feed), "--json", clock=T0, expect=2)
    report = fed.json
    assert (report["created"], report["already_affiliated"]) == (4, 1)
    assert [r["line"] for r in report["rejected"]] == [6]
    assert "nir" in report["rejected"][0]["fields"]
    assert "simulated clock" in fed.stderr
    again = espace("affiliate", str(feed), "--json", clock=T0, expect=2).json
    assert (again["created"], again["already_affiliated"]) == (0, 5)

    # LC-1/LC-2: notices and their codes
    sent = espace("notify", "--pending", "--json", clock=T0).json
    assert sent["sent"] == 4
    # The ids are keyed hashes of the NIR (ADR-0003): ask the library, not the CLI.
    with Store.open(espace.env["ESPACE_DATABASE_URL"], environ={}) as store:
        everyone = (a, b, c, minor)
        ids = {h.nir: str(store.lifecycle.espace_id_for(h.nir)) for h in everyone}
    assert {n["espace_id"] for n in sent["notices"]} == set(ids.values())
    codes = {n["espace_id"]: n["activation_code"] for n in sent["notices"]}
    channels = {n["espace_id"]: (n["channel"], n["recipient"]) for n in sent["notices"]}
    assert channels[ids[b.nir]] == ("post", "holder")
    assert channels[ids[minor.nir]] == ("email", "representative")
    assert (
        espace("notify", *ref(a), "--json", clock=T0, expect=3).json["rule"] == "LC-1"
    )

    # LC-3: opposition with a receipt
    opposed = espace("oppose", *ref(c), "--channel", "phone", "--json", clock=DAY1)
    assert opposed.json["receipt"].startswith("OPP-")
    assert opposed.json["state"] == "opposed"

    # LC-5: a wrong code exits 3 naming the rule, the right one activates
    wrong = espace(*activation(a, "WRONG-CODE1"), clock=DAY1, expect=3).json
    assert (wrong["error"], wrong["rule"]) == ("rule_violation", "LC-5")
    activated = espace(*activation(a, codes[ids[a.nir]]), clock=DAY1).json
    assert activated["state"] == "active"
    represented = [*activation(minor, codes[ids[minor.nir]]), "--as-representative"]
    assert espace(*represented, clock=DAY1).json["state"] == "active"
    reissued = espace("reissue-code", *ref(b), "--json", clock=DAY1).json
    assert reissued["activation_code"] != codes[ids[b.nir]]

    # queries
    listed = espace("list", "--state", "active", "--json").json["espaces"]
    assert sorted(r["espace_id"] for r in listed) == sorted(
        [ids[a.nir], ids[minor.nir]]
    )
    stats = espace("stats", "--json", clock=DAY2).json
    assert {k: v for k, v in stats["states"].items() if v} == {
        "notified": 1,
        "opposed": 1,
        "active": 2,
    }
    assert stats["deadlines"]["opening"]["pending"] == 1
    pending = espace("deadlines", "list", "--json").json
    assert {(r["kind"], r["espace_id"]) for r in pending["deadlines"]} >= {
        ("opening", ids[b.nir]),
        ("majority", ids[minor.nir]),
    }
    assert pending["total"] == pending["shown"]
    mine = espace("deadlines", "list", *ref(minor), "--json").json["deadlines"]
    assert {r["espace_id"] for r in mine} == {ids[minor.nir]}
    one = espace("deadlines", "list", "--limit", "1", "--json").json
    assert (one["shown"], one["remaining"]) == (1, pending["total"] - 1)

    # LC-4: the deadline job, twice
    run = espace("deadlines", "run", "--json", clock=AFTER_WINDOW).json
    assert run["done"] == {"opening": 1}
    assert espace("deadlines", "run", "--json", clock=AFTER_WINDOW).json["done"] == {}

    # LC-7: suspension, objection, lifting
    suspended = espace(
        "suspend", *ref(a), "--reason", "fraud check", "--json", clock=LATER
    )
    assert suspended.json["state"] == "suspended"
    objected = espace("object-to-suspension", *ref(a), "--json", clock=LATER).json
    assert objected["state"] == "active"
    espace("suspend", *ref(b), "--reason", "malfunction", "--json", clock=LATER)
    lifted = espace("lift-suspension", *ref(b), "--json", clock=LATER).json
    assert lifted["state"] == "open"

    # LC-7/LC-8/LC-10: close and reopen
    closed = espace("close", *ref(a), "--json", clock=LATER).json
    assert closed["state"] == "closed"
    assert closed["archive_until"].startswith("2037-03-")
    reopened = espace("reopen", *ref(a), "--json", clock=LATER).json
    assert reopened["state"] == "open"
    assert reopened["activation_code"]

    # LC-9/SEC-4: erasure, carried out by the job
    asked = espace("request-erasure", *ref(a), "--json", clock=LATER2).json
    assert (asked["state"], "erasure_due_by" in asked) == ("closed", True)
    assert espace("deadlines", "run", "--json", clock=LATER2).json["done"] == {
        "erasure": 1
    }
    assert espace("show", *ref(a), "--json").json["state"] == "erased"
    gone = espace("reopen", *ref(a), "--json", clock=LATER2, expect=4).json
    assert gone["error"] == "not_found"

    # LC-7/LC-11: death
    died = espace(
        "declare-death",
        *ref(b),
        "--date-of-death",
        "2027-02-28",
        "--json",
        clock=LATER2,
    ).json
    assert died["state"] == "closed"

    # the read models
    status = espace("projections", "status", "--json").json
    assert status
    # every view a reader needs is current; the audit tree waits (ADR-0023)
    assert all(v["lag"] == 0 for v in status if v["after_commands"])
    assert [v["name"] for v in status if v["lag"]] == ["audit_tree"]
    applied = espace("projections", "run", "--once", "--json").json
    assert applied["audit_tree"] > 0
    assert all(v["lag"] == 0 for v in espace("projections", "status", "--json").json)
    rebuilt = espace("projections", "rebuild", "--json").json
    assert set(rebuilt) >= {"espaces", "deadlines"}
    after = {r["espace_id"]: r for r in espace("list", "--json").json["espaces"]}
    assert after[ids[a.nir]]["state"] == "erased"
    assert (after[ids[b.nir]]["state"], after[ids[b.nir]]["deceased"]) == (
        "closed",
        True,
    )
    assert after[ids[b.nir]]["opened_at"].startswith("2027-02-15T23:00")
    unknown_view = espace(
        "projections", "rebuild", "--view", "nope", "--json", expect=2
    )
    assert "--view" in unknown_view.json["fields"]

    # and a person reading the human output
    human = espace("stats", clock=LATER2).stdout
    assert "erased" in human
    assert "simulated clock" not in human


def test_errors_map_to_exit_codes_with_a_json_body_on_stdout(
    sqlite_cli: Any, holders: Any
) -> None:
    espace = sqlite_cli
    espace("init", "--simulation", "--json")
    stranger = holders.make(9)

    not_found = espace("show", "--nir", stranger.nir, "--json", expect=4).json
    assert not_found["error"] == "not_found"
    unknown_id = espace("close", "--id", str(uuid.uuid4()), "--json", expect=4).json
    assert unknown_id["error"] == "not_found"
    bad = espace("show", "--nir", "123", "--json", expect=2).json
    assert (bad["error"], list(bad["fields"])) == ("invalid_input", ["--nir"])
    bad_clock = espace("--clock", "tomorrow", "stats", expect=2)
    assert "clock" in bad_clock.stderr
    assert bad_clock.stdout == ""
    # without --json the error is for a person, on stderr
    plain = espace("show", "--nir", stranger.nir, expect=4)
    assert plain.stdout == ""
    assert "not_found" in plain.stderr


def test_usage_errors_are_json_under_json_and_name_the_flag(sqlite_cli: Any) -> None:
    espace = sqlite_cli
    out_of_range = espace("list", "--limit", "0", "--json", expect=2)
    assert out_of_range.json["error"] == "usage"
    assert list(out_of_range.json["fields"]) == ["--limit"]
    assert out_of_range.stderr == ""
    unknown = espace("list", "--bogus", "--json", expect=2).json
    assert (unknown["error"], "--bogus" in unknown["message"]) == ("usage", True)
    missing = espace("audit", "history", "--json", expect=2).json
    assert list(missing["fields"]) == ["--auditor"]
    # without --json, click's usage text for a person, on stderr
    plain = espace("list", "--limit", "0", expect=2)
    assert (plain.stdout, "Usage:" in plain.stderr) == ("", True)
    assert "version" in espace("--version").stdout  # exits 0, as before


def test_the_clock_is_refused_on_a_production_store_and_announced_on_a_simulation_one(
    sqlite_cli: Any, tmp_path: Path
) -> None:
    espace = sqlite_cli
    assert espace("init", "--json").json["mode"] == "production"

    refused = espace("stats", "--json", clock=T0, expect=6)

    assert refused.json["error"] == "configuration"
    assert "--clock" in refused.json["message"]
    # a simulation store accepts it, and says so on stderr every time
    sim_url = f"sqlite:///{tmp_path / 'sim.db'}"
    espace("--database", sim_url, "init", "--simulation", "--json")
    announced = espace("--database", sim_url, "--clock", T0, "stats", "--json")
    assert "simulated clock" in announced.stderr
    assert T0 in announced.stderr
    assert "simulated" not in announced.stdout
    assert announced.json["states"]  # stdout is still one JSON document


def test_stdout_holds_only_data_and_json_logs_go_to_stderr_without_pii_sec_3(
    sqlite_cli: Any, holders: Any, tmp_path: Path
) -> None:
    espace = sqlite_cli
    espace("init", "--simulation", "--json")
    person = holders.make(7)
    feed = holders.write_feed(tmp_path / "feed.csv", [person.row])

    fed = espace("--log-level", "INFO", "affiliate", str(feed), "--json", clock=T0)
    sent = espace("--log-level", "DEBUG", "notify", "--pending", "--json", clock=T0)

    assert fed.json["created"] == 1
    assert sent.json["sent"] == 1
    logs = [
        json.loads(line)
        for result in (fed, sent)
        for line in result.stderr.splitlines()
        if line.startswith("{")
    ]
    events = {entry["event"] for entry in logs}
    assert {"affiliation.done", "notice.sent"} <= events
    assert all("level" in entry and "timestamp" in entry for entry in logs)
    for result in (fed, sent):
        for secret in (person.nir, person.row["birth_name"], person.row["email"]):
            assert secret not in result.stderr
    assert sent.json["notices"][0]["activation_code"] not in sent.stderr


# --------------------------------------------------------------------- simulate


def simulate(espace: Any, path: Path) -> dict[str, Any]:
    result = espace(
        "--database",
        f"sqlite:///{path}",
        "simulate",
        "--people",
        "200",
        "--seed",
        "1",
        "--fresh",
        "--json",
        "--no-progress",
    )
    return dict(result.json)


def test_simulate_is_deterministic_by_seed_and_its_states_add_up(
    sqlite_cli: Any, tmp_path: Path
) -> None:
    first = simulate(sqlite_cli, tmp_path / "sim.db")
    second = simulate(sqlite_cli, tmp_path / "sim.db")

    assert first["people"] == 200
    assert sum(first["states"].values()) == first["actions"]["affiliated"]
    assert first["actions"]["affiliated"] + first["rejected_rows"] <= 200
    assert first["actions"]["affiliated"] > 150
    assert first["states"] == second["states"]
    assert first["actions"] == second["actions"]
    assert first["deadlines"] == second["deadlines"]
    # The auditor's part (LC-8, ACC-6, SEC-4): the log is signed and intact,
    # before and after the archives expire and espaces are erased; every
    # export it made verified offline.
    audit = first["audit"]
    assert audit["intact"]
    assert audit["intact_after_erasures"]
    assert audit["audited_espaces"] == audit["exports_valid"] > 0
    assert "exports_invalid" not in audit
    assert audit["history_events"] > 0
    assert audit["access_routes"] > 0
    assert audit["final_verified_rows"] >= audit["final_checkpoint_size"] > 0
    assert audit["verifier_key"].startswith("espace.simulation/audit+")
    # LC-1, LC-12: every notice has what the mail house needs
    assert first["actions"]["mail_record"] == first["actions"]["notice"]
    assert "mail_record_unaddressed" not in first["actions"]
    # ACC-3: a revision, a partial file refused, the first version put back
    tables = first["reference_tables"]
    assert first["actions"]["matrix_partial_refused"] == 1
    assert (tables["matrix_versions"], tables["matrix_restored"]) == (3, True)
    assert tables["matrix_changed_professions"] > 0
    assert tables["matrix_types_added"] == 1  # ACC-3 by type, DOC-1
    # SEC-4, ADR-0029, ADR-0030: the operator's drill: both backups restore
    # elsewhere, the copy rotates to a new master key, every espace opens
    drill = first["backup_drill"]
    assert drill["intact_after_restore_and_rotation"]
    assert drill["remaining_under_old_key"] == 0
    opened, live = drill["espaces_readable_after_rotation"].split("/")
    assert opened == live
    assert int(live) > 150
    assert drill["rotated_keys"] >= int(live)


# --------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_the_main_flow_through_the_cli_on_postgresql_on_the_real_clock(
    pg_cli: Any, holders: Any, tmp_path: Path
) -> None:
    espace = pg_cli
    a = holders.make(11)
    b = holders.make(12, sex="M", birth=date(1977, 8, 8))
    feed = holders.write_feed(tmp_path / "feed.csv", [a.row, b.row])

    info = espace("init", "--json").json
    assert (info["kind"], info["mode"], info["key_file"]) == (
        "postgresql",
        "production",
        None,
    )
    assert info["url"] == espace.env["ESPACE_DATABASE_URL"]  # no password in it
    assert espace("affiliate", str(feed), "--json").json["created"] == 2
    code = espace("notify", *ref(a), "--json").json["activation_code"]
    assert espace("oppose", *ref(b), "--json").json["receipt"].startswith("OPP-")
    assert espace(*activation(a, "WRONG-CODE2"), expect=3).json["rule"] == "LC-5"
    assert espace(*activation(a, code)).json["state"] == "active"
    stats = espace("stats", "--json").json
    assert (stats["states"]["active"], stats["states"]["opposed"]) == (1, 1)
    assert espace("close", *ref(a), "--json").json["state"] == "closed"
    assert espace("reopen", *ref(a), "--json").json["state"] == "open"
    assert espace("request-erasure", *ref(a), "--json").json["state"] == "closed"
    assert espace("deadlines", "list", "--kind", "erasure", "--json").json["total"]
    assert espace("deadlines", "run", "--json").json["done"] == {"erasure": 1}
    assert espace("close", *ref(a), "--json", expect=4).json["error"] == "not_found"
    status = espace("projections", "status", "--json").json
    assert all(v["lag"] == 0 for v in status if v["after_commands"])
    espace("projections", "rebuild", "--json")
    states = {r["state"] for r in espace("list", "--json").json["espaces"]}
    assert states == {"erased", "opposed"}
    assert espace("stats", "--json", clock=T0, expect=6).json["error"] == (
        "configuration"
    )
    # without the master key the store does not open, and says what to set
    keyless = dict(espace.env)
    del keyless["ESPACE_MASTER_KEY"]
    no_key = type(espace)(keyless, espace.cwd)("stats", "--json", expect=6).json
    assert "ESPACE_MASTER_KEY" in no_key["message"]
