"""The directory view: professionals and their places of practice (PRO-2).

Public reference data (the national directory's open extract), so names,
professions, specialties and places are held in clear, with accent-free
search keys. No espace's data is here; nothing is purged on an erasure.
Updated by the projection runner, like every view (ADR-0005).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.directory import ACTIVITY_FIELDS, Professional
from espace.domain.pages import Rows
from espace.projections.base import (
    VIEWS,
    FoldProjection,
    UtcDateTime,
    checked_queries,
    page_rows,
    unhandled,
)

professionals = sa.Table(
    "view_directory",
    VIEWS,
    sa.Column("professional_id", sa.Uuid, primary_key=True),
    sa.Column("idnatps", sa.String(16), nullable=False, unique=True),
    sa.Column("id_type", sa.String(1), nullable=False),
    sa.Column("last_name", sa.String(200), nullable=False),
    sa.Column("first_name", sa.String(200)),
    sa.Column("name_key", sa.String(410), nullable=False, index=True),
    sa.Column("profession", sa.String(32), nullable=False, index=True),
    sa.Column("profession_code", sa.String(4), nullable=False),
    sa.Column("profession_label", sa.String(100)),
    sa.Column("specialties", sa.String(1000)),
    sa.Column("listed", sa.Boolean, nullable=False, index=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

activities = sa.Table(
    "view_directory_activities",
    VIEWS,
    sa.Column("professional_id", sa.Uuid, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("specialty_code", sa.String(16)),
    sa.Column("specialty_label", sa.String(200)),
    sa.Column("mode", sa.String(8)),
    sa.Column("site", sa.String(300)),
    sa.Column("postal_code", sa.String(10), index=True),
    sa.Column("city", sa.String(200)),
    sa.Column("city_key", sa.String(200), index=True),
    sa.Column("cedex", sa.String(200)),
)

_NON_ALNUM = re.compile(r"[^A-Z0-9]+")


def search_key(text: str | None) -> str:
    """Upper case, no accents, words separated by one space: "Saint-Étienne"
    and "saint etienne" are the same key."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", plain.upper()).strip()


DirState = dict[str, Any]


class DirectoryProjection(FoldProjection[DirState]):
    """The directory view (PRO-2, ADR-0011): per professional, keyed by their
    aggregate, one row (name, profession, listed or withdrawn) and one row per
    place of practice, as the last directory extract gave them."""

    name = "directory"
    tables = (professionals, activities)
    key_column = "professional_id"

    def purge(self, conn: sa.Connection, espace_ids: Collection[UUID]) -> None:
        """Reference data: an espace's erasure leaves nothing here to purge."""

    def load(self, conn: sa.Connection, keys: Collection[UUID]) -> dict[UUID, DirState]:
        """The stored rows of each professional: their row and their places, in the
        extract's order; a professional with no row is absent."""
        states: dict[UUID, DirState] = {}
        ids = list(keys)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            for r in conn.execute(
                professionals.select().where(professionals.c.professional_id.in_(chunk))
            ).mappings():
                states[r["professional_id"]] = {"pro": dict(r), "places": []}
            query = (
                activities.select()
                .where(activities.c.professional_id.in_(chunk))
                .order_by(activities.c.professional_id, activities.c.position)
            )
            for r in conn.execute(query).mappings():
                states[r["professional_id"]]["places"].append(dict(r))
        return states

    def rows(self, key: UUID, state: DirState) -> dict[sa.Table, list[dict[str, Any]]]:
        """The professional's row and one row per place of practice."""
        return {professionals: [state["pro"]], activities: state["places"]}

    @singledispatchmethod
    def apply(self, event: Any, state: DirState | None) -> DirState | None:
        """A professional's rows after one of their events."""
        raise unhandled(self, event)

    @apply.register
    def _(
        self, event: Professional.Registered, state: DirState | None
    ) -> DirState | None:
        pro: dict[str, Any] = {
            "professional_id": event.originator_id,
            "idnatps": event.idnatps,
            "id_type": event.id_type,
            "listed": True,
        }
        return _listed(pro, event)

    @apply.register
    def _(
        self,
        event: Professional.Updated | Professional.Reinstated,
        state: DirState | None,
    ) -> DirState | None:
        return None if state is None else _listed(dict(state["pro"]), event)

    @apply.register
    def _(
        self, event: Professional.Withdrawn, state: DirState | None
    ) -> DirState | None:
        if state is None:
            return None
        pro = {**state["pro"], "updated_at": event.timestamp, "listed": False}
        return {"pro": pro, "places": state["places"]}


