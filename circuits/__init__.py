"""Circuits: an R1CS builder in the gnark style, gadgets, and the Poseidon hash.

Gadgets: bits and range checks, comparisons and selection, integer arithmetic on
bounded values (exact division, offset-encoded signed values, powers of ten, min and
max), Poseidon and Merkle paths.

A circuit is a `Circuit` subclass declaring `Public()` and `Secret()` inputs and
implementing `define(api)`; `compile_circuit` turns it into a `CompiledCircuit` whose
`solve` computes and checks a witness, naming the first unsatisfied constraint.
`MarginHealth(shape)` is the margin circuit (an account's health from its commitment).
"""

from ._builder import API, Circuit, CompiledCircuit, InputSpec, Public, Secret, Witness, compile_circuit
from ._errors import (
    AssignmentError,
    CircuitDefinitionError,
    CircuitError,
    HintError,
    UnsatisfiedConstraintError,
)
from ._gadgets_arith import as_signed, div, div_mod, maximum, minimum, offset_signed, pow10, sign_magnitude
from ._gadgets_bits import MAX_BITS, from_bits, range_check, to_bits
from ._gadgets_compare import assert_greater_or_equal, greater_or_equal, is_equal, is_zero, less_than, select
from ._gadgets_merkle import assert_merkle_path, merkle_root, merkle_root_native
from ._gadgets_poseidon import poseidon_hash, poseidon_sponge
from ._lc import LinearCombination, Variable
from ._margin_circuit import MarginHealth, MarginShape, MarketShape
from ._opening import CommitmentOpening
from ._poseidon_native import poseidon
from ._r1cs import Constraint, ConstraintSystem
from ._r1cs_file import R1csFile, R1csMatrix, read_r1cs, write_r1cs
from ._wtns_file import check_witness_matches, read_wtns, read_wtns_limbs, write_wtns

__all__ = [
    "as_signed",
    "div",
    "div_mod",
    "maximum",
    "minimum",
    "offset_signed",
    "pow10",
    "sign_magnitude",
    "API",
    "Circuit",
    "CompiledCircuit",
    "InputSpec",
    "Public",
    "Secret",
    "Witness",
    "compile_circuit",
    "AssignmentError",
    "CircuitDefinitionError",
    "CircuitError",
    "HintError",
    "UnsatisfiedConstraintError",
    "MAX_BITS",
    "from_bits",
    "range_check",
    "to_bits",
    "assert_greater_or_equal",
    "greater_or_equal",
    "is_equal",
    "is_zero",
    "less_than",
    "select",
    "assert_merkle_path",
    "merkle_root",
    "merkle_root_native",
    "poseidon_hash",
    "poseidon_sponge",
    "MarginHealth",
    "MarginShape",
    "MarketShape",
    "LinearCombination",
    "Variable",
    "poseidon",
    "CommitmentOpening",
    "Constraint",
    "ConstraintSystem",
    "R1csFile",
    "R1csMatrix",
    "read_r1cs",
    "write_r1cs",
    "check_witness_matches",
    "read_wtns",
    "read_wtns_limbs",
    "write_wtns",
]
