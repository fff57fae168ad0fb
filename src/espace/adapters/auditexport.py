"""One espace's history, exported for offline verification (ADR-0022), and
the offline verifier: no database, no master key, no network.

The export (``docs/audit-export.md``, JSON Schema
``docs/audit-export.schema.json``) holds, for every event of every
aggregate of the espace, its leaf of the audit tree, an RFC 9162 inclusion
proof against a signed checkpoint, and its clear content with the salt of
its commitment. A manifest, signed with the same key as the checkpoint,
binds the list of entries: dropping, adding or reordering one breaks it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from marshmallow import fields

from espace.adapters.notes import (
    Checkpoint,
    NoteError,
    Verifier,
    open_checkpoint,
    open_note,
)
from espace.application.outputs import Output, dumps
from espace.domain import merkle
from espace.domain.auditlog import NO_COMMITMENT, Leaf, content_commitment

FORMAT = "espace-audit-export/1"


def b64(raw: bytes) -> str:
    """Bytes as the export writes them: standard base64, padded, as ASCII text."""
    return base64.b64encode(raw).decode("ascii")


def unb64(text: Any) -> bytes:
    """The bytes of an export's base64 field; ``ValueError`` if it is not text or
    not canonical base64 (padded, no stray characters): one spelling per value."""
    if not isinstance(text, str):
        raise ValueError("expected base64 text")  # noqa: TRY004 - callers catch ValueError
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    if b64(raw) != text:
        raise ValueError("not canonical base64")
    return raw


def clear_content(state: str) -> Any:
    """The event's content as an export shows it: the serialised state with
    every typed value ``{"_type_": T, "_data_": D}`` replaced by ``D``."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"_type_", "_data_"}:
                return plain(value["_data_"])
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return plain(json.loads(state))


def manifest_text(
    origin: str,
    espace_id: str,
    size: int,
    as_of: str | None,
    leaf_hashes: Sequence[bytes],
) -> str:
    """The text the manifest note signs: which espace, against which tree,
    as of when, and the digest of the entries' leaf hashes in order."""
    digest = hashlib.sha256(b"".join(leaf_hashes)).digest()
    return (
        f"{FORMAT}\n{origin}\nespace {espace_id}\ntree {size}\n"
        f"as-of {as_of or '-'}\nentries {len(leaf_hashes)}\ndigest {b64(digest)}\n"
    )


@dataclass
class ExportProblem:
    """One thing ``audit verify-export`` found wrong: the index of the entry (or
    ``None`` for the document as a whole) and what is wrong with it."""

    entry: int | None
    what: str


