"""Who may do what on a record: one pure decision (ACC-1 to ACC-7, DOC-5,
LC-4, LC-8, LC-11).

Every read and write path asks :func:`decide`; an allow carries its ground,
a deny its reason and the rule that denies. The access matrix (ACC-3) is
data: a versioned table the operator publishes (:class:`AccessMatrixLog`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.consent import ConsentState
from espace.domain.documents import LEGACY_TYPES, AuthorKind, Category, is_loinc
from espace.domain.errors import InvalidIdentifier, RuleViolation
from espace.domain.identifiers import validate_finess, validate_idnatps
from espace.domain.reference import Difference, Version, checked_change, version_of
from espace.domain.tables import Table


class ActorKind(StrEnum):
    """Who acts (ACC-6: the trace says who): the holder, their legal
    representative (LC-12), a professional (ID-3), an heir (LC-11), or an
    establishment (MSG-1)."""

    HOLDER = "holder"
    REPRESENTATIVE = "representative"
    PROFESSIONAL = "professional"
    HEIR = "heir"
    ESTABLISHMENT = "establishment"


class Mode(StrEnum):
    """ACC-7: care is the only purpose; insurance or employment do not exist."""

    CARE = "care"
    EMERGENCY = "emergency"
    SAMU = "samu"


class Action(StrEnum):
    """What an actor asks to do, on the record or in a service (MSG-1, AG-1):
    what :func:`decide` allows or denies, and what a trace names (ACC-6)."""

    READ = "read"
    LIST = "list"
    DEPOSIT = "deposit"
    UPLOAD = "upload"
    REPLACE = "replace"
    DELETE = "delete"
    MASK = "mask"
    UNMASK = "unmask"
    HIDE = "hide"
    REVEAL = "reveal"
    CONSENT = "consent"
    DECLARE_CONSENT = "declare_consent"
    JOURNAL = "journal"
    MESSAGE = "message"
    """MSG-1: a professional writes to the holder (the inbox rules are the
    Message aggregate's)."""
    APPOINTMENT = "appointment"
    """AG-1: a professional makes or changes an appointment with the holder."""
    PROFILE = "profile"
    """PRO-1: a read of the medical profile, which is the holder's alone."""


class Ground(StrEnum):
    """ACC-6: on what grounds an action was allowed, as its trace records it."""

    CONSENT = "consent"
    CARE_TEAM = "care_team"
    MEDECIN_TRAITANT = "medecin_traitant"
    AUTHOR = "author"
    EMERGENCY = "emergency"
    SAMU = "samu"
    HOLDER = "holder"
    LEGAL_REPRESENTATIVE = "legal_representative"
    HEIR = "heir"
    OWN_ACTIONS = "own_actions"
    """ACC-6: a professional sees the traces of their own actions."""
    LISTED_PROFESSIONAL = "listed_professional"
    """MSG-1, AG-1: a professional the directory lists and the holder did not
    block reaches the holder's services."""


PROFESSIONS = (
    "physician",
    "pharmacist",
    "dentist",
    "midwife",
    "nurse",
    "physiotherapist",
    "speech_therapist",
    "social_worker",
)


@dataclass(frozen=True)
class Actor:
    """Who acts, on the record and in every service: the one actor type of
    the public API (``espace.Actor``). Make one with its constructors, which
    check what they are given:

    - ``Actor.holder(espace_id)`` and ``Actor.representative(espace_id)``:
      bound to the espace they act on (LC-12 for a minor's representative);
    - ``Actor.professional(idnatps, profession=None)``: known by IdNatPS
      (ID-3); a store with a directory takes the profession it lists (PRO-2),
      and refuses one that contradicts it;
    - ``Actor.heir(heir_id)``: by the id under which access was granted
      (LC-11);
    - ``Actor.establishment(finess, name)``: an establishment writing to a
      holder (MSG-1), by FINESS and the name the holder sees (MSG-2). It
      acts on no record.
    """

    kind: ActorKind
    id: str
    profession: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        """ACC-3: a professional's profession, if given, is one the matrix knows
        (:data:`PROFESSIONS`); else RuleViolation."""
        if self.kind is ActorKind.PROFESSIONAL and (
            self.profession is not None and self.profession not in PROFESSIONS
        ):
            raise RuleViolation("ACC-3", f"unknown profession {self.profession!r}")

    @classmethod
    def holder(cls, espace_id: UUID) -> Actor:
        """The holder of the espace ``espace_id`` (a UUID, else InvalidIdentifier)."""
        return cls(ActorKind.HOLDER, str(_espace_id(espace_id)))

    @classmethod
    def representative(cls, espace_id: UUID) -> Actor:
        """LC-12: the legal representative who manages the espace ``espace_id``."""
        return cls(ActorKind.REPRESENTATIVE, str(_espace_id(espace_id)))

    @classmethod
    def professional(cls, idnatps: str, profession: str | None = None) -> Actor:
        """ID-3: a professional by IdNatPS (checked, else InvalidIdentifier), with
        their profession if known (ACC-3)."""
        return cls(ActorKind.PROFESSIONAL, validate_idnatps(idnatps), profession)

    @classmethod
    def heir(cls, heir_id: str) -> Actor:
        """LC-11: an heir or partner, by the id their access was granted under
        (1 to 64 characters, stripped)."""
        if not 1 <= len(heir_id.strip()) <= 64:
            raise InvalidIdentifier("heir_id", "LC-11", "1 to 64 characters")
        return cls(ActorKind.HEIR, heir_id.strip())

    @classmethod
    def establishment(cls, finess: str, name: str) -> Actor:
        """MSG-1, MSG-2: an establishment by FINESS (checked), and the name the
        holder sees (1 to 200 characters)."""
        if not 1 <= len(name.strip()) <= 200:
            raise InvalidIdentifier(
                "name", "MSG-2", "the name the holder sees: 1 to 200 characters"
            )
        return cls(ActorKind.ESTABLISHMENT, validate_finess(finess), name=name.strip())

    @property
    def holder_side(self) -> bool:
        """The holder or their legal representative."""
        return self.kind in (ActorKind.HOLDER, ActorKind.REPRESENTATIVE)


def _espace_id(value: UUID) -> UUID:
    if not isinstance(value, UUID):
        raise InvalidIdentifier("espace_id", "LC-1", "an espace id is a UUID")
    return value


@dataclass(frozen=True)
class EspaceFacts:
    """What the decision needs of the espace (from EspaceSante)."""

    espace_id: UUID
    state: str
    deceased: bool
    represented: bool


@dataclass(frozen=True)
class Listing:
    """PRO-2: what the directory says of a professional, and the version of
    its entry the decision rested on."""

    listed: bool
    profession: str | None
    version: int


@dataclass(frozen=True)
class DocumentFacts:
    """What the decision needs of a document: its category and author (ACC-3,
    DOC-4), whether it is deleted, and its visibility flags (DOC-5)."""

    category: str
    author_kind: str
    author_id: str
    masked: bool
    hidden_from_holder: bool
    hidden_from_representatives: bool
    deleted: bool
    type_code: str | None = None
    """The current version's document type (ACC-3 may give it its own right)."""


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` says: allowed on a ground, or denied by a rule with
    its reason; the trace records either (ACC-6)."""

    allowed: bool
    ground: Ground | None = None
    reason: str | None = None
    rule: str | None = None

    @classmethod
    def allow(cls, ground: Ground) -> Decision:
        """An allow, on ``ground``."""
        return cls(True, ground=ground)

    @classmethod
    def deny(cls, rule: str, reason: str) -> Decision:
        """A denial by ``rule`` (a rule id such as ``ACC-2``), saying why."""
        return cls(False, reason=reason, rule=rule)

    def require(self) -> Ground:
        """The ground, or the RuleViolation that says why not."""
        if not self.allowed:
            raise RuleViolation(self.rule or "ACC-1", self.reason or "access denied")
        assert self.ground is not None
        return self.ground


@dataclass(frozen=True)
class DocumentType:
    """A document type the DMP accepts (DOC-1): its code (LOINC), what it is
    called, and the category (DMP class) it belongs to."""

    code: str
    display: str
    category: str


TYPE_COLUMNS = ("code", "display", "category")


def document_types(table: Table) -> dict[str, DocumentType]:
    """DOC-1: the type list, a table of ``code,display,category`` (LOINC
    codes, each in one of the 11 categories). Refused, naming the line, if a
    code is malformed or twice, or a category unknown."""
    header, rows = table
    missing = [c for c in TYPE_COLUMNS if c not in header]
    if missing:
        raise RuleViolation("DOC-1", f"type list: missing columns {', '.join(missing)}")
    categories = {c.value for c in Category}
    types: dict[str, DocumentType] = {}
    for line, row in rows:
        code, display, category = ((row[c] or "").strip() for c in TYPE_COLUMNS)
        if not is_loinc(code):
            raise RuleViolation(
                "DOC-1",
                f"type list line {line}: {code!r} is not a LOINC code (digits, "
                "a hyphen, their check digit)",
            )
        if code in types:
            raise RuleViolation("DOC-1", f"type list line {line}: {code} twice")
        if not 1 <= len(display) <= 200:
            raise RuleViolation("DOC-1", f"type list line {line}: no display name")
        if category not in categories:
            raise RuleViolation(
                "DOC-1", f"type list line {line}: unknown category {category!r}"
            )
        types[code] = DocumentType(code, display, category)
    if not types:
        raise RuleViolation("DOC-1", "type list: no document type")
    return types


def types_table(types: Mapping[str, DocumentType]) -> tuple[list[str], list[list[str]]]:
    """The table :func:`document_types` reads: its header and rows."""
    return list(TYPE_COLUMNS), [
        [t.code, t.display, t.category]
        for t in sorted(types.values(), key=lambda t: t.code)
    ]


@dataclass(frozen=True)
class AccessMatrix:
    """ACC-3: which profession reads which document. Data, not code.

    A right per (profession, category), and, for a document type that has a
    column of its own, per (profession, type): the category is the default
    where a type has none. The type list (DOC-1) comes with it, so that one
    version number names both."""

    version: int
    allowed: Mapping[str, frozenset[str]]
    types: Mapping[str, DocumentType] = field(default_factory=dict)
    by_type: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    """Per profession, the types whose right differs from their category's."""

    def permits(
        self, profession: str | None, category: str, type_code: str | None = None
    ) -> bool:
        """ACC-3: whether ``profession`` may read a document of ``category``; the
        document type's own right, where the matrix has one, beats the category's."""
        own = self.by_type.get(profession or "", {}).get(type_code or "")
        if own is not None:
            return own
        return category in self.allowed.get(profession or "", frozenset())

    @classmethod
    def from_table(
        cls,
        table: Table,
        version: int = 0,
        types: Mapping[str, DocumentType] | None = None,
    ) -> AccessMatrix:
        """A table with a ``profession`` column, one 0/1 column per
        category, and a column for each document type (of ``types``) whose
        right is not its category's: 0, 1, or empty for the category's."""
        header, rows = table
        known = types or {}
        categories = [c.value for c in Category]
        missing = [c for c in ["profession", *categories] if c not in header]
        if missing:
            raise RuleViolation(
                "ACC-3", f"matrix: missing columns {', '.join(missing)}"
            )
        own = [c for c in header if c not in ("profession", *categories)]
        unknown = [c for c in own if c not in known]
        if unknown:
            raise RuleViolation(
                "ACC-3",
                f"matrix: columns {', '.join(unknown)} are neither a category nor "
                "a document type of the type list",
            )
        allowed: dict[str, frozenset[str]] = {}
        by_type: dict[str, dict[str, bool]] = {}
        for line, row in rows:
            profession = (row["profession"] or "").strip()
            if profession not in PROFESSIONS:
                raise RuleViolation("ACC-3", f"matrix line {line}: unknown profession")
            if profession in allowed:
                raise RuleViolation("ACC-3", f"matrix line {line}: {profession} twice")
            cells = {c: (row[c] or "").strip() for c in [*categories, *own]}
            bad = [c for c in categories if cells[c] not in ("0", "1")]
            bad += [c for c in own if cells[c] not in ("0", "1", "")]
            if bad:
                raise RuleViolation(
                    "ACC-3",
                    f"matrix line {line}: expected 0 or 1 in {', '.join(bad)}"
                    + (" (or empty in a type's column)" if set(bad) & set(own) else ""),
                )
            allowed[profession] = frozenset(c for c in categories if cells[c] == "1")
            rights = {c: cells[c] == "1" for c in own if cells[c]}
            if rights:
                by_type[profession] = rights
        return cls(version=version, allowed=allowed, types=dict(known), by_type=by_type)

    def to_rows(self) -> dict[str, list[str]]:
        """Each profession's allowed categories, sorted: the ``rows`` that
        :class:`AccessMatrixLog.Published` stores."""
        return {p: sorted(cats) for p, cats in sorted(self.allowed.items())}

    def entries(self) -> dict[str, Any]:
        """What a version holds, by key, to compare versions: each
        profession's categories and own types' rights, and each type."""
        found: dict[str, Any] = {
            p: [
                *cats,
                *(f"{c}={int(v)}" for c, v in sorted(self.by_type.get(p, {}).items())),
            ]
            for p, cats in self.to_rows().items()
        }
        found.update(
            {f"type {t.code}": [t.display, t.category] for t in self.types.values()}
        )
        return found

    def table(self) -> tuple[list[str], list[list[str]]]:
        """The table :meth:`from_table` reads: a ``profession`` column, a 0/1
        column per category, then a column per type some profession has a
        right of its own for (empty where it has none)."""
        categories = [c.value for c in Category]
        own = sorted({c for rights in self.by_type.values() for c in rights})
        rows = []
        for profession, allowed in self.to_rows().items():
            rights = self.by_type.get(profession, {})
            cells = ["1" if c in allowed else "0" for c in categories]
            cells += [str(int(rights[c])) if c in rights else "" for c in own]
            rows.append([profession, *cells])
        return ["profession", *categories, *own], rows


MATRIX_ID = uuid.uuid5(uuid.NAMESPACE_URL, "urn:espace:access-matrix")


class AccessMatrixLog(Aggregate):
    """ACC-3: the versions of the access matrix, as the operator published them."""

    class Event(Aggregate.Event):
        """The log's events: reference data of no espace, sealed under the system
        key (``KEY_SCOPE``, ADR-0004)."""

        KEY_SCOPE = "system"

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Started(Aggregate.Created, Event):
        """ACC-3: the matrix log was created, before any version was published."""

    class Published(Event):
        """ACC-3: the operator published a new version of the access matrix, with
        its document type list (DOC-1)."""

        class_version = 2

        version: int
        rows: dict[str, list[str]]
        types: dict[str, list[str]]
        """Each document type's display and category (DOC-1)."""
        by_type: dict[str, dict[str, bool]]
        source: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Versions from before the type list: the 13 types then known,
            each its category's right (ADR-0025)."""
            state["types"] = {
                code: [display, category]
                for code, (display, category) in LEGACY_TYPES.items()
            }
            state["by_type"] = {}

        def matrix(self) -> AccessMatrix:
            """The access matrix this event published."""
            return AccessMatrix(
                version=self.version,
                allowed={p: frozenset(c) for p, c in self.rows.items()},
                types={
                    code: DocumentType(code, display, category)
                    for code, (display, category) in self.types.items()
                },
                by_type={p: dict(r) for p, r in self.by_type.items()},
            )

        def apply(self, aggregate: Any) -> None:
            """The published version comes into force and joins the history."""
            matrix = self.matrix()
            aggregate.current = matrix
            aggregate.published_at = self.timestamp
            aggregate.versions[self.version] = Version(
                self.version, matrix.entries(), self.source, self.timestamp
            )
            aggregate.matrices[self.version] = matrix

    @classmethod
    def start(cls, *, at: datetime) -> AccessMatrixLog:
        """ACC-3: the system's one matrix log, at its fixed id :data:`MATRIX_ID`."""
        return cls._create(cls.Started, id=MATRIX_ID, timestamp=at)

    def __init__(self) -> None:
        self.current: AccessMatrix | None = None
        self.published_at: datetime | None = None
        self.versions: dict[int, Version] = {}
        self.matrices: dict[int, AccessMatrix] = {}

    def change(self, matrix: AccessMatrix, *, allow_removals: bool) -> Difference:
        """ACC-3: what publishing ``matrix`` would change; refused when it
        is identical to the version in force, or leaves out professions or
        document types it has unless ``allow_removals``."""
        current = self.versions.get(self.current.version) if self.current else None
        return checked_change(
            current,
            matrix.entries(),
            rule="ACC-3",
            what="matrix",
            allow_removals=allow_removals,
        )

    def publish(
        self,
        *,
        at: datetime,
        matrix: AccessMatrix,
        source: str,
        allow_removals: bool = False,
    ) -> int:
        """Publish a new version (see :meth:`change`); returns its number."""
        if not matrix.types:
            raise RuleViolation("DOC-1", "a matrix is published with its type list")
        self.change(matrix, allow_removals=allow_removals)
        version = (self.current.version if self.current else 0) + 1
        self.trigger_event(
            self.Published,
            timestamp=at,
            version=version,
            rows=matrix.to_rows(),
            types={t.code: [t.display, t.category] for t in matrix.types.values()},
            by_type={p: dict(r) for p, r in matrix.by_type.items()},
            source=source,
        )
        return version

    def published(self, number: int) -> AccessMatrix:
        """ACC-3: a published version, to show or publish again."""
        version_of(self.versions, number, "ACC-3")
        return self.matrices[number]


# ---------------------------------------------------------------------- decide

PROFESSIONAL_STATES = frozenset({"open", "active"})
"""LC-4: professionals read and feed an opened espace, activated or not."""
HOLDER_STATES = frozenset({"active", "suspended", "closed"})
"""LC-4: unactivated is invisible to the holder; LC-8: the archive stays readable."""


def decide(
    actor: Actor,
    action: Action,
    *,
    espace: EspaceFacts,
    consent: ConsentState,
    matrix: AccessMatrix,
    document: DocumentFacts | None = None,
    mode: Mode = Mode.CARE,
    listing: Listing | None = None,
    require_listing: bool = False,
) -> Decision:
    """Allow (with its ground) or deny (with its reason and rule). Pure.

    Every fact is passed in: the espace, the holder's consent (blocks, care
    team, médecin traitant, emergency refusals), the access matrix, the
    document's flags, and, with ``require_listing``, the directory's
    listing of a professional (PRO-2: an unlisted professional acts on no
    espace, and the directory's profession is the one that counts).
    """
    if action is Action.PROFILE:
        if not actor.holder_side:
            return Decision.deny("PRO-1", "the medical profile is the holder's")
        action = Action.READ
    if actor.kind is ActorKind.ESTABLISHMENT:
        return Decision.deny(
            "ACC-1", "an establishment acts on no record: its professionals do"
        )
    listed = listed_actor(actor, listing, require_listing)
    if isinstance(listed, Decision):
        return listed
    actor = listed
    if action in (Action.MESSAGE, Action.APPOINTMENT):
        return _services(actor, consent)
    if (
        action is Action.JOURNAL
        and actor.kind is ActorKind.PROFESSIONAL
        and mode is Mode.CARE
    ):
        # ACC-6: the médecin traitant sees every trace; any other
        # professional, the traces of their own actions.
        if actor.id == consent.medecin_traitant and actor.id not in consent.blocked:
            return Decision.allow(Ground.MEDECIN_TRAITANT)
        return Decision.allow(Ground.OWN_ACTIONS)
    if espace.state in ("erased", "opposed", "affiliated", "notified"):
        return Decision.deny("LC-4", f"there is no open record (espace {espace.state})")
    if document is not None and document.deleted:
        return Decision.deny("DOC-4", "the document was deleted")
    if actor.kind is ActorKind.PROFESSIONAL:
        return _professional(actor, action, espace, consent, matrix, document, mode)
    if mode is not Mode.CARE:
        return Decision.deny("ACC-5", "emergency access is for professionals")
    if actor.holder_side and actor.id != str(espace.espace_id):
        return Decision.deny("ACC-1", "not this person's espace")
    if actor.kind is ActorKind.HOLDER:
        return _holder(action, espace, document)
    if actor.kind is ActorKind.REPRESENTATIVE:
        return _representative(action, espace, document)
    return _heir(actor, action, espace, consent, document)


def listed_actor(
    actor: Actor, listing: Listing | None, require_listing: bool
) -> Actor | Decision:
    """PRO-2: a professional the directory does not list acts on no espace,
    and the directory's profession is the one that counts. Returns the actor
    as the decision sees them, or the denial."""
    if actor.kind is not ActorKind.PROFESSIONAL or not require_listing:
        return actor
    if listing is None or not listing.listed:
        return Decision.deny(
            "PRO-2",
            f"professional {actor.id} is not in the directory of professionals: "
            "a professional who is not listed acts on no espace",
        )
    if actor.profession is not None and actor.profession != listing.profession:
        return Decision.deny(
            "PRO-2",
            f"the directory lists {actor.id} as a {listing.profession}, "
            f"not a {actor.profession}",
        )
    return Actor(actor.kind, actor.id, listing.profession)


def _services(actor: Actor, consent: ConsentState) -> Decision:
    """MSG-1, AG-1: a listed professional reaches the holder's services
    unless blocked (ACC-2); the holder's side by the rules of each service."""
    if actor.kind is not ActorKind.PROFESSIONAL:
        return Decision.allow(Ground.HOLDER)
    if actor.id in consent.blocked:
        return Decision.deny("ACC-2", "the holder blocked this professional")
    return Decision.allow(Ground.LISTED_PROFESSIONAL)


def _holder(
    action: Action, espace: EspaceFacts, document: DocumentFacts | None
) -> Decision:
    if espace.deceased:
        return Decision.deny("LC-11", "the holder is deceased")
    if espace.state not in HOLDER_STATES:
        return Decision.deny(
            "LC-4", "the espace is not activated: invisible to the holder"
        )
    if espace.state == "closed" and action not in (
        Action.READ,
        Action.LIST,
        Action.JOURNAL,
    ):
        return Decision.deny("LC-8", "a closed espace is a read-only archive")
    if action in (Action.DEPOSIT, Action.REPLACE, Action.HIDE, Action.REVEAL):
        return Decision.deny("DOC-2", "professionals deposit; the holder uploads")
    if document is not None and document.hidden_from_holder and action is Action.READ:
        return Decision.deny("DOC-5", "hidden from the holder until announced")
    if (
        action is Action.DELETE
        and document is not None
        and document.author_kind != AuthorKind.HOLDER
    ):
        return Decision.deny("DOC-4", "only the author deletes a document")
    return Decision.allow(Ground.HOLDER)


def _representative(
    action: Action, espace: EspaceFacts, document: DocumentFacts | None
) -> Decision:
    if not espace.represented:
        return Decision.deny("LC-12", "this espace has no legal representative")
    decision = _holder(action, espace, document)
    if not decision.allowed:
        return decision
    if document is not None and document.hidden_from_representatives:
        return Decision.deny("DOC-5", "hidden from the legal representatives")
    return Decision.allow(Ground.LEGAL_REPRESENTATIVE)


def _heir(
    actor: Actor,
    action: Action,
    espace: EspaceFacts,
    consent: ConsentState,
    document: DocumentFacts | None,
) -> Decision:
    if not (espace.deceased and espace.state == "closed"):
        return Decision.deny(
            "LC-11", "heirs read only the archive of a deceased holder"
        )
    if actor.id not in consent.heirs:
        return Decision.deny("LC-11", "no access was granted to this person")
    if action not in (Action.READ, Action.LIST):
        return Decision.deny("LC-11", "heirs' access is read-only")
    if document is not None and document.hidden_from_holder:
        return Decision.deny("DOC-5", "hidden from the holder until announced")
    return Decision.allow(Ground.HEIR)


def _professional(
    actor: Actor,
    action: Action,
    espace: EspaceFacts,
    consent: ConsentState,
    matrix: AccessMatrix,
    document: DocumentFacts | None,
    mode: Mode,
) -> Decision:
    if espace.state not in PROFESSIONAL_STATES:
        return Decision.deny(
            "LC-7" if espace.state == "suspended" else "LC-8",
            f"the record is not open to professionals (espace {espace.state})",
        )
    if action in (Action.MASK, Action.UNMASK, Action.CONSENT, Action.UPLOAD):
        return Decision.deny("DOC-5", "only the holder does that")
    is_author = document is not None and (
        document.author_kind == AuthorKind.PROFESSIONAL
        and document.author_id == actor.id
    )
    if mode is not Mode.CARE:
        return _emergency(actor, action, consent, matrix, document, mode, is_author)
    if actor.id in consent.blocked:
        return Decision.deny("ACC-2", "the holder blocked this professional")
    if action is Action.DECLARE_CONSENT:
        return Decision.allow(Ground.CONSENT)
    if consent.medecin_traitant == actor.id:
        ground = Ground.MEDECIN_TRAITANT
    elif is_author:
        ground = Ground.AUTHOR
    elif actor.id in consent.care_team:
        ground = Ground.CARE_TEAM
    elif actor.id in consent.authorised:
        ground = Ground.CONSENT
    else:
        return Decision.deny("ACC-1", "no consent from the holder")
    if document is None or ground in (Ground.MEDECIN_TRAITANT, Ground.AUTHOR):
        return Decision.allow(ground)  # ACC-4: the médecin traitant reads everything
    return _by_matrix(actor, matrix, document, ground)


def _emergency(
    actor: Actor,
    action: Action,
    consent: ConsentState,
    matrix: AccessMatrix,
    document: DocumentFacts | None,
    mode: Mode,
    is_author: bool,
) -> Decision:
    """ACC-5: emergency beats blocking (ACC-2) unless the holder refused it."""
    if action not in (Action.READ, Action.LIST):
        return Decision.deny("ACC-5", "emergency access reads only")
    if mode is Mode.SAMU:
        if consent.samu_refused:
            return Decision.deny("ACC-5", "the holder refused access by the SAMU")
        if actor.profession != "physician":
            return Decision.deny("ACC-5", "the SAMU regulator is a physician")
        ground = Ground.SAMU
    else:
        if consent.emergency_refused:
            return Decision.deny("ACC-5", "the holder refused emergency access")
        ground = Ground.EMERGENCY
    if document is None or is_author or consent.medecin_traitant == actor.id:
        return Decision.allow(ground)
    return _by_matrix(actor, matrix, document, ground)


def _by_matrix(
    actor: Actor, matrix: AccessMatrix, document: DocumentFacts, ground: Ground
) -> Decision:
    """ACC-3, then DOC-5: what the profession may read, unless masked."""
    if actor.profession is None:
        return Decision.deny(
            "ACC-3",
            f"the profession of {actor.id} is not known: without a directory, say it",
        )
    if not matrix.permits(actor.profession, document.category, document.type_code):
        what = (
            f"documents of type {document.type_code}"
            if document.type_code in matrix.by_type.get(actor.profession, {})
            else f"{document.category} documents"
        )
        return Decision.deny(
            "ACC-3",
            f"a {actor.profession} may not read {what} (matrix version "
            f"{matrix.version})",
        )
    if document.masked:
        return Decision.deny("DOC-5", "masked from professionals by the holder")
    return Decision.allow(ground)


def facts_of_document(doc: Any) -> DocumentFacts:
    """The decision's view of a Document aggregate or a documents-view row."""
    get = doc.get if isinstance(doc, Mapping) else lambda k: getattr(doc, k)
    deleted = get("deleted_at") is not None
    return DocumentFacts(
        category=str(get("category")),
        author_kind=str(get("author_kind")),
        author_id=str(get("author_id")),
        masked=bool(get("masked_from_professionals")),
        hidden_from_holder=bool(get("hidden_from_holder")),
        hidden_from_representatives=bool(get("hidden_from_representatives")),
        deleted=deleted,
        type_code=str(get("loinc_code")),
    )


def uuid_or_none(value: str | None) -> UUID | None:
    """The UUID that ``value`` spells, or None for None or an empty string."""
    return UUID(value) if value else None
