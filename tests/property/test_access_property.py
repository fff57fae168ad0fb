"""No read path ever shows a document the rules deny, and every read is traced
(ACC-1 to ACC-6, DOC-4, DOC-5), as a property on a real SQLite store.

Given a fresh store with one activated espace and a small cast (the holder, a
physician, a nurse, a pharmacist, and a dentist the holder never names), when
any sequence of consent choices, deposits, uploads, masks, hides, reveals,
deletions, emergency refusals and reads runs (a refused command is part of
life), then:

- ``read``, ``history`` and ``list_documents`` never return a document that
  the oracle below denies to that actor, in that mode, at that moment; and
  ``read`` is allowed exactly when the oracle allows it;
- each ``read``, ``history`` and ``list_documents`` call, allowed or denied,
  leaves exactly one new row in the access journal of the espace.

The oracle is written from the rule book, not from ``espace.domain.decision``:
it keeps its own plain model of the holder's choices and of each document's
flags, updated only when the store accepted the command. Decisions it takes
where the rule book is silent: the author of a document reads it (DOC-5 says
the author still sees a masked document); an emergency does not lift the
access matrix (ACC-3) or the holder's mask (DOC-5) for anyone but the author
and the médecin traitant. The matrix is the packaged default (ACC-3 data).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from espace import RuleViolation, Store, init_store
from espace.application import outputs
from espace.application.records import actor_from
from espace.domain.actors import Actor, ActorKind
from extracts import directory_extract

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
PERSON = {
    "nir": "295109912611193",
    "birth_name": "MARTIN",
    "first_names": "Claire",
    "birth_date": "1995-10-03",
    "sex": "F",
    "birthplace_code": "99126",
    "vitale_serial": "8000141000017",
    "email": "claire.martin@example.org",
}
PROS = [
    Actor(ActorKind.PROFESSIONAL, "810001045367", "physician"),
    Actor(ActorKind.PROFESSIONAL, "810002000007", "nurse"),
    Actor(ActorKind.PROFESSIONAL, "810003000006", "pharmacist"),
    Actor(ActorKind.PROFESSIONAL, "810004000005", "dentist"),  # never named
]
NAMED = 3
"""The first three professionals are the ones the holder's choices name."""
CHOICES = [
    "grant",
    "withdraw",
    "block",
    "unblock",
    "care-team-add",
    "care-team-remove",
    "designate-medecin-traitant",
    "revoke-medecin-traitant",
    "refuse-emergency",
    "allow-emergency",
    "refuse-samu",
    "allow-samu",
]
CATEGORIES = [
    "report",
    "summary",
    "imaging",
    "prescription",
    "dispensation",
    "certificate",
    "reimbursement",
    "management",
]
HOLDER = -1
READERS = st.sampled_from([HOLDER, 0, 1, 2, 3])
MODES = st.sampled_from(["care", "care", "emergency", "samu"])
DOC = st.integers(0, 30)

CONSENT = st.tuples(
    st.just("consent"), st.sampled_from(CHOICES), st.integers(0, NAMED - 1)
)
GIVING = st.tuples(
    st.just("consent"),
    st.sampled_from(["grant", "care-team-add", "designate-medecin-traitant"]),
    st.integers(0, NAMED - 1),
)
DEPOSIT = st.tuples(
    st.just("deposit"),
    st.integers(0, len(PROS) - 1),
    st.sampled_from(CATEGORIES),
    st.booleans(),
)
READ = st.tuples(st.just("read"), READERS, DOC, MODES)
STEP = st.one_of(
    CONSENT,
    CONSENT,
    DEPOSIT,
    READ,
    READ,
    READ,
    st.tuples(st.just("upload")),
    st.tuples(st.sampled_from(["mask", "unmask"]), DOC),
    st.tuples(st.sampled_from(["hide", "reveal"]), DOC, st.integers(0, len(PROS) - 1)),
    st.tuples(st.just("delete"), DOC, READERS),
    st.tuples(st.just("list"), READERS, MODES),
    st.tuples(st.just("history"), READERS, DOC),
)


def default_matrix() -> dict[str, set[str]]:
    text = resources.files("espace.data").joinpath("access_matrix.csv").read_text()
    return {
        row["profession"]: {c for c, v in row.items() if v == "1"}
        for row in csv.DictReader(io.StringIO(text))
    }


MATRIX = default_matrix()


