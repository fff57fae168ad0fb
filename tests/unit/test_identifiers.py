"""Identifiers (ID-1 to ID-4) and the keyed espace ids derived from them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from espace.application.security import (
    CODE_ALPHABET,
    Hashing,
    new_activation_code,
    normalise_code,
)
from espace.domain.errors import InvalidIdentifier
from espace.domain.identifiers import (
    NIA_OID,
    NIR_OID,
    Ins,
    validate_idnatps,
    validate_nir,
    validate_vitale_serial,
)


def nir_key(first13: str) -> str:
    """ID-1 computed here, independently: 97 - (13 digits mod 97), 2A→19, 2B→18."""
    number = int(first13.replace("2A", "19").replace("2B", "18"))
    return f"{97 - number % 97:02d}"


def with_key(first13: str) -> str:
    return first13 + nir_key(first13)


def luhn_digit(payload: str) -> str:
    """The Luhn check digit to append to ``payload`` (ID-3), computed here."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


# ---------------------------------------------------------------------- ID-1


@pytest.mark.parametrize(
    "nir", ["295109912611193", "253072B07300470", "253072A07300443"]
)
def test_published_valid_nirs_pass_including_corsica_id_1(nir: str) -> None:
    assert validate_nir(nir) == nir


def test_the_key_helper_agrees_with_the_published_examples_id_1() -> None:
    assert nir_key("2951099126111") == "93"
    assert nir_key("253072B073004") == "70"
    assert nir_key("253072A073004") == "43"


def test_a_nir_with_spaces_and_lower_case_corsica_is_compacted_id_1() -> None:
    assert validate_nir("2 53 07 2b 073 004 70") == "253072B07300470"


