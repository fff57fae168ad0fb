"""The inboxes (MSG-1 to MSG-5): one row per conversation, and each message
in exactly the inboxes of its two parties, the holder's and the
professional's (or establishment's).

Only ids, counts, dates and read receipts: subjects, bodies, attachment names
and the establishment's name stay sealed in the events (SEC-1). The holder's
inbox shows a professional's name from the directory view at query time,
never an address (MSG-2). Rows are purged with the espace (SEC-4).
"""

from __future__ import annotations

from collections.abc import Collection
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from espace.domain.actors import ActorKind
from espace.domain.messaging import AuthorKind, Message, Side, side_of
from espace.domain.pages import Rows
from espace.projections.base import (
    VIEWS,
    FoldProjection,
    UtcDateTime,
    checked_queries,
    page_rows,
    unhandled,
)

TS = UtcDateTime()

conversations = sa.Table(
    "view_conversations",
    VIEWS,
    sa.Column("conversation_id", sa.Uuid, primary_key=True),
    sa.Column("espace_id", sa.Uuid, nullable=False, index=True),
    sa.Column("counterpart_kind", sa.String(16), nullable=False),
    sa.Column("counterpart_id", sa.String(16), nullable=False, index=True),
    sa.Column("opened_at", TS, nullable=False),
    sa.Column("last_posted_at", TS, nullable=False),
    sa.Column("message_count", sa.Integer, nullable=False),
    sa.Column("unread_by_holder", sa.Integer, nullable=False),
    sa.Column("unread_by_professional", sa.Integer, nullable=False),
    sa.Column("ended_at", TS),
)

inbox = sa.Table(
    "view_inbox",
    VIEWS,
    sa.Column("conversation_id", sa.Uuid, primary_key=True),
    sa.Column("message_no", sa.Integer, primary_key=True),
    sa.Column("party_kind", sa.String(16), primary_key=True),
    sa.Column("party_id", sa.String(40), nullable=False),
    sa.Column("espace_id", sa.Uuid, nullable=False, index=True),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("author_kind", sa.String(16), nullable=False),
    sa.Column("posted_at", TS, nullable=False),
    sa.Column("read_at", TS),
    sa.Column("attachment_count", sa.Integer, nullable=False),
    sa.Index("ix_inbox_party", "party_kind", "party_id", "posted_at"),
)

ConvState = dict[str, Any]
"""{"conv": row of view_conversations, "msgs": [per message: no, side, ...]}"""


class ConversationsProjection(FoldProjection[ConvState]):
    """The inboxes (MSG-1 to MSG-5, ADR-0012): per conversation, its row (parties,
    counts, unread, ended) and each message once in each party's inbox."""

    name = "inbox"
    tables = (conversations, inbox)
    key_column = "conversation_id"

    def load(
        self, conn: sa.Connection, keys: Collection[UUID]
    ) -> dict[UUID, ConvState]:
        """The stored state of each conversation: its row, and its messages read
        back from the holder's inbox entries (each message is there once)."""
        states: dict[UUID, ConvState] = {}
        ids = list(keys)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            for r in conn.execute(
                conversations.select().where(conversations.c.conversation_id.in_(chunk))
            ).mappings():
                states[r["conversation_id"]] = {"conv": dict(r), "msgs": []}
            query = (
                inbox.select()
                .where(inbox.c.conversation_id.in_(chunk))
                .where(inbox.c.party_kind == str(AuthorKind.HOLDER))
                .order_by(inbox.c.conversation_id, inbox.c.message_no)
            )
            for r in conn.execute(query).mappings():
                states[r["conversation_id"]]["msgs"].append(
                    {
                        "message_no": r["message_no"],
                        "side": str(
                            Side.PROFESSIONAL if r["direction"] == "in" else Side.HOLDER
                        ),
                        "author_kind": r["author_kind"],
                        "posted_at": r["posted_at"],
                        "read_at": r["read_at"],
                        "attachment_count": r["attachment_count"],
                    }
                )
        return states

    def rows(self, key: UUID, state: ConvState) -> dict[sa.Table, list[dict[str, Any]]]:
        """The conversation's row, and each message twice: an entry in the holder's
        inbox and one in the counterpart's, ``in`` for the party it was sent to."""
        conv = state["conv"]
        parties = [
            (str(AuthorKind.HOLDER), str(conv["espace_id"]), Side.PROFESSIONAL),
            (conv["counterpart_kind"], conv["counterpart_id"], Side.HOLDER),
        ]
        entries = [
            {
                "conversation_id": key,
                "message_no": m["message_no"],
                "party_kind": kind,
                "party_id": party_id,
                "espace_id": conv["espace_id"],
                "direction": "in" if m["side"] == incoming else "out",
                "author_kind": m["author_kind"],
                "posted_at": m["posted_at"],
                "read_at": m["read_at"],
                "attachment_count": m["attachment_count"],
            }
            for m in state["msgs"]
            for kind, party_id, incoming in parties
        ]
        return {conversations: [conv], inbox: entries}

    @singledispatchmethod
    def apply(self, event: Any, state: ConvState | None) -> ConvState | None:
        """A conversation's rows after one of its events."""
        raise unhandled(self, event)

    @apply.register
    def _(self, event: Message.Opened, state: ConvState | None) -> ConvState | None:
        conv: dict[str, Any] = {
            "conversation_id": event.originator_id,
            "espace_id": event.espace_id,
            "counterpart_kind": event.opener_kind,
            "counterpart_id": event.opener_id,
            "opened_at": event.timestamp,
            "last_posted_at": event.timestamp,
            "message_count": 0,
            "unread_by_holder": 0,
            "unread_by_professional": 0,
            "ended_at": None,
        }
        return {"conv": conv, "msgs": []}

    @apply.register
    def _(self, event: Message.Posted, state: ConvState | None) -> ConvState | None:
        if state is None:
            return None
        message = {
            "message_no": event.message_no,
            "side": str(side_of(event.author_kind)),
            "author_kind": event.author_kind,
            "posted_at": event.timestamp,
            "read_at": None,
            "attachment_count": len(event.attachments),
        }
        return _counted(
            {**state["conv"], "last_posted_at": event.timestamp},
            [*_copies(state), message],
        )

    @apply.register
    def _(self, event: Message.Read, state: ConvState | None) -> ConvState | None:
        if state is None:
            return None
        msgs = _copies(state)
        for m in msgs:
            if (
                m["side"] != event.reader_side
                and m["message_no"] <= event.up_to
                and m["read_at"] is None
            ):
                m["read_at"] = event.timestamp
        return _counted(dict(state["conv"]), msgs)

    @apply.register
    def _(self, event: Message.Ended, state: ConvState | None) -> ConvState | None:
        if state is None:
            return None
        conv = {**state["conv"], "ended_at": event.timestamp}
        return _counted(conv, _copies(state))


