"""The Document aggregate, rule by rule (DOC-1 to DOC-5).

Each test is given a document built through the aggregate's own commands
(events drained with ``collect_events()``), runs one command, and checks the
events it triggered, or the ``RuleViolation`` and the rule it names, with no
event triggered. Replaying the events rebuilds an equal aggregate. No I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import CanMutateAggregate

from espace.application import schemas
from espace.application.errors import InvalidInput
from espace.domain.decision import facts_of_document
from espace.domain.document_metadata import (
    FORMATS,
    LEGACY_TYPES,
    MAX_SIZE,
    Category,
    validate_metadata,
)
from espace.domain.documents import Document
from espace.domain.errors import RuleViolation

PARIS = ZoneInfo("Europe/Paris")
ESPACE = UUID("0b7c2a44-1d7e-4c1b-9e55-2d3f0a6b8c11")
AUTHOR = "810001045367"
OTHER = "810002000007"
HASH = hashlib.sha256(b"compte rendu").hexdigest()
AT = datetime(2027, 1, 4, 10, 0, tzinfo=PARIS)  # Monday 4 January 2027, CET
CARE = AT - timedelta(hours=2)
TYPES = frozenset(LEGACY_TYPES)
"""The document types in force in these tests (the store takes the access
matrix's list, ACC-3)."""


def paris(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=PARIS)


def deposit(**overrides: Any) -> Document:
    kw: dict[str, Any] = {
        "document_id": uuid4(),
        "espace_id": ESPACE,
        "version_id": uuid4(),
        "at": AT,
        "author_kind": "professional",
        "author_id": AUTHOR,
        "author_profession": "physician",
        "category": "report",
        "loinc_code": "11488-4",
        "title": "Compte rendu de consultation",
        "care_time": CARE,
        "fmt": "application/pdf",
        "size": 1234,
        "content_hash": HASH,
        "types": TYPES,
    }
    kw.update(overrides)
    return Document.deposit(**kw)


def upload(**overrides: Any) -> Document:
    kw: dict[str, Any] = {
        "author_kind": "holder",
        "author_id": str(ESPACE),
        "author_profession": None,
        "category": "patient_uploaded",
        "loinc_code": "42348-3",
        "title": "Mes directives anticipées",
    }
    kw.update(overrides)
    return deposit(**kw)


def given(doc: Document) -> Document:
    """Drain the events that built ``doc``: the test sees only its command's."""
    doc.collect_events()
    return doc


def replay(events: Sequence[CanMutateAggregate[UUID]]) -> Document:
    aggregate: Document | None = None
    for event in events:
        aggregate = event.mutate(aggregate)
    assert aggregate is not None
    return aggregate


def refused(
    rule: str, doc: Document | None, command: Any, *args: Any, **kw: Any
) -> str:
    with pytest.raises(RuleViolation) as info:
        command(*args, **kw)
    assert info.value.rule == rule, info.value
    if doc is not None:
        assert doc.collect_events() == []
    return info.value.message


def replacement(**overrides: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "at": AT + timedelta(days=1),
        "by_kind": "professional",
        "by_id": AUTHOR,
        "version_id": uuid4(),
        "loinc_code": "11488-4",
        "title": "Compte rendu corrigé",
        "care_time": CARE,
        "fmt": "application/pdf",
        "size": 2048,
        "content_hash": hashlib.sha256(b"v2").hexdigest(),
        "types": TYPES,
    }
    kw.update(overrides)
    return kw


def names(events: Sequence[object]) -> list[str]:
    return [type(e).__name__ for e in events]


# --------------------------------------------------------------------- DOC-1


def test_a_deposit_records_every_metadata_of_doc_1() -> None:
    version = uuid4()
    doc = deposit(version_id=version)
    events = doc.collect_events()
    assert names(events) == ["Deposited"]
    e = events[0]
    assert isinstance(e, Document.Deposited)
    assert (e.espace_id, e.category, e.loinc_code, e.title) == (
        ESPACE,
        "report",
        "11488-4",
        "Compte rendu de consultation",
    )
    assert (e.care_time, e.format, e.size, e.content_hash, e.version_id) == (
        CARE,
        "application/pdf",
        1234,
        HASH,
        version,
    )
    assert (e.author_kind, e.author_id, e.author_profession) == (
        "professional",
        AUTHOR,
        "physician",
    )
    assert doc.current["version_no"] == 1
    assert replay(events).versions == doc.versions


def test_the_eleven_dmp_categories_are_the_only_ones_doc_1() -> None:
    assert len(Category) == 11
    assert {"report", "imaging", "patient_uploaded", "management"} <= set(Category)


@pytest.mark.parametrize("category", ["letter", "REPORT", "", "patient-uploaded"])
def test_an_unknown_category_is_refused_doc_1(category: str) -> None:
    message = refused("DOC-1", None, deposit, category=category)
    assert "category" in message


@pytest.mark.parametrize("code", ["11488-5", "0000-0", "", "11488-4 "])
def test_an_unknown_loinc_type_is_refused_doc_1(code: str) -> None:
    assert "type list" in refused("DOC-1", None, deposit, loinc_code=code)


@pytest.mark.parametrize("code", sorted(LEGACY_TYPES))
def test_every_listed_loinc_type_is_accepted_doc_1(code: str) -> None:
    assert deposit(loinc_code=code).loinc_code == code


def test_the_type_list_is_data_a_type_it_gains_is_accepted_doc_1() -> None:
    refused("DOC-1", None, deposit, loinc_code="11506-3")
    assert deposit(loinc_code="11506-3", types=TYPES | {"11506-3"}).loinc_code == (
        "11506-3"
    )


@pytest.mark.parametrize("fmt", ["application/msword", "PDF", "", "text/html"])
def test_an_unsupported_format_is_refused_doc_1(fmt: str) -> None:
    assert "format" in refused("DOC-1", None, deposit, fmt=fmt)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_supported_format_is_accepted_doc_1(fmt: str) -> None:
    assert deposit(fmt=fmt).current["format"] == fmt


@pytest.mark.parametrize("size", [0, -1, MAX_SIZE + 1])
def test_a_size_outside_1_byte_to_50_mib_is_refused_doc_1(size: int) -> None:
    assert "size" in refused("DOC-1", None, deposit, size=size)


@pytest.mark.parametrize("size", [1, MAX_SIZE])
def test_the_size_bounds_themselves_are_accepted_doc_1(size: int) -> None:
    assert deposit(size=size).current["size"] == size


@pytest.mark.parametrize(
    "content_hash",
    [HASH[:-1], HASH + "0", HASH.upper(), "g" * 64, "", "sha256:" + HASH[7:]],
)
def test_a_content_hash_that_is_not_a_lowercase_hex_sha_256_is_refused_doc_1(
    content_hash: str,
) -> None:
    assert "SHA-256" in refused("DOC-1", None, deposit, content_hash=content_hash)


@pytest.mark.parametrize("title", ["", "   ", "x" * 251])
def test_a_title_must_have_1_to_250_characters_doc_1(title: str) -> None:
    assert "title" in refused("DOC-1", None, deposit, title=title)


def test_a_title_of_250_characters_is_accepted_doc_1() -> None:
    assert deposit(title="é" * 250).title == "é" * 250


@pytest.mark.parametrize("which", ["at", "care_time", "both"])
def test_naive_times_are_refused_doc_1(which: str) -> None:
    naive = {"at": AT.replace(tzinfo=None), "care_time": CARE.replace(tzinfo=None)}
    kw = naive if which == "both" else {which: naive[which]}
    assert "timezone-aware" in refused("DOC-1", None, deposit, **kw)


def test_validate_metadata_checks_each_field_on_its_own_doc_1() -> None:
    good: dict[str, Any] = {
        "types": TYPES,
        "category": "imaging",
        "loinc_code": "18748-4",
        "title": "IRM",
        "fmt": "application/dicom",
        "size": 10,
        "content_hash": HASH,
    }
    validate_metadata(**good)
    for field, bad in [("category", "x"), ("loinc_code", "x"), ("fmt", "x")]:
        refused("DOC-1", None, validate_metadata, **{**good, field: bad})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "letter"),
        ("loinc_code", "12345"),
        ("title", ""),
        ("title", "x" * 251),
        ("care_time", "2027-01-04T10:00:00"),  # naive
        ("care_time", "yesterday"),
        ("format", "application/msword"),
        ("hidden_from_holder", "perhaps"),
    ],
)
def test_bad_document_metadata_from_outside_names_its_field_doc_1(
    field: str, value: Any
) -> None:
    data = {
        "category": "report",
        "loinc_code": "11488-4",
        "title": "CR",
        "care_time": "2027-01-04T10:00:00+01:00",
        "format": "application/pdf",
        field: value,
    }
    with pytest.raises(InvalidInput) as info:
        schemas.load(schemas.DocumentSchema, data)
    assert list(info.value.fields) == [field]


