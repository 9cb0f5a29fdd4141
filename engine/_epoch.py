"""The epoch workflow: prove every account, verify, append, close.

    summary = run_epoch(accounts, snapshot, "margin.zkey", "ledger.db", workers=2)

1. The epoch's statement (snapshot, verification key of the .zkey, requirement, ratio
   bound) is recorded (`Ledger.open_epoch`; the same statement again is a no-op).
   With `settling`, the accounts are then settled (funding, expiry, liquidation; written
   ahead and recorded, `engine._settle_stage`) and the settled accounts are what follows
   proves; the transitions of untouched accounts are proven after the margin proofs,
   where they are (this process, the pool or the cluster), before the close.
2. Accounts that already have a verdict in this epoch are skipped: a rerun after a
   crash picks up where the last append left off.
3. Each other account gets a fresh salt (written first to `salts_dir/epoch-N/<account>.salt`,
   mode 0600: the account's opening), its commitment and, by the engine, its verdict:
   an account that does not meet the requirement is appended as flagged, with its
   commitment, and no proof is made; a healthy one is proven in this process or on a
   process pool (`workers` processes, spawn, each compiling the circuit and mapping the
   key once: about 10 s of start-up for the example snapshot's circuit, so `workers=None`
   uses a pool of one process per core only from `POOL_MIN_PROOFS` proofs on), or on a
   Dask cluster (`dask=DaskCluster(...)`, `engine._dask`: reached before anything is
   written; a lost scheduler raises ClusterLostError and a rerun completes the epoch).
4. The parent process is the only writer: the results that have arrived are verified
   together (`Ledger.preverify`: one batch check of up to `VERIFY_BATCH` proofs; nothing
   waits for a batch to fill, so batches grow only when results arrive faster than the
   parent appends them), then each is appended in its own transaction
   (`Ledger.record_account`), so a SIGKILL anywhere leaves whole accounts or none.
5. The epoch is closed (`Ledger.close_epoch`): registered accounts without a verdict
   are flagged. `close=False` leaves it open for proofs submitted from elsewhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import Ledger, Outcome, Requirement, Transition
from prover import Prover, read_zkey
from verifier import Proof, PublicSignals

from ._account_files import load_accounts, read_salt_or_none, salt_path
from ._cluster import DaskCluster
from ._commitment import random_salt, write_salt_file
from ._context import Claim, EpochContext
from ._models import Account, MarketSnapshot
from ._prove_account import check_supported, check_zkey_matches, margin_circuit_with_key
from ._proving import Arrival, opened, prove_where, set_threads
from ._settle_stage import TRANSITION_BATCH, Settling, check_settling, record_proven, settle_stage, transition_of
from ._transition import TransitionJob, TransitionRecipe

#: With `workers=None`, fewer proofs than this are made in this process. Measured with
#: `zkmargin epoch run --workers 1` and `--workers 2` on the example snapshot's circuit
#: (2 cores, 5 and 30 healthy accounts): in this process 7.5 s + 2.1 s a proof, on the
#: pool 17.5 s + 1.26 s a proof (its start-up is spawn, imports, circuit compilation and
#: key mapping per worker; the parent verifies and appends in both): even at 12 proofs.
POOL_MIN_PROOFS = 12


#: The most proofs verified together before their appends.
VERIFY_BATCH = 64


class _Appends:
    """Accounts' results, verified in batches by the ledger, then appended one
    transaction per account (the order they arrived in)."""

    def __init__(
        self, ledger: Ledger, epoch: int, on_append: Callable[[Outcome], None], stages: dict[str, float]
    ) -> None:
        self.ledger, self.epoch, self.on_append, self.stages = ledger, epoch, on_append, stages
        self.pending: list[tuple[Claim, Proof, PublicSignals]] = []

    def flag(self, claim: Claim, reason: str) -> None:
        """An account that gets no proof: its commitment and verdict, appended now."""
        self.on_append(self.ledger.record_account(self.epoch, claim.account.id, claim.commitment, flag_reason=reason))

    def add(self, claim: Claim, proof: Proof, public: PublicSignals) -> None:
        self.pending.append((claim, proof, public))
        if len(self.pending) >= VERIFY_BATCH:
            self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        start = time.perf_counter()
        self.ledger.preverify(self.epoch, [(proof, public) for _, proof, public in batch])
        verified = time.perf_counter()
        _add(self.stages, "verify", verified - start)
        for claim, proof, public in batch:
            account, commitment = claim.account.id, claim.commitment
            self.on_append(self.ledger.record_account(self.epoch, account, commitment, proof, public))
        _add(self.stages, "append", time.perf_counter() - verified)


@dataclass(frozen=True)
class EpochSummary:
    """One run of an epoch: counts over the whole epoch, and this run's own work."""

    epoch: int
    accounts: int
    proven: int
    flagged: int
    rejected: int
    skipped: int
    proved_now: int
    prove_seconds: float
    seconds: float
    closed: bool
    head: str
    #: This run's seconds by stage, summed over accounts (in workers too): "claim" (salt,
    #: commitment, margin), "witness", the prover's stages, "verify", "append".
    stage_seconds: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def proofs_per_second(self) -> float:
        return self.proved_now / self.prove_seconds if self.prove_seconds > 0 else 0.0


