"""The auditor's use cases (ADR-0022): an espace's history as of any instant,
who could read a document at an instant and why, one professional's
accesses, and the export for offline verification.

Replay as of an instant loads aggregates from their events up to that
instant: it never reads a view. The events of one espace are found through
the audit log's index of clear key ids and checked against it
(:class:`espace.application.ports.AuditEvidence`). The access question
replays the consent, the document, the directory and the access matrix as
they were, through the same :func:`espace.domain.decision.decide`. Every
auditor read is itself traced, under the system key (:class:`AuditorRead`).

The rendering of the history (values, states, events) is in
:mod:`espace.application.audit_render`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from marshmallow import fields, validate

from espace.application import schemas
from espace.application.audit_render import (
    SECTIONS,
    _collector_paused,
    _deadlines,
    _described,
    plain,
    state_of,
)
from espace.application.errors import NotFound
from espace.application.ports import AuditEvidence, Clock
from espace.application.queries import AuditorReadsView, JournalView
from espace.application.replay import aggregate_as_of, kept_as_of, replay
from espace.domain.access import MATRIX_ID, AccessMatrix, AccessMatrixLog
from espace.domain.actors import Action, Actor, ActorKind, Mode
from espace.domain.auditor import AuditorRead
from espace.domain.consent import Consent, ConsentState, consent_id
from espace.domain.decision import (
    Decision,
    EspaceFacts,
    Listing,
    decide,
    facts_of_document,
)
from espace.domain.directory import Professional, professional_id
from espace.domain.document_metadata import AuthorKind
from espace.domain.documents import Document
from espace.domain.espace import EspaceSante
from espace.domain.trace import TraceFacts

EMERGENCY_ROUTE = "any professional, in an emergency (ACC-5)"
SAMU_ROUTE = "the SAMU regulator (ACC-5)"


class AuditorSchema(schemas.InputSchema):
    """Who audits: a name the audit log keeps with every read."""

    auditor = fields.String(required=True, validate=validate.Length(min=1, max=100))


class AuditService:
    """What an auditor asks; read-only, and traced."""

    def __init__(
        self,
        app: Application[UUID],
        evidence: AuditEvidence,
        clock: Clock,
        *,
        journal: JournalView,
        reads: AuditorReadsView,
        require_listing: bool,
    ) -> None:
        self.app = app
        self.evidence = evidence
        self.clock = clock
        self.journal = journal
        self.reads = reads
        self.require_listing = require_listing

    # ----------------------------------------------------------------- traces

    def _traced(
        self, auditor: str, action: str, subject: UUID | str, detail: str | None
    ) -> datetime:
        """ACC-6: the auditor's read, saved before anything is shown."""
        who = schemas.load(AuditorSchema, {"auditor": auditor})["auditor"]
        at = schemas.command_time(None, self.clock)
        self.app.save(
            AuditorRead.record(
                read_id=uuid4(),
                at=at,
                auditor=who,
                action=action,
                subject=str(subject),
                detail=detail,
            )
        )  # in `audit log` at once: the event store catches the view up
        return at

    def log(
        self, *, subject: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """The auditors' reads, newest first (the audit log, not a journal)."""
        return self.reads.reads(subject=subject, limit=limit, offset=offset)

    # ----------------------------------------------------------------- the log

    def checkpoint(self) -> Any:
        """Sign a checkpoint of the log now (ADR-0021)."""
        return self.evidence.checkpoint(schemas.command_time(None, self.clock))

    def checkpoints(
        self, *, limit: int | None = 100, offset: int = 0
    ) -> tuple[list[Any], int]:
        """The signed checkpoints, newest first (every one with no limit),
        and how many there are."""
        return self.evidence.checkpoints(limit, offset)

    def verifier(self) -> Any:
        """The verifier key to give auditors (:class:`ConfigurationError`
        without a signing key)."""
        return self.evidence.verifier()

    def verify(self, verifiers: Sequence[Any] = ()) -> Any:
        """Recompute every leaf and root; compare with the tree and every
        signed checkpoint (ADR-0021)."""
        return self.evidence.verify(verifiers)

    def prove_consistency(
        self, first: int, second: int | None = None
    ) -> dict[str, Any]:
        """ADR-0021: an RFC 9162 proof that the signed checkpoint of size
        ``first`` is a prefix of the one of size ``second`` (default: the
        latest); ConfigurationError if there is no checkpoint of that size."""
        return self.evidence.prove_consistency(first, second)

    # ----------------------------------------------------------------- history

    def history(
        self, espace_id: UUID, *, as_of: datetime | None = None, auditor: str
    ) -> dict[str, Any]:
        """The espace as it stood at ``as_of`` (default: now), replayed from
        its events, and the list of those events with their clear content."""
        schemas.checked_id(espace_id, "espace_id")
        when = schemas.checked_instant(as_of, "as_of") if as_of is not None else None
        with _collector_paused():
            return self._history(espace_id, when, auditor)

    def _history(
        self, espace_id: UUID, when: datetime | None, auditor: str
    ) -> dict[str, Any]:
        logged = self.evidence.espace_events(espace_id)
        self._traced(auditor, "history", espace_id, when.isoformat() if when else None)
        kept = kept_as_of(logged, when)
        sections: dict[str, Any] = {name: [] for name in SECTIONS.values()}
        sections.update(espace=None, consent=None, profile=None, erasure=None)
        for aggregate in replay(kept):
            kind = type(aggregate).__qualname__
            section = SECTIONS.get(kind, "other")
            entry = {
                "id": str(aggregate.id),
                "version": aggregate.version,
                "modified_on": aggregate.modified_on.isoformat(),
                **state_of(aggregate),
            }
            if isinstance(sections.get(section), list):
                sections[section].append(entry)
            else:
                sections[section] = entry
        if isinstance(sections["espace"], dict):
            sections["espace"]["next_deadlines"] = _deadlines(sections["espace"])
        erased = sum(1 for e in kept if e.event is None)
        return {
            "espace_id": str(espace_id),
            "as_of": when.isoformat() if when else None,
            "erased": erased > 0,
            "erased_events": erased,
            **sections,
            "events": [_described(e) for e in kept],
        }

    # ----------------------------------------------------------------- access

    def _as_of(
        self, aggregate_id: UUID, at: datetime, version: int | None = None
    ) -> Any:
        """An aggregate as it stood at ``at`` (or at ``version``), from its
        own events; None if it did not exist yet."""
        return aggregate_as_of(self.app, aggregate_id, at, version)

    def _listing(
        self, idnatps: str, at: datetime, version: int | None = None
    ) -> Listing | None:
        pro = self._as_of(professional_id(idnatps), at, version)
        if not isinstance(pro, Professional):
            return None
        return Listing(
            listed=pro.listed, profession=pro.profession, version=pro.version
        )

    def _matrix(self, at: datetime, number: int | None = None) -> AccessMatrix:
        """The access matrix in force at ``at`` (or its version ``number``)."""
        events: list[Any] = list(self.app.repository.event_store.get(MATRIX_ID))
        current: AccessMatrix | None = None
        for event in events:
            if not isinstance(event, AccessMatrixLog.Published):
                continue
            if number is None and event.timestamp > at:
                break
            matrix = event.matrix()
            if number is not None and event.version == number:
                return matrix
            current = matrix
        if current is None or number is not None:
            which = f"version {number}" if number is not None else "in force"
            raise NotFound(f"no access matrix {which} at {at.isoformat()}")
        return current

    def access(
        self, document_id: UUID, *, at: datetime, auditor: str
    ) -> dict[str, Any]:
        """Who could read document ``document_id`` at instant ``at``, and on
        what grounds: the holder, the legal representatives, the heirs, the
        médecin traitant, each consented, care-team or blocked professional,
        the author, and the emergency and SAMU routes; with the versions of
        everything the answer rests on. Replayed through ``decide``."""
        schemas.checked_id(document_id, "document_id")
        when = schemas.checked_instant(at, "at")
        document = self._as_of(document_id, when)
        if not isinstance(document, Document):
            raise NotFound(f"no document {document_id} at {when.isoformat()}")
        espace = self._as_of(document.espace_id, when)
        consent = self._as_of(consent_id(document.espace_id), when)
        matrix = self._matrix(when)
        self._traced(auditor, "access", document_id, when.isoformat())
        state = consent.state if isinstance(consent, Consent) else ConsentState()
        facts = _espace_facts(espace)
        doc_facts = facts_of_document(document)
        candidates: list[tuple[str, Actor, Mode]] = [
            ("holder", Actor(ActorKind.HOLDER, str(espace.id)), Mode.CARE)
        ]
        if facts.represented:
            candidates.append(
                (
                    "legal representative",
                    Actor(ActorKind.REPRESENTATIVE, str(espace.id)),
                    Mode.CARE,
                )
            )
        candidates += [
            ("heir", Actor(ActorKind.HEIR, h), Mode.CARE) for h in sorted(state.heirs)
        ]
        roles: dict[str, list[str]] = {}
        for role, ids in (
            (
                "médecin traitant",
                [state.medecin_traitant] if state.medecin_traitant else [],
            ),
            ("consented", sorted(state.authorised)),
            ("care team", sorted(state.care_team)),
            ("blocked", sorted(state.blocked)),
            (
                "author",
                [document.author_id]
                if document.author_kind == AuthorKind.PROFESSIONAL
                else [],
            ),
        ):
            for idnatps in ids:
                roles.setdefault(idnatps, []).append(role)
        listings: dict[str, Listing | None] = {i: self._listing(i, when) for i in roles}
        rows = []
        for role, actor, mode in candidates:
            rows.append(
                self._row(role, actor, mode, facts, state, matrix, doc_facts, None)
            )
        for idnatps, named in roles.items():
            listing = listings[idnatps]
            actor = Actor(
                ActorKind.PROFESSIONAL, idnatps, listing.profession if listing else None
            )
            rows.append(
                self._row(
                    ", ".join(named),
                    actor,
                    Mode.CARE,
                    facts,
                    state,
                    matrix,
                    doc_facts,
                    listing,
                )
            )
        any_physician = Listing(listed=True, profession="physician", version=0)
        for route, mode in ((EMERGENCY_ROUTE, Mode.EMERGENCY), (SAMU_ROUTE, Mode.SAMU)):
            actor = Actor(ActorKind.PROFESSIONAL, "any", "physician")
            rows.append(
                self._row(
                    route, actor, mode, facts, state, matrix, doc_facts, any_physician
                )
            )
        return {
            "document_id": str(document_id),
            "espace_id": str(espace.id),
            "at": when.isoformat(),
            "matrix_version": matrix.version,
            "document_version": document.version,
            "consent_version": consent.version if isinstance(consent, Consent) else 0,
            "espace_version": espace.version,
            "emergency_refused": state.emergency_refused,
            "samu_refused": state.samu_refused,
            "who": rows,
        }

    def _row(
        self,
        role: str,
        actor: Actor,
        mode: Mode,
        facts: EspaceFacts,
        state: ConsentState,
        matrix: AccessMatrix,
        document: Any,
        listing: Listing | None,
    ) -> dict[str, Any]:
        decision = decide(
            actor,
            Action.READ,
            espace=facts,
            consent=state,
            matrix=matrix,
            document=document,
            mode=mode,
            listing=listing,
            require_listing=self.require_listing,
        )
        return {
            "role": role,
            "kind": str(actor.kind),
            "id": actor.id,
            "profession": actor.profession,
            "mode": str(mode),
            "may_read": decision.allowed,
            "ground": str(decision.ground) if decision.ground else None,
            "rule": decision.rule,
            "reason": decision.reason,
            "listing_version": listing.version if listing else None,
        }

    # ----------------------------------------------------------------- replay

    def replay_trace(self, facts: TraceFacts, at: datetime) -> Decision:
        """``decide`` again, with the facts the trace says it rested on: the
        espace, consent, document, matrix and directory entry at the
        versions it names (ADR-0022)."""
        espace = self._as_of(facts.espace_id, at, facts.espace_version)
        consent = (
            self._as_of(consent_id(facts.espace_id), at, facts.consent_version)
            if facts.consent_version
            else None
        )
        document = (
            self._as_of(facts.document_id, at, facts.document_version)
            if facts.document_id is not None and facts.document_version
            else None
        )
        matrix = (
            self._matrix(at, facts.matrix_version)
            if facts.matrix_version
            else AccessMatrix(version=0, allowed={})
        )
        listing = (
            self._listing(facts.actor_id, at, facts.listing_version)
            if facts.listing_version
            else None
        )
        return decide(
            Actor(ActorKind(facts.actor_kind), facts.actor_id, facts.actor_profession),
            Action(facts.action),
            espace=_espace_facts(espace),
            consent=consent.state if isinstance(consent, Consent) else ConsentState(),
            matrix=matrix,
            document=facts_of_document(document) if document is not None else None,
            mode=Mode(facts.mode),
            listing=listing,
            require_listing=self.require_listing,
        )

    # ----------------------------------------------------------------- professional

    def professional(
        self,
        idnatps: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        auditor: str,
        limit: int = 100,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Every access attempt by one professional, across espaces, with
        its outcome and grounds (from the journal of traces)."""
        ref = schemas.load(schemas.ProfessionalRefSchema, {"idnatps": idnatps})
        window = [
            schemas.checked_instant(t, name) if t is not None else None
            for t, name in ((since, "since"), (until, "until"))
        ]
        self._traced(auditor, "professional", ref["idnatps"], None)
        rows, total = self.journal.of_actor(
            ref["idnatps"], since=window[0], until=window[1], limit=limit, offset=offset
        )
        return {
            "idnatps": ref["idnatps"],
            "since": plain(window[0]),
            "until": plain(window[1]),
            "total": total,
            "shown": len(rows),
            "offset": offset,
            "remaining": max(total - offset - len(rows), 0),
            "attempts": [plain(r) for r in rows],
        }

    # ----------------------------------------------------------------- export

    def export(
        self, espace_id: UUID, *, as_of: datetime | None = None, auditor: str
    ) -> dict[str, Any]:
        """The espace's history for offline verification (ADR-0022); the
        export is traced first."""
        schemas.checked_id(espace_id, "espace_id")
        when = schemas.checked_instant(as_of, "as_of") if as_of is not None else None
        at = self._traced(
            auditor, "export", espace_id, when.isoformat() if when else None
        )
        document = self.evidence.export(espace_id, as_of=when, at=at)
        document["exported_by"] = schemas.load(AuditorSchema, {"auditor": auditor})[
            "auditor"
        ]
        return document


def _espace_facts(espace: Any) -> EspaceFacts:
    if not isinstance(espace, EspaceSante):
        raise NotFound("the espace did not exist at that instant")
    return EspaceFacts(
        espace_id=espace.id,
        state=espace.state,
        deceased=espace.date_of_death is not None,
        represented=espace.representative is not None,
    )