# --------------------------------------------------------------------- the model


@dataclass
class Doc:
    id: UUID
    category: str
    author: str  # an IdNatPS, or "holder"
    masked: bool = False
    hidden_from_holder: bool = False
    deleted: bool = False


@dataclass
class Model:
    """The holder's choices and the documents, as the rule book sees them."""

    authorised: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)
    care_team: set[str] = field(default_factory=set)
    medecin_traitant: str | None = None
    emergency_refused: bool = False
    samu_refused: bool = False
    docs: list[Doc] = field(default_factory=list)

    def choose(self, choice: str, pro: Actor) -> None:
        """Apply a choice the store accepted."""
        i = pro.id
        if choice == "grant":
            self.authorised.add(i)
        elif choice == "withdraw":
            self.authorised.discard(i)
        elif choice == "block":
            self.blocked.add(i)
        elif choice == "unblock":
            self.blocked.discard(i)
        elif choice == "care-team-add":
            self.care_team.add(i)
        elif choice == "care-team-remove":
            self.care_team.discard(i)
        elif choice == "designate-medecin-traitant":
            self.medecin_traitant = i
        elif choice == "revoke-medecin-traitant":
            self.medecin_traitant = None
        else:
            refused = choice.startswith("refuse")
            if choice.endswith("samu"):
                self.samu_refused = refused
            else:
                self.emergency_refused = refused

    def may_read(self, who: int, doc: Doc, mode: str) -> bool:
        """The oracle: may this actor see this document now, in this mode?"""
        if doc.deleted:  # DOC-4
            return False
        if who == HOLDER:
            return mode == "care" and not doc.hidden_from_holder  # ACC-5, DOC-5
        pro = PROS[who]
        privileged = pro.id in (doc.author, self.medecin_traitant)  # DOC-5, ACC-4
        if mode == "care":
            if pro.id in self.blocked:  # ACC-2
                return False
            if privileged:
                return True
            if pro.id not in self.authorised | self.care_team:  # ACC-1
                return False
        elif mode == "emergency":  # ACC-5 (beats blocking, not a refusal)
            if self.emergency_refused:
                return False
        elif self.samu_refused or pro.profession != "physician":  # SAMU: a physician
            return False
        if privileged:
            return True
        return doc.category in MATRIX[pro.profession or ""] and not doc.masked


# --------------------------------------------------------------------- the store


class FixedClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> None:
        self.now += timedelta(minutes=1)


