"""The tamper-evident audit log (ADR-0021): signed checkpoints of the Merkle
tree, the verification of the whole log against them, and proofs.

``verify`` reads every stored event, recomputes its leaf and every root from
those leaves, and compares them with the stored tree and with every signed
checkpoint. It reports each difference at its position in the log, with
what kind of change it is: a state changed, two states swapped, a row
deleted, a row inserted, the clear fields of a row changed, the tree's own
tables changed, a checkpoint whose root or signature does not hold. Rows
after the last checkpoint are not yet signed: they are opened with their
key, so that a forged row appended at the end is caught too.
"""

from __future__ import annotations

import base64
import json
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification

from espace.adapters.auditexport import FORMAT, ExportEntry, manifest_text
from espace.adapters.audittree import (
    AuditTree,
    HeaderReader,
    LeafRow,
    StoredCheckpoint,
    espace_leaves,
    leaf_bytes,
    nodes,
)
from espace.adapters.files import private_file
from espace.adapters.notes import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
)
from espace.application.errors import (
    ConfigurationError,
    DamagedRecord,
    NotFound,
    RecordErased,
)
from espace.application.ports import LoggedEvent
from espace.domain import merkle
from espace.domain.auditlog import Leaf
from espace.domain.erasure import erasure_id

SIGNER_ENV = "ESPACE_AUDIT_KEY"
SIGNER_FILE_ENV = "ESPACE_AUDIT_KEY_FILE"
VERIFIER_ENV = "ESPACE_AUDIT_VERIFIER_KEY"
PAGE = 1000
NODE_BATCH = 16 * PAGE
"""Nodes made from the log that are compared with the stored ones at once:
one range query per level for all of them."""
MAX_PROBLEMS = 100
T = TypeVar("T")


def load_signer(environ: dict[str, str] | Any) -> Signer | None:
    """The checkpoint signing key, from ``ESPACE_AUDIT_KEY`` or the file in
    ``ESPACE_AUDIT_KEY_FILE``; None when neither is set. Never the master key."""
    if environ.get(SIGNER_ENV):
        return Signer.from_key(environ[SIGNER_ENV])
    if environ.get(SIGNER_FILE_ENV):
        path = Path(environ[SIGNER_FILE_ENV])
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"{SIGNER_FILE_ENV}={path}: cannot read it ({exc})"
            ) from None
        return Signer.from_key(text)
    return None


def write_signer_file(path: Path, signer: Signer) -> None:
    """The signing key in a new file readable by its owner only."""
    with private_file(
        path, "signing key file", "refusing to overwrite a signing key"
    ) as handle:
        handle.write((signer.key + "\n").encode("ascii"))


@dataclass
class Problem:
    """One difference between the log, its tree and its checkpoints."""

    kind: str
    position: int | None
    notification_id: int | None
    detail: str


@dataclass
class CheckpointCheck:
    size: int
    signed_at: str
    signature: str
    """``valid``, ``invalid``, or ``unchecked`` (no trusted key given)."""
    root: str
    """``matches`` the log, ``differs``, or ``beyond`` the log's end."""


@dataclass
class VerifyReport:
    """The outcome of ``audit verify``: intact, or where it is not and how."""

    rows: int = 0
    tree_size: int = 0
    unsigned_rows: int = 0
    checkpoints: list[CheckpointCheck] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problems_total: int = 0

    @property
    def intact(self) -> bool:
        return self.problems_total == 0

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        self.problems_total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["intact"] = self.intact
        data["first"] = asdict(self.first) if self.first else None
        return data


