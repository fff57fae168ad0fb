"""What every use case of the shared medical record (DMP) stands on: its
queries, the access matrix in force (ACC-3, cached, ADR-0010), the facts a
decision needs, the gate of every action (one decision, one trace), and the
alerts an emergency access raises (ACC-5). The families of use cases derive
from it: documents and reads, consent, notifications and the DOC-5 timers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from time import monotonic
from typing import Any
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import Application
from marshmallow import fields

from espace.application import aggregates, schemas
from espace.application.common import _LOAD, Gate, ServiceBase
from espace.application.errors import InvalidInput, NotFound
from espace.application.lifecycle import LifecycleService
from espace.application.outputs import Output, dumps
from espace.application.ports import Clock, ContentStore, ProfessionalDirectory
from espace.application.queries import (
    ConsentView,
    DocumentView,
    JournalView,
    NotificationView,
)
from espace.application.tables import matrix_from_csv, types_from_csv
from espace.domain import reference
from espace.domain.access import MATRIX_ID, AccessMatrix, AccessMatrixLog, DocumentType
from espace.domain.actors import Action, Actor, ActorKind, Mode
from espace.domain.consent import Consent, consent_id
from espace.domain.decision import Decision
from espace.domain.documents import Document
from espace.domain.espace import EspaceSante
from espace.domain.trace import AccessTrace, Alert

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


@dumps(Outcome)
class OutcomeSchema(Output):
    """The outcome, leaving out the ids it does not have."""

    omit_none = True
    document_id = fields.String()
    version_id = fields.String()
    ground = fields.String()
    trace_id = fields.String()


def default_matrix_text() -> str:
    """ACC-3: the shipped access matrix (CSV), published if none exists yet."""
    return resources.files("espace.data").joinpath(DEFAULT_MATRIX).read_text("utf-8")


def default_types_text() -> str:
    """The shipped type list (DOC-1): a starting point the operator extends."""
    return resources.files("espace.data").joinpath(DEFAULT_TYPES).read_text("utf-8")


class RecordBase(ServiceBase):
    """The record's state and the helpers its use cases share."""

    def __init__(
        self,
        app: Application[UUID],
        lifecycle: LifecycleService,
        contents: ContentStore,
        clock: Clock,
        *,
        documents: DocumentView,
        consents: ConsentView,
        journal: JournalView,
        notifications: NotificationView,
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
        return aggregates.maybe(self.app, MATRIX_ID, AccessMatrixLog, "access matrix")

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

    # ----------------------------------------------------------------- alerts

    def _emergency_alerts(
        self, espace_id: UUID, trace: AccessTrace, mode: Mode, at: datetime
    ) -> list[Alert]:
        """ACC-5: after any emergency access, notify the holder and the MT."""
        if mode is Mode.CARE:
            return []
        recipients = [(ActorKind.HOLDER, str(espace_id))]
        mt = self._consent_state(espace_id).medecin_traitant
        if mt is not None:
            recipients.append((ActorKind.PROFESSIONAL, mt))
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
