"""Zero tests, comparisons of bounded values, and selection.

Comparisons follow circomlib's LessThan: for a, b in [0, 2^n), a - b + 2^n lies in
(0, 2^(n+1)) and its top bit says whether a >= b. The bound is the caller's promise:
range-check a and b first (or take them from a gadget that bounds them), otherwise the
result means nothing.
"""

from __future__ import annotations

from algebra import R

from ._builder import API, HintOp, Value
from ._gadgets_bits import MAX_BITS, _check_width, to_bits
from ._lc import LinearCombination, as_lc


def is_zero(api: API, x: Value, name: str = "is_zero") -> LinearCombination:
    """1 if x == 0 else 0 (two constraints: out = 1 - x * inv, x * out = 0)."""
    lx = as_lc(x)
    if lx.is_constant():
        return api.constant(int(lx.constant_value() == 0))
    with api.scope(name):
        (inv,) = api.hint(lambda v: pow(v[0], -1, R) if v[0] else 0, [lx], 1, name="inv", op=HintOp("inverse"))
        out = 1 - api.mul(lx, inv, name="x*inv")
        api.assert_product(lx, out, 0, name="x*out==0")
    return LinearCombination(out.terms, boolean=True)


def is_equal(api: API, a: Value, b: Value, name: str = "is_equal") -> LinearCombination:
    """1 if a == b else 0."""
    return is_zero(api, api.sub(a, b), name=name)


def less_than(api: API, a: Value, b: Value, n: int, name: str = "less_than") -> LinearCombination:
    """1 if a < b else 0, for a, b promised in [0, 2^n), n <= 252 (n + 2 constraints)."""
    _check_width(n, name, MAX_BITS - 1)
    bits = to_bits(api, as_lc(a) - as_lc(b) + (1 << n), n + 1, name=name)
    return LinearCombination((1 - bits[n]).terms, boolean=True)


def greater_or_equal(api: API, a: Value, b: Value, n: int, name: str = "greater_or_equal") -> LinearCombination:
    """1 if a >= b else 0, for a, b promised in [0, 2^n), n <= 252."""
    _check_width(n, name, MAX_BITS - 1)
    bits = to_bits(api, as_lc(a) - as_lc(b) + (1 << n), n + 1, name=name)
    return bits[n]


def assert_greater_or_equal(api: API, a: Value, b: Value, n: int, name: str = "assert_greater_or_equal") -> None:
    """Constrains a >= b for a, b promised in [0, 2^n): a - b must lie in [0, 2^n)."""
    _check_width(n, name)
    to_bits(api, as_lc(a) - as_lc(b), n, name=name)


def select(api: API, cond: Value, a: Value, b: Value, name: str = "select") -> LinearCombination:
    """a if cond == 1 else b. Constrains cond boolean unless the builder knows it is."""
    lc = as_lc(cond)
    with api.scope(name):
        if not lc.is_boolean:
            lc = api.assert_boolean(lc, name="cond")
        la, lb = as_lc(a), as_lc(b)
        out = lb + api.mul(lc, la - lb, name="cond*(a-b)")
    return LinearCombination(out.terms, boolean=la.is_boolean and lb.is_boolean)
