"""How a conversation is shown (MSG-2): the messages with their authors'
names (a professional's from the directory, never an address), the
attachments, and what a post returns. A mixin of
:class:`espace.application.messaging.MessagingService`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from espace.application.common import ServiceBase
from espace.application.queries import DirectoryView
from espace.domain.actors import Actor
from espace.domain.espace import EspaceSante
from espace.domain.messaging import (
    HOLDER_SIDE,
    AuthorKind,
    Message,
    Side,
    side_of,
)


class ConversationViews(ServiceBase):
    """The plain data a conversation is shown as, to each side."""

    directory_view: DirectoryView

    def _posted(self, conversation: Message, number: int) -> dict[str, Any]:
        message = conversation.messages[number - 1]
        return {
            "conversation_id": str(conversation.id),
            "espace_id": str(conversation.espace_id),
            "message_no": number,
            "attachments": [
                {
                    "attachment_id": str(a["attachment_id"]),
                    "kind": a["kind"],
                    **({"filename": a["filename"]} if a["kind"] == "file" else {}),
                    **(
                        {"document_id": str(a["document_id"])}
                        if a["kind"] == "document"
                        else {}
                    ),
                }
                for a in message["attachments"]
            ],
        }

    def _opener_name(self, conversation: Message, names: Mapping[str, str]) -> str:
        """MSG-2: the professional's name from the directory, never an address."""
        if conversation.opener_kind == AuthorKind.ESTABLISHMENT:
            return conversation.opener_name or conversation.opener_id
        return names.get(conversation.opener_id) or (
            f"professional {conversation.opener_id}"
        )

    def _holder_name(self, espace_id: UUID) -> str:
        ins = self._espace(espace_id).ins
        return f"{ins.first_names} {ins.birth_name}"

    def _view(
        self, conversation: Message, actor: Actor, espace: EspaceSante
    ) -> dict[str, Any]:
        names = self.directory_view.names([conversation.opener_id])
        opener = self._opener_name(conversation, names)
        messages = []
        for m in conversation.messages:
            holder_side = m["author_kind"] in HOLDER_SIDE
            messages.append(
                {
                    "message_no": m["message_no"],
                    "author_kind": m["author_kind"],
                    "author": m["author_kind"] if holder_side else opener,
                    "body": m["body"],
                    "posted_at": m["posted_at"],
                    "read_at": m["read_at"],
                    "attachments": [
                        self._attachment_view(conversation, a) for a in m["attachments"]
                    ],
                }
            )
        view: dict[str, Any] = {
            "conversation_id": str(conversation.id),
            "espace_id": str(conversation.espace_id),
            "subject": conversation.subject,
            "opened_by": {
                "kind": conversation.opener_kind,
                "id": conversation.opener_id,
                "name": opener,
            },
            "opened_at": conversation.created_on,
            "ended_at": conversation.ended_at,
            "messages": messages,
        }
        if side_of(actor.kind) is Side.PROFESSIONAL:
            ins = espace.ins
            view["holder_name"] = f"{ins.first_names} {ins.birth_name}"
        return view

    @staticmethod
    def _attachment_view(conversation: Message, a: Mapping[str, Any]) -> dict[str, Any]:
        if a["kind"] == "document":
            return {
                "attachment_id": str(a["attachment_id"]),
                "kind": "document",
                "document_id": str(a["document_id"]),
            }
        added = conversation.added_to_record.get(a["attachment_id"])
        return {
            "attachment_id": str(a["attachment_id"]),
            "kind": "file",
            "filename": a["filename"],
            "format": a["format"],
            "size": a["size"],
            "added_to_record_as": str(added) if added else None,
        }
