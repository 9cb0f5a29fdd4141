"""Integer arithmetic on bounded values: exact division with remainder, offset-encoded
signed values and their sign/magnitude split, powers of ten, minimum and maximum.

Every gadget states the bounds it needs (bit widths of its inputs) and range-checks
what it hints, so its equations hold over the integers, never wrapping modulo r.
Hints are named (`<name>/quotient_remainder`, `<name>/sign_magnitude`,
`<name>/onehot`) so that tests can replace them with dishonest ones.
"""

from __future__ import annotations

from algebra import R

from ._builder import API, HintOp, Value
from ._errors import CircuitDefinitionError
from ._gadgets_bits import MAX_BITS, range_check
from ._gadgets_compare import less_than, select
from ._lc import LinearCombination, as_lc


def as_signed(v: int) -> int:
    """A field element read as a signed integer in (-r/2, r/2)."""
    return v - R if v > R // 2 else v


def offset_signed(api: API, x: Value, bits: int, offset: int, name: str) -> LinearCombination:
    """The signed value v = x - offset of an offset encoding, constrained to
    -2**bits <= v < 2**bits (x - offset + 2**bits in [0, 2**(bits + 1)))."""
    v = as_lc(x) - offset
    range_check(api, v + (1 << bits), bits + 1, name=name)
    return v


def sign_magnitude(
    api: API, x: Value, bits: int, offset: int, name: str
) -> tuple[LinearCombination, LinearCombination, LinearCombination]:
    """Split the offset-encoded signed x into (v, |v|, max(-v, 0)): with a boolean sign
    bit and |v| < 2**bits, x - offset = |v| - 2 sign |v| (so x is pinned to v + offset:
    no wrap-around). v = 0 may come with sign = 1; max(-v, 0) = sign |v| is 0 then."""
    lx = as_lc(x)

    def hint(w: list[int]) -> list[int]:
        v = as_signed((w[0] - offset) % R)
        return [int(v < 0), abs(v)]

    with api.scope(name):
        neg, mag = api.hint(hint, [lx], 2, name="sign_magnitude", op=HintOp("sign_magnitude", offset))
        neg = api.assert_boolean(neg, name="sign_is_boolean")
        range_check(api, mag, bits, name="magnitude_range")
        neg_mag = api.mul(neg, mag, name="neg*magnitude")
        v = mag - neg_mag * 2
        api.assert_equal(lx - offset, v, name="recompose")
    return v, mag, neg_mag


def pow10(api: API, exponent: Value, max_exponent: int, name: str) -> LinearCombination:
    """10**exponent for exponent in 0..max_exponent, by a one-hot selection
    (max_exponent + 3 constraints): bits e_0.. boolean, sum e_i = 1, sum i e_i = exponent;
    returns sum 10**i e_i. Another exponent makes the witness unsatisfiable."""
    le = as_lc(exponent)
    n = max_exponent + 1
    with api.scope(name):
        onehot = api.hint(
            lambda v: [int(v[0] == i) for i in range(n)], [le], n, name="onehot", boolean=True, op=HintOp("onehot", n)
        )
        for i, e in enumerate(onehot):
            api.assert_boolean(e, name=f"onehot{i}")
        api.assert_equal(api.sum(onehot), 1, name="exactly_one")
        api.assert_equal(api.sum([e * i for i, e in enumerate(onehot)]), le, name="index")
    return api.sum([e * 10**i for i, e in enumerate(onehot)])


def div_mod(
    api: API,
    n: Value,
    d: Value,
    *,
    n_bits: int,
    d_bits: int,
    signed: bool = False,
    ceil: bool = False,
    q_bits: int | None = None,
    name: str,
) -> tuple[LinearCombination, LinearCombination]:
    """(q, rem): q = floor(n / d) (or ceil) for 0 < d < 2**d_bits and 0 <= n < 2**n_bits (signed:
    |n| < 2**n_bits), with hinted q and rem constrained by

        floor: n = q * d + rem        ceil: n = q * d - rem        0 <= rem < d

    rem and d - 1 - rem are range-checked to d_bits (so also d >= 1), q to n_bits
    (signed: q + 2**n_bits to n_bits + 1 bits; |q| <= |n| as d >= 1), or to the tighter
    `q_bits` when the caller knows |q| < 2**q_bits for every honest input. Both sides of the
    equation are then integers below 2**(n_bits + d_bits + 1) in absolute value, far
    from r: the equation holds over the integers, and q is the unique quotient.
    """
    if n_bits + d_bits + 2 > MAX_BITS - 1:
        raise CircuitDefinitionError(f"{name}: {n_bits}-bit numerator over {d_bits}-bit denominator may wrap")
    ln, ld = as_lc(n), as_lc(d)

    def hint(v: list[int]) -> list[int]:
        num, den = as_signed(v[0]), v[1]
        if den == 0:
            return [0, 0]  # unsatisfiable anyway: d - 1 - rem is not in range
        q = -((-num) // den) if ceil else num // den
        rem = q * den - num if ceil else num - q * den
        return [q % R, rem % R]

    with api.scope(name):
        q, rem = api.hint(hint, [ln, ld], 2, name="quotient_remainder", op=HintOp("quotient_remainder", int(ceil)))
        qb = n_bits if q_bits is None else min(q_bits, n_bits)
        if signed:
            range_check(api, q + (1 << qb), qb + 1, name="quotient_range")
        else:
            range_check(api, q, qb, name="quotient_range")
        range_check(api, rem, d_bits, name="remainder_range")
        range_check(api, ld - 1 - rem, d_bits, name="remainder<divisor")
        qd = api.mul(q, ld, name="quotient*divisor")
        api.assert_equal(qd - rem if ceil else qd + rem, ln, name="division")
    return q, as_lc(rem)


def div(
    api: API,
    n: Value,
    d: Value,
    *,
    n_bits: int,
    d_bits: int,
    signed: bool = False,
    ceil: bool = False,
    name: str,
) -> LinearCombination:
    """q = floor(n / d) (or ceil): `div_mod` without the remainder."""
    return div_mod(api, n, d, n_bits=n_bits, d_bits=d_bits, signed=signed, ceil=ceil, name=name)[0]


def minimum(api: API, a: Value, b: Value, bits: int, name: str) -> LinearCombination:
    """min(a, b) for a, b promised in [0, 2**bits)."""
    with api.scope(name):
        return select(api, less_than(api, a, b, bits, name="a<b"), a, b, name="select")


def maximum(api: API, a: Value, b: Value, bits: int, name: str) -> LinearCombination:
    """max(a, b) for a, b promised in [0, 2**bits)."""
    with api.scope(name):
        return select(api, less_than(api, a, b, bits, name="a<b"), b, a, name="select")
