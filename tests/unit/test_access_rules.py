"""Who may do what on a record, rule by rule, through the one pure decision
(ACC-1 to ACC-7, DOC-2, DOC-4, DOC-5, LC-4, LC-8, LC-11, LC-12).

Each test is given the facts of an espace, the holder's consent choices, the
access matrix and (for a document) its flags; when ``decide`` runs for one
actor, action and mode; then it allows with the expected ground, or denies
naming the rule. The access matrix (ACC-3) is parsed and published here too,
and the input edge (``actor_from``, ``ModeSchema``) is fed bad input. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from typing import Any, cast
from uuid import UUID

import pytest

from espace.application import schemas
from espace.application.errors import InvalidInput
from espace.application.records import actor_from
from espace.application.tables import (
    matrix_from_csv,
    matrix_to_csv,
    types_from_csv,
    types_to_csv,
)
from espace.domain.access import AccessMatrix, AccessMatrixLog, DocumentType
from espace.domain.actors import PROFESSIONS, Action, Actor, ActorKind, Ground, Mode
from espace.domain.consent import ConsentState
from espace.domain.decision import (
    Decision,
    DocumentFacts,
    EspaceFacts,
    Listing,
    decide,
    listed_actor,
)
from espace.domain.document_metadata import LEGACY_TYPES, Category
from espace.domain.errors import InvalidIdentifier, RuleViolation
from espace.domain.espace_state import State

ESPACE = UUID("0b7c2a44-1d7e-4c1b-9e55-2d3f0a6b8c11")
OTHER_ESPACE = UUID("5d0e3f9a-77c2-4b6a-8f10-c3e2a1b0d9f4")
AT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)

PHYSICIAN = Actor(ActorKind.PROFESSIONAL, "810001045367", "physician")
GP = Actor(ActorKind.PROFESSIONAL, "810002000007", "physician")
NURSE = Actor(ActorKind.PROFESSIONAL, "810003000006", "nurse")
PHARMACIST = Actor(ActorKind.PROFESSIONAL, "810004000005", "pharmacist")
DENTIST = Actor(ActorKind.PROFESSIONAL, "810005000004", "dentist")
SOCIAL = Actor(ActorKind.PROFESSIONAL, "0012600631", "social_worker")
MIDWIFE = Actor(ActorKind.PROFESSIONAL, "810006000003", "midwife")
"""The default author of the documents below: none of the readers."""
HOLDER = Actor(ActorKind.HOLDER, str(ESPACE))
REPRESENTATIVE = Actor(ActorKind.REPRESENTATIVE, str(ESPACE))
HEIR = Actor(ActorKind.HEIR, "heir-1")

CATEGORIES = [c.value for c in Category]

# The matrix of ACC-3 as the rule book sketches it: physicians read all but
# management (the residence attestation), pharmacists and nurses a little
# less, dentists less, social staff much less. Written here, not read from
# the package, so that these tests do not move when the operator's data does.
MATRIX_CSV = """\
profession,report,summary,imaging,prescription,dispensation,care_plan,treatment_administered,certificate,reimbursement,patient_uploaded,management
physician,1,1,1,1,1,1,1,1,1,1,0
pharmacist,1,1,0,1,1,1,1,0,1,1,0
nurse,1,1,0,1,1,1,1,0,0,1,0
midwife,1,1,1,1,1,1,1,1,0,1,0
dentist,0,1,1,1,0,0,1,0,0,1,0
physiotherapist,1,1,1,1,0,1,0,0,0,1,0
speech_therapist,1,1,0,1,0,1,0,0,0,1,0
social_worker,0,1,0,0,0,1,0,0,0,0,0
"""
TYPES = {
    code: DocumentType(code, display, category)
    for code, (display, category) in LEGACY_TYPES.items()
}
MATRIX = matrix_from_csv(MATRIX_CSV, version=1, types=TYPES)
HEADER = MATRIX_CSV.splitlines()[0]


def espace(state: str = "active", **kw: Any) -> EspaceFacts:
    facts = {"deceased": False, "represented": False, **kw}
    return EspaceFacts(espace_id=ESPACE, state=State(state), **facts)


def doc(
    category: str = "report",
    author: Actor = MIDWIFE,
    **flags: bool,
) -> DocumentFacts:
    values: dict[str, Any] = {
        "masked": False,
        "hidden_from_holder": False,
        "hidden_from_representatives": False,
        "deleted": False,
        **flags,
    }
    kind = "holder" if author.kind is ActorKind.HOLDER else "professional"
    return DocumentFacts(
        category=category, author_kind=kind, author_id=author.id, **values
    )


def consent(**kw: Any) -> ConsentState:
    sets: dict[str, Any] = {
        k: frozenset(v) for k, v in kw.items() if isinstance(v, set | list)
    }
    rest = {k: v for k, v in kw.items() if k not in sets}
    return ConsentState(**sets, **rest)


NONE = ConsentState()


def run(
    actor: Actor,
    action: Action = Action.READ,
    *,
    facts: EspaceFacts | None = None,
    choices: ConsentState = NONE,
    document: DocumentFacts | None = None,
    mode: Mode = Mode.CARE,
    matrix: AccessMatrix = MATRIX,
) -> Decision:
    return decide(
        actor,
        action,
        espace=facts or espace(),
        consent=choices,
        matrix=matrix,
        document=document,
        mode=mode,
    )


def allowed(decision: Decision, ground: Ground) -> None:
    assert decision.allowed, decision
    assert decision.ground is ground
    assert decision.rule is None


def denied(decision: Decision, rule: str) -> None:
    assert not decision.allowed, decision
    assert decision.rule == rule, decision
    assert decision.reason
    assert decision.ground is None


# --------------------------------------------------------------------- ACC-1


@pytest.mark.parametrize(
    ("action", "document"),
    [
        (Action.READ, doc(author=NURSE)),
        (Action.LIST, None),
        (Action.DEPOSIT, None),
        (Action.REPLACE, doc(author=NURSE)),
        (Action.DELETE, doc(author=NURSE)),
    ],
)
def test_a_professional_without_the_holders_consent_is_denied_acc_1(
    action: Action, document: DocumentFacts | None
) -> None:
    denied(run(PHYSICIAN, action, document=document), "ACC-1")


@pytest.mark.parametrize("action", [Action.READ, Action.LIST, Action.DEPOSIT])
def test_a_consented_professional_acts_on_the_ground_of_consent_acc_1(
    action: Action,
) -> None:
    document = doc(author=NURSE) if action is Action.READ else None
    decision = run(
        PHYSICIAN, action, choices=consent(authorised={PHYSICIAN.id}), document=document
    )
    allowed(decision, Ground.CONSENT)


def test_a_care_team_member_is_deemed_authorised_without_consent_acc_1() -> None:
    choices = consent(care_team={NURSE.id})
    allowed(
        run(NURSE, document=doc(author=PHYSICIAN), choices=choices), Ground.CARE_TEAM
    )
    allowed(run(NURSE, Action.DEPOSIT, choices=choices), Ground.CARE_TEAM)


def test_consent_is_per_professional_another_one_stays_denied_acc_1() -> None:
    choices = consent(authorised={PHYSICIAN.id}, care_team={NURSE.id})
    denied(run(PHARMACIST, document=doc(), choices=choices), "ACC-1")
    denied(run(DENTIST, Action.LIST, choices=choices), "ACC-1")


def test_a_professional_on_another_espace_than_the_consent_given_is_denied_acc_1() -> (
    None
):
    # The consent state belongs to one espace; an empty one is another's.
    denied(run(PHYSICIAN, facts=replace(espace(), espace_id=OTHER_ESPACE)), "ACC-1")


@pytest.mark.parametrize("action", [Action.MASK, Action.UNMASK, Action.CONSENT])
def test_only_the_holder_masks_and_chooses_consent_never_a_professional_doc_5_acc_1(
    action: Action,
) -> None:
    choices = consent(authorised={PHYSICIAN.id}, medecin_traitant=PHYSICIAN.id)
    decision = run(PHYSICIAN, action, choices=choices, document=doc())
    assert not decision.allowed
    assert decision.rule == "DOC-5"


# --------------------------------------------------------------------- ACC-2


@pytest.mark.parametrize(
    ("choices", "document"),
    [
        (consent(authorised={PHYSICIAN.id}), doc(author=NURSE)),
        (consent(care_team={PHYSICIAN.id}), doc(author=NURSE)),
        (consent(medecin_traitant=PHYSICIAN.id), doc(author=NURSE)),
        (consent(authorised={PHYSICIAN.id}), doc(author=PHYSICIAN)),
        (
            consent(
                authorised={PHYSICIAN.id},
                care_team={PHYSICIAN.id},
                medecin_traitant=PHYSICIAN.id,
            ),
            doc(author=PHYSICIAN),
        ),
    ],
    ids=["consent", "care-team", "medecin-traitant", "author", "all-at-once"],
)
def test_a_blocked_professional_is_denied_whatever_else_they_have_acc_2(
    choices: ConsentState, document: DocumentFacts
) -> None:
    blocked = replace(choices, blocked=frozenset({PHYSICIAN.id}))
    for action, target in [
        (Action.READ, document),
        (Action.LIST, None),
        (Action.DEPOSIT, None),
        (Action.REPLACE, document),
    ]:
        denied(run(PHYSICIAN, action, choices=blocked, document=target), "ACC-2")


@pytest.mark.parametrize("mode", [Mode.EMERGENCY, Mode.SAMU])
def test_blocking_does_not_beat_an_emergency_the_holder_has_not_refused_acc_2_acc_5(
    mode: Mode,
) -> None:
    choices = consent(blocked={PHYSICIAN.id})
    ground = Ground.EMERGENCY if mode is Mode.EMERGENCY else Ground.SAMU
    allowed(
        run(PHYSICIAN, choices=choices, document=doc(author=NURSE), mode=mode), ground
    )
    allowed(run(PHYSICIAN, Action.LIST, choices=choices, mode=mode), ground)


def test_blocked_and_emergency_refused_is_denied_acc_2_acc_5() -> None:
    choices = consent(blocked={PHYSICIAN.id}, emergency_refused=True)
    denied(
        run(PHYSICIAN, document=doc(), choices=choices, mode=Mode.EMERGENCY), "ACC-5"
    )


def test_blocking_one_professional_leaves_the_others_alone_acc_2() -> None:
    choices = consent(authorised={PHYSICIAN.id, NURSE.id}, blocked={PHYSICIAN.id})
    allowed(run(NURSE, document=doc(), choices=choices), Ground.CONSENT)


# --------------------------------------------------------------------- ACC-3


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("profession", PROFESSIONS)
def test_a_consented_professional_reads_exactly_the_categories_of_the_matrix_acc_3(
    profession: str, category: str
) -> None:
    actor = Actor(ActorKind.PROFESSIONAL, "810001045367", profession)
    decision = run(
        actor,
        document=doc(category, author=NURSE),
        choices=consent(authorised={actor.id}),
    )
    if category in MATRIX.allowed[profession]:
        allowed(decision, Ground.CONSENT)
    else:
        denied(decision, "ACC-3")


@pytest.mark.parametrize(
    ("actor", "category"),
    [
        (NURSE, "imaging"),
        (NURSE, "certificate"),
        (PHARMACIST, "imaging"),
        (DENTIST, "report"),
        (SOCIAL, "prescription"),
        (PHYSICIAN, "management"),
    ],
)
def test_the_packaged_default_matrix_denies_what_the_rule_book_says_acc_3(
    actor: Actor, category: str
) -> None:
    text = resources.files("espace.data").joinpath("access_matrix.csv").read_text()
    default = matrix_from_csv(text)
    assert not default.permits(actor.profession, category)
    choices = consent(care_team={actor.id})
    decision = run(actor, document=doc(category), choices=choices, matrix=default)
    denied(decision, "ACC-3")
    assert actor.profession is not None
    assert actor.profession in (decision.reason or "")


def test_the_packaged_default_matrix_gives_physicians_more_than_nurses_and_social_staff_least_acc_3() -> (
    None
):
    text = resources.files("espace.data").joinpath("access_matrix.csv").read_text()
    allowed_ = matrix_from_csv(text).allowed
    assert set(allowed_) == set(PROFESSIONS)
    assert allowed_["nurse"] < allowed_["physician"]
    assert allowed_["pharmacist"] < allowed_["physician"]
    assert allowed_["social_worker"] < allowed_["nurse"]
    assert len(allowed_["dentist"]) < len(allowed_["nurse"])
    assert min(allowed_.values(), key=len) == allowed_["social_worker"]


def test_a_profession_absent_from_the_matrix_reads_nothing_acc_3() -> None:
    only_physicians = matrix_from_csv("\n".join([HEADER, MATRIX_CSV.splitlines()[1]]))
    choices = consent(authorised={NURSE.id})
    denied(
        run(NURSE, document=doc("summary"), choices=choices, matrix=only_physicians),
        "ACC-3",
    )
    # ...but listing (no document) is not a matter for the matrix
    allowed(
        run(NURSE, Action.LIST, choices=choices, matrix=only_physicians), Ground.CONSENT
    )


def test_an_unknown_profession_is_refused_when_the_actor_is_made_acc_3() -> None:
    with pytest.raises(RuleViolation) as info:
        Actor(ActorKind.PROFESSIONAL, "810001045367", "insurer")
    assert info.value.rule == "ACC-3"


def test_a_professional_claiming_no_profession_acts_as_the_directory_says_pro_2() -> (
    None
):
    unclaimed = Actor(ActorKind.PROFESSIONAL, "810001045367", None)
    listing = Listing(listed=True, profession="nurse", version=1)
    assert listed_actor(unclaimed, listing, require_listing=True) == Actor(
        ActorKind.PROFESSIONAL, "810001045367", "nurse"
    )


def test_a_matrix_parses_into_the_categories_marked_1_per_profession_acc_3() -> None:
    assert MATRIX.allowed["social_worker"] == frozenset({"summary", "care_plan"})
    assert "management" not in MATRIX.allowed["physician"]
    assert MATRIX.permits("physician", "imaging")
    assert not MATRIX.permits(None, "summary")
    assert MATRIX.to_rows()["social_worker"] == ["care_plan", "summary"]


def _matrix_error(text: str) -> str:
    with pytest.raises(RuleViolation) as info:
        matrix_from_csv(text)
    assert info.value.rule == "ACC-3"
    return info.value.message


def test_a_matrix_missing_a_category_column_is_refused_naming_it_acc_3() -> None:
    text = MATRIX_CSV.replace(",imaging", "", 1)
    message = _matrix_error(text)
    assert "missing columns" in message
    assert "imaging" in message


def test_a_matrix_without_a_profession_column_is_refused_naming_it_acc_3() -> None:
    assert "profession" in _matrix_error(MATRIX_CSV.replace("profession,", "who,", 1))


def test_a_matrix_with_an_unknown_profession_names_its_line_acc_3() -> None:
    lines = MATRIX_CSV.splitlines()
    lines[3] = lines[3].replace("nurse", "insurer")
    message = _matrix_error("\n".join(lines))
    assert "line 4" in message
    assert "unknown profession" in message


def test_a_matrix_naming_a_profession_twice_names_the_second_line_acc_3() -> None:
    lines = MATRIX_CSV.splitlines()
    message = _matrix_error("\n".join([*lines, lines[1]]))
    assert "line 10" in message
    assert "physician twice" in message


@pytest.mark.parametrize("cell", ["2", "yes", "", "-1", "1.0"])
def test_a_matrix_cell_other_than_0_or_1_names_its_line_and_column_acc_3(
    cell: str,
) -> None:
    lines = MATRIX_CSV.splitlines()
    cells = lines[5].split(",")
    cells[CATEGORIES.index("certificate") + 1] = cell
    lines[5] = ",".join(cells)
    message = _matrix_error("\n".join(lines))
    assert "line 6" in message
    assert "certificate" in message
    assert "imaging" not in message


def test_a_matrix_row_with_missing_cells_is_refused_naming_its_line_acc_3() -> None:
    lines = MATRIX_CSV.splitlines()
    lines[2] = "pharmacist,1,1"
    message = _matrix_error("\n".join(lines))
    assert "line 3" in message
    assert "management" in message


def test_an_empty_matrix_text_is_refused_acc_3() -> None:
    assert "missing columns" in _matrix_error("")


def test_the_matrix_log_numbers_versions_and_refuses_an_identical_table_acc_3() -> None:
    log = AccessMatrixLog.start(at=AT)
    assert log.current is None
    assert log.publish(at=AT, matrix=MATRIX, source="first.csv") == 1
    with pytest.raises(RuleViolation) as info:
        log.publish(at=AT, matrix=matrix_from_csv(MATRIX_CSV, types=TYPES), source="x")
    assert info.value.rule == "ACC-3"
    assert "identical to version 1" in info.value.message

    lines = MATRIX_CSV.splitlines()
    lines[3] = lines[3].replace("nurse,1,1,0", "nurse,1,1,1")
    nurses_see_imaging = matrix_from_csv("\n".join(lines), types=TYPES)
    assert log.publish(at=AT, matrix=nurses_see_imaging, source="v2.csv") == 2
    assert log.publish(at=AT, matrix=MATRIX, source="back.csv") == 3
    assert log.current is not None
    assert log.current.version == 3

    events = log.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Started",
        "Published",
        "Published",
        "Published",
    ]
    assert [e.version for e in events[1:]] == [1, 2, 3]
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert replayed.current == log.current


def test_a_new_matrix_version_changes_the_decision_acc_3() -> None:
    lines = MATRIX_CSV.splitlines()
    lines[3] = lines[3].replace("nurse,1,1,0", "nurse,1,1,1")
    v2 = matrix_from_csv("\n".join(lines), version=2)
    choices = consent(authorised={NURSE.id})
    denied(run(NURSE, document=doc("imaging"), choices=choices), "ACC-3")
    allowed(
        run(NURSE, document=doc("imaging"), choices=choices, matrix=v2), Ground.CONSENT
    )


def typed(code: str, category: str | None = None) -> DocumentFacts:
    """A document of type ``code``, in its category."""
    return replace(doc(category or TYPES[code].category), type_code=code)


BY_TYPE_CSV = (
    MATRIX_CSV.splitlines()[0]
    + ",11502-2,18842-5\n"
    + "\n".join(
        line + {"dentist": ",1,", "pharmacist": ",0,0"}.get(line.split(",")[0], ",,")
        for line in MATRIX_CSV.splitlines()[1:]
    )
    + "\n"
)


def test_a_type_with_a_column_of_its_own_has_its_own_right_acc_3() -> None:
    """ACC-3 by document type: two types of one category differ for one
    profession; a type with no column of its own takes its category's."""
    matrix = matrix_from_csv(BY_TYPE_CSV, version=4, types=TYPES)
    choices = consent(authorised={DENTIST.id, PHARMACIST.id})
    # a dentist reads no report, but may read the laboratory report
    allowed(
        run(DENTIST, document=typed("11502-2"), choices=choices, matrix=matrix),
        Ground.CONSENT,
    )
    refused = run(DENTIST, document=typed("11488-4"), choices=choices, matrix=matrix)
    denied(refused, "ACC-3")
    assert refused.reason == (
        "a dentist may not read report documents (matrix version 4)"
    )
    # a pharmacist reads summaries, but not the discharge summary
    allowed(
        run(PHARMACIST, document=typed("60591-5"), choices=choices, matrix=matrix),
        Ground.CONSENT,
    )
    refused = run(PHARMACIST, document=typed("18842-5"), choices=choices, matrix=matrix)
    denied(refused, "ACC-3")
    assert "documents of type 18842-5 (matrix version 4)" in (refused.reason or "")
    # the same rights in an emergency (ACC-5 reads through the matrix too)
    denied(
        run(
            PHARMACIST,
            document=typed("18842-5"),
            mode=Mode.EMERGENCY,
            matrix=matrix,
        ),
        "ACC-3",
    )
    # the table reads back as it was written
    assert matrix_from_csv(matrix_to_csv(matrix), 4, TYPES) == matrix


