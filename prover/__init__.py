"""Groth16 prover over BN254: dev setup, witness map (snarkjs's odd-coset H), proving."""

from ._errors import ProverError, SetupError, WitnessError
from ._keys import MatrixEntry, ProvingKey
from ._prove import RawProof, check_witness, prove, prove_raw, verifying_key
from ._qap import h_scalars, matrix_times_witness
from ._setup import INSECURE_NOTICE, InsecureSetupWarning, constraint_matrices, dev_setup, domain_size_for

__all__ = [
    "ProverError",
    "SetupError",
    "WitnessError",
    "MatrixEntry",
    "ProvingKey",
    "RawProof",
    "check_witness",
    "prove",
    "prove_raw",
    "verifying_key",
    "h_scalars",
    "matrix_times_witness",
    "INSECURE_NOTICE",
    "InsecureSetupWarning",
    "constraint_matrices",
    "dev_setup",
    "domain_size_for",
]
