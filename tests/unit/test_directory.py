"""The directory of professionals, rule by rule (PRO-2, ID-3): the extract's
rows and columns, the Professional aggregate, and the one check that keeps an
unlisted professional off every espace. No I/O.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from espace import InvalidInput
from espace.application import schemas, service_schemas
from espace.application.delimited import BadLine
from espace.application.directory import read_extract
from espace.domain.actors import Actor, ActorKind
from espace.domain.decision import Decision, Listing, listed_actor
from espace.domain.directory import (
    PROFESSION_CODES,
    Professional,
    canonical_activities,
    professional_id,
)
from espace.domain.errors import RuleViolation
from espace.projections.directory import DirectoryProjection, search_key

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
RPPS = "810001045367"
ADELI = "0012600631"

HEADER = (
    "Type d'identifiant PP|Identification nationale PP|Identifiant PP|"
    "Code civilité d'exercice|Libellé civilité d'exercice|Nom d'exercice|"
    "Prénom d'exercice|Code profession|Libellé profession|Code catégorie "
    "professionnelle|Code savoir-faire|Libellé savoir-faire|Code mode exercice|"
    "Libellé mode exercice|Raison sociale site|Code postal (coord. structure)|"
    "Libellé commune (coord. structure)|Bureau cedex (coord. structure)|"
)


def entry(**overrides: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "idnatps": RPPS,
        "id_type": "8",
        "last_name": "LEFÈVRE",
        "first_name": "Anaïs",
        "profession": "physician",
        "profession_code": "10",
        "profession_label": "Médecin",
        "activities": [
            {"site": "Cabinet médical", "postal_code": "44000", "city": "Nantes"},
            {"site": "CHU de Nantes", "postal_code": "44093", "city": "Nantes"},
        ],
    }
    e.update(overrides)
    return e


def row(**cells: str) -> dict[str, str]:
    r = {
        "Identification nationale PP": RPPS,
        "Type d'identifiant PP": "8",
        "Nom d'exercice": "LEFÈVRE",
        "Prénom d'exercice": "Anaïs",
        "Code profession": "10",
        "Libellé profession": "Médecin",
        "Code savoir-faire": "SM54",
        "Libellé savoir-faire": "Médecine générale",
        "Code mode exercice": "L",
        "Raison sociale site": "Cabinet médical",
        "Code postal (coord. structure)": "44000",
        "Libellé commune (coord. structure)": "Nantes",
        "Bureau cedex (coord. structure)": "44000 NANTES",
    }
    r.update(cells)
    return r


def load_row(**cells: str) -> dict[str, Any]:
    return schemas.load(service_schemas.DirectoryRowSchema, row(**cells))


# ------------------------------------------------------------------ extract


def test_the_extract_is_read_by_column_name_with_its_trailing_pipe_pro_2() -> None:
    text = (
        HEADER
        + "\n"
        + "8|810001045367|10001045367|DR|Docteur|LEFÈVRE|Anaïs|10|Médecin|C|SM54|"
        + "Médecine générale|L|Libéral|Cabinet|44000|Nantes|44000 NANTES|\n"
    )
    [(line, r)] = list(read_extract(io.StringIO(text)))
    assert line == 2
    assert isinstance(r, dict)
    assert r["Nom d'exercice"] == "LEFÈVRE"
    assert r["Libellé commune (coord. structure)"] == "Nantes"
    assert "" not in r
    data = schemas.load(service_schemas.DirectoryRowSchema, r)
    assert (data["idnatps"], data["id_type"], data["city"]) == (RPPS, "8", "Nantes")


def test_columns_may_come_in_any_order_and_others_are_ignored_pro_2() -> None:
    text = (
        "Code profession|Extra column|Nom d'exercice|Identification nationale PP|"
        "Type d'identifiant PP|\n10|whatever|MARTIN|810001045367|8|\n"
    )
    [(_, r)] = list(read_extract(io.StringIO(text)))
    assert isinstance(r, dict)
    assert load_row(**r)["last_name"] == "MARTIN"


def test_a_header_without_the_needed_columns_is_refused_by_name_pro_2() -> None:
    with pytest.raises(InvalidInput) as err:
        list(read_extract(io.StringIO("Nom|Prénom|\nA|B|\n")))
    assert "Identification nationale PP" in err.value.fields["header"][0]


@pytest.mark.parametrize(("fields", "found"), [(27, 27), (10, 10)])
def test_a_row_with_another_number_of_fields_than_the_header_is_a_bad_row_pro_2(
    fields: int, found: int
) -> None:
    text = HEADER + "\n" + "8|" * (fields - 1) + "x|\n"
    [(line, r)] = list(read_extract(io.StringIO(text)))
    assert (line, r) == (2, BadLine(2, f"{found} fields where the header has 18"))


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        (
            {"Identification nationale PP": "810001045368"},
            "Identification nationale PP",
        ),
        ({"Identification nationale PP": "81000104536"}, "Identification nationale PP"),
        ({"Identification nationale PP": ""}, "Identification nationale PP"),
        ({"Type d'identifiant PP": "0"}, "Type d'identifiant PP"),
        ({"Type d'identifiant PP": "3"}, "Type d'identifiant PP"),
        ({"Nom d'exercice": ""}, "Nom d'exercice"),
        ({"Code profession": "dix"}, "Code profession"),
        ({"Code postal (coord. structure)": "4400"}, "Code postal (coord. structure)"),
    ],
)
def test_a_bad_row_names_the_column_at_fault_id_3_pro_2(
    cells: dict[str, str], column: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        load_row(**cells)
    assert column in err.value.fields


def test_an_adeli_number_is_listed_with_type_0_id_3() -> None:
    data = load_row(
        **{"Identification nationale PP": ADELI, "Type d'identifiant PP": "0"}
    )
    assert data["idnatps"] == ADELI


def test_the_professions_of_the_extract_map_to_those_of_the_access_matrix_pro_2() -> (
    None
):
    assert PROFESSION_CODES == {
        "10": "physician",
        "21": "pharmacist",
        "40": "dentist",
        "50": "midwife",
        "60": "nurse",
        "70": "physiotherapist",
        "91": "speech_therapist",
    }


# ------------------------------------------------------------------ aggregate


def test_a_professional_is_registered_under_an_id_derived_from_the_idnatps_pro_2() -> (
    None
):
    pro = Professional.register(at=T0, entry=entry())
    [event] = pro.collect_events()
    assert type(event).__name__ == "Registered"
    assert isinstance(event, Professional.Registered)
    assert pro.id == professional_id(RPPS)
    assert pro.listed
    assert pro.profession == "physician"
    assert type(event).KEY_SCOPE == "system"
    assert not hasattr(event, "espace_id")


def test_the_same_places_in_another_order_are_the_same_entry_pro_2() -> None:
    pro = Professional.register(at=T0, entry=entry())
    pro.collect_events()
    shuffled = entry(activities=list(reversed(entry()["activities"])) * 2)
    assert pro.update(at=T0 + timedelta(days=1), entry=shuffled) is False
    assert pro.collect_events() == []


def test_a_changed_entry_is_one_updated_event_pro_2() -> None:
    pro = Professional.register(at=T0, entry=entry())
    pro.collect_events()
    moved = entry(activities=[{"site": "Clinique", "city": "Rezé"}])
    assert pro.update(at=T0 + timedelta(days=1), entry=moved) is True
    [event] = pro.collect_events()
    assert type(event).__name__ == "Updated"
    assert pro.activities == canonical_activities(moved["activities"])


def test_a_withdrawn_professional_is_reinstated_by_a_later_extract_pro_2() -> None:
    pro = Professional.register(at=T0, entry=entry())
    pro.withdraw(at=T0 + timedelta(days=1), reason="absent from the extract")
    assert not pro.listed
    with pytest.raises(RuleViolation) as err:
        pro.withdraw(at=T0 + timedelta(days=2), reason="again")
    assert err.value.rule == "PRO-2"
    assert pro.update(at=T0 + timedelta(days=3), entry=entry()) is True
    assert pro.listed
    assert [type(e).__name__ for e in pro.collect_events()] == [
        "Registered",
        "Withdrawn",
        "Reinstated",
    ]


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"id_type": "0"}, "ID-3"),
        ({"last_name": " "}, "PRO-2"),
        ({"profession": "nurse"}, "PRO-2"),
        ({"profession_code": "80"}, "PRO-2"),
        ({"activities": []}, "PRO-2"),
    ],
)
def test_an_incoherent_entry_is_refused_pro_2_id_3(
    overrides: dict[str, Any], rule: str
) -> None:
    with pytest.raises(RuleViolation) as err:
        Professional.register(at=T0, entry=entry(**overrides))
    assert err.value.rule == rule


def test_an_entry_never_changes_its_idnatps_pro_2() -> None:
    pro = Professional.register(at=T0, entry=entry())
    with pytest.raises(RuleViolation):
        pro.update(at=T0, entry=entry(idnatps="810002000007"))


# ------------------------------------------------------------------ the check


class FakeDirectory:
    def __init__(self, listed: dict[str, str]) -> None:
        self.listed = listed

    def profession_of(self, idnatps: str) -> str | None:
        return self.listed.get(idnatps)


PHYSICIAN = Actor(ActorKind.PROFESSIONAL, RPPS, "physician")


def test_an_unlisted_professional_acts_on_no_espace_pro_2() -> None:
    for listing in (None, Listing(listed=False, profession="physician", version=3)):
        denial = listed_actor(PHYSICIAN, listing, require_listing=True)
        assert isinstance(denial, Decision)
        assert denial.rule == "PRO-2"
        assert denial.reason is not None
        assert "not in the directory" in denial.reason


def test_the_directory_says_the_profession_and_another_claim_is_refused_pro_2() -> None:
    nurse = Listing(listed=True, profession="nurse", version=1)
    unclaimed = Actor(ActorKind.PROFESSIONAL, RPPS, None)
    assert listed_actor(unclaimed, nurse, True) == Actor(
        ActorKind.PROFESSIONAL, RPPS, "nurse"
    )
    as_nurse = Actor(ActorKind.PROFESSIONAL, RPPS, "nurse")
    assert listed_actor(as_nurse, nurse, True) == as_nurse
    denial = listed_actor(PHYSICIAN, nurse, True)
    assert isinstance(denial, Decision)
    assert denial.rule == "PRO-2"
    assert "as a nurse, not a physician" in (denial.reason or "")


def test_without_a_directory_the_claim_stands_adr_0011() -> None:
    assert listed_actor(PHYSICIAN, None, require_listing=False) == PHYSICIAN


# ------------------------------------------------------------------ the view


def test_search_keys_ignore_accents_case_and_punctuation() -> None:
    assert search_key("Saint-Étienne") == search_key("saint etienne") == "SAINT ETIENNE"
    assert search_key(None) == ""


def test_the_directory_view_holds_the_public_entry_and_is_never_purged() -> None:
    projection = DirectoryProjection()
    pro = Professional.register(at=T0, entry=entry())
    pro.withdraw(at=T0 + timedelta(days=1), reason="absent")
    state = None
    for event in pro.collect_events():
        state = projection.apply(event, state)
    assert state is not None
    assert state["pro"]["listed"] is False
    assert state["pro"]["name_key"] == "LEFEVRE ANAIS"
    assert [p["city_key"] for p in state["places"]] == ["NANTES", "NANTES"]
    projection.purge(None, [pro.id])  # type: ignore[arg-type]  # no-op: no SQL
