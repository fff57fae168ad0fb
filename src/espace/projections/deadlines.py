"""The deadlines view: what falls due when, one row per pending deadline.

Kinds (``espace.domain.deadlines.DEADLINE_KINDS`` declares them, and the
command the deadline job issues for each):
- ``opening`` (LC-4): the opposition window ends; the espace opens.
- ``suspension_closure`` (LC-7): six weeks after the holder was told.
- ``archive_expiry`` (LC-8): ten years after closure; the content is erased.
- ``erasure`` (LC-9): an express erasure to carry out now (``due_at`` is the
  request; ``limit_at`` the legal three-month limit). Once an erasure is
  begun (LC-8 or LC-9), this row stays until its record is completed, that
  is until the espace's key is destroyed: an interrupted erasure stays due,
  and the next run finishes it (SEC-4).
- ``majority`` (LC-12): the holder turns 18; the representative's mandate ends.
- ``holder_notice`` (DOC-5): a document hidden from the holder for two weeks
  without announcement: the holder is told an update is waiting.
- ``holder_reveal`` (DOC-5): one month on, it becomes visible by itself.

The subject of a deadline is the espace, or the document for DOC-5 timers.

Every row is a pure function of the espace's events, so a rebuild gives the
same table, and a restart after downtime finds everything that fell due.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain import calendar
from espace.domain.deadlines import DeadlineKind
from espace.domain.documents import Document
from espace.domain.erasure import Erasure
from espace.domain.espace import EspaceSante
from espace.projections.base import (
    VIEWS,
    EspaceFoldProjection,
    UtcDateTime,
    checked_queries,
    unhandled,
)

TS = UtcDateTime()

deadlines = sa.Table(
    "view_deadlines",
    VIEWS,
    sa.Column("espace_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(24), primary_key=True),
    sa.Column("subject_id", sa.Uuid, primary_key=True),
    sa.Column("due_at", TS, nullable=False, index=True),
    sa.Column("limit_at", TS),
)

DeadlineState = dict[tuple[DeadlineKind, UUID], tuple[datetime, datetime | None]]
"""(kind, subject id) -> (due_at, limit_at). The subject is the espace itself,
or one of its documents (DOC-5 timers)."""


class DeadlinesProjection(EspaceFoldProjection[DeadlineState]):
    """The deadlines view (LC-4, LC-7, LC-8, LC-9, LC-12, DOC-5): per espace, one
    row per pending deadline, which the deadline job reads to know what is due."""

    name = "deadlines"
    tables = (deadlines,)

    def espace_id_of(self, event: Any) -> UUID:
        """The espace an event's deadlines belong to: for an erasure's record, an
        aggregate of its own (ADR-0019), the espace it erases."""
        if isinstance(event, Erasure.Event):
            erased: UUID = event.erased_espace
            return erased
        return super().espace_id_of(event)

    def purge(self, conn: sa.Connection, espace_ids: Collection[UUID]) -> None:
        """The espace's key is destroyed: its rows go, except an erasure not
        yet recorded as complete, which the deadline job must still finish."""
        ids = list(espace_ids)
        for i in range(0, len(ids), 500):
            conn.execute(
                deadlines.delete()
                .where(deadlines.c.espace_id.in_(ids[i : i + 500]))
                .where(deadlines.c.kind != DeadlineKind.ERASURE.value)
            )

    def load(
        self, conn: sa.Connection, espace_ids: Collection[UUID]
    ) -> dict[UUID, DeadlineState]:
        """The stored deadlines of each espace, by kind and subject; an espace with
        none is absent."""
        states: dict[UUID, DeadlineState] = {}
        ids = list(espace_ids)
        for i in range(0, len(ids), 500):
            query = deadlines.select().where(
                deadlines.c.espace_id.in_(ids[i : i + 500])
            )
            for r in conn.execute(query):
                key = (DeadlineKind(r.kind), r.subject_id)
                states.setdefault(r.espace_id, {})[key] = (
                    r.due_at,
                    r.limit_at,
                )
        return states

    def rows(
        self, espace_id: UUID, state: DeadlineState
    ) -> dict[sa.Table, list[dict[str, Any]]]:
        """One row per pending deadline of the espace, in kind and subject order."""
        return {
            deadlines: [
                {
                    "espace_id": espace_id,
                    "kind": kind.value,
                    "subject_id": subject,
                    "due_at": due,
                    "limit_at": limit,
                }
                for (kind, subject), (due, limit) in sorted(state.items())
            ]
        }

    @singledispatchmethod
    def apply(self, event: Any, state: DeadlineState | None) -> DeadlineState | None:
        """An espace's deadlines after one of its events (or of its
        documents, or of its erasure)."""
        raise unhandled(self, event)

    @apply.register
    def _(
        self, event: EspaceSante.Affiliated, state: DeadlineState | None
    ) -> DeadlineState | None:
        if event.representative is None:
            return _changed(state, self.espace_id_of(event))
        majority = calendar.majority_at(event.birth_date)
        return _changed(state, self.espace_id_of(event), majority=(majority, None))

    @apply.register
    def _(
        self, event: EspaceSante.NoticeSent, state: DeadlineState | None
    ) -> DeadlineState | None:
        due = (event.opposition_deadline, None)
        return _changed(state, self.espace_id_of(event), opening=due)

    @apply.register
    def _(
        self,
        event: EspaceSante.OppositionDeclared | EspaceSante.Opened,
        state: DeadlineState | None,
    ) -> DeadlineState | None:
        return _changed(state, self.espace_id_of(event), "opening")

    @apply.register
    def _(
        self, event: EspaceSante.Suspended, state: DeadlineState | None
    ) -> DeadlineState | None:
        due = (event.closes_at, None)
        return _changed(state, self.espace_id_of(event), suspension_closure=due)

    @apply.register
    def _(
        self, event: EspaceSante.SuspensionEnded, state: DeadlineState | None
    ) -> DeadlineState | None:
        return _changed(state, self.espace_id_of(event), "suspension_closure")

    @apply.register
    def _(
        self, event: EspaceSante.Closed, state: DeadlineState | None
    ) -> DeadlineState | None:
        return _changed(
            state,
            self.espace_id_of(event),
            "opening",
            "suspension_closure",
            archive_expiry=(event.archive_until, None),
        )

    @apply.register
    def _(
        self,
        event: EspaceSante.DeathDeclared | EspaceSante.RepresentationEnded,
        state: DeadlineState | None,
    ) -> DeadlineState | None:
        return _changed(state, self.espace_id_of(event), "majority")

    @apply.register
    def _(
        self, event: EspaceSante.ErasureRequested, state: DeadlineState | None
    ) -> DeadlineState | None:
        return _changed(
            state,
            self.espace_id_of(event),
            "archive_expiry",
            erasure=(event.timestamp, event.due_by),
        )

    @apply.register
    def _(
        self, event: EspaceSante.Erased, state: DeadlineState | None
    ) -> DeadlineState | None:
        kept = {
            k: v
            for k, v in (state or {}).items()
            if k[0] in (DeadlineKind.ERASURE, DeadlineKind.ARCHIVE_EXPIRY)
        }
        erasure = (DeadlineKind.ERASURE, self.espace_id_of(event))
        return kept or {erasure: (event.timestamp, None)}

    @apply.register
    def _(
        self, event: Erasure.Begun, state: DeadlineState | None
    ) -> DeadlineState | None:
        key = (DeadlineKind.ERASURE, self.espace_id_of(event))
        due, limit = (state or {}).get(key, (event.timestamp, None))
        return {key: (min(due, event.timestamp), limit)}

    @apply.register
    def _(
        self, event: Erasure.Completed, state: DeadlineState | None
    ) -> DeadlineState | None:
        return None

    @apply.register
    def _(
        self, event: EspaceSante.Reopened, state: DeadlineState | None
    ) -> DeadlineState | None:
        return _changed(state, self.espace_id_of(event), "archive_expiry")

    @apply.register
    def _(
        self, event: Document.HiddenFromHolder, state: DeadlineState | None
    ) -> DeadlineState | None:
        return _changed(
            state,
            event.originator_id,
            holder_notice=(event.notice_at, None),
            holder_reveal=(event.reveal_at, None),
        )

    @apply.register
    def _(
        self, event: Document.HolderToldUpdateWaiting, state: DeadlineState | None
    ) -> DeadlineState | None:
        return _changed(state, event.originator_id, "holder_notice")

    @apply.register
    def _(
        self,
        event: Document.RevealedToHolder | Document.Deleted,
        state: DeadlineState | None,
    ) -> DeadlineState | None:
        return _changed(state, event.originator_id, "holder_notice", "holder_reveal")


def _changed(
    state: DeadlineState | None,
    subject: UUID,
    *dropped: str,
    **put: tuple[datetime, datetime | None],
) -> DeadlineState | None:
    """An espace's deadlines with those of the ``dropped`` kinds gone, and
    those ``put`` (kind: due, limit) set, for one subject (the espace, or a
    document); None when none is left. Kinds are named as their
    :class:`DeadlineKind` values: any other name is a ``ValueError``."""
    s = dict(state or {})
    for kind in dropped:
        s.pop((DeadlineKind(kind), subject), None)
    for kind, when in put.items():
        s[(DeadlineKind(kind), subject)] = when
    return s or None


@checked_queries
class DeadlineQueries:
    """Read side of the deadlines view."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def due(self, now: datetime, limit: int = 1000) -> list[dict[str, Any]]:
        """Deadlines that fell due at or before ``now``, oldest first."""
        return self._soonest(
            deadlines.select().where(deadlines.c.due_at <= now), limit, 0
        )

    def upcoming(
        self,
        *,
        kind: DeadlineKind | None = None,
        before: datetime | None = None,
        espace_id: UUID | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Pending deadlines, soonest first: of one kind, due before an
        instant, of one espace (each filter optional)."""
        query = self._where(deadlines.select(), kind, before, espace_id)
        return self._soonest(query, limit, offset)

    def _soonest(self, query: Any, limit: int, offset: int) -> list[dict[str, Any]]:
        """Rows in due order (ties in a fixed order: pages never overlap)."""
        c = deadlines.c
        query = query.order_by(c.due_at, c.espace_id, c.kind, c.subject_id)
        with self.engine.connect() as conn:
            found = conn.execute(query.limit(limit).offset(offset)).mappings()
            return [dict(r) for r in found]

    def count(
        self,
        *,
        kind: DeadlineKind | None = None,
        before: datetime | None = None,
        espace_id: UUID | None = None,
    ) -> int:
        """How many pending deadlines ``upcoming`` has with these filters."""
        query = sa.select(sa.func.count()).select_from(deadlines)
        with self.engine.connect() as conn:
            found = conn.execute(self._where(query, kind, before, espace_id))
            return int(found.scalar_one())

    @staticmethod
    def _where(
        query: Any,
        kind: DeadlineKind | None,
        before: datetime | None,
        espace_id: UUID | None,
    ) -> Any:
        if kind is not None:
            query = query.where(deadlines.c.kind == DeadlineKind(kind).value)
        if before is not None:
            query = query.where(deadlines.c.due_at < before)
        if espace_id is not None:
            query = query.where(deadlines.c.espace_id == espace_id)
        return query

    def counts(self, now: datetime) -> dict[str, dict[str, int]]:
        """Per kind: pending, due at ``now``, and overdue (past the legal
        limit, such as LC-9's three months for an erasure)."""
        query = sa.select(
            deadlines.c.kind,
            sa.func.count(),
            sa.func.sum(sa.case((deadlines.c.due_at <= now, 1), else_=0)),
            sa.func.sum(sa.case((deadlines.c.limit_at <= now, 1), else_=0)),
        ).group_by(deadlines.c.kind)
        with self.engine.connect() as conn:
            return {
                k: {"pending": int(n), "due": int(d or 0), "overdue": int(o or 0)}
                for k, n, d, o in conn.execute(query)
            }
