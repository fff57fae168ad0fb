"""The record's documents: deposits, uploads, replacements, logical deletion,
the DOC-5 flags, and the reads, lists and history of every actor, each
through the one access decision and traced (DOC-1..DOC-7, ACC-1..ACC-7).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from espace.application import schemas
from espace.application.errors import Conflict, InvalidInput, NotFound
from espace.application.record_base import Outcome, RecordBase, log
from espace.domain.actors import Action, Actor, ActorKind, Ground, Mode
from espace.domain.consent import ConsentState
from espace.domain.decision import decide, facts_of_document
from espace.domain.document_metadata import AuthorKind
from espace.domain.documents import Document
from espace.domain.errors import RuleViolation


@dataclass(frozen=True)
class DocumentChange:
    """One change of a document's flags (DOC-4, DOC-5): its name in the CLI
    and what it does, with its rule (the CLI's help); the action the access
    decision rules on and the trace's detail; the document's command, and
    whether it is told who acts (``by_kind``, ``by_id``)."""

    name: str
    does: str
    action: Action
    command: Callable[..., None]
    names_actor: bool = True
    detail: str | None = None


DELETE = DocumentChange(
    "delete",
    "DOC-4: the author deletes a document (logically).",
    Action.DELETE,
    Document.delete,
)
MASK = DocumentChange(
    "mask",
    "DOC-5: the holder masks a document from professionals.",
    Action.MASK,
    Document.mask,
    names_actor=False,
)
UNMASK = DocumentChange(
    "unmask",
    "DOC-5: the holder unmasks a document.",
    Action.UNMASK,
    Document.unmask,
    names_actor=False,
)
HIDE = DocumentChange(
    "hide",
    "DOC-5: the author hides it from the holder until announced.",
    Action.HIDE,
    Document.hide_from_holder,
    detail="holder",
)
REVEAL = DocumentChange(
    "reveal",
    "DOC-5: the author reveals it after the announcement.",
    Action.REVEAL,
    Document.reveal_to_holder,
    detail="holder",
)
HIDE_FROM_REPRESENTATIVES = DocumentChange(
    "hide-from-representatives",
    "DOC-5: the author hides it from legal representatives (minor's request).",
    Action.HIDE,
    Document.hide_from_representatives,
    detail="representatives",
)
SHOW_TO_REPRESENTATIVES = DocumentChange(
    "show-to-representatives",
    "DOC-5: the author shows it to legal representatives again.",
    Action.REVEAL,
    Document.show_to_representatives,
    detail="representatives",
)
CHANGES = (
    MASK,
    UNMASK,
    HIDE,
    REVEAL,
    HIDE_FROM_REPRESENTATIVES,
    SHOW_TO_REPRESENTATIVES,
    DELETE,
)
"""Every change of a document's flags, in the order the CLI lists them."""


class DocumentUseCases(RecordBase):
    """DOC-1..DOC-7: the documents of the DMP, written and read."""

    # ----------------------------------------------------------------- documents

    def deposit(
        self,
        actor: Actor,
        espace_id: UUID,
        metadata: Mapping[str, Any],
        content: bytes,
        at: datetime | None = None,
        *,
        document_id: UUID | None = None,
        with_aggregates: Sequence[Any] = (),
    ) -> Outcome:
        """DOC-1/DOC-2: a professional deposits, or the holder uploads.

        ``document_id`` (default: a new random id) and ``with_aggregates``
        (saved in the same transaction) let another use case deposit as part
        of its own change, such as adding a message's attachment (MSG-4).
        """
        meta = schemas.load(schemas.DocumentSchema, metadata)
        if not content:
            raise InvalidInput({"content": ["the document is empty"]})
        holder = actor.holder_side
        types = self.matrix().types
        known = self._known_type(meta, types)
        if holder:
            meta["category"] = meta["category"] or "patient_uploaded"
        elif meta["category"] is None:  # the type's category (DOC-1)
            meta["category"] = known.category
        espace = self._espace(espace_id)
        self._since_birth(espace, "care_time", meta["care_time"])
        now = self._now(at)
        action = Action.UPLOAD if holder else Action.DEPOSIT
        gate = self._record_gate(actor, action, espace, now)
        version_id = uuid4()
        try:
            doc = self._new_document(
                document_id or uuid4(),
                espace_id,
                version_id,
                now,
                gate.actor,
                holder,
                meta,
                content,
                types,
            )
        except RuleViolation as exc:
            gate.refuse(exc.rule, exc.reason)
        trace = gate.trace(document_id=doc.id, version_id=version_id)
        self.contents.put(espace_id, version_id, content)
        self._save(doc, trace, *with_aggregates)
        log.info(
            "document.deposited", espace_id=str(espace_id), document_id=str(doc.id)
        )
        return self._outcome(doc.id, version_id, gate.decision, trace)

    def _new_document(
        self,
        document_id: UUID,
        espace_id: UUID,
        version_id: UUID,
        now: datetime,
        actor: Actor,
        holder: bool,
        meta: dict[str, Any],
        content: bytes,
        types: Collection[str],
    ) -> Document:
        return Document.deposit(
            types=types,
            document_id=document_id,
            espace_id=espace_id,
            version_id=version_id,
            at=now,
            author_kind=AuthorKind.HOLDER if holder else AuthorKind.PROFESSIONAL,
            author_id=str(espace_id) if holder else actor.id,
            author_profession=actor.profession,
            category=meta["category"],
            loinc_code=meta["loinc_code"],
            title=meta["title"],
            care_time=meta["care_time"],
            fmt=meta["format"],
            size=len(content),
            content_hash=hashlib.sha256(content).hexdigest(),
            hidden_from_holder=meta["hidden_from_holder"],
            hidden_from_representatives=meta["hidden_from_representatives"],
        )

    def replace(
        self,
        actor: Actor,
        document_id: UUID,
        metadata: Mapping[str, Any],
        content: bytes,
        at: datetime | None = None,
    ) -> Outcome:
        """DOC-3: the author replaces; a new version, the history stays."""
        meta = schemas.load(schemas.DocumentSchema, metadata)
        if not content:
            raise InvalidInput({"content": ["the document is empty"]})
        types = self.matrix().types
        self._known_type(meta, types)
        doc = self._document(document_id)
        espace = self._espace(doc.espace_id)
        self._since_birth(espace, "care_time", meta["care_time"])
        now = self._now(at)
        gate = self._record_gate(actor, Action.REPLACE, espace, now, document=doc)
        version_id = uuid4()
        kind, by_id = self._author_key(actor, doc)
        try:
            doc.replace(
                at=now,
                by_kind=kind,
                by_id=by_id,
                version_id=version_id,
                loinc_code=meta["loinc_code"],
                title=meta["title"],
                care_time=meta["care_time"],
                fmt=meta["format"],
                size=len(content),
                content_hash=hashlib.sha256(content).hexdigest(),
                types=types,
            )
        except RuleViolation as exc:
            gate.refuse(exc.rule, exc.reason)
        trace = gate.trace(version_id=version_id)
        self.contents.put(doc.espace_id, version_id, content)
        self._save(doc, trace)
        return self._outcome(doc.id, version_id, gate.decision, trace)

    def delete(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-4: logical deletion, by the author only."""
        return self.change(DELETE, actor, document_id, at)

    def mask(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-5: the holder masks a document from professionals."""
        return self.change(MASK, actor, document_id, at)

    def unmask(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-5: the holder lifts the mask: professionals see the document again."""
        return self.change(UNMASK, actor, document_id, at)

    def hide_from_holder(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-5: the author hides it until the announcement consultation."""
        return self.change(HIDE, actor, document_id, at)

    def reveal_to_holder(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-5: after the announcement consultation."""
        return self.change(REVEAL, actor, document_id, at)

    def hide_from_representatives(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-5: confidential care asked by a minor."""
        return self.change(HIDE_FROM_REPRESENTATIVES, actor, document_id, at)

    def show_to_representatives(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-5: the author shows the document to the legal representatives again."""
        return self.change(SHOW_TO_REPRESENTATIVES, actor, document_id, at)

    def change(
        self,
        kind: DocumentChange,
        actor: Actor,
        document_id: UUID,
        at: datetime | None = None,
    ) -> Outcome:
        """DOC-4, DOC-5: the one handler of a document's flags: the access
        decision on its action, the document's command (refused by its own
        rules, traced either way), one save."""
        doc = self._document(document_id)
        espace = self._espace(doc.espace_id)
        now = self._now(at)
        gate = self._record_gate(
            actor, kind.action, espace, now, document=doc, detail=kind.detail
        )
        by_kind, by_id = self._author_key(actor, doc)
        arguments = {"by_kind": by_kind, "by_id": by_id} if kind.names_actor else {}
        try:
            kind.command(doc, at=now, **arguments)
        except RuleViolation as exc:
            gate.refuse(exc.rule, exc.reason)
        trace = gate.trace()
        self._save(doc, trace)
        return self._outcome(doc.id, doc.current["version_id"], gate.decision, trace)

    def _author_key(self, actor: Actor, doc: Document) -> tuple[str, str]:
        if actor.kind is ActorKind.PROFESSIONAL:
            return AuthorKind.PROFESSIONAL, actor.id
        if actor.holder_side:
            return AuthorKind.HOLDER, str(doc.espace_id)
        return str(actor.kind), actor.id

    # ----------------------------------------------------------------- reads

    def read(
        self,
        actor: Actor,
        document_id: UUID,
        *,
        mode: str = Mode.CARE,
        version_id: UUID | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Read one document (a version of it), through the decision; traced.

        An emergency or SAMU read (ACC-5) notifies the holder and the
        médecin traitant.
        """
        access_mode = Mode(schemas.load(schemas.ModeSchema, {"mode": mode})["mode"])
        doc = self._document(document_id)
        espace = self._espace(doc.espace_id)
        now = self._now(at)
        gate = self._record_gate(
            actor,
            Action.READ,
            espace,
            now,
            document=doc,
            mode=access_mode,
            version_id=version_id,
        )
        decision = gate.decision
        try:
            version = doc.find_version(version_id) if version_id else doc.current
        except RuleViolation as exc:
            self._save(gate.denial(exc.rule, exc.reason))
            raise NotFound(f"no version {version_id} of document {doc.id}") from None
        trace = gate.trace()
        alerts = self._emergency_alerts(espace.id, trace, access_mode, now)
        self._save(trace, *alerts)
        content = self.contents.get(doc.espace_id, version["version_id"])
        if hashlib.sha256(content).hexdigest() != version["content_hash"]:
            raise Conflict(
                f"the content of version {version['version_id']} was altered"
            )
        return {
            "document_id": str(doc.id),
            "version_id": str(version["version_id"]),
            "version_no": version["version_no"],
            "versions": len(doc.versions),
            "espace_id": str(doc.espace_id),
            "category": doc.category,
            "loinc_code": version["loinc_code"],
            "title": version["title"],
            "care_time": version["care_time"],
            "format": version["format"],
            "size": version["size"],
            "content_hash": version["content_hash"],
            "author_kind": doc.author_kind,
            "author_id": doc.author_id,
            "ground": str(decision.ground),
            "trace_id": str(trace.id),
            "content": content,
        }

    def list_documents(
        self,
        actor: Actor,
        espace_id: UUID,
        *,
        mode: str = Mode.CARE,
        at: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """The documents this actor may see in this espace; one trace.

        Candidates come from the documents view; each passes the same
        decision as a read, with the consent and espace state loaded from
        their aggregates. Titles come from the sealed events.
        """
        access_mode = Mode(schemas.load(schemas.ModeSchema, {"mode": mode})["mode"])
        espace = self._espace(espace_id)
        now = self._now(at)
        consent = self._consent(espace_id)
        gate = self._record_gate(
            actor, Action.LIST, espace, now, mode=access_mode, consent=consent
        )
        trace = gate.trace()
        facts = self._facts(espace)
        state = consent.state if consent is not None else ConsentState()
        matrix = self.matrix()
        listing = self._listing(actor)
        visible = []
        for row in self.documents.of_espace(espace_id):
            verdict = decide(
                actor,
                Action.READ,
                espace=facts,
                consent=state,
                matrix=matrix,
                document=facts_of_document(row),
                mode=access_mode,
                listing=listing,
                require_listing=self.directory is not None,
            )
            if verdict.allowed:
                visible.append(row)
        titles = {
            d: self._document(d).title for d in (r["document_id"] for r in visible)
        }
        alerts = self._emergency_alerts(espace_id, trace, access_mode, now)
        self._save(trace, *alerts)
        return [
            {
                "document_id": r["document_id"],
                "title": titles[r["document_id"]],
                "category": r["category"],
                "loinc_code": r["loinc_code"],
                "care_time": r["care_time"],
                "author_kind": r["author_kind"],
                "author_id": r["author_id"],
                "versions": r["version_count"],
                "size": r["size"],
                "format": r["format"],
                "masked_from_professionals": r["masked_from_professionals"],
            }
            for r in visible
        ]

    def history(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> list[dict[str, Any]]:
        """DOC-3: the version history, for whoever may read the document; traced."""
        doc = self._document(document_id)
        espace = self._espace(doc.espace_id)
        now = self._now(at)
        trace = self._record_gate(
            actor, Action.READ, espace, now, document=doc, detail="history"
        ).trace()
        self._save(trace)
        rows = self.documents.history(document_id)
        sealed = {v["version_id"]: v for v in doc.versions}
        return [
            {
                **r,
                "title": sealed[r["version_id"]]["title"],
                "content_hash": sealed[r["version_id"]]["content_hash"],
            }
            for r in rows
            if r["version_id"] in sealed
        ]

    def journal(
        self, actor: Actor, espace_id: UUID, *, limit: int = 200, offset: int = 0
    ) -> list[dict[str, Any]]:
        """ACC-6: the holder and the médecin traitant see every trace; a
        professional sees their own actions only."""
        return self.journal_view.of_espace(
            espace_id,
            actor_id=self._journal_scope(actor, espace_id),
            limit=limit,
            offset=offset,
        )

    def journal_total(self, actor: Actor, espace_id: UUID) -> int:
        """How many traces ``journal`` would list to this actor, with no limit."""
        return self.journal_view.count(
            espace_id, actor_id=self._journal_scope(actor, espace_id)
        )

    def _journal_scope(self, actor: Actor, espace_id: UUID) -> str | None:
        """ACC-6: None for every trace, else the professional's own id."""
        ground = self._require(actor, Action.JOURNAL, self._espace(espace_id))
        return actor.id if ground is Ground.OWN_ACTIONS else None
