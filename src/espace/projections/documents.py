"""The documents views: one row per logical document, and its version history
(DOC-1, DOC-3, DOC-4, DOC-5).

They hold metadata and flags, never titles or content (which stay sealed in
the events and the content store, SEC-1). Every read path filters these rows
through the access decision; the views themselves decide nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.documents import Document
from espace.projections.base import (
    VIEWS,
    FoldProjection,
    UtcDateTime,
    checked_queries,
    unhandled,
)

TS = UtcDateTime()

documents = sa.Table(
    "view_documents",
    VIEWS,
    sa.Column("document_id", sa.Uuid, primary_key=True),
    sa.Column("espace_id", sa.Uuid, nullable=False, index=True),
    sa.Column("current_version_id", sa.Uuid, nullable=False),
    sa.Column("version_count", sa.Integer, nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("loinc_code", sa.String(16), nullable=False),
    sa.Column("author_kind", sa.String(16), nullable=False),
    sa.Column("author_id", sa.String(64), nullable=False),
    sa.Column("author_profession", sa.String(32)),
    sa.Column("care_time", TS, nullable=False),
    sa.Column("format", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("deposited_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("deleted_at", TS),
    sa.Column("masked_from_professionals", sa.Boolean, nullable=False),
    sa.Column("hidden_from_holder", sa.Boolean, nullable=False),
    sa.Column("holder_told", sa.Boolean, nullable=False),
    sa.Column("holder_reveal_at", TS),
    sa.Column("hidden_from_representatives", sa.Boolean, nullable=False),
)

versions = sa.Table(
    "view_document_versions",
    VIEWS,
    sa.Column("version_id", sa.Uuid, primary_key=True),
    sa.Column("document_id", sa.Uuid, nullable=False, index=True),
    sa.Column("espace_id", sa.Uuid, nullable=False, index=True),
    sa.Column("version_no", sa.Integer, nullable=False),
    sa.Column("loinc_code", sa.String(16), nullable=False),
    sa.Column("format", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("care_time", TS, nullable=False),
    sa.Column("deposited_at", TS, nullable=False),
    sa.Column("superseded_at", TS),
)

DocState = dict[str, Any]
"""{"doc": row of view_documents, "versions": rows of view_document_versions}"""


class DocumentsProjection(FoldProjection[DocState]):
    """The documents views (DOC-1, DOC-3, DOC-4, DOC-5): per logical document, its
    row (current version, flags, logical deletion) and one row per version."""

    name = "documents"
    tables = (documents, versions)
    key_column = "document_id"

    def load(self, conn: sa.Connection, keys: Collection[UUID]) -> dict[UUID, DocState]:
        """The stored rows of each document: its row and its versions, oldest first;
        a document with no row is absent."""
        states: dict[UUID, DocState] = {}
        ids = list(keys)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            for r in conn.execute(
                documents.select().where(documents.c.document_id.in_(chunk))
            ).mappings():
                states[r["document_id"]] = {"doc": dict(r), "versions": []}
            query = (
                versions.select()
                .where(versions.c.document_id.in_(chunk))
                .order_by(versions.c.version_no)
            )
            for r in conn.execute(query).mappings():
                states[r["document_id"]]["versions"].append(dict(r))
        return states

    def rows(self, key: UUID, state: DocState) -> dict[sa.Table, list[dict[str, Any]]]:
        """The document's row and one row per version (DOC-3: the history stays)."""
        return {documents: [state["doc"]], versions: state["versions"]}

    @singledispatchmethod
    def apply(self, event: Any, state: DocState | None) -> DocState | None:
        """A document's rows after one of its events."""
        raise unhandled(self, event)

    @apply.register
    def _(self, event: Document.Deposited, state: DocState | None) -> DocState | None:
        doc = {
            "document_id": event.originator_id,
            "espace_id": event.espace_id,
            "current_version_id": event.version_id,
            "version_count": 1,
            "category": event.category,
            "loinc_code": event.loinc_code,
            "author_kind": event.author_kind,
            "author_id": event.author_id,
            "author_profession": event.author_profession,
            "care_time": event.care_time,
            "format": event.format,
            "size": event.size,
            "deposited_at": event.timestamp,
            "updated_at": event.timestamp,
            "deleted_at": None,
            "masked_from_professionals": False,
            "hidden_from_holder": event.hidden_from_holder,
            "holder_told": False,
            "holder_reveal_at": None,
            "hidden_from_representatives": event.hidden_from_representatives,
        }
        return {"doc": doc, "versions": [_version(event, 1)]}

    @apply.register
    def _(self, event: Document.Replaced, state: DocState | None) -> DocState | None:
        changed = _changed(
            state,
            event,
            current_version_id=event.version_id,
            loinc_code=event.loinc_code,
            care_time=event.care_time,
            format=event.format,
            size=event.size,
        )
        if changed is None:
            return None
        versions = changed["versions"]
        versions[-1]["superseded_at"] = event.timestamp
        versions.append(_version(event, len(versions) + 1))
        changed["doc"]["version_count"] = len(versions)
        return changed

    @apply.register
    def _(self, event: Document.Deleted, state: DocState | None) -> DocState | None:
        return _changed(state, event, deleted_at=event.timestamp)

    @apply.register
    def _(
        self, event: Document.MaskedFromProfessionals, state: DocState | None
    ) -> DocState | None:
        return _changed(state, event, masked_from_professionals=True)

    @apply.register
    def _(
        self, event: Document.UnmaskedFromProfessionals, state: DocState | None
    ) -> DocState | None:
        return _changed(state, event, masked_from_professionals=False)

    @apply.register
    def _(
        self, event: Document.HiddenFromHolder, state: DocState | None
    ) -> DocState | None:
        return _changed(
            state,
            event,
            hidden_from_holder=True,
            holder_told=False,
            holder_reveal_at=event.reveal_at,
        )

    @apply.register
    def _(
        self, event: Document.HolderToldUpdateWaiting, state: DocState | None
    ) -> DocState | None:
        return _changed(state, event, holder_told=True)

    @apply.register
    def _(
        self, event: Document.RevealedToHolder, state: DocState | None
    ) -> DocState | None:
        return _changed(state, event, hidden_from_holder=False, holder_reveal_at=None)

    @apply.register
    def _(
        self, event: Document.HiddenFromRepresentatives, state: DocState | None
    ) -> DocState | None:
        return _changed(state, event, hidden_from_representatives=True)

    @apply.register
    def _(
        self, event: Document.ShownToRepresentatives, state: DocState | None
    ) -> DocState | None:
        return _changed(state, event, hidden_from_representatives=False)