def _listed(pro: dict[str, Any], event: Any) -> DirState:
    """A listed professional's rows, as an extract of the directory says
    (``event``: registered, updated or reinstated)."""
    pro["updated_at"] = event.timestamp
    pro.update(
        listed=True,
        last_name=event.last_name,
        first_name=event.first_name,
        name_key=search_key(f"{event.last_name} {event.first_name or ''}"),
        profession=event.profession,
        profession_code=event.profession_code,
        profession_label=event.profession_label,
        specialties="; ".join(
            dict.fromkeys(
                a["specialty_label"] or a["specialty_code"]
                for a in event.activities
                if a.get("specialty_label") or a.get("specialty_code")
            )
        )[:1000]
        or None,
    )
    places = [
        {
            "professional_id": event.originator_id,
            "position": n,
            **{k: a.get(k) for k in ACTIVITY_FIELDS},
            "city_key": search_key(a.get("city")) or None,
        }
        for n, a in enumerate(event.activities, start=1)
    ]
    return {"pro": pro, "places": places}


@checked_queries
class DirectoryQueries:
    """PRO-2: find professionals by name, profession and city."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def search(
        self,
        *,
        name: str | None = None,
        profession: str | None = None,
        city: str | None = None,
        include_withdrawn: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> Rows:
        """Professionals whose name contains ``name`` (accents and case
        ignored), of ``profession``, practising in ``city`` (a city name, its
        start, or a postal code prefix). Each with their places of practice."""
        query = sa.select(professionals).order_by(
            professionals.c.name_key, professionals.c.idnatps
        )
        if name:
            for word in search_key(name).split():
                query = query.where(professionals.c.name_key.contains(word))
        if profession:
            query = query.where(professionals.c.profession == profession)
        if not include_withdrawn:
            query = query.where(professionals.c.listed.is_(True))
        if city:
            key = search_key(city)
            match = (
                activities.c.postal_code.startswith(key)
                if key.isdigit()
                else activities.c.city_key.startswith(key)
            )
            query = query.where(
                professionals.c.professional_id.in_(
                    sa.select(activities.c.professional_id).where(match)
                )
            )
        with self.engine.connect() as conn:
            rows = page_rows(conn, query, limit, offset)
            places = self._places(conn, [r["professional_id"] for r in rows])
        for row in rows:
            row.pop("name_key")
            row["places"] = places.get(row["professional_id"], [])
        return rows

    def get(self, idnatps: str) -> dict[str, Any] | None:
        """PRO-2: one professional by IdNatPS, listed or withdrawn, with their places
        of practice; ``None`` if the directory never listed them."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    professionals.select().where(professionals.c.idnatps == idnatps)
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            found = dict(row)
            found.pop("name_key")
            found["places"] = self._places(conn, [found["professional_id"]]).get(
                found["professional_id"], []
            )
        return found

    def names(self, idnatps: Collection[str]) -> dict[str, str]:
        """MSG-2: the display name of each professional, never their address."""
        ids = sorted(set(idnatps))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                query = sa.select(
                    professionals.c.idnatps,
                    professionals.c.first_name,
                    professionals.c.last_name,
                ).where(professionals.c.idnatps.in_(ids[i : i + 500]))
                for r in conn.execute(query):
                    found[r.idnatps] = " ".join(
                        p for p in (r.first_name, r.last_name) if p
                    )
        return found

    def counts(self) -> dict[str, int]:
        """How many listed professionals each profession has: for the operator's
        stats (withdrawn ones are not counted)."""
        query = (
            sa.select(professionals.c.profession, sa.func.count())
            .where(professionals.c.listed.is_(True))
            .group_by(professionals.c.profession)
        )
        with self.engine.connect() as conn:
            return {str(p): int(n) for p, n in conn.execute(query)}

    def listed_ids(self, after: str = "", limit: int = 1000) -> list[str]:
        """IdNatPS of listed professionals, in order, a page at a time."""
        query = (
            sa.select(professionals.c.idnatps)
            .where(professionals.c.listed.is_(True))
            .where(professionals.c.idnatps > after)
            .order_by(professionals.c.idnatps)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [str(i) for i in conn.execute(query).scalars()]

    def _places(
        self, conn: sa.Connection, ids: list[UUID]
    ) -> dict[UUID, list[dict[str, Any]]]:
        found: dict[UUID, list[dict[str, Any]]] = {}
        for i in range(0, len(ids), 500):
            query = (
                activities.select()
                .where(activities.c.professional_id.in_(ids[i : i + 500]))
                .order_by(activities.c.professional_id, activities.c.position)
            )
            for r in conn.execute(query).mappings():
                place = {k: r[k] for k in ACTIVITY_FIELDS}
                found.setdefault(r["professional_id"], []).append(place)
        return found
