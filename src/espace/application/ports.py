"""What the application needs from the outside world, as protocols."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any, NamedTuple, ParamSpec, Protocol, TypeVar, runtime_checkable
from uuid import UUID

from espace.domain.decision import Listing

Clock = Callable[[], datetime]
"""Returns the current aware instant. Injected: tests and simulations set it."""


class KeyVault(Protocol):
    """The per-espace data keys (see ``espace.adapters.crypto.Keystore``)."""

    def ensure_keys(self, key_ids: Iterable[UUID], at: datetime) -> set[UUID]:
        """Create the keys that do not exist yet; return the ids that had a
        key (or a shredded key's tombstone) already."""

    def shredded(self, key_ids: Iterable[UUID]) -> set[UUID]:
        """Which of these keys were destroyed (one round trip)."""

    def shred(self, key_id: UUID, at: datetime) -> None:
        """Destroy a key for good: everything it sealed becomes unreadable."""

    def compact(self) -> bool:
        """Reclaim the storage that still holds destroyed keys; False if busy."""


class Compaction(Protocol):
    """Pushes what erasures freed out of the files (SEC-4)."""

    def compact(self) -> bool:
        """Compact the keystore and the store; False if a part was busy."""


class ViewSync(Protocol):
    """Brings the read models up to date with the log."""

    def __call__(self) -> object:
        """Catch every read model up with the log, so that a query that follows
        sees every event saved so far (the result is not used)."""


class ContentStore(Protocol):
    """Document contents, sealed under their espace's key (ADR-0010)."""

    def put(self, espace_id: UUID, version_id: UUID, content: bytes) -> None:
        """Store one version's bytes; idempotent for the same bytes."""

    def get(self, espace_id: UUID, version_id: UUID) -> bytes:
        """The bytes of one version; NotFound if absent or erased."""

    def purge_espace(self, espace_id: UUID) -> int:
        """Delete every content of an erased espace (SEC-4); returns the count."""

    def delete(self, espace_id: UUID, version_ids: Collection[UUID]) -> int:
        """Delete these versions' bytes of this espace (a held legacy DMP the
        holder's opposition discards, LC-3); returns the count."""


class SavedWithEspace(Protocol):
    """What the lifecycle saves with an espace, in its one transaction: the
    held legacy DMP that its opening merges or its opposition discards
    (LC-6, LC-3, ADR-0032)."""

    def companions(self, espace: Any) -> list[Any]:
        """The aggregates to save with ``espace`` (its events still pending);
        none for most commands."""

    def settle(self, espace_id: UUID, companions: Sequence[Any]) -> None:
        """After the save committed: what lives outside the event store (the
        held bytes an opposition discards)."""


class KnownAggregates(Protocol):
    """Which aggregates the log holds (a bulk import tells new from known
    without loading each one)."""

    def existing(self, aggregate_ids: Collection[UUID]) -> set[UUID]:
        """Those of these ids that have at least one stored event."""


class ProfessionalDirectory(Protocol):
    """PRO-2: the directory of professionals, as the access rules need it."""

    def listing(self, idnatps: str) -> Listing | None:
        """The directory's entry of a professional, None if it has none."""


class LoggedEvent(NamedTuple):
    """One stored event of an espace, as the audit log holds it: where it is
    in the log, and, unless it was erased, the event. (A tuple: a history
    makes one per event.)"""

    leaf_index: int
    originator_id: UUID
    originator_version: int
    topic: str
    event: Any | None
    """The domain event; None when its key was destroyed (SEC-4)."""


class AuditEvidence(Protocol):
    """The audit log, as the auditor's use cases need it (ADR-0022)."""

    def espace_events(self, espace_id: UUID) -> list[LoggedEvent]:
        """Every stored event of every aggregate of one espace, in log order,
        found through the audit tree's index, opened one by one;
        :class:`NotFound` if the log has none."""

    def espace_events_apart(
        self, espace_id: UUID, topic: str
    ) -> tuple[list[LoggedEvent], Iterator[LoggedEvent]]:
        """One espace's events as :meth:`espace_events` has them, those of
        ``topic`` apart: every other one in a list, and those of ``topic``
        read lazily, page by page as the iterator is consumed, never all in
        memory (the export's traces, ADR-0031). Both stop at the log as it
        stood at the call: what is recorded meanwhile is in neither."""

    def export(
        self, espace_id: UUID, *, as_of: datetime | None, at: datetime
    ) -> dict[str, Any]:
        """The espace's history for offline verification."""

    def checkpoint(self, at: datetime) -> Any:
        """Sign a checkpoint of the log as it stands."""

    def checkpoints(self, limit: int | None, offset: int) -> tuple[list[Any], int]:
        """The signed checkpoints, newest first, and how many there are."""

    def verifier(self) -> Any:
        """The verifier key of the log's signing key."""

    def verify(self, verifiers: Sequence[Any] = ()) -> Any:
        """Recompute the whole log against its tree and checkpoints."""

    def prove_consistency(
        self, first: int, second: int | None = None
    ) -> dict[str, Any]:
        """An RFC 9162 consistency proof between two checkpoints."""


P = ParamSpec("P")
R = TypeVar("R")


@runtime_checkable
class HoldsSaves(Protocol):
    """An event store whose after-save catch-up can wait for bulk work."""

    def saves_held(self) -> AbstractContextManager[None]:
        """After-save runs once, when the hold ends."""


def holding_saves(method: Callable[P, R]) -> Callable[P, R]:
    """For a use case that saves many times (a feed, an import, an erasure):
    the event store's read-your-writes catch-up (ADR-0009) runs once, at
    the end. The use case's object has the event store as ``app``."""

    @functools.wraps(method)
    def held(*args: P.args, **kwargs: P.kwargs) -> R:
        app = getattr(args[0], "app", None)
        hold = app.saves_held() if isinstance(app, HoldsSaves) else nullcontext()
        with hold:
            return method(*args, **kwargs)

    return held
