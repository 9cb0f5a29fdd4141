"""Poseidon Merkle paths (binary tree, node = Poseidon(left, right)).

Leaf index bits are little-endian: bit k = 1 means the current node is the right child
at level k (its sibling is on the left), as in circomlib-style Merkle proofs.
"""

from __future__ import annotations

from collections.abc import Sequence

from algebra import merkle_root_native as merkle_root_native  # the native twin

from ._builder import API, Value
from ._errors import CircuitDefinitionError
from ._gadgets_compare import select
from ._gadgets_poseidon import poseidon_hash
from ._lc import LinearCombination, as_lc


def merkle_root(
    api: API, leaf: Value, siblings: Sequence[Value], index_bits: Sequence[Value], name: str = "merkle"
) -> LinearCombination:
    """The root reached from `leaf`; each index bit is constrained boolean."""
    if len(siblings) != len(index_bits) or not siblings:
        raise CircuitDefinitionError(
            f"{name}: path has {len(siblings)} siblings and {len(index_bits)} index bits; need equal, >= 1"
        )
    node = as_lc(leaf)
    with api.scope(name):
        for k, (sib, bit) in enumerate(zip(siblings, index_bits)):
            b = api.assert_boolean(bit, name=f"level{k}/index_bit")
            left = select(api, b, sib, node, name=f"level{k}/left")
            right = select(api, b, node, sib, name=f"level{k}/right")
            node = poseidon_hash(api, [left, right], name=f"level{k}/hash")
    return node


def assert_merkle_path(
    api: API, leaf: Value, root: Value, siblings: Sequence[Value], index_bits: Sequence[Value], name: str = "merkle"
) -> None:
    """Constrains that `leaf` sits in the tree with `root` at the given path."""
    computed = merkle_root(api, leaf, siblings, index_bits, name=name)
    api.assert_equal(computed, root, name=f"{name}/root")
