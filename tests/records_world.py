"""A world for the record's tests: an activated espace whose holder made
choices about access, and the professionals of those choices, all listed in
the directory (PRO-2). Importable as ``records_world``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from espace import Store
from espace.application import outputs
from espace.application.records import actor_from
from espace.domain.actors import Actor, ActorKind
from extracts import directory_extract

PHYSICIAN = Actor(ActorKind.PROFESSIONAL, "810001045367", "physician")
GP = Actor(ActorKind.PROFESSIONAL, "810002000007", "physician")
NURSE = Actor(ActorKind.PROFESSIONAL, "810003000006", "nurse")
STRANGER = Actor(ActorKind.PROFESSIONAL, "810004000005", "pharmacist")


CAST = [(a.id, a.profession or "") for a in (PHYSICIAN, GP, NURSE, STRANGER)]
CAST.append(("810005000004", "physician"))


def list_the_cast(store: Store) -> None:
    """PRO-2: the professionals of these tests are in the directory."""
    report = store.directory.import_extract(io.StringIO(directory_extract(CAST)))
    assert report.rejected == [], outputs.dump(report)


@dataclass
class Record:
    """An activated espace: GP is its médecin traitant, PHYSICIAN has consent,
    NURSE is in the care team; STRANGER has nothing."""

    store: Store
    clock: Any
    espace_id: UUID
    person: Any

    @property
    def holder(self) -> Actor:
        return actor_from({"kind": "holder"}, self.espace_id)

    def meta(self, category: str = "report", **kw: Any) -> dict[str, Any]:
        data = {
            "category": category,
            "loinc_code": "11488-4",
            "title": f"Compte rendu {category} de Mme QUINTALBROSSARD",
            "care_time": (self.clock.now - timedelta(hours=1)).isoformat(),
            "format": "text/plain",
        }
        data.update(kw)
        return data

    def deposit(
        self, actor: Actor = PHYSICIAN, category: str = "report", **kw: Any
    ) -> UUID:
        content = kw.pop("content", f"contenu {category} {uuid4()}".encode())
        self.clock.advance(minutes=1)
        outcome = self.store.records.deposit(
            actor, self.espace_id, self.meta(category, **kw), content
        )
        assert outcome.document_id is not None
        return UUID(outcome.document_id)

    def listed(self, actor: Actor, mode: str = "care") -> set[UUID]:
        self.clock.advance(minutes=1)
        rows = self.store.records.list_documents(actor, self.espace_id, mode=mode)
        return {r["document_id"] for r in rows}

    def traces(self) -> int:
        return self.store.views.journal.count(self.espace_id)


def choose(rec: Record, choice: str, who: Actor | None = None) -> None:
    rec.clock.advance(minutes=1)
    pro = None if who is None else {"idnatps": who.id, "profession": who.profession}
    rec.store.records.consent(rec.holder, rec.espace_id, choice, pro)


def make_record(store: Store, clock: Any, people: Any, helpers: Any) -> Record:
    list_the_cast(store)
    person = people.make()
    helpers.affiliate(store, person)
    helpers.notify(store, person)
    clock.advance(days=1)
    store.lifecycle.activate(person.activation())
    assert person.espace_id is not None
    rec = Record(store, clock, person.espace_id, person)
    choose(rec, "designate-medecin-traitant", GP)
    choose(rec, "grant", PHYSICIAN)
    choose(rec, "care-team-add", NURSE)
    return rec