@pytest.mark.parametrize(
    ("header", "cell", "message"),
    [
        ("99999-9", "1", "neither a category nor a document type"),
        ("11502-2", "yes", "or empty in a type's column"),
    ],
)
def test_a_bad_type_column_is_refused_naming_it_acc_3(
    header: str, cell: str, message: str
) -> None:
    lines = MATRIX_CSV.splitlines()
    text = "\n".join(
        [lines[0] + f",{header}", *(line + f",{cell}" for line in lines[1:])]
    )
    with pytest.raises(RuleViolation) as info:
        matrix_from_csv(text, types=TYPES)
    assert info.value.rule == "ACC-3"
    assert message in info.value.message
    assert header in info.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,display\n11488-4,Note\n", "missing columns category"),
        ("code,display,category\n", "no document type"),
        ("code,display,category\n11488,Note,report\n", "line 2: '11488'"),
        ("code,display,category\n11488-5,Note,report\n", "check digit"),
        ("code,display,category\n11488-4,,report\n", "line 2: no display"),
        ("code,display,category\n11488-4,Note,notes\n", "unknown category"),
        (
            "code,display,category\n11488-4,Note,report\n11488-4,Again,report\n",
            "line 3: 11488-4 twice",
        ),
    ],
)
def test_a_bad_type_list_is_refused_naming_the_line_doc_1(
    text: str, message: str
) -> None:
    with pytest.raises(RuleViolation) as info:
        types_from_csv(text)
    assert info.value.rule == "DOC-1"
    assert message in info.value.message


