"""Secure messaging, rule by rule (MSG-1 to MSG-5, LC-4).

Given a conversation built through the aggregate's own commands (its events
drained with ``collect_events()``), when one command runs, then it triggers
exactly the expected events, or raises the ``RuleViolation`` that names the
rule and triggers nothing. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from espace.domain.errors import RuleViolation
from espace.domain.messaging import Message

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ESPACE = UUID("11111111-2222-4333-8444-555555555555")
HOLDER = str(ESPACE)
DOCTOR = "810001045367"
OTHER_DOCTOR = "810002000007"
HOSPITAL = "750712184"
SHA = "a" * 64


def opened(
    *,
    state: str = "active",
    kind: str = "professional",
    opener: str = DOCTOR,
    name: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> Message:
    conversation = Message.open(
        conversation_id=uuid4(),
        espace_id=ESPACE,
        espace_state=state,
        at=T0,
        opener_kind=kind,
        opener_id=opener,
        opener_name=name,
        subject="Vos résultats d'analyse",
        body="Bonjour, vos résultats sont arrivés.",
        attachments=attachments or [],
    )
    conversation.collect_events()
    return conversation


def file_attachment(**overrides: Any) -> dict[str, Any]:
    a: dict[str, Any] = {
        "attachment_id": uuid4(),
        "kind": "file",
        "content_id": uuid4(),
        "filename": "bilan.pdf",
        "format": "application/pdf",
        "size": 1024,
        "content_hash": SHA,
    }
    a.update(overrides)
    return a


def names(events: Sequence[object]) -> list[str]:
    return [type(e).__name__ for e in events]


def refused(rule: str, call: Any, conversation: Message | None = None) -> None:
    with pytest.raises(RuleViolation) as err:
        call()
    assert err.value.rule == rule, err.value.message
    if conversation is not None:
        assert conversation.collect_events() == []


def reply(
    conversation: Message,
    *,
    kind: str = "holder",
    author: str = HOLDER,
    state: str = "active",
    at: datetime = T0 + timedelta(hours=1),
    body: str = "Merci docteur.",
) -> int:
    return conversation.post(
        at=at, author_kind=kind, author_id=author, espace_state=state, body=body
    )


# --------------------------------------------------------------------- MSG-1


def test_a_professional_opens_a_conversation_with_its_first_message_msg_1() -> None:
    conversation = Message.open(
        conversation_id=uuid4(),
        espace_id=ESPACE,
        espace_state="active",
        at=T0,
        opener_kind="professional",
        opener_id=DOCTOR,
        opener_name=None,
        subject="  Résultats  ",
        body="Bonjour",
    )
    events = conversation.collect_events()
    assert names(events) == ["Opened", "Posted"]
    opened_event, posted = events
    assert isinstance(opened_event, Message.Opened)
    assert isinstance(posted, Message.Posted)
    assert opened_event.espace_id == ESPACE
    assert posted.espace_id == ESPACE
    assert conversation.subject == "Résultats"
    assert conversation.messages[0]["message_no"] == 1
    assert conversation.messages[0]["side"] == "professional"


def test_an_establishment_opens_under_the_name_the_holder_will_see_msg_1_msg_2() -> (
    None
):
    conversation = opened(kind="establishment", opener=HOSPITAL, name="CHU de Nantes")
    assert conversation.opener_name == "CHU de Nantes"
    refused("MSG-2", lambda: opened(kind="establishment", opener=HOSPITAL, name="  "))


@pytest.mark.parametrize("kind", ["holder", "representative"])
def test_a_holder_can_never_start_a_conversation_msg_1(kind: str) -> None:
    refused("MSG-1", lambda: opened(kind=kind, opener=HOLDER))


def test_a_subject_and_a_body_are_required_msg_1() -> None:
    def open_with(subject: str, body: str) -> Message:
        return Message.open(
            conversation_id=uuid4(),
            espace_id=ESPACE,
            espace_state="active",
            at=T0,
            opener_kind="professional",
            opener_id=DOCTOR,
            opener_name=None,
            subject=subject,
            body=body,
        )

    refused("MSG-1", lambda: open_with(" ", "Bonjour"))
    refused("MSG-1", lambda: open_with("x" * 201, "Bonjour"))
    refused("MSG-1", lambda: open_with("Sujet", "   "))


def test_the_holder_replies_and_the_professional_writes_again_msg_1() -> None:
    conversation = opened()
    assert reply(conversation) == 2
    assert reply(conversation, kind="representative") == 3
    assert reply(conversation, kind="professional", author=DOCTOR) == 4
    assert names(conversation.collect_events()) == ["Posted"] * 3
    assert [m["side"] for m in conversation.messages] == [
        "professional",
        "holder",
        "holder",
        "professional",
    ]


@pytest.mark.parametrize(
    ("kind", "author"),
    [
        ("professional", OTHER_DOCTOR),
        ("establishment", HOSPITAL),
        ("holder", "7546c004-869e-464e-8874-6e7056fb524c"),  # another espace
    ],
)
def test_only_the_two_parties_write_in_a_conversation_msg_1(
    kind: str, author: str
) -> None:
    conversation = opened()
    refused(
        "MSG-1", lambda: reply(conversation, kind=kind, author=author), conversation
    )


# --------------------------------------------------------------------- MSG-5


@pytest.mark.parametrize("state", ["open", "active"])
def test_the_inbox_exists_once_the_espace_is_open_or_activated_msg_5(
    state: str,
) -> None:
    assert opened(state=state).messages


@pytest.mark.parametrize(
    "state", ["affiliated", "notified", "opposed", "suspended", "closed", "erased"]
)
def test_no_conversation_is_opened_where_there_is_no_inbox_msg_5(state: str) -> None:
    refused("MSG-5", lambda: opened(state=state))


def test_the_professional_writes_again_only_while_the_inbox_is_open_msg_5() -> None:
    conversation = opened()
    refused(
        "MSG-5",
        lambda: reply(conversation, kind="professional", author=DOCTOR, state="closed"),
        conversation,
    )


@pytest.mark.parametrize(
    ("state", "rule"),
    [("open", "LC-4"), ("suspended", "LC-7"), ("closed", "LC-8")],
)
def test_the_holder_replies_only_from_an_activated_espace_lc_4_lc_7_lc_8(
    state: str, rule: str
) -> None:
    conversation = opened(state="open")
    refused(rule, lambda: reply(conversation, state=state), conversation)


# --------------------------------------------------------------------- MSG-3


def test_the_professional_ends_the_conversation_msg_3() -> None:
    conversation = opened()
    conversation.end(at=T0 + timedelta(hours=2), by_kind="professional", by_id=DOCTOR)
    assert names(conversation.collect_events()) == ["Ended"]
    assert conversation.ended


@pytest.mark.parametrize(
    ("kind", "who"),
    [("holder", HOLDER), ("representative", HOLDER), ("professional", OTHER_DOCTOR)],
)
def test_only_the_professional_who_opened_it_ends_a_conversation_msg_3(
    kind: str, who: str
) -> None:
    conversation = opened()
    refused(
        "MSG-3",
        lambda: conversation.end(at=T0, by_kind=kind, by_id=who),
        conversation,
    )


def test_after_the_end_the_holder_cannot_reply_and_is_told_why_msg_3() -> None:
    conversation = opened()
    conversation.end(at=T0 + timedelta(hours=2), by_kind="professional", by_id=DOCTOR)
    conversation.collect_events()
    with pytest.raises(RuleViolation) as err:
        reply(conversation, at=T0 + timedelta(days=1))
    assert err.value.rule == "MSG-3"
    assert "ended this conversation" in err.value.message
    assert "new one" in err.value.message
    assert conversation.collect_events() == []


def test_after_the_end_nobody_writes_and_it_is_not_ended_twice_msg_3() -> None:
    conversation = opened()
    conversation.end(at=T0, by_kind="professional", by_id=DOCTOR)
    conversation.collect_events()
    refused(
        "MSG-3",
        lambda: reply(conversation, kind="professional", author=DOCTOR),
        conversation,
    )
    refused(
        "MSG-3",
        lambda: conversation.end(at=T0, by_kind="professional", by_id=DOCTOR),
        conversation,
    )


# --------------------------------------------------------------------- receipts


def test_reading_marks_the_other_sides_messages_read_read_receipts() -> None:
    conversation = opened()
    reply(conversation)
    reply(conversation, kind="professional", author=DOCTOR)
    conversation.collect_events()
    assert conversation.unread_for("holder") == 2
    assert conversation.unread_for("professional") == 1
    at = T0 + timedelta(hours=3)
    assert conversation.mark_read(at=at, reader_kind="holder", reader_id=HOLDER) == 2
    [event] = conversation.collect_events()
    assert isinstance(event, Message.Read)
    assert (type(event).__name__, event.reader_side, event.up_to) == (
        "Read",
        "holder",
        3,
    )
    assert [m["read_at"] for m in conversation.messages] == [at, None, at]
    refused(
        "MSG-1",
        lambda: conversation.mark_read(at=at, reader_kind="holder", reader_id=HOLDER),
        conversation,
    )
    refused(
        "MSG-1",
        lambda: conversation.mark_read(
            at=at, reader_kind="professional", reader_id=OTHER_DOCTOR
        ),
        conversation,
    )


# --------------------------------------------------------------------- MSG-4


def test_attachments_refer_to_a_document_or_carry_a_file_msg_4() -> None:
    doc = {"attachment_id": uuid4(), "kind": "document", "document_id": uuid4()}
    conversation = opened(attachments=[doc, file_attachment()])
    assert len(conversation.messages[0]["attachments"]) == 2
    for bad in (
        file_attachment(format="application/zip"),
        file_attachment(size=0),
        file_attachment(size=50 * 1024 * 1024 + 1),
        file_attachment(content_hash="abc"),
        file_attachment(filename=""),
        {"attachment_id": uuid4(), "kind": "document"},
        {"attachment_id": uuid4(), "kind": "link"},
    ):
        refused("MSG-4", lambda bad=bad: opened(attachments=[bad]))
    refused("MSG-4", lambda: opened(attachments=[file_attachment()] * 11))


def test_the_holder_adds_a_file_attachment_to_the_record_once_msg_4() -> None:
    attachment = file_attachment()
    conversation = opened(attachments=[attachment])
    document_id = uuid4()
    got = conversation.add_attachment_to_record(
        at=T0,
        by_kind="holder",
        by_id=HOLDER,
        attachment_id=attachment["attachment_id"],
        document_id=document_id,
    )
    assert got["content_id"] == attachment["content_id"]
    assert names(conversation.collect_events()) == ["AttachmentAddedToRecord"]
    assert conversation.added_to_record == {attachment["attachment_id"]: document_id}
    refused(
        "MSG-4",
        lambda: conversation.add_attachment_to_record(
            at=T0,
            by_kind="holder",
            by_id=HOLDER,
            attachment_id=attachment["attachment_id"],
            document_id=uuid4(),
        ),
        conversation,
    )


def test_only_the_holder_adds_and_only_files_not_yet_in_the_record_msg_4() -> None:
    doc = {"attachment_id": uuid4(), "kind": "document", "document_id": uuid4()}
    attachment = file_attachment()
    conversation = opened(attachments=[doc, attachment])
    for kind, who, att in [
        ("professional", DOCTOR, attachment["attachment_id"]),
        ("holder", str(uuid4()), attachment["attachment_id"]),
        ("holder", HOLDER, doc["attachment_id"]),
        ("holder", HOLDER, uuid4()),
    ]:
        refused(
            "MSG-4",
            lambda kind=kind, who=who, att=att: conversation.add_attachment_to_record(
                at=T0, by_kind=kind, by_id=who, attachment_id=att, document_id=uuid4()
            ),
            conversation,
        )


# --------------------------------------------------------------------- time


def test_times_are_aware_and_never_before_the_last_event() -> None:
    conversation = opened()
    refused("MSG-1", lambda: reply(conversation, at=T0 - timedelta(seconds=1)))
    refused("MSG-1", lambda: reply(conversation, at=T0.replace(tzinfo=None)))


def test_replaying_the_events_rebuilds_the_live_conversation() -> None:
    attachment = file_attachment()
    conversation = Message.open(
        conversation_id=uuid4(),
        espace_id=ESPACE,
        espace_state="active",
        at=T0,
        opener_kind="professional",
        opener_id=DOCTOR,
        opener_name=None,
        subject="Suivi",
        body="Bonjour",
        attachments=[attachment],
    )
    reply(conversation)
    conversation.mark_read(
        at=T0 + timedelta(hours=2), reader_kind="professional", reader_id=DOCTOR
    )
    conversation.add_attachment_to_record(
        at=T0 + timedelta(hours=3),
        by_kind="holder",
        by_id=HOLDER,
        attachment_id=attachment["attachment_id"],
        document_id=uuid4(),
    )
    conversation.end(at=T0 + timedelta(hours=4), by_kind="professional", by_id=DOCTOR)
    replayed: Any = None
    for event in conversation.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.__dict__ == conversation.__dict__
