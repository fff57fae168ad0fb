"""Every event class that can be stored, pinned with its topic, its class
version and its fields (ADR-0024). Stored events are decoded by topic, so a
renamed, moved or removed class makes the log unreadable (LC-8, ACC-6: the
log is the source of truth for ten years and more); and a changed set of
fields needs a new ``class_version`` with its upcaster. This test says which
of the two a change needs. The pin is ``event_topics.json`` beside it:
update it in the same commit as the upcaster, never alone."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
from pathlib import Path
from typing import Any

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import get_topic, resolve_topic

import espace.domain

PIN = Path(__file__).with_name("event_topics.json")
ENVELOPE = {"originator_id", "originator_version", "timestamp"}


def stored_event_classes() -> dict[str, type[Any]]:
    """The concrete event classes of every aggregate of the domain: those
    no other event of the aggregate derives from, but the library's unused
    ``Created``."""
    found: dict[str, type[Any]] = {}
    for info in pkgutil.iter_modules(espace.domain.__path__):
        module = importlib.import_module(f"espace.domain.{info.name}")
        for aggregate in vars(module).values():
            if not (
                inspect.isclass(aggregate)
                and issubclass(aggregate, Aggregate)
                and aggregate.__module__ == module.__name__
            ):
                continue
            events = [
                e
                for e in vars(aggregate).values()
                if inspect.isclass(e) and issubclass(e, DomainEvent)
            ]
            for event in events:
                derived = any(o is not event and issubclass(o, event) for o in events)
                # the library makes a ``Created`` for each aggregate; ours
                # create with their own (``Started``, ``Affiliated``…)
                unused = event.__name__ == "Created" and any(
                    o is not event and issubclass(o, Aggregate.Created) for o in events
                )
                if not (derived or unused):
                    found[get_topic(event)] = event
    return found


def shape(event: type[Any]) -> dict[str, Any]:
    return {
        "class_version": getattr(event, "class_version", 1),
        "fields": sorted(
            f.name for f in dataclasses.fields(event) if f.name not in ENVELOPE
        ),
    }


def current() -> dict[str, dict[str, Any]]:
    return {topic: shape(cls) for topic, cls in sorted(stored_event_classes().items())}


def test_every_stored_topic_still_decodes_and_keeps_its_fields_lc_8() -> None:
    pinned: dict[str, dict[str, Any]] = json.loads(PIN.read_text("utf-8"))
    now = current()
    gone = sorted(set(pinned) - set(now))
    for topic in gone:  # a class may move if the old topic is registered
        assert get_topic(resolve_topic(topic)) in now, (
            f"{topic}: stored events of this topic would no longer decode; keep "
            "the class, or register_topic() its old name (ADR-0024)"
        )
    new = sorted(set(now) - set(pinned) - {get_topic(resolve_topic(t)) for t in gone})
    assert not new, f"new event classes: add them to {PIN.name}: {new}"
    for topic, was in pinned.items():
        is_ = now[get_topic(resolve_topic(topic))]
        if is_["fields"] != was["fields"]:
            assert is_["class_version"] > was["class_version"], (
                f"{topic}: its fields changed ({was['fields']} -> {is_['fields']}): "
                "bump class_version and add its upcast_vN_vN+1 (ADR-0024)"
            )
        assert is_["class_version"] == was["class_version"], (
            f"{topic}: class_version {was['class_version']} -> "
            f"{is_['class_version']}: pin the new shape in {PIN.name}"
        )


def test_every_class_version_has_its_chain_of_upcasters_lc_8() -> None:
    for topic, event in stored_event_classes().items():
        version = getattr(event, "class_version", 1)
        for n in range(1, version):
            upcast = getattr(event, f"upcast_v{n}_v{n + 1}", None)
            assert callable(upcast), f"{topic}: no upcast_v{n}_v{n + 1}"


def test_the_worked_upcast_takes_a_v1_trace_to_v2_acc_6() -> None:
    """ADR-0024's example: a trace stored before its provenance reads with
    the provenance not recorded (None), not as a decision of today."""
    from espace.domain.trace import PROVENANCE, AccessTrace

    state: dict[str, Any] = {"actor_kind": "professional", "allowed": True}
    AccessTrace.Recorded.upcast_v1_v2(state)
    assert {name: state[name] for name in PROVENANCE} == dict.fromkeys(PROVENANCE)
    assert (state["actor_kind"], state["allowed"]) == ("professional", True)
