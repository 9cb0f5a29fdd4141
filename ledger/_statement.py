"""What a margin proof states, and the one rule by which the ledger accepts one.

A margin proof's public signals are [commitment, snapshot hash, requirement,
max_margin_ratio_ppm]; an anonymous one's are [merkle root, nullifier, snapshot hash,
requirement, max_margin_ratio_ppm] (the circuit's public inputs, in order). The
requirement is maintenance (0) or initial (1); the ratio bound is 0 (none) or below
2**64. One definition for the prover side (engine) and the ledger: appends, anonymous
submissions and the audit all accept a proof by `signals_problem` (the signals are the
expected ones) and a pairing check that does not fail (`PAIRING_FAILED` otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from algebra import SNAPSHOT_TAG, sponge

from ._errors import StatementError

#: Ties a published snapshot's JSON to its published field encoding: (json, encoding) ->
#: the problem or None. The engine's (`MarketSnapshot.field_encoding`) is the CLI's.
SnapshotCheck = Callable[[str, list[int]], "str | None"]

Requirement = Literal["maintenance", "initial"]
#: The `requirement` public input of each choice.
REQUIREMENT_CODES: dict[str, int] = {"maintenance": 0, "initial": 1}
#: max_margin_ratio_ppm < RATIO_BOUND (the circuit range-checks it to 64 bits; 0: no bound).
RATIO_BOUND = 2**64


def requirement_code(requirement: str) -> int:
    """The public input of `requirement`; StatementError for anything else."""
    if requirement not in REQUIREMENT_CODES:
        raise StatementError(f"requirement must be 'maintenance' or 'initial', got {requirement!r}")
    return REQUIREMENT_CODES[requirement]


def check_ratio_bound(max_margin_ratio_ppm: int) -> None:
    """StatementError unless 0 <= max_margin_ratio_ppm < 2**64."""
    if not 0 <= max_margin_ratio_ppm < RATIO_BOUND:
        raise StatementError(f"max_margin_ratio_ppm = {max_margin_ratio_ppm} is outside [0, 2**64)")


def margin_signals(commitment: int, snapshot_hash: int, requirement: str, max_margin_ratio_ppm: int) -> list[int]:
    """The public signals of a margin proof, in the circuit's order: [commitment,
    snapshot_hash, requirement code, max_margin_ratio_ppm]."""
    return [commitment, snapshot_hash, requirement_code(requirement), max_margin_ratio_ppm]


# ---- the one acceptance rule of a margin proof (ledger appends and the audit) ----------------

#: The public signals' names, in the circuit's order.
SIGNAL_NAMES = ("commitment", "snapshot hash", "requirement", "max margin ratio")
#: The anonymous circuit's public signals' names, in its order.
ANONYMOUS_SIGNAL_NAMES = ("merkle root", "nullifier", "snapshot hash", "requirement", "max margin ratio")
#: Why a proof whose signals are right is refused.
PAIRING_FAILED = "pairing check failed: the proof does not verify under the epoch's verification key"


def anonymous_signals(
    merkle_root: int, nullifier: int, snapshot_hash: int, requirement: str, max_margin_ratio_ppm: int
) -> list[int]:
    """The public signals of an anonymous margin proof, in the circuit's order."""
    return [merkle_root, nullifier, snapshot_hash, requirement_code(requirement), max_margin_ratio_ppm]


def signals_problem(public: Sequence[int], expected: Sequence[int], epoch: int) -> str | None:
    """Why `public` are not the margin signals `expected` of an account in `epoch` (the
    first that differs, with a hint), or None when they are. Five expected signals are
    an anonymous proof's (`anonymous_signals`)."""
    names = ANONYMOUS_SIGNAL_NAMES if len(expected) == len(ANONYMOUS_SIGNAL_NAMES) else SIGNAL_NAMES
    if len(public) != len(expected):
        return f"{len(public)} public signals, a margin proof has {len(expected)}"
    for name, got, want in zip(names, public, expected, strict=True):
        if got != want:
            hint = {
                "commitment": " (not the account's registered commitment: another account's proof?)",
                "snapshot hash": f" (not epoch {epoch}'s snapshot: a proof from another epoch?)",
                "merkle root": f" (not epoch {epoch}'s published root of commitments)",
            }.get(name, f" (epoch {epoch} proves {name} = {want})")
            return f"public {name} {got} does not match{hint}"
    return None


def snapshot_hash_of(encoding: Sequence[int]) -> int:
    """The snapshot hash: sponge("zkmargin.snapshot.v1", encoding) (`algebra.sponge`)."""
    return sponge(SNAPSHOT_TAG, encoding)
