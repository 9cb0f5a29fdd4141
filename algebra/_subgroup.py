"""G2 subgroup membership on the kernels: the endomorphism test of `_curve.g2_in_subgroup`
(its Python-int reference twin) as a numba kernel, for one point or many at once.

Points must be on the twist (callers check the curve equation first); infinity is in
the subgroup. A process's first few single-point checks run the Python twin (about 2 ms
each) instead of loading numba's kernel (about 40 ms once): a one-off proof or key pays
for what it uses, and a process that checks many points loads the kernel after
`PYTHON_CHECKS` of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._curve import G2, G2Point, g2_in_subgroup
from ._lem import g2_to_lem

#: Single-point checks a process makes in Python before it loads the kernel.
PYTHON_CHECKS = 16
_python_checks_left = PYTHON_CHECKS


def _kernels() -> Any:
    from . import _nb_subgroup

    return _nb_subgroup


def g2_in_subgroup_batch(points: Sequence[G2Point]) -> list[bool]:
    """For each point of the twist, whether it is in the order-r subgroup (in parallel)."""
    live = [i for i, p in enumerate(points) if not G2.is_infinity(p)]
    out = [True] * len(points)
    if not live:
        return out
    flags = np.empty(len(live), dtype=np.bool_)
    _kernels().in_subgroup_rows(g2_to_lem([points[i] for i in live]).reshape(len(live), 16), flags)
    for i, flag in zip(live, flags):
        out[i] = bool(flag)
    return out


def g2_in_subgroup_fast(p: G2Point) -> bool:
    """`g2_in_subgroup` for one point: in Python for the process's first PYTHON_CHECKS
    points, then on the kernel (module docstring)."""
    global _python_checks_left
    if G2.is_infinity(p):
        return True
    if _python_checks_left > 0:
        _python_checks_left -= 1
        return g2_in_subgroup(p)
    return bool(_kernels().in_subgroup_row(g2_to_lem([p]).reshape(1, 16), 0))


# G2.validate (every G2 point that enters from a file or JSON) uses the kernel.
G2._subgroup_test = g2_in_subgroup_fast
