"""The Groth16 verification equation, for one proof and for batches.

A proof (A, B, C) for public signals s_1..s_n is valid iff

    e(A, B) = e(alpha, beta) * e(vk_x, gamma) * e(C, delta),   vk_x = IC_0 + sum_i s_i IC_i,

checked as one product of four Miller loops with one final exponentiation:
e(-A, B) e(alpha, beta) e(vk_x, gamma) e(C, delta) = 1. This is the check of
`snarkjs groth16 verify` and of Ethereum's Solidity verifiers.

A key is prepared once (`prepare`, cached per key): the Miller loop of (alpha, beta) is
a constant, the lines of beta, gamma and delta depend on the key alone, and the IC
points (with alpha) get fixed-base window tables, so a proof costs one full Miller loop
(-A, B), two line evaluations, a few table additions and one final exponentiation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from algebra import (
    G1,
    G2,
    N_LINES,
    G1FixedBase,
    G1Point,
    PreparedG2,
    fq12_to_limbs,
    g1_to_lem,
    g2_to_lem,
    ints_to_limbs,
    miller_loop,
    pairing_check_lem,
)

from ._errors import MalformedPublicSignalsError
from ._models import Proof, PublicSignals, VerifyingKey


@dataclass(frozen=True, eq=False)
class PreparedVerifyingKey:
    """A verifying key with what every verification of its proofs shares, computed once.

    `bases` holds window tables of (alpha, IC_0, ..., IC_n); `lines` the Miller lines of
    (beta, gamma, delta) as kernel rows, with `live` false for a point at infinity (its
    pairs are 1); `alphabeta` the Miller value of (alpha, beta) as a factor row.
    """

    vk: VerifyingKey
    bases: G1FixedBase
    lines: Any  # (3, N_LINES, 3, 2, 4) uint64
    live: tuple[bool, bool, bool]
    alphabeta: Any  # (1, 12, 4) uint64

    def check_signals(self, public_signals: PublicSignals | Sequence[int]) -> PublicSignals:
        """The signals as a model; MalformedPublicSignalsError if out of range or miscounted."""
        if not isinstance(public_signals, PublicSignals):
            public_signals = PublicSignals.from_values(public_signals)
        if len(public_signals) != self.vk.n_public:
            raise MalformedPublicSignalsError(
                f"proof has {len(public_signals)} public signals, verifying key expects {self.vk.n_public}"
            )
        return public_signals

    def combination(self, alpha: int, ic: Sequence[int]) -> Any:
        """alpha_scalar * alpha + sum_i ic[i] * IC_i as an (8,) LEM row (scalars below r)."""
        return self.bases.combination_limbs(ints_to_limbs([alpha, *ic]))

    def fixed_rows(self, rows: Sequence[Any]) -> Any:
        """The P rows of the (beta, gamma, delta) pairs, zeroed where that G2 point is infinity."""
        out = np.stack(rows)
        for j, live in enumerate(self.live):
            if not live:
                out[j] = 0
        return out


@lru_cache(maxsize=32)
def prepare(vk: VerifyingKey) -> PreparedVerifyingKey:
    """The prepared form of `vk` (cached: keys are immutable)."""

    def lines(q: tuple[tuple[int, int], tuple[int, int]]) -> Any:
        if G2.is_infinity(q):
            return np.zeros((N_LINES, 3, 2, 4), dtype=np.uint64)
        return PreparedG2.of(q).limbs

    fixed = (vk.beta2, vk.gamma2, vk.delta2)
    return PreparedVerifyingKey(
        vk=vk,
        bases=G1FixedBase.of([vk.alpha1, *vk.ic]),
        lines=np.stack([lines(q) for q in fixed]),
        live=tuple(not G2.is_infinity(q) for q in fixed),  # type: ignore[arg-type]
        alphabeta=fq12_to_limbs(miller_loop([(vk.alpha1, vk.beta2)])).reshape(1, 12, 4),
    )


def public_input_term(vk: VerifyingKey, public_signals: PublicSignals | Sequence[int]) -> G1Point:
    """vk_x = IC_0 + sum_i s_i IC_i in G1 (the only part of the check that depends on the signals)."""
    key = prepare(vk)
    signals = key.check_signals(public_signals)
    return key.bases.combination([0, 1, *signals.values])


def _check_types(vk: Any, proof: Any) -> None:
    if not isinstance(vk, VerifyingKey):
        raise TypeError(f"vk must be a VerifyingKey, got {type(vk).__name__}")
    if not isinstance(proof, Proof):
        raise TypeError(f"proof must be a Proof, got {type(proof).__name__}")


def verify(vk: VerifyingKey, public_signals: PublicSignals | Sequence[int], proof: Proof) -> bool:
    """True iff `proof` is a valid Groth16 proof for `public_signals` under `vk`.

    The models are validated when built, so a well-formed but wrong proof returns False.
    Public signals may be given as Python ints; MalformedPublicSignalsError if one is
    not in [0, r) or if their number is not vk.n_public. TypeError for other arguments.
    """
    _check_types(vk, proof)
    key = prepare(vk)
    signals = key.check_signals(public_signals)
    vk_x = key.combination(0, [1, *signals.values])
    return pairing_check_lem(
        g1_to_lem([G1.neg(proof.a)]).reshape(1, 8),
        g2_to_lem([proof.b]).reshape(1, 16),
        key.fixed_rows([np.zeros(8, dtype=np.uint64), vk_x, g1_to_lem([proof.c]).reshape(8)]),
        key.lines,
        key.alphabeta,
    )
