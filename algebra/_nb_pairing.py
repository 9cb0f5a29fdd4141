"""numba kernels of the optimal ate pairing: Fq6/Fq12 in snarkjs's tower, the
multi-Miller loop and the final exponentiation, on `_nb_field`'s Montgomery tuples.

Each function is the step-for-step twin of its Python-int reference in `_tower` and
`_ate` (same tower, same formulas, same order of operations), tested against it.
Elements are passed by value: Fq2 a pair of Fq, Fq6 a triple of Fq2, Fq12 a pair of
Fq6, so nothing inside the loop touches the heap. Two savings over the reference:

- a line r0 yP + r1 xP w + r2 w^3 has three nonzero Fq2 coefficients, and `fq12_mul_034`
  multiplies f by it with 13 Fq2 products instead of 18 (and no Fq6 reduction of zeros);
- in the final exponentiation's hard part, squarings of cyclotomic elements use Granger
  and Scott's formula (eprint 2009/565): 9 Fq2 squarings instead of an Fq12 product.

Private module: `_pairing_kernels` validates and dispatches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from ._ate import ATE_LOOP_DIGITS
from ._constants import BN_X, G2_B, Q
from ._lem import MONT_R_Q
from ._nb_field import (
    _limbs,
    fq2_add,
    fq2_dbl,
    fq2_mul,
    fq2_neg,
    fq2_one,
    fq2_sqr,
    fq2_sub,
    fq2_zero,
    fq_add,
    fq_inv,
    fq_mul,
    fq_neg,
    fq_sub,
)
from ._tower import FROBENIUS_GAMMA

# ---- constants in Montgomery form ------------------------------------------------------


def _m(v: int) -> Any:
    return _limbs(v * MONT_R_Q % Q)


def _m2(v: tuple[int, int]) -> Any:
    return (_m(v[0]), _m(v[1]))


_TWIST_B = _m2(G2_B)
_HALF = _m(pow(2, -1, Q))
_GAMMA1 = tuple(_m2(g) for g in FROBENIUS_GAMMA[1])
_GAMMA2 = tuple(_m2(g) for g in FROBENIUS_GAMMA[2])
_GAMMA3 = tuple(_m2(g) for g in FROBENIUS_GAMMA[3])
_LOOP = np.array(ATE_LOOP_DIGITS[1:], dtype=np.int8)


def _naf(k: int) -> list[int]:
    """Non-adjacent form of k > 0, most significant digit first."""
    digits = []
    while k:
        d = 2 - k % 4 if k & 1 else 0
        digits.append(d)
        k = (k - d) // 2
    return digits[::-1]


#: The NAF digits of x after the leading 1.
_X_NAF = np.array(_naf(BN_X)[1:], dtype=np.int8)


# ---- Fq2 helpers ------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _fq_times9(a: Any) -> Any:
    a2 = fq_add(a, a)
    a4 = fq_add(a2, a2)
    a8 = fq_add(a4, a4)
    return fq_add(a8, a)


@njit(cache=True, nogil=True)
def fq2_by_xi(a: Any) -> Any:
    """a * (9 + u) = (9 a0 - a1) + (a0 + 9 a1) u."""
    return (fq_sub(_fq_times9(a[0]), a[1]), fq_add(a[0], _fq_times9(a[1])))


@njit(cache=True, nogil=True)
def fq2_conj(a: Any) -> Any:
    return (a[0], fq_neg(a[1]))


@njit(cache=True, nogil=True)
def fq2_mul_fq(a: Any, k: Any) -> Any:
    return (fq_mul(a[0], k), fq_mul(a[1], k))


@njit(cache=True, nogil=True)
def fq2_triple(a: Any) -> Any:
    return fq2_add(fq2_dbl(a), a)


# ---- Fq6 ----------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def fq6_zero() -> Any:
    return (fq2_zero(), fq2_zero(), fq2_zero())


@njit(cache=True, nogil=True)
def fq6_one() -> Any:
    return (fq2_one(), fq2_zero(), fq2_zero())


@njit(cache=True, nogil=True)
def fq6_add(a: Any, b: Any) -> Any:
    return (fq2_add(a[0], b[0]), fq2_add(a[1], b[1]), fq2_add(a[2], b[2]))


@njit(cache=True, nogil=True)
def fq6_sub(a: Any, b: Any) -> Any:
    return (fq2_sub(a[0], b[0]), fq2_sub(a[1], b[1]), fq2_sub(a[2], b[2]))


@njit(cache=True, nogil=True)
def fq6_neg(a: Any) -> Any:
    return (fq2_neg(a[0]), fq2_neg(a[1]), fq2_neg(a[2]))


@njit(cache=True, nogil=True)
def fq6_mul(a: Any, b: Any) -> Any:
    """Karatsuba over Fq2 (6 Fq2 products), reducing v^3 = xi."""
    t0, t1, t2 = fq2_mul(a[0], b[0]), fq2_mul(a[1], b[1]), fq2_mul(a[2], b[2])
    c0 = fq2_sub(fq2_mul(fq2_add(a[1], a[2]), fq2_add(b[1], b[2])), fq2_add(t1, t2))
    c1 = fq2_sub(fq2_mul(fq2_add(a[0], a[1]), fq2_add(b[0], b[1])), fq2_add(t0, t1))
    c2 = fq2_sub(fq2_mul(fq2_add(a[0], a[2]), fq2_add(b[0], b[2])), fq2_add(t0, t2))
    return (fq2_add(t0, fq2_by_xi(c0)), fq2_add(c1, fq2_by_xi(t2)), fq2_add(c2, t1))


@njit(cache=True, nogil=True)
def fq6_mul_by_v(a: Any) -> Any:
    return (fq2_by_xi(a[2]), a[0], a[1])


@njit(cache=True, nogil=True)
def fq6_inv(a: Any) -> Any:
    c0 = fq2_sub(fq2_sqr(a[0]), fq2_by_xi(fq2_mul(a[1], a[2])))
    c1 = fq2_sub(fq2_by_xi(fq2_sqr(a[2])), fq2_mul(a[0], a[1]))
    c2 = fq2_sub(fq2_sqr(a[1]), fq2_mul(a[0], a[2]))
    norm = fq2_add(fq2_mul(a[0], c0), fq2_by_xi(fq2_add(fq2_mul(a[2], c1), fq2_mul(a[1], c2))))
    nt = fq_inv(fq_add(fq_mul(norm[0], norm[0]), fq_mul(norm[1], norm[1])))
    t = (fq_mul(norm[0], nt), fq_neg(fq_mul(norm[1], nt)))
    return (fq2_mul(c0, t), fq2_mul(c1, t), fq2_mul(c2, t))


# ---- Fq12 ---------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def fq12_one() -> Any:
    return (fq6_one(), fq6_zero())


@njit(cache=True, nogil=True)
def fq12_mul(a: Any, b: Any) -> Any:
    t0, t1 = fq6_mul(a[0], b[0]), fq6_mul(a[1], b[1])
    c1 = fq6_sub(fq6_mul(fq6_add(a[0], a[1]), fq6_add(b[0], b[1])), fq6_add(t0, t1))
    return (fq6_add(t0, fq6_mul_by_v(t1)), c1)


@njit(cache=True, nogil=True)
def fq12_sqr(a: Any) -> Any:
    """(d0 + d1 w)^2 = (d0 + d1)(d0 + v d1) - t - v t + 2t w, t = d0 d1 (2 Fq6 products)."""
    t = fq6_mul(a[0], a[1])
    c0 = fq6_mul(fq6_add(a[0], a[1]), fq6_add(a[0], fq6_mul_by_v(a[1])))
    c0 = fq6_sub(fq6_sub(c0, t), fq6_mul_by_v(t))
    return (c0, fq6_add(t, t))


@njit(cache=True, nogil=True)
def fq12_conj(a: Any) -> Any:
    return (a[0], fq6_neg(a[1]))


@njit(cache=True, nogil=True)
def fq12_inv(a: Any) -> Any:
    t = fq6_inv(fq6_sub(fq6_mul(a[0], a[0]), fq6_mul_by_v(fq6_mul(a[1], a[1]))))
    return (fq6_mul(a[0], t), fq6_neg(fq6_mul(a[1], t)))


@njit(cache=True, nogil=True)
def fq12_eq_one(a: Any) -> bool:
    one = fq12_one()
    for i in range(2):
        for j in range(3):
            for k in range(2):
                for limb in range(4):
                    if a[i][j][k][limb] != one[i][j][k][limb]:
                        return False
    return True


@njit(cache=True, nogil=True)
def _frob(a: Any, gamma: Any, conj: bool) -> Any:
    """Coefficient at w^i (c_ij at w^(2j + i)) times gamma_i, conjugated first for odd k."""
    c = (a[0][0], a[1][0], a[0][1], a[1][1], a[0][2], a[1][2])  # by power of w
    if conj:
        c = (fq2_conj(c[0]), fq2_conj(c[1]), fq2_conj(c[2]), fq2_conj(c[3]), fq2_conj(c[4]), fq2_conj(c[5]))
    d = (
        fq2_mul(c[0], gamma[0]),
        fq2_mul(c[1], gamma[1]),
        fq2_mul(c[2], gamma[2]),
        fq2_mul(c[3], gamma[3]),
        fq2_mul(c[4], gamma[4]),
        fq2_mul(c[5], gamma[5]),
    )
    return ((d[0], d[2], d[4]), (d[1], d[3], d[5]))


@njit(cache=True, nogil=True)
def fq12_frobenius(a: Any, k: int) -> Any:
    if k == 1:
        return _frob(a, _GAMMA1, True)
    if k == 2:
        return _frob(a, _GAMMA2, False)
    return _frob(a, _GAMMA3, True)


@njit(cache=True, nogil=True)
def fq12_mul_034(f: Any, r0: Any, r1: Any, r2: Any) -> Any:
    """f * (r0 + r1 w + r2 w^3) = f * (A + B w) with A = (r0, 0, 0), B = (r1, r2, 0)."""
    a0 = (fq2_mul(f[0][0], r0), fq2_mul(f[0][1], r0), fq2_mul(f[0][2], r0))  # d0 * A
    b1 = _fq6_mul_01(f[1], r1, r2)  # d1 * B
    s = _fq6_mul_01(fq6_add(f[0], f[1]), fq2_add(r0, r1), r2)  # (d0 + d1)(A + B)
    return (fq6_add(a0, fq6_mul_by_v(b1)), fq6_sub(fq6_sub(s, a0), b1))


@njit(cache=True, nogil=True)
def _fq6_mul_01(a: Any, b0: Any, b1: Any) -> Any:
    """a * (b0 + b1 v) (5 Fq2 products)."""
    t0, t1 = fq2_mul(a[0], b0), fq2_mul(a[1], b1)
    c0 = fq2_add(t0, fq2_by_xi(fq2_mul(a[2], b1)))
    c1 = fq2_sub(fq2_mul(fq2_add(a[0], a[1]), fq2_add(b0, b1)), fq2_add(t0, t1))
    c2 = fq2_add(fq2_mul(a[2], b0), t1)
    return (c0, c1, c2)


@njit(cache=True, nogil=True)
def fq12_cyclotomic_sqr(a: Any) -> Any:
    """a^2 for a in the cyclotomic subgroup (Granger and Scott). With s = w^3 (s^2 = xi),
    a = g0 + g1 w + g2 w^2 over Fq4 = Fq2[s], g0 = (x0, x3), g1 = (x1, x4), g2 = (x2, x5)
    (x_k at w^k), and a^2 = (3 g0^2 - 2 conj g0) + (3 s g2^2 + 2 conj g1) w
    + (3 g1^2 - 2 conj g2) w^2: three Fq4 squarings."""
    x0, x1, x2, x3, x4, x5 = a[0][0], a[1][0], a[0][1], a[1][1], a[0][2], a[1][2]
    t0, t1 = _fq4_sqr(x0, x3)
    t2, t3 = _fq4_sqr(x1, x4)
    t4, t5 = _fq4_sqr(x2, x5)
    z0 = fq2_add(fq2_dbl(fq2_sub(t0, x0)), t0)  # 3 t0 - 2 x0
    z3 = fq2_add(fq2_dbl(fq2_add(t1, x3)), t1)  # 3 t1 + 2 x3
    xt5 = fq2_by_xi(t5)
    z1 = fq2_add(fq2_dbl(fq2_add(xt5, x1)), xt5)  # 3 xi t5 + 2 x1
    z4 = fq2_add(fq2_dbl(fq2_sub(t4, x4)), t4)  # 3 t4 - 2 x4
    z2 = fq2_add(fq2_dbl(fq2_sub(t2, x2)), t2)  # 3 t2 - 2 x2
    z5 = fq2_add(fq2_dbl(fq2_add(t3, x5)), t3)  # 3 t3 + 2 x5
    return ((z0, z2, z4), (z1, z3, z5))


@njit(cache=True, nogil=True)
def _fq4_sqr(a: Any, b: Any) -> Any:
    """(a + b s)^2 with s^2 = xi: (a^2 + xi b^2, 2ab)."""
    a2, b2 = fq2_sqr(a), fq2_sqr(b)
    ab2 = fq2_sub(fq2_sqr(fq2_add(a, b)), fq2_add(a2, b2))
    return fq2_add(a2, fq2_by_xi(b2)), ab2


# ---- the Miller loop ------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def double_step(t: Any) -> Any:
    """2T and the tangent's (r0, r1, r2), as `_ate.double_step`."""
    x, y, z = t
    a = fq2_mul_fq(fq2_mul(x, y), _HALF)
    b, c = fq2_sqr(y), fq2_sqr(z)
    e = fq2_mul(_TWIST_B, fq2_triple(c))
    f = fq2_triple(e)
    g = fq2_mul_fq(fq2_add(b, f), _HALF)
    h = fq2_sub(fq2_sqr(fq2_add(y, z)), fq2_add(b, c))
    x3 = fq2_mul(a, fq2_sub(b, f))
    y3 = fq2_sub(fq2_sqr(g), fq2_triple(fq2_sqr(e)))
    z3 = fq2_mul(b, h)
    return (x3, y3, z3), (fq2_neg(h), fq2_triple(fq2_sqr(x)), fq2_sub(e, b))


