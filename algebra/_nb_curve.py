"""numba kernels for G1 and G2 of BN254 in Jacobian coordinates (a = 0 curves).

One set of formulas serves both groups: the field operations `f_*` of `_nb_field` pick
Fq or Fq2 from their arguments' types, so `jac_add` compiles once for G1 points (tuples
of Fq elements) and once for G2 points (tuples of Fq2 elements). Array-level kernels
take a `like` argument, the field's zero, only to choose the group at compile time.

Formulas are those of the reference `_curve` (Explicit-Formulas Database: dbl-2009-l,
add-2007-bl, madd-2007-bl). A Jacobian point (X, Y, Z) with Z = 0 is infinity; an affine
point is (x, y) and, as in the LEM layout, (0, 0) is infinity.

Buffers: affine rows are 2W uint64 limbs and Jacobian rows 3W, with W = 4 (G1) or 8 (G2)
limbs per coordinate, every field element in Montgomery form.

Private module: public, validated entry points live in `_kernels`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._nb_field import (
    ONE64,
    ZERO64,
    _is_fq,
    _is_fq2,
    f_add,
    f_dbl,
    f_eq,
    f_inv,
    f_is_zero,
    f_mul,
    f_neg,
    f_one_like,
    f_sqr,
    f_sub,
    f_zero_like,
    fq2_zero,
    fq_zero,
)

# ---- group witnesses ------------------------------------------------------------------


def like_of(wit: Any) -> Any:  # pragma: no cover - jitted use only
    """The coordinate field's zero for a group witness array: 1-d selects G1, 2-d G2.

    Parallel kernels take the witness (an array: parfors cannot pass nested tuples to
    their workers) and call `like_of` inside the parallel loop body.
    """
    raise NotImplementedError


@overload(like_of, jit_options={"nogil": True})
def _ov_like_of(wit) -> Any:
    if isinstance(wit, types.Array) and wit.ndim == 1:
        return lambda wit: fq_zero()
    if isinstance(wit, types.Array) and wit.ndim == 2:
        return lambda wit: fq2_zero()
    return None


#: Witness arrays for `like_of`.
G1_WIT = np.zeros(1, dtype=np.uint64)
G2_WIT = np.zeros((1, 1), dtype=np.uint64)


# ---- loads and stores (generic over the coordinate field) ---------------------------


def f_width(like: Any) -> Any:  # pragma: no cover - jitted use only
    """Limbs per coordinate: 4 for Fq, 8 for Fq2."""
    raise NotImplementedError


def f_load(arr: Any, i: int, off: int, like: Any) -> Any:  # pragma: no cover - jitted use only
    """The field element at arr[i, off:off + width]."""
    raise NotImplementedError


def f_store(arr: Any, i: int, off: int, v: Any) -> None:  # pragma: no cover - jitted use only
    """arr[i, off:off + width] = v."""
    raise NotImplementedError


@overload(f_width, jit_options={"nogil": True})
def _ov_f_width(like) -> Any:
    if _is_fq(like):
        return lambda like: 4
    if _is_fq2(like):
        return lambda like: 8
    return None


@njit(cache=True, nogil=True)
def _ld4(arr: Any, i: int, off: int) -> Any:
    return (arr[i, off], arr[i, off + 1], arr[i, off + 2], arr[i, off + 3])


@njit(cache=True, nogil=True)
def _st4(arr: Any, i: int, off: int, v: Any) -> None:
    arr[i, off] = v[0]
    arr[i, off + 1] = v[1]
    arr[i, off + 2] = v[2]
    arr[i, off + 3] = v[3]


@overload(f_load, jit_options={"nogil": True})
def _ov_f_load(arr, i, off, like) -> Any:
    if _is_fq(like):
        return lambda arr, i, off, like: _ld4(arr, i, off)
    if _is_fq2(like):
        return lambda arr, i, off, like: (_ld4(arr, i, off), _ld4(arr, i, off + 4))
    return None


@overload(f_store, jit_options={"nogil": True})
def _ov_f_store(arr, i, off, v) -> Any:
    if _is_fq(v):
        return lambda arr, i, off, v: _st4(arr, i, off, v)
    if _is_fq2(v):

        def impl(arr, i, off, v) -> None:
            _st4(arr, i, off, v[0])
            _st4(arr, i, off + 4, v[1])

        return impl
    return None


@njit(cache=True, nogil=True)
def load_aff(arr: Any, i: int, like: Any) -> Any:
    w = f_width(like)
    return (f_load(arr, i, 0, like), f_load(arr, i, w, like))


@njit(cache=True, nogil=True)
def store_aff(arr: Any, i: int, a: Any) -> None:
    w = f_width(a[0])
    f_store(arr, i, 0, a[0])
    f_store(arr, i, w, a[1])


@njit(cache=True, nogil=True)
def load_jac(arr: Any, i: int, like: Any) -> Any:
    w = f_width(like)
    return (f_load(arr, i, 0, like), f_load(arr, i, w, like), f_load(arr, i, 2 * w, like))


@njit(cache=True, nogil=True)
def store_jac(arr: Any, i: int, p: Any) -> None:
    w = f_width(p[0])
    f_store(arr, i, 0, p[0])
    f_store(arr, i, w, p[1])
    f_store(arr, i, 2 * w, p[2])


# ---- point arithmetic ------------------------------------------------------------------


@njit(cache=True, nogil=True)
def jac_infinity(like: Any) -> Any:
    return (f_one_like(like), f_one_like(like), f_zero_like(like))


@njit(cache=True, nogil=True)
def jac_is_inf(p: Any) -> bool:
    return f_is_zero(p[2])


@njit(cache=True, nogil=True)
def aff_is_inf(a: Any) -> bool:
    return f_is_zero(a[0]) and f_is_zero(a[1])


@njit(cache=True, nogil=True)
def aff_neg(a: Any) -> Any:
    return (a[0], f_neg(a[1]))


@njit(cache=True, nogil=True)
def jac_neg(p: Any) -> Any:
    return (p[0], f_neg(p[1]), p[2])


@njit(cache=True, nogil=True)
def aff_to_jac(a: Any) -> Any:
    if aff_is_inf(a):
        return jac_infinity(a[0])
    return (a[0], a[1], f_one_like(a[0]))


@njit(cache=True, nogil=True)
def jac_double(p: Any) -> Any:
    """dbl-2009-l: 2M + 5S."""
    if jac_is_inf(p):
        return p
    x, y, z = p
    a = f_sqr(x)
    b = f_sqr(y)
    c = f_sqr(b)
    t = f_sub(f_sub(f_sqr(f_add(x, b)), a), c)
    d = f_dbl(t)
    e = f_add(f_dbl(a), a)
    f = f_sqr(e)
    x3 = f_sub(f, f_dbl(d))
    c8 = f_dbl(f_dbl(f_dbl(c)))
    y3 = f_sub(f_mul(e, f_sub(d, x3)), c8)
    z3 = f_dbl(f_mul(y, z))
    return (x3, y3, z3)


@njit(cache=True, nogil=True)
def jac_add(p: Any, q: Any) -> Any:
    """add-2007-bl: 11M + 5S; handles infinity, p == q and p == -q."""
    if jac_is_inf(p):
        return q
    if jac_is_inf(q):
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1z1 = f_sqr(z1)
    z2z2 = f_sqr(z2)
    u1 = f_mul(x1, z2z2)
    u2 = f_mul(x2, z1z1)
    s1 = f_mul(f_mul(y1, z2), z2z2)
    s2 = f_mul(f_mul(y2, z1), z1z1)
    h = f_sub(u2, u1)
    rr = f_sub(s2, s1)
    if f_is_zero(h):
        if f_is_zero(rr):
            return jac_double(p)
        return jac_infinity(x1)
    i = f_sqr(f_dbl(h))
    j = f_mul(h, i)
    rr = f_dbl(rr)
    v = f_mul(u1, i)
    x3 = f_sub(f_sub(f_sqr(rr), j), f_dbl(v))
    y3 = f_sub(f_mul(rr, f_sub(v, x3)), f_dbl(f_mul(s1, j)))
    z3 = f_mul(f_sub(f_sub(f_sqr(f_add(z1, z2)), z1z1), z2z2), h)
    return (x3, y3, z3)


@njit(cache=True, nogil=True)
def jac_add_aff(p: Any, a: Any) -> Any:
    """madd-2007-bl (Jacobian p + affine a): 7M + 4S; handles infinity, p == a, p == -a."""
    if aff_is_inf(a):
        return p
    if jac_is_inf(p):
        return (a[0], a[1], f_one_like(a[0]))
    x1, y1, z1 = p
    x2, y2 = a
    z1z1 = f_sqr(z1)
    u2 = f_mul(x2, z1z1)
    s2 = f_mul(f_mul(y2, z1), z1z1)
    h = f_sub(u2, x1)
    rr = f_sub(s2, y1)
    if f_is_zero(h):
        if f_is_zero(rr):
            return jac_double(p)
        return jac_infinity(x1)
    hh = f_sqr(h)
    i = f_dbl(f_dbl(hh))
    j = f_mul(h, i)
    rr = f_dbl(rr)
    v = f_mul(x1, i)
    x3 = f_sub(f_sub(f_sqr(rr), j), f_dbl(v))
    y3 = f_sub(f_mul(rr, f_sub(v, x3)), f_dbl(f_mul(y1, j)))
    z3 = f_sub(f_sub(f_sqr(f_add(z1, h)), z1z1), hh)
    return (x3, y3, z3)


@njit(cache=True, nogil=True)
def jac_to_aff(p: Any) -> Any:
    if jac_is_inf(p):
        z = f_zero_like(p[0])
        return (z, z)
    zi = f_inv(p[2])
    zi2 = f_sqr(zi)
    return (f_mul(p[0], zi2), f_mul(p[1], f_mul(zi2, zi)))


@njit(cache=True, nogil=True)
def jac_eq(p: Any, q: Any) -> bool:
    """Projective equality (both infinity, or the same affine point)."""
    pi = jac_is_inf(p)
    qi = jac_is_inf(q)
    if pi or qi:
        return pi and qi
    z1z1 = f_sqr(p[2])
    z2z2 = f_sqr(q[2])
    if not f_eq(f_mul(p[0], z2z2), f_mul(q[0], z1z1)):
        return False
    return f_eq(f_mul(f_mul(p[1], q[2]), z2z2), f_mul(f_mul(q[1], p[2]), z1z1))


# ---- batch normalization ------------------------------------------------------------


@njit(cache=True, nogil=True)
def batch_to_aff(jac: Any, n: int, out: Any, out_row0: int, prefix: Any, like: Any) -> None:
    """out[out_row0 + i] = affine(jac[i]) for i < n with one field inversion.

    Montgomery's trick; infinities (Z = 0) are skipped and written as all-zero rows.
    `prefix` is scratch with at least n rows of the field's width.
    """
    acc = f_one_like(like)
    w = f_width(like)
    for i in range(n):
        f_store(prefix, i, 0, acc)
        z = f_load(jac, i, 2 * w, like)
        if not f_is_zero(z):
            acc = f_mul(acc, z)
    inv = f_inv(acc)
    zero = f_zero_like(like)
    for i in range(n - 1, -1, -1):
        p = load_jac(jac, i, like)
        if jac_is_inf(p):
            store_aff(out, out_row0 + i, (zero, zero))
            continue
        zi = f_mul(inv, f_load(prefix, i, 0, like))
        inv = f_mul(inv, p[2])
        zi2 = f_sqr(zi)
        store_aff(out, out_row0 + i, (f_mul(p[0], zi2), f_mul(p[1], f_mul(zi2, zi))))


# ---- scalars: width-w NAF ------------------------------------------------------------


@njit(cache=True, nogil=True)
def wnaf(k0: Any, k1: Any, k2: Any, k3: Any, w: int, digits: Any, row: int) -> int:
    """Width-w NAF of the 256-bit k = (k0..k3): digits[row, i] odd in (-2^(w-1), 2^(w-1)) or 0.

    Returns the number of digits (at most 257); sum digits[row, i] * 2^i == k.
    """
    full = np.uint64(1 << w)
    mask = full - ONE64
    half = np.uint64(1 << (w - 1))
    n = 0
    while (k0 | k1 | k2 | k3) != ZERO64:
        d = np.int64(0)
        if k0 & ONE64:
            m = k0 & mask
            if m >= half:
                # digit m - 2^w < 0: k += 2^w - m
                add = full - m
                d = -np.int64(add)
                s = k0 + add
                c = ONE64 if s < k0 else ZERO64
                k0 = s
                s = k1 + c
                c = ONE64 if s < k1 else ZERO64
                k1 = s
                s = k2 + c
                c = ONE64 if s < k2 else ZERO64
                k2 = s
                k3 = k3 + c
            else:
                d = np.int64(m)
                k0 = k0 - m  # m <= k0's low bits: no borrow
        digits[row, n] = d
        n += 1
        # k >>= 1
        k0 = (k0 >> ONE64) | (k1 << np.uint64(63))
        k1 = (k1 >> ONE64) | (k2 << np.uint64(63))
        k2 = (k2 >> ONE64) | (k3 << np.uint64(63))
        k3 = k3 >> ONE64
    return n


@njit(cache=True, nogil=True)
def bit_length(k0: Any, k1: Any, k2: Any, k3: Any) -> int:
    if k3 != ZERO64:
        top, base = k3, 192
    elif k2 != ZERO64:
        top, base = k2, 128
    elif k1 != ZERO64:
        top, base = k1, 64
    elif k0 != ZERO64:
        top, base = k0, 0
    else:
        return 0
    n = 0
    while top != ZERO64:
        top >>= ONE64
        n += 1
    return base + n


@njit(cache=True, nogil=True)
def wnaf_width(bits: int) -> int:
    """Window minimising 2^(w-2) table entries + bits/(w+1) additions, w in 2..5."""
    best_w = 2
    best = 1.0 + bits / 3.0
    for w in range(3, 6):
        cost = (1 << (w - 2)) + bits / (w + 1.0)
        if cost < best:
            best = cost
            best_w = w
    return best_w


@njit(cache=True, nogil=True)
def odd_multiples(a: Any, w: int, table: Any, row0: int) -> None:
    """table[row0 + i] = (2i + 1) * a in Jacobian form, for i < 2^(w-2); a is affine."""
    p = aff_to_jac(a)
    store_jac(table, row0, p)
    n = 1 << (w - 2)
    if n == 1:
        return
    two = jac_double(p)
    p = jac_add_aff(two, a)
    store_jac(table, row0 + 1, p)
    for i in range(2, n):
        p = jac_add(p, two)
        store_jac(table, row0 + i, p)


@njit(cache=True, nogil=True)
def jac_mul_digits(a: Any, digits: Any, row: int, nd: int, w: int, table: Any) -> Any:
    """sum_i digits[row, i] 2^i * a for affine a, by a w-NAF ladder (table: scratch rows)."""
    like = a[0]
    odd_multiples(a, w, table, 0)
    acc = jac_infinity(like)
    for i in range(nd - 1, -1, -1):
        acc = jac_double(acc)
        d = digits[row, i]
        if d > 0:
            acc = jac_add(acc, load_jac(table, (d - 1) >> 1, like))
        elif d < 0:
            acc = jac_add(acc, jac_neg(load_jac(table, (-d - 1) >> 1, like)))
    return acc
