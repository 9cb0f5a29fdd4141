"""Fq6 and Fq12 of BN254 in snarkjs's tower, on Python ints: the reference twins of the
pairing kernels.

    Fq2  = Fq[u] / (u^2 + 1)
    Fq6  = Fq2[v] / (v^3 - xi),  xi = 9 + u
    Fq12 = Fq6[w] / (w^2 - v)

An Fq6 element is a triple (c0, c1, c2) = c0 + c1 v + c2 v^2 of Fq2 pairs; an Fq12
element a pair (d0, d1) = d0 + d1 w of Fq6 triples: ((c00, c01, c02), (c10, c11, c12)),
the layout of snarkjs's JSON (vk_alphabeta_12) and of gnark's E12. Since w^2 = v, the
coefficient c_ij sits at w^(2j + i): the "w basis" below lists them by that power.

py-ecc's FQ12 is another basis of the same field (Fq[W] / (W^12 - 18 W^6 + 82), W = w,
u = W^6 - 9); `fq12_from_pyecc` / `fq12_to_pyecc` convert, so py-ecc stays the oracle.
"""

from __future__ import annotations

from typing import Any

from ._constants import Q
from ._field import fq2_add, fq2_inv, fq2_mul, fq2_neg, fq2_sqr, fq2_sub

Fq2 = tuple[int, int]
Fq6 = tuple[Fq2, Fq2, Fq2]
Fq12 = tuple[Fq6, Fq6]

#: The cubic non-residue of Fq6: v^3 = xi = 9 + u.
XI: Fq2 = (9, 1)
FQ2_ZERO: Fq2 = (0, 0)
FQ2_ONE: Fq2 = (1, 0)
FQ6_ZERO: Fq6 = (FQ2_ZERO, FQ2_ZERO, FQ2_ZERO)
FQ6_ONE: Fq6 = (FQ2_ONE, FQ2_ZERO, FQ2_ZERO)
FQ12_ONE: Fq12 = (FQ6_ONE, FQ6_ZERO)


def fq2_conj(a: Fq2) -> Fq2:
    """a^q: the Frobenius map of Fq2 (u^q = -u)."""
    return (a[0], -a[1] % Q)


def fq2_mul_xi(a: Fq2) -> Fq2:
    """a * (9 + u) = (9 a0 - a1) + (a0 + 9 a1) u."""
    return ((9 * a[0] - a[1]) % Q, (a[0] + 9 * a[1]) % Q)


# ---- Fq6 ------------------------------------------------------------------------------------


def fq6_add(a: Fq6, b: Fq6) -> Fq6:
    return (fq2_add(a[0], b[0]), fq2_add(a[1], b[1]), fq2_add(a[2], b[2]))


def fq6_sub(a: Fq6, b: Fq6) -> Fq6:
    return (fq2_sub(a[0], b[0]), fq2_sub(a[1], b[1]), fq2_sub(a[2], b[2]))


def fq6_neg(a: Fq6) -> Fq6:
    return (fq2_neg(a[0]), fq2_neg(a[1]), fq2_neg(a[2]))


def fq6_mul(a: Fq6, b: Fq6) -> Fq6:
    """Karatsuba over Fq2 (6 Fq2 products), reducing v^3 = xi."""
    t0, t1, t2 = fq2_mul(a[0], b[0]), fq2_mul(a[1], b[1]), fq2_mul(a[2], b[2])
    c0 = fq2_sub(fq2_mul(fq2_add(a[1], a[2]), fq2_add(b[1], b[2])), fq2_add(t1, t2))  # a1b2 + a2b1
    c1 = fq2_sub(fq2_mul(fq2_add(a[0], a[1]), fq2_add(b[0], b[1])), fq2_add(t0, t1))  # a0b1 + a1b0
    c2 = fq2_sub(fq2_mul(fq2_add(a[0], a[2]), fq2_add(b[0], b[2])), fq2_add(t0, t2))  # a0b2 + a2b0
    return (fq2_add(t0, fq2_mul_xi(c0)), fq2_add(c1, fq2_mul_xi(t2)), fq2_add(c2, t1))


def fq6_sqr(a: Fq6) -> Fq6:
    return fq6_mul(a, a)


def fq6_mul_by_v(a: Fq6) -> Fq6:
    """a * v: (c0, c1, c2) -> (xi c2, c0, c1)."""
    return (fq2_mul_xi(a[2]), a[0], a[1])


def fq6_mul_fq2(a: Fq6, k: Fq2) -> Fq6:
    return (fq2_mul(a[0], k), fq2_mul(a[1], k), fq2_mul(a[2], k))


