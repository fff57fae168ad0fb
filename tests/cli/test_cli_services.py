"""The espace's services beyond the record, through the CLI in real
subprocesses: the directory (PRO-2), messaging (MSG-1..MSG-5), the agenda
(AG-1), the medical profile (PRO-1) and the service catalogue (PRO-3).

Given a store made by `espace init --simulation` (so that `--clock` moves
time) and the directory extract in ``fixtures/`` (the national format: UTF-8,
`|`-separated, a header of 52 columns, a trailing `|`, several rows per
professional, bad rows), when an operator, a professional and a holder run
the commands, then stdout holds one JSON document with --json and refusals
exit 3 naming their rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

import espace as espace_pkg
from espace.cli import main

EXTRACT = (
    Path(__file__).parent / "fixtures" / "PS_LibreAcces_Personne_activite_extrait.txt"
)
DOCTOR = "810001045367"
NURSE = "0012600631"
PHARMACIST = "810002000007"
UNLISTED = "810004000005"
T0 = "2027-01-04T10:00:00+01:00"
DAY1 = "2027-01-05T10:00:00+01:00"
DAY2 = "2027-01-06T10:00:00+01:00"
DAY3 = "2027-01-07T10:00:00+01:00"

NEW_GROUPS = ("directory", "message", "agenda", "profile", "services")


def test_the_directory_extract_is_imported_with_bad_rows_by_line_pro_2_id_3(
    sqlite_cli: Any,
) -> None:
    espace = sqlite_cli
    espace("init", "--simulation", "--json")
    first = espace("directory", "import", str(EXTRACT), "--json", expect=2).json
    assert (first["rows"], first["created"], first["unchanged"]) == (13, 6, 0)
    assert first["skipped_professions"] == {"80 Pédicure-Podologue": 1}
    assert [(r["line"], sorted(r["fields"])) for r in first["rejected"]] == [
        (9, ["Identification nationale PP"]),
        (10, ["Nom d'exercice"]),
        (11, ["Code postal (coord. structure)"]),
    ]
    again = espace("directory", "import", str(EXTRACT), "--json", expect=2).json
    assert (
        again["created"],
        again["updated"],
        again["unchanged"],
        again["events"],
    ) == (
        0,
        0,
        6,
        0,
    )
    human = espace("directory", "import", str(EXTRACT), expect=2)
    assert "line 9: Identification nationale PP" in human.stdout

    found = espace("directory", "search", "--city", "marseille", "--json").json
    assert (found["total"], found["remaining"]) == (1, 0)
    found = found["professionals"]
    assert [r["idnatps"] for r in found] == [PHARMACIST]
    assert len(found[0]["places"]) == 3
    assert [
        r["idnatps"]
        for r in espace("directory", "search", "--name", "lefevre", "--json").json[
            "professionals"
        ]
    ] == [DOCTOR]
    first = espace("directory", "search", "--limit", "1", "--json").json
    assert (first["shown"], first["remaining"]) == (1, first["total"] - 1)
    every = espace("directory", "search", "--limit", "1", "--all", "--json").json
    assert (every["shown"], every["remaining"]) == (first["total"], 0)
    told = espace("directory", "search", "--limit", "1").stdout
    assert f"{first['total'] - 1} more: use --offset 1 or --all" in told
    assert [
        r["profession"]
        for r in espace(
            "directory", "search", "--city", "saint etienne", "--json"
        ).json["professionals"]
    ] == ["physiotherapist"]
    shown = espace("directory", "show", "--professional", NURSE, "--json").json
    assert (shown["profession"], shown["places"][0]["city"]) == ("nurse", "Lyon")
    assert (
        espace("directory", "show", "--idnatps", UNLISTED, "--json", expect=4).json[
            "error"
        ]
        == "not_found"
    )


def test_a_holder_a_professional_and_their_espace_through_the_cli(
    sqlite_cli: Any, holders: Any, tmp_path: Path
) -> None:
    espace = sqlite_cli
    espace("init", "--simulation", "--json")
    espace("directory", "import", str(EXTRACT), "--json", expect=2)
    h = holders.make(1)
    feed = holders.write_feed(tmp_path / "feed.csv", [h.row])
    espace("affiliate", str(feed), "--json", clock=T0)
    code = espace("notify", "--nir", h.nir, "--json", clock=T0).json["activation_code"]
    espace(
        "activate",
        "--nir",
        h.nir,
        "--code",
        code,
        "--birth-date",
        h.birth_date,
        "--vitale-serial",
        h.vitale_serial,
        "--json",
        clock=DAY1,
    )
    holder = ["--nir", h.nir, "--as-holder"]
    doctor = ["--as-professional", DOCTOR]

    # PRO-2: an unlisted professional acts on no espace (and is traced)
    refused = espace(
        "doc",
        "list",
        "--nir",
        h.nir,
        "--as-professional",
        UNLISTED,
        "--profession",
        "physician",
        "--json",
        clock=DAY1,
        expect=3,
    ).json
    assert refused["rule"] == "PRO-2"
    wrong = espace(
        "agenda",
        "list",
        "--nir",
        h.nir,
        "--as-professional",
        NURSE,
        "--profession",
        "physician",
        "--json",
        clock=DAY1,
        expect=3,
    ).json
    assert "as a nurse, not a physician" in wrong["message"]

    # MSG-1: the holder never starts a conversation; a professional does
    nope = espace(
        "message",
        "open",
        *holder,
        "--subject",
        "Question",
        "--body",
        "Bonjour",
        "--json",
        clock=DAY2,
        expect=3,
    ).json
    assert nope["rule"] == "MSG-1"
    # MSG-1, MSG-2: an establishment writes under its FINESS and the name the
    # holder sees; each flag is named when it is wrong or missing
    hospital = ["--as-establishment", "750712184"]
    for flags, named in [
        (hospital, "--establishment-name"),
        (["--as-establishment", "750712185", "--establishment-name", "CHU"], None),
    ]:
        bad = espace(
            "message",
            "open",
            "--nir",
            h.nir,
            *flags,
            *("--subject", "Sortie", "--body", "Compte rendu", "--json"),
            clock=DAY2,
            expect=2,
        ).json
        assert (named or "--as-establishment") in bad["fields"], bad
    by_hospital = espace(
        "message",
        "open",
        "--nir",
        h.nir,
        *hospital,
        *("--establishment-name", "AP-HP Saint-Louis"),
        *("--subject", "Sortie", "--body", "Compte rendu", "--json"),
        clock=DAY2,
    ).json
    espace(
        "message",
        "end",
        "--conversation",
        by_hospital["conversation_id"],
        *hospital,
        *("--establishment-name", "AP-HP Saint-Louis", "--json"),
        clock=DAY2,
    )
    result = tmp_path / "resultats.pdf"
    result.write_bytes(b"%PDF-1.4 resultats")
    opened = espace(
        "message",
        "open",
        "--nir",
        h.nir,
        *doctor,
        "--subject",
        "Vos résultats",
        "--body",
        "Bonjour, voici vos résultats.",
        "--attach",
        str(result),
        "--json",
        clock=DAY2,
    ).json
    conversation = opened["conversation_id"]
    attachment = opened["attachments"][0]["attachment_id"]

    inbox = espace("message", "inbox", *holder, "--json", clock=DAY2).json
    assert (inbox["total"], inbox["remaining"]) == (2, 0)
    inbox = inbox["conversations"]
    assert sorted((r["counterpart_name"], r["unread"]) for r in inbox) == [
        ("AP-HP Saint-Louis", 1),
        ("Anaïs LEFÈVRE", 1),
    ]
    assert "Nantes" not in espace("message", "inbox", *holder, clock=DAY2).stdout
    read = espace(
        "message", "read", "--conversation", conversation, *holder, "--json", clock=DAY2
    ).json
    assert (read["marked_read"], read["messages"][0]["author"]) == (1, "Anaïs LEFÈVRE")
    espace(
        "message",
        "reply",
        "--conversation",
        conversation,
        *holder,
        "--body",
        "Merci !",
        "--json",
        clock=DAY2,
    )
    added = espace(
        "message",
        "add-to-record",
        "--conversation",
        conversation,
        *holder,
        "--attachment",
        attachment,
        "--loinc",
        "11502-2",
        "--json",
        clock=DAY2,
    ).json
    assert added["ground"] == "holder"
    saved = tmp_path / "copy.pdf"
    espace(
        "message",
        "attachment",
        "--conversation",
        conversation,
        *doctor,
        "--attachment",
        attachment,
        "--output",
        str(saved),
        "--json",
        clock=DAY2,
    )
    assert saved.read_bytes() == b"%PDF-1.4 resultats"
    pro_inbox = espace("message", "inbox", *doctor, "--json", clock=DAY2).json
    assert pro_inbox["conversations"][0]["unread"] == 1
    espace(
        "message", "end", "--conversation", conversation, *doctor, "--json", clock=DAY3
    )
    late = espace(
        "message",
        "reply",
        "--conversation",
        conversation,
        *holder,
        "--body",
        "Une autre question",
        "--json",
        clock=DAY3,
        expect=3,
    ).json
    assert late["rule"] == "MSG-3"
    assert "ended this conversation" in late["message"]

    # AG-1
    booked = espace(
        "agenda",
        "add",
        *holder,
        "--with-professional",
        DOCTOR,
        "--at",
        "2027-01-20T14:30:00+01:00",
        "--place",
        "Cabinet du Parc",
        "--reason",
        "Contrôle",
        "--json",
        clock=DAY3,
    ).json
    espace(
        "agenda",
        "add",
        "--nir",
        h.nir,
        *doctor,
        "--with",
        "Laboratoire",
        "--at",
        "2027-01-10T08:00:00+01:00",
        "--json",
        clock=DAY3,
    )
    listed = espace("agenda", "list", *holder, "--json", clock=DAY3).json
    assert (listed["total"], listed["remaining"]) == (2, 0)
    first = espace("agenda", "list", *holder, "--limit", "1", "--json", clock=DAY3)
    assert (first.json["shown"], first.json["remaining"]) == (1, 1)
    listed = listed["appointments"]
    assert [(a["with"], a["status"]) for a in listed] == [
        ("Laboratoire", "scheduled"),
        ("Anaïs LEFÈVRE", "scheduled"),
    ]
    moved = espace(
        "agenda",
        "move",
        "--appointment",
        booked["appointment_id"],
        *doctor,
        "--at",
        "2027-01-21T09:00:00+01:00",
        "--json",
        clock=DAY3,
    ).json
    assert moved["starts_at"] == "2027-01-21T09:00:00+01:00"
    espace(
        "agenda",
        "cancel",
        "--appointment",
        booked["appointment_id"],
        *holder,
        "--json",
        clock=DAY3,
    )
    past = espace(
        "agenda",
        "add",
        *holder,
        "--with",
        "Dr X",
        "--at",
        "2027-01-01T09:00:00+01:00",
        "--json",
        clock=DAY3,
        expect=3,
    ).json
    assert past["rule"] == "AG-1"

    # PRO-1
    espace(
        "profile",
        "measurements",
        *holder,
        "--height",
        "168",
        "--weight",
        "61.5",
        "--json",
        clock=DAY3,
    )
    implausible = espace(
        "profile",
        "measurements",
        *holder,
        "--height",
        "1.68",
        "--json",
        clock=DAY3,
        expect=3,
    ).json
    assert implausible["rule"] == "PRO-1"
    espace(
        "profile",
        "add-allergy",
        *holder,
        "--substance",
        "Pénicilline",
        "--severity",
        "severe",
        "--json",
        clock=DAY3,
    )
    profile = espace("profile", "show", *holder, "--json", clock=DAY3).json
    assert (profile["height_cm"], profile["allergies"][0]["substance"]) == (
        168.0,
        "Pénicilline",
    )
    history = espace("profile", "history", *holder, "--json", clock=DAY3).json
    assert [e["change"] for e in history] == [
        "profile_started",
        "measurements_recorded",
        "allergy_recorded",
    ]
    bad = espace(
        "profile",
        "add-vaccination",
        *holder,
        "--vaccine",
        "DTP",
        "--given-on",
        "not-a-date",
        "--json",
        clock=DAY3,
        expect=2,
    ).json
    assert "--given-on" in bad["fields"]

    # PRO-3
    services = espace("services", "list", "--json").json
    assert "pilulier" in {s["service_id"] for s in services}
    espace(
        "services", "connect", *holder, "--service", "pilulier", "--json", clock=DAY3
    )
    espace(
        "services", "disconnect", *holder, "--service", "pilulier", "--json", clock=DAY3
    )
    assert espace("services", "connections", *holder, "--json").json == []
    journal = espace("journal", *holder, "--json", clock=DAY3).json["traces"]
    details = {r["detail"] for r in journal if r["detail"]}
    assert {
        "connect-service pilulier",
        "disconnect-service pilulier",
        "profile",
        "profile history",
    } <= details
    assert any(r["actor_id"] == UNLISTED and r["rule"] == "PRO-2" for r in journal)

    # The operator's overview counts what the espaces hold, and names nobody.
    stats = espace("stats", "--json", clock=DAY3)
    assert h.nir not in stats.stdout
    counts = {k: stats.json[k] for k in ("messaging", "appointments", "profiles")}
    assert counts == {
        "messaging": {"conversations": 2, "messages": 3, "ended": 2},
        "appointments": {"cancelled": 1, "scheduled": 1},
        "profiles": 1,
    }
    assert stats.json["documents"] == {"patient_uploaded": 1}
    assert stats.json["service_connections"] == {}
    assert sum(stats.json["directory"].values()) >= 1
    human = espace("stats", clock=DAY3).stdout
    assert "messaging: conversations" in human
    assert "medical profiles" in human


def test_every_new_command_has_help_citing_its_rule_and_takes_json() -> None:
    runner = CliRunner()
    for group_name in NEW_GROUPS:
        group = main.commands[group_name]
        assert group.help
        assert any(rule in group.help for rule in ("PRO-", "MSG-", "AG-"))
        for name in group.commands:  # type: ignore[attr-defined]
            result = runner.invoke(main, [group_name, name, "--help"])
            assert result.exit_code == 0, (group_name, name, result.output)
            assert "--json" in result.output, (group_name, name)
            assert any(
                rule in result.output for rule in ("PRO-", "MSG-", "AG-", "ACC-")
            ), (group_name, name)


def test_the_directory_and_a_search_on_postgresql(pg_cli: Any) -> None:
    espace = pg_cli
    assert espace("init", "--json").json["mode"] == "production"
    report = espace("directory", "import", str(EXTRACT), "--json", expect=2).json
    assert report["created"] == 6
    assert [
        r["idnatps"]
        for r in espace("directory", "search", "--profession", "nurse", "--json").json[
            "professionals"
        ]
    ] == [NURSE]
    services = espace("services", "list", "--json").json
    assert services


def test_a_partial_catalogue_removes_nothing_unless_told_and_every_version_stays_pro_3(
    cli: Any, tmp_path: Path
) -> None:
    shipped = (Path(espace_pkg.__file__).parent / "data" / "services.csv").read_text(
        "utf-8"
    )
    header, first, *others = shipped.splitlines()
    partial = tmp_path / "partial.csv"
    partial.write_text(f"{header}\n{first}\n", "utf-8")

    refused = cli("services", "publish", str(partial), "--json", expect=3).json
    assert refused["rule"] == "PRO-3"
    assert others[0].split(",")[0] in refused["message"]
    planned = cli(
        "services", "publish", str(partial), "--dry-run", "--allow-removals", "--json"
    ).json
    assert (planned["dry_run"], len(planned["changes"]["removed"])) == (
        True,
        len(others),
    )
    assert len(cli("services", "list", "--json").json) == len(others) + 1
    published = cli(
        "services", "publish", str(partial), "--allow-removals", "--json"
    ).json
    assert published["version"] == published["previous"] + 1
    assert len(cli("services", "list", "--json").json) == 1

    history = cli("services", "history", "--json").json
    assert [v["source"] for v in history][:1] == ["partial.csv"]
    back = cli(
        "services",
        "publish",
        "--version",
        str(published["previous"]),
        "--json",
    ).json
    assert len(back["changes"]["added"]) == len(others)
    assert len(cli("services", "list", "--json").json) == len(others) + 1
    human = cli("services", "history")
    assert "partial.csv" in human.stdout
