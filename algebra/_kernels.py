"""Fast array-level G1/G2 operations (numba), each beside its Python-int reference twin.

Every public function takes and returns LEM arrays (see `_lem`): affine points as rows of
8 (G1) or 16 (G2) uint64, infinity all zero; scalars as rows of 4 uint64 limbs in
standard form, below r. The fast function validates its inputs, picks the kernel and
wraps the result; its `_ref` twin has the same signature and result, computed with
`G1`/`G2` of `_curve` on Python ints (slow: for tests and small inputs).

- `g1_sparse_combination`, `g2_sparse_combination`: out[j] = sum of scalars[k] *
  points[indices[k]] over k in indptr[j]:indptr[j+1] (CSR), e.g. Groth16 phase-2 keys
  from powers-of-tau Lagrange points.
- `g1_scale`, `g2_scale`: every point times one scalar (phase-2 contributions).
- `g1_msm`, `g2_msm`: one multi-scalar multiplication (Pippenger).
- `g1_batch_to_affine`, `g2_batch_to_affine`: Jacobian rows (X, Y, Z, 12 or 24 limbs,
  Z = 0 is infinity) to affine rows with one inversion per chunk.

Validation covers dtype, C order, shapes, index ranges and field ranges (coordinates
below q, scalars below r); it does not check that points lie on the curve or in the
subgroup (do that where points enter from outside, e.g. `G1.validate` on file import).

Threads: the kernels run on numba's thread pool, one worker per thread
(`NUMBA_NUM_THREADS`, or `numba.set_num_threads` for the calling thread), taking chunks
from a shared counter, and release the GIL. The pool is GNU OpenMP here: a process that
has run a kernel must not `fork` and run kernels in the child (use the "spawn" or
"forkserver" start method for process pools).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from ._binfile import limbs_below
from ._constants import Q, R
from ._curve import G1, G2, Curve
from ._lem import (
    U64Array,
    fq_from_lem,
    g1_from_lem,
    g1_to_lem,
    g2_from_lem,
    g2_to_lem,
    limbs_to_ints,
)
from ._nb_curve import G1_WIT, G2_WIT
from ._nb_msm import (
    NAF_LEN,
    batch_to_aff_kernel,
    bucket_windows_kernel,
    horner_kernel,
    scale_kernel,
    signed_digits_kernel,
    sparse_combination_kernel,
    sum_rows_kernel,
)

I64Array = npt.NDArray[np.int64]

#: Witness arrays that select the G1 (Fq) or G2 (Fq2) instance of a kernel.
_G1_LIKE = G1_WIT
_G2_LIKE = G2_WIT

#: Limbs per affine point.
G1_WIDTH = 8
G2_WIDTH = 16

_RM1 = np.array([((R - 1) >> (64 * i)) & ((1 << 64) - 1) for i in range(4)], dtype=np.uint64)

#: Terms per Straus block in sparse combinations.
_STRAUS_BLOCK = 32
#: Outputs per batched inversion (upper bound).
_MAX_CHUNK = 256


# ---- validation --------------------------------------------------------------------


def _writable(arr: Any) -> Any:
    """arr, or a copy if it is read-only (e.g. np.frombuffer over file bytes).

    numba compiles a separate specialization for read-only arrays; copying them (a few
    ms against the kernel's seconds) keeps one compiled, cached version of each kernel.
    """
    return arr if arr.flags.writeable else arr.copy()


def _check_u64_2d(arr: Any, name: str, width: int) -> U64Array:
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{name}: expected a numpy array, got {type(arr).__name__}")
    if arr.dtype != np.uint64:
        raise ValueError(f"{name}: dtype is {arr.dtype}, expected uint64")
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"{name}: shape is {arr.shape}, expected (n, {width})")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name}: array is not C-contiguous (use np.ascontiguousarray)")
    return _writable(arr)


def _check_points(points: Any, width: int, name: str = "points") -> U64Array:
    points = _check_u64_2d(points, name, width)
    bad = ~limbs_below(points, Q)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}: coordinate limb group {first % (width // 4)} of row {first // (width // 4)} "
            f"is not below q (LEM coordinates are reduced Montgomery values)"
        )
    return points


def _check_scalars(scalars: Any, name: str = "scalars") -> U64Array:
    scalars = _check_u64_2d(scalars, name, 4)
    bad = ~limbs_below(scalars, R)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        value = limbs_to_ints(scalars[first : first + 1])[0]
        raise ValueError(f"{name}: row {first} is {value}, not below r = {R}")
    return scalars


def _check_csr(indptr: Any, indices: Any, scalars: Any, n_points: int) -> tuple[I64Array, I64Array, U64Array]:
    for name, arr in (("indptr", indptr), ("indices", indices)):
        if not isinstance(arr, np.ndarray):
            raise ValueError(f"{name}: expected a numpy array, got {type(arr).__name__}")
        if arr.dtype != np.int64 or arr.ndim != 1:
            raise ValueError(f"{name}: expected a 1-d int64 array, got dtype {arr.dtype} and shape {arr.shape}")
        if not arr.flags.c_contiguous:
            raise ValueError(f"{name}: array is not C-contiguous (use np.ascontiguousarray)")
    indptr, indices = _writable(indptr), _writable(indices)
    scalars = _check_scalars(scalars)
    nnz = indices.shape[0]
    if scalars.shape[0] != nnz:
        raise ValueError(f"scalars has {scalars.shape[0]} rows but indices has {nnz} entries")
    if indptr.shape[0] < 1:
        raise ValueError("indptr is empty; it needs n_out + 1 >= 1 entries")
    if indptr[0] != 0:
        raise ValueError(f"indptr[0] is {int(indptr[0])}, expected 0")
    if indptr[-1] != nnz:
        raise ValueError(f"indptr[-1] is {int(indptr[-1])} but there are {nnz} terms")
    steps = np.diff(indptr)
    if (steps < 0).any():
        j = int(np.flatnonzero(steps < 0)[0])
        raise ValueError(f"indptr decreases at output {j}: {int(indptr[j])} -> {int(indptr[j + 1])}")
    if nnz:
        lo, hi = int(indices.min()), int(indices.max())
        if lo < 0 or hi >= n_points:
            bad = lo if lo < 0 else hi
            raise ValueError(f"indices has {bad}, outside the {n_points} points (0..{n_points - 1})")
    return indptr, indices, scalars


def _check_scalar_int(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"k: expected an integer scalar, got {type(k).__name__}")
    return int(k) % R


def _workers() -> int:
    """Parallel kernels run one worker per numba thread; workers share chunks dynamically."""
    return int(numba.get_num_threads())


def _chunk_size(n: int) -> int:
    threads = numba.get_num_threads()
    return max(1, min(_MAX_CHUNK, n // (8 * threads) if n >= 8 * threads else 1))


# ---- sparse combinations -----------------------------------------------------------


def _sparse_combination(points: Any, indptr: Any, indices: Any, scalars: Any, width: int, like: Any) -> U64Array:
    points = _check_points(points, width)
    indptr, indices, scalars = _check_csr(indptr, indices, scalars, points.shape[0])
    n_out = indptr.shape[0] - 1
    out = np.empty((n_out, width), dtype=np.uint64)
    if n_out == 0:
        return out
    sparse_combination_kernel(
        points, indptr, indices, scalars, out, _chunk_size(n_out), _STRAUS_BLOCK, _workers(), like
    )
    return out


def g1_sparse_combination(points: U64Array, indptr: I64Array, indices: I64Array, scalars: U64Array) -> U64Array:
    """out[j] = sum_{k in indptr[j]:indptr[j+1]} scalars[k] * points[indices[k]] in G1.

    points: (n, 8) LEM affine; indptr: int64 (n_out + 1,); indices: int64 (nnz,);
    scalars: uint64 (nnz, 4), standard form, below r. Returns (n_out, 8) LEM affine,
    infinity (an empty row, or terms that cancel) all zero.
    """
    return _sparse_combination(points, indptr, indices, scalars, G1_WIDTH, _G1_LIKE)


def g2_sparse_combination(points: U64Array, indptr: I64Array, indices: I64Array, scalars: U64Array) -> U64Array:
    """`g1_sparse_combination` in G2: points (n, 16), result (n_out, 16)."""
    return _sparse_combination(points, indptr, indices, scalars, G2_WIDTH, _G2_LIKE)


@dataclass(frozen=True)
class _RefGroup:
    """What the reference twins need of a group: its Python-int arithmetic and LEM codec."""

    curve: Curve[Any]
    width: int
    from_lem: Callable[[U64Array], list[Any]]
    to_lem: Callable[[Sequence[Any]], U64Array]


_G1_REF = _RefGroup(G1, G1_WIDTH, g1_from_lem, g1_to_lem)
_G2_REF = _RefGroup(G2, G2_WIDTH, g2_from_lem, g2_to_lem)


def _sparse_combination_ref(g: _RefGroup, points: Any, indptr: Any, indices: Any, scalars: Any) -> U64Array:
    points = _check_points(points, g.width)
    indptr, indices, scalars = _check_csr(indptr, indices, scalars, points.shape[0])
    pts = g.from_lem(points)
    ks = limbs_to_ints(scalars)
    bounds = zip(indptr[:-1].tolist(), indptr[1:].tolist())
    res = [g.curve.msm([pts[int(i)] for i in indices[a:b]], ks[a:b]) for a, b in bounds]
    return g.to_lem(res).reshape(-1, g.width)


def g1_sparse_combination_ref(points: U64Array, indptr: I64Array, indices: I64Array, scalars: U64Array) -> U64Array:
    """Reference twin of `g1_sparse_combination` (Python ints, `G1.msm` per output)."""
    return _sparse_combination_ref(_G1_REF, points, indptr, indices, scalars)


def g2_sparse_combination_ref(points: U64Array, indptr: I64Array, indices: I64Array, scalars: U64Array) -> U64Array:
    """Reference twin of `g2_sparse_combination` (Python ints, `G2.msm` per output)."""
    return _sparse_combination_ref(_G2_REF, points, indptr, indices, scalars)


# ---- scaling by one scalar -----------------------------------------------------------


def wnaf_digits(k: int, w: int) -> list[int]:
    """Width-w NAF of k >= 0, least significant digit first (digits odd or 0, |d| < 2^(w-1))."""
    out = []
    while k:
        if k & 1:
            d = k & ((1 << w) - 1)
            if d >= 1 << (w - 1):
                d -= 1 << w
            k -= d
        else:
            d = 0
        out.append(d)
        k >>= 1
    return out


def _scale(points: Any, k: Any, width: int, like: Any) -> U64Array:
    points = _check_points(points, width)
    k = _check_scalar_int(k)
    n = points.shape[0]
    if k == 0 or n == 0:
        return np.zeros((n, width), dtype=np.uint64)
    if k == 1:
        return points.copy()
    sign = 1
    if k > (R - 1) // 2:
        k, sign = R - k, -1
    wd = 5 if k.bit_length() > 64 else 4
    naf = wnaf_digits(k, wd)
    digits = np.zeros((1, NAF_LEN), dtype=np.int8)
    digits[0, : len(naf)] = np.array(naf, dtype=np.int64) * sign
    out = np.empty((n, width), dtype=np.uint64)
    scale_kernel(points, digits, len(naf), wd, out, _chunk_size(n), _workers(), like)
    return out


def g1_scale(points: U64Array, k: int) -> U64Array:
    """k * points[i] for every row of an (n, 8) LEM affine array; k any int (taken mod r)."""
    return _scale(points, k, G1_WIDTH, _G1_LIKE)


def g2_scale(points: U64Array, k: int) -> U64Array:
    """k * points[i] for every row of an (n, 16) LEM affine array; k any int (taken mod r)."""
    return _scale(points, k, G2_WIDTH, _G2_LIKE)


def _scale_ref(g: _RefGroup, points: Any, k: Any) -> U64Array:
    points = _check_points(points, g.width)
    k = _check_scalar_int(k)
    return g.to_lem([g.curve.mul(p, k) for p in g.from_lem(points)]).reshape(-1, g.width)


def g1_scale_ref(points: U64Array, k: int) -> U64Array:
    """Reference twin of `g1_scale`."""
    return _scale_ref(_G1_REF, points, k)


def g2_scale_ref(points: U64Array, k: int) -> U64Array:
    """Reference twin of `g2_scale`."""
    return _scale_ref(_G2_REF, points, k)


# ---- multi-scalar multiplication ---------------------------------------------------------


#: Cost of one bucket addition, in field multiplications: Jacobian mixed addition
#: (7M + 4S), affine addition with a share of a batched inversion (about 6M).
_JAC_BUCKET_ADD = 11.0
_AFF_BUCKET_ADD = 6.5
#: Cost of summing one bucket into the window's running sums (mixed + full addition).
_BUCKET_SUM = 27.0
#: Windows with at least this many buckets use affine buckets.
_AFFINE_MIN_BUCKETS = 512


def msm_window_bits(n: int, bits: int, workers: int = 1) -> int:
    """Pippenger window c (signed digits, 2^(c-1) buckets) minimising the estimated time.

    Per window: n bucket additions (affine with batched inversion when the window has at
    least 512 buckets, else Jacobian) and 2^(c-1) bucket sums; ceil((bits + 1) / c)
    windows, shared by `workers` (the slowest worker takes ceil(windows / workers)).
    """
    best_c, best_cost = 2, float("inf")
    for c in range(2, 21):
        n_buckets = 1 << (c - 1)
        add = _AFF_BUCKET_ADD if n_buckets >= _AFFINE_MIN_BUCKETS else _JAC_BUCKET_ADD
        windows = -(-(bits + 1) // c)
        rounds = -(-windows // workers)
        cost = rounds * (n * add + n_buckets * _BUCKET_SUM)
        if cost < best_cost:
            best_c, best_cost = c, cost
    return best_c


def _bit_length_max(scalars: U64Array, idx: I64Array) -> int:
    sub = scalars[idx]
    for limb in (3, 2, 1, 0):
        top = int(sub[:, limb].max())
        if top:
            return 64 * limb + top.bit_length()
    return 0


#: Scalars below 2^SMALL_BITS form their own Pippenger pass with fewer windows
#: (range-check bits and small integers fill circuit witnesses).
_SMALL_BITS = 64


def _pippenger(
    points: U64Array, scalars: U64Array, idx: I64Array, like: Any, window: int | None, dst: U64Array, row: int
) -> None:
    """dst[row] = sum over i in idx of scalars[i] * points[i] (Jacobian), by Pippenger."""
    bits = _bit_length_max(scalars, idx)
    c = window if window is not None else msm_window_bits(int(idx.size), bits, _workers())
    n_windows = -(-(bits + 1) // c)
    digits = np.empty((idx.size, n_windows), dtype=np.int32)
    signed_digits_kernel(scalars, idx, c, n_windows, digits)
    digits = np.ascontiguousarray(digits.T)  # one contiguous row per window
    win_out = np.empty((n_windows, dst.shape[1]), dtype=np.uint64)
    affine = 1 << (c - 1) >= _AFFINE_MIN_BUCKETS
    bucket_windows_kernel(points, idx, digits, c, affine, win_out, _workers(), like)
    horner_kernel(win_out, c, dst, row, like)


def _msm(points: Any, scalars: Any, width: int, like: Any, window: int | None = None) -> U64Array:
    """MSM kernel dispatch; `window` forces the Pippenger window (tests reach both bucket kinds).

    Scalars are partitioned: 0 is skipped; 1 and r - 1 go to one signed bucket (plain
    additions); scalars below 2^64 and full-width ones each get a Pippenger pass with
    their own window and number of windows. Each part leaves Jacobian rows, summed last.
    """
    points = _check_points(points, width)
    scalars = _check_scalars(scalars)
    n = points.shape[0]
    if scalars.shape[0] != n:
        raise ValueError(f"msm: {n} points but {scalars.shape[0]} scalars")
    out = np.zeros((1, width), dtype=np.uint64)
    if n == 0:
        return out[0]
    hi_zero = (scalars[:, 1] | scalars[:, 2] | scalars[:, 3]) == 0
    is_zero = hi_zero & (scalars[:, 0] == 0)
    is_one = hi_zero & (scalars[:, 0] == 1)
    is_mone = (scalars == _RM1).all(axis=1)
    is_small = hi_zero & ~is_zero & ~is_one
    is_big = ~(hi_zero | is_mone)
    jac_w = 3 * width // 2
    workers = _workers()
    idx_unit = np.flatnonzero(is_one | is_mone).astype(np.int64)
    unit_rows = min(workers, int(idx_unit.size))
    groups = [g for g in (np.flatnonzero(is_small), np.flatnonzero(is_big)) if g.size]
    rows = np.empty((unit_rows + len(groups), jac_w), dtype=np.uint64)
    if unit_rows:
        # digit +1 or -1 in a single bucket, one row per worker's share
        unit_digits = np.zeros((unit_rows, idx_unit.size), dtype=np.int32)
        signs = np.where(is_one[idx_unit], 1, -1).astype(np.int32)
        for r, part in enumerate(np.array_split(np.arange(idx_unit.size), unit_rows)):
            unit_digits[r, part] = signs[part]
        bucket_windows_kernel(points, idx_unit, unit_digits, 2, False, rows[:unit_rows], workers, like)
    for k, idx in enumerate(groups):
        _pippenger(points, scalars, idx.astype(np.int64), like, window, rows, unit_rows + k)
    sum_rows_kernel(rows, out, like)
    return out[0]


def g1_msm(points: U64Array, scalars: U64Array) -> U64Array:
    """sum_i scalars[i] * points[i] in G1: points (n, 8) LEM affine, scalars (n, 4) below r.

    Returns one LEM affine point, shape (8,). Zero scalars are skipped, 1 and r - 1 are
    plain additions; scalars below 2^64 and full-width ones each go through their own
    Pippenger pass with signed-digit windows (window from `msm_window_bits`), the windows
    in parallel, with affine buckets and batched inversions once a window has 512
    buckets or more.
    """
    return _msm(points, scalars, G1_WIDTH, _G1_LIKE)


def g2_msm(points: U64Array, scalars: U64Array) -> U64Array:
    """`g1_msm` in G2: points (n, 16), result shape (16,)."""
    return _msm(points, scalars, G2_WIDTH, _G2_LIKE)


def _msm_ref(g: _RefGroup, points: Any, scalars: Any) -> U64Array:
    points = _check_points(points, g.width)
    scalars = _check_scalars(scalars)
    if scalars.shape[0] != points.shape[0]:
        raise ValueError(f"msm: {points.shape[0]} points but {scalars.shape[0]} scalars")
    return g.to_lem([g.curve.msm(g.from_lem(points), limbs_to_ints(scalars))])[0]


def g1_msm_ref(points: U64Array, scalars: U64Array) -> U64Array:
    """Reference twin of `g1_msm` (`G1.msm`)."""
    return _msm_ref(_G1_REF, points, scalars)


def g2_msm_ref(points: U64Array, scalars: U64Array) -> U64Array:
    """Reference twin of `g2_msm` (`G2.msm`)."""
    return _msm_ref(_G2_REF, points, scalars)


# ---- Jacobian -> affine ----------------------------------------------------------------


def _batch_to_affine(jac: Any, width: int, like: Any) -> U64Array:
    jac = _check_points(jac, 3 * width // 2, "jac")
    n = jac.shape[0]
    out = np.empty((n, width), dtype=np.uint64)
    if n:
        batch_to_aff_kernel(jac, out, _chunk_size(n), _workers(), like)
    return out


def g1_batch_to_affine(jac: U64Array) -> U64Array:
    """(n, 12) Jacobian rows (X, Y, Z Montgomery limbs; Z = 0 is infinity) -> (n, 8) LEM affine."""
    return _batch_to_affine(jac, G1_WIDTH, _G1_LIKE)


def g2_batch_to_affine(jac: U64Array) -> U64Array:
    """(n, 24) Jacobian rows over Fq2 -> (n, 16) LEM affine."""
    return _batch_to_affine(jac, G2_WIDTH, _G2_LIKE)


def g1_batch_to_affine_ref(jac: U64Array) -> U64Array:
    """Reference twin of `g1_batch_to_affine`."""
    jac = _check_points(jac, 12, "jac")
    c = fq_from_lem(jac.reshape(-1, 4))
    pts = [(c[i], c[i + 1], c[i + 2]) for i in range(0, len(c), 3)]
    return g1_to_lem(G1._batch_to_affine(pts)).reshape(-1, G1_WIDTH)


def g2_batch_to_affine_ref(jac: U64Array) -> U64Array:
    """Reference twin of `g2_batch_to_affine`."""
    jac = _check_points(jac, 24, "jac")
    c = fq_from_lem(jac.reshape(-1, 4))
    pts = [((c[i], c[i + 1]), (c[i + 2], c[i + 3]), (c[i + 4], c[i + 5])) for i in range(0, len(c), 6)]
    return g2_to_lem(G2._batch_to_affine(pts)).reshape(-1, G2_WIDTH)
