"""The states of an espace's life and the value objects its aggregate holds
(LC-1 to LC-12): :class:`State`, the activation limits, the provisional code,
the failed activations, the suspension and the archive.

None of them is stored by topic: events carry their flat fields, and
:class:`espace.domain.espace.EspaceSante` builds these from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from espace.domain.espace import EspaceSante


class State(StrEnum):
    """The states of an espace's life (LC-1 to LC-12); the value is stored."""

    AFFILIATED = "affiliated"
    """Created from the feed (LC-1); the notice is not sent yet."""
    NOTIFIED = "notified"
    """The notice is sent; the opposition window runs (LC-2)."""
    OPPOSED = "opposed"
    """The person opposed in time: no espace, no DMP (LC-3)."""
    OPEN = "open"
    """Opened (LC-4) but not activated: invisible to the holder."""
    ACTIVE = "active"
    """Activated by the holder (LC-5)."""
    SUSPENDED = "suspended"
    """Suspended by the insurer (LC-7)."""
    CLOSED = "closed"
    """Closed and archived for ten years (LC-7, LC-8)."""
    ERASED = "erased"
    """Erased; its key is destroyed (LC-8, LC-9, SEC-4)."""


LIVE_STATES = frozenset({State.OPEN, State.ACTIVE, State.SUSPENDED})

ACTIVATION_CODE_VALIDITY_DAYS = 90
"""LC-5: how long a provisional activation code is valid (ADR-0006)."""
MAX_ACTIVATION_FAILURES = 5
"""LC-5: consecutive failures that lock activation (ADR-0006)."""
ACTIVATION_LOCK_MINUTES = 30
"""LC-5: how long activation stays locked after too many failures (ADR-0006)."""


@dataclass(frozen=True)
class Addressee:
    """Whom a notice is for, and where it can reach them (personal data: it
    goes to the mail house, never to a log)."""

    name: str
    email: str | None
    postal_address: str | None


@dataclass(frozen=True)
class ProvisionalCode:
    """LC-5: the provisional activation code in force, as the store keeps it:
    a salted keyed digest, never the code, and when it expires."""

    digest: str
    salt: str
    expires_at: datetime

    @classmethod
    def issued_by(
        cls,
        event: EspaceSante.NoticeSent | EspaceSante.CodeReissued | EspaceSante.Reopened,
    ) -> ProvisionalCode:
        """The code an event issued (LC-1, LC-5, LC-10)."""
        return cls(event.code_digest, event.code_salt, event.code_expires_at)


@dataclass(frozen=True)
class FailedActivations:
    """LC-5: consecutive failed activations, and the lock they set, if any."""

    count: int = 0
    locked_until: datetime | None = None


NO_FAILURES = FailedActivations()
"""No failure since the last code, activation or reopening (LC-5)."""


@dataclass(frozen=True)
class Suspension:
    """LC-7: the insurer's suspension of an espace, while it lasts."""

    resume_state: State
    """The state the espace goes back to if the suspension ends."""
    since: datetime
    reason: str
    closes_at: datetime
    """Six weeks after the holder was informed: the espace closes then."""


@dataclass(frozen=True)
class Archive:
    """LC-8: a closed espace's archive, kept for ten years from the closure."""

    closed_at: datetime
    reason: str
    until: datetime


SPELLED_OUT = {
    "code": ("code_digest", "code_salt", "code_expires_at"),
    "failures": ("activation_failures", "activation_locked_until"),
    "suspension": (
        "resume_state",
        "suspended_at",
        "suspension_reason",
        "suspension_closes_at",
    ),
    "archive": ("closed_at", "closure_reason", "archive_until"),
}
"""Each value object of an espace, and the flat attributes that read it:
the names the espace had before the value objects grouped them, which the
audit history still shows (:meth:`EspaceSante.flat_state`)."""
