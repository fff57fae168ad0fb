"""Operator logs carry ids, never personal data in clear (SEC-3).

Given a lifecycle run through the public API under
``structlog.testing.capture_logs()``, then no log entry holds a NIR, a name,
an e-mail or postal address, an activation code or a Vitale serial, and each
entry about one espace carries its ``espace_id``. ``capture_logs`` sees what
the call sites pass, before any processor: the call sites themselves must be
clean. The ``redact`` processor is the safety net behind them, tested apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from espace import InvalidInput, RuleViolation, Store
from espace.adapters.logging import SENSITIVE_KEYS, configure_logging, redact

NIR = "295109912611193"
CORSICAN_NIR = "253072B07300470"
EMAIL = "zephyrine.quintal@example.org"

PER_ESPACE_EVENTS = {
    "notice.sent",
    "activation.failed",
    "activation.succeeded",
    "opposition.declared",
    "espace.suspended",
    "suspension.objected",
    "erasure.requested",
    "espace.erased",
    "espace.closed",
    "espace.reopened",
}


def flatten(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, default=repr, ensure_ascii=False)


def secrets_of(persons: list[Any], codes: list[str]) -> list[str]:
    found: list[str] = []
    for person in persons:
        found += [person.nir, person.vitale_serial, person.birth_date.isoformat()]
        found += [
            value
            for key, value in person.row.items()
            if value
            and key
            in {
                "birth_name",
                "first_names",
                "email",
                "postal_address",
                "representative_name",
                "representative_email",
                "representative_postal_address",
                "legacy_dmp_ref",
            }
        ]
    for code in codes:
        found += [code, code.replace("-", "")]
    return found


def test_lifecycle_logs_carry_no_personal_data_and_name_each_espace_by_id_sec_3(
    store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    holder = people.make(legacy_dmp_ref="DMP-90210001")
    opposer = people.make(sex="M", birth_date=date(1966, 6, 6), place="2B033")
    minor = people.make(birth_date=date(2014, 2, 2), minor_representative=True)
    bad = people.make()
    bad.row["sex"] = "M"  # does not match the NIR: rejected with its line
    persons = [holder, opposer, minor]
    codes: list[str] = []

    with capture_logs() as entries:
        feed = [(n, p.row) for n, p in enumerate([*persons, bad], start=2)]
        report = store.lifecycle.affiliate_feed(feed)
        assert report.created == 3
        for person in persons:
            person.espace_id = store.lifecycle.espace_id_for(person.nir)
            helpers.notify(store, person)
            codes.append(person.code)
        clock.advance(days=1)
        with pytest.raises(RuleViolation):
            store.lifecycle.activate(holder.activation(code="WRONG-CODE7"))
        with pytest.raises(InvalidInput):
            store.lifecycle.activate(holder.activation(birth_date="not a date"))
        store.lifecycle.activate(holder.activation())
        store.lifecycle.activate(minor.activation(as_representative=True))
        store.lifecycle.oppose(opposer.espace_id, {"channel": "phone"})
        clock.advance(days=1)
        store.lifecycle.suspend(holder.espace_id, {"reason": "suspected fraud"})
        store.lifecycle.object_to_suspension(holder.espace_id)
        store.lifecycle.close(minor.espace_id)
        codes.append(store.lifecycle.reopen(minor.espace_id).activation_code)
        store.lifecycle.request_erasure(holder.espace_id)
        clock.advance(hours=2)
        assert store.run_deadlines()["done"] == {"erasure": 1}
        store.rebuild_views()

    assert entries, "the lifecycle logged nothing"
    needles = secrets_of([*persons, bad], codes)
    leaked = [
        (entry.get("event"), needle)
        for entry in entries
        for needle in needles
        if needle.lower() in flatten(entry).lower()
    ]
    assert leaked == []
    seen = {entry["event"] for entry in entries}
    assert seen >= PER_ESPACE_EVENTS
    ids = {str(p.espace_id) for p in persons}
    for entry in entries:
        if entry["event"] in PER_ESPACE_EVENTS:
            assert entry.get("espace_id") in ids, entry


def test_every_deadline_entry_names_its_espace_by_id_only_sec_3(
    store: Store, clock: Any, people: Any, helpers: Any, monkeypatch: Any
) -> None:
    person = people.make()
    helpers.affiliate(store, person)
    deadline = helpers.notify(store, person)
    monkeypatch.setattr(store.deadlines, "sync", lambda: None)
    monkeypatch.setattr(store._infra.events, "after_save", None)
    store.lifecycle.oppose(person.espace_id)  # the to-do list is now stale
    clock.set(deadline + timedelta(hours=1))

    with capture_logs() as entries:
        report = store.run_deadlines()

    assert report["skipped"] == {"opening": 1}
    [skipped] = [e for e in entries if e["event"] == "deadline.skipped"]
    # The subject of an espace deadline is the espace: named by its id only.
    assert skipped.get("espace_id", skipped.get("subject_id")) == str(person.espace_id)
    assert skipped["kind"] == "opening"
    assert all(person.nir not in flatten(e) for e in entries)


# --------------------------------------------------------------------- redact


def test_redact_masks_nir_like_text_in_values_sec_3() -> None:
    entry = redact(
        None,
        "info",
        {
            "event": f"holder {NIR} called",
            "note": f"corse {CORSICAN_NIR}; other 195109912611134",
            "espace_id": "0d6a0a8e-3c1f-8a55-9d7e-1b2c3d4e5f60",
        },
    )

    text = flatten(dict(entry))
    assert NIR not in text
    assert CORSICAN_NIR not in text
    assert "195109912611134" not in text
    assert entry["event"] == "holder [nir] called"
    assert entry["espace_id"] == "0d6a0a8e-3c1f-8a55-9d7e-1b2c3d4e5f60"


def test_redact_masks_email_like_text_in_values_sec_3() -> None:
    entry = redact(
        None,
        "info",
        {
            "event": "notice bounced",
            "detail": f"to <{EMAIL}> and A.B+c@Mail.Example.FR",
        },
    )

    assert EMAIL not in entry["detail"]
    assert "Mail.Example.FR" not in entry["detail"]
    assert entry["detail"].count("[email]") == 2


@pytest.mark.parametrize("key", [*sorted(SENSITIVE_KEYS), "NIR", "Email"])
def test_redact_drops_the_value_of_every_sensitive_key_sec_3(key: str) -> None:
    value = {"name": "QUINTAL", "email": EMAIL} if key == "representative" else "X7Q"
    entry = redact(None, "info", {"event": "e", key: value, "state": "open"})

    assert entry.get(key) in (None, "[redacted]")
    assert "QUINTAL" not in flatten(dict(entry))
    assert entry["state"] == "open"


def test_redact_leaves_ids_states_and_counts_alone_sec_3() -> None:
    entry = {
        "event": "deadlines.run",
        "espace_id": "0d6a0a8e-3c1f-8a55-9d7e-1b2c3d4e5f60",
        "state": "open",
        "done_opening": 12,
        "kind": "opening",
    }

    assert redact(None, "info", dict(entry)) == entry


@pytest.fixture
def restore_structlog() -> Iterator[None]:
    config = structlog.get_config()
    yield
    structlog.configure(**config)


@pytest.mark.usefixtures("restore_structlog")
def test_configured_json_logs_on_stderr_are_redacted_even_from_a_careless_call_sec_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    log = structlog.get_logger("espace.test")

    log.info("careless", nir=NIR, email=EMAIL, note=f"for {NIR} at {EMAIL}")
    try:
        raise ValueError(f"bad NIR {NIR}")
    except ValueError:
        log.exception("failed", espace_id="abc")
    log.debug("hidden below INFO", detail="x")

    out, err = capsys.readouterr()
    assert out == ""
    lines = [json.loads(line) for line in err.splitlines()]
    assert [e["event"] for e in lines] == ["careless", "failed"]
    assert NIR not in err
    assert EMAIL not in err
    assert lines[1]["espace_id"] == "abc"
    assert "ValueError" in lines[1]["exception"]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"nir": NIR, "email": EMAIL}, id="nested-dict"),
        pytest.param([NIR, EMAIL], id="list"),
        pytest.param((NIR,), id="tuple"),
        pytest.param(int(NIR), id="int"),
        pytest.param(f"cache_key=espace_{NIR}", id="glued-to-underscore"),
    ],
)
def test_redact_masks_a_nir_wherever_it_hides_in_a_value_sec_3(value: Any) -> None:
    entry = redact(None, "info", {"event": "e", "payload": value})

    text = flatten(dict(entry))
    assert NIR not in text
    assert EMAIL not in text