@pytest.mark.parametrize("missing", ["loinc_code", "title", "care_time", "format"])
def test_required_document_metadata_is_named_when_missing_doc_1(missing: str) -> None:
    data = {
        "loinc_code": "11488-4",
        "title": "CR",
        "care_time": "2027-01-04T10:00:00+01:00",
        "format": "application/pdf",
    }
    del data[missing]
    with pytest.raises(InvalidInput) as info:
        schemas.load(schemas.DocumentSchema, data)
    assert missing in info.value.fields


# --------------------------------------------------------------------- DOC-2


def test_the_holder_uploads_in_the_patient_uploaded_category_doc_2_doc_6() -> None:
    doc = upload()
    assert (doc.author_kind, doc.author_id, doc.category) == (
        "holder",
        str(ESPACE),
        "patient_uploaded",
    )


@pytest.mark.parametrize(
    "category", [c.value for c in Category if c is not Category.PATIENT_UPLOADED]
)
def test_the_holder_uploads_in_no_other_category_doc_2(category: str) -> None:
    assert "patient-uploaded" in refused("DOC-2", None, upload, category=category)


def test_a_professional_never_deposits_in_the_patient_uploaded_category_doc_2() -> None:
    refused("DOC-2", None, deposit, category="patient_uploaded")


@pytest.mark.parametrize("kind", ["insurer", "heir", "representative", ""])
def test_an_unknown_author_kind_is_refused_doc_2(kind: str) -> None:
    refused("DOC-2", None, deposit, author_kind=kind)


