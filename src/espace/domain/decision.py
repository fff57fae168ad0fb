"""Who may do what on a record: one pure decision (ACC-1 to ACC-7, DOC-5,
LC-4, LC-8, LC-11).

Every read and write path asks :func:`decide`; an allow carries its ground,
a deny its reason and the rule that denies. The facts it decides on are
here too; the actors are in :mod:`espace.domain.actors` and the access
matrix (ACC-3), which the operator publishes, in :mod:`espace.domain.access`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from espace.domain.access import AccessMatrix
from espace.domain.actors import Action, Actor, ActorKind, Ground, Mode
from espace.domain.consent import ConsentState
from espace.domain.document_metadata import AuthorKind
from espace.domain.errors import RuleViolation
from espace.domain.espace_state import State


@dataclass(frozen=True)
class EspaceFacts:
    """What the decision needs of the espace (from EspaceSante)."""

    espace_id: UUID
    state: State
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


PROFESSIONAL_STATES = frozenset({State.OPEN, State.ACTIVE})
"""LC-4: professionals read and feed an opened espace, activated or not."""
HOLDER_STATES = frozenset({State.ACTIVE, State.SUSPENDED, State.CLOSED})
"""LC-4: unactivated is invisible to the holder; LC-8: the archive stays readable."""
CLOSED_TO_ALL = frozenset(
    {State.ERASED, State.OPPOSED, State.AFFILIATED, State.NOTIFIED}
)
"""LC-4: no open record: not yet opened, opposed (LC-3) or erased (LC-9)."""


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
    if action is Action.EXPORT and not actor.holder_side:
        return Decision.deny(
            "ACC-6",
            "an export of the whole espace is the holder's or their legal "
            "representative's (right of access); a professional reads the record",
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
    if espace.state in CLOSED_TO_ALL:
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
    if espace.state is State.CLOSED and action not in (
        Action.READ,
        Action.LIST,
        Action.JOURNAL,
        Action.EXPORT,
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
    if not (espace.deceased and espace.state is State.CLOSED):
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
            "LC-7" if espace.state is State.SUSPENDED else "LC-8",
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
