"""Encryption at rest with per-espace keys (SEC-1) and crypto-shredding (SEC-4).

Every test that touches a store runs on a SQLite file and on PostgreSQL, through
a real eventsourcing ``Application`` whose mapper is our ``EspaceMapper``.
The plaintext checks read the database behind the library's back: the raw
SQLite files and every table of the PostgreSQL schema.
"""

from __future__ import annotations

import base64
import stat
import unittest
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.cipher import AESCipher
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.tests import persistence as es_persistence
from eventsourcing.utils import Environment, get_topic

from espace.adapters.crypto import (
    KEYSTORE_METADATA,
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    SYSTEM_KEY_ID,
    EspaceMapper,
    EventKeyShredded,
    KeyNotFound,
    KeyShredded,
    Keystore,
    Secrets,
    default_key_file,
    generate_master_key_file,
    load_secrets,
    new_master_key,
)
from espace.adapters.settings import (
    StoreSettings,
    create_engine,
    parse_database_url,
)
from espace.adapters.transcodings import DateAsISO, register_transcodings
from espace.application.errors import ConfigurationError, NotFound
from raw_store import cells, leaks, raw_store

# Personal data that must never reach the disk in clear (SEC-1).
NIR = "295109912611193"
NAME = "Zéphyrine Quintal-Brossard"
EMAIL = "zephyrine.quintal@example.org"
NEW_EMAIL = "z.quintal-brossard@example.net"
BIRTH_DATE = date(1995, 10, 3)
NOTE_TEXT = "allergie sévère à la pénicilline"
PLAINTEXTS = [NIR, NAME, "Quintal", EMAIL, NEW_EMAIL, "1995-10-03", NOTE_TEXT]

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
MASTER = bytes(range(32))
OTHER_MASTER = bytes(range(100, 132))


# -- a tiny domain, shaped like the real one ---------------------------------


class Holder(Aggregate):
    """An espace: its own id is its key id."""

    class Registered(Aggregate.Created):
        nir: str
        name: str
        email: str
        birth_date: date

    @event(Registered)
    def __init__(self, nir: str, name: str, email: str, birth_date: date) -> None:
        self.nir = nir
        self.name = name
        self.email = email
        self.birth_date = birth_date

    class EmailChanged(Aggregate.Event):
        email: str

    @event(EmailChanged)
    def change_email(self, email: str) -> None:
        self.email = email


class Note(Aggregate):
    """Belongs to an espace, like a Document: every event carries espace_id."""

    class Written(Aggregate.Created):
        KEY_SCOPE = "espace"
        espace_id: UUID
        text: str

    @event(Written)
    def __init__(self, espace_id: UUID, text: str) -> None:
        self.espace_id = espace_id
        self.text = text

    class Amended(Aggregate.Event):
        KEY_SCOPE = "espace"
        espace_id: UUID
        text: str

    def amend(self, text: str) -> None:
        self.trigger_event(self.Amended, espace_id=self.espace_id, text=text)

    @event(Amended)
    def _amended(self, espace_id: UUID, text: str) -> None:
        self.text = text


class Profession(Aggregate):
    """Reference data: sealed under the system key, survives every erasure."""

    KEY_SCOPE = "system"

    class Listed(Aggregate.Created):
        KEY_SCOPE = "system"
        label: str

    @event(Listed)
    def __init__(self, label: str) -> None:
        self.label = label


