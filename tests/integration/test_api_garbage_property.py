"""Any text and any instant given to the API ends in a result or an
``EspaceError``, never in another exception, and nothing it accepts can
freeze a view (ADR-0017, ADR-0018), on SQLite and PostgreSQL.

Text is drawn from the whole of Unicode, lone surrogates and NUL included;
instants from the whole ``datetime`` range, with any offset, or naive;
days from the whole ``date`` range, and date-times where days are expected.
Each example calls one command of the public API on a real store that holds
an activated espace, a directory, consents and a document. After every
example the views catch up with nothing quarantined.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from espace import Actor, EspaceError, Store
from espace.application.records import actor_from
from extracts import directory_extract

PHYSICIAN = Actor.professional("810001045367", "physician")

TEXT = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=()), max_size=40),
    st.sampled_from(["", " ", "\x00", "\ud800", "a\udc80b", "x" * 5000, "é\x00"]),
)
OFFSETS = st.integers(-1439, 1439).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.one_of(
    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=OFFSETS),
    st.datetimes(min_value=datetime.min, max_value=datetime.max),  # naive
    st.datetimes(
        min_value=datetime(2025, 1, 1),
        max_value=datetime(2030, 1, 1),
        timezones=OFFSETS,
    ),
)
DAYS = st.one_of(st.dates(), INSTANTS, st.dates().map(date.isoformat))
RECENT = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 4), timezones=OFFSETS
)
"""Instants a record can hold: the edge must accept most of these."""
FUTURE = st.datetimes(
    min_value=datetime(2027, 2, 1), max_value=datetime(2031, 1, 1), timezones=OFFSETS
)
PLAUSIBLE = st.one_of(
    RECENT,
    FUTURE.map(lambda d: d.isoformat()),
    RECENT.map(lambda d: d.isoformat()),
    RECENT.map(lambda d: d.date().isoformat()),
    st.sampled_from(["Dr Martin", "Paracétamol", "Hôpital Nord", "1", "170"]),
    st.text(
        alphabet=st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=20
    ),
)
GARBAGE = st.one_of(
    TEXT,
    INSTANTS,
    INSTANTS.map(lambda d: d.isoformat()),
    DAYS,
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(TEXT, TEXT, max_size=2),
)
VALUES = st.one_of(PLAUSIBLE, GARBAGE)


class World:
    """One activated espace with a physician who has consent, a document
    and a conversation; the commands below are called against it."""

    def __init__(self, store: Store, clock: Any, people: Any, helpers: Any) -> None:
        self.store = store
        self.clock = clock
        extract = directory_extract([(PHYSICIAN.id, "physician")])
        store.directory.import_extract(io.StringIO(extract))
        person = people.make()
        self.espace_id: UUID = helpers.affiliate(store, person)
        helpers.notify(store, person)
        clock.advance(days=1)
        store.lifecycle.activate(person.activation())
        self.holder = actor_from({"kind": "holder"}, self.espace_id)
        self.holder_party = Actor.holder(self.espace_id)
        clock.advance(minutes=1)
        store.records.consent(
            self.holder, self.espace_id, "grant", {"idnatps": PHYSICIAN.id}
        )
        clock.advance(minutes=1)
        self.document = UUID(
            store.records.deposit(
                PHYSICIAN,
                self.espace_id,
                {
                    "category": "report",
                    "loinc_code": "11488-4",
                    "title": "Bilan",
                    "care_time": (clock.now - timedelta(hours=1)).isoformat(),
                    "format": "text/plain",
                },
                b"contenu",
            ).document_id
            or ""
        )
        clock.advance(minutes=1)
        self.conversation = UUID(
            store.messaging.open(
                PHYSICIAN,
                self.espace_id,
                {"subject": "Résultats", "body": "Bonjour"},
            )["conversation_id"]
        )
        self.row = person.row
        # Commands that end an espace (suspend, close, death) act on another
        # one, so that the first stays open to the others.
        other = people.make()
        self.other: UUID = helpers.affiliate(store, other)
        helpers.notify(store, other)
        clock.advance(days=1)
        store.lifecycle.activate(other.activation())

    def commands(self) -> list[tuple[str, Callable[[st.DataObject], Any]]]:
        """Each command with a valid input, of which the example spoils none,
        one or several fields with any value, and perhaps the time."""
        s, e, clock = self.store, self.espace_id, self.clock

        def spoil(d: st.DataObject, valid: dict[str, Any]) -> dict[str, Any]:
            spoilt = d.draw(st.sets(st.sampled_from(sorted(valid)), max_size=2))
            return {k: d.draw(VALUES) if k in spoilt else v for k, v in valid.items()}

        def when(d: st.DataObject) -> datetime | None:
            return d.draw(st.one_of(st.none(), st.none(), INSTANTS))

        def ago(**delta: float) -> str:
            now: datetime = clock.now
            return (now - timedelta(**delta)).isoformat()

        def ahead(**delta: float) -> str:
            now: datetime = clock.now
            return (now + timedelta(**delta)).isoformat()

        def document() -> dict[str, Any]:
            return {
                "category": "report",
                "loinc_code": "11502-2",
                "title": "Bilan sanguin",
                "care_time": ago(hours=2),
                "format": "text/plain",
            }

        pro = {"idnatps": PHYSICIAN.id, "profession": "physician"}
        return [
            (
                "affiliate",
                lambda d: s.lifecycle.affiliate_feed(
                    [(2, spoil(d, {**self.row, "nir": self.fresh_nir()}))]
                ),
            ),
            ("espace_id_for", lambda d: s.lifecycle.espace_id_for(d.draw(TEXT))),
            (
                "activate",
                lambda d: s.lifecycle.activate(
                    spoil(
                        d,
                        {
                            "nir": self.row["nir"],
                            "code": "ABCDE-FGHJK",
                            "birth_date": self.row["birth_date"],
                            "vitale_serial": self.row["vitale_serial"],
                        },
                    )
                ),
            ),
            (
                "suspend",
                lambda d: s.lifecycle.suspend(
                    self.other,
                    spoil(d, {"reason": "fraude", "informed_at": ahead(days=1)}),
                    at=when(d),
                ),
            ),
            ("lift", lambda d: s.lifecycle.lift_suspension(self.other, at=when(d))),
            (
                "declare_death",
                lambda d: s.lifecycle.declare_death(
                    self.other, spoil(d, {"date_of_death": ago(days=1)[:10]})
                ),
            ),
            ("reissue", lambda d: s.lifecycle.reissue_code(e, at=when(d))),
            (
                "deposit",
                lambda d: s.records.deposit(
                    PHYSICIAN, e, spoil(d, document()), b"x", at=when(d)
                ),
            ),
            (
                "upload",
                lambda d: s.records.deposit(
                    self.holder,
                    e,
                    spoil(d, {**document(), "category": "patient_uploaded"}),
                    b"y",
                    at=when(d),
                ),
            ),
            (
                "replace",
                lambda d: s.records.replace(
                    PHYSICIAN, self.document, spoil(d, document()), b"z", at=when(d)
                ),
            ),
            (
                "read",
                lambda d: s.records.read(
                    PHYSICIAN,
                    self.document,
                    **spoil(d, {"mode": "care"}),
                    at=when(d),
                ),
            ),
            (
                "list",
                lambda d: s.records.list_documents(
                    self.holder, e, **spoil(d, {"mode": "care"}), at=when(d)
                ),
            ),
            (
                "mask",
                lambda d: s.records.mask(self.holder, self.document, at=when(d)),
            ),
            (
                "unmask",
                lambda d: s.records.unmask(self.holder, self.document, at=when(d)),
            ),
            (
                "consent",
                lambda d: s.records.consent(
                    self.holder,
                    e,
                    d.draw(st.sampled_from(["grant", "block", "unblock"]) | TEXT),
                    spoil(d, pro),
                    at=when(d),
                ),
            ),
            (
                "heir",
                lambda d: s.records.grant_heir_access(
                    self.other, spoil(d, {"heir_id": "fils", "relationship": "heir"})
                ),
            ),
            ("matrix", lambda d: s.records.publish_matrix(d.draw(TEXT), d.draw(TEXT))),
            (
                "deliver",
                lambda d: s.records.deliver_notification(
                    uuid4(), channel=d.draw(VALUES)
                ),
            ),
            (
                "actor",
                lambda d: actor_from(spoil(d, {"kind": "professional", **pro}), e),
            ),
            (
                "search",
                lambda d: s.directory.search(
                    **spoil(d, {"name": "nom", "city": "Nantes", "limit": 10})
                ),
            ),
            (
                "directory_row",
                lambda d: s.directory.import_rows(
                    [
                        (
                            2,
                            spoil(
                                d,
                                {
                                    "Identification nationale PP": PHYSICIAN.id,
                                    "Type d'identifiant PP": "8",
                                    "Nom d'exercice": "NOM0",
                                    "Prénom d'exercice": "Prénom",
                                    "Code profession": "10",
                                    "Libellé profession": "physician",
                                },
                            ),
                        )
                    ]
                ),
            ),
            (
                "message",
                lambda d: s.messaging.open(
                    PHYSICIAN,
                    e,
                    spoil(d, {"subject": "Vos résultats", "body": "Bonjour"}),
                    at=when(d),
                ),
            ),
            (
                "reply",
                lambda d: s.messaging.reply(
                    self.holder_party,
                    self.conversation,
                    spoil(d, {"body": "Merci"}),
                    at=when(d),
                ),
            ),
            (
                "establishment",
                lambda d: actor_from(
                    spoil(
                        d,
                        {"kind": "establishment", "finess": "750000001", "name": "CHU"},
                    ),
                    e,
                ),
            ),
            (
                "appointment",
                lambda d: s.agenda.schedule(
                    self.holder,
                    e,
                    spoil(
                        d,
                        {
                            "with": "Dr Martin",
                            "starts_at": ahead(days=3),
                            "place": "Nantes",
                            "reason": "suivi",
                        },
                    ),
                    at=when(d),
                ),
            ),
            (
                "measurements",
                lambda d: s.profile.record_measurements(
                    self.holder, e, spoil(d, {"height_cm": "170", "weight_kg": "64.5"})
                ),
            ),
            (
                "allergy",
                lambda d: s.profile.record_allergy(
                    self.holder,
                    e,
                    spoil(
                        d,
                        {
                            "substance": "pollen",
                            "reaction": "rhinite",
                            "severity": "mild",
                        },
                    ),
                ),
            ),
            (
                "condition",
                lambda d: s.profile.record_condition(
                    self.holder,
                    e,
                    spoil(d, {"name": "asthme", "diagnosed_on": "2010-05-01"}),
                ),
            ),
            (
                "vaccination",
                lambda d: s.profile.record_vaccination(
                    self.holder,
                    e,
                    spoil(d, {"vaccine": "DTP", "given_on": "2020-05-01", "dose": "1"}),
                ),
            ),
            (
                "trusted_person",
                lambda d: s.profile.designate_trusted_person(
                    self.holder,
                    e,
                    spoil(
                        d,
                        {
                            "name": "Paul",
                            "relationship": "sibling",
                            "phone": "+33 6 12 34 56 78",
                            "email": "paul@example.org",
                        },
                    ),
                ),
            ),
            (
                "connect",
                lambda d: s.catalogue.connect(
                    self.holder, e, **spoil(d, {"service_id": "pilulier"}), at=when(d)
                ),
            ),
            (
                "disconnect",
                lambda d: s.catalogue.disconnect(
                    self.holder, e, **spoil(d, {"service_id": "pilulier"}), at=when(d)
                ),
            ),
            ("catalogue", lambda d: s.catalogue.publish(d.draw(TEXT), d.draw(TEXT))),
            ("deadlines", lambda d: s.run_deadlines(when(d))),
        ]

    def fresh_nir(self) -> str:
        """A NIR never affiliated yet, so that a valid row is created."""
        from stdnum.fr import nir as stdnum_nir

        self._fresh = getattr(self, "_fresh", 0) + 1
        body = f"2870675056{self._fresh % 1000:03d}"
        return body + stdnum_nir.calc_check_digits(body)


def check_any_input(
    store: Store, clock: Any, people: Any, helpers: Any, examples: int
) -> None:
    world = World(store, clock, people, helpers)
    commands = world.commands()
    seen: set[str] = set()
    accepted: set[str] = set()

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        name, command = data.draw(st.sampled_from(commands), label="command")
        clock.advance(seconds=1)
        try:
            command(data)
        except EspaceError:
            pass
        else:
            accepted.add(name)
        seen.add(name)
        assert not store.views_behind
        rows, total = store.quarantined(limit=3)
        assert total == 0, rows

    run()
    store.sync()
    assert all(v.lag == 0 for v in store.view_status())
    assert len(seen) >= len(commands) // 2
    # The edge refuses garbage, not everything: most commands were accepted
    # at least once, so their events went through every view.
    assert len(accepted) >= len(commands) // 2, sorted(accepted)


def test_any_text_and_instant_given_to_the_api_ends_in_a_result_or_an_espace_error(
    store_url: str, store: Store, clock: Any, people: Any, helpers: Any
) -> None:
    examples = 1000 if store_url.startswith("sqlite") else 400
    check_any_input(store, clock, people, helpers, examples)
