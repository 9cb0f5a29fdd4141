"""Circuits as declarative classes (gnark style) and the builder API that compiles them.

    class Square(Circuit):
        y = Public(doc="the claimed square")
        x = Secret()

        def define(self, api: API) -> None:
            api.assert_equal(api.mul(self.x, self.x), self.y, name="y == x*x")

    compiled = compile_circuit(Square())
    witness = compiled.solve({"y": 9, "x": 3})

Only the builder touches the constraint matrices. Each API method says what it
constrains; values computed outside the constraints enter through `hint` and must be
constrained by the caller. Compilation records how to compute every internal wire, so a
compiled circuit solves any number of assignments without running `define` again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from algebra import R

from ._errors import AssignmentError, CircuitDefinitionError, CircuitError, HintError
from ._lc import ONE_WIRE, LinearCombination, as_lc
from ._r1cs import Constraint, ConstraintSystem

Value = LinearCombination | int
HintFn = Callable[[list[int]], int | Sequence[int]]


# ---- input declarations --------------------------------------------------------


class _Input:
    public: bool = False

    def __init__(self, n: int | None = None, *, doc: str = "") -> None:
        if n is not None and (not isinstance(n, int) or n < 1):
            raise CircuitDefinitionError(f"an input array needs a positive length, got {n!r}")
        self.n = n
        self.doc = doc
        self._name = "input"

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        # A non-data descriptor: while `define` runs, compile_circuit binds the wire(s)
        # in the instance's __dict__, which takes precedence over this method.
        if obj is None:
            return self
        raise CircuitDefinitionError(
            f"input {self._name!r} is a declaration; its wires exist only inside define(api) during compile_circuit"
        )


class Public(_Input):
    """A public input (a public signal of the proof). `Public(n)` declares an array."""

    public = True


class Secret(_Input):
    """A secret input (part of the private witness). `Secret(n)` declares an array."""


@dataclass(frozen=True)
class InputSpec:
    """Where a declared input lives in the witness."""

    name: str
    public: bool
    wires: tuple[int, ...]
    is_array: bool


class Circuit:
    """Base class: declare `Public()`/`Secret()` class attributes and implement `define`.

    Instance attributes may parametrise the shape (bit widths, tree depth) and are set in
    `__init__` as usual; declared inputs are replaced by wires during compilation.
    """

    def define(self, api: API) -> None:
        raise NotImplementedError

    @classmethod
    def declared_inputs(cls) -> list[tuple[str, _Input]]:
        """Declared inputs in declaration order (base classes first)."""
        seen: dict[str, _Input] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, _Input):
                    seen[name] = value
        return list(seen.items())

    def input_declarations(self) -> list[tuple[str, _Input]]:
        """This instance's inputs in declaration order: the class's declarations, unless a
        circuit sizes or chooses its inputs from its parameters (override)."""
        return type(self).declared_inputs()


# ---- the builder -----------------------------------------------------------------


@dataclass(frozen=True)
class _MulStep:
    out: int
    a: LinearCombination
    b: LinearCombination


@dataclass(frozen=True)
class HintOp:
    """What a hint computes, so the compiled witness program (`_witness_program`) can run
    it without Python; the hint's function stays its reference. Kinds (inputs -> outputs):

    - "bits" (x -> its `param` low bits, little-endian);
    - "inverse" (x -> 1/x, 0 for 0); "field_div" (a, b -> a/b, 0 when b = 0);
    - "sign_magnitude" (x -> [v < 0, |v|] for v = x - `param` read in (-r/2, r/2));
    - "onehot" (e -> [e == i for i < `param`]);
    - "quotient_remainder" (n, d -> floor (`param` 0) or ceil (`param` 1) division of n
      read in (-r/2, r/2) by d: [q mod r, remainder >= 0]; [0, 0] when d = 0);
    - "quotient" (n, d -> the quotient alone of "quotient_remainder", `param` as there);
    - "max_ceil" (floor, d, n_1, ..., n_k -> max(floor, ceil(n_i / d) for each i), floor
      and the n_i read in (-r/2, r/2), d > 0).
    """

    kind: str
    param: int = 0


@dataclass(frozen=True)
class _HintStep:
    outs: tuple[int, ...]
    fn: HintFn
    inputs: tuple[LinearCombination, ...]
    name: str
    op: HintOp | None = None


class API:
    """The builder handed to `Circuit.define`. Only it creates wires and constraints."""

    def __init__(self, cs: ConstraintSystem) -> None:
        self._cs = cs
        self._steps: list[_MulStep | _HintStep] = []
        self._scopes: list[str] = []
        self._name_counts: Counter[str] = Counter()

    # ---- naming ----------------------------------------------------------------
    @contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Prefix the names of constraints made inside the block with `name/`."""
        self._scopes.append(name)
        try:
            yield
        finally:
            self._scopes.pop()

    def _full_name(self, name: str) -> str:
        full = "/".join([*self._scopes, name])
        self._name_counts[full] += 1
        k = self._name_counts[full]
        return full if k == 1 else f"{full}#{k}"

    def _new_wire(self, name: str) -> int:
        self._cs.wire_names.append(name)
        return self._cs.n_wires - 1

    def _constrain(self, a: LinearCombination, b: LinearCombination, c: LinearCombination, name: str) -> None:
        self._cs.constraints.append(Constraint(dict(a.terms), dict(b.terms), dict(c.terms), self._full_name(name)))

    # ---- free (linear) operations ----------------------------------------------
    def constant(self, value: int) -> LinearCombination:
        """The constant `value` (no wire, no constraint)."""
        return LinearCombination.constant(value)

    def add(self, a: Value, b: Value, *more: Value) -> LinearCombination:
        """a + b + ... (linear: no constraint)."""
        out = as_lc(a) + as_lc(b)
        for m in more:
            out = out + as_lc(m)
        return out

    def sub(self, a: Value, b: Value) -> LinearCombination:
        """a - b (linear: no constraint)."""
        return as_lc(a) - as_lc(b)

    def neg(self, a: Value) -> LinearCombination:
        """-a (linear: no constraint)."""
        return -as_lc(a)

    def scale(self, a: Value, k: int) -> LinearCombination:
        """k * a for a constant k (linear: no constraint)."""
        return as_lc(a) * k

    def sum(self, values: Sequence[Value]) -> LinearCombination:
        """The sum of many values (linear: no constraint)."""
        out = LinearCombination()
        for v in values:
            out = out + as_lc(v)
        return out

    # ---- multiplicative operations ---------------------------------------------
    def mul(self, a: Value, b: Value, name: str = "mul") -> LinearCombination:
        """a * b. Constrains `a * b = out` with a new wire unless a factor is constant."""
        la, lb = as_lc(a), as_lc(b)
        if la.is_constant():
            return lb * la.constant_value()
        if lb.is_constant():
            return la * lb.constant_value()
        out = self._new_wire(self._full_name_peek(name))
        self._steps.append(_MulStep(out, la, lb))
        res = LinearCombination.wire(out, boolean=la.is_boolean and lb.is_boolean)
        self._constrain(la, lb, res, name)
        return res

    def square(self, a: Value, name: str = "square") -> LinearCombination:
        """a^2 (one constraint unless constant)."""
        return self.mul(a, a, name)

    def inverse(self, a: Value, name: str = "inverse") -> LinearCombination:
        """1/a. Constrains `a * out = 1`, so a = 0 makes the witness unsatisfiable."""
        la = as_lc(a)
        if la.is_constant():
            return self.constant(pow(la.constant_value(), -1, R))
        (out,) = self.hint(_inverse, [la], 1, name=name, op=HintOp("inverse"))
        self._constrain(la, out, self.constant(1), name)
        return out

    def div(self, a: Value, b: Value, name: str = "div") -> LinearCombination:
        """a / b. Constrains `b * out = a`; b = 0 makes the witness unsatisfiable (unless a = 0)."""
        la, lb = as_lc(a), as_lc(b)
        if lb.is_constant():
            return la * pow(lb.constant_value(), -1, R)
        (out,) = self.hint(_field_div, [la, lb], 1, name=name, op=HintOp("field_div"))
        self._constrain(lb, out, la, name)
        return out

    # ---- assertions ------------------------------------------------------------
    def assert_equal(self, a: Value, b: Value, name: str = "assert_equal") -> None:
        """Constrains a = b (as `a * 1 = b`)."""
        self._constrain(as_lc(a), self.constant(1), as_lc(b), name)

    def assert_product(self, a: Value, b: Value, c: Value, name: str = "assert_product") -> None:
        """Constrains a * b = c (a raw R1CS row)."""
        self._constrain(as_lc(a), as_lc(b), as_lc(c), name)

    def assert_boolean(self, a: Value, name: str = "assert_boolean") -> LinearCombination:
        """Constrains a * (a - 1) = 0 and returns a marked as boolean."""
        la = as_lc(a)
        if la.is_constant():
            if la.constant_value() not in (0, 1):
                raise CircuitDefinitionError(f"{name}: constant {la.constant_value()} is not boolean")
            return la
        self._constrain(la, la - 1, self.constant(0), name)
        return LinearCombination(la.terms, boolean=True)

    # ---- values from outside the constraints -----------------------------------
    def hint(
        self,
        fn: HintFn,
        inputs: Sequence[Value],
        n_outputs: int = 1,
        name: str = "hint",
        *,
        boolean: bool = False,
        op: HintOp | None = None,
    ) -> list[LinearCombination]:
        """New wires whose values `fn(values of inputs)` computes at solving time.

        A hint constrains nothing: the caller must constrain its outputs. `boolean=True`
        only marks the outputs for gadgets; it does not constrain them either. `op` names
        what `fn` computes, for the compiled witness program (a circuit with a hint
        without one is solved in Python only).
        """
        label = self._full_name_peek(name)
        outs = tuple(self._new_wire(f"{label}[{i}]" if n_outputs > 1 else label) for i in range(n_outputs))
        self._steps.append(_HintStep(outs, fn, tuple(as_lc(v) for v in inputs), label, op))
        return [LinearCombination.wire(w, boolean=boolean) for w in outs]

    def _full_name_peek(self, name: str) -> str:
        return "/".join([*self._scopes, name])


