"""Use cases of the service catalogue (PRO-3, ACC-6).

The operator publishes the catalogue of referenced services (a shipped
default, or a CSV). The holder connects or disconnects a service: an
authorisation like any other, decided by the record's access decision (as a
consent choice) and traced in the access journal, denied attempts included
(ADR-0014).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import resources
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import Application

from espace.application import schemas, service_schemas
from espace.application.common import ServiceBase
from espace.application.errors import NotFound
from espace.application.lifecycle import LifecycleService
from espace.application.ports import Clock
from espace.application.queries import CatalogueView
from espace.application.tables import catalogue_from_csv
from espace.domain import reference
from espace.domain.actors import Action, Actor
from espace.domain.catalogue import (
    CATALOGUE_ID,
    Service,
    ServiceCatalogue,
    ServiceConnections,
    connections_id,
)
from espace.domain.errors import RuleViolation

log = structlog.get_logger("espace.catalogue")

DEFAULT_CATALOGUE = "services.csv"


def default_catalogue_text() -> str:
    """PRO-3: the shipped service catalogue (CSV), published if none exists yet."""
    return resources.files("espace.data").joinpath(DEFAULT_CATALOGUE).read_text("utf-8")


class CatalogueService(ServiceBase):
    """PRO-3: referenced services and the holder's connections to them."""

    def __init__(
        self,
        app: Application[UUID],
        lifecycle: LifecycleService,
        clock: Clock,
        *,
        queries: CatalogueView,
    ) -> None:
        super().__init__(app, lifecycle, clock)
        self.queries = queries

    # ----------------------------------------------------------------- catalogue

    def catalogue(self) -> ServiceCatalogue:
        """PRO-3: the catalogue log; NotFound until a first version is published."""
        found = self._maybe(CATALOGUE_ID, ServiceCatalogue, "catalogue")
        if found is None or not found.published_version:
            raise NotFound(
                "no service catalogue is published: run `espace services publish`"
            )
        return found

    def publish(
        self,
        text: str,
        source: str,
        at: datetime | None = None,
        *,
        allow_removals: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """PRO-3: publish a new version of the catalogue from its CSV text.

        Refused if it is identical to the version in force, or if it leaves
        out services the version in force has (a partial file), unless
        ``allow_removals``. ``dry_run`` reports what would change and saves
        nothing."""
        services = catalogue_from_csv(schemas.require_text(text, "catalogue"))
        source = schemas.require_text(source, "source")
        return self._publish(services, source, at, allow_removals, dry_run)

    def republish(
        self,
        version: int,
        at: datetime | None = None,
        *,
        allow_removals: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """PRO-3: the way back: publish an earlier version again, as a new
        version (the ones in between stay in the log)."""
        services = self.catalogue().published(version)
        return self._publish(
            services, f"version {version}", at, allow_removals, dry_run
        )

    def history(self) -> list[dict[str, Any]]:
        """PRO-3: every published version of the catalogue, newest first,
        with when, from which file, and what it changed."""
        return reference.history(self.catalogue().versions)

    def _publish(
        self,
        services: list[Service],
        source: str,
        at: datetime | None,
        allow_removals: bool,
        dry_run: bool,
    ) -> dict[str, Any]:
        existing = self._maybe(CATALOGUE_ID, ServiceCatalogue, "catalogue")
        now = self._now(at)
        catalogue = existing or ServiceCatalogue.start(at=now)
        previous = catalogue.published_version or None
        change = catalogue.change(services, allow_removals=allow_removals)
        if dry_run:
            return reference.publication(None, previous, change, dry_run=True)
        version = catalogue.publish(
            at=now, services=services, source=source, allow_removals=allow_removals
        )
        self._save(catalogue)
        log.info("catalogue.published", version=version, services=len(services))
        return reference.publication(version, previous, change, dry_run=False)

    def ensure_default(self, at: datetime | None = None) -> None:
        """Publish the packaged default once, if no catalogue exists yet."""
        if CATALOGUE_ID not in self.app.repository:
            self.publish(default_catalogue_text(), "default", at)

    def services(self, category: str | None = None) -> list[dict[str, Any]]:
        """PRO-3: the referenced services in force (the catalogue view)."""
        params = schemas.load(service_schemas.CategorySchema, {"category": category})
        return self.queries.services(params["category"])

    # ----------------------------------------------------------------- connections

    def connect(
        self,
        actor: Actor,
        espace_id: UUID,
        service_id: str,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-3: the holder authorises a referenced service; traced (ACC-6)."""
        ref = schemas.load(service_schemas.ServiceRefSchema, {"service_id": service_id})
        catalogue = self.catalogue()
        service = catalogue.referenced(ref["service_id"])
        return self._authorise(
            actor,
            espace_id,
            f"connect-service {ref['service_id']}",
            ServiceConnections.connect,
            {"service": service, "version": catalogue.published_version},
            at,
        )

    def disconnect(
        self,
        actor: Actor,
        espace_id: UUID,
        service_id: str,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """PRO-3: the holder withdraws a service's authorisation; traced (ACC-6)."""
        ref = schemas.load(service_schemas.ServiceRefSchema, {"service_id": service_id})
        return self._authorise(
            actor,
            espace_id,
            f"disconnect-service {ref['service_id']}",
            ServiceConnections.disconnect,
            {"service_id": ref["service_id"]},
            at,
        )

    def connections(
        self, actor: Actor, espace_id: UUID, at: datetime | None = None
    ) -> list[dict[str, Any]]:
        """PRO-3: the services this espace has connected, to the holder's
        side only; the read is traced (ACC-6)."""
        espace = self._espace(espace_id)
        gate = self._open_gate(
            actor, Action.CONSENT, espace, self._now(at), detail="services connections"
        )
        self._save(gate.trace())
        return self.queries.connections_of(espace_id)

    def _authorise(
        self,
        actor: Actor,
        espace_id: UUID,
        detail: str,
        command: Callable[..., None],
        arguments: Mapping[str, Any],
        when: datetime | None,
    ) -> dict[str, Any]:
        """PRO-3: the holder's change to their connections (the aggregate's
        ``command``, told the time and who acts), through the open-record
        gate; traced either way (ACC-6)."""
        espace = self._espace(espace_id)
        existing = self._maybe(
            connections_id(espace_id), ServiceConnections, "connections"
        )
        at = self._now(when)
        gate = self._open_gate(actor, Action.CONSENT, espace, at, detail=detail)
        connections = existing or ServiceConnections.start(espace_id=espace_id, at=at)
        try:
            command(connections, at=at, by=str(actor.kind), **arguments)
        except RuleViolation as exc:
            gate.refuse(exc.rule, exc.reason)
        trace = gate.trace()
        self._save(connections, trace)
        log.info("service.authorisation", espace_id=str(espace_id), change=detail)
        return {
            "espace_id": str(espace_id),
            "change": detail,
            "connected": sorted(connections.connected),
            "trace_id": str(trace.id),
        }