class HealthApp(Application[UUID]):
    is_snapshotting_enabled = True

    def __init__(self, env: dict[str, str], keystore: Keystore) -> None:
        self.keystore = keystore
        super().__init__(env)

    def construct_mapper(self) -> Mapper[UUID]:
        return EspaceMapper(
            transcoder=self.construct_transcoder(), keystore=self.keystore
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        register_transcodings(transcoder)


@dataclass
class Store:
    settings: StoreSettings
    engine: sa.Engine
    keystore: Keystore
    app: HealthApp
    others: list[HealthApp] = field(default_factory=list)

    def new_app(self, keystore: Keystore | None = None) -> HealthApp:
        """Another process's view of the store (kept alive: apps close on GC)."""
        app = HealthApp(
            self.settings.eventsourcing_env(create_tables=True),
            keystore or self.keystore,
        )
        self.others.append(app)
        return app

    def register(self, email: str = EMAIL) -> Holder:
        holder = Holder(NIR, NAME, email, BIRTH_DATE)
        self.app.save(holder)
        return holder


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    settings = parse_database_url(store_url)
    engine = create_engine(settings)
    keystore = Keystore(engine, Secrets.from_master_key(MASTER))
    keystore.create_tables()
    app = HealthApp(settings.eventsourcing_env(create_tables=True), keystore)
    store = Store(settings, engine, keystore, app)
    try:
        yield store
    finally:
        for each in [app, *store.others]:
            each.close()
        engine.dispose()


# -- reading the store behind the library's back ----------------------------


def raw_events(store: Store) -> dict[tuple[UUID, int], tuple[Any, str, bytes]]:
    """(originator id, version) -> (raw id as stored, topic, state)."""
    table = store.app.recorder.events_table_name  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT originator_id, originator_version, topic, state FROM {table}"
            )
        ).all()
    return {
        (UUID(str(oid)), version): (oid, topic, bytes(state))
        for oid, version, topic, state in rows
    }


def raw_update(
    store: Store,
    oid: UUID,
    version: int,
    *,
    state: bytes | None = None,
    topic: str | None = None,
) -> None:
    table = store.app.recorder.events_table_name  # type: ignore[attr-defined]
    raw_oid, old_topic, old_state = raw_events(store)[(oid, version)]
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                f"UPDATE {table} SET state = :state, topic = :topic "
                "WHERE originator_id = :oid AND originator_version = :version"
            ),
            {
                "state": old_state if state is None else state,
                "topic": old_topic if topic is None else topic,
                "oid": raw_oid,
                "version": version,
            },
        )


def count_statements(engine: sa.Engine) -> list[str]:
    statements: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _count(*args: Any) -> None:
        statements.append(str(args[2]))

    return statements


# -- SEC-1: encrypted at rest ------------------------------------------------


def test_events_round_trip_through_the_espace_mapper_sec_1(store: Store) -> None:
    holder = store.register()
    holder.change_email(NEW_EMAIL)
    note = Note(holder.id, NOTE_TEXT)
    store.app.save(holder, note)

    copy: Holder = store.new_app().repository.get(holder.id)
    assert (copy.nir, copy.name, copy.email) == (NIR, NAME, NEW_EMAIL)
    assert copy.birth_date == BIRTH_DATE
    assert type(copy.birth_date) is date
    assert copy.version == 2
    assert store.app.repository.get(note.id).text == NOTE_TEXT


def test_no_personal_data_appears_in_any_table_or_file_sec_1(store: Store) -> None:
    holder = store.register()
    holder.change_email(NEW_EMAIL)
    note = Note(holder.id, NOTE_TEXT)
    store.app.save(holder, note, Profession("Médecin"))
    store.app.take_snapshot(holder.id)
    store.app.take_snapshot(note.id)

    blobs = raw_store(store.settings.url)
    needles = {p: p.encode("utf-8") for p in [*PLAINTEXTS, "birth_date", "Médecin"]}
    assert leaks(blobs, needles) == []
    # What stays in clear, on purpose: topics and ids (ADR-0004).
    assert any(b"Holder.Registered" in v for v in blobs.values())


