"""Named errors of circuit building and witness solving."""

from __future__ import annotations


class CircuitError(Exception):
    """Base of all circuit errors."""


class CircuitDefinitionError(CircuitError, ValueError):
    """The circuit itself is ill-formed (bad declaration, gadget misuse at build time)."""


class AssignmentError(CircuitError, ValueError):
    """The input assignment does not match the circuit's declared inputs."""


class UnsatisfiedConstraintError(CircuitError):
    """A constraint does not hold for the solved witness.

    Attributes: `name` (the constraint's full name), `index` (its row in the R1CS).
    """

    def __init__(self, name: str, index: int, a: int, b: int, c: int) -> None:
        super().__init__(f"constraint {name!r} (#{index}) is not satisfied: A*B = {a} * {b} != C = {c}")
        self.name = name
        self.index = index


class HintError(CircuitError):
    """A hint function failed or returned the wrong number of values."""
