"""Poseidon Merkle trees over field elements: node = poseidon([left, right]), leaves
padded with 0 to 2**depth, index bits little-endian (bit k = 1: the node at level k is
the right child). The ledger publishes such a root over an epoch's commitments; the
anonymous margin circuit proves membership in it (`circuits._gadgets_merkle`) and the
solvency batches prove their leaves are its consecutive leaves.

The tree is kept sparse: level k holds only the nodes above real leaves, and a missing
node is the root of an all-zero subtree of height k (`zero_hashes`), so a tree of n
leaves costs about n hashes at any depth (2**32 leaves of padding included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._constants import R
from ._errors import EncodingError
from ._poseidon import poseidon


def merkle_depth(n_leaves: int) -> int:
    """The smallest depth >= 1 whose tree holds `n_leaves`."""
    return max(1, (n_leaves - 1).bit_length())


def zero_hashes(depth: int) -> list[int]:
    """z_0 = 0, z_(k+1) = poseidon([z_k, z_k]): the root of an all-zero subtree of height k."""
    z = [0]
    for _ in range(depth):
        z.append(poseidon([z[-1], z[-1]]))
    return z


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


@dataclass(frozen=True)
class MerkleTree:
    """The sparse tree of `leaves` at `depth`: `levels[k]` are the nodes of level k above
    real leaves (level 0: the leaves), `zeros[k]` the padding at level k."""

    depth: int
    levels: tuple[tuple[int, ...], ...]
    zeros: tuple[int, ...]

    @property
    def root(self) -> int:
        top = self.levels[self.depth]
        return top[0] if top else self.zeros[self.depth]

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def node(self, level: int, index: int) -> int:
        """The node at `index` of `level` (padding beyond the real ones)."""
        nodes = self.levels[level]
        return nodes[index] if index < len(nodes) else self.zeros[level]

    def path(self, index: int, level: int = 0) -> tuple[list[int], list[int]]:
        """(siblings, index bits) from the node `index` of `level` (default: a leaf) up to
        the root; EncodingError for a node above no real leaf."""
        if not 0 <= index < max(1, len(self.levels[level])):
            raise EncodingError(f"node {index} of level {level} is outside the tree's {self.size} leaves")
        siblings, bits = [], []
        for k in range(level, self.depth):
            siblings.append(self.node(k, index ^ 1))
            bits.append(index & 1)
            index >>= 1
        return siblings, bits


def merkle_tree(leaves: Sequence[int], depth: int) -> MerkleTree:
    """The tree of `leaves` padded with 0 to 2**depth; EncodingError if they do not fit or
    are not field elements."""
    if depth < 1 or len(leaves) > 1 << depth:
        raise EncodingError(f"{len(leaves)} leaves do not fit a Merkle tree of depth {depth} (>= 1)")
    if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < R for v in leaves):
        raise EncodingError("Merkle leaves must be field elements in [0, r)")
    zeros = zero_hashes(depth)
    levels = [tuple(leaves)]
    for k in range(depth):
        below = levels[-1]
        pairs = [(below[j], below[j + 1] if j + 1 < len(below) else zeros[k]) for j in range(0, len(below), 2)]
        levels.append(tuple(poseidon(list(p)) for p in pairs))
    return MerkleTree(depth, tuple(levels), tuple(zeros))


def merkle_path(leaves: Sequence[int], index: int, depth: int) -> tuple[int, list[int], list[int]]:
    """(root, siblings, index bits) of `leaves[index]` in the tree of `leaves` padded
    with 0 to 2**depth; EncodingError if they do not fit or are not field elements."""
    tree = merkle_tree(leaves, depth)
    siblings, bits = tree.path(index)
    return tree.root, siblings, bits


def merkle_tree_root(leaves: Sequence[int], depth: int) -> int:
    """The root of the tree of `leaves` padded with 0 to 2**depth."""
    return merkle_tree(leaves, depth).root