def fq6_inv(a: Fq6) -> Fq6:
    """1/a by the norm to Fq2 (ZeroDivisionError for 0)."""
    c0 = fq2_sub(fq2_sqr(a[0]), fq2_mul_xi(fq2_mul(a[1], a[2])))
    c1 = fq2_sub(fq2_mul_xi(fq2_sqr(a[2])), fq2_mul(a[0], a[1]))
    c2 = fq2_sub(fq2_sqr(a[1]), fq2_mul(a[0], a[2]))
    norm = fq2_add(fq2_mul(a[0], c0), fq2_mul_xi(fq2_add(fq2_mul(a[2], c1), fq2_mul(a[1], c2))))
    t = fq2_inv(norm)
    return (fq2_mul(c0, t), fq2_mul(c1, t), fq2_mul(c2, t))


# ---- Fq12 -----------------------------------------------------------------------------------


def fq12_mul(a: Fq12, b: Fq12) -> Fq12:
    """Karatsuba over Fq6 (3 Fq6 products), reducing w^2 = v."""
    t0, t1 = fq6_mul(a[0], b[0]), fq6_mul(a[1], b[1])
    c1 = fq6_sub(fq6_mul(fq6_add(a[0], a[1]), fq6_add(b[0], b[1])), fq6_add(t0, t1))
    return (fq6_add(t0, fq6_mul_by_v(t1)), c1)


def fq12_sqr(a: Fq12) -> Fq12:
    return fq12_mul(a, a)


def fq12_conj(a: Fq12) -> Fq12:
    """d0 - d1 w = a^(q^6): the inverse of an element of the cyclotomic subgroup."""
    return (a[0], fq6_neg(a[1]))


def fq12_inv(a: Fq12) -> Fq12:
    """1/a = (d0 - d1 w) / (d0^2 - v d1^2) (ZeroDivisionError for 0)."""
    t = fq6_inv(fq6_sub(fq6_sqr(a[0]), fq6_mul_by_v(fq6_sqr(a[1]))))
    return (fq6_mul(a[0], t), fq6_neg(fq6_mul(a[1], t)))


def fq12_pow(a: Fq12, e: int) -> Fq12:
    """a^e for e >= 0, square and multiply."""
    out = FQ12_ONE
    for bit in bin(e)[2:]:
        out = fq12_sqr(out)
        if bit == "1":
            out = fq12_mul(out, a)
    return out


def fq12_cyclotomic_sqr(a: Fq12) -> Fq12:
    """a^2 for a in the cyclotomic subgroup (the kernel's shortcut); here, a plain square."""
    return fq12_sqr(a)


def _w_basis(a: Fq12) -> list[Fq2]:
    """The Fq2 coefficients of a at w^0, ..., w^5 (c_ij at w^(2j + i))."""
    return [a[k % 2][k // 2] for k in range(6)]


def _from_w_basis(c: list[Fq2]) -> Fq12:
    return ((c[0], c[2], c[4]), (c[1], c[3], c[5]))


def _frobenius_constants(k: int) -> list[Fq2]:
    """gamma_i = xi^(i (q^k - 1) / 6): (w^i)^(q^k) = gamma_i w^i."""
    e = (Q**k - 1) // 6
    base = FQ2_ONE
    x = XI
    for bit in bin(e)[2:]:  # xi^e by square and multiply in Fq2
        base = fq2_sqr(base)
        if bit == "1":
            base = fq2_mul(base, x)
    out = [FQ2_ONE]
    for _ in range(5):
        out.append(fq2_mul(out[-1], base))
    return out


#: gamma constants of the Frobenius maps a -> a^(q^k), k = 1, 2, 3.
FROBENIUS_GAMMA: dict[int, list[Fq2]] = {k: _frobenius_constants(k) for k in (1, 2, 3)}


def fq12_frobenius(a: Fq12, k: int = 1) -> Fq12:
    """a^(q^k) for k = 1, 2, 3: each Fq2 coefficient to its q^k-th power (conjugated for
    odd k), times gamma_i at w^i."""
    gamma = FROBENIUS_GAMMA[k]
    c = _w_basis(a)
    return _from_w_basis([fq2_mul(fq2_conj(ci) if k % 2 else ci, g) for ci, g in zip(c, gamma, strict=True)])


# ---- py-ecc's basis ---------------------------------------------------------------------------


def fq12_from_pyecc(value: Any) -> Fq12:
    """A py-ecc FQ12 (twelve Fq coefficients of W^0..W^11) in the tower: the Fq2
    coefficient a + b u at w^k is (a - 9 b) W^k + b W^(k+6), since u = W^6 - 9."""
    coeffs = [int(c) for c in value.coeffs]
    return _from_w_basis([((coeffs[k] + 9 * coeffs[k + 6]) % Q, coeffs[k + 6] % Q) for k in range(6)])


def fq12_to_pyecc_coeffs(a: Fq12) -> list[int]:
    """The twelve coefficients of py-ecc's FQ12 equal to a (inverse of fq12_from_pyecc)."""
    low, high = [], []
    for re, im in _w_basis(a):
        low.append((re - 9 * im) % Q)
        high.append(im)
    return low + high