def test_the_time_of_care_cannot_be_after_the_deposit_doc_2() -> None:
    refused("DOC-2", None, deposit, care_time=AT + timedelta(seconds=1))
    assert deposit(care_time=AT).care_time == AT


@pytest.mark.parametrize("flag", ["hidden_from_holder", "hidden_from_representatives"])
def test_the_holder_cannot_hide_their_own_upload_doc_5(flag: str) -> None:
    refused("DOC-5", None, upload, **{flag: True})


# --------------------------------------------------------------------- DOC-3


def test_the_author_replaces_with_a_new_version_and_the_history_stays_doc_3() -> None:
    first = uuid4()
    doc = given(deposit(version_id=first))
    second = uuid4()
    doc.replace(**replacement(version_id=second))
    events = doc.collect_events()
    assert names(events) == ["Replaced"]
    assert [v["version_id"] for v in doc.versions] == [first, second]
    assert [v["version_no"] for v in doc.versions] == [1, 2]
    assert doc.versions[0]["title"] == "Compte rendu de consultation"
    assert doc.title == "Compte rendu corrigé"
    assert doc.current["version_id"] == second
    assert doc.find_version(first)["content_hash"] == HASH
    assert doc.category == "report"  # the logical document keeps its kind


def test_version_numbers_are_the_same_after_replay_doc_3() -> None:
    doc = deposit()
    for _ in range(3):
        doc.replace(**replacement(at=doc.modified_on + timedelta(hours=1)))
    events = doc.collect_events()
    replayed = replay(events)
    assert [v["version_no"] for v in replayed.versions] == [1, 2, 3, 4]
    assert replayed.versions == doc.versions
    assert replayed.id == doc.id
    assert len({v["version_id"] for v in replayed.versions}) == 4


