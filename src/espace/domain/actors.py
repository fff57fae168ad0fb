"""Who acts on a record and what they do: the kinds of actor, the modes they
act in, the actions :func:`espace.domain.decision.decide` rules on and the
grounds it allows them on (ACC-1 to ACC-7), and the professions the access
matrix lists (ACC-3).

None of these is stored by topic: events and traces carry their values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from espace.domain.errors import InvalidIdentifier, RuleViolation
from espace.domain.identifiers import validate_finess, validate_idnatps


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
    EXPORT = "export"
    """ACC-6: the whole espace, exported (FHIR, ADR-0031): the holder's
    right of access and portability, or their legal representative's."""


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
