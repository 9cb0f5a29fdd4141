"""Groth16 prover over BN254: dev setup, witness map (snarkjs's odd-coset H), proving."""

from ._contribute import contribute
from ._errors import ProverError, SetupError, WitnessError
from ._files import export_verification_key, prove_files
from ._keys import MatrixEntry, ProvingKey
from ._mpc import (
    BEACON,
    CONTRIBUTION,
    Contribution,
    MalformedMpcParamsError,
    MpcError,
    MpcParams,
    contribution_hash,
    hash_pub_key,
    make_beacon_contribution,
    make_contribution,
    parse_mpc_params,
    pub_key_bytes,
    same_ratio,
    serialize_mpc_params,
    transcript_hash,
    verify_contributions,
)
from ._mpc_hash import (
    cs_hash,
    g1_points_to_uncompressed,
    g1_to_uncompressed,
    g2_points_to_uncompressed,
    g2_to_uncompressed,
    h_hash_count,
    tau_g1_rows_needed,
)
from ._mpc_rng import ChaCha, fr_from_rng, g1_from_rng, g2_from_rng, hash_to_g2, random_rng, rng_from_beacon
from ._phase2 import new_zkey
from ._prove import RawProof, check_witness, prove_raw_reference, verifying_key
from ._prover import STAGES, Prover, prove, prove_raw
from ._ptau_file import PtauFile, PtauNotPreparedError, PtauTooSmallError, read_ptau
from ._qap import h_scalars, matrix_times_witness
from ._setup import INSECURE_NOTICE, InsecureSetupWarning, constraint_matrices, dev_setup, domain_size_for
from ._zkey_file import UnsupportedProtocolError, ZkeyContribution, ZkeyFile, read_zkey, write_zkey
from ._zkey_verify import verify_zkey

__all__ = [
    "contribute",
    "export_verification_key",
    "new_zkey",
    "prove_files",
    "verify_zkey",
    "ProverError",
    "SetupError",
    "WitnessError",
    "MatrixEntry",
    "ProvingKey",
    "RawProof",
    "check_witness",
    "prove",
    "prove_raw",
    "prove_raw_reference",
    "Prover",
    "STAGES",
    "verifying_key",
    "h_scalars",
    "matrix_times_witness",
    "INSECURE_NOTICE",
    "InsecureSetupWarning",
    "constraint_matrices",
    "dev_setup",
    "domain_size_for",
    "UnsupportedProtocolError",
    "ZkeyContribution",
    "ZkeyFile",
    "read_zkey",
    "write_zkey",
    "PtauFile",
    "PtauNotPreparedError",
    "PtauTooSmallError",
    "read_ptau",
    "BEACON",
    "CONTRIBUTION",
    "Contribution",
    "MalformedMpcParamsError",
    "MpcError",
    "MpcParams",
    "contribution_hash",
    "hash_pub_key",
    "make_beacon_contribution",
    "make_contribution",
    "parse_mpc_params",
    "pub_key_bytes",
    "same_ratio",
    "serialize_mpc_params",
    "transcript_hash",
    "verify_contributions",
    "cs_hash",
    "g1_points_to_uncompressed",
    "g1_to_uncompressed",
    "g2_points_to_uncompressed",
    "g2_to_uncompressed",
    "h_hash_count",
    "tau_g1_rows_needed",
    "ChaCha",
    "fr_from_rng",
    "g1_from_rng",
    "g2_from_rng",
    "hash_to_g2",
    "random_rng",
    "rng_from_beacon",
]
