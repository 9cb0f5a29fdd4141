"""The compiled witness program: a circuit's solving steps turned, once per circuit, into
arrays that a numba kernel runs (`_nb_witness`), with the Python solver
(`CompiledCircuit.solve`) as its reference twin.

    program = WitnessProgram.of(compiled)        # once per circuit (cached on it)
    limbs = program.solve(assignment)            # (n_wires, 4) uint64, standard form

Every linear combination (the steps' inputs and the constraints' rows) is one row of a
CSR matrix over the wires with Montgomery-form coefficients; a step is a product of two
rows or a hint named by its `HintOp`. `solve` checks the inputs exactly as the Python
solver does (same named errors), runs the steps, and by default checks every constraint,
naming the first unsatisfied one. A circuit with a hint that has no `HintOp` has no
program (`NotCompilableError`): it is solved in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from algebra import R, U64Array, ints_to_limbs, limbs_to_ints

from ._builder import CompiledCircuit, _HintStep, _MulStep, assignment_values
from ._errors import CircuitError, UnsatisfiedConstraintError
from ._lc import LinearCombination
from ._r1cs import Constraint

#: Opcode of each hint kind (`_nb_witness` has the same numbers).
_OPCODES = {
    "bits": 1,
    "inverse": 2,
    "field_div": 3,
    "sign_magnitude": 4,
    "onehot": 5,
    "quotient_remainder": 6,
    "max_ceil": 7,
    "quotient": 8,
}
_MONT = pow(2, 256, R)


class NotCompilableError(CircuitError):
    """The circuit has a hint without a `HintOp`: it can only be solved in Python."""


class _Rows:
    """Linear combinations as CSR rows (Montgomery-form coefficients)."""

    def __init__(self) -> None:
        self.ptr = [0]
        self.wires: list[int] = []
        self.coefs: list[int] = []

    def add(self, lc: LinearCombination) -> int:
        for w, c in lc.terms.items():
            self.wires.append(w)
            self.coefs.append(c)
        self.ptr.append(len(self.wires))
        return len(self.ptr) - 2

    def coefficients(self) -> U64Array:
        """(n_terms, 8): each coefficient in Montgomery form, then in standard form."""
        out = np.zeros((len(self.coefs), 8), dtype=np.uint64)
        if self.coefs:
            out[:, :4] = ints_to_limbs([c * _MONT % R for c in self.coefs]).reshape(-1, 4)
            out[:, 4:] = ints_to_limbs(self.coefs).reshape(-1, 4)
        return out


@dataclass(frozen=True)
class WitnessProgram:
    """The arrays of one circuit's witness program (see the module docstring)."""

    circuit: CompiledCircuit
    op: np.ndarray
    param: np.ndarray
    offsets: U64Array
    in_ptr: np.ndarray
    out_ptr: np.ndarray
    out_wire: np.ndarray
    row_a: np.ndarray
    row_b: np.ndarray
    row_c: np.ndarray
    checked: np.ndarray
    lc_ptr: np.ndarray
    term_wire: np.ndarray
    term_coef: U64Array

    @classmethod
    def of(cls, circuit: CompiledCircuit) -> WitnessProgram:
        """The program of `circuit` (built once, then cached on it)."""
        cached = getattr(circuit, "_program", None)
        if cached is None:
            cached = _build(circuit)
            circuit._program = cached  # type: ignore[attr-defined]
        return cached  # type: ignore[no-any-return]

    def solve(self, assignment: Mapping[str, int | Sequence[int]], *, check: bool = True) -> U64Array:
        """Every wire from the inputs, as (n_wires, 4) standard-form limbs: the values of
        `CompiledCircuit.solve`, with its errors (AssignmentError for bad inputs,
        UnsatisfiedConstraintError naming the first violated constraint)."""
        from ._nb_witness import first_unsatisfied, run_program

        cs = self.circuit.cs
        values = np.zeros((cs.n_wires, 4), dtype=np.uint64)
        wires, inputs = assignment_values(self.circuit, assignment)
        values[0, 0] = 1
        if wires:
            values[np.asarray(wires, dtype=np.int64)] = ints_to_limbs(inputs).reshape(-1, 4)
        run_program(
            values, self.op, self.param, self.offsets, self.in_ptr, self.lc_ptr, self.term_wire, self.term_coef,
            self.out_ptr, self.out_wire,
        )  # fmt: skip
        if check:
            j = first_unsatisfied(
                values, self.row_a, self.row_b, self.row_c, self.lc_ptr, self.term_wire, self.term_coef
            )
            if j >= 0:
                a, b, c = (self._row_value(int(rows[j]), values) for rows in (self.row_a, self.row_b, self.row_c))
                index = int(self.checked[j])
                raise UnsatisfiedConstraintError(cs.constraints[index].name, index, a, b, c)
        return values

    def _row_value(self, lc: int, values: U64Array) -> int:
        """Row `lc` of the CSR at `values`, as an int (for error messages)."""
        lo, hi = int(self.lc_ptr[lc]), int(self.lc_ptr[lc + 1])
        coefs = limbs_to_ints(np.ascontiguousarray(self.term_coef[lo:hi, 4:]))
        wires = limbs_to_ints(values[self.term_wire[lo:hi]])
        return sum(k * w for k, w in zip(coefs, wires, strict=True)) % R


