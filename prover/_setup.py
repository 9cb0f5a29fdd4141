"""Single-party Groth16 setup for development and tests. INSECURE.

One process draws the toxic waste (tau, alpha, beta, gamma, delta) and forgets it; anyone
who kept it could forge proofs. Keys made here carry `insecure=True`, and every tool that
writes them says so. Production keys come from a powers-of-tau ceremony plus phase 2.

The key follows snarkjs's .zkey conventions (see `_keys`), so the prover does not care
where a key came from: with the domain's Lagrange polynomials L_i at tau,
    u_j(tau) = sum_i A[i][j] L_i(tau),  v_j likewise from B,  w_j from C,
and public signal i gets the extra A row n_constraints + i (wire 0 included), which
makes the IC points linearly independent (the Groth16 paper's requirement).
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from algebra import (
    FR_TWO_ADICITY,
    G1_GEN,
    G2_GEN,
    R,
    U64Array,
    batch_inverse,
    fr_root_of_unity,
    g1_from_lem,
    g1_sparse_combination,
    g1_to_lem,
    g2_from_lem,
    g2_sparse_combination,
    g2_to_lem,
    ints_to_limbs,
)
from circuits import ConstraintSystem

from ._errors import SetupError
from ._keys import MatrixEntry, ProvingKey

INSECURE_NOTICE = (
    "INSECURE single-party dev setup: one process knew the toxic waste; never use these keys for real value"
)


class InsecureSetupWarning(UserWarning):
    """Issued whenever a single-party dev setup runs."""


def _random_nonzero(rng: Callable[[int], int]) -> int:
    while True:
        v = rng(R)
        if v:
            return v


def constraint_matrices(cs: ConstraintSystem) -> tuple[list[MatrixEntry], list[MatrixEntry], list[MatrixEntry]]:
    """A, B, C of the R1CS as sparse entries, with the public-binding A rows appended."""
    a: list[MatrixEntry] = []
    b: list[MatrixEntry] = []
    c: list[MatrixEntry] = []
    for row, con in enumerate(cs.constraints):
        a.extend((row, w, v) for w, v in con.a.items())
        b.extend((row, w, v) for w, v in con.b.items())
        c.extend((row, w, v) for w, v in con.c.items())
    m = cs.n_constraints
    a.extend((m + i, i, 1) for i in range(cs.n_public + 1))
    return a, b, c


def domain_size_for(n_constraints: int, n_public: int) -> int:
    """Smallest power of two holding every constraint plus the public-binding rows."""
    rows = n_constraints + n_public + 1
    n = 1
    while n < rows:
        n *= 2
    if 2 * n > 1 << FR_TWO_ADICITY:
        raise SetupError(f"circuit needs a domain of {n} rows; BN254 allows at most 2^{FR_TWO_ADICITY - 1}")
    return n


def _lagrange_at(tau: int, n: int) -> list[int]:
    """[L_i(tau)] for the domain of n-th roots: L_i(x) = (x^n - 1) / n * w^i / (x - w^i)."""
    w = fr_root_of_unity(n)
    roots = [1] * n
    for i in range(1, n):
        roots[i] = roots[i - 1] * w % R
    zn = (pow(tau, n, R) - 1) * pow(n, -1, R) % R
    if zn == 0:
        raise SetupError("tau is a root of unity of the domain; draw again")
    inv = batch_inverse([(tau - x) % R for x in roots], R)
    return [zn * x % R * d % R for x, d in zip(roots, inv)]


def _column_values(entries: Sequence[MatrixEntry], lagrange: Sequence[int], n_vars: int) -> list[int]:
    out = [0] * n_vars
    for row, wire, coef in entries:
        out[wire] += coef * lagrange[row]
    return [v % R for v in out]


_G1_BASE = g1_to_lem([G1_GEN])
_G2_BASE = g2_to_lem([G2_GEN])


def _plain_multiples(combination: Callable[..., U64Array], base: U64Array, scalars: Sequence[int]) -> U64Array:
    """[k G for k in scalars] as LEM affine rows, one Straus term per row on the numba
    sparse-combination kernel (a doubling chain per row): the reference for the table
    path below, and what a small key uses."""
    n = len(scalars)
    rows = np.arange(n + 1, dtype=np.int64)
    return combination(base, rows, np.zeros(n, dtype=np.int64), ints_to_limbs([k % R for k in scalars]))


#: Fixed-base window: k G = sum_j d_j (2**(8 j) G) over the 32 bytes d_j of k, each term a
#: row of a precomputed table, so a product is at most 32 additions and no doubling.
_WINDOWS, _DIGITS = 32, 255
#: Below this many products the table (8,160 products itself) costs more than it saves.
_TABLE_MIN = 16_384
_tables: dict[int, U64Array] = {}


def _window_table(combination: Callable[..., U64Array], base: U64Array) -> U64Array:
    """d 2**(8 j) G for j < 32 and 1 <= d <= 255, row j * 255 + d - 1 (made once per process)."""
    key = id(combination)
    if key not in _tables:
        _tables[key] = _plain_multiples(
            combination, base, [d << (8 * j) for j in range(_WINDOWS) for d in range(1, _DIGITS + 1)]
        )
    return _tables[key]


def _generator_multiples(combination: Callable[..., U64Array], base: U64Array, scalars: Sequence[int]) -> U64Array:
    """[k G for k in scalars] as LEM affine rows (`_plain_multiples`'s values): from
    `_TABLE_MIN` products on, each the sum of its bytes' rows of the window table (the
    kernel adds terms of scalar 1 without multiplying). The key's hundreds of thousands
    of fixed-base products take seconds instead of minutes of Python ints."""
    if len(scalars) < _TABLE_MIN:
        return _plain_multiples(combination, base, scalars)
    table = _window_table(combination, base)
    digits = ints_to_limbs([k % R for k in scalars]).view(np.uint8).reshape(len(scalars), _WINDOWS)
    rows, windows = np.nonzero(digits)  # row-major: each product's terms together, in order
    indices = windows.astype(np.int64) * _DIGITS + digits[rows, windows].astype(np.int64) - 1
    indptr = np.zeros(len(scalars) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(scalars)), out=indptr[1:])
    ones = np.zeros((len(indices), 4), dtype=np.uint64)
    ones[:, 0] = 1
    return combination(table, indptr, indices, ones)


def dev_setup(
    cs: ConstraintSystem,
    *,
    randbelow: Callable[[int], int] = secrets.randbelow,
    on_stage: Callable[[str], None] | None = None,
) -> ProvingKey:
    """A Groth16 proving key for `cs` from freshly drawn toxic waste. INSECURE, see module doc."""
    warnings.warn(INSECURE_NOTICE, InsecureSetupWarning, stacklevel=2)
    if cs.n_constraints == 0:
        raise SetupError("the circuit has no constraints")
    stage = on_stage or (lambda _s: None)
    n = domain_size_for(cs.n_constraints, cs.n_public)
    n_vars = cs.n_wires
    a_entries, b_entries, c_entries = constraint_matrices(cs)

    tau, alpha, beta, gamma, delta = (_random_nonzero(randbelow) for _ in range(5))
    stage("lagrange")
    lag = _lagrange_at(tau, n)
    u = _column_values(a_entries, lag, n_vars)
    v = _column_values(b_entries, lag, n_vars)
    w = _column_values(c_entries, lag, n_vars)
    gamma_inv = pow(gamma, -1, R)
    delta_inv = pow(delta, -1, R)
    combined = [(beta * u[j] + alpha * v[j] + w[j]) % R for j in range(n_vars)]
    n_pub = cs.n_public

    stage("A")
    a_points = _generator_multiples(g1_sparse_combination, _G1_BASE, u)
    stage("B1")
    b1_points = _generator_multiples(g1_sparse_combination, _G1_BASE, v)
    stage("B2")
    b2_points = _generator_multiples(g2_sparse_combination, _G2_BASE, v)
    stage("C")
    c_points = _generator_multiples(g1_sparse_combination, _G1_BASE, [x * delta_inv for x in combined[n_pub + 1 :]])
    ic = g1_from_lem(
        _generator_multiples(g1_sparse_combination, _G1_BASE, [x * gamma_inv for x in combined[: n_pub + 1]])
    )
    stage("H")
    lag2 = _lagrange_at(tau, 2 * n)
    h_points = _generator_multiples(g1_sparse_combination, _G1_BASE, [lag2[2 * i + 1] * delta_inv for i in range(n)])
    g1s = g1_from_lem(_generator_multiples(g1_sparse_combination, _G1_BASE, [alpha, beta, delta]))
    g2s = g2_from_lem(_generator_multiples(g2_sparse_combination, _G2_BASE, [beta, gamma, delta]))
    return ProvingKey(
        n_vars=n_vars,
        n_public=n_pub,
        domain_size=n,
        alpha1=g1s[0],
        beta1=g1s[1],
        delta1=g1s[2],
        beta2=g2s[0],
        gamma2=g2s[1],
        delta2=g2s[2],
        a_coeffs=tuple(a_entries),
        b_coeffs=tuple(b_entries),
        a_points=a_points,
        b1_points=b1_points,
        b2_points=b2_points,
        c_points=c_points,
        h_points=h_points,
        ic=tuple(ic),
        insecure=True,
    )