@pytest.mark.parametrize(
    ("by_kind", "by_id"),
    [("professional", OTHER), ("holder", str(ESPACE)), ("professional", "")],
)
def test_only_the_author_replaces_doc_3(by_kind: str, by_id: str) -> None:
    doc = given(deposit())
    message = refused(
        "DOC-3", doc, doc.replace, **replacement(by_kind=by_kind, by_id=by_id)
    )
    assert "author" in message
    assert len(doc.versions) == 1


def test_the_holder_replaces_their_own_upload_doc_3() -> None:
    doc = given(upload())
    doc.replace(
        **replacement(by_kind="holder", by_id=str(ESPACE), loinc_code="42348-3")
    )
    assert names(doc.collect_events()) == ["Replaced"]


def test_a_version_id_is_never_reused_doc_3() -> None:
    first = uuid4()
    doc = given(deposit(version_id=first))
    refused("DOC-3", doc, doc.replace, **replacement(version_id=first))


def test_an_unknown_version_is_not_found_in_the_history_doc_3() -> None:
    doc = given(deposit())
    refused("DOC-3", None, doc.find_version, uuid4())


def test_a_replacement_is_validated_like_a_deposit_doc_1_doc_3() -> None:
    doc = given(deposit())
    refused("DOC-1", doc, doc.replace, **replacement(loinc_code="nope"))
    refused("DOC-1", doc, doc.replace, **replacement(size=0))
    refused("DOC-1", doc, doc.replace, **replacement(content_hash="abc"))
    refused(
        "DOC-1", doc, doc.replace, **replacement(care_time=CARE.replace(tzinfo=None))
    )
    refused("DOC-1", doc, doc.replace, **replacement(at=AT.replace(tzinfo=None)))


def test_a_replacement_with_a_care_time_after_it_is_refused_like_a_deposit_doc_2() -> (
    None
):
    doc = given(deposit())
    at = AT + timedelta(days=1)
    refused(
        "DOC-2",
        doc,
        doc.replace,
        **replacement(at=at, care_time=at + timedelta(days=30)),
    )


def test_a_command_dated_before_the_last_event_is_refused() -> None:
    doc = given(deposit())
    refused("DOC-2", doc, doc.replace, **replacement(at=AT - timedelta(seconds=1)))
    refused("DOC-2", doc, doc.mask, at=AT - timedelta(seconds=1))


# --------------------------------------------------------------------- DOC-4


def test_the_author_deletes_logically_and_the_history_stays_doc_4() -> None:
    doc = given(deposit())
    doc.delete(at=AT + timedelta(days=1), by_kind="professional", by_id=AUTHOR)
    events = doc.collect_events()
    assert names(events) == ["Deleted"]
    assert doc.deleted_at == AT + timedelta(days=1)
    assert len(doc.versions) == 1
    assert facts_of_document(doc).deleted


@pytest.mark.parametrize(
    ("by_kind", "by_id"), [("professional", OTHER), ("holder", str(ESPACE))]
)
def test_only_the_author_deletes_doc_4(by_kind: str, by_id: str) -> None:
    doc = given(deposit())
    refused("DOC-4", doc, doc.delete, at=AT, by_kind=by_kind, by_id=by_id)


def test_the_holder_deletes_their_own_upload_doc_4() -> None:
    doc = given(upload())
    doc.delete(at=AT, by_kind="holder", by_id=str(ESPACE))
    assert names(doc.collect_events()) == ["Deleted"]


