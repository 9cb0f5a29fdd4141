"""A settled epoch of generated accounts against the same epoch unsettled: what settling
(funding, expiry, liquidation, the state written, the facts recorded) and proving every
untouched account's transition add to an epoch, on 2 cores.

    .venv/bin/python benchmarks/settlement.py [--accounts 64] [--workers 1 2]
        [--keys benchmarks/results/epoch-keys]
        [--out benchmarks/results/settlement.json] [--plot benchmarks/results/settlement.png]

The accounts: `engine.generate_accounts` (seeded) and the house on the other side of
every market. Epoch 1 (the example snapshot) is run settled into a fresh ledger, so
every account has a commitment; epoch 2 (`example_next_snapshot`: prices 6% down, a
funding interval, the dated markets expired) is then run settled from epoch 1's state (no
trades: every account not liquidated gets a transition proof), and, for the baseline,
the same settled accounts are run unsettled into another ledger. Keys: the INSECURE dev
setup of the margin and transition circuits, made once and cached in --keys (shared
with benchmarks/epoch.py and scale.py).

Prints a table, writes JSON and a PNG.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import (  # noqa: E402
    SettlementConfig,
    Settling,
    counterparty_account,
    dev_keys,
    example_next_snapshot,
    generate_accounts,
    load_example_snapshot,
    margin_circuit_for,
    peak_rss_mb,
    read_state,
    run_epoch,
    transition_circuit_for,
    transition_dev_key,
)
from ledger import Ledger  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
FUND = 10**12


def _stage(summary: Any, prefix: str) -> float:
    return sum(v for k, v in summary.stage_seconds.items() if k.startswith(prefix))


def run(args: argparse.Namespace) -> dict[str, Any]:
    first = load_example_snapshot()
    second = example_next_snapshot(first)
    traders = generate_accounts(first, args.accounts - 1, seed=args.seed)
    accounts = [*traders, counterparty_account(first, traders)]
    print("keys ...", file=sys.stderr, flush=True)
    margin_zkey, transition_zkey = dev_keys(first, args.keys), transition_dev_key(first, args.keys)
    config = SettlementConfig(counterparty="house")
    rows = []
    for w in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            settling = Settling(config, transition_zkey, d / "state", FUND)
            print(f"epoch 1 of {len(accounts)} accounts on {w} worker(s) ...", file=sys.stderr, flush=True)
            with Ledger.open(d / "ledger.db") as ledger:
                run_epoch(accounts, first, margin_zkey, ledger, workers=w, settling=settling)
                inputs = read_state(d / "state", first.epoch) or []
                print("epoch 2, settled ...", file=sys.stderr, flush=True)
                start = time.perf_counter()
                later = dataclasses.replace(settling, initial_fund=None)  # the ledger holds the fund now
                settled = run_epoch(inputs, second, margin_zkey, ledger, workers=w, settling=later)
                settled_s = time.perf_counter() - start
                facts = ledger.settlement(second.epoch)
                kinds = [t.kind for t in ledger.transitions(second.epoch)]
            after = read_state(d / "state", second.epoch) or []
            print("epoch 2, the same accounts unsettled ...", file=sys.stderr, flush=True)
            with Ledger.open(d / "baseline.db") as ledger:
                start = time.perf_counter()
                plain = run_epoch(after, second, margin_zkey, ledger, workers=w)
                plain_s = time.perf_counter() - start
        proven = kinds.count("proven")
        rows.append({
            "workers": w, "accounts": len(accounts),
            "liquidations": len(facts[0].liquidations) if facts else 0, "transitions_proven": proven,
            "proven_settled": settled.proven, "proven_unsettled": plain.proven,
            "settle_seconds": settled.stage_seconds.get("settle", 0.0),
            "transition_prove_seconds": _stage(settled, "transition "),
            "settled_epoch_seconds": settled_s, "plain_epoch_seconds": plain_s,
            "settled_accounts_per_second": len(accounts) / settled_s,
            "plain_accounts_per_second": len(accounts) / plain_s,
            "transitions_per_second": proven / max(_stage(settled, "transition "), 1e-9),
            "peak_rss_mb": peak_rss_mb(),
        })  # fmt: skip
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "circuits": {
            "margin_constraints": margin_circuit_for(first).cs.n_constraints,
            "transition_constraints": transition_circuit_for(first).cs.n_constraints,
        },
        "epochs": rows,
    }


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    c = result["circuits"]
    t = Table(
        title=f"a settled epoch against the same epoch unsettled (margin circuit {c['margin_constraints']:,} "
        f"constraints, transition circuit {c['transition_constraints']:,})"
    )
    cols = ("workers", "accounts", "liquidated", "transitions proven", "settle s", "transition proofs/s",
            "settled epoch s", "unsettled epoch s", "settled / unsettled", "peak MiB")  # fmt: skip
    for col in cols:
        t.add_column(col, justify="right")
    for r in result["epochs"]:
        t.add_row(
            str(r["workers"]), str(r["accounts"]), str(r["liquidations"]), str(r["transitions_proven"]),
            f"{r['settle_seconds']:.2f}", f"{r['transitions_per_second']:.2f}",
            f"{r['settled_epoch_seconds']:.1f}", f"{r['plain_epoch_seconds']:.1f}",
            f"{r['settled_epoch_seconds'] / r['plain_epoch_seconds']:.2f}x", f"{r['peak_rss_mb']:.0f}",
        )  # fmt: skip
    Console(width=180).print(t)


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["epochs"]
    labels = [f"{r['workers']} worker" + ("s" if r["workers"] > 1 else "") for r in rows]
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar([i - 0.2 for i in x], [r["plain_accounts_per_second"] for r in rows], 0.4, label="unsettled epoch")
    ax.bar([i + 0.2 for i in x], [r["settled_accounts_per_second"] for r in rows], 0.4, label="settled epoch")
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("accounts per second (whole epoch)")
    ax.set_title(f"zkmargin: settling and proving transitions, {rows[0]['accounts']} accounts")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keys", type=Path, default=RESULTS / "epoch-keys")
    parser.add_argument("--out", type=Path, default=RESULTS / "settlement.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "settlement.png")
    args = parser.parse_args()
    result = run(args)
    print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.plot)
    print(f"wrote {args.out} and {args.plot}", file=sys.stderr)


if __name__ == "__main__":
    main()
