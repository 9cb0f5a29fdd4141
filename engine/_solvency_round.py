"""A solvency round: every registered account of a closed epoch, in batches, proven and
recorded in the ledger (`ledger._solvency` checks it before it is written).

    summary = prove_solvency(ledger, epoch, accounts, "solvency.zkey", reserves, workers=2)

1. The epoch must be closed (its accounts are final). Its registered commitments, in
   registration order, are the leaves; each must be opened by an account file and the
   salt the epoch kept for it (`salt_path`), or the round is refused before any proof.
2. The batches are planned (`engine._solvency.plan_solvency`: K consecutive leaves each,
   totals chained from zero) and proven through the epoch's proving paths: in this
   process, on a local pool (`workers`), or on a Dask cluster (`dask`).
3. The round (root, batch proofs, final totals and blinding, reserves) is appended in
   one transaction after the ledger's own check (`SolvencyRefusedError` names the first
   violation, nothing written). A killed run writes nothing and reruns from the start;
   a rerun after the round is recorded returns it (with other reserves it is refused).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from circuits import DEFAULT_BATCH_SIZE, DEFAULT_DEPTH, CompiledCircuit
from ledger import (
    Ledger,
    Reserves,
    SolvencyBatchProof,
    SolvencyRefusedError,
    SolvencyRound,
    economics_problem,
)
from prover import Prover, read_zkey
from verifier import Proof, PublicSignals

from ._cluster import DaskCluster
from ._commitment import read_salt_file
from ._epoch import salt_path
from ._errors import MalformedInputError
from ._models import Account, MarketSnapshot, snapshot_encoding_problem
from ._prove_account import check_zkey_matches
from ._proving import Arrival, opened, prove_assignment, prove_where, set_threads
from ._solvency import (
    SolvencyBatchJob,
    SolvencyMember,
    SolvencyPlan,
    padding_encoding,
    plan_solvency,
    published_totals,
    solvency_circuit_for,
    solvency_circuit_with_key,
    solvency_member,
)

#: The inputs every batch of a round shares (their wires' MSM terms are made once).
_ROUND_INPUTS = ("merkle_root", "snapshot_hash", "snapshot")
#: The solvency setup command, named in errors about keys.
SETUP_HINT = "zkmargin solvency setup --ledger ... --epoch ..."


class SolvencyInputError(MalformedInputError):
    """A round that cannot be proven as asked: an open epoch, a registered account
    without its file or salt, a file that does not open its registered commitment."""


@dataclass(frozen=True)
class SolvencyContext:
    """What every batch of a round shares: the snapshot, the compiled circuit, the prover."""

    snapshot: MarketSnapshot
    snapshot_hash: int
    snapshot_encoding: tuple[int, ...]
    padding: tuple[int, ...]
    circuit: CompiledCircuit
    prover: Prover | None
    batch_size: int
    root: int

    @classmethod
    def build(
        cls,
        snapshot: MarketSnapshot,
        prover: Prover | None,
        batch_size: int,
        depth: int,
        root: int,
        circuit: CompiledCircuit | None = None,
    ) -> SolvencyContext:
        """The round's context (the circuit as given, e.g. saved beside the key, or compiled)."""
        circuit = circuit or solvency_circuit_for(snapshot, batch_size, depth)
        if prover is not None and prover.n_vars == circuit.cs.n_wires:
            prover.share_wires(circuit.wires_determined_by(_ROUND_INPUTS))
        encoding = tuple(snapshot.field_encoding())
        return cls(
            snapshot, snapshot.snapshot_hash(), encoding, padding_encoding(snapshot), circuit, prover, batch_size, root
        )

    def prove(self, job: SolvencyBatchJob, timings: dict[str, float] | None = None) -> tuple[Proof, PublicSignals]:
        """The batch's proof (`timings` accumulates "witness" and the prover's stages)."""
        if self.prover is None:
            raise RuntimeError("this solvency context has no prover (its proofs are made on workers)")
        assignment = job.assignment(
            self.root, self.snapshot_hash, self.snapshot_encoding, self.padding, self.batch_size
        )
        return prove_assignment(self.circuit, self.prover, assignment, timings)


@dataclass(frozen=True)
class SolvencyRecipe:
    """A round's `Recipe` (`engine._proving`): what a prover process builds its context from."""

    snapshot_json: str
    batch_size: int
    depth: int
    root: int

    def context(self, zkey: str, threads: int) -> SolvencyContext:
        set_threads(threads)
        snapshot = MarketSnapshot.model_validate_json(self.snapshot_json)
        circuit = solvency_circuit_with_key(snapshot, self.batch_size, self.depth, zkey)
        return SolvencyContext.build(snapshot, Prover.from_zkey(zkey), self.batch_size, self.depth, self.root, circuit)


@dataclass(frozen=True)
class SolvencySummary:
    """One recorded round: its size, where the time went, its totals."""

    epoch: int
    accounts: int
    batches: int
    prove_seconds: float
    seconds: float
    round: SolvencyRound
    stage_seconds: dict[str, float]

    @property
    def accounts_per_second(self) -> float:
        return self.accounts / self.prove_seconds if self.prove_seconds > 0 else 0.0


