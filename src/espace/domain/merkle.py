"""The Merkle tree of the event log: RFC 6962 (RFC 9162, section 2.1) hashing,
proofs and their verification. Pure: no I/O, the standard library only.

A tree of ``n`` leaves is stored as its *perfect subtrees*: the node
``(level, index)`` covers the leaves ``[index * 2**level, (index + 1) *
2**level)``; level 0 holds the leaf hashes. Every hash a proof or a root
needs is such a node, or the hash of a range that is the concatenation of a
few of them. So the functions below say *which* nodes are needed
(:func:`range_nodes`, :func:`inclusion_ranges`, :func:`consistency_ranges`),
the storage fetches them in one query, and :func:`fold` combines them. The
verification functions follow RFC 9162 sections 2.1.3.2 and 2.1.4.2, and
are tested against the vectors of transparency-dev/merkle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree: SHA-256 of nothing (RFC 6962, 2.1)."""

Node = tuple[int, int]
"""(level, index) of a perfect subtree."""
Range = tuple[int, int]
"""[start, end) of leaves."""


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 6962: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def leaf_hashes(leaves: Iterable[bytes]) -> list[bytes]:
    """:func:`leaf_hash` of each, in one pass."""
    sha256, prefix = hashlib.sha256, LEAF_PREFIX
    return [sha256(prefix + leaf).digest() for leaf in leaves]


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees whose concatenation is ``[start, end)``, left to
    right, for a range as RFC 6962 splits trees: the largest first."""
    nodes: list[Node] = []
    while start < end:
        size = end - start
        level = size.bit_length() - 1
        # The largest aligned perfect subtree that starts here and fits.
        while start % (1 << level):
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from the hashes of its perfect subtrees, left to
    right: MTH(D[a:b]) = H(first, MTH(rest))."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def root_nodes(size: int) -> list[Node]:
    """The nodes whose fold is the root of a tree of ``size`` leaves."""
    return range_nodes(0, size)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes make the inclusion proof of leaf ``index`` in
    a tree of ``size`` leaves, nearest the leaf first (RFC 6962, 2.1.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return list(reversed(ranges))


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose hashes make the consistency proof from a tree of
    ``first`` leaves to one of ``second`` (RFC 6962, 2.1.2)."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to {second}")
    if first in (0, second):
        return []
    ranges: list[Range] = []
    start, end, whole = 0, second, True
    while True:
        n, m = end - start, first - start
        if m == n:
            if not whole:
                ranges.append((start, end))
            break
        k = _split(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, whole = start + k, False
    return list(reversed(ranges))


def resolve(ranges: Iterable[Range], node: Callable[[Node], bytes]) -> list[bytes]:
    """The hash of each range, from the perfect subtrees ``node`` gives."""
    return [fold([node(n) for n in range_nodes(a, b)]) for a, b in ranges]


def needed_nodes(ranges: Iterable[Range]) -> set[Node]:
    """Every perfect subtree the hashes of these ranges need: one query."""
    return {n for a, b in ranges for n in range_nodes(a, b)}


# ---------------------------------------------------------------------------
# Verification (RFC 9162, 2.1.3.2 and 2.1.4.2)
# ---------------------------------------------------------------------------


def root_from_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes | None:
    """The root that ``proof`` leads to from leaf hash ``leaf``, or None if
    the proof cannot be one for leaf ``index`` of a tree of ``size``."""
    if not 0 <= index < size or len(leaf) != HASH_SIZE:
        return None
    if any(len(p) != HASH_SIZE for p in proof):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of
    ``size`` leaves whose root is ``root``."""
    return root_from_inclusion(index, size, leaf, proof) == root


def verify_consistency(
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """Whether ``proof`` shows that the tree of ``first`` leaves (root
    ``first_root``) is a prefix of the tree of ``second`` (``second_root``).
    As transparency-dev/merkle: a proof from the empty tree is refused."""
    if not 0 < first <= second or any(len(p) != HASH_SIZE for p in proof):
        return False  # a proof from the empty tree proves nothing
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# ---------------------------------------------------------------------------
# Building: the right edge of a growing tree
# ---------------------------------------------------------------------------


def frontier_nodes(size: int) -> list[Node]:
    """The perfect subtrees a tree of ``size`` leaves ends with, highest
    first: what appending needs to know (one per set bit of ``size``)."""
    return root_nodes(size)


def append(
    frontier: list[tuple[Node, bytes]], size: int, leaf: bytes
) -> list[tuple[Node, bytes]]:
    """Append one leaf hash to a tree of ``size`` leaves whose right edge is
    ``frontier`` (as :func:`frontier_nodes`, with hashes; changed in place).
    Returns the perfect subtrees the new leaf completes, level 1 and up."""
    made: list[tuple[Node, bytes]] = []
    level, index, h = 0, size, leaf
    while index & 1:
        (_left_node, left) = frontier.pop()
        h = node_hash(left, h)
        level, index = level + 1, index >> 1
        made.append(((level, index), h))
    frontier.append(((level, index), h))
    return made


def extend_levels(
    frontier: list[tuple[Node, bytes]], size: int, leaves: Sequence[bytes]
) -> list[tuple[int, int, list[bytes]]]:
    """Append many leaf hashes at once to a tree of ``size`` leaves whose
    right edge is ``frontier`` (changed in place): what :func:`append` does
    for each, level by level, each level's pairs hashed in one pass.
    Returns the perfect subtrees completed as runs: for each level (1 and
    up) that gained any, the level, the index of the first and their hashes
    in index order (``audit verify`` compares whole runs with the stored
    ones; the tree's projection stores them)."""
    made: list[tuple[int, int, list[bytes]]] = []
    edge: list[tuple[Node, bytes]] = []
    sha256, prefix = hashlib.sha256, NODE_PREFIX
    level, start, row = 0, size, list(leaves)
    while row:
        if start & 1:  # the frontier's lowest node is this row's left sibling
            row = [frontier.pop()[1], *row]  # a new list: ``made`` holds the last
            start -= 1
        count = len(row)
        if count & 1:
            edge.append(((level, start + count - 1), row[-1]))
        row = [
            sha256(prefix + left + right).digest()
            for left, right in zip(row[0 : count - 1 : 2], row[1::2], strict=True)
        ]
        level, start = level + 1, start >> 1
        if row:
            made.append((level, start, row))
    frontier.extend(reversed(edge))
    return made