def _inverse(v: list[int]) -> int:
    return pow(v[0], -1, R) if v[0] else 0


def _field_div(v: list[int]) -> int:
    return v[0] * pow(v[1], -1, R) % R if v[1] else 0


# ---- compilation and solving -------------------------------------------------------


@dataclass
class Witness:
    """A full assignment of every wire, wire 0 = 1, public inputs at 1..n_public."""

    values: list[int]
    n_public: int

    @property
    def public_signals(self) -> list[int]:
        return self.values[1 : 1 + self.n_public]

    def __len__(self) -> int:
        return len(self.values)


class CompiledCircuit:
    """A circuit's constraint system plus the recipe to solve its witness."""

    def __init__(self, name: str, cs: ConstraintSystem, inputs: list[InputSpec], steps: list[_MulStep | _HintStep]):
        self.name = name
        self.cs = cs
        self.inputs = inputs
        self._steps = steps

    def __repr__(self) -> str:
        return (
            f"CompiledCircuit({self.name}: {self.cs.n_constraints} constraints, {self.cs.n_wires} wires, "
            f"{self.cs.n_public} public)"
        )

    def solve(self, assignment: Mapping[str, int | Sequence[int]], *, check: bool = True) -> Witness:
        """Compute every wire from the inputs; by default also check all constraints.

        Raises AssignmentError for missing, unknown or out-of-range inputs, HintError if a
        hint fails, UnsatisfiedConstraintError naming the first violated constraint.
        """
        if getattr(self, "_loaded", False):
            raise CircuitError(f"{self.name}: a loaded circuit is solved by its program (solve_limbs), not in Python")
        values = [0] * self.cs.n_wires
        values[ONE_WIRE] = 1
        for wire, v in zip(*assignment_values(self, assignment)):
            values[wire] = v
        for step in self._steps:
            if isinstance(step, _MulStep):
                values[step.out] = step.a.evaluate(values) * step.b.evaluate(values) % R
            else:
                _run_hint(step, values)
        if check:
            self.cs.check(values)
        return Witness(values, self.cs.n_public)

    def solve_limbs(self, assignment: Mapping[str, int | Sequence[int]], *, check: bool = True) -> Any:
        """The witness as (n_wires, 4) uint64 standard-form limbs (what the prover takes),
        by the compiled witness program (`_witness_program`; `solve` is its reference),
        or by `solve` when a hint has no compilable op. Same values, same errors."""
        from ._witness_program import NotCompilableError, WitnessProgram

        try:
            program = WitnessProgram.of(self)
        except NotCompilableError:
            from algebra import fr_to_limbs

            return fr_to_limbs(self.solve(assignment, check=check).values).reshape(-1, 4)
        return program.solve(assignment, check=check)

    def wires_determined_by(self, inputs: Sequence[str]) -> Any:
        """Sorted wire indices (int64 array) whose values follow from the named inputs
        alone (and the constant wire): equal in every witness that shares those inputs.
        KeyError for an input the circuit does not declare."""
        import numpy as np

        from ._witness_program import NotCompilableError, WitnessProgram, determined_wires

        by_name = {spec.name: spec for spec in self.inputs}
        wires = [w for name in inputs for w in by_name[name].wires]
        try:
            return determined_wires(WitnessProgram.of(self), wires)
        except NotCompilableError:
            return np.asarray(determined_wires_ref(self, wires), dtype=np.int64)


