"""The base of the lifecycle's use cases: the ports, the look-ups of an espace
by id or INS number, and the plumbing every family shares (the command's
time, one save per command, batches). Loads and saves map the library's
errors in :mod:`espace.application.aggregates`, as every service's do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import Application

from espace.application import aggregates, schemas
from espace.application.errors import NotFound, RecordErased
from espace.application.lifecycle_results import EspaceSummary
from espace.application.ports import (
    Clock,
    Compaction,
    ContentStore,
    KeyVault,
    SavedWithEspace,
)
from espace.application.security import Hashing
from espace.domain.calendar import NonWorkingDay
from espace.domain.espace import EspaceSante
from espace.domain.identifiers import NIR_OID

log = structlog.get_logger("espace.lifecycle")


@dataclass(frozen=True)
class Transition:
    """A change of an espace's state that needs only the command's time
    (and arguments checked beforehand): what the log calls it, and the
    aggregate's command, whose rule refuses it if it must (LC-7..LC-12)."""

    logged_as: str
    command: Callable[..., None]


CLOSE = Transition("espace.closed", EspaceSante.close)
DEATH = Transition("death.declared", EspaceSante.declare_death)
SUSPENSION_OBJECTED = Transition(
    "suspension.objected", EspaceSante.object_to_suspension
)
SUSPENSION_LIFTED = Transition("suspension.lifted", EspaceSante.lift_suspension)
CLOSED_AFTER_SUSPENSION = Transition(
    "espace.closed", EspaceSante.close_after_suspension
)
ERASURE_REQUESTED = Transition("erasure.requested", EspaceSante.request_erasure)
REPRESENTATION_ENDED = Transition(
    "representation.ended", EspaceSante.end_representation
)


class LifecycleBase:
    """What every family of lifecycle use cases stands on."""

    def __init__(
        self,
        app: Application[UUID],
        keys: KeyVault,
        hashing: Hashing,
        clock: Clock,
        *,
        compaction: Compaction,
        non_working_day: NonWorkingDay | None = None,
        contents: ContentStore | None = None,
    ) -> None:
        self.app = app
        self.compaction = compaction
        self.contents = contents
        self.keys = keys
        self.hashing = hashing
        self.clock = clock
        self.non_working_day = non_working_day
        self.saved_with: SavedWithEspace | None = None
        """Set by the bootstrap: the held legacy DMP (LC-6, ADR-0032)."""

    # ------------------------------------------------------------ look-ups

    def espace_id_for(self, nir: str, oid: str = NIR_OID) -> UUID:
        """The espace id of an INS number (NIR, or NIA with its OID): a keyed
        hash, no read model needed (ID-2)."""
        data = schemas.load(schemas.NirSchema, {"nir": nir, "oid": oid})
        return self.hashing.espace_id(data["nir"], data["oid"])

    def modified_on(self, espace_id: UUID) -> datetime:
        """When the espace last changed (a deadline's effect is recorded no
        earlier)."""
        modified: datetime = self.get(espace_id).modified_on
        return modified

    def get(self, espace_id: UUID) -> EspaceSante:
        """Load an espace; NotFound if it never existed or was erased."""
        try:
            espace = aggregates.maybe(self.app, espace_id, EspaceSante, "espace")
        except RecordErased:
            raise NotFound(f"espace {espace_id} was erased (LC-9, SEC-4)") from None
        if espace is None:
            raise NotFound(f"no espace {espace_id}")
        return espace

    def _find_ins(self, number: str, oids: Sequence[str]) -> EspaceSante:
        """The espace of an INS number typed by its holder, who need not know
        whether it is a NIR or a NIA (ID-2)."""
        for oid in oids[:-1]:
            try:
                return self.get(self.hashing.espace_id(number, oid))
            except NotFound:
                continue
        return self.get(self.hashing.espace_id(number, oids[-1]))

    def summary(self, espace_id: UUID) -> EspaceSummary:
        """The espace's state and deadlines, from its events (not a view)."""
        return EspaceSummary.of(self.get(espace_id))

    # ------------------------------------------------------------ plumbing

    def transition(
        self,
        kind: Transition,
        espace_id: UUID,
        at: datetime | None = None,
        **arguments: Any,
    ) -> EspaceSummary:
        """The one handler of a change of state that takes the command's
        time and arguments already checked: load, the aggregate's command
        (RuleViolation if its rule forbids it), one save."""
        espace = self.get(espace_id)
        kind.command(espace, at=self._now(at), **arguments)
        self._save(espace, kind.logged_as)
        return EspaceSummary.of(espace)

    def _now(self, at: datetime | None) -> datetime:
        """The time of the command; call it after the load (see
        :func:`schemas.command_time`)."""
        return schemas.command_time(at, self.clock)

    def _save(self, espace: EspaceSante, what: str) -> None:
        """One transaction: the espace and what its change brings with it (an
        opening merges a held legacy DMP, LC-6)."""
        extra = self.saved_with.companions(espace) if self.saved_with else []
        aggregates.save(
            self.app,
            espace,
            *extra,
            conflict=f"espace {espace.id} was changed by someone else; try again",
        )
        if extra and self.saved_with is not None:
            self.saved_with.settle(espace.id, extra)
        log.info(what, espace_id=str(espace.id), state=str(espace.state))


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
