"""Bit decomposition and range checks."""

from __future__ import annotations

from collections.abc import Sequence

from ._builder import API, HintOp, Value
from ._errors import CircuitDefinitionError
from ._lc import LinearCombination, as_lc

#: The widest decomposition that is unique in Fr: 2^253 < r < 2^254, so any sum of
#: 253 weighted bits is below r and cannot wrap.
MAX_BITS = 253


def _check_width(n: int, name: str, limit: int = MAX_BITS) -> None:
    if not isinstance(n, int) or not 1 <= n <= limit:
        raise CircuitDefinitionError(f"{name}: bit width must be in 1..{limit}, got {n!r}")


def from_bits(api: API, bits: Sequence[Value]) -> LinearCombination:
    """sum_i bits[i] * 2^i, little-endian (linear: no constraint; bits must be boolean)."""
    return api.sum([as_lc(b) * (1 << i) for i, b in enumerate(bits)])


def to_bits(api: API, x: Value, n: int, name: str = "to_bits") -> list[LinearCombination]:
    """The n little-endian bits of x, each constrained boolean, recomposing to x.

    Constrains 0 <= x < 2^n (n + 1 constraints, n <= 253): a witness with x >= 2^n
    fails the constraint `<name>/recompose`.
    """
    _check_width(n, name)
    lx = as_lc(x)
    with api.scope(name):
        bits = api.hint(
            lambda v: [(v[0] >> i) & 1 for i in range(n)], [lx], n, name="bits", boolean=True, op=HintOp("bits", n)
        )
        for i, b in enumerate(bits):
            api.assert_boolean(b, name=f"bit{i}")
        api.assert_equal(from_bits(api, bits), lx, name="recompose")
    return bits


def range_check(api: API, x: Value, n: int, name: str = "range_check") -> None:
    """Constrains 0 <= x < 2^n (n <= 253)."""
    to_bits(api, x, n, name=name)
