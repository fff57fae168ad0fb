"""The Merkle tree of the log against RFC 6962/9162 as others implemented it
(ADR-0021): the reference tree and the proof vectors of
transparency-dev/merkle (``tests/vectors``), and our own proofs checked by
our verifier on every size up to 70 and around powers of two.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from espace.domain import merkle

VECTORS = Path(__file__).parent.parent / "vectors"


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def b64(items: list[str] | None) -> list[bytes]:
    return [base64.b64decode(x) for x in items or []]


REFERENCE = load("rfc6962-reference-tree.json")
LEAVES = [bytes.fromhex(x) for x in REFERENCE["leaf_inputs_hex"]]


class MemoryTree:
    """A tree kept as perfect subtrees, built with ``merkle.append``."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.nodes: dict[merkle.Node, bytes] = {}
        frontier: list[tuple[merkle.Node, bytes]] = []
        for i, leaf in enumerate(leaves):
            h = merkle.leaf_hash(leaf)
            self.nodes[(0, i)] = h
            for node, value in merkle.append(frontier, i, h):
                self.nodes[node] = value
        self.size = len(leaves)

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return merkle.fold([self.nodes[n] for n in merkle.root_nodes(size)])

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.resolve(
            merkle.inclusion_ranges(index, size), self.nodes.__getitem__
        )

    def consistency(self, first: int, second: int) -> list[bytes]:
        return merkle.resolve(
            merkle.consistency_ranges(first, second), self.nodes.__getitem__
        )


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH as RFC 6962 section 2.1 writes it, recursively."""
    return reference_root_of([merkle.leaf_hash(leaf) for leaf in leaves])


def test_the_reference_tree_has_every_published_node_and_root() -> None:
    tree = MemoryTree(LEAVES)
    for level, hashes in enumerate(REFERENCE["node_hashes_hex"]):
        for index, expected in enumerate(hashes):
            assert tree.nodes[(level, index)].hex() == expected, (level, index)
    for size, expected in enumerate(REFERENCE["root_hashes_hex"]):
        assert tree.root(size).hex() == expected, size
        assert reference_root(LEAVES[:size]).hex() == expected


def test_the_empty_tree_hashes_to_sha256_of_nothing() -> None:
    assert merkle.fold([]) == merkle.EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize(
    "case", load("rfc6962-inclusion.json")["cases"], ids=lambda c: c["source"]
)
def test_inclusion_proofs_of_transparency_dev_verify_or_fail_as_published(
    case: dict[str, Any],
) -> None:
    ok = merkle.verify_inclusion(
        case["leafIdx"],
        case["treeSize"],
        base64.b64decode(case["leafHash"] or ""),
        b64(case["proof"]),
        base64.b64decode(case["root"] or ""),
    )
    assert ok is not case["wantErr"]


@pytest.mark.parametrize(
    "case", load("rfc6962-consistency.json")["cases"], ids=lambda c: c["source"]
)
def test_consistency_proofs_of_transparency_dev_verify_or_fail_as_published(
    case: dict[str, Any],
) -> None:
    ok = merkle.verify_consistency(
        case["size1"],
        case["size2"],
        base64.b64decode(case["root1"] or ""),
        base64.b64decode(case["root2"] or ""),
        b64(case["proof"]),
    )
    assert ok is not case["wantErr"]


def test_our_proofs_of_the_reference_tree_equal_the_published_happy_paths() -> None:
    tree = MemoryTree(LEAVES)
    happy = [
        c
        for c in load("rfc6962-inclusion.json")["cases"]
        if c["desc"] == "happy path" and c["treeSize"] <= 8 and c["proof"]
    ]
    assert happy
    for case in happy:
        if merkle.leaf_hash(LEAVES[case["leafIdx"]]) != base64.b64decode(
            case["leafHash"]
        ):
            continue  # a vector of another tree
        proof = tree.inclusion(case["leafIdx"], case["treeSize"])
        assert proof == b64(case["proof"]), case["source"]


SIZES = sorted({*range(1, 71), 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025})


def test_every_inclusion_and_consistency_proof_we_make_verifies() -> None:
    leaves = [f"leaf {i}".encode() for i in range(max(SIZES))]
    tree = MemoryTree(leaves)
    for size in SIZES:
        root = tree.root(size)
        assert root == reference_root(leaves[:size])
        for index in {0, size // 3, size // 2, size - 1}:
            proof = tree.inclusion(index, size)
            assert merkle.verify_inclusion(
                index, size, tree.nodes[(0, index)], proof, root
            )
            assert not merkle.verify_inclusion(
                index, size, merkle.leaf_hash(b"forged"), proof, root
            )
        for first in {1, size // 2, size - 1, size}:
            if first <= 0:
                continue
            proof = tree.consistency(first, size)
            assert merkle.verify_consistency(first, size, tree.root(first), root, proof)
            if first < size:
                assert not merkle.verify_consistency(
                    first, size, tree.root(first), merkle.leaf_hash(b"x"), proof
                )


@given(st.integers(1, 3000), st.data())
def test_the_nodes_a_proof_needs_grow_with_the_log_of_the_size(
    size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, size - 1))
    ranges = merkle.inclusion_ranges(index, size)
    assert len(ranges) <= size.bit_length()
    assert len(merkle.needed_nodes(ranges)) <= size.bit_length() ** 2
    for start, end in ranges:
        covered = sum(1 << level for level, _ in merkle.range_nodes(start, end))
        assert covered == end - start


def test_a_leaf_outside_the_tree_has_no_proof() -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_ranges(5, 5)
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_ranges(6, 5)


@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8),
)
def test_appending_leaves_in_batches_makes_the_tree_one_by_one_makes(
    batches: list[int],
) -> None:
    """``extend_levels`` (verify and the tree's projection append pages of
    leaves) completes the same subtrees and leaves the same right edge as
    ``append`` leaf by leaf, whatever the sizes of the batches: one run of
    consecutive nodes per level, levels in order."""
    hashes = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(sum(batches))]
    one_by_one: list[tuple[merkle.Node, bytes]] = []
    expected: set[tuple[merkle.Node, bytes]] = set()
    for i, h in enumerate(hashes):
        expected.update(merkle.append(one_by_one, i, h))
    frontier: list[tuple[merkle.Node, bytes]] = []
    made: list[tuple[merkle.Node, bytes]] = []
    size = 0
    for count in batches:
        runs = merkle.extend_levels(frontier, size, hashes[size : size + count])
        levels = [level for level, _, _ in runs]
        assert levels == sorted(set(levels))
        assert all(run for _, _, run in runs)
        made += [
            ((level, first + i), h)
            for level, first, run in runs
            for i, h in enumerate(run)
        ]
        size += count
        assert frontier == merkle_frontier(hashes[:size])
    assert set(made) == expected
    assert len(made) == len(expected)
    assert frontier == one_by_one
    assert merkle.fold([h for _, h in frontier]) == reference_root_of(hashes)


def merkle_frontier(hashes: list[bytes]) -> list[tuple[merkle.Node, bytes]]:
    frontier: list[tuple[merkle.Node, bytes]] = []
    for i, h in enumerate(hashes):
        merkle.append(frontier, i, h)
    return frontier


def reference_root_of(hashes: list[bytes]) -> bytes:
    """MTH over the leaves' hashes, as RFC 6962 section 2.1 writes it."""
    if not hashes:
        return merkle.EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return merkle.node_hash(
        reference_root_of(hashes[:k]), reference_root_of(hashes[k:])
    )