@dataclass
class ExportCheck:
    """The outcome of ``audit verify-export``."""

    espace_id: str | None = None
    tree_size: int = 0
    entries: int = 0
    bound: int = 0
    """Entries whose clear content was checked against their leaf."""
    erased: bool = False
    problems: list[ExportProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """True when the verifier found no problem at all."""
        return not self.problems


class ExportProblemSchema(Output):
    """One problem of an export: the entry (None: the whole document), what."""

    entry = fields.Integer(allow_none=True)
    what = fields.String()


@dumps(ExportCheck)
class ExportCheckSchema(Output):
    """The outcome as the CLI prints it in JSON."""

    valid = fields.Boolean()
    espace_id = fields.String(allow_none=True)
    tree_size = fields.Integer()
    entries = fields.Integer()
    bound = fields.Integer()
    erased = fields.Boolean()
    problems = fields.List(fields.Nested(ExportProblemSchema))


def verify_export(document: Any, verifiers: Iterable[Verifier]) -> ExportCheck:
    """Check an export offline against the verifier keys the auditor
    trusts: the checkpoint's and the manifest's signatures, every inclusion
    proof, the binding of every clear value to its leaf, the order of the
    entries, and that each aggregate's versions run without a gap."""
    trusted = list(verifiers)
    check = ExportCheck()
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        check.problems.append(ExportProblem(None, f"not an {FORMAT} document"))
        return check
    check.espace_id = str(document.get("espace_id"))
    check.erased = bool(document.get("erased"))
    try:
        head = open_checkpoint(str(document["checkpoint"]["note"]), trusted)
    except (NoteError, KeyError, TypeError) as exc:
        check.problems.append(ExportProblem(None, f"checkpoint: {_why(exc)}"))
        return check
    check.tree_size = head.size
    entries = document.get("entries")
    if not isinstance(entries, list):
        check.problems.append(ExportProblem(None, "entries: expected a list"))
        return check
    check.entries = len(entries)
    leaf_hashes: list[bytes] = []
    versions: dict[str, list[tuple[int, int]]] = defaultdict(list)
    previous_index = -1
    for n, entry in enumerate(entries):
        try:
            hashed = _check_entry(n, entry, head, check)
        except (KeyError, TypeError, ValueError) as exc:
            check.problems.append(ExportProblem(n, f"malformed: {_why(exc)}"))
            continue
        leaf_hashes.append(hashed)
        index = int(entry["leaf_index"])
        if index <= previous_index:
            check.problems.append(
                ExportProblem(n, "out of order: entries follow the log's order")
            )
        previous_index = index
        versions[str(entry["aggregate_id"])].append(
            (int(entry["aggregate_version"]), n)
        )
    for aggregate, seen in versions.items():
        numbers = [v for v, _ in seen]
        if numbers != list(range(1, len(numbers) + 1)):
            entry = seen[next((i for i, v in enumerate(numbers) if v != i + 1), 0)][1]
            check.problems.append(
                ExportProblem(
                    entry,
                    f"aggregate {aggregate}: versions {numbers} do not run from 1 "
                    "without a gap",
                )
            )
    _check_manifest(document, head, leaf_hashes, trusted, check)
    return check


def _check_entry(
    n: int, entry: dict[str, Any], head: Checkpoint, check: ExportCheck
) -> bytes:
    raw = unb64(entry["leaf"])
    leaf = Leaf.decode(raw)
    hashed = merkle.leaf_hash(raw)
    index = int(entry["leaf_index"])
    clear = (
        int(entry["notification_id"]),
        str(entry["aggregate_id"]),
        int(entry["aggregate_version"]),
        str(entry["topic"]),
    )
    if clear != (
        leaf.notification_id,
        str(leaf.originator_id),
        leaf.originator_version,
        leaf.topic,
    ):
        check.problems.append(ExportProblem(n, "its clear fields are not its leaf's"))
    proof = [unb64(p) for p in entry["inclusion_proof"]]
    if not merkle.verify_inclusion(index, head.size, hashed, proof, head.root):
        check.problems.append(
            ExportProblem(n, "its inclusion proof does not lead to the signed root")
        )
    if entry.get("erased"):
        return hashed
    state, salt = entry.get("state"), entry.get("salt")
    if leaf.commitment == NO_COMMITMENT or salt is None:
        return hashed  # sealed before commitments: shown, not bound
    if content_commitment(unb64(salt), str(state).encode("utf-8")) != leaf.commitment:
        check.problems.append(
            ExportProblem(n, "its clear state does not match its leaf's commitment")
        )
    elif clear_content(str(state)) != entry.get("content"):
        check.problems.append(ExportProblem(n, "its content is not its clear state"))
    else:
        check.bound += 1
    return hashed


def _check_manifest(
    document: dict[str, Any],
    head: Checkpoint,
    leaf_hashes: list[bytes],
    trusted: list[Verifier],
    check: ExportCheck,
) -> None:
    try:
        opened = open_note(str(document["manifest"]), trusted)
    except (NoteError, KeyError, TypeError) as exc:
        check.problems.append(ExportProblem(None, f"manifest: {_why(exc)}"))
        return
    expected = manifest_text(
        head.origin,
        str(document.get("espace_id")),
        head.size,
        document.get("as_of"),
        leaf_hashes,
    )
    if opened.text != expected:
        check.problems.append(
            ExportProblem(
                None,
                "manifest: the entries are not those the exporter signed "
                "(one was dropped, added, changed or moved)",
            )
        )


def _why(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return (
        f"{type(exc).__name__}: {message}"
        if not isinstance(exc, NoteError)
        else message
    )


@dataclass(frozen=True)
class ExportEntry:
    """One event of the espace, ready to be written."""

    leaf_index: int
    leaf: bytes
    proof: list[bytes]
    salt: bytes | None
    state: str | None
    timestamp: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """The entry as the export's JSON holds it (``docs/audit-export.md``): its
        leaf's clear fields, the leaf and its proof, then either its salt,
        serialised state and clear content, or ``erased`` when its key was
        destroyed (SEC-4)."""
        leaf = Leaf.decode(self.leaf)
        data: dict[str, Any] = {
            "leaf_index": self.leaf_index,
            "notification_id": leaf.notification_id,
            "aggregate_id": str(leaf.originator_id),
            "aggregate_version": leaf.originator_version,
            "topic": leaf.topic,
            "sealed_under": str(leaf.key_id)
            if leaf.key_id != UUID(int=0)
            else "system",
            "leaf": b64(self.leaf),
            "inclusion_proof": [b64(p) for p in self.proof],
        }
        if self.state is None:
            data["erased"] = True
        else:
            data["salt"] = b64(self.salt) if self.salt is not None else None
            data["state"] = self.state
            data["content"] = clear_content(self.state)
        return data
