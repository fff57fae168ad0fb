"""Use cases of secure messaging (MSG-1 to MSG-5, PRO-2, ACC-2).

A professional (listed in the directory, PRO-2) or an establishment opens a
conversation with a holder; the holder replies; the professional ends it.
Attachments are references to documents of the holder's DMP, or files stored
sealed under the espace's key; the holder may add a file to the DMP, which is
an upload through the record, traced there (MSG-4, ACC-6). Who writes when is
the aggregate's rule (:mod:`espace.domain.messaging`); who may reach the holder
at all is decided here: a blocked professional does not (ACC-2, ADR-0012).

How a conversation is shown is in :mod:`espace.application.messaging_views`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import Application

from espace.application import outputs, schemas, service_schemas
from espace.application.errors import Conflict, InvalidInput
from espace.application.lifecycle import LifecycleService
from espace.application.messaging_views import ConversationViews
from espace.application.ports import Clock, ContentStore, ProfessionalDirectory
from espace.application.queries import DirectoryView, MessagingView
from espace.application.records import RecordService
from espace.domain.actors import Action, Actor, ActorKind
from espace.domain.decision import Decision, listed_actor
from espace.domain.documents import Document
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.messaging import (
    AuthorKind,
    Message,
    Side,
    side_of,
)
from espace.domain.pages import Rows

log = structlog.get_logger("espace.messaging")

ATTACHMENT_DOCUMENTS = uuid.UUID("5e0c9a7d-3f1b-4c2e-8d6a-b4f7e2a1c9d8")
"""Namespace of the document id an attachment becomes in the DMP (MSG-4): the
same attachment always maps to the same document, so it is never added twice."""


@dataclass(frozen=True)
class NewFile:
    """A file to attach: its name, MIME type (DOC-1 formats) and bytes."""

    filename: str
    format: str
    content: bytes


def attachment_document_id(conversation_id: UUID, attachment_id: UUID) -> UUID:
    """MSG-4: the document id a file attachment becomes in the DMP: derived,
    so that the same attachment always maps to the same document."""
    return uuid.uuid5(ATTACHMENT_DOCUMENTS, f"{conversation_id}:{attachment_id}")


class MessagingService(ConversationViews):
    """Conversations between professionals and holders."""

    def __init__(
        self,
        app: Application[UUID],
        lifecycle: LifecycleService,
        records: RecordService,
        contents: ContentStore,
        clock: Clock,
        *,
        queries: MessagingView,
        directory_view: DirectoryView,
        directory: ProfessionalDirectory | None = None,
    ) -> None:
        super().__init__(app, lifecycle, clock, directory=directory)
        self.records = records
        self.contents = contents
        self.queries = queries
        self.directory_view = directory_view

    # ----------------------------------------------------------------- writes

    def open(
        self,
        actor: Actor,
        espace_id: UUID,
        message: Mapping[str, Any],
        *,
        files: Sequence[NewFile] = (),
        documents: Sequence[UUID] = (),
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """MSG-1: a professional or an establishment starts a conversation;
        MSG-5: into an inbox that exists (an open or activated espace)."""
        data = schemas.load(service_schemas.OpeningSchema, message)
        espace = self._espace(espace_id)
        now = self._now(at)
        if side_of(actor.kind) is Side.HOLDER:
            raise RuleViolation(
                "MSG-1",
                "only a professional or an establishment starts a conversation; "
                "the holder can only reply",
            )
        self._may_act(actor, espace)
        attachments, stored = self._attachments(espace_id, files, documents)
        conversation = Message.open(
            conversation_id=uuid4(),
            espace_id=espace_id,
            espace_state=str(espace.state),
            at=now,
            opener_kind=actor.kind,
            opener_id=actor.id,
            opener_name=actor.name,
            subject=data["subject"],
            body=data["body"],
            attachments=attachments,
        )
        self._store(espace_id, stored)
        self._save(conversation)
        log.info(
            "conversation.opened",
            espace_id=str(espace_id),
            conversation_id=str(conversation.id),
        )
        return self._posted(conversation, 1)

    def reply(
        self,
        actor: Actor,
        conversation_id: UUID,
        message: Mapping[str, Any],
        *,
        files: Sequence[NewFile] = (),
        documents: Sequence[UUID] = (),
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """The holder replies, or the professional writes again; MSG-3: not
        after the end."""
        data = schemas.load(service_schemas.ReplySchema, message)
        conversation = self._conversation(conversation_id)
        espace = self._espace(conversation.espace_id)
        now = self._now(at)
        if side_of(actor.kind) is Side.HOLDER:
            self._holder_may(actor, Action.UPLOAD, espace)
        else:
            self._may_act(actor, espace)
        attachments, stored = self._attachments(
            conversation.espace_id, files, documents
        )
        number = conversation.post(
            at=now,
            author_kind=actor.kind,
            author_id=actor.id,
            espace_state=str(espace.state),
            body=data["body"],
            attachments=attachments,
        )
        self._store(conversation.espace_id, stored)
        self._save(conversation)
        return self._posted(conversation, number)

    def end(
        self, actor: Actor, conversation_id: UUID, at: datetime | None = None
    ) -> dict[str, Any]:
        """MSG-3: the professional who opened it ends the conversation."""
        conversation = self._conversation(conversation_id)
        now = self._now(at)
        if side_of(actor.kind) is Side.PROFESSIONAL:
            self._may_act(actor, None)
        conversation.end(at=now, by_kind=actor.kind, by_id=actor.id)
        self._save(conversation)
        return {
            "conversation_id": str(conversation.id),
            "ended_at": conversation.ended_at,
        }

    def add_to_record(
        self,
        actor: Actor,
        conversation_id: UUID,
        attachment_id: UUID,
        metadata: Mapping[str, Any],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """MSG-4: the holder adds a file attachment to the DMP.

        It becomes a patient-uploaded document, deposited through the record
        (its access decision and trace, DOC-2, ACC-6), in one save with the
        conversation's event; its document id is derived from the attachment,
        so it is added once.
        """
        meta = schemas.load(service_schemas.AddToRecordSchema, metadata)
        conversation = self._conversation(conversation_id)
        now = self._now(at)
        if side_of(actor.kind) is not Side.HOLDER:
            raise RuleViolation("MSG-4", "only the holder adds an attachment")
        document_id = attachment_document_id(conversation.id, attachment_id)
        attachment = conversation.add_attachment_to_record(
            at=now,
            by_kind=actor.kind,
            by_id=actor.id,
            attachment_id=attachment_id,
            document_id=document_id,
        )
        content = self._content(conversation.espace_id, attachment)
        posted_at = next(
            m["posted_at"]
            for m in conversation.messages
            if any(a["attachment_id"] == attachment_id for a in m["attachments"])
        )
        care_time: datetime = meta["care_time"] or posted_at
        outcome = self.records.deposit(
            actor,
            conversation.espace_id,
            {
                "category": "patient_uploaded",
                "loinc_code": meta["loinc_code"],
                "title": meta["title"] or attachment["filename"],
                "care_time": care_time.isoformat(),
                "format": attachment["format"],
            },
            content,
            at=now,
            document_id=document_id,
            with_aggregates=(conversation,),
        )
        log.info(
            "attachment.added_to_record",
            espace_id=str(conversation.espace_id),
            document_id=str(document_id),
        )
        return {
            "conversation_id": str(conversation.id),
            "attachment_id": str(attachment_id),
            **outputs.dump(outcome),
        }

    # ----------------------------------------------------------------- reads

    def read(
        self, actor: Actor, conversation_id: UUID, at: datetime | None = None
    ) -> dict[str, Any]:
        """A conversation as one actor sees it; what was unread is marked read
        (read receipts for the other side)."""
        conversation = self._conversation(conversation_id)
        espace = self._espace(conversation.espace_id)
        now = self._now(at)
        self._may_read(actor, conversation, espace)
        marked = 0
        if conversation.unread_for(side_of(actor.kind)):
            marked = conversation.mark_read(
                at=max(now, conversation.modified_on),
                reader_kind=actor.kind,
                reader_id=actor.id,
            )
            self._save(conversation)
        view = self._view(conversation, actor, espace)
        view["marked_read"] = marked
        return view

    def inbox(self, actor: Actor, *, limit: int = 50, offset: int = 0) -> Rows:
        """The actor's conversations, latest first, with unread counts, and
        how many there are in all (``total``).

        The holder sees each professional's name from the directory, never an
        address (MSG-2); subjects come from the sealed events.
        """
        if side_of(actor.kind) is Side.HOLDER:
            espace = self._espace(UUID(actor.id))
            self._holder_may(actor, Action.LIST, espace)
            rows = self.queries.conversations_of_espace(
                espace.id, limit=limit, offset=offset
            )
        else:
            self._may_act(actor, None)
            rows = self.queries.conversations_of_party(
                actor.kind, actor.id, limit=limit, offset=offset
            )
        names = self.directory_view.names(
            [
                r["counterpart_id"]
                for r in rows
                if r["counterpart_kind"] == AuthorKind.PROFESSIONAL
            ]
        )
        out = []
        for row in rows:
            conversation = self._conversation(row["conversation_id"])
            entry: dict[str, Any] = {
                "conversation_id": str(row["conversation_id"]),
                "subject": conversation.subject,
                "opened_at": row["opened_at"],
                "last_posted_at": row["last_posted_at"],
                "messages": row["message_count"],
                "ended_at": row["ended_at"],
            }
            if side_of(actor.kind) is Side.HOLDER:
                entry.update(
                    unread=row["unread_by_holder"],
                    counterpart_kind=row["counterpart_kind"],
                    counterpart_name=self._opener_name(conversation, names),
                )
            else:
                entry.update(
                    unread=row["unread_by_professional"],
                    espace_id=str(row["espace_id"]),
                    holder_name=self._holder_name(row["espace_id"]),
                )
            out.append(entry)
        return Rows(out, rows.total)

    def attachment(
        self, actor: Actor, conversation_id: UUID, attachment_id: UUID
    ) -> dict[str, Any]:
        """An attached file's bytes (a document attachment is read from the
        record, through its own access decision)."""
        conversation = self._conversation(conversation_id)
        espace = self._espace(conversation.espace_id)
        self._may_read(actor, conversation, espace)
        attachment = conversation.attachment(attachment_id)
        if attachment["kind"] != "file":
            raise RuleViolation(
                "MSG-4",
                f"this attachment is document {attachment['document_id']}: read it "
                "from the record",
            )
        return {
            "attachment_id": str(attachment_id),
            "filename": attachment["filename"],
            "format": attachment["format"],
            "size": attachment["size"],
            "content": self._content(conversation.espace_id, attachment),
        }

    # ----------------------------------------------------------------- rules

    def _may_act(self, actor: Actor, espace: EspaceSante | None) -> None:
        """PRO-2: a professional is listed; ACC-2: not blocked by this holder
        (the one access decision, :func:`decide`)."""
        if actor.kind is not ActorKind.PROFESSIONAL:
            return
        if espace is not None:
            self._require(actor, Action.MESSAGE, espace)
            return
        listed = listed_actor(actor, self._listing(actor), self.directory is not None)
        if isinstance(listed, Decision):
            listed.require()

    def _holder_may(self, actor: Actor, action: Action, espace: EspaceSante) -> None:
        """LC-4, LC-8, LC-11, LC-12: the holder's side, by the record's decision."""
        if actor.id != str(espace.id):
            raise RuleViolation("MSG-1", "not this holder's conversation")
        self._require(actor, action, espace)

    def _may_read(
        self, actor: Actor, conversation: Message, espace: EspaceSante
    ) -> None:
        if not conversation.is_party(actor.kind, actor.id):
            raise RuleViolation("MSG-1", "not a party to this conversation")
        if side_of(actor.kind) is Side.HOLDER:
            self._holder_may(actor, Action.READ, espace)
        else:
            self._may_act(actor, None)

    # ----------------------------------------------------------------- helpers

    def _conversation(self, conversation_id: UUID) -> Message:
        return self._load(conversation_id, Message, "conversation")

    def _attachments(
        self,
        espace_id: UUID,
        files: Sequence[NewFile],
        documents: Sequence[UUID],
    ) -> tuple[list[dict[str, Any]], list[tuple[UUID, bytes]]]:
        """MSG-4: references to this holder's documents, and files to store."""
        attachments: list[dict[str, Any]] = []
        stored: list[tuple[UUID, bytes]] = []
        for document_id in documents:
            doc = self._maybe(document_id, Document, "document")
            if doc is None or doc.espace_id != espace_id or doc.deleted_at is not None:
                raise RuleViolation(
                    "MSG-4", f"document {document_id} is not in this holder's record"
                )
            attachments.append(
                {
                    "attachment_id": uuid4(),
                    "kind": "document",
                    "document_id": document_id,
                }
            )
        for file in files:
            meta = schemas.load(
                service_schemas.FileSchema,
                {"filename": file.filename, "format": file.format},
            )
            if not file.content:
                raise InvalidInput({"file": [f"{file.filename} is empty"]})
            content_id = uuid4()
            attachments.append(
                {
                    "attachment_id": uuid4(),
                    "kind": "file",
                    "content_id": content_id,
                    "filename": meta["filename"],
                    "format": meta["format"],
                    "size": len(file.content),
                    "content_hash": hashlib.sha256(file.content).hexdigest(),
                }
            )
            stored.append((content_id, file.content))
        return attachments, stored

    def _store(self, espace_id: UUID, stored: list[tuple[UUID, bytes]]) -> None:
        """Sealed under the espace's key, before the event that names them."""
        for content_id, content in stored:
            self.contents.put(espace_id, content_id, content)

    def _content(self, espace_id: UUID, attachment: Mapping[str, Any]) -> bytes:
        content = self.contents.get(espace_id, attachment["content_id"])
        if hashlib.sha256(content).hexdigest() != attachment["content_hash"]:
            raise Conflict(f"attachment {attachment['attachment_id']} was altered")
        return content
