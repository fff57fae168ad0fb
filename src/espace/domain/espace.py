"""The EspaceSante aggregate: one per insured person, rules LC-1 to LC-12.

Commands take the time of the command as ``at`` (the domain never reads the
clock) and run their guards before any event is triggered. Every deadline is
computed by a pure function of :mod:`espace.domain.calendar` and carried on the
event that starts it, so a replay gives the same answer whatever the policy of
the day, and a command after a deadline is refused whether or not a
scheduler ran.

Personal data (the INS traits, contact, representative) sits only in events,
which the store encrypts under the espace's own key.

The states and value objects are in :mod:`espace.domain.espace_state`. This
module stays over 500 lines because it is one aggregate class: its events are
nested in it and stored by topic (``espace.domain.espace:EspaceSante.Opened``),
so neither the class nor its events can move, and splitting its commands over
mixins would scatter one life cycle (LC-1 to LC-12) across files.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate

from espace.domain import calendar
from espace.domain.actors import ActorKind
from espace.domain.errors import RuleViolation
from espace.domain.espace_state import (
    ACTIVATION_CODE_VALIDITY_DAYS,
    ACTIVATION_LOCK_MINUTES,
    LIVE_STATES,
    MAX_ACTIVATION_FAILURES,
    NO_FAILURES,
    SPELLED_OUT,
    Addressee,
    Archive,
    FailedActivations,
    ProvisionalCode,
    State,
    Suspension,
)
from espace.domain.identifiers import Ins


class EspaceSante(Aggregate):
    """The digital health space of one insured person.

    Commands check their rules and trigger events; only :meth:`apply`, one
    handler per event, changes the espace (ADR-0026).
    """

    # ------------------------------------------------------------------ events

    class Event(Aggregate.Event):
        """Every event of an espace: data only; the espace applies it."""

        def apply(self, aggregate: Any) -> None:
            """Hand the event to the espace, which changes itself: the
            handler :meth:`EspaceSante.apply` registers for its class
            (ADR-0026)."""
            _handler_of(type(self))(aggregate, self)

    class Affiliated(Aggregate.Created, Event):
        """LC-1: created from the insurer's affiliation feed."""

        nir: str
        oid: str
        birth_name: str
        first_names: str
        birth_date: date
        sex: str
        birthplace_code: str
        vitale_digest: str
        email: str | None
        postal_address: str | None
        representative: dict[str, str] | None
        legacy_dmp_ref: str | None

    class NoticeSent(Event):
        """LC-1/LC-2: the notice is sent; the opposition window starts."""

        channel: str
        recipient: str
        opposition_deadline: datetime
        code_digest: str
        code_salt: str
        code_expires_at: datetime

    class OppositionDeclared(Event):
        """LC-3: the person opposed inside the window; a receipt is issued."""

        channel: str
        receipt: str

    class Opened(Event):
        """LC-4/LC-5: the espace and its DMP open."""

        automatic: bool

    class LegacyDmpMerged(Event):
        """LC-6: the pre-existing DMP is merged into the espace."""

        legacy_dmp_ref: str

    class ActivationFailed(Event):
        """LC-5: details did not match; counted towards the lock."""

        failures: int
        locked_until: datetime | None

    class Activated(Event):
        """LC-5: the holder activated the espace."""

        by: str

    class CodeReissued(Event):
        """LC-5: a new provisional code; the old one is void."""

        code_digest: str
        code_salt: str
        code_expires_at: datetime

    class Suspended(Event):
        """LC-7: the insurer suspended the espace (fraud, malfunction)."""

        reason: str
        informed_at: datetime
        closes_at: datetime

    class SuspensionEnded(Event):
        """LC-7: the holder objected in time, or the insurer lifted it."""

        by: str

    class Closed(Event):
        """LC-7/LC-8: closed; the content is archived for ten years."""

        reason: str
        archive_until: datetime

    class DeathDeclared(Event):
        """LC-7/LC-11: the holder died."""

        date_of_death: date

    class ErasureRequested(Event):
        """LC-9: express erasure asked; due within three months."""

        due_by: datetime

    class Erased(Event):
        """LC-8/LC-9: the content is erased; the key is destroyed next."""

        reason: str

    class Reopened(Event):
        """LC-10: a new espace for the same person; the archive comes back."""

        code_digest: str
        code_salt: str
        code_expires_at: datetime

    class RepresentationEnded(Event):
        """LC-12: the holder came of age; the representative's mandate ends.

        An espace the representative had activated goes back to open: the
        now-adult holder activates it with a code of their own (ADR-0007).
        """

    # ------------------------------------------------------------- creation

    @classmethod
    def affiliate(
        cls,
        *,
        espace_id: UUID,
        ins: Ins,
        vitale_digest: str,
        at: datetime,
        email: str | None = None,
        postal_address: str | None = None,
        representative: dict[str, str] | None = None,
        legacy_dmp_ref: str | None = None,
    ) -> EspaceSante:
        """LC-1 (and LC-12 for minors): create the espace from the feed."""
        _aware(at)
        if ins.birth_date > calendar.paris_date(at):
            raise RuleViolation("LC-1", "the birth date is in the future")
        minor = calendar.is_minor(ins.birth_date, at)
        if minor and not representative:
            raise RuleViolation(
                "LC-12", "a minor's espace needs a legal representative"
            )
        if (
            not email
            and not postal_address
            and not (
                representative
                and (
                    representative.get("email") or representative.get("postal_address")
                )
            )
        ):
            raise RuleViolation(
                "LC-1", "the notice needs an e-mail address or a postal address"
            )
        return cls._create(
            cls.Affiliated,
            id=espace_id,
            timestamp=at,
            nir=ins.nir,
            oid=ins.oid,
            birth_name=ins.birth_name,
            first_names=ins.first_names,
            birth_date=ins.birth_date,
            sex=ins.sex,
            birthplace_code=ins.birthplace_code,
            vitale_digest=vitale_digest,
            email=email,
            postal_address=postal_address,
            representative=representative,
            legacy_dmp_ref=legacy_dmp_ref,
        )

    # ------------------------------------------------------------- mutation

    @singledispatchmethod
    def apply(self, event: EspaceSante.Event) -> None:
        """How the espace changes with one of its events: one handler per
        event class, registered below (ADR-0026). Only these change it."""

    @apply.register
    def _(self, event: EspaceSante.Affiliated) -> None:
        self.ins = Ins(
            event.nir,
            event.oid,
            event.birth_name,
            event.first_names,
            event.birth_date,
            event.sex,
            event.birthplace_code,
        )
        self.vitale_digest = event.vitale_digest
        self.email = event.email
        self.postal_address = event.postal_address
        self.representative = event.representative
        self.legacy_dmp_ref = event.legacy_dmp_ref
        self.state = State.AFFILIATED
        self.affiliated_at: datetime = self.created_on
        self.notice_sent_at: datetime | None = None
        self.notice_channel: str | None = None
        self.opposition_deadline: datetime | None = None
        self.opposed_at: datetime | None = None
        self.opposition_receipt: str | None = None
        self.ever_opposed = False
        self.opened_at: datetime | None = None
        self.activated_at: datetime | None = None
        self.activated_by: str | None = None
        self.legacy_dmp_merged = False
        self.code: ProvisionalCode | None = None
        self.failures = NO_FAILURES
        self.suspension: Suspension | None = None
        self.archive: Archive | None = None
        self.date_of_death: date | None = None
        self.erasure_requested_at: datetime | None = None
        self.erasure_due_by: datetime | None = None
        self.erased_at: datetime | None = None
        self.reopened_at: datetime | None = None

    @apply.register
    def _(self, event: EspaceSante.NoticeSent) -> None:
        self.state = State.NOTIFIED
        self.notice_sent_at = event.timestamp
        self.notice_channel = event.channel
        self.opposition_deadline = event.opposition_deadline
        self.code = ProvisionalCode.issued_by(event)

    @apply.register
    def _(self, event: EspaceSante.OppositionDeclared) -> None:
        self.state = State.OPPOSED
        self.opposed_at = event.timestamp
        self.opposition_receipt = event.receipt
        self.ever_opposed = True
        self.code = None

    @apply.register
    def _(self, event: EspaceSante.Opened) -> None:
        self.state = State.OPEN
        self.opened_at = event.timestamp

    @apply.register
    def _(self, event: EspaceSante.LegacyDmpMerged) -> None:
        self.legacy_dmp_merged = True

    @apply.register
    def _(self, event: EspaceSante.ActivationFailed) -> None:
        self.failures = FailedActivations(event.failures, event.locked_until)

    @apply.register
    def _(self, event: EspaceSante.Activated) -> None:
        self.state = State.ACTIVE
        self.activated_at = event.timestamp
        self.activated_by = event.by
        self.failures = NO_FAILURES
        self.code = None

    @apply.register
    def _(self, event: EspaceSante.CodeReissued) -> None:
        self.code = ProvisionalCode.issued_by(event)
        self.failures = NO_FAILURES

    @apply.register
    def _(self, event: EspaceSante.Suspended) -> None:
        self.suspension = Suspension(
            resume_state=self.state,
            since=event.timestamp,
            reason=event.reason,
            closes_at=event.closes_at,
        )
        self.state = State.SUSPENDED

    @apply.register
    def _(self, event: EspaceSante.SuspensionEnded) -> None:
        self.state = self.suspension.resume_state if self.suspension else State.OPEN
        self.suspension = None

    @apply.register
    def _(self, event: EspaceSante.Closed) -> None:
        self.state = State.CLOSED
        self.archive = Archive(
            closed_at=event.timestamp, reason=event.reason, until=event.archive_until
        )
        self.suspension = None
        self.code = None

    @apply.register
    def _(self, event: EspaceSante.DeathDeclared) -> None:
        self.date_of_death = event.date_of_death

    @apply.register
    def _(self, event: EspaceSante.ErasureRequested) -> None:
        self.erasure_requested_at = event.timestamp
        self.erasure_due_by = event.due_by

    @apply.register
    def _(self, event: EspaceSante.Erased) -> None:
        self.state = State.ERASED
        self.erased_at = event.timestamp

    @apply.register
    def _(self, event: EspaceSante.Reopened) -> None:
        self.state = State.OPEN
        self.opened_at = event.timestamp
        self.reopened_at = event.timestamp
        self.archive = None
        self.opposed_at = None
        self.failures = NO_FAILURES
        self.code = ProvisionalCode.issued_by(event)

    @apply.register
    def _(self, event: EspaceSante.RepresentationEnded) -> None:
        self.representative = None
        if self.state is State.ACTIVE and self.activated_by == ActorKind.REPRESENTATIVE:
            self.state = State.OPEN
            self.activated_by = None

    # ------------------------------------------------------------- queries

    @property
    def code_digest(self) -> str | None:
        """LC-5: the keyed digest of the code in force, if any."""
        return self.code.digest if self.code else None

    @property
    def code_salt(self) -> str | None:
        """LC-5: the salt of the code in force, if any."""
        return self.code.salt if self.code else None

    @property
    def code_expires_at(self) -> datetime | None:
        """LC-5: when the code in force expires, if there is one."""
        return self.code.expires_at if self.code else None

    @property
    def activation_failures(self) -> int:
        """LC-5: consecutive failed activations."""
        return self.failures.count

    @property
    def activation_locked_until(self) -> datetime | None:
        """LC-5: the end of the lock after repeated failures, if one was set."""
        return self.failures.locked_until

    @property
    def resume_state(self) -> State | None:
        """LC-7: the state a suspended espace goes back to."""
        return self.suspension.resume_state if self.suspension else None

    @property
    def suspended_at(self) -> datetime | None:
        """LC-7: when the suspension in force began."""
        return self.suspension.since if self.suspension else None

    @property
    def suspension_reason(self) -> str | None:
        """LC-7: why the espace is suspended."""
        return self.suspension.reason if self.suspension else None

    @property
    def suspension_closes_at(self) -> datetime | None:
        """LC-7: when a suspended espace closes without the holder's objection."""
        return self.suspension.closes_at if self.suspension else None

    @property
    def closed_at(self) -> datetime | None:
        """LC-7: when the espace was closed (until it is reopened)."""
        return self.archive.closed_at if self.archive else None

    @property
    def closure_reason(self) -> str | None:
        """LC-7: why it was closed: holder, death, suspension or erasure."""
        return self.archive.reason if self.archive else None

    @property
    def archive_until(self) -> datetime | None:
        """LC-8: the end of the ten-year archive of a closed espace."""
        return self.archive.until if self.archive else None

    def flat_state(self) -> dict[str, Any]:
        """The espace's public attributes, in the order they were set, each
        value object spelled out as the flat attributes that read it
        (:data:`SPELLED_OUT`): the same names and values whether or not the
        value object is there."""
        return {
            flat: value if flat == name else getattr(self, flat)
            for name, value in vars(self).items()
            if not name.startswith("_")
            for flat in SPELLED_OUT.get(name, (name,))
        }

    @property
    def is_minor_represented(self) -> bool:
        """LC-12: a minor whose legal representative acts for them."""
        return self.representative is not None

    @property
    def notice_recipient(self) -> str:
        """Who the notice is written to: the representative of a minor (LC-12)."""
        return ActorKind.REPRESENTATIVE if self.representative else ActorKind.HOLDER

    @property
    def notice_addressee(self) -> Addressee:
        """LC-1, LC-12: whom a notice is addressed to, and the addresses the
        feed gave for them: a represented person's notice goes to the
        representative, at the person's postal address if the
        representative's is not known."""
        if self.representative:
            rep = self.representative
            return Addressee(
                name=rep.get("name", ""),
                email=rep.get("email"),
                postal_address=rep.get("postal_address") or self.postal_address,
            )
        return Addressee(
            name=f"{self.ins.first_names} {self.ins.birth_name}",
            email=self.email,
            postal_address=self.postal_address,
        )

    @property
    def notice_channel_available(self) -> str:
        """E-mail when an address is known, else post (LC-1)."""
        contact = self.representative or {}
        if contact.get("email") or (not self.representative and self.email):
            return "email"
        return "post"

    # ------------------------------------------------------------- commands

    def send_notice(
        self,
        *,
        at: datetime,
        code_digest: str,
        code_salt: str,
        non_working_day: calendar.NonWorkingDay | None = None,
    ) -> None:
        """LC-1/LC-2: send the notice with a provisional code; the window starts."""
        self._guard(at)
        if self.state is not State.AFFILIATED:
            raise RuleViolation("LC-1", f"the notice was already sent ({self.state})")
        self.trigger_event(
            self.NoticeSent,
            timestamp=at,
            channel=self.notice_channel_available,
            recipient=self.notice_recipient,
            opposition_deadline=calendar.opposition_deadline(at, non_working_day),
            code_digest=code_digest,
            code_salt=code_salt,
            code_expires_at=calendar.days_after(at, ACTIVATION_CODE_VALIDITY_DAYS),
        )

    def declare_opposition(self, *, at: datetime, channel: str, receipt: str) -> None:
        """LC-3: opposition inside the window; refused after it."""
        self._guard(at)
        if self.state is State.OPPOSED:
            raise RuleViolation("LC-3", "the opposition was already recorded")
        if self.state not in (State.AFFILIATED, State.NOTIFIED):
            raise RuleViolation(
                "LC-3",
                f"the espace is {self.state}: opposition is only possible before it "
                "opens; the holder can close it instead (LC-7)",
            )
        if self.opposition_deadline is not None and at >= self.opposition_deadline:
            raise RuleViolation(
                "LC-3",
                "the opposition window closed at "
                f"{self.opposition_deadline.isoformat()}; the holder can close the "
                "espace instead (LC-7)",
            )
        self.trigger_event(
            self.OppositionDeclared, timestamp=at, channel=channel, receipt=receipt
        )

    def open_automatically(self, *, at: datetime) -> None:
        """LC-4: no opposition by the end of the window: the espace opens."""
        self._guard(at)
        if self.state is not State.NOTIFIED:
            raise RuleViolation("LC-4", f"only a notified espace opens ({self.state})")
        assert self.opposition_deadline is not None  # set with NOTIFIED
        if at < self.opposition_deadline:
            raise RuleViolation(
                "LC-4",
                "the opposition window runs until "
                f"{self.opposition_deadline.isoformat()}",
            )
        self._open(at, automatic=True)

    def attempt_activation(
        self,
        *,
        at: datetime,
        code_digest: str,
        nir: str,
        birth_date: date,
        vitale_digest: str,
        by: str = ActorKind.HOLDER,
    ) -> bool:
        """LC-5: activate when code, NIR, birth date and Vitale serial all match.

        Returns whether it succeeded. A mismatch is recorded as an
        ``ActivationFailed`` event (which the caller must save) and counts
        towards the lock; which detail mismatched is never revealed.
        """
        self._guard(at)
        if self.state not in (State.NOTIFIED, State.OPEN):
            raise RuleViolation(
                "LC-5", f"an espace that is {self.state} cannot be activated"
            )
        locked_until = self.failures.locked_until
        if locked_until is not None and at < locked_until:
            raise RuleViolation(
                "LC-5",
                "activation is locked after repeated failures until "
                f"{locked_until.isoformat()}",
            )
        code = self.code
        if code is None:
            raise RuleViolation(
                "LC-5", "no provisional code is valid: ask for a new one"
            )
        if at >= code.expires_at:
            raise RuleViolation(
                "LC-5", "the provisional code expired: ask for a new one"
            )
        if by == ActorKind.REPRESENTATIVE and self.representative is None:
            raise RuleViolation("LC-12", "this espace has no legal representative")
        matches = (
            hmac.compare_digest(code_digest, code.digest)
            & hmac.compare_digest(nir, self.ins.nir)
            & (birth_date == self.ins.birth_date)
            & hmac.compare_digest(vitale_digest, self.vitale_digest)
        )
        if not matches:
            failures = 1 if locked_until else self.failures.count + 1
            self.trigger_event(
                self.ActivationFailed,
                timestamp=at,
                failures=failures,
                locked_until=(
                    calendar.minutes_after(at, ACTIVATION_LOCK_MINUTES)
                    if failures >= MAX_ACTIVATION_FAILURES
                    else None
                ),
            )
            return False
        if self.state is State.NOTIFIED:
            self._open(at, automatic=False)
        self.trigger_event(self.Activated, timestamp=at, by=by)
        return True

    def reissue_code(self, *, at: datetime, code_digest: str, code_salt: str) -> None:
        """LC-5: a new provisional code voids the old one."""
        self._guard(at)
        if self.state not in (State.NOTIFIED, State.OPEN):
            raise RuleViolation(
                "LC-5", f"no code can be issued for an espace that is {self.state}"
            )
        self.trigger_event(
            self.CodeReissued,
            timestamp=at,
            code_digest=code_digest,
            code_salt=code_salt,
            code_expires_at=calendar.days_after(at, ACTIVATION_CODE_VALIDITY_DAYS),
        )

    def close(self, *, at: datetime, reason: str = "holder") -> None:
        """LC-7: the holder closes the espace at any time; LC-8: archive starts."""
        self._guard(at)
        if self.state not in LIVE_STATES:
            raise RuleViolation(
                "LC-7", f"only an open espace can be closed ({self.state})"
            )
        self._close(at, reason)

    def declare_death(self, *, at: datetime, date_of_death: date) -> None:
        """LC-7: death closes the espace; LC-11: heirs may read the archive."""
        self._guard(at)
        if self.date_of_death is not None:
            raise RuleViolation("LC-7", "the death was already declared")
        if self.state is State.ERASED:
            raise RuleViolation("LC-8", "the espace was erased")
        if date_of_death > calendar.paris_date(at):
            raise RuleViolation("LC-7", "the date of death is in the future")
        if date_of_death < self.ins.birth_date:
            raise RuleViolation("LC-7", "the date of death is before the birth date")
        self.trigger_event(
            self.DeathDeclared, timestamp=at, date_of_death=date_of_death
        )
        if self.state in LIVE_STATES or self.state in (
            State.AFFILIATED,
            State.NOTIFIED,
        ):
            self._close(at, "death")

    def suspend(self, *, at: datetime, reason: str, informed_at: datetime) -> None:
        """LC-7: the insurer suspends; it closes six weeks after the holder is told."""
        self._guard(at)
        _aware(informed_at)
        if self.state not in (State.OPEN, State.ACTIVE):
            raise RuleViolation(
                "LC-7", f"only an open espace can be suspended ({self.state})"
            )
        if not reason.strip():
            raise RuleViolation("LC-7", "a suspension needs a reason")
        if informed_at < at:
            raise RuleViolation(
                "LC-7", "the holder cannot be informed before the suspension"
            )
        self.trigger_event(
            self.Suspended,
            timestamp=at,
            reason=reason,
            informed_at=informed_at,
            closes_at=calendar.suspension_deadline(informed_at),
        )

    def object_to_suspension(self, *, at: datetime) -> None:
        """LC-7: the holder objects before the suspension turns into closure."""
        self._guard(at)
        if self.state is not State.SUSPENDED:
            raise RuleViolation("LC-7", f"the espace is not suspended ({self.state})")
        assert self.suspension is not None  # set with SUSPENDED
        if at >= self.suspension.closes_at:
            raise RuleViolation(
                "LC-7",
                "the objection period ended at "
                f"{self.suspension.closes_at.isoformat()}",
            )
        self.trigger_event(self.SuspensionEnded, timestamp=at, by=ActorKind.HOLDER)

    def lift_suspension(self, *, at: datetime) -> None:
        """LC-7: the insurer lifts its own suspension."""
        self._guard(at)
        if self.state is not State.SUSPENDED:
            raise RuleViolation("LC-7", f"the espace is not suspended ({self.state})")
        self.trigger_event(self.SuspensionEnded, timestamp=at, by="insurer")

    def close_after_suspension(self, *, at: datetime) -> None:
        """LC-7: no objection six weeks after the holder was informed: close."""
        self._guard(at)
        if self.state is not State.SUSPENDED:
            raise RuleViolation("LC-7", f"the espace is not suspended ({self.state})")
        assert self.suspension is not None  # set with SUSPENDED
        if at < self.suspension.closes_at:
            raise RuleViolation(
                "LC-7",
                f"the holder may object until {self.suspension.closes_at.isoformat()}",
            )
        self._close(at, "suspension")

    def request_erasure(self, *, at: datetime) -> None:
        """LC-9: express erasure, carried out within three months.

        An open espace is closed first (LC-7); a deceased holder cannot ask.
        """
        self._guard(at)
        if self.date_of_death is not None:
            raise RuleViolation("LC-11", "the holder is deceased")
        if self.erasure_requested_at is not None:
            raise RuleViolation("LC-9", "an erasure was already requested")
        if self.state in (State.AFFILIATED, State.NOTIFIED, State.OPPOSED):
            raise RuleViolation(
                "LC-9", f"the espace is {self.state}: nothing opened to erase (LC-3)"
            )
        if self.state in LIVE_STATES:
            self._close(at, "erasure")
        self.trigger_event(
            self.ErasureRequested, timestamp=at, due_by=calendar.erasure_deadline(at)
        )

    def erase(self, *, at: datetime) -> None:
        """LC-8/LC-9: erase at the end of the archive, or on express request."""
        self._guard(at)
        if self.state is not State.CLOSED:
            raise RuleViolation(
                "LC-8", f"only a closed espace is erased ({self.state})"
            )
        assert self.archive is not None  # set with CLOSED
        if self.erasure_requested_at is not None:
            reason = "holder-request"
        elif at >= self.archive.until:
            reason = "archive-expired"
        else:
            raise RuleViolation(
                "LC-8",
                f"the archive is kept until {self.archive.until.isoformat()}",
            )
        self.trigger_event(self.Erased, timestamp=at, reason=reason)

    def reopen(self, *, at: datetime, code_digest: str, code_salt: str) -> None:
        """LC-10: a new espace on request; the archived content comes back."""
        self._guard(at)
        if self.date_of_death is not None:
            raise RuleViolation("LC-11", "the holder is deceased")
        if self.state not in (State.CLOSED, State.OPPOSED):
            raise RuleViolation(
                "LC-10", f"only a closed espace can be reopened ({self.state})"
            )
        if self.erasure_requested_at is not None:
            raise RuleViolation("LC-9", "an erasure was requested for this espace")
        self.trigger_event(
            self.Reopened,
            timestamp=at,
            code_digest=code_digest,
            code_salt=code_salt,
            code_expires_at=calendar.days_after(at, ACTIVATION_CODE_VALIDITY_DAYS),
        )
        self._merge_legacy(at)

    def end_representation(self, *, at: datetime) -> None:
        """LC-12: at 18 the representative's mandate ends (ADR-0007)."""
        self._guard(at)
        if self.representative is None:
            raise RuleViolation("LC-12", "this espace has no legal representative")
        if at < calendar.majority_at(self.ins.birth_date):
            raise RuleViolation("LC-12", "the holder is still a minor")
        self.trigger_event(self.RepresentationEnded, timestamp=at)

    # ------------------------------------------------------------- helpers

    def _guard(self, at: datetime) -> None:
        _aware(at)
        if self.state is State.ERASED:
            raise RuleViolation("LC-8", "the espace was erased")
        if at < self.modified_on:
            raise RuleViolation(
                "LC-1", "a command cannot be dated before the espace's last event"
            )

    def _open(self, at: datetime, *, automatic: bool) -> None:
        self.trigger_event(self.Opened, timestamp=at, automatic=automatic)
        self._merge_legacy(at)

    def _merge_legacy(self, at: datetime) -> None:
        if self.legacy_dmp_ref and not self.legacy_dmp_merged and not self.ever_opposed:
            self.trigger_event(
                self.LegacyDmpMerged, timestamp=at, legacy_dmp_ref=self.legacy_dmp_ref
            )

    def _close(self, at: datetime, reason: str) -> None:
        self.trigger_event(
            self.Closed,
            timestamp=at,
            reason=reason,
            archive_until=calendar.archive_deadline(at),
        )


# The handlers name EspaceSante in their annotations, so eventsourcing's
# singledispatchmethod registers them at the first look-up of ``apply``; look
# it up once, then keep its dispatcher. ``aggregate.apply(event)`` would do the
# same, but Python 3.11 builds a new bound wrapper at every look-up, which made
# a replay three times slower (ADR-0026).
_apply = vars(EspaceSante)["apply"]
_apply.__get__(None, EspaceSante)
_handler_of: Callable[[type[Any]], Callable[[EspaceSante, Any], None]] = (
    _apply.dispatcher.dispatch
)


def _aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise RuleViolation("LC-2", "times must be timezone-aware")
