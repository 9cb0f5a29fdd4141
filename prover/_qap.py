"""The witness map: from a witness to the scalars of H, as snarkjs computes them.

For the domain of n-th roots w^i, let a_i = (A w)_i, b_i = (B w)_i and c_i = a_i * b_i
(C is implied by A and B on a satisfying witness). The quotient part of the proof needs
P = a*b - c at tau. P has degree < 2n and vanishes on the n-th roots, so it is fixed by
its values on the odd 2n-th roots w_2n^(2i+1) = w_2n * w^i, and the key's H points are
the Lagrange basis of the 2n domain at exactly those points:

    P(tau) = sum_i P(w_2n^(2i+1)) * L_(2i+1)(tau)

Each of a, b, c is moved to that coset by iNTT, multiplying coefficient k by w_2n^k,
and NTT; then h_i = a'_i * b'_i - c'_i. No division by Z(x) is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from algebra import R, fr_root_of_unity, intt, ntt

from ._keys import MatrixEntry


def matrix_times_witness(entries: Sequence[MatrixEntry], witness: Sequence[int], domain_size: int) -> list[int]:
    """(M w)_i for every row i of the domain (rows beyond the matrix are zero)."""
    out = [0] * domain_size
    for row, wire, coef in entries:
        out[row] += coef * witness[wire]
    return [v % R for v in out]


def _to_odd_coset(evals: list[int]) -> list[int]:
    n = len(evals)
    coeffs = intt(evals)
    w2n = fr_root_of_unity(2 * n)
    shift = 1
    for k in range(n):
        coeffs[k] = coeffs[k] * shift % R
        shift = shift * w2n % R
    return ntt(coeffs)


def h_scalars(
    a_coeffs: Sequence[MatrixEntry], b_coeffs: Sequence[MatrixEntry], witness: Sequence[int], domain_size: int
) -> list[int]:
    """The scalars that multiply the key's H points: (a*b - c) on the odd 2n-th roots."""
    a = matrix_times_witness(a_coeffs, witness, domain_size)
    b = matrix_times_witness(b_coeffs, witness, domain_size)
    c = [x * y % R for x, y in zip(a, b)]
    a_odd = _to_odd_coset(a)
    b_odd = _to_odd_coset(b)
    c_odd = _to_odd_coset(c)
    return [(x * y - z) % R for x, y, z in zip(a_odd, b_odd, c_odd)]
