"""Groth16 proving at reference speed: the slow twin of `Prover` (Python ints throughout).

With witness w, random r and s, and the key of `_keys`:
    A = alpha + sum_j w_j A_j + r delta                       (G1)
    B = beta  + sum_j w_j B_j + s delta                       (G2, and its G1 twin B')
    C = sum_{j private} w_j C_j + sum_i h_i H_i + s A + r B' - r s delta   (G1)
The verifier then checks e(A, B) = e(alpha, beta) e(sum_{j public} w_j IC_j, gamma) e(C, delta).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import verifier
from algebra import (
    G1,
    G2,
    G1Point,
    G2Point,
    R,
    U64Array,
    fr_to_limbs,
    g1_from_lem,
    g1_msm,
    g1_msm_ref,
    g2_from_lem,
    g2_msm,
    g2_msm_ref,
)

from ._errors import WitnessError
from ._keys import ProvingKey
from ._qap import h_scalars
from ._setup import INSECURE_NOTICE

if TYPE_CHECKING:  # the models load with the first proof or key made (pydantic)
    from verifier import VerifyingKey


@dataclass(frozen=True)
class _Msm:
    """The two MSMs a proof needs: numba kernels, or their Python-int reference twins."""

    g1: Callable[[U64Array, U64Array], U64Array]
    g2: Callable[[U64Array, U64Array], U64Array]

    def in_g1(self, points: U64Array, scalars: Sequence[int]) -> G1Point:
        return g1_from_lem(self.g1(points, fr_to_limbs(scalars)).reshape(1, 8))[0]

    def in_g2(self, points: U64Array, scalars: Sequence[int]) -> G2Point:
        return g2_from_lem(self.g2(points, fr_to_limbs(scalars)).reshape(1, 16))[0]


_FAST = _Msm(g1_msm, g2_msm)
_REFERENCE = _Msm(g1_msm_ref, g2_msm_ref)


@dataclass(frozen=True)
class RawProof:
    """The three proof points and the public signals they were made for."""

    a: G1Point
    b: G2Point
    c: G1Point
    public_signals: tuple[int, ...]


def check_witness(pk: ProvingKey, witness: Sequence[int]) -> None:
    """Raise WitnessError unless the witness has the key's length and canonical values."""
    if len(witness) != pk.n_vars:
        raise WitnessError(f"witness has {len(witness)} values, proving key expects {pk.n_vars}")
    if witness[0] != 1:
        raise WitnessError(f"witness[0] must be the constant 1, got {witness[0]}")
    for i, v in enumerate(witness):
        if not isinstance(v, int) or not 0 <= v < R:
            raise WitnessError(f"witness[{i}] = {v!r} is not a field element in [0, r)")


def prove_raw_reference(
    pk: ProvingKey,
    witness: Sequence[int],
    *,
    randbelow: Callable[[int], int] = secrets.randbelow,
    on_stage: Callable[[str], None] | None = None,
    msm_kernels: bool = False,
) -> RawProof:
    """A Groth16 proof for `witness` under `pk`, on Python ints: the witness map by the
    reference NTT and the MSMs by the reference twins (or, with `msm_kernels`, by the
    numba MSMs). The same randomness gives the same proof as `Prover`."""
    check_witness(pk, witness)
    msm = _FAST if msm_kernels else _REFERENCE
    stage = on_stage or (lambda _s: None)
    r = randbelow(R)
    s = randbelow(R)

    # Witness map: the quotient's scalars on the odd 2n-th roots.
    stage("witness map")
    h = h_scalars(pk.a_coeffs, pk.b_coeffs, witness, pk.domain_size)

    # A = alpha + sum_j w_j A_j + r delta
    stage("A in G1")
    a = G1.add(G1.add(pk.alpha1, msm.in_g1(pk.a_points, witness)), G1.mul(pk.delta1, r))

    # B = beta + sum_j w_j B_j + s delta, in G2 for the proof and in G1 for C
    stage("B in G2")
    b2 = G2.add(G2.add(pk.beta2, msm.in_g2(pk.b2_points, witness)), G2.mul(pk.delta2, s))
    stage("B in G1")
    b1 = G1.add(G1.add(pk.beta1, msm.in_g1(pk.b1_points, witness)), G1.mul(pk.delta1, s))

    # C = sum_private w_j C_j + sum_i h_i H_i + s A + r B' - r s delta
    stage("C in G1")
    private = witness[pk.n_public + 1 :]
    c = G1.add(msm.in_g1(pk.c_points, private), msm.in_g1(pk.h_points, h))
    c = G1.add(c, G1.msm([a, b1, pk.delta1], [s, r, -r * s % R]))
    return RawProof(a, b2, c, tuple(witness[1 : pk.n_public + 1]))


def verifying_key(pk: ProvingKey) -> VerifyingKey:
    """The verifying key matching a proving key (snarkjs's `zkey export verificationkey`).

    A key from the dev setup carries the INSECURE notice into the verifying key's JSON."""
    notice = INSECURE_NOTICE if pk.insecure else None
    return verifier.VerifyingKey.from_points(pk.alpha1, pk.beta2, pk.gamma2, pk.delta2, pk.ic, setup_notice=notice)
