"""Integer arithmetic on bounded values: exact division with remainder, offset-encoded
signed values and their sign/magnitude split, powers of ten, minimum and maximum.

Every gadget states the bounds it needs (bit widths of its inputs) and range-checks
what it hints, so its equations hold over the integers, never wrapping modulo r.
Hints are named (`<name>/quotient_remainder`, `<name>/sign_magnitude`,
`<name>/onehot`) so that tests can replace them with dishonest ones.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    return pow10_pair(api, exponent, max_exponent, name)[0]


def pow10_pair(api: API, exponent: Value, max_exponent: int, name: str) -> tuple[LinearCombination, LinearCombination]:
    """(10**exponent, 10**(max_exponent - exponent)) from one one-hot selection (`pow10`;
    the second is another sum over the same bits, free)."""
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
    power = api.sum([e * 10**i for i, e in enumerate(onehot)])
    return power, api.sum([e * 10 ** (max_exponent - i) for i, e in enumerate(onehot)])


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
    _check_division_width(n_bits, d_bits, name)
    ln, ld = as_lc(n), as_lc(d)

    def hint(v: list[int]) -> list[int]:
        num, den = as_signed(v[0]), v[1]
        if den == 0:
            return [0, 0]  # unsatisfiable anyway: d - 1 - rem is not in range
        q = _quotient(num, den, ceil)
        rem = q * den - num if ceil else num - q * den
        return [q % R, rem % R]

    with api.scope(name):
        q, rem = api.hint(hint, [ln, ld], 2, name="quotient_remainder", op=HintOp("quotient_remainder", int(ceil)))
        _range_quotient(api, q, n_bits if q_bits is None else min(q_bits, n_bits), signed)
        range_check(api, rem, d_bits, name="remainder_range")
        range_check(api, ld - 1 - rem, d_bits, name="remainder<divisor")
        qd = api.mul(q, ld, name="quotient*divisor")
        api.assert_equal(qd - rem if ceil else qd + rem, ln, name="division")
    return q, as_lc(rem)


def _quotient(num: int, den: int, ceil: bool) -> int:
    """floor(num / den), or ceil: the rounding of every division hint (den > 0)."""
    return -((-num) // den) if ceil else num // den


def _check_division_width(n_bits: int, d_bits: int, name: str) -> None:
    """CircuitDefinitionError unless q * d and n stay far below r (no wrap-around)."""
    if n_bits + d_bits + 2 > MAX_BITS - 1:
        raise CircuitDefinitionError(f"{name}: {n_bits}-bit numerator over {d_bits}-bit denominator may wrap")


def _range_quotient(api: API, q: LinearCombination, bits: int, signed: bool) -> None:
    """q < 2**bits (signed: |q| <= 2**bits, as q + 2**bits in bits + 1 bits)."""
    if signed:
        range_check(api, q + (1 << bits), bits + 1, name="quotient_range")
    else:
        range_check(api, q, bits, name="quotient_range")


def div(
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
) -> LinearCombination:
    """q = floor(n / d) (or ceil): `div_mod` without the remainder."""
    return div_mod(api, n, d, n_bits=n_bits, d_bits=d_bits, signed=signed, ceil=ceil, q_bits=q_bits, name=name)[0]


def div_bound(
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
) -> LinearCombination:
    """A bound on a quotient for a monotone use: q <= floor(n / d) (or, `ceil`,
    q >= ceil(n / d)), the hint being the exact quotient. Constrains q to q_bits (signed:
    q + 2**q_bits to q_bits + 1 bits) and the slack n - q d (ceil: q d - n) to d_bits
    bits: d_bits fewer constraints than `div_mod`, which also proves slack < d. Sound
    where a smaller value (floor) or a larger one (ceil) can only make the statement
    harder to meet: an equity term, a requirement term. Needs d >= 1 (a public or
    constructed divisor)."""
    _check_division_width(n_bits, d_bits, name)
    ln, ld = as_lc(n), as_lc(d)

    def hint(v: list[int]) -> int:
        return _quotient(as_signed(v[0]), v[1], ceil) % R if v[1] else 0

    with api.scope(name):
        (q,) = api.hint(hint, [ln, ld], 1, name="quotient", op=HintOp("quotient", int(ceil)))
        _range_quotient(api, q, n_bits if q_bits is None else min(q_bits, n_bits), signed)
        qd = api.mul(q, ld, name="quotient*divisor")
        range_check(api, qd - ln if ceil else ln - qd, d_bits, name="slack_range")
    return q


def ceiling_bound(
    api: API,
    numerators: Sequence[Value],
    divisor: int,
    floor: Value,
    *,
    n_bits: int,
    m_bits: int,
    floor_bits: int,
    name: str,
) -> LinearCombination:
    """m >= max(floor, ceil(n_i / divisor) for each i): the hint is that maximum, and any
    larger m satisfies too (for a requirement, where larger is conservative). With floor
    promised in [0, 2**floor_bits), constrains m - floor to m_bits bits (so 0 <= m <
    2**m_bits + 2**floor_bits) and, per numerator, m * divisor - n_i to K bits, K the
    width of m * divisor + 2**n_bits: ceil(n / d) <= m iff n <= m d. n_bits bounds |n_i|
    for every input that should satisfy; as long as |n_i| < 2**250 no difference wraps
    modulo r, so a larger |n_i| only fails (K < 252 is checked)."""
    if divisor < 1:
        raise CircuitDefinitionError(f"{name}: the divisor must be a positive constant")
    width = (((1 << m_bits) + (1 << floor_bits)) * divisor + (1 << n_bits)).bit_length()
    if width > MAX_BITS - 1 or max(m_bits, floor_bits) + divisor.bit_length() > 250:
        raise CircuitDefinitionError(f"{name}: {n_bits}-bit numerators over {divisor} may wrap")
    lf = as_lc(floor)
    lns = [as_lc(n) for n in numerators]

    def hint(v: list[int]) -> int:
        return max([as_signed(v[0]), *(_quotient(as_signed(n), v[1], True) for n in v[2:])]) % R

    with api.scope(name):
        (m,) = api.hint(hint, [lf, api.constant(divisor), *lns], 1, name="max", op=HintOp("max_ceil"))
        range_check(api, m - lf, m_bits, name="bound>=floor")
        for i, n in enumerate(lns):
            range_check(api, m * divisor - n, width, name=f"bound>=ceil{i}")
    return m


def minimum(api: API, a: Value, b: Value, bits: int, name: str) -> LinearCombination:
    """min(a, b) for a, b promised in [0, 2**bits)."""
    with api.scope(name):
        return select(api, less_than(api, a, b, bits, name="a<b"), a, b, name="select")


def maximum(api: API, a: Value, b: Value, bits: int, name: str) -> LinearCombination:
    """max(a, b) for a, b promised in [0, 2**bits)."""
    with api.scope(name):
        return select(api, less_than(api, a, b, bits, name="a<b"), b, a, name="select")
