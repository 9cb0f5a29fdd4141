"""numba kernels of fixed-base linear combinations in G1: sum_i s_i P_i for points P_i
known in advance (a verifying key's IC points), with precomputed window tables.

Scalars are cut into windows of w bits (w divides 64, so a window never straddles a
limb): s = sum_k d_k 2^(wk). The table holds d * 2^(wk) * P_i for every window k and
digit d in [1, 2^w), affine, so a combination is one mixed addition per nonzero digit
and no doubling at all. Row layout: table[(i * n_windows + k) * 2^w + d], with row d = 0
of each block infinity (all zero).

Private module: `_fixed_base` validates and dispatches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ._nb_curve import aff_to_jac, batch_to_aff, jac_add_aff, jac_double, jac_infinity, jac_to_aff, load_aff, store_jac
from ._nb_field import fq_zero

_LIMB_BITS = 64


@njit(cache=True, nogil=True)
def build_table(points: Any, w: int, n_windows: int, out: Any) -> None:
    """out (n * n_windows * 2^w, 8): the window table of each affine row of points."""
    like = fq_zero()
    size = 1 << w
    jac = np.empty((n_windows * size, 12), np.uint64)
    prefix = np.empty((n_windows * size, 4), np.uint64)
    for i in range(points.shape[0]):
        base = aff_to_jac(load_aff(points, i, like))
        for k in range(n_windows):
            acc = jac_infinity(like)
            store_jac(jac, k * size, acc)
            base_aff = jac_to_aff(base)
            for d in range(1, size):
                acc = jac_add_aff(acc, base_aff)
                store_jac(jac, k * size + d, acc)
            for _ in range(w):
                base = jac_double(base)
        batch_to_aff(jac, n_windows * size, out, i * n_windows * size, prefix, like)


@njit(cache=True, nogil=True)
def combination(table: Any, w: int, n_windows: int, scalars: Any) -> Any:
    """sum_i scalars[i] * P_i (scalars (n, 4) standard-form limbs) as an affine tuple."""
    like = fq_zero()
    size = 1 << w
    mask = np.uint64(size - 1)
    per_limb = _LIMB_BITS // w
    acc = jac_infinity(like)
    for i in range(scalars.shape[0]):
        block = i * n_windows
        for k in range(n_windows):
            limb = scalars[i, k // per_limb]
            d = int((limb >> np.uint64((k % per_limb) * w)) & mask)
            if d != 0:
                acc = jac_add_aff(acc, load_aff(table, (block + k) * size + d, like))
    return jac_to_aff(acc)