def members_of(
    ledger: Ledger, epoch: int, accounts: Sequence[Account], snapshot: MarketSnapshot, salts_dir: Path
) -> list[SolvencyMember]:
    """The epoch's registered accounts in leaf order, each opened by its file and salt."""
    by_id = {a.id: a for a in accounts}
    members = []
    for account_id, commitment in ledger.registered(epoch):
        account = by_id.get(account_id)
        if account is None:
            raise SolvencyInputError(f"account {account_id!r} is registered in epoch {epoch} but has no account file")
        path = salt_path(salts_dir, epoch, account_id)
        try:
            salt = read_salt_file(path)
        except OSError as exc:
            raise SolvencyInputError(f"account {account_id!r}: no salt at {path} ({exc.strerror})") from None
        member = solvency_member(account, snapshot, salt)
        if member.commitment != commitment:
            raise SolvencyInputError(
                f"account {account_id!r}: its file and salt do not open the commitment registered in epoch {epoch}"
            )
        members.append(member)
    return members


def prove_solvency(
    ledger: Ledger,
    epoch: int,
    accounts: Sequence[Account],
    zkey: str | Path,
    reserves: Reserves,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    depth: int = DEFAULT_DEPTH,
    salts_dir: str | Path | None = None,
    workers: int = 1,
    dask: DaskCluster | None = None,
    on_start: Callable[[int], None] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> SolvencySummary:
    """Prove and record the epoch's solvency round (module doc). `on_start(batches)` once
    the plan is known, `on_batch(index)` as each batch's proof arrives."""
    start = time.perf_counter()
    record = ledger.epoch(epoch)
    if not record.closed:
        raise SolvencyInputError(f"epoch {epoch} is open: close it first (its accounts must be final)")
    existing = ledger.solvency(epoch)
    if existing is not None:  # a rerun: the same round stands, another one is refused
        if (existing.reserves, existing.batch_size, existing.depth) != (reserves, batch_size, depth):
            raise SolvencyRefusedError(f"epoch {epoch} already has a solvency round (other reserves or shape)")
        return SolvencySummary(epoch, existing.accounts, len(existing.batches), 0.0, 0.0, existing, {})
    snapshot = MarketSnapshot.model_validate_json(record.snapshot_json)
    salts = Path(salts_dir) if salts_dir is not None else ledger.path.with_name(ledger.path.name + ".salts")
    plan = plan_solvency(members_of(ledger, epoch, accounts, snapshot, salts), snapshot, batch_size, depth)
    zkey = Path(zkey)
    key = read_zkey(zkey, copy_on_write=True)
    circuit = solvency_circuit_with_key(snapshot, batch_size, depth, zkey)
    check_zkey_matches(key, circuit, str(zkey), f"the solvency circuit (batch {batch_size}, depth {depth})", SETUP_HINT)
    prover = Prover(key)
    vk_json = prover.verifying_key.to_json()
    totals = published_totals(plan.totals, snapshot)
    problem = economics_problem(totals, reserves)  # before any proof: the same refusal, minutes earlier
    if problem is not None:
        raise SolvencyRefusedError(f"epoch {epoch}: {problem}")
    if on_start is not None:
        on_start(len(plan.jobs))
    recipe = SolvencyRecipe(record.snapshot_json, batch_size, depth, plan.root)
    stages: dict[str, float] = {}
    prove_start = time.perf_counter()
    proofs = _prove_jobs(
        recipe, prover if workers <= 1 and dask is None else None, zkey, plan, workers, dask, stages, on_batch
    )
    prove_seconds = time.perf_counter() - prove_start
    rnd = SolvencyRound(
        epoch, depth, batch_size, len(plan.tree.levels[0]), plan.root, vk_json,
        tuple(proofs[j.index] for j in plan.jobs), totals, plan.blind, reserves,
    )  # fmt: skip
    ledger.record_solvency(rnd, snapshot_encoding_problem)
    return SolvencySummary(epoch, rnd.accounts, len(plan.jobs), prove_seconds, time.perf_counter() - start, rnd, stages)


def _prove_jobs(
    recipe: SolvencyRecipe,
    prover: Prover | None,
    zkey: Path,
    plan: SolvencyPlan,
    workers: int,
    dask: DaskCluster | None,
    stages: dict[str, float],
    on_batch: Callable[[int], None] | None,
) -> dict[int, SolvencyBatchProof]:
    """Every batch's proof by batch index: in this process (`prover`), on the pool, or on Dask."""
    proofs: dict[int, SolvencyBatchProof] = {}

    def on_result(job: SolvencyBatchJob, result: Arrival) -> None:
        proof, public, timings = opened(result)
        for stage, seconds in timings.items():
            stages[stage] = stages.get(stage, 0.0) + seconds
        proofs[job.index] = SolvencyBatchProof(proof, public)
        if on_batch is not None:
            on_batch(job.index)

    if dask is not None:
        from ._dask import connect

        with connect(dask) as client:
            prove_where(recipe, zkey, plan.jobs, on_result, lambda: None, cluster=(client, dask.ship_key))
        return proofs
    local = None
    if prover is not None:
        snapshot = MarketSnapshot.model_validate_json(recipe.snapshot_json)
        local = SolvencyContext.build(snapshot, prover, recipe.batch_size, recipe.depth, recipe.root)
    prove_where(recipe, zkey, plan.jobs, on_result, lambda: None, workers=workers, local=local)
    return proofs
