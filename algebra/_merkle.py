"""Poseidon Merkle trees over field elements: node = poseidon([left, right]), leaves
padded with 0 to 2**depth, index bits little-endian (bit k = 1: the node at level k is
the right child). The ledger publishes such a root over an epoch's commitments; the
anonymous margin circuit proves membership in it (`circuits._gadgets_merkle`)."""

from __future__ import annotations

from collections.abc import Sequence

from ._constants import R
from ._errors import EncodingError
from ._poseidon import poseidon


def merkle_depth(n_leaves: int) -> int:
    """The smallest depth >= 1 whose tree holds `n_leaves`."""
    return max(1, (n_leaves - 1).bit_length())


def merkle_root_native(leaf: int, siblings: Sequence[int], index_bits: Sequence[int]) -> int:
    """The root reached from `leaf` along the path (the gadget's twin)."""
    if len(siblings) != len(index_bits):
        raise EncodingError(f"path has {len(siblings)} siblings but {len(index_bits)} index bits")
    node = leaf
    for sib, bit in zip(siblings, index_bits):
        if bit not in (0, 1):
            raise EncodingError(f"index bits must be 0 or 1, got {bit!r}")
        node = poseidon([sib, node] if bit else [node, sib])
    return node


def merkle_path(leaves: Sequence[int], index: int, depth: int) -> tuple[int, list[int], list[int]]:
    """(root, siblings, index bits) of `leaves[index]` in the tree of `leaves` padded
    with 0 to 2**depth; EncodingError if they do not fit or are not field elements."""
    if depth < 1 or len(leaves) > 1 << depth:
        raise EncodingError(f"{len(leaves)} leaves do not fit a Merkle tree of depth {depth} (>= 1)")
    if not 0 <= index < max(1, len(leaves)):
        raise EncodingError(f"leaf index {index} is outside the {len(leaves)} leaves")
    if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < R for v in leaves):
        raise EncodingError("Merkle leaves must be field elements in [0, r)")
    level = [*leaves, *[0] * ((1 << depth) - len(leaves))]
    siblings, bits, i = [], [], index
    for _ in range(depth):
        siblings.append(level[i ^ 1])
        bits.append(i & 1)
        level = [poseidon([level[j], level[j + 1]]) for j in range(0, len(level), 2)]
        i >>= 1
    return level[0], siblings, bits


def merkle_tree_root(leaves: Sequence[int], depth: int) -> int:
    """The root of the tree of `leaves` padded with 0 to 2**depth."""
    return merkle_path(leaves, 0, depth)[0]
