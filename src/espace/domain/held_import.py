"""A legacy DMP that came before its espace opened, held until it does (LC-6,
ADR-0032).

LC-6: "a pre-existing DMP is merged into the espace when it opens, unless
the holder opposed". The insurer's batch may bring a person's legacy DMP
while their opposition window still runs (LC-2). Its documents, checked as
a deposit checks them, are then held: one record per espace, whose events
carry each document's metadata (its bytes are sealed in the content store,
as a deposit's). The opening (LC-4, LC-5) merges them in the same save as
the espace's ``Opened`` event; an opposition (LC-3) discards them, and their
bytes are deleted, since no DMP is created. Nothing held is lost silently:
a document that can no longer be deposited at the opening is named, with
its reason, in the ``Merged`` event.

The record's events carry ``espace_id``: they are sealed under the espace's
key and erased with it (SEC-4).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.errors import RuleViolation

HELD_IMPORTS = UUID("a3d0c6e2-1f4b-4c8e-9a57-2b6d8e0f1c34")
"""Namespace of the held imports' ids: one record per espace."""


def held_import_id(espace_id: UUID) -> UUID:
    """The id of an espace's held import, derived from its id: found at the
    opening without a look-up."""
    return uuid.uuid5(HELD_IMPORTS, str(espace_id))


class HeldStatus(StrEnum):
    """Where a held import stands; the value is stored."""

    HELD = "held"
    """Waiting for the opening (LC-4, LC-5)."""
    MERGED = "merged"
    """Merged at the opening (LC-6)."""
    DISCARDED = "discarded"
    """The holder opposed (LC-3): no DMP, nothing merged."""


class HeldImport(Aggregate):
    """LC-6: the documents of a legacy DMP waiting for their espace to open.

    Each held document is a dict: ``key`` (its identifier in the legacy
    DMP), ``resource`` and ``where`` (how errors name it), ``document_id``
    and ``version_id``, ``metadata`` (what a deposit loads: ``loinc_code``,
    ``category``, ``title``, ``care_time``, ``format``), ``author_kind``,
    ``author_id``, ``size``, ``content_hash`` and ``operator`` (who
    imported, as the holder's journal will name them)."""

    KEY_SCOPE = "espace"

    class Event(Aggregate.Event):
        """A held import's events: sealed under the espace's key (SEC-4)."""

        espace_id: UUID

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Held(Aggregate.Created, Event):
        """LC-6: a legacy DMP came before the opening; its documents wait."""

        documents: list[dict[str, Any]]

    class MoreHeld(Event):
        """LC-6: another bundle came before the opening (new documents only)."""

        documents: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            """The new documents join the held ones."""
            held: HeldImport = aggregate
            held.documents = [*held.documents, *self.documents]

    class Merged(Event):
        """LC-6: the espace opened; the held documents are deposited in the
        same save. ``rejected`` names, by key, each one that could not be
        (and why): none is dropped silently."""

        merged: list[str]
        rejected: dict[str, str]

        def apply(self, aggregate: Any) -> None:
            """Nothing is held any more."""
            held: HeldImport = aggregate
            held.status = HeldStatus.MERGED
            held.merged = list(self.merged)
            held.rejected = dict(self.rejected)

    class Discarded(Event):
        """LC-3: the holder opposed: no DMP is created, nothing is merged;
        the held bytes are deleted."""

        reason: str

        def apply(self, aggregate: Any) -> None:
            """Nothing is held any more."""
            held: HeldImport = aggregate
            held.status = HeldStatus.DISCARDED

    def __init__(self, espace_id: UUID, documents: list[dict[str, Any]]) -> None:
        self.espace_id = espace_id
        self.documents = list(documents)
        self.status = HeldStatus.HELD
        self.merged: list[str] = []
        self.rejected: dict[str, str] = {}

    @classmethod
    def hold(
        cls, *, espace_id: UUID, at: datetime, documents: list[dict[str, Any]]
    ) -> HeldImport:
        """LC-6: hold the first documents of a legacy DMP for ``espace_id``."""
        if not documents:
            raise RuleViolation("LC-6", "a held import holds at least one document")
        return cls._create(
            cls.Held,
            id=held_import_id(espace_id),
            timestamp=at,
            espace_id=espace_id,
            documents=documents,
        )

    @property
    def keys(self) -> set[str]:
        """The legacy keys of every document held."""
        return {d["key"] for d in self.documents}

    def add(self, *, at: datetime, documents: list[dict[str, Any]]) -> None:
        """LC-6: hold more documents; those already held are refused by the
        caller (it reports them), none may be held twice."""
        self._still_held()
        twice = sorted(self.keys & {d["key"] for d in documents})
        if twice:
            raise RuleViolation("LC-6", f"already held: {', '.join(twice)}")
        if documents:
            self.trigger_event(
                self.MoreHeld,
                timestamp=max(at, self.modified_on),
                espace_id=self.espace_id,
                documents=documents,
            )

    def merge(
        self, *, at: datetime, merged: list[str], rejected: dict[str, str]
    ) -> None:
        """LC-6: the opening merged the held documents (``merged``: their
        document ids; ``rejected``: key → reason for the others)."""
        self._still_held()
        self.trigger_event(
            self.Merged,
            timestamp=max(at, self.modified_on),
            espace_id=self.espace_id,
            merged=merged,
            rejected=rejected,
        )

    def discard(self, *, at: datetime, reason: str) -> None:
        """LC-3: the holder opposed; nothing held is merged."""
        self._still_held()
        self.trigger_event(
            self.Discarded,
            timestamp=max(at, self.modified_on),
            espace_id=self.espace_id,
            reason=reason,
        )

    def _still_held(self) -> None:
        if self.status is not HeldStatus.HELD:
            raise RuleViolation(
                "LC-6", f"the legacy DMP of this espace was already {self.status}"
            )
