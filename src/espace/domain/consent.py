"""The Consent aggregate: one per espace, the holder's access choices (ACC-1,
ACC-2, ACC-4, ACC-5, LC-11).

Its id is derived from the espace id, so it is found without a read model;
it is started by the first choice the holder makes. Its events carry
``espace_id``: they are sealed under the espace's key and erased with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain.actors import ActorKind
from espace.domain.errors import RuleViolation

CONSENT_NAMESPACE = UUID("6f1d3b7e-2c44-4a8e-9a51-0f6f2f4c1a10")


def consent_id(espace_id: UUID) -> UUID:
    """The id of an espace's Consent, derived from its espace id so that it is
    found without a read model."""
    return uuid.uuid5(CONSENT_NAMESPACE, str(espace_id))


@dataclass(frozen=True)
class ConsentState:
    """What the access decision needs to know of the holder's choices."""

    authorised: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()
    care_team: frozenset[str] = frozenset()
    medecin_traitant: str | None = None
    emergency_refused: bool = False
    samu_refused: bool = False
    heirs: frozenset[str] = field(default_factory=frozenset)


class Consent(Aggregate):
    """Authorised, blocked and care-team professionals, médecin traitant,
    emergency refusals and heirs' access, for one espace."""

    class Event(Aggregate.Event):
        """Consent's events: each carries ``espace_id``, so it is sealed under the
        espace's key and erased with it."""

        espace_id: UUID

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Started(Aggregate.Created, Event):
        """The holder's first choice about access."""

    class ProfessionalAuthorised(Event):
        """ACC-1: consent given to one professional, by the holder in their
        espace, or declared by the professional who obtained it during care."""

        idnatps: str
        declared_by: str

        def apply(self, aggregate: Any) -> None:
            """The professional is authorised."""
            aggregate.authorised.add(self.idnatps)

    class AuthorisationWithdrawn(Event):
        """ACC-1: consent withdrawn, at any time."""

        idnatps: str

        def apply(self, aggregate: Any) -> None:
            """The professional is no longer authorised."""
            aggregate.authorised.discard(self.idnatps)

    class ProfessionalBlocked(Event):
        """ACC-2: blocked beats everything but unrefused emergency rules."""

        idnatps: str

        def apply(self, aggregate: Any) -> None:
            """The professional is blocked."""
            aggregate.blocked.add(self.idnatps)

    class ProfessionalUnblocked(Event):
        """ACC-2: the holder unblocked a professional they had blocked."""

        idnatps: str

        def apply(self, aggregate: Any) -> None:
            """The professional is no longer blocked."""
            aggregate.blocked.discard(self.idnatps)

    class CareTeamJoined(Event):
        """ACC-1: care-team members are deemed authorised."""

        idnatps: str

        def apply(self, aggregate: Any) -> None:
            """The professional is in the care team."""
            aggregate.care_team.add(self.idnatps)

    class CareTeamLeft(Event):
        """ACC-1: a professional left the care team, so is no longer deemed
        authorised."""

        idnatps: str

        def apply(self, aggregate: Any) -> None:
            """The professional is no longer in the care team."""
            aggregate.care_team.discard(self.idnatps)

    class MedecinTraitantDesignated(Event):
        """ACC-4: the registered GP, who reads everything."""

        idnatps: str

        def apply(self, aggregate: Any) -> None:
            """The professional becomes the médecin traitant, replacing any other."""
            aggregate.medecin_traitant = self.idnatps

    class MedecinTraitantRevoked(Event):
        """ACC-4: the holder has no médecin traitant any more."""

        def apply(self, aggregate: Any) -> None:
            """The espace has no médecin traitant."""
            aggregate.medecin_traitant = None

    class EmergencyAccessRefused(Event):
        """ACC-5: the holder refuses emergency access ("bris de glace")."""

        def apply(self, aggregate: Any) -> None:
            """Emergency access is refused."""
            aggregate.emergency_refused = True

    class EmergencyAccessAllowed(Event):
        """ACC-5: the holder withdrew their refusal of emergency access."""

        def apply(self, aggregate: Any) -> None:
            """Emergency access is no longer refused."""
            aggregate.emergency_refused = False

    class SamuAccessRefused(Event):
        """ACC-5: the holder refuses access by the SAMU regulator, separately."""

        def apply(self, aggregate: Any) -> None:
            """SAMU access is refused."""
            aggregate.samu_refused = True

    class SamuAccessAllowed(Event):
        """ACC-5: the holder withdrew their refusal of access by the SAMU regulator."""

        def apply(self, aggregate: Any) -> None:
            """SAMU access is no longer refused."""
            aggregate.samu_refused = False

    class HeirAccessGranted(Event):
        """LC-11: an heir, cohabiting or PACS partner may read the archive."""

        heir_id: str
        relationship: str

        def apply(self, aggregate: Any) -> None:
            """The person may read the archive; their relationship is kept."""
            aggregate.heirs[self.heir_id] = self.relationship

    @classmethod
    def start(cls, *, espace_id: UUID, at: datetime) -> Consent:
        """The Consent of espace ``espace_id``, at its derived id
        (:func:`consent_id`), on the holder's first choice."""
        return cls._create(
            cls.Started, id=consent_id(espace_id), timestamp=at, espace_id=espace_id
        )

    def __init__(self, espace_id: UUID) -> None:
        self.espace_id = espace_id
        self.authorised: set[str] = set()
        self.blocked: set[str] = set()
        self.care_team: set[str] = set()
        self.medecin_traitant: str | None = None
        self.emergency_refused = False
        self.samu_refused = False
        self.heirs: dict[str, str] = {}

    @property
    def state(self) -> ConsentState:
        """The holder's choices as :func:`espace.domain.decision.decide` reads them."""
        return ConsentState(
            authorised=frozenset(self.authorised),
            blocked=frozenset(self.blocked),
            care_team=frozenset(self.care_team),
            medecin_traitant=self.medecin_traitant,
            emergency_refused=self.emergency_refused,
            samu_refused=self.samu_refused,
            heirs=frozenset(self.heirs),
        )

    # ------------------------------------------------------------- commands

    def authorise(
        self,
        *,
        at: datetime,
        idnatps: str,
        declared_by: ActorKind = ActorKind.HOLDER,
    ) -> None:
        """ACC-1: consent to one professional, given by the holder or declared by
        the professional (``declared_by``); refused if already given, or if the
        professional is blocked (ACC-2: unblock first)."""
        self._guard(at)
        if idnatps in self.authorised:
            raise RuleViolation("ACC-1", "this professional is already authorised")
        if idnatps in self.blocked:
            raise RuleViolation("ACC-2", "this professional is blocked: unblock first")
        self._trigger(
            self.ProfessionalAuthorised, at, idnatps=idnatps, declared_by=declared_by
        )

    def withdraw(self, *, at: datetime, idnatps: str) -> None:
        """ACC-1: the holder withdraws a consent given, at any time."""
        self._guard(at)
        if idnatps not in self.authorised:
            raise RuleViolation("ACC-1", "this professional has no consent to withdraw")
        self._trigger(self.AuthorisationWithdrawn, at, idnatps=idnatps)

    def block(self, *, at: datetime, idnatps: str) -> None:
        """ACC-2: the holder blocks a professional: it beats consent, care team and
        médecin traitant, not emergency access the holder did not refuse."""
        self._guard(at)
        if idnatps in self.blocked:
            raise RuleViolation("ACC-2", "this professional is already blocked")
        self._trigger(self.ProfessionalBlocked, at, idnatps=idnatps)

    def unblock(self, *, at: datetime, idnatps: str) -> None:
        """ACC-2: the holder lifts a block."""
        self._guard(at)
        if idnatps not in self.blocked:
            raise RuleViolation("ACC-2", "this professional is not blocked")
        self._trigger(self.ProfessionalUnblocked, at, idnatps=idnatps)

    def join_care_team(self, *, at: datetime, idnatps: str) -> None:
        """ACC-1: a professional joins the care team, so is deemed authorised."""
        self._guard(at)
        if idnatps in self.care_team:
            raise RuleViolation("ACC-1", "already in the care team")
        self._trigger(self.CareTeamJoined, at, idnatps=idnatps)

    def leave_care_team(self, *, at: datetime, idnatps: str) -> None:
        """ACC-1: a professional leaves the care team."""
        self._guard(at)
        if idnatps not in self.care_team:
            raise RuleViolation("ACC-1", "not in the care team")
        self._trigger(self.CareTeamLeft, at, idnatps=idnatps)

    def designate_medecin_traitant(
        self, *, at: datetime, idnatps: str, profession: str
    ) -> None:
        """ACC-4: the médecin traitant is a physician."""
        self._guard(at)
        if profession != "physician":
            raise RuleViolation("ACC-4", "the médecin traitant must be a physician")
        if self.medecin_traitant == idnatps:
            raise RuleViolation("ACC-4", "already the médecin traitant")
        self._trigger(self.MedecinTraitantDesignated, at, idnatps=idnatps)

    def revoke_medecin_traitant(self, *, at: datetime) -> None:
        """ACC-4: the espace no longer has a médecin traitant."""
        self._guard(at)
        if self.medecin_traitant is None:
            raise RuleViolation("ACC-4", "no médecin traitant is designated")
        self._trigger(self.MedecinTraitantRevoked, at)

    def refuse_emergency_access(self, *, at: datetime, samu: bool = False) -> None:
        """ACC-5: refusals of emergency access and of SAMU access are separate."""
        self._guard(at)
        if samu:
            if self.samu_refused:
                raise RuleViolation("ACC-5", "SAMU access is already refused")
            self._trigger(self.SamuAccessRefused, at)
        else:
            if self.emergency_refused:
                raise RuleViolation("ACC-5", "emergency access is already refused")
            self._trigger(self.EmergencyAccessRefused, at)

    def allow_emergency_access(self, *, at: datetime, samu: bool = False) -> None:
        """ACC-5: the holder withdraws a refusal of emergency access, or with
        ``samu`` of SAMU access."""
        self._guard(at)
        if samu:
            if not self.samu_refused:
                raise RuleViolation("ACC-5", "SAMU access is not refused")
            self._trigger(self.SamuAccessAllowed, at)
        else:
            if not self.emergency_refused:
                raise RuleViolation("ACC-5", "emergency access is not refused")
            self._trigger(self.EmergencyAccessAllowed, at)

    def grant_heir_access(
        self, *, at: datetime, heir_id: str, relationship: str
    ) -> None:
        """LC-11: read-only access to the archive of a deceased holder."""
        self._guard(at)
        if relationship not in ("heir", "cohabitant", "pacs_partner"):
            raise RuleViolation("LC-11", "heir, cohabitant or pacs_partner only")
        if heir_id in self.heirs:
            raise RuleViolation("LC-11", "this person already has access")
        self._trigger(
            self.HeirAccessGranted, at, heir_id=heir_id, relationship=relationship
        )

    def _trigger(self, event_class: type[Any], at: datetime, **kwargs: Any) -> None:
        self.trigger_event(
            event_class, timestamp=at, espace_id=self.espace_id, **kwargs
        )

    def _guard(self, at: datetime) -> None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise RuleViolation("ACC-1", "times must be timezone-aware")
        if at < self.modified_on:
            raise RuleViolation(
                "ACC-1", "a command cannot be dated before the last event"
            )
