"""The espace beyond the record, through the public API, down to the database:
the directory (PRO-2), messaging (MSG-1..MSG-5), the agenda (AG-1), the
medical profile (PRO-1) and the service catalogue (PRO-3).

Each test runs on a SQLite file and on a PostgreSQL schema (``store_url``),
on a store opened with ``require_directory=True`` (the check of PRO-2), views
synced after every command: given a directory imported from an extract in
the national format and an activated espace, when professionals and the
holder use the services, then what they get, the views, the journal and the
raw bytes at rest show what the rules say.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from espace import NotFound, RuleViolation, Store, init_store
from espace.application import outputs
from espace.application.messaging import NewFile
from espace.application.records import actor_from
from espace.domain.actors import Actor, ActorKind
from espace.projections.agenda import appointments as appointments_table
from espace.projections.catalogue import connections as connections_table
from espace.projections.directory import professionals as directory_table
from espace.projections.messaging import conversations as conversations_table
from espace.projections.messaging import inbox as inbox_table
from espace.projections.profiles import profiles as profiles_table
from raw_store import leaks, raw_store

DOCTOR = "810001045367"  # RPPS 10001045367 (ID-3)
NURSE = "0012600631"  # ADELI 012600631 (ID-3)
PHARMACIST = "810002000007"
UNLISTED = "810004000005"

COLUMNS = [
    "Type d'identifiant PP",
    "Identification nationale PP",
    "Identifiant PP",
    "Code civilité d'exercice",
    "Nom d'exercice",
    "Prénom d'exercice",
    "Code profession",
    "Libellé profession",
    "Code catégorie professionnelle",
    "Code savoir-faire",
    "Libellé savoir-faire",
    "Code mode exercice",
    "Raison sociale site",
    "Numéro Voie (coord. structure)",
    "Libellé Voie (coord. structure)",
    "Code postal (coord. structure)",
    "Libellé commune (coord. structure)",
    "Bureau cedex (coord. structure)",
    "Téléphone (coord. structure)",
]
ADDRESS = "17 boulevard des Anglais"


def extract_row(
    idnatps: str,
    last: str,
    first: str,
    code: str,
    label: str,
    site: str,
    postal: str,
    city: str,
    specialty: tuple[str, str] = ("", ""),
) -> list[str]:
    return [
        idnatps[0],
        idnatps,
        idnatps[1:],
        "DR" if code == "10" else "M",
        last,
        first,
        code,
        label,
        "C",
        specialty[0],
        specialty[1],
        "L",
        site,
        "17",
        "boulevard des Anglais",
        postal,
        city,
        f"{postal} {city.upper()}",
        "0240000000",
    ]


ROWS = [
    extract_row(
        DOCTOR,
        "LEFÈVRE",
        "Anaïs",
        "10",
        "Médecin",
        "Cabinet du Parc",
        "44000",
        "Nantes",
        ("SM54", "Médecine générale"),
    ),
    extract_row(
        DOCTOR,
        "LEFÈVRE",
        "Anaïs",
        "10",
        "Médecin",
        "CHU de Nantes",
        "44093",
        "Nantes",
        ("SM54", "Médecine générale"),
    ),
    extract_row(NURSE, "DURAND", "Paul", "60", "Infirmier", "Soins", "69003", "Lyon"),
    extract_row(
        PHARMACIST,
        "MOREAU",
        "Inès",
        "21",
        "Pharmacien",
        "Pharmacie",
        "13001",
        "Marseille",
    ),
]


def extract(rows: list[list[str]]) -> str:
    """The national format: UTF-8, `|`-separated, header, trailing `|`."""
    return "".join("|".join(r) + "|\n" for r in [COLUMNS, *rows])


# --------------------------------------------------------------------- fixtures


@dataclass
class World:
    store: Store
    clock: Any
    espace_id: UUID
    person: Any

    @property
    def holder(self) -> Actor:
        return actor_from({"kind": "holder"}, self.espace_id)

    @property
    def holder_party(self) -> Actor:
        return Actor.holder(self.espace_id)

    def head(self) -> int:
        return self.store._infra.events.recorder.max_notification_id() or 0


DOCTOR_PARTY = Actor.professional(DOCTOR)
DOCTOR_ACTOR = Actor(ActorKind.PROFESSIONAL, DOCTOR, "physician")


@pytest.fixture
def world(store_url: str, clock: Any, people: Any, helpers: Any) -> Iterator[World]:
    env = helpers.store_environ(store_url)
    init_store(store_url, simulation=True, environ=env)
    store = Store.open(store_url, clock=clock, environ=env, require_directory=True)
    try:
        report = store.directory.import_rows(enumerate(_dict_rows(ROWS), start=2))
        assert report.created == 3, outputs.dump(report)
        person = people.make()
        espace_id = helpers.affiliate(store, person)
        helpers.notify(store, person)
        clock.advance(days=2)
        store.lifecycle.activate(person.activation())
        clock.advance(hours=1)
        yield World(store, clock, espace_id, person)
    finally:
        store.close()


def _dict_rows(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(COLUMNS, r, strict=True)) for r in rows]


def rows_of(store: Store, table: sa.Table) -> list[dict[str, Any]]:
    with store._infra.engine.connect() as conn:
        return [dict(r) for r in conn.execute(table.select()).mappings()]


# --------------------------------------------------------------------- PRO-2


def test_an_extract_is_imported_bad_rows_reported_by_line_and_reimport_is_idempotent_pro_2(
    store_url: str, clock: Any, helpers: Any
) -> None:
    env = helpers.store_environ(store_url)
    init_store(store_url, simulation=True, environ=env)
    with Store.open(store_url, clock=clock, environ=env) as store:
        bad_luhn = extract_row(
            "810001045368", "X", "Y", "10", "Médecin", "S", "75001", "Paris"
        )
        podiatrist = extract_row(
            "810005000004", "PIED", "Jo", "80", "Pédicure-Podologue", "S", "75001", "P"
        )
        no_name = extract_row(
            "810006000003", "", "Zoé", "10", "Médecin", "S", "75001", "Paris"
        )
        text = extract([*ROWS, bad_luhn, podiatrist, no_name])
        first = store.directory.import_extract(io.StringIO(text))
        assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
        assert [(r.line, list(r.fields)) for r in first.rejected] == [
            (6, ["Identification nationale PP"]),
            (8, ["Nom d'exercice"]),
        ]
        assert dict(first.skipped_professions) == {"80 Pédicure-Podologue": 1}

        head = store._infra.events.recorder.max_notification_id()
        again = store.directory.import_extract(io.StringIO(text))
        assert (again.created, again.updated, again.unchanged, again.events) == (
            0,
            0,
            3,
            0,
        )
        assert store._infra.events.recorder.max_notification_id() == head

        doctor = store.directory.get(DOCTOR)
        assert doctor["first_name"] == "Anaïs"
        assert [p["site"] for p in doctor["places"]] == [
            "CHU de Nantes",
            "Cabinet du Parc",
        ]

        moved = [r[:] for r in ROWS]
        moved[2][16] = "Villeurbanne"
        clock.advance(days=30)
        changed = store.directory.import_extract(io.StringIO(extract(moved)), full=True)
        assert (changed.updated, changed.unchanged, changed.withdrawn) == (1, 2, 0)
        # a partial extract withdraws nobody past the share, unless forced
        head = store._infra.events.recorder.max_notification_id()
        refused = store.directory.import_extract(
            io.StringIO(extract(moved[:2])), full=True
        )
        assert (refused.withdrawn, refused.absent, refused.listed) == (0, 2, 3)
        assert refused.absent_sample == sorted(refused.absent_sample)
        assert "2 of the 3 listed" in (refused.withdrawal_skipped or "")
        assert store._infra.events.recorder.max_notification_id() == head
        dry = store.directory.import_extract(
            io.StringIO(extract(moved[:2])), full=True, force=True, dry_run=True
        )
        assert (dry.dry_run, dry.withdrawn, dry.events) == (True, 2, 0)
        assert store._infra.events.recorder.max_notification_id() == head
        partial = store.directory.import_extract(
            io.StringIO(extract(moved[:2])), full=True, force=True
        )
        assert (partial.unchanged, partial.withdrawn) == (1, 2)
        assert store.directory.search(name="durand") == []
        assert store.views.directory.get(NURSE)["listed"] is False  # type: ignore[index]
        back = store.directory.import_extract(io.StringIO(extract(moved)))
        assert back.updated == 2
        assert [r["idnatps"] for r in store.directory.search(city="villeurb")] == [
            NURSE
        ]
        # a page says how many match in all (nothing silently dropped)
        everyone = store.directory.search()
        first_page = store.directory.search(limit=1)
        assert (len(first_page), first_page.total) == (1, everyone.total)
        assert everyone.total == len(everyone) > 1


def test_an_import_loads_only_the_professionals_already_listed_pro_2(
    store_url: str, clock: Any, helpers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PRO-2: one query tells a batch's new professionals from the listed
    ones; only those are loaded, to compare (2 million rows a year)."""
    env = helpers.store_environ(store_url)
    init_store(store_url, simulation=True, environ=env)
    with Store.open(store_url, clock=clock, environ=env) as store:
        loaded: list[Any] = []
        get = store._infra.events.repository.get

        def spy(aggregate_id: Any, *args: Any, **kwargs: Any) -> Any:
            loaded.append(aggregate_id)
            return get(aggregate_id, *args, **kwargs)

        monkeypatch.setattr(store._infra.events.repository, "get", spy)
        first = store.directory.import_extract(io.StringIO(extract(ROWS)))
        assert (first.created, loaded) == (3, [])
        again = store.directory.import_extract(io.StringIO(extract(ROWS)))
        assert (again.unchanged, len(loaded)) == (3, 3)


