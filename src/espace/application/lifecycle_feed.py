"""LC-1/LC-2: the affiliation feed (reading it, creating the espaces in
batches, reporting each refused row) and the notices with their provisional
codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO, Any
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from espace.application import delimited, schemas
from espace.application.delimited import BadLine
from espace.application.errors import Conflict, InvalidInput, NotFound
from espace.application.lifecycle_base import LifecycleBase, _batches, log
from espace.application.lifecycle_results import (
    AffiliationReport,
    CodeIssued,
    EspaceSummary,
    RowRejected,
)
from espace.application.ports import holding_saves
from espace.application.security import new_activation_code, new_salt
from espace.domain.errors import RuleViolation
from espace.domain.espace import EspaceSante
from espace.domain.espace_state import State

FEED_REQUIRED = (
    "nir",
    "birth_name",
    "first_names",
    "birth_date",
    "sex",
    "birthplace_code",
    "vitale_serial",
)
"""LC-1: the columns every affiliation feed has (the others are optional)."""


def read_feed(
    stream: IO[Any], delimiter: str = ","
) -> Iterator[tuple[int, dict[str, str] | BadLine]]:
    """LC-1: (line number, row) from an affiliation feed (CSV with a header,
    UTF-8; a binary stream is decoded line by line, ADR-0017). The header is
    checked at once."""
    return delimited.read_records(stream, delimiter=delimiter, required=FEED_REQUIRED)


class AffiliationUseCases(LifecycleBase):
    """LC-1/LC-2: affiliation, alone or by feed, and the notices."""

    # ------------------------------------------------------------ LC-1

    def affiliate(
        self, data: Mapping[str, Any], at: datetime | None = None
    ) -> EspaceSummary:
        """LC-1: create one espace from one feed row. Conflict if it exists."""
        report = self.affiliate_feed([(1, data)], at=at)
        if report.rejected:
            raise InvalidInput(report.rejected[0].fields)
        ins = schemas.load(schemas.AffiliationSchema, data)["ins"]
        espace_id = self.hashing.espace_id(ins.nir, ins.oid)
        if report.already_affiliated:
            raise Conflict(f"espace {espace_id} already exists (LC-1)")
        return self.summary(espace_id)

    @holding_saves
    def affiliate_feed(
        self,
        rows: Iterable[tuple[int, Mapping[str, Any] | BadLine]],
        at: datetime | None = None,
        batch_size: int = 500,
        progress: Callable[[int], None] | None = None,
    ) -> AffiliationReport:
        """LC-1: stream a feed of (line number, row). Bad rows (and lines that
        could not be read, :class:`BadLine`) are reported with their line and
        reason and do not stop the others; a row already affiliated (same
        INS) is counted, not created twice. A run is not all-or-nothing: run
        the corrected file again and only the missing espaces are created.
        """
        report = AffiliationReport()
        for batch in _batches(rows, batch_size):
            now = self._now(at)
            espaces: list[EspaceSante] = []
            seen: dict[UUID, int] = {}
            for line, row in batch:
                if isinstance(row, BadLine):
                    report.rejected.append(RowRejected(line, {"_row": [row.reason]}))
                    continue
                try:
                    data = schemas.load(schemas.AffiliationSchema, row)
                    espace_id = self.hashing.espace_id(data["ins"].nir, data["ins"].oid)
                    if espace_id in seen:
                        report.already_affiliated += 1
                        continue
                    espace = EspaceSante.affiliate(
                        espace_id=espace_id,
                        ins=data["ins"],
                        vitale_digest=self.hashing.vitale_digest(data["vitale_serial"]),
                        at=now,
                        email=data["email"],
                        postal_address=data["postal_address"],
                        representative=data["representative"],
                        legacy_dmp_ref=data["legacy_dmp_ref"],
                    )
                except InvalidInput as exc:
                    report.rejected.append(RowRejected(line, exc.fields))
                    continue
                except RuleViolation as exc:
                    report.rejected.append(RowRejected(line, {exc.rule: [exc.message]}))
                    continue
                seen[espace_id] = line
                espaces.append(espace)
            self._save_new(espaces, now, report, seen)
            if progress is not None:
                progress(len(batch))
        log.info(
            "affiliation.done",
            created=report.created,
            already_affiliated=report.already_affiliated,
            rejected=len(report.rejected),
        )
        return report

    def _save_new(
        self,
        espaces: Sequence[EspaceSante],
        at: datetime,
        report: AffiliationReport,
        lines: Mapping[UUID, int],
    ) -> None:
        if not espaces:
            return
        known = self.keys.ensure_keys([e.id for e in espaces], at)
        erased = self.keys.shredded(known)
        # A person already affiliated (a feed run again, a repeated row) has
        # a key; leave them out before saving, so that the batch stays one
        # transaction instead of falling back to one row per transaction.
        repeats = {i for i in known - erased if i in self.app.repository}
        fresh = [e for e in espaces if e.id not in erased and e.id not in repeats]
        lost: set[UUID] = set()
        saved = self._save_batch(fresh, lost)
        erased |= lost
        report.created += len(saved)
        report.already_affiliated += len(espaces) - len(saved) - len(erased)
        report.events += sum(saved.values())
        for espace_id in erased:
            report.rejected.append(
                RowRejected(
                    lines[espace_id],
                    {
                        "LC-9": [
                            "this person's espace was erased; its id cannot be reused"
                        ]
                    },
                )
            )

    def _save_batch(
        self, espaces: Sequence[EspaceSante], erased: set[UUID] | None = None
    ) -> dict[UUID, int]:
        """Save many aggregates in one transaction; if any conflicts (a re-run
        feed, a concurrent writer) or belongs to an erased espace (its key is
        destroyed), save them one by one and leave those out, adding the
        erased ones to ``erased``. Returns the events saved per espace.
        """
        pending = [(e.id, e.collect_events()) for e in espaces]
        try:
            self.app.save(*[event for _, events in pending for event in events])
        except (RecordConflictError, NotFound):
            saved: dict[UUID, int] = {}
            for espace_id, events in pending:
                try:
                    self.app.save(*events)
                except RecordConflictError:
                    continue
                except NotFound:
                    if erased is not None:
                        erased.add(espace_id)
                    continue
                saved[espace_id] = len(events)
            return saved
        return {espace_id: len(events) for espace_id, events in pending}

    # ------------------------------------------------------------ LC-1/2

    def send_notice(self, espace_id: UUID, at: datetime | None = None) -> CodeIssued:
        """LC-1/LC-2: send the notice and its provisional code; the window starts."""
        espace = self.get(espace_id)
        now = self._now(at)
        code, salt = new_activation_code(), new_salt()
        espace.send_notice(
            at=now,
            code_digest=self.hashing.code_digest(code, salt),
            code_salt=salt,
            non_working_day=self.non_working_day,
        )
        self._save(espace, "notice.sent")
        return CodeIssued.of(espace, code, espace.notice_channel or "post")

    def send_notices(
        self, espace_ids: Iterable[UUID], at: datetime | None = None
    ) -> Iterator[CodeIssued]:
        """Send many notices, saved in batches; yields the codes to deliver.

        Only notices actually saved are yielded: an espace changed meanwhile
        by another process, or no longer awaiting its notice, is left out.
        """
        for batch in _batches(espace_ids, 100):
            due = [e for e in map(self.get, batch) if e.state is State.AFFILIATED]
            now = self._now(at)
            issued: dict[UUID, CodeIssued] = {}
            espaces = []
            for espace in due:
                code, salt = new_activation_code(), new_salt()
                espace.send_notice(
                    at=now,
                    code_digest=self.hashing.code_digest(code, salt),
                    code_salt=salt,
                    non_working_day=self.non_working_day,
                )
                espaces.append(espace)
                issued[espace.id] = CodeIssued.of(
                    espace, code, espace.notice_channel or "post"
                )
            saved = self._save_batch(espaces)
            for espace_id in saved:
                log.info(
                    "notice.sent", espace_id=str(espace_id), state=str(State.NOTIFIED)
                )
            yield from (issued[i] for i in issued if i in saved)