def test_the_shipped_type_list_reads_and_holds_every_type_known_before_doc_1() -> None:
    shipped = types_from_csv(
        resources.files("espace.data").joinpath("document_types.csv").read_text()
    )
    assert set(LEGACY_TYPES) <= set(shipped)
    assert types_from_csv(types_to_csv(shipped)) == shipped
    # every category has a type to file under it
    assert {t.category for t in shipped.values()} == set(CATEGORIES)


def test_a_matrix_version_names_its_types_and_a_removed_type_must_be_said_acc_3() -> (
    None
):
    log = AccessMatrixLog.start(at=AT)
    log.publish(at=AT, matrix=MATRIX, source="v1.csv")
    fewer = {k: v for k, v in TYPES.items() if k != "51851-4"}
    with pytest.raises(RuleViolation) as info:
        log.publish(
            at=AT,
            matrix=matrix_from_csv(MATRIX_CSV, types=fewer),
            source="v2.csv",
        )
    assert "type 51851-4" in info.value.message
    more = {**TYPES, "11506-3": DocumentType("11506-3", "Progress note", "report")}
    change = log.change(matrix_from_csv(MATRIX_CSV, types=more), allow_removals=False)
    assert change.added == ["type 11506-3"]
    with pytest.raises(RuleViolation) as info:
        log.publish(at=AT, matrix=AccessMatrix(5, MATRIX.allowed), source="x")
    assert info.value.rule == "DOC-1"


