"""A Poseidon commitment opening with a range check: the demo circuit.

Public: `commitment` = Poseidon(value, salt) and a `minimum`. Secret: `value`, `salt`.
The proof says "the committed value is a `bits`-bit integer of at least `minimum`"
without revealing it: a one-account solvency statement in miniature.
"""

from __future__ import annotations

from ._builder import API, Circuit, Public, Secret
from ._errors import CircuitDefinitionError
from ._gadgets_bits import range_check
from ._gadgets_compare import assert_greater_or_equal
from ._gadgets_poseidon import poseidon_hash


class CommitmentOpening(Circuit):
    """Knowledge of (value, salt) with Poseidon(value, salt) = commitment and
    minimum <= value < 2^bits."""

    commitment = Public(doc="Poseidon(value, salt)")
    minimum = Public(doc="the least value the prover claims to hold")
    value = Secret(doc="the committed amount, an integer in [0, 2^bits)")
    salt = Secret(doc="random blinding so the commitment hides the value")

    def __init__(self, bits: int = 64) -> None:
        if not 1 <= bits <= 252:
            raise CircuitDefinitionError(f"bits must be in 1..252, got {bits}")
        self.bits = bits

    def define(self, api: API) -> None:
        range_check(api, self.value, self.bits, name="value_range")
        range_check(api, self.minimum, self.bits, name="minimum_range")
        assert_greater_or_equal(api, self.value, self.minimum, self.bits, name="value>=minimum")
        digest = poseidon_hash(api, [self.value, self.salt], name="poseidon")
        api.assert_equal(digest, self.commitment, name="commitment")
