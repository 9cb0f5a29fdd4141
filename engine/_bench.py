"""Throughput measurements an operator sizes a fleet by (`zkmargin bench`,
`benchmarks/epoch.py`): a whole epoch of generated accounts through `run_epoch`, and
repeated proofs of one witness.

- `dev_keys(snapshot, cache_dir)`: margin keys for the snapshot's shape by the INSECURE
  dev setup, made once and cached under the circuit's hash (benchmarks only).
- `bench_epoch(snapshot, n, workers, cache_dir)`: `n` generated healthy accounts
  (`engine._generate`) proven, verified and appended to a fresh ledger by `run_epoch`;
  proofs per second end to end, seconds per proof by stage, peak memory.
- `bench_prove(zkey, witness, runs)`: the prover's stages over `runs` proofs of one
  witness (the first, cold, reported apart).
"""

from __future__ import annotations

import hashlib
import resource
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from circuits import CompiledCircuit
from ledger import Ledger, Outcome
from prover import InsecureSetupWarning, Prover, ZkeyFile, dev_setup, read_zkey, write_zkey

from ._cluster import DaskCluster
from ._epoch import run_epoch
from ._generate import generate_accounts
from ._models import MarketSnapshot
from ._prove_account import margin_circuit_for, save_margin_circuit
from ._transition import save_transition_circuit, transition_circuit_for


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    kib = max(own, children) / (1024 if sys.platform == "darwin" else 1)  # macOS reports bytes
    return kib / 1024


def _cached_dev_key(circuit: CompiledCircuit, stem: str, cache_dir: Path) -> tuple[Path, bool]:
    """(path, made now) of the INSECURE dev key of `circuit`, cached by its constraints."""
    cs = circuit.cs
    digest = hashlib.sha256(repr([(c.a, c.b, c.c) for c in cs.constraints]).encode()).hexdigest()[:16]
    path = cache_dir / f"{stem}-{digest}.zkey"
    if path.exists():
        return path, False
    cache_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        key = ZkeyFile.from_proving_key(dev_setup(cs))
    tmp = path.with_suffix(".tmp")
    write_zkey(key, tmp)
    tmp.replace(path)
    return path, True


def dev_keys(snapshot: MarketSnapshot, cache_dir: Path) -> Path:
    """The margin .zkey of the snapshot's shape (INSECURE dev setup), cached by circuit."""
    path, made = _cached_dev_key(margin_circuit_for(snapshot), "margin", cache_dir)
    if made:
        save_margin_circuit(snapshot, path)
    return path


def transition_dev_key(snapshot: MarketSnapshot, cache_dir: Path) -> Path:
    """The transition .zkey of the snapshot's shape (INSECURE dev setup), cached by circuit."""
    path, made = _cached_dev_key(transition_circuit_for(snapshot), "transition", cache_dir)
    if made:
        save_transition_circuit(snapshot, path)
    return path


@dataclass(frozen=True)
class EpochBench:
    """One epoch of generated accounts through `run_epoch`."""

    accounts: int
    workers: int
    constraints: int
    seconds: float
    proofs_per_second: float
    stage_seconds_per_proof: dict[str, float]
    peak_rss_mb: float
    proven: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def bench_epoch(
    snapshot: MarketSnapshot,
    n: int,
    workers: int,
    cache_dir: Path,
    *,
    seed: int = 0,
    on_account: Callable[[Outcome], None] | None = None,
    dask: DaskCluster | None = None,
) -> EpochBench:
    """`n` generated accounts proven by `run_epoch` on `workers` processes (or on the
    `dask` cluster) into a fresh ledger (a temporary folder); every proof verified and
    appended. Proofs per second over the whole run (keys loaded, cluster reached, claims,
    proofs, verification, appends, closing)."""
    zkey = dev_keys(snapshot, cache_dir)
    accounts = generate_accounts(snapshot, n, seed=seed)
    with tempfile.TemporaryDirectory(prefix="zkmargin-bench-") as tmp, Ledger.open(Path(tmp) / "ledger.db") as db:
        start = time.perf_counter()
        summary = run_epoch(accounts, snapshot, zkey, db, workers=workers, on_account=on_account, dask=dask)
        seconds = time.perf_counter() - start
    proofs = max(summary.proved_now, 1)
    return EpochBench(
        accounts=n,
        workers=workers,
        constraints=margin_circuit_for(snapshot).cs.n_constraints,
        seconds=seconds,
        proofs_per_second=summary.proved_now / seconds,
        stage_seconds_per_proof={k: v / proofs for k, v in summary.stage_seconds.items()},
        peak_rss_mb=peak_rss_mb(),
        proven=summary.proven,
    )


@dataclass(frozen=True)
class ProveBench:
    """Repeated proofs of one witness with one loaded key."""

    runs: int
    load_seconds: float
    first_seconds: float
    median_seconds: float
    proofs_per_second: float
    stage_seconds: dict[str, float]
    peak_rss_mb: float
    times: list[float]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def bench_prove(zkey: Path, witness: Any, runs: int, *, on_proof: Callable[[int], None] | None = None) -> ProveBench:
    """The key loaded once, then `runs` proofs of `witness` (limbs or ints); the median
    proof after the first, its stages (median each), and the first apart."""
    start = time.perf_counter()
    prover = Prover(read_zkey(zkey, copy_on_write=True))
    load = time.perf_counter() - start
    times: list[float] = []
    stages: dict[str, list[float]] = {}
    for i in range(runs):
        t = time.perf_counter()
        prover.prove(witness)
        times.append(time.perf_counter() - t)
        for stage, s in prover.last_timings.items():
            stages.setdefault(stage, []).append(s)
        if on_proof is not None:
            on_proof(i + 1)
    warm = times[1:] or times
    median = statistics.median(warm)
    return ProveBench(
        runs=runs,
        load_seconds=load,
        first_seconds=times[0],
        median_seconds=median,
        proofs_per_second=1 / median,
        stage_seconds={k: statistics.median(v[1:] or v) for k, v in stages.items()},
        peak_rss_mb=peak_rss_mb(),
        times=times,
    )
