"""The tamper-evident audit log (ADR-0021): signed checkpoints of the Merkle
tree, one espace's events through the tree's index, the offline export,
proofs, and the verification of the whole log (``espace.adapters.auditverify``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification

from espace.adapters.auditevents import LeafRow, espace_leaves, espace_topic_page
from espace.adapters.auditexport import FORMAT, ExportEntry, manifest_text
from espace.adapters.auditreport import VerifyReport
from espace.adapters.audittree import AuditTree, HeaderReader, StoredCheckpoint
from espace.adapters.auditverify import LogVerifier
from espace.adapters.files import private_file
from espace.adapters.notes import (
    Checkpoint,
    Signer,
    Verifier,
)
from espace.application.errors import (
    ConfigurationError,
    DamagedRecord,
    NotFound,
    RecordErased,
)
from espace.application.ports import LoggedEvent
from espace.domain import merkle
from espace.domain.erasure import erasure_id

SIGNER_ENV = "ESPACE_AUDIT_KEY"
SIGNER_FILE_ENV = "ESPACE_AUDIT_KEY_FILE"
VERIFIER_ENV = "ESPACE_AUDIT_VERIFIER_KEY"
PAGE = 1000
NODE_BATCH = 16 * PAGE
"""Nodes made from the log that are compared with the stored ones at once:
one range query per level for all of them."""
MAX_PROBLEMS = 100
STREAM_PAGE = 500
"""The events of a lazily read topic (an export's traces) fetched at once:
memory holds one page of them, whatever their number (ADR-0031)."""
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
        self,
        espace_id: UUID,
        below: int | None = None,
        except_topic: str | None = None,
    ) -> list[tuple[LeafRow, Notification]]:
        """One espace's leaves (and its erasure record's) with their stored
        events, in log order; a leaf whose row is gone is a damaged log."""
        found = espace_leaves(
            self.tree.engine,
            self.events_table,
            espace_id,
            erasure_id(espace_id),
            below=below,
            except_topic=except_topic,
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
        return [self._logged(leaf, row) for leaf, row in self._espace_leaves(espace_id)]

    def espace_events_apart(
        self, espace_id: UUID, topic: str
    ) -> tuple[list[LoggedEvent], Iterator[LoggedEvent]]:
        """:meth:`espace_events`, those of ``topic`` apart and read lazily,
        :data:`STREAM_PAGE` at a time (the export's traces, ADR-0031), both
        up to the tree's size now."""
        self.sync()
        below = self.tree.size()
        rest = [
            self._logged(leaf, row)
            for leaf, row in self._espace_leaves(espace_id, below, except_topic=topic)
        ]
        return rest, self._topic_events(espace_id, topic, below)

    def _topic_events(
        self, espace_id: UUID, topic: str, below: int
    ) -> Iterator[LoggedEvent]:
        after = -1
        while True:
            page = espace_topic_page(
                self.tree.engine,
                self.events_table,
                espace_id,
                topic,
                after=after,
                below=below,
                limit=STREAM_PAGE,
            )
            for leaf in page:
                assert leaf.row is not None  # an inner match on its topic
                yield self._logged(leaf, leaf.row)
            if len(page) < STREAM_PAGE:
                return
            after = page[-1].leaf_index

    def _logged(self, leaf: LeafRow, row: Notification) -> LoggedEvent:
        """A leaf's stored event, opened (None if its key was destroyed)."""
        try:
            event = self.open_event(row)
        except RecordErased:
            event = None
        return LoggedEvent(
            leaf.leaf_index,
            cast("UUID", row.originator_id),  # espace_leaves
            row.originator_version,
            row.topic,
            event,
        )

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

    def verify(self, verifiers: Sequence[Verifier] = ()) -> VerifyReport:
        """Recompute every leaf from the stored rows and every root from the
        leaves; compare with the stored tree and every checkpoint
        (:class:`LogVerifier`)."""
        return LogVerifier(
            self.tree, self.header, self.events_table, self.open_event, self.signer
        ).verify(verifiers)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _timestamp(state: str) -> datetime:
    """The time of an event, from its serialised state."""
    stamp = json.loads(state)["timestamp"]
    return datetime.fromisoformat(stamp["_data_"] if isinstance(stamp, dict) else stamp)