@njit(cache=True, nogil=True)
def add_step(t: Any, qx: Any, qy: Any) -> Any:
    """T + Q (Q affine) and the chord's (r0, r1, r2), as `_ate.add_step`."""
    x, y, z = t
    o = fq2_sub(y, fq2_mul(qy, z))
    lam = fq2_sub(x, fq2_mul(qx, z))
    c, d = fq2_sqr(o), fq2_sqr(lam)
    e = fq2_mul(lam, d)
    f = fq2_mul(z, c)
    g = fq2_mul(x, d)
    h = fq2_sub(fq2_add(e, f), fq2_dbl(g))
    x3 = fq2_mul(lam, h)
    y3 = fq2_sub(fq2_mul(fq2_sub(g, h), o), fq2_mul(y, e))
    z3 = fq2_mul(e, z)
    return (x3, y3, z3), (lam, fq2_neg(o), fq2_sub(fq2_mul(qx, o), fq2_mul(lam, qy)))


@njit(cache=True, nogil=True)
def _line_into(f: Any, line: Any, px: Any, py: Any) -> Any:
    return fq12_mul_034(f, fq2_mul_fq(line[0], py), fq2_mul_fq(line[1], px), line[2])


@njit(cache=True, nogil=True)
def _fq_at(a: Any, i: int, off: int) -> Any:
    return (a[i, off], a[i, off + 1], a[i, off + 2], a[i, off + 3])


