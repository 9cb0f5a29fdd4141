"""The R1CS builder: declarations, free and constrained operations, solving, naming."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algebra import R
from circuits import (
    API,
    AssignmentError,
    Circuit,
    CircuitDefinitionError,
    HintError,
    Public,
    Secret,
    UnsatisfiedConstraintError,
    compile_circuit,
)

fr = st.integers(min_value=0, max_value=R - 1)


class Cube(Circuit):
    """y = x^3 + x + 5 (the classic example)."""

    y = Public()
    x = Secret()

    def define(self, api: API) -> None:
        with api.scope("cube"):
            x3 = api.mul(api.square(self.x, name="x^2"), self.x, name="x^3")
        api.assert_equal(api.add(x3, self.x, 5), self.y, name="y")


class Arrays(Circuit):
    total = Public()
    items = Secret(3)
    weights = Public(3)

    def define(self, api: API) -> None:
        terms = [api.mul(a, w) for a, w in zip(self.items, self.weights)]
        api.assert_equal(api.sum(terms), self.total, name="weighted sum")


def test_cube_layout_and_solve():
    cc = compile_circuit(Cube())
    assert cc.cs.n_public == 1
    assert cc.cs.n_constraints == 3
    assert cc.cs.wire_names[:3] == ["one", "y", "x"]
    w = cc.solve({"y": 35, "x": 3})
    assert w.public_signals == [35]
    assert w.values[0] == 1
    assert cc.cs.is_satisfied(w.values)


def test_unsatisfied_constraint_is_named():
    cc = compile_circuit(Cube())
    with pytest.raises(UnsatisfiedConstraintError) as err:
        cc.solve({"y": 36, "x": 3})
    assert err.value.name == "y"
    assert err.value.index == 2
    assert "'y'" in str(err.value)


def test_tampered_internal_wire_names_its_constraint():
    cc = compile_circuit(Cube())
    w = cc.solve({"y": 35, "x": 3}).values
    w[3] += 1  # the x^2 wire
    with pytest.raises(UnsatisfiedConstraintError, match="cube/x\\^2"):
        cc.cs.check(w)


def test_public_inputs_get_the_first_wires_in_declaration_order():
    cc = compile_circuit(Arrays())
    assert cc.cs.n_public == 4
    assert cc.cs.wire_names[1:5] == ["total", "weights[0]", "weights[1]", "weights[2]"]
    assert [s.name for s in cc.inputs] == ["total", "items", "weights"]
    w = cc.solve({"total": 1 * 4 + 2 * 5 + 3 * 6, "items": [1, 2, 3], "weights": [4, 5, 6]})
    assert w.public_signals == [32, 4, 5, 6]


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ({"y": 35}, "input 'x' is missing"),
        ({"y": 35, "x": 3, "z": 1}, "unknown inputs \\['z'\\]"),
        ({"y": 35, "x": -3}, "not a field element"),
        ({"y": 35, "x": R}, "not a field element"),
        ({"y": 35, "x": "3"}, "not a field element"),
        ({"y": 35, "x": True}, "not a field element"),
    ],
)
def test_assignment_errors(assignment, message):
    cc = compile_circuit(Cube())
    with pytest.raises(AssignmentError, match=message):
        cc.solve(assignment)


def test_array_length_error_gives_both_numbers():
    cc = compile_circuit(Arrays())
    with pytest.raises(AssignmentError, match="has 2 values, circuit expects 3"):
        cc.solve({"total": 0, "items": [1, 2], "weights": [1, 2, 3]})


def test_mul_by_constant_is_free():
    class Free(Circuit):
        x = Secret()

        def define(self, api: API) -> None:
            y = api.mul(self.x, 7)
            y = api.mul(3, y)
            api.assert_equal(y, api.scale(self.x, 21))

    assert compile_circuit(Free()).cs.n_constraints == 1


@settings(max_examples=30, deadline=None)
@given(fr, fr)
def test_div_and_inverse(a, b):
    class Div(Circuit):
        a = Secret()
        b = Secret()
        q = Public()

        def define(self, api: API) -> None:
            api.assert_equal(api.div(self.a, self.b), self.q)
            api.inverse(self.b)

    cc = compile_circuit(Div())
    if b == 0:
        with pytest.raises(UnsatisfiedConstraintError):
            cc.solve({"a": a, "b": b, "q": 0})
    else:
        q = a * pow(b, -1, R) % R
        cc.solve({"a": a, "b": b, "q": q})
        with pytest.raises(UnsatisfiedConstraintError):
            cc.solve({"a": a, "b": b, "q": (q + 1) % R})


def test_assert_boolean_both_outcomes():
    class Bool(Circuit):
        b = Secret()

        def define(self, api: API) -> None:
            api.assert_boolean(self.b, name="b is a bit")

    cc = compile_circuit(Bool())
    cc.solve({"b": 0})
    cc.solve({"b": 1})
    with pytest.raises(UnsatisfiedConstraintError, match="b is a bit"):
        cc.solve({"b": 2})


def test_constant_assert_boolean_is_checked_at_build_time():
    class Bad(Circuit):
        def define(self, api: API) -> None:
            api.assert_boolean(api.constant(2))

    with pytest.raises(CircuitDefinitionError):
        compile_circuit(Bad())


def test_hint_errors():
    class BadHint(Circuit):
        x = Secret()

        def define(self, api: API) -> None:
            api.hint(lambda v: [1, 2], [self.x], 1, name="two-for-one")

    with pytest.raises(HintError, match="returned 2 values, expected 1"):
        compile_circuit(BadHint()).solve({"x": 1})

    class Raising(Circuit):
        x = Secret()

        def define(self, api: API) -> None:
            api.hint(lambda v: 1 // 0, [self.x], name="boom")

    with pytest.raises(HintError, match="'boom' failed"):
        compile_circuit(Raising()).solve({"x": 1})


def test_duplicate_names_are_made_unique():
    class Twice(Circuit):
        x = Secret()

        def define(self, api: API) -> None:
            for _ in range(3):
                api.assert_equal(self.x, 1, name="same")

    names = [c.name for c in compile_circuit(Twice()).cs.constraints]
    assert names == ["same", "same#2", "same#3"]


def test_witness_length_check():
    cc = compile_circuit(Cube())
    w = cc.solve({"y": 35, "x": 3}).values
    with pytest.raises(ValueError, match=f"witness has {len(w) - 1} values, circuit expects {len(w)}"):
        cc.cs.check(w[:-1])


def test_compile_leaves_instance_clean_and_is_repeatable():
    c = Cube()
    a = compile_circuit(c)
    b = compile_circuit(c)
    assert [k.name for k in a.cs.constraints] == [k.name for k in b.cs.constraints]
    assert isinstance(Cube.x, Secret)
    with pytest.raises(CircuitDefinitionError, match="only inside define"):
        _ = c.x


def test_bad_array_declaration():
    with pytest.raises(CircuitDefinitionError):
        Secret(0)
