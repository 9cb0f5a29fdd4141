"""The optimal ate pairing of BN254 on Python ints, in snarkjs's tower: the reference
twin of the pairing kernels, written step for step as they are.

Miller loop (Vercauteren's optimal ate, D-type twist): walk the signed digits of
6x + 2 from the top; at each digit square f, double T (in homogeneous projective
coordinates on the twist E': y^2 = x^3 + b') and multiply f by the tangent line at P;
at a digit of +-1 add +-Q and multiply by that chord. Then add pi(Q) and -pi^2(Q), the
twist's Frobenius images. A line through points of E', evaluated at P = (xP, yP) of
E(Fq), is the sparse element r0 yP + r1 xP w + r2 w^3 (doubling and addition formulas
of Costello, Lange and Naehrig, eprint 2009/615, as gnark writes them): only 3 of its 6
Fq2 coefficients are nonzero. A multi-Miller loop shares one squaring of f between all
pairs, so a product of n pairings costs n line steps but one squaring chain.

Final exponentiation to (q^12 - 1) / r: the easy part (q^6 - 1)(q^2 + 1) by a conjugate,
an inverse and a Frobenius; the hard part (q^4 - q^2 + 1) / r by the addition chain of
Fuentes-Castaneda, Knapp and Rodriguez-Henriquez in x, which raises to that power times
m = 2x(6x^2 + 3x + 1), as ffjavascript (snarkjs) and gnark do. So `pairing` equals
snarkjs's `curve.pairing` and py-ecc's pairing to the power m; m is prime to r, so
`pairing_check` (product == 1) decides exactly what py-ecc's decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._constants import BN_X, G2_B, Q
from ._curve import G1, G2, G1Point, G2Point, g2_psi
from ._field import fq2_add, fq2_mul, fq2_mul_scalar, fq2_neg, fq2_sqr, fq2_sub
from ._lem import fq_to_lem
from ._tower import (
    FQ2_ZERO,
    FQ12_ONE,
    Fq2,
    Fq12,
    fq12_conj,
    fq12_cyclotomic_sqr,
    fq12_frobenius,
    fq12_inv,
    fq12_mul,
    fq12_pow,
    fq12_sqr,
)

#: The power of py-ecc's pairing that the hard part's addition chain computes.
GT_EXPONENT = 2 * BN_X * (6 * BN_X * BN_X + 3 * BN_X + 1)


def _naf(n: int) -> list[int]:
    """Non-adjacent form of n, least significant digit first (digits in -1, 0, 1)."""
    digits = []
    while n:
        d = (2 - n % 4) if n % 2 else 0
        digits.append(d)
        n = (n - d) // 2
    return digits


#: Signed digits of 6x + 2, most significant first; the leading 1 is T = Q.
ATE_LOOP_DIGITS: tuple[int, ...] = tuple(reversed(_naf(6 * BN_X + 2)))

_HALF = pow(2, -1, Q)

#: A point of E' in homogeneous projective coordinates (X, Y, Z): x = X/Z, y = Y/Z.
Proj = tuple[Fq2, Fq2, Fq2]
#: The Fq2 coefficients (r0, r1, r2) of a line: r0 yP + r1 xP w + r2 w^3.
Line = tuple[Fq2, Fq2, Fq2]


def double_step(t: Proj) -> tuple[Proj, Line]:
    """2T and the tangent line at T (eprint 2013/722, section 4.3)."""
    x, y, z = t
    a = fq2_mul_scalar(fq2_mul(x, y), _HALF)
    b, c = fq2_sqr(y), fq2_sqr(z)
    e = fq2_mul(G2_B, fq2_mul_scalar(c, 3))
    f = fq2_mul_scalar(e, 3)
    g = fq2_mul_scalar(fq2_add(b, f), _HALF)
    h = fq2_sub(fq2_sqr(fq2_add(y, z)), fq2_add(b, c))
    x3 = fq2_mul(a, fq2_sub(b, f))
    y3 = fq2_sub(fq2_sqr(g), fq2_mul_scalar(fq2_sqr(e), 3))
    z3 = fq2_mul(b, h)
    return (x3, y3, z3), (fq2_neg(h), fq2_mul_scalar(fq2_sqr(x), 3), fq2_sub(e, b))


def add_step(t: Proj, q: G2Point) -> tuple[Proj, Line]:
    """T + Q (Q affine) and the chord through T and Q."""
    x, y, z = t
    o = fq2_sub(y, fq2_mul(q[1], z))
    lam = fq2_sub(x, fq2_mul(q[0], z))
    c, d = fq2_sqr(o), fq2_sqr(lam)
    e = fq2_mul(lam, d)
    f = fq2_mul(z, c)
    g = fq2_mul(x, d)
    h = fq2_sub(fq2_add(e, f), fq2_mul_scalar(g, 2))
    x3 = fq2_mul(lam, h)
    y3 = fq2_sub(fq2_mul(fq2_sub(g, h), o), fq2_mul(y, e))
    z3 = fq2_mul(e, z)
    return (x3, y3, z3), _chord(lam, o, q)


def line_step(t: Proj, q: G2Point) -> Line:
    """The chord through T and Q alone (the last step, whose sum is not needed)."""
    x, y, z = t
    return _chord(fq2_sub(x, fq2_mul(q[0], z)), fq2_sub(y, fq2_mul(q[1], z)), q)


def _chord(lam: Fq2, o: Fq2, q: G2Point) -> Line:
    return (lam, fq2_neg(o), fq2_sub(fq2_mul(q[0], o), fq2_mul(lam, q[1])))


def line_at(line: Line, p: G1Point) -> Fq12:
    """The line as an Fq12 element at P: r0 yP at w^0, r1 xP at w^1, r2 at w^3."""
    r0, r1, r2 = line
    return ((fq2_mul_scalar(r0, p[1]), FQ2_ZERO, FQ2_ZERO), (fq2_mul_scalar(r1, p[0]), r2, FQ2_ZERO))


def twist_frobenius(q: G2Point, k: int) -> G2Point:
    """pi^k(Q) on the twist, k = 1 or 2 (psi and psi^2 of `_curve`)."""
    return g2_psi(q) if k == 1 else g2_psi(g2_psi(q))


def g2_lines(q: G2Point) -> list[Line]:
    """Every line of Q's Miller loop, in the order the loop multiplies them in. They
    depend on Q alone: a fixed Q (a verifying key's gamma and delta) is prepared once
    and each later loop only evaluates its lines at P."""
    t: Proj = (q[0], q[1], (1, 0))
    lines = []
    for digit in ATE_LOOP_DIGITS[1:]:
        t, line = double_step(t)
        lines.append(line)
        if digit:
            t, line = add_step(t, q if digit == 1 else G2.neg(q))
            lines.append(line)
    t, line = add_step(t, twist_frobenius(q, 1))
    lines.append(line)
    lines.append(line_step(t, G2.neg(twist_frobenius(q, 2))))
    return lines


#: The number of lines of one Miller loop.
N_LINES = len(ATE_LOOP_DIGITS) - 1 + sum(1 for d in ATE_LOOP_DIGITS[1:] if d) + 2


@dataclass(frozen=True, eq=False)  # numpy field
class PreparedG2:
    """A fixed G2 point with its Miller-loop lines (`g2_lines`), computed once: as Python
    ints for the reference loop and as Montgomery limbs, (N_LINES, 3, 2, 4) uint64, for
    the kernels."""

    point: G2Point
    lines: tuple[Line, ...]
    limbs: npt.NDArray[np.uint64]

    @classmethod
    def of(cls, q: G2Point) -> PreparedG2:
        """Q prepared (Q must be a valid point of G2 other than infinity)."""
        if G2.is_infinity(q):
            raise ValueError("the point at infinity has no Miller loop to prepare")
        lines = tuple(g2_lines(q))
        flat = [c for line in lines for fq2 in line for c in fq2]
        return cls(q, lines, fq_to_lem(flat).reshape(len(lines), 3, 2, 4))


def miller_loop(pairs: Sequence[tuple[G1Point, G2Point]], prepared: Sequence[tuple[G1Point, PreparedG2]] = ()) -> Fq12:
    """The product of the Miller loops of the pairs, with one shared squaring chain; a
    `prepared` pair gives Q's lines (`g2_lines`) instead of Q. Pairs with a point at
    infinity contribute 1 (a prepared Q must not be infinity)."""
    streams: list[tuple[G1Point, Sequence[Line]]] = [
        (p, g2_lines(q)) for p, q in pairs if not (G1.is_infinity(p) or G2.is_infinity(q))
    ]
    streams += [(p, q.lines) for p, q in prepared if not G1.is_infinity(p)]
    f = FQ12_ONE
    k = 0
    for digit in ATE_LOOP_DIGITS[1:]:
        f = fq12_sqr(f)
        for p, lines in streams:
            f = fq12_mul(f, line_at(lines[k], p))
            if digit:
                f = fq12_mul(f, line_at(lines[k + 1], p))
        k += 2 if digit else 1
    for p, lines in streams:
        f = fq12_mul(f, line_at(lines[k], p))
        f = fq12_mul(f, line_at(lines[k + 1], p))
    return f


def _expt(a: Fq12) -> Fq12:
    """a^x (the kernel uses cyclotomic squarings)."""
    return fq12_pow(a, BN_X)


def final_exponentiation(f: Fq12) -> Fq12:
    """f^((q^12 - 1)/r * m), m = GT_EXPONENT (module doc); ZeroDivisionError for f = 0."""
    # easy part: f^((q^6 - 1)(q^2 + 1)), now in the cyclotomic subgroup
    t = fq12_mul(fq12_conj(f), fq12_inv(f))
    f = fq12_mul(fq12_frobenius(t, 2), t)
    # hard part: Fuentes-Castaneda et al.'s chain in x
    t0 = fq12_cyclotomic_sqr(fq12_conj(_expt(f)))
    t1 = fq12_mul(t0, fq12_cyclotomic_sqr(t0))
    t2 = fq12_conj(_expt(t1))
    t1 = fq12_mul(t2, fq12_conj(t1))
    t3 = fq12_cyclotomic_sqr(t2)
    t4 = fq12_mul(t1, _expt(t3))
    t3 = fq12_mul(t0, t4)
    t0 = fq12_mul(f, fq12_mul(t2, t4))
    t0 = fq12_mul(fq12_frobenius(t3, 1), t0)
    t0 = fq12_mul(fq12_frobenius(t4, 2), t0)
    t2 = fq12_frobenius(fq12_mul(fq12_conj(f), t3), 3)
    return fq12_mul(t2, t0)


def pairing(p: G1Point, q: G2Point) -> Fq12:
    """e(P, Q) in the tower, as snarkjs computes it (py-ecc's to the power GT_EXPONENT)."""
    return final_exponentiation(miller_loop([(p, q)]))


def pairing_check(
    pairs: Sequence[tuple[G1Point, G2Point]],
    prepared: Sequence[tuple[G1Point, PreparedG2]] = (),
    factor: Fq12 = FQ12_ONE,
) -> bool:
    """True iff factor times the product of the pairs' Miller loops exponentiates to 1:
    one multi-Miller loop, one final exponentiation. `factor` is a Miller loop computed
    earlier (a verifying key's e(alpha, beta) before exponentiation). Points must
    already be validated (curve, subgroup)."""
    return final_exponentiation(fq12_mul(miller_loop(pairs, prepared), factor)) == FQ12_ONE


__all__ = [
    "ATE_LOOP_DIGITS",
    "GT_EXPONENT",
    "add_step",
    "double_step",
    "N_LINES",
    "PreparedG2",
    "final_exponentiation",
    "g2_lines",
    "line_at",
    "line_step",
    "miller_loop",
    "pairing",
    "pairing_check",
    "twist_frobenius",
]