class AuditLog:
    """Checkpoints, verification and proofs over one store's tree."""

    def __init__(
        self,
        tree: AuditTree,
        recorder: ApplicationRecorder,
        header: HeaderReader,
        *,
        signer: Signer | None,
        open_event: Callable[[Notification], object],
        open_state: Callable[[Notification], tuple[bytes | None, bytes]],
        events_table: str,
        sync: Callable[[], object],
    ) -> None:
        self.tree = tree
        self.recorder = recorder
        self.header = header
        self.signer = signer
        self.open_event = open_event
        self.open_state = open_state
        self.events_table = events_table
        self.sync = sync

    # -- checkpoints -----------------------------------------------------------

    def _signer(self) -> Signer:
        if self.signer is None:
            raise ConfigurationError(
                f"no audit signing key: set {SIGNER_ENV} or {SIGNER_FILE_ENV} "
                "(make one with `espace audit keygen`; it is not the master key)"
            )
        return self.signer

    def checkpoints(
        self, limit: int | None = 100, offset: int = 0
    ) -> tuple[list[StoredCheckpoint], int]:
        """The signed checkpoints, newest first, and how many there are."""
        return self.tree.checkpoints(limit, offset), self.tree.checkpoint_count()

    def verifier(self) -> Verifier:
        """The verifier key of this log's signing key: what auditors are
        given to check its checkpoints offline."""
        return self._signer().verifier

    def checkpoint(self, at: datetime) -> StoredCheckpoint:
        """Sign the tree as it stands (after catching it up), unless its size
        is already signed. Refused if the tree is not consistent with the
        last checkpoint: a log must never sign two inconsistent heads."""
        signer = self._signer()
        self.sync()
        size = self.tree.size()
        last = self.tree.latest_checkpoint()
        if last is not None and last.size == size:
            return last
        if last is not None and last.size > size:
            raise DamagedRecord(
                f"the tree has {size} leaves, fewer than the checkpoint of size "
                f"{last.size}: run `espace audit verify`"
            )
        root = self.tree.root(size)
        if last is not None and last.size > 0:
            proof = self.tree.consistency_proof(last.size, size)
            if not merkle.verify_consistency(last.size, size, last.root, root, proof):
                raise DamagedRecord(
                    f"the tree is not consistent with the checkpoint of size "
                    f"{last.size}: run `espace audit verify`"
                )
        note = signer.sign(Checkpoint(signer.name, size, root).text())
        stored = StoredCheckpoint(size, root, note, signer.name, at)
        self.tree.record_checkpoint(stored)
        return stored

    def checkpoint_if_due(
        self,
        at: datetime,
        *,
        every_events: int = 10_000,
        every: timedelta = timedelta(hours=1),
    ) -> StoredCheckpoint | None:
        """A checkpoint every ``every_events`` events or every ``every``,
        whichever comes first (the deadline job calls this)."""
        if self.signer is None:
            return None
        size = self.tree.size()
        last = self.tree.latest_checkpoint()
        if last is None:
            return self.checkpoint(at) if size else None
        if size == last.size:
            return None
        if size - last.size >= every_events or at - last.signed_at >= every:
            return self.checkpoint(at)
        return None

    def prove_consistency(
        self, first: int, second: int | None = None
    ) -> dict[str, Any]:
        """An RFC 9162 consistency proof between two signed checkpoints."""
        older = self.tree.checkpoint(first)
        newer = (
            self.tree.checkpoint(second)
            if second is not None
            else self.tree.latest_checkpoint()
        )
        if older is None or newer is None:
            raise ConfigurationError(
                f"no checkpoint of size {first if older is None else second}: "
                "see `espace audit checkpoints`"
            )
        if newer.size < older.size:
            raise ConfigurationError("--from must be the smaller checkpoint")
        proof = self.tree.consistency_proof(older.size, newer.size)
        return {
            "from": {"size": older.size, "note": older.note},
            "to": {"size": newer.size, "note": newer.note},
            "proof": [_b64(p) for p in proof],
        }

    # -- one espace's events --------------------------------------------------

    def _espace_leaves(
        self, espace_id: UUID, below: int | None = None
    ) -> list[tuple[LeafRow, Notification]]:
        """One espace's leaves (and its erasure record's) with their stored
        events, in log order; a leaf whose row is gone is a damaged log."""
        found = espace_leaves(
            self.tree.engine,
            self.events_table,
            espace_id,
            erasure_id(espace_id),
            below=below,
        )
        if not found:
            raise NotFound(f"no espace {espace_id} in the audit log")
        for leaf in found:
            if leaf.row is None:
                raise DamagedRecord(
                    f"the log has no row for notification {leaf.notification_id}"
                    " of the tree: run `espace audit verify`"
                )
        return [(leaf, leaf.row) for leaf in found if leaf.row is not None]

    def espace_events(self, espace_id: UUID) -> list[LoggedEvent]:
        """Every stored event of every aggregate of one espace (and the record
        of its erasure), in log order: found through the tree's index of the
        clear key id, read from the event store, opened one by one."""
        self.sync()
        events: list[LoggedEvent] = []
        for leaf, row in self._espace_leaves(espace_id):
            try:
                event = self.open_event(row)
            except RecordErased:
                event = None
            events.append(
                LoggedEvent(
                    leaf.leaf_index,
                    cast(UUID, row.originator_id),  # espace_leaves
                    row.originator_version,
                    row.topic,
                    event,
                )
            )
        return events

    # -- export ------------------------------------------------------------------

    def export(
        self, espace_id: UUID, *, as_of: datetime | None, at: datetime
    ) -> dict[str, Any]:
        """Every event of every aggregate of one espace (as of an instant),
        each with its leaf, an inclusion proof against a checkpoint signed
        now, and its clear content with the salt of its commitment; and a
        signed manifest of the list (ADR-0022). An erased espace's export
        shows only its erasure record."""
        signer = self._signer()
        head = self.checkpoint(at)
        record_id = erasure_id(espace_id)
        entries: list[tuple[LeafRow, bytes | None, str]] = []
        records: set[int] = set()
        erased = 0
        for leaf, row in self._espace_leaves(espace_id, below=head.size):
            if row.originator_id == record_id:
                records.add(leaf.leaf_index)
            try:
                salt, state = self.open_state(row)
            except RecordErased:
                erased += 1
                continue
            text = state.decode("utf-8")
            if as_of is not None and _timestamp(text) > as_of:
                continue
            entries.append((leaf, salt, text))
        if erased:  # the key is gone: only the record that it was erased
            entries = [e for e in entries if e[0].leaf_index in records]
        proofs = self.tree.inclusion_proofs(
            [leaf.leaf_index for leaf, _, _ in entries], head.size
        )
        written = [
            ExportEntry(
                leaf_index=leaf.leaf_index,
                leaf=leaf.leaf,
                proof=proofs[leaf.leaf_index],
                salt=salt,
                state=text,
                timestamp=None,
            ).as_dict()
            for leaf, salt, text in entries
        ]
        when = as_of.isoformat() if as_of is not None else None
        manifest = signer.sign(
            manifest_text(
                signer.name,
                str(espace_id),
                head.size,
                when,
                [leaf.leaf_hash for leaf, _, _ in entries],
            )
        )
        return {
            "format": FORMAT,
            "espace_id": str(espace_id),
            "as_of": when,
            "exported_at": at.isoformat(),
            "erased": bool(erased),
            "erased_events": erased,
            "checkpoint": {"size": head.size, "note": head.note},
            "verifier_key": signer.verifier.key,
            "manifest": manifest,
            "entries": written,
        }

    # -- verification ----------------------------------------------------------

    def verify(self, verifiers: Sequence[Verifier] = ()) -> VerifyReport:
        """Recompute every leaf from the stored rows and every root from the
        leaves; compare with the stored tree and every checkpoint.

        Rows and stored leaves are read side by side in log order. A row
        whose leaf is byte for byte the stored one is the fast path; the
        others are identified by their aggregate and version: a stored leaf
        whose row is gone is a deleted row, a row the tree does not have is
        an inserted one (one step of look-ahead tells them apart), and a row
        whose leaf differs is a changed (or swapped) state or changed clear
        fields. The stored nodes are compared, level by level and range by
        range, with those the stored leaves make.
        """
        trusted = list(verifiers) or ([self.signer.verifier] if self.signer else [])
        report = VerifyReport(tree_size=self.tree.size())
        signed = sorted(self.tree.checkpoints(limit=None), key=lambda c: c.size)
        wanted = {c.size for c in signed}
        roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in wanted else {}
        after_last = signed[-1].size if signed else 0
        made: list[tuple[merkle.Node, bytes]] = []
        row_pages = self._row_pages()
        leaf_pages = self._leaf_pages()
        mismatches: list[tuple[int, int, Leaf, Leaf]] = []

        def count_row(
            row: _Row, hashed: bytes, frontier: list[tuple[merkle.Node, bytes]]
        ) -> list[tuple[merkle.Node, bytes]]:
            """One row of the log: into the log's tree, its root at every
            signed size, opened if no checkpoint covers it yet."""
            position = report.rows
            completed = merkle.append(frontier, position, hashed)
            report.rows += 1
            if report.rows in wanted:
                roots[report.rows] = merkle.fold([h for _, h in frontier])
            if position >= after_last:
                self._open_unsigned(row, position, report)
            return completed

        sizes = sorted(wanted)

        def count_rows(
            page: list[_Stored], mine: list[bytes], hashes: list[bytes]
        ) -> None:
            """Rows whose leaves the tree holds as they are: into the log's
            tree at once, split at the signed sizes among them."""
            start = report.rows
            end = start + len(page)
            cuts = sizes[bisect_right(sizes, start) : bisect_right(sizes, end)]
            for size in [*cuts, end]:
                done = report.rows - start
                made.extend(
                    merkle.extend(frontier, report.rows, hashes[done : size - start])
                )
                report.rows = size
                if size in wanted:
                    roots[size] = merkle.fold([h for _, h in frontier])
            for i in range(max(after_last - start, 0), len(page)):
                self._open_unsigned(_Row(*page[i], mine[i]), start + i, report)

        # While every row's leaf is its stored leaf, and every stored hash
        # that leaf's, the log and the tree are one tree: one hash per leaf,
        # one frontier, a page of rows beside a page of leaves, each compared
        # and hashed whole. The first difference splits them.
        frontier: list[tuple[merkle.Node, bytes]] = []
        rows_left: list[_Row] = []
        kept_left: list[tuple[int, int, bytes, bytes]] = []
        for page, mine in row_pages:
            stored_page = next(leaf_pages, [])
            same = _common_prefix(mine, [leaf for _, _, leaf, _ in stored_page])
            hashes = merkle.leaf_hashes(mine[:same])
            stored_hashes = [hashed for _, _, _, hashed in stored_page[:same]]
            if hashes != stored_hashes:
                same = _common_prefix(hashes, stored_hashes)
                del hashes[same:]
            count_rows(page[:same], mine, hashes)
            if len(made) >= NODE_BATCH:
                self._compare_nodes(made, report)
                made.clear()
            if same < len(page) or same < len(stored_page):
                rows_left = [
                    _Row(*r, leaf)
                    for r, leaf in zip(page[same:], mine[same:], strict=True)
                ]
                kept_left = stored_page[same:]
                break
        rows = _Peek(
            chain(
                rows_left,
                (
                    _Row(*r, leaf)
                    for page, mine in row_pages
                    for r, leaf in zip(page, mine, strict=True)
                ),
            )
        )
        kept = _Peek(chain(kept_left, (leaf for page in leaf_pages for leaf in page)))
        row_frontier = list(frontier)
        kept_frontier = frontier
        kept_count = report.rows

        def take_row() -> tuple[int, _Row, bytes]:
            row = rows.next()
            position = report.rows
            count_row(row, merkle.leaf_hash(row.leaf), row_frontier)
            return position, row, row.leaf

        def take_kept() -> tuple[int, int, bytes, bytes]:
            nonlocal kept_count
            stored = kept.next()
            made.extend(merkle.append(kept_frontier, kept_count, stored[3]))
            kept_count += 1
            if len(made) >= NODE_BATCH:
                self._compare_nodes(made, report)
                made.clear()
            if merkle.leaf_hash(stored[2]) != stored[3]:
                report.add(
                    Problem(
                        "tree_changed",
                        stored[0],
                        stored[1],
                        "the stored leaf hash is not its leaf's",
                    )
                )
            return stored

        def deleted(stored: tuple[int, int, bytes, bytes]) -> None:
            report.add(
                Problem(
                    "row_deleted",
                    stored[0],
                    stored[1],
                    "the tree has this event, the log has no row for it",
                )
            )

        while rows.peek() is not None or kept.peek() is not None:
            row, stored = rows.peek(), kept.peek()
            if stored is None:
                take_row()  # beyond the tree: not yet in it
                continue
            if row is None:
                deleted(take_kept())
                continue
            if row.leaf == stored[2]:
                take_row()
                take_kept()
                continue
            here = _identity(Leaf.decode(stored[2]))
            if row.identity() == here:
                position, row, raw = take_row()
                take_kept()
                mismatches.append(
                    (position, row.id, Leaf.decode(raw), Leaf.decode(stored[2]))
                )
                continue
            later_row, later_kept = rows.peek(1), kept.peek(1)
            if (
                later_kept is not None
                and _identity(Leaf.decode(later_kept[2])) == row.identity()
            ):
                deleted(take_kept())
            elif later_row is not None and later_row.identity() == here:
                position, row, _ = take_row()
                report.add(
                    Problem(
                        "row_inserted", position, row.id, "a row the tree does not have"
                    )
                )
            else:
                position, row, raw = take_row()
                old = take_kept()
                mismatches.append(
                    (position, row.id, Leaf.decode(raw), Leaf.decode(old[2]))
                )
        self._compare_nodes(made, report)
        self._classify(mismatches, report)
        for checkpoint in signed:
            report.checkpoints.append(
                self._check_checkpoint(checkpoint, roots, trusted, report)
            )
        report.problems.sort(key=lambda p: (p.position is None, p.position or 0))
        return report

    def _row_pages(self) -> Iterator[tuple[list[_Stored], list[bytes]]]:
        """The stored events in log order (keyset pages), each page with the
        leaves its rows make."""
        sqlite = self.tree.engine.dialect.name == "sqlite"
        position = "rowid" if sqlite else "notification_id"
        statement = (
            f"SELECT {position}, originator_id, originator_version, topic, state "
            f"FROM {self.events_table} WHERE {position} > %s "
            f"ORDER BY {position} LIMIT {PAGE}"
        ).replace("%s", "?" if sqlite else "%s")
        read = self.header
        for page in self._pages(statement, 0):
            rows = [
                (
                    nid,
                    bytes.fromhex(oid) if sqlite else oid.bytes,
                    version,
                    topic,
                    bytes(state),
                )
                for nid, oid, version, topic, state in page
            ]
            yield rows, [leaf_bytes(*row, read(row[4])) for row in rows]

    def _leaf_pages(self) -> Iterator[list[tuple[int, int, bytes, bytes]]]:
        """The stored leaves in order: (index, notification id, leaf, hash)."""
        mark = "?" if self.tree.engine.dialect.name == "sqlite" else "%s"
        statement = (
            "SELECT leaf_index, notification_id, leaf, leaf_hash FROM audit_leaves "
            f"WHERE leaf_index > {mark} ORDER BY leaf_index LIMIT {PAGE}"
        )
        yield from self._pages(statement, -1)

    def _pages(self, statement: str, after: int) -> Iterator[list[Any]]:
        """Keyset pages of plain driver tuples (the first column is the key),
        read on one connection: verify's hot loop wants no row objects."""
        with self.tree.engine.connect() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                while True:
                    cursor.execute(statement, (after,))
                    page = list(cursor.fetchall())
                    yield page
                    if len(page) < PAGE:
                        return
                    after = page[-1][0]
            finally:
                cursor.close()

    def _open_unsigned(self, row: _Row, position: int, report: VerifyReport) -> None:
        """A row no checkpoint covers yet: it must at least open under its
        key (a forged row appended at the end does not)."""
        try:
            self.open_event(row.notification())
        except DamagedRecord as exc:
            report.add(Problem("row_damaged", position, row.id, exc.message))
        except Exception:  # an erased row cannot be opened, and need not be
            return

    @staticmethod
    def _classify(
        mismatches: list[tuple[int, int, Leaf, Leaf]], report: VerifyReport
    ) -> None:
        by_kept_state = {kept.state_hash: pos for pos, _, _, kept in mismatches}
        for position, nid, now, kept in mismatches:
            other = by_kept_state.get(now.state_hash)
            identity = (now.originator_id, now.originator_version, now.topic)
            if now.state_hash != kept.state_hash and other not in (None, position):
                kind = "states_swapped"
                detail = f"its sealed state is the one of position {other}"
            elif identity != (kept.originator_id, kept.originator_version, kept.topic):
                kind = "row_fields_changed"
                detail = "its aggregate, version or topic changed"
            elif now.state_hash != kept.state_hash:
                kind, detail = "state_changed", "its sealed state changed"
            elif now.notification_id != kept.notification_id:
                kind = "row_moved"
                detail = (
                    f"its notification id changed from {kept.notification_id}: "
                    "rows were moved"
                )
            else:
                kind, detail = "tree_changed", "the stored leaf differs from its row"
            report.add(Problem(kind, position, nid, detail))

    def _compare_nodes(
        self, made: list[tuple[merkle.Node, bytes]], report: VerifyReport
    ) -> None:
        """The stored nodes over a run of leaves are those the stored leaves
        make: one range query per level."""
        if not made:
            return
        by_level: dict[int, list[tuple[int, bytes]]] = {}
        stored: dict[int, bytes]
        for (level, index), value in made:
            by_level.setdefault(level, []).append((index, value))
        engine = self.tree.engine
        mark = "?" if engine.dialect.name == "sqlite" else "%s"
        statement = (
            f"SELECT node_index, hash FROM {nodes.name} WHERE level = {mark} "
            f"AND node_index BETWEEN {mark} AND {mark} ORDER BY node_index"
        )
        with engine.connect() as conn:
            for level, expected in by_level.items():
                low, high = expected[0][0], expected[-1][0]
                page = conn.exec_driver_sql(statement, (level, low, high)).fetchall()
                if [tuple(row) for row in page] == expected:
                    continue
                stored = {int(i): bytes(h) for i, h in page}
                for index, value in expected:
                    if stored.get(index) != value:
                        report.add(
                            Problem(
                                "tree_changed",
                                index << level,
                                None,
                                f"node (level {level}, index {index}) is missing "
                                "or not the hash of its children",
                            )
                        )

    @staticmethod
    def _check_checkpoint(
        checkpoint: StoredCheckpoint,
        roots: dict[int, bytes],
        trusted: Sequence[Verifier],
        report: VerifyReport,
    ) -> CheckpointCheck:
        signature = "unchecked"
        try:
            if trusted:
                opened = open_checkpoint(checkpoint.note, trusted)
                signature = "valid"
            else:
                opened = Checkpoint.parse(checkpoint.note.split("\n\n")[0] + "\n")
        except NoteError as exc:
            signature = "invalid"
            report.add(
                Problem("checkpoint_signature", checkpoint.size, None, exc.message)
            )
            opened = None
        if opened is not None and (opened.size, opened.root) != (
            checkpoint.size,
            checkpoint.root,
        ):
            report.add(
                Problem(
                    "checkpoint_changed",
                    checkpoint.size,
                    None,
                    "the stored checkpoint is not its note",
                )
            )
        root = roots.get(checkpoint.size)
        if root is None:
            status = "beyond"
            report.add(
                Problem(
                    "checkpoint_beyond_log",
                    checkpoint.size,
                    None,
                    f"the log has fewer than {checkpoint.size} rows: rows were deleted",
                )
            )
        elif root == checkpoint.root:
            status = "matches"
        else:
            status = "differs"
            report.add(
                Problem(
                    "checkpoint_root_differs",
                    checkpoint.size,
                    None,
                    f"the log's first {checkpoint.size} rows do not hash to the "
                    "signed root",
                )
            )
        return CheckpointCheck(
            checkpoint.size, checkpoint.signed_at.isoformat(), signature, status
        )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _timestamp(state: str) -> datetime:
    """The time of an event, from its serialised state."""
    stamp = json.loads(state)["timestamp"]
    return datetime.fromisoformat(stamp["_data_"] if isinstance(stamp, dict) else stamp)


