"""Use cases of the shared medical record (DMP): documents, consent, access
decisions and the trace of every action (DOC-*, ACC-*, SEC-2).

Every path asks the one access decision (:func:`espace.domain.access.decide`)
with facts loaded from the aggregates, and records exactly one trace in the
same save as the change it traces: an allowed action and its trace are
written together, a denied attempt leaves its trace and nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from time import monotonic
from typing import Any
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import AggregateNotFoundError, Application

from espace.application import schemas
from espace.application.common import _LOAD, Gate, ServiceBase
from espace.application.errors import Conflict, InvalidInput, NotFound
from espace.application.lifecycle import LifecycleService, _project
from espace.application.ports import Clock, ContentStore, ProfessionalDirectory
from espace.application.tables import matrix_from_csv, types_from_csv
from espace.domain import reference
from espace.domain.access import (
    MATRIX_ID,
    AccessMatrix,
    AccessMatrixLog,
    Action,
    Actor,
    ActorKind,
    Decision,
    DocumentType,
    Ground,
    Mode,
    decide,
    facts_of_document,
)
from espace.domain.consent import Consent, ConsentState, consent_id
from espace.domain.documents import Document
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.trace import AccessTrace, Alert, TraceFacts
from espace.projections.consents import ConsentQueries
from espace.projections.documents import DocumentQueries
from espace.projections.journal import JournalQueries
from espace.projections.notifications import NotificationQueries

log = structlog.get_logger("espace.records")

DEFAULT_MATRIX = "access_matrix.csv"
DEFAULT_TYPES = "document_types.csv"
MATRIX_TTL_SECONDS = 5.0
"""How stale the access matrix may be in another process after a publish."""


@dataclass(frozen=True)
class Outcome:
    """What an action on the record returns: ids and the ground it had."""

    document_id: str | None
    version_id: str | None
    ground: str
    trace_id: str

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def default_matrix_text() -> str:
    return resources.files("espace.data").joinpath(DEFAULT_MATRIX).read_text("utf-8")


def default_types_text() -> str:
    """The shipped type list (DOC-1): a starting point the operator extends."""
    return resources.files("espace.data").joinpath(DEFAULT_TYPES).read_text("utf-8")


def actor_from(data: Mapping[str, Any], espace_id: UUID | None = None) -> Actor:
    """Who acts, from plain values (a form, the CLI's flags), checked by
    :class:`schemas.ActorSchema`. The holder and a representative are bound
    to ``espace_id``."""
    params = schemas.load(schemas.ActorSchema, data)
    kind = ActorKind(params["kind"])
    if kind is ActorKind.PROFESSIONAL:
        return Actor.professional(params["idnatps"], params["profession"])
    if kind is ActorKind.HEIR:
        return Actor.heir(params["heir_id"])
    if kind is ActorKind.ESTABLISHMENT:
        return Actor.establishment(params["finess"], params["name"])
    if espace_id is None:
        raise InvalidInput(
            {"espace": ["the holder or representative's espace is required"]}
        )
    return Actor(kind, str(espace_id))


class RecordService(ServiceBase):
    """The DMP inside each open espace."""

    def __init__(
        self,
        app: Application[UUID],
        lifecycle: LifecycleService,
        contents: ContentStore,
        clock: Clock,
        *,
        documents: DocumentQueries,
        consents: ConsentQueries,
        journal: JournalQueries,
        notifications: NotificationQueries,
        directory: ProfessionalDirectory | None = None,
    ) -> None:
        super().__init__(app, lifecycle, clock, directory=directory)
        self.contents = contents
        self.documents = documents
        self.consents = consents
        self.journal_view = journal
        self.notifications = notifications
        self._matrix: tuple[float, AccessMatrix] | None = None

    # ----------------------------------------------------------------- matrix

    def matrix(self, version: int | None = None) -> AccessMatrix:
        """ACC-3: the access matrix in force (the latest published version),
        or an earlier published ``version``.

        Reference data that changes a few times a year: the one in force is
        reloaded from the log at most every ``MATRIX_TTL_SECONDS`` (at once
        after a publish from this process), not on every decision (ADR-0010).
        """
        if version is not None:
            return self._matrix_log().published(version)
        cached = self._matrix
        if cached is not None and monotonic() - cached[0] < MATRIX_TTL_SECONDS:
            return cached[1]
        log_ = self._matrix_log()
        assert log_.current is not None
        self._matrix = (monotonic(), log_.current)
        return log_.current

    def matrix_history(self) -> list[dict[str, Any]]:
        """ACC-3: every published version of the matrix, newest first, with
        when, from which file, and what it changed."""
        return reference.history(self._matrix_log().versions)

    def publish_matrix(
        self,
        text: str,
        source: str,
        at: datetime | None = None,
        *,
        types: str | None = None,
        allow_removals: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """ACC-3: publish a new version of the matrix from its CSV text, with
        the type list (DOC-1) of ``types`` (CSV ``code,display,category``),
        or the one in force (the shipped list for the first version).

        Refused if it is identical to the version in force, or if it leaves
        out professions or document types the version in force has (a
        partial file), unless ``allow_removals``. ``dry_run`` reports what
        would change and saves nothing."""
        text = schemas.require_text(text, "matrix")
        source = schemas.require_text(source, "source")
        known: Mapping[str, DocumentType]
        if types is not None:
            known = types_from_csv(schemas.require_text(types, "types"))
        else:
            in_force = self._maybe_matrix_log()
            known = (
                in_force.current.types
                if in_force is not None and in_force.current is not None
                else types_from_csv(default_types_text())
            )
        matrix = matrix_from_csv(text, types=known)
        return self._publish_matrix(matrix, source, at, allow_removals, dry_run)

    def republish_matrix(
        self,
        version: int,
        at: datetime | None = None,
        *,
        allow_removals: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """ACC-3: the way back: publish an earlier version again, as a new
        version (the ones in between stay in the log)."""
        matrix = self._matrix_log().published(version)
        return self._publish_matrix(
            matrix, f"version {version}", at, allow_removals, dry_run
        )

    def _publish_matrix(
        self,
        matrix: AccessMatrix,
        source: str,
        at: datetime | None,
        allow_removals: bool,
        dry_run: bool,
    ) -> dict[str, Any]:
        now = self._now(at)
        log_ = self._maybe_matrix_log() or AccessMatrixLog.start(at=now)
        previous = log_.current.version if log_.current else None
        change = log_.change(matrix, allow_removals=allow_removals)
        if dry_run:
            return reference.publication(None, previous, change, dry_run=True)
        version = log_.publish(
            at=now, matrix=matrix, source=source, allow_removals=allow_removals
        )
        self._save(log_)
        self._matrix = None
        log.info("matrix.published", version=version)
        return reference.publication(version, previous, change, dry_run=False)

    def _matrix_log(self) -> AccessMatrixLog:
        found = self._maybe_matrix_log()
        if found is None:
            raise NotFound("no access matrix is published: run `espace matrix publish`")
        return found

    def _maybe_matrix_log(self) -> AccessMatrixLog | None:
        try:
            found: AccessMatrixLog = self.app.repository.get(
                MATRIX_ID, projector_func=_project
            )
        except AggregateNotFoundError:
            return None
        return found

    def ensure_default_matrix(self, at: datetime | None = None) -> None:
        """Publish the packaged default once, if no matrix exists yet."""
        if MATRIX_ID not in self.app.repository:
            self.publish_matrix(default_matrix_text(), "default", at)

    @staticmethod
    def _known_type(
        meta: Mapping[str, Any], types: Mapping[str, DocumentType]
    ) -> DocumentType:
        """DOC-1: a type of the list in force (the access matrix's)."""
        found = types.get(meta["loinc_code"])
        if found is None:
            raise InvalidInput(
                {
                    "loinc_code": [
                        f"unknown document type {meta['loinc_code']}: not in the "
                        "type list in force (espace matrix show --types)"
                    ]
                }
            )
        return found

    # ----------------------------------------------------------------- facts

    def _consent(self, espace_id: UUID) -> Consent | None:
        return self._maybe(consent_id(espace_id), Consent, "consent")

    def _document(self, document_id: UUID) -> Document:
        return self._load(document_id, Document, "document")

    def _record_gate(
        self,
        actor: Actor,
        action: Action,
        espace: EspaceSante,
        at: datetime,
        *,
        document: Document | None = None,
        mode: Mode = Mode.CARE,
        detail: str | None = None,
        consent: Any = _LOAD,
        version_id: UUID | None = None,
    ) -> Gate:
        """The one access decision on the record, with the access matrix in
        force (the version it used goes into the trace); a denial is traced
        and refused here."""
        return self._open_gate(
            actor,
            action,
            espace,
            at,
            document=document,
            mode=mode,
            detail=detail,
            matrix=self.matrix(),
            consent=consent,
            version_id=version_id,
        )

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
        holder = actor.kind in (ActorKind.HOLDER, ActorKind.REPRESENTATIVE)
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
            author_kind="holder" if holder else "professional",
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
        return self._flag(
            actor,
            document_id,
            Action.DELETE,
            lambda d, t, k, i: d.delete(at=t, by_kind=k, by_id=i),
            at,
        )

    def mask(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-5: the holder masks a document from professionals."""
        return self._flag(
            actor, document_id, Action.MASK, lambda d, t, k, i: d.mask(at=t), at
        )

    def unmask(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        return self._flag(
            actor, document_id, Action.UNMASK, lambda d, t, k, i: d.unmask(at=t), at
        )

    def hide_from_holder(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-5: the author hides it until the announcement consultation."""
        return self._flag(
            actor,
            document_id,
            Action.HIDE,
            lambda d, t, k, i: d.hide_from_holder(at=t, by_kind=k, by_id=i),
            at,
            detail="holder",
        )

    def reveal_to_holder(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-5: after the announcement consultation."""
        return self._flag(
            actor,
            document_id,
            Action.REVEAL,
            lambda d, t, k, i: d.reveal_to_holder(at=t, by_kind=k, by_id=i),
            at,
            detail="holder",
        )

    def hide_from_representatives(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        """DOC-5: confidential care asked by a minor."""
        return self._flag(
            actor,
            document_id,
            Action.HIDE,
            lambda d, t, k, i: d.hide_from_representatives(at=t, by_kind=k, by_id=i),
            at,
            detail="representatives",
        )

    def show_to_representatives(
        self, actor: Actor, document_id: UUID, at: datetime | None = None
    ) -> Outcome:
        return self._flag(
            actor,
            document_id,
            Action.REVEAL,
            lambda d, t, k, i: d.show_to_representatives(at=t, by_kind=k, by_id=i),
            at,
            detail="representatives",
        )

    def _flag(
        self,
        actor: Actor,
        document_id: UUID,
        action: Action,
        change: Callable[[Document, datetime, str, str], None],
        at: datetime | None,
        detail: str | None = None,
    ) -> Outcome:
        doc = self._document(document_id)
        espace = self._espace(doc.espace_id)
        now = self._now(at)
        gate = self._record_gate(
            actor, action, espace, now, document=doc, detail=detail
        )
        kind, by_id = self._author_key(actor, doc)
        try:
            change(doc, now, kind, by_id)
        except RuleViolation as exc:
            gate.refuse(exc.rule, exc.reason)
        trace = gate.trace()
        self._save(doc, trace)
        return self._outcome(doc.id, doc.current["version_id"], gate.decision, trace)

    def _author_key(self, actor: Actor, doc: Document) -> tuple[str, str]:
        if actor.kind is ActorKind.PROFESSIONAL:
            return "professional", actor.id
        if actor.kind in (ActorKind.HOLDER, ActorKind.REPRESENTATIVE):
            return "holder", str(doc.espace_id)
        return str(actor.kind), actor.id

    # ----------------------------------------------------------------- reads

    def read(
        self,
        actor: Actor,
        document_id: UUID,
        *,
        mode: str = "care",
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
        mode: str = "care",
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

    # ----------------------------------------------------------------- consent

    def consent(
        self,
        actor: Actor,
        espace_id: UUID,
        choice: str,
        professional: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """ACC-1/2/4/5: the holder's choices; each one is traced."""
        pro = (
            schemas.load(schemas.ProfessionalRefSchema, professional)
            if professional is not None
            else None
        )
        commands: dict[str, Callable[[Consent, datetime], None]] = {}
        if pro is not None:
            idnatps, said = pro["idnatps"], pro["profession"]
            commands = {
                "grant": lambda c, t: c.authorise(at=t, idnatps=idnatps),
                "withdraw": lambda c, t: c.withdraw(at=t, idnatps=idnatps),
                "block": lambda c, t: c.block(at=t, idnatps=idnatps),
                "unblock": lambda c, t: c.unblock(at=t, idnatps=idnatps),
                "care-team-add": lambda c, t: c.join_care_team(at=t, idnatps=idnatps),
                "care-team-remove": lambda c, t: c.leave_care_team(
                    at=t, idnatps=idnatps
                ),
                "designate-medecin-traitant": lambda c, t: c.designate_medecin_traitant(
                    at=t,
                    idnatps=idnatps,
                    profession=self._named_profession(idnatps, said) or "",
                ),
            }
        commands.update(
            {
                "revoke-medecin-traitant": lambda c, t: c.revoke_medecin_traitant(at=t),
                "refuse-emergency": lambda c, t: c.refuse_emergency_access(at=t),
                "allow-emergency": lambda c, t: c.allow_emergency_access(at=t),
                "refuse-samu": lambda c, t: c.refuse_emergency_access(at=t, samu=True),
                "allow-samu": lambda c, t: c.allow_emergency_access(at=t, samu=True),
            }
        )
        if choice not in commands:
            needs = " (needs a professional)" if pro is None else ""
            raise InvalidInput(
                {"choice": [f"unknown or incomplete choice {choice!r}{needs}"]}
            )
        espace = self._espace(espace_id)
        existing = self._consent(espace_id)
        now = self._now(at)
        detail = f"{choice} {pro['idnatps']}" if pro else choice
        gate = self._record_gate(
            actor, Action.CONSENT, espace, now, detail=detail, consent=existing
        )
        consent = existing or Consent.start(espace_id=espace_id, at=now)
        try:
            commands[choice](consent, now)
        except RuleViolation as exc:
            gate.refuse(exc.rule, exc.reason)
        trace = gate.trace()
        self._save(consent, trace)
        log.info("consent.changed", espace_id=str(espace_id), choice=choice)
        return {
            "espace_id": str(espace_id),
            "choice": choice,
            "trace_id": str(trace.id),
        }

    def declare_consent(
        self, actor: Actor, espace_id: UUID, at: datetime | None = None
    ) -> dict[str, Any]:
        """ACC-1: a professional declares the consent the holder gave during
        care (how an espace that is open but not activated gets fed, LC-4).
        Refused to a blocked professional (ACC-2); traced either way."""
        if actor.kind is not ActorKind.PROFESSIONAL:
            raise InvalidInput({"actor": ["only a professional declares consent"]})
        espace = self._espace(espace_id)
        existing = self._consent(espace_id)
        now = self._now(at)
        trace = self._record_gate(
            actor, Action.DECLARE_CONSENT, espace, now, consent=existing
        ).trace()
        consent = existing or Consent.start(espace_id=espace_id, at=now)
        if actor.id not in consent.authorised:
            consent.authorise(at=now, idnatps=actor.id, declared_by="professional")
        self._save(consent, trace)
        return {
            "espace_id": str(espace_id),
            "idnatps": actor.id,
            "trace_id": str(trace.id),
        }

    def grant_heir_access(
        self, espace_id: UUID, data: Mapping[str, Any], at: datetime | None = None
    ) -> dict[str, Any]:
        """LC-11: the operator grants an heir read access to the archive."""
        params = schemas.load(schemas.HeirSchema, data)
        espace = self._espace(espace_id)
        if espace.date_of_death is None:
            raise RuleViolation("LC-11", "the holder is not deceased")
        existing = self._consent(espace_id)
        now = self._now(at)
        consent = existing or Consent.start(espace_id=espace_id, at=now)
        consent.grant_heir_access(
            at=now, heir_id=params["heir_id"], relationship=params["relationship"]
        )
        trace = AccessTrace.record(
            trace_id=uuid4(),
            at=now,
            facts=TraceFacts(
                espace_id=espace_id,
                actor_kind="operator",
                actor_id="operator",
                actor_profession=None,
                action=str(Action.CONSENT),
                mode=str(Mode.CARE),
                allowed=True,
                detail=f"heir access: {params['heir_id']} ({params['relationship']})",
                decided_by="operator",
                espace_version=espace.version,
                consent_version=existing.version if existing is not None else 0,
            ),
        )
        self._save(consent, trace)
        return {"espace_id": str(espace_id), "heir_id": params["heir_id"]}

    def consent_view(
        self, actor: Actor, espace_id: UUID, at: datetime | None = None
    ) -> dict[str, Any]:
        """ACC-1, ACC-2, ACC-4, ACC-5: the holder's current choices, to the
        holder's side only; the read is traced (ACC-6)."""
        espace = self._espace(espace_id)
        gate = self._record_gate(
            actor, Action.CONSENT, espace, self._now(at), detail="consent show"
        )
        self._save(gate.trace())
        return self.consents.of_espace(espace_id)

    # ----------------------------------------------------------------- DOC-5 timers

    def tell_holder_update_waiting(
        self, document_id: UUID, at: datetime | None = None
    ) -> None:
        """DOC-5: two weeks without announcement: tell the holder (deadline job)."""
        doc = self._document(document_id)
        now = self._now(at)
        doc.tell_holder_update_waiting(at=now)
        alert = Alert.raise_(
            alert_id=uuid4(),
            espace_id=doc.espace_id,
            at=now,
            recipient_kind="holder",
            recipient_id=str(doc.espace_id),
            reason="update_waiting",
            document_id=doc.id,
        )
        self._save(doc, alert)

    def reveal_after_delay(self, document_id: UUID, at: datetime | None = None) -> None:
        """DOC-5: one month on, the document becomes visible by itself."""
        doc = self._document(document_id)
        doc.reveal_after_delay(at=self._now(at))
        self._save(doc)

    def document_modified_on(self, document_id: UUID) -> datetime:
        modified: datetime = self._document(document_id).modified_on
        return modified

    # ----------------------------------------------------------------- alerts

    def _emergency_alerts(
        self, espace_id: UUID, trace: AccessTrace, mode: Mode, at: datetime
    ) -> list[Alert]:
        """ACC-5: after any emergency access, notify the holder and the MT."""
        if mode is Mode.CARE:
            return []
        recipients = [("holder", str(espace_id))]
        mt = self._consent_state(espace_id).medecin_traitant
        if mt is not None:
            recipients.append(("professional", mt))
        return [
            Alert.raise_(
                alert_id=uuid4(),
                espace_id=espace_id,
                at=at,
                recipient_kind=kind,
                recipient_id=rid,
                reason=f"{mode}_access",
                trace_id=trace.id,
            )
            for kind, rid in recipients
        ]

    def pending_notifications(
        self, espace_id: UUID | None = None
    ) -> list[dict[str, Any]]:
        return self.notifications.pending(espace_id=espace_id)

    def deliver_notification(
        self, alert_id: UUID, channel: str = "app", at: datetime | None = None
    ) -> None:
        params = schemas.load(schemas.DeliverySchema, {"channel": channel})
        alert = self._load(alert_id, Alert, "notification")
        alert.deliver(at=self._now(at), channel=params["channel"])
        self._save(alert)

    # ----------------------------------------------------------------- plumbing

    def _outcome(
        self,
        document_id: UUID,
        version_id: UUID,
        decision: Decision,
        trace: AccessTrace,
    ) -> Outcome:
        return Outcome(
            document_id=str(document_id),
            version_id=str(version_id),
            ground=str(decision.ground),
            trace_id=str(trace.id),
        )
