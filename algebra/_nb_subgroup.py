"""numba kernel of G2 subgroup membership by the endomorphism test (`_curve.g2_in_subgroup`).

For P on the twist, [x+1]P + psi([x]P) + psi^2([x]P) - psi^3([2x]P) = [r]P, so P is in
the order-r subgroup iff the two sides agree: one 63-bit multiplication by the BN
parameter x instead of a 254-bit one by r. psi acts on Jacobian coordinates as on affine
ones ((X, Y, Z) -> (conj X gx, conj Y gy, conj Z)), so the whole test stays projective.

Private module: `_subgroup` validates and dispatches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from ._constants import BN_X
from ._nb_curve import jac_add, jac_add_aff, jac_double, jac_eq, jac_infinity
from ._nb_field import fq2_mul
from ._nb_pairing import _GAMMA1, _fq2_at, fq2_conj

#: The bits of x, most significant first (x > 0).
_X_BITS = np.array([int(b) for b in bin(BN_X)[2:]], dtype=np.uint8)


@njit(cache=True, nogil=True)
def _psi(p: Any) -> Any:
    x, y, z = p
    return (fq2_mul(fq2_conj(x), _GAMMA1[2]), fq2_mul(fq2_conj(y), _GAMMA1[3]), fq2_conj(z))


@njit(cache=True, nogil=True)
def in_subgroup(a: Any) -> bool:
    """The test for an affine point a of the twist (not infinity)."""
    xp = jac_infinity(a[0])
    for bit in _X_BITS:
        xp = jac_double(xp)
        if bit:
            xp = jac_add_aff(xp, a)
    b = _psi(xp)
    lhs = jac_add(jac_add(jac_add_aff(xp, a), b), _psi(b))
    return jac_eq(lhs, jac_double(_psi(_psi(b))))


@njit(cache=True, nogil=True, parallel=True)
def in_subgroup_rows(q: Any, out: Any) -> None:
    """out[i] = in_subgroup(q[i]) for (n, 16) Montgomery LEM rows, none at infinity."""
    for i in prange(q.shape[0]):
        out[i] = in_subgroup((_fq2_at(q, i, 0), _fq2_at(q, i, 8)))


@njit(cache=True, nogil=True)
def in_subgroup_row(q: Any, i: int) -> bool:
    """in_subgroup(q[i]) for one row of an (n, 16) Montgomery LEM array (not infinity)."""
    return in_subgroup((_fq2_at(q, i, 0), _fq2_at(q, i, 8)))
