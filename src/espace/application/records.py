"""Use cases of the shared medical record (DMP): documents, consent, access
decisions and the trace of every action (DOC-*, ACC-*, SEC-2), by family
(``record_documents``, ``record_consent``, ``record_alerts``) on one base
(``record_base``).

Every path asks the one access decision (:func:`espace.domain.decision.decide`)
with facts loaded from the aggregates, and records exactly one trace in the
same save as the change it traces: an allowed action and its trace are
written together, a denied attempt leaves its trace and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from espace.application import schemas
from espace.application.errors import InvalidInput
from espace.application.record_alerts import AlertUseCases
from espace.application.record_consent import ConsentUseCases
from espace.application.record_documents import DocumentUseCases
from espace.domain.actors import Actor, ActorKind

__all__ = ["RecordService", "actor_from"]


def actor_from(data: Mapping[str, Any], espace_id: UUID | None = None) -> Actor:
    """Who acts, from plain values (a form, the CLI's flags), checked by
    :class:`schemas.ActorSchema`. The holder and a representative are bound
    to ``espace_id``."""
    params = schemas.load(schemas.ActorSchema, data)
    kind = ActorKind(params["kind"])
    if kind is ActorKind.PROFESSIONAL:
        return Actor.professional(params["idnatps"], params["profession"])
    if kind is ActorKind.HEIR:
        return Actor.heir(params["heir_id"])
    if kind is ActorKind.ESTABLISHMENT:
        return Actor.establishment(params["finess"], params["name"])
    if espace_id is None:
        raise InvalidInput(
            {"espace": ["the holder or representative's espace is required"]}
        )
    return Actor(kind, str(espace_id))


class RecordService(DocumentUseCases, ConsentUseCases, AlertUseCases):
    """The DMP inside each open espace: every family of its use cases."""