def determined_wires_ref(circuit: CompiledCircuit, inputs: Sequence[int]) -> list[int]:
    """The Python twin of `_witness_program.determined_wires`, over the solving steps."""
    known = {ONE_WIRE, *inputs}
    for step in circuit._steps:
        reads = (step.a, step.b) if isinstance(step, _MulStep) else step.inputs
        if all(w in known for lc in reads for w in lc.terms):
            known.update((step.out,) if isinstance(step, _MulStep) else step.outs)
    return sorted(known)


def assignment_values(
    circuit: CompiledCircuit, assignment: Mapping[str, int | Sequence[int]]
) -> tuple[list[int], list[int]]:
    """(wires, values) of the declared inputs; AssignmentError for an unknown, missing
    or malformed input or a value outside [0, r)."""
    expected = {spec.name for spec in circuit.inputs}
    unknown = sorted(set(assignment) - expected)
    if unknown:
        raise AssignmentError(f"{circuit.name}: unknown inputs {unknown}; the circuit declares {sorted(expected)}")
    wires: list[int] = []
    values: list[int] = []
    for spec in circuit.inputs:
        if spec.name not in assignment:
            raise AssignmentError(f"{circuit.name}: input {spec.name!r} is missing")
        items = _as_items(spec, assignment[spec.name], circuit.name)
        for i, (wire, v) in enumerate(zip(spec.wires, items)):
            label = f"{spec.name}[{i}]" if spec.is_array else spec.name
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < R:
                raise AssignmentError(f"{circuit.name}: input {label} = {v!r} is not a field element in [0, r)")
            wires.append(wire)
            values.append(v)
    return wires, values


