"""Pairings on BN254 through py-ecc's optimized_bn128: the independent oracle of `_ate`.

`pyecc_pairing_check` multiplies Miller loops and applies one final exponentiation.
py-ecc's pairing is e(P, Q) with the exponent (q^12 - 1)/r; ours (and snarkjs's) is
its GT_EXPONENT-th power.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cache
from types import SimpleNamespace
from typing import Any

from ._curve import G1, G2, G1Point, G2Point


# py_ecc raises the interpreter's recursion limit to 100,000 when it is imported. Past
# about 10,000 levels the C stack overflows before Python's guard trips, so any
# recursive reader (json.loads, repr) given deeply nested input would crash the process
# instead of raising RecursionError. Nothing py_ecc does for us recurses deeper than
# the bits of an exponent (256), so its import (`_py`) leaves the limit as it found it.
@cache
def _py() -> SimpleNamespace:
    """py-ecc's BN254 modules, imported on first use (a reference and test oracle: the
    fast paths never need it, so a prover's or a ledger node's start-up skips it)."""
    limit = sys.getrecursionlimit()
    try:
        from py_ecc.fields import optimized_bn128_FQ, optimized_bn128_FQ2, optimized_bn128_FQ12
        from py_ecc.optimized_bn128 import optimized_curve, optimized_pairing
    finally:
        sys.setrecursionlimit(limit)
    return SimpleNamespace(
        FQ=optimized_bn128_FQ,
        FQ2=optimized_bn128_FQ2,
        FQ12=optimized_bn128_FQ12,
        oc=optimized_curve,
        op=optimized_pairing,
    )


def g1_to_pyecc(p: G1Point) -> Any:
    """Our affine G1 point as py-ecc's projective (FQ, FQ, FQ)."""
    if G1.is_infinity(p):
        return _py().oc.Z1
    return (_py().FQ(p[0]), _py().FQ(p[1]), _py().FQ.one())


def g2_to_pyecc(p: G2Point) -> Any:
    """Our affine G2 point as py-ecc's projective (FQ2, FQ2, FQ2)."""
    if G2.is_infinity(p):
        return _py().oc.Z2
    return (_py().FQ2(list(p[0])), _py().FQ2(list(p[1])), _py().FQ2.one())


def g1_from_pyecc(p: Any) -> G1Point:
    if _py().oc.is_inf(p):
        return G1.infinity
    x, y = _py().oc.normalize(p)
    return (int(x), int(y))


def g2_from_pyecc(p: Any) -> G2Point:
    if _py().oc.is_inf(p):
        return G2.infinity
    x, y = _py().oc.normalize(p)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


def _miller(p: G1Point, q: G2Point) -> Any:
    return _py().op.miller_loop(
        _py().oc.twist(g2_to_pyecc(q)), _py().op.cast_point_to_fq12(g1_to_pyecc(p)), final_exponentiate=False
    )


def pyecc_pairing(p: G1Point, q: G2Point) -> Any:
    """e(p, q) in Fq12 (py-ecc's FQ12); infinity in either argument gives 1."""
    if G1.is_infinity(p) or G2.is_infinity(q):
        return _py().FQ12.one()
    return _py().op.final_exponentiate(_miller(p, q))


def pyecc_pairing_check(pairs: Sequence[tuple[G1Point, G2Point]]) -> bool:
    """True iff prod_i e(p_i, q_i) == 1. Points must already be validated."""
    f = _py().FQ12.one()
    for p, q in pairs:
        if G1.is_infinity(p) or G2.is_infinity(q):
            continue
        f = f * _miller(p, q)
    return bool(_py().op.final_exponentiate(f) == _py().FQ12.one())