# ---- the worker side ------------------------------------------------------------------------


def worker_context(zkey: str, snapshot_json: str, requirement: str, ratio: int, threads: int) -> EpochContext:
    """A prover process's epoch context (a pool process or a Dask worker): numba limited
    to `threads`, the key mapped, the circuit loaded beside it when saved there."""
    set_threads(threads)
    snapshot = MarketSnapshot.model_validate_json(snapshot_json)
    circuit = margin_circuit_with_key(snapshot, zkey)
    return EpochContext.build(
        snapshot,
        Prover.from_zkey(zkey),
        requirement=requirement,  # type: ignore[arg-type]
        max_margin_ratio_ppm=ratio,
        circuit=circuit,
    )


@dataclass(frozen=True)
class MarginRecipe:
    """An epoch's margin proofs' `Recipe` (`engine._proving`): the snapshot and statement."""

    snapshot_json: str
    requirement: str
    max_margin_ratio_ppm: int

    @classmethod
    def of(cls, ctx: EpochContext) -> MarginRecipe:
        return cls(ctx.snapshot.model_dump_json(), ctx.requirement, ctx.max_margin_ratio_ppm)

    def context(self, zkey: str, threads: int) -> EpochContext:
        return worker_context(zkey, self.snapshot_json, self.requirement, self.max_margin_ratio_ppm, threads)


def _add(stages: dict[str, float], stage: str, seconds: float) -> None:
    stages[stage] = stages.get(stage, 0.0) + seconds


# ---- the parent side ------------------------------------------------------------------------


def run_epoch(
    accounts: Sequence[Account],
    snapshot: MarketSnapshot,
    zkey: str | Path,
    ledger: Ledger,
    *,
    requirement: Requirement = "maintenance",
    max_margin_ratio_ppm: int = 0,
    workers: int | None = 1,
    salts_dir: str | Path | None = None,
    close: bool = True,
    on_start: Callable[[int, int], None] | None = None,
    on_account: Callable[[Outcome], None] | None = None,
    dask: DaskCluster | None = None,
    settling: Settling | None = None,
) -> EpochSummary:
    """Run one epoch (module doc). `settling`: settle the accounts first (`engine._settle_stage`);
    `workers`: prover processes (1: this process; None: one per core from
    `POOL_MIN_PROOFS` healthy accounts on, else this process); `dask`:
    prove on that Dask cluster instead (`engine._dask`). `on_start(total, skipped)` is
    called once the work is known, `on_account(outcome)` after each append."""
    with contextlib.ExitStack() as stack:
        client = None
        if dask is not None:  # first: when no cluster answers, nothing is written
            from ._dask import connect

            client = stack.enter_context(connect(dask))
        return _run_epoch(
            accounts, snapshot, Path(zkey), ledger, requirement, max_margin_ratio_ppm, workers,
            salts_dir, close, on_start, on_account, (client, dask.ship_key) if dask is not None else None,
            settling,
        )  # fmt: skip


def _run_epoch(
    accounts: Sequence[Account],
    snapshot: MarketSnapshot,
    zkey: Path,
    ledger: Ledger,
    requirement: Requirement,
    max_margin_ratio_ppm: int,
    workers: int | None,
    salts_dir: str | Path | None,
    close: bool,
    on_start: Callable[[int, int], None] | None,
    on_account: Callable[[Outcome], None] | None,
    cluster: tuple[Any, bool | None] | None,
    settling: Settling | None,
) -> EpochSummary:
    start = time.perf_counter()
    salts = Path(salts_dir) if salts_dir is not None else ledger.path.with_name(ledger.path.name + ".salts")
    for a in accounts:  # refusals first: nothing is written for bad input
        check_supported(a, snapshot)
    key = read_zkey(zkey, copy_on_write=True)
    ctx = EpochContext.build(
        snapshot,
        None,
        requirement=requirement,
        max_margin_ratio_ppm=max_margin_ratio_ppm,
        circuit=margin_circuit_with_key(snapshot, zkey),
    )
    check_zkey_matches(key, ctx.circuit, str(zkey))
    prover = Prover(key)
    transition_key = check_settling(ledger, snapshot.epoch, snapshot, settling) if settling is not None else None
    record = ledger.open_epoch(
        snapshot, prover.verifying_key, requirement=requirement, max_margin_ratio_ppm=max_margin_ratio_ppm
    )
    n = record.epoch
    if record.closed:
        return _summary(ledger, n, len(accounts), 0, 0, 0.0, start)
    stages: dict[str, float] = {}
    stage = None
    if settling is not None and transition_key is not None:
        settled = time.perf_counter()
        stage = settle_stage(ledger, n, accounts, snapshot, settling, salts, transition_key)
        accounts = stage.accounts
        _add(stages, "settle", time.perf_counter() - settled)
    claimed = time.perf_counter()
    claims, skipped = _open_claims(ledger, n, accounts, ctx, salts)
    _add(stages, "claim", time.perf_counter() - claimed)
    if on_start is not None:
        on_start(len(claims), skipped)
    appends = _Appends(ledger, n, on_account or (lambda _o: None), stages)
    for claim in claims:
        if not claim.healthy:
            appends.flag(claim, f"does not meet the {requirement} requirement: no proof")
    healthy = [c for c in claims if c.healthy]
    workers = _pool_size(workers, len(healthy)) if cluster is None else 0
    if workers == 1:
        ctx = dataclasses.replace(ctx, prover=prover)
    del key, prover  # else each worker maps the key itself
    prove_start = time.perf_counter()
    local = ctx if cluster is None and workers <= 1 else None
    prove_where(MarginRecipe.of(ctx), zkey, healthy, _on_result(appends), appends.flush, workers=workers,
                cluster=cluster, local=local)  # fmt: skip
    if stage is not None and settling is not None:
        _prove_transitions(ledger, n, snapshot, settling.transition_zkey, stage.jobs, workers, cluster, stages)
    prove_seconds = time.perf_counter() - prove_start
    if close:
        ledger.close_epoch(n)
    summary = _summary(ledger, n, len(accounts), skipped, len(healthy), prove_seconds, start)
    return dataclasses.replace(summary, stage_seconds=stages)