def test_rows_of_one_professional_must_follow_each_other_in_the_extract_pro_2(
    store_url: str, clock: Any, helpers: Any
) -> None:
    env = helpers.store_environ(store_url)
    init_store(store_url, simulation=True, environ=env)
    with Store.open(store_url, clock=clock, environ=env) as store:
        split = [ROWS[0], ROWS[2], ROWS[1]]
        report = store.directory.import_rows(enumerate(_dict_rows(split), start=2))
        assert [r.line for r in report.rejected] == [4]
        assert (
            "must follow each other"
            in report.rejected[0].fields["Identification nationale PP"][0]
        )
        conflicting = [r[:] for r in ROWS[:2]]
        conflicting[1][6] = "21"
        report = store.directory.import_rows(
            enumerate(_dict_rows(conflicting), start=2)
        )
        assert [(r.line, list(r.fields)) for r in report.rejected] == [
            (3, ["Code profession"])
        ]


def test_the_directory_is_searched_by_name_profession_and_city_pro_2(
    world: World,
) -> None:
    d = world.store.directory
    assert [r["idnatps"] for r in d.search(name="lefevre")] == [DOCTOR]
    assert [r["idnatps"] for r in d.search(name="ANAÏS lef")] == [DOCTOR]
    assert [r["idnatps"] for r in d.search(profession="nurse")] == [NURSE]
    assert [r["idnatps"] for r in d.search(city="nantes")] == [DOCTOR]
    assert [r["idnatps"] for r in d.search(city="130")] == [PHARMACIST]
    assert d.search(profession="nurse", city="nantes") == []
    assert world.store.views.directory.counts() == {
        "physician": 1,
        "nurse": 1,
        "pharmacist": 1,
    }


