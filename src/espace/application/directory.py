"""The directory of professionals: import of the national extract, look-ups,
search (PRO-2, ID-3).

The extract ("PS_LibreAcces_Personne_activite") is streamed: UTF-8, ``|``
separated, a header row, a trailing ``|``, one row per activity. Its columns
are read by name. Rows of one professional follow each other in the extract;
they are gathered into one entry, compared with the stored one and saved in
batches. A bad row is reported with its line number and the column at fault
and does not stop the others; an unchanged professional writes nothing
(ADR-0011).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from uuid import UUID

import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import RecordConflictError
from marshmallow import fields, post_dump

from espace.application import delimited, schemas, service_schemas
from espace.application.common import ServiceBase
from espace.application.delimited import BadLine
from espace.application.errors import InvalidInput, NotFound
from espace.application.lifecycle import LifecycleService
from espace.application.lifecycle_results import RowRejected
from espace.application.outputs import Output, RowRejectedSchema, dumps
from espace.application.ports import Clock, KnownAggregates, ViewSync, holding_saves
from espace.application.queries import DirectoryView
from espace.domain.decision import Listing
from espace.domain.directory import (
    ACTIVITY_FIELDS,
    PROFESSION_CODES,
    Professional,
    professional_id,
)
from espace.domain.errors import RuleViolation
from espace.domain.pages import Rows

log = structlog.get_logger("espace.directory")

DELIMITER = "|"


MAX_WITHDRAWN = 0.05
"""A full import withdraws at most this share of the directory unless forced."""
ABSENT_SAMPLE = 20


@dataclass
class DirectoryReport:
    """The outcome of an import: every row is accounted for."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    conflicts: int = 0
    skipped_professions: Counter[str] = field(default_factory=Counter)
    rejected: list[RowRejected] = field(default_factory=list)
    events: int = 0
    withdrawal_skipped: str | None = None
    dry_run: bool = False
    absent: int = 0
    """With ``full``: listed professionals the extract does not name."""
    listed: int = 0
    """With ``full``: professionals listed once the rows are saved, before
    any withdrawal."""
    absent_sample: list[str] = field(default_factory=list)
    """The first of the absent (IdNatPS), to show before withdrawing."""


@dumps(DirectoryReport)
class DirectoryReportSchema(Output):
    """An import's report: every row accounted for, the professions skipped
    sorted by name, and ``withdrawal_skipped`` only when it was."""

    dry_run = fields.Boolean()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    withdrawn = fields.Integer()
    conflicts = fields.Integer()
    skipped_professions = fields.Function(
        lambda report: dict(sorted(report.skipped_professions.items()))
    )
    rejected = fields.List(fields.Nested(RowRejectedSchema))
    events = fields.Integer()
    absent = fields.Integer()
    listed = fields.Integer()
    absent_sample = fields.List(fields.String())
    withdrawal_skipped = fields.String()

    @post_dump
    def _withdrawal_when_skipped(
        self, data: dict[str, Any], **_: Any
    ) -> dict[str, Any]:
        if not data["withdrawal_skipped"]:
            del data["withdrawal_skipped"]
        return data


@dataclass
class _Group:
    """The rows of one professional, as they are read."""

    idnatps: str
    line: int
    entry: dict[str, Any]
    lines: list[int] = field(default_factory=list)


def read_extract(stream: IO[Any]) -> Iterator[tuple[int, dict[str, str] | BadLine]]:
    """Stream (line number, row) from the national extract, columns by name.

    The trailing ``|`` of every line makes an empty last column, which is
    not a column. A line that cannot be read, or whose number of fields is
    not the header's, comes as a :class:`BadLine` (ADR-0017).
    """
    return delimited.read_records(
        stream,
        delimiter=DELIMITER,
        required=service_schemas.REQUIRED_DIRECTORY_COLUMNS,
        trailing_delimiter=True,
    )