def _copies(state: ConvState) -> list[dict[str, Any]]:
    """A copy of a conversation's messages, to change."""
    return [dict(m) for m in state["msgs"]]


def _counted(conv: dict[str, Any], msgs: list[dict[str, Any]]) -> ConvState:
    """A conversation's rows, its counts of messages (and of those each side
    has not read) taken from ``msgs``."""
    conv["message_count"] = len(msgs)
    conv["unread_by_holder"] = sum(
        1 for m in msgs if m["side"] == Side.PROFESSIONAL and m["read_at"] is None
    )
    conv["unread_by_professional"] = sum(
        1 for m in msgs if m["side"] == Side.HOLDER and m["read_at"] is None
    )
    return {"conv": conv, "msgs": msgs}


@checked_queries
class MessagingQueries:
    """Read side of the inboxes. Whose inbox it is, is the caller's business."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def conversations_of_espace(
        self, espace_id: UUID, *, limit: int = 50, offset: int = 0
    ) -> Rows:
        """The holder's inbox: the conversations of one espace, latest first."""
        return self._conversations(
            conversations.c.espace_id == espace_id, limit, offset
        )

    def conversations_of_party(
        self, kind: ActorKind, party_id: str, *, limit: int = 50, offset: int = 0
    ) -> Rows:
        """A professional's (or establishment's) inbox, latest first."""
        return self._conversations(
            sa.and_(
                conversations.c.counterpart_kind == kind,
                conversations.c.counterpart_id == party_id,
            ),
            limit,
            offset,
        )

    def get(self, conversation_id: UUID) -> dict[str, Any] | None:
        """One conversation's row, ended or not, or ``None``."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    conversations.select().where(
                        conversations.c.conversation_id == conversation_id
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def entries(
        self,
        *,
        party_kind: str | None = None,
        party_id: str | None = None,
        conversation_id: UUID | None = None,
    ) -> list[dict[str, Any]]:
        """Inbox entries (a message as one party sees it: in or out, read or not)."""
        query = inbox.select().order_by(
            inbox.c.conversation_id, inbox.c.message_no, inbox.c.party_kind
        )
        if party_kind is not None:
            query = query.where(inbox.c.party_kind == party_kind)
        if party_id is not None:
            query = query.where(inbox.c.party_id == party_id)
        if conversation_id is not None:
            query = query.where(inbox.c.conversation_id == conversation_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def counts(self) -> dict[str, int]:
        """How many conversations, messages and ended conversations (MSG-3) there
        are: for the operator's stats, with nothing that names anyone."""
        query = sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(conversations.c.message_count), 0),
            sa.func.count(conversations.c.ended_at),
        )
        with self.engine.connect() as conn:
            total, messages, ended = conn.execute(query).one()
        return {
            "conversations": int(total),
            "messages": int(messages),
            "ended": int(ended),
        }

    def _conversations(self, where: Any, limit: int, offset: int) -> Rows:
        query = (
            conversations.select()
            .where(where)
            .order_by(
                conversations.c.last_posted_at.desc(), conversations.c.conversation_id
            )
        )
        with self.engine.connect() as conn:
            return page_rows(conn, query, limit, offset)
