"""MSM terms that a run of proofs shares: computed once per distinct values, then reused.

An epoch proves many accounts against one snapshot. The margin circuit's snapshot part
(the snapshot's hash chain, every wire that follows from public epoch values alone) has
the same values in every witness, and it is most of the witness's full-width scalars.
A, B and C are linear in the witness, so

    sum_j w_j P_j = sum_{j shared} w_j P_j + sum_{j other} w_j P_j

and the first sum is made once. `SharedTerms` keeps the shared wires' values and sums;
a witness whose shared values differ (another snapshot) refreshes them first, so the
proof is always the one the whole witness gives: the same points, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from algebra import U64Array

Msm = Callable[[U64Array, U64Array], U64Array]


class SharedTerms:
    """The shared wires of one key's witnesses and their MSM sums (see the module)."""

    def __init__(self, wires: npt.ArrayLike, n_vars: int) -> None:
        idx = np.unique(np.asarray(wires, dtype=np.int64))
        if idx.size and (idx[0] < 0 or idx[-1] >= n_vars):
            raise ValueError(f"shared wires must lie in [0, {n_vars}), got {int(idx[0])}..{int(idx[-1])}")
        self.wires = idx
        self._values: U64Array | None = None
        self._sums: dict[str, U64Array] = {}

    def variable_part(self, w: U64Array) -> U64Array:
        """`w` with the shared wires zeroed; remembers their values (a change drops the sums)."""
        values = w[self.wires]
        if self._values is None or not np.array_equal(values, self._values):
            self._values = values
            self._sums = {}
        out = w.copy()
        out[self.wires] = 0
        return out

    def sum(self, name: str, msm: Msm, points: U64Array, first_wire: int = 0) -> U64Array:
        """sum of value_j * points[j - first_wire] over the shared wires j >= first_wire,
        for the values of the last `variable_part` (made once per values and `name`)."""
        if self._values is None:
            raise RuntimeError("SharedTerms.sum before variable_part")
        if name not in self._sums:
            keep = self.wires >= first_wire
            rows = np.ascontiguousarray(points[self.wires[keep] - first_wire])
            self._sums[name] = msm(rows, np.ascontiguousarray(self._values[keep]))
        return self._sums[name]