def _changed(state: DocState | None, event: Any, **values: Any) -> DocState | None:
    """A copy of a document's rows after one of its events: its row stamped
    and given these values; None for a document never deposited."""
    if state is None:
        return None
    doc = {**state["doc"], "updated_at": event.timestamp, **values}
    return {"doc": doc, "versions": [dict(v) for v in state["versions"]]}


def _version(
    event: Document.Deposited | Document.Replaced, number: int
) -> dict[str, Any]:
    """The row of the version a deposit or a replacement brings."""
    return {
        "version_id": event.version_id,
        "document_id": event.originator_id,
        "espace_id": event.espace_id,
        "version_no": number,
        "loinc_code": event.loinc_code,
        "format": event.format,
        "size": event.size,
        "care_time": event.care_time,
        "deposited_at": event.timestamp,
        "superseded_at": None,
    }


@checked_queries
class DocumentQueries:
    """Read side of the documents views. Filtering by rights is the caller's."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def of_espace(
        self, espace_id: UUID, *, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        """An espace's documents, most recent care first; logically deleted ones
        (DOC-4) only with ``include_deleted``. Unfiltered: the caller applies the
        access decision and the visibility flags (DOC-5)."""
        query = (
            documents.select()
            .where(documents.c.espace_id == espace_id)
            .order_by(documents.c.care_time.desc(), documents.c.document_id)
        )
        if not include_deleted:
            query = query.where(documents.c.deleted_at.is_(None))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def get(self, document_id: UUID) -> dict[str, Any] | None:
        """One document's row, deleted or not, or ``None``; unfiltered, as above."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    documents.select().where(documents.c.document_id == document_id)
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def history(self, document_id: UUID) -> list[dict[str, Any]]:
        """DOC-3: every version of a document, oldest first, superseded ones with
        the time they were replaced."""
        query = (
            versions.select()
            .where(versions.c.document_id == document_id)
            .order_by(versions.c.version_no)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def counts(self) -> dict[str, int]:
        """How many documents the view holds per category (DOC-1), deleted ones
        included: for the operator's stats, with nothing that names anyone."""
        query = sa.select(documents.c.category, sa.func.count()).group_by(
            documents.c.category
        )
        with self.engine.connect() as conn:
            return {str(c): int(n) for c, n in conn.execute(query)}