def test_the_key_id_header_names_the_espace_system_or_own_key_sec_1(
    store: Store,
) -> None:
    holder = store.register()
    note = Note(holder.id, NOTE_TEXT)
    note.amend("rectifié")
    profession = Profession("Infirmier")
    store.app.save(note, profession)
    store.app.take_snapshot(note.id)
    store.app.take_snapshot(holder.id)

    events = raw_events(store)
    key_of = {
        key: EspaceMapper.key_id_of(StoredEvent(key[0], key[1], topic, state))
        for key, (_raw, topic, state) in events.items()
    }
    assert key_of[(holder.id, 1)] == holder.id
    assert key_of[(note.id, 1)] == key_of[(note.id, 2)] == holder.id
    assert key_of[(profession.id, 1)] == SYSTEM_KEY_ID
    assert store.app.snapshots is not None
    note_snapshot = store.app.snapshots.recorder.select_events(note.id)[-1]
    holder_snapshot = store.app.snapshots.recorder.select_events(holder.id)[-1]
    assert EspaceMapper.key_id_of(note_snapshot) == holder.id
    assert EspaceMapper.key_id_of(holder_snapshot) == holder.id


def test_an_espace_scoped_event_without_espace_id_is_refused_sec_4() -> None:
    class Orphan:
        KEY_SCOPE = "espace"
        originator_id = uuid4()

    with pytest.raises(TypeError, match="SEC-4"):
        EspaceMapper.key_id_for(Orphan())


def test_a_state_that_is_not_sealed_is_a_deserialisation_error_sec_1(
    store: Store,
) -> None:
    holder = store.register()
    raw_update(store, holder.id, 1, state=b'{"nir": "clear"}')
    with pytest.raises(MapperDeserialisationError, match="not sealed"):
        store.new_app().repository.get(holder.id)


@pytest.mark.parametrize(
    "swap",
    [
        "same topic and version, another espace",
        "same espace, topic and version, another aggregate",
        "same aggregate and topic, another version",
        "same aggregate and version, another topic",
    ],
)
def test_a_state_moved_to_another_row_fails_to_decrypt_sec_1(
    store: Store, swap: str
) -> None:
    """The AES-GCM associated data binds key id, originator, version and topic."""
    holder = store.register()
    holder.change_email("a@example.org")
    holder.change_email("b@example.org")
    other = Holder(NIR, "Autre", EMAIL, BIRTH_DATE)
    note1, note2 = Note(holder.id, NOTE_TEXT), Note(holder.id, "autre note")
    note1.amend("rectifié")
    store.app.save(holder, other, note1, note2)
    events = raw_events(store)

    def state(oid: UUID, version: int) -> bytes:
        return events[(oid, version)][2]

    if swap == "same topic and version, another espace":
        raw_update(store, holder.id, 1, state=state(other.id, 1))
        victim, version = holder.id, 1
    elif swap == "same espace, topic and version, another aggregate":
        raw_update(store, note1.id, 1, state=state(note2.id, 1))
        victim, version = note1.id, 1
    elif swap == "same aggregate and topic, another version":
        raw_update(store, holder.id, 2, state=state(holder.id, 3))
        victim, version = holder.id, 2
    else:
        raw_update(store, note1.id, 2, topic=get_topic(Holder.EmailChanged))
        victim, version = note1.id, 2

    with pytest.raises(MapperDeserialisationError) as caught:
        store.new_app().repository.get(victim)
    assert not isinstance(caught.value, EventKeyShredded)
    message = str(caught.value)
    assert str(victim) in message
    assert f"originator_version {version}" in message
    assert not any(p in message for p in PLAINTEXTS)
    # The untouched neighbour still reads.
    assert store.new_app().repository.get(note2.id).text == "autre note"


# -- SEC-4: crypto-shredding -------------------------------------------------


def test_shredding_an_espace_key_erases_its_events_and_only_them_sec_4(
    store: Store,
) -> None:
    erased, kept = store.register(), store.register()
    note = Note(erased.id, NOTE_TEXT)
    profession = Profession("Pharmacien")
    store.app.save(note, profession)
    store.app.take_snapshot(note.id)

    store.keystore.shred(erased.id, at=T0)

    for app in (
        store.app,
        store.new_app(Keystore(store.engine, Secrets.from_master_key(MASTER))),
    ):
        for aggregate_id in (erased.id, note.id):
            with pytest.raises(EventKeyShredded) as caught:
                app.repository.get(aggregate_id)
            assert caught.value.key_id == erased.id
            assert "SEC-4" in str(caught.value)
        assert app.repository.get(kept.id).email == EMAIL
        assert app.repository.get(profession.id).label == "Pharmacien"