@njit(cache=True, nogil=True)
def _fq2_at(a: Any, i: int, off: int) -> Any:
    return (_fq_at(a, i, off), _fq_at(a, i, off + 4))


@njit(cache=True, nogil=True)
def _psi(x: Any, y: Any, k: int) -> Any:
    """pi^k(Q) on the twist (k = 1, 2), as `_curve.g2_psi` applied k times."""
    if k == 1:
        return fq2_mul(fq2_conj(x), _GAMMA1[2]), fq2_mul(fq2_conj(y), _GAMMA1[3])
    return fq2_mul(x, _GAMMA2[2]), fq2_mul(y, _GAMMA2[3])


@njit(cache=True, nogil=True)
def _line_at_row(lines: Any, i: int, k: int) -> Any:
    return (
        _fq2_row(lines, i, k, 0),
        _fq2_row(lines, i, k, 1),
        _fq2_row(lines, i, k, 2),
    )


@njit(cache=True, nogil=True)
def _fq2_row(lines: Any, i: int, k: int, c: int) -> Any:
    return (
        (lines[i, k, c, 0, 0], lines[i, k, c, 0, 1], lines[i, k, c, 0, 2], lines[i, k, c, 0, 3]),
        (lines[i, k, c, 1, 0], lines[i, k, c, 1, 1], lines[i, k, c, 1, 2], lines[i, k, c, 1, 3]),
    )


