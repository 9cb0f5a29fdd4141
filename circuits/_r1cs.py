"""The rank-1 constraint system: rows A_k . w * B_k . w = C_k . w over Fr.

Wire layout (the circom/snarkjs convention): wire 0 is the constant one, wires
1..n_public are the public inputs in declaration order, then the secret inputs, then
internal wires. Every constraint carries a name, so a failure says which one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from algebra import R

from ._errors import UnsatisfiedConstraintError


def _dot(row: dict[int, int], witness: Sequence[int]) -> int:
    return sum(c * witness[w] for w, c in row.items()) % R


@dataclass(frozen=True)
class Constraint:
    """One row A . w * B . w = C . w; rows are sparse {wire: coefficient} maps."""

    a: dict[int, int]
    b: dict[int, int]
    c: dict[int, int]
    name: str

    def evaluate(self, witness: Sequence[int]) -> tuple[int, int, int]:
        return _dot(self.a, witness), _dot(self.b, witness), _dot(self.c, witness)


@dataclass
class ConstraintSystem:
    """An R1CS with named constraints and named wires."""

    n_public: int
    wire_names: list[str] = field(default_factory=lambda: ["one"])
    constraints: list[Constraint] = field(default_factory=list)

    @property
    def n_wires(self) -> int:
        return len(self.wire_names)

    @property
    def n_constraints(self) -> int:
        return len(self.constraints)

    def first_unsatisfied(self, witness: Sequence[int]) -> int | None:
        """Index of the first constraint the witness violates, or None."""
        for k, con in enumerate(self.constraints):
            a, b, c = con.evaluate(witness)
            if a * b % R != c:
                return k
        return None

    def check(self, witness: Sequence[int]) -> None:
        """Raise UnsatisfiedConstraintError naming the first violated constraint."""
        if len(witness) != self.n_wires:
            raise ValueError(f"witness has {len(witness)} values, circuit expects {self.n_wires}")
        k = self.first_unsatisfied(witness)
        if k is not None:
            con = self.constraints[k]
            a, b, c = con.evaluate(witness)
            raise UnsatisfiedConstraintError(con.name, k, a, b, c)

    def is_satisfied(self, witness: Sequence[int]) -> bool:
        return len(witness) == self.n_wires and self.first_unsatisfied(witness) is None
