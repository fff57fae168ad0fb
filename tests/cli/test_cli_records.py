"""The record's commands of the CLI, run as real subprocesses (DOC-*, ACC-*).

Given a simulation store (a SQLite file in a temporary folder; once, the main
flow on a PostgreSQL schema) and a holder activated through the CLI itself,
when an operator's script runs ``espace doc ...``, ``espace consent ...``,
``espace journal``, ``espace notifications ...`` and ``espace matrix ...``
with ``--json`` and a simulated ``--clock``, then every command prints JSON
that parses (errors too), and exits 0 when done, 2 on bad input, 3 when a
rule refuses, 4 when the thing does not exist.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from espace.domain.document_metadata import MAX_SIZE
from extracts import directory_extract

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
NIR = "295109912611193"
PERSON = {
    "nir": NIR,
    "birth_name": "MARTIN",
    "first_names": "Claire",
    "birth_date": "1995-10-03",
    "sex": "F",
    "birthplace_code": "99126",
    "vitale_serial": "8000141000017",
    "email": "claire.martin@example.org",
}
PHYSICIAN = ["--as-professional", "810001045367", "--profession", "physician"]
GP = ["--as-professional", "810002000007", "--profession", "physician"]
NURSE = ["--as-professional", "810003000006", "--profession", "nurse"]
STRANGER = ["--as-professional", "810004000005", "--profession", "pharmacist"]
HOLDER = ["--as-holder", "--nir", NIR]


MATRIX_HEADER = (
    "profession,report,summary,imaging,prescription,dispensation,care_plan,"
    "treatment_administered,certificate,reimbursement,patient_uploaded,management"
)


class Cli:
    """``espace --database URL --clock NOW <args> --json`` as a subprocess;
    the simulated clock moves a minute before each command."""

    def __init__(self, url: str, env: dict[str, str], folder: Path) -> None:
        self.url = url
        self.env = env
        self.folder = folder
        self.now = T0

    def raw(self, *args: str, clock: bool = True) -> subprocess.CompletedProcess[str]:
        self.now += timedelta(minutes=1)
        head = ["--database", self.url]
        if clock:
            head += ["--clock", self.now.isoformat()]
        return subprocess.run(
            [sys.executable, "-m", "espace.cli", *head, *args, "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.folder,
        )

    def __call__(self, *args: str, code: int = 0, clock: bool = True) -> Any:
        proc = self.raw(*args, clock=clock)
        assert proc.returncode == code, (
            args,
            proc.returncode,
            proc.stdout,
            proc.stderr,
        )
        assert proc.stdout.strip(), (args, proc.stderr)
        return json.loads(proc.stdout)

    def many(self, cases: list[tuple[str, ...]], code: int) -> list[Any]:
        """Commands that write nothing, run side by side to save process starts."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda args: self(*args, code=code), cases))

    def file(self, name: str, content: str | bytes) -> str:
        path = self.folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    def care_time(self) -> str:
        return (self.now - timedelta(hours=1)).isoformat()


def environment(url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ESPACE_") and k != "PYTHONPATH"
    }
    if url.startswith("postgresql"):
        key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        env["ESPACE_MASTER_KEY"] = key
    return env


def activated_store(url: str, folder: Path) -> Cli:
    """Init a simulation store, affiliate the holder, send the notice, activate."""
    cli = Cli(url, environment(url), folder)
    info = cli("init", "--simulation", clock=False)
    assert info["mode"] == "simulation"
    cast = [(a[1], a[3]) for a in (PHYSICIAN, GP, NURSE, STRANGER)]
    cast.append(("810005000004", "dentist"))
    extract = cli.file("directory.txt", directory_extract(cast))
    assert cli("directory", "import", extract)["rejected"] == []
    feed = cli.file(
        "feed.csv",
        ",".join(PERSON) + "\n" + ",".join(PERSON.values()) + "\n",
    )
    assert cli("affiliate", feed)["created"] == 1
    notice = cli("notify", "--nir", NIR)
    cli.now += timedelta(days=1)
    activated = cli(
        "activate",
        "--nir",
        NIR,
        "--code",
        notice["activation_code"],
        "--birth-date",
        PERSON["birth_date"],
        "--vitale-serial",
        PERSON["vitale_serial"],
    )
    assert activated["state"] == "active"
    return cli


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    folder = tmp_path_factory.mktemp("cli")
    return activated_store(f"sqlite:///{folder / 'espace.db'}", folder)


