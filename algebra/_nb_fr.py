"""Parallel numba kernels over Fr vectors: radix-2 NTTs, element-wise products, sparse
matrix-vector products.

Data are (n, 4) uint64 rows of standard-form Fr elements; twiddles and scale factors
are in Montgomery form, so that every Montgomery product `fr_mul(data, constant)`
stays in standard form (see `_nb_field`). No kernel allocates.

The transform is decimation in time on bit-reversed input:
1. `bitrev_scale_kernel` copies the input into the output in bit-reversed order,
   multiplying element i by scale[i] on the way when a coset or a normalisation
   asks for it;
2. `local_stages_kernel` runs every stage whose butterflies stay inside a block of
   `block` rows (small enough for the L2 cache), one block per task;
3. `stage_kernel` runs each remaining stage over the whole array, its butterflies cut
   into contiguous chunks across threads.

Stage tables: `tw[m - 1 + k] = w_(2m)^k` for every half-size m (1, 2, 4, ...) and
k < m, so each stage reads its twiddles contiguously (n - 1 rows in all).

Private module: public, validated entry points live in `_fr_kernels`.
"""

from __future__ import annotations

from typing import Any

from numba import njit, prange

from ._nb_field import (
    FR_R2_0,
    FR_R2_1,
    FR_R2_2,
    FR_R2_3,
    ZERO64,
    _load_fq,
    _store_fq,
    fr_add,
    fr_mul,
    fr_one,
    fr_sub,
)


@njit(cache=True, nogil=True)
def _bitrev(i: int, log_n: int) -> int:
    r = 0
    for _ in range(log_n):
        r = (r << 1) | (i & 1)
        i >>= 1
    return r


@njit(cache=True, nogil=True)
def _fr_pow(base: Any, e: int) -> Any:
    """base^e in Montgomery form for 0 <= e < 2^63."""
    acc = fr_one()
    b = base
    while e > 0:
        if e & 1:
            acc = fr_mul(acc, b)
        b = fr_mul(b, b)
        e >>= 1
    return acc


@njit(cache=True, nogil=True, parallel=True)
def powers_kernel(base: Any, first: Any, out: Any, chunk: int) -> None:
    """out[i] = first * base^i (Montgomery rows), chunks in parallel from their own start."""
    n = out.shape[0]
    b = _load_fq(base, 0, 0)
    f = _load_fq(first, 0, 0)
    n_chunks = (n + chunk - 1) // chunk
    for c in prange(n_chunks):
        i0 = c * chunk
        i1 = min(n, i0 + chunk)
        acc = fr_mul(f, _fr_pow(b, i0))
        for i in range(i0, i1):
            _store_fq(out, i, 0, acc)
            acc = fr_mul(acc, b)


@njit(cache=True, nogil=True, parallel=True)
def bitrev_scale_kernel(a: Any, out: Any, scale: Any, use_scale: bool, log_n: int) -> None:
    """out[bitrev(i)] = a[i] (times scale[i], Montgomery, when use_scale)."""
    n = a.shape[0]
    for i in prange(n):
        j = _bitrev(i, log_n)
        x = _load_fq(a, i, 0)
        if use_scale:
            x = fr_mul(x, _load_fq(scale, i, 0))
        _store_fq(out, j, 0, x)


@njit(cache=True, nogil=True)
def _butterflies(x: Any, tw: Any, start: int, m: int, k0: int, k1: int) -> None:
    """Butterflies k0 <= k < k1 of the group at `start` with half-size m."""
    for k in range(k0, k1):
        i = start + k
        j = i + m
        t = fr_mul(_load_fq(x, j, 0), _load_fq(tw, m - 1 + k, 0))
        u = _load_fq(x, i, 0)
        _store_fq(x, i, 0, fr_add(u, t))
        _store_fq(x, j, 0, fr_sub(u, t))


@njit(cache=True, nogil=True, parallel=True)
def local_stages_kernel(x: Any, tw: Any, block: int) -> None:
    """All stages with 2m <= block, block by block (each block's data stays in cache)."""
    n = x.shape[0]
    for b in prange(n // block):
        base = b * block
        m = 1
        while m < block:
            for start in range(base, base + block, 2 * m):
                _butterflies(x, tw, start, m, 0, m)
            m *= 2


@njit(cache=True, nogil=True, parallel=True)
def stage_kernel(x: Any, tw: Any, m: int, chunk: int) -> None:
    """One stage of half-size m over the whole array: n / 2 butterflies in chunks."""
    half = x.shape[0] // 2
    n_chunks = (half + chunk - 1) // chunk
    for c in prange(n_chunks):
        t0 = c * chunk
        t1 = min(half, t0 + chunk)
        t = t0
        while t < t1:
            g = t // m
            k = t - g * m
            k1 = min(m, k + (t1 - t))
            _butterflies(x, tw, g * 2 * m, m, k, k1)
            t += k1 - k


@njit(cache=True, nogil=True, parallel=True)
def scale_kernel(x: Any, scale: Any, use_table: bool, factor: Any) -> None:
    """x[i] *= scale[i] when use_table, else x[i] *= factor[0] (Montgomery constants)."""
    f = _load_fq(factor, 0, 0)
    for i in prange(x.shape[0]):
        s = _load_fq(scale, i, 0) if use_table else f
        _store_fq(x, i, 0, fr_mul(_load_fq(x, i, 0), s))


@njit(cache=True, nogil=True, parallel=True)
def mul_sub_kernel(a: Any, b: Any, c: Any, use_c: bool, out: Any) -> None:
    """out[i] = a[i] * b[i] - c[i] (or a[i] * b[i] without c), all in standard form.

    A Montgomery product of two standard values is a*b / 2^256; one more product with
    2^512 mod r (Montgomery) restores a*b.
    """
    r2 = (FR_R2_0, FR_R2_1, FR_R2_2, FR_R2_3)
    for i in prange(a.shape[0]):
        p = fr_mul(fr_mul(_load_fq(a, i, 0), _load_fq(b, i, 0)), r2)
        if use_c:
            p = fr_sub(p, _load_fq(c, i, 0))
        _store_fq(out, i, 0, p)


@njit(cache=True, nogil=True, parallel=True)
def sparse_matvec_kernel(indptr: Any, indices: Any, coefs: Any, x: Any, out: Any, chunk: int) -> None:
    """out[j] = sum_{k in indptr[j]:indptr[j+1]} coefs[k] * x[indices[k]].

    coefs in Montgomery form, x and out in standard form; rows in parallel chunks.
    """
    n_out = out.shape[0]
    n_chunks = (n_out + chunk - 1) // chunk
    zero = (ZERO64, ZERO64, ZERO64, ZERO64)
    for c in prange(n_chunks):
        for j in range(c * chunk, min(n_out, (c + 1) * chunk)):
            acc = zero
            for k in range(indptr[j], indptr[j + 1]):
                acc = fr_add(acc, fr_mul(_load_fq(coefs, k, 0), _load_fq(x, indices[k], 0)))
            _store_fq(out, j, 0, acc)
