"""The ledger explorer on large epochs: how long each page and API call takes over a
real HTTP server (`zkmargin ledger serve`, its own process) as an epoch grows to
100,000 accounts.

    .venv/bin/python benchmarks/explorer.py [--accounts 1000 10000 100000] [--runs 7]
        [--out benchmarks/results/explorer.json] [--plot benchmarks/results/explorer.png]

Each size is a fresh ledger of `--epochs` closed epochs of that many accounts (the
example snapshot, its epoch number moved): the accounts' commitments registered in one
transaction (`Ledger.register_all`) and flagged at the close, so every row has its
verdict (proofs are not the point here; the pages read the same rows either way). The
epoch pages are the oldest epoch's, the deepest in the chain. Times are wall-clock
medians of `--runs` requests after one warm-up, by a client on the same machine.
Prints a table, writes JSON and a PNG.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import load_example_snapshot  # noqa: E402
from ledger import Ledger  # noqa: E402
from verifier import VerifyingKey  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
ZKMARGIN = Path(sys.executable).parent / "zkmargin"


def _routes(epoch: int, n: int) -> dict[str, str]:
    last = max(1, (n + 49) // 50)
    return {
        "epochs page": "/",
        "epoch page (first 50 accounts)": f"/epochs/{epoch}",
        "epoch page (last 50 accounts)": f"/epochs/{epoch}?page={last}",
        "API: 500 accounts": f"/api/epochs/{epoch}/accounts?limit=500",
        "entry page": f"/entries/{n // 2 + 1}",
        "API: epochs": "/api/epochs",
    }


def _ledger(path: Path, n: int, epochs: int) -> int:
    """The ledger's first (oldest) epoch."""
    base = load_example_snapshot()
    chain = VerifyingKey.load(ROOT.parent / "shared" / "fixtures" / "verification_key.json")
    key = chain.model_copy(update={"n_public": 4, "ic": chain.ic + chain.ic[:2]})  # a margin key's shape
    with Ledger.open(path) as ledger, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(epochs):
            epoch = ledger.open_epoch(base.model_copy(update={"epoch": base.epoch + k}), key).epoch
            ledger.register_all(epoch, [(f"acct{i:06d}", 10**70 + k * n + i) for i in range(n)])
            ledger.close_epoch(epoch)
    return base.epoch


def _serve(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(ZKMARGIN), "ledger", "serve", str(path), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/api/head", timeout=5).read()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the explorer did not start")


def _time(url: str, runs: int) -> float:
    urllib.request.urlopen(url, timeout=60).read()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            if response.status != 200:
                raise SystemExit(f"{url}: HTTP {response.status}")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows = []
    for n in args.accounts:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "ledger.db"
            start = time.perf_counter()
            epoch = _ledger(path, n, args.epochs)
            built = time.perf_counter() - start
            proc, base = _serve(path)
            try:
                ms = {name: 1000 * _time(base + url, args.runs) for name, url in _routes(epoch, n).items()}
            finally:
                proc.terminate()
                proc.wait(timeout=20)
        rows.append({"accounts": n, "epochs": args.epochs, "build_seconds": built, "ms": ms})
        print(f"{n:,} accounts: ledger built in {built:.1f} s", file=sys.stderr)
    return {"runs": args.runs, "sizes": rows}


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    names = list(result["sizes"][0]["ms"])
    epochs = result["sizes"][0]["epochs"]
    t = Table(title=f"explorer over HTTP, {epochs} epochs in the ledger, median of {result['runs']} requests (ms)")
    t.add_column("accounts per epoch", justify="right")
    for name in names:
        t.add_column(name, justify="right")
    for row in result["sizes"]:
        t.add_row(f"{row['accounts']:,}", *(f"{row['ms'][n]:.1f}" for n in names))
    Console(width=180).print(t)


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = result["sizes"]
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in sizes[0]["ms"]:
        ax.plot([r["accounts"] for r in sizes], [r["ms"][name] for r in sizes], marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("accounts in the epoch")
    ax.set_ylabel("ms per request (median)")
    ax.set_title("zkmargin ledger explorer")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=3, help="closed epochs of that many accounts each")
    parser.add_argument("--out", type=Path, default=RESULTS / "explorer.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "explorer.png")
    args = parser.parse_args()
    result = run(args)
    print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.plot)
    print(f"wrote {args.out} and {args.plot}", file=sys.stderr)


if __name__ == "__main__":
    main()