def deposit(cli: Cli, actor: list[str], category: str = "report", *extra: str) -> str:
    path = cli.file(f"{uuid4().hex}.txt", f"compte rendu {category} {uuid4()}")
    outcome = cli(
        "doc",
        "deposit",
        "--nir",
        NIR,
        *actor,
        "--file",
        path,
        "--loinc",
        "11488-4",
        "--title",
        f"Compte rendu {category}",
        "--care-time",
        cli.care_time(),
        "--category",
        category,
        *extra,
    )
    assert outcome["ground"] in ("consent", "care_team", "medecin_traitant")
    document_id: str = outcome["document_id"]
    return document_id


def main_flow(cli: Cli, *, full: bool = True) -> None:
    """The record's life through the CLI: consent, deposit, replace, mask,
    read, list, history, emergency, journal, notifications, delete. Without
    ``full``, the main path only (each command costs a process start)."""
    # ACC-1/ACC-4: the holder's choices
    cli(
        "consent",
        "designate-medecin-traitant",
        *HOLDER,
        "--professional",
        GP[1],
    )
    choice = cli("consent", "grant", *HOLDER, "--professional", PHYSICIAN[1])
    assert choice["choice"] == "grant"
    if full:
        cli("consent", "grant", *HOLDER, "--professional", NURSE[1])
        shown = cli("consent", "show", *HOLDER)
        assert shown["settings"]["medecin_traitant"] == GP[1]
        assert {p["idnatps"] for p in shown["professionals"]} == {
            PHYSICIAN[1],
            NURSE[1],
        }

    # DOC-1/DOC-2: a deposit, read back byte for byte
    report = deposit(cli, PHYSICIAN, "report")
    out = cli.folder / f"read-{uuid4().hex}.txt"
    read = cli("doc", "read", "--document", report, *HOLDER, "--output", str(out))
    assert read["written_to"] == str(out)
    assert read["ground"] == "holder"
    assert "content" not in read
    assert out.read_text(encoding="utf-8").startswith("compte rendu report")
    assert read["content_hash"] == hashlib.sha256(out.read_bytes()).hexdigest()

    # DOC-3: the author replaces; the history keeps both versions
    v2 = cli.file("v2.txt", "compte rendu corrigé")
    replaced = cli(
        "doc",
        "replace",
        "--document",
        report,
        *PHYSICIAN,
        "--file",
        v2,
        "--loinc",
        "11488-4",
        "--title",
        "Compte rendu corrigé",
        "--care-time",
        cli.care_time(),
    )
    assert replaced["document_id"] == report
    history = cli("doc", "history", "--document", report, *HOLDER)
    assert [h["version_no"] for h in history] == [1, 2]
    assert history[1]["title"] == "Compte rendu corrigé"
    if not full:
        short_flow(cli, report)
        return
    imaging = deposit(cli, PHYSICIAN, "imaging")
    old = cli(
        "doc",
        "read",
        "--document",
        report,
        *NURSE,
        "--version",
        history[0]["version_id"],
    )
    assert old["version_no"] == 1

    # ACC-3: the nurse does not see imaging; DOC-5: masks
    listed = cli("doc", "list", "--nir", NIR, *NURSE)
    assert {d["document_id"] for d in listed} == {report}
    denied = cli("doc", "read", "--document", imaging, *NURSE, code=3)
    assert denied["rule"] == "ACC-3"
    masked = cli("doc", "mask", "--document", report, *HOLDER)
    assert masked["document_id"] == report
    assert cli("doc", "list", "--nir", NIR, *NURSE) == []
    assert {d["document_id"] for d in cli("doc", "list", "--nir", NIR, *GP)} == {
        report,
        imaging,
    }
    cli("doc", "unmask", "--document", report, *HOLDER)

    # DOC-5: hidden from the holder until the author reveals it
    cli("doc", "hide", "--document", imaging, *PHYSICIAN)
    assert cli("doc", "read", "--document", imaging, *HOLDER, code=3)["rule"] == "DOC-5"
    assert {d["document_id"] for d in cli("doc", "list", *HOLDER)} == {report}
    cli("doc", "reveal", "--document", imaging, *PHYSICIAN)
    assert cli("doc", "read", "--document", imaging, *HOLDER)["ground"] == "holder"

    # ACC-2, ACC-5: blocked, but an emergency read goes through and is notified
    cli("consent", "block", *HOLDER, "--professional", NURSE[1])
    assert cli("doc", "read", "--document", report, *NURSE, code=3)["rule"] == "ACC-2"
    urgent = cli("doc", "read", "--document", report, *STRANGER, "--emergency")
    assert urgent["ground"] == "emergency"
    pending = cli("notifications", "pending", "--nir", NIR)
    assert {(a["recipient_kind"], a["reason"]) for a in pending} == {
        ("holder", "emergency_access"),
        ("professional", "emergency_access"),
    }
    alert = pending[0]["alert_id"]
    delivered = cli("notifications", "deliver", "--alert", alert, "--channel", "email")
    assert delivered == {"alert_id": alert, "delivered": True, "channel": "email"}
    assert cli("notifications", "deliver", "--alert", alert, code=3)["rule"] == "ACC-5"
    cli("consent", "refuse-emergency", *HOLDER)
    refused = cli("doc", "read", "--document", report, *STRANGER, "--emergency", code=3)
    assert refused["rule"] == "ACC-5"

    # ACC-6: the journal
    journal = cli("journal", *HOLDER)["traces"]
    assert {"read", "deposit", "replace", "mask", "consent"} <= {
        r["action"] for r in journal
    }
    assert any(not r["allowed"] and r["rule"] == "ACC-2" for r in journal)
    own = cli("journal", "--nir", NIR, *STRANGER)["traces"]
    assert {r["actor_id"] for r in own} == {STRANGER[1]}
    assert {r["mode"] for r in own} == {"emergency"}
    assert len(cli("journal", "--nir", NIR, *GP)["traces"]) == len(journal)

    # DOC-4: logical deletion by the author only
    assert cli("doc", "delete", "--document", imaging, *GP, code=3)["rule"] == "DOC-4"
    cli("doc", "delete", "--document", imaging, *PHYSICIAN)
    assert cli("doc", "read", "--document", imaging, *GP, code=3)["rule"] == "DOC-4"


