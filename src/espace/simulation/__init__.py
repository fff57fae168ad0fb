"""The main job: a synthetic rollout on a simulation store, with a simulated clock.

People are generated from a seed (valid NIRs, Corsica and births abroad
included, a fifth of them minors with a parent), affiliated from a feed that
has a few bad and duplicate rows, notified, and then live their lives: about
2 % oppose, about 20 % activate (some mistype first), a few are suspended,
close, die, ask for erasure or reopen. The deadline job runs every simulated
day, and once more ten years on, when the archives expire.

Everything goes through the public API, as an embedding application would.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from stdnum import luhn
from stdnum.fr import nir as stdnum_nir

from espace.adapters.auditexport import verify_export
from espace.adapters.auditlog import SIGNER_ENV, SIGNER_FILE_ENV
from espace.adapters.meta import read_meta
from espace.adapters.notes import Signer
from espace.adapters.settings import create_engine, parse_database_url
from espace.api import Store, init_store
from espace.application.errors import ConfigurationError
from espace.application.messaging import NewFile
from espace.application.tables import matrix_to_csv, types_to_csv
from espace.domain.access import (
    AccessMatrix,
    Actor,
    ActorKind,
    DocumentType,
)
from espace.domain.calendar import PARIS
from espace.domain.directory import PROFESSION_CODES
from espace.domain.errors import EspaceError

START = datetime(2027, 1, 4, 8, 0, tzinfo=PARIS).astimezone(UTC)
ACTIVE_DAYS = 800
"""How many simulated days of daily life, before the ten-year jump."""

BIRTHPLACES = [
    "75056",
    "69123",
    "13055",
    "2A004",
    "2B033",
    "33063",
    "59350",
    "99126",
    "99350",
]
BIRTH_NAMES = [
    "MARTIN",
    "BERNARD",
    "DUBOIS",
    "THOMAS",
    "ROBERT",
    "PETIT",
    "DURAND",
    "LEROY",
    "MOREAU",
    "SIMON",
    "LAURENT",
    "LEFEBVRE",
    "MICHEL",
    "GARCIA",
]
FIRST_NAMES = {
    "M": ["Jean", "Louis", "Hugo", "Lucas", "Nathan", "Paul", "Yanis"],
    "F": ["Marie", "Emma", "Louise", "Jade", "Alice", "Chloé", "Inès"],
}


PROFESSIONAL_MIX = [
    ("physician", 40),
    ("pharmacist", 15),
    ("nurse", 15),
    ("midwife", 4),
    ("dentist", 6),
    ("physiotherapist", 6),
]
"""The synthetic pool of professionals (profession, how many)."""

DOCUMENT_MIX = [
    # (weight, category, LOINC, title, author profession)
    (40, "report", "11502-2", "Compte rendu d'examens biologiques", "physician"),
    (22, "prescription", "57833-6", "Ordonnance", "physician"),
    (12, "imaging", "18748-4", "Compte rendu d'imagerie", "physician"),
    (10, "summary", "18842-5", "Lettre de liaison de sortie", "physician"),
    (10, "report", "87273-9", "Note de vaccination", "nurse"),
    (6, "dispensation", "60593-1", "Dispensation de médicaments", "pharmacist"),
]
"""DOC-1: lab reports the largest share, then prescriptions, imaging,
discharge letters, vaccinations and dispensations."""


def make_professional(rng: random.Random, profession: str) -> Actor:
    """A professional with a valid IdNatPS: 8 + an 11-digit Luhn RPPS (ID-3)."""
    body = f"1{rng.randint(0, 10**9 - 1):09d}"
    return Actor(
        ActorKind.PROFESSIONAL, "8" + body + luhn.calc_check_digit(body), profession
    )


@dataclass
class Person:
    line: int
    nir: str
    birth_date: date
    vitale_serial: str
    row: dict[str, str]
    espace_id: UUID | None = None
    code: str | None = None
    notice_day: int = 0
    documents: list[UUID] = field(default_factory=list)
    consented: set[str] = field(default_factory=set)


def make_person(rng: random.Random, line: int, today: date) -> Person:
    """A synthetic insured person with a valid NIR and coherent INS traits."""
    sex = rng.choice("MF")
    minor = rng.random() < 0.2
    age_days = (
        rng.randint(0, 17 * 365) if minor else rng.randint(18 * 365 + 1, 95 * 365)
    )
    birth = today - timedelta(days=age_days)
    place = rng.choice(BIRTHPLACES)
    body = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{place}"
    body += f"{rng.randint(1, 999):03d}"
    nir = body + stdnum_nir.calc_check_digits(body)
    serial = f"{rng.randint(10**9, 10**10 - 1)}"
    name = rng.choice(BIRTH_NAMES)
    row = {
        "nir": nir,
        "birth_name": name,
        "first_names": rng.choice(FIRST_NAMES[sex]),
        "birth_date": birth.isoformat(),
        "sex": sex,
        "birthplace_code": place,
        "vitale_serial": serial,
        "legacy_dmp_ref": f"DMP-{rng.randint(10**7, 10**8 - 1)}"
        if rng.random() < 0.1
        else "",
    }
    if minor:
        row.update(
            representative_name=f"{rng.choice(FIRST_NAMES['F'])} {name}",
            representative_role="parent",
            representative_email=f"parent.{line}@example.org"
            if rng.random() < 0.8
            else "",
            representative_postal_address=f"{line} rue de la Paix, 75002 Paris",
        )
    elif rng.random() < 0.7:
        row["email"] = f"person.{line}@example.org"
    else:
        row["postal_address"] = f"{line} avenue de la République, 69003 Lyon"
    return Person(line, nir, birth, serial, row)


def _matrix_csv(rows: dict[str, list[str]]) -> str:
    """An access matrix as the CSV ``publish_matrix`` takes (ACC-3)."""
    allowed = {p: frozenset(c) for p, c in rows.items()}
    return matrix_to_csv(AccessMatrix(version=0, allowed=allowed))


def _corrupt(rng: random.Random, row: dict[str, str]) -> dict[str, str]:
    bad = dict(row)
    choice = rng.randrange(3)
    if choice == 0:
        bad["nir"] = row["nir"][:-2] + f"{(int(row['nir'][-2:]) + 1) % 97:02d}"
    elif choice == 1:
        bad["birth_name"] = ""
    else:
        bad["birth_date"] = "1990-02-30"
    return bad


def _prepare_store(url: str | None, fresh: bool) -> str:
    settings = parse_database_url(url)
    if fresh:
        if settings.kind != "sqlite" or settings.sqlite_path is None:
            raise ConfigurationError(
                "--fresh works on SQLite files; give an empty schema"
            )
        path = settings.sqlite_path
        if path.exists():
            engine = create_engine(settings)
            try:
                mode = read_meta(engine).get("mode")
            finally:
                engine.dispose()
            if mode != "simulation":
                raise ConfigurationError(
                    f"{path} is not a simulation store: --fresh refuses to delete it"
                )
            for suffix in ("", "-wal", "-shm", ".key"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    init_store(settings.url, simulation=True)
    engine = create_engine(settings)
    try:
        meta = read_meta(engine)
    finally:
        engine.dispose()
    if meta.get("mode") != "simulation":
        raise ConfigurationError(
            f"{settings.redacted_url} is a production store: simulate only writes to "
            "simulation stores (use another --database, or --fresh on a simulation "
            "file)"
        )
    return settings.url


def run_simulation(
    url: str | None,
    *,
    people: int,
    seed: int,
    fresh: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the synthetic rollout; return the summary."""
    url = _prepare_store(url, fresh)
    rng = random.Random(seed)
    now = [START]
    environ = dict(os.environ)
    if not (environ.get(SIGNER_ENV) or environ.get(SIGNER_FILE_ENV)):
        # No log key given: sign this run's checkpoints with a key of its own,
        # whose verifier key the summary prints.
        environ[SIGNER_ENV] = Signer.generate("espace.simulation/audit").key
    with Store.open(
        url, clock=lambda: now[0], sync_views=False, environ=environ
    ) as store:
        store.sync()
        if sum(store.espaces.counts_by_state().values()) > 0:
            raise ConfigurationError(
                "the simulation store already holds espaces: use --fresh or another "
                "file"
            )
        sim = _Simulation(store, rng, now)
        started = time.perf_counter()
        sim.run(people, progress)
        elapsed = time.perf_counter() - started
        store.sync()
        events = store.head()
        return {
            "people": people,
            "seed": seed,
            "database": store.settings.redacted_url,
            "states": store.espaces.counts_by_state(),
            "events": events,
            "commands": sim.commands,
            "rejected_rows": sim.rejected_rows,
            "actions": dict(sorted(sim.actions.items())),
            **store.content_counts(),
            "deadlines": dict(sorted(sim.deadlines.items())),
            "reference_tables": sim.reference,
            "audit": sim.audit,
            "elapsed_s": round(elapsed, 2),
            "events_per_s": round(events / elapsed) if elapsed else 0,
            "commands_per_s": round(sim.commands / elapsed) if elapsed else 0,
            "simulated_until": now[0].isoformat(),
        }


