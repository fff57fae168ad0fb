"""The import of a legacy DMP (issue 13, LC-6, ADR-0032): a FHIR Bundle of
DocumentReferences for one person, merged into their espace.

The :class:`BundleReader` (the FHIR adapter, :mod:`espace.adapters.fhir.reader`)
parses and validates the bundle with the R4B models and turns each
DocumentReference into a :class:`LegacyDocument`. This use case then checks
every document against the rules a deposit applies (the metadata schema, the
type list in force, the Document's own guards, DOC-1/DOC-2), and only when
every one passes saves them all, each with its trace (ACC-6), in one
transaction: a bundle imports whole or not at all. Each document's id is
derived from the espace and the DocumentReference's identifier, so the same
bundle imported twice adds nothing (``already_imported``).

Before the espace opens (LC-2's window still running), the checked documents
are held (:class:`espace.domain.held_import.HeldImport`); the lifecycle saves
the opening with their deposits and traces (:meth:`ImportService.companions`,
LC-6), or an opposition with their discard (LC-3).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID, uuid4, uuid5

import structlog
from marshmallow import fields, validate

from espace.application import aggregates, schemas
from espace.application.common import ServiceBase
from espace.application.errors import InvalidInput, NotFound
from espace.application.lifecycle import LifecycleService
from espace.application.outputs import Output, dumps
from espace.application.ports import Clock
from espace.application.records import RecordService
from espace.domain.actors import Action
from espace.domain.document_metadata import AuthorKind
from espace.domain.documents import Document
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.espace_state import State
from espace.domain.held_import import HeldImport, HeldStatus, held_import_id
from espace.domain.trace import AccessTrace

IMPORTED = UUID("6f1c3c55-5d0e-4d43-9a43-6c1b0f3a7e21")
"""The namespace of imported documents' ids (uuid5 of espace and key)."""

log = structlog.get_logger("espace.imports")

DEFAULT_OPERATOR = "legacy-dmp"
"""Who imports, as the holder's journal names them, unless told."""

ELEMENT = {
    "category": "DocumentReference.category",
    "loinc_code": "DocumentReference.type",
    "title": "DocumentReference.description",
    "care_time": "DocumentReference.context.period.start",
    "format": "DocumentReference.content[0].attachment.contentType",
}
"""Where in a DocumentReference each field of a deposit comes from."""

OPEN_STATES = frozenset({State.OPEN, State.ACTIVE})
WAITING_STATES = frozenset({State.AFFILIATED, State.NOTIFIED})
"""Before the opening: an import is held until it (LC-6)."""


@dataclass(frozen=True)
class LegacyDocument:
    """One DocumentReference of the bundle, as a deposit's inputs."""

    where: str
    """``entry[3]``: the entry, as errors name it."""
    key: str
    """What identifies it in the legacy DMP (its identifier, else its id)."""
    metadata: dict[str, Any]
    """``loinc_code``, ``category`` (None: the type's), ``title``,
    ``care_time``, ``format``: what :class:`schemas.DocumentSchema` loads."""
    content: bytes
    resource: str
    """``DocumentReference/abc``: the resource, as errors name it."""
    author_kind: str
    """:class:`AuthorKind`: a professional, or the holder (the Patient)."""
    author_id: str | None
    """The IdNatPS of a professional author."""


@dataclass(frozen=True)
class LegacyBundle:
    """A bundle of one person's documents, read and structurally valid."""

    ins_oid: str
    ins_value: str
    ins_where: str
    """The element the INS was read from (errors name it)."""
    documents: list[LegacyDocument] = field(default_factory=list)


class BundleReader(Protocol):
    """Parses a legacy DMP bundle; InvalidInput naming resource and element."""

    def read(self, data: str | bytes | Mapping[str, Any]) -> LegacyBundle:
        """The bundle's person and documents, or InvalidInput (nothing else)."""


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    espace_id: str
    imported: list[str]
    """The ids of the documents deposited by this import."""
    already_imported: list[str]
    """The ids of the documents an earlier import deposited, or holds."""
    held: list[str] = field(default_factory=list)
    """The ids the documents will have, held until the espace opens (LC-6)."""


