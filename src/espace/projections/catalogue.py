"""The service catalogue and each holder's connected services (PRO-3).

The catalogue view is public reference data (the services in force and
their version); an espace's erasure leaves nothing in it to purge. The
connections view holds, per espace, which services are connected and since
when; it is purged with the espace (SEC-4). Every connection and
disconnection is also a trace in the access journal (ACC-6).
"""

from __future__ import annotations

from collections.abc import Collection
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.catalogue import ServiceCatalogue, ServiceConnections
from espace.projections.base import (
    VIEWS,
    EspaceFoldProjection,
    FoldProjection,
    checked_queries,
    unhandled,
)
from espace.projections.base import UtcDateTime as _Ts

services = sa.Table(
    "view_services",
    VIEWS,
    sa.Column("catalogue_id", sa.Uuid, primary_key=True),
    sa.Column("service_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("provider", sa.String(500), nullable=False),
    sa.Column("category", sa.String(32), nullable=False, index=True),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("published_at", _Ts(), nullable=False),
)

connections = sa.Table(
    "view_service_connections",
    VIEWS,
    sa.Column("espace_id", sa.Uuid, primary_key=True),
    sa.Column("service_id", sa.String(40), primary_key=True),
    sa.Column("connected_at", _Ts(), nullable=False),
    sa.Column("catalogue_version", sa.Integer, nullable=False),
)


class CatalogueProjection(FoldProjection[list[dict[str, Any]]]):
    """The service catalogue view (PRO-3, ADR-0014): the services of the catalogue
    in force, one row each, keyed by the catalogue's aggregate."""

    name = "services"
    tables = (services,)
    key_column = "catalogue_id"

    def purge(self, conn: sa.Connection, espace_ids: Collection[UUID]) -> None:
        """Reference data: an espace's erasure leaves nothing here to purge."""

    def load(
        self, conn: sa.Connection, keys: Collection[UUID]
    ) -> dict[UUID, list[dict[str, Any]]]:
        """The stored rows of each catalogue: its services, at its version."""
        rows: dict[UUID, list[dict[str, Any]]] = {}
        query = services.select().where(services.c.catalogue_id.in_(list(keys)))
        for r in conn.execute(query).mappings():
            rows.setdefault(r["catalogue_id"], []).append(dict(r))
        return rows

    def rows(
        self, key: UUID, state: list[dict[str, Any]]
    ) -> dict[sa.Table, list[dict[str, Any]]]:
        """The catalogue's rows as they are: one per service."""
        return {services: state}

    @singledispatchmethod
    def apply(
        self, event: Any, state: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]] | None:
        """The catalogue's rows after one of its events."""
        raise unhandled(self, event)

    @apply.register
    def _(
        self, event: ServiceCatalogue.Published, state: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]] | None:
        """A publication replaces the catalogue: its services, at its version."""
        return [
            {
                "catalogue_id": event.originator_id,
                **service,
                "version": event.version,
                "published_at": event.timestamp,
            }
            for service in event.services
        ]


Connected = dict[str, dict[str, Any]]
"""An espace's connections: the row of each service connected, by its id."""


class ConnectionsProjection(EspaceFoldProjection[Connected]):
    """Each espace's connected services (PRO-3): one row per connection, with the
    catalogue version it was made under; purged with the espace (SEC-4)."""

    name = "service_connections"
    tables = (connections,)

    def load(
        self, conn: sa.Connection, espace_ids: Collection[UUID]
    ) -> dict[UUID, Connected]:
        """The stored connections of each espace, by service id; an espace with none
        is absent."""
        states: dict[UUID, Connected] = {}
        ids = list(espace_ids)
        for i in range(0, len(ids), 500):
            query = connections.select().where(
                connections.c.espace_id.in_(ids[i : i + 500])
            )
            for r in conn.execute(query).mappings():
                states.setdefault(r["espace_id"], {})[r["service_id"]] = dict(r)
        return states

    def rows(
        self, espace_id: UUID, state: Connected
    ) -> dict[sa.Table, list[dict[str, Any]]]:
        """One row per service the espace has connected."""
        return {connections: list(state.values())}

    @singledispatchmethod
    def apply(self, event: Any, state: Connected | None) -> Connected | None:
        """An espace's connections (by service id) after one of its events."""
        raise unhandled(self, event)

    @apply.register
    def _(
        self, event: ServiceConnections.Started, state: Connected | None
    ) -> Connected | None:
        return dict(state or {}) or None

    @apply.register
    def _(
        self, event: ServiceConnections.ServiceConnected, state: Connected | None
    ) -> Connected | None:
        return {
            **(state or {}),
            event.service_id: {
                "espace_id": event.espace_id,
                "service_id": event.service_id,
                "connected_at": event.timestamp,
                "catalogue_version": event.catalogue_version,
            },
        }

    @apply.register
    def _(
        self, event: ServiceConnections.ServiceDisconnected, state: Connected | None
    ) -> Connected | None:
        s = dict(state or {})
        s.pop(event.service_id, None)
        return s or None


@checked_queries
class CatalogueQueries:
    """Read side of the catalogue and connections views. Never loads an aggregate."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def services(self, category: str | None = None) -> list[dict[str, Any]]:
        """PRO-3: the referenced services in force."""
        query = services.select().order_by(services.c.service_id)
        if category is not None:
            query = query.where(services.c.category == category)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            row.pop("catalogue_id")
        return rows

    def connections_of(self, espace_id: UUID) -> list[dict[str, Any]]:
        """PRO-3: the services an espace has connected, by service id, with the name
        and provider the catalogue gives them; ``referenced`` is false for one the
        catalogue no longer lists (its name and provider are then ``None``)."""
        query = (
            sa.select(connections, services.c.name, services.c.provider)
            .select_from(
                connections.outerjoin(
                    services, services.c.service_id == connections.c.service_id
                )
            )
            .where(connections.c.espace_id == espace_id)
            .order_by(connections.c.service_id)
        )
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            row["referenced"] = row["name"] is not None
        return rows

    def counts(self) -> dict[str, int]:
        """How many espaces have connected each service: for the operator's stats,
        with nothing that names anyone."""
        query = sa.select(connections.c.service_id, sa.func.count()).group_by(
            connections.c.service_id
        )
        with self.engine.connect() as conn:
            return {str(s): int(n) for s, n in conn.execute(query)}
