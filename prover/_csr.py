"""Grouping sparse (output, input, value) terms by output into CSR arrays.

Phase 2 combines powers-of-tau points per key point and the prover multiplies the A and
B matrices by the witness; both hand the kernels of `algebra` the same CSR layout.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from algebra import U64Array

I64Array = npt.NDArray[np.int64]


def group_by_output(
    outputs: npt.ArrayLike, inputs: npt.ArrayLike, values: U64Array, n_out: int
) -> tuple[I64Array, I64Array, U64Array]:
    """(indptr, indices, values) with the terms of output j at indptr[j]:indptr[j+1], each
    output's terms in their original order (stable sort)."""
    outputs = np.asarray(outputs, dtype=np.int64)
    order = np.argsort(outputs, kind="stable")
    counts = np.bincount(outputs, minlength=n_out)
    indptr = np.zeros(n_out + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.ascontiguousarray(np.asarray(inputs, dtype=np.int64)[order])
    return indptr, indices, np.ascontiguousarray(values[order])
