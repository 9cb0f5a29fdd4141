"""Groth16 phase 2 from a prepared powers-of-tau file, as `snarkjs groth16 setup` does it.

A prepared .ptau holds, for every domain size n, the Lagrange-basis points L_i(tau) G1,
L_i(tau) G2, alpha L_i(tau) G1 and beta L_i(tau) G1. With the R1CS matrices A, B, C
(plus the A row n_constraints + s binding public signal s), every key point is a sparse
combination of them, with no FFT and no secret:

    A_s  = sum_c A[c][s] L_c(tau) G1            B1_s = sum_c B[c][s] L_c(tau) G1
    B2_s = sum_c B[c][s] L_c(tau) G2
    L_s  = sum_c (A[c][s] beta L_c + B[c][s] alpha L_c + C[c][s] L_c)(tau) G1
         -> IC_s for s <= n_public, C_s (the "L" section) for private s

H_i = L'_(2i+1)(tau) G1 over the 2n domain (its odd points); delta starts at the
generator (delta = 1), so phase-2 contributions (`_contribute`) are what make the key
safe. The circuit hash covers the initial key as snarkjs hashes it, so `snarkjs zkey
verify` accepts our keys and theirs interchangeably.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from algebra import G1_GEN, G2_GEN, g1_from_lem, g1_sparse_combination, g2_sparse_combination, limbs_to_ints
from circuits import R1csFile

from ._csr import group_by_output
from ._keys import ProvingKey
from ._mpc_hash import cs_hash, tau_g1_rows_needed
from ._ptau_file import (
    PTAU_SECTION_LAGRANGE_ALPHA_TAU_G1,
    PTAU_SECTION_LAGRANGE_BETA_TAU_G1,
    PTAU_SECTION_LAGRANGE_TAU_G1,
    PtauFile,
    PtauTooSmallError,
)
from ._setup import domain_size_for
from ._zkey_file import SNARKJS_SETUP_SECTION_ORDER, ZkeyFile

_ONE_LIMBS = np.array([[1, 0, 0, 0]], dtype=np.uint64)


def new_zkey(r1cs: R1csFile, ptau: PtauFile, *, on_stage: Callable[[str], None] | None = None) -> ZkeyFile:
    """The initial (delta = 1, no contribution) Groth16 key for `r1cs` from `ptau`."""
    stage = on_stage or (lambda _s: None)
    n = _domain_size(r1cs, ptau)
    a, b = _query_terms(r1cs)
    q = _query_points(r1cs, ptau, n, a, b, stage)
    stage("coefficients")
    key = ProvingKey(
        n_vars=r1cs.n_wires,
        n_public=r1cs.n_public,
        domain_size=n,
        alpha1=ptau.alpha1,
        beta1=ptau.beta1,
        beta2=ptau.beta2,
        gamma2=G2_GEN,
        delta1=G1_GEN,
        delta2=G2_GEN,
        a_coeffs=tuple(zip(a[0].tolist(), a[1].tolist(), limbs_to_ints(a[2]))),
        b_coeffs=tuple(zip(b[0].tolist(), b[1].tolist(), limbs_to_ints(b[2]))),
        a_points=q.a,
        b1_points=q.b1,
        b2_points=q.b2,
        c_points=q.c,
        h_points=q.h,
        ic=tuple(g1_from_lem(q.ic)),
    )
    zkey = dataclasses.replace(ZkeyFile.from_proving_key(key), section_order=SNARKJS_SETUP_SECTION_ORDER)
    stage("circuit hash")
    digest = cs_hash(
        alpha1=zkey.alpha1,
        beta1=zkey.beta1,
        beta2=zkey.beta2,
        ic=q.ic,
        tau_g1=ptau.tau_g1_rows(tau_g1_rows_needed(n)),
        c=q.c,
        a=q.a,
        b1=q.b1,
        b2=q.b2,
        domain_size=n,
    )
    return zkey.with_mpc_params(digest, ())


def _domain_size(r1cs: R1csFile, ptau: PtauFile) -> int:
    """The evaluation domain for the circuit; PtauTooSmallError if the ptau cannot hold it."""
    m, n_pub = r1cs.n_constraints, r1cs.n_public
    n = domain_size_for(m, n_pub)
    if n > ptau.max_domain_size:
        raise PtauTooSmallError(
            f"circuit needs a domain of 2^{n.bit_length() - 1} rows ({m} constraints + {n_pub + 1} public rows), "
            f"ptau {ptau.name} holds up to 2^{ptau.power}"
        )
    return n


_Terms = tuple[Any, Any, Any]  # (rows int64, wires int64, coefficients (k, 4) uint64 limbs)


def _query_terms(r1cs: R1csFile) -> tuple[_Terms, _Terms]:
    """(rows, wires, coefficients) of A, with the binding rows A[m + s][s] = 1 for
    s = 0..n_public appended, and of B."""
    mat_a, mat_b, _ = r1cs.matrices
    bind_s = np.arange(r1cs.n_public + 1, dtype=np.int64)
    bind_one = np.repeat(_ONE_LIMBS, r1cs.n_public + 1, axis=0)
    a = (
        np.concatenate([mat_a.rows, r1cs.n_constraints + bind_s]),
        np.concatenate([mat_a.wires.astype(np.int64), bind_s]),
        np.concatenate([mat_a.coefs, bind_one]),
    )
    return a, (mat_b.rows, mat_b.wires.astype(np.int64), mat_b.coefs)


@dataclass(frozen=True)
class _QueryPoints:
    a: Any
    b1: Any
    b2: Any
    ic: Any
    c: Any
    h: Any


def _query_points(
    r1cs: R1csFile, ptau: PtauFile, n: int, a: _Terms, b: _Terms, stage: Callable[[str], None]
) -> _QueryPoints:
    """The key's point sections: sparse combinations of the ptau's Lagrange points."""
    n_pub, n_vars = r1cs.n_public, r1cs.n_wires
    tau = ptau.lagrange_g1(PTAU_SECTION_LAGRANGE_TAU_G1, n)  # raises if the ptau is too small
    alpha = ptau.lagrange_g1(PTAU_SECTION_LAGRANGE_ALPHA_TAU_G1, n)
    beta = ptau.lagrange_g1(PTAU_SECTION_LAGRANGE_BETA_TAU_G1, n)
    tau2 = ptau.lagrange_g2(n)
    (a_rows, a_wires, a_coefs), (b_rows, b_wires, b_coefs) = a, b
    mat_c = r1cs.matrices[2]
    stage("A")
    a_points = g1_sparse_combination(tau, *group_by_output(a_wires, a_rows, a_coefs, n_vars))
    stage("B1")
    b_csr = group_by_output(b_wires, b_rows, b_coefs, n_vars)
    b1_points = g1_sparse_combination(tau, *b_csr)
    stage("B2")
    b2_points = g2_sparse_combination(tau2, *b_csr)
    stage("C")
    # One point table [tau | alpha tau | beta tau]: A terms take beta, B terms alpha, C terms tau.
    table = np.ascontiguousarray(np.concatenate([tau, alpha, beta]))
    l_wires = np.concatenate([a_wires, b_wires, mat_c.wires.astype(np.int64)])
    l_points = np.concatenate([2 * n + a_rows, n + b_rows, mat_c.rows])
    l_coefs = np.concatenate([a_coefs, b_coefs, mat_c.coefs])
    l_all = g1_sparse_combination(table, *group_by_output(l_wires, l_points, l_coefs, n_vars))
    stage("H")
    h_points = np.ascontiguousarray(ptau.lagrange_g1(PTAU_SECTION_LAGRANGE_TAU_G1, 2 * n)[1::2])
    ic, c_points = l_all[: n_pub + 1], np.ascontiguousarray(l_all[n_pub + 1 :])
    return _QueryPoints(a_points, b1_points, b2_points, ic, c_points, h_points)
