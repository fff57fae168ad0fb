"""Pending notifications (ACC-5, DOC-5): what the holder or the médecin
traitant must be told, until delivered."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.trace import Alert
from espace.projections.base import (
    VIEWS,
    Row,
    RowFoldProjection,
    UtcDateTime,
    checked_queries,
    unhandled,
)

notifications = sa.Table(
    "view_notifications",
    VIEWS,
    sa.Column("alert_id", sa.Uuid, primary_key=True),
    sa.Column("espace_id", sa.Uuid, nullable=False, index=True),
    sa.Column("recipient_kind", sa.String(16), nullable=False),
    sa.Column("recipient_id", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("trace_id", sa.Uuid),
    sa.Column("document_id", sa.Uuid),
    sa.Column("raised_at", UtcDateTime(), nullable=False),
    sa.Column("delivered_at", UtcDateTime(), index=True),
    sa.Column("channel", sa.String(16)),
)


class NotificationsProjection(RowFoldProjection):
    """The notifications view (ACC-5, DOC-5): one row per alert, keyed by alert,
    pending until its delivery is recorded, then with its time and channel."""

    name = "notifications"
    tables = (notifications,)
    key_column = "alert_id"

    @singledispatchmethod
    def apply(self, event: Any, state: Row | None) -> Row | None:
        """An alert's row after one of its events."""
        raise unhandled(self, event)

    @apply.register
    def _(self, event: Alert.Raised, state: Row | None) -> Row | None:
        return {
            "alert_id": event.originator_id,
            "espace_id": event.espace_id,
            "recipient_kind": event.recipient_kind,
            "recipient_id": event.recipient_id,
            "reason": event.reason,
            "trace_id": event.trace_id,
            "document_id": event.document_id,
            "raised_at": event.timestamp,
            "delivered_at": None,
            "channel": None,
        }

    @apply.register
    def _(self, event: Alert.Delivered, state: Row | None) -> Row | None:
        if state is None:
            return None
        return dict(state, delivered_at=event.timestamp, channel=event.channel)


@checked_queries
class NotificationQueries:
    """Read side of the notifications view. Never loads an aggregate."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def pending(
        self,
        *,
        espace_id: UUID | None = None,
        recipient_id: str | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """ACC-5, DOC-5: the alerts not yet delivered, oldest first: every one, or
        those of one espace or one recipient (``limit`` at most)."""
        query = (
            notifications.select()
            .where(notifications.c.delivered_at.is_(None))
            .order_by(notifications.c.raised_at, notifications.c.alert_id)
            .limit(limit)
        )
        if espace_id is not None:
            query = query.where(notifications.c.espace_id == espace_id)
        if recipient_id is not None:
            query = query.where(notifications.c.recipient_id == recipient_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def of_espace(self, espace_id: UUID) -> list[dict[str, Any]]:
        """Every alert of one espace, delivered or not, oldest first."""
        query = (
            notifications.select()
            .where(notifications.c.espace_id == espace_id)
            .order_by(notifications.c.raised_at, notifications.c.alert_id)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
