"""Encryption at rest (SEC-1) and keyed ids (ID-2, ADR-0003), seen from the disk.

Given a realistic rollout through the public API (people with names, e-mail
and postal addresses, a legal representative, a legacy DMP; notices, failed
and successful activations, an opposition, a suspension, a closure), when the
database is read behind the library's back (the raw SQLite file and its WAL;
every row of every table of the PostgreSQL schema), then no personal datum
and no activation code appears in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from espace import RuleViolation, Store
from espace.adapters.crypto import espace_keys
from espace.application import outputs
from espace.domain.identifiers import NIR_OID
from raw_store import leaks, raw_store, sqlite_files


def rollout(store: Store, clock: Any, people: Any) -> tuple[list[Any], list[str]]:
    """Affiliate, notify and act for a handful of people; return them and the
    activation codes handed out."""
    persons = [
        people.make(),
        people.make(sex="M", birth_date=date(1958, 12, 1), place="2A004"),
        people.make(email="", legacy_dmp_ref="DMP-31415926"),
        people.make(postal_address="", legacy_dmp_ref="DMP-27182818"),
        people.make(birth_date=date(2013, 4, 9), minor_representative=True),
        people.make(sex="M", birth_date=date(1999, 1, 23), place="99350"),
    ]
    report = store.lifecycle.affiliate_feed(
        [(line, p.row) for line, p in enumerate(persons, start=2)]
    )
    assert report.created == len(persons), outputs.dump(report)
    for person in persons:
        person.espace_id = store.lifecycle.espace_id_for(person.nir)
    codes: list[str] = []
    clock.advance(hours=1)
    for issued in store.lifecycle.send_notices([p.espace_id for p in persons]):
        owner = next(p for p in persons if str(p.espace_id) == issued.espace.espace_id)
        owner.code = issued.activation_code
        codes.append(issued.activation_code)
    assert len(codes) == len(persons)
    life = store.lifecycle
    clock.advance(days=2)
    with pytest.raises(RuleViolation):
        life.activate(persons[0].activation(code="WRONG-CODE9"))
    life.activate(persons[0].activation())
    life.activate(persons[4].activation(as_representative=True))
    reissued = life.reissue_code(persons[2].espace_id)
    persons[2].code = reissued.activation_code
    codes.append(reissued.activation_code)
    life.activate(persons[2].activation())
    life.oppose(persons[5].espace_id, {"channel": "phone"})
    clock.advance(days=1)
    life.suspend(persons[0].espace_id, {"reason": "suspected fraud"})
    life.close(persons[2].espace_id)
    reopened = life.reopen(persons[2].espace_id)
    codes.append(reopened.activation_code)
    store.sync()
    return persons, codes


def secrets_of(persons: Iterable[Any], codes: Iterable[str]) -> dict[str, bytes]:
    """Every personal datum and code that must never be on disk in clear."""
    needles: dict[str, str] = {}
    for person in persons:
        row = person.row
        needles[f"nir {person.nir}"] = person.nir
        needles[f"vitale serial of {person.nir}"] = person.vitale_serial
        for key in (
            "birth_name",
            "first_names",
            "email",
            "postal_address",
            "representative_name",
            "representative_email",
            "representative_postal_address",
            "legacy_dmp_ref",
        ):
            if row.get(key):
                needles[f"{key} of {person.nir}"] = row[key]
    for code in codes:
        needles[f"code {code}"] = code
        needles[f"code {code} (typed)"] = code.replace("-", "")
    needles["a name stem"] = "QUINTALBROSSARD"
    needles["a representative's name stem"] = "VARLAMOVSKA"
    needles["a street"] = "Mésanges"
    return {what: value.encode("utf-8") for what, value in needles.items()}


def test_no_personal_datum_or_code_is_stored_in_clear_sec_1(
    store: Store, store_url: str, clock: Any, people: Any
) -> None:
    persons, codes = rollout(store, clock, people)
    needles = secrets_of(persons, codes)
    blobs = raw_store(store_url)
    # The scan itself works: the espace ids (not secret) are found in the views.
    espace_hex = persons[0].espace_id.hex.encode()
    espace_text = str(persons[0].espace_id).encode()
    assert any(espace_hex in b or espace_text in b for b in blobs.values())

    assert leaks(blobs, needles) == []


def test_nothing_in_clear_after_the_store_is_closed_and_the_wal_merged_sec_1(
    sqlite_url: str, clock: Any, people: Any, helpers: Any
) -> None:
    with helpers.fresh_store(sqlite_url, clock) as store:
        persons, codes = rollout(store, clock, people)
        store.rebuild_views()

    assert leaks(raw_store(sqlite_url), secrets_of(persons, codes)) == []


def unkeyed_ids(nir: str) -> set[uuid.UUID]:
    """What an attacker would try: the usual unkeyed derivations of a NIR."""
    texts = [nir, f"{NIR_OID}:{nir}", f"{NIR_OID}{nir}"]
    found: set[uuid.UUID] = set()
    for text in texts:
        data = text.encode()
        for namespace in (
            uuid.NAMESPACE_DNS,
            uuid.NAMESPACE_OID,
            uuid.NAMESPACE_URL,
            uuid.NAMESPACE_X500,
        ):
            found.update({uuid.uuid3(namespace, text), uuid.uuid5(namespace, text)})
        for algorithm in ("md5", "sha1", "sha256", "sha512", "blake2b", "sha3_256"):
            raw = bytearray(hashlib.new(algorithm, data).digest()[:16])
            found.add(uuid.UUID(bytes=bytes(raw)))
            raw[6] = (raw[6] & 0x0F) | 0x80
            raw[8] = (raw[8] & 0x3F) | 0x80
            found.add(uuid.UUID(bytes=bytes(raw)))
    return found


def test_espace_ids_are_keyed_hashes_that_differ_across_master_keys_id_2_adr_0003(
    store: Store, tmp_path: Path, clock: Any, people: Any, helpers: Any
) -> None:
    person = people.make()
    espace_id = helpers.affiliate(store, person)
    other_url = f"sqlite:///{tmp_path / 'other-key.db'}"

    with helpers.fresh_store(other_url, clock) as other:
        other_id = other.lifecycle.espace_id_for(person.nir)
        other.lifecycle.affiliate_feed([(2, person.row)])
        assert other.views.espaces.get(other_id) is not None
        assert other.views.espaces.get(espace_id) is None

    assert other_id != espace_id
    assert espace_id not in unkeyed_ids(person.nir)
    assert other_id not in unkeyed_ids(person.nir)
    assert store.views.espaces.get(espace_id) is not None
    assert store.views.espaces.get(other_id) is None
    # With the key it is an HMAC of the INS, stable for the life of the store.
    key = store.lifecycle.hashing.id_key
    digest = hmac.new(key, f"{NIR_OID}:{person.nir}".encode(), hashlib.sha256)
    assert espace_id.bytes[:6] == digest.digest()[:6]
    assert espace_id.version == 8
    assert store.lifecycle.espace_id_for(person.nir) == espace_id


def test_an_erased_espaces_wrapped_key_is_gone_from_the_sqlite_files_sec_4(
    sqlite_url: str, clock: Any, people: Any, helpers: Any
) -> None:
    with helpers.fresh_store(sqlite_url, clock) as store:
        person = people.make()
        espace_id = helpers.affiliate(store, person)
        helpers.notify(store, person)
        store.lifecycle.activate(person.activation())
        with store._infra.keystore.engine.connect() as conn:
            wrapped = conn.execute(
                sa.select(espace_keys.c.wrapped_key).where(
                    espace_keys.c.key_id == espace_id
                )
            ).scalar_one()
        store.lifecycle.request_erasure(espace_id)
        clock.advance(hours=1)
        assert store.run_deadlines()["done"] == {"erasure": 1}

        files = sqlite_files(sqlite_url)  # the live store, as a backup copies it

    assert [name for name, blob in files.items() if wrapped in blob] == []