def test_a_version_published_before_the_type_list_reads_with_the_types_then_known() -> (
    None
):
    """ADR-0025: the upcast of a matrix version of the first event format."""
    state: dict[str, Any] = {"version": 1, "rows": {"nurse": ["report"]}}
    AccessMatrixLog.Published.upcast_v1_v2(state)
    assert set(state["types"]) == set(LEGACY_TYPES)
    assert state["by_type"] == {}


# --------------------------------------------------------------------- ACC-4


def test_the_medecin_traitant_reads_all_even_masked_or_outside_the_matrix_acc_4() -> (
    None
):
    choices = consent(medecin_traitant=GP.id)
    for document in [
        doc("report", author=NURSE),
        doc("report", author=NURSE, masked=True),
        doc("management", author=NURSE),
        doc("patient_uploaded", author=HOLDER, masked=True),
    ]:
        allowed(run(GP, document=document, choices=choices), Ground.MEDECIN_TRAITANT)
    allowed(run(GP, Action.LIST, choices=choices), Ground.MEDECIN_TRAITANT)
    allowed(run(GP, Action.DEPOSIT, choices=choices), Ground.MEDECIN_TRAITANT)


def test_a_revoked_medecin_traitant_is_an_ordinary_professional_again_acc_4() -> None:
    choices = consent(authorised={GP.id})
    denied(run(GP, document=doc(author=NURSE, masked=True), choices=choices), "DOC-5")
    denied(run(GP, document=doc("management", author=NURSE), choices=choices), "ACC-3")


