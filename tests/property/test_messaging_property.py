"""Properties of secure messaging (MSG-1, MSG-3), with hypothesis.

- A holder can never start a conversation, whatever the espace's state and
  whatever they write (MSG-1).
- No reply is ever accepted after the end (MSG-3): a state machine drives a
  conversation with replies, follow-ups, reads and an end, against a plain
  model of who may write when; after each step, replaying the events
  rebuilds the live conversation.
- Every message is in exactly the inboxes of its two parties: the inbox
  projection, fed any interleaving of conversations between several holders
  and professionals, lists each message once for the holder and once for the
  professional or establishment that opened the conversation, and for nobody
  else; and folding the events in one page or one by one gives the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from espace.domain.errors import RuleViolation
from espace.domain.messaging import Message
from espace.projections.messaging import ConversationsProjection, inbox

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
STATES = ["affiliated", "notified", "opposed", "open", "active", "suspended", "closed"]
DOCTORS = ["810001045367", "810002000007", "810003000006"]
HOSPITAL = "750712184"

texts = st.text(min_size=0, max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["holder", "representative"]),
    state=st.sampled_from(STATES),
    subject=texts,
    body=texts,
    name=st.none() | texts,
)
def test_a_holder_can_never_start_a_conversation_msg_1(
    kind: str, state: str, subject: str, body: str, name: str | None
) -> None:
    espace_id = uuid4()
    with pytest.raises(RuleViolation) as err:
        Message.open(
            conversation_id=uuid4(),
            espace_id=espace_id,
            espace_state=state,
            at=T0,
            opener_kind=kind,
            opener_id=str(espace_id),
            opener_name=name,
            subject=subject,
            body=body,
        )
    assert err.value.rule == "MSG-1"


class ConversationMachine(RuleBasedStateMachine):
    """One conversation in an activated espace, against a plain model."""

    def __init__(self) -> None:
        super().__init__()
        self.espace_id = uuid4()
        self.now = T0
        self.conversation = Message.open(
            conversation_id=uuid4(),
            espace_id=self.espace_id,
            espace_state="active",
            at=self.now,
            opener_kind="professional",
            opener_id=DOCTORS[0],
            opener_name=None,
            subject="Suivi",
            body="Bonjour",
        )
        self.events: list[Any] = list(self.conversation.collect_events())
        self.ended = False
        self.messages = 1

    def tick(self, minutes: int) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now

    def attempt(self, command: Any, allowed: bool, rule: str) -> None:
        """The aggregate accepts exactly when the model does; a refusal
        names the rule and triggers nothing."""
        error: RuleViolation | None = None
        try:
            command()
        except RuleViolation as exc:
            error = exc
        if error is not None:
            assert not allowed, f"refused ({error.message}) but the model allows it"
            assert error.rule == rule, error.message
            assert self.conversation.collect_events() == []
        else:
            assert allowed, "accepted but the model refuses it"
            self.events.extend(self.conversation.collect_events())

    @rule(
        kind=st.sampled_from(["holder", "representative"]),
        minutes=st.integers(0, 60 * 24 * 30),
        body=st.text(min_size=1, max_size=20).filter(str.strip),
    )
    def holder_replies(self, kind: str, minutes: int, body: str) -> None:
        at = self.tick(minutes)

        def reply() -> None:
            self.conversation.post(
                at=at,
                author_kind=kind,
                author_id=str(self.espace_id),
                espace_state="active",
                body=body,
            )

        self.attempt(reply, allowed=not self.ended, rule="MSG-3")
        if not self.ended:
            self.messages += 1

    @rule(
        author=st.sampled_from(DOCTORS),
        minutes=st.integers(0, 60 * 24),
    )
    def a_professional_writes(self, author: str, minutes: int) -> None:
        at = self.tick(minutes)
        opener = author == DOCTORS[0]

        def post() -> None:
            self.conversation.post(
                at=at,
                author_kind="professional",
                author_id=author,
                espace_state="active",
                body="Suite",
            )

        self.attempt(
            post,
            allowed=opener and not self.ended,
            rule="MSG-1" if not opener else "MSG-3",
        )
        if opener and not self.ended:
            self.messages += 1

    @rule(
        kind=st.sampled_from(["professional", "holder"]),
        minutes=st.integers(0, 600),
    )
    def someone_reads(self, kind: str, minutes: int) -> None:
        at = self.tick(minutes)
        who = DOCTORS[0] if kind == "professional" else str(self.espace_id)
        side = "professional" if kind == "professional" else "holder"
        unread = self.conversation.unread_for(side)
        self.attempt(
            lambda: self.conversation.mark_read(at=at, reader_kind=kind, reader_id=who),
            allowed=unread > 0,
            rule="MSG-1",
        )
        assert self.conversation.unread_for(side) == 0

    @rule(
        by=st.sampled_from(
            [("professional", DOCTORS[0]), ("professional", DOCTORS[1]), ("holder", "")]
        ),
        minutes=st.integers(0, 600),
    )
    def someone_ends(self, by: tuple[str, str], minutes: int) -> None:
        at = self.tick(minutes)
        kind, who = by
        who = who or str(self.espace_id)
        allowed = kind == "professional" and who == DOCTORS[0] and not self.ended
        self.attempt(
            lambda: self.conversation.end(at=at, by_kind=kind, by_id=who),
            allowed=allowed,
            rule="MSG-3",
        )
        self.ended = self.ended or allowed

    @invariant()
    def no_message_after_the_end_and_replay_equals_live(self) -> None:
        assert len(self.conversation.messages) == self.messages
        if self.conversation.ended_at is not None:
            assert all(
                m["posted_at"] <= self.conversation.ended_at
                for m in self.conversation.messages
            )
        replayed: Any = None
        for event in self.events:
            replayed = event.mutate(replayed)
        assert replayed.__dict__ == self.conversation.__dict__


ConversationMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
TestNoReplyIsEverAcceptedAfterTheEndMsg3 = ConversationMachine.TestCase


# --------------------------------------------------------------------- inboxes

openers = st.sampled_from(
    [("professional", d) for d in DOCTORS] + [("establishment", HOSPITAL)]
)


@st.composite
def conversations(draw: Any) -> list[Any]:
    """Events of several conversations, interleaved as a log would hold them."""
    holders = [uuid4() for _ in range(draw(st.integers(1, 3)))]
    streams: list[Sequence[Any]] = []
    at = T0
    for _ in range(draw(st.integers(1, 5))):
        espace_id = draw(st.sampled_from(holders))
        kind, opener = draw(openers)
        c = Message.open(
            conversation_id=uuid4(),
            espace_id=espace_id,
            espace_state="active",
            at=at,
            opener_kind=kind,
            opener_id=opener,
            opener_name="CHU" if kind == "establishment" else None,
            subject="Sujet",
            body="Bonjour",
        )
        for step in draw(st.lists(st.sampled_from("hprx"), max_size=8)):
            at += timedelta(minutes=5)
            try:
                if step == "h":
                    c.post(
                        at=at,
                        author_kind="holder",
                        author_id=str(espace_id),
                        espace_state="active",
                        body="Réponse",
                    )
                elif step == "p":
                    c.post(
                        at=at,
                        author_kind=kind,
                        author_id=opener,
                        espace_state="active",
                        body="Suite",
                    )
                elif step == "r":
                    c.mark_read(at=at, reader_kind="holder", reader_id=str(espace_id))
                else:
                    c.end(at=at, by_kind=kind, by_id=opener)
            except RuleViolation:
                pass
        streams.append(c.collect_events())
    order = draw(st.permutations([i for i, s in enumerate(streams) for _ in s]))
    cursors = [0] * len(streams)
    log: list[Any] = []
    for i in order:
        log.append(streams[i][cursors[i]])
        cursors[i] += 1
    return log


def _fold(events: list[Any], pages: list[int]) -> list[dict[str, Any]]:
    """Apply the projection page by page, as the runner does, and
    return the inbox rows it would write."""
    projection = ConversationsProjection()
    states: dict[UUID, Any] = {}
    start = 0
    for size in [*pages, len(events)]:
        for event in events[start : start + size]:
            key = projection.espace_id_of(event)
            states[key] = projection.apply(event, states.get(key))
        start += size
    rows: list[dict[str, Any]] = []
    for key, state in states.items():
        if state is not None:
            rows.extend(projection.rows(key, state)[inbox])
    return rows


@settings(max_examples=150, deadline=None)
@given(log=conversations(), pages=st.lists(st.integers(1, 5), max_size=4))
def test_every_message_is_in_exactly_the_inboxes_of_its_two_parties(
    log: list[Any], pages: list[int]
) -> None:
    rows = _fold(log, pages)
    posted = [e for e in log if isinstance(e, Message.Posted)]
    opened = {e.originator_id: e for e in log if isinstance(e, Message.Opened)}
    parties: dict[tuple[UUID, int], set[tuple[str, str]]] = {}
    for r in rows:
        parties.setdefault((r["conversation_id"], r["message_no"]), set()).add(
            (r["party_kind"], r["party_id"])
        )
    assert Counter((r["conversation_id"], r["message_no"]) for r in rows) == Counter(
        {(e.originator_id, e.message_no): 2 for e in posted}
    )
    for e in posted:
        o = opened[e.originator_id]
        assert parties[(e.originator_id, e.message_no)] == {
            ("holder", str(o.espace_id)),
            (o.opener_kind, o.opener_id),
        }
    by_entry = {
        (r["conversation_id"], r["message_no"], r["party_kind"]): r for r in rows
    }
    for e in posted:
        mine = "holder" if e.author_kind in ("holder", "representative") else None
        holder_row = by_entry[(e.originator_id, e.message_no, "holder")]
        assert holder_row["direction"] == ("out" if mine else "in")

    def key(r: dict[str, Any]) -> tuple[str, int, str]:
        return (str(r["conversation_id"]), r["message_no"], r["party_kind"])

    one_page = sorted(_fold(log, []), key=key)
    assert one_page == sorted(_fold(log, [1] * len(log)), key=key)
