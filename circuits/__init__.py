"""Circuits: an R1CS builder in the gnark style, gadgets, the declared encodings and
the margin circuit.

Gadgets: bits and range checks, comparisons and selection, integer arithmetic on
bounded values (exact division, offset-encoded signed values, powers of ten, min and
max), Poseidon (in-circuit; the native hash is `algebra.poseidon`) and Merkle paths.

A circuit is a `Circuit` subclass declaring `Public()` and `Secret()` inputs (or sizing
them from its parameters in `input_declarations`) and implementing `define(api)`;
`compile_circuit` turns it into a `CompiledCircuit` whose `solve` computes and checks a
witness, naming the first unsatisfied constraint.

The snapshot and account encodings are declared once here (`_encoding`: `Field`,
`Record`, `Layout`, `snapshot_layout`, `account_layout` and the bounds' bit widths):
the engine's encoders write by that declaration and `MarginHealth(shape)`, the margin
circuit (an account's health from its commitment), reads every field by name through
it. circuits know no domain objects and import only algebra.
"""

from algebra import poseidon

from ._builder import API, Circuit, CompiledCircuit, HintOp, InputSpec, Public, Secret, Witness, compile_circuit
from ._encoding import (
    ACCOUNT_HEADER,
    ACCOUNT_RECORDS,
    AMOUNT_BITS,
    ASSET,
    BRACKET,
    CAP_BITS,
    CODE_BITS,
    COLLATERAL,
    COUNT_BITS,
    DECIMALS_BITS,
    EPOCH_BITS,
    FLAG_BITS,
    FUNDING_BITS,
    GRID,
    KIND_FUTURE,
    KIND_OPTION,
    KIND_PERPETUAL,
    LINEAR_RISK,
    MARKET,
    MAX_DECIMALS,
    MOVE,
    MOVE_BITS,
    MOVE_COUNT,
    MULTIPLIER_BITS,
    OPTION,
    OPTION_CALL,
    OPTION_PUT,
    PERPETUAL,
    POSITION,
    PPM,
    PPM_BITS,
    PRICE_BITS,
    QUOTE_BITS,
    SCENARIO,
    SIGNED_OFFSET,
    SIZE_BITS,
    SNAPSHOT_HEADER,
    SNAPSHOT_RECORDS,
    TEXT_BITS,
    TIME_BITS,
    VALUE_CHANGE_BITS,
    VOL_BITS,
    Field,
    Key,
    Layout,
    Record,
    View,
    account_layout,
    snapshot_layout,
)
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
from ._r1cs import Constraint, ConstraintSystem
from ._r1cs_file import R1csFile, R1csMatrix, read_r1cs, write_r1cs
from ._witness_program import NotCompilableError, WitnessProgram
from ._wtns_file import check_witness_matches, read_wtns, read_wtns_limbs, write_wtns

__all__ = [
    "NotCompilableError",
    "WitnessProgram",
    "HintOp",
    "ACCOUNT_HEADER",
    "ACCOUNT_RECORDS",
    "AMOUNT_BITS",
    "ASSET",
    "BRACKET",
    "CAP_BITS",
    "CODE_BITS",
    "COLLATERAL",
    "COUNT_BITS",
    "DECIMALS_BITS",
    "EPOCH_BITS",
    "FLAG_BITS",
    "FUNDING_BITS",
    "GRID",
    "KIND_FUTURE",
    "KIND_OPTION",
    "KIND_PERPETUAL",
    "LINEAR_RISK",
    "MARKET",
    "MAX_DECIMALS",
    "MOVE",
    "MOVE_BITS",
    "MOVE_COUNT",
    "MULTIPLIER_BITS",
    "OPTION",
    "OPTION_CALL",
    "OPTION_PUT",
    "PERPETUAL",
    "POSITION",
    "PPM",
    "PPM_BITS",
    "PRICE_BITS",
    "QUOTE_BITS",
    "SCENARIO",
    "SIGNED_OFFSET",
    "SIZE_BITS",
    "SNAPSHOT_HEADER",
    "SNAPSHOT_RECORDS",
    "TEXT_BITS",
    "TIME_BITS",
    "VALUE_CHANGE_BITS",
    "VOL_BITS",
    "Field",
    "Key",
    "Layout",
    "Record",
    "View",
    "account_layout",
    "snapshot_layout",
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