# --------------------------------------------------------------------- ACC-5


@pytest.mark.parametrize("actor", [PHYSICIAN, NURSE, PHARMACIST])
def test_any_professional_reads_in_an_emergency_without_consent_acc_5(
    actor: Actor,
) -> None:
    allowed(run(actor, document=doc("report"), mode=Mode.EMERGENCY), Ground.EMERGENCY)
    allowed(run(actor, Action.LIST, mode=Mode.EMERGENCY), Ground.EMERGENCY)


def test_an_emergency_read_is_refused_when_the_holder_refused_it_acc_5() -> None:
    choices = consent(emergency_refused=True, authorised={PHYSICIAN.id})
    denied(
        run(PHYSICIAN, document=doc(), choices=choices, mode=Mode.EMERGENCY), "ACC-5"
    )
    denied(run(PHYSICIAN, Action.LIST, choices=choices, mode=Mode.EMERGENCY), "ACC-5")
    # Care access with consent is untouched by the refusal
    allowed(run(PHYSICIAN, document=doc(), choices=choices), Ground.CONSENT)


def test_the_samu_regulator_reads_unless_the_separate_samu_refusal_acc_5() -> None:
    allowed(run(PHYSICIAN, document=doc(), mode=Mode.SAMU), Ground.SAMU)
    emergency_refused = consent(emergency_refused=True)
    allowed(
        run(PHYSICIAN, document=doc(), choices=emergency_refused, mode=Mode.SAMU),
        Ground.SAMU,
    )
    samu_refused = consent(samu_refused=True)
    denied(
        run(PHYSICIAN, document=doc(), choices=samu_refused, mode=Mode.SAMU), "ACC-5"
    )
    allowed(
        run(PHYSICIAN, document=doc(), choices=samu_refused, mode=Mode.EMERGENCY),
        Ground.EMERGENCY,
    )


@pytest.mark.parametrize("actor", [NURSE, PHARMACIST, DENTIST, SOCIAL])
def test_the_samu_regulator_must_be_a_physician_acc_5(actor: Actor) -> None:
    decision = run(actor, document=doc("summary"), mode=Mode.SAMU)
    denied(decision, "ACC-5")
    assert "physician" in (decision.reason or "")


@pytest.mark.parametrize("mode", [Mode.EMERGENCY, Mode.SAMU])
@pytest.mark.parametrize(
    "action",
    [
        Action.DEPOSIT,
        Action.REPLACE,
        Action.DELETE,
        Action.HIDE,
        Action.REVEAL,
        Action.JOURNAL,
    ],
)
def test_emergency_access_is_read_only_acc_5(action: Action, mode: Mode) -> None:
    document = None if action in (Action.DEPOSIT, Action.JOURNAL) else doc()
    denied(run(PHYSICIAN, action, document=document, mode=mode), "ACC-5")


@pytest.mark.parametrize("actor", [HOLDER, REPRESENTATIVE, HEIR])
@pytest.mark.parametrize("mode", [Mode.EMERGENCY, Mode.SAMU])
def test_emergency_modes_are_for_professionals_only_acc_5(
    actor: Actor, mode: Mode
) -> None:
    facts = espace(represented=True)
    denied(run(actor, document=doc(), facts=facts, mode=mode), "ACC-5")


def test_an_emergency_still_follows_the_matrix_and_the_holders_masks_acc_3_doc_5() -> (
    None
):
    denied(run(NURSE, document=doc("imaging"), mode=Mode.EMERGENCY), "ACC-3")
    denied(
        run(NURSE, document=doc("report", masked=True), mode=Mode.EMERGENCY), "DOC-5"
    )
    # the author and the médecin traitant are not stopped by the mask
    allowed(
        run(
            NURSE,
            document=doc("imaging", author=NURSE, masked=True),
            mode=Mode.EMERGENCY,
        ),
        Ground.EMERGENCY,
    )
    choices = consent(medecin_traitant=GP.id)
    allowed(
        run(GP, document=doc(masked=True), choices=choices, mode=Mode.EMERGENCY),
        Ground.EMERGENCY,
    )


# --------------------------------------------------------------------- ACC-7


@pytest.mark.parametrize(
    "purpose", ["insurance", "employment", "INSURANCE", "care ", "research", 1, None]
)
def test_no_access_purpose_exists_for_insurance_or_employment_acc_7(
    purpose: Any,
) -> None:
    with pytest.raises(InvalidInput) as info:
        schemas.load(schemas.ModeSchema, {"mode": purpose})
    assert list(info.value.fields) == ["mode"]
    with pytest.raises(ValueError, match="is not a valid Mode"):
        Mode(purpose)


@pytest.mark.parametrize("mode", ["care", "emergency", "samu"])
def test_care_and_emergency_are_the_only_purposes_acc_7(mode: str) -> None:
    assert schemas.load(schemas.ModeSchema, {"mode": mode}) == {"mode": mode}
    assert {m.value for m in Mode} == {"care", "emergency", "samu"}


