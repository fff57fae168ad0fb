"""``audit verify`` (ADR-0021): the whole log against its tree and its
signed checkpoints.

It reads every stored event, recomputes its leaf and every root from those
leaves, and compares them with the stored tree and with every signed
checkpoint. It reports each difference at its position in the log, with
what kind of change it is: a state changed, two states swapped, a row
deleted, a row inserted, the clear fields of a row changed, the tree's own
tables changed, a checkpoint whose root or signature does not hold. Rows
after the last checkpoint are not yet signed: they are opened with their
key, so that a forged row appended at the end is caught too.

The report types are in :mod:`espace.adapters.auditreport`; the rows and
the look-ahead it walks with, in :mod:`espace.adapters.auditrows`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from typing import Any

from eventsourcing.persistence import Notification

from espace.adapters.auditreport import CheckpointCheck, Problem, VerifyReport
from espace.adapters.auditrows import _common_prefix, _identity, _Peek, _Row, _Stored
from espace.adapters.audittree import (
    AuditTree,
    HeaderReader,
    StoredCheckpoint,
    driver_cursor,
    leaf_bytes,
    nodes,
)
from espace.adapters.notes import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
)
from espace.application.errors import (
    DamagedRecord,
)
from espace.domain import merkle
from espace.domain.auditlog import Leaf

PAGE = 1000
NODE_BATCH = 16 * PAGE
"""Nodes made from the log that are compared with the stored ones at once:
one range query per run of consecutive nodes of a level."""


class _NodeRuns:
    """Nodes made from the log, by level, in runs of consecutive indices:
    each run is compared with the stored nodes in one range query."""

    def __init__(self) -> None:
        self._levels: dict[int, list[tuple[int, list[bytes]]]] = {}
        self.count = 0

    def add(self, level: int, first: int, hashes: list[bytes]) -> None:
        """Nodes ``first``, ``first + 1``… of ``level``."""
        runs = self._levels.setdefault(level, [])
        if runs and runs[-1][0] + len(runs[-1][1]) == first:
            runs[-1][1].extend(hashes)
        else:
            runs.append((first, list(hashes)))
        self.count += len(hashes)

    def runs(self) -> Iterator[tuple[int, int, list[bytes]]]:
        """Each run: its level, its first index, its hashes."""
        for level, runs in self._levels.items():
            for first, hashes in runs:
                yield level, first, hashes


class LogVerifier:
    """One verification of the log: the stored tree, how a sealed state's
    header reads, the events table, how an event is opened (to check rows
    no checkpoint covers yet), and the signer whose key is trusted when no
    other is given."""

    def __init__(
        self,
        tree: AuditTree,
        header: HeaderReader,
        events_table: str,
        open_event: Callable[[Notification], object],
        signer: Signer | None,
    ) -> None:
        self.tree = tree
        self.header = header
        self.events_table = events_table
        self.open_event = open_event
        self.signer = signer

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
        made = _NodeRuns()
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
                for run in merkle.extend_levels(
                    frontier, report.rows, hashes[done : size - start]
                ):
                    made.add(*run)
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
            if made.count >= NODE_BATCH:
                self._compare_nodes(made, report)
                made = _NodeRuns()
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
            nonlocal kept_count, made
            stored = kept.next()
            for (level, index), value in merkle.append(
                kept_frontier, kept_count, stored[3]
            ):
                made.add(level, index, [value])
            kept_count += 1
            if made.count >= NODE_BATCH:
                self._compare_nodes(made, report)
                made = _NodeRuns()
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
        statement = (  # the store's own events table: no input in it
            f"SELECT {position}, originator_id, originator_version, topic, state "  # noqa: S608
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
        statement = (  # no input in it
            "SELECT leaf_index, notification_id, leaf, leaf_hash FROM audit_leaves "  # noqa: S608
            f"WHERE leaf_index > {mark} ORDER BY leaf_index LIMIT {PAGE}"
        )
        yield from self._pages(statement, -1)

    def _pages(self, statement: str, after: int) -> Iterator[list[Any]]:
        """Keyset pages of plain driver tuples (the first column is the key),
        read on one connection: verify's hot loop wants no row objects."""
        with self.tree.engine.connect() as conn, driver_cursor(conn) as cursor:
            while True:
                cursor.execute(statement, (after,))
                page = list(cursor.fetchall())
                yield page
                if len(page) < PAGE:
                    return
                after = page[-1][0]

    def _open_unsigned(self, row: _Row, position: int, report: VerifyReport) -> None:
        """A row no checkpoint covers yet: it must at least open under its
        key (a forged row appended at the end does not)."""
        try:
            self.open_event(row.notification())
        except DamagedRecord as exc:
            report.add(Problem("row_damaged", position, row.id, exc.message))
        except Exception:  # noqa: BLE001 - an erased row cannot be opened, need not be
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

    def _compare_nodes(self, made: _NodeRuns, report: VerifyReport) -> None:
        """The stored nodes over a run of leaves are those the stored leaves
        make: one range query per run of a level, compared whole."""
        engine = self.tree.engine
        mark = "?" if engine.dialect.name == "sqlite" else "%s"
        statement = (  # the tree's own table: no input in it
            f"SELECT hash FROM {nodes.name} WHERE level = {mark} "  # noqa: S608
            f"AND node_index BETWEEN {mark} AND {mark} ORDER BY node_index"
        )
        located = statement.replace("SELECT hash", "SELECT node_index, hash")
        with engine.connect() as conn, driver_cursor(conn) as cursor:
            for level, first, expected in made.runs():
                bounds = (level, first, first + len(expected) - 1)
                cursor.execute(statement, bounds)
                if [h for (h,) in cursor.fetchall()] == expected:
                    continue
                cursor.execute(located, bounds)
                stored = {int(i): bytes(h) for i, h in cursor.fetchall()}
                for index, value in enumerate(expected, first):
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
