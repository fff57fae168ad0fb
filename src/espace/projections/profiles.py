"""The profiles view: which espaces have a medical profile, and when it last
changed (PRO-1). Nothing of its content: height, weight, allergies and the
rest stay sealed in the events, read by replaying the aggregate (SEC-1).
Rows are purged with the espace (SEC-4).
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.profile import MedicalProfile
from espace.projections.base import (
    VIEWS,
    Row,
    RowFoldProjection,
    UtcDateTime,
    checked_queries,
    unhandled,
)

profiles = sa.Table(
    "view_profiles",
    VIEWS,
    sa.Column("espace_id", sa.Uuid, primary_key=True),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("changes", sa.Integer, nullable=False),
)


_Change = (
    MedicalProfile.MeasurementsRecorded
    | MedicalProfile.AllergyRecorded
    | MedicalProfile.AllergyRemoved
    | MedicalProfile.ConditionRecorded
    | MedicalProfile.ConditionRemoved
    | MedicalProfile.TreatmentRecorded
    | MedicalProfile.TreatmentStopped
    | MedicalProfile.VaccinationRecorded
    | MedicalProfile.VaccinationRemoved
    | MedicalProfile.TrustedPersonDesignated
    | MedicalProfile.TrustedPersonRevoked
)
"""The changes to a profile, each counted: what they change stays sealed."""


class ProfilesProjection(RowFoldProjection):
    """The profiles view (PRO-1, ADR-0013): one row per espace with a medical
    profile, when it started, last changed and how many changes, no content."""

    name = "profiles"
    tables = (profiles,)

    @singledispatchmethod
    def apply(self, event: Any, state: Row | None) -> Row | None:
        """An espace's row after one of its profile's events."""
        raise unhandled(self, event)

    @apply.register
    def _(self, event: MedicalProfile.Started, state: Row | None) -> Row | None:
        return {
            "espace_id": event.espace_id,
            "started_at": event.timestamp,
            "updated_at": event.timestamp,
            "changes": 0,
        }

    @apply.register
    def _(self, event: _Change, state: Row | None) -> Row | None:
        if state is None:
            return None
        return dict(state, updated_at=event.timestamp, changes=state["changes"] + 1)


@checked_queries
class ProfileQueries:
    """Read side of the profiles view. Never loads an aggregate."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def get(self, espace_id: UUID) -> dict[str, Any] | None:
        """PRO-1: when an espace's profile started and last changed, and how many
        changes it had; ``None`` for an espace without one. Its content is read
        from the aggregate, never from here."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(profiles.select().where(profiles.c.espace_id == espace_id))
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def count(self) -> int:
        """How many espaces have a medical profile: for the operator's stats."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count(profiles.c.espace_id))).one()[0]
            )
