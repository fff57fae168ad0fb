"""Where each read model stands in the event log, kept next to its rows.

eventsourcing's own tracking recorders write through their own connections,
so a view written with SQLAlchemy could not record its position in the same
transaction as its rows. :class:`ViewTrackingRecorder` implements the
library's :class:`~eventsourcing.persistence.TrackingRecorder` contract on
SQLAlchemy Core instead, and adds :meth:`ViewTrackingRecorder.insert_tracking_in`
to record a position inside the caller's transaction: the view rows and the
position commit together or not at all, which is what makes a projection
exactly-once (ADR-0005).

One row per tracking name (the library's "single-row tracking"): the position
only moves forward, and an attempt to record a position that is not greater
than the recorded one raises :class:`~eventsourcing.persistence.IntegrityError`,
as the library's contract tests demand (no duplicate, no filling a gap).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from sqlalchemy.dialects import postgresql, sqlite

TRACKING_METADATA = sa.MetaData()
"""Kept apart from the views' metadata: dropping or rebuilding the views must
never drop the positions of the others."""

TRACKING_TABLE = sa.Table(
    "projection_tracking",
    TRACKING_METADATA,
    sa.Column("application_name", sa.Text, primary_key=True),
    sa.Column("notification_id", sa.BigInteger, nullable=False),
)


QUARANTINE_TABLE = sa.Table(
    "projection_quarantine",
    TRACKING_METADATA,
    sa.Column("view", sa.Text, primary_key=True),
    sa.Column("notification_id", sa.BigInteger, primary_key=True),
    sa.Column("originator_id", sa.Uuid, nullable=False),
    sa.Column("originator_version", sa.Integer, nullable=False),
    sa.Column("topic", sa.Text, nullable=False),
    # The key named by the sealed header: the espace, or the system key.
    sa.Column("espace_id", sa.Uuid, nullable=True, index=True),
    # "damaged": the event cannot be opened; "unapplied": this view failed on it.
    sa.Column("kind", sa.String(16), nullable=False),
    # The error's class and message, with quoted values cut (no data in clear).
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
)
"""Events a view skipped, one row per view and event (ADR-0018). Written in
the transaction of the page that skipped them, with the position."""


class ViewTrackingRecorder(TrackingRecorder):
    """The positions of the read models, on the same database as their rows."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.table = TRACKING_TABLE
        self._upsert = self._forwards_upsert(engine.dialect.name)

    def create_tables(self) -> None:
        """Create the tracking table if it is missing (there are no migrations)."""
        with self.engine.begin() as conn:
            TRACKING_METADATA.create_all(conn)

    def insert_tracking(self, tracking: Tracking) -> None:
        """Record a position in a transaction of its own."""
        with self.engine.begin() as conn:
            self.insert_tracking_in(conn, tracking)

    def insert_tracking_in(self, conn: sa.Connection, tracking: Tracking) -> None:
        """Record a position inside the caller's transaction.

        One statement (an upsert that only updates forwards) so that two
        writers racing on the same name cannot both succeed: the loser sees no
        row returned and raises ``IntegrityError``, and its caller rolls back
        the view rows written with it.
        """
        row = conn.execute(self._upsert, _params(tracking)).first()
        if row is None:
            raise IntegrityError(
                f"tracking {tracking.application_name!r}: position "
                f"{tracking.notification_id} is not after the recorded one"
            )

    def insert_trackings_in(
        self, conn: sa.Connection, trackings: Collection[Tracking]
    ) -> None:
        """Record several views' positions in one statement (one round trip
        per page instead of one per view); same forwards-only contract."""
        if not trackings:
            return
        rows = [_params(t) for t in trackings]
        moved = {row[0] for row in conn.execute(self._upsert, rows)}
        stale = sorted({t.application_name for t in trackings} - moved)
        if stale:
            raise IntegrityError(
                f"tracking {', '.join(stale)}: positions not after the recorded ones"
            )

    def max_tracking_id(self, application_name: str) -> int | None:
        """The position recorded for a view, on a connection of its own; ``None``
        before its first page (the library's ``TrackingRecorder`` contract)."""
        with self.engine.connect() as conn:
            return self.max_tracking_id_in(conn, application_name)

    def max_tracking_id_in(
        self, conn: sa.Connection, application_name: str
    ) -> int | None:
        """The recorded position, read on the caller's connection (and lock)."""
        position: int | None = conn.execute(
            sa.select(self.table.c.notification_id).where(
                self.table.c.application_name == application_name
            )
        ).scalar_one_or_none()
        return position

    def positions_in(
        self, conn: sa.Connection, names: Collection[str]
    ) -> dict[str, int]:
        """The positions of several views in one query; 0 when nothing is recorded.

        Notification ids start at 1 on both databases, so 0 means "before the
        first event" and callers need no ``None`` case.
        """
        found: dict[str, int] = dict.fromkeys(names, 0)
        if names:
            rows = conn.execute(
                sa.select(
                    self.table.c.application_name, self.table.c.notification_id
                ).where(self.table.c.application_name.in_(list(names)))
            )
            found.update({name: position for name, position in rows})  # noqa: C416 - a Result has keys(): dict() reads it as a mapping
        return found

    def positions(self, names: Collection[str]) -> dict[str, int]:
        """The positions of several views, 0 for one with none recorded, on a
        connection of its own: where each view stands before a catch-up plans its
        pages."""
        with self.engine.connect() as conn:
            return self.positions_in(conn, names)

    def reset(self, conn: sa.Connection, application_name: str) -> None:
        """Forget a position, inside the caller's transaction (for a rebuild).

        This is the only way a position moves backwards, and it must commit
        with the clearing of the view's rows.
        """
        conn.execute(
            self.table.delete().where(self.table.c.application_name == application_name)
        )

    def _forwards_upsert(self, dialect: str) -> sa.Executable:
        """One statement, built once: insert a position or move it forwards,
        returning the names that moved (executed with one row or many)."""
        stmt: postgresql.Insert | sqlite.Insert
        if dialect == "postgresql":
            stmt = postgresql.insert(self.table)
        elif dialect == "sqlite":
            stmt = sqlite.insert(self.table)
        else:  # pragma: no cover - the store is SQLite or PostgreSQL (ADR-0003)
            raise NotImplementedError(f"no tracking upsert for {dialect}")
        return stmt.on_conflict_do_update(
            index_elements=[self.table.c.application_name],
            set_={"notification_id": stmt.excluded.notification_id},
            where=self.table.c.notification_id < stmt.excluded.notification_id,
        ).returning(self.table.c.application_name)


def _params(tracking: Tracking) -> dict[str, Any]:
    return {
        "application_name": tracking.application_name,
        "notification_id": tracking.notification_id,
    }
