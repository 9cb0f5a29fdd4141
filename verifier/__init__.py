"""Groth16 verifier over BN254, compatible with snarkjs.

Models of snarkjs's JSON files (verification_key.json, proof.json, public.json) that
validate every point when parsed and write the files back byte for byte, and `verify`,
the Groth16 pairing check on a key prepared once (`prepare`, cached). Malformed input
raises a named VerificationInputError; a well-formed proof that does not verify makes
`verify` return False. `batch_verify` checks many proofs of one key with one random
linear combination and returns one `Verdict` per proof, equal to `check` of each.

This package imports only algebra, so a ledger node can audit proofs with it alone; the
numba kernels load on the first verification.

The public names are declared once, in `__init__.pyi` (what type checkers read); this
file attaches them from that stub lazily (lazy_loader), so importing one submodule
loads only what that submodule needs.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