def short_flow(cli: Cli, report: str) -> None:
    urgent = cli("doc", "read", "--document", report, *STRANGER, "--emergency")
    assert urgent["ground"] == "emergency"
    pending = cli("notifications", "pending", "--nir", NIR)
    assert {a["recipient_id"] for a in pending} == {holder_recipient(pending), GP[1]}
    cli("notifications", "deliver", "--alert", pending[0]["alert_id"])
    journal = cli("journal", *HOLDER)["traces"]
    assert {r["action"] for r in journal} >= {"consent", "deposit", "replace", "read"}
    assert {r["mode"] for r in journal} == {"care", "emergency"}


def holder_recipient(pending: list[dict[str, Any]]) -> str:
    """The holder's recipient id: their espace id (never the NIR)."""
    ids: set[str] = {
        a["recipient_id"] for a in pending if a["recipient_kind"] == "holder"
    }
    assert len(ids) == 1
    assert NIR not in ids
    return ids.pop()


def test_the_record_commands_run_the_whole_flow_on_sqlite_doc_acc(cli: Cli) -> None:
    main_flow(cli)


@pytest.mark.postgres
def test_the_record_commands_run_the_whole_flow_on_postgresql_doc_acc(
    pg_url: str, tmp_path: Path
) -> None:
    main_flow(activated_store(pg_url, tmp_path), full=False)


