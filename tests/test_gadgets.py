"""Every gadget, both outcomes: honest witnesses satisfy, wrong claims and forged
witnesses do not."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from algebra import R, poseidon
from circuits import (
    API,
    Circuit,
    CircuitDefinitionError,
    CompiledCircuit,
    Public,
    Secret,
    UnsatisfiedConstraintError,
    as_signed,
    assert_greater_or_equal,
    assert_merkle_path,
    ceiling_bound,
    compile_circuit,
    div,
    div_bound,
    div_mod,
    greater_or_equal,
    is_equal,
    is_zero,
    less_than,
    maximum,
    merkle_root_native,
    minimum,
    offset_signed,
    poseidon_hash,
    pow10,
    pow10_pair,
    range_check,
    select,
    sign_magnitude,
    to_bits,
)
from tests._circuits import with_hint

fr = st.integers(min_value=0, max_value=R - 1)


# ---- bits ----------------------------------------------------------------------


class Bits(Circuit):
    x = Secret()
    bits = Public(8)

    def define(self, api: API) -> None:
        for i, b in enumerate(to_bits(api, self.x, 8, name="x")):
            api.assert_equal(b, self.bits[i], name=f"bit{i}")


@given(st.integers(min_value=0, max_value=255))
def test_to_bits_gives_little_endian_bits(x):
    cc = compile_circuit(Bits())
    bits = [(x >> i) & 1 for i in range(8)]
    assert cc.solve({"x": x, "bits": bits}).public_signals == bits
    wrong = list(bits)
    wrong[3] ^= 1
    with pytest.raises(UnsatisfiedConstraintError, match="bit3"):
        cc.solve({"x": x, "bits": wrong})


class Range(Circuit):
    x = Secret()

    def __init__(self, n: int) -> None:
        self.n = n

    def define(self, api: API) -> None:
        range_check(api, self.x, self.n, name="x_range")


@pytest.mark.parametrize("n", [1, 8, 64, 253])
def test_range_check_boundaries(n):
    cc = compile_circuit(Range(n))
    assert cc.cs.n_constraints == n + 1
    cc.solve({"x": 0})
    cc.solve({"x": (1 << n) - 1})
    with pytest.raises(UnsatisfiedConstraintError, match="x_range/recompose"):
        cc.solve({"x": 1 << n})
    with pytest.raises(UnsatisfiedConstraintError, match="x_range/recompose"):
        cc.solve({"x": R - 1})  # "-1" must not pass as a small number


def test_range_check_rejects_forged_non_boolean_bits():
    cc = compile_circuit(Range(4))
    w = cc.solve({"x": 3}).values
    bit_wires = [i for i, name in enumerate(cc.cs.wire_names) if name.startswith("x_range/bits")]
    # x = 20 is out of range; forge bits (0, 0, 5, 0): 5 * 4 = 20 recomposes but bit2 = 5
    w[1] = 20
    for wire, v in zip(bit_wires, [0, 0, 5, 0]):
        w[wire] = v
    with pytest.raises(UnsatisfiedConstraintError, match="x_range/bit2"):
        cc.cs.check(w)


@pytest.mark.parametrize("n", [0, 254, -1])
def test_bit_width_limits(n):
    with pytest.raises(CircuitDefinitionError, match="bit width"):
        compile_circuit(Range(n))


# ---- is_zero / is_equal -----------------------------------------------------------


class IsZero(Circuit):
    x = Secret()
    out = Public()

    def define(self, api: API) -> None:
        api.assert_equal(is_zero(api, self.x), self.out, name="claim")


@settings(max_examples=50)
@given(st.one_of(st.just(0), fr))
def test_is_zero_both_outcomes(x):
    cc = compile_circuit(IsZero())
    truth = int(x == 0)
    cc.solve({"x": x, "out": truth})
    with pytest.raises(UnsatisfiedConstraintError):
        cc.solve({"x": x, "out": 1 - truth})


@pytest.mark.parametrize("x", [0, 1, 12345, R - 1])
def test_is_zero_cannot_be_forged_with_any_inverse(x):
    cc = compile_circuit(IsZero())
    w = cc.solve({"x": x, "out": int(x == 0)}).values
    inv_wire = cc.cs.wire_names.index("is_zero/inv")
    prod_wire = cc.cs.wire_names.index("is_zero/x*inv")
    for inv in [0, 1, pow(x, -1, R) if x else 7]:
        forged = list(w)
        forged[1] = 1 - int(x == 0)  # the wrong claim (wire 1: the public `out`)
        forged[inv_wire] = inv
        forged[prod_wire] = x * inv % R
        assert not cc.cs.is_satisfied(forged)


class IsEqual(Circuit):
    a = Secret()
    b = Secret()
    out = Public()

    def define(self, api: API) -> None:
        api.assert_equal(is_equal(api, self.a, self.b), self.out)


@given(fr, fr)
def test_is_equal_both_outcomes(a, b):
    cc = compile_circuit(IsEqual())
    cc.solve({"a": a, "b": a, "out": 1})
    cc.solve({"a": a, "b": b, "out": int(a == b)})
    with pytest.raises(UnsatisfiedConstraintError):
        cc.solve({"a": a, "b": b, "out": int(a != b)})


# ---- comparisons ---------------------------------------------------------------------

N = 16
bounded = st.integers(min_value=0, max_value=(1 << N) - 1)


class Compare(Circuit):
    a = Secret()
    b = Secret()
    lt = Public()
    ge = Public()

    def define(self, api: API) -> None:
        api.assert_equal(less_than(api, self.a, self.b, N), self.lt, name="lt")
        api.assert_equal(greater_or_equal(api, self.a, self.b, N), self.ge, name="ge")


@settings(max_examples=60)
@given(bounded, bounded)
def test_comparisons_both_outcomes(a, b):
    cc = compile_circuit(Compare())
    cc.solve({"a": a, "b": b, "lt": int(a < b), "ge": int(a >= b)})
    with pytest.raises(UnsatisfiedConstraintError, match="lt"):
        cc.solve({"a": a, "b": b, "lt": int(a >= b), "ge": int(a >= b)})
    with pytest.raises(UnsatisfiedConstraintError, match="ge"):
        cc.solve({"a": a, "b": b, "lt": int(a < b), "ge": int(a < b)})


def test_comparison_edges():
    cc = compile_circuit(Compare())
    top = (1 << N) - 1
    for a, b in [(0, 0), (0, top), (top, 0), (top, top), (5, 6), (6, 5)]:
        cc.solve({"a": a, "b": b, "lt": int(a < b), "ge": int(a >= b)})


class AssertGe(Circuit):
    a = Secret()
    b = Public()

    def define(self, api: API) -> None:
        range_check(api, self.a, N, name="a_range")
        assert_greater_or_equal(api, self.a, self.b, N, name="a>=b")


@given(bounded, bounded)
def test_assert_greater_or_equal_both_outcomes(a, b):
    cc = compile_circuit(AssertGe())
    if a >= b:
        cc.solve({"a": a, "b": b})
    else:
        with pytest.raises(UnsatisfiedConstraintError, match="a>=b/recompose"):
            cc.solve({"a": a, "b": b})


# ---- select ----------------------------------------------------------------------------


class Select(Circuit):
    c = Secret()
    a = Secret()
    b = Secret()
    out = Public()

    def define(self, api: API) -> None:
        api.assert_equal(select(api, self.c, self.a, self.b), self.out, name="claim")


@given(st.integers(0, 1), fr, fr)
def test_select_both_outcomes(c, a, b):
    cc = compile_circuit(Select())
    chosen = a if c else b
    cc.solve({"c": c, "a": a, "b": b, "out": chosen})
    with pytest.raises(UnsatisfiedConstraintError):
        cc.solve({"c": c, "a": a, "b": b, "out": (chosen + 1) % R})


def test_select_rejects_non_boolean_condition():
    cc = compile_circuit(Select())
    # c = 2 would give out = b + 2(a - b): blocked by the boolean check on c
    with pytest.raises(UnsatisfiedConstraintError, match="select/cond"):
        cc.solve({"c": 2, "a": 10, "b": 3, "out": 3 + 2 * 7})


def test_select_skips_check_for_known_booleans():
    class Known(Circuit):
        x = Secret()
        a = Secret()
        b = Secret()

        def define(self, api: API) -> None:
            select(api, is_zero(api, self.x), self.a, self.b)

    names = [k.name for k in compile_circuit(Known()).cs.constraints]
    assert "select/cond" not in names
    assert len(names) == 3


# ---- Poseidon --------------------------------------------------------------------------


class Hash(Circuit):
    digest = Public()

    def __init__(self, n: int) -> None:
        self.n = n

    def input_declarations(self) -> list[tuple[str, Any]]:
        return [*super().input_declarations(), ("inputs", Secret(self.n))]  # sized by the instance

    def define(self, api: API) -> None:
        api.assert_equal(poseidon_hash(api, self.inputs), self.digest, name="digest")


@pytest.mark.parametrize("arity", range(1, 17))
def test_poseidon_gadget_equals_native(arity):
    rng = random.Random(arity)
    cc = compile_circuit(Hash(arity))
    t = arity + 1
    partial = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68][t - 2]
    # 3 per S-box, less round 0's capacity S-box (a constant, folded), plus the digest check
    assert cc.cs.n_constraints == 3 * (8 * t + partial) - 3 + 1
    for _ in range(2):
        inputs = [rng.randrange(R) for _ in range(arity)]
        digest = poseidon(inputs)
        cc.solve({"inputs": inputs, "digest": digest})
        with pytest.raises(UnsatisfiedConstraintError, match="digest"):
            cc.solve({"inputs": inputs, "digest": (digest + 1) % R})


def test_poseidon_gadget_arity_limits():
    with pytest.raises(CircuitDefinitionError):
        compile_circuit(Hash(17))


# ---- Merkle ----------------------------------------------------------------------------

DEPTH = 4


class Membership(Circuit):
    root = Public()
    leaf = Secret()
    siblings = Secret(DEPTH)
    index_bits = Secret(DEPTH)

    def define(self, api: API) -> None:
        assert_merkle_path(api, self.leaf, self.root, self.siblings, self.index_bits)


def _tree(leaves):
    levels = [leaves]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append([poseidon([prev[i], prev[i + 1]]) for i in range(0, len(prev), 2)])
    return levels


def _path(levels, index):
    siblings, bits = [], []
    for level in levels[:-1]:
        siblings.append(level[index ^ 1])
        bits.append(index & 1)
        index >>= 1
    return siblings, bits


@pytest.mark.parametrize("index", [0, 5, 15])
def test_merkle_path_both_outcomes(index):
    rng = random.Random(index)
    leaves = [rng.randrange(R) for _ in range(1 << DEPTH)]
    levels = _tree(leaves)
    root = levels[-1][0]
    siblings, bits = _path(levels, index)
    assert merkle_root_native(leaves[index], siblings, bits) == root
    cc = compile_circuit(Membership())
    cc.solve({"root": root, "leaf": leaves[index], "siblings": siblings, "index_bits": bits})
    with pytest.raises(UnsatisfiedConstraintError, match="merkle/root"):
        cc.solve({"root": root, "leaf": (leaves[index] + 1) % R, "siblings": siblings, "index_bits": bits})
    with pytest.raises(UnsatisfiedConstraintError, match="merkle/root"):
        flipped = [1 - bits[0], *bits[1:]]
        cc.solve({"root": root, "leaf": leaves[index], "siblings": siblings, "index_bits": flipped})
    with pytest.raises(UnsatisfiedConstraintError, match="index_bit"):
        cc.solve({"root": root, "leaf": leaves[index], "siblings": siblings, "index_bits": [2, *bits[1:]]})


def test_merkle_native_validates():
    with pytest.raises(ValueError):
        merkle_root_native(1, [2, 3], [0])
    with pytest.raises(ValueError):
        merkle_root_native(1, [2], [2])


# ---- integer arithmetic: exact division, signed offsets, powers of ten, min / max ---------

OFFSET = 2**100


class DivMod(Circuit):
    n = Secret()
    d = Secret()
    q = Public()
    rem = Public()

    def __init__(self, signed: bool = False, ceil: bool = False) -> None:
        self.signed, self.ceil = signed, ceil
        super().__init__()

    def define(self, api: API) -> None:
        q, rem = div_mod(api, self.n, self.d, n_bits=16, d_bits=8, signed=self.signed, ceil=self.ceil, name="dm")
        api.assert_equal(q, self.q, name="claim_q")
        api.assert_equal(rem, self.rem, name="claim_rem")


def _divmod_truth(n: int, d: int, ceil: bool) -> tuple[int, int]:
    q = -((-n) // d) if ceil else n // d
    return q, (q * d - n if ceil else n - q * d)


@settings(max_examples=40, deadline=None)
@given(st.integers(-(2**16) + 1, 2**16 - 1), st.integers(1, 255), st.booleans(), st.booleans())
def test_div_mod_both_outcomes(n: int, d: int, ceil: bool, signed: bool) -> None:
    n = n if signed else abs(n)
    cc = compile_circuit(DivMod(signed=signed, ceil=ceil))
    q, rem = _divmod_truth(n, d, ceil)
    w = cc.solve({"n": n % R, "d": d, "q": q % R, "rem": rem})
    assert w.public_signals == [q % R, rem]
    with pytest.raises(UnsatisfiedConstraintError, match="claim_q"):
        cc.solve({"n": n % R, "d": d, "q": (q + 1) % R, "rem": rem})


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda v, o: [o[0] + 1, o[1] - v[1]], "dm/remainder_range"),  # rem goes negative
        (lambda v, o: [o[0] - 1, o[1] + v[1]], "dm/remainder<divisor"),  # rem >= d
        (lambda v, o: [o[0] + 1, o[1]], "dm/division"),
    ],
)
def test_div_mod_rejects_every_other_quotient(change, where) -> None:
    cc = with_hint(compile_circuit(DivMod()), "dm/quotient_remainder", change)
    with pytest.raises(UnsatisfiedConstraintError, match=where):
        cc.solve({"n": 1000, "d": 7, "q": 142, "rem": 6})


def test_div_mod_refuses_zero_divisor_and_wrapping_widths() -> None:
    cc = compile_circuit(DivMod())
    with pytest.raises(UnsatisfiedConstraintError, match="dm/remainder<divisor"):
        cc.solve({"n": 5, "d": 0, "q": 0, "rem": 0})

    class Wide(Circuit):
        n = Secret()

        def define(self, api: API) -> None:
            div(api, self.n, 3, n_bits=200, d_bits=60, name="wide")

    with pytest.raises(CircuitDefinitionError, match="may wrap"):
        compile_circuit(Wide())


class SignMagnitude(Circuit):
    x = Secret()
    v = Public()
    mag = Public()
    neg = Public()

    def define(self, api: API) -> None:
        v, mag, neg = sign_magnitude(api, self.x, 8, OFFSET, name="sm")
        w = offset_signed(api, self.x, 8, OFFSET, name="range")
        api.assert_equal(v, w, name="same")
        for got, claim, label in ((v, self.v, "v"), (mag, self.mag, "mag"), (neg, self.neg, "neg")):
            api.assert_equal(got, claim, name=f"claim_{label}")


@settings(max_examples=40, deadline=None)
@given(st.integers(-255, 255))
def test_sign_magnitude_both_outcomes(v: int) -> None:
    cc = compile_circuit(SignMagnitude())
    cc.solve({"x": v + OFFSET, "v": v % R, "mag": abs(v), "neg": max(-v, 0)})
    with pytest.raises(UnsatisfiedConstraintError, match="claim_mag"):
        cc.solve({"x": v + OFFSET, "v": v % R, "mag": abs(v) + 1, "neg": max(-v, 0)})


@pytest.mark.parametrize("v", [256, -257, 2**99, -(2**100)])
def test_signed_values_out_of_range_are_unsatisfiable(v: int) -> None:
    with pytest.raises(UnsatisfiedConstraintError, match=r"sm/magnitude_range|range"):
        compile_circuit(SignMagnitude()).solve({"x": (v + OFFSET) % R, "v": v % R, "mag": abs(v), "neg": max(-v, 0)})


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda v, o: [1 - o[0], o[1]], "sm/recompose"),  # flip the sign of -5
        (lambda v, o: [0, -o[1]], "sm/magnitude_range"),  # -5 as a "positive" r - 5
        (lambda v, o: [2, o[1]], "sm/sign_is_boolean"),
    ],
)
def test_sign_magnitude_rejects_dishonest_splits(change, where) -> None:
    cc = with_hint(compile_circuit(SignMagnitude()), "sm/sign_magnitude", change)
    with pytest.raises(UnsatisfiedConstraintError, match=where):
        cc.solve({"x": OFFSET - 5, "v": R - 5, "mag": 5, "neg": 5})


class Pow10(Circuit):
    e = Secret()
    out = Public()

    def define(self, api: API) -> None:
        api.assert_equal(pow10(api, self.e, 18, name="p"), self.out, name="claim")


@pytest.mark.parametrize("e", [0, 1, 6, 18])
def test_pow10_both_outcomes(e: int) -> None:
    cc = compile_circuit(Pow10())
    assert cc.solve({"e": e, "out": 10**e}).public_signals == [10**e]
    with pytest.raises(UnsatisfiedConstraintError, match="claim"):
        cc.solve({"e": e, "out": 10 ** (e + 1)})
    with pytest.raises(UnsatisfiedConstraintError, match="p/index"):  # another exponent's one-hot
        with_hint(cc, "p/onehot", lambda v, o: [o[-1], *o[:-1]]).solve({"e": e, "out": 10**e})


def test_pow10_exponent_out_of_range_is_unsatisfiable() -> None:
    with pytest.raises(UnsatisfiedConstraintError, match="p/exactly_one"):
        compile_circuit(Pow10()).solve({"e": 19, "out": 10**19})


class Pow10Pair(Circuit):
    e = Secret()
    up = Public()
    down = Public()

    def define(self, api: API) -> None:
        up, down = pow10_pair(api, self.e, 18, name="p")
        api.assert_equal(up, self.up, name="claim_up")
        api.assert_equal(down, self.down, name="claim_down")


@pytest.mark.parametrize("e", [0, 5, 18])
def test_pow10_pair_gives_both_powers(e: int) -> None:
    cc = compile_circuit(Pow10Pair())
    assert cc.solve({"e": e, "up": 10**e, "down": 10 ** (18 - e)}).public_signals == [10**e, 10 ** (18 - e)]
    with pytest.raises(UnsatisfiedConstraintError, match="claim_down"):
        cc.solve({"e": e, "up": 10**e, "down": 10 ** (18 - e) + 1})


class DivBound(Circuit):
    n = Secret()
    d = Secret()
    q = Public()

    def __init__(self, ceil: bool = False) -> None:
        self.ceil = ceil

    def define(self, api: API) -> None:
        q = div_bound(api, self.n, self.d, n_bits=16, d_bits=8, signed=True, ceil=self.ceil, name="db")
        api.assert_equal(q, self.q, name="claim_q")


@settings(max_examples=40, deadline=None)
@given(st.integers(-(2**16) + 1, 2**16 - 1), st.integers(1, 255), st.booleans())
@example(2**16 - 1, 1, True)  # the worse bound leaves the quotient's range
@example(2**16 - 1, 1, False)  # the better one does
@example(-(2**16) + 1, 1, False)
@example(-(2**16) + 1, 1, True)
def test_div_bound_errs_only_on_the_conservative_side(n: int, d: int, ceil: bool) -> None:
    """The exact quotient satisfies; a bound on the conservative side (lower for floor,
    higher for ceil) satisfies while its slack fits and it stays in the quotient's range
    (signed 16 bits: [-2^16, 2^16)); the other side never does."""
    cc = compile_circuit(DivBound(ceil=ceil))
    q, _ = _divmod_truth(n, d, ceil)
    assert cc.solve({"n": n % R, "d": d, "q": q % R}).public_signals == [q % R]
    toward, away = (1, -1) if ceil else (-1, 1)
    assert cc.solve_limbs({"n": n % R, "d": d, "q": q % R}) is not None
    worse = with_hint(cc, "db/quotient", lambda v, o: [o[0] + toward])
    ok, _where = _satisfied(worse, {"n": n % R, "d": d, "q": (q + toward) % R})
    slack = (q + toward) * d - n if ceil else n - (q + toward) * d
    assert ok == (slack < 2**8 and -(2**16) <= q + toward < 2**16)
    better = with_hint(cc, "db/quotient", lambda v, o: [o[0] + away])
    with pytest.raises(UnsatisfiedConstraintError, match=r"db/(slack_range|quotient_range)"):
        better.solve({"n": n % R, "d": d, "q": (q + away) % R})


class CeilingBound(Circuit):
    floor = Secret()
    ns = Secret(3)
    m = Public()

    def define(self, api: API) -> None:
        m = ceiling_bound(api, self.ns, 1000, self.floor, n_bits=20, m_bits=12, floor_bits=12, name="cb")
        api.assert_equal(m, self.m, name="claim_m")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-(2**20) + 1, 2**20 - 1), min_size=3, max_size=3), st.integers(0, 2**11))
def test_ceiling_bound_is_at_least_every_ceiling(ns: list[int], floor: int) -> None:
    cc = compile_circuit(CeilingBound())
    m = max([floor, *(-((-n) // 1000) for n in ns)])
    inputs = {"floor": floor, "ns": [n % R for n in ns], "m": m}
    assert cc.solve(inputs).public_signals == [m]
    assert cc.solve_limbs(inputs) is not None
    higher = with_hint(cc, "cb/max", lambda v, o: [o[0] + 1])
    assert _satisfied(higher, {**inputs, "m": m + 1})[0]  # a larger bound is allowed
    lower = with_hint(cc, "cb/max", lambda v, o: [o[0] - 1])
    with pytest.raises(UnsatisfiedConstraintError, match="cb/bound>="):
        lower.solve({**inputs, "m": (m - 1) % R})


def _satisfied(cc: CompiledCircuit, inputs: dict[str, Any]) -> tuple[bool, str | None]:
    try:
        cc.solve(inputs)
    except UnsatisfiedConstraintError as exc:
        return False, exc.name
    return True, None


class MinMax(Circuit):
    a = Secret()
    b = Secret()
    lo = Public()
    hi = Public()

    def define(self, api: API) -> None:
        api.assert_equal(minimum(api, self.a, self.b, 20, name="min"), self.lo, name="claim_lo")
        api.assert_equal(maximum(api, self.a, self.b, 20, name="max"), self.hi, name="claim_hi")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**20 - 1), st.integers(0, 2**20 - 1))
def test_min_max_both_outcomes(a: int, b: int) -> None:
    cc = compile_circuit(MinMax())
    cc.solve({"a": a, "b": b, "lo": min(a, b), "hi": max(a, b)})
    if a != b:
        with pytest.raises(UnsatisfiedConstraintError, match="claim_lo"):
            cc.solve({"a": a, "b": b, "lo": max(a, b), "hi": max(a, b)})
        with pytest.raises(UnsatisfiedConstraintError, match="claim_hi"):
            cc.solve({"a": a, "b": b, "lo": min(a, b), "hi": min(a, b)})


def test_as_signed_reads_field_elements_as_integers() -> None:
    assert [as_signed(v) for v in (0, 5, R - 5, R // 2, R // 2 + 1)] == [0, 5, -5, R // 2, R // 2 + 1 - R]
