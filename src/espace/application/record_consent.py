"""The holder's choices on their record: authorisations, blocks, the care
team, the médecin traitant, emergency refusals, heirs (ACC-1, ACC-2, ACC-4,
ACC-5, LC-11), each traced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from espace.application import schemas
from espace.application.errors import InvalidInput
from espace.application.record_base import RecordBase, log
from espace.domain.actors import Action, Actor, ActorKind
from espace.domain.consent import Consent
from espace.domain.errors import RuleViolation
from espace.domain.trace import AccessTrace


@dataclass(frozen=True)
class ConsentChoice:
    """One of the holder's choices on their record: what it does, with its
    rule (the CLI's help); the consent's command; whether it is about one
    professional (passed as ``idnatps``), whose profession the directory then
    says (the médecin traitant's, ``with_profession``); and the arguments it
    always adds."""

    does: str
    command: Callable[..., None]
    about_professional: bool = True
    with_profession: bool = False
    fixed: tuple[tuple[str, object], ...] = ()

    def apply(
        self,
        consent: Consent,
        at: datetime,
        idnatps: str | None = None,
        profession: str | None = None,
    ) -> None:
        """Make the choice on ``consent``: RuleViolation if a rule forbids it."""
        arguments = dict(self.fixed)
        if self.about_professional:
            arguments["idnatps"] = idnatps
        if self.with_profession:
            arguments["profession"] = profession or ""
        self.command(consent, at=at, **arguments)


CHOICES: Mapping[str, ConsentChoice] = {
    "grant": ConsentChoice("ACC-1: authorise a professional", Consent.authorise),
    "withdraw": ConsentChoice(
        "ACC-1: withdraw a professional's authorisation", Consent.withdraw
    ),
    "block": ConsentChoice(
        "ACC-2: block a professional (beats everything but emergency)",
        Consent.block,
    ),
    "unblock": ConsentChoice("ACC-2: unblock a professional", Consent.unblock),
    "care-team-add": ConsentChoice(
        "ACC-1: add a professional to the care team", Consent.join_care_team
    ),
    "care-team-remove": ConsentChoice(
        "ACC-1: remove a professional from the care team", Consent.leave_care_team
    ),
    "designate-medecin-traitant": ConsentChoice(
        "ACC-4: designate the médecin traitant (a physician)",
        Consent.designate_medecin_traitant,
        with_profession=True,
    ),
    "revoke-medecin-traitant": ConsentChoice(
        "ACC-4: revoke the médecin traitant",
        Consent.revoke_medecin_traitant,
        about_professional=False,
    ),
    "refuse-emergency": ConsentChoice(
        "ACC-5: refuse emergency access",
        Consent.refuse_emergency_access,
        about_professional=False,
    ),
    "allow-emergency": ConsentChoice(
        "ACC-5: allow emergency access again",
        Consent.allow_emergency_access,
        about_professional=False,
    ),
    "refuse-samu": ConsentChoice(
        "ACC-5: refuse access by the SAMU regulator",
        Consent.refuse_emergency_access,
        about_professional=False,
        fixed=(("samu", True),),
    ),
    "allow-samu": ConsentChoice(
        "ACC-5: allow access by the SAMU regulator again",
        Consent.allow_emergency_access,
        about_professional=False,
        fixed=(("samu", True),),
    ),
}
"""The holder's choices, by the name the API and the CLI take."""


class ConsentUseCases(RecordBase):
    """ACC-1, ACC-2, ACC-4, ACC-5, LC-11: who may act on the record."""

    # ----------------------------------------------------------------- consent

    def consent(
        self,
        actor: Actor,
        espace_id: UUID,
        choice: str,
        professional: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """ACC-1/2/4/5: the holder's choices; each one is traced."""
        kind = CHOICES.get(choice)
        if kind is None:
            raise InvalidInput(
                {"choice": [f"unknown choice {choice!r}: one of {', '.join(CHOICES)}"]}
            )
        pro = (
            schemas.load(schemas.ProfessionalRefSchema, professional)
            if professional is not None
            else None
        )
        if kind.about_professional and pro is None:
            raise InvalidInput(
                {"professional": [f"{choice!r} needs the professional concerned"]}
            )
        idnatps: str | None = pro["idnatps"] if pro is not None else None
        profession = (
            self._named_profession(pro["idnatps"], pro["profession"])
            if kind.with_profession and pro is not None
            else None
        )
        espace = self._espace(espace_id)
        existing = self._consent(espace_id)
        now = self._now(at)
        detail = f"{choice} {pro['idnatps']}" if pro else choice
        gate = self._record_gate(
            actor, Action.CONSENT, espace, now, detail=detail, consent=existing
        )
        consent = existing or Consent.start(espace_id=espace_id, at=now)
        try:
            kind.apply(consent, now, idnatps, profession)
        except RuleViolation as exc:
            gate.refuse(exc.rule, exc.reason)
        trace = gate.trace()
        self._save(consent, trace)
        log.info("consent.changed", espace_id=str(espace_id), choice=choice)
        return {
            "espace_id": str(espace_id),
            "choice": choice,
            "trace_id": str(trace.id),
        }

    def declare_consent(
        self, actor: Actor, espace_id: UUID, at: datetime | None = None
    ) -> dict[str, Any]:
        """ACC-1: a professional declares the consent the holder gave during
        care (how an espace that is open but not activated gets fed, LC-4).
        Refused to a blocked professional (ACC-2); traced either way."""
        if actor.kind is not ActorKind.PROFESSIONAL:
            raise InvalidInput({"actor": ["only a professional declares consent"]})
        espace = self._espace(espace_id)
        existing = self._consent(espace_id)
        now = self._now(at)
        trace = self._record_gate(
            actor, Action.DECLARE_CONSENT, espace, now, consent=existing
        ).trace()
        consent = existing or Consent.start(espace_id=espace_id, at=now)
        if actor.id not in consent.authorised:
            consent.authorise(
                at=now, idnatps=actor.id, declared_by=ActorKind.PROFESSIONAL
            )
        self._save(consent, trace)
        return {
            "espace_id": str(espace_id),
            "idnatps": actor.id,
            "trace_id": str(trace.id),
        }

    def grant_heir_access(
        self, espace_id: UUID, data: Mapping[str, Any], at: datetime | None = None
    ) -> dict[str, Any]:
        """LC-11: the operator grants an heir read access to the archive."""
        params = schemas.load(schemas.HeirSchema, data)
        espace = self._espace(espace_id)
        if espace.date_of_death is None:
            raise RuleViolation("LC-11", "the holder is not deceased")
        existing = self._consent(espace_id)
        now = self._now(at)
        consent = existing or Consent.start(espace_id=espace_id, at=now)
        consent.grant_heir_access(
            at=now, heir_id=params["heir_id"], relationship=params["relationship"]
        )
        trace = AccessTrace.operator_act(
            trace_id=uuid4(),
            at=now,
            espace_id=espace_id,
            operator="operator",
            action=str(Action.CONSENT),
            detail=f"heir access: {params['heir_id']} ({params['relationship']})",
            espace_version=espace.version,
            consent_version=existing.version if existing is not None else 0,
        )
        self._save(consent, trace)
        return {"espace_id": str(espace_id), "heir_id": params["heir_id"]}

    def consent_view(
        self, actor: Actor, espace_id: UUID, at: datetime | None = None
    ) -> dict[str, Any]:
        """ACC-1, ACC-2, ACC-4, ACC-5: the holder's current choices, to the
        holder's side only; the read is traced (ACC-6)."""
        espace = self._espace(espace_id)
        gate = self._record_gate(
            actor, Action.CONSENT, espace, self._now(at), detail="consent show"
        )
        self._save(gate.trace())
        return self.consents.of_espace(espace_id)