def test_the_default_purpose_is_care_acc_7() -> None:
    assert schemas.load(schemas.ModeSchema, {}) == {"mode": "care"}


# --------------------------------------------------------------------- DOC-2/4/5


def test_the_holder_uploads_but_never_deposits_or_replaces_doc_2() -> None:
    allowed(run(HOLDER, Action.UPLOAD), Ground.HOLDER)
    denied(run(HOLDER, Action.DEPOSIT), "DOC-2")
    denied(run(HOLDER, Action.REPLACE, document=doc()), "DOC-2")
    denied(run(HOLDER, Action.HIDE, document=doc()), "DOC-2")


def test_a_professional_never_uploads_in_the_holders_name_doc_2() -> None:
    choices = consent(authorised={PHYSICIAN.id}, medecin_traitant=PHYSICIAN.id)
    assert not run(PHYSICIAN, Action.UPLOAD, choices=choices).allowed


@pytest.mark.parametrize(
    ("actor", "choices", "mode"),
    [
        (PHYSICIAN, consent(authorised={PHYSICIAN.id}), Mode.CARE),
        (GP, consent(medecin_traitant=GP.id), Mode.CARE),
        (NURSE, NONE, Mode.CARE),  # the author
        (PHYSICIAN, NONE, Mode.EMERGENCY),
        (PHYSICIAN, NONE, Mode.SAMU),
        (HOLDER, NONE, Mode.CARE),
    ],
    ids=["consent", "medecin-traitant", "author", "emergency", "samu", "holder"],
)
def test_a_deleted_document_is_denied_to_everyone_doc_4(
    actor: Actor, choices: ConsentState, mode: Mode
) -> None:
    document = doc(author=NURSE, deleted=True)
    for action in (Action.READ, Action.REPLACE, Action.MASK, Action.DELETE):
        denied(
            run(actor, action, document=document, choices=choices, mode=mode), "DOC-4"
        )


def test_the_holder_deletes_only_their_own_uploads_doc_4() -> None:
    denied(run(HOLDER, Action.DELETE, document=doc(author=PHYSICIAN)), "DOC-4")
    allowed(
        run(HOLDER, Action.DELETE, document=doc("patient_uploaded", author=HOLDER)),
        Ground.HOLDER,
    )


def test_a_masked_document_is_denied_to_consented_professionals_only_doc_5() -> None:
    masked = doc(author=NURSE, masked=True)
    choices = consent(
        authorised={PHYSICIAN.id}, care_team={PHARMACIST.id}, medecin_traitant=GP.id
    )
    denied(run(PHYSICIAN, document=masked, choices=choices), "DOC-5")
    denied(run(PHARMACIST, document=masked, choices=choices), "DOC-5")
    allowed(run(NURSE, document=masked, choices=choices), Ground.AUTHOR)
    allowed(run(GP, document=masked, choices=choices), Ground.MEDECIN_TRAITANT)
    allowed(run(HOLDER, document=masked, choices=choices), Ground.HOLDER)


def test_a_document_hidden_from_the_holder_is_read_by_its_author_only_doc_5() -> None:
    hidden = doc(author=NURSE, hidden_from_holder=True)
    denied(run(HOLDER, document=hidden), "DOC-5")
    allowed(run(NURSE, document=hidden), Ground.AUTHOR)
    choices = consent(authorised={PHYSICIAN.id})
    allowed(run(PHYSICIAN, document=hidden, choices=choices), Ground.CONSENT)
    # the holder still lists the espace; the hidden row is filtered per document
    allowed(run(HOLDER, Action.LIST), Ground.HOLDER)


def test_the_author_reads_their_own_document_outside_the_matrix_doc_5_acc_3() -> None:
    allowed(run(NURSE, document=doc("imaging", author=NURSE)), Ground.AUTHOR)


# --------------------------------------------------------------------- LC-4/LC-8


@pytest.mark.parametrize(
    "action", [Action.READ, Action.LIST, Action.JOURNAL, Action.UPLOAD]
)
def test_an_unactivated_open_espace_is_invisible_to_its_holder_lc_4(
    action: Action,
) -> None:
    document = doc() if action is Action.READ else None
    denied(run(HOLDER, action, facts=espace("open"), document=document), "LC-4")


def test_professionals_feed_and_read_an_unactivated_open_espace_lc_4() -> None:
    choices = consent(authorised={PHYSICIAN.id})
    facts = espace("open")
    allowed(
        run(PHYSICIAN, Action.DEPOSIT, facts=facts, choices=choices), Ground.CONSENT
    )
    allowed(
        run(PHYSICIAN, document=doc(), facts=facts, choices=choices), Ground.CONSENT
    )
    allowed(
        run(NURSE, document=doc(), facts=facts, mode=Mode.EMERGENCY), Ground.EMERGENCY
    )


@pytest.mark.parametrize("state", ["affiliated", "notified", "opposed", "erased"])
@pytest.mark.parametrize(
    "actor", [HOLDER, PHYSICIAN, REPRESENTATIVE, HEIR], ids=lambda a: a.kind
)
def test_there_is_no_record_before_opening_after_opposition_or_erasure_lc_4(
    state: str, actor: Actor
) -> None:
    choices = consent(medecin_traitant=PHYSICIAN.id, heirs={HEIR.id})
    facts = espace(state, represented=True, deceased=state == "erased")
    denied(run(actor, document=doc(), facts=facts, choices=choices), "LC-4")
    denied(run(actor, facts=facts, choices=choices, mode=Mode.CARE), "LC-4")


