"""One epoch's shared work, done once, and each account's claim, computed once.

    ctx = EpochContext.build(snapshot, prover, requirement="maintenance")
    claim = ctx.claim(account, salt)          # commitment and margin report, once
    if claim.healthy:
        proof, public = ctx.prove(claim)      # witness from the claim, proof

`EpochContext` holds what every account of an epoch shares: the snapshot, its hash and
field encoding (each a Poseidon or encoding pass over the whole snapshot), the compiled
margin circuit, the prover and the public statement (requirement, ratio bound). A
`Claim` holds one account's salt, encoding, commitment and margin report, which the
verdict, the witness and the ledger append all read. Every proving path (`run_epoch`
in this process or on workers, `prove_account`, the CLI's prove-account and the demo)
goes through `EpochContext.prove`.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits import EPOCH_INPUTS, CompiledCircuit
from ledger import Requirement, check_ratio_bound, margin_signals, requirement_code
from prover import Prover, ProvingKey
from verifier import Proof, PublicSignals

from ._commitment import commit_encoding, encode_account
from ._errors import UnhealthyAccountError
from ._margin import compute_margin
from ._models import Account, MarginReport, MarketSnapshot
from ._prove_account import check_supported, margin_assignment, margin_circuit_for, meets, unhealthy_reason
from ._proving import prove_assignment


@dataclass(frozen=True)
class Claim:
    """One account's part of an epoch: its salt, encoding, commitment, margin report and
    the engine's verdict on the epoch's statement."""

    account: Account
    salt: int
    encoding: tuple[int, ...]
    commitment: int
    report: MarginReport
    healthy: bool


@dataclass(frozen=True)
class EpochContext:
    """What every account of an epoch shares (module doc). Build with `build`."""

    snapshot: MarketSnapshot
    snapshot_hash: int
    snapshot_encoding: tuple[int, ...]
    circuit: CompiledCircuit
    prover: Prover | None  # None: a parent whose proofs are made on workers
    requirement: Requirement
    max_margin_ratio_ppm: int

    def __post_init__(self) -> None:
        # Every witness of the epoch has the same snapshot part: its MSM terms are made
        # once. (A key of another circuit shares nothing; its first proof names the misfit.)
        if self.prover is not None and self.prover.n_vars == self.circuit.cs.n_wires:
            self.prover.share_wires(self.circuit.wires_determined_by(EPOCH_INPUTS))

    @classmethod
    def build(
        cls,
        snapshot: MarketSnapshot,
        proving_key: Prover | ProvingKey | None,
        *,
        requirement: Requirement = "maintenance",
        max_margin_ratio_ppm: int = 0,
        circuit: CompiledCircuit | None = None,
    ) -> EpochContext:
        """The context of `snapshot`: its circuit as given (e.g. `margin_circuit_with_key`)
        or compiled (cached per shape)."""
        requirement_code(requirement)  # a named error for an unknown requirement
        check_ratio_bound(max_margin_ratio_ppm)
        prover = proving_key if proving_key is None or isinstance(proving_key, Prover) else Prover(proving_key)
        return cls(
            snapshot,
            snapshot.snapshot_hash(),
            tuple(snapshot.field_encoding()),
            circuit or margin_circuit_for(snapshot),
            prover,
            requirement,
            max_margin_ratio_ppm,
        )

    def claim(self, account: Account, salt: int) -> Claim:
        """The account's claim; UnsupportedInCircuitError for what the circuit cannot prove."""
        check_supported(account, self.snapshot)
        encoding = tuple(encode_account(account, self.snapshot))
        report = compute_margin(account, self.snapshot)
        healthy = meets(report, self.requirement, self.max_margin_ratio_ppm)
        return Claim(account, salt, encoding, commit_encoding(encoding, salt), report, healthy)

    def public_signals(self, commitment: int) -> PublicSignals:
        """The public signals of a margin proof of `commitment` in this epoch."""
        return PublicSignals.from_values(
            margin_signals(commitment, self.snapshot_hash, self.requirement, self.max_margin_ratio_ppm)
        )

    def prove(self, claim: Claim, timings: dict[str, float] | None = None) -> tuple[Proof, PublicSignals]:
        """The claim's proof; UnhealthyAccountError (no proof) when the engine says the
        account does not meet the statement. `timings` accumulates seconds by stage
        ("witness", then the prover's stages)."""
        if not claim.healthy:
            reason = unhealthy_reason(claim.account.id, claim.report, self.requirement, self.max_margin_ratio_ppm)
            raise UnhealthyAccountError(reason)
        if self.prover is None:
            raise RuntimeError("this epoch context has no prover (its proofs are made on workers)")
        assignment = margin_assignment(
            claim.commitment,
            self.snapshot_hash,
            self.requirement,
            self.max_margin_ratio_ppm,
            claim.salt,
            claim.encoding,
            self.snapshot_encoding,
        )
        return prove_assignment(self.circuit, self.prover, assignment, timings)


def prove_account(
    account: Account,
    snapshot: MarketSnapshot,
    proving_key: ProvingKey | Prover,
    *,
    salt: int,
    requirement: Requirement = "maintenance",
    max_margin_ratio_ppm: int = 0,
) -> tuple[Proof, PublicSignals]:
    """A Groth16 proof that the committed account meets `requirement` under `snapshot`.

    Raises `UnsupportedInCircuitError` (see `check_supported`), `UnhealthyAccountError`
    when the engine says the account does not meet the requirement (no proof is made),
    and the engine's validation errors.
    """
    ctx = EpochContext.build(snapshot, proving_key, requirement=requirement, max_margin_ratio_ppm=max_margin_ratio_ppm)
    return ctx.prove(ctx.claim(account, salt))