def test_a_projection_runner_can_tell_erased_events_apart_while_reading_a_page_sec_4(
    store: Store,
) -> None:
    erased, kept = store.register(), store.register()
    store.keystore.shred(erased.id, at=T0)
    page = store.app.recorder.select_notifications(start=1, limit=500)
    keystore = Keystore(store.engine, Secrets.from_master_key(MASTER))
    keystore.preload(EspaceMapper.key_id_of(n) for n in page)
    mapper = EspaceMapper(transcoder=store.app.mapper.transcoder, keystore=keystore)

    shredded: list[UUID] = []
    read: list[UUID] = []
    for notification in page:
        try:
            read.append(mapper.to_domain_event(notification).originator_id)
        except EventKeyShredded as exc:
            shredded.append(exc.key_id)
    assert shredded == [erased.id]
    assert read == [kept.id]


def test_a_shredded_key_stays_as_a_tombstone_without_key_material_sec_4(
    store: Store,
) -> None:
    holder = store.register()
    wrapped_before = _key_row(store, holder.id)["wrapped_key"]
    assert wrapped_before

    store.keystore.shred(holder.id, at=T0)
    store.keystore.shred(holder.id, at=T0 + timedelta(days=1))  # idempotent

    row = _key_row(store, holder.id)
    assert row["wrapped_key"] is None
    assert row["shredded_at"] is not None
    assert row["shredded_at"].replace(tzinfo=UTC) == T0
    assert row["created_at"] is not None
    assert store.keystore.is_shredded(holder.id)
    fresh = Keystore(store.engine, Secrets.from_master_key(MASTER))
    with pytest.raises(KeyShredded) as caught:
        fresh.data_key(holder.id)
    assert isinstance(caught.value, NotFound)
    assert caught.value.key_id == holder.id
    # An erased espace never gets a fresh key.
    fresh.ensure_keys([holder.id], at=T0)
    assert _key_row(store, holder.id)["wrapped_key"] is None
    # Nothing of the old wrapped key is left in any table.
    assert leaks(cells(store.settings.url), {"key": bytes(wrapped_before)}) == []


def test_shredding_an_id_that_never_had_a_key_leaves_a_tombstone_sec_4(
    store: Store,
) -> None:
    never = uuid4()
    store.keystore.shred(never, at=T0)
    assert store.keystore.is_shredded(never)
    with pytest.raises(KeyShredded):
        store.keystore.data_key(never)


def test_on_sqlite_no_byte_of_a_shredded_key_is_left_in_the_files_sec_4(
    sqlite_url: str,
) -> None:
    settings = parse_database_url(sqlite_url)
    engine = create_engine(settings)
    keystore = Keystore(engine, Secrets.from_master_key(MASTER))
    keystore.create_tables()
    espace_id = uuid4()
    keystore.ensure_keys([espace_id], at=T0)
    with engine.connect() as conn:
        wrapped = conn.execute(
            sa.text("SELECT wrapped_key FROM espace_keys WHERE key_id = :k"),
            {"k": espace_id.hex},
        ).scalar_one()
    data_key = keystore.data_key(espace_id)
    keystore.compact()
    assert settings.sqlite_path is not None
    assert wrapped in settings.sqlite_path.read_bytes()

    keystore.shred(espace_id, at=T0)
    assert keystore.compact()
    # Read while the engine is still open: closing the last connection would
    # checkpoint the WAL by itself and hide a missing compact().
    files = b"".join(
        p.read_bytes() for p in settings.sqlite_path.parent.iterdir() if p.is_file()
    )
    engine.dispose()
    assert wrapped not in files
    assert data_key not in files


