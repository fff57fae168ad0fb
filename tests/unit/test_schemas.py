"""Input schemas at the application edge: good rows load, bad input names its field.

Every failure is one ``InvalidInput`` whose ``.fields`` maps each bad field to
its messages; garbage never escapes as another exception.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from marshmallow import Schema

from espace.application import schemas
from espace.application.errors import InvalidInput
from espace.application.schemas import (
    ActivationSchema,
    AffiliationSchema,
    DeathSchema,
    NirSchema,
    OppositionSchema,
    SuspensionSchema,
)
from espace.domain.identifiers import NIA_OID, NIR_OID, Ins

ROW: dict[str, Any] = {
    "nir": "2 95 10 99 126 111 93",
    "birth_name": "MARTIN",
    "first_names": "Claire Anne",
    "birth_date": "1995-10-03",
    "sex": "F",
    "birthplace_code": "99126",
    "vitale_serial": "1234 5678 90",
    "email": "claire@example.org",
}
REQUIRED = (
    "nir",
    "birth_name",
    "first_names",
    "birth_date",
    "sex",
    "birthplace_code",
    "vitale_serial",
)


def row(**overrides: Any) -> dict[str, Any]:
    return {**ROW, **overrides}


def invalid(schema: type[Schema], data: Any) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as info:
        schemas.load(schema, data)
    assert info.value.as_dict()["fields"] == info.value.fields
    assert all(info.value.fields.values())
    return info.value.fields


# ------------------------------------------------------- affiliation rows


def test_a_valid_affiliation_row_loads_into_an_ins_lc_1_id_2() -> None:
    data = schemas.load(AffiliationSchema, row())
    assert data["ins"] == Ins.create(
        nir="295109912611193",
        birth_name="MARTIN",
        first_names="Claire Anne",
        birth_date=date(1995, 10, 3),
        sex="F",
        birthplace_code="99126",
    )
    assert data["vitale_serial"] == "1234567890"
    assert data["email"] == "claire@example.org"
    assert data["representative"] is None
    assert data["postal_address"] is None
    assert data["legacy_dmp_ref"] is None


def test_a_minors_row_carries_its_representative_without_empty_fields_lc_12() -> None:
    data = schemas.load(
        AffiliationSchema,
        row(
            email="",
            representative_name="MARTIN Paul",
            representative_role="parent",
            representative_email="paul@example.org",
            representative_postal_address="  ",
            legacy_dmp_ref="DMP-1",
        ),
    )
    assert data["email"] is None
    assert data["representative"] == {
        "name": "MARTIN Paul",
        "role": "parent",
        "email": "paul@example.org",
    }
    assert data["legacy_dmp_ref"] == "DMP-1"


def test_a_row_on_a_nia_keeps_its_oid_id_2() -> None:
    data = schemas.load(AffiliationSchema, row(oid=NIA_OID))
    assert data["ins"].oid == NIA_OID


def test_unknown_columns_of_the_feed_are_ignored() -> None:
    data = schemas.load(AffiliationSchema, row(regime="general", caisse="751"))
    assert "regime" not in data
    assert data["ins"].oid == NIR_OID


@pytest.mark.parametrize("field", REQUIRED)
def test_a_missing_required_field_is_named(field: str) -> None:
    data = {k: v for k, v in ROW.items() if k != field}
    assert field in invalid(AffiliationSchema, data)


@pytest.mark.parametrize("field", REQUIRED)
@pytest.mark.parametrize("blank", ["", "   ", None])
def test_a_blank_required_field_counts_as_missing(field: str, blank: Any) -> None:
    assert field in invalid(AffiliationSchema, row(**{field: blank}))


def test_all_missing_fields_are_named_at_once() -> None:
    fields = invalid(AffiliationSchema, {})
    assert set(REQUIRED) <= set(fields)


@pytest.mark.parametrize(
    "value", ["1995-13-03", "1995-02-30", "03/10/1995", "yesterday", 19951003]
)
def test_a_bad_birth_date_is_named(value: Any) -> None:
    assert list(invalid(AffiliationSchema, row(birth_date=value))) == ["birth_date"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "claire@"),
        ("representative_email", "paul at example"),
    ],
)
def test_a_bad_email_is_named(field: str, value: str) -> None:
    extra = {"representative_name": "P", "representative_role": "parent"}
    assert field in invalid(AffiliationSchema, row(**extra, **{field: value}))


def test_a_representative_name_without_a_role_is_refused_naming_the_role() -> None:
    fields = invalid(AffiliationSchema, row(representative_name="MARTIN Paul"))
    assert list(fields) == ["representative_role"]


def test_a_representative_role_without_a_name_is_refused_naming_the_name() -> None:
    fields = invalid(AffiliationSchema, row(representative_role="guardian"))
    assert list(fields) == ["representative_name"]


def test_an_unknown_representative_role_is_named() -> None:
    fields = invalid(
        AffiliationSchema,
        row(representative_name="MARTIN Paul", representative_role="uncle"),
    )
    assert "representative_role" in fields


def test_a_representative_contact_without_a_name_is_refused_not_dropped() -> None:
    fields = invalid(
        AffiliationSchema,
        row(representative_email="paul@example.org", email=None),
    )
    assert "representative_name" in fields


def test_an_unknown_oid_is_named_id_2() -> None:
    assert list(invalid(AffiliationSchema, row(oid="1.2.250.1.213.1.4.2"))) == ["oid"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nir": "295109912611199"}, "nir"),  # ID-1 key
        ({"nir": "2951099126111"}, "nir"),  # too short
        ({"sex": "M"}, "sex"),  # ID-2 sex digit
        ({"sex": "X"}, "sex"),
        ({"birth_date": "1996-10-03"}, "birth_date"),  # ID-2 year
        ({"birth_date": "1995-09-03"}, "birth_date"),  # ID-2 month
        ({"birthplace_code": "2C073"}, "birthplace_code"),
        ({"birthplace_code": "991260"}, "birthplace_code"),
        ({"vitale_serial": "12AB56"}, "vitale_serial"),  # ID-4
        ({"vitale_serial": "123"}, "vitale_serial"),
        ({"birth_name": "X" * 201}, "birth_name"),
        ({"postal_address": "x" * 501}, "postal_address"),
        ({"legacy_dmp_ref": "x" * 65}, "legacy_dmp_ref"),
        ({"nir": 295109912611193}, "nir"),  # not a string
    ],
)
def test_identifiers_and_traits_that_fail_their_rule_are_named(
    overrides: dict[str, Any], field: str
) -> None:
    assert field in invalid(AffiliationSchema, row(**overrides))


@pytest.mark.parametrize(
    "data", [None, [], ["nir", "295109912611193"], "nir=295109912611193", 42]
)
def test_input_that_is_not_a_mapping_is_refused_as_a_whole(data: Any) -> None:
    assert invalid(AffiliationSchema, data) == {"_schema": ["expected an object"]}


# ---------------------------------------------------- other schemas


ACTIVATION = {
    "nir": "295109912611193",
    "code": "abcde-fghjk",
    "birth_date": "1995-10-03",
    "vitale_serial": "1234 5678",
}


def test_an_activation_loads_with_compact_identifiers_lc_5() -> None:
    data = schemas.load(
        ActivationSchema, {**ACTIVATION, "nir": "2 95 10 99 126 111 93"}
    )
    assert data == {
        "nir": "295109912611193",
        "oid": "1.2.250.1.213.1.4.8",
        "code": "abcde-fghjk",
        "birth_date": date(1995, 10, 3),
        "vitale_serial": "12345678",
        "as_representative": False,
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "abc"}, "code"),
        ({"code": "x" * 33}, "code"),
        ({"nir": "295109912611199"}, "nir"),
        ({"birth_date": "1995-10-32"}, "birth_date"),
        ({"vitale_serial": "abc"}, "vitale_serial"),
        ({"as_representative": "perhaps"}, "as_representative"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_a_bad_activation_names_its_field_lc_5(
    overrides: dict[str, Any], field: str
) -> None:
    assert field in invalid(ActivationSchema, {**ACTIVATION, **overrides})


def test_an_opposition_defaults_to_the_web_and_refuses_other_channels_lc_3() -> None:
    assert schemas.load(OppositionSchema, {}) == {"channel": "web"}
    assert schemas.load(OppositionSchema, {"channel": "phone"}) == {"channel": "phone"}
    assert list(invalid(OppositionSchema, {"channel": "fax"})) == ["channel"]


def test_a_suspension_needs_a_reason_and_an_aware_informed_at_lc_7() -> None:
    data = schemas.load(
        SuspensionSchema,
        {"reason": "fraud", "informed_at": "2025-03-10T09:00:00+01:00"},
    )
    assert data["informed_at"] == datetime(2025, 3, 10, 8, tzinfo=UTC)
    assert schemas.load(SuspensionSchema, {"reason": "fraud"})["informed_at"] is None
    assert list(invalid(SuspensionSchema, {"reason": "no"})) == ["reason"]
    assert list(
        invalid(
            SuspensionSchema, {"reason": "fraud", "informed_at": "2025-03-10T09:00"}
        )
    ) == ["informed_at"]


def test_a_death_needs_a_valid_date_lc_7() -> None:
    assert schemas.load(DeathSchema, {"date_of_death": "2025-07-30"}) == {
        "date_of_death": date(2025, 7, 30)
    }
    assert list(invalid(DeathSchema, {"date_of_death": "30/07/2025"})) == [
        "date_of_death"
    ]
    assert list(invalid(DeathSchema, {})) == ["date_of_death"]


def test_a_nir_look_up_compacts_or_names_the_nir_id_1() -> None:
    assert schemas.load(NirSchema, {"nir": "2 53 07 2b 073 004 70"}) == {
        "nir": "253072B07300470",
        "oid": "1.2.250.1.213.1.4.8",
    }
    assert list(invalid(NirSchema, {"nir": "253072B07300471"})) == ["nir"]


# ------------------------------------------------------ instants and dates


def test_parse_instant_keeps_the_offset() -> None:
    parsed = schemas.parse_instant("2025-04-14T23:59:59+02:00")
    assert parsed.utcoffset() == timedelta(hours=2)
    assert parsed == datetime(2025, 4, 14, 21, 59, 59, tzinfo=UTC)
    assert schemas.parse_instant("2025-04-14T21:59:59Z").tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-04-14T23:59:59", "needs a UTC offset"),
        ("14/04/2025 23:59", "not an ISO 8601"),
        ("", "not an ISO 8601"),
    ],
)
def test_parse_instant_names_the_field_of_a_bad_instant(
    value: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        schemas.parse_instant(value, field="sent_at")
    assert list(info.value.fields) == ["sent_at"]
    assert message in info.value.fields["sent_at"][0]


def test_parse_date_names_the_field_of_a_bad_date() -> None:
    assert schemas.parse_date("2024-02-29", "day") == date(2024, 2, 29)
    with pytest.raises(InvalidInput) as info:
        schemas.parse_date("2025-02-29", "day")
    assert list(info.value.fields) == ["day"]


# ------------------------------------------------------------- garbage in


SCALARS = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "295109912611193",
            "253072B07300470",
            "1995-10-03",
            "1953-07-14",
            "F",
            "M",
            "99126",
            "2B073",
            "123456",
            "a@b.fr",
            "parent",
            NIA_OID,
            "   ",
        ]
    ),
)
AFFILIATION_KEYS = st.sampled_from(
    [
        *ROW,
        "oid",
        "postal_address",
        "representative_name",
        "representative_role",
        "representative_email",
        "representative_postal_address",
        "legacy_dmp_ref",
    ]
)


ROW_WITH_GARBLED_CELLS = st.dictionaries(AFFILIATION_KEYS, SCALARS, max_size=3).map(
    lambda d: {**ROW, **d}
)


def _loads_or_invalid(schema: type[Schema], data: Any) -> dict[str, Any] | None:
    error: InvalidInput | None = None
    try:
        result = schemas.load(schema, data)
    except InvalidInput as exc:
        error = exc
    else:
        event("loaded")
        return result
    event(f"invalid: {sorted(error.fields)[:2]}")
    assert error.fields
    assert all(isinstance(k, str) and v for k, v in error.fields.items())
    return None


@settings(max_examples=300)
@given(
    # sampled_from + flatmap weights the kinds (one_of would flatten SCALARS).
    st.sampled_from(
        [
            st.dictionaries(st.one_of(AFFILIATION_KEYS, st.text(max_size=10)), SCALARS),
            # A good row with a few cells garbled reaches the cross-field checks.
            ROW_WITH_GARBLED_CELLS,
            ROW_WITH_GARBLED_CELLS,
            ROW_WITH_GARBLED_CELLS,
            st.one_of(SCALARS, st.lists(SCALARS)),
        ]
    ).flatmap(lambda strategy: strategy)
)
def test_any_garbage_affiliation_gives_a_valid_row_or_invalid_input(data: Any) -> None:
    result = _loads_or_invalid(AffiliationSchema, data)
    if result is not None:
        assert isinstance(result["ins"], Ins)
        assert (
            Ins.create(
                nir=result["ins"].nir,
                oid=result["ins"].oid,
                birth_name=result["ins"].birth_name,
                first_names=result["ins"].first_names,
                birth_date=result["ins"].birth_date,
                sex=result["ins"].sex,
                birthplace_code=result["ins"].birthplace_code,
            )
            == result["ins"]
        )
        assert result["vitale_serial"].isdigit()


@settings(max_examples=200)
@given(
    st.sampled_from(
        [ActivationSchema, OppositionSchema, SuspensionSchema, DeathSchema, NirSchema]
    ),
    st.one_of(
        st.dictionaries(
            st.one_of(st.sampled_from([*ACTIVATION, "channel", "reason"]), st.text()),
            SCALARS,
            max_size=4,
        ),
        st.dictionaries(st.sampled_from(list(ACTIVATION)), SCALARS, max_size=2).map(
            lambda d: {**ACTIVATION, **d}
        ),
        st.dictionaries(st.sampled_from(["channel", "reason"]), SCALARS),
    ),
)
def test_any_garbage_for_other_schemas_gives_a_result_or_invalid_input(
    schema: type[Schema], data: Any
) -> None:
    _loads_or_invalid(schema, data)
