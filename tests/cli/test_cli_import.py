"""`espace import legacy-dmp` in real processes, on SQLite and PostgreSQL
(issue 13, LC-6, ADR-0032): a legacy DMP's Bundle (here, another espace's
export) is merged into its holder's open espace, traced (ACC-6); again, it
adds nothing; a bad bundle exits 2 naming the entry and the element; an
espace not open yet holds it until the opening merges it (LC-6); no
espace, exit 4.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from extracts import directory_extract

T0 = "2027-01-04T10:00:00+01:00"
T1 = "2027-01-05T10:00:00+01:00"
T2 = "2027-01-05T10:05:00+01:00"
T3 = "2027-01-05T10:10:00+01:00"
T4 = "2027-01-05T10:15:00+01:00"
PHYSICIAN = "810001045367"


def test_import_legacy_dmp_merges_a_bundle_once_and_traces_it_lc_6_acc_6(
    cli: Any, holders: Any, tmp_path: Path
) -> None:
    extract = tmp_path / "directory.txt"
    extract.write_text(directory_extract([(PHYSICIAN, "physician")]), encoding="utf-8")
    cli("directory", "import", str(extract), "--json", clock=T0)
    source, target = holders.make(1), holders.make(2)
    waiting = holders.make(3, legacy_dmp_ref="DMP-55501239")
    for n, holder in enumerate((source, target)):
        feed = holders.write_feed(tmp_path / f"feed{n}.csv", [holder.row])
        cli("affiliate", str(feed), "--json", clock=T0)
        notice = cli("notify", "--nir", holder.nir, "--json", clock=T0).json
        cli(
            *("activate", "--nir", holder.nir, "--code", notice["activation_code"]),
            *("--birth-date", holder.birth_date),
            *("--vitale-serial", holder.vitale_serial, "--json"),
            clock=T1,
        )
    cli(
        *("consent", "grant", "--nir", source.nir, "--as-holder"),
        *("--professional", PHYSICIAN),
        clock=T1,
    )
    report = tmp_path / "report.txt"
    report.write_text("compte rendu", encoding="utf-8")
    cli(
        *("doc", "deposit", "--nir", source.nir, "--as-professional", PHYSICIAN),
        *("--file", str(report), "--loinc", "11488-4", "--title", "Consultation"),
        *("--care-time", T1, "--category", "report", "--json"),
        clock=T2,
    )
    out = tmp_path / "legacy.json"
    cli(*("export", "fhir", "--nir", source.nir, "--operator", "x"), "--out", str(out))
    bundle = json.loads(out.read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["identifier"][0]["value"] = target.nir
    legacy = tmp_path / "target.json"
    legacy.write_text(json.dumps(bundle), encoding="utf-8")

    first = cli("import", "legacy-dmp", str(legacy), "--json", clock=T3).json
    assert first["imported"] == 1
    assert first["already_imported"] == 0
    again = cli(
        *("import", "legacy-dmp", str(legacy), "--nir", target.nir, "--json"),
        clock=T3,
    ).json
    assert (again["imported"], again["already_imported"]) == (0, 1)
    assert again["espace_id"] == first["espace_id"]
    journal = cli("journal", "--nir", target.nir, "--as-holder", "--json").json
    rows = journal["traces"] if isinstance(journal, dict) else journal
    assert sum(1 for r in rows if r["actor_kind"] == "operator") == 1

    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "DocumentReference":
            entry["resource"]["content"][0]["attachment"]["data"] = "@@"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(bundle), encoding="utf-8")
    error = cli("import", "legacy-dmp", str(broken), "--json", expect=2)
    assert "Traceback" not in error.stderr
    assert any(
        k.endswith("DocumentReference.content[0].attachment.data")
        for k in error.json["fields"]
    ), error.json

    feed = holders.write_feed(tmp_path / "feed3.csv", [waiting.row])
    cli("affiliate", str(feed), "--json", clock=T0)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["identifier"][0]["value"] = waiting.nir
        if resource["resourceType"] == "DocumentReference":
            resource["content"][0]["attachment"]["data"] = base64.b64encode(
                b"compte rendu"
            ).decode()
    early = tmp_path / "early.json"
    early.write_text(json.dumps(bundle), encoding="utf-8")
    held = cli("import", "legacy-dmp", str(early), "--json", clock=T3).json
    assert (held["imported"], held["held"]) == (0, 1), held
    notice = cli("notify", "--nir", waiting.nir, "--json", clock=T3).json
    cli(
        *("activate", "--nir", waiting.nir, "--code", notice["activation_code"]),
        *("--birth-date", waiting.birth_date),
        *("--vitale-serial", waiting.vitale_serial, "--json"),
        clock=T4,
    )
    merged = cli("doc", "list", "--nir", waiting.nir, "--as-holder", "--json").json
    listed = merged["documents"] if isinstance(merged, dict) else merged
    assert [d["document_id"] for d in listed] == held["held_ids"]

    nobody = holders.make(4)
    missing = cli(
        *("import", "legacy-dmp", str(early), "--nir", nobody.nir, "--json"),
        expect=4,
    )
    assert "Traceback" not in missing.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{nope", encoding="utf-8")
    assert (
        "bundle"
        in cli("import", "legacy-dmp", str(garbage), "--json", expect=2).json["fields"]
    )
