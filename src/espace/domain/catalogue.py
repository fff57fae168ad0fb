"""The catalogue of referenced services, and the holder's connections to them
(PRO-3).

The catalogue is reference data, published in versions by the operator like
the access matrix (ACC-3): its events say ``KEY_SCOPE = "system"``. The
connections of one espace are an authorisation like any other (ADR-0014):
their own small aggregate, one per espace with a derived id, whose events
carry ``espace_id`` and so are sealed and erased with the espace.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.errors import RuleViolation
from espace.domain.reference import Difference, Version, checked_change, version_of
from espace.domain.tables import Table

CATALOGUE_ID = uuid.uuid5(uuid.NAMESPACE_URL, "urn:espace:service-catalogue")
CONNECTIONS_NAMESPACE = UUID("d3e1b7a2-8c4f-4b6e-a1d9-5f2c7e8b0a63")

SERVICE_COLUMNS = ("service_id", "name", "provider", "category", "description", "url")
CATEGORIES = (
    "appointments",
    "prevention",
    "monitoring",
    "pregnancy",
    "mental_health",
    "medication",
    "information",
    "other",
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


def connections_id(espace_id: UUID) -> UUID:
    """PRO-3: the id of an espace's :class:`ServiceConnections`, derived from
    its espace id so that it is found without a look-up."""
    return uuid.uuid5(CONNECTIONS_NAMESPACE, str(espace_id))


@dataclass(frozen=True)
class Service:
    """PRO-3: one referenced service."""

    service_id: str
    name: str
    provider: str
    category: str
    description: str
    url: str

    def as_dict(self) -> dict[str, str]:
        """The service as a row of :data:`SERVICE_COLUMNS`, as events store it."""
        return dict(self.__dict__)


def services_of(table: Table) -> list[Service]:
    """PRO-3: a table with a header naming :data:`SERVICE_COLUMNS`.

    The whole table is refused on the first bad line: a catalogue is
    published as a whole, like the access matrix.
    """
    header, rows = table
    missing = [c for c in SERVICE_COLUMNS if c not in header]
    if missing:
        raise RuleViolation("PRO-3", f"catalogue: missing columns {', '.join(missing)}")
    services: dict[str, Service] = {}
    for line, row in rows:
        cells = {c: (row.get(c) or "").strip() for c in SERVICE_COLUMNS}
        if not _SLUG.fullmatch(cells["service_id"]):
            raise RuleViolation(
                "PRO-3", f"catalogue line {line}: service_id is a lowercase slug"
            )
        if cells["service_id"] in services:
            raise RuleViolation(
                "PRO-3", f"catalogue line {line}: {cells['service_id']} twice"
            )
        if not cells["name"] or not cells["provider"]:
            raise RuleViolation(
                "PRO-3", f"catalogue line {line}: a name and a provider"
            )
        if cells["category"] not in CATEGORIES:
            raise RuleViolation(
                "PRO-3",
                f"catalogue line {line}: category is one of {', '.join(CATEGORIES)}",
            )
        if not cells["url"].startswith("https://"):
            raise RuleViolation("PRO-3", f"catalogue line {line}: an https:// url")
        if any(len(v) > 500 for v in cells.values()):
            raise RuleViolation("PRO-3", f"catalogue line {line}: 500 characters max")
        services[cells["service_id"]] = Service(**cells)
    if not services:
        raise RuleViolation("PRO-3", "catalogue: no service")
    return sorted(services.values(), key=lambda s: s.service_id)


class ServiceCatalogue(Aggregate):
    """PRO-3: the versions of the catalogue, as the operator published them."""

    KEY_SCOPE = "system"

    class Event(Aggregate.Event):
        """The catalogue's events: reference data of no espace, sealed under the
        system key (``KEY_SCOPE``, ADR-0004)."""

        KEY_SCOPE = "system"

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Started(Aggregate.Created, Event):
        """PRO-3: the catalogue was created, before any version was published."""

    class Published(Event):
        """PRO-3: the operator published a new version of the service catalogue."""

        version: int
        services: list[dict[str, str]]
        source: str

        def apply(self, aggregate: Any) -> None:
            """The published version comes into force and joins the history."""
            aggregate.published_version = self.version
            aggregate.services = {s["service_id"]: dict(s) for s in self.services}
            aggregate.published_at = self.timestamp
            aggregate.versions[self.version] = Version(
                self.version, dict(aggregate.services), self.source, self.timestamp
            )

    @classmethod
    def start(cls, *, at: datetime) -> ServiceCatalogue:
        """PRO-3: the system's one catalogue, at its fixed id :data:`CATALOGUE_ID`."""
        return cls._create(cls.Started, id=CATALOGUE_ID, timestamp=at)

    def __init__(self) -> None:
        self.published_version = 0
        self.services: dict[str, dict[str, str]] = {}
        self.published_at: datetime | None = None
        self.versions: dict[int, Version] = {}

    def change(self, services: list[Service], *, allow_removals: bool) -> Difference:
        """PRO-3: what publishing ``services`` would change; refused when it
        is identical to the version in force, or leaves out services it has
        unless ``allow_removals`` (connections to them would then end)."""
        return checked_change(
            self.versions.get(self.published_version),
            {s.service_id: s.as_dict() for s in services},
            rule="PRO-3",
            what="catalogue",
            allow_removals=allow_removals,
        )

    def publish(
        self,
        *,
        at: datetime,
        services: list[Service],
        source: str,
        allow_removals: bool = False,
    ) -> int:
        """A new version (see :meth:`change`); returns its number."""
        self.change(services, allow_removals=allow_removals)
        self.trigger_event(
            self.Published,
            timestamp=at,
            version=self.published_version + 1,
            services=[s.as_dict() for s in services],
            source=source,
        )
        return self.published_version

    def published(self, number: int) -> list[Service]:
        """PRO-3: a published version, to show or publish again."""
        found = version_of(self.versions, number, "PRO-3")
        return [Service(**row) for _, row in sorted(found.entries.items())]

    def referenced(self, service_id: str) -> dict[str, str]:
        """PRO-3: a service of the catalogue in force."""
        if service_id not in self.services:
            raise RuleViolation(
                "PRO-3", f"{service_id!r} is not a referenced service of the catalogue"
            )
        return dict(self.services[service_id])