@pytest.mark.parametrize(
    "nir",
    [
        "295109912611199",  # wrong key
        "253072A07300470",  # 2B's key on a 2A number
        "29510991261119",  # 14 characters
        "2951099126111930",  # 16 characters
        "29510991261119A",  # a letter in the key
        "2951099126X1193",  # a letter in the order number
        "253072C07300470",  # no département 2C
        "",
        "ABCDEFGHIJKLMNO",
    ],
)
def test_invalid_nirs_are_refused_naming_the_field_and_id_1(nir: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        validate_nir(nir, field="holder_nir")
    assert (info.value.field, info.value.rule) == ("holder_nir", "ID-1")
    assert info.value.as_dict()["fields"] == {"holder_nir": [info.value.reason]}


@given(
    sex=st.sampled_from("12"),
    year=st.integers(0, 99),
    month=st.integers(1, 12),
    place=st.integers(1001, 95999),
    order=st.integers(1, 999),
)
def test_any_nir_with_its_computed_key_is_valid_and_any_other_key_is_not_id_1(
    sex: str, year: int, month: int, place: int, order: int
) -> None:
    first13 = f"{sex}{year:02d}{month:02d}{place:05d}{order:03d}"
    key = nir_key(first13)
    assert validate_nir(first13 + key) == first13 + key
    wrong = f"{(int(key) % 97) + 1:02d}"
    with pytest.raises(InvalidIdentifier):
        validate_nir(first13 + wrong)


# ---------------------------------------------------------------------- ID-2


def traits(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "nir": "295109912611193",
        "birth_name": "MARTIN",
        "first_names": "Claire Anne",
        "birth_date": date(1995, 10, 3),
        "sex": "F",
        "birthplace_code": "99126",
    }
    base.update(overrides)
    return base


def test_an_ins_with_coherent_traits_is_created_on_a_nir_id_2() -> None:
    ins = Ins.create(**traits(nir="2 95 10 99 126 111 93", birth_name="  MARTIN "))
    assert ins.nir == "295109912611193"
    assert ins.oid == NIR_OID
    assert ins.birth_name == "MARTIN"
    assert ins.key == f"{NIR_OID}:295109912611193"


def test_an_ins_on_a_nia_keeps_its_oid_and_key_id_2() -> None:
    ins = Ins.create(**traits(), oid=NIA_OID)
    assert ins.oid == NIA_OID
    assert ins.key == f"{NIA_OID}:295109912611193"


def test_a_corsican_birthplace_is_accepted_and_upper_cased_id_2() -> None:
    ins = Ins.create(
        **traits(
            nir="253072B07300470",
            birth_date=date(1953, 7, 14),
            birthplace_code="2b073",
        )
    )
    assert ins.birthplace_code == "2B073"


def test_a_male_nir_with_sex_m_is_accepted_id_2() -> None:
    nir = with_key("1080275056123")
    ins = Ins.create(**traits(nir=nir, sex="M", birth_date=date(2008, 2, 29)))
    assert ins.sex == "M"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sex": "M"}, "sex"),  # NIR starts with 2
        ({"sex": "X"}, "sex"),
        ({"sex": "f"}, "sex"),
        ({"birth_date": date(1985, 10, 3)}, "birth_date"),  # year 95 in the NIR
        ({"birth_date": date(1995, 11, 3)}, "birth_date"),  # month 10 in the NIR
        ({"birthplace_code": "9912"}, "birthplace_code"),
        ({"birthplace_code": "2C073"}, "birthplace_code"),
        ({"birthplace_code": "AB126"}, "birthplace_code"),
        ({"birth_name": "   "}, "birth_name"),
        ({"first_names": ""}, "first_names"),
        ({"nir": "295109912611199"}, "nir"),
    ],
)
def test_incoherent_traits_are_refused_naming_the_trait_id_2(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        Ins.create(**traits(**overrides))
    assert info.value.field == field
    assert info.value.rule == ("ID-1" if field == "nir" else "ID-2")


def test_an_unknown_oid_is_refused_id_2() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        Ins.create(**traits(), oid="1.2.250.1.213.1.4.10")
    assert (info.value.field, info.value.rule) == ("oid", "ID-2")


@pytest.mark.parametrize("month", ["20", "35", "42", "99"])
def test_a_nir_with_an_unknown_birth_month_accepts_any_birth_month_id_2(
    month: str,
) -> None:
    nir = with_key(f"295{month}99126111")
    ins = Ins.create(**traits(nir=nir, birth_date=date(1995, 6, 1)))
    assert ins.nir == nir


# ---------------------------------------------------------------------- ID-3


@pytest.mark.parametrize("idnatps", ["810001045367", "0012600631"])
def test_published_rpps_and_adeli_idnatps_are_valid_id_3(idnatps: str) -> None:
    assert validate_idnatps(idnatps) == idnatps


def test_the_luhn_helper_agrees_with_the_published_numbers_id_3() -> None:
    assert luhn_digit("1000104536") == "7"
    assert luhn_digit("01260063") == "1"


def test_an_idnatps_with_spaces_is_compacted_id_3() -> None:
    assert validate_idnatps("8 10001 045367") == "810001045367"


@pytest.mark.parametrize(
    "idnatps",
    [
        "810001045368",  # RPPS with a bad Luhn digit
        "0012600632",  # ADELI with a bad Luhn digit
        "910001045367",  # unknown prefix 9
        "10001045367",  # RPPS without its prefix
        "012600631",  # ADELI without its prefix
        "80012600631",  # prefix 8 with a 10-digit number
        "00010001045367",  # prefix 0 with an 11-digit number
        "8100010453A7",
        "",
    ],
)
def test_bad_idnatps_are_refused_id_3(idnatps: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        validate_idnatps(idnatps, field="author")
    assert (info.value.field, info.value.rule) == ("author", "ID-3")


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_every_rpps_with_its_luhn_digit_is_valid_and_no_other_digit_is_id_3(
    payload: str,
) -> None:
    good = luhn_digit(payload)
    assert validate_idnatps("8" + payload + good) == "8" + payload + good
    for digit in "0123456789":
        if digit != good:
            with pytest.raises(InvalidIdentifier):
                validate_idnatps("8" + payload + digit)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_every_adeli_with_its_luhn_digit_is_valid_id_3(payload: str) -> None:
    number = "0" + payload + luhn_digit(payload)
    assert validate_idnatps(number) == number


# ---------------------------------------------------------------------- ID-4


@pytest.mark.parametrize(
    ("serial", "compact"),
    [("123456", "123456"), ("1234 5678 9012", "123456789012"), ("0" * 20, "0" * 20)],
)
def test_a_vitale_serial_is_an_opaque_string_of_digits_id_4(
    serial: str, compact: str
) -> None:
    assert validate_vitale_serial(serial) == compact


@pytest.mark.parametrize("serial", ["12345", "1" * 21, "12345A", "", "12-34-56"])
def test_a_vitale_serial_that_is_not_6_to_20_digits_is_refused_id_4(
    serial: str,
) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        validate_vitale_serial(serial)
    assert (info.value.field, info.value.rule) == ("vitale_serial", "ID-4")


def test_a_vitale_serial_keeps_its_leading_zeros_id_4() -> None:
    assert validate_vitale_serial("000123") == "000123"


# ------------------------------------------------------- keyed espace ids


KEY_A = Hashing(id_key=b"a" * 32, pepper=b"p" * 32)
KEY_B = Hashing(id_key=b"b" * 32, pepper=b"p" * 32)


def test_espace_ids_are_deterministic_for_one_key() -> None:
    again = Hashing(id_key=b"a" * 32, pepper=b"other" * 8)
    assert KEY_A.espace_id("295109912611193") == again.espace_id("295109912611193")


def test_espace_ids_differ_across_keys() -> None:
    assert KEY_A.espace_id("295109912611193") != KEY_B.espace_id("295109912611193")


def test_espace_ids_differ_between_nir_and_nia_oids() -> None:
    nir = "295109912611193"
    assert KEY_A.espace_id(nir, NIR_OID) != KEY_A.espace_id(nir, NIA_OID)
    assert KEY_A.espace_id(nir) == KEY_A.espace_id(nir, NIR_OID)


def test_an_espace_id_is_not_a_plain_hash_of_the_nir() -> None:
    nir = "295109912611193"
    espace_id = KEY_A.espace_id(nir)
    assert espace_id not in {
        uuid.uuid5(uuid.NAMESPACE_OID, nir),
        uuid.uuid5(uuid.NAMESPACE_OID, f"{NIR_OID}:{nir}"),
        uuid.uuid3(uuid.NAMESPACE_OID, nir),
    }


@given(
    key=st.binary(min_size=16, max_size=64),
    nir=st.text(alphabet="0123456789AB", min_size=15, max_size=15),
    oid=st.sampled_from([NIR_OID, NIA_OID]),
)
def test_espace_ids_are_rfc_9562_version_8_uuids(
    key: bytes, nir: str, oid: str
) -> None:
    espace_id = Hashing(id_key=key, pepper=b"x").espace_id(nir, oid)
    assert espace_id.version == 8
    assert espace_id.variant == uuid.RFC_4122
    assert espace_id == Hashing(id_key=key, pepper=b"y").espace_id(nir, oid)


@given(st.lists(st.text(alphabet="0123456789", min_size=15, max_size=15), unique=True))
def test_distinct_nirs_get_distinct_espace_ids(nirs: list[str]) -> None:
    assert len({KEY_A.espace_id(n) for n in nirs}) == len(nirs)


# ------------------------------------------------- codes and digests (LC-5)


def test_a_code_digest_ignores_case_and_separators_but_not_the_salt_lc_5() -> None:
    assert KEY_A.code_digest("abcde-fghjk", "s") == KEY_A.code_digest("ABCDEFGHJK", "s")
    assert KEY_A.code_digest("ABCDEFGHJK", "s") != KEY_A.code_digest("ABCDEFGHJK", "t")
    assert KEY_A.code_digest("ABCDEFGHJK", "s") != KEY_A.code_digest("ABCDEFGHJL", "s")


def test_digests_are_separated_by_purpose_and_keyed_by_the_pepper() -> None:
    assert KEY_A.vitale_digest("123456") != KEY_A.digest("other", "123456")
    other_pepper = Hashing(id_key=b"a" * 32, pepper=b"q" * 32)
    assert KEY_A.vitale_digest("123456") != other_pepper.vitale_digest("123456")


def test_a_new_activation_code_is_ten_unambiguous_characters_lc_5() -> None:
    codes = {new_activation_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert len(code) == 11
        assert code[5] == "-"
        assert set(normalise_code(code)) <= set(CODE_ALPHABET)
        assert not set(code) & set("01IO")
