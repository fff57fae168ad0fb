"""Use cases of the espace lifecycle (LC-1 to LC-12).

One method per use case: load, decide, one ``save()``, return plain data.
Input from outside goes through :mod:`espace.application.schemas` first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import RecordConflictError

from espace.application import delimited, schemas
from espace.application.delimited import BadLine
from espace.application.errors import Conflict, InvalidInput, NotFound, RecordErased
from espace.application.ports import Clock, ContentStore, KeyVault, holding_saves
from espace.application.security import (
    Hashing,
    new_activation_code,
    new_receipt,
    new_salt,
)
from espace.domain import calendar
from espace.domain.actors import ActorKind
from espace.domain.calendar import NonWorkingDay
from espace.domain.erasure import Erasure, erasure_id
from espace.domain.errors import EspaceError, RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.espace_state import Addressee, State
from espace.domain.identifiers import NIA_OID, NIR_OID

log = structlog.get_logger("espace.lifecycle")


@dataclass(frozen=True)
class EspaceSummary:
    """What a command returns: the espace's state, never its personal data."""

    espace_id: str
    state: State
    version: int
    opposition_deadline: str | None = None
    archive_until: str | None = None
    erasure_due_by: str | None = None
    suspension_closes_at: str | None = None

    @classmethod
    def of(cls, e: EspaceSante) -> EspaceSummary:
        """The summary of one espace as it stands."""
        return cls(
            espace_id=str(e.id),
            state=e.state,
            version=e.version,
            opposition_deadline=_iso(e.opposition_deadline),
            archive_until=_iso(e.archive_until),
            erasure_due_by=_iso(e.erasure_due_by),
            suspension_closes_at=_iso(e.suspension_closes_at),
        )

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON holds it, without the dates that do not apply."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class CodeIssued:
    """A provisional activation code to deliver (LC-1, LC-5, LC-10).

    The code exists in clear only here, on its way to the notice; the store
    keeps a salted keyed digest.
    """

    espace: EspaceSummary
    channel: str
    recipient: str
    activation_code: str
    addressee: Addressee
    code_expires_at: datetime | None = None
    opposition_deadline: datetime | None = None

    @classmethod
    def of(cls, espace: EspaceSante, code: str, channel: str) -> CodeIssued:
        """A code just issued for ``espace``, to deliver by ``channel`` (LC-5)."""
        return cls(
            EspaceSummary.of(espace),
            channel=channel,
            recipient=espace.notice_recipient,
            activation_code=code,
            addressee=espace.notice_addressee,
            code_expires_at=espace.code_expires_at,
            opposition_deadline=(
                espace.opposition_deadline if espace.state is State.NOTIFIED else None
            ),
        )

    def as_dict(self) -> dict[str, Any]:
        """What a command prints: the code, never the addressee."""
        return {
            **self.espace.as_dict(),
            "channel": self.channel,
            "recipient": self.recipient,
            "activation_code": self.activation_code,
        }

    def mail_record(self) -> dict[str, str]:
        """What the mail house needs to send this notice (LC-1, LC-2, LC-12):
        the addressee's name and addresses, the code, and the times in Paris
        time, the last day of the opposition window included. Personal
        data: it goes to the operator's file, never to a log."""
        deadline = self.opposition_deadline
        return {
            "espace_id": self.espace.espace_id,
            "recipient": self.recipient,
            "name": self.addressee.name,
            "channel": self.channel,
            "email": self.addressee.email or "",
            "postal_address": self.addressee.postal_address or "",
            "activation_code": self.activation_code,
            "code_expires_at": _paris(self.code_expires_at),
            "opposition_deadline": _paris(deadline),
            "last_day_to_oppose": (
                calendar.paris_date(deadline - _INSTANT).isoformat()
                if deadline is not None
                else ""
            ),
        }


MAIL_RECORD_FIELDS = (
    "espace_id",
    "recipient",
    "name",
    "channel",
    "email",
    "postal_address",
    "activation_code",
    "code_expires_at",
    "opposition_deadline",
    "last_day_to_oppose",
)
"""The columns of a mail-house file, in order (``CodeIssued.mail_record``)."""

_INSTANT = timedelta(microseconds=1)


def _paris(at: datetime | None) -> str:
    return at.astimezone(calendar.PARIS).isoformat() if at is not None else ""


@dataclass
class RowRejected:
    """One feed row refused, by its line, with each field's errors (LC-1)."""

    line: int
    fields: dict[str, list[str]]


