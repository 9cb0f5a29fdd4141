"""Numba kernels of the compiled witness program (`_witness_program`): the circuit's
steps run in order over (n_wires, 4) uint64 rows of standard-form Fr elements, with
linear combinations as CSR rows of Montgomery-form coefficients (a Montgomery product
of a coefficient and a standard-form value is the standard-form product).

Integer hints (bits, signed division) read a standard-form element as the integer it
is (below r); a signed value is one in (-r/2, r/2), the circuit's `as_signed`.

Private module: `_witness_program` builds the arrays and checks the inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from algebra import R
from algebra._nb_field import FR_R2_0, FR_R2_1, FR_R2_2, FR_R2_3, _load_fq, _store_fq, fr_add, fr_mul, fr_sub

#: Step opcodes.
(
    OP_MUL,
    OP_BITS,
    OP_INVERSE,
    OP_FIELD_DIV,
    OP_SIGN_MAGNITUDE,
    OP_ONEHOT,
    OP_QUOTIENT_REMAINDER,
    OP_MAX_CEIL,
    OP_QUOTIENT,
) = range(9)

_U64 = np.uint64
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_MASK = (1 << 64) - 1
_HALF = (R - 1) // 2
#: (r - 1) / 2 and r - 2 as four little-endian 64-bit limbs.
HALF_0, HALF_1, HALF_2, HALF_3 = (np.uint64((_HALF >> (64 * i)) & _MASK) for i in range(4))
EXP_0, EXP_1, EXP_2, EXP_3 = (np.uint64(((R - 2) >> (64 * i)) & _MASK) for i in range(4))


@njit(cache=True, nogil=True)
def _lc(k: int, lc_ptr: Any, term_wire: Any, term_coef: Any, values: Any) -> Any:
    """Row k of the CSR at `values`. term_coef holds each coefficient twice: Montgomery
    form (columns 0-3) and standard form (4-7); a value 0 (most bits) costs nothing and a
    value 1 an addition of the standard-form coefficient."""
    acc = (_ZERO, _ZERO, _ZERO, _ZERO)
    for t in range(lc_ptr[k], lc_ptr[k + 1]):
        w = term_wire[t]
        v = _load_fq(values, w, 0)
        if (v[1] | v[2] | v[3]) == _ZERO and v[0] <= _ONE:
            if v[0] == _ONE:
                acc = fr_add(acc, _load_fq(term_coef, t, 4))
        else:
            acc = fr_add(acc, fr_mul(_load_fq(term_coef, t, 0), v))
    return acc


@njit(cache=True, nogil=True)
def _times(a: Any, b: Any) -> Any:
    """a * b for standard-form a and b."""
    return fr_mul(fr_mul(a, b), (FR_R2_0, FR_R2_1, FR_R2_2, FR_R2_3))


@njit(cache=True, nogil=True)
def _is_zero(a: Any) -> bool:
    return (a[0] | a[1] | a[2] | a[3]) == _ZERO


@njit(cache=True, nogil=True)
def _less(a: Any, b: Any) -> bool:
    """a < b as 256-bit integers."""
    for i in range(3, -1, -1):
        if a[i] != b[i]:
            return a[i] < b[i]
    return False


@njit(cache=True, nogil=True)
def _sub_int(a: Any, b: Any) -> Any:
    """a - b as 256-bit integers (a >= b)."""
    out = [_ZERO, _ZERO, _ZERO, _ZERO]
    borrow = _ZERO
    for i in range(4):
        d = a[i] - b[i] - borrow
        borrow = _ONE if (a[i] < b[i]) or (a[i] == b[i] and borrow == _ONE) else _ZERO
        out[i] = d
    return (out[0], out[1], out[2], out[3])


@njit(cache=True, nogil=True)
def _add_one(a: Any) -> Any:
    out = [a[0], a[1], a[2], a[3]]
    for i in range(4):
        out[i] = out[i] + _ONE
        if out[i] != _ZERO:
            break
    return (out[0], out[1], out[2], out[3])


@njit(cache=True, nogil=True)
def _divmod(a: Any, d: Any) -> Any:
    """(a // d, a % d) for 256-bit a and d > 0 (shift and subtract)."""
    q = [_ZERO, _ZERO, _ZERO, _ZERO]
    rem = (_ZERO, _ZERO, _ZERO, _ZERO)
    for bit in range(255, -1, -1):
        top = rem[3] >> np.uint64(63)
        rem = (
            (rem[0] << _ONE) | ((a[bit // 64] >> np.uint64(bit % 64)) & _ONE),
            (rem[1] << _ONE) | (rem[0] >> np.uint64(63)),
            (rem[2] << _ONE) | (rem[1] >> np.uint64(63)),
            (rem[3] << _ONE) | (rem[2] >> np.uint64(63)),
        )
        if top != _ZERO or not _less(rem, d):
            rem = _sub_int(rem, d)
            q[bit // 64] |= _ONE << np.uint64(bit % 64)
    return (q[0], q[1], q[2], q[3]), rem


@njit(cache=True, nogil=True)
def _inverse(a: Any) -> Any:
    """1/a (0 for 0), standard form in and out: a^(r - 2) in Montgomery form."""
    if _is_zero(a):
        return a
    base = fr_mul(a, (FR_R2_0, FR_R2_1, FR_R2_2, FR_R2_3))  # to Montgomery
    acc = fr_mul((_ONE, _ZERO, _ZERO, _ZERO), (FR_R2_0, FR_R2_1, FR_R2_2, FR_R2_3))  # 1 in Montgomery
    exp = (EXP_0, EXP_1, EXP_2, EXP_3)
    for bit in range(253, -1, -1):
        acc = fr_mul(acc, acc)
        if (exp[bit // 64] >> np.uint64(bit % 64)) & _ONE:
            acc = fr_mul(acc, base)
    return fr_mul(acc, (_ONE, _ZERO, _ZERO, _ZERO))  # from Montgomery


@njit(cache=True, nogil=True)
def _negative(a: Any) -> bool:
    """a read in (-r/2, r/2) is negative: a > (r - 1) / 2."""
    return _less((HALF_0, HALF_1, HALF_2, HALF_3), a)


@njit(cache=True, nogil=True)
def _quotient_remainder(num: Any, den: Any, ceil: bool) -> Any:
    """floor or ceil of signed num over den > 0, as (q mod r, remainder)."""
    zero = (_ZERO, _ZERO, _ZERO, _ZERO)
    if _is_zero(den):
        return zero, zero
    neg = _negative(num)
    mag = fr_sub(zero, num) if neg else num
    qa, ra = _divmod(mag, den)
    exact = _is_zero(ra)
    if neg != ceil:  # floor of a negative, ceil of a non-negative: away from zero
        if exact:
            q, rem = qa, ra
        else:
            q, rem = _add_one(qa), _sub_int(den, ra)
    else:  # toward zero
        q, rem = qa, ra
    return (fr_sub(zero, q) if neg else q), rem


@njit(cache=True, nogil=True)
def _hint(op: int, param: int, offset: Any, x: Any, y: Any, values: Any, outs: Any) -> None:
    zero = (_ZERO, _ZERO, _ZERO, _ZERO)
    one = (_ONE, _ZERO, _ZERO, _ZERO)
    if op == OP_BITS:
        for i in range(len(outs)):
            _store_fq(values, outs[i], 0, one if (x[i // 64] >> np.uint64(i % 64)) & _ONE else zero)
    elif op == OP_INVERSE:
        _store_fq(values, outs[0], 0, _inverse(x))
    elif op == OP_FIELD_DIV:
        _store_fq(values, outs[0], 0, _times(x, _inverse(y)) if not _is_zero(y) else zero)
    elif op == OP_SIGN_MAGNITUDE:
        v = fr_sub(x, offset)
        neg = _negative(v)
        _store_fq(values, outs[0], 0, one if neg else zero)
        _store_fq(values, outs[1], 0, fr_sub(zero, v) if neg else v)
    elif op == OP_ONEHOT:
        small = x[1] == _ZERO and x[2] == _ZERO and x[3] == _ZERO
        for i in range(len(outs)):
            _store_fq(values, outs[i], 0, one if small and x[0] == np.uint64(i) else zero)
    else:
        q, rem = _quotient_remainder(x, y, param == 1)
        _store_fq(values, outs[0], 0, q)
        if op == OP_QUOTIENT_REMAINDER:
            _store_fq(values, outs[1], 0, rem)


@njit(cache=True, nogil=True)
def _signed_less(a: Any, b: Any) -> bool:
    """a < b for field elements read in (-r/2, r/2)."""
    na, nb = _negative(a), _negative(b)
    if na != nb:
        return na
    return _less(a, b)  # same sign: the field order is the integer order


@njit(cache=True, nogil=True)
def _max_ceil(k0: int, k1: int, lc_ptr: Any, term_wire: Any, term_coef: Any, values: Any) -> Any:
    """max(floor, ceil(n_i / d)) over the LCs k0 + 2 .. k1 - 1 (floor = LC k0, d = LC k0 + 1)."""
    best = _lc(k0, lc_ptr, term_wire, term_coef, values)
    d = _lc(k0 + 1, lc_ptr, term_wire, term_coef, values)
    for k in range(k0 + 2, k1):
        q, _rem = _quotient_remainder(_lc(k, lc_ptr, term_wire, term_coef, values), d, True)
        if _signed_less(best, q):
            best = q
    return best


@njit(cache=True, nogil=True)
def run_program(
    values: Any,
    op: Any,
    param: Any,
    offsets: Any,
    in_ptr: Any,
    lc_ptr: Any,
    term_wire: Any,
    term_coef: Any,
    out_ptr: Any,
    out_wire: Any,
) -> None:
    """Run every step in order: a product of its two input LCs, or a hint."""
    zero = (_ZERO, _ZERO, _ZERO, _ZERO)
    for s in range(op.shape[0]):
        k = in_ptr[s]
        x = _lc(k, lc_ptr, term_wire, term_coef, values)
        y = _lc(k + 1, lc_ptr, term_wire, term_coef, values) if in_ptr[s + 1] - k > 1 else zero
        outs = out_wire[out_ptr[s] : out_ptr[s + 1]]
        if op[s] == OP_MUL:
            _store_fq(values, outs[0], 0, _times(x, y))
        elif op[s] == OP_MAX_CEIL:
            _store_fq(values, outs[0], 0, _max_ceil(k, in_ptr[s + 1], lc_ptr, term_wire, term_coef, values))
        else:
            _hint(op[s], param[s], _load_fq(offsets, s, 0), x, y, values, outs)


@njit(cache=True, nogil=True)
def first_unsatisfied(
    values: Any, row_a: Any, row_b: Any, row_c: Any, lc_ptr: Any, term_wire: Any, term_coef: Any
) -> int:
    """The first constraint whose A w * B w != C w, or -1 (rows are LC ids of the CSR)."""
    for j in range(row_a.shape[0]):
        a = _lc(row_a[j], lc_ptr, term_wire, term_coef, values)
        b = _lc(row_b[j], lc_ptr, term_wire, term_coef, values)
        c = _lc(row_c[j], lc_ptr, term_wire, term_coef, values)
        p = _times(a, b)
        if p[0] != c[0] or p[1] != c[1] or p[2] != c[2] or p[3] != c[3]:
            return j
    return -1
