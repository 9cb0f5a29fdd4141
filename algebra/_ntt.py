"""Radix-2 number-theoretic transform over Fr on Python ints (reference twin).

`ntt(a)[i] = sum_j a[j] * w^(i*j)` with w = fr_root_of_unity(len(a)), the root
ffjavascript uses, so evaluation points are ordered as in snarkjs.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._constants import R
from ._field import fr_root_of_unity


def _bit_reverse_copy(a: Sequence[int]) -> list[int]:
    n = len(a)
    bits = n.bit_length() - 1
    out = [0] * n
    for i, v in enumerate(a):
        out[int(format(i, f"0{bits}b")[::-1], 2) if bits else 0] = v % R
    return out


def _transform(a: Sequence[int], root: int) -> list[int]:
    n = len(a)
    if n & (n - 1) or n == 0:
        raise ValueError(f"NTT length must be a power of two, got {n}")
    out = _bit_reverse_copy(a)
    m = 1
    while m < n:
        w_m = pow(root, n // (2 * m), R)
        twiddles = [1] * m
        for k in range(1, m):
            twiddles[k] = twiddles[k - 1] * w_m % R
        for start in range(0, n, 2 * m):
            for k in range(m):
                t = twiddles[k] * out[start + k + m] % R
                u = out[start + k]
                out[start + k] = (u + t) % R
                out[start + k + m] = (u - t) % R
        m *= 2
    return out


def ntt(a: Sequence[int]) -> list[int]:
    """Evaluations of the polynomial with coefficients a on the len(a)-th roots of unity."""
    return _transform(a, fr_root_of_unity(len(a)))


def intt(a: Sequence[int]) -> list[int]:
    """Coefficients of the polynomial with evaluations a on the len(a)-th roots of unity."""
    n = len(a)
    out = _transform(a, pow(fr_root_of_unity(n), -1, R))
    n_inv = pow(n, -1, R)
    return [v * n_inv % R for v in out]
