"""The access journal (ACC-6): one row per trace, appended, never changed.

The holder sees all of it, the médecin traitant too, a professional only
their own actions (the query takes the viewer's filter). Rows are erased
with the espace (SEC-2, SEC-4).
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.trace import FACT_NAMES, AccessTrace
from espace.projections.base import (
    VIEWS,
    AppendProjection,
    UtcDateTime,
    checked_queries,
    unhandled,
)

journal = sa.Table(
    "view_access_journal",
    VIEWS,
    sa.Column("trace_id", sa.Uuid, primary_key=True),
    sa.Column("espace_id", sa.Uuid, nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor_kind", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=False, index=True),
    sa.Column("actor_profession", sa.String(32)),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("ground", sa.String(24)),
    sa.Column("rule", sa.String(8)),
    sa.Column("reason", sa.String(200)),
    sa.Column("document_id", sa.Uuid),
    sa.Column("version_id", sa.Uuid),
    sa.Column("detail", sa.String(200)),
    sa.Index("ix_journal_espace_at", "espace_id", "at"),
    sa.Index("ix_journal_actor", "espace_id", "actor_id"),
)


_FACT_COLUMNS = tuple(c.name for c in journal.columns if c.name in FACT_NAMES)
"""The journal's columns that are a trace's facts, under the same names."""
_CLIPPED = ("reason", "detail")
"""Free text, cut to its column's 200 characters."""


class JournalProjection(AppendProjection):
    """The access journal (ACC-6, SEC-2): one row appended per trace, with its
    facts (who, what, when, on what grounds), never changed."""

    name = "journal"
    tables = (journal,)

    @singledispatchmethod
    def apply(self, event: Any) -> dict[sa.Table, list[dict[str, Any]]]:
        """The journal's row for a trace."""
        raise unhandled(self, event)

    @apply.register
    def _(self, e: AccessTrace.Recorded) -> dict[sa.Table, list[dict[str, Any]]]:
        row = {name: getattr(e, name) for name in _FACT_COLUMNS}
        for name in _CLIPPED:
            row[name] = (row[name] or "")[:200] or None
        return {journal: [{"trace_id": e.originator_id, "at": e.timestamp, **row}]}


@checked_queries
class JournalQueries:
    """Read side of the access journal. Never loads an aggregate."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def of_espace(
        self,
        espace_id: UUID,
        *,
        actor_id: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """ACC-6: an espace's traces, newest first: every one, or only those of one
        actor (``actor_id``: what a professional may see of their own actions).
        The caller decides which filter the viewer gets."""
        query = (
            journal.select()
            .where(journal.c.espace_id == espace_id)
            .order_by(journal.c.at.desc(), journal.c.trace_id)
            .limit(limit)
            .offset(offset)
        )
        if actor_id is not None:
            query = query.where(journal.c.actor_id == actor_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def count(self, espace_id: UUID, *, actor_id: str | None = None) -> int:
        """How many traces ``of_espace`` would list with no limit."""
        query = sa.select(sa.func.count()).where(journal.c.espace_id == espace_id)
        if actor_id is not None:
            query = query.where(journal.c.actor_id == actor_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def of_actor(
        self,
        actor_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Every trace of one actor across espaces, oldest first, and how
        many there are in all."""
        where = [journal.c.actor_id == actor_id]
        if since is not None:
            where.append(journal.c.at >= since)
        if until is not None:
            where.append(journal.c.at <= until)
        query = (
            journal.select()
            .where(*where)
            .order_by(journal.c.at, journal.c.trace_id)
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
            total = conn.execute(
                sa.select(sa.func.count()).select_from(journal).where(*where)
            ).scalar_one()
        return rows, int(total)