@contextmanager
def record_store() -> Iterator[tuple[Store, FixedClock, UUID]]:
    """A fresh SQLite store with one activated espace."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'espace.db'}"
        init_store(url, simulation=True, environ={})
        clock = FixedClock()
        store = Store.open(url, clock=clock, environ={})
        try:
            cast = [(p.id, p.profession or "") for p in PROS]
            store.directory.import_extract(io.StringIO(directory_extract(cast)))
            report = store.lifecycle.affiliate_feed([(2, PERSON)])
            assert report.created == 1, outputs.dump(report)
            espace_id = store.lifecycle.espace_id_for(PERSON["nir"])
            code = store.lifecycle.send_notice(espace_id).activation_code
            clock.now += timedelta(days=1)
            store.lifecycle.activate(
                {
                    "nir": PERSON["nir"],
                    "code": code,
                    "birth_date": PERSON["birth_date"],
                    "vitale_serial": PERSON["vitale_serial"],
                }
            )
            yield store, clock, espace_id
        finally:
            store.close()


def actor(who: int, espace_id: UUID) -> Actor:
    return actor_from({"kind": "holder"}, espace_id) if who == HOLDER else PROS[who]


def meta(clock: FixedClock, category: str | None, hidden: bool) -> dict[str, Any]:
    return {
        "category": category,
        "loinc_code": "11488-4",
        "title": "Compte rendu",
        "care_time": (clock.now - timedelta(hours=1)).isoformat(),
        "format": "text/plain",
        "hidden_from_holder": hidden,
    }


def accepted(call: Any, *args: Any, **kw: Any) -> Any:
    """The result of a command, or None when a rule refused it."""
    try:
        return call(*args, **kw)
    except RuleViolation:
        return None


def run_step(
    store: Store,
    clock: FixedClock,
    espace_id: UUID,
    model: Model,
    step: tuple[Any, ...],
) -> None:
    records = store.records
    kind = step[0]
    clock.tick()
    if kind == "consent":
        _, choice, index = step
        pro = PROS[index]
        ref = {"idnatps": pro.id, "profession": pro.profession}
        holder = actor(HOLDER, espace_id)
        if accepted(records.consent, holder, espace_id, choice, ref) is not None:
            model.choose(choice, pro)
        return
    if kind in ("deposit", "upload"):
        who = step[1] if kind == "deposit" else HOLDER
        category = step[2] if kind == "deposit" else None
        hidden = step[3] if kind == "deposit" else False
        outcome = accepted(
            records.deposit,
            actor(who, espace_id),
            espace_id,
            meta(clock, category, hidden),
            f"contenu {len(model.docs)}".encode(),
        )
        if outcome is not None:
            author = "holder" if who == HOLDER else PROS[who].id
            model.docs.append(
                Doc(
                    UUID(outcome.document_id),
                    category or "patient_uploaded",
                    author,
                    hidden_from_holder=hidden,
                )
            )
        return
    if not model.docs and kind != "list":
        return
    if kind in ("mask", "unmask"):
        doc = model.docs[step[1] % len(model.docs)]
        method = records.mask if kind == "mask" else records.unmask
        if accepted(method, actor(HOLDER, espace_id), doc.id) is not None:
            doc.masked = kind == "mask"
        return
    if kind in ("hide", "reveal"):
        doc = model.docs[step[1] % len(model.docs)]
        method = (
            records.hide_from_holder if kind == "hide" else records.reveal_to_holder
        )
        if accepted(method, PROS[step[2]], doc.id) is not None:
            doc.hidden_from_holder = kind == "hide"
        return
    if kind == "delete":
        doc = model.docs[step[1] % len(model.docs)]
        if accepted(records.delete, actor(step[2], espace_id), doc.id) is not None:
            doc.deleted = True
        return
    check_read_path(store, espace_id, model, step)


def check_read_path(
    store: Store, espace_id: UUID, model: Model, step: tuple[Any, ...]
) -> None:
    kind, who = step[0], step[1]
    reader = actor(who, espace_id)
    before = store.views.journal.count(espace_id)
    if kind == "list":
        mode = step[2]
        listed = accepted(store.records.list_documents, reader, espace_id, mode=mode)
        event(f"list {'allowed' if listed is not None else 'denied'}")
        if listed is not None:
            by_id = {d.id: d for d in model.docs}
            for row in listed:
                doc = by_id[row["document_id"]]
                assert model.may_read(who, doc, mode), (who, mode, doc, model)
    elif kind == "read":
        doc, mode = model.docs[step[2] % len(model.docs)], step[3]
        result = accepted(store.records.read, reader, doc.id, mode=mode)
        event(f"read {mode} {'allowed' if result is not None else 'denied'}")
        assert (result is not None) == model.may_read(who, doc, mode), (
            who,
            mode,
            doc,
            model,
        )
        if result is not None:
            assert result["document_id"] == str(doc.id)
    else:
        doc = model.docs[step[2] % len(model.docs)]
        versions = accepted(store.records.history, reader, doc.id)
        event(f"history {'allowed' if versions is not None else 'denied'}")
        if versions is not None:
            assert model.may_read(who, doc, "care"), (who, doc, model)
            assert [v["document_id"] for v in versions] == [doc.id]
    assert store.views.journal.count(espace_id) == before + 1, step


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    given_choices=st.lists(GIVING, min_size=1, max_size=4),
    given_deposits=st.lists(DEPOSIT, min_size=1, max_size=4),
    steps=st.lists(STEP, min_size=8, max_size=16),
)
def test_no_read_path_returns_a_document_the_rules_deny_and_each_is_traced_acc_1_to_acc_6(
    given_choices: list[tuple[Any, ...]],
    given_deposits: list[tuple[Any, ...]],
    steps: list[tuple[Any, ...]],
) -> None:
    with record_store() as (store, clock, espace_id):
        model = Model()
        for step in [*given_choices, *given_deposits, ("upload",), *steps]:
            run_step(store, clock, espace_id, model, step)
        # then everyone tries every document, in care and in an emergency
        for index in range(len(model.docs)):
            for who in (HOLDER, *range(len(PROS))):
                for mode in ("care",) if who == HOLDER else ("care", "emergency"):
                    clock.tick()
                    check_read_path(store, espace_id, model, ("read", who, index, mode))