def test_an_unlisted_professional_acts_on_no_espace_and_is_traced_pro_2_acc_6(
    world: World,
) -> None:
    store, espace_id = world.store, world.espace_id
    store.records.consent(
        world.holder,
        espace_id,
        "grant",
        {"idnatps": UNLISTED, "profession": "physician"},
    )
    stranger = Actor(ActorKind.PROFESSIONAL, UNLISTED, "physician")
    with pytest.raises(RuleViolation) as err:
        store.records.list_documents(stranger, espace_id)
    assert err.value.rule == "PRO-2"
    with pytest.raises(RuleViolation) as err:
        store.records.journal(stranger, espace_id)
    assert err.value.rule == "PRO-2"
    liar = Actor(ActorKind.PROFESSIONAL, NURSE, "physician")
    with pytest.raises(RuleViolation) as err:
        store.records.list_documents(liar, espace_id)
    assert "as a nurse, not a physician" in err.value.message
    with pytest.raises(RuleViolation) as err:
        store.messaging.open(
            Actor.professional(UNLISTED), espace_id, {"subject": "s", "body": "b"}
        )
    assert err.value.rule == "PRO-2"
    denied = [r for r in store.views.journal.of_espace(espace_id) if not r["allowed"]]
    assert {(r["actor_id"], r["rule"]) for r in denied} == {
        (UNLISTED, "PRO-2"),
        (NURSE, "PRO-2"),
    }


