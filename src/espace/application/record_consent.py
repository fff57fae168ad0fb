"""The holder's choices on their record: authorisations, blocks, the care
team, the médecin traitant, emergency refusals, heirs (ACC-1, ACC-2, ACC-4,
ACC-5, LC-11), each traced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from espace.application import schemas
from espace.application.errors import InvalidInput
from espace.application.record_base import RecordBase, log
from espace.domain.actors import Action, Actor, ActorKind, Mode
from espace.domain.consent import Consent
from espace.domain.errors import RuleViolation
from espace.domain.trace import AccessTrace, TraceFacts


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
        pro = (
            schemas.load(schemas.ProfessionalRefSchema, professional)
            if professional is not None
            else None
        )
        commands: dict[str, Callable[[Consent, datetime], None]] = {}
        if pro is not None:
            idnatps, said = pro["idnatps"], pro["profession"]
            commands = {
                "grant": lambda c, t: c.authorise(at=t, idnatps=idnatps),
                "withdraw": lambda c, t: c.withdraw(at=t, idnatps=idnatps),
                "block": lambda c, t: c.block(at=t, idnatps=idnatps),
                "unblock": lambda c, t: c.unblock(at=t, idnatps=idnatps),
                "care-team-add": lambda c, t: c.join_care_team(at=t, idnatps=idnatps),
                "care-team-remove": lambda c, t: c.leave_care_team(
                    at=t, idnatps=idnatps
                ),
                "designate-medecin-traitant": lambda c, t: c.designate_medecin_traitant(
                    at=t,
                    idnatps=idnatps,
                    profession=self._named_profession(idnatps, said) or "",
                ),
            }
        commands.update(
            {
                "revoke-medecin-traitant": lambda c, t: c.revoke_medecin_traitant(at=t),
                "refuse-emergency": lambda c, t: c.refuse_emergency_access(at=t),
                "allow-emergency": lambda c, t: c.allow_emergency_access(at=t),
                "refuse-samu": lambda c, t: c.refuse_emergency_access(at=t, samu=True),
                "allow-samu": lambda c, t: c.allow_emergency_access(at=t, samu=True),
            }
        )
        if choice not in commands:
            needs = " (needs a professional)" if pro is None else ""
            raise InvalidInput(
                {"choice": [f"unknown or incomplete choice {choice!r}{needs}"]}
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
            commands[choice](consent, now)
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
        trace = AccessTrace.record(
            trace_id=uuid4(),
            at=now,
            facts=TraceFacts(
                espace_id=espace_id,
                actor_kind="operator",
                actor_id="operator",
                actor_profession=None,
                action=str(Action.CONSENT),
                mode=str(Mode.CARE),
                allowed=True,
                detail=f"heir access: {params['heir_id']} ({params['relationship']})",
                decided_by="operator",
                espace_version=espace.version,
                consent_version=existing.version if existing is not None else 0,
            ),
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
