"""Reference field arithmetic on Python ints: Fr, Fq and Fq2 = Fq[u]/(u^2 + 1).

Elements of Fr and Fq are ints in [0, modulus). Elements of Fq2 are tuples (c0, c1)
meaning c0 + c1*u, the order snarkjs JSON and .zkey files use (Ethereum's encoding
swaps them; see `_encoding`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ._constants import FR_NQR, FR_TWO_ADICITY, Q, R

Fq2 = tuple[int, int]


def inv_mod(a: int, modulus: int) -> int:
    """Inverse of a modulo a prime; raises ZeroDivisionError for 0."""
    a %= modulus
    if a == 0:
        raise ZeroDivisionError("0 has no inverse")
    return pow(a, -1, modulus)


def batch_inverse(values: Sequence[int], modulus: int) -> list[int]:
    """Inverses of all values with one modular inversion (Montgomery's trick).

    Zeros are allowed and map to zero, so callers can invert sparse vectors.
    """
    n = len(values)
    prefix = [1] * (n + 1)
    acc = 1
    for i, v in enumerate(values):
        prefix[i] = acc
        if v % modulus:
            acc = acc * v % modulus
    inv_acc = pow(acc, -1, modulus)
    out = [0] * n
    for i in range(n - 1, -1, -1):
        v = values[i] % modulus
        if v:
            out[i] = inv_acc * prefix[i] % modulus
            inv_acc = inv_acc * v % modulus
    return out


def fr_root_of_unity(order: int) -> int:
    """A primitive `order`-th root of unity in Fr, as ffjavascript chooses it.

    ffjavascript sets w[28] = nqr^((r-1)/2^28) and w[k-1] = w[k]^2; using the same
    roots makes our evaluation domains line up point by point with snarkjs's.
    """
    if order < 1 or order & (order - 1) or order > 1 << FR_TWO_ADICITY:
        raise ValueError(f"root of unity order must be a power of two <= 2^{FR_TWO_ADICITY}, got {order}")
    w = pow(FR_NQR, (R - 1) >> FR_TWO_ADICITY, R)
    return pow(w, (1 << FR_TWO_ADICITY) // order, R)


# ---- Fq2 -------------------------------------------------------------------------

FQ2_ZERO: Fq2 = (0, 0)
FQ2_ONE: Fq2 = (1, 0)


def fq2_add(a: Fq2, b: Fq2) -> Fq2:
    return ((a[0] + b[0]) % Q, (a[1] + b[1]) % Q)


def fq2_sub(a: Fq2, b: Fq2) -> Fq2:
    return ((a[0] - b[0]) % Q, (a[1] - b[1]) % Q)


def fq2_neg(a: Fq2) -> Fq2:
    return (-a[0] % Q, -a[1] % Q)


def fq2_mul(a: Fq2, b: Fq2) -> Fq2:
    # Karatsuba: (a0 + a1 u)(b0 + b1 u) = a0b0 - a1b1 + ((a0 + a1)(b0 + b1) - a0b0 - a1b1) u
    t0 = a[0] * b[0]
    t1 = a[1] * b[1]
    return ((t0 - t1) % Q, ((a[0] + a[1]) * (b[0] + b[1]) - t0 - t1) % Q)


def fq2_sqr(a: Fq2) -> Fq2:
    # (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u
    return ((a[0] + a[1]) * (a[0] - a[1]) % Q, 2 * a[0] * a[1] % Q)


def fq2_mul_scalar(a: Fq2, k: int) -> Fq2:
    return (a[0] * k % Q, a[1] * k % Q)


def fq2_inv(a: Fq2) -> Fq2:
    # 1/(a0 + a1 u) = (a0 - a1 u) / (a0^2 + a1^2)
    norm = (a[0] * a[0] + a[1] * a[1]) % Q
    if norm == 0:
        raise ZeroDivisionError("0 has no inverse in Fq2")
    t = pow(norm, -1, Q)
    return (a[0] * t % Q, -a[1] * t % Q)


def fq2_is_zero(a: Fq2) -> bool:
    return a[0] % Q == 0 and a[1] % Q == 0


def fq_sqrt(a: int) -> int | None:
    """A square root of a in Fq, or None if a is not a square (q = 3 mod 4)."""
    root = pow(a, (Q + 1) // 4, Q)
    return root if root * root % Q == a % Q else None


def _fq2_pow(a: Fq2, e: int) -> Fq2:
    out = FQ2_ONE
    while e:
        if e & 1:
            out = fq2_mul(out, a)
        a = fq2_sqr(a)
        e >>= 1
    return out


def fq2_sqrt(a: Fq2) -> Fq2 | None:
    """A square root of a in Fq2, or None if a is not a square.

    Algorithm 9 of Adj and Rodriguez-Henriquez, "Square root computation over even
    extension fields" (q = 3 mod 4): with a1 = a^((q-3)/4) and alpha = a1^2 a, the root
    is u a1 a when alpha = -1, else (1 + alpha)^((q-1)/2) a1 a.
    """
    a1 = _fq2_pow(a, (Q - 3) // 4)
    x0 = fq2_mul(a1, a)
    alpha = fq2_mul(a1, x0)
    if alpha == (Q - 1, 0):
        x = fq2_mul((0, 1), x0)
    else:
        x = fq2_mul(_fq2_pow(fq2_add(FQ2_ONE, alpha), (Q - 1) // 2), x0)
    return x if fq2_sqr(x) == (a[0] % Q, a[1] % Q) else None
