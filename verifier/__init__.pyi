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
from ._write import proof_document, public_document, save_proof, save_public

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
    "proof_document",
    "public_document",
    "save_proof",
    "save_public",
]
