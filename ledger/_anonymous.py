"""Anonymous proofs in the ledger: an epoch's published Merkle root of its registered
commitments, and proofs that some registered account meets the statement without
naming it (the margin circuit's anonymous mode).

The tree's leaves are the epoch's commitments in the order they were registered (entry
order), padded with 0 to 2**depth; node = poseidon([left, right]) (`algebra.merkle_*`).
Once the root is published the epoch takes no new commitment (it could not be in the
tree). An anonymous proof's public signals are [root, nullifier, snapshot hash,
requirement, ratio bound]; the nullifier poseidon([NULLIFIER_TAG, salt, snapshot hash])
is one per committed account and snapshot, so a second proof of the same account is
refused (NullifierUsedError) without the ledger learning which account either was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from algebra import merkle_depth, merkle_tree_root
from verifier import Proof, PublicSignals, VerifyingKey

from ._errors import StatementError
from ._statement import anonymous_signals, signals_problem

#: The anonymous margin circuit's public inputs: root, nullifier, snapshot hash,
#: requirement, ratio bound.
ANONYMOUS_N_PUBLIC = 5
#: Deepest tree the ledger publishes a root for (2**32 accounts).
MAX_DEPTH = 32


@dataclass(frozen=True)
class RootRecord:
    """An epoch's published Merkle root of commitments and the anonymous proofs' key."""

    epoch: int
    depth: int
    leaves: int
    merkle_root: int
    verification_key_json: str

    @property
    def verifying_key(self) -> VerifyingKey:
        return VerifyingKey.from_json(self.verification_key_json)


def tree_depth(n_leaves: int, depth: int | None) -> int:
    """The depth a root of `n_leaves` is published at (the smallest that holds them by
    default); StatementError when none can."""
    if n_leaves < 1:
        raise StatementError("no commitment is registered: there is no tree to publish")
    d = merkle_depth(n_leaves) if depth is None else depth
    if not isinstance(d, int) or not 1 <= d <= MAX_DEPTH or n_leaves > 1 << d:
        raise StatementError(f"{n_leaves} commitments do not fit a Merkle tree of depth {d} (1 to {MAX_DEPTH})")
    return d


def root_of(leaves: list[int], depth: int) -> int:
    """The published root of `leaves` (registration order) padded to 2**depth."""
    return merkle_tree_root(leaves, depth)


def anonymous_problem(
    public: list[int], root: int, snapshot_hash: int, requirement: str, max_margin_ratio_ppm: int, epoch: int
) -> str | None:
    """Why `public` are not an anonymous proof's signals for this epoch's root and
    statement (any nullifier: its uniqueness is checked apart), or None."""
    nullifier = public[1] if len(public) == ANONYMOUS_N_PUBLIC else 0
    expected = anonymous_signals(root, nullifier, snapshot_hash, requirement, max_margin_ratio_ppm)
    return signals_problem(public, expected, epoch)


def anonymous_row(epoch: int, digest: str, proof: Proof, public: PublicSignals) -> dict[str, Any]:
    """The `anonymous_proofs` row of an accepted anonymous proof."""
    return {
        "epoch": epoch,
        "nullifier": str(public.root[1]),
        "digest": digest,
        "proof_json": proof.to_json(),
        "public_json": public.to_json(),
    }