def _open_claims(
    ledger: Ledger, epoch: int, accounts: Sequence[Account], ctx: EpochContext, salts: Path
) -> tuple[list[Claim], int]:
    """The claims of accounts without a verdict yet (a fresh salt each, written durably
    first, or the salt of a commitment registered earlier), and how many were skipped."""
    claims: list[Claim] = []
    skipped = 0
    for a in accounts:
        if ledger.verdict(epoch, a.id) is not None:
            skipped += 1
            continue
        registered = ledger.commitment(epoch, a.id)
        path = salt_path(salts, epoch, a.id)
        if registered is not None:  # registered earlier without a verdict: reuse its salt
            salt = read_salt_or_none(path)
            claim = ctx.claim(a, salt) if salt is not None else None
            if claim is None or claim.commitment != registered:
                continue  # cannot open the registered commitment: flagged at close
        else:
            salt = random_salt()
            write_salt_file(path, salt)
            claim = ctx.claim(a, salt)
        claims.append(claim)
    return claims, skipped


def _on_result(appends: _Appends) -> Callable[[Any, Arrival], None]:
    """What the parent does with each claim's proof: stage times, then the
    verify-and-append queue."""

    def on_result(claim: Claim, result: Arrival) -> None:
        proof, public, timings = opened(result)
        for stage, seconds in timings.items():
            _add(appends.stages, stage, seconds)
        appends.add(claim, proof, public)

    return on_result


def _prove_transitions(
    ledger: Ledger,
    epoch: int,
    snapshot: MarketSnapshot,
    zkey: Path,
    jobs: list[TransitionJob],
    workers: int,
    cluster: tuple[Any, bool | None] | None,
    stages: dict[str, float],
) -> None:
    """The settlement's pending transitions proven where the margin proofs were (this
    process, the pool or the cluster) and recorded in verified batches."""
    proven: list[Transition] = []

    def on_result(job: TransitionJob, result: Arrival) -> None:
        proof, public, timings = opened(result)
        for name, seconds in timings.items():
            _add(stages, f"transition {name}", seconds)
        proven.append(transition_of(job, proof, public))

    def flush() -> None:
        record_proven(ledger, epoch, proven)
        proven.clear()

    recipe = TransitionRecipe(snapshot.model_dump_json())
    prove_where(recipe, zkey, jobs, on_result, flush, workers=workers, cluster=cluster, flush_every=TRANSITION_BATCH)


def _pool_size(workers: int | None, n_proofs: int) -> int:
    """Prover processes for `n_proofs` proofs: `workers` as given, or (None) one per core
    but no more than the proofs from `POOL_MIN_PROOFS` on, else 1 (this process)."""
    if workers is not None:
        return workers
    return min(os.cpu_count() or 1, n_proofs) if n_proofs >= POOL_MIN_PROOFS else 1


def _summary(
    ledger: Ledger, n: int, n_accounts: int, skipped: int, proved: int, prove_s: float, start: float
) -> EpochSummary:
    stats = next(s for s in ledger.epochs() if s.epoch == n)
    return EpochSummary(
        epoch=n,
        accounts=max(stats.accounts, n_accounts),
        proven=stats.proven,
        flagged=stats.flagged,
        rejected=stats.rejected_proofs,
        skipped=skipped,
        proved_now=proved,
        prove_seconds=prove_s,
        seconds=time.perf_counter() - start,
        closed=stats.closed,
        head=ledger.head()[1],
    )


__all__ = ["POOL_MIN_PROOFS", "EpochSummary", "load_accounts", "run_epoch", "salt_path"]
