"""Scale-out: the same epoch on the local process pool and on Dask, and the single
writer's ceiling, with what they say about a cluster.

    .venv/bin/python benchmarks/scale.py [--accounts 96] [--dask-workers 1 2] [--pool-workers 2]
        [--writer-accounts 96] [--writer-runs 5] [--keys benchmarks/results/epoch-keys]
        [--out benchmarks/results/scale.json] [--plot benchmarks/results/scale.png]

Epochs. N generated healthy accounts of the example snapshot's shape (`engine.generate_accounts`,
seeded, as benchmarks/epoch.py) through the whole `run_epoch` path into a fresh ledger:
on the local pool of --pool-workers processes, then on a Dask LocalCluster of 1 and 2
worker processes (`DaskCluster(local_workers=...)`: a scheduler, workers, the worker
plugin loading the key and the circuit, tasks of claims). Proofs per second over the
whole run, cluster start-up included; Dask's overhead against the pool with as many workers.

The writer's ceiling. The N accounts' proofs made in advance (in this process); then,
into fresh ledgers, what the parent does with proofs that have arrived: batch
verification (`Ledger.preverify`, batches of up to `VERIFY_BATCH`) and one transaction
per account (`Ledger.record_account`), through `run_epoch`'s own writer. Accounts per
second, median of --writer-runs ledgers.

From those: proofs per second per prover core (the 2-worker Dask run over 2 cores), the
number of prover cores at which the writer becomes the limit, and the time for 10^6
accounts at 8, 64 and 512 cores (the slower of the provers and the writer).

Prints tables, writes JSON (with the acceptance checks: Dask on 2 workers at least 85%
of the pool's proofs/s; the writer at least 500 accounts/s) and a PNG.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import (  # noqa: E402
    DaskCluster,
    EpochContext,
    bench_epoch,
    dev_keys,
    generate_accounts,
    load_example_snapshot,
    margin_circuit_with_key,
    random_salt,
)
from engine._epoch import VERIFY_BATCH, _Appends  # noqa: E402
from ledger import Ledger  # noqa: E402
from prover import Prover  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
MIN_DASK_SHARE = 0.85
MIN_WRITER_PER_S = 500.0
CORES = (8, 64, 512)
MILLION = 10**6


def epochs(args: argparse.Namespace) -> list[dict[str, Any]]:
    snap = load_example_snapshot()
    rows = []
    runs = [("pool", w) for w in args.pool_workers] + [("dask", w) for w in args.dask_workers]
    for kind, w in runs:
        print(f"epoch of {args.accounts} accounts, {kind}, {w} workers ...", file=sys.stderr, flush=True)
        dask = DaskCluster(local_workers=w) if kind == "dask" else None
        bench = bench_epoch(snap, args.accounts, w if kind == "pool" else 1, args.keys, seed=args.seed, dask=dask)
        rows.append({"kind": kind, "workers": w, "seconds": bench.seconds, "proofs_per_s": bench.proofs_per_second,
                     "proven": bench.proven})  # fmt: skip
    return rows


def writer_ceiling(args: argparse.Namespace) -> dict[str, Any]:
    """Batch verification and appends of proofs made in advance, accounts per second."""
    snap = load_example_snapshot()
    zkey = dev_keys(snap, args.keys)
    prover = Prover.from_zkey(zkey)
    ctx = EpochContext.build(snap, prover, circuit=margin_circuit_with_key(snap, zkey))
    print(f"proving {args.writer_accounts} accounts for the writer ...", file=sys.stderr, flush=True)
    claims = [ctx.claim(a, random_salt()) for a in generate_accounts(snap, args.writer_accounts, seed=args.seed + 1)]
    results = [(c, *ctx.prove(c)) for c in claims if c.healthy]
    times = []
    for _ in range(args.writer_runs):
        with tempfile.TemporaryDirectory(prefix="zkmargin-writer-") as tmp, Ledger.open(Path(tmp) / "l.db") as db:
            epoch = db.open_epoch(snap, prover.verifying_key).epoch
            writer = _Appends(db, epoch, lambda _outcome: None, {})  # run_epoch's own writer
            start = time.perf_counter()
            for result in results:
                writer.add(*result)  # verifies and appends each batch of VERIFY_BATCH
            writer.flush()
            times.append(time.perf_counter() - start)
            (stats,) = db.epochs()
            assert stats.proven == len(results) and stats.rejected_proofs == 0
    seconds = statistics.median(times)
    return {"accounts": len(results), "runs": args.writer_runs, "median_s": seconds,
            "accounts_per_s": len(results) / seconds}  # fmt: skip


def projections(rows: list[dict[str, Any]], writer: dict[str, Any]) -> dict[str, Any]:
    """Per-core proving rate (the Dask run with the most workers, one core each here),
    the writer's limit in cores, and 10^6 accounts at several cluster sizes."""
    best = max((r for r in rows if r["kind"] == "dask"), key=lambda r: r["workers"])
    cores_used = min(best["workers"], os.cpu_count() or 1)
    per_core = best["proofs_per_s"] / cores_used
    ceiling = writer["accounts_per_s"]
    table = []
    for cores in CORES:
        rate = min(cores * per_core, ceiling)
        table.append({"cores": cores, "proofs_per_s": rate, "hours_for_1e6": MILLION / rate / 3600,
                      "limited_by": "writer" if cores * per_core >= ceiling else "provers"})  # fmt: skip
    return {"per_core_proofs_per_s": per_core, "writer_limit_cores": ceiling / per_core, "million": table}


