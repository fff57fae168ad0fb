"""The consents view: per espace, the holder's access choices (ACC-1, ACC-2,
ACC-4, ACC-5). Only ids and flags: who may act, never why they were chosen.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.consent import Consent
from espace.projections.base import (
    VIEWS,
    EspaceFoldProjection,
    UtcDateTime,
    checked_queries,
    unhandled,
)

consent_settings = sa.Table(
    "view_consent_settings",
    VIEWS,
    sa.Column("espace_id", sa.Uuid, primary_key=True),
    sa.Column("medecin_traitant", sa.String(16)),
    sa.Column("emergency_refused", sa.Boolean, nullable=False),
    sa.Column("samu_refused", sa.Boolean, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

consent_professionals = sa.Table(
    "view_consent_professionals",
    VIEWS,
    sa.Column("espace_id", sa.Uuid, primary_key=True),
    sa.Column("idnatps", sa.String(16), primary_key=True),
    sa.Column("authorised", sa.Boolean, nullable=False),
    sa.Column("blocked", sa.Boolean, nullable=False),
    sa.Column("care_team", sa.Boolean, nullable=False),
)

ConsentRows = dict[str, Any]


class ConsentsProjection(EspaceFoldProjection[ConsentRows]):
    """The consents view (ACC-1, ACC-2, ACC-4, ACC-5): per espace, one settings
    row (the médecin traitant, the emergency and SAMU refusals) and one row per
    professional authorised, blocked or in the care team."""

    name = "consents"
    tables = (consent_settings, consent_professionals)

    def load(
        self, conn: sa.Connection, keys: Collection[UUID]
    ) -> dict[UUID, ConsentRows]:
        """The stored settings and professionals' rows of each espace; an espace
        without a settings row is absent."""
        states: dict[UUID, ConsentRows] = {}
        ids = list(keys)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            for r in conn.execute(
                consent_settings.select().where(consent_settings.c.espace_id.in_(chunk))
            ).mappings():
                states[r["espace_id"]] = {"settings": dict(r), "pros": {}}
            for r in conn.execute(
                consent_professionals.select().where(
                    consent_professionals.c.espace_id.in_(chunk)
                )
            ).mappings():
                states[r["espace_id"]]["pros"][r["idnatps"]] = dict(r)
        return states

    def rows(
        self, key: UUID, state: ConsentRows
    ) -> dict[sa.Table, list[dict[str, Any]]]:
        """The settings row, and a row for each professional still authorised,
        blocked or in the care team: one whose flags are all cleared is dropped."""
        pros = [
            p
            for p in state["pros"].values()
            if p["authorised"] or p["blocked"] or p["care_team"]
        ]
        return {consent_settings: [state["settings"]], consent_professionals: pros}

    @singledispatchmethod
    def apply(self, event: Any, state: ConsentRows | None) -> ConsentRows | None:
        """An espace's consent rows after one of its events."""
        raise unhandled(self, event)

    @apply.register
    def _(
        self, event: Consent.Started, state: ConsentRows | None
    ) -> ConsentRows | None:
        settings: dict[str, Any] = {
            "espace_id": event.espace_id,
            "medecin_traitant": None,
            "emergency_refused": False,
            "samu_refused": False,
            "updated_at": event.timestamp,
        }
        return {"settings": settings, "pros": {}}

    @apply.register
    def _(
        self, event: Consent.ProfessionalAuthorised, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _flagged(state, event, authorised=True)

    @apply.register
    def _(
        self, event: Consent.AuthorisationWithdrawn, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _flagged(state, event, authorised=False)

    @apply.register
    def _(
        self, event: Consent.ProfessionalBlocked, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _flagged(state, event, blocked=True)

    @apply.register
    def _(
        self, event: Consent.ProfessionalUnblocked, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _flagged(state, event, blocked=False)

    @apply.register
    def _(
        self, event: Consent.CareTeamJoined, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _flagged(state, event, care_team=True)

    @apply.register
    def _(
        self, event: Consent.CareTeamLeft, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _flagged(state, event, care_team=False)

    @apply.register
    def _(
        self, event: Consent.MedecinTraitantDesignated, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _changed(state, event, medecin_traitant=event.idnatps)

    @apply.register
    def _(
        self, event: Consent.MedecinTraitantRevoked, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _changed(state, event, medecin_traitant=None)

    @apply.register
    def _(
        self, event: Consent.EmergencyAccessRefused, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _changed(state, event, emergency_refused=True)

    @apply.register
    def _(
        self, event: Consent.EmergencyAccessAllowed, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _changed(state, event, emergency_refused=False)

    @apply.register
    def _(
        self, event: Consent.SamuAccessRefused, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _changed(state, event, samu_refused=True)

    @apply.register
    def _(
        self, event: Consent.SamuAccessAllowed, state: ConsentRows | None
    ) -> ConsentRows | None:
        return _changed(state, event, samu_refused=False)


def _changed(
    state: ConsentRows | None, event: Any, **settings: Any
) -> ConsentRows | None:
    """A copy of an espace's rows after one of its events, its settings
    stamped and given these values; None for an espace not yet started."""
    if state is None:
        return None
    return {
        "settings": {**state["settings"], "updated_at": event.timestamp, **settings},
        "pros": {k: dict(v) for k, v in state["pros"].items()},
    }


def _flagged(state: ConsentRows | None, event: Any, **flag: bool) -> ConsentRows | None:
    """The rows after the holder set a flag about one professional
    (``event.idnatps``), their row made if they had none."""
    changed = _changed(state, event)
    if changed is None:
        return None
    row = changed["pros"].setdefault(
        event.idnatps,
        {
            "espace_id": event.espace_id,
            "idnatps": event.idnatps,
            "authorised": False,
            "blocked": False,
            "care_team": False,
        },
    )
    row.update(flag)
    return changed


@checked_queries
class ConsentQueries:
    """Read side of the consents view. Never loads an aggregate."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def of_espace(self, espace_id: UUID) -> dict[str, Any]:
        """The holder's access choices for one espace (ACC-1, ACC-2, ACC-4, ACC-5):
        its settings (``None`` before its consent starts) and its professionals
        by IdNatPS, each with the flags authorised, blocked, care team."""
        with self.engine.connect() as conn:
            settings = (
                conn.execute(
                    consent_settings.select().where(
                        consent_settings.c.espace_id == espace_id
                    )
                )
                .mappings()
                .first()
            )
            pros = conn.execute(
                consent_professionals.select()
                .where(consent_professionals.c.espace_id == espace_id)
                .order_by(consent_professionals.c.idnatps)
            ).mappings()
            return {
                "settings": dict(settings) if settings else None,
                "professionals": [dict(p) for p in pros],
            }