class ServiceConnections(Aggregate):
    """PRO-3: the services one holder connected, an authorisation each."""

    class Event(Aggregate.Event):
        """The connections' events: each carries ``espace_id``, so they are sealed
        under the espace's key and erased with it (ADR-0014)."""

        espace_id: UUID

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Started(Aggregate.Created, Event):
        """PRO-3: the holder's connections began, with none yet."""

    class ServiceConnected(Event):
        """PRO-3: the holder authorises a referenced service."""

        service_id: str
        catalogue_version: int
        by: str

        def apply(self, aggregate: Any) -> None:
            """The service is connected as of the event's time."""
            aggregate.connected[self.service_id] = self.timestamp

    class ServiceDisconnected(Event):
        """PRO-3: the holder withdraws it, at any time."""

        service_id: str
        by: str

        def apply(self, aggregate: Any) -> None:
            """The service is no longer connected."""
            aggregate.connected.pop(self.service_id, None)

    @classmethod
    def start(cls, *, espace_id: UUID, at: datetime) -> ServiceConnections:
        """PRO-3: the connections of espace ``espace_id``, at their derived id
        (:func:`connections_id`)."""
        return cls._create(
            cls.Started, id=connections_id(espace_id), timestamp=at, espace_id=espace_id
        )

    def __init__(self, espace_id: UUID) -> None:
        self.espace_id = espace_id
        self.connected: dict[str, datetime] = {}

    def connect(
        self, *, at: datetime, service: dict[str, str], version: int, by: str
    ) -> None:
        """PRO-3: connect a service of the catalogue in force, once."""
        self._guard(at)
        service_id = service["service_id"]
        if service_id in self.connected:
            raise RuleViolation("PRO-3", f"{service_id} is already connected")
        self.trigger_event(
            self.ServiceConnected,
            timestamp=at,
            espace_id=self.espace_id,
            service_id=service_id,
            catalogue_version=version,
            by=by,
        )

    def disconnect(self, *, at: datetime, service_id: str, by: str) -> None:
        """PRO-3: even a service no longer in the catalogue can be disconnected."""
        self._guard(at)
        if service_id not in self.connected:
            raise RuleViolation("PRO-3", f"{service_id} is not connected")
        self.trigger_event(
            self.ServiceDisconnected,
            timestamp=at,
            espace_id=self.espace_id,
            service_id=service_id,
            by=by,
        )

    def _guard(self, at: datetime) -> None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise RuleViolation("PRO-3", "times must be timezone-aware")
        if at < self.modified_on:
            raise RuleViolation(
                "PRO-3", "a command cannot be dated before the last event"
            )
