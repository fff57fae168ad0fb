"""The Document aggregate: one per logical document of a DMP (DOC-1 to DOC-7).

Every event carries ``espace_id`` so that it is sealed under the espace's key
and destroyed with it (SEC-4). The content itself is not in the events: it is
stored sealed beside them (ADR-0010) and referenced by version id and hash.

The categories, document types and metadata rules are in
:mod:`espace.domain.document_metadata`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from espace.domain import calendar
from espace.domain.document_metadata import AuthorKind, Category, validate_metadata
from espace.domain.errors import RuleViolation

HOLDER_NOTICE_DAYS = 14
"""DOC-5: two weeks without announcement consultation: the holder is told."""
HOLDER_REVEAL_MONTHS = 1
"""DOC-5: one month: the document becomes visible to the holder by itself."""


class Document(Aggregate):
    """A logical document and its versions in one espace's DMP."""

    class Event(Aggregate.Event):
        """A document's events: each carries ``espace_id``, so it is sealed under
        the espace's key and destroyed with it (SEC-4)."""

        espace_id: UUID

        def apply(self, aggregate: Any) -> None:
            """Each event class overrides this."""

    class Deposited(Aggregate.Created, Event):
        """DOC-2: deposited by a professional, or uploaded by the holder."""

        author_kind: str
        author_id: str
        author_profession: str | None
        category: str
        loinc_code: str
        title: str
        care_time: datetime
        format: str
        size: int
        content_hash: str
        version_id: UUID
        hidden_from_holder: bool
        hidden_from_representatives: bool

    class Replaced(Event):
        """DOC-3: a new version supersedes the old one; the history stays."""

        version_id: UUID
        loinc_code: str
        title: str
        care_time: datetime
        format: str
        size: int
        content_hash: str

        def apply(self, aggregate: Any) -> None:
            """The new version is appended and becomes the current one; the older
            ones stay in :attr:`Document.versions`."""
            d: Document = aggregate
            d.versions.append({**self._version(), "version_no": len(d.versions) + 1})
            d.loinc_code = self.loinc_code
            d.title = self.title
            d.care_time = self.care_time

        def _version(self) -> dict[str, Any]:
            return {
                "version_id": self.version_id,
                "version_no": 0,
                "title": self.title,
                "loinc_code": self.loinc_code,
                "care_time": self.care_time,
                "format": self.format,
                "size": self.size,
                "content_hash": self.content_hash,
                "at": self.timestamp,
            }

    class Deleted(Event):
        """DOC-4: logical deletion by the author."""

        def apply(self, aggregate: Any) -> None:
            """The document is deleted as of the event's time; it stays in the log."""
            aggregate.deleted_at = self.timestamp

    class MaskedFromProfessionals(Event):
        """DOC-5: the holder masks it; the author and médecin traitant still see it."""

        def apply(self, aggregate: Any) -> None:
            """The document is masked from professionals."""
            aggregate.masked_from_professionals = True

    class UnmaskedFromProfessionals(Event):
        """DOC-5: the holder lifted the mask: professionals see it again."""

        def apply(self, aggregate: Any) -> None:
            """The document is no longer masked from professionals."""
            aggregate.masked_from_professionals = False

    class HiddenFromHolder(Event):
        """DOC-5: the author hides it until an announcement consultation."""

        notice_at: datetime
        reveal_at: datetime

        def apply(self, aggregate: Any) -> None:
            """The document is hidden from the holder, with its two deadlines."""
            d: Document = aggregate
            d.hidden_from_holder = True
            d.holder_notice_at = self.notice_at
            d.holder_reveal_at = self.reveal_at
            d.holder_told = False

    class HolderToldUpdateWaiting(Event):
        """DOC-5: two weeks on, the holder is told an update is waiting."""

        def apply(self, aggregate: Any) -> None:
            """The holder has been told; the document stays hidden."""
            aggregate.holder_told = True

    class RevealedToHolder(Event):
        """DOC-5: after the announcement consultation, or one month on."""

        by: str

        def apply(self, aggregate: Any) -> None:
            """The holder sees the document; its deadlines are cleared."""
            d: Document = aggregate
            d.hidden_from_holder = False
            d.holder_notice_at = None
            d.holder_reveal_at = None

    class HiddenFromRepresentatives(Event):
        """DOC-5: confidential care asked by a minor."""

        def apply(self, aggregate: Any) -> None:
            """The document is hidden from the legal representatives."""
            aggregate.hidden_from_representatives = True

    class ShownToRepresentatives(Event):
        """DOC-5: the author lifted the confidentiality: legal representatives see
        it again."""

        def apply(self, aggregate: Any) -> None:
            """The legal representatives see the document again."""
            aggregate.hidden_from_representatives = False

    # ---------------------------------------------------------------- create

    @classmethod
    def deposit(
        cls,
        *,
        document_id: UUID,
        espace_id: UUID,
        version_id: UUID,
        at: datetime,
        author_kind: str,
        author_id: str,
        author_profession: str | None,
        category: str,
        loinc_code: str,
        title: str,
        care_time: datetime,
        fmt: str,
        size: int,
        content_hash: str,
        types: Collection[str],
        hidden_from_holder: bool = False,
        hidden_from_representatives: bool = False,
    ) -> Document:
        """DOC-1/DOC-2: a new document, its first version, of one of the
        ``types`` in force."""
        _aware(at, care_time)
        validate_metadata(
            types=types,
            category=category,
            loinc_code=loinc_code,
            title=title,
            fmt=fmt,
            size=size,
            content_hash=content_hash,
        )
        if care_time > at:
            raise RuleViolation("DOC-2", "the time of care is after the deposit")
        if author_kind == AuthorKind.HOLDER:
            if category != Category.PATIENT_UPLOADED:
                raise RuleViolation(
                    "DOC-2", "a holder uploads only in the patient-uploaded category"
                )
            if hidden_from_holder or hidden_from_representatives:
                raise RuleViolation(
                    "DOC-5", "only the author-professional sets these flags"
                )
        elif author_kind == AuthorKind.PROFESSIONAL:
            if category == Category.PATIENT_UPLOADED:
                raise RuleViolation(
                    "DOC-2", "the patient-uploaded category is for the holder's uploads"
                )
        else:
            raise RuleViolation("DOC-2", f"unknown author kind {author_kind!r}")
        doc = cls._create(
            cls.Deposited,
            id=document_id,
            timestamp=at,
            espace_id=espace_id,
            author_kind=author_kind,
            author_id=author_id,
            author_profession=author_profession,
            category=category,
            loinc_code=loinc_code,
            title=title,
            care_time=care_time,
            format=fmt,
            size=size,
            content_hash=content_hash,
            version_id=version_id,
            hidden_from_holder=False,
            hidden_from_representatives=hidden_from_representatives,
        )
        if hidden_from_holder:
            doc._hide_from_holder(at)
        return doc

    def __init__(
        self,
        espace_id: UUID,
        author_kind: str,
        author_id: str,
        author_profession: str | None,
        category: str,
        loinc_code: str,
        title: str,
        care_time: datetime,
        format: str,  # noqa: A002 - the stored event's field is named so
        size: int,
        content_hash: str,
        version_id: UUID,
        hidden_from_holder: bool,
        hidden_from_representatives: bool,
    ) -> None:
        self.espace_id = espace_id
        self.author_kind = author_kind
        self.author_id = author_id
        self.author_profession = author_profession
        self.category = category
        self.loinc_code = loinc_code
        self.title = title
        self.care_time = care_time
        self.versions: list[dict[str, Any]] = [
            {
                "version_id": version_id,
                "version_no": 1,
                "title": title,
                "loinc_code": loinc_code,
                "care_time": care_time,
                "format": format,
                "size": size,
                "content_hash": content_hash,
                "at": self.created_on,
            }
        ]
        self.deleted_at: datetime | None = None
        self.masked_from_professionals = False
        self.hidden_from_holder = hidden_from_holder
        self.hidden_from_representatives = hidden_from_representatives
        self.holder_notice_at: datetime | None = None
        self.holder_reveal_at: datetime | None = None
        self.holder_told = False

    # ---------------------------------------------------------------- views

    @property
    def current(self) -> dict[str, Any]:
        """DOC-3: the current version, the last of :attr:`versions`."""
        return self.versions[-1]

    def find_version(self, version_id: UUID) -> dict[str, Any]:
        """DOC-3: a version of this document, current or superseded, by its own
        id; RuleViolation if the document has none of that id."""
        for v in self.versions:
            if v["version_id"] == version_id:
                return v
        raise RuleViolation("DOC-3", f"no version {version_id} of this document")

    def is_author(self, actor_kind: str, actor_id: str) -> bool:
        """DOC-3, DOC-4: whether this actor wrote the document (only they replace
        or delete it)."""
        return self.author_kind == actor_kind and self.author_id == actor_id

    # ---------------------------------------------------------------- commands

    def replace(
        self,
        *,
        at: datetime,
        by_kind: str,
        by_id: str,
        version_id: UUID,
        loinc_code: str,
        title: str,
        care_time: datetime,
        fmt: str,
        size: int,
        content_hash: str,
        types: Collection[str],
    ) -> None:
        """DOC-3: only the author replaces; a new version with its own id,
        of one of the ``types`` in force."""
        self._guard(at)
        _aware(care_time)
        if not self.is_author(by_kind, by_id):
            raise RuleViolation("DOC-3", "only the document's author can replace it")
        validate_metadata(
            types=types,
            category=self.category,
            loinc_code=loinc_code,
            title=title,
            fmt=fmt,
            size=size,
            content_hash=content_hash,
        )
        if care_time > at:
            raise RuleViolation("DOC-2", "the time of care is after the replacement")
        if any(v["version_id"] == version_id for v in self.versions):
            raise RuleViolation("DOC-3", "each version has its own unique id")
        self.trigger_event(
            self.Replaced,
            timestamp=at,
            espace_id=self.espace_id,
            version_id=version_id,
            loinc_code=loinc_code,
            title=title,
            care_time=care_time,
            format=fmt,
            size=size,
            content_hash=content_hash,
        )

    def delete(self, *, at: datetime, by_kind: str, by_id: str) -> None:
        """DOC-4: logical deletion, by the author only."""
        self._guard(at)
        if not self.is_author(by_kind, by_id):
            raise RuleViolation("DOC-4", "only the document's author can delete it")
        self.trigger_event(self.Deleted, timestamp=at, espace_id=self.espace_id)

    def mask(self, *, at: datetime) -> None:
        """DOC-5: the holder masks it from professionals."""
        self._guard(at)
        if self.masked_from_professionals:
            raise RuleViolation("DOC-5", "the document is already masked")
        self.trigger_event(
            self.MaskedFromProfessionals, timestamp=at, espace_id=self.espace_id
        )

    def unmask(self, *, at: datetime) -> None:
        """DOC-5: the holder lifts the mask, at any time."""
        self._guard(at)
        if not self.masked_from_professionals:
            raise RuleViolation("DOC-5", "the document is not masked")
        self.trigger_event(
            self.UnmaskedFromProfessionals, timestamp=at, espace_id=self.espace_id
        )

    def hide_from_holder(self, *, at: datetime, by_kind: str, by_id: str) -> None:
        """DOC-5: the author hides it from the holder until announced."""
        self._guard(at)
        if self.author_kind != AuthorKind.PROFESSIONAL or not self.is_author(
            by_kind, by_id
        ):
            raise RuleViolation(
                "DOC-5", "only the author-professional hides a document"
            )
        if self.hidden_from_holder:
            raise RuleViolation(
                "DOC-5", "the document is already hidden from the holder"
            )
        self._hide_from_holder(at)

    def reveal_to_holder(self, *, at: datetime, by_kind: str, by_id: str) -> None:
        """DOC-5: after the announcement consultation, the author reveals it."""
        self._guard(at)
        if not self.is_author(by_kind, by_id):
            raise RuleViolation("DOC-5", "only the author reveals it before one month")
        if not self.hidden_from_holder:
            raise RuleViolation("DOC-5", "the document is not hidden from the holder")
        self.trigger_event(
            self.RevealedToHolder, timestamp=at, espace_id=self.espace_id, by="author"
        )

    def tell_holder_update_waiting(self, *, at: datetime) -> None:
        """DOC-5: two weeks without announcement: the holder is told."""
        self._guard(at)
        if not self.hidden_from_holder or self.holder_told:
            raise RuleViolation("DOC-5", "no waiting update to tell the holder about")
        assert self.holder_notice_at is not None
        if at < self.holder_notice_at:
            raise RuleViolation(
                "DOC-5", f"the holder is told from {self.holder_notice_at.isoformat()}"
            )
        self.trigger_event(
            self.HolderToldUpdateWaiting, timestamp=at, espace_id=self.espace_id
        )

    def reveal_after_delay(self, *, at: datetime) -> None:
        """DOC-5: one month on, the document becomes visible by itself."""
        self._guard(at)
        if not self.hidden_from_holder:
            raise RuleViolation("DOC-5", "the document is not hidden from the holder")
        assert self.holder_reveal_at is not None
        if at < self.holder_reveal_at:
            raise RuleViolation(
                "DOC-5", f"it becomes visible at {self.holder_reveal_at.isoformat()}"
            )
        self.trigger_event(
            self.RevealedToHolder, timestamp=at, espace_id=self.espace_id, by="delay"
        )

    def hide_from_representatives(
        self, *, at: datetime, by_kind: str, by_id: str
    ) -> None:
        """DOC-5: at a minor's request, the author hides it from representatives."""
        self._guard(at)
        if self.author_kind != AuthorKind.PROFESSIONAL or not self.is_author(
            by_kind, by_id
        ):
            raise RuleViolation("DOC-5", "only the author-professional sets this flag")
        if self.hidden_from_representatives:
            raise RuleViolation(
                "DOC-5", "already hidden from the legal representatives"
            )
        self.trigger_event(
            self.HiddenFromRepresentatives, timestamp=at, espace_id=self.espace_id
        )

    def show_to_representatives(
        self, *, at: datetime, by_kind: str, by_id: str
    ) -> None:
        """DOC-5: the author shows it to the legal representatives again."""
        self._guard(at)
        if not self.is_author(by_kind, by_id):
            raise RuleViolation("DOC-5", "only the author changes this flag")
        if not self.hidden_from_representatives:
            raise RuleViolation("DOC-5", "not hidden from the legal representatives")
        self.trigger_event(
            self.ShownToRepresentatives, timestamp=at, espace_id=self.espace_id
        )

    # ---------------------------------------------------------------- helpers

    def _hide_from_holder(self, at: datetime) -> None:
        day = calendar.paris_date(at)
        self.trigger_event(
            self.HiddenFromHolder,
            timestamp=at,
            espace_id=self.espace_id,
            notice_at=calendar.days_after(at, HOLDER_NOTICE_DAYS),
            reveal_at=calendar.end_of_paris_day(
                calendar.add_months(day, HOLDER_REVEAL_MONTHS)
            ),
        )

    def _guard(self, at: datetime) -> None:
        _aware(at)
        if self.deleted_at is not None:
            raise RuleViolation("DOC-4", "the document was deleted")
        if at < self.modified_on:
            raise RuleViolation(
                "DOC-2", "a command cannot be dated before the last event"
            )


def _aware(*values: datetime) -> None:
    for value in values:
        if value.tzinfo is None or value.utcoffset() is None:
            raise RuleViolation("DOC-1", "times must be timezone-aware")
