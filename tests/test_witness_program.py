"""The compiled witness program against its reference, the Python solver: the same
values for every hint kind (edge values included) and for the margin circuit, the same
named errors, and the Python fallback for a hint without a compilable op."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algebra import R, limbs_to_ints
from circuits import (
    API,
    AssignmentError,
    Circuit,
    CompiledCircuit,
    NotCompilableError,
    Public,
    Secret,
    UnsatisfiedConstraintError,
    WitnessProgram,
    as_signed,
    ceiling_bound,
    compile_circuit,
    div_bound,
    div_mod,
    is_zero,
    pow10,
    range_check,
    sign_magnitude,
)
from engine import Account, Position, random_salt
from engine._prove_account import assign_witness, margin_circuit_for
from tests._engine import USD, perp_snapshot

OFFSET = 2**100


class Gadgets(Circuit):
    """One of each hint kind on free inputs (constraints only where they always hold)."""

    x = Secret()
    n = Secret()
    d = Secret()
    e = Secret()
    out = Public()

    def define(self, api: API) -> None:
        api.assert_equal(self.out, self.out, name="public")
        for ceil in (False, True):
            q, rem = div_mod(api, self.n, self.d, n_bits=120, d_bits=100, signed=True, ceil=ceil, name=f"div{ceil}")
            api.assert_equal(q + rem, q + rem, name=f"use{ceil}")
        api.inverse(api.add(self.x, 1), name="inverse")
        z = is_zero(api, self.x, name="is_zero")
        api.assert_equal(z, z, name="use_z")
        api.div(self.n, self.x, name="field_div")
        sign_magnitude(api, self.n, 120, OFFSET, name="split")
        pow10(api, self.e, 18, name="pow10")
        range_check(api, self.d, 100, name="d_range")
        for ceil in (False, True):
            div_bound(api, self.n, self.d, n_bits=120, d_bits=100, signed=True, ceil=ceil, name=f"bound{ceil}")
        ceiling_bound(api, [self.n, self.x, 7], 1000, self.e, n_bits=250, m_bits=120, floor_bits=5, name="ceilings")


@pytest.fixture(scope="module")
def gadgets() -> CompiledCircuit:
    return compile_circuit(Gadgets())


def _same(cc: CompiledCircuit, assignment: dict[str, Any]) -> None:
    try:
        want = cc.solve(assignment, check=False).values
    except Exception as exc:  # the Python solver refuses: so must the program
        with pytest.raises(type(exc)):
            WitnessProgram.of(cc).solve(assignment, check=False)
        return
    assert limbs_to_ints(WitnessProgram.of(cc).solve(assignment, check=False)) == want


signed = st.integers(-(2**119), 2**119)
field = st.integers(0, R - 1)


@settings(max_examples=150, deadline=None)
@given(
    x=st.one_of(st.just(0), st.just(1), st.just(R - 1), field),
    n=st.one_of(signed, st.just(0), st.just(OFFSET), st.just(OFFSET - 1)),
    d=st.one_of(st.just(0), st.just(1), st.integers(1, 2**100 - 1), st.integers(1, 1000)),
    e=st.one_of(st.integers(0, 20), st.just(R - 1)),
)
def test_every_hint_kind_matches_the_python_solver(gadgets: CompiledCircuit, x: int, n: int, d: int, e: int) -> None:
    _same(gadgets, {"x": x, "n": n % R, "d": d, "e": e, "out": 0})


@settings(max_examples=200, deadline=None)
@given(num=st.one_of(signed, field), den=st.integers(1, 2**120), ceil=st.booleans())
def test_signed_division_kernel_rounds_as_python(num: int, den: int, ceil: bool) -> None:
    from circuits._nb_witness import _quotient_remainder

    def limbs(v: int) -> tuple[np.uint64, ...]:
        return tuple(np.uint64((v >> (64 * i)) & (2**64 - 1)) for i in range(4))

    q, rem = _quotient_remainder(limbs(num % R), limbs(den), ceil)
    value = as_signed(num % R)
    want = -((-value) // den) if ceil else value // den
    assert sum(int(q[i]) << (64 * i) for i in range(4)) == want % R
    assert sum(int(rem[i]) << (64 * i) for i in range(4)) == (want * den - value if ceil else value - want * den)


def test_errors_are_the_python_solvers(gadgets: CompiledCircuit) -> None:
    program = WitnessProgram.of(gadgets)
    good = {"x": 3, "n": 10, "d": 7, "e": 2, "out": 0}
    assert limbs_to_ints(program.solve(good)) == gadgets.solve(good).values
    for bad, message in (({**good, "e": 19}, "pow10"), ({**good, "d": 2**100}, "d_range")):
        with pytest.raises(UnsatisfiedConstraintError) as python:
            gadgets.solve(bad)
        with pytest.raises(UnsatisfiedConstraintError) as compiled:
            program.solve(bad)
        assert compiled.value.name == python.value.name and message in compiled.value.name
        assert str(compiled.value) == str(python.value)
    for bad in ({**good, "x": R}, {"x": 1}, {**good, "zz": 1}, {**good, "n": -1}):
        with pytest.raises(AssignmentError) as python:
            gadgets.solve(bad)
        with pytest.raises(AssignmentError) as compiled:
            program.solve(bad)
        assert str(compiled.value) == str(python.value)


class _Opaque(Circuit):
    x = Secret()
    y = Public()

    def define(self, api: API) -> None:
        (sq,) = api.hint(lambda v: [v[0] * v[0] % R], [self.x], 1, name="square")  # no HintOp
        api.assert_equal(sq, self.y, name="y")


def test_a_hint_without_an_op_is_solved_in_python() -> None:
    cc = compile_circuit(_Opaque())
    with pytest.raises(NotCompilableError, match="square"):
        WitnessProgram.of(cc)
    assert limbs_to_ints(cc.solve_limbs({"x": 5, "y": 25})) == cc.solve({"x": 5, "y": 25}).values
    with pytest.raises(UnsatisfiedConstraintError):
        cc.solve_limbs({"x": 5, "y": 24})


SNAP = perp_snapshot()


@settings(max_examples=25, deadline=None)
@given(
    size=st.integers(-(10**9), 10**9),
    usdc=st.integers(0, 10**6),
    quote_balance=st.integers(-(10**5), 10**5),
    isolated=st.booleans(),
)
def test_the_margin_circuit_solves_to_the_same_witness(
    size: int, usdc: int, quote_balance: int, isolated: bool
) -> None:
    position = Position(
        market="BTC-PERP",
        size=size,
        quote=-size * 65_000 * USD // 10**8,
        isolated_margin=1_000 * USD if isolated and size != 0 else None,
    )
    account = Account(
        id="walk", collateral={"USDC": usdc * USD}, quote_balance=quote_balance * USD, positions=(position,)
    )
    cc = margin_circuit_for(SNAP)
    _same(cc, assign_witness(account, SNAP, random_salt()))