@dumps(ImportReport)
class ImportReportSchema(Output):
    """The report as JSON holds it: how many documents, and their ids."""

    espace_id = fields.String()
    imported = fields.Function(lambda report: len(report.imported))
    already_imported = fields.Function(lambda report: len(report.already_imported))
    held = fields.Function(lambda report: len(report.held))
    imported_ids = fields.List(fields.String(), attribute="imported")
    already_imported_ids = fields.List(fields.String(), attribute="already_imported")
    held_ids = fields.List(fields.String(), attribute="held")


class ImportService(ServiceBase):
    """The import of a legacy DMP into an espace (LC-6): ``legacy_dmp``; and
    what an opening or an opposition does with one held
    (:class:`espace.application.ports.SavedWithEspace`)."""

    def __init__(
        self,
        app: Any,
        lifecycle: LifecycleService,
        clock: Clock,
        *,
        records: RecordService,
        reader: BundleReader,
    ) -> None:
        super().__init__(app, lifecycle, clock)
        self.records = records
        self.reader = reader

    def legacy_dmp(
        self,
        bundle: str | bytes | Mapping[str, Any],
        *,
        espace_id: UUID | None = None,
        operator: str = DEFAULT_OPERATOR,
    ) -> ImportReport:
        """LC-6: merge a legacy DMP's documents (a FHIR R4 Bundle of
        DocumentReferences, JSON text or parsed) into the espace of the
        person it names (or ``espace_id``, which must be theirs).

        Every document is checked before anything is written; the import is
        one transaction. Into an open espace, each new document is deposited
        with its original author (DOC-2) and traced in the holder's journal,
        the operator as who acted (ACC-6). Before the opening (affiliated,
        or notified with the window running), the checked documents are
        held, and the opening merges them (``held``). A document already
        imported, or held, is skipped.

        InvalidInput naming the resource and element for any bad entry or a
        bundle of someone else; NotFound for no espace (or an erased one);
        RuleViolation LC-6 if the holder opposed, or the espace is
        suspended, closed or its holder deceased."""
        name = schemas.load(_OperatorSchema, {"operator": operator})["operator"]
        legacy = self.reader.read(bundle)
        wanted = self.lifecycle.espace_id_for(legacy.ins_value, legacy.ins_oid)
        if espace_id is not None and espace_id != wanted:
            self._espace(espace_id)  # NotFound first, if there is no such espace
            raise InvalidInput(
                {
                    legacy.ins_where: [
                        f"the bundle's patient is not the holder of espace {espace_id}"
                    ]
                }
            )
        espace = self._espace(wanted)
        now = _mergeable(espace)
        at = self._now(None)
        types = self.records.matrix().types
        held = self._maybe(held_import_id(espace.id), HeldImport, "held import")
        already_held = held.keys if held is not None else set()
        checked: list[tuple[dict[str, Any], Document]] = []
        contents: list[tuple[UUID, bytes]] = []
        already: list[str] = []
        seen: set[UUID] = set()
        for doc in legacy.documents:
            document_id = uuid5(IMPORTED, f"{espace.id}|{doc.key}")
            if document_id in seen:
                raise InvalidInput(
                    {
                        f"{doc.where} DocumentReference.identifier": [
                            f"{doc.key} appears twice in the bundle ({doc.resource})"
                        ]
                    }
                )
            seen.add(document_id)
            form = self._held_form(espace, doc, document_id, name, types)
            document = self._deposit(espace, form, at, types, where=doc)
            deposited = aggregates.maybe(self.app, document_id, Document, "document")
            if doc.key in already_held or deposited is not None:
                already.append(str(document_id))
                continue
            checked.append((form, document))
            contents.append((form["version_id"], doc.content))
        for version_id, content in contents:
            self.records.contents.put(espace.id, version_id, content)
        ids = [str(form["document_id"]) for form, _ in checked]
        if not now:
            if checked:
                self._save(_held(held, espace, at, [form for form, _ in checked]))
            return ImportReport(str(espace.id), [], already, held=ids)
        changes: list[Any] = []
        for form, document in checked:
            changes += [document, _trace(espace, form, at)]
        if changes:
            self._save(*changes)
        return ImportReport(str(espace.id), ids, already)

    # ------------------------------------------------- held until the opening

    def companions(self, espace: EspaceSante) -> list[Any]:
        """LC-6: an espace that opens brings its held legacy DMP's documents
        (each with its trace) into the same save; LC-3: an opposition
        discards it. Nothing for any other change, and no read either."""
        if not espace.legacy_dmp_ref:
            return []  # nothing can be held (_mergeable): no read at all
        pending = [type(e) for e in espace.pending_events]
        opens = EspaceSante.Opened in pending
        if not opens and EspaceSante.OppositionDeclared not in pending:
            return []
        held = self._maybe(held_import_id(espace.id), HeldImport, "held import")
        if held is None or held.status is not HeldStatus.HELD:
            return []
        at = espace.pending_events[-1].timestamp
        if not opens or espace.ever_opposed:
            held.discard(at=at, reason="the holder opposed (LC-3): no DMP is created")
            return [held]
        types = self.records.matrix().types
        changes: list[Any] = []
        merged: list[str] = []
        rejected: dict[str, str] = {}
        for form in held.documents:
            if aggregates.maybe(self.app, form["document_id"], Document, "document"):
                merged.append(str(form["document_id"]))
                continue
            try:
                document = self._deposit(espace, form, at, types, where=None)
            except RuleViolation as exc:
                rejected[form["key"]] = f"{exc.rule}: {exc.reason}"
                log.warning(
                    "legacy_dmp.rejected_at_opening",
                    espace_id=str(espace.id),
                    key=form["key"],
                    rule=exc.rule,
                )
                continue
            changes += [document, _trace(espace, form, at, held_since=held.created_on)]
            merged.append(str(form["document_id"]))
        held.merge(at=at, merged=merged, rejected=rejected)
        return [*changes, held]

    def settle(self, espace_id: UUID, companions: Sequence[Any]) -> None:
        """LC-3: a discarded legacy DMP's bytes are deleted once the
        discard is saved (the erasure of the espace would delete them too)."""
        for held in companions:
            if isinstance(held, HeldImport) and held.status is HeldStatus.DISCARDED:
                self.records.contents.delete(
                    espace_id, [d["version_id"] for d in held.documents]
                )

    # ------------------------------------------------------------- checking

    def _held_form(
        self,
        espace: EspaceSante,
        doc: LegacyDocument,
        document_id: UUID,
        operator: str,
        types: Mapping[str, Any],
    ) -> dict[str, Any]:
        """DOC-1: a document checked by the deposit's schema and type list,
        as the held import keeps it (:class:`HeldImport`)."""
        try:
            meta = self._metadata(espace, doc, types)
        except InvalidInput as exc:
            raise InvalidInput(
                {
                    f"{doc.where} {ELEMENT.get(k, k)}": [
                        f"{m} ({doc.resource})" for m in v
                    ]
                    for k, v in exc.fields.items()
                }
            ) from None
        return {
            "key": doc.key,
            "where": doc.where,
            "resource": doc.resource,
            "document_id": document_id,
            "version_id": uuid4(),
            "metadata": meta,
            "author_kind": doc.author_kind,
            "author_id": doc.author_id,
            "size": len(doc.content),
            "content_hash": hashlib.sha256(doc.content).hexdigest(),
            "operator": operator,
        }

    def _deposit(
        self,
        espace: EspaceSante,
        form: dict[str, Any],
        at: datetime,
        types: Mapping[str, Any],
        *,
        where: LegacyDocument | None,
    ) -> Document:
        """DOC-1/DOC-2: the Document aggregate's own deposit. With ``where``
        (the bundle's entry) a refusal is InvalidInput naming it; without,
        the RuleViolation itself."""
        meta = form["metadata"]
        holder = form["author_kind"] == AuthorKind.HOLDER
        try:
            return Document.deposit(
                types=types,
                document_id=form["document_id"],
                espace_id=espace.id,
                version_id=form["version_id"],
                at=at,
                author_kind=form["author_kind"],
                author_id=str(espace.id) if holder else str(form["author_id"]),
                author_profession=None,
                category=meta["category"],
                loinc_code=meta["loinc_code"],
                title=meta["title"],
                care_time=meta["care_time"],
                fmt=meta["format"],
                size=form["size"],
                content_hash=form["content_hash"],
            )
        except RuleViolation as exc:
            if where is None:
                raise
            raise InvalidInput(
                {
                    f"{where.where} DocumentReference": [
                        f"{exc.reason} ({exc.rule}, {where.resource})"
                    ]
                }
            ) from None

    def _metadata(
        self, espace: EspaceSante, doc: LegacyDocument, types: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The deposit's metadata, as the deposit use case checks it (DOC-1):
        the schema, the type list in force, the type's category by default,
        nothing before the holder's birth (ADR-0017)."""
        meta = schemas.load(schemas.DocumentSchema, doc.metadata)
        known = types.get(meta["loinc_code"])
        if known is None:
            raise InvalidInput(
                {
                    "loinc_code": [
                        f"unknown document type {meta['loinc_code']}: not in the type "
                        "list in force (espace matrix show --types)"
                    ]
                }
            )
        if meta["category"] is None:
            holder = doc.author_kind == AuthorKind.HOLDER
            meta["category"] = "patient_uploaded" if holder else known.category
        self._since_birth(espace, "care_time", meta["care_time"])
        return meta


class _OperatorSchema(schemas.InputSchema):
    """Who imports: a name the holder's journal keeps."""

    operator = fields.String(required=True, validate=validate.Length(min=1, max=100))


def _mergeable(espace: EspaceSante) -> bool:
    """LC-6: merged when the espace opens, unless the holder opposed (LC-3).
    True when the espace is open (import now), False before its opening
    when the insurer's feed declared a legacy DMP (hold until it opens,
    ADR-0032); else an error."""
    if espace.state is State.ERASED:
        raise NotFound(f"espace {espace.id} was erased (LC-9, SEC-4)")
    if espace.ever_opposed:
        raise RuleViolation(
            "LC-6",
            "the holder opposed (LC-3): no DMP was created, the legacy DMP is "
            "not merged",
        )
    if espace.state in OPEN_STATES:
        return True
    if espace.state in WAITING_STATES:
        if not espace.legacy_dmp_ref:
            raise RuleViolation(
                "LC-6",
                f"the espace is {espace.state} and the insurer's feed declares no "
                "legacy DMP for it (legacy_dmp_ref): import it once the espace "
                "is open (LC-4) or activated (LC-5)",
            )
        return False
    raise RuleViolation(
        "LC-6",
        f"the espace is {espace.state}: a legacy DMP is merged when the "
        "espace opens (LC-4, LC-5), not into a suspended or closed one",
    )


def _held(
    held: HeldImport | None,
    espace: EspaceSante,
    at: datetime,
    documents: list[dict[str, Any]],
) -> HeldImport:
    """LC-6: the espace's held import, with these documents added."""
    if held is None:
        return HeldImport.hold(espace_id=espace.id, at=at, documents=documents)
    held.add(at=at, documents=documents)
    return held


def _trace(
    espace: EspaceSante,
    form: dict[str, Any],
    at: datetime,
    *,
    held_since: datetime | None = None,
) -> AccessTrace:
    """ACC-6: the deposit of an imported document, in the holder's journal:
    the operator acted (no decision, as the operator's other acts), the
    original author and the legacy reference in the detail."""
    author = (
        "the holder"
        if form["author_kind"] == AuthorKind.HOLDER
        else f"professional {form['author_id']}"
    )
    since = f", held since {held_since.isoformat()}" if held_since else ""
    return AccessTrace.operator_act(
        trace_id=uuid4(),
        at=at,
        espace_id=espace.id,
        operator=form["operator"],
        action=str(Action.DEPOSIT),
        detail=f"legacy DMP import (LC-6) of {form['key']}{since}, "
        f"authored by {author}",
        document_id=form["document_id"],
        version_id=form["version_id"],
        espace_version=espace.version,
    )