def test_the_system_key_is_created_with_the_tables_and_cannot_be_shredded(
    store: Store,
) -> None:
    assert _key_row(store, SYSTEM_KEY_ID)["wrapped_key"]
    with pytest.raises(ValueError, match="reference data"):
        store.keystore.shred(SYSTEM_KEY_ID, at=T0)


def test_a_shred_by_another_process_takes_effect_here_after_the_cache_ttl_sec_4(
    store: Store,
) -> None:
    now = [0.0]
    here = Keystore(
        store.engine,
        Secrets.from_master_key(MASTER),
        ttl_seconds=60,
        monotonic=lambda: now[0],
    )
    espace_id = uuid4()
    here.ensure_keys([espace_id], at=T0)
    assert here.data_key(espace_id)

    store.keystore.shred(espace_id, at=T0)  # "another process"
    now[0] = 30.0
    assert here.data_key(espace_id)  # still cached
    now[0] = 61.0
    with pytest.raises(KeyShredded):
        here.data_key(espace_id)


def _key_row(store: Store, key_id: UUID) -> dict[str, Any]:
    table = KEYSTORE_METADATA.tables["espace_keys"]
    with store.engine.connect() as conn:
        return dict(
            conn.execute(sa.select(table).where(table.c.key_id == key_id))
            .one()
            ._mapping
        )


# -- keystore mechanics ------------------------------------------------------


def test_ensure_keys_is_idempotent_and_creates_all_missing_keys_in_one_transaction(
    store: Store,
) -> None:
    ids = [uuid4() for _ in range(1200)]
    commits: list[int] = []
    sa.event.listen(store.engine, "commit", lambda _conn: commits.append(1))
    store.keystore.ensure_keys(ids, at=T0)
    assert len(commits) == 1

    keys = {k: store.keystore.data_key(k) for k in ids[:5]}
    store.keystore.ensure_keys([*ids, *ids[:5]], at=T0 + timedelta(days=1))
    fresh = Keystore(store.engine, Secrets.from_master_key(MASTER))
    assert {k: fresh.data_key(k) for k in ids[:5]} == keys
    with store.engine.connect() as conn:
        count = conn.execute(sa.text("SELECT COUNT(*) FROM espace_keys")).scalar_one()
    assert count == 1200 + 2  # and the system key and the hashing secrets
    assert len(set(keys.values())) == 5


def test_ensure_keys_keeps_the_key_another_process_created_first_sec_1(
    store: Store,
) -> None:
    """Two processes affiliating the same person: the first row wins, the
    second ensure_keys() inserts nothing, and both seal under the same key."""
    espace_id = uuid4()
    winner = Keystore(store.engine, Secrets.from_master_key(MASTER))
    loser = Keystore(store.engine, Secrets.from_master_key(MASTER))
    winner.ensure_keys([espace_id], at=T0)
    before = _key_row(store, espace_id)
    loser.ensure_keys([espace_id], at=T0 + timedelta(days=1))
    assert _key_row(store, espace_id) == before
    assert loser.data_key(espace_id) == winner.data_key(espace_id)


def test_ensure_keys_on_a_mixed_batch_creates_only_the_new_ids_sec_1_sec_4(
    store: Store,
) -> None:
    """A feed run again with new people in it: the known ids keep their keys,
    the shredded one stays shredded, the new ones get keys, all in one call."""
    known, shredded, new = uuid4(), uuid4(), [uuid4() for _ in range(3)]
    other = Keystore(store.engine, Secrets.from_master_key(MASTER))
    other.ensure_keys([known, shredded], at=T0)
    other.shred(shredded, at=T0)
    writer = Keystore(store.engine, Secrets.from_master_key(MASTER))
    writer.ensure_keys([known, shredded, *new], at=T0)
    assert writer.data_key(known) == other.data_key(known)
    with pytest.raises(KeyShredded):
        writer.data_key(shredded)
    reader = Keystore(store.engine, Secrets.from_master_key(MASTER))
    assert {k: reader.data_key(k) for k in new} == {k: writer.data_key(k) for k in new}


