"""The consents view: per espace, the holder's access choices (ACC-1, ACC-2,
ACC-4, ACC-5). Only ids and flags: who may act, never why they were chosen.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.consent import Consent
from espace.projections.base import (
    VIEWS,
    EspaceFoldProjection,
    UtcDateTime,
    checked_queries,
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
    name = "consents"
    tables = (consent_settings, consent_professionals)
    handled = (
        Consent.Started,
        Consent.ProfessionalAuthorised,
        Consent.AuthorisationWithdrawn,
        Consent.ProfessionalBlocked,
        Consent.ProfessionalUnblocked,
        Consent.CareTeamJoined,
        Consent.CareTeamLeft,
        Consent.MedecinTraitantDesignated,
        Consent.MedecinTraitantRevoked,
        Consent.EmergencyAccessRefused,
        Consent.EmergencyAccessAllowed,
        Consent.SamuAccessRefused,
        Consent.SamuAccessAllowed,
    )

    def load(
        self, conn: sa.Connection, keys: Collection[UUID]
    ) -> dict[UUID, ConsentRows]:
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
        pros = [
            p
            for p in state["pros"].values()
            if p["authorised"] or p["blocked"] or p["care_team"]
        ]
        return {consent_settings: [state["settings"]], consent_professionals: pros}

    def fold(self, state: ConsentRows | None, event: Any) -> ConsentRows | None:
        if isinstance(event, Consent.Started):
            settings: dict[str, Any] = {
                "espace_id": event.espace_id,
                "medecin_traitant": None,
                "emergency_refused": False,
                "samu_refused": False,
                "updated_at": event.timestamp,
            }
            return {"settings": settings, "pros": {}}
        if state is None:
            return None
        settings = {**state["settings"], "updated_at": event.timestamp}
        pros = {k: dict(v) for k, v in state["pros"].items()}
        flag = _FLAGS.get(type(event))
        if flag is not None:
            name, value = flag
            row = pros.setdefault(
                event.idnatps,
                {
                    "espace_id": event.espace_id,
                    "idnatps": event.idnatps,
                    "authorised": False,
                    "blocked": False,
                    "care_team": False,
                },
            )
            row[name] = value
        elif isinstance(event, Consent.MedecinTraitantDesignated):
            settings["medecin_traitant"] = event.idnatps
        elif isinstance(event, Consent.MedecinTraitantRevoked):
            settings["medecin_traitant"] = None
        elif isinstance(
            event, Consent.EmergencyAccessRefused | Consent.EmergencyAccessAllowed
        ):
            settings["emergency_refused"] = isinstance(
                event, Consent.EmergencyAccessRefused
            )
        elif isinstance(event, Consent.SamuAccessRefused | Consent.SamuAccessAllowed):
            settings["samu_refused"] = isinstance(event, Consent.SamuAccessRefused)
        return {"settings": settings, "pros": pros}


_FLAGS: dict[type[Any], tuple[str, bool]] = {
    Consent.ProfessionalAuthorised: ("authorised", True),
    Consent.AuthorisationWithdrawn: ("authorised", False),
    Consent.ProfessionalBlocked: ("blocked", True),
    Consent.ProfessionalUnblocked: ("blocked", False),
    Consent.CareTeamJoined: ("care_team", True),
    Consent.CareTeamLeft: ("care_team", False),
}


@checked_queries
class ConsentQueries:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def of_espace(self, espace_id: UUID) -> dict[str, Any]:
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