def test_a_deleted_document_refuses_every_further_command_doc_4() -> None:
    doc = given(deposit(hidden_from_holder=True))
    at = AT + timedelta(days=40)
    doc.delete(at=AT, by_kind="professional", by_id=AUTHOR)
    doc.collect_events()
    by = {"by_kind": "professional", "by_id": AUTHOR}
    for command, kw in [
        (doc.replace, replacement(at=at)),
        (doc.delete, {"at": at, **by}),
        (doc.mask, {"at": at}),
        (doc.unmask, {"at": at}),
        (doc.hide_from_holder, {"at": at, **by}),
        (doc.reveal_to_holder, {"at": at, **by}),
        (doc.tell_holder_update_waiting, {"at": at}),
        (doc.reveal_after_delay, {"at": at}),
        (doc.hide_from_representatives, {"at": at, **by}),
        (doc.show_to_representatives, {"at": at, **by}),
    ]:
        refused("DOC-4", doc, command, **kw)


# --------------------------------------------------------------------- DOC-5 masks


def test_the_holder_masks_and_unmasks_at_any_time_doc_5() -> None:
    doc = given(deposit())
    doc.mask(at=AT)
    assert names(doc.collect_events()) == ["MaskedFromProfessionals"]
    assert doc.masked_from_professionals
    refused("DOC-5", doc, doc.mask, at=AT)
    doc.unmask(at=AT + timedelta(minutes=1))
    assert names(doc.collect_events()) == ["UnmaskedFromProfessionals"]
    assert not doc.masked_from_professionals
    refused("DOC-5", doc, doc.unmask, at=AT + timedelta(minutes=2))
    doc.mask(at=AT + timedelta(minutes=3))
    assert facts_of_document(doc).masked


# --------------------------------------------------------------------- DOC-5 timers


def test_hiding_from_the_holder_sets_the_notice_at_two_weeks_and_reveal_at_one_month_doc_5() -> (
    None
):
    doc = given(deposit())
    doc.hide_from_holder(at=AT, by_kind="professional", by_id=AUTHOR)
    (event,) = doc.collect_events()
    assert type(event).__name__ == "HiddenFromHolder"
    assert isinstance(event, Document.HiddenFromHolder)
    # Day 1 is 5 January; day 14 is Monday 18 January; told from its end.
    assert event.notice_at == paris(2027, 1, 19)
    # One month: 4 February; visible from the end of that day.
    assert event.reveal_at == paris(2027, 2, 5)
    assert doc.hidden_from_holder
    assert not doc.holder_told


def test_a_deposit_hidden_from_the_holder_starts_the_same_timers_doc_5() -> None:
    doc = deposit(hidden_from_holder=True)
    events = doc.collect_events()
    assert names(events) == ["Deposited", "HiddenFromHolder"]
    deposited, hidden_event = events
    assert isinstance(deposited, Document.Deposited)
    assert isinstance(hidden_event, Document.HiddenFromHolder)
    assert deposited.hidden_from_holder is False
    assert (hidden_event.notice_at, hidden_event.reveal_at) == (
        paris(2027, 1, 19),
        paris(2027, 2, 5),
    )
    assert replay(events).hidden_from_holder


@pytest.mark.parametrize(
    ("hidden_at", "notice", "reveal"),
    [
        # end of January: the month is clamped to the end of February
        (paris(2027, 1, 31, 23, 30), paris(2027, 2, 15), paris(2027, 3, 1)),
        # leap year
        (paris(2028, 1, 30, 8), paris(2028, 2, 14), paris(2028, 3, 1)),
        # across the spring clock change (Paris, 28 March 2027)
        (paris(2027, 3, 20, 9), paris(2027, 4, 4), paris(2027, 4, 21)),
        # late evening in Paris is still that Paris day (22:30 UTC is the next)
        (
            datetime(2027, 6, 30, 21, 30, tzinfo=UTC),
            paris(2027, 7, 15),
            paris(2027, 7, 31),
        ),
    ],
)
def test_the_timers_count_paris_days_and_clamp_months_doc_5(
    hidden_at: datetime, notice: datetime, reveal: datetime
) -> None:
    doc = given(deposit(at=hidden_at, care_time=hidden_at))
    doc.hide_from_holder(at=hidden_at, by_kind="professional", by_id=AUTHOR)
    (event,) = doc.collect_events()
    assert isinstance(event, Document.HiddenFromHolder)
    assert (event.notice_at, event.reveal_at) == (notice, reveal)