def _as_items(spec: InputSpec, raw: Any, circuit: str) -> list[Any]:
    if spec.is_array:
        if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
            raise AssignmentError(f"{circuit}: input {spec.name!r} is an array of {len(spec.wires)} values")
        if len(raw) != len(spec.wires):
            raise AssignmentError(
                f"{circuit}: input {spec.name!r} has {len(raw)} values, circuit expects {len(spec.wires)}"
            )
        return list(raw)
    return [raw]


def _run_hint(step: _HintStep, values: list[int]) -> None:
    args = [lc.evaluate(values) for lc in step.inputs]
    try:
        result = step.fn(args)
    except Exception as exc:  # a hint is user code: report which one failed
        raise HintError(f"hint {step.name!r} failed: {exc}") from exc
    outs = [result] if isinstance(result, int) else list(result)
    if len(outs) != len(step.outs):
        raise HintError(f"hint {step.name!r} returned {len(outs)} values, expected {len(step.outs)}")
    for w, v in zip(step.outs, outs):
        values[w] = v % R


def compile_circuit(circuit: Circuit) -> CompiledCircuit:
    """Run `circuit.define` once on a fresh builder and return the compiled circuit."""
    decls = circuit.input_declarations()
    ordered = [d for d in decls if d[1].public] + [d for d in decls if not d[1].public]
    n_public = sum(d.n or 1 for _, d in decls if d.public)
    cs = ConstraintSystem(n_public=n_public)
    api = API(cs)
    specs: list[InputSpec] = []
    bound: dict[str, Any] = {}
    for name, decl in ordered:
        if decl.n is None:
            w = api._new_wire(name)
            specs.append(InputSpec(name, decl.public, (w,), False))
            bound[name] = LinearCombination.wire(w)
        else:
            ws = tuple(api._new_wire(f"{name}[{i}]") for i in range(decl.n))
            specs.append(InputSpec(name, decl.public, ws, True))
            bound[name] = [LinearCombination.wire(w) for w in ws]
    # Inputs keep declaration order in `inputs`; wires put public ones first.
    specs.sort(key=lambda s: [n for n, _ in decls].index(s.name))
    state = vars(circuit)
    for name, value in bound.items():
        state[name] = value
    try:
        circuit.define(api)
    finally:
        for name in bound:
            state.pop(name, None)
    return CompiledCircuit(type(circuit).__name__, cs, specs, api._steps)