def test_a_closed_espace_is_a_read_only_archive_for_its_holder_lc_8() -> None:
    closed = espace("closed")
    allowed(run(HOLDER, document=doc(), facts=closed), Ground.HOLDER)
    allowed(run(HOLDER, Action.LIST, facts=closed), Ground.HOLDER)
    allowed(run(HOLDER, Action.JOURNAL, facts=closed), Ground.HOLDER)
    for action in (Action.UPLOAD, Action.MASK, Action.UNMASK, Action.CONSENT):
        denied(run(HOLDER, action, facts=closed, document=doc()), "LC-8")
    rep = espace("closed", represented=True)
    allowed(run(REPRESENTATIVE, document=doc(), facts=rep), Ground.LEGAL_REPRESENTATIVE)


@pytest.mark.parametrize("mode", list(Mode))
def test_professionals_are_denied_a_closed_espace_even_the_medecin_traitant_lc_8(
    mode: Mode,
) -> None:
    choices = consent(authorised={GP.id}, medecin_traitant=GP.id)
    for action, document in [(Action.READ, doc()), (Action.LIST, None)]:
        decision = run(
            GP,
            action,
            facts=espace("closed"),
            choices=choices,
            document=document,
            mode=mode,
        )
        denied(decision, "LC-8")


def test_professionals_are_denied_a_suspended_espace_lc_7() -> None:
    choices = consent(authorised={PHYSICIAN.id})
    denied(run(PHYSICIAN, facts=espace("suspended"), choices=choices), "LC-7")
    allowed(run(HOLDER, document=doc(), facts=espace("suspended")), Ground.HOLDER)


# --------------------------------------------------------------------- LC-11


def test_an_heir_reads_the_archive_only_after_death_with_a_grant_lc_11() -> None:
    dead = espace("closed", deceased=True)
    granted = consent(heirs={HEIR.id})
    allowed(run(HEIR, document=doc(), facts=dead, choices=granted), Ground.HEIR)
    allowed(run(HEIR, Action.LIST, facts=dead, choices=granted), Ground.HEIR)
    # not granted
    denied(run(HEIR, document=doc(), facts=dead), "LC-11")
    other = Actor(ActorKind.HEIR, "heir-2")
    denied(run(other, document=doc(), facts=dead, choices=granted), "LC-11")
    # alive, or dead but not (yet) closed
    denied(run(HEIR, document=doc(), facts=espace("closed"), choices=granted), "LC-11")
    denied(run(HEIR, document=doc(), facts=espace("active"), choices=granted), "LC-11")
    alive_dead = espace("active", deceased=True)
    denied(run(HEIR, document=doc(), facts=alive_dead, choices=granted), "LC-11")


@pytest.mark.parametrize(
    "action",
    [
        Action.UPLOAD,
        Action.DEPOSIT,
        Action.REPLACE,
        Action.DELETE,
        Action.MASK,
        Action.CONSENT,
        Action.JOURNAL,
    ],
)
def test_heirs_access_is_read_only_lc_11(action: Action) -> None:
    dead = espace("closed", deceased=True)
    granted = consent(heirs={HEIR.id})
    denied(run(HEIR, action, document=doc(), facts=dead, choices=granted), "LC-11")


def test_an_heir_does_not_read_what_was_hidden_from_the_holder_lc_11_doc_5() -> None:
    dead = espace("closed", deceased=True)
    granted = consent(heirs={HEIR.id})
    hidden = doc(hidden_from_holder=True)
    denied(run(HEIR, document=hidden, facts=dead, choices=granted), "DOC-5")


def test_a_deceased_holder_is_no_longer_an_actor_lc_11() -> None:
    dead = espace("closed", deceased=True)
    denied(run(HOLDER, document=doc(), facts=dead), "LC-11")


# --------------------------------------------------------------------- LC-12


def test_a_representative_acts_only_on_the_espace_they_represent_lc_12() -> None:
    facts = espace(represented=True)
    allowed(
        run(REPRESENTATIVE, document=doc(), facts=facts), Ground.LEGAL_REPRESENTATIVE
    )
    allowed(
        run(REPRESENTATIVE, Action.UPLOAD, facts=facts), Ground.LEGAL_REPRESENTATIVE
    )
    stranger = Actor(ActorKind.REPRESENTATIVE, str(OTHER_ESPACE))
    denied(run(stranger, document=doc(), facts=facts), "ACC-1")
    other_holder = Actor(ActorKind.HOLDER, str(OTHER_ESPACE))
    denied(run(other_holder, Action.LIST, facts=facts), "ACC-1")


def test_an_espace_without_a_representative_refuses_one_lc_12() -> None:
    denied(run(REPRESENTATIVE, document=doc(), facts=espace()), "LC-12")


def test_a_document_hidden_from_representatives_stays_readable_by_the_minor_doc_5_lc_12() -> (
    None
):
    facts = espace(represented=True)
    confidential = doc(hidden_from_representatives=True)
    denied(run(REPRESENTATIVE, document=confidential, facts=facts), "DOC-5")
    allowed(run(HOLDER, document=confidential, facts=facts), Ground.HOLDER)


def test_a_representative_follows_the_holders_rules_too_lc_12_doc_5() -> None:
    facts = espace(represented=True)
    denied(
        run(REPRESENTATIVE, document=doc(hidden_from_holder=True), facts=facts), "DOC-5"
    )
    denied(run(REPRESENTATIVE, Action.DEPOSIT, facts=facts), "DOC-2")
    denied(run(REPRESENTATIVE, facts=espace("open", represented=True)), "LC-4")


def test_actor_from_binds_the_holder_and_representative_to_the_given_espace_lc_12() -> (
    None
):
    assert actor_from({"kind": "holder"}, ESPACE) == HOLDER
    assert actor_from({"kind": "representative"}, ESPACE) == REPRESENTATIVE
    # an id passed in the data does not override the espace (extra keys refused)
    with pytest.raises(InvalidInput):
        actor_from({"kind": "holder", "id": str(OTHER_ESPACE)}, ESPACE)
    with pytest.raises(InvalidInput) as info:
        actor_from({"kind": "representative"}, None)
    assert "espace" in info.value.fields


