"""The export of a holder's espace (issue 13, ADR-0031): the right of
access and portability, or the operator's.

The espace as of an instant is replayed from its events
(:mod:`espace.application.replay`, as the auditor's history is), gathered
into an :class:`EspaceSnapshot` with the contents of its documents and the
directory's entries of every professional it names, and handed to a
:class:`BundleWriter` (the FHIR adapter, :mod:`espace.adapters.fhir`), which
builds and validates every resource. The traces (ACC-6: one per access, by
far the most numerous) are not gathered: the snapshot holds a lazy iterator
over them, read from the log page by page as the writer streams them, so
that an export's memory does not grow with them (``fhir_to``; ``fhir``
gathers the same entries into a dict). The export is traced in the holder's
journal (ACC-6), once the bundle is whole and valid, before it is returned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from marshmallow import fields, validate

from espace.application import schemas
from espace.application.common import ServiceBase
from espace.application.errors import DamagedRecord, InvalidInput
from espace.application.lifecycle import LifecycleService
from espace.application.ports import AuditEvidence, Clock, ContentStore
from espace.application.replay import (
    aggregate_as_of,
    kept_as_of,
    replay,
    replay_each,
)
from espace.domain.actors import Action, Actor, ActorKind
from espace.domain.agenda import Appointment
from espace.domain.consent import Consent
from espace.domain.directory import Professional, professional_id
from espace.domain.document_metadata import AuthorKind
from espace.domain.documents import Document
from espace.domain.espace import EspaceSante
from espace.domain.messaging import Message
from espace.domain.profile import MedicalProfile
from espace.domain.trace import OPERATOR, AccessTrace

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

TRACE_TOPIC = get_topic(AccessTrace.Recorded)
"""The one event of a trace (ACC-6): the part of an espace's log read apart,
lazily (ADR-0031)."""


class OperatorSchema(schemas.InputSchema):
    """Who exports for the operator: a name the holder's journal keeps."""

    operator = fields.String(required=True, validate=validate.Length(min=1, max=100))


@dataclass(frozen=True)
class EspaceSnapshot:
    """What an export holds: the espace as it stood at ``as_of`` (now when
    None), replayed from its events, and what it references."""

    espace: EspaceSante
    exported_at: datetime
    as_of: datetime | None
    audience: str
    """``holder``, ``representative`` or ``operator``: who it is for."""
    with_history: bool
    documents: list[Document]
    """The documents the audience sees (DOC-5), deleted ones only with
    ``with_history`` (DOC-4)."""
    contents: dict[UUID, bytes]
    """The bytes of every version exported, by version id."""
    consent: Consent | None
    traces: Iterable[AccessTrace]
    """ACC-6: every trace up to ``as_of``, in the log's order, read lazily
    as it is iterated (once): never all in memory."""
    conversations: list[Message] = field(default_factory=list)
    """MSG-*: every conversation, each message a Communication."""
    appointments: list[Appointment] = field(default_factory=list)
    """AG-1: the agenda, cancelled appointments included."""
    profile: MedicalProfile | None = None
    """PRO-1: the medical profile the holder filled in."""
    professionals: dict[str, Professional | None] = field(default_factory=dict)
    """Every professional the other parts than the traces name, by IdNatPS:
    the directory's entry as it stood, None if the directory has none
    (PRO-2)."""
    directory: Callable[[str], Professional | None] = lambda _idnatps: None
    """PRO-2: the directory's entry as it stood of a professional only the
    traces name (known once they are read: the writer asks)."""


class TextOut(Protocol):
    """Where a streamed export goes: a text file, ``io.StringIO``..."""

    def write(self, text: str, /) -> object:
        """Append ``text``."""


class BundleWriter(Protocol):
    """Builds the export's document from a snapshot, validating every part;
    both forms stand on the same entries, each validated before it is
    handed on."""

    def write(self, snapshot: EspaceSnapshot, out: TextOut) -> dict[str, int]:
        """The bundle's JSON, written to ``out`` entry by entry as each
        validates; how many resources of each type it holds. If a part does
        not validate, it raises midway: what ``out`` got is to be thrown
        away (the CLI writes to a temporary file)."""

    def bundle(self, snapshot: EspaceSnapshot) -> dict[str, Any]:
        """The bundle as JSON holds it; raises before returning anything if
        a part does not validate."""


