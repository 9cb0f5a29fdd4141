"""Checking a .zkey against its circuit and powers of tau (`snarkjs zkey verify`).

The initial key is recomputed from the .r1cs and .ptau (`new_zkey`); the key under test
must then agree with it everywhere a contribution cannot change anything (header,
IC, coefficients, A, B1, B2, circuit hash), carry a valid chain of contributions from
delta = 1 to its delta, and hold C and H sections equal to the initial ones divided
by delta. Sections are compared in one pairing each through a random linear
combination: with random r_i, sum r_i C_i must equal (sum r_i C0_i) / delta.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import numpy as np

from algebra import G1_GEN, G2_GEN, U64Array, g1_from_lem, g1_msm, ints_to_limbs
from circuits import R1csFile

from ._mpc import MpcParams, same_ratio, verify_contributions
from ._phase2 import new_zkey
from ._ptau_file import PtauFile
from ._zkey_file import ZkeyFile

_HEADER_FIELDS = ("n_vars", "n_public", "domain_size", "alpha1", "beta1", "beta2", "gamma2")
_EQUAL_SECTIONS = (("A", "a_points"), ("B1", "b1_points"), ("B2", "b2_points"))


def _same_ratio_sections(initial: U64Array, final: U64Array, zkey: ZkeyFile) -> bool:
    """final_i = initial_i / delta for all i, tested with one random combination."""
    if initial.shape != final.shape:
        return False
    if initial.shape[0] == 0:
        return True
    scalars = ints_to_limbs([secrets.randbits(128) for _ in range(initial.shape[0])])
    r1 = g1_from_lem(g1_msm(np.ascontiguousarray(initial), scalars).reshape(1, 8))[0]
    r2 = g1_from_lem(g1_msm(np.ascontiguousarray(final), scalars).reshape(1, 8))[0]
    # e(R1, G2) = e(R2, delta2) iff R2 = R1 / delta
    return same_ratio(r1, r2, zkey.delta2, G2_GEN)


def verify_zkey(
    r1cs: R1csFile, ptau: PtauFile, zkey: ZkeyFile, *, on_stage: Callable[[str], None] | None = None
) -> list[str]:
    """Every problem found (an empty list means the key is valid for this circuit and ptau)."""
    stage = on_stage or (lambda _s: None)
    init = new_zkey(r1cs, ptau, on_stage=lambda s: stage(f"initial key: {s}"))
    problems = [
        f"header field {f} differs from the key this r1cs and ptau give"
        for f in _HEADER_FIELDS
        if getattr(zkey, f) != getattr(init, f)
    ]
    if problems:
        return problems  # a different circuit: nothing below is comparable
    if zkey.cs_hash != init.cs_hash:
        problems.append("circuit hash differs: the key was not set up from this r1cs and ptau")
    stage("contributions")
    problems += verify_contributions(
        MpcParams(zkey.cs_hash, tuple(zkey.contributions)), G1_GEN, zkey.delta1, zkey.delta2
    )
    if not same_ratio(G1_GEN, zkey.delta1, G2_GEN, zkey.delta2):
        problems.append("delta1 and delta2 are not the same secret")
    stage("sections")
    if zkey.ic != init.ic:
        problems.append("IC (section 3) differs")
    if zkey.coeffs.tobytes() != init.coeffs.tobytes():
        problems.append("coefficients (section 4) differ")
    for label, attr in _EQUAL_SECTIONS:
        if not np.array_equal(getattr(zkey, attr), getattr(init, attr)):
            problems.append(f"{label} points differ")
    stage("C and H ratios")
    if not _same_ratio_sections(init.c_points, zkey.c_points, zkey):
        problems.append("C (L) section is not the initial one divided by delta")
    if not _same_ratio_sections(init.h_points, zkey.h_points, zkey):
        problems.append("H section is not the initial one divided by delta")
    return problems