def test_actor_from_validates_professionals_and_heirs_id_3() -> None:
    pro = actor_from(
        {"kind": "professional", "idnatps": "8 10001045367", "profession": "nurse"},
        None,
    )
    assert pro == Actor(ActorKind.PROFESSIONAL, "810001045367", "nurse")
    assert actor_from({"kind": "heir", "heir_id": "heir-1"}, None) == HEIR


def test_the_public_actor_constructors_check_what_they_are_given_id_3_msg_2() -> None:
    """One actor type for every service (espace.Actor): each constructor
    checks its identifier and names the field and the rule it breaks."""
    assert Actor.holder(ESPACE) == HOLDER
    assert Actor.representative(ESPACE) == REPRESENTATIVE
    assert Actor.professional("8 10001045367", "physician") == PHYSICIAN
    assert Actor.professional("810001045367").profession is None
    assert Actor.heir(" heir-1 ") == HEIR
    hospital = Actor.establishment("750712184", "AP-HP Saint-Louis")
    assert (hospital.kind, hospital.id, hospital.name) == (
        ActorKind.ESTABLISHMENT,
        "750712184",
        "AP-HP Saint-Louis",
    )
    cases: list[tuple[Callable[[], Actor], str, str]] = [
        (lambda: Actor.professional("810001045368"), "idnatps", "ID-3"),
        (lambda: Actor.establishment("750712185", "AP-HP"), "finess", "MSG-1"),
        (lambda: Actor.establishment("750712184", " "), "name", "MSG-2"),
        (lambda: Actor.heir(""), "heir_id", "LC-11"),
        # a str where the UUID is expected: the bad input under test
        (lambda: Actor.holder(cast("Any", str(ESPACE))), "espace_id", "LC-1"),
    ]
    for make, field, rule in cases:
        with pytest.raises(InvalidIdentifier) as info:
            make()
        assert (info.value.field, info.value.rule) == (field, rule)
    with pytest.raises(RuleViolation, match="ACC-3"):
        Actor.professional("810001045367", "banker")


def test_an_establishment_acts_on_no_record_acc_1() -> None:
    hospital = Actor.establishment("750712184", "AP-HP Saint-Louis")
    for action in (Action.READ, Action.LIST, Action.DEPOSIT):
        denied(run(hospital, action), "ACC-1")


def test_a_professional_whose_profession_nobody_says_reads_no_document_acc_3() -> None:
    """Without a directory (PRO-2) the caller says the profession; a reader
    of a document whose profession is unknown is refused, naming ACC-3."""
    unknown = Actor.professional(NURSE.id)
    decision = run(unknown, document=doc(), choices=consent(authorised={NURSE.id}))
    denied(decision, "ACC-3")
    assert decision.reason is not None
    assert "not known" in decision.reason


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "insurer"}, "kind"),
        ({"kind": "employer", "idnatps": "810001045367"}, "kind"),
        ({}, "kind"),
        ({"kind": "professional", "profession": "nurse"}, "idnatps"),
        ({"kind": "establishment", "finess": "750712184"}, "name"),
        ({"kind": "establishment", "name": "AP-HP"}, "finess"),
        ({"kind": "establishment", "finess": "750712185", "name": "AP-HP"}, "finess"),
        (
            {"kind": "professional", "idnatps": "810001045368", "profession": "nurse"},
            "idnatps",
        ),
        (
            {"kind": "professional", "idnatps": "810001045367", "profession": "banker"},
            "profession",
        ),
        ({"kind": "heir"}, "heir_id"),
        ({"kind": "heir", "heir_id": "x" * 65}, "heir_id"),
    ],
)
def test_a_bad_actor_is_refused_naming_its_field(
    data: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        actor_from(data, ESPACE)
    assert field in info.value.fields


@pytest.mark.parametrize("data", [None, "holder", ["holder"], 3])
def test_an_actor_that_is_not_an_object_is_refused(data: Any) -> None:
    with pytest.raises(InvalidInput):
        actor_from(data, ESPACE)


# --------------------------------------------------------------------- Decision


def test_a_denial_requires_as_a_rule_violation_naming_its_rule() -> None:
    decision = run(PHYSICIAN, document=doc())
    with pytest.raises(RuleViolation) as info:
        decision.require()
    assert info.value.rule == "ACC-1"
    choices = consent(authorised={PHYSICIAN.id})
    assert run(PHYSICIAN, document=doc(), choices=choices).require() is Ground.CONSENT


# --------------------------------------------------------------------- export


def test_the_holder_exports_their_espace_even_closed_acc_6_lc_8() -> None:
    """ADR-0031: the export is the holder's right of access; a closed espace
    is a read-only archive the holder still reads (LC-8)."""
    allowed(run(HOLDER, Action.EXPORT), Ground.HOLDER)
    allowed(run(HOLDER, Action.EXPORT, facts=espace("closed")), Ground.HOLDER)
    represented = espace(represented=True)
    allowed(
        run(REPRESENTATIVE, Action.EXPORT, facts=represented),
        Ground.LEGAL_REPRESENTATIVE,
    )


def test_an_unactivated_espace_is_not_the_holders_to_export_lc_4() -> None:
    denied(run(HOLDER, Action.EXPORT, facts=espace("open")), "LC-4")


@pytest.mark.parametrize("mode", list(Mode))
def test_no_professional_exports_an_espace_not_even_the_mt_acc_6(mode: Mode) -> None:
    """ADR-0031: a professional reads the record document by document; the
    whole espace is the holder's to take away, the médecin traitant's too
    (ACC-4 is about reading, not exporting)."""
    mt = consent(medecin_traitant=GP.id)
    denied(run(GP, Action.EXPORT, choices=mt, mode=mode), "ACC-6")


def test_an_heir_does_not_export_the_archive_acc_6_lc_11() -> None:
    dead = espace("closed", deceased=True)
    denied(
        run(HEIR, Action.EXPORT, facts=dead, choices=consent(heirs={HEIR.id})), "ACC-6"
    )
