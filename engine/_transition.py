"""Transition proofs: an account's commitment after this epoch's funding and expiry
opens to its previous commitment's account settled at the snapshot's published funding
indices and settlement prices (`circuits.SettlementTransition`; the engine's twin is
`settle_transition`).

    job = transition_job(old_account, old_salt, snapshot, new_salt)
    proof, public = TransitionContext.build(snapshot, prover).prove(job)

The circuit has the margin circuit's shape (one per snapshot shape) and its key is made
like the others (`zkmargin settlement setup`). The old and the new account are encoded
over the same universe: the epoch's snapshot's (a transition across a change of listed
markets or assets is not proven; the ledger says why).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from algebra import FileFormatError, MismatchedFilesError
from circuits import (
    CompiledCircuit,
    SettlementTransition,
    compile_circuit,
    file_checksum,
    load_compiled,
    save_compiled,
    transition_public,
)
from prover import Prover
from verifier import Proof, PublicSignals

from ._commitment import commit_encoding, encode_account
from ._errors import MalformedInputError
from ._models import Account, MarketSnapshot
from ._prove_account import circuit_path, margin_shape
from ._proving import prove_assignment, set_threads
from ._settlement import settle_expiry, settle_funding


def settle_transition(account: Account, snapshot: MarketSnapshot) -> Account:
    """The account after the snapshot's funding and expiry (`settle_funding`, then
    `settle_expiry`): what a transition proof says the new commitment holds."""
    funded = settle_funding([account], snapshot).accounts
    return settle_expiry(funded, snapshot).accounts[0]


@cache
def _compiled(shape: object) -> CompiledCircuit:
    return compile_circuit(SettlementTransition(shape))  # type: ignore[arg-type]


def transition_circuit_for(snapshot: MarketSnapshot) -> CompiledCircuit:
    """The compiled transition circuit of the snapshot's shape (cached per shape)."""
    return _compiled(margin_shape(snapshot))


def _saved_shape(snapshot: MarketSnapshot) -> str:
    return f"transition {margin_shape(snapshot)!r}"


def save_transition_circuit(snapshot: MarketSnapshot, zkey: str | Path) -> Path:
    """Save the compiled transition circuit beside its (written) key."""
    path = circuit_path(zkey)
    save_compiled(
        transition_circuit_for(snapshot), path, key_checksum=file_checksum(zkey), shape=_saved_shape(snapshot)
    )
    return path


def transition_circuit_with_key(snapshot: MarketSnapshot, zkey: str | Path) -> CompiledCircuit:
    """The transition circuit saved beside `zkey` when it is this key's and shape's, else compiled."""
    path = circuit_path(zkey)
    if path.exists():
        with contextlib.suppress(FileFormatError, MismatchedFilesError):
            return load_compiled(path, key_checksum=file_checksum(zkey), shape=_saved_shape(snapshot))
    return transition_circuit_for(snapshot)


@dataclass(frozen=True)
class TransitionJob:
    """One account's transition (picklable): both openings and both commitments."""

    account: str
    old_salt: int
    old_encoding: tuple[int, ...]
    old_commitment: int
    new_salt: int
    new_encoding: tuple[int, ...]
    new_commitment: int

    def assignment(self, snapshot_hash: int, snapshot_encoding: Sequence[int]) -> dict[str, int | list[int]]:
        """The transition circuit's inputs by name."""
        return {
            "old_commitment": self.old_commitment,
            "new_commitment": self.new_commitment,
            "snapshot_hash": snapshot_hash,
            "old_salt": self.old_salt,
            "new_salt": self.new_salt,
            "old": list(self.old_encoding),
            "new": list(self.new_encoding),
            "snapshot": list(snapshot_encoding),
        }

    def public(self, snapshot_hash: int) -> list[int]:
        return transition_public(self.old_commitment, self.new_commitment, snapshot_hash)


def transition_job(
    old: Account, old_salt: int, snapshot: MarketSnapshot, new_salt: int, new: Account | None = None
) -> TransitionJob:
    """The job proving `old` (committed under `old_salt`) becomes its settled self under
    `new_salt`. `new`, when given, must be exactly that settled account (MalformedInputError
    otherwise: the transition of anything else is not this circuit's to prove)."""
    settled = settle_transition(old, snapshot)
    if new is not None and new != settled:
        raise MalformedInputError(f"{old.id}: the new account is not the old one after funding and expiry")
    old_encoding = tuple(encode_account(old, snapshot))
    new_encoding = tuple(encode_account(settled, snapshot))
    return TransitionJob(
        old.id,
        old_salt,
        old_encoding,
        commit_encoding(old_encoding, old_salt),
        new_salt,
        new_encoding,
        commit_encoding(new_encoding, new_salt),
    )


#: The inputs every transition proof of an epoch shares.
_EPOCH_INPUTS = ("snapshot_hash", "snapshot")


@dataclass(frozen=True)
class TransitionContext:
    """What every transition proof of an epoch shares: the snapshot, the circuit, the prover."""

    snapshot_hash: int
    snapshot_encoding: tuple[int, ...]
    circuit: CompiledCircuit
    prover: Prover

    @classmethod
    def build(
        cls, snapshot: MarketSnapshot, prover: Prover, circuit: CompiledCircuit | None = None
    ) -> TransitionContext:
        circuit = circuit or transition_circuit_for(snapshot)
        if prover.n_vars == circuit.cs.n_wires:  # the snapshot's hash (most of the circuit): MSM terms once
            prover.share_wires(circuit.wires_determined_by(_EPOCH_INPUTS))
        return cls(snapshot.snapshot_hash(), tuple(snapshot.field_encoding()), circuit, prover)

    def prove(self, job: TransitionJob, timings: dict[str, float] | None = None) -> tuple[Proof, PublicSignals]:
        """The job's proof (`timings` accumulates "witness" and the prover's stages)."""
        assignment = job.assignment(self.snapshot_hash, self.snapshot_encoding)
        return prove_assignment(self.circuit, self.prover, assignment, timings)


@dataclass(frozen=True)
class TransitionRecipe:
    """An epoch's transition proofs' `Recipe` (`engine._proving`)."""

    snapshot_json: str

    def context(self, zkey: str, threads: int) -> TransitionContext:
        set_threads(threads)
        snapshot = MarketSnapshot.model_validate_json(self.snapshot_json)
        return TransitionContext.build(snapshot, Prover.from_zkey(zkey), transition_circuit_with_key(snapshot, zkey))
