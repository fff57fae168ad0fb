"""The kinds of deadline, as one typed registry: the rule that sets each,
what it is about (the espace, or one of its documents) and when its command
is recorded.

The deadlines view (``espace.projections.deadlines``) computes when each
falls due from the log; the deadline job (``espace.application.deadlines``)
issues one command per kind, wired in ``espace.api.bootstrap``, which
refuses a registry with a kind left without its command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class DeadlineKind(StrEnum):
    """A kind of deadline; its value is what the view stores."""

    OPENING = "opening"
    SUSPENSION_CLOSURE = "suspension_closure"
    ARCHIVE_EXPIRY = "archive_expiry"
    ERASURE = "erasure"
    MAJORITY = "majority"
    HOLDER_NOTICE = "holder_notice"
    HOLDER_REVEAL = "holder_reveal"


class Subject(StrEnum):
    """What a deadline is about: its command takes that subject's id."""

    ESPACE = "espace"
    DOCUMENT = "document"


@dataclass(frozen=True)
class KindRule:
    """One kind of deadline: the rule that sets it, its subject, and whether
    its command is an act recorded when done (``acts_now``: an erasure) or
    an effect recorded at its legal instant, or just after the subject's
    last event (the end of the window, of a suspension, the 18th birthday)."""

    rule: str
    subject: Subject
    acts_now: bool
    what: str


DEADLINE_KINDS: Final[Mapping[DeadlineKind, KindRule]] = MappingProxyType(
    {
        DeadlineKind.OPENING: KindRule(
            "LC-4", Subject.ESPACE, False, "the opposition window ends; it opens"
        ),
        DeadlineKind.SUSPENSION_CLOSURE: KindRule(
            "LC-7", Subject.ESPACE, False, "six weeks after the holder was told"
        ),
        DeadlineKind.ARCHIVE_EXPIRY: KindRule(
            "LC-8", Subject.ESPACE, True, "ten years after closure; it is erased"
        ),
        DeadlineKind.ERASURE: KindRule(
            "LC-9", Subject.ESPACE, True, "an express erasure, within three months"
        ),
        DeadlineKind.MAJORITY: KindRule(
            "LC-12", Subject.ESPACE, False, "the holder turns 18; the mandate ends"
        ),
        DeadlineKind.HOLDER_NOTICE: KindRule(
            "DOC-5", Subject.DOCUMENT, False, "two weeks hidden: the holder is told"
        ),
        DeadlineKind.HOLDER_REVEAL: KindRule(
            "DOC-5", Subject.DOCUMENT, False, "one month on, the holder sees it"
        ),
    }
)
"""Every kind of deadline, in the order the view's docstring gives them."""
