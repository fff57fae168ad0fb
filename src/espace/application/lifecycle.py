"""Use cases of the espace lifecycle (LC-1 to LC-12).

One method per use case: load, decide, one ``save()``, return plain data.
Input from outside goes through :mod:`espace.application.schemas` first.

The families: the feed and notices in :mod:`espace.application.lifecycle_feed`,
on the base in :mod:`espace.application.lifecycle_base`; the result types in
:mod:`espace.application.lifecycle_results`. This module holds the rest:
opposition, activation, closure, suspension, erasure, reopening.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from espace.application import aggregates, outputs, schemas
from espace.application.errors import InvalidInput, NotFound, RecordErased
from espace.application.lifecycle_base import (
    CLOSE,
    CLOSED_AFTER_SUSPENSION,
    DEATH,
    ERASURE_REQUESTED,
    REPRESENTATION_ENDED,
    SUSPENSION_LIFTED,
    SUSPENSION_OBJECTED,
    log,
)
from espace.application.lifecycle_feed import AffiliationUseCases
from espace.application.lifecycle_results import CodeIssued, EspaceSummary
from espace.application.ports import holding_saves
from espace.application.security import new_activation_code, new_receipt, new_salt
from espace.domain import calendar
from espace.domain.actors import ActorKind
from espace.domain.erasure import Erasure, erasure_id
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.espace_state import State
from espace.domain.identifiers import NIA_OID, NIR_OID


class LifecycleService(AffiliationUseCases):
    """The espace lifecycle, from the affiliation feed to erasure."""

    # ------------------------------------------------------------ LC-3

    def oppose(
        self,
        espace_id: UUID,
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """LC-3: opposition inside the window; returns the receipt."""
        params = schemas.load(schemas.OppositionSchema, data or {})
        espace = self.get(espace_id)
        espace.declare_opposition(
            at=self._now(at), channel=params["channel"], receipt=new_receipt()
        )
        self._save(espace, "opposition.declared")
        return {
            **outputs.dump(EspaceSummary.of(espace)),
            "receipt": espace.opposition_receipt,
        }

    # ------------------------------------------------------------ LC-4

    def open_automatically(
        self, espace_id: UUID, at: datetime | None = None
    ) -> EspaceSummary:
        """LC-4: open at the end of the window (the deadline job calls this)."""
        espace = self.get(espace_id)
        espace.open_automatically(at=self._now(at))
        self._save(espace, "espace.opened")
        return EspaceSummary.of(espace)

    # ------------------------------------------------------------ LC-5

    def activate(
        self, data: Mapping[str, Any], at: datetime | None = None
    ) -> EspaceSummary:
        """LC-5: activation with code + NIR + birth date + Vitale serial.

        A mismatch is saved (it counts towards the lock) and then refused.
        """
        params = schemas.load(schemas.ActivationSchema, data)
        oids = [params["oid"]] if data.get("oid") else [NIR_OID, NIA_OID]
        espace = self._find_ins(params["nir"], oids)
        salt = espace.code_salt or ""
        ok = espace.attempt_activation(
            at=self._now(at),
            code_digest=self.hashing.code_digest(params["code"], salt),
            nir=params["nir"],
            birth_date=params["birth_date"],
            vitale_digest=self.hashing.vitale_digest(params["vitale_serial"]),
            by=(
                ActorKind.REPRESENTATIVE
                if params["as_representative"]
                else ActorKind.HOLDER
            ),
        )
        self._save(espace, "activation.succeeded" if ok else "activation.failed")
        if not ok:
            locked = espace.activation_locked_until
            message = "the activation details do not match"
            if locked is not None:
                message += f"; activation is locked until {locked.isoformat()}"
            raise RuleViolation("LC-5", message)
        return EspaceSummary.of(espace)

    def reissue_code(self, espace_id: UUID, at: datetime | None = None) -> CodeIssued:
        """LC-5: a new provisional code voids the old one."""
        espace = self.get(espace_id)
        code, salt = new_activation_code(), new_salt()
        espace.reissue_code(
            at=self._now(at),
            code_digest=self.hashing.code_digest(code, salt),
            code_salt=salt,
        )
        self._save(espace, "code.reissued")
        return CodeIssued.of(espace, code, espace.notice_channel_available)

    # ------------------------------------------------------------ LC-7

    def close(self, espace_id: UUID, at: datetime | None = None) -> EspaceSummary:
        """LC-7: the holder closes the espace; LC-8: the archive starts."""
        return self.transition(CLOSE, espace_id, at)

    def declare_death(
        self, espace_id: UUID, data: Mapping[str, Any], at: datetime | None = None
    ) -> EspaceSummary:
        """LC-7: death closes the espace."""
        params = schemas.load(schemas.DeathSchema, data)
        day: date = params["date_of_death"]
        return self.transition(DEATH, espace_id, at, date_of_death=day)

    def suspend(
        self, espace_id: UUID, data: Mapping[str, Any], at: datetime | None = None
    ) -> EspaceSummary:
        """LC-7: the insurer suspends; closure six weeks after the holder is told."""
        params = schemas.load(schemas.SuspensionSchema, data)
        espace = self.get(espace_id)
        now = self._now(at)
        informed = params["informed_at"] or now
        if informed > now + timedelta(days=calendar.INFORMED_WITHIN_DAYS):
            raise InvalidInput(
                {
                    "informed_at": [
                        "the holder is told of a suspension within "
                        f"{calendar.INFORMED_WITHIN_DAYS} days of it"
                    ]
                }
            )
        espace.suspend(at=now, reason=params["reason"], informed_at=informed)
        self._save(espace, "espace.suspended")
        return EspaceSummary.of(espace)

    def object_to_suspension(
        self, espace_id: UUID, at: datetime | None = None
    ) -> EspaceSummary:
        """LC-7: the holder objects in time; the espace resumes."""
        return self.transition(SUSPENSION_OBJECTED, espace_id, at)

    def lift_suspension(
        self, espace_id: UUID, at: datetime | None = None
    ) -> EspaceSummary:
        """LC-7: the insurer lifts the suspension."""
        return self.transition(SUSPENSION_LIFTED, espace_id, at)

    def close_after_suspension(
        self, espace_id: UUID, at: datetime | None = None
    ) -> EspaceSummary:
        """LC-7: six weeks after the holder was told, without objection."""
        return self.transition(CLOSED_AFTER_SUSPENSION, espace_id, at)

    # ------------------------------------------------------------ LC-8/9/10/12

    def request_erasure(
        self, espace_id: UUID, at: datetime | None = None
    ) -> EspaceSummary:
        """LC-9: express erasure, carried out within three months."""
        return self.transition(ERASURE_REQUESTED, espace_id, at)

    def erase(
        self, espace_id: UUID, at: datetime | None = None, *, compact: bool = True
    ) -> EspaceSummary:
        """LC-8/LC-9/SEC-4: erase the espace, or finish an interrupted erasure.

        Three steps, each of which a crash can interrupt: the espace's
        ``Erased`` event and the erasure's record (:class:`Erasure`, under
        the system key) are saved together; the data key is destroyed and the
        sealed contents deleted; the record is completed, which purges the
        espace from every view. Called again, it does what is left: an
        espace still readable but erased has its key destroyed; an espace
        whose key is gone has its record completed. The deadlines view keeps
        the erasure due until the record is complete.

        An erasure already complete is a no-op that says so (``note``, with
        its date), and writes nothing; unless the key is back (an older
        keystore backup was restored, ADR-0028): then it is destroyed again,
        with the contents. With ``compact``, what it freed is then pushed
        out of the files (:meth:`compact`), once the views have purged it;
        a batch passes False and compacts once at its end.
        """
        summary, destroyed = self._erase(espace_id, at)
        if compact and destroyed:
            self.compact()
        return summary

    @holding_saves  # the views purge once, the key gone
    def _erase(
        self, espace_id: UUID, at: datetime | None
    ) -> tuple[EspaceSummary, bool]:
        """The erasure (see :meth:`erase`), and whether it destroyed anything."""
        espace = self._readable(espace_id)
        record = self._erasure(espace_id)
        now = self._now(at)
        if record is not None and record.completed_at is not None:
            return self._erased_before(espace_id, record.completed_at, now)
        version = 0
        if espace is not None:
            if espace.state is not State.ERASED:
                espace.erase(at=now)
            reason = (
                "holder-request"
                if espace.erasure_requested_at is not None
                else "archive-expired"
            )
            record = record or Erasure.begin(espace_id=espace_id, at=now, reason=reason)
            aggregates.save(self.app, espace, record)
            version = espace.version
            log.info("espace.erased", espace_id=str(espace_id), state=str(State.ERASED))
        elif record is None:
            record = Erasure.begin(
                espace_id=espace_id, at=now, reason="found-destroyed"
            )
        self._destroy(espace_id, now)
        record.complete(at=now)
        aggregates.save(self.app, record)
        log.info("erasure.completed", espace_id=str(espace_id))
        summary = EspaceSummary(
            espace_id=str(espace_id),
            state=State.ERASED,
            version=version,
            erased_on=now.isoformat(),
        )
        return summary, True

    def _erased_before(
        self, espace_id: UUID, erased_on: datetime, now: datetime
    ) -> tuple[EspaceSummary, bool]:
        """LC-9: an erasure already complete: nothing to write; the key is
        destroyed again if a restored keystore brought it back (SEC-4)."""
        note = f"already erased on {erased_on.isoformat()}: nothing was done"
        back = espace_id not in self.keys.shredded([espace_id])
        if back:
            self._destroy(espace_id, now)
            note = (
                f"already erased on {erased_on.isoformat()}; its key was back "
                "(an older keystore restored) and is destroyed again"
            )
            log.warning("erasure.reapplied", espace_id=str(espace_id))
        else:
            log.info("erasure.already_done", espace_id=str(espace_id))
        summary = EspaceSummary(
            espace_id=str(espace_id),
            state=State.ERASED,
            version=0,
            erased_on=erased_on.isoformat(),
            note=note,
        )
        return summary, back

    def _readable(self, espace_id: UUID) -> EspaceSante | None:
        """The espace, or None if its key is destroyed; NotFound if it never
        existed."""
        try:
            espace = aggregates.maybe(self.app, espace_id, EspaceSante, "espace")
        except RecordErased:
            return None
        if espace is None:
            raise NotFound(f"no espace {espace_id}")
        return espace

    def _erasure(self, espace_id: UUID) -> Erasure | None:
        return aggregates.maybe(
            self.app, erasure_id(espace_id), Erasure, "erasure record"
        )

    def compact(self) -> None:
        """SEC-4: push what erasures freed out of the files: the destroyed
        keys, the deleted contents, the purged view rows (the SQLite WAL,
        PostgreSQL's dead rows). Batch jobs call it once per run, after the
        views have caught up."""
        if not self.compaction.compact():
            log.warning("erasure.compact_incomplete")

    def _destroy(self, espace_id: UUID, at: datetime) -> None:
        """SEC-4: destroy the key, then delete the sealed document contents."""
        self.keys.shred(espace_id, at)
        if self.contents is not None:
            self.contents.purge_espace(espace_id)

    def reopen(self, espace_id: UUID, at: datetime | None = None) -> CodeIssued:
        """LC-10: a new espace; the archived content comes back; a new code."""
        espace = self.get(espace_id)
        code, salt = new_activation_code(), new_salt()
        espace.reopen(
            at=self._now(at),
            code_digest=self.hashing.code_digest(code, salt),
            code_salt=salt,
        )
        self._save(espace, "espace.reopened")
        return CodeIssued.of(espace, code, espace.notice_channel_available)

    def end_representation(
        self, espace_id: UUID, at: datetime | None = None
    ) -> EspaceSummary:
        """LC-12: at 18 the representative's mandate ends."""
        return self.transition(REPRESENTATION_ENDED, espace_id, at)


__all__ = ["LifecycleService"]