def _identity(leaf: Leaf) -> tuple[UUID, int]:
    return leaf.originator_id, leaf.originator_version


class _Peek(Generic[T]):
    """An iterator with look-ahead."""

    def __init__(self, items: Iterator[T]) -> None:
        self._items = items
        self._ahead: deque[T] = deque()

    def peek(self, n: int = 0) -> T | None:
        ahead = self._ahead
        while len(ahead) <= n:
            item = next(self._items, None)
            if item is None:
                return None
            ahead.append(item)
        return ahead[n]

    def next(self) -> T:
        if not self._ahead:
            self.peek()
        return self._ahead.popleft()


_Stored = tuple[int, bytes, int, str, bytes]
"""A stored event as ``verify`` reads it: notification id, originator id
(16 bytes), version, topic, sealed state."""


def _common_prefix(mine: list[bytes], theirs: list[bytes]) -> int:
    """How many items the two lists share from the start."""
    if mine == theirs:
        return len(mine)
    return next(
        (i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b),
        min(len(mine), len(theirs)),
    )


class _Row(NamedTuple):
    """A stored event as ``verify`` reads it."""

    id: int
    oid: bytes
    version: int
    topic: str
    state: bytes
    leaf: bytes

    def identity(self) -> tuple[UUID, int]:
        return UUID(bytes=self.oid), self.version

    def notification(self) -> Notification:
        return Notification(
            id=self.id,
            originator_id=UUID(bytes=self.oid),
            originator_version=self.version,
            topic=self.topic,
            state=self.state,
        )
