"""Fast array-level Fr operations (numba): NTTs, element-wise products and Montgomery
conversion, each beside its Python-int reference twin.

Arrays are (n, 4) uint64 rows of little-endian limbs of standard-form Fr elements, below r
(the layout of .wtns witnesses and of MSM scalars). Every fast function validates its
inputs and returns a new array; its `_ref` twin has the same signature and result,
computed on Python ints with `_ntt` (slow: for tests and small inputs).

The transforms use ffjavascript's roots of unity (`fr_root_of_unity`), so evaluation
points are ordered as in snarkjs:
- `fr_ntt(a)[i] = sum_j a[j] w^(ij)`, w the n-th root; `fr_intt` inverts it;
- `fr_coset_ntt(a, s)[i] = sum_j a[j] (s w^i)^j`, evaluations on the coset s<w>;
  `fr_coset_intt` inverts it.
Lengths are powers of two from 1 to 2^28 (Fr's two-adicity). Twiddle tables are
computed once per size and direction and kept (the 8 most recent; 32 MB at 2^20).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numba
import numpy as np

from ._binfile import limbs_below
from ._constants import FR_TWO_ADICITY, Q, R
from ._field import fr_root_of_unity
from ._kernels import I64Array, _check_csr, _check_scalars, _check_u64_2d
from ._lem import MONT_R_R, U64Array, ints_to_limbs, limbs_to_ints
from ._nb_field import FROM_MONT_Q, FROM_MONT_R, TO_MONT_Q, TO_MONT_R, mont_convert_kernel
from ._nb_fr import (
    bitrev_scale_kernel,
    local_stages_kernel,
    mul_sub_kernel,
    powers_kernel,
    scale_kernel,
    sparse_matvec_kernel,
    stage_kernel,
)
from ._ntt import intt, ntt

#: Rows per cache-resident block of the first stages (128 KB of data).
_BLOCK = 1 << 12
#: Minimum butterflies per parallel chunk of a whole-array stage.
_MIN_CHUNK = 1 << 10


def _mont(v: int) -> U64Array:
    """One Fr value as a (1, 4) Montgomery row (a kernel constant)."""
    return ints_to_limbs([v % R * MONT_R_R % R])


def _log2_size(a: U64Array, name: str = "a") -> int:
    n = a.shape[0]
    if n == 0 or n & (n - 1):
        raise ValueError(f"{name}: NTT length must be a power of two, got {n}")
    log_n = n.bit_length() - 1
    if log_n > FR_TWO_ADICITY:
        raise ValueError(f"{name}: NTT length 2^{log_n} exceeds Fr's two-adicity 2^{FR_TWO_ADICITY}")
    return log_n


def _powers(base: int, first: int, n: int) -> U64Array:
    """[first * base^i for i < n] as Montgomery rows, computed in parallel chunks."""
    out = np.empty((n, 4), dtype=np.uint64)
    chunk = max(1024, -(-n // (4 * numba.get_num_threads())))
    powers_kernel(_mont(base), _mont(first), out, chunk)
    return out


@lru_cache(maxsize=8)
def _stage_twiddles(log_n: int, inverse: bool) -> U64Array:
    """tw[m - 1 + k] = w_(2m)^k (Montgomery) for every half-size m < n and k < m."""
    n = 1 << log_n
    if n == 1:
        return np.zeros((1, 4), dtype=np.uint64)
    w = fr_root_of_unity(n)
    if inverse:
        w = pow(w, -1, R)
    full = _powers(w, 1, n // 2)
    idx = np.concatenate([np.arange(m, dtype=np.int64) * (n // (2 * m)) for m in (1 << s for s in range(log_n))])
    return np.ascontiguousarray(full[idx])


@lru_cache(maxsize=8)
def _scale_table(log_n: int, base: int, first: int) -> U64Array:
    return _powers(base, first, 1 << log_n)


def _transform(a: U64Array, log_n: int, inverse: bool, pre: U64Array | None, post: U64Array | None) -> U64Array:
    """NTT of a (inverse root if `inverse`), a[i] times pre[i] first, result times post[i]."""
    n = 1 << log_n
    out = np.empty((n, 4), dtype=np.uint64)
    bitrev_scale_kernel(a, out, pre if pre is not None else out, pre is not None, log_n)
    tw = _stage_twiddles(log_n, inverse)
    block = min(n, _BLOCK)
    local_stages_kernel(out, tw, block)
    chunk = max(_MIN_CHUNK, -(-n // (8 * numba.get_num_threads())))
    m = block
    while m < n:
        stage_kernel(out, tw, m, chunk)
        m *= 2
    if post is not None:
        scale_kernel(out, post, True, post)
    return out


def fr_ntt(a: U64Array) -> U64Array:
    """Evaluations on the n-th roots of unity of the polynomial with coefficients a."""
    a = _check_scalars(a, "a")
    return _transform(a, _log2_size(a), False, None, None)


def fr_intt(a: U64Array) -> U64Array:
    """Coefficients of the polynomial with evaluations a on the n-th roots of unity."""
    a = _check_scalars(a, "a")
    log_n = _log2_size(a)
    out = _transform(a, log_n, True, None, None)
    scale_kernel(out, out, False, _mont(pow(1 << log_n, -1, R)))
    return out


def fr_coset_ntt(a: U64Array, shift: int) -> U64Array:
    """Evaluations at shift * w^i of the polynomial with coefficients a (shift nonzero)."""
    a = _check_scalars(a, "a")
    log_n = _log2_size(a)
    shift = _check_shift(shift)
    return _transform(a, log_n, False, _scale_table(log_n, shift, 1), None)


def fr_coset_intt(a: U64Array, shift: int) -> U64Array:
    """Coefficients of the polynomial whose values at shift * w^i are a (shift nonzero)."""
    a = _check_scalars(a, "a")
    log_n = _log2_size(a)
    shift = _check_shift(shift)
    post = _scale_table(log_n, pow(shift, -1, R), pow(1 << log_n, -1, R))
    return _transform(a, log_n, True, None, post)


def _check_shift(shift: Any) -> int:
    if isinstance(shift, bool) or not isinstance(shift, int | np.integer):
        raise ValueError(f"shift: expected an integer, got {type(shift).__name__}")
    s = int(shift) % R
    if s == 0:
        raise ValueError("shift: a coset shift must be nonzero mod r")
    return s


def fr_mul_sub(a: U64Array, b: U64Array, c: U64Array | None = None) -> U64Array:
    """a[i] * b[i] - c[i] (or a[i] * b[i] when c is None), element-wise, standard form."""
    a = _check_scalars(a, "a")
    b = _check_scalars(b, "b")
    if c is not None:
        c = _check_scalars(c, "c")
    for name, arr in (("b", b), ("c", c)):
        if arr is not None and arr.shape[0] != a.shape[0]:
            raise ValueError(f"{name} has {arr.shape[0]} rows but a has {a.shape[0]}")
    out = np.empty_like(a)
    mul_sub_kernel(a, b, c if c is not None else a, c is not None, out)
    return out


def fr_sparse_matvec(indptr: I64Array, indices: I64Array, coefs: U64Array, x: U64Array) -> U64Array:
    """out[j] = sum_{k in indptr[j]:indptr[j+1]} coefs[k] * x[indices[k]] over Fr (CSR).

    indptr: int64 (n_out + 1,); indices: int64 (nnz,) below len(x); coefs: (nnz, 4) and
    x: (m, 4), standard form. Returns (n_out, 4), standard form. R1CS matrices times a
    witness: each product is one Montgomery multiplication by the coefficient's
    Montgomery form.
    """
    x = _check_scalars(x, "x")
    return FrCsr.of(indptr, indices, coefs, x.shape[0]).matvec(x)


@dataclass(frozen=True, eq=False)
class FrCsr:
    """A sparse Fr matrix checked and prepared once for many products (an R1CS matrix
    times one witness after another): CSR arrays with Montgomery-form coefficients.

    `FrCsr.of(indptr, indices, coefs, n_cols)` takes standard-form coefficients, or with
    `montgomery=True` coefficients already in Montgomery form (a .zkey's, after one
    `from_montgomery`). `matvec(x)` is `fr_sparse_matvec(indptr, indices, coefs, x)`
    without re-checking or converting the matrix."""

    indptr: I64Array
    indices: I64Array
    coefs_mont: U64Array
    n_cols: int

    @classmethod
    def of(
        cls, indptr: I64Array, indices: I64Array, coefs: U64Array, n_cols: int, *, montgomery: bool = False
    ) -> FrCsr:
        indptr, indices, coefs = _check_csr(indptr, indices, coefs, n_cols)
        if montgomery:
            return cls(indptr, indices, np.ascontiguousarray(coefs), n_cols)
        coefs_m = np.empty_like(coefs)
        if coefs.shape[0]:
            mont_convert_kernel(coefs, coefs_m, TO_MONT_R)
        return cls(indptr, indices, coefs_m, n_cols)

    @property
    def n_rows(self) -> int:
        return int(self.indptr.shape[0] - 1)

    def matvec(self, x: U64Array) -> U64Array:
        """The product with x: (n_cols, 4) standard-form rows -> (n_rows, 4), standard form."""
        x = _check_scalars(x, "x")
        if x.shape[0] != self.n_cols:
            raise ValueError(f"x has {x.shape[0]} rows, the matrix has {self.n_cols} columns")
        out = np.empty((self.n_rows, 4), dtype=np.uint64)
        if self.n_rows:
            chunk = max(256, -(-self.n_rows // (8 * numba.get_num_threads())))
            sparse_matvec_kernel(self.indptr, self.indices, self.coefs_mont, x, out, chunk)
        return out


def fr_sparse_matvec_ref(indptr: I64Array, indices: I64Array, coefs: U64Array, x: U64Array) -> U64Array:
    """Reference twin of `fr_sparse_matvec` (Python ints)."""
    x = _check_scalars(x, "x")
    indptr, indices, coefs = _check_csr(indptr, indices, coefs, x.shape[0])
    xs, cs = limbs_to_ints(x), limbs_to_ints(coefs)
    bounds = zip(indptr[:-1].tolist(), indptr[1:].tolist())
    out = [sum(cs[k] * xs[int(indices[k])] for k in range(a, b)) % R for a, b in bounds]
    return ints_to_limbs(out).reshape(-1, 4)


# ---- Montgomery conversion ----------------------------------------------------------------

_MODULI = {"r": R, "q": Q}


def _convert(limbs: Any, field: str, to: bool) -> U64Array:
    if field not in _MODULI:
        raise ValueError(f"field: expected 'r' or 'q', got {field!r}")
    if not isinstance(limbs, np.ndarray) or limbs.ndim != 2 or limbs.shape[1] % 4:
        raise ValueError("limbs: expected an (n, 4k) uint64 array")
    flat = _check_u64_2d(np.ascontiguousarray(limbs).reshape(-1, 4), "limbs", 4)
    bad = ~limbs_below(flat, _MODULI[field])
    if bad.any():
        raise ValueError(f"limbs: group {int(np.flatnonzero(bad)[0])} is not below the modulus {field}")
    out = np.empty_like(flat)
    op = {("r", True): TO_MONT_R, ("r", False): FROM_MONT_R, ("q", True): TO_MONT_Q, ("q", False): FROM_MONT_Q}
    mont_convert_kernel(flat, out, op[field, to])
    return out.reshape(limbs.shape)


def to_montgomery(limbs: U64Array, field: Literal["r", "q"]) -> U64Array:
    """Standard-form limbs (any (n, 4k) array of reduced values) -> Montgomery form.

    E.g. `to_montgomery(ints_to_limbs(xs).reshape(-1, 8), "q")` gives LEM G1 rows.
    """
    return _convert(limbs, field, True)


def from_montgomery(limbs: U64Array, field: Literal["r", "q"]) -> U64Array:
    """Montgomery-form limbs -> standard form (inverse of `to_montgomery`)."""
    return _convert(limbs, field, False)


# ---- reference twins ----------------------------------------------------------------------


def fr_ntt_ref(a: U64Array) -> U64Array:
    """Reference twin of `fr_ntt` (`_ntt.ntt` on Python ints)."""
    a = _check_scalars(a, "a")
    _log2_size(a)
    return ints_to_limbs(ntt(limbs_to_ints(a)))


def fr_intt_ref(a: U64Array) -> U64Array:
    """Reference twin of `fr_intt`."""
    a = _check_scalars(a, "a")
    _log2_size(a)
    return ints_to_limbs(intt(limbs_to_ints(a)))


def fr_coset_ntt_ref(a: U64Array, shift: int) -> U64Array:
    """Reference twin of `fr_coset_ntt`: scale coefficient j by shift^j, then `ntt`."""
    a = _check_scalars(a, "a")
    _log2_size(a)
    s = _check_shift(shift)
    return ints_to_limbs(ntt([v * pow(s, j, R) % R for j, v in enumerate(limbs_to_ints(a))]))


def fr_coset_intt_ref(a: U64Array, shift: int) -> U64Array:
    """Reference twin of `fr_coset_intt`: `intt`, then scale coefficient j by shift^-j."""
    a = _check_scalars(a, "a")
    _log2_size(a)
    s_inv = pow(_check_shift(shift), -1, R)
    return ints_to_limbs([v * pow(s_inv, j, R) % R for j, v in enumerate(intt(limbs_to_ints(a)))])


def fr_mul_sub_ref(a: U64Array, b: U64Array, c: U64Array | None = None) -> U64Array:
    """Reference twin of `fr_mul_sub`."""
    a = _check_scalars(a, "a")
    b = _check_scalars(b, "b")
    xs, ys = limbs_to_ints(a), limbs_to_ints(b)
    if len(ys) != len(xs):
        raise ValueError(f"b has {len(ys)} rows but a has {len(xs)}")
    zs = [0] * len(xs)
    if c is not None:
        zs = limbs_to_ints(_check_scalars(c, "c"))
        if len(zs) != len(xs):
            raise ValueError(f"c has {len(zs)} rows but a has {len(xs)}")
    return ints_to_limbs([(x * y - z) % R for x, y, z in zip(xs, ys, zs)]).reshape(-1, 4)


def to_montgomery_ref(limbs: U64Array, field: Literal["r", "q"]) -> U64Array:
    """Reference twin of `to_montgomery`."""
    return _convert_ref(limbs, field, True)


def from_montgomery_ref(limbs: U64Array, field: Literal["r", "q"]) -> U64Array:
    """Reference twin of `from_montgomery`."""
    return _convert_ref(limbs, field, False)


def _convert_ref(limbs: Any, field: str, to: bool) -> U64Array:
    if field not in _MODULI:
        raise ValueError(f"field: expected 'r' or 'q', got {field!r}")
    if not isinstance(limbs, np.ndarray) or limbs.ndim != 2 or limbs.shape[1] % 4:
        raise ValueError("limbs: expected an (n, 4k) uint64 array")
    m = _MODULI[field]
    xs = limbs_to_ints(_check_u64_2d(np.ascontiguousarray(limbs).reshape(-1, 4), "limbs", 4))
    if any(x >= m for x in xs):
        raise ValueError(f"limbs: a group is not below the modulus {field}")
    k = (1 << 256) % m if to else pow(1 << 256, -1, m)
    return ints_to_limbs([x * k % m for x in xs]).reshape(limbs.shape)
