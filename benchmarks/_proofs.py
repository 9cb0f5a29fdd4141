"""Many distinct valid proofs of one statement, fast: Groth16 re-randomization on the kernels.

For a valid (A, B, C) and any t != 0, s: (A / t, t B + s delta, C + (s / t) A) is valid
too (e(A/t, tB + s delta) = e(A, B) e((s/t) A, delta)), with other bytes. Benchmarks
and tests use it to get n distinct proofs from one real one.
"""

from __future__ import annotations

import random

import numpy as np

import algebra
from algebra import R, g1_from_lem, g1_to_lem, g2_from_lem, g2_to_lem, ints_to_limbs
from verifier import Proof, VerifyingKey


def rerandomized(proof: Proof, vk: VerifyingKey, n: int, seed: int = 0) -> list[Proof]:
    """n re-randomized copies of `proof` (valid iff it is), reproducible from `seed`."""
    rng = random.Random(seed)
    ts = [rng.randrange(1, R) for _ in range(n)]
    ss = [rng.randrange(R) for _ in range(n)]
    inv = [pow(t, -1, R) for t in ts]
    two = np.arange(0, 2 * n + 1, 2, dtype=np.int64)
    pair = np.tile(np.array([0, 1], dtype=np.int64), n)
    a = g1_to_lem([proof.a]).reshape(1, 8)
    a_new = algebra.g1_sparse_combination(
        a, np.arange(n + 1, dtype=np.int64), np.zeros(n, np.int64), ints_to_limbs(inv)
    )
    b_new = algebra.g2_sparse_combination(
        g2_to_lem([proof.b, vk.delta2]).reshape(2, 16),
        two,
        pair,
        ints_to_limbs([x for t, s in zip(ts, ss) for x in (t, s)]),
    )
    c_new = algebra.g1_sparse_combination(
        g1_to_lem([proof.c, proof.a]).reshape(2, 8),
        two,
        pair,
        ints_to_limbs([x for s, i in zip(ss, inv) for x in (1, s * i % R)]),
    )
    return [
        Proof.from_points(pa, pb, pc) for pa, pb, pc in zip(g1_from_lem(a_new), g2_from_lem(b_new), g1_from_lem(c_new))
    ]