def test_ensure_keys_skips_the_ids_it_already_holds(store: Store) -> None:
    ids = [uuid4() for _ in range(3)]
    store.keystore.ensure_keys(ids, at=T0)
    statements = count_statements(store.engine)
    store.keystore.ensure_keys(ids, at=T0)
    assert statements == []


def test_preload_reads_a_page_of_keys_in_one_query(store: Store) -> None:
    ids = [uuid4() for _ in range(50)]
    store.keystore.ensure_keys(ids, at=T0)
    reader = Keystore(store.engine, Secrets.from_master_key(MASTER))
    reader.verify_master_key()  # as a store opens it
    statements = count_statements(store.engine)
    reader.preload([*ids, uuid4()])
    assert len(statements) == 1
    for key_id in ids:
        reader.data_key(key_id)
    assert len(statements) == 1
    with pytest.raises(KeyNotFound):
        reader.data_key(uuid4())


def test_the_key_cache_is_bounded_and_evicts_the_least_recently_used(
    store: Store,
) -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    store.keystore.ensure_keys([a, b, c], at=T0)
    reader = Keystore(store.engine, Secrets.from_master_key(MASTER), cache_size=2)
    reader.verify_master_key()  # as a store opens it (the system key: evicted)
    statements = count_statements(store.engine)
    reader.data_key(a)
    reader.data_key(b)
    reader.data_key(a)  # a is now the most recent
    reader.data_key(c)  # evicts b
    assert len(statements) == 3
    reader.data_key(a)
    assert len(statements) == 3
    reader.data_key(b)
    assert len(statements) == 4


def test_a_missing_key_is_created_on_first_write(store: Store) -> None:
    holder = store.register()
    assert _key_row(store, holder.id)["wrapped_key"]


def test_a_wrong_master_key_cannot_unwrap_and_says_so(store: Store) -> None:
    holder = store.register()
    wrong = Keystore(store.engine, Secrets.from_master_key(OTHER_MASTER))
    with pytest.raises(ConfigurationError, match="master key is not the one"):
        wrong.create_tables()
    with pytest.raises(ConfigurationError, match=MASTER_KEY_ENV):
        store.new_app(wrong).repository.get(holder.id)


def test_the_mapper_refuses_the_librarys_cipher_and_compressor(store: Store) -> None:
    cipher = AESCipher(Environment("x", {"CIPHER_KEY": AESCipher.create_key(32)}))
    with pytest.raises(ConfigurationError, match="CIPHER_TOPIC"):
        EspaceMapper(JSONTranscoder(), cipher=cipher, keystore=store.keystore)


# -- master key and derived secrets ------------------------------------------

PG_SETTINGS = parse_database_url("postgresql://postgres@127.0.0.1:5432/test")


def test_secrets_are_three_distinct_keys_derived_deterministically() -> None:
    one, two = Secrets.from_master_key(MASTER), Secrets.from_master_key(MASTER)
    assert one == two
    assert len({one.kek, one.id_key, one.pepper, MASTER}) == 4
    assert all(len(k) == 32 for k in (one.kek, one.id_key, one.pepper))
    assert one.kek.hex() not in repr(one)
    assert Secrets.from_master_key(OTHER_MASTER).kek != one.kek


