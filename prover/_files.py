"""File-level operations behind the CLI: prove from .zkey + .wtns, export the verifying key."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import verifier
from circuits import check_witness_matches, read_wtns_limbs

from ._prove import RawProof
from ._prover import Prover
from ._zkey_file import ZkeyFile, read_zkey

if TYPE_CHECKING:  # the models load with the first proof or key made (pydantic)
    from verifier import Proof, PublicSignals, VerifyingKey


def export_verification_key(zkey: ZkeyFile) -> VerifyingKey:
    """The verifying key of a .zkey (`snarkjs zkey export verificationkey`)."""
    return verifier.VerifyingKey.from_points(zkey.alpha1, zkey.beta2, zkey.gamma2, zkey.delta2, zkey.ic)


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
    raw = _prove_raw_files(zkey_path, wtns_path, on_stage, timings)
    return verifier.Proof.from_points(raw.a, raw.b, raw.c), verifier.PublicSignals.from_values(raw.public_signals)


def prove_to_files(
    zkey_path: str | os.PathLike[str],
    wtns_path: str | os.PathLike[str],
    proof_path: str | os.PathLike[str],
    public_path: str | os.PathLike[str],
    *,
    on_stage: Callable[[str], None] | None = None,
    timings: dict[str, float] | None = None,
) -> RawProof:
    """`prove_files`, writing proof.json and public.json as snarkjs does (points and
    signals checked as the models check them, no model built: a one-off proof never
    loads pydantic). Returns the proof's points and signals."""
    raw = _prove_raw_files(zkey_path, wtns_path, on_stage, timings)
    verifier.save_proof(proof_path, raw.a, raw.b, raw.c)
    verifier.save_public(public_path, raw.public_signals)
    return raw


def _prove_raw_files(
    zkey_path: str | os.PathLike[str],
    wtns_path: str | os.PathLike[str],
    on_stage: Callable[[str], None] | None,
    timings: dict[str, float] | None,
) -> RawProof:
    zkey = read_zkey(zkey_path, copy_on_write=True)
    witness = read_wtns_limbs(wtns_path)
    check_witness_matches(zkey.n_vars, witness, "zkey")
    prover = Prover(zkey)
    raw = prover.prove_raw(witness, on_stage=on_stage)
    if timings is not None:
        timings.update(prover.last_timings)
    return raw