def test_the_holder_uploads_and_withdraws_consent_doc_2_acc_1(cli: Cli) -> None:
    note = cli.file("directives.pdf", b"%PDF-1.4 Je refuse l'acharnement.")
    uploaded = cli(
        "doc",
        "upload",
        *HOLDER,
        "--file",
        note,
        "--loinc",
        "42348-3",
        "--title",
        "Directives anticipées",
        "--care-time",
        cli.care_time(),
    )
    assert uploaded["ground"] == "holder"
    cli("consent", "grant", *HOLDER, "--professional", STRANGER[1])
    read = cli("doc", "read", "--document", uploaded["document_id"], *STRANGER)
    assert read["format"] == "application/pdf"  # guessed from the file name
    assert read["category"] == "patient_uploaded"
    cli("consent", "withdraw", *HOLDER, "--professional", STRANGER[1])
    again = cli("doc", "read", "--document", uploaded["document_id"], *STRANGER, code=3)
    assert again["rule"] == "ACC-1"
    # withdrawing what was not given is refused by the rule
    assert (
        cli("consent", "withdraw", *HOLDER, "--professional", STRANGER[1], code=3)[
            "rule"
        ]
        == "ACC-1"
    )


BAD_INPUT = [
    (("doc", "list", "--nir", NIR), "actor"),
    (("doc", "list", "--nir", NIR, "--as-heir", "x" * 65), "--as-heir"),
    (
        ("doc", "list", "--nir", NIR, *NURSE[:1], "810001045368", *NURSE[2:]),
        "--as-professional",
    ),
    (("doc", "list", *HOLDER, "--emergency", "--samu"), "mode"),
    (("doc", "list", "--nir", "295109912611199", *HOLDER[:1]), "--nir"),
    (("consent", "grant", *HOLDER, "--professional", "12345"), "--professional"),
    (("agenda", "add", *HOLDER, "--with", "Dr X", "--at", "tomorrow"), "--at"),
]


def test_bad_input_exits_2_naming_the_field(cli: Cli) -> None:
    bodies = cli.many([args for args, _ in BAD_INPUT], code=2)
    for (args, field), body in zip(BAD_INPUT, bodies, strict=True):
        assert body["error"] == "invalid_input", args
        assert field in body["fields"], (args, body)
    # the flag the operator typed (the API calls it starts_at), and the format
    (told,) = bodies[-1]["fields"]["--at"]
    assert "e.g. 2027-03-01T09:00:00+01:00" in told


def test_bad_document_metadata_exits_2_naming_the_field_doc_1(cli: Cli) -> None:
    path, empty = cli.file("cr.txt", "x"), cli.file("empty.txt", "")
    unknown = cli.file("cr.nosuchextension", "x")
    when = cli.care_time()

    def deposit_(file: str, loinc: str, care_time: str) -> tuple[str, ...]:
        return (
            *("doc", "deposit", "--nir", NIR, *PHYSICIAN, "--file", file),
            *("--title", "T", "--loinc", loinc, "--care-time", care_time),
            *("--category", "report"),
        )

    cases = [
        (deposit_(path, "11488-4", "2027-01-04T10:00:00"), "--care-time"),  # naive
        (deposit_(path, "00000-0", when), "--loinc"),
        (deposit_(empty, "11488-4", when), "--file"),
        (
            (
                *("doc", "upload", *HOLDER, "--file", unknown, "--title", "T"),
                *("--loinc", "11488-4", "--care-time", when),
            ),
            "--format",
        ),
    ]
    bodies = cli.many([args for args, _ in cases], code=2)
    for (args, field), body in zip(cases, bodies, strict=True):
        assert field in body["fields"], (args, body)


def test_a_click_usage_error_exits_2(cli: Cli) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(
            pool.map(
                lambda args: cli.raw(*args),
                [
                    ("doc", "deposit", "--nir", NIR, "--category", "patient_uploaded"),
                    ("doc", "read", "--document", "not-a-uuid", *HOLDER),
                ],
            )
        )
    assert [p.returncode for p in procs] == [2, 2]


def test_unknown_things_exit_4(cli: Cli) -> None:
    missing = str(uuid4())
    bodies = cli.many(
        [
            ("doc", "read", "--document", missing, *HOLDER),
            ("doc", "mask", "--document", missing, *HOLDER),
            ("notifications", "deliver", "--alert", missing),
            ("doc", "list", "--nir", "253072B07300470", "--as-holder"),
        ],
        code=4,
    )
    assert {b["error"] for b in bodies} == {"not_found"}


