"""The espaces view: one row per espace, its state, key dates, next deadline.

Updated by the projection runner (asynchronously; the public API catches up
after each command by default, ADR-0005). It holds no personal data: no NIR,
no name, no contact, only states and dates (SEC-3). An erased espace keeps a
tombstone row (id and state) so that counts stay true after erasure, and
that row is the same whether built incrementally or rebuilt from a log whose
key is already destroyed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from functools import singledispatchmethod, wraps
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa

from espace.domain.actors import ActorKind
from espace.domain.deadlines import DeadlineKind
from espace.domain.espace import EspaceSante
from espace.domain.espace_state import State
from espace.projections.base import (
    VIEWS,
    Row,
    RowFoldProjection,
    UtcDateTime,
    checked_queries,
    unhandled,
)

TS = UtcDateTime()

espaces = sa.Table(
    "view_espaces",
    VIEWS,
    sa.Column("espace_id", sa.Uuid, primary_key=True),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("minor_represented", sa.Boolean, nullable=False, default=False),
    sa.Column("affiliated_at", TS),
    sa.Column("notice_sent_at", TS),
    sa.Column("notice_channel", sa.String(8)),
    sa.Column("opposition_deadline", TS),
    sa.Column("opposed_at", TS),
    sa.Column("opened_at", TS),
    sa.Column("activated_at", TS),
    sa.Column("activated_by", sa.String(16)),
    sa.Column("activation_failures", sa.Integer, nullable=False, default=0),
    sa.Column("legacy_dmp_merged", sa.Boolean, nullable=False, default=False),
    sa.Column("suspended_at", TS),
    sa.Column("suspension_closes_at", TS),
    sa.Column("resume_state", sa.String(16)),
    sa.Column("closed_at", TS),
    sa.Column("closure_reason", sa.String(16)),
    sa.Column("archive_until", TS),
    sa.Column("deceased", sa.Boolean, nullable=False, default=False),
    sa.Column("erasure_requested_at", TS),
    sa.Column("erasure_due_by", TS),
    sa.Column("erased_at", TS),
    sa.Column("reopened_at", TS),
    sa.Column("next_deadline_kind", sa.String(24)),
    sa.Column("next_deadline_at", TS, index=True),
    sa.Column("updated_at", TS),
)

_COLUMNS = [c.name for c in espaces.columns]


def tombstone(espace_id: UUID) -> dict[str, Any]:
    """What is left of an erased espace: its id and state (SEC-4)."""
    row: dict[str, Any] = dict.fromkeys(_COLUMNS)
    row.update(
        espace_id=espace_id,
        state=State.ERASED,
        version=0,
        minor_represented=False,
        activation_failures=0,
        legacy_dmp_merged=False,
        deceased=False,
    )
    return row


def next_deadline(
    row: dict[str, Any],
) -> tuple[DeadlineKind | None, datetime | None]:
    """The deadline the espace waits for, from its row (see the deadlines view)."""
    state = row["state"]
    if state == State.NOTIFIED:
        return DeadlineKind.OPENING, row["opposition_deadline"]
    if state == State.SUSPENDED:
        return DeadlineKind.SUSPENSION_CLOSURE, row["suspension_closes_at"]
    if state == State.CLOSED:
        if row["erasure_requested_at"] is not None:
            return DeadlineKind.ERASURE, row["erasure_due_by"]
        return DeadlineKind.ARCHIVE_EXPIRY, row["archive_until"]
    return None, None


E = TypeVar("E")


def _change(
    change: Callable[[EspacesProjection, E, Row], None],
) -> Callable[[EspacesProjection, E, Row | None], Row | None]:
    """A handler of ``EspacesProjection.apply`` from what an event ``change``s
    in a copy of the row of an espace that lives, then stamped. An espace
    with no row stays without, and an erased espace keeps its tombstone only.
    The handler is registered for the class of ``change``'s event (its
    annotations are the handler's)."""

    @wraps(change)
    def apply(view: EspacesProjection, event: E, state: Row | None) -> Row | None:
        if state is None or state["state"] == State.ERASED:
            return state
        row = dict(state)
        change(view, event, row)
        return _stamped(row, event)

    return apply


def _stamped(row: Row, event: Any) -> Row:
    """The row after an event: its version, its time, the deadline it now
    waits for; the tombstone of an espace it erased."""
    row["version"] = event.originator_version
    row["updated_at"] = event.timestamp
    row["next_deadline_kind"], row["next_deadline_at"] = next_deadline(row)
    if row["state"] == State.ERASED:
        return tombstone(row["espace_id"])
    return row


