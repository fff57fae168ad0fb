"""`espace export fhir` in real processes, on SQLite and PostgreSQL (issue
13, ADR-0031): the Bundle on stdout parses and every resource validates
against its R4B model; --out writes the file whole; --as-of, --with-history;
the holder's own export (ACC-6) is traced; bad input exits with its code
and a JSON error, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from extracts import directory_extract
from fhir_check import assert_complete, validated_kinds

T0 = "2027-01-04T10:00:00+01:00"
T1 = "2027-01-05T10:00:00+01:00"
T2 = "2027-01-05T10:05:00+01:00"
T3 = "2027-01-05T10:10:00+01:00"
PHYSICIAN = "810001045367"


def test_export_fhir_writes_a_valid_bundle_and_traces_it_acc_6(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    holder = holders.make(1)
    extract = tmp_path / "directory.txt"
    extract.write_text(directory_extract([(PHYSICIAN, "physician")]), encoding="utf-8")
    cli("directory", "import", str(extract), "--json", clock=T0)
    feed = holders.write_feed(tmp_path / "feed.csv", [holder.row])
    cli("affiliate", str(feed), "--json", clock=T0)
    notice = cli("notify", "--nir", holder.nir, "--json", clock=T0).json
    cli(
        *("activate", "--nir", holder.nir, "--code", notice["activation_code"]),
        *("--birth-date", holder.birth_date, "--vitale-serial", holder.vitale_serial),
        "--json",
        clock=T1,
    )
    holder_flag = ["--nir", holder.nir, "--as-holder"]
    cli("consent", "grant", *holder_flag, "--professional", PHYSICIAN, clock=T1)
    report = tmp_path / "report.txt"
    report.write_text("compte rendu", encoding="utf-8")
    cli(
        *("doc", "deposit", "--nir", holder.nir, "--as-professional", PHYSICIAN),
        *("--file", str(report), "--loinc", "11488-4", "--title", "Consultation"),
        *("--care-time", T1, "--category", "report", "--json"),
        clock=T2,
    )

    bundle = cli(
        "export", "fhir", "--nir", holder.nir, "--operator", "support", clock=T3
    ).json
    assert_complete(bundle)

    out = tmp_path / "bundle.json"
    summary = cli(
        *("export", "fhir", *holder_flag, "--out", str(out), "--json"), clock=T3
    ).json
    written = json.loads(out.read_text(encoding="utf-8"))
    assert summary["resources"] == validated_kinds(written)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bundle.json")]

    journal = cli("journal", *holder_flag, "--json", clock=T3).json
    rows = journal["traces"] if isinstance(journal, dict) else journal
    assert sum(1 for r in rows if r["action"] == "export") == 2

    before = cli(
        "export",
        "fhir",
        "--nir",
        holder.nir,
        "--operator",
        "support",
        "--as-of",
        T1,
        clock=T3,
    ).json
    assert "DocumentReference" not in validated_kinds(before)


def test_export_fhir_bad_input_is_a_clear_error_never_a_traceback(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    holder = holders.make(2)
    feed = holders.write_feed(tmp_path / "feed.csv", [holder.row])
    cli("affiliate", str(feed), "--json", clock=T0)
    unknown = holders.make(3)
    cases = [
        (("--nir", unknown.nir, "--operator", "x"), 4, None),
        (("--nir", holder.nir, "--operator", "x", "--as-of", "hier"), 2, "--as-of"),
        (("--nir", holder.nir), 2, "actor"),
        (("--nir", holder.nir, "--operator", "x", "--as-holder"), 2, "actor"),
        (("--nir", holder.nir, "--as-professional", PHYSICIAN), 3, None),
        (("--operator", "x"), 2, "--nir"),
    ]
    for args, code, field in cases:
        result = cli("export", "fhir", *args, "--json", clock=T1, expect=code)
        assert "Traceback" not in result.stderr
        error = result.json
        if field is not None:
            assert field in error["fields"], (args, error)