@njit(cache=True, nogil=True)
def miller_loop(p: Any, q: Any, pp: Any, lines: Any) -> Any:
    """The product of the Miller loops of pairs (p[i], q[i]) (p (n, 8), q (n, 16)
    Montgomery LEM rows, none at infinity) and of prepared pairs (pp[j], lines[j])
    (lines (m, N_LINES, 3, 2, 4): `_ate.g2_lines` of a fixed Q), with one squaring chain."""
    n, m = p.shape[0], pp.shape[0]
    ts = np.empty((n, 3, 2, 4), dtype=np.uint64)
    for i in range(n):
        _store_proj(ts, i, (_fq2_at(q, i, 0), _fq2_at(q, i, 8), fq2_one()))
    f = fq12_one()
    k = 0
    for digit in _LOOP:
        f = fq12_sqr(f)
        for i in range(n):
            px, py = _fq_at(p, i, 0), _fq_at(p, i, 4)
            t, line = double_step(_load_proj(ts, i))
            f = _line_into(f, line, px, py)
            if digit != 0:
                qx, qy = _fq2_at(q, i, 0), _fq2_at(q, i, 8)
                if digit < 0:
                    qy = fq2_neg(qy)
                t, line = add_step(t, qx, qy)
                f = _line_into(f, line, px, py)
            _store_proj(ts, i, t)
        for j in range(m):
            px, py = _fq_at(pp, j, 0), _fq_at(pp, j, 4)
            f = _line_into(f, _line_at_row(lines, j, k), px, py)
            if digit != 0:
                f = _line_into(f, _line_at_row(lines, j, k + 1), px, py)
        k += 2 if digit != 0 else 1
    for i in range(n):
        px, py = _fq_at(p, i, 0), _fq_at(p, i, 4)
        qx, qy = _fq2_at(q, i, 0), _fq2_at(q, i, 8)
        q1x, q1y = _psi(qx, qy, 1)
        q2x, q2y = _psi(qx, qy, 2)
        t, line = add_step(_load_proj(ts, i), q1x, q1y)
        f = _line_into(f, line, px, py)
        _, line = add_step(t, q2x, fq2_neg(q2y))
        f = _line_into(f, line, px, py)
    for j in range(m):
        px, py = _fq_at(pp, j, 0), _fq_at(pp, j, 4)
        f = _line_into(f, _line_at_row(lines, j, k), px, py)
        f = _line_into(f, _line_at_row(lines, j, k + 1), px, py)
    return f