class DirectoryService(ServiceBase):
    """PRO-2: the directory, as reference data of the store."""

    def __init__(
        self,
        app: Application[UUID],
        lifecycle: LifecycleService,
        clock: Clock,
        *,
        queries: DirectoryView,
        known: KnownAggregates,
        sync: ViewSync | None = None,
    ) -> None:
        super().__init__(app, lifecycle, clock)
        self.queries = queries
        self.known = known
        self.sync = sync

    # ----------------------------------------------------------------- port

    def listing(self, idnatps: str) -> Listing | None:
        """PRO-2: the directory's entry (listed or withdrawn, its profession,
        its version), None if there is none; from the aggregate."""
        pro = self._maybe(professional_id(idnatps), Professional, "professional")
        if pro is None:
            return None
        return Listing(
            listed=pro.listed, profession=pro.profession, version=pro.version
        )

    def profession_of(self, idnatps: str) -> str | None:
        """The profession the directory lists, or None if not listed (PRO-2)."""
        listing = self.listing(idnatps)
        return listing.profession if listing is not None and listing.listed else None

    # ----------------------------------------------------------------- queries

    def search(
        self,
        *,
        name: str | None = None,
        profession: str | None = None,
        city: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Rows:
        """PRO-2: professionals by name, profession and city (the directory
        view), and how many match in all (``total``)."""
        params = schemas.load(
            service_schemas.SearchSchema,
            {
                "name": name,
                "profession": profession,
                "city": city,
                "limit": limit,
                "offset": offset,
            },
        )
        return self.queries.search(**params)

    def get(self, idnatps: str) -> dict[str, Any]:
        """PRO-2: a professional's directory entry, by IdNatPS (checked); NotFound
        if the directory has no entry for them."""
        row = self.queries.get(_idnatps(idnatps))
        if row is None:
            raise NotFound(f"no professional {idnatps} in the directory")
        return row

    # ----------------------------------------------------------------- import

    def import_extract(
        self,
        stream: IO[Any],
        *,
        full: bool = False,
        at: datetime | None = None,
        batch_size: int = 500,
        progress: Callable[[int], None] | None = None,
        dry_run: bool = False,
        max_withdrawn: float = MAX_WITHDRAWN,
        force: bool = False,
    ) -> DirectoryReport:
        """PRO-2: import the national extract from a binary stream (decoded
        line by line as UTF-8) or a text stream (see ``import_rows``)."""
        return self.import_rows(
            read_extract(stream),
            full=full,
            at=at,
            batch_size=batch_size,
            progress=progress,
            dry_run=dry_run,
            max_withdrawn=max_withdrawn,
            force=force,
        )

    @holding_saves
    def import_rows(
        self,
        rows: Iterable[tuple[int, Mapping[str, Any] | BadLine]],
        *,
        full: bool = False,
        at: datetime | None = None,
        batch_size: int = 500,
        progress: Callable[[int], None] | None = None,
        dry_run: bool = False,
        max_withdrawn: float = MAX_WITHDRAWN,
        force: bool = False,
    ) -> DirectoryReport:
        """PRO-2: import (line number, row) pairs, rows keyed by the extract's
        column names.

        With ``full``, the rows are the whole directory: a listed professional
        absent from them is withdrawn and may act on no espace any more. No
        one is withdrawn when a row was rejected (a professional on a row
        that could not be read would look absent), nor when more than
        ``max_withdrawn`` of the listed would be, unless ``force``: a partial
        extract must not empty the directory. ``withdrawal_skipped`` says
        why; ``absent`` and ``absent_sample`` say who. With ``dry_run``,
        everything is counted and nothing is saved.
        """
        if not 0 <= max_withdrawn <= 1:
            raise InvalidInput(
                {"max_withdrawn": ["a share of the directory, from 0 to 1"]}
            )
        now = self._now(at)
        report = DirectoryReport(dry_run=dry_run)
        seen: dict[str, int] = {}
        mentioned: set[str] = set()
        batch: list[_Group] = []
        group: _Group | None = None
        for line, row in rows:
            report.rows += 1
            parsed = self._parse(line, row, report, mentioned)
            if parsed is None:
                continue
            idnatps, entry = parsed
            if group is not None and group.idnatps == idnatps:
                self._join(group, line, entry, report)
                continue
            if idnatps in seen:
                report.rejected.append(
                    RowRejected(
                        line,
                        {
                            service_schemas.ID: [
                                f"the rows of {idnatps} must follow each other "
                                f"(first seen at line {seen[idnatps]}): sort the "
                                "extract by this column"
                            ]
                        },
                    )
                )
                continue
            if group is not None:
                batch.append(group)
            group = _Group(idnatps, line, entry, [line])
            seen[idnatps] = line
            if len(batch) >= batch_size:
                self._save_groups(batch, now, report)
                if progress is not None:
                    progress(len(batch))
                batch = []
        if group is not None:
            batch.append(group)
        self._save_groups(batch, now, report)
        if progress is not None and batch:
            progress(len(batch))
        if full and report.rejected:
            report.withdrawal_skipped = (
                f"{len(report.rejected)} rows were rejected: nobody was withdrawn "
                "(fix the rows and import the whole extract again)"
            )
        elif full:
            self._withdraw_absent(mentioned, now, report, max_withdrawn, force)
        log.info(
            "directory.imported",
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            withdrawn=report.withdrawn,
            rejected=len(report.rejected),
        )
        return report

    def _parse(
        self,
        line: int,
        row: Mapping[str, Any] | BadLine,
        report: DirectoryReport,
        mentioned: set[str],
    ) -> tuple[str, dict[str, Any]] | None:
        if isinstance(row, BadLine):
            report.rejected.append(RowRejected(line, {"_row": [row.reason]}))
            return None
        raw_id = str(row.get(service_schemas.ID) or "").replace(" ", "")
        if raw_id:
            mentioned.add(raw_id)
        try:
            data = schemas.load(service_schemas.DirectoryRowSchema, row)
        except InvalidInput as exc:
            report.rejected.append(RowRejected(line, exc.fields))
            return None
        profession = PROFESSION_CODES.get(data["profession_code"])
        if profession is None:
            label = data["profession_label"] or "?"
            report.skipped_professions[f"{data['profession_code']} {label}"] += 1
            return None
        activity = {k: data[k] for k in ACTIVITY_FIELDS}
        entry = {
            "idnatps": data["idnatps"],
            "id_type": data["id_type"],
            "last_name": data["last_name"],
            "first_name": data["first_name"],
            "profession": profession,
            "profession_code": data["profession_code"],
            "profession_label": data["profession_label"],
            "activities": [activity],
        }
        return data["idnatps"], entry

    def _join(
        self, group: _Group, line: int, entry: dict[str, Any], report: DirectoryReport
    ) -> None:
        """Another activity of the same professional: same person, same profession."""
        for key, column in (
            ("profession_code", service_schemas.PROFESSION_CODE),
            ("last_name", service_schemas.LAST_NAME),
            ("first_name", service_schemas.FIRST_NAME),
        ):
            if entry[key] != group.entry[key]:
                report.rejected.append(
                    RowRejected(
                        line,
                        {
                            column: [
                                f"differs from line {group.line} for the same "
                                f"IdNatPS {group.idnatps}"
                            ]
                        },
                    )
                )
                return
        group.entry["activities"].extend(entry["activities"])
        group.lines.append(line)

    def _save_groups(
        self, groups: list[_Group], at: datetime, report: DirectoryReport
    ) -> None:
        changed: list[Professional] = []
        # Who is new is one query for the batch: only those already listed
        # are loaded, to tell a change from none.
        known = self.known.existing([professional_id(g.idnatps) for g in groups])
        for g in groups:
            try:
                pro = (
                    self._maybe(
                        professional_id(g.idnatps), Professional, "professional"
                    )
                    if professional_id(g.idnatps) in known
                    else None
                )
                if pro is None:
                    changed.append(Professional.register(at=at, entry=g.entry))
                    report.created += 1
                elif pro.update(at=max(at, pro.modified_on), entry=g.entry):
                    changed.append(pro)
                    report.updated += 1
                else:
                    report.unchanged += 1
            except RuleViolation as exc:
                for line in g.lines:
                    report.rejected.append(RowRejected(line, {exc.rule: [exc.message]}))
        self._save_all(changed, report)

    def _save_all(self, changed: list[Professional], report: DirectoryReport) -> None:
        """One save per batch; on a conflict (a concurrent import), one by one."""
        if not changed or report.dry_run:  # a dry run counts, saves nothing
            return
        pending = [p.collect_events() for p in changed]
        try:
            self.app.save(*[e for events in pending for e in events])
            report.events += sum(len(events) for events in pending)
        except RecordConflictError:
            for events in pending:
                try:
                    self.app.save(*events)
                    report.events += len(events)
                except RecordConflictError:
                    report.conflicts += 1

    def _withdraw_absent(
        self,
        mentioned: set[str],
        at: datetime,
        report: DirectoryReport,
        max_withdrawn: float,
        force: bool,
    ) -> None:
        """PRO-2: a full extract lists everyone; the absent are withdrawn.

        The directory view is the to-do list; each aggregate decides again.
        A professional named by any row of the extract, even a rejected one,
        is not absent. The absent are counted first: too many, and nobody
        is withdrawn unless forced.
        """
        if self.sync is not None:
            self.sync()
        absent: list[str] = []
        after = ""
        while page := self.queries.listed_ids(after=after, limit=1000):
            after = page[-1]
            report.listed += len(page)
            absent += [i for i in page if i not in mentioned]
        report.absent = len(absent)
        report.absent_sample = absent[:ABSENT_SAMPLE]
        if absent and not force and len(absent) > max_withdrawn * report.listed:
            report.withdrawal_skipped = (
                f"{len(absent)} of the {report.listed} listed professionals are "
                f"absent from the extract, more than {max_withdrawn:.0%}: nobody "
                "was withdrawn (check that the extract is whole, or force it)"
            )
            return
        for start in range(0, len(absent), 1000):
            gone: list[Professional] = []
            for idnatps in absent[start : start + 1000]:
                pro = self._maybe(
                    professional_id(idnatps), Professional, "professional"
                )
                if pro is None or not pro.listed:
                    continue
                pro.withdraw(
                    at=max(at, pro.modified_on), reason="absent from the extract"
                )
                gone.append(pro)
            self._save_all(gone, report)
            report.withdrawn += len(gone)


def _idnatps(value: str) -> str:
    data = schemas.load(schemas.ProfessionalRefSchema, {"idnatps": value})
    idnatps: str = data["idnatps"]
    return idnatps
