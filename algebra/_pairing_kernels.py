"""The pairing on the numba kernels (`_nb_pairing`): validated entry points with the
signatures of their Python-int twins in `_ate` (`*_ref` in the public API).

Points must already be valid (on the curve, in the subgroup: the verifier's models
check that when they are built); pairs with a point at infinity contribute 1. numba and
the kernels load on the first call, so importing the verifier stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._ate import N_LINES, PreparedG2
from ._constants import Q
from ._curve import G1, G2, G1Point, G2Point
from ._lem import MONT_R_Q, MONT_R_Q_INV, g1_to_lem, g2_to_lem
from ._tower import FQ12_ONE, Fq12

_MASK = (1 << 64) - 1


def _kernels() -> Any:
    from . import _nb_pairing

    return _nb_pairing


def _rows(
    pairs: Sequence[tuple[G1Point, G2Point]], prepared: Sequence[tuple[G1Point, PreparedG2]]
) -> tuple[Any, Any, Any, Any]:
    """The kernels' arrays: live pairs' P and Q rows, prepared pairs' P rows and lines."""
    live = [(p, q) for p, q in pairs if not (G1.is_infinity(p) or G2.is_infinity(q))]
    fixed = [(p, q) for p, q in prepared if not G1.is_infinity(p)]
    p_rows = g1_to_lem([p for p, _ in live]).reshape(len(live), 8)
    q_rows = g2_to_lem([q for _, q in live]).reshape(len(live), 16)
    pp_rows = g1_to_lem([p for p, _ in fixed]).reshape(len(fixed), 8)
    lines = np.stack([q.limbs for _, q in fixed]) if fixed else np.empty((0, N_LINES, 3, 2, 4), dtype=np.uint64)
    return p_rows, q_rows, pp_rows, lines


def _fq_in(v: int) -> tuple[np.uint64, ...]:
    m = v * MONT_R_Q % Q
    return tuple(np.uint64((m >> (64 * i)) & _MASK) for i in range(4))


def _fq_out(limbs: Any) -> int:
    return sum(int(x) << (64 * i) for i, x in enumerate(limbs)) * MONT_R_Q_INV % Q


def _fq12_in(a: Fq12) -> Any:
    return tuple(tuple((_fq_in(c[0]), _fq_in(c[1])) for c in half) for half in a)


def _fq12_out(a: Any) -> Fq12:
    return tuple(tuple((_fq_out(c[0]), _fq_out(c[1])) for c in half) for half in a)  # type: ignore[return-value]


def miller_loop(pairs: Sequence[tuple[G1Point, G2Point]], prepared: Sequence[tuple[G1Point, PreparedG2]] = ()) -> Fq12:
    """The product of the pairs' Miller loops (one squaring chain), as `_ate.miller_loop`."""
    return _fq12_out(_kernels().miller_loop(*_rows(pairs, prepared)))


def final_exponentiation(f: Fq12) -> Fq12:
    """f^((q^12 - 1)/r * GT_EXPONENT), as `_ate.final_exponentiation` (f != 0)."""
    return _fq12_out(_kernels().final_exponentiation(_fq12_in(f)))


def pairing(p: G1Point, q: G2Point) -> Fq12:
    """e(P, Q) in snarkjs's tower (snarkjs's value), as `_ate.pairing`."""
    return final_exponentiation(miller_loop([(p, q)]))


def pairing_check(
    pairs: Sequence[tuple[G1Point, G2Point]],
    prepared: Sequence[tuple[G1Point, PreparedG2]] = (),
    factor: Fq12 = FQ12_ONE,
) -> bool:
    """As `_ate.pairing_check`: one multi-Miller loop (prepared pairs only evaluate their
    lines), one final exponentiation, all in the kernels."""
    return bool(_kernels().pairing_check(*_rows(pairs, prepared), _fq12_in(factor)))