class _NothingToDo(Exception):
    """A planned action that has nothing to act on (no document yet)."""


class _Simulation:
    def __init__(self, store: Store, rng: random.Random, now: list[datetime]) -> None:
        self.store = store
        self.rng = rng
        self.now = now
        self.actions: Counter[str] = Counter()
        self.deadlines: Counter[str] = Counter()
        self.commands = 0
        self.day = 0
        self.rejected_rows = 0
        self.agenda: dict[int, list[tuple[str, Person]]] = defaultdict(list)
        self.pros: dict[str, list[Actor]] = {
            profession: [make_professional(rng, profession) for _ in range(n)]
            for profession, n in PROFESSIONAL_MIX
        }
        self.doc_weights = [w for w, *_ in DOCUMENT_MIX]
        self.audit: dict[str, Any] = {}
        self.reference: dict[str, Any] = {}

    def at_day(self, day: int, hour: int = 10) -> datetime:
        local = datetime.combine(
            START.astimezone(PARIS).date() + timedelta(days=day),
            datetime.min.time(),
            tzinfo=PARIS,
        )
        return (
            local + timedelta(hours=hour, minutes=self.rng.randint(0, 59))
        ).astimezone(UTC)

    def run(self, people: int, progress: bool) -> None:
        population = [make_person(self.rng, i + 2, START.date()) for i in range(people)]
        columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
        with Progress(*columns, disable=not progress, transient=True) as bar:
            task = bar.add_task("affiliation", total=people + ACTIVE_DAYS + 1)
            self.import_directory()
            self.affiliate(population, lambda n: bar.advance(task, n))
            self.plan(population)
            bar.update(task, description="daily life")
            for day in range(ACTIVE_DAYS):
                self.live_day(day)
                bar.advance(task)
            bar.update(task, description="audit")
            self.reference_tables()
            self.audit_day(population)
            bar.update(task, description="ten years on")
            self.now[0] = self.at_day(ACTIVE_DAYS + 3653 + 30, hour=2)
            self.run_deadlines()
            self.audit_after_erasures(population)
            bar.advance(task)

    def affiliate(
        self, population: list[Person], advance: Callable[[int], None]
    ) -> None:
        feed: list[tuple[int, dict[str, Any]]] = []
        for person in population:
            roll = self.rng.random()
            if roll < 0.005:
                feed.append((person.line, _corrupt(self.rng, person.row)))
                continue
            feed.append((person.line, person.row))
            if roll < 0.01:
                feed.append((person.line, person.row))  # sent twice by the insurer
        self.now[0] = self.at_day(0, hour=6)
        report = self.store.lifecycle.affiliate_feed(feed, progress=advance)
        self.commands += len(feed)
        self.rejected_rows = len(report.rejected)
        self.actions["affiliated"] = report.created
        self.actions["affiliation_duplicates"] = report.already_affiliated
        rejected = {r.line for r in report.rejected}
        for person in population:
            if person.line not in rejected:
                person.espace_id = self.store.lifecycle.espace_id_for(person.nir)
        self.store.sync()

    def plan(self, population: list[Person]) -> None:
        """Decide each person's life: notices go out in five daily waves."""
        rng = self.rng
        for person in population:
            if person.espace_id is None:
                continue
            notice_day = rng.randrange(5)
            person.notice_day = notice_day
            self.agenda[notice_day].append(("notice", person))
            roll = rng.random()
            if roll < 0.02:
                late = rng.random() < 0.1
                self.agenda[
                    notice_day + (rng.randint(43, 60) if late else rng.randint(1, 41))
                ].append(("oppose", person))
                continue
            if roll < 0.22:
                in_window = rng.random() < 0.4
                day = notice_day + (
                    rng.randint(1, 41) if in_window else rng.randint(43, 200)
                )
                if rng.random() < 0.15:
                    self.agenda[day].append(("activate_wrong", person))
                self.agenda[day].append(("activate", person))
                self.plan_holder(person, day)
            self.plan_record(person, notice_day)
            self.plan_services(person, notice_day, day if roll < 0.22 else None)
            later = rng.random()
            if later < 0.01:
                day = rng.randint(60, 400)
                self.agenda[day].append(("close", person))
                if rng.random() < 0.2:
                    self.agenda[day + rng.randint(30, 200)].append(("reopen", person))
            elif later < 0.015:
                self.agenda[rng.randint(30, 700)].append(("death", person))
            elif later < 0.018:
                self.agenda[rng.randint(60, 400)].append(("erasure", person))
            elif later < 0.020:
                day = rng.randint(100, 300)
                self.agenda[day].append(("suspend", person))
                if rng.random() < 0.5:
                    self.agenda[day + rng.randint(1, 30)].append(("object", person))

    def plan_holder(self, person: Person, activated_day: int) -> None:
        """An activated holder's choices: médecin traitant, masks, refusals."""
        rng = self.rng
        if rng.random() < 0.5:
            self.agenda[activated_day + rng.randint(1, 60)].append(
                ("designate_mt", person)
            )
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            self.agenda[activated_day + rng.randint(30, 500)].append(("mask", person))
        if rng.random() < 0.02:
            self.agenda[activated_day + rng.randint(1, 300)].append(
                ("refuse_emergency", person)
            )

    def plan_record(self, person: Person, notice_day: int) -> None:
        """Care episodes after the espace opens: deposits and reads, a few
        unconsented attempts, and rare emergencies."""
        rng = self.rng
        visits = rng.choice([0, 1, 1, 2, 2, 3])
        for _ in range(visits):
            day = notice_day + rng.randint(43, ACTIVE_DAYS - 1)
            self.agenda[day].append(("visit", person))
            self.agenda[min(day + rng.randint(0, 30), ACTIVE_DAYS - 1)].append(
                ("read", person)
            )
        if rng.random() < 0.1:
            self.agenda[notice_day + rng.randint(43, ACTIVE_DAYS - 1)].append(
                ("unconsented_read", person)
            )
        if rng.random() < 0.005:
            self.agenda[notice_day + rng.randint(43, ACTIVE_DAYS - 1)].append(
                ("emergency", person)
            )

    def record_act(self, kind: str, p: Person) -> None:
        """One action on the record; refusals are counted, as in real life."""
        assert p.espace_id is not None
        records, rng = self.store.records, self.rng
        if kind == "visit":
            _, category, loinc, title, profession = rng.choices(
                DOCUMENT_MIX, weights=self.doc_weights
            )[0]
            pro = rng.choice(self.pros[profession])
            if pro.id not in p.consented:
                records.declare_consent(pro, p.espace_id)
                p.consented.add(pro.id)
            hidden = category == "report" and loinc == "11502-2" and rng.random() < 0.1
            body = f"%PDF-1.4 synthetic {title} {rng.random()}".encode()
            outcome = records.deposit(
                pro,
                p.espace_id,
                {
                    "category": category,
                    "loinc_code": loinc,
                    "title": title,
                    "care_time": (self.now[0] - timedelta(hours=2)).isoformat(),
                    "format": "application/pdf",
                    "hidden_from_holder": hidden,
                },
                body,
            )
            p.documents.append(UUID(outcome.document_id))
        elif kind in ("read", "unconsented_read", "emergency"):
            if not p.documents:
                raise _NothingToDo
            document = rng.choice(p.documents)
            if kind == "read" and p.consented:
                idnatps = rng.choice(sorted(p.consented))
                pro = next(
                    a for group in self.pros.values() for a in group if a.id == idnatps
                )
            else:
                pro = rng.choice(self.pros["physician"])
            mode = "emergency" if kind == "emergency" else "care"
            records.read(pro, document, mode=mode)
        elif kind == "mask":
            if not p.documents:
                raise _NothingToDo
            records.mask(
                Actor(ActorKind.HOLDER, str(p.espace_id)), rng.choice(p.documents)
            )
        elif kind == "designate_mt":
            pro = rng.choice(self.pros["physician"])
            records.consent(
                Actor(ActorKind.HOLDER, str(p.espace_id)),
                p.espace_id,
                "designate-medecin-traitant",
                {"idnatps": pro.id, "profession": "physician"},
            )
        elif kind == "refuse_emergency":
            records.consent(
                Actor(ActorKind.HOLDER, str(p.espace_id)),
                p.espace_id,
                "refuse-emergency",
            )

    def live_day(self, day: int) -> None:
        self.day = day
        todo = self.agenda.pop(day, [])
        notices = [p for kind, p in todo if kind == "notice"]
        if notices:
            self.now[0] = self.at_day(day, hour=7)
            by_id = {p.espace_id: p for p in notices if p.espace_id is not None}
            for issued in self.store.lifecycle.send_notices(list(by_id)):
                by_id[UUID(issued.espace.espace_id)].code = issued.activation_code
                self.actions["notice"] += 1
                self.count_mail_record(issued.mail_record())
            self.commands += len(notices)
        for kind, person in todo:
            if kind != "notice":
                self.now[0] = max(self.now[0], self.at_day(day))
                self.act(kind, person)
        self.live_services_day(day)
        self.now[0] = self.at_day(day + 1, hour=2)
        self.run_deadlines()

    def count_mail_record(self, record: dict[str, str]) -> None:
        """LC-1, LC-12: what the mail house gets for a notice: an address
        for its channel, and the last day to oppose (LC-2)."""
        address = (
            record["email"]
            if record["channel"] == "email"
            else (record["postal_address"])
        )
        self.actions["mail_record"] += 1
        if not (address and record["name"] and record["last_day_to_oppose"]):
            self.actions["mail_record_unaddressed"] += 1

    def reference_tables(self) -> None:
        """ACC-3, PRO-3: the operator revises the access matrix (seen first
        in a dry run), a partial file is refused, and the first version is
        put back; every version stays."""
        records = self.store.records
        matrix = records.matrix()
        rows = matrix.to_rows()
        revised = {
            p: [c for c in cats if c != "certificate"] for p, cats in rows.items()
        }
        # ACC-3 by type: nurses no longer read laboratory reports (the rest
        # of their reports they still do); DOC-1: the type list gains one
        text = matrix_to_csv(
            AccessMatrix(
                0,
                {p: frozenset(c) for p, c in revised.items()},
                by_type={"nurse": {"11502-2": False}},
            )
        )
        types = types_to_csv(
            {**matrix.types, "34109-9": DocumentType("34109-9", "Note", "report")}
        )
        planned = records.publish_matrix(
            text, "revision.csv", types=types, dry_run=True
        )
        records.publish_matrix(text, "revision.csv", types=types)
        partial = {p: cats for p, cats in revised.items() if p != "pharmacist"}
        try:
            records.publish_matrix(_matrix_csv(partial), "partial.csv")
        except EspaceError:
            self.actions["matrix_partial_refused"] += 1
        records.republish_matrix(matrix.version, allow_removals=True)
        self.commands += 3
        self.reference = {
            "matrix_versions": len(records.matrix_history()),
            "matrix_changed_professions": len(planned["changes"]["changed"]),
            "matrix_types_added": len(planned["changes"]["added"]),
            "matrix_restored_version": matrix.version,
            "matrix_restored": records.matrix().entries() == matrix.entries(),
            "catalogue_versions": len(self.store.catalogue.history()),
        }

    def act(self, kind: str, p: Person) -> None:
        assert p.espace_id is not None
        life = self.store.lifecycle
        self.commands += 1
        try:
            if kind == "oppose":
                life.oppose(p.espace_id, {"channel": self.rng.choice(["web", "phone"])})
            elif kind in ("activate", "activate_wrong"):
                if self.day - p.notice_day >= 85 and p.code is not None:
                    # The provisional code expires after 90 days: ask for a new one.
                    p.code = life.reissue_code(p.espace_id).activation_code
                    self.actions["reissue"] += 1
                code = p.code or ""
                if kind == "activate_wrong":
                    code = "WRONG-CODE1"
                life.activate(
                    {
                        "nir": p.nir,
                        "code": code,
                        "birth_date": p.birth_date.isoformat(),
                        "vitale_serial": p.vitale_serial,
                        "as_representative": "representative_name" in p.row,
                    }
                )
            elif kind == "close":
                life.close(p.espace_id)
            elif kind == "reopen":
                p.code = life.reopen(p.espace_id).activation_code
            elif kind == "death":
                day = self.now[0].astimezone(PARIS).date() - timedelta(days=1)
                life.declare_death(p.espace_id, {"date_of_death": day.isoformat()})
            elif kind == "erasure":
                life.request_erasure(p.espace_id)
            elif kind == "suspend":
                life.suspend(p.espace_id, {"reason": "suspected fraud"})
            elif kind == "object":
                life.object_to_suspension(p.espace_id)
            elif kind in SERVICE_ACTIONS:
                self.services_act(kind, p)
            else:
                self.record_act(kind, p)
        except _NothingToDo:
            self.commands -= 1
            return
        except EspaceError as exc:
            rule = getattr(exc, "rule", exc.code)
            self.actions[f"{kind}_refused_{rule}"] += 1
        else:
            self.actions[kind] += 1

    def run_deadlines(self) -> None:
        report = self.store.deadlines.run_due()
        self.deadlines.update(report.done)
        for kind, n in report.skipped.items():
            self.deadlines[f"{kind}_skipped"] += n

    # ------------------------------------------------------------------
    # The auditor (ADR-0021, ADR-0022): sign the log, verify it, replay a few
    # espaces as of an earlier instant, ask who could read a document then,
    # list a professional's accesses, export espaces and check the exports
    # offline. Its choices use a generator of its own, drawn from nobody's.

    AUDITOR = "simulation auditor"
    AUDITED = 5

    def audit_day(self, population: list[Person]) -> None:
        audit, rng = self.store.audit, random.Random(len(population))
        signed = audit.checkpoint()
        signer = self.store.audit_log.signer
        assert signer is not None  # run_simulation always gives one
        verifier = signer.verifier
        with_documents = [p for p in population if p.documents]
        chosen = rng.sample(with_documents, min(self.AUDITED, len(with_documents)))
        midway = self.at_day(ACTIVE_DAYS // 2, hour=12)
        counts: Counter[str] = Counter()
        for person in chosen:
            assert person.espace_id is not None
            history = audit.history(
                person.espace_id, as_of=midway, auditor=self.AUDITOR
            )
            counts["history_events"] += len(history["events"])
            document = person.documents[0]
            access = audit.access(document, at=self.now[0], auditor=self.AUDITOR)
            counts["access_routes"] += len(access["who"])
            export = audit.export(person.espace_id, auditor=self.AUDITOR)
            check = verify_export(export, [verifier])
            counts["exports_valid" if check.valid else "exports_invalid"] += 1
            counts["exported_entries"] += check.entries
        physician = self.pros["physician"][0]
        attempts = audit.professional(physician.id, auditor=self.AUDITOR, limit=1)
        report = audit.verify()
        self.audit.update(
            verifier_key=verifier.key,
            checkpoint_size=signed.size,
            audited_espaces=len(chosen),
            **dict(sorted(counts.items())),
            professional_attempts=attempts["total"],
            verified_rows=report.rows,
            intact=report.intact,
        )

    def audit_after_erasures(self, population: list[Person]) -> None:
        """Ten years on, erased espaces' leaves still verify (SEC-4)."""
        audit = self.store.audit
        signed = audit.checkpoint()
        report = audit.verify()
        erased = [
            p
            for p in population
            if p.espace_id is not None
            and (self.store.espaces.get(p.espace_id) or {}).get("state") == "erased"
        ][:1]
        for person in erased:
            assert person.espace_id is not None
            export = audit.export(person.espace_id, auditor=self.AUDITOR)
            self.audit["erased_export_entries"] = len(export["entries"])
        self.audit.update(
            final_checkpoint_size=signed.size,
            final_verified_rows=report.rows,
            intact_after_erasures=report.intact,
        )

    # ------------------------------------------------------------------
    # The espace beyond the record: the directory (PRO-2), messages (MSG-*),
    # appointments (AG-1), the medical profile (PRO-1), services (PRO-3).
    # Their randomness has its own generator, derived from the main one's
    # state without drawing from it: the rest of the simulation is unchanged.

    def import_directory(self) -> None:
        """PRO-2: the synthetic professionals are listed before anyone acts."""
        self.srng = random.Random(repr(self.rng.getstate()[1]))
        self.conversations: dict[UUID, list[tuple[UUID, Actor]]] = defaultdict(list)
        self.appointments_of: dict[UUID, list[UUID]] = defaultdict(list)
        self.services_agenda: dict[int, list[tuple[str, Person]]] = defaultdict(list)
        self.unlisted = make_professional(self.srng, "physician")
        codes = {profession: code for code, profession in PROFESSION_CODES.items()}
        rows: list[tuple[int, dict[str, Any]]] = []
        for group in self.pros.values():
            for pro in group:
                sex = self.srng.choice("MF")
                last = self.srng.choice(BIRTH_NAMES)
                first = self.srng.choice(FIRST_NAMES[sex])
                assert pro.profession is not None
                for _ in range(self.srng.choice([1, 1, 2])):
                    city, postal = self.srng.choice(SIM_CITIES)
                    rows.append(
                        (
                            len(rows) + 2,
                            {
                                "Identification nationale PP": pro.id,
                                "Type d'identifiant PP": pro.id[0],
                                "Nom d'exercice": last,
                                "Prénom d'exercice": first,
                                "Code profession": codes[pro.profession],
                                "Libellé profession": pro.profession,
                                "Code mode exercice": self.srng.choice("LS"),
                                "Raison sociale site": f"Cabinet {last.title()}",
                                "Code postal (coord. structure)": postal,
                                "Libellé commune (coord. structure)": city,
                            },
                        )
                    )
        self.now[0] = self.services_day(0, hour=5)
        report = self.store.directory.import_rows(rows)
        self.commands += 1
        self.actions["directory_listed"] = report.created
        self.store.sync()

    def live_services_day(self, day: int) -> None:
        """The day's actions beyond the record, after the others."""
        for kind, person in self.services_agenda.pop(day, []):
            self.now[0] = max(self.now[0], self.services_day(day))
            self.act(kind, person)

    def services_day(self, day: int, hour: int | None = None) -> datetime:
        """Like ``at_day``, drawing from the services' own generator."""
        local = datetime.combine(
            START.astimezone(PARIS).date() + timedelta(days=day),
            datetime.min.time(),
            tzinfo=PARIS,
        )
        hours = self.srng.randint(8, 17) if hour is None else hour
        minutes = self.srng.randint(0, 59)
        return (local + timedelta(hours=hours, minutes=minutes)).astimezone(UTC)

    def plan_services(
        self, person: Person, notice_day: int, activated_day: int | None
    ) -> None:
        """Messages from professionals, and for activated holders their
        replies, appointments, profile and connected services."""
        rng = self.srng
        last = ACTIVE_DAYS - 1
        if rng.random() < 0.3:
            day = notice_day + rng.randint(43, ACTIVE_DAYS - 40)
            self.services_agenda[day].append(("message_open", person))
            end = day + rng.randint(11, 30)
            if rng.random() < 0.7:
                self.services_agenda[end].append(("message_end", person))
            # The holder reads and replies once the espace is activated (LC-4);
            # some try again after the professional ended it (MSG-3).
            if activated_day is not None and rng.random() < 0.6:
                reply = max(day, activated_day + 1) + rng.randint(0, 10)
                self.services_agenda[min(reply, last)].append(("message_reply", person))
                if reply < end and rng.random() < 0.2:
                    self.services_agenda[min(end + rng.randint(1, 5), last)].append(
                        ("message_late_reply", person)
                    )
        if rng.random() < 0.05:
            self.services_agenda[notice_day + rng.randint(43, last)].append(
                ("pro_appointment", person)
            )
        if rng.random() < 0.005:
            self.services_agenda[notice_day + rng.randint(43, last)].append(
                ("unlisted_read", person)
            )
        if activated_day is None:
            return
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            day = min(activated_day + rng.randint(1, 400), last)
            self.services_agenda[day].append(("appointment", person))
            roll = rng.random()
            if roll < 0.3:
                self.services_agenda[min(day + rng.randint(1, 20), last)].append(
                    ("appointment_move", person)
                )
            elif roll < 0.45:
                self.services_agenda[min(day + rng.randint(1, 20), last)].append(
                    ("appointment_cancel", person)
                )
        if rng.random() < 0.4:
            self.services_agenda[min(activated_day + rng.randint(1, 100), last)].append(
                ("profile_measure", person)
            )
            if rng.random() < 0.5:
                self.services_agenda[
                    min(activated_day + rng.randint(101, 500), last)
                ].append(("profile_measure", person))
        if rng.random() < 0.2:
            self.services_agenda[min(activated_day + rng.randint(1, 300), last)].append(
                ("profile_allergy", person)
            )
        if rng.random() < 0.2:
            self.services_agenda[min(activated_day + rng.randint(1, 300), last)].append(
                ("profile_vaccination", person)
            )
        if rng.random() < 0.1:
            day = min(activated_day + rng.randint(1, 300), last)
            self.services_agenda[day].append(("service_connect", person))
            if rng.random() < 0.3:
                self.services_agenda[min(day + rng.randint(1, 200), last)].append(
                    ("service_disconnect", person)
                )

    def services_act(self, kind: str, p: Person) -> None:
        """One action beyond the record; refusals are counted by the caller."""
        assert p.espace_id is not None
        store, rng, now = self.store, self.srng, self.now[0]
        holder = Actor(ActorKind.HOLDER, str(p.espace_id))
        holder_actor = Actor.holder(p.espace_id)
        if kind == "message_open":
            pro = rng.choice(self.pros["physician"])
            party = Actor.professional(pro.id)
            files = []
            if rng.random() < 0.2:
                files = [NewFile("compte-rendu.pdf", "application/pdf", b"%PDF-1.4 cr")]
            opened = store.messaging.open(
                party,
                p.espace_id,
                {"subject": "Suite de votre consultation", "body": "Bonjour, ..."},
                files=files,
            )
            self.conversations[p.espace_id].append(
                (UUID(opened["conversation_id"]), party)
            )
        elif kind in ("message_reply", "message_late_reply", "message_end"):
            if not self.conversations[p.espace_id]:
                raise _NothingToDo
            conversation_id, party = self.conversations[p.espace_id][-1]
            if kind == "message_end":
                store.messaging.end(party, conversation_id)
            else:
                store.messaging.read(holder_actor, conversation_id)
                store.messaging.reply(
                    holder_actor, conversation_id, {"body": "Merci docteur."}
                )
        elif kind in ("appointment", "pro_appointment"):
            when = self.services_day(self.day + rng.randint(1, 60))
            if kind == "appointment":
                who = rng.choice(self.pros["physician"] + self.pros["dentist"])
                data = {"with_professional": who.id, "starts_at": when.isoformat()}
                actor = holder
            else:
                actor = rng.choice(self.pros["nurse"])
                data = {"with": "Soins infirmiers", "starts_at": when.isoformat()}
            booked = store.agenda.schedule(
                actor, p.espace_id, {**data, "reason": "suivi"}
            )
            self.appointments_of[p.espace_id].append(UUID(booked["appointment_id"]))
        elif kind in ("appointment_move", "appointment_cancel"):
            if not self.appointments_of[p.espace_id]:
                raise _NothingToDo
            appointment = self.appointments_of[p.espace_id][-1]
            if kind == "appointment_cancel":
                store.agenda.cancel(holder, appointment)
            else:
                when = now + timedelta(days=rng.randint(1, 30))
                store.agenda.move(holder, appointment, {"starts_at": when.isoformat()})
        elif kind == "profile_measure":
            store.profile.record_measurements(
                holder,
                p.espace_id,
                {
                    "height_cm": str(rng.randint(150, 195)),
                    "weight_kg": f"{rng.uniform(45, 110):.1f}",
                },
            )
        elif kind == "profile_allergy":
            substance = rng.choice(["Pénicilline", "Arachide", "Latex", "Pollen"])
            store.profile.record_allergy(holder, p.espace_id, {"substance": substance})
        elif kind == "profile_vaccination":
            given = now.astimezone(PARIS).date() - timedelta(days=rng.randint(0, 900))
            store.profile.record_vaccination(
                holder,
                p.espace_id,
                {
                    "vaccine": rng.choice(["Grippe", "DTP", "ROR"]),
                    "given_on": given.isoformat(),
                },
            )
        elif kind == "service_connect":
            service = rng.choice(["pilulier", "suivi-tension", "arret-tabac"])
            store.catalogue.connect(holder, p.espace_id, service)
        elif kind == "service_disconnect":
            connected = store.catalogue.connections(
                Actor.holder(p.espace_id), p.espace_id
            )
            if not connected:
                raise _NothingToDo
            store.catalogue.disconnect(holder, p.espace_id, connected[0]["service_id"])
        elif kind == "unlisted_read":
            store.records.list_documents(self.unlisted, p.espace_id)


SERVICE_ACTIONS = frozenset(
    {
        "message_open",
        "message_reply",
        "message_late_reply",
        "message_end",
        "appointment",
        "pro_appointment",
        "appointment_move",
        "appointment_cancel",
        "profile_measure",
        "profile_allergy",
        "profile_vaccination",
        "service_connect",
        "service_disconnect",
        "unlisted_read",
    }
)
SIM_CITIES = [
    ("Paris", "75011"),
    ("Lyon", "69003"),
    ("Marseille", "13001"),
    ("Nantes", "44000"),
    ("Lille", "59000"),
    ("Ajaccio", "20000"),
    ("Saint-Étienne", "42000"),
]
"""Places of practice of the synthetic directory (PRO-2)."""