class EspacesProjection(RowFoldProjection):
    """One row per espace: its state, dates and next deadline (LC-1 to LC-12);
    an erased espace keeps only a tombstone that names no one (SEC-4)."""

    name = "espaces"
    tables = (espaces,)

    def purge(self, conn: sa.Connection, espace_ids: Collection[UUID]) -> None:
        """SEC-4: the espaces' keys are destroyed: their rows become tombstones."""
        self._write(conn, {i: tombstone(i) for i in espace_ids})

    @singledispatchmethod
    def apply(self, event: Any, state: Row | None) -> Row | None:
        """An espace's row after one of its events."""
        raise unhandled(self, event)

    @apply.register
    def _(self, event: EspaceSante.Affiliated, state: Row | None) -> Row | None:
        row: Row = dict.fromkeys(_COLUMNS)
        row.update(
            espace_id=event.originator_id,
            state=State.AFFILIATED,
            minor_represented=event.representative is not None,
            affiliated_at=event.timestamp,
            activation_failures=0,
            legacy_dmp_merged=False,
            deceased=False,
        )
        return _stamped(row, event)

    @apply.register
    @_change
    def _(self, e: EspaceSante.NoticeSent, row: Row) -> None:
        row.update(
            state=State.NOTIFIED,
            notice_sent_at=e.timestamp,
            notice_channel=e.channel,
            opposition_deadline=e.opposition_deadline,
        )

    @apply.register
    @_change
    def _(self, e: EspaceSante.OppositionDeclared, row: Row) -> None:
        row.update(state=State.OPPOSED, opposed_at=e.timestamp)

    @apply.register
    @_change
    def _(self, e: EspaceSante.Opened, row: Row) -> None:
        row.update(state=State.OPEN, opened_at=e.timestamp)

    @apply.register
    @_change
    def _(self, e: EspaceSante.LegacyDmpMerged, row: Row) -> None:
        row["legacy_dmp_merged"] = True

    @apply.register
    @_change
    def _(self, e: EspaceSante.ActivationFailed, row: Row) -> None:
        row["activation_failures"] = e.failures

    @apply.register
    @_change
    def _(self, e: EspaceSante.Activated, row: Row) -> None:
        row.update(
            state=State.ACTIVE,
            activated_at=e.timestamp,
            activated_by=e.by,
            activation_failures=0,
        )

    @apply.register
    @_change
    def _(self, e: EspaceSante.CodeReissued, row: Row) -> None:
        row["activation_failures"] = 0

    @apply.register
    @_change
    def _(self, e: EspaceSante.Suspended, row: Row) -> None:
        row.update(
            resume_state=row["state"],
            state=State.SUSPENDED,
            suspended_at=e.timestamp,
            suspension_closes_at=e.closes_at,
        )

    @apply.register
    @_change
    def _(self, e: EspaceSante.SuspensionEnded, row: Row) -> None:
        row.update(
            state=row["resume_state"] or State.OPEN,
            resume_state=None,
            suspended_at=None,
            suspension_closes_at=None,
        )

    @apply.register
    @_change
    def _(self, e: EspaceSante.Closed, row: Row) -> None:
        row.update(
            state=State.CLOSED,
            closed_at=e.timestamp,
            closure_reason=e.reason,
            archive_until=e.archive_until,
            resume_state=None,
            suspended_at=None,
            suspension_closes_at=None,
        )

    @apply.register
    @_change
    def _(self, e: EspaceSante.DeathDeclared, row: Row) -> None:
        row["deceased"] = True

    @apply.register
    @_change
    def _(self, e: EspaceSante.ErasureRequested, row: Row) -> None:
        row.update(erasure_requested_at=e.timestamp, erasure_due_by=e.due_by)

    @apply.register
    @_change
    def _(self, e: EspaceSante.Erased, row: Row) -> None:
        row.update(state=State.ERASED, erased_at=e.timestamp)

    @apply.register
    @_change
    def _(self, e: EspaceSante.Reopened, row: Row) -> None:
        row.update(
            state=State.OPEN,
            opened_at=e.timestamp,
            reopened_at=e.timestamp,
            closed_at=None,
            closure_reason=None,
            archive_until=None,
            opposed_at=None,
            activation_failures=0,
        )

    @apply.register
    @_change
    def _(self, e: EspaceSante.RepresentationEnded, row: Row) -> None:
        row["minor_represented"] = False
        if (
            row["state"] == State.ACTIVE
            and row["activated_by"] == ActorKind.REPRESENTATIVE
        ):
            row.update(state=State.OPEN, activated_by=None)


@checked_queries
class EspacesQueries:
    """Read side of the espaces view. Never loads an aggregate."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def get(self, espace_id: UUID) -> dict[str, Any] | None:
        """One espace's row; None if the view has none."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(espaces.select().where(espaces.c.espace_id == espace_id))
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def find(
        self,
        *,
        state: str | None = None,
        deadline_before: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Espaces in ``state``, or whose next deadline falls before
        ``deadline_before``, in affiliation order, a page at a time."""
        query = (
            espaces.select()
            .where(*_filters(state, deadline_before))
            .order_by(espaces.c.affiliated_at, espaces.c.espace_id)
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def count(
        self, *, state: str | None = None, deadline_before: datetime | None = None
    ) -> int:
        """How many espaces ``find`` would list with no limit."""
        query = (
            sa.select(sa.func.count())
            .select_from(espaces)
            .where(*_filters(state, deadline_before))
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def ids_in_state(self, state: str, limit: int = 1000) -> list[UUID]:
        """The first ``limit`` espaces in ``state``, in affiliation order (the
        notice batch takes the affiliated ones)."""
        query = (
            sa.select(espaces.c.espace_id)
            .where(espaces.c.state == state)
            .order_by(espaces.c.affiliated_at, espaces.c.espace_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def counts_by_state(self) -> dict[str, int]:
        """How many espaces are in each state, every state named (0 if none)."""
        query = sa.select(espaces.c.state, sa.func.count()).group_by(espaces.c.state)
        with self.engine.connect() as conn:
            counts = {str(s): int(n) for s, n in conn.execute(query)}
        return {str(s): counts.get(str(s), 0) for s in State}


def _filters(state: str | None, deadline_before: datetime | None) -> list[Any]:
    where: list[Any] = []
    if state is not None:
        where.append(espaces.c.state == state)
    if deadline_before is not None:
        where.append(espaces.c.next_deadline_at < deadline_before)
    return where
