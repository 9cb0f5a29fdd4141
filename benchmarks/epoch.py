"""A venue's epoch end to end: proofs per second by epoch size and workers, seconds per
proof by stage, and the margin witness solved in Python and by the compiled program.

    .venv/bin/python benchmarks/epoch.py [--sizes 12 48 192] [--workers 1 2] [--seed 0]
        [--keys benchmarks/results/epoch-keys] [--out benchmarks/results/epoch.json]
        [--plot benchmarks/results/epoch.png]

Epochs. For each size N and worker count W, N generated healthy accounts of the example
snapshot's shape (`engine.generate_accounts`, seeded: cross perpetuals, futures, options,
isolated, multi-collateral and portfolio-mode accounts in turn) go through the whole
`run_epoch` path into a fresh ledger: salts, commitments, margin, witness, proof, batch
verification, one append per account, closing. Keys: the INSECURE dev setup of the
shape's circuit, made once and cached in --keys. Proofs per second over the whole run,
seconds per proof by stage (summed over workers, so with W workers the stages add up to
about W times the wall time per proof), peak memory.

Witness. The example snapshot's margin witness for the example accounts: the Python
solver (the reference) against the compiled program, median of 5 each, same values.

Prints tables, writes JSON (with the acceptance checks) and a PNG of proofs per second
against N for each worker count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from algebra import limbs_to_ints  # noqa: E402
from engine import (  # noqa: E402
    EXAMPLE_ACCOUNTS,
    assign_witness,
    bench_epoch,
    load_example_account,
    load_example_snapshot,
    margin_circuit_for,
)

RESULTS = ROOT / "benchmarks" / "results"
#: Issue 16's acceptance: 4 proofs/s for 192 accounts; the witness in 1/10 of Python's time.
ACCEPTANCE = {"epoch192_proofs_per_s": ("min", 4.0), "witness_ratio": ("max", 0.1)}


def witness_times(runs: int = 5) -> dict[str, Any]:
    """Median seconds of the Python solver and the compiled program on the example
    accounts' witnesses (the program built beforehand; both check every constraint)."""
    snap = load_example_snapshot()
    cc = margin_circuit_for(snap)
    build = time.perf_counter()
    cc.solve_limbs(assign_witness(load_example_account("healthy_cross"), snap, 3 << 200))
    build = time.perf_counter() - build
    python, compiled = [], []
    for name in EXAMPLE_ACCOUNTS:
        if name == "liquidatable":
            continue
        assignment = assign_witness(load_example_account(name), snap, 5 << 200)
        for _ in range(runs):
            t = time.perf_counter()
            values = cc.solve(assignment).values
            python.append(time.perf_counter() - t)
            t = time.perf_counter()
            limbs = cc.solve_limbs(assignment)
            compiled.append(time.perf_counter() - t)
        assert limbs_to_ints(limbs) == values
    p, c = statistics.median(python), statistics.median(compiled)
    return {"python_s": p, "compiled_s": c, "ratio": c / p, "first_call_s": build, "constraints": cc.cs.n_constraints}


def run(args: argparse.Namespace) -> dict[str, Any]:
    snap = load_example_snapshot()
    rows = []
    for n in args.sizes:
        for w in args.workers:
            print(f"epoch of {n} accounts on {w} workers ...", file=sys.stderr, flush=True)
            rows.append(bench_epoch(snap, n, w, args.keys, seed=args.seed).to_json())
    witness = witness_times()
    out: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "epochs": rows,
        "witness": witness,
    }
    best192 = max((r["proofs_per_second"] for r in rows if r["accounts"] == 192), default=None)
    values = {"epoch192_proofs_per_s": best192, "witness_ratio": witness["ratio"]}
    out["acceptance"] = {
        k: {"value": values[k], kind: limit, "pass": None if values[k] is None else
            (values[k] >= limit if kind == "min" else values[k] <= limit)}
        for k, (kind, limit) in ACCEPTANCE.items()
    }  # fmt: skip
    return out


def print_tables(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    rows = result["epochs"]
    stages = list(dict.fromkeys(k for r in rows for k in r["stage_seconds_per_proof"]))
    t = Table(title=f"epochs of generated accounts ({rows[0]['constraints']:,} constraints), ms per proof by stage")
    for col in ("accounts", "workers", "seconds", "proofs/s", *stages, "peak MiB"):
        t.add_column(col, justify="right")
    for r in rows:
        per = r["stage_seconds_per_proof"]
        t.add_row(
            str(r["accounts"]), str(r["workers"]), f"{r['seconds']:.1f}", f"{r['proofs_per_second']:.2f}",
            *(f"{per.get(s, 0) * 1e3:.0f}" for s in stages), f"{r['peak_rss_mb']:.0f}",
        )  # fmt: skip
    console.print(t)
    w = result["witness"]
    console.print(
        f"margin witness ({w['constraints']:,} constraints): Python {w['python_s'] * 1e3:.1f} ms, compiled "
        f"{w['compiled_s'] * 1e3:.1f} ms (ratio {w['ratio']:.3f}; first call with the program's build "
        f"{w['first_call_s']:.2f} s)"
    )
    for k, v in result["acceptance"].items():
        console.print(f"acceptance {k}: {v}")


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for w in sorted({r["workers"] for r in result["epochs"]}):
        rows = sorted((r for r in result["epochs"] if r["workers"] == w), key=lambda r: r["accounts"])
        label = f"{w} worker" + ("s" if w > 1 else "")
        ax.plot([r["accounts"] for r in rows], [r["proofs_per_second"] for r in rows], marker="o", label=label)
    ax.axhline(4.0, color="grey", linestyle="--", label="target 4 proofs/s")
    sizes = sorted({r["accounts"] for r in result["epochs"]})
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.minorticks_off()
    ax.set_ylim(bottom=0)
    ax.set_xlabel("accounts in the epoch")
    ax.set_ylabel("proofs per second, end to end")
    ax.set_title("zkmargin epoch run: example snapshot's margin circuit")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[12, 48, 192])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keys", type=Path, default=RESULTS / "epoch-keys")
    parser.add_argument("--out", type=Path, default=RESULTS / "epoch.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "epoch.png")
    args = parser.parse_args(argv)
    result = run(args)
    print_tables(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    plot(result, args.plot)
    print(f"wrote {args.out} and {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
