"""The Groth16 verification equation.

A proof (A, B, C) for public signals s_1..s_n is valid iff

    e(A, B) = e(alpha, beta) * e(vk_x, gamma) * e(C, delta),   vk_x = IC_0 + sum_i s_i IC_i,

checked as one product of four Miller loops with one final exponentiation:
e(-A, B) e(alpha, beta) e(vk_x, gamma) e(C, delta) = 1. This is the check of
`snarkjs groth16 verify` and of Ethereum's Solidity verifiers.

A key is prepared once (`prepare`, cached per key): the Miller loop of (alpha, beta)
is a constant, and the lines of gamma and delta depend on the key alone, so a proof
costs one full Miller loop (-A, B), two line evaluations and one final exponentiation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from algebra import G1, G2, Fq12, G1Point, PreparedG2, miller_loop, pairing_check

from ._errors import MalformedPublicSignalsError
from ._models import Proof, PublicSignals, VerifyingKey


def public_input_term(vk: VerifyingKey, public_signals: PublicSignals) -> tuple[int, int]:
    """vk_x = IC_0 + sum_i s_i IC_i in G1 (the only part of the check that depends on the signals)."""
    if len(public_signals) != vk.n_public:
        raise MalformedPublicSignalsError(
            f"proof has {len(public_signals)} public signals, verifying key expects {vk.n_public}"
        )
    return G1.add(vk.ic[0], G1.msm(vk.ic[1:], public_signals.values))


@dataclass(frozen=True)
class PreparedVerifyingKey:
    """A verifying key with what every verification of its proofs shares, computed once."""

    vk: VerifyingKey
    alphabeta_miller: Fq12
    gamma: PreparedG2 | None  # None for a key whose gamma2 is infinity (its pairs are 1)
    delta: PreparedG2 | None

    def fixed_pairs(self, vk_x: G1Point, c: G1Point) -> list[tuple[G1Point, PreparedG2]]:
        """The (P, prepared Q) pairs of vk_x with gamma and of C with delta."""
        return [(p, q) for p, q in ((vk_x, self.gamma), (c, self.delta)) if q is not None]


@lru_cache(maxsize=32)
def prepare(vk: VerifyingKey) -> PreparedVerifyingKey:
    """The prepared form of `vk` (cached: keys are immutable)."""

    def lines(q: tuple[tuple[int, int], tuple[int, int]]) -> PreparedG2 | None:
        return None if G2.is_infinity(q) else PreparedG2.of(q)

    return PreparedVerifyingKey(vk, miller_loop([(vk.alpha1, vk.beta2)]), lines(vk.gamma2), lines(vk.delta2))


def verify(vk: VerifyingKey, public_signals: PublicSignals | Sequence[int], proof: Proof) -> bool:
    """True iff `proof` is a valid Groth16 proof for `public_signals` under `vk`.

    The models are validated when built, so a well-formed but wrong proof returns False.
    Public signals may be given as Python ints; MalformedPublicSignalsError if one is
    not in [0, r) or if their number is not vk.n_public. TypeError for other arguments.
    """
    if not isinstance(vk, VerifyingKey):
        raise TypeError(f"vk must be a VerifyingKey, got {type(vk).__name__}")
    if not isinstance(proof, Proof):
        raise TypeError(f"proof must be a Proof, got {type(proof).__name__}")
    if not isinstance(public_signals, PublicSignals):
        public_signals = PublicSignals.from_values(public_signals)
    vk_x = public_input_term(vk, public_signals)
    key = prepare(vk)
    return pairing_check([(G1.neg(proof.a), proof.b)], key.fixed_pairs(vk_x, proof.c), key.alphabeta_miller)