def _build(circuit: CompiledCircuit) -> WitnessProgram:
    rows = _Rows()
    op: list[int] = []
    param: list[int] = []
    offsets: list[int] = []
    in_ptr, out_ptr = [0], [0]
    out_wire: list[int] = []
    for step in circuit._steps:
        inputs: tuple[LinearCombination, ...]
        outs: tuple[int, ...]
        if isinstance(step, _MulStep):
            code, p, offset, inputs, outs = 0, 0, 0, (step.a, step.b), (step.out,)
        else:
            code, p, offset = _hint_code(step)
            inputs, outs = step.inputs, step.outs
        for lc in inputs:
            rows.add(lc)
        op.append(code)
        param.append(p)
        offsets.append(offset)
        in_ptr.append(len(rows.ptr) - 1)
        out_wire.extend(outs)
        out_ptr.append(len(out_wire))
    row_a, row_b, row_c, checked = [], [], [], []
    products = {s.out: s for s in circuit._steps if isinstance(s, _MulStep)}
    for j, c in enumerate(circuit.cs.constraints):
        if _defines_product(c, products):
            continue  # the step computed out = a * b: it holds by construction
        checked.append(j)
        row_a.append(rows.add(LinearCombination(c.a)))
        row_b.append(rows.add(LinearCombination(c.b)))
        row_c.append(rows.add(LinearCombination(c.c)))
    i64 = np.int64
    return WitnessProgram(
        circuit=circuit,
        op=np.asarray(op, dtype=np.int8),
        param=np.asarray(param, dtype=i64),
        offsets=ints_to_limbs(offsets).reshape(-1, 4) if offsets else np.zeros((0, 4), np.uint64),
        in_ptr=np.asarray(in_ptr, dtype=i64),
        out_ptr=np.asarray(out_ptr, dtype=i64),
        out_wire=np.asarray(out_wire, dtype=i64),
        row_a=np.asarray(row_a, dtype=i64),
        row_b=np.asarray(row_b, dtype=i64),
        row_c=np.asarray(row_c, dtype=i64),
        checked=np.asarray(checked, dtype=i64),
        lc_ptr=np.asarray(rows.ptr, dtype=i64),
        term_wire=np.asarray(rows.wires, dtype=i64),
        term_coef=rows.coefficients(),
    )


def _defines_product(c: Constraint, products: Mapping[int, _MulStep]) -> bool:
    """The constraint is a product step's own `a * b = out` row."""
    if len(c.c) != 1:
        return False
    ((w, k),) = c.c.items()
    step = products.get(w)
    return k == 1 and step is not None and c.a == step.a.terms and c.b == step.b.terms


def _hint_code(step: _HintStep) -> tuple[int, int, int]:
    """(opcode, integer parameter, offset constant) of a hint; NotCompilableError without an op."""
    if step.op is None or step.op.kind not in _OPCODES:
        raise NotCompilableError(f"hint {step.name!r} has no compilable HintOp")
    kind, p = step.op.kind, step.op.param
    if kind == "sign_magnitude":
        return _OPCODES[kind], 0, p % R
    return _OPCODES[kind], p, 0


def solve_limbs(circuit: CompiledCircuit, assignment: Mapping[str, Any], *, check: bool = True) -> U64Array:
    """`WitnessProgram.of(circuit).solve(...)`."""
    return WitnessProgram.of(circuit).solve(assignment, check=check)


def determined_wires(program: WitnessProgram, inputs: Sequence[int]) -> np.ndarray:
    """Sorted wires whose values follow from the wire 0 constant and the given input wires
    alone: a step's outputs are determined when every wire its input rows read is. Wires
    that many witnesses share (an epoch's snapshot part) are found this way."""
    known = np.zeros(program.circuit.cs.n_wires, dtype=bool)
    known[0] = True
    known[np.asarray(inputs, dtype=np.int64)] = True
    in_ptr, lc_ptr, out_ptr = program.in_ptr.tolist(), program.lc_ptr.tolist(), program.out_ptr.tolist()
    term_wire, out_wire = program.term_wire, program.out_wire
    for k in range(len(in_ptr) - 1):
        lo, hi = lc_ptr[in_ptr[k]], lc_ptr[in_ptr[k + 1]]
        if known[term_wire[lo:hi]].all():
            known[out_wire[out_ptr[k] : out_ptr[k + 1]]] = True
    return np.flatnonzero(known)
