"""What the use cases read from the read models, as protocols (query ports).

The use cases depend on these, never on ``espace.projections`` (an
import-linter contract in ``pyproject.toml`` says so). Naming: a port is
called after the read model it reads, with ``View`` (the project's word for
a read model: ``VIEWS``, ``directory_view``, ADR-0009): ``DocumentView`` is
what the use cases ask of ``espace.projections.documents.DocumentQueries``.

Each protocol declares only the methods the application calls, with the
concrete class's signature: the same parameters, kinds and types, and a
default (written ``...``: its value is the read model's, not repeated here to
drift) where the read model has one. The concrete class fits structurally;
``espace.api.bootstrap`` wires one to the other, and mypy checks there that it
fits. A method the use cases start to call is declared here first.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from espace.domain.actors import ActorKind
from espace.domain.pages import Rows


class AgendaView(Protocol):
    """AG-1: the appointments (``espace.projections.agenda``)."""

    def upcoming(
        self,
        *,
        now: datetime,
        espace_id: UUID | None = ...,
        professional_id: str | None = ...,
        include_cancelled: bool = ...,
        limit: int = ...,
        offset: int = ...,
    ) -> Rows:
        """Appointments from ``now`` on, soonest first: of one espace, of one
        professional (with them, or made by them), or both; and how many
        there are in all (``total``)."""
        ...


class DirectoryView(Protocol):
    """PRO-2: the directory of professionals (``espace.projections.directory``)."""

    def search(
        self,
        *,
        name: str | None = ...,
        profession: str | None = ...,
        city: str | None = ...,
        include_withdrawn: bool = ...,
        limit: int = ...,
        offset: int = ...,
    ) -> Rows:
        """Professionals whose name contains ``name`` (accents and case
        ignored), of ``profession``, practising in ``city`` (a city name, its
        start, or a postal code prefix), each with their places of practice."""
        ...

    def get(self, idnatps: str) -> dict[str, Any] | None:
        """One professional, with their places of practice; None if unknown."""
        ...

    def names(self, idnatps: Collection[str]) -> dict[str, str]:
        """MSG-2: the display name of each professional, never their address."""
        ...

    def listed_ids(self, after: str = ..., limit: int = ...) -> list[str]:
        """IdNatPS of listed professionals, in order, a page at a time."""
        ...


class JournalView(Protocol):
    """ACC-6: the access journal, one row per trace
    (``espace.projections.journal``)."""

    def of_espace(
        self,
        espace_id: UUID,
        *,
        actor_id: str | None = ...,
        limit: int = ...,
        offset: int = ...,
    ) -> list[dict[str, Any]]:
        """The traces of one espace, latest first; of one actor if given."""
        ...

    def count(self, espace_id: UUID, *, actor_id: str | None = ...) -> int:
        """How many traces ``of_espace`` would list with no limit."""
        ...

    def of_actor(
        self,
        actor_id: str,
        *,
        since: datetime | None = ...,
        until: datetime | None = ...,
        limit: int = ...,
        offset: int = ...,
    ) -> tuple[list[dict[str, Any]], int]:
        """Every trace of one actor across espaces, oldest first, and how
        many there are in all."""
        ...


class AuditorReadsView(Protocol):
    """ACC-6, ADR-0022: what the auditors asked for
    (``espace.projections.auditor``)."""

    def reads(
        self,
        *,
        subject: str | None = ...,
        since: datetime | None = ...,
        limit: int = ...,
        offset: int = ...,
    ) -> tuple[list[dict[str, Any]], int]:
        """The auditors' reads, latest first, of one subject and from
        ``since`` if given; and how many there are in all."""
        ...


class CatalogueView(Protocol):
    """PRO-3: the referenced services and the espaces' connections to them
    (``espace.projections.catalogue``)."""

    def services(self, category: str | None = ...) -> list[dict[str, Any]]:
        """The referenced services in force, of one category if given."""
        ...

    def connections_of(self, espace_id: UUID) -> list[dict[str, Any]]:
        """The services one espace is connected to, each saying whether it
        is still referenced."""
        ...


class DeadlineView(Protocol):
    """The deadlines the scheduler acts on (``espace.projections.deadlines``)."""

    def due(self, now: datetime, limit: int = ...) -> list[dict[str, Any]]:
        """Deadlines that fell due at or before ``now``, oldest first."""
        ...


class MessagingView(Protocol):
    """MSG-*: the inboxes (``espace.projections.messaging``). Whose inbox it
    is, is the caller's business."""

    def conversations_of_espace(
        self, espace_id: UUID, *, limit: int = ..., offset: int = ...
    ) -> Rows:
        """The holder's inbox: the conversations of one espace, latest first."""
        ...

    def conversations_of_party(
        self, kind: ActorKind, party_id: str, *, limit: int = ..., offset: int = ...
    ) -> Rows:
        """A professional's (or establishment's) inbox, latest first."""
        ...


class NotificationView(Protocol):
    """The alerts raised and not yet delivered
    (``espace.projections.notifications``)."""

    def pending(
        self,
        *,
        espace_id: UUID | None = ...,
        recipient_id: str | None = ...,
        limit: int = ...,
    ) -> list[dict[str, Any]]:
        """Undelivered alerts, oldest first: of one espace, of one recipient,
        or both."""
        ...


class ConsentView(Protocol):
    """The holder's consent settings (``espace.projections.consents``)."""

    def of_espace(self, espace_id: UUID) -> dict[str, Any]:
        """One espace's ``settings`` (None if it has none yet) and the
        ``professionals`` it names, by IdNatPS."""
        ...


class DocumentView(Protocol):
    """The documents of the record and their versions
    (``espace.projections.documents``). Filtering by rights is the caller's."""

    def of_espace(
        self, espace_id: UUID, *, include_deleted: bool = ...
    ) -> list[dict[str, Any]]:
        """The documents of one espace, latest care time first; the deleted
        ones too if asked."""
        ...

    def history(self, document_id: UUID) -> list[dict[str, Any]]:
        """The versions of one document, in version order."""
        ...
