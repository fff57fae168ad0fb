"""The agenda view: one row per appointment, for "what is coming up" (AG-1).

When, with which professional of the directory (an IdNatPS, as the other
views hold), its status. The place, the free-text "who" and the reason are
health data: they stay sealed in the events and are read from the aggregate
by the one use case that shows them (SEC-1). Rows are purged with the
espace (SEC-4).
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.actors import ActorKind
from espace.domain.agenda import Appointment, Status
from espace.domain.pages import Rows
from espace.projections.base import (
    VIEWS,
    Row,
    RowFoldProjection,
    UtcDateTime,
    checked_queries,
    page_rows,
    unhandled,
)

TS = UtcDateTime()

appointments = sa.Table(
    "view_appointments",
    VIEWS,
    sa.Column("appointment_id", sa.Uuid, primary_key=True),
    sa.Column("espace_id", sa.Uuid, nullable=False, index=True),
    sa.Column("professional_id", sa.String(16), index=True),
    sa.Column("created_by_kind", sa.String(16), nullable=False),
    sa.Column("created_by_id", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("starts_at", TS, nullable=False, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("moves", sa.Integer, nullable=False),
    sa.Column("cancelled_at", TS),
)


class AppointmentsProjection(RowFoldProjection):
    """The agenda view (AG-1): one row per appointment, keyed by appointment,
    with when, with whom and its status, but no health data."""

    name = "agenda"
    tables = (appointments,)
    key_column = "appointment_id"

    @singledispatchmethod
    def apply(self, event: Any, state: Row | None) -> Row | None:
        """An appointment's row after one of its events."""
        raise unhandled(self, event)

    @apply.register
    def _(self, event: Appointment.Scheduled, state: Row | None) -> Row | None:
        return {
            "appointment_id": event.originator_id,
            "espace_id": event.espace_id,
            "professional_id": event.professional_id,
            "created_by_kind": event.created_by_kind,
            "created_by_id": event.created_by_id,
            "status": str(Status.SCHEDULED),
            "starts_at": event.starts_at,
            "created_at": event.timestamp,
            "updated_at": event.timestamp,
            "moves": 0,
            "cancelled_at": None,
        }

    @apply.register
    def _(self, event: Appointment.Moved, state: Row | None) -> Row | None:
        if state is None:
            return None
        return dict(
            state,
            updated_at=event.timestamp,
            starts_at=event.starts_at,
            moves=state["moves"] + 1,
        )

    @apply.register
    def _(self, event: Appointment.Cancelled, state: Row | None) -> Row | None:
        if state is None:
            return None
        return dict(
            state,
            updated_at=event.timestamp,
            status=str(Status.CANCELLED),
            cancelled_at=event.timestamp,
        )


@checked_queries
class AgendaQueries:
    """Read side of the agenda view (AG-1). Never loads an aggregate."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def upcoming(
        self,
        *,
        now: datetime,
        espace_id: UUID | None = None,
        professional_id: str | None = None,
        include_cancelled: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> Rows:
        """AG-1: appointments from ``now`` on, soonest first: of one espace,
        of one professional (with them, or made by them), or both; and how
        many there are in all (``total``)."""
        query = (
            appointments.select()
            .where(appointments.c.starts_at >= now)
            .order_by(appointments.c.starts_at, appointments.c.appointment_id)
        )
        if espace_id is not None:
            query = query.where(appointments.c.espace_id == espace_id)
        if professional_id is not None:
            query = query.where(
                sa.or_(
                    appointments.c.professional_id == professional_id,
                    sa.and_(
                        appointments.c.created_by_kind == str(ActorKind.PROFESSIONAL),
                        appointments.c.created_by_id == professional_id,
                    ),
                )
            )
        if not include_cancelled:
            query = query.where(appointments.c.status == str(Status.SCHEDULED))
        with self.engine.connect() as conn:
            return page_rows(conn, query, limit, offset)

    def get(self, appointment_id: UUID) -> dict[str, Any] | None:
        """One appointment's row, cancelled or not, or ``None`` if the view has none."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    appointments.select().where(
                        appointments.c.appointment_id == appointment_id
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def counts(self) -> dict[str, int]:
        """How many appointments the view holds, by status: for the operator's stats,
        with nothing that names anyone."""
        query = sa.select(appointments.c.status, sa.func.count()).group_by(
            appointments.c.status
        )
        with self.engine.connect() as conn:
            return {str(s): int(n) for s, n in conn.execute(query)}
