"""What the holder (or the médecin traitant) must be told: the pending
notifications and their delivery (ACC-5), and the DOC-5 timers the
deadline job runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from espace.application import schemas
from espace.application.record_base import RecordBase
from espace.domain.actors import ActorKind
from espace.domain.trace import Alert


class AlertUseCases(RecordBase):
    """ACC-5, DOC-5: notifications and the timers of hidden documents."""

    # ----------------------------------------------------------------- DOC-5 timers

    def tell_holder_update_waiting(
        self, document_id: UUID, at: datetime | None = None
    ) -> None:
        """DOC-5: two weeks without announcement: tell the holder (deadline job)."""
        doc = self._document(document_id)
        now = self._now(at)
        doc.tell_holder_update_waiting(at=now)
        alert = Alert.raise_(
            alert_id=uuid4(),
            espace_id=doc.espace_id,
            at=now,
            recipient_kind=ActorKind.HOLDER,
            recipient_id=str(doc.espace_id),
            reason="update_waiting",
            document_id=doc.id,
        )
        self._save(doc, alert)

    def reveal_after_delay(self, document_id: UUID, at: datetime | None = None) -> None:
        """DOC-5: one month on, the document becomes visible by itself."""
        doc = self._document(document_id)
        doc.reveal_after_delay(at=self._now(at))
        self._save(doc)

    def document_modified_on(self, document_id: UUID) -> datetime:
        """DOC-5: when the document last changed: the deadline job dates a timer's
        event no earlier than that."""
        modified: datetime = self._document(document_id).modified_on
        return modified

    def pending_notifications(
        self, espace_id: UUID | None = None
    ) -> list[dict[str, Any]]:
        """ACC-5, DOC-5: the notifications not yet delivered, of one espace or of
        all, oldest first (the notifications view)."""
        return self.notifications.pending(espace_id=espace_id)

    def deliver_notification(
        self, alert_id: UUID, channel: str = "app", at: datetime | None = None
    ) -> None:
        """ACC-5, DOC-5: mark a notification delivered by ``channel`` (app, email,
        sms, post). NotFound if there is no such alert, RuleViolation if it was
        delivered already."""
        params = schemas.load(schemas.DeliverySchema, {"channel": channel})
        alert = self._load(alert_id, Alert, "notification")
        alert.deliver(at=self._now(at), channel=params["channel"])
        self._save(alert)