@dataclass
class AffiliationReport:
    """The outcome of an affiliation feed: nothing is lost, nothing is doubled."""

    created: int = 0
    already_affiliated: int = 0
    rejected: list[RowRejected] = field(default_factory=list)
    events: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON holds it."""
        return {
            "created": self.created,
            "already_affiliated": self.already_affiliated,
            "rejected": [{"line": r.line, "fields": r.fields} for r in self.rejected],
            "events": self.events,
        }


FEED_REQUIRED = (
    "nir",
    "birth_name",
    "first_names",
    "birth_date",
    "sex",
    "birthplace_code",
    "vitale_serial",
)
"""LC-1: the columns every affiliation feed has (the others are optional)."""


def read_feed(
    stream: IO[Any], delimiter: str = ","
) -> Iterator[tuple[int, dict[str, str] | BadLine]]:
    """LC-1: (line number, row) from an affiliation feed (CSV with a header,
    UTF-8; a binary stream is decoded line by line, ADR-0017). The header is
    checked at once."""
    return delimited.read_records(stream, delimiter=delimiter, required=FEED_REQUIRED)


class LifecycleService:
    """The espace lifecycle, from the affiliation feed to erasure."""

    def __init__(
        self,
        app: Application[UUID],
        keys: KeyVault,
        hashing: Hashing,
        clock: Clock,
        *,
        non_working_day: NonWorkingDay | None = None,
        contents: ContentStore | None = None,
    ) -> None:
        self.app = app
        self.contents = contents
        self.keys = keys
        self.hashing = hashing
        self.clock = clock
        self.non_working_day = non_working_day

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
            espace: EspaceSante = self.app.repository.get(
                espace_id, projector_func=_project
            )
        except AggregateNotFoundError:
            raise NotFound(f"no espace {espace_id}") from None
        except RecordErased:
            raise NotFound(f"espace {espace_id} was erased (LC-9, SEC-4)") from None
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

    # ------------------------------------------------------------ LC-1

    def affiliate(
        self, data: Mapping[str, Any], at: datetime | None = None
    ) -> EspaceSummary:
        """LC-1: create one espace from one feed row. Conflict if it exists."""
        report = self.affiliate_feed([(1, data)], at=at)
        if report.rejected:
            raise InvalidInput(report.rejected[0].fields)
        ins = schemas.load(schemas.AffiliationSchema, data)["ins"]
        espace_id = self.hashing.espace_id(ins.nir, ins.oid)
        if report.already_affiliated:
            raise Conflict(f"espace {espace_id} already exists (LC-1)")
        return self.summary(espace_id)

    @holding_saves
    def affiliate_feed(
        self,
        rows: Iterable[tuple[int, Mapping[str, Any] | BadLine]],
        at: datetime | None = None,
        batch_size: int = 500,
        progress: Callable[[int], None] | None = None,
    ) -> AffiliationReport:
        """LC-1: stream a feed of (line number, row). Bad rows (and lines that
        could not be read, :class:`BadLine`) are reported with their line and
        reason and do not stop the others; a row already affiliated (same
        INS) is counted, not created twice. A run is not all-or-nothing: run
        the corrected file again and only the missing espaces are created.
        """
        report = AffiliationReport()
        for batch in _batches(rows, batch_size):
            now = self._now(at)
            espaces: list[EspaceSante] = []
            seen: dict[UUID, int] = {}
            for line, row in batch:
                if isinstance(row, BadLine):
                    report.rejected.append(RowRejected(line, {"_row": [row.reason]}))
                    continue
                try:
                    data = schemas.load(schemas.AffiliationSchema, row)
                    espace_id = self.hashing.espace_id(data["ins"].nir, data["ins"].oid)
                    if espace_id in seen:
                        report.already_affiliated += 1
                        continue
                    espace = EspaceSante.affiliate(
                        espace_id=espace_id,
                        ins=data["ins"],
                        vitale_digest=self.hashing.vitale_digest(data["vitale_serial"]),
                        at=now,
                        email=data["email"],
                        postal_address=data["postal_address"],
                        representative=data["representative"],
                        legacy_dmp_ref=data["legacy_dmp_ref"],
                    )
                except InvalidInput as exc:
                    report.rejected.append(RowRejected(line, exc.fields))
                    continue
                except RuleViolation as exc:
                    report.rejected.append(RowRejected(line, {exc.rule: [exc.message]}))
                    continue
                seen[espace_id] = line
                espaces.append(espace)
            self._save_new(espaces, now, report, seen)
            if progress is not None:
                progress(len(batch))
        log.info(
            "affiliation.done",
            created=report.created,
            already_affiliated=report.already_affiliated,
            rejected=len(report.rejected),
        )
        return report

    def _save_new(
        self,
        espaces: Sequence[EspaceSante],
        at: datetime,
        report: AffiliationReport,
        lines: Mapping[UUID, int],
    ) -> None:
        if not espaces:
            return
        known = self.keys.ensure_keys([e.id for e in espaces], at)
        erased = self.keys.shredded(known)
        # A person already affiliated (a feed run again, a repeated row) has
        # a key; leave them out before saving, so that the batch stays one
        # transaction instead of falling back to one row per transaction.
        repeats = {i for i in known - erased if i in self.app.repository}
        fresh = [e for e in espaces if e.id not in erased and e.id not in repeats]
        lost: set[UUID] = set()
        saved = self._save_batch(fresh, lost)
        erased |= lost
        report.created += len(saved)
        report.already_affiliated += len(espaces) - len(saved) - len(erased)
        report.events += sum(saved.values())
        for espace_id in erased:
            report.rejected.append(
                RowRejected(
                    lines[espace_id],
                    {
                        "LC-9": [
                            "this person's espace was erased; its id cannot be reused"
                        ]
                    },
                )
            )

    def _save_batch(
        self, espaces: Sequence[EspaceSante], erased: set[UUID] | None = None
    ) -> dict[UUID, int]:
        """Save many aggregates in one transaction; if any conflicts (a re-run
        feed, a concurrent writer) or belongs to an erased espace (its key is
        destroyed), save them one by one and leave those out, adding the
        erased ones to ``erased``. Returns the events saved per espace.
        """
        pending = [(e.id, e.collect_events()) for e in espaces]
        try:
            self.app.save(*[event for _, events in pending for event in events])
        except (RecordConflictError, NotFound):
            saved: dict[UUID, int] = {}
            for espace_id, events in pending:
                try:
                    self.app.save(*events)
                except RecordConflictError:
                    continue
                except NotFound:
                    if erased is not None:
                        erased.add(espace_id)
                    continue
                saved[espace_id] = len(events)
            return saved
        return {espace_id: len(events) for espace_id, events in pending}

    # ------------------------------------------------------------ LC-1/2

    def send_notice(self, espace_id: UUID, at: datetime | None = None) -> CodeIssued:
        """LC-1/LC-2: send the notice and its provisional code; the window starts."""
        espace = self.get(espace_id)
        now = self._now(at)
        code, salt = new_activation_code(), new_salt()
        espace.send_notice(
            at=now,
            code_digest=self.hashing.code_digest(code, salt),
            code_salt=salt,
            non_working_day=self.non_working_day,
        )
        self._save(espace, "notice.sent")
        return CodeIssued.of(espace, code, espace.notice_channel or "post")

    def send_notices(
        self, espace_ids: Iterable[UUID], at: datetime | None = None
    ) -> Iterator[CodeIssued]:
        """Send many notices, saved in batches; yields the codes to deliver.

        Only notices actually saved are yielded: an espace changed meanwhile
        by another process, or no longer awaiting its notice, is left out.
        """
        for batch in _batches(espace_ids, 100):
            due = [e for e in map(self.get, batch) if e.state is State.AFFILIATED]
            now = self._now(at)
            issued: dict[UUID, CodeIssued] = {}
            espaces = []
            for espace in due:
                code, salt = new_activation_code(), new_salt()
                espace.send_notice(
                    at=now,
                    code_digest=self.hashing.code_digest(code, salt),
                    code_salt=salt,
                    non_working_day=self.non_working_day,
                )
                espaces.append(espace)
                issued[espace.id] = CodeIssued.of(
                    espace, code, espace.notice_channel or "post"
                )
            saved = self._save_batch(espaces)
            for espace_id in saved:
                log.info(
                    "notice.sent", espace_id=str(espace_id), state=str(State.NOTIFIED)
                )
            yield from (issued[i] for i in issued if i in saved)

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
            **EspaceSummary.of(espace).as_dict(),
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
        return self._simple(espace_id, "espace.closed", lambda e, t: e.close(at=t), at)

    def declare_death(
        self, espace_id: UUID, data: Mapping[str, Any], at: datetime | None = None
    ) -> EspaceSummary:
        """LC-7: death closes the espace."""
        params = schemas.load(schemas.DeathSchema, data)
        day: date = params["date_of_death"]
        return self._simple(
            espace_id,
            "death.declared",
            lambda e, t: e.declare_death(at=t, date_of_death=day),
            at,
        )

    def suspend(
        self, espace_id: UUID, data: Mapping[str, Any], at: datetime | None = None
    ) -> EspaceSummary:
        """LC-7: the insurer suspends; closure six weeks after the holder is told."""
        params = schemas.load(schemas.SuspensionSchema, data)

        def decide(e: EspaceSante, t: datetime) -> None:
            informed = params["informed_at"] or t
            if informed > t + timedelta(days=calendar.INFORMED_WITHIN_DAYS):
                raise InvalidInput(
                    {
                        "informed_at": [
                            "the holder is told of a suspension within "
                            f"{calendar.INFORMED_WITHIN_DAYS} days of it"
                        ]
                    }
                )
            e.suspend(at=t, reason=params["reason"], informed_at=informed)

        return self._simple(espace_id, "espace.suspended", decide, at)

    def object_to_suspension(
        self, espace_id: UUID, at: datetime | None = None
    ) -> EspaceSummary:
        """LC-7: the holder objects in time; the espace resumes."""
        return self._simple(
            espace_id,
            "suspension.objected",
            lambda e, t: e.object_to_suspension(at=t),
            at,
        )

    def lift_suspension(
        self, espace_id: UUID, at: datetime | None = None
    ) -> EspaceSummary:
        """LC-7: the insurer lifts the suspension."""
        return self._simple(
            espace_id, "suspension.lifted", lambda e, t: e.lift_suspension(at=t), at
        )

    def close_after_suspension(
        self, espace_id: UUID, at: datetime | None = None
    ) -> EspaceSummary:
        """LC-7: six weeks after the holder was told, without objection."""
        return self._simple(
            espace_id,
            "espace.closed",
            lambda e, t: e.close_after_suspension(at=t),
            at,
        )

    # ------------------------------------------------------------ LC-8/9/10/12

    def request_erasure(
        self, espace_id: UUID, at: datetime | None = None
    ) -> EspaceSummary:
        """LC-9: express erasure, carried out within three months."""
        return self._simple(
            espace_id, "erasure.requested", lambda e, t: e.request_erasure(at=t), at
        )

    @holding_saves  # the views purge once, the key gone
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
        the erasure due until the record is complete. An erasure already
        complete is refused (LC-9), naming its date.
        """
        espace = self._readable(espace_id)
        record = self._erasure(espace_id)
        now = self._now(at)
        if record is not None and record.completed_at is not None:
            record.complete(at=now)  # refused, with the date
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
            self._save_together(espace, record)
            version = espace.version
            log.info("espace.erased", espace_id=str(espace_id), state=str(State.ERASED))
        elif record is None:
            record = Erasure.begin(
                espace_id=espace_id, at=now, reason="found-destroyed"
            )
        self._destroy(espace_id, now)
        record.complete(at=now)
        self._save_together(record)
        log.info("erasure.completed", espace_id=str(espace_id))
        if compact:
            self.compact_keys()
        return EspaceSummary(
            espace_id=str(espace_id), state=State.ERASED, version=version
        )

    def _readable(self, espace_id: UUID) -> EspaceSante | None:
        """The espace, or None if its key is destroyed; NotFound if it never
        existed."""
        try:
            espace: EspaceSante = self.app.repository.get(
                espace_id, projector_func=_project
            )
        except AggregateNotFoundError:
            raise NotFound(f"no espace {espace_id}") from None
        except RecordErased:
            return None
        return espace

    def _erasure(self, espace_id: UUID) -> Erasure | None:
        try:
            record: Erasure = self.app.repository.get(
                erasure_id(espace_id), projector_func=_project
            )
        except AggregateNotFoundError:
            return None
        return record

    def _save_together(self, *aggregates: Any) -> None:
        try:
            self.app.save(*aggregates)
        except RecordConflictError:
            raise Conflict("changed by someone else meanwhile; try again") from None

    def compact_keys(self) -> None:
        """SEC-4: push destroyed key material out of the database files (the
        SQLite WAL, PostgreSQL's dead rows). Batch jobs call it once per run."""
        if not self.keys.compact():
            log.warning("keys.compact_incomplete")

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
        return self._simple(
            espace_id,
            "representation.ended",
            lambda e, t: e.end_representation(at=t),
            at,
        )

    # ------------------------------------------------------------ plumbing

    def _simple(
        self,
        espace_id: UUID,
        what: str,
        decide: Callable[[EspaceSante, datetime], None],
        at: datetime | None,
    ) -> EspaceSummary:
        espace = self.get(espace_id)
        decide(espace, self._now(at))
        self._save(espace, what)
        return EspaceSummary.of(espace)

    def _now(self, at: datetime | None) -> datetime:
        """The time of the command; call it after the load (see
        :func:`schemas.command_time`)."""
        return schemas.command_time(at, self.clock)

    def _save(self, espace: EspaceSante, what: str) -> None:
        try:
            self.app.save(espace)
        except RecordConflictError:
            raise Conflict(
                f"espace {espace.id} was changed by someone else; try again"
            ) from None
        log.info(what, espace_id=str(espace.id), state=str(espace.state))


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    """Replay events: the library's default checks a runtime protocol per
    event, which costs half the load time (architecture.md)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


__all__ = [
    "AffiliationReport",
    "CodeIssued",
    "EspaceError",
    "EspaceSummary",
    "LifecycleService",
    "RowRejected",
]
