"""The plain data the lifecycle's use cases return: an espace's summary, a
code issued with its mail-house record, and the report of an affiliation
feed (LC-1, LC-5, LC-10). No personal data leaves through a summary; the
code and the addressee travel only in :class:`CodeIssued`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from marshmallow import fields, post_dump

from espace.application import outputs
from espace.application.outputs import Output, RowRejectedSchema, dumps
from espace.domain import calendar
from espace.domain.espace import EspaceSante
from espace.domain.espace_state import Addressee, State


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
    erased_on: str | None = None
    """When the espace's erasure was complete (LC-8, LC-9)."""
    note: str | None = None
    """What a command that had nothing to do says of it."""

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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dumps(EspaceSummary)
class EspaceSummarySchema(Output):
    """The summary, without the dates that do not apply."""

    omit_none = True
    espace_id = fields.String()
    state = fields.Enum(State, by_value=True)
    version = fields.Integer()
    opposition_deadline = fields.String()
    archive_until = fields.String()
    erasure_due_by = fields.String()
    suspension_closes_at = fields.String()
    erased_on = fields.String()
    note = fields.String()


@dumps(CodeIssued)
class CodeIssuedSchema(Output):
    """What a command prints of a code issued: the espace's summary, the
    channel, the recipient and the code, never the addressee."""

    channel = fields.String()
    recipient = fields.String(allow_none=True)
    activation_code = fields.String()

    @post_dump(pass_original=True)
    def _summary_first(
        self, data: dict[str, Any], original: CodeIssued, **_: Any
    ) -> dict[str, Any]:
        return {**outputs.dump(original.espace), **data}


@dumps(AffiliationReport)
class AffiliationReportSchema(Output):
    """The report of a feed: what was created, what was known, what was
    refused (each row by its line) and how many events were saved."""

    created = fields.Integer()
    already_affiliated = fields.Integer()
    rejected = fields.List(fields.Nested(RowRejectedSchema))
    events = fields.Integer()


__all__ = [
    "MAIL_RECORD_FIELDS",
    "AffiliationReport",
    "CodeIssued",
    "EspaceSummary",
    "RowRejected",
]
