"""A stored trace reads as it was written (ACC-6, LC-8): the event's fields
come from :class:`TraceFacts`, declared once, and the stored state must not
move for it. The state below is the one the event stored when its fields
were written out on it, byte for byte."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, asdict
from datetime import UTC, datetime
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent

from espace.adapters.transcodings import register_transcodings
from espace.domain.actors import ActorKind
from espace.domain.trace import AccessTrace, Alert, TraceFacts

TRACE_ID = UUID(int=9)
STORED_STATE = (
    '{"timestamp":{"_type_":"datetime_iso","_data_":"2024-01-02T03:04:05+00:00"},'
    '"originator_topic":"espace.domain.trace:AccessTrace",'
    '"espace_id":{"_type_":"uuid_hex","_data_":"00000000000000000000000000000001"},'
    '"actor_kind":"professional","actor_id":"810000000001","actor_profession":"10",'
    '"action":"read","mode":"care","allowed":true,"ground":"care_team",'
    '"rule":null,"reason":null,'
    '"document_id":{"_type_":"uuid_hex","_data_":"00000000000000000000000000000002"},'
    '"version_id":null,"detail":null,"espace_version":3,"consent_version":0,'
    '"document_version":null,"matrix_version":1,"listing_version":null,'
    '"decided_by":"decision","class_version":2}'
)
TOPIC = "espace.domain.trace:AccessTrace.Recorded"
AT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
FACTS = TraceFacts(
    espace_id=UUID(int=1),
    actor_kind="professional",
    actor_id="810000000001",
    actor_profession="10",
    action="read",
    mode="care",
    allowed=True,
    ground="care_team",
    document_id=UUID(int=2),
    espace_version=3,
    consent_version=0,
    matrix_version=1,
)


def mapper() -> Mapper[UUID]:
    transcoder = JSONTranscoder()
    register_transcodings(transcoder)
    return Mapper(transcoder=transcoder)


def test_a_trace_stored_before_the_facts_were_declared_once_reads_the_same() -> None:
    stored = StoredEvent(
        originator_id=TRACE_ID,
        originator_version=1,
        topic=TOPIC,
        state=STORED_STATE.encode("utf-8"),
    )
    recorded = mapper().to_domain_event(stored)
    assert isinstance(recorded, AccessTrace.Recorded)
    trace: AccessTrace | None = recorded.mutate(None)
    assert isinstance(trace, AccessTrace)
    assert (trace.id, trace.created_on, trace.facts) == (TRACE_ID, AT, FACTS)


def test_a_trace_recorded_now_stores_the_same_state() -> None:
    trace = AccessTrace.record(trace_id=TRACE_ID, at=AT, facts=FACTS)
    (event,) = trace.collect_events()
    stored = mapper().to_stored_event(event)
    assert (stored.topic, stored.originator_version) == (TOPIC, 1)
    assert stored.state.decode("utf-8") == STORED_STATE


def test_an_actor_kind_given_as_its_enum_is_stored_as_its_plain_string() -> None:
    """The use cases pass ``ActorKind`` members where they passed strings:
    a StrEnum is a ``str``, and the transcoder writes its value."""
    alert = Alert.raise_(
        alert_id=UUID(int=7),
        espace_id=UUID(int=1),
        at=AT,
        recipient_kind=ActorKind.HOLDER,
        recipient_id=str(UUID(int=1)),
        reason="emergency_access",
    )
    (event,) = alert.collect_events()
    codec = mapper()
    stored = codec.to_stored_event(event)
    assert '"recipient_kind":"holder"' in stored.state.decode("utf-8")
    reread = codec.to_domain_event(stored)
    assert type(vars(reread)["recipient_kind"]) is str


def test_facts_read_from_a_stored_trace_are_the_declared_facts_frozen() -> None:
    """ACC-6: the facts a loaded trace builds at once (``TraceFacts.of_event``)
    are the dataclass's: equal, hashable, and still frozen."""
    stored = StoredEvent(
        originator_id=TRACE_ID,
        originator_version=1,
        topic=TOPIC,
        state=STORED_STATE.encode("utf-8"),
    )
    recorded = mapper().to_domain_event(stored)
    assert isinstance(recorded, AccessTrace.Recorded)
    trace: AccessTrace | None = recorded.mutate(None)
    assert isinstance(trace, AccessTrace)
    facts = trace.facts
    assert type(facts) is TraceFacts
    assert hash(facts) == hash(FACTS)
    assert asdict(facts) == asdict(FACTS)
    with pytest.raises(FrozenInstanceError):
        facts.allowed = False  # type: ignore[misc]