@njit(cache=True, nogil=True)
def _store_proj(ts: Any, i: int, t: Any) -> None:
    for c in range(3):
        for k in range(2):
            for limb in range(4):
                ts[i, c, k, limb] = t[c][k][limb]


@njit(cache=True, nogil=True)
def _load_proj(ts: Any, i: int) -> Any:
    return (
        (
            (ts[i, 0, 0, 0], ts[i, 0, 0, 1], ts[i, 0, 0, 2], ts[i, 0, 0, 3]),
            (ts[i, 0, 1, 0], ts[i, 0, 1, 1], ts[i, 0, 1, 2], ts[i, 0, 1, 3]),
        ),
        (
            (ts[i, 1, 0, 0], ts[i, 1, 0, 1], ts[i, 1, 0, 2], ts[i, 1, 0, 3]),
            (ts[i, 1, 1, 0], ts[i, 1, 1, 1], ts[i, 1, 1, 2], ts[i, 1, 1, 3]),
        ),
        (
            (ts[i, 2, 0, 0], ts[i, 2, 0, 1], ts[i, 2, 0, 2], ts[i, 2, 0, 3]),
            (ts[i, 2, 1, 0], ts[i, 2, 1, 1], ts[i, 2, 1, 2], ts[i, 2, 1, 3]),
        ),
    )