def hidden() -> Document:
    doc = given(deposit())
    doc.hide_from_holder(at=AT, by_kind="professional", by_id=AUTHOR)
    doc.collect_events()
    return doc


def test_the_holder_is_not_told_before_two_weeks_doc_5() -> None:
    doc = hidden()
    just_before = paris(2027, 1, 19) - timedelta(microseconds=1)
    message = refused("DOC-5", doc, doc.tell_holder_update_waiting, at=just_before)
    assert "2027-01-18T23:00:00+00:00" in message


def test_the_holder_is_told_from_two_weeks_once_doc_5() -> None:
    doc = hidden()
    doc.tell_holder_update_waiting(at=paris(2027, 1, 19))
    assert names(doc.collect_events()) == ["HolderToldUpdateWaiting"]
    assert doc.holder_told
    assert doc.hidden_from_holder  # still hidden: told only
    refused("DOC-5", doc, doc.tell_holder_update_waiting, at=paris(2027, 1, 20))


def test_the_document_is_not_revealed_by_itself_before_one_month_doc_5() -> None:
    doc = hidden()
    refused(
        "DOC-5",
        doc,
        doc.reveal_after_delay,
        at=paris(2027, 2, 5) - timedelta(seconds=1),
    )


def test_the_document_becomes_visible_by_itself_at_one_month_doc_5() -> None:
    doc = hidden()
    doc.reveal_after_delay(at=paris(2027, 2, 5))
    (event,) = doc.collect_events()
    assert type(event).__name__ == "RevealedToHolder"
    assert isinstance(event, Document.RevealedToHolder)
    assert event.by == "delay"
    assert not doc.hidden_from_holder
    assert (doc.holder_notice_at, doc.holder_reveal_at) == (None, None)
    refused("DOC-5", doc, doc.reveal_after_delay, at=paris(2027, 2, 6))
    refused("DOC-5", doc, doc.tell_holder_update_waiting, at=paris(2027, 2, 6))


def test_the_month_reveal_does_not_need_the_notice_first_doc_5() -> None:
    doc = hidden()
    doc.reveal_after_delay(at=paris(2027, 3, 1))
    assert not doc.hidden_from_holder


def test_the_author_reveals_after_the_announcement_consultation_doc_5() -> None:
    doc = hidden()
    refused(
        "DOC-5",
        doc,
        doc.reveal_to_holder,
        at=AT + timedelta(days=2),
        by_kind="professional",
        by_id=OTHER,
    )
    doc.reveal_to_holder(
        at=AT + timedelta(days=2), by_kind="professional", by_id=AUTHOR
    )
    (event,) = doc.collect_events()
    assert isinstance(event, Document.RevealedToHolder)
    assert event.by == "author"
    assert not doc.hidden_from_holder
    refused("DOC-5", doc, doc.tell_holder_update_waiting, at=paris(2027, 1, 20))
    refused(
        "DOC-5",
        doc,
        doc.reveal_to_holder,
        at=AT + timedelta(days=3),
        by_kind="professional",
        by_id=AUTHOR,
    )


def test_only_the_author_professional_hides_from_the_holder_and_only_once_doc_5() -> (
    None
):
    doc = given(deposit())
    refused(
        "DOC-5", doc, doc.hide_from_holder, at=AT, by_kind="professional", by_id=OTHER
    )
    refused(
        "DOC-5", doc, doc.hide_from_holder, at=AT, by_kind="holder", by_id=str(ESPACE)
    )
    doc.hide_from_holder(at=AT, by_kind="professional", by_id=AUTHOR)
    doc.collect_events()
    refused(
        "DOC-5", doc, doc.hide_from_holder, at=AT, by_kind="professional", by_id=AUTHOR
    )
    up = given(upload())
    refused(
        "DOC-5", up, up.hide_from_holder, at=AT, by_kind="holder", by_id=str(ESPACE)
    )


