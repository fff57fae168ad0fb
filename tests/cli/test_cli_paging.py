"""Nothing is silently dropped: every command that lists or sends many rows
takes --limit, --offset and --all, says how many remain, and gives the total
in its JSON. Real processes, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

T0 = "2027-01-04T10:00:00+01:00"
T1 = "2027-01-04T11:00:00+01:00"


def test_notify_pending_sends_at_most_its_limit_and_says_how_many_remain_lc_1(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    people = [holders.make(i) for i in range(1, 6)]
    cli(
        "affiliate",
        str(holders.write_feed(tmp_path / "f.csv", [p.row for p in people])),
        clock=T0,
    )

    first = cli("notify", "--pending", "--limit", "2", "--json", clock=T0).json
    assert (first["sent"], first["remaining"]) == (2, 3)
    assert len(first["notices"]) == 2
    told = cli("notify", "--pending", "--limit", "1", clock=T0)
    assert "2 more: run again, or use --all" in told.stdout
    rest = cli("notify", "--pending", "--all", "--json", clock=T0).json
    assert (rest["sent"], rest["remaining"]) == (2, 0)
    sent = {n["espace_id"] for n in first["notices"] + rest["notices"]}
    assert len(sent) == 4  # one went out with the plain-text call above
    none_left = cli("notify", "--pending", "--json", clock=T0).json
    assert (none_left["sent"], none_left["remaining"]) == (0, 0)


def test_list_journal_and_checkpoints_page_with_a_total_and_what_remains(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    people = [holders.make(i) for i in range(1, 4)]
    cli(
        "affiliate",
        str(holders.write_feed(tmp_path / "f.csv", [p.row for p in people])),
        clock=T0,
    )

    listed = cli("list", "--limit", "2", "--json").json
    assert (listed["total"], listed["shown"], listed["remaining"]) == (3, 2, 1)
    second = cli("list", "--limit", "2", "--offset", "2", "--json").json
    assert (second["shown"], second["remaining"]) == (1, 0)
    seen = {r["espace_id"] for r in listed["espaces"] + second["espaces"]}
    assert len(seen) == 3
    every = cli("list", "--limit", "1", "--all", "--json").json
    assert (every["shown"], every["remaining"]) == (3, 0)
    human = cli("list", "--limit", "1")
    assert "1 of 3 espaces" in human.stdout
    assert "2 more: use --offset 1 or --all" in human.stdout
    none = cli("list", "--state", "erased", "--json").json
    assert (none["total"], none["espaces"]) == (0, [])

    # ACC-6: the holder's journal, newest first, paged the same way
    first = people[0]
    notice = cli("notify", "--nir", first.nir, "--json", clock=T0).json
    cli(
        "activate",
        "--nir",
        first.nir,
        "--code",
        notice["activation_code"],
        "--birth-date",
        first.birth_date,
        "--vitale-serial",
        first.vitale_serial,
        "--json",
        clock=T0,
    )
    holder = ["--nir", first.nir, "--as-holder"]
    for choice in ("refuse-emergency", "allow-emergency", "refuse-emergency"):
        cli("consent", choice, *holder, "--json", clock=T1)
    journal = cli("journal", *holder, "--limit", "2", "--json", clock=T1).json
    assert (journal["total"], journal["shown"], journal["remaining"]) == (3, 2, 1)
    assert len(cli("journal", *holder, "--all", "--json", clock=T1).json["traces"]) == 3
    assert "1 more" in cli("journal", *holder, "--limit", "2", clock=T1).stdout

    bad = cli("list", "--limit", "0", "--json", expect=2)
    assert "limit" in bad.stdout + bad.stderr