def test_a_rule_refusal_exits_3_with_its_rule_acc_1_acc_4(cli: Cli) -> None:
    body = cli(
        "doc",
        "list",
        "--nir",
        NIR,
        "--as-professional",
        "810005000004",
        "--profession",
        "dentist",
        code=3,
    )
    assert (body["error"], body["rule"]) == ("rule_violation", "ACC-1")
    body = cli(
        "consent",
        "designate-medecin-traitant",
        *HOLDER,
        "--professional",
        NURSE[1],
        code=3,
    )
    assert body["rule"] == "ACC-4"  # the directory lists a nurse (PRO-2)
    body = cli(
        "consent",
        "designate-medecin-traitant",
        *HOLDER,
        "--professional",
        "810009000000",
        code=3,
    )
    assert body["rule"] == "PRO-2"  # not in the directory
    body = cli(
        "consent",
        "grant",
        "--nir",
        NIR,
        *PHYSICIAN,
        "--professional",
        PHYSICIAN[1],
        code=3,
    )
    assert body["rule"] == "DOC-5"  # only the holder chooses


def test_the_access_matrix_is_shown_and_published_in_versions_acc_3(cli: Cli) -> None:
    shown = cli("matrix", "show")
    assert shown["version"] >= 1
    assert "imaging" not in shown["allowed"]["nurse"]
    rows = [
        "physician,1,1,1,1,1,1,1,1,1,1,0",
        "nurse,1,1,1,1,1,1,1,0,0,1,0",
        "social_worker,0,1,0,0,0,1,0,0,0,0,0",
    ]
    good = cli.file("matrix.csv", "\n".join([MATRIX_HEADER, *rows]) + "\n")
    # a partial file does not silently take the other professions' rights
    partial = cli("matrix", "publish", good, code=3)
    assert partial["rule"] == "ACC-3"
    assert "pharmacist" in partial["message"]
    assert "--allow-removals" in partial["message"]
    assert cli("matrix", "show")["version"] == shown["version"]
    planned = cli("matrix", "publish", good, "--dry-run", "--allow-removals")
    assert (planned["dry_run"], planned["version"]) == (True, None)
    assert "pharmacist" in planned["changes"]["removed"]
    assert planned["changes"]["changed"]["nurse"]["after"].count("imaging") == 1
    assert cli("matrix", "show")["version"] == shown["version"]
    published = cli("matrix", "publish", good, "--allow-removals")
    assert published["version"] == shown["version"] + 1
    assert published["previous"] == shown["version"]
    after = cli("matrix", "show")
    assert after["version"] == published["version"]
    assert "imaging" in after["allowed"]["nurse"]
    assert "pharmacist" not in after["allowed"]

    same = cli("matrix", "publish", good, code=3)
    assert same["rule"] == "ACC-3"
    assert "identical" in same["message"]

    bad_rows = [rows[0], "nurse,1,1,1,1,yes,1,1,0,0,1,0"]
    bad = cli.file("bad.csv", "\n".join([MATRIX_HEADER, *bad_rows]) + "\n")
    body = cli("matrix", "publish", bad, code=3)
    assert body["rule"] == "ACC-3"
    assert "line 3" in body["message"]
    assert "dispensation" in body["message"]
    unknown = cli.file("unknown.csv", f"{MATRIX_HEADER}\nbanker,1,1,1,1,1,1,1,1,1,1,1")
    assert "line 2" in cli("matrix", "publish", unknown, code=3)["message"]
    assert cli("matrix", "show")["version"] == published["version"]

    # every version stays: the history, an earlier one shown, and the way back
    history = cli("matrix", "history")
    assert [v["version"] for v in history] == [published["version"], shown["version"]]
    assert history[0]["source"] == "matrix.csv"
    assert "pharmacist" in history[0]["changes"]["removed"]
    earlier = cli("matrix", "show", "--version", str(shown["version"]))
    assert earlier == shown
    back = cli("matrix", "publish", "--version", str(shown["version"]))
    assert back["version"] == published["version"] + 1
    assert "pharmacist" in back["changes"]["added"]
    assert cli("matrix", "show")["allowed"] == shown["allowed"]
    missing = cli("matrix", "show", "--version", "99", code=3)
    assert (missing["rule"], "no version 99" in missing["message"]) == ("ACC-3", True)
    both = cli("matrix", "publish", good, "--version", "1", code=2)
    assert "TABLE" in both["fields"]
    # what `show --csv` prints is the table `publish` takes
    printed = cli.raw("matrix", "show", "--csv")
    assert printed.stdout.splitlines()[0] == MATRIX_HEADER
    again = cli("matrix", "publish", cli.file("shown.csv", printed.stdout), code=3)
    assert "identical" in again["message"]