# ---- the final exponentiation ----------------------------------------------------------------


@njit(cache=True, nogil=True)
def _expt(a: Any) -> Any:
    """a^x for a cyclotomic a (x = BN_X, 63 bits): cyclotomic squarings and the signed
    digits of x (24 nonzero instead of 28 bits set; a^-1 is conj(a) in the cyclotomic
    subgroup)."""
    inv = fq12_conj(a)
    out = a
    for digit in _X_NAF:
        out = fq12_cyclotomic_sqr(out)
        if digit > 0:
            out = fq12_mul(out, a)
        elif digit < 0:
            out = fq12_mul(out, inv)
    return out


@njit(cache=True, nogil=True)
def final_exponentiation(f: Any) -> Any:
    """As `_ate.final_exponentiation`, with cyclotomic squarings in the hard part."""
    t = fq12_mul(fq12_conj(f), fq12_inv(f))
    f = fq12_mul(fq12_frobenius(t, 2), t)
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


# ---- array forms of Fq12 and a parallel product of many Miller loops -------------------


@njit(cache=True, nogil=True)
def fq12_load(a: Any, row: int) -> Any:
    """The Fq12 in a[row] ((n, 12, 4) Montgomery limbs, coefficients in tuple order)."""
    return (
        (_fq2_at12(a, row, 0), _fq2_at12(a, row, 2), _fq2_at12(a, row, 4)),
        (_fq2_at12(a, row, 6), _fq2_at12(a, row, 8), _fq2_at12(a, row, 10)),
    )


@njit(cache=True, nogil=True)
def _fq2_at12(a: Any, row: int, c: int) -> Any:
    return (
        (a[row, c, 0], a[row, c, 1], a[row, c, 2], a[row, c, 3]),
        (a[row, c + 1, 0], a[row, c + 1, 1], a[row, c + 1, 2], a[row, c + 1, 3]),
    )


@njit(cache=True, nogil=True)
def fq12_store(a: Any, row: int, f: Any) -> None:
    for h in range(2):
        for j in range(3):
            for k in range(2):
                for limb in range(4):
                    a[row, 6 * h + 2 * j + k, limb] = f[h][j][k][limb]


@njit(cache=True, nogil=True, parallel=True)
def miller_partials(p: Any, q: Any, pp: Any, lines: Any, chunk: int, out: Any) -> None:
    """The multi-Miller loop in parts, in parallel: out[c] for c < out.shape[0] - 1 is the
    loop of live pairs chunk*c .. chunk*(c + 1) - 1, and the last row the loop of all the
    prepared pairs (which cost about as much as one live pair each)."""
    n = p.shape[0]
    last = out.shape[0] - 1
    no_p = np.empty((0, 8), np.uint64)
    no_q = np.empty((0, 16), np.uint64)
    no_lines = np.empty((0, lines.shape[1], 3, 2, 4), np.uint64)
    for c in prange(out.shape[0]):
        if c == last:
            fq12_store(out, c, miller_loop(no_p, no_q, pp, lines))
        else:
            i0 = c * chunk
            i1 = min(n, i0 + chunk)
            fq12_store(out, c, miller_loop(p[i0:i1], q[i0:i1], no_p, no_lines))


@njit(cache=True, nogil=True)
def pairing_check(p: Any, q: Any, pp: Any, lines: Any, factors: Any) -> bool:
    """True iff the product of factors[c] ((k, 12, 4) limbs, k >= 0: e.g. Miller values
    from `miller_partials`) and the pairs' Miller loops (as `miller_loop`) exponentiates to 1."""
    f = miller_loop(p, q, pp, lines)
    for c in range(factors.shape[0]):
        f = fq12_mul(f, fq12_load(factors, c))
    return fq12_eq_one(final_exponentiation(f))
