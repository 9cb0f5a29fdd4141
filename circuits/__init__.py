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

The public names are declared once, in `__init__.pyi` (what type checkers read); this
file attaches them from that stub lazily (lazy_loader), so importing one submodule
loads only what that submodule needs.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
