"""Points and scalars as numpy buffers in the layout of snarkjs's binary files.

LEM ("little-endian Montgomery") is how .zkey and .ptau files store points, and the
layout every numba kernel takes, so sections map to arrays without copying:
- an Fq element is 4 uint64 limbs, little-endian, of x * 2^256 mod q;
- a G1 affine point is a row of 8 uint64: x then y; (0, 0) (all zero) is infinity;
- a G2 affine point is a row of 16 uint64: x.c0, x.c1, y.c0, y.c1; all zero is infinity.
Scalars (Fr) travel as rows of 4 uint64 limbs, little-endian, in standard form.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import numpy.typing as npt

from ._constants import Q, R
from ._curve import G1Point, G2Point

U64Array = npt.NDArray[np.uint64]

#: Montgomery radix 2^256 reduced mod q, and its inverse.
MONT_R_Q = (1 << 256) % Q
MONT_R_Q_INV = pow(MONT_R_Q, -1, Q)
#: The same for Fr (snarkjs stores some Fr values in Montgomery form too).
MONT_R_R = (1 << 256) % R
MONT_R_R_INV = pow(MONT_R_R, -1, R)


def limbs_to_ints(arr: U64Array) -> list[int]:
    """Rows of 4 little-endian uint64 limbs -> Python ints (no reduction)."""
    flat = np.ascontiguousarray(arr, dtype="<u8").reshape(-1, 4)
    raw = flat.tobytes()
    return [int.from_bytes(raw[i : i + 32], "little") for i in range(0, len(raw), 32)]


def ints_to_limbs(values: Sequence[int]) -> U64Array:
    """Python ints in [0, 2^256) -> an (n, 4) array of little-endian uint64 limbs."""
    raw = b"".join(map(_to_le32, values))
    return np.frombuffer(raw, dtype="<u8").reshape(len(values), 4).astype(np.uint64)


_to_le32 = partial(int.to_bytes, length=32, byteorder="little")


def fq_from_lem(arr: U64Array) -> list[int]:
    """Montgomery limbs -> Fq elements in standard form."""
    return [v * MONT_R_Q_INV % Q for v in limbs_to_ints(arr)]


def fq_to_lem(values: Sequence[int]) -> U64Array:
    """Fq elements in standard form -> Montgomery limbs."""
    return ints_to_limbs([v * MONT_R_Q % Q for v in values])


def g1_from_lem(arr: U64Array) -> list[G1Point]:
    """An (n, 8) LEM array -> affine G1 points; all-zero rows are infinity (0, 0)."""
    c = fq_from_lem(np.asarray(arr).reshape(-1, 8).reshape(-1, 4))
    return [(c[i], c[i + 1]) for i in range(0, len(c), 2)]


def g1_to_lem(points: Sequence[G1Point]) -> U64Array:
    """Affine G1 points -> an (n, 8) LEM array (infinity (0, 0) -> zeros)."""
    return fq_to_lem([c for p in points for c in p]).reshape(len(points), 8)


def g2_from_lem(arr: U64Array) -> list[G2Point]:
    """An (n, 16) LEM array -> affine G2 points ((x.c0, x.c1), (y.c0, y.c1))."""
    c = fq_from_lem(np.asarray(arr).reshape(-1, 16).reshape(-1, 4))
    return [((c[i], c[i + 1]), (c[i + 2], c[i + 3])) for i in range(0, len(c), 4)]


def g2_to_lem(points: Sequence[G2Point]) -> U64Array:
    """Affine G2 points -> an (n, 16) LEM array."""
    return fq_to_lem([c for (x, y) in points for c in (*x, *y)]).reshape(len(points), 16)


def fr_to_limbs(values: Sequence[int]) -> U64Array:
    """Scalars (reduced mod r) -> an (n, 4) array of standard-form limbs."""
    return ints_to_limbs([v % R for v in values])
