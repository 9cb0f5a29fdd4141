"""Fixed-base linear combinations in G1: sum_i s_i P_i for points known in advance.

A verifier combines the same IC points of a key with new public signals for every proof;
`G1FixedBase.of(points)` precomputes window tables once (the kernels of
`_nb_fixed_base`), and `combination` then costs one mixed addition per nonzero window
of each scalar, with no doubling. The window is the widest of 8, 4 and 2 bits whose
tables fit MAX_TABLE_ROWS; past that (more than 512 points) the combination falls back
to the Pippenger MSM kernel. `combination_ref` is the Python-int twin (`G1.msm`).

numba and the kernels load when a table is first built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._constants import R
from ._curve import G1, G1Point
from ._lem import U64Array, g1_from_lem, g1_to_lem, ints_to_limbs

#: Table rows allowed per fixed base (64 bytes each: 16 MiB).
MAX_TABLE_ROWS = 1 << 18
_WINDOWS = (8, 4, 2)  # 1-bit windows need as many rows as 2-bit ones
_SCALAR_BITS = 256


def _window_for(n_points: int) -> int:
    """The widest window whose tables fit MAX_TABLE_ROWS, or 0 (no table) if none does."""
    for w in _WINDOWS:
        if n_points * (_SCALAR_BITS // w) << w <= MAX_TABLE_ROWS:
            return w
    return 0


def _kernels() -> Any:
    from . import _nb_fixed_base

    return _nb_fixed_base


def _check_scalars(scalars: Sequence[int], n: int) -> U64Array:
    if len(scalars) != n:
        raise ValueError(f"expected {n} scalars, got {len(scalars)}")
    for s in scalars:
        if not isinstance(s, int) or isinstance(s, bool) or not 0 <= s < R:
            raise ValueError(f"scalar {s!r} is not an int in [0, r)")
    return ints_to_limbs(scalars) if n else np.zeros((0, 4), dtype=np.uint64)


@dataclass(frozen=True, eq=False)
class G1FixedBase:
    """Window tables of fixed G1 points (immutable; build with `of`)."""

    points: tuple[G1Point, ...]
    window: int
    _lem: U64Array = field(repr=False)
    _table: U64Array = field(repr=False)

    @classmethod
    def of(cls, points: Sequence[G1Point]) -> G1FixedBase:
        """Tables of `points` (valid G1 points, infinity allowed)."""
        pts = tuple(points)
        lem = g1_to_lem(list(pts)).reshape(len(pts), 8)
        w = _window_for(len(pts))
        if w == 0 or not pts:
            return cls(pts, 0, lem, np.zeros((0, 8), dtype=np.uint64))
        n_windows = _SCALAR_BITS // w
        table = np.empty((len(pts) * n_windows << w, 8), dtype=np.uint64)
        _kernels().build_table(lem, w, n_windows, table)
        return cls(pts, w, lem, table)

    def combination_limbs(self, scalars: U64Array) -> U64Array:
        """sum_i s_i P_i for (n, 4) standard-form limbs below r (unchecked), as an (8,) LEM row."""
        if self.window == 0:
            if not self.points:
                return np.zeros(8, dtype=np.uint64)
            from ._kernels import g1_msm

            return g1_msm(self._lem, scalars)
        x, y = _kernels().combination(self._table, self.window, _SCALAR_BITS // self.window, scalars)
        return np.array(x + y, dtype=np.uint64)

    def combination(self, scalars: Sequence[int]) -> G1Point:
        """sum_i scalars[i] * points[i]; ValueError unless there is one int in [0, r) per point."""
        row = self.combination_limbs(_check_scalars(scalars, len(self.points)))
        return g1_from_lem(row.reshape(1, 8))[0]

    def combination_ref(self, scalars: Sequence[int]) -> G1Point:
        """Reference twin of `combination` (`G1.msm`, Python ints)."""
        _check_scalars(scalars, len(self.points))
        return G1.msm(list(self.points), list(scalars))
