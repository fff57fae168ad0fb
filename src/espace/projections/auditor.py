"""The auditors' reads (ACC-6, ADR-0022): one row per history, access
question or export an auditor asked for. The audit log, apart from the
holder's journal. Updated by the runner like every view."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.auditor import AuditorRead
from espace.projections.base import (
    VIEWS,
    AppendProjection,
    UtcDateTime,
    checked_queries,
    unhandled,
)

auditor_reads = sa.Table(
    "view_auditor_reads",
    VIEWS,
    sa.Column("read_id", sa.Uuid, primary_key=True),
    sa.Column("at", UtcDateTime(), nullable=False, index=True),
    sa.Column("auditor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(100), nullable=False, index=True),
    sa.Column("detail", sa.String(300)),
)


class AuditorReadsProjection(AppendProjection):
    """The audit log of auditors' reads (ACC-6, ADR-0022): one row appended per
    history, access question or export asked for, never changed."""

    name = "auditor_reads"
    tables = (auditor_reads,)

    @singledispatchmethod
    def apply(self, event: Any) -> dict[sa.Table, list[dict[str, Any]]]:
        """The row of an auditor's read."""
        raise unhandled(self, event)

    @apply.register
    def _(self, event: AuditorRead.Recorded) -> dict[sa.Table, list[dict[str, Any]]]:
        return {
            auditor_reads: [
                {
                    "read_id": event.originator_id,
                    "at": event.timestamp,
                    "auditor": event.auditor,
                    "action": event.action,
                    "subject": event.subject,
                    "detail": event.detail,
                }
            ]
        }

    def purge(self, conn: sa.Connection, espace_ids: Collection[UUID]) -> None:
        """An auditor's read names the espace by its id only: it stays."""


@checked_queries
class AuditorReadsQueries:
    """Read side of the auditors' reads. Never loads an aggregate."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def reads(
        self,
        *,
        subject: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """ACC-6: who audited what, newest first: every read, or those of one
        subject (an espace id, a document id or an IdNatPS), or since an
        instant; and how many there are in all."""
        where: list[Any] = []
        if subject is not None:
            where.append(auditor_reads.c.subject == subject)
        if since is not None:
            where.append(auditor_reads.c.at >= since)
        query = (
            auditor_reads.select()
            .where(*where)
            .order_by(auditor_reads.c.at.desc(), auditor_reads.c.read_id)
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            rows: Sequence[Any] = conn.execute(query).mappings().all()
            total = conn.execute(
                sa.select(sa.func.count()).select_from(auditor_reads).where(*where)
            ).scalar_one()
        return [dict(r) for r in rows], int(total)