# --------------------------------------------------------------------- MSG


def test_a_conversation_from_opening_to_end_with_attachments_msg_1_to_msg_4(
    world: World,
) -> None:
    store, espace_id, holder = world.store, world.espace_id, world.holder_party
    store.records.consent(
        world.holder, espace_id, "grant", {"idnatps": DOCTOR, "profession": "physician"}
    )
    document = store.records.deposit(
        DOCTOR_ACTOR,
        espace_id,
        {
            "category": "report",
            "loinc_code": "11502-2",
            "title": "Bilan sanguin",
            "care_time": (world.clock.now - timedelta(hours=1)).isoformat(),
            "format": "text/plain",
        },
        b"Hemoglobine 13.2 g/dL",
    )
    opened = store.messaging.open(
        DOCTOR_PARTY,
        espace_id,
        {"subject": "Vos résultats", "body": "Bonjour, voici vos résultats."},
        files=[NewFile("ordonnance.pdf", "application/pdf", b"%PDF-1.4 ordonnance")],
        documents=[UUID(str(document.document_id))],
    )
    conversation_id = UUID(opened["conversation_id"])
    file_id = UUID(
        next(a for a in opened["attachments"] if a["kind"] == "file")["attachment_id"]
    )

    [row] = store.messaging.inbox(holder)
    assert store.messaging.inbox(holder).total == 1
    assert (row["unread"], row["counterpart_name"], row["subject"]) == (
        1,
        "Anaïs LEFÈVRE",
        "Vos résultats",
    )
    world.clock.advance(minutes=30)
    seen = store.messaging.read(holder, conversation_id)
    assert seen["marked_read"] == 1
    assert seen["messages"][0]["read_at"] == world.clock.now
    assert store.messaging.inbox(holder)[0]["unread"] == 0

    world.clock.advance(minutes=5)
    assert (
        store.messaging.reply(holder, conversation_id, {"body": "Merci !"})[
            "message_no"
        ]
        == 2
    )
    [pro_row] = store.messaging.inbox(DOCTOR_PARTY)
    assert pro_row["unread"] == 1
    assert pro_row["holder_name"].endswith(world.person.row["birth_name"])

    head = world.head()
    assert (
        store.messaging.attachment(DOCTOR_PARTY, conversation_id, file_id)["content"]
        == b"%PDF-1.4 ordonnance"
    )
    world.clock.advance(minutes=5)
    store.messaging.end(DOCTOR_PARTY, conversation_id)
    with pytest.raises(RuleViolation) as err:
        store.messaging.reply(holder, conversation_id, {"body": "Encore une question"})
    assert err.value.rule == "MSG-3"
    assert world.head() == head + 1  # the end; the refused reply wrote nothing
    final = store.messaging.read(DOCTOR_PARTY, conversation_id)
    assert final["ended_at"] is not None
    assert final["messages"][1]["read_at"] is not None  # read receipt of the reply
    assert [a["kind"] for a in final["messages"][0]["attachments"]] == [
        "document",
        "file",
    ]
    entries = store.views.messaging.entries(conversation_id=conversation_id)
    assert {(e["message_no"], e["party_kind"], e["party_id"]) for e in entries} == {
        (n, kind, who)
        for n in (1, 2)
        for kind, who in (("holder", str(espace_id)), ("professional", DOCTOR))
    }


