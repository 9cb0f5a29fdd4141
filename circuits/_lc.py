"""Linear combinations of wires: the values a circuit manipulates.

A `LinearCombination` is sum_i coeff_i * wire_i over Fr, with wire 0 the constant one.
Adding, subtracting and scaling them is free (no constraint); only the builder creates
constraints (multiplications, assertions). Python operators are supported for the free
operations: `a + b`, `a - 3`, `2 * a`, `-a`.
"""

from __future__ import annotations

from collections.abc import Mapping

from algebra import R

ONE_WIRE = 0


class LinearCombination:
    """sum of coeff * wire over Fr; immutable by convention."""

    __slots__ = ("_boolean", "terms")

    def __init__(self, terms: Mapping[int, int] | None = None, *, boolean: bool = False) -> None:
        self.terms: dict[int, int] = {w: c % R for w, c in (terms or {}).items() if c % R}
        # True when the builder knows the value is 0 or 1 (so gadgets can skip a check).
        self._boolean = boolean

    @classmethod
    def constant(cls, value: int) -> LinearCombination:
        return cls({ONE_WIRE: value}, boolean=value % R in (0, 1))

    @classmethod
    def wire(cls, index: int, *, boolean: bool = False) -> LinearCombination:
        return cls({index: 1}, boolean=boolean)

    @property
    def is_boolean(self) -> bool:
        return self._boolean

    def is_constant(self) -> bool:
        return all(w == ONE_WIRE for w in self.terms)

    def constant_value(self) -> int:
        """The value of a constant combination (call is_constant first)."""
        return self.terms.get(ONE_WIRE, 0)

    def evaluate(self, witness: list[int]) -> int:
        return sum(c * witness[w] for w, c in self.terms.items()) % R

    # ---- free operations -----------------------------------------------------
    def __add__(self, other: LinearCombination | int) -> LinearCombination:
        o = as_lc(other)
        terms = dict(self.terms)
        for w, c in o.terms.items():
            terms[w] = terms.get(w, 0) + c
        return LinearCombination(terms)

    __radd__ = __add__

    def __neg__(self) -> LinearCombination:
        return LinearCombination({w: -c for w, c in self.terms.items()})

    def __sub__(self, other: LinearCombination | int) -> LinearCombination:
        return self + (-as_lc(other))

    def __rsub__(self, other: LinearCombination | int) -> LinearCombination:
        return as_lc(other) + (-self)

    def __mul__(self, k: int) -> LinearCombination:
        if not isinstance(k, int):
            raise TypeError("a LinearCombination can only be scaled by an int; use api.mul for products")
        return LinearCombination({w: c * k for w, c in self.terms.items()}, boolean=self._boolean and k % R == 1)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        parts = [f"{c}*w{w}" if w else str(c) for w, c in sorted(self.terms.items())]
        return "LC(" + (" + ".join(parts) or "0") + ")"


Variable = LinearCombination


def as_lc(v: LinearCombination | int) -> LinearCombination:
    """Coerce an int constant to a LinearCombination."""
    if isinstance(v, LinearCombination):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return LinearCombination.constant(v)
    raise TypeError(f"expected a LinearCombination or int, got {type(v).__name__}")
