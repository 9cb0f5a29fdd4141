"""File-level operations behind the CLI: prove from .zkey + .wtns, export the verifying key."""

from __future__ import annotations

import os
from collections.abc import Callable

from circuits import check_witness_matches, read_wtns_limbs
from verifier import Proof, PublicSignals, VerifyingKey

from ._prover import Prover
from ._zkey_file import ZkeyFile, read_zkey


def export_verification_key(zkey: ZkeyFile) -> VerifyingKey:
    """The verifying key of a .zkey (`snarkjs zkey export verificationkey`)."""
    return VerifyingKey.from_points(zkey.alpha1, zkey.beta2, zkey.gamma2, zkey.delta2, zkey.ic)


def prove_files(
    zkey_path: str | os.PathLike[str],
    wtns_path: str | os.PathLike[str],
    *,
    on_stage: Callable[[str], None] | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[Proof, PublicSignals]:
    """`snarkjs groth16 prove`: a proof and its public signals from a .zkey and a .wtns.

    Raises the file readers' named errors, and MismatchedFilesError when the witness
    length is not the key's number of wires. Stage times go into `timings` if given.
    """
    zkey = read_zkey(zkey_path, copy_on_write=True)
    witness = read_wtns_limbs(wtns_path)
    check_witness_matches(zkey.n_vars, witness, "zkey")
    prover = Prover(zkey)
    result = prover.prove(witness, on_stage=on_stage)
    if timings is not None:
        timings.update(prover.last_timings)
    return result