def test_the_holder_adds_a_file_attachment_to_the_record_once_msg_4_acc_6(
    world: World,
) -> None:
    store, holder = world.store, world.holder_party
    opened = store.messaging.open(
        DOCTOR_PARTY,
        world.espace_id,
        {"subject": "Ordonnance", "body": "Voici votre ordonnance."},
        files=[NewFile("ordonnance.pdf", "application/pdf", b"%PDF-1.4 ordonnance")],
    )
    conversation_id = UUID(opened["conversation_id"])
    file_id = UUID(opened["attachments"][0]["attachment_id"])
    world.clock.advance(minutes=5)
    added = store.messaging.add_to_record(
        holder, conversation_id, file_id, {"loinc_code": "57833-6"}
    )
    doc_row = store.views.documents.get(UUID(added["document_id"]))
    assert doc_row is not None
    assert (doc_row["category"], doc_row["author_kind"]) == (
        "patient_uploaded",
        "holder",
    )
    got = store.records.read(world.holder, UUID(added["document_id"]))
    assert got["content"] == b"%PDF-1.4 ordonnance"
    assert got["title"] == "ordonnance.pdf"
    head = world.head()
    with pytest.raises(RuleViolation) as err:
        store.messaging.add_to_record(
            holder, conversation_id, file_id, {"loinc_code": "57833-6"}
        )
    assert err.value.rule == "MSG-4"
    assert world.head() == head

    again = store.messaging.read(holder, conversation_id)
    assert (
        again["messages"][0]["attachments"][0]["added_to_record_as"]
        == added["document_id"]
    )
    uploads = [
        r
        for r in store.views.journal.of_espace(world.espace_id)
        if r["action"] == "upload" and r["allowed"]
    ]
    assert [str(r["document_id"]) for r in uploads] == [added["document_id"]]


def test_the_holder_sees_the_professionals_name_never_their_address_msg_2(
    world: World,
) -> None:
    store = world.store
    opened = store.messaging.open(
        DOCTOR_PARTY, world.espace_id, {"subject": "Rappel", "body": "Rendez-vous"}
    )
    conversation_id = UUID(opened["conversation_id"])
    shown = json.dumps(
        [
            store.messaging.inbox(world.holder_party),
            store.messaging.read(world.holder_party, conversation_id),
        ],
        default=str,
        ensure_ascii=False,
    )
    assert "Anaïs LEFÈVRE" in shown
    for address in ("44000", "44093", "Nantes", "Cabinet du Parc", ADDRESS, "0240"):
        assert address not in shown


def test_the_inbox_exists_once_the_espace_is_open_or_activated_msg_5_lc_4(
    store_url: str, clock: Any, people: Any, helpers: Any
) -> None:
    env = helpers.store_environ(store_url)
    init_store(store_url, simulation=True, environ=env)
    with Store.open(
        store_url, clock=clock, environ=env, require_directory=True
    ) as store:
        store.directory.import_rows(enumerate(_dict_rows(ROWS), start=2))
        person = people.make()
        espace_id = helpers.affiliate(store, person)
        deadline = helpers.notify(store, person)
        message = {"subject": "Bienvenue", "body": "Bonjour"}
        with pytest.raises(RuleViolation) as err:
            store.messaging.open(DOCTOR_PARTY, espace_id, message)
        assert err.value.rule == "MSG-5"
        clock.set(deadline + timedelta(minutes=1))
        store.run_deadlines()
        assert store.views.espaces.get(espace_id)["state"] == "open"  # type: ignore[index]
        opened = store.messaging.open(DOCTOR_PARTY, espace_id, message)
        holder = Actor.holder(espace_id)
        with pytest.raises(RuleViolation) as err:
            store.messaging.inbox(holder)
        assert err.value.rule == "LC-4"
        with pytest.raises(RuleViolation) as err:
            store.messaging.reply(
                holder, UUID(opened["conversation_id"]), {"body": "Merci"}
            )
        assert err.value.rule == "LC-4"
        clock.advance(days=1)
        person.code = store.lifecycle.reissue_code(espace_id).activation_code
        store.lifecycle.activate(person.activation())
        assert [r["unread"] for r in store.messaging.inbox(holder)] == [1]