class ExportService(ServiceBase):
    """The export of an espace (issue 13): ``fhir``."""

    def __init__(
        self,
        app: Application[UUID],
        lifecycle: LifecycleService,
        clock: Clock,
        *,
        evidence: AuditEvidence,
        contents: ContentStore,
        writer: BundleWriter,
    ) -> None:
        super().__init__(app, lifecycle, clock)
        self.evidence = evidence
        self.contents = contents
        self.writer = writer

    def fhir(
        self,
        espace_id: UUID,
        *,
        actor: Actor | None = None,
        operator: str | None = None,
        as_of: datetime | None = None,
        with_history: bool = False,
    ) -> dict[str, Any]:
        """ACC-6: the espace as a FHIR R4 (R4B) Bundle of type ``collection``
        (ADR-0031), as it stood at ``as_of`` (default now), for ``actor``
        (the holder, or their legal representative: the documents hidden
        from them are left out, DOC-5) or for ``operator`` (a name: every
        document, each DOC-5 flag as a ``securityLabel``). Logically deleted
        documents and superseded versions are resources of their own only
        ``with_history`` (DOC-3, DOC-4). The export is traced in the
        holder's journal.

        The whole bundle in memory: :meth:`fhir_to` streams it instead.

        NotFound for an unknown or erased espace (an erased espace has
        nothing left to export, SEC-4); InvalidInput naming ``as_of`` for an
        instant that is not one, in the future or before the espace;
        RuleViolation (traced) for an actor who may not export."""
        return self._export(
            espace_id, actor, operator, as_of, with_history, self.writer.bundle
        )

    def fhir_to(
        self,
        out: TextOut,
        espace_id: UUID,
        *,
        actor: Actor | None = None,
        operator: str | None = None,
        as_of: datetime | None = None,
        with_history: bool = False,
    ) -> dict[str, int]:
        """:meth:`fhir`, the Bundle's JSON written to ``out`` as its entries
        validate, the traces read from the log as they are written: memory
        does not grow with them (ADR-0031). Returns how many resources of
        each type were written. The export is traced once the last byte is
        written; if a resource does not validate, :class:`ExportInvalid` is
        raised midway, nothing is traced, and what ``out`` got must be
        thrown away (the CLI writes to a temporary file)."""
        return self._export(
            espace_id,
            actor,
            operator,
            as_of,
            with_history,
            partial(self.writer.write, out=out),
        )

    def _export(
        self,
        espace_id: UUID,
        actor: Actor | None,
        operator: str | None,
        as_of: datetime | None,
        with_history: bool,
        written: Callable[[EspaceSnapshot], R],
    ) -> R:
        """Who may, as of when: the snapshot handed to ``written``, then the
        export's trace saved (ACC-6)."""
        schemas.checked_id(espace_id, "espace_id")
        when = schemas.checked_instant(as_of, "as_of") if as_of is not None else None
        if (actor is None) == (operator is None):
            raise InvalidInput({"actor": ["give exactly one of actor or operator"]})
        espace = self._espace(espace_id)
        at = self._now(None)
        if when is not None and when > at:
            raise InvalidInput({"as_of": [f"is after now ({at.isoformat()})"]})
        detail = "fhir" + (f" as of {when.isoformat()}" if when else "")
        detail += " with history" if with_history else ""
        if actor is not None:
            gate = self._open_gate(actor, Action.EXPORT, espace, at, detail=detail)
            trace = gate.trace()
            audience = str(gate.actor.kind)
        else:
            assert operator is not None
            name = schemas.load(OperatorSchema, {"operator": operator})["operator"]
            trace = _operator_trace(espace, name, at, detail)
            audience = OPERATOR
        result = written(self._snapshot(espace_id, when, at, audience, with_history))
        self._save(trace)
        return result

    def _snapshot(
        self,
        espace_id: UUID,
        when: datetime | None,
        at: datetime,
        audience: str,
        with_history: bool,
    ) -> EspaceSnapshot:
        logged, traces = self.evidence.espace_events_apart(espace_id, TRACE_TOPIC)
        aggregates = replay(kept_as_of(logged, when))
        espace = next((a for a in aggregates if isinstance(a, EspaceSante)), None)
        if espace is None:
            raise InvalidInput({"as_of": ["is before the espace was created"]})
        documents = [
            d
            for d in _in_order(aggregates, Document)
            if (with_history or d.deleted_at is None) and _seen_by(d, audience)
        ]
        conversations = _in_order(aggregates, Message)
        appointments = _in_order(aggregates, Appointment)
        consent = next((c for c in aggregates if isinstance(c, Consent)), None)
        profile = next((p for p in aggregates if isinstance(p, MedicalProfile)), None)
        contents = {
            v["version_id"]: self._content(espace_id, d, v)
            for d in documents
            for v in (d.versions if with_history else [d.current])
        }
        named = _professionals_named(documents, consent)
        named |= {
            c.opener_id
            for c in conversations
            if c.opener_kind == ActorKind.PROFESSIONAL
        }
        named |= {a.professional_id for a in appointments if a.professional_id}
        return EspaceSnapshot(
            espace=espace,
            exported_at=at,
            as_of=when,
            audience=audience,
            with_history=with_history,
            documents=documents,
            contents=contents,
            consent=consent,
            traces=replay_each(traces, when),
            conversations=conversations,
            appointments=appointments,
            profile=profile,
            professionals={
                idnatps: self._directory_entry(idnatps, when or at)
                for idnatps in sorted(named)
            },
            directory=partial(self._directory_entry, at=when or at),
        )

    def _content(
        self, espace_id: UUID, document: Document, version: dict[str, Any]
    ) -> bytes:
        """A version's bytes, checked against the hash recorded at deposit."""
        content = self.contents.get(espace_id, version["version_id"])
        if hashlib.sha256(content).hexdigest() != version["content_hash"]:
            raise DamagedRecord(
                f"the content of version {version['version_id']} does not match "
                "the hash recorded at its deposit",
                aggregate_id=document.id,
                espace_id=espace_id,
            )
        return content

    def _directory_entry(self, idnatps: str, at: datetime) -> Professional | None:
        """PRO-2: the directory's entry as it stood at ``at``, if any."""
        found = aggregate_as_of(self.app, professional_id(idnatps), at)
        return found if isinstance(found, Professional) else None


