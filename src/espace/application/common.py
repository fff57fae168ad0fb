"""What the espace's services beyond the record share: loading the espace and
the holder's consent, the one access decision, traces, saves, and the
directory check (PRO-2).

The messaging, agenda, profile and catalogue services decide who may act with
the same pure function as the record (:func:`espace.domain.access.decide`),
so that the lifecycle rules (LC-4 invisible until activated, LC-8 read-only
archive, LC-11 deceased, LC-12 representation) hold everywhere alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import RecordConflictError

from espace.application import schemas
from espace.application.errors import Conflict, InvalidInput, NotFound, RecordErased
from espace.application.lifecycle import LifecycleService, _project
from espace.application.ports import Clock, ProfessionalDirectory
from espace.domain import calendar
from espace.domain.access import (
    AccessMatrix,
    Action,
    Actor,
    Decision,
    EspaceFacts,
    Mode,
    decide,
)
from espace.domain.consent import Consent, ConsentState, consent_id
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.trace import AccessTrace

NO_DOCUMENTS = AccessMatrix(version=0, allowed={})
"""The matrix for decisions that involve no document (it is never consulted)."""

A = TypeVar("A")


def check_listed(
    directory: ProfessionalDirectory | None, idnatps: str, claimed: str | None
) -> str | None:
    """PRO-2: a professional who is not in the directory acts on no espace.

    Returns the profession to act under: the directory's, which is
    authoritative; a different claimed profession is refused. Without a
    directory (a store opened with ``require_directory=False``, ADR-0011) the
    claim stands.
    """
    if directory is None:
        return claimed
    listed = directory.profession_of(idnatps)
    if listed is None:
        raise RuleViolation(
            "PRO-2",
            f"professional {idnatps} is not in the directory of professionals: "
            "a professional who is not listed acts on no espace",
        )
    if claimed is not None and claimed != listed:
        raise RuleViolation(
            "PRO-2",
            f"the directory lists {idnatps} as a {listed}, not a {claimed}",
        )
    return listed


class ServiceBase:
    """Plumbing shared by the espace's services."""

    def __init__(
        self,
        app: Application[UUID],
        lifecycle: LifecycleService,
        clock: Clock,
        *,
        directory: ProfessionalDirectory | None = None,
        after_save: Callable[[], object] | None = None,
    ) -> None:
        self.app = app
        self.lifecycle = lifecycle
        self.clock = clock
        self.directory = directory
        self.after_save = after_save

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
            found = self.app.repository.get(aggregate_id, projector_func=_project)
        except AggregateNotFoundError:
            return None
        except RecordErased:
            raise NotFound(f"{what} {aggregate_id} was erased (SEC-4)") from None
        if not isinstance(found, cls):
            raise NotFound(f"no {what} {aggregate_id}")
        return found

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

    def _listed(self, idnatps: str, claimed: str | None) -> str | None:
        """PRO-2 (see :func:`check_listed`)."""
        return check_listed(self.directory, idnatps, claimed)

    def _not_blocked(self, espace_id: UUID, idnatps: str) -> None:
        """ACC-2: a professional the holder blocked does not reach them."""
        if idnatps in self._consent_state(espace_id).blocked:
            raise RuleViolation("ACC-2", "the holder blocked this professional")

    @staticmethod
    def _facts(espace: EspaceSante) -> EspaceFacts:
        return EspaceFacts(
            espace_id=espace.id,
            state=str(espace.state),
            deceased=espace.date_of_death is not None,
            represented=espace.representative is not None,
        )

    def _decide(self, actor: Actor, action: Action, espace: EspaceSante) -> Decision:
        return decide(
            actor,
            action,
            espace=self._facts(espace),
            consent=self._consent_state(espace.id),
            matrix=NO_DOCUMENTS,
        )

    def _trace(
        self,
        actor: Actor,
        action: Action,
        espace_id: UUID,
        decision: Decision,
        at: datetime,
        detail: str | None = None,
        *,
        mode: Mode = Mode.CARE,
        document_id: UUID | None = None,
        version_id: UUID | None = None,
    ) -> AccessTrace:
        """ACC-6: who, what, when, on what grounds, or why not."""
        return AccessTrace.record(
            trace_id=uuid4(),
            espace_id=espace_id,
            at=at,
            actor_kind=str(actor.kind),
            actor_id=actor.id,
            actor_profession=actor.profession,
            action=str(action),
            mode=str(mode),
            allowed=decision.allowed,
            ground=str(decision.ground) if decision.ground else None,
            rule=decision.rule,
            reason=decision.reason,
            document_id=document_id,
            version_id=version_id,
            detail=detail,
        )

    def _gate(
        self,
        actor: Actor,
        action: Action,
        espace: EspaceSante,
        at: datetime,
        detail: str,
    ) -> AccessTrace:
        """Decide and trace; a denied attempt leaves its trace, then is refused."""
        decision = self._decide(actor, action, espace)
        trace = self._trace(actor, action, espace.id, decision, at, detail)
        if not decision.allowed:
            self._save(trace)
            raise RuleViolation(
                decision.rule or "ACC-1", decision.reason or "access denied"
            )
        return trace

    # ----------------------------------------------------------------- saves

    def _save(self, *aggregates: Any) -> None:
        try:
            self.app.save(*aggregates)
        except RecordConflictError:
            raise Conflict("changed by someone else meanwhile; try again") from None
        if self.after_save is not None:
            self.after_save()
