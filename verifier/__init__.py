"""Groth16 verifier over BN254, compatible with snarkjs.

Models of snarkjs's JSON files (verification_key.json, proof.json, public.json) that
validate every point when parsed and write the files back byte for byte, and `verify`,
the Groth16 pairing check on a key prepared once (`prepare`, cached). Malformed input
raises a named VerificationInputError; a well-formed proof that does not verify makes
`verify` return False. `batch_verify` checks many proofs of one key with one random
linear combination and returns one `Verdict` per proof, equal to `check` of each.

This package imports only algebra, so a ledger node can audit proofs with it alone; the
numba kernels load on the first verification.
"""

from ._batch import RANDOMIZER_BITS, Verdict, batch_verify, check
from ._errors import (
    MalformedProofError,
    MalformedPublicSignalsError,
    MalformedVerifyingKeyError,
    VerificationInputError,
)
from ._gt import Fq12, fq12_to_snarkjs, snarkjs_pairing
from ._models import MAX_KEY_BYTES, MAX_PROOF_BYTES, MAX_PUBLIC_BYTES, Proof, PublicSignals, VerifyingKey
from ._verify import PreparedVerifyingKey, prepare, public_input_term, verify

__all__ = [
    "MalformedProofError",
    "MalformedPublicSignalsError",
    "MalformedVerifyingKeyError",
    "VerificationInputError",
    "Fq12",
    "fq12_to_snarkjs",
    "snarkjs_pairing",
    "MAX_KEY_BYTES",
    "MAX_PROOF_BYTES",
    "MAX_PUBLIC_BYTES",
    "Proof",
    "PublicSignals",
    "VerifyingKey",
    "public_input_term",
    "PreparedVerifyingKey",
    "prepare",
    "RANDOMIZER_BITS",
    "Verdict",
    "batch_verify",
    "check",
    "verify",
]