def test_the_type_list_and_the_rights_by_type_are_published_with_the_matrix_acc_3(
    cli: Cli,
) -> None:
    """ACC-3 by document type, DOC-1: `matrix show --types` lists the types
    in force, `matrix publish --types` extends them, a type column gives a
    profession its own right, and bad files are refused naming the line."""
    listed = cli("matrix", "show", "--types")
    codes = {t["code"]: t for t in listed["types"]}
    assert codes["11502-2"]["category"] == "report"
    assert len(codes) >= 40
    types_text = cli.raw("matrix", "show", "--types", "--csv").stdout
    assert types_text.splitlines()[0] == "code,display,category"
    table = cli.raw("matrix", "show", "--csv").stdout.splitlines()
    by_type = [table[0] + ",11502-2"] + [
        line + (",0" if line.startswith("nurse,") else ",") for line in table[1:]
    ]
    matrix_file = cli.file("by-type.csv", "\n".join(by_type) + "\n")
    more = cli.file("types.csv", types_text + "34109-9,Note,report\n")
    published = cli("matrix", "publish", matrix_file, "--types", more)
    assert published["changes"]["added"] == ["type 34109-9"]
    shown = cli("matrix", "show")
    assert shown["by_type"] == {"nurse": {"11502-2": False}}
    assert (
        cli.raw("matrix", "show", "--csv").stdout.splitlines()[0].endswith(",11502-2")
    )
    assert "34109-9" in {t["code"] for t in cli("matrix", "show", "--types")["types"]}
    for text, message in [
        ("code,display\n", "missing columns category"),
        ("code,display,category\n11488-5,Note,report\n", "line 2"),
    ]:
        body = cli(
            "matrix", "publish", matrix_file, "--types", cli.file("t.csv", text), code=3
        )
        assert body["rule"] == "DOC-1"
        assert message in body["message"]
    unknown = [table[0] + ",99999-9"] + [line + ",1" for line in table[1:]]
    body = cli(
        "matrix", "publish", cli.file("u.csv", "\n".join(unknown) + "\n"), code=3
    )
    assert (body["rule"], "99999-9" in body["message"]) == ("ACC-3", True)
    both = cli("matrix", "publish", "--version", "1", "--types", more, code=2)
    assert "--types" in both["fields"]
    assert cli("matrix", "show")["version"] == published["version"]


def test_a_file_larger_than_the_dmp_takes_is_refused_naming_its_flag_doc_1(
    cli: Cli,
) -> None:
    """DOC-1: 50 MiB at most, the same limit for a deposit and an
    attachment, taken from the domain; nothing is read beyond it."""
    big = Path(cli.folder) / "scan.pdf"
    with big.open("wb") as handle:
        handle.truncate(MAX_SIZE + 1)  # sparse: no 50 MiB written to disk
    deposit, attach = cli.many(
        [
            (
                *("doc", "deposit", "--nir", NIR, *PHYSICIAN, "--file", str(big)),
                *("--title", "T", "--loinc", "11488-4", "--category", "report"),
                *("--care-time", cli.care_time()),
            ),
            (
                *("message", "open", "--nir", NIR, *PHYSICIAN[:2]),
                *("--subject", "s", "--body", "b", "--attach", str(big)),
            ),
        ],
        code=2,
    )
    assert "scan.pdf is larger than 50 MiB (DOC-1)" in deposit["fields"]["--file"]
    assert "scan.pdf is larger than 50 MiB (DOC-1)" in attach["fields"]["--attach"]