def test_a_blocked_professional_cannot_message_the_holder_acc_2(world: World) -> None:
    store = world.store
    store.records.consent(
        world.holder, world.espace_id, "block", {"idnatps": DOCTOR, "profession": None}
    )
    with pytest.raises(RuleViolation) as err:
        store.messaging.open(
            DOCTOR_PARTY, world.espace_id, {"subject": "s", "body": "b"}
        )
    assert err.value.rule == "ACC-2"
    hospital = Actor.establishment("750712184", "AP-HP Saint-Louis")
    opened = store.messaging.open(
        hospital, world.espace_id, {"subject": "Sortie", "body": "Compte rendu"}
    )
    [row] = store.messaging.inbox(world.holder_party)
    assert row["counterpart_name"] == "AP-HP Saint-Louis"
    assert (
        store.messaging.inbox(hospital)[0]["conversation_id"]
        == opened["conversation_id"]
    )


# --------------------------------------------------------------------- AG-1


def test_appointments_are_created_moved_cancelled_and_listed_ag_1(
    world: World,
) -> None:
    store, espace_id, now = world.store, world.espace_id, world.clock.now
    mine = store.agenda.schedule(
        world.holder,
        espace_id,
        {
            "with_professional": DOCTOR,
            "starts_at": (now + timedelta(days=7)).isoformat(),
            "place": "Cabinet du Parc",
            "reason": "Suivi de grossesse",
        },
    )
    theirs = store.agenda.schedule(
        Actor(ActorKind.PROFESSIONAL, NURSE, "nurse"),
        espace_id,
        {
            "with": "Infirmier à domicile",
            "starts_at": (now + timedelta(days=2)).isoformat(),
        },
    )
    with pytest.raises(RuleViolation) as err:
        store.agenda.schedule(
            world.holder,
            espace_id,
            {
                "with_professional": UNLISTED,
                "starts_at": (now + timedelta(days=1)).isoformat(),
            },
        )
    assert err.value.rule == "PRO-2"
    listed = store.agenda.upcoming(world.holder, espace_id)
    assert [a["appointment_id"] for a in listed] == [
        theirs["appointment_id"],
        mine["appointment_id"],
    ]
    assert listed[1]["with"] == "Anaïs LEFÈVRE"
    assert listed[1]["reason"] == "Suivi de grossesse"
    assert [
        a["appointment_id"] for a in store.agenda.upcoming(DOCTOR_ACTOR, espace_id)
    ] == [mine["appointment_id"]]
    # the totals are what each may see: the doctor, theirs alone (AG-1)
    assert store.agenda.upcoming(world.holder, espace_id, limit=1).total == 2
    assert store.agenda.upcoming(DOCTOR_ACTOR, espace_id).total == 1
    second = store.agenda.upcoming(world.holder, espace_id, limit=1, offset=1)
    assert [a["appointment_id"] for a in second] == [mine["appointment_id"]]

    moved = store.agenda.move(
        DOCTOR_ACTOR,
        UUID(mine["appointment_id"]),
        {"starts_at": (now + timedelta(days=1)).isoformat()},
    )
    assert moved["starts_at"] == now + timedelta(days=1)
    store.agenda.cancel(world.holder, UUID(theirs["appointment_id"]))
    assert [
        a["appointment_id"] for a in store.agenda.upcoming(world.holder, espace_id)
    ] == [mine["appointment_id"]]
    with pytest.raises(RuleViolation) as err:
        store.agenda.cancel(DOCTOR_ACTOR, UUID(theirs["appointment_id"]))
    assert err.value.rule == "AG-1"
    world.clock.advance(days=2)
    assert store.agenda.upcoming(world.holder, espace_id) == []
    columns = {c.name for c in appointments_table.columns}
    assert not columns & {"reason", "place", "with_label"}
    assert store.views.agenda.counts() == {"scheduled": 1, "cancelled": 1}


# --------------------------------------------------------------------- PRO-1


