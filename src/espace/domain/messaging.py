"""Secure messaging: the Message aggregate, one per conversation between a
professional (or an establishment) and a holder (MSG-1 to MSG-5).

Every event carries ``espace_id``: subjects, bodies and attachment names are
sealed under the espace's key and erased with it (SEC-1, SEC-4). Attachment
files are not in the events: they are stored sealed in the content store and
referenced by id and hash, like document versions (ADR-0012).

Sides: the *holder side* is the holder or their legal representative; the
*professional side* is the professional or establishment that opened the
conversation, and nobody else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.document_metadata import FORMATS, MAX_SIZE
from espace.domain.errors import RuleViolation


class AuthorKind(StrEnum):
    """Who writes a message: the holder side (holder, legal representative) or
    the professional side (professional, establishment: MSG-1)."""

    HOLDER = "holder"
    REPRESENTATIVE = "representative"
    PROFESSIONAL = "professional"
    ESTABLISHMENT = "establishment"


class Side(StrEnum):
    """The two sides of a conversation, as read receipts count them."""

    HOLDER = "holder"
    PROFESSIONAL = "professional"


HOLDER_SIDE = frozenset({AuthorKind.HOLDER, AuthorKind.REPRESENTATIVE})
PROFESSIONAL_SIDE = frozenset({AuthorKind.PROFESSIONAL, AuthorKind.ESTABLISHMENT})

INBOX_STATES = frozenset({"open", "active"})
"""MSG-5: the inbox exists once the espace is open (LC-4) or activated (LC-5);
the professional side writes only then."""
HOLDER_WRITE_STATES = frozenset({"active"})
"""LC-4: an espace not activated is invisible to its holder, who cannot write."""
HOLDER_READ_STATES = frozenset({"active", "suspended", "closed"})
"""LC-8: the archive of a closed espace stays readable to the holder."""

MAX_SUBJECT = 200
MAX_BODY = 20_000
MAX_ATTACHMENTS = 10


def holder_may_write(espace_state: str) -> None:
    """LC-4: an espace not activated is invisible to its holder; LC-7: a
    suspended one is frozen; LC-8: a closed one is a read-only archive."""
    if espace_state in HOLDER_WRITE_STATES:
        return
    rule = {"open": "LC-4", "suspended": "LC-7", "closed": "LC-8"}.get(
        espace_state, "MSG-5"
    )
    raise RuleViolation(rule, f"the holder cannot write here (espace {espace_state})")


def side_of(kind: str) -> Side:
    """The side an author kind writes for; RuleViolation (MSG-1) for a kind
    that is neither."""
    if kind in HOLDER_SIDE:
        return Side.HOLDER
    if kind in PROFESSIONAL_SIDE:
        return Side.PROFESSIONAL
    raise RuleViolation("MSG-1", f"unknown author kind {kind!r}")


def check_attachments(attachments: Sequence[Mapping[str, Any]]) -> None:
    """MSG-4: a reference to a deposited document, or a file (DOC-1 limits)."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise RuleViolation("MSG-4", f"at most {MAX_ATTACHMENTS} attachments")
    for a in attachments:
        if not isinstance(a.get("attachment_id"), UUID):
            raise RuleViolation("MSG-4", "an attachment has its own id")
        if a.get("kind") == "document":
            if not isinstance(a.get("document_id"), UUID):
                raise RuleViolation("MSG-4", "a document attachment names a document")
        elif a.get("kind") == "file":
            if not isinstance(a.get("content_id"), UUID):
                raise RuleViolation("MSG-4", "a file attachment has stored content")
            if a.get("format") not in FORMATS:
                raise RuleViolation("MSG-4", f"unsupported format {a.get('format')!r}")
            size = a.get("size")
            if not isinstance(size, int) or not 0 < size <= MAX_SIZE:
                raise RuleViolation("MSG-4", f"size must be 1 byte to {MAX_SIZE} bytes")
            digest = a.get("content_hash")
            if not isinstance(digest, str) or len(digest) != 64:
                raise RuleViolation("MSG-4", "content_hash must be a hex SHA-256")
            name = a.get("filename")
            if not isinstance(name, str) or not 0 < len(name) <= 255:
                raise RuleViolation("MSG-4", "a file has a name of 1 to 255 characters")
        else:
            raise RuleViolation("MSG-4", "an attachment is a document or a file")


