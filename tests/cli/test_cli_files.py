"""Files and flags an operator gets wrong, through the CLI in real processes,
on SQLite and PostgreSQL (ADR-0017).

Once, 25 of 298 malformed calls ended in a traceback: latin-1, UTF-16 or
binary files, a 50 MB line, `--delimiter ';;'`, instants at the edge of the
calendar; and a bad byte on line 1,502 of a feed committed 1,000 espaces,
then crashed with no report. Now each gives exit 2 with the file, the line
and what was wrong. A line that cannot be read is rejected like any bad row
and the others go on; a file that cannot be read at all is refused before
anything is saved.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from extracts import FEED_COLUMNS

T0 = "2027-01-04T10:00:00+01:00"


def feed_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FEED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in FEED_COLUMNS})
    return out.getvalue()


def physical_lines(text: str) -> list[str]:
    """The lines of a file as a reader counts them (``str.splitlines`` also
    splits on U+0085 and others, which the test names contain)."""
    return [line + "\n" for line in text.split("\n")[:-1]]


def people(holders: Any, n: int) -> list[dict[str, str]]:
    return [
        holders.make(i % 999 + 1, birth=date(1970 + i // 999, 3, 9)).row
        for i in range(n)
    ]


def created(cli: Any) -> int:
    return sum(cli("stats", "--json").json["states"].values())


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.stderr, str(result)


def test_a_latin_1_line_is_rejected_by_line_and_column_and_the_rest_created_lc_1(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    rows = people(holders, 3)
    rows[1]["first_names"] = "Hélène"
    lines = physical_lines(feed_text(rows))
    raw = b"".join(
        line.encode("latin-1" if n == 2 else "utf-8") for n, line in enumerate(lines)
    )
    feed = tmp_path / "feed.csv"
    feed.write_bytes(raw)

    result = cli("affiliate", str(feed), "--json", clock=T0, expect=2)

    report = result.json
    assert report["file"] == str(feed)
    assert report["created"] == 2
    [rejected] = report["rejected"]
    assert rejected["line"] == 3
    assert "not UTF-8: byte 0xe9 at column" in rejected["fields"]["_row"][0]
    plain = cli("affiliate", str(feed), clock=T0, expect=2)
    assert f"{feed} line 3: _row: not UTF-8" in plain.stdout
    no_traceback(plain)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (codecs.BOM_UTF16_LE + "nir,birth_name\n".encode("utf-16-le"), "UTF-16"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(64), "not UTF-8"),
        (b"\x00\x00\x00\rIHDR\n" + os.urandom(64), "binary"),
        (b"", "empty"),
    ],
    ids=["utf-16", "png", "binary", "empty"],
)
def test_a_file_that_is_not_utf_8_text_is_refused_before_anything_is_saved_lc_1(
    cli: Any, tmp_path: Path, content: bytes, words: str
) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_bytes(content)

    result = cli("affiliate", str(feed), "--json", clock=T0, expect=2)

    assert result.json["error"] == "invalid_input"
    assert words in result.json["fields"]["file"][0]
    assert created(cli) == 0
    no_traceback(cli("affiliate", str(feed), clock=T0, expect=2))


def test_a_50_mb_line_is_rejected_and_the_lines_after_it_are_read_lc_1(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    rows = people(holders, 3)
    lines = physical_lines(feed_text(rows))
    feed = tmp_path / "feed.csv"
    with feed.open("wb") as out:
        out.write(lines[0].encode())
        out.write(lines[1].encode())
        out.write(b"x" * (50 << 20) + b"\n")
        out.write(lines[2].encode())
        out.write(lines[3].encode())

    report = cli("affiliate", str(feed), "--json", clock=T0, expect=2).json

    assert report["created"] == 3
    assert [(r["line"], r["fields"]["_row"]) for r in report["rejected"]] == [
        (3, ["longer than 1 MiB"])
    ]


def test_a_bad_byte_on_line_1502_is_reported_and_every_other_row_created_lc_1(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    rows = people(holders, 1600)
    lines = physical_lines(feed_text(rows))
    raw = bytearray(b"".join(line.encode() for line in lines))
    at = sum(len(line.encode()) for line in lines[:1501]) + 20
    raw[at] = 0xFF
    feed = tmp_path / "feed.csv"
    feed.write_bytes(bytes(raw))

    result = cli("affiliate", str(feed), "--json", clock=T0, expect=2)

    report = result.json
    assert [r["line"] for r in report["rejected"]] == [1502]
    assert report["created"] == 1599
    assert created(cli) == 1599
    no_traceback(result)


@pytest.mark.parametrize("delimiter", [";;", "", '"', "\n"])
def test_a_delimiter_of_other_than_one_plain_character_is_refused_lc_1(
    cli: Any, holders: Any, tmp_path: Path, delimiter: str
) -> None:
    feed = holders.write_feed(tmp_path / "feed.csv", people(holders, 1))

    result = cli("affiliate", str(feed), "--delimiter", delimiter, "--json", expect=2)

    assert list(result.json["fields"]) == ["--delimiter"]
    assert created(cli) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--clock", "9999-12-31T23:59:59-01:00", "stats"],
        ["--clock", "0001-01-01T00:00:00+01:00", "stats"],
        ["list", "--deadline-before", "0001-01-01T00:00:00+01:00"],
        ["list", "--deadline-before", "9999-12-31T23:59:59-12:00"],
        ["deadlines", "list", "--before", "9999-12-31T23:59:59-01:00"],
    ],
)
def test_instants_at_the_edge_of_the_calendar_are_refused_naming_the_flag(
    cli: Any, args: list[str]
) -> None:
    result = cli(*args, expect=2)

    no_traceback(result)
    flag = args[-2] if args[0] != "--clock" else "clock"
    assert f"{flag}:" in result.stderr


# ------------------------------------------------------- the directory (PRO-2)

DIRECTORY_HEADER = (
    "Identification nationale PP|Type d'identifiant PP|Nom d'exercice|"
    "Prénom d'exercice|Code profession|Libellé profession|"
)


def directory_lines(n: int) -> list[str]:
    from stdnum import luhn

    lines = [DIRECTORY_HEADER]
    for i in range(n):
        body = f"1000{i:06d}"
        rpps = body + luhn.calc_check_digit(body)
        lines.append(f"8{rpps}|8|NOM{i}|Prénom|10|Médecin|")
    return lines


def test_a_directory_extract_in_latin_1_rejects_its_lines_and_withdraws_nobody_pro_2(
    cli: Any, tmp_path: Path
) -> None:
    extract = tmp_path / "extract.txt"
    lines = directory_lines(4)
    extract.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli("directory", "import", str(extract), "--json")
    lines[2] = lines[2].replace("NOM1", "NOMÉ")
    raw = b"".join(
        (line + "\n").encode("latin-1" if n == 2 else "utf-8")
        for n, line in enumerate(lines[:3])
    )
    partial = tmp_path / "partial.txt"
    partial.write_bytes(raw)

    result = cli("directory", "import", str(partial), "--full", "--json", expect=2)

    report = result.json
    assert [r["line"] for r in report["rejected"]] == [3]
    assert report["withdrawn"] == 0
    assert "nobody was withdrawn" in report["withdrawal_skipped"]
    assert cli("stats", "--json").json["directory"] == {"physician": 4}


def test_a_full_import_that_would_empty_the_directory_needs_force_pro_2(
    cli: Any, tmp_path: Path
) -> None:
    lines = directory_lines(40)
    whole, partial = tmp_path / "whole.txt", tmp_path / "partial.txt"
    whole.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.write_text("\n".join(lines[:37]) + "\n", encoding="utf-8")  # 4 gone
    cli("directory", "import", str(whole), "--json")

    refused = cli("directory", "import", str(partial), "--full", "--json", expect=3)
    assert (refused.json["withdrawn"], refused.json["absent"]) == (0, 4)
    assert refused.json["listed"] == 40
    assert len(refused.json["absent_sample"]) == 4
    said = cli("directory", "import", str(partial), "--full", expect=3).stdout
    assert "4 of 40 listed are absent" in said
    assert "more than 5%" in said
    assert "--force" in said

    dry = cli(
        "directory", "import", str(partial), "--full", "--force", "--dry-run", "--json"
    ).json
    assert (dry["dry_run"], dry["withdrawn"], dry["events"]) == (True, 4, 0)
    assert cli("stats", "--json").json["directory"] == {"physician": 40}
    within = cli(
        "directory",
        "import",
        str(partial),
        "--full",
        "--max-withdrawn",
        "10",
        "--json",
    ).json
    assert within["withdrawn"] == 4
    assert cli("stats", "--json").json["directory"] == {"physician": 36}
    bad = cli(
        "directory",
        "import",
        str(partial),
        "--full",
        "--max-withdrawn",
        "200",
        "--json",
        expect=2,
    )
    assert "max-withdrawn" in bad.stdout + bad.stderr


def test_a_directory_row_with_shifted_fields_is_rejected_not_imported_pro_2(
    cli: Any, tmp_path: Path
) -> None:
    lines = directory_lines(2)
    lines[1] = lines[1].replace("|8|", "|8|extra|")
    extract = tmp_path / "extract.txt"
    extract.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = cli("directory", "import", str(extract), "--json", expect=2).json

    assert report["created"] == 1
    assert report["rejected"] == [
        {"line": 2, "fields": {"_row": ["7 fields where the header has 6"]}}
    ]


# ------------------------------------------------- tables read whole (ACC-3, PRO-3)


@pytest.mark.parametrize("command", [["matrix", "publish"], ["services", "publish"]])
@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("profession,café\nphysician,1\n".encode("latin-1"), "line 1: not UTF-8"),
        (codecs.BOM_UTF16_BE + "profession\n".encode("utf-16-be"), "UTF-16"),
        (b"\x00\x01\x02binary", "binary"),
    ],
    ids=["latin-1", "utf-16", "binary"],
)
def test_a_table_that_is_not_utf_8_is_refused_naming_file_and_line_acc_3_pro_3(
    cli: Any, tmp_path: Path, command: list[str], content: bytes, words: str
) -> None:
    table = tmp_path / "table.csv"
    table.write_bytes(content)

    result = cli(*command, str(table), "--json", expect=2)

    [message] = result.json["fields"][str(table)]
    assert words in message
    no_traceback(cli(*command, str(table), expect=2))
