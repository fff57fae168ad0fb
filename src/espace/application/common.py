"""What the espace's services beyond the record share: loading the espace and
the holder's consent, the one access decision, traces, saves, and the
directory check (PRO-2).

The messaging, agenda, profile and catalogue services decide who may act with
the same pure function as the record (:func:`espace.domain.decision.decide`),
so that the lifecycle rules (LC-4 invisible until activated, LC-8 read-only
archive, LC-11 deceased, LC-12 representation) hold everywhere alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NoReturn, TypeVar
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import Application

from espace.application import aggregates, schemas
from espace.application.errors import InvalidInput, NotFound, RecordErased
from espace.application.lifecycle import LifecycleService
from espace.application.ports import Clock, ProfessionalDirectory
from espace.domain import calendar
from espace.domain.access import AccessMatrix
from espace.domain.actors import Action, Actor, ActorKind, Ground, Mode
from espace.domain.consent import Consent, ConsentState, consent_id
from espace.domain.decision import (
    Decision,
    EspaceFacts,
    Listing,
    decide,
    facts_of_document,
    listed_actor,
)
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.trace import AccessTrace, TraceFacts

log = structlog.get_logger("espace.access")

NO_DOCUMENTS = AccessMatrix(version=0, allowed={})
"""The matrix for decisions that involve no document (it is never consulted)."""

A = TypeVar("A")


_LOAD: Any = object()
"""Marker: load the holder's consent for the decision."""


@dataclass
class Gate:
    """One access decision, and everything it rested on (ADR-0022).

    The trace is built once, from the final outcome: :meth:`trace` when the
    action went through, :meth:`refuse` when the decision denied it or a
    rule of the aggregate turned it down afterwards (the denial is saved,
    then raised). Its provenance names the versions of the espace, of the
    holder's consent, of the document, of the access matrix actually used,
    and of the directory's entry for the professional.
    """

    save: Callable[..., None]
    actor: Actor
    action: Action
    espace_id: UUID
    at: datetime
    mode: Mode
    detail: str | None
    decision: Decision
    provenance: dict[str, int | None]
    document_id: UUID | None = None
    version_id: UUID | None = None

    def _facts(
        self,
        decision: Decision,
        decided_by: str = "decision",
        target: dict[str, UUID] | None = None,
    ) -> TraceFacts:
        target = target or {}
        return TraceFacts(
            espace_id=self.espace_id,
            actor_kind=str(self.actor.kind),
            actor_id=self.actor.id,
            actor_profession=self.actor.profession,
            action=str(self.action),
            mode=str(self.mode),
            allowed=decision.allowed,
            ground=str(decision.ground) if decision.ground else None,
            rule=decision.rule,
            reason=decision.reason,
            document_id=target.get("document_id", self.document_id),
            version_id=target.get("version_id", self.version_id),
            detail=self.detail,
            decided_by=decided_by,
            **self.provenance,
        )

    def trace(
        self, *, document_id: UUID | None = None, version_id: UUID | None = None
    ) -> AccessTrace:
        """ACC-6: the trace of the allowed action (to save with its change)."""
        target = {
            k: v
            for k, v in (("document_id", document_id), ("version_id", version_id))
            if v is not None
        }
        return AccessTrace.record(
            trace_id=uuid4(),
            at=self.at,
            facts=self._facts(self.decision, target=target),
        )

    def denial(self, rule: str, reason: str, decided_by: str = "rule") -> AccessTrace:
        """The trace of a denied attempt, not saved yet: by the decision, or
        by a rule of the aggregate after the decision allowed it."""
        return AccessTrace.record(
            trace_id=uuid4(),
            at=self.at,
            facts=self._facts(Decision.deny(rule, reason), decided_by),
        )

    def refuse(
        self, rule: str | None, reason: str | None, decided_by: str = "rule"
    ) -> NoReturn:
        """ACC-6: save the trace of the denied attempt, then refuse it."""
        rule, reason = rule or "ACC-1", reason or "access denied"
        self.save(self.denial(rule, reason, decided_by))
        log.info("access.denied", espace_id=str(self.espace_id), rule=rule)
        raise RuleViolation(rule, reason)