def test_the_profile_keeps_every_change_and_its_reads_are_traced_pro_1_acc_6(
    world: World,
) -> None:
    store, espace_id, holder = world.store, world.espace_id, world.holder
    store.profile.record_measurements(
        holder, espace_id, {"height_cm": "168", "weight_kg": "61.5"}
    )
    world.clock.advance(days=1)
    allergy = store.profile.record_allergy(
        holder, espace_id, {"substance": "Pénicilline", "severity": "severe"}
    )
    store.profile.record_vaccination(
        holder, espace_id, {"vaccine": "Grippe", "given_on": "2026-10-15"}
    )
    store.profile.designate_trusted_person(
        holder,
        espace_id,
        {"name": "Paul Martin", "relationship": "spouse", "phone": "06 01 02 03 04"},
    )
    store.profile.remove_entry(
        holder, espace_id, {"section": "allergies", "entry_id": allergy["entry_id"]}
    )
    with pytest.raises(RuleViolation) as err:
        store.profile.record_measurements(holder, espace_id, {"weight_kg": "61500"})
    assert err.value.rule == "PRO-1"

    profile = store.profile.show(holder, espace_id)
    assert (profile["height_cm"], profile["weight_kg"]) == (168.0, 61.5)
    assert profile["allergies"] == []
    assert profile["trusted_person"]["name"] == "Paul Martin"
    history = store.profile.history(holder, espace_id)
    assert [h["change"] for h in history] == [
        "profile_started",
        "measurements_recorded",
        "allergy_recorded",
        "vaccination_recorded",
        "trusted_person_designated",
        "allergy_removed",
    ]
    with pytest.raises(RuleViolation) as err:
        store.profile.history(DOCTOR_ACTOR, espace_id)
    assert err.value.rule == "PRO-1"
    with pytest.raises(RuleViolation) as err:
        store.profile.record_allergy(DOCTOR_ACTOR, espace_id, {"substance": "Iode"})
    assert err.value.rule == "PRO-1"
    reads = [
        (r["actor_id"], r["allowed"], r["detail"])
        for r in store.views.journal.of_espace(espace_id)
        if r["detail"] and r["detail"].startswith("profile")
    ]
    assert sorted(reads) == sorted(
        [
            (str(espace_id), True, "profile"),
            (str(espace_id), True, "profile history"),
            (DOCTOR, False, "profile history"),
        ]
    )
    assert store.views.profile.get(espace_id)["changes"] == 5  # type: ignore[index]


# --------------------------------------------------------------------- PRO-3


def test_connecting_a_service_is_an_authorisation_traced_like_any_other_pro_3(
    world: World,
) -> None:
    store, espace_id, holder = world.store, world.espace_id, world.holder
    services = {s["service_id"] for s in store.catalogue.services()}
    assert "pilulier" in services
    store.catalogue.connect(holder, espace_id, "pilulier")
    store.catalogue.connect(holder, espace_id, "suivi-tension")
    with pytest.raises(RuleViolation) as err:
        store.catalogue.connect(holder, espace_id, "pilulier")
    assert err.value.rule == "PRO-3"
    with pytest.raises(RuleViolation) as err:
        store.catalogue.connect(holder, espace_id, "not-referenced")
    assert err.value.rule == "PRO-3"
    with pytest.raises(RuleViolation):
        store.catalogue.connect(DOCTOR_ACTOR, espace_id, "pilulier")
    store.catalogue.disconnect(holder, espace_id, "pilulier")
    connected = store.catalogue.connections(holder, espace_id)
    assert [c["service_id"] for c in connected] == ["suivi-tension"]
    with pytest.raises(RuleViolation) as err:  # the holder's side only
        store.catalogue.connections(DOCTOR_ACTOR, espace_id)
    assert err.value.rule == "DOC-5"
    traces = [
        (r["actor_kind"], r["allowed"], r["detail"])
        for r in store.views.journal.of_espace(espace_id)
        if r["action"] == "consent"
    ]
    assert sorted(traces) == sorted(
        [
            ("holder", True, "connect-service pilulier"),
            ("holder", True, "connect-service suivi-tension"),
            ("holder", False, "connect-service pilulier"),
            ("professional", False, "connect-service pilulier"),
            ("holder", True, "disconnect-service pilulier"),
            ("holder", True, "services connections"),
            ("professional", False, "services connections"),
        ]
    )


# --------------------------------------------------------------------- SEC


