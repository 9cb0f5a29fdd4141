"""Simulated Groth16 proofs: a verifying key whose trapdoor we keep, and valid proofs for
any public signals without a circuit or a witness (Groth16's zero-knowledge simulator).

For benchmarks that need many proofs of distinct statements, e.g. a ledger of 1,000
margin proofs for 1,000 accounts, where proving each would take minutes: a verifier
cannot tell simulated proofs from real ones and does exactly the same work. Never for
anything but benchmarks: whoever holds the trapdoor can prove anything under the key.

With alpha, beta, gamma, delta and IC_i = k_i G1 known, for signals s pick a, b and set
A = a G1, B = b G2, C = (a b - alpha beta - gamma (k_0 + sum_i s_i k_i)) / delta G1.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import algebra
from algebra import G1, G2, R, g1_from_lem, g1_to_lem, g2_from_lem, g2_to_lem, ints_to_limbs
from verifier import Proof, VerifyingKey


@dataclass(frozen=True)
class Trapdoor:
    alpha: int
    beta: int
    gamma: int
    delta: int
    ic: tuple[int, ...]

    @classmethod
    def random(cls, n_public: int, seed: int = 0) -> Trapdoor:
        rng = random.Random(seed)
        return cls(*(rng.randrange(1, R) for _ in range(4)), tuple(rng.randrange(1, R) for _ in range(n_public + 1)))

    def verifying_key(self) -> VerifyingKey:
        return VerifyingKey.from_points(
            G1.mul(G1.generator, self.alpha),
            G2.mul(G2.generator, self.beta),
            G2.mul(G2.generator, self.gamma),
            G2.mul(G2.generator, self.delta),
            [G1.mul(G1.generator, k) for k in self.ic],
        )

    def proofs(self, statements: Sequence[Sequence[int]], seed: int = 0) -> list[Proof]:
        """One valid proof per list of public signals (kernels: about 1 ms a proof)."""
        rng = random.Random(seed)
        n = len(statements)
        a = [rng.randrange(1, R) for _ in range(n)]
        b = [rng.randrange(1, R) for _ in range(n)]
        inv_delta = pow(self.delta, -1, R)
        c = [
            (
                aj * bj
                - self.alpha * self.beta
                - self.gamma * (self.ic[0] + sum(s * k for s, k in zip(sig, self.ic[1:])))
            )
            * inv_delta
            % R
            for aj, bj, sig in zip(a, b, statements)
        ]
        idx = np.arange(n + 1, dtype=np.int64)
        zeros = np.zeros(n, dtype=np.int64)
        g1 = g1_to_lem([G1.generator]).reshape(1, 8)
        g2 = g2_to_lem([G2.generator]).reshape(1, 16)
        rows_a = algebra.g1_sparse_combination(g1, idx, zeros, ints_to_limbs(a))
        rows_b = algebra.g2_sparse_combination(g2, idx, zeros, ints_to_limbs(b))
        rows_c = algebra.g1_sparse_combination(g1, idx, zeros, ints_to_limbs(c))
        return [
            Proof.from_points(pa, pb, pc)
            for pa, pb, pc in zip(g1_from_lem(rows_a), g2_from_lem(rows_b), g1_from_lem(rows_c))
        ]