class Message(Aggregate):
    """A conversation: opened by a professional or establishment (MSG-1),
    answered by the holder, ended by the professional (MSG-3)."""

    class Event(Aggregate.Event):
        """A conversation's events: each carries ``espace_id``, so subjects, bodies
        and attachment names are sealed under the espace's key (SEC-4)."""

        espace_id: UUID

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Opened(Aggregate.Created, Event):
        """MSG-1: a professional or an establishment starts a conversation."""

        opener_kind: str
        opener_id: str
        opener_name: str | None
        subject: str

    class Posted(Event):
        """A message of either side, with its attachments (MSG-4)."""

        message_no: int
        author_kind: str
        author_id: str
        body: str
        attachments: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            """The message joins the conversation, unread."""
            m: Message = aggregate
            m.messages.append(
                {
                    "message_no": self.message_no,
                    "author_kind": self.author_kind,
                    "author_id": self.author_id,
                    "side": str(side_of(self.author_kind)),
                    "body": self.body,
                    "attachments": [dict(a) for a in self.attachments],
                    "posted_at": self.timestamp,
                    "read_at": None,
                }
            )

    class Read(Event):
        """Read receipt: one side has read the other's messages up to a number."""

        reader_side: str
        up_to: int

        def apply(self, aggregate: Any) -> None:
            """The other side's messages up to ``up_to`` are read at this time."""
            m: Message = aggregate
            for msg in m.messages:
                if (
                    msg["side"] != self.reader_side
                    and msg["message_no"] <= self.up_to
                    and msg["read_at"] is None
                ):
                    msg["read_at"] = self.timestamp

    class AttachmentAddedToRecord(Event):
        """MSG-4: the holder added a file attachment to the DMP."""

        attachment_id: UUID
        document_id: UUID

        def apply(self, aggregate: Any) -> None:
            """The attachment now names the document it became."""
            aggregate.added_to_record[self.attachment_id] = self.document_id

    class Ended(Event):
        """MSG-3: the professional ended it; the holder can no longer reply."""

        def apply(self, aggregate: Any) -> None:
            """The conversation is ended as of the event's time."""
            aggregate.ended_at = self.timestamp

    # ---------------------------------------------------------------- create

    @classmethod
    def open(
        cls,
        *,
        conversation_id: UUID,
        espace_id: UUID,
        espace_state: str,
        at: datetime,
        opener_kind: str,
        opener_id: str,
        opener_name: str | None,
        subject: str,
        body: str,
        attachments: Sequence[Mapping[str, Any]] = (),
    ) -> Message:
        """MSG-1, MSG-5: only the professional side starts, into an inbox that
        exists (an open or activated espace)."""
        _aware(at)
        if opener_kind not in PROFESSIONAL_SIDE:
            raise RuleViolation(
                "MSG-1",
                "only a professional or an establishment starts a conversation; "
                "the holder can only reply",
            )
        if espace_state not in INBOX_STATES:
            raise RuleViolation(
                "MSG-5",
                f"the holder has no inbox yet (espace {espace_state}): it exists "
                "once the espace is open or activated",
            )
        if not opener_id.strip():
            raise RuleViolation("MSG-1", "the opener is identified")
        if opener_kind == AuthorKind.ESTABLISHMENT and not (opener_name or "").strip():
            raise RuleViolation("MSG-2", "an establishment gives its name")
        if not subject.strip() or len(subject) > MAX_SUBJECT:
            raise RuleViolation(
                "MSG-1", f"a subject of 1 to {MAX_SUBJECT} characters is required"
            )
        _check_body(body)
        check_attachments(attachments)
        conversation = cls._create(
            cls.Opened,
            id=conversation_id,
            timestamp=at,
            espace_id=espace_id,
            opener_kind=opener_kind,
            opener_id=opener_id,
            opener_name=opener_name.strip() if opener_name else None,
            subject=subject.strip(),
        )
        conversation._post(at, opener_kind, opener_id, body, attachments)
        return conversation

    def __init__(
        self,
        espace_id: UUID,
        opener_kind: str,
        opener_id: str,
        opener_name: str | None,
        subject: str,
    ) -> None:
        self.espace_id = espace_id
        self.opener_kind = opener_kind
        self.opener_id = opener_id
        self.opener_name = opener_name
        self.subject = subject
        self.messages: list[dict[str, Any]] = []
        self.added_to_record: dict[UUID, UUID] = {}
        self.ended_at: datetime | None = None

    # ---------------------------------------------------------------- queries

    @property
    def ended(self) -> bool:
        """MSG-3: whether the professional ended the conversation."""
        return self.ended_at is not None

    def is_party(self, kind: str, party_id: str) -> bool:
        """The holder side of this espace, or the professional who opened it."""
        if kind in HOLDER_SIDE:
            return party_id == str(self.espace_id)
        return kind == self.opener_kind and party_id == self.opener_id

    def unread_for(self, side: str) -> int:
        """How many messages of the other side this side has not read."""
        return sum(1 for m in self.messages if m["side"] != side and not m["read_at"])

    def attachment(self, attachment_id: UUID) -> dict[str, Any]:
        """MSG-4: one attachment of the conversation, by its id; RuleViolation if
        there is none of that id."""
        for message in self.messages:
            for a in message["attachments"]:
                if a["attachment_id"] == attachment_id:
                    return dict(a)
        raise RuleViolation("MSG-4", f"no attachment {attachment_id} here")

    # ---------------------------------------------------------------- commands

    def post(
        self,
        *,
        at: datetime,
        author_kind: str,
        author_id: str,
        espace_state: str,
        body: str,
        attachments: Sequence[Mapping[str, Any]] = (),
    ) -> int:
        """A reply of the holder, or a follow-up of the professional.

        MSG-3: nobody writes after the end. Only the two parties write
        (MSG-1); the holder writes into an activated espace (LC-4), the
        professional into an inbox that exists (MSG-5). Returns the number of
        the new message.
        """
        self._guard(at)
        side = side_of(author_kind)
        if not self.is_party(author_kind, author_id):
            raise RuleViolation(
                "MSG-1",
                "only the holder and the professional who opened the conversation "
                "write in it",
            )
        if self.ended_at is not None:
            raise RuleViolation(
                "MSG-3",
                "the professional ended this conversation on "
                f"{self.ended_at.isoformat()}: no reply is possible any more; the "
                "professional can start a new one",
            )
        if side is Side.HOLDER:
            holder_may_write(espace_state)
        if side is Side.PROFESSIONAL and espace_state not in INBOX_STATES:
            raise RuleViolation(
                "MSG-5", f"the holder's inbox is not open (espace {espace_state})"
            )
        _check_body(body)
        check_attachments(attachments)
        return self._post(at, author_kind, author_id, body, attachments)

    def mark_read(self, *, at: datetime, reader_kind: str, reader_id: str) -> int:
        """A read receipt for every message of the other side; returns how many
        were unread. Reading again with nothing new is refused (no event)."""
        self._guard(at)
        if not self.is_party(reader_kind, reader_id):
            raise RuleViolation("MSG-1", "not a party to this conversation")
        side = side_of(reader_kind)
        unread = self.unread_for(side)
        if not unread:
            raise RuleViolation("MSG-1", "nothing unread")
        self.trigger_event(
            self.Read,
            timestamp=at,
            espace_id=self.espace_id,
            reader_side=str(side),
            up_to=self.messages[-1]["message_no"],
        )
        return unread

    def add_attachment_to_record(
        self,
        *,
        at: datetime,
        by_kind: str,
        by_id: str,
        attachment_id: UUID,
        document_id: UUID,
    ) -> dict[str, Any]:
        """MSG-4: the holder adds a file attachment to the DMP, once."""
        self._guard(at)
        if by_kind not in HOLDER_SIDE or not self.is_party(by_kind, by_id):
            raise RuleViolation("MSG-4", "only the holder adds an attachment")
        attachment = self.attachment(attachment_id)
        if attachment["kind"] != "file":
            raise RuleViolation("MSG-4", "this attachment is already in the record")
        if attachment_id in self.added_to_record:
            raise RuleViolation(
                "MSG-4",
                "this attachment was already added as document "
                f"{self.added_to_record[attachment_id]}",
            )
        self.trigger_event(
            self.AttachmentAddedToRecord,
            timestamp=at,
            espace_id=self.espace_id,
            attachment_id=attachment_id,
            document_id=document_id,
        )
        return attachment

    def end(self, *, at: datetime, by_kind: str, by_id: str) -> None:
        """MSG-3: only the professional who opened the conversation ends it."""
        self._guard(at)
        if by_kind not in PROFESSIONAL_SIDE or not self.is_party(by_kind, by_id):
            raise RuleViolation(
                "MSG-3", "only the professional who opened the conversation ends it"
            )
        if self.ended_at is not None:
            raise RuleViolation("MSG-3", "the conversation is already ended")
        self.trigger_event(self.Ended, timestamp=at, espace_id=self.espace_id)

    # ---------------------------------------------------------------- helpers

    def _post(
        self,
        at: datetime,
        author_kind: str,
        author_id: str,
        body: str,
        attachments: Sequence[Mapping[str, Any]],
    ) -> int:
        number = len(self.messages) + 1
        self.trigger_event(
            self.Posted,
            timestamp=at,
            espace_id=self.espace_id,
            message_no=number,
            author_kind=str(author_kind),
            author_id=author_id,
            body=body,
            attachments=[dict(a) for a in attachments],
        )
        return number

    def _guard(self, at: datetime) -> None:
        _aware(at)
        if at < self.modified_on:
            raise RuleViolation(
                "MSG-1",
                "a command cannot be dated before the conversation's last event",
            )


def _check_body(body: str) -> None:
    if not body.strip() or len(body) > MAX_BODY:
        raise RuleViolation("MSG-1", f"a message of 1 to {MAX_BODY} characters")


def _aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise RuleViolation("MSG-1", "times must be timezone-aware")