class ServiceBase:
    """Plumbing shared by the espace's services."""

    def __init__(
        self,
        app: Application[UUID],
        lifecycle: LifecycleService,
        clock: Clock,
        *,
        directory: ProfessionalDirectory | None = None,
    ) -> None:
        self.app = app
        self.lifecycle = lifecycle
        self.clock = clock
        self.directory = directory

    # ----------------------------------------------------------------- loads

    def _espace(self, espace_id: UUID) -> EspaceSante:
        return self.lifecycle.get(espace_id)

    def _load(self, aggregate_id: UUID, cls: type[A], what: str) -> A:
        """An aggregate of this class; NotFound if absent, erased or another kind."""
        found = self._maybe(aggregate_id, cls, what)
        if found is None:
            raise NotFound(f"no {what} {aggregate_id}")
        return found

    def _maybe(self, aggregate_id: UUID, cls: type[A], what: str) -> A | None:
        """The aggregate, or None if it never existed; NotFound if erased."""
        try:
            return aggregates.maybe(self.app, aggregate_id, cls, what)
        except RecordErased:
            raise NotFound(f"{what} {aggregate_id} was erased (SEC-4)") from None

    def _consent_state(self, espace_id: UUID) -> ConsentState:
        consent = self._maybe(consent_id(espace_id), Consent, "consent")
        return consent.state if consent is not None else ConsentState()

    def _now(self, at: datetime | None) -> datetime:
        """The time of the command; call it after the loads (see
        :func:`espace.application.schemas.command_time`)."""
        return schemas.command_time(at, self.clock)

    # ----------------------------------------------------------------- rules

    @staticmethod
    def _since_birth(espace: EspaceSante, field: str, value: date | None) -> None:
        """ADR-0017: nothing in a person's record happened before their birth."""
        if value is None:
            return
        born = espace.ins.birth_date
        if isinstance(value, datetime):
            before = value < calendar.start_of_paris_day(born)
        else:
            before = value < born
        if before:
            raise InvalidInput(
                {field: [f"is before the holder's birth ({born.isoformat()})"]}
            )

    def _listing(self, actor: Actor) -> Listing | None:
        """PRO-2: the directory's entry of a professional actor."""
        if actor.kind is not ActorKind.PROFESSIONAL or self.directory is None:
            return None
        return self.directory.listing(actor.id)

    def _require_listed(self, idnatps: str) -> None:
        """PRO-2: a professional named by a command (the one an appointment
        is with) must be listed."""
        if self.directory is None:
            return
        listing = self.directory.listing(idnatps)
        if listing is None or not listing.listed:
            raise RuleViolation(
                "PRO-2",
                f"professional {idnatps} is not in the directory of professionals",
            )

    def _named_profession(self, idnatps: str, said: str | None) -> str | None:
        """PRO-2: the profession of a professional a command names (the one
        designated médecin traitant): the directory's, which a different one
        said contradicts; without a directory, the one said."""
        if self.directory is None:
            return said
        listing = self.directory.listing(idnatps)
        if listing is None or not listing.listed:
            raise RuleViolation(
                "PRO-2",
                f"professional {idnatps} is not in the directory of professionals",
            )
        if said is not None and said != listing.profession:
            raise RuleViolation(
                "PRO-2",
                f"the directory lists {idnatps} as a {listing.profession}, "
                f"not a {said}",
            )
        return listing.profession

    @staticmethod
    def _facts(espace: EspaceSante) -> EspaceFacts:
        return EspaceFacts(
            espace_id=espace.id,
            state=espace.state,
            deceased=espace.date_of_death is not None,
            represented=espace.representative is not None,
        )

    def _open_gate(
        self,
        actor: Actor,
        action: Action,
        espace: EspaceSante,
        at: datetime,
        *,
        document: Any = None,
        mode: Mode = Mode.CARE,
        detail: str | None = None,
        matrix: AccessMatrix | None = None,
        consent: Any = _LOAD,
        version_id: UUID | None = None,
    ) -> Gate:
        """The one access decision (:func:`decide`), with every fact passed
        in and their versions kept for the trace; a denial is traced and
        refused here."""
        if consent is _LOAD:
            consent = self._maybe(consent_id(espace.id), Consent, "consent")
        listing = self._listing(actor)
        decision = decide(
            actor,
            action,
            espace=self._facts(espace),
            consent=consent.state if consent is not None else ConsentState(),
            matrix=matrix or NO_DOCUMENTS,
            document=facts_of_document(document) if document is not None else None,
            mode=mode,
            listing=listing,
            require_listing=self.directory is not None,
        )
        # The trace names the actor as the decision saw them: with the
        # profession the directory lists (PRO-2).
        listed = listed_actor(actor, listing, self.directory is not None)
        gate = Gate(
            save=self._save,
            actor=listed if isinstance(listed, Actor) else actor,
            action=action,
            espace_id=espace.id,
            at=at,
            mode=mode,
            detail=detail,
            decision=decision,
            provenance={
                "espace_version": espace.version,
                "consent_version": consent.version if consent is not None else 0,
                "document_version": document.version if document is not None else None,
                "matrix_version": matrix.version if matrix is not None else None,
                "listing_version": listing.version if listing is not None else None,
            },
            document_id=document.id if document is not None else None,
            version_id=version_id
            or (document.current["version_id"] if document is not None else None),
        )
        if not decision.allowed:
            gate.refuse(decision.rule, decision.reason, decided_by="decision")
        return gate

    def _require(self, actor: Actor, action: Action, espace: EspaceSante) -> Ground:
        """The same decision where no trace is kept (messaging, the agenda):
        the ground, or the rule that refuses."""
        return decide(
            actor,
            action,
            espace=self._facts(espace),
            consent=self._consent_state(espace.id),
            matrix=NO_DOCUMENTS,
            listing=self._listing(actor),
            require_listing=self.directory is not None,
        ).require()

    # ----------------------------------------------------------------- saves

    def _save(self, *changed: Any) -> None:
        aggregates.save(self.app, *changed)