def test_load_secrets_reads_the_master_key_from_the_environment() -> None:
    encoded = base64.urlsafe_b64encode(MASTER).decode().rstrip("=")
    secrets = load_secrets(PG_SETTINGS, {MASTER_KEY_ENV: encoded})
    assert secrets == Secrets.from_master_key(MASTER)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("not base64 at all!", "not valid base64url"), ("AAAA", "3 bytes, expected 32")],
)
def test_a_malformed_master_key_names_the_variable_and_never_echoes_it(
    value: str, expected: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_secrets(PG_SETTINGS, {MASTER_KEY_ENV: value})
    assert MASTER_KEY_ENV in str(caught.value)
    assert expected in str(caught.value)
    assert value not in str(caught.value)


def test_a_missing_key_file_names_the_variable_and_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.key"
    with pytest.raises(ConfigurationError) as caught:
        load_secrets(PG_SETTINGS, {MASTER_KEY_FILE_ENV: str(path)})
    assert f"{MASTER_KEY_FILE_ENV}={path}" in str(caught.value)


def test_a_sqlite_store_reads_the_key_file_beside_the_database(sqlite_url: str) -> None:
    settings = parse_database_url(sqlite_url)
    key_file = default_key_file(settings)
    assert key_file is not None
    assert key_file.name == "espace.db.key"
    with pytest.raises(ConfigurationError) as caught:
        load_secrets(settings, {})
    assert str(key_file) in str(caught.value)
    assert "espace init" in str(caught.value)

    generate_master_key_file(key_file)
    assert load_secrets(settings, {}) == load_secrets(settings, {})
    # The environment wins over the file.
    encoded = base64.urlsafe_b64encode(MASTER).decode()
    assert load_secrets(settings, {MASTER_KEY_ENV: encoded}) == Secrets.from_master_key(
        MASTER
    )


def test_a_postgresql_store_without_a_key_says_which_variables_to_set() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_secrets(PG_SETTINGS, {})
    assert MASTER_KEY_ENV in str(caught.value)
    assert MASTER_KEY_FILE_ENV in str(caught.value)


def test_the_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "espace.db.key"
    generate_master_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text()
    with pytest.raises(ConfigurationError, match="refusing to overwrite"):
        generate_master_key_file(path)
    assert path.read_text() == content
    assert len(base64.urlsafe_b64decode(content.strip() + "=")) == 32
    assert len(new_master_key()) == 43


# -- transcodings ------------------------------------------------------------


class TestEspaceJSONTranscoder(es_persistence.TranscoderTestCase):
    """eventsourcing's own contract for transcoders, on ours."""

    def construct_transcoder(self) -> Transcoder:
        transcoder = JSONTranscoder()
        register_transcodings(transcoder)
        transcoder.register(es_persistence.CustomType1AsDict())
        transcoder.register(es_persistence.CustomType2AsDict())
        return transcoder

    # JSONTranscoder (the library's too) writes tuples and builtin subclasses as
    # plain JSON: the library skips these cases for it in its own suite.
    @unittest.skip("JSONTranscoder converts tuples to lists")
    def test_tuple(self) -> None: ...

    @unittest.skip("JSONTranscoder converts tuples to lists")
    def test_mixed(self) -> None: ...

    @unittest.skip("JSONTranscoder converts dict subclasses to dict")
    def test_dict_subclass(self) -> None: ...

    @unittest.skip("JSONTranscoder converts list subclasses to list")
    def test_list_subclass(self) -> None: ...

    @unittest.skip("JSONTranscoder converts str subclasses to str")
    def test_str_subclass(self) -> None: ...

    @unittest.skip("JSONTranscoder converts int subclasses to int")
    def test_int_subclass(self) -> None: ...


def test_a_date_stays_a_date_and_a_datetime_stays_a_datetime() -> None:
    transcoder = JSONTranscoder()
    register_transcodings(transcoder)
    value = {"birth": BIRTH_DATE, "sent_at": T0, "id": SYSTEM_KEY_ID}
    data = transcoder.encode(value)
    assert b'"_type_":"date_iso","_data_":"1995-10-03"' in data
    assert b'"_type_":"datetime_iso"' in data
    decoded = transcoder.decode(data)
    assert decoded == value
    assert type(decoded["birth"]) is date
    assert type(decoded["sent_at"]) is datetime


def test_date_iso_rejects_what_is_not_a_string() -> None:
    with pytest.raises(TypeError, match="date_iso"):
        DateAsISO().decode(19951003)  # type: ignore[arg-type]
