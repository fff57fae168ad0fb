"""The access matrix (ACC-3) and the document types (DOC-1): data, a
versioned table the operator publishes (:class:`AccessMatrixLog`).

:func:`espace.domain.decision.decide` reads the matrix in force; the actors
are in :mod:`espace.domain.actors`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from espace.domain.actors import PROFESSIONS
from espace.domain.document_metadata import LEGACY_TYPES, Category, is_loinc
from espace.domain.errors import RuleViolation
from espace.domain.reference import Difference, Version, checked_change, version_of
from espace.domain.tables import Table


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