def acceptance(rows: list[dict[str, Any]], writer: dict[str, Any]) -> dict[str, Any]:
    pool = {r["workers"]: r["proofs_per_s"] for r in rows if r["kind"] == "pool"}
    dask = {r["workers"]: r["proofs_per_s"] for r in rows if r["kind"] == "dask"}
    share = dask[2] / pool[2] if 2 in dask and 2 in pool else None
    return {
        "dask2_share_of_pool2": {"value": share, "min": MIN_DASK_SHARE,
                                 "pass": None if share is None else share >= MIN_DASK_SHARE},
        "writer_accounts_per_s": {"value": writer["accounts_per_s"], "min": MIN_WRITER_PER_S,
                                  "pass": writer["accounts_per_s"] >= MIN_WRITER_PER_S},
    }  # fmt: skip


def print_tables(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=140)
    pool = {r["workers"]: r["proofs_per_s"] for r in result["epochs"] if r["kind"] == "pool"}
    t = Table(title=f"epoch of {result['accounts']} generated accounts, whole run")
    for col in ("prover", "workers", "seconds", "proofs/s", "vs the pool"):
        t.add_column(col, justify="right")
    for r in result["epochs"]:
        same = r["kind"] == "dask" and r["workers"] in pool
        vs = f"{r['proofs_per_s'] / pool[r['workers']] - 1:+.0%}" if same else ""
        t.add_row(r["kind"], str(r["workers"]), f"{r['seconds']:.1f}", f"{r['proofs_per_s']:.2f}", vs)
    console.print(t)
    w = result["writer"]
    console.print(f"writer: {w['accounts']} accounts verified (batches of {VERIFY_BATCH}) and appended in "
                  f"{w['median_s'] * 1e3:.0f} ms: {w['accounts_per_s']:.0f} accounts/s")  # fmt: skip
    p = result["projections"]
    t = Table(title=f"10^6 accounts at {p['per_core_proofs_per_s']:.2f} proofs/s per core; the writer limits from "
                    f"{p['writer_limit_cores']:.0f} cores")  # fmt: skip
    for col in ("cores", "proofs/s", "hours for 10^6", "limited by"):
        t.add_column(col, justify="right")
    for row in p["million"]:
        t.add_row(str(row["cores"]), f"{row['proofs_per_s']:.0f}", f"{row['hours_for_1e6']:.1f}", row["limited_by"])
    console.print(t)
    for k, v in result["acceptance"].items():
        console.print(f"acceptance {k}: {v}")


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for kind in ("pool", "dask"):
        rows = sorted((r for r in result["epochs"] if r["kind"] == kind), key=lambda r: r["workers"])
        left.plot([r["workers"] for r in rows], [r["proofs_per_s"] for r in rows], marker="o", label=kind)
    left.set_xlabel("worker processes (2 cores)")
    left.set_ylabel("proofs per second, whole epoch")
    left.set_ylim(bottom=0)
    left.set_title(f"epoch of {result['accounts']} accounts")
    left.legend()
    p = result["projections"]
    cores = [1, 8, 64, 512, 4096]
    provers = [c * p["per_core_proofs_per_s"] for c in cores]
    right.loglog(cores, provers, marker="o", label="provers (measured rate per core)")
    right.axhline(result["writer"]["accounts_per_s"], color="red", linestyle="--", label="one writer's ceiling")
    right.set_xlabel("prover cores")
    right.set_ylabel("accounts per second")
    right.set_title("where the single writer becomes the limit")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=96)
    parser.add_argument("--pool-workers", type=int, nargs="+", default=[2])
    parser.add_argument("--dask-workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--writer-accounts", type=int, default=96)
    parser.add_argument("--writer-runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keys", type=Path, default=RESULTS / "epoch-keys")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "scale.png")
    args = parser.parse_args(argv)
    rows = epochs(args)
    writer = writer_ceiling(args)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "accounts": args.accounts,
        "epochs": rows,
        "writer": writer,
        "projections": projections(rows, writer),
        "acceptance": acceptance(rows, writer),
    }
    print_tables(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    plot(result, args.plot)
    print(f"wrote {args.out} and {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
