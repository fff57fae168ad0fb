"""The mail house's file through the public API, on SQLite and PostgreSQL
(LC-1, LC-2, LC-12): an embedder writes the codes ``send_notices`` yields
with ``espace.mail_house_file``; a represented minor's notice is addressed
to the representative; bad input names the field and creates no file."""

from __future__ import annotations

import csv
import stat
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from espace import InvalidInput, Store, mail_house_file
from espace.application import outputs


def test_an_embedder_writes_the_notices_it_sends_to_the_mail_house_lc_1_lc_12(
    store: Store, people: Any, helpers: Any, tmp_path: Path
) -> None:
    adult = people.make()
    minor = people.make(birth_date=date(2016, 2, 29), minor_representative=True)
    ids = [helpers.affiliate(store, p) for p in (adult, minor)]
    out = tmp_path / "notices.csv"

    with mail_house_file(out, "csv") as mail:
        assert mail is not None
        mail.write(store.lifecycle.send_notices(ids))

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open(newline="", encoding="utf-8") as handle:
        rows = {r["espace_id"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {str(i) for i in ids}
    holder = rows[str(ids[0])]
    assert (holder["recipient"], holder["channel"], holder["email"]) == (
        "holder",
        "email",
        adult.row["email"],
    )
    assert holder["name"] == f"{adult.row['first_names']} {adult.row['birth_name']}"
    parent = rows[str(ids[1])]
    assert (parent["recipient"], parent["name"], parent["postal_address"]) == (
        "representative",
        minor.row["representative_name"],
        minor.row["representative_postal_address"],
    )
    for row in rows.values():
        espace = store.views.espaces.get(UUID(row["espace_id"]))
        assert espace is not None
        assert row["opposition_deadline"].endswith("+01:00")  # Paris, in winter
        assert (
            row["opposition_deadline"][:19]
            == (espace["opposition_deadline"].astimezone(_paris()).isoformat()[:19])
        )


def test_a_representative_without_a_postal_address_is_written_to_at_the_childs_lc_12(
    store: Store, people: Any, helpers: Any, tmp_path: Path
) -> None:
    minor = people.make(
        birth_date=date(2017, 9, 1),
        minor_representative=True,
        representative_email="",
        representative_postal_address="",
        postal_address="2 quai Fleuri, 29000 Quimper",
    )
    espace_id = helpers.affiliate(store, minor)

    issued = store.lifecycle.send_notice(espace_id)

    record = issued.mail_record()
    assert (record["recipient"], record["channel"]) == ("representative", "post")
    assert record["postal_address"] == "2 quai Fleuri, 29000 Quimper"
    assert "activation_code" in record
    assert "Quimper" not in str(outputs.dump(issued))  # what a command prints


def test_an_unknown_format_names_the_field_and_creates_no_file(
    tmp_path: Path,
) -> None:
    out = tmp_path / "n.xml"
    with (
        pytest.raises(InvalidInput) as refused,
        mail_house_file(out, "xml"),
    ):
        pass  # pragma: no cover - the file is refused before the block
    assert "out_format" in refused.value.fields
    assert not out.exists()


def _paris() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Paris")
