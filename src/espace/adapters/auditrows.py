"""The stored rows as ``audit verify`` reads them (:class:`_Row`,
:data:`_Stored`) and the small helpers its comparison walks with: an
iterator with look-ahead (:class:`_Peek`), a leaf's identity, the common
prefix of two lists.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Generic, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.persistence import Notification

from espace.domain.auditlog import Leaf

T = TypeVar("T")


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
