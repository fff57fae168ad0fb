"""What the record can hold, checked at the edge (ADR-0017).

Every text field refuses NUL and lone surrogates, every instant and day has
a plausible range, and a refusal is an ``InvalidInput`` that names the field:
never an ``OverflowError``, a ``TypeError`` or a ``UnicodeEncodeError`` from
deep inside a save or a view.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from espace import InvalidInput
from espace.application import schemas, service_schemas
from espace.domain import calendar

ROW = {
    "nir": "295109912611193",
    "birth_name": "DUPONT",
    "first_names": "Marie",
    "birth_date": "1995-10-01",
    "sex": "F",
    "birthplace_code": "99126",
    "vitale_serial": "1234567890",
    "email": "marie@example.org",
}


def fields_of(call: Any, *args: Any) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as info:
        call(*args)
    return info.value.fields


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Mar\x00ie", "NUL"),
        ("Marie\udc80", "surrogate"),
        ("\ud800", "surrogate"),
    ],
)
@pytest.mark.parametrize("field", ["birth_name", "first_names", "postal_address"])
def test_a_text_with_a_nul_or_a_lone_surrogate_is_refused_naming_its_field_lc_1(
    field: str, value: str, problem: str
) -> None:
    found = fields_of(schemas.load, schemas.AffiliationSchema, {**ROW, field: value})
    assert list(found) == [field]
    assert problem in found[field][0]


def test_a_paired_surrogate_is_ordinary_text_and_accepted_lc_1() -> None:
    loaded = schemas.load(schemas.AffiliationSchema, {**ROW, "first_names": "Zoé 😀"})
    assert loaded["ins"].first_names == "Zoé 😀"


def test_a_text_field_of_the_directory_extract_is_named_by_its_column_pro_2() -> None:
    row = {
        service_schemas.ID: "810001045367",
        service_schemas.ID_TYPE: "8",
        service_schemas.LAST_NAME: "LEF\x00EVRE",
        service_schemas.PROFESSION_CODE: "10",
    }
    found = fields_of(schemas.load, service_schemas.DirectoryRowSchema, row)
    assert list(found) == [service_schemas.LAST_NAME]


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "1899-12-31T23:59:59+00:00",
        "2200-01-01T00:00:00+00:00",
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))),
    ],
)
def test_an_instant_outside_the_plausible_range_is_refused_naming_it_doc_1(
    value: Any,
) -> None:
    meta = {
        "category": "report",
        "loinc_code": "11488-4",
        "title": "Bilan",
        "format": "text/plain",
        "care_time": value,
    }
    found = fields_of(schemas.load, schemas.DocumentSchema, meta)
    assert list(found) == ["care_time"]
    assert "1900-01-01" in found["care_time"][0]


def test_the_range_holds_its_ends_doc_1() -> None:
    assert calendar.instant_problem(calendar.EARLIEST) is None
    assert calendar.instant_problem(calendar.LATEST - timedelta(microseconds=1)) is None
    assert calendar.instant_problem(calendar.LATEST) is not None
    assert calendar.instant_problem(datetime(2027, 1, 1)) is not None  # naive


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (datetime(2020, 1, 1, 5), "not a date and time"),
        (date(1, 1, 1), "1900-01-01"),
        ("9999-12-31", "1900-01-01"),
        ("2020-02-30", "not a date (YYYY-MM-DD"),
    ],
)
def test_a_date_of_death_must_be_a_plausible_day_lc_7(value: Any, words: str) -> None:
    found = fields_of(schemas.load, schemas.DeathSchema, {"date_of_death": value})
    assert words in found["date_of_death"][0]


def test_a_vaccination_day_outside_the_range_is_refused_pro_1() -> None:
    found = fields_of(
        schemas.load,
        service_schemas.VaccinationSchema,
        {"vaccine": "DTP", "given_on": "0001-01-01"},
    )
    assert list(found) == ["given_on"]


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "2027-13-01"]
)
def test_parse_instant_refuses_the_edges_of_the_calendar_naming_the_flag(
    value: str,
) -> None:
    found = fields_of(schemas.parse_instant, value, "clock")
    assert list(found) == ["clock"]


def test_the_time_of_a_command_is_checked_whether_given_or_read_from_the_clock() -> (
    None
):
    far = datetime(9999, 1, 1, tzinfo=UTC)
    assert list(fields_of(schemas.command_time, far, lambda: far)) == ["at"]
    assert list(fields_of(schemas.command_time, None, lambda: far)) == ["clock"]
    now = datetime(2027, 1, 4, tzinfo=UTC)
    assert schemas.command_time(None, lambda: now) == now


def test_require_text_names_the_line_of_a_bad_character_in_a_file() -> None:
    found = fields_of(schemas.require_text, "a,b\nc,d\ne\x00,f\n", "matrix")
    assert found == {"matrix": ["line 3 contains a NUL character"]}


@given(st.text(alphabet=st.characters(exclude_categories=())))
def test_any_text_is_recordable_or_refused_with_its_field(text: str) -> None:
    recordable = "\x00" not in text and not any(0xD800 <= ord(c) < 0xE000 for c in text)
    data = {"heir_id": text, "relationship": "heir"}
    if recordable and 1 <= len(text) <= 64 and text.strip():
        loaded = schemas.load(schemas.HeirSchema, data)
        assert loaded["heir_id"] == text
    else:
        assert list(fields_of(schemas.load, schemas.HeirSchema, data)) == ["heir_id"]
