"""A user's inclusion in a solvency round: their leaf index and Merkle path, and the
check that their own account (recomputed by them from their file and salt) is a leaf of
the published root inside the range the round proves.

    inclusion = inclusion_of(ledger, epoch, "alice")          # the venue gives it out
    problem = inclusion_problem(inclusion, commitment, rnd)   # the user checks it
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from algebra import merkle_root_native, merkle_tree

from ._errors import MalformedInclusionError, UnknownAccountError
from ._solvency import SolvencyRound

#: Largest inclusion proof read: 32 levels of 78-digit siblings need about 3 KB.
MAX_INCLUSION_BYTES = 64 * 1024


@dataclass(frozen=True)
class Inclusion:
    """One account's place in a round's tree: leaf index, leaf, path, root, N."""

    epoch: int
    account: str
    index: int
    leaf: int
    siblings: tuple[int, ...]
    path_bits: tuple[int, ...]
    merkle_root: int
    accounts: int

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "account": self.account,
            "index": self.index,
            "leaf": str(self.leaf),
            "siblings": [str(s) for s in self.siblings],
            "path_bits": list(self.path_bits),
            "merkle_root": str(self.merkle_root),
            "accounts": self.accounts,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_json_obj(), indent=2)

    @classmethod
    def load(cls, path: str | Path) -> Inclusion:
        """The inclusion proof in a file (at most MAX_INCLUSION_BYTES); MalformedInclusionError
        naming what is wrong, OSError when it cannot be read."""
        with Path(path).open("rb") as f:
            raw = f.read(MAX_INCLUSION_BYTES + 1)
        if len(raw) > MAX_INCLUSION_BYTES:
            raise MalformedInclusionError(f"{path}: longer than the {MAX_INCLUSION_BYTES} bytes of an inclusion proof")
        return cls.from_json(raw)

    @classmethod
    def from_json(cls, text: str | bytes) -> Inclusion:
        """MalformedInclusionError (with what is wrong) for anything but an inclusion's JSON."""
        try:
            o = json.loads(text)
            return cls(
                int(o["epoch"]),
                str(o["account"]),
                int(o["index"]),
                int(o["leaf"]),
                tuple(int(s) for s in o["siblings"]),
                tuple(int(b) for b in o["path_bits"]),
                int(o["merkle_root"]),
                int(o["accounts"]),
            )
        except (KeyError, TypeError, ValueError, RecursionError) as exc:
            raise MalformedInclusionError(f"not an inclusion proof: {type(exc).__name__}: {exc}") from None


def inclusion_of(registered: list[tuple[str, int]], rnd: SolvencyRound, account: str) -> Inclusion:
    """The account's inclusion in the round's tree (its leaf is its registration's
    index); UnknownAccountError for an account not registered in the epoch."""
    ids = [a for a, _ in registered]
    if account not in ids:
        raise UnknownAccountError(f"account {account!r} is not registered in epoch {rnd.epoch}")
    index = ids.index(account)
    tree = merkle_tree([c for _, c in registered], rnd.depth)
    siblings, bits = tree.path(index)
    return Inclusion(
        rnd.epoch, account, index, registered[index][1], tuple(siblings), tuple(bits), tree.root, rnd.accounts
    )


def inclusion_problem(inclusion: Inclusion, commitment: int, rnd: SolvencyRound) -> str | None:
    """Why `commitment` (the user's own, recomputed) is not shown counted by the round, or None."""
    if inclusion.epoch != rnd.epoch:
        return f"the inclusion proof is for epoch {inclusion.epoch}, the round is epoch {rnd.epoch}'s"
    if inclusion.leaf != commitment:
        return (
            f"leaf {inclusion.index} is not your commitment (your account file or salt differ from what was registered)"
        )
    if len(inclusion.siblings) != rnd.depth or len(inclusion.path_bits) != rnd.depth:
        return f"the path has {len(inclusion.siblings)} levels; the round's tree has {rnd.depth}"
    if any(b not in (0, 1) for b in inclusion.path_bits):
        return "the path's index bits are not bits"
    if sum(b << k for k, b in enumerate(inclusion.path_bits)) != inclusion.index:
        return f"the path leads to leaf {sum(b << k for k, b in enumerate(inclusion.path_bits))}, not {inclusion.index}"
    if merkle_root_native(commitment, inclusion.siblings, inclusion.path_bits) != rnd.merkle_root:
        return "the path from your commitment does not reach the round's published root"
    if inclusion.index >= rnd.accounts:
        return (
            f"leaf {inclusion.index} is past the {rnd.accounts} accounts the round proves (placed past N: not counted)"
        )
    return None