def _in_order(aggregates: list[Any], kind: type[A]) -> list[A]:
    """The aggregates of one kind, oldest first (ties by id: a stable order)."""
    found = [a for a in aggregates if isinstance(a, kind)]
    found.sort(key=lambda a: (a.created_on, str(a.id)))
    return found


def _seen_by(document: Document, audience: str) -> bool:
    """DOC-5: the holder's side does not get what is hidden from it."""
    if audience == OPERATOR:
        return True
    if document.hidden_from_holder:
        return False
    return not (
        audience == ActorKind.REPRESENTATIVE and document.hidden_from_representatives
    )


def _professionals_named(
    documents: list[Document], consent: Consent | None
) -> set[str]:
    """The IdNatPS the documents and the consent reference: authors, the
    holder's choices (the traces' are gathered as they are written)."""
    named = {d.author_id for d in documents if d.author_kind == AuthorKind.PROFESSIONAL}
    if consent is not None:
        state = consent.state
        named |= state.authorised | state.blocked | state.care_team
        if state.medecin_traitant is not None:
            named.add(state.medecin_traitant)
    return named


def _operator_trace(
    espace: EspaceSante, operator: str, at: datetime, detail: str
) -> AccessTrace:
    """ACC-6: an operator's export, traced as the operator's other acts are."""
    return AccessTrace.operator_act(
        trace_id=uuid4(),
        at=at,
        espace_id=espace.id,
        operator=operator,
        action=str(Action.EXPORT),
        detail=detail,
        espace_version=espace.version,
    )
