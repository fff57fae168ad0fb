"""The byte-scan proof of issue 9: an erasure really erases (SEC-4, LC-9),
seen from the disk and from a dump, on SQLite and PostgreSQL.

Given two people with a realistic espace each, built through the public API
(affiliated with names, e-mail and postal address; notified; activated; a
report deposited by a physician; and for the first one also a message with
an attachment from that physician, an allergy in the profile, an emergency
read that notified the holder and the médecin traitant), when the first one
asks for express erasure and the deadline job carries it out (LC-9), then:

- before and after, the raw bytes (on SQLite every file of the store and of
  its keystore, WAL included; on PostgreSQL a real ``pg_dump
  --format=custom --compress=0`` of the schema) hold none of the person's
  identity, contacts, document title or content in clear (SEC-1), raw,
  hex-encoded (how a dump writes ``bytea``) or in base64;
- after, the erased espace's wrapped data key, found there before (the scan
  sees it), is found nowhere (SEC-4);
- the espaces view keeps only a tombstone of the erased espace, no other
  view names it, nothing of it can be read through the API, the other
  person's record reads as before, and the audit trail still verifies.

The second test does the same with the keystore apart (ADR-0028) and scans
the backups of both parts (ADR-0030) taken before and after the erasure.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest
import sqlalchemy as sa

from espace import NotFound, Store, backup_keystore, backup_store, init_store
from espace.adapters.crypto import espace_keys
from espace.adapters.settings import KEYSTORE_URL_ENV
from espace.application.messaging import NewFile
from espace.domain.actors import Actor
from espace.projections.espaces import espaces as espaces_table
from espace.projections.espaces import tombstone
from raw_store import cells, leaks, rows_naming, sqlite_files
from records_world import GP, PHYSICIAN, STRANGER, Record, choose, list_the_cast

TITLE = "Compte rendu de coloscopie OKAPIGRAMME"
CONTENT = "Polype sessile VELOCIRAPTORINE de 7 mm, exérèse complète.".encode()
KEPT_TITLE = "Bilan sanguin PANGOLINESQUE"
KEPT_CONTENT = b"Hemoglobine 13.2 g/dL TAMANOIRIQUE"
SUBJECT = "Vos resultats ORNITHORYNQUE"
BODY = "Bonjour, voici le compte rendu CASOARIFORME."
ATTACHMENT = b"%PDF-1.4 ordonnance GAVIALIDAE"
ALLERGY = "Nitrofurantoine OCELOTIQUE"


@dataclass
class World:
    """The two records: ``erased`` will ask for erasure, ``kept`` will not."""

    erased: Record
    kept: Record
    document_id: UUID
    kept_document_id: UUID
    conversation_id: UUID

    def secrets(self) -> dict[str, bytes]:
        """What must never be on disk in clear: the erased person's identity,
        contacts, activation code and health data (and the kept one's)."""
        found: dict[str, str] = {}
        for label, rec in (("erased", self.erased), ("kept", self.kept)):
            person = rec.person
            found[f"{label} nir"] = person.nir
            found[f"{label} vitale serial"] = person.vitale_serial
            found[f"{label} activation code"] = person.code
            for key in ("birth_name", "first_names", "email", "postal_address"):
                found[f"{label} {key}"] = person.row[key]
        values = {what: value.encode() for what, value in found.items()}
        values.update(
            {
                "title": TITLE.encode(),
                "content": CONTENT,
                "kept title": KEPT_TITLE.encode(),
                "kept content": KEPT_CONTENT,
                "message subject": SUBJECT.encode(),
                "message body": BODY.encode(),
                "attachment": ATTACHMENT,
                "allergy": ALLERGY.encode(),
                "a name stem": b"QUINTALBROSSARD",
                "a street": "Mésanges".encode(),
            }
        )
        return encodings(values)


def encodings(values: dict[str, bytes]) -> dict[str, bytes]:
    """Each value as it is, hex-encoded (``bytea`` in a dump) and in base64
    (``bytes`` in JSON)."""
    out: dict[str, bytes] = {}
    for what, value in values.items():
        out[what] = value
        out[f"{what} (hex)"] = value.hex().encode()
        out[f"{what} (base64)"] = base64.b64encode(value)
    return out


def activated(store: Store, clock: Any, people: Any, helpers: Any) -> Record:
    person = people.make()
    helpers.affiliate(store, person)
    helpers.notify(store, person)
    clock.advance(days=1)
    store.lifecycle.activate(person.activation())
    rec = Record(store, clock, person.espace_id, person)
    choose(rec, "designate-medecin-traitant", GP)
    choose(rec, "grant", PHYSICIAN)
    return rec


def build(store: Store, clock: Any, people: Any, helpers: Any) -> World:
    """Two activated espaces; the first one well used."""
    list_the_cast(store)
    erased = activated(store, clock, people, helpers)
    kept = activated(store, clock, people, helpers)
    document_id = erased.deposit(PHYSICIAN, title=TITLE, content=CONTENT)
    kept_document_id = kept.deposit(PHYSICIAN, title=KEPT_TITLE, content=KEPT_CONTENT)
    clock.advance(minutes=1)
    opened = store.messaging.open(
        Actor.professional(PHYSICIAN.id),
        erased.espace_id,
        {"subject": SUBJECT, "body": BODY},
        files=[NewFile("ordonnance.pdf", "application/pdf", ATTACHMENT)],
    )
    store.profile.record_allergy(
        erased.holder, erased.espace_id, {"substance": ALLERGY, "severity": "severe"}
    )
    clock.advance(minutes=1)
    read = store.records.read(STRANGER, document_id, mode="emergency")  # ACC-5
    assert read["content"] == CONTENT
    store.sync()
    world = World(
        erased, kept, document_id, kept_document_id, UUID(opened["conversation_id"])
    )
    assert rows_naming(store, erased.espace_id).keys() >= {
        "view_documents",
        "view_notifications",
        "view_conversations",
        "view_profiles",
        "document_contents",
    }
    return world


def wrapped_key(store: Store, espace_id: UUID) -> bytes:
    """The espace's data key as the keystore holds it, wrapped by the KEK."""
    with store._infra.keystore.engine.connect() as conn:
        wrapped = conn.execute(
            sa.select(espace_keys.c.wrapped_key).where(
                espace_keys.c.key_id == espace_id
            )
        ).scalar_one()
    assert wrapped
    return bytes(wrapped)


def pg_dump(url: str, out: Path) -> bytes:
    """A real ``pg_dump`` of the URL's schema, as ``espace backup`` takes it
    (custom format, uncompressed): its bytes."""
    program = shutil.which("pg_dump")
    assert program is not None, "pg_dump is not installed"
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    subprocess.run(
        [
            program,
            "--format=custom",
            "--compress=0",
            "--no-owner",
            "--no-privileges",
            f"--schema={schema}",
            f"--file={out}",
            f"--dbname={url.split('?', maxsplit=1)[0]}",
        ],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def haystacks(urls: list[str], out: Path) -> dict[str, bytes]:
    """Everything at rest: on SQLite the files (the keystore's beside them,
    WAL included) and every cell; on PostgreSQL a dump of each schema and
    every cell."""
    found: dict[str, bytes] = {}
    for n, url in enumerate(urls):
        if url.startswith("sqlite"):
            found.update(sqlite_files(url))
        else:
            out.mkdir(exist_ok=True)
            found[f"pg_dump of {url}"] = pg_dump(url, out / f"dump-{n}.pgdump")
        found.update({f"{url}: {k}": v for k, v in cells(url).items()})
    return found


def key_needles(wrapped: bytes) -> dict[str, bytes]:
    """The wrapped key's bytes as a file (raw) or a dump (hex) holds them."""
    return {"wrapped key": wrapped, "wrapped key (hex)": wrapped.hex().encode()}


def places(blobs: dict[str, bytes], needles: dict[str, bytes]) -> set[str]:
    """Where any of the needles is, exactly as it is."""
    return {
        where
        for where, blob in blobs.items()
        if any(n in blob for n in needles.values())
    }


def erase(world: World, store: Store, clock: Any) -> None:
    """LC-9: the holder asks; the deadline job carries it out."""
    clock.advance(minutes=1)
    store.lifecycle.request_erasure(world.erased.espace_id)
    clock.advance(hours=1)
    assert store.run_deadlines()["done"] == {"erasure": 1}


def assert_erased_and_kept(world: World, store: Store) -> None:
    """SEC-4: only a tombstone of the erased espace; nothing of it reads;
    the other record reads as before; the history still verifies."""
    espace_id = world.erased.espace_id
    assert rows_naming(store, espace_id) == {espaces_table.name: 1}
    with store._infra.engine.connect() as conn:
        row = conn.execute(
            sa.select(espaces_table).where(espaces_table.c.espace_id == espace_id)
        ).one()
    assert dict(row._mapping) == tombstone(espace_id)
    assert store.views.espaces.get(espace_id)["state"] == "erased"  # type: ignore[index]
    with pytest.raises(NotFound):
        store.lifecycle.get(espace_id)
    with pytest.raises(NotFound):
        store.records.read(PHYSICIAN, world.document_id)
    with pytest.raises(NotFound):
        store.messaging.read(Actor.holder(espace_id), world.conversation_id)
    assert store.keys_status()["shredded_keys"] == 1

    kept = world.kept.espace_id
    assert store.lifecycle.get(kept).state == "active"
    assert store.views.espaces.get(kept)["state"] == "active"  # type: ignore[index]
    read = store.records.read(PHYSICIAN, world.kept_document_id)
    assert (read["title"], read["content"]) == (KEPT_TITLE, KEPT_CONTENT)
    assert "view_documents" in rows_naming(store, kept)
    assert store.audit.verify().intact is True


def test_an_erasure_leaves_nothing_of_the_person_in_the_files_or_a_dump_sec_4_lc_9(
    store: Store, store_url: str, clock: Any, people: Any, helpers: Any, tmp_path: Path
) -> None:
    """SEC-4, LC-9, SEC-1: the keys where the store keeps them by default
    (a keystore file beside the SQLite file; the store's own PostgreSQL
    schema)."""
    world = build(store, clock, people, helpers)
    secrets = world.secrets()
    wrapped = key_needles(wrapped_key(store, world.erased.espace_id))
    kept_key = key_needles(wrapped_key(store, world.kept.espace_id))

    before = haystacks([store_url], tmp_path / "before")
    espace_id = world.erased.espace_id
    assert any(
        str(espace_id).encode() in b or espace_id.hex.encode() in b
        for b in before.values()
    )
    assert places(before, wrapped), "the scan must see the key where it is"
    assert leaks(before, secrets) == []

    erase(world, store, clock)

    after = haystacks([store_url], tmp_path / "after")
    assert leaks(after, secrets) == []
    assert places(after, wrapped) == set()
    assert places(after, kept_key), "the other key is still there"
    assert_erased_and_kept(world, store)
    if store_url.startswith("sqlite"):  # the WAL merged on close
        store.close()
        closed = haystacks([store_url], tmp_path / "closed")
        assert leaks(closed, secrets) == []
        assert places(closed, wrapped) == set()


@pytest.fixture
def apart(
    store_url: str, keystore_url: str, clock: Any, helpers: Any
) -> Iterator[tuple[Store, dict[str, str]]]:
    """A store whose keystore is apart (ADR-0028), and its environment."""
    env = {**helpers.store_environ(store_url), KEYSTORE_URL_ENV: keystore_url}
    init_store(store_url, simulation=True, environ=env)
    with Store.open(store_url, clock=clock, environ=env) as opened:
        yield opened, env


def backups(store_url: str, env: dict[str, str], out: Path) -> tuple[bytes, bytes]:
    """``espace backup`` and ``espace keys backup`` (ADR-0030): the bytes of
    each file."""
    stored = backup_store(store_url, out / "store", environ=env)
    keys = backup_keystore(store_url, out / "keys", environ=env)
    return Path(stored.file).read_bytes(), Path(keys.file).read_bytes()


def test_backups_and_a_keystore_apart_hold_nothing_of_an_erased_person_sec_4_lc_9(
    apart: tuple[Store, dict[str, str]],
    store_url: str,
    keystore_url: str,
    clock: Any,
    people: Any,
    helpers: Any,
    tmp_path: Path,
) -> None:
    """SEC-4, LC-9, ADR-0028, ADR-0030: with the keystore apart, the backups
    taken before the erasure hold no datum in clear (the keystore's holds the
    key, wrapped: erasing again after a restore of it destroys the key again,
    test_erasure_completion); those taken after, and both live parts, hold
    neither the data nor the key."""
    store, env = apart
    world = build(store, clock, people, helpers)
    secrets = world.secrets()
    wrapped = key_needles(wrapped_key(store, world.erased.espace_id))
    old_store, old_keys = backups(store_url, env, tmp_path / "before")
    old = {"store backup": old_store, "keystore backup": old_keys}
    assert leaks(old, secrets) == []
    assert places(old, wrapped) == {"keystore backup"}  # never in the store's
    live = haystacks([store_url, keystore_url], tmp_path / "live-before")
    assert leaks(live, secrets) == []

    erase(world, store, clock)

    new_store, new_keys = backups(store_url, env, tmp_path / "after")
    new = {"store backup": new_store, "keystore backup": new_keys}
    live = haystacks([store_url, keystore_url], tmp_path / "live-after")
    assert leaks({**new, **live}, secrets) == []
    assert places({**new, **live}, wrapped) == set()
    assert_erased_and_kept(world, store)
