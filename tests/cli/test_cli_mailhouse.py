"""Notices a mail house can send (LC-1, LC-2, LC-5, LC-12): `notify --out`
and `reissue-code --out` write, per notice, the addressee's name and
address, the code and the deadlines in Paris time, to a new file readable
by its owner only; no code is printed and no log holds any of it. Real
processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import stat
from datetime import date
from pathlib import Path
from typing import Any

from espace import Store

T0 = "2027-01-04T10:00:00+01:00"
DAY1 = "2027-01-05T10:00:00+01:00"


def activate(cli: Any, holder: Any, code: str, *extra: str, expect: int = 0) -> Any:
    return cli(
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
        *extra,
        clock=DAY1,
        expect=expect,
    )


def ids_of(cli: Any, *people: Any) -> dict[str, str]:
    """The espace ids are keyed hashes of the NIR (ADR-0003): ask the library."""
    with Store.open(cli.env["ESPACE_DATABASE_URL"], environ=cli.env) as store:
        return {str(store.lifecycle.espace_id_for(p.nir)): p.nir for p in people}


def test_notify_writes_what_the_mail_house_needs_to_a_private_file_lc_1_lc_2_lc_12(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    adult = holders.make(1)
    by_post = holders.make(2, email="", postal_address="3 rue du Four, 75006 Paris")
    minor = holders.make(
        3,
        birth=date(2015, 5, 17),
        email="",
        postal_address="8 rue Haute, 69002 Lyon",
        representative_name="Paul LAMBERTIN",
        representative_role="parent",
        representative_email="paul.lambertin@example.org",
    )
    people = [adult, by_post, minor]
    feed = holders.write_feed(tmp_path / "feed.csv", [p.row for p in people])
    cli("affiliate", str(feed), clock=T0)
    out = tmp_path / "notices.jsonl"

    sent = cli("notify", "--pending", "--all", "--out", str(out), "--json", clock=T0)

    assert sent.json == {
        "sent": 3,
        "remaining": 0,
        "file": str(out),
        "format": "jsonl",
    }
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    nirs = ids_of(cli, *people)
    by_nir = {nirs[r["espace_id"]]: r for r in records}
    # LC-1: e-mail when known, else post; LC-12: a minor's goes to the parent
    assert {k: by_nir[adult.nir][k] for k in ("recipient", "name", "channel")} == {
        "recipient": "holder",
        "name": f"Odile {adult.row['birth_name']}",
        "channel": "email",
    }
    assert by_nir[adult.nir]["email"] == adult.row["email"]
    assert (by_nir[by_post.nir]["channel"], by_nir[by_post.nir]["postal_address"]) == (
        "post",
        "3 rue du Four, 75006 Paris",
    )
    parent = by_nir[minor.nir]
    assert (parent["recipient"], parent["name"], parent["email"]) == (
        "representative",
        "Paul LAMBERTIN",
        "paul.lambertin@example.org",
    )
    assert parent["postal_address"] == "8 rue Haute, 69002 Lyon"
    # LC-2: sent on 4 January, the window closes at midnight Paris time at the
    # end of 15 February (day 42)
    for record in records:
        assert record["opposition_deadline"] == "2027-02-16T00:00:00+01:00"
        assert record["last_day_to_oppose"] == "2027-02-15"
        # the code lasts 90 days, to midnight Paris time, summer time by then
        assert record["code_expires_at"] == "2027-04-05T00:00:00+02:00"
    # no code on stdout, no personal data in the logs
    codes = [r["activation_code"] for r in records]
    for secret in [*codes, "LAMBERTIN", "odile.", "rue du Four"]:
        assert secret not in sent.stdout + sent.stderr
    # LC-5: the codes in the file are the ones that activate
    assert activate(cli, adult, by_nir[adult.nir]["activation_code"]).json["state"] == (
        "active"
    )
    assert (
        activate(cli, minor, parent["activation_code"], "--as-representative").json[
            "state"
        ]
        == "active"
    )


def test_an_existing_or_unwritable_file_sends_nothing(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    people = [holders.make(i) for i in range(1, 3)]
    cli(
        "affiliate",
        str(holders.write_feed(tmp_path / "f.csv", [p.row for p in people])),
    )
    kept = tmp_path / "earlier.jsonl"
    kept.write_text("codes not sent yet\n")

    refused = cli("notify", "--pending", "--out", str(kept), "--json", expect=6).json
    assert str(kept) in refused["message"]
    assert "already exists" in refused["message"]
    assert kept.read_text() == "codes not sent yet\n"
    nowhere = tmp_path / "no-such-dir" / "n.jsonl"
    cli("notify", "--pending", "--out", str(nowhere), "--json", expect=6)
    bad = cli("notify", "--pending", "--out-format", "xml", "--json", expect=2).json
    assert "--out-format" in bad["message"]

    assert cli("list", "--state", "affiliated", "--json").json["total"] == 2


def test_reissue_code_writes_the_new_code_as_csv_and_the_old_one_stops_lc_5(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    holder = holders.make(1)
    cli("affiliate", str(holders.write_feed(tmp_path / "f.csv", [holder.row])))
    first = cli("notify", "--nir", holder.nir, "--json", clock=T0).json
    out = tmp_path / "reissued.csv"

    told = cli(
        "reissue-code",
        "--nir",
        holder.nir,
        "--out",
        str(out),
        "--out-format",
        "csv",
        "--json",
        clock=T0,
    )

    assert told.json == {"issued": 1, "file": str(out), "format": "csv"}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["name"] == f"Odile {holder.row['birth_name']}"
    assert row["last_day_to_oppose"] == "2027-02-15"
    assert row["activation_code"] not in told.stdout + told.stderr
    old = activate(cli, holder, first["activation_code"], expect=3).json
    assert old["rule"] == "LC-5"
    assert activate(cli, holder, row["activation_code"]).json["state"] == "active"