def test_messages_appointments_and_the_profile_are_never_stored_in_clear_sec_1(
    world: World, store_url: str
) -> None:
    store, espace_id = world.store, world.espace_id
    opened = store.messaging.open(
        DOCTOR_PARTY,
        espace_id,
        {"subject": "Résultat de biopsie QUETZAL", "body": "Carcinome XYLOPHONE"},
        files=[NewFile("biopsie.txt", "text/plain", b"Marqueur ZANZIBAR positif")],
    )
    store.messaging.reply(
        world.holder_party, UUID(opened["conversation_id"]), {"body": "Inquiete WOMBAT"}
    )
    store.agenda.schedule(
        world.holder,
        espace_id,
        {
            "with": "Dr KUMQUAT",
            "starts_at": (world.clock.now + timedelta(days=3)).isoformat(),
            "place": "Clinique PANGOLIN",
            "reason": "Chimiotherapie NARVAL",
        },
    )
    store.profile.record_condition(world.holder, espace_id, {"name": "Maladie OKAPI"})
    store.rebuild_views()
    blobs = raw_store(store_url)
    # The scan itself works: the espace id (not secret) is found.
    assert any(
        str(espace_id).encode() in b or espace_id.hex.encode() in b
        for b in blobs.values()
    )
    secrets = (
        "QUETZAL",
        "XYLOPHONE",
        "ZANZIBAR",
        "WOMBAT",
        "KUMQUAT",
        "PANGOLIN",
        "NARVAL",
        "OKAPI",
        "biopsie.txt",
    )
    assert leaks(blobs, {s: s.encode() for s in secrets}) == []


def test_erasure_leaves_nothing_of_the_espace_in_the_new_views_sec_4(
    world: World,
) -> None:
    store, espace_id = world.store, world.espace_id
    opened = store.messaging.open(
        DOCTOR_PARTY,
        espace_id,
        {"subject": "s", "body": "b"},
        files=[NewFile("a.txt", "text/plain", b"attached")],
    )
    store.agenda.schedule(
        world.holder,
        espace_id,
        {
            "with": "Dr X",
            "starts_at": (world.clock.now + timedelta(days=3)).isoformat(),
        },
    )
    store.profile.record_measurements(world.holder, espace_id, {"height_cm": "170"})
    store.catalogue.connect(world.holder, espace_id, "pilulier")
    tables = (
        conversations_table,
        inbox_table,
        appointments_table,
        profiles_table,
        connections_table,
    )
    assert all(rows_of(store, t) for t in tables)
    world.clock.advance(days=1)
    store.lifecycle.request_erasure(espace_id)
    store.run_deadlines()
    assert all(rows_of(store, t) == [] for t in tables)
    assert len(rows_of(store, directory_table)) == 3
    with pytest.raises(NotFound):
        store.messaging.read(world.holder_party, UUID(opened["conversation_id"]))
    store.rebuild_views()
    assert all(rows_of(store, t) == [] for t in tables)


def test_rebuilding_the_new_views_equals_keeping_them_up_to_date(world: World) -> None:
    store, espace_id = world.store, world.espace_id
    opened = store.messaging.open(
        DOCTOR_PARTY, espace_id, {"subject": "s", "body": "b"}
    )
    store.messaging.read(world.holder_party, UUID(opened["conversation_id"]))
    store.messaging.end(DOCTOR_PARTY, UUID(opened["conversation_id"]))
    store.agenda.schedule(
        world.holder,
        espace_id,
        {
            "with": "Dr X",
            "starts_at": (world.clock.now + timedelta(days=3)).isoformat(),
        },
    )
    store.profile.record_measurements(world.holder, espace_id, {"height_cm": "170"})
    store.catalogue.connect(world.holder, espace_id, "pilulier")
    tables = (
        directory_table,
        conversations_table,
        inbox_table,
        appointments_table,
        profiles_table,
        connections_table,
    )

    def snapshot() -> list[list[str]]:
        return [
            sorted(repr(sorted(r.items())) for r in rows_of(store, t)) for t in tables
        ]

    before = snapshot()
    store.rebuild_views(
        ["directory", "inbox", "agenda", "profiles", "services", "service_connections"]
    )
    assert snapshot() == before