def test_a_timer_with_nothing_hidden_is_refused_doc_5() -> None:
    doc = given(deposit())
    refused("DOC-5", doc, doc.tell_holder_update_waiting, at=paris(2027, 3, 1))
    refused("DOC-5", doc, doc.reveal_after_delay, at=paris(2027, 3, 1))


def test_hiding_again_after_a_reveal_restarts_both_timers_doc_5() -> None:
    doc = hidden()
    doc.reveal_after_delay(at=paris(2027, 2, 5))
    doc.hide_from_holder(at=paris(2027, 2, 10, 9), by_kind="professional", by_id=AUTHOR)
    events = doc.collect_events()
    last = events[-1]
    assert isinstance(last, Document.HiddenFromHolder)
    assert last.notice_at == paris(2027, 2, 25)
    assert last.reveal_at == paris(2027, 3, 11)
    assert not doc.holder_told


def test_hiding_from_representatives_is_the_authors_at_a_minors_request_doc_5() -> None:
    doc = given(deposit())
    refused(
        "DOC-5",
        doc,
        doc.hide_from_representatives,
        at=AT,
        by_kind="professional",
        by_id=OTHER,
    )
    doc.hide_from_representatives(at=AT, by_kind="professional", by_id=AUTHOR)
    assert names(doc.collect_events()) == ["HiddenFromRepresentatives"]
    assert facts_of_document(doc).hidden_from_representatives
    refused(
        "DOC-5",
        doc,
        doc.hide_from_representatives,
        at=AT,
        by_kind="professional",
        by_id=AUTHOR,
    )
    doc.show_to_representatives(at=AT, by_kind="professional", by_id=AUTHOR)
    assert names(doc.collect_events()) == ["ShownToRepresentatives"]
    refused(
        "DOC-5",
        doc,
        doc.show_to_representatives,
        at=AT,
        by_kind="professional",
        by_id=AUTHOR,
    )


def test_a_deposit_hidden_from_representatives_carries_the_flag_doc_5() -> None:
    doc = deposit(hidden_from_representatives=True)
    (event,) = doc.collect_events()
    assert isinstance(event, Document.Deposited)
    assert event.hidden_from_representatives is True
    assert doc.hidden_from_representatives


def test_the_three_visibility_flags_are_independent_doc_5() -> None:
    doc = deposit()
    by = {"by_kind": "professional", "by_id": AUTHOR}
    doc.mask(at=AT)
    doc.hide_from_holder(at=AT, **by)
    doc.hide_from_representatives(at=AT, **by)
    facts = facts_of_document(doc)
    assert (
        facts.masked,
        facts.hidden_from_holder,
        facts.hidden_from_representatives,
    ) == (
        True,
        True,
        True,
    )
    doc.unmask(at=AT)
    facts = facts_of_document(doc)
    assert (
        facts.masked,
        facts.hidden_from_holder,
        facts.hidden_from_representatives,
    ) == (
        False,
        True,
        True,
    )
    replayed = replay(doc.collect_events())
    assert facts_of_document(replayed) == facts_of_document(doc)


def test_facts_of_a_documents_view_row_equal_those_of_the_aggregate() -> None:
    doc = given(deposit())
    doc.mask(at=AT)
    row = {
        "category": doc.category,
        "loinc_code": doc.loinc_code,
        "author_kind": doc.author_kind,
        "author_id": doc.author_id,
        "masked_from_professionals": True,
        "hidden_from_holder": False,
        "hidden_from_representatives": False,
        "deleted_at": None,
    }
    assert facts_of_document(row) == facts_of_document(doc)


def test_the_notice_counts_paris_days_doc_5() -> None:
    # 23:30 in Paris on 31 December (22:30 UTC): day 1 is 1 January, day 14
    # is 14 January, and the holder is told from the start of the 15th.
    at = paris(2026, 12, 31, 23, 30)
    doc = given(deposit(at=at, care_time=at))
    doc.hide_from_holder(at=at, by_kind="professional", by_id=AUTHOR)
    (event,) = doc.collect_events()
    assert isinstance(event, Document.HiddenFromHolder)
    assert event.notice_at.astimezone(PARIS).date() == date(2027, 1, 15)
