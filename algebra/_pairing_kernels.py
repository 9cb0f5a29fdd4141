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
    return pairing_check_lem(*_rows(pairs, prepared), fq12_to_limbs(factor).reshape(1, 12, 4))


# ---- array entry points: LEM rows in, for verifiers that keep points as arrays ---------

#: Live pairs per parallel Miller part.
_MILLER_CHUNK = 16


def fq12_to_limbs(a: Fq12) -> Any:
    """a as a (12, 4) uint64 array of Montgomery limbs (the kernels' factor rows)."""
    return np.array([_fq_in(c[k]) for half in a for c in half for k in range(2)], dtype=np.uint64).reshape(12, 4)


def pairing_check_lem(p_rows: Any, q_rows: Any, pp_rows: Any, lines: Any, factors: Any) -> bool:
    """`pairing_check` on arrays: live pairs (p_rows[i], q_rows[i]) ((n, 8) and (n, 16)
    Montgomery LEM rows of valid points), prepared pairs (pp_rows[j], lines[j]) (lines as
    `PreparedG2.limbs`) and factors ((k, 12, 4), see `fq12_to_limbs`): True iff the
    product of the factors and of the pairs' Miller loops exponentiates to 1.

    All-zero rows (infinity) contribute 1. The Miller loops run in parallel parts (up to
    16 live pairs each, and the prepared pairs together), then one final exponentiation.
    """
    live = p_rows.any(axis=1) & q_rows.any(axis=1)
    if not live.all():
        p_rows, q_rows = p_rows[live], q_rows[live]
    fixed = pp_rows.any(axis=1)
    if not fixed.all():
        pp_rows, lines = pp_rows[fixed], lines[fixed]
    p_rows, q_rows = np.ascontiguousarray(p_rows), np.ascontiguousarray(q_rows)
    pp_rows, lines = np.ascontiguousarray(pp_rows), np.ascontiguousarray(lines)
    k = _kernels()
    n = p_rows.shape[0]
    if n and (pp_rows.shape[0] or n > _MILLER_CHUNK):  # two or more parts: one per thread
        parts = np.empty(((n + _MILLER_CHUNK - 1) // _MILLER_CHUNK + 1, 12, 4), dtype=np.uint64)
        k.miller_partials(p_rows, q_rows, pp_rows, lines, _MILLER_CHUNK, parts)
        factors = np.concatenate([factors, parts])
        p_rows, q_rows, pp_rows, lines = p_rows[:0], q_rows[:0], pp_rows[:0], lines[:0]
    return bool(k.pairing_check(p_rows, q_rows, pp_rows, lines, np.ascontiguousarray(factors)))
