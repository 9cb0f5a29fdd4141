"""Parallel numba kernels over arrays of points: sparse linear combinations (Straus),
scaling by one scalar (w-NAF), and multi-scalar multiplication (Pippenger).

All kernels take LEM arrays (affine rows of 2W limbs, W = 4 for G1 and 8 for G2) and
write into buffers they are given. Array-level kernels take a group witness `wit`
(`G1_WIT` or `G2_WIT` of `_nb_curve`) that picks the group at compile time; helpers
take the coordinate field's zero, `like`. Scalars are rows of 4 little-endian uint64
limbs in standard form, already checked to be below r by the caller.

Parallel kernels run `prange` over workers (one per thread); each worker allocates its
scratch once and takes chunks of work from a shared atomic counter (`fetch_add`), so
uneven chunks balance.

Private module: public, validated entry points live in `_kernels`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange, types
from numba.core import cgutils

from ._constants import R
from ._nb_curve import (
    aff_is_inf,
    aff_neg,
    batch_to_aff,
    bit_length,
    f_load,
    f_store,
    f_width,
    jac_add,
    jac_add_aff,
    jac_double,
    jac_infinity,
    jac_neg,
    jac_to_aff,
    like_of,
    load_aff,
    load_jac,
    odd_multiples,
    store_aff,
    store_jac,
    wnaf,
    wnaf_width,
)
from ._nb_field import (
    ONE64,
    ZERO64,
    _limbs,
    _sbb,
    f_add,
    f_dbl,
    f_eq,
    f_inv,
    f_is_zero,
    f_mul,
    f_one_like,
    f_sqr,
    f_sub,
    intrinsic,
)

R0, R1, R2, R3 = _limbs(R)
#: (r - 1) / 2: scalars above it are replaced by r - k and the point negated.
HR0, HR1, HR2, HR3 = _limbs((R - 1) // 2)
#: Digits per w-NAF row: a 254-bit scalar has at most 255 digits.
NAF_LEN = 260
#: Table rows per term: odd multiples up to 15 P (w <= 5).
TABLE_ROWS = 8


@njit(cache=True, nogil=True)
def _gt_half_r(s0: Any, s1: Any, s2: Any, s3: Any) -> bool:
    if s3 != HR3:
        return s3 > HR3
    if s2 != HR2:
        return s2 > HR2
    if s1 != HR1:
        return s1 > HR1
    return s0 > HR0


@njit(cache=True, nogil=True)
def _r_minus(s0: Any, s1: Any, s2: Any, s3: Any) -> Any:
    br, d0 = _sbb(R0, s0, ZERO64)
    br, d1 = _sbb(R1, s1, br)
    br, d2 = _sbb(R2, s2, br)
    br, d3 = _sbb(R3, s3, br)
    return d0, d1, d2, d3


# ---- scheduling ---------------------------------------------------------------------------


@intrinsic
def fetch_add(typingctx: Any, counter: Any, value: Any) -> Any:
    """Atomically counter[0] += value; returns the old value (int64 counter array).

    Parallel kernels hand out work with it: `prange` over workers, each taking the next
    chunk from a shared counter, so uneven chunks balance across threads.
    """
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64 and isinstance(value, types.Integer)):
        return None
    sig = types.int64(counter, types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        arr_t = signature.args[0]
        ary = context.make_array(arr_t)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, arr_t, ary, [context.get_constant(types.intp, 0)])
        return builder.atomic_rmw("add", ptr, args[1], "seq_cst")

    return sig, codegen


# ---- Straus: sum of a few scalar multiples, doublings shared ----------------------------


@njit(cache=True, nogil=True)
def _straus(nb: int, maxlen: int, digits: Any, lens: Any, table: Any, like: Any) -> Any:
    """sum_t (sum_i digits[t, i] 2^i) * P_t, with table rows t*8 + m = (2m + 1) P_t."""
    acc = jac_infinity(like)
    for i in range(maxlen - 1, -1, -1):
        acc = jac_double(acc)
        for t in range(nb):
            if i < lens[t]:
                d = int(digits[t, i])
                if d > 0:
                    acc = jac_add(acc, load_jac(table, t * TABLE_ROWS + ((d - 1) >> 1), like))
                elif d < 0:
                    acc = jac_add(acc, jac_neg(load_jac(table, t * TABLE_ROWS + ((-d - 1) >> 1), like)))
    return acc


@njit(cache=True, nogil=True)
def _sparse_rows(
    points: Any,
    indptr: Any,
    indices: Any,
    scalars: Any,
    j0: int,
    j1: int,
    jac: Any,
    digits: Any,
    lens: Any,
    table: Any,
    like: Any,
) -> None:
    """jac[j - j0] = output j of the sparse combination (Jacobian), for j0 <= j < j1."""
    block = lens.shape[0]
    for j in range(j0, j1):
        acc = jac_infinity(like)
        nb = 0
        maxlen = 0
        for k in range(indptr[j], indptr[j + 1]):
            s0 = scalars[k, 0]
            s1 = scalars[k, 1]
            s2 = scalars[k, 2]
            s3 = scalars[k, 3]
            if (s0 | s1 | s2 | s3) == ZERO64:
                continue
            a = load_aff(points, indices[k], like)
            if aff_is_inf(a):
                continue
            if _gt_half_r(s0, s1, s2, s3):
                s0, s1, s2, s3 = _r_minus(s0, s1, s2, s3)
                a = aff_neg(a)
            if s0 == ONE64 and (s1 | s2 | s3) == ZERO64:
                acc = jac_add_aff(acc, a)
                continue
            wd = wnaf_width(bit_length(s0, s1, s2, s3))
            n = wnaf(s0, s1, s2, s3, wd, digits, nb)
            lens[nb] = n
            maxlen = max(maxlen, n)
            odd_multiples(a, wd, table, nb * TABLE_ROWS)
            nb += 1
            if nb == block:
                acc = jac_add(acc, _straus(nb, maxlen, digits, lens, table, like))
                nb = 0
                maxlen = 0
        if nb > 0:
            acc = jac_add(acc, _straus(nb, maxlen, digits, lens, table, like))
        store_jac(jac, j - j0, acc)


@njit(cache=True, nogil=True, parallel=True)
def sparse_combination_kernel(
    points: Any,
    indptr: Any,
    indices: Any,
    scalars: Any,
    out: Any,
    chunk: int,
    block: int,
    n_workers: int,
    wit: Any,
) -> None:
    """out[j] = sum_{k in indptr[j]:indptr[j+1]} scalars[k] * points[indices[k]], affine.

    Terms with scalar 0 or an infinite point are skipped; 1 and r - 1 are a plain
    addition or subtraction; every other term joins a Straus block of up to `block`
    terms sharing one chain of doublings, with per-term w-NAF tables (k > (r-1)/2 is
    replaced by r - k on the negated point, so small negative coefficients stay small).
    Outputs go in chunks of `chunk` (one batched inversion per chunk) to `n_workers`
    workers that take the next chunk from a shared counter when they are done.
    """
    n_out = indptr.shape[0] - 1
    n_chunks = (n_out + chunk - 1) // chunk
    w = f_width(like_of(wit))
    counter = np.zeros(1, np.int64)
    for _t in prange(n_workers):
        like = like_of(wit)
        jac = np.empty((chunk, 3 * w), np.uint64)
        prefix = np.empty((chunk, w), np.uint64)
        digits = np.empty((block, NAF_LEN), np.int8)
        lens = np.empty(block, np.int64)
        table = np.empty((block * TABLE_ROWS, 3 * w), np.uint64)
        c = fetch_add(counter, 1)
        while c < n_chunks:
            j0 = c * chunk
            j1 = min(n_out, j0 + chunk)
            _sparse_rows(points, indptr, indices, scalars, j0, j1, jac, digits, lens, table, like)
            batch_to_aff(jac, j1 - j0, out, j0, prefix, like)
            c = fetch_add(counter, 1)


# ---- one scalar times many points -----------------------------------------------------


@njit(cache=True, nogil=True)
def _scale_rows(points: Any, digits: Any, nd: int, wd: int, i0: int, i1: int, jac: Any, table: Any, like: Any) -> None:
    lens = np.empty(1, np.int64)
    lens[0] = nd
    for i in range(i0, i1):
        a = load_aff(points, i, like)
        if aff_is_inf(a):
            store_jac(jac, i - i0, jac_infinity(like))
            continue
        odd_multiples(a, wd, table, 0)
        store_jac(jac, i - i0, _straus(1, nd, digits, lens, table, like))


@njit(cache=True, nogil=True, parallel=True)
def scale_kernel(points: Any, digits: Any, nd: int, wd: int, out: Any, chunk: int, n_workers: int, wit: Any) -> None:
    """out[i] = k * points[i] for the k whose w-NAF (width wd) is digits[0, :nd]."""
    n = points.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    w = f_width(like_of(wit))
    counter = np.zeros(1, np.int64)
    for _t in prange(n_workers):
        like = like_of(wit)
        jac = np.empty((chunk, 3 * w), np.uint64)
        prefix = np.empty((chunk, w), np.uint64)
        table = np.empty((TABLE_ROWS, 3 * w), np.uint64)
        c = fetch_add(counter, 1)
        while c < n_chunks:
            i0 = c * chunk
            i1 = min(n, i0 + chunk)
            _scale_rows(points, digits, nd, wd, i0, i1, jac, table, like)
            batch_to_aff(jac, i1 - i0, out, i0, prefix, like)
            c = fetch_add(counter, 1)


# ---- Pippenger --------------------------------------------------------------------------


@njit(cache=True, nogil=True, parallel=True)
def signed_digits_kernel(scalars: Any, idx: Any, c: int, n_windows: int, digits: Any) -> None:
    """digits[i, w] in [-2^(c-1), 2^(c-1)] with sum_w digits[i, w] 2^(cw) = scalars[idx[i]].

    n_windows must be at least ceil((bits + 1) / c) so that the top window absorbs the carry.
    """
    mask = np.uint64((1 << c) - 1)
    half = np.int64(1 << (c - 1))
    full = np.int64(1 << c)
    for i in prange(idx.shape[0]):
        k = idx[i]
        carry = np.int64(0)
        for win in range(n_windows):
            off = win * c
            limb = off >> 6
            sh = off & 63
            v = ZERO64
            if limb < 4:
                v = scalars[k, limb] >> np.uint64(sh)
                if sh + c > 64 and limb < 3:
                    v |= scalars[k, limb + 1] << np.uint64(64 - sh)
            d = np.int64(v & mask) + carry
            if d > half:
                d -= full
                carry = np.int64(1)
            else:
                carry = np.int64(0)
            digits[i, win] = d


# Affine buckets: a bucket addition B += P costs one multiplication for lambda, a squaring
# and a multiplication for the new point, plus three multiplications of a batched inversion
# (Montgomery's trick over up to AFFINE_BATCH pending additions): about 6 multiplications
# against 11 for a Jacobian mixed addition. A bucket already waiting in the current batch
# cannot take a second point; that point goes to a Jacobian overflow bucket.

#: Pending bucket additions per batched inversion.
AFFINE_BATCH = 256


@njit(cache=True, nogil=True)
def _aff_double(a: Any) -> Any:
    """2a for affine a with y != 0 (one inversion: only for the rare P == bucket case)."""
    x, y = a
    x2 = f_sqr(x)
    lam = f_mul(f_add(f_dbl(x2), x2), f_inv(f_dbl(y)))
    x3 = f_sub(f_sqr(lam), f_dbl(x))
    return (x3, f_sub(f_mul(lam, f_sub(x, x3)), y))


@njit(cache=True, nogil=True)
def _flush_affine(nb: int, bkt: Any, filled: Any, batch_b: Any, batch_p: Any, den: Any, pre: Any, like: Any) -> None:
    """Apply the nb pending additions bkt[batch_b[k]] += batch_p[k] with one inversion.

    The pending buckets are distinct. Every loop runs two independent chains side by
    side (even and odd k): a Montgomery product's latency is about twice its throughput,
    so interleaving two dependent chains in program order nearly halves the time.
    """
    if nb == 0:
        return
    w = f_width(like)
    one = f_one_like(like)
    # 1. prefix products: pre[k] = product of den[j] for j < k of k's parity
    acc0 = one
    acc1 = one
    k = 0
    while k + 1 < nb:
        f_store(pre, k, 0, acc0)
        f_store(pre, k + 1, 0, acc1)
        acc0 = f_mul(acc0, f_load(den, k, 0, like))
        acc1 = f_mul(acc1, f_load(den, k + 1, 0, like))
        k += 2
    if k < nb:
        f_store(pre, k, 0, acc0)
        acc0 = f_mul(acc0, f_load(den, k, 0, like))
    # 2. one inversion for both chains
    inv = f_inv(f_mul(acc0, acc1))
    inv0 = f_mul(inv, acc1)
    inv1 = f_mul(inv, acc0)
    # 3. backwards: den[k] <- 1 / den[k]
    j = (nb - 1) & ~1
    while j >= 0:
        d0 = f_load(den, j, 0, like)
        f_store(den, j, 0, f_mul(inv0, f_load(pre, j, 0, like)))
        inv0 = f_mul(inv0, d0)
        if j + 1 < nb:
            d1 = f_load(den, j + 1, 0, like)
            f_store(den, j + 1, 0, f_mul(inv1, f_load(pre, j + 1, 0, like)))
            inv1 = f_mul(inv1, d1)
        j -= 2
    # 4. the affine additions, two at a time
    k = 0
    while k + 1 < nb:
        b0 = batch_b[k]
        b1 = batch_b[k + 1]
        bx0 = f_load(bkt, b0, 0, like)
        bx1 = f_load(bkt, b1, 0, like)
        ax0 = f_load(batch_p, k, 0, like)
        ax1 = f_load(batch_p, k + 1, 0, like)
        lam0 = f_mul(f_sub(f_load(batch_p, k, w, like), f_load(bkt, b0, w, like)), f_load(den, k, 0, like))
        lam1 = f_mul(f_sub(f_load(batch_p, k + 1, w, like), f_load(bkt, b1, w, like)), f_load(den, k + 1, 0, like))
        x30 = f_sub(f_sub(f_sqr(lam0), bx0), ax0)
        x31 = f_sub(f_sub(f_sqr(lam1), bx1), ax1)
        y30 = f_sub(f_mul(lam0, f_sub(bx0, x30)), f_load(bkt, b0, w, like))
        y31 = f_sub(f_mul(lam1, f_sub(bx1, x31)), f_load(bkt, b1, w, like))
        f_store(bkt, b0, 0, x30)
        f_store(bkt, b0, w, y30)
        f_store(bkt, b1, 0, x31)
        f_store(bkt, b1, w, y31)
        filled[b0] |= 1
        filled[b1] |= 1
        k += 2
    if k < nb:
        b = batch_b[k]
        bx = f_load(bkt, b, 0, like)
        by = f_load(bkt, b, w, like)
        lam = f_mul(f_sub(f_load(batch_p, k, w, like), by), f_load(den, k, 0, like))
        x3 = f_sub(f_sub(f_sqr(lam), bx), f_load(batch_p, k, 0, like))
        f_store(bkt, b, 0, x3)
        f_store(bkt, b, w, f_sub(f_mul(lam, f_sub(bx, x3)), by))
        filled[b] |= 1


@njit(cache=True, nogil=True)
def _bucket_window(
    points: Any,
    idx: Any,
    digits: Any,
    win: int,
    affine: bool,
    bkt: Any,
    filled: Any,
    mark: Any,
    jbkt: Any,
    batch_b: Any,
    batch_p: Any,
    den: Any,
    pre: Any,
    like: Any,
) -> Any:
    """sum_i digits[win, i] * points[idx[i]] (Jacobian), by signed buckets.

    With `affine`, buckets are affine and additions wait in batches that share one
    inversion; a point whose bucket is already waiting in the current batch goes, by a
    Jacobian mixed addition, into an overflow bucket `jbkt` instead, so the pass stays
    linear even when most points fall into a few buckets (e.g. the top window). Without
    `affine` (few buckets, where batches would be too small) every point goes to `jbkt`.
    """
    w = f_width(like)
    n_buckets = bkt.shape[0]
    # filled[b]: bit 0 = the affine bucket holds a point, bit 1 = the overflow bucket does
    for b0 in range(n_buckets):
        filled[b0] = 0
        mark[b0] = -1
    batch_id = 0
    nb = 0
    for i in range(idx.shape[0]):
        d = int(digits[win, i])
        if d == 0:
            continue
        a = load_aff(points, idx[i], like)
        if d > 0:
            b = d - 1
        else:
            b = -d - 1
            a = aff_neg(a)
        if aff_is_inf(a):
            continue
        if not affine or mark[b] == batch_id:
            if filled[b] & 2:
                store_jac(jbkt, b, jac_add_aff(load_jac(jbkt, b, like), a))
            else:
                store_jac(jbkt, b, jac_add_aff(jac_infinity(like), a))
                filled[b] |= 2
            continue
        if (filled[b] & 1) == 0:
            f_store(bkt, b, 0, a[0])
            f_store(bkt, b, w, a[1])
            filled[b] |= 1
            continue
        bx = f_load(bkt, b, 0, like)
        dx = f_sub(a[0], bx)
        if f_is_zero(dx):
            if f_eq(a[1], f_load(bkt, b, w, like)):
                r = _aff_double(a)
                f_store(bkt, b, 0, r[0])
                f_store(bkt, b, w, r[1])
            else:
                filled[b] &= 2  # P + (-P)
            continue
        batch_b[nb] = b
        f_store(batch_p, nb, 0, a[0])
        f_store(batch_p, nb, w, a[1])
        f_store(den, nb, 0, dx)
        mark[b] = batch_id
        nb += 1
        if nb == batch_b.shape[0]:
            _flush_affine(nb, bkt, filled, batch_b, batch_p, den, pre, like)
            nb = 0
            batch_id += 1
    _flush_affine(nb, bkt, filled, batch_b, batch_p, den, pre, like)
    # sum_b (b + 1) bucket_b as running sums; mixed additions while buckets are affine only
    running = jac_infinity(like)
    total = jac_infinity(like)
    for b1 in range(n_buckets - 1, -1, -1):
        f = filled[b1]
        if f & 2:
            t = load_jac(jbkt, b1, like)
            if f & 1:
                t = jac_add_aff(t, load_aff(bkt, b1, like))
            running = jac_add(running, t)
        elif f & 1:
            running = jac_add_aff(running, load_aff(bkt, b1, like))
        total = jac_add(total, running)
    return total


@njit(cache=True, nogil=True, parallel=True)
def bucket_windows_kernel(
    points: Any, idx: Any, digits: Any, c: int, affine: bool, win_out: Any, n_workers: int, wit: Any
) -> None:
    """win_out[w] = sum_i digits[w, i] * points[idx[i]] for every row w of digits (Jacobian).

    Digits lie in [-2^(c-1), 2^(c-1)]; rows go to `n_workers` workers through a shared
    counter. `affine` selects affine buckets with batched inversions (many buckets).
    """
    n_windows = digits.shape[0]
    w = f_width(like_of(wit))
    counter = np.zeros(1, np.int64)
    for _t in prange(n_workers):
        like = like_of(wit)
        n_buckets = 1 << (c - 1)
        bkt = np.empty((n_buckets, 2 * w), np.uint64)
        filled = np.empty(n_buckets, np.uint8)
        mark = np.empty(n_buckets, np.int64)
        jbkt = np.empty((n_buckets, 3 * w), np.uint64)
        batch = max(1, min(AFFINE_BATCH, n_buckets // 4))
        batch_b = np.empty(batch, np.int64)
        batch_p = np.empty((batch, 2 * w), np.uint64)
        den = np.empty((batch, w), np.uint64)
        pre = np.empty((batch, w), np.uint64)
        win = fetch_add(counter, 1)
        while win < n_windows:
            total = _bucket_window(
                points, idx, digits, win, affine, bkt, filled, mark, jbkt, batch_b, batch_p, den, pre, like
            )
            store_jac(win_out, win, total)
            win = fetch_add(counter, 1)


@njit(cache=True, nogil=True)
def horner_kernel(win_out: Any, c: int, dst: Any, row: int, wit: Any) -> None:
    """dst[row] = sum_w 2^(cw) win_out[w] (Jacobian rows in and out)."""
    like = like_of(wit)
    acc = jac_infinity(like)
    for win in range(win_out.shape[0] - 1, -1, -1):
        for _ in range(c):
            acc = jac_double(acc)
        acc = jac_add(acc, load_jac(win_out, win, like))
    store_jac(dst, row, acc)


@njit(cache=True, nogil=True)
def sum_rows_kernel(rows: Any, out: Any, wit: Any) -> None:
    """out[0] = the sum of the Jacobian rows, affine."""
    like = like_of(wit)
    acc = jac_infinity(like)
    for i in range(rows.shape[0]):
        acc = jac_add(acc, load_jac(rows, i, like))
    store_aff(out, 0, jac_to_aff(acc))


# ---- small array-level kernels for tests and benchmarks ----------------------------------

#: Operation codes of `point_apply`.
PT_ADD, PT_DOUBLE, PT_ADD_AFF, PT_SUB = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def point_apply(op: int, a: Any, b: Any, out: Any, wit: Any) -> None:
    """out[i] = affine(op(a[i], b[i])) for affine rows a, b, through Jacobian arithmetic.

    PT_ADD: full Jacobian addition (b converted to Jacobian with Z = 2 to exercise Z != 1);
    PT_DOUBLE: 2 a; PT_ADD_AFF: mixed addition a + b; PT_SUB: a - b by mixed addition.
    """
    like = like_of(wit)
    for i in range(a.shape[0]):
        p = load_aff(a, i, like)
        q = load_aff(b, i, like)
        pj = jac_add_aff(jac_infinity(like), p)
        if op == PT_ADD:
            qj = jac_add_aff(jac_infinity(like), q)
            if not aff_is_inf(q):
                # rescale q to Z = 2: (X, Y, Z) -> (4X, 8Y, 2Z)
                x, y, z = qj
                two = f_dbl(z)
                two2 = f_mul(two, two)
                qj = (f_mul(x, two2), f_mul(y, f_mul(two2, two)), two)
            r = jac_add(pj, qj)
        elif op == PT_DOUBLE:
            r = jac_double(pj)
        elif op == PT_ADD_AFF:
            r = jac_add_aff(pj, q)
        else:
            r = jac_add_aff(pj, aff_neg(q))
        store_aff(out, i, jac_to_aff(r))


@njit(cache=True, nogil=True)
def add_chain_kernel(a: Any, n_add: int, n_madd: int, n_dbl: int, out: Any, wit: Any) -> None:
    """Benchmark: dependent full additions, mixed additions, then doublings of one point."""
    like = like_of(wit)
    q = load_aff(a, 0, like)
    p = jac_double(jac_add_aff(jac_infinity(like), q))
    acc = p
    for _ in range(n_add):
        acc = jac_add(acc, p)
    for _ in range(n_madd):
        acc = jac_add_aff(acc, q)
    for _ in range(n_dbl):
        acc = jac_double(acc)
    store_aff(out, 0, jac_to_aff(acc))


@njit(cache=True, nogil=True, parallel=True)
def batch_to_aff_kernel(jac: Any, out: Any, chunk: int, n_workers: int, wit: Any) -> None:
    """out[i] = affine(jac[i]), one inversion per chunk of rows, chunks shared by workers."""
    n = jac.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    w = f_width(like_of(wit))
    counter = np.zeros(1, np.int64)
    for _t in prange(n_workers):
        like = like_of(wit)
        prefix = np.empty((chunk, w), np.uint64)
        c = fetch_add(counter, 1)
        while c < n_chunks:
            i0 = c * chunk
            i1 = min(n, i0 + chunk)
            batch_to_aff(jac[i0:i1], i1 - i0, out, i0, prefix, like)
            c = fetch_add(counter, 1)
