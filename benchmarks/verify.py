"""Groth16 verification speed: zkmargin against groth16py and snarkjs, same key and proofs, one run.

    ZKMARGIN_NODE_PEERS=.npm-peers .venv/bin/python benchmarks/verify.py [--rounds 3] [--single 50]
        [--batches 1 10 100 1000] [--audit-proofs 1000] [--work-dir benchmarks/results/verify-cases]
        [--out benchmarks/results/verify.json] [--plot benchmarks/results/verify.png]

Proofs. The shared chain fixture's key (../shared/fixtures/verification_key.json): one
proof made here by our prover from chain.zkey and chain.wtns, then re-randomized into
max(--batches) distinct valid proofs (`benchmarks/_proofs.py`). Every verifier checks
the same proofs, all of which must verify.

Method. All three verifiers run warm in one session, alternating: in each of --rounds
rounds, each verifier takes its turn on the same work before the next round starts.
zkmargin and groth16py (arkworks, a prepared key) run in this process; snarkjs 0.7
(`snarkjs.groth16.verify`) in one node process that stays up and runs each turn on
request, timing itself, so node's start-up is not counted.

- single: --single calls, each timed alone; the median call. zkmargin `verify` on
  parsed models against groth16py `Verifier.verify` on the 256-byte Ethereum encoding
  (neither parses JSON), and both from snarkjs JSON text (zkmargin: `Proof.from_json`,
  `PublicSignals.from_json` and `verify`; groth16py: `verify_snarkjs`); snarkjs from
  parsed JSON objects.
- batches of n: zkmargin `batch_verify` (models, and from JSON text); groth16py and
  snarkjs, which have no batch verification, verify the n proofs one by one. The
  median round's proofs per second.
- audit: a ledger of --audit-proofs margin proofs, one per account, in one epoch of
  the example snapshot, audited by `zkmargin ledger audit` as a whole process (import,
  reading, hash chain, every row, every proof: the median of 3 runs). Proving 1,000
  margin proofs would take 10 minutes, so this ledger's key is a benchmark key whose
  trapdoor we keep and its proofs are simulated (`benchmarks/_simulated.py`): valid
  proofs that the audit cannot tell from real ones and verifies with the same work.

The table shows times, proofs per second and zkmargin's ratios (below 1: zkmargin is
faster); the JSON keeps every time, the machine and the acceptance checks; the PNG
plots proofs per second against batch size. The machine is shared and noisy: compare
ratios from one run, not times across runs.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._proofs import rerandomized  # noqa: E402
from benchmarks._simulated import Trapdoor  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
RESULTS = ROOT / "benchmarks" / "results"
_TIMEOUT_S = 1800

#: Acceptance of the verification issue (measured on the chain fixture's key).
ACCEPTANCE = {
    "single_ratio_vs_groth16py": ("max", 1.0),
    "batch1000_speedup_vs_single": ("min", 3.0),
    "batch1000_proofs_per_s": ("min", 3000.0),
    "audit_s": ("max", 5.0),
}

_SNARKJS_SERVER = r"""
const snarkjs = require("snarkjs");
const fs = require("fs");
const readline = require("readline");
const data = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
(async () => {
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const [cmd, arg] = line.trim().split(" ");
    if (cmd === "quit") break;
    const n = parseInt(arg, 10);
    const times = [];
    let ok = true;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const j = cmd === "single" ? 0 : i;
      const t = process.hrtime.bigint();
      ok = (await snarkjs.groth16.verify(data.vk, data.publics[j], data.proofs[j])) && ok;
      times.push(Number(process.hrtime.bigint() - t) / 1e9);
    }
    const total = Number(process.hrtime.bigint() - t0) / 1e9;
    process.stdout.write(JSON.stringify({ ok, total, times }) + "\n");
  }
  process.exit(0);
})();
"""


# ---- the verifiers --------------------------------------------------------------------------


class _Snarkjs:
    """One node process running snarkjs.groth16.verify on request."""

    def __init__(self, data_path: Path) -> None:
        modules = Path(os.environ.get("ZKMARGIN_NODE_PEERS", ROOT / ".npm-peers")) / "node_modules"
        node = shutil.which("node")
        if node is None or not (modules / "snarkjs").is_dir():
            raise SystemExit(f"snarkjs not found: need `node` and {modules}/snarkjs (set ZKMARGIN_NODE_PEERS)")
        self.proc = subprocess.Popen(
            [node, "-e", _SNARKJS_SERVER, str(data_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "NODE_PATH": str(modules)},
        )

    def run(self, cmd: str, n: int) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{cmd} {n}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the snarkjs process died")
        out = json.loads(line)
        if not out["ok"]:
            raise SystemExit(f"snarkjs rejected a valid proof ({cmd} {n})")
        return dict(out)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        self.proc.wait(timeout=60)


def _base_proof(zkey: Path, wtns: Path) -> tuple[Any, Any]:
    from circuits import read_wtns_limbs
    from prover import Prover

    return Prover.from_zkey(zkey).prove(read_wtns_limbs(wtns))


def _eth_proof(proof: Any) -> bytes:
    from algebra import g1_to_eth_bytes, g2_to_eth_bytes

    return g1_to_eth_bytes(proof.a) + g2_to_eth_bytes(proof.b) + g1_to_eth_bytes(proof.c)


def _one_by_one(g16: Any, texts: list[str], public_text: str) -> list[bool]:
    return [g16.verify_snarkjs(t, public_text) for t in texts]


def _timed(fn: Callable[[], Any], expect: Any = True) -> float:
    t = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t
    if not (all(result) if isinstance(result, list) else result is expect):
        raise SystemExit(f"a verifier rejected a valid proof: {fn}")
    return seconds


# ---- measuring ------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import groth16py  # a speed peer for benchmarks only, never imported by the package

    from verifier import Proof, PublicSignals, VerifyingKey, batch_verify, verify

    vk = VerifyingKey.load(FIXTURES / "verification_key.json")
    base, public = _base_proof(FIXTURES / "chain.zkey", FIXTURES / "chain.wtns")
    n_max = max(args.batches)
    proofs = rerandomized(base, vk, n_max, seed=7)
    texts = [p.to_json() for p in proofs]
    public_text = public.to_json()
    g16 = groth16py.Verifier(groth16py.VerifyingKey.from_snarkjs(vk.to_json()))
    eth = [_eth_proof(p) for p in proofs]
    ints = list(public.values)
    data = args.work_dir / "snarkjs-proofs.json"
    data.write_text(
        json.dumps(
            {
                "vk": vk.to_json_obj(),
                "proofs": [json.loads(t) for t in texts],
                "publics": [public.to_json_obj()] * n_max,
            }
        )
    )
    snarkjs = _Snarkjs(data)
    try:
        for _ in range(3):  # warm-up: kernels, prepared keys, V8
            verify(vk, public, proofs[0])
            batch_verify(vk, [(public, p) for p in proofs[:64]])
            g16.verify(eth[0], ints)
        snarkjs.run("single", 5)
        single: dict[str, list[float]] = {
            k: [] for k in ("zkmargin", "zkmargin_json", "groth16py", "groth16py_json", "snarkjs")
        }
        batch: dict[str, dict[int, list[float]]] = {
            k: {n: [] for n in args.batches} for k in ("zkmargin", "zkmargin_json", "groth16py", "snarkjs")
        }
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", file=sys.stderr)
            for _ in range(args.single):
                single["zkmargin"].append(_timed(lambda: verify(vk, public, proofs[0])))
                single["zkmargin_json"].append(
                    _timed(lambda: verify(vk, PublicSignals.from_json(public_text), Proof.from_json(texts[0])))
                )
                single["groth16py"].append(_timed(lambda: g16.verify(eth[0], ints)))
                single["groth16py_json"].append(_timed(lambda: g16.verify_snarkjs(texts[0], public_text)))
            single["snarkjs"] += snarkjs.run("single", args.single)["times"]
            for n in args.batches:
                items = [(public, p) for p in proofs[:n]]
                batch["zkmargin"][n].append(_timed(functools.partial(batch_verify, vk, items)))
                json_items = [(public_text, t) for t in texts[:n]]
                batch["zkmargin_json"][n].append(_timed(functools.partial(batch_verify, vk, json_items)))
                batch["groth16py"][n].append(_timed(functools.partial(_one_by_one, g16, texts[:n], public_text)))
                batch["snarkjs"][n].append(snarkjs.run("batch", n)["total"])
        bad_index = random.Random(11).randrange(n_max)
        items = [(public, p) for p in proofs]
        items[bad_index] = (public, Proof.from_points(proofs[bad_index].a, proofs[bad_index].b, proofs[0].a))
        t = time.perf_counter()
        named = [i for i, v in enumerate(batch_verify(vk, items)) if not v]
        one_bad = {"n": n_max, "bad": bad_index, "named": named, "s": time.perf_counter() - t}
        if named != [bad_index]:
            raise SystemExit(f"batch_verify named {named}, the bad proof is {bad_index}")
    finally:
        snarkjs.close()
    return {"single": single, "batch": batch, "n_public": vk.n_public, "one_bad": one_bad}


def _audit_ledger(n: int, work_dir: Path) -> Path:
    """A ledger of n simulated margin proofs (cached in work_dir by n)."""
    from engine import load_example_snapshot
    from ledger import Ledger, margin_signals

    path = work_dir / f"audit-{n}.db"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp.db")
    for stale in work_dir.glob(tmp.name + "*"):
        stale.unlink()
    snapshot = load_example_snapshot()
    trapdoor = Trapdoor.random(4, seed=n)
    rng = random.Random(n)
    commitments = [rng.randrange(1, 2**253) for _ in range(n)]
    statements = [margin_signals(c, snapshot.snapshot_hash(), "maintenance", 0) for c in commitments]
    proofs = trapdoor.proofs(statements, seed=n)
    with Ledger.open(tmp) as ledger:
        epoch = ledger.open_epoch(snapshot, trapdoor.verifying_key()).epoch
        from verifier import PublicSignals

        publics = [PublicSignals.from_values(s) for s in statements]
        ledger.preverify(epoch, list(zip(proofs, publics)))
        for i, (c, p, s) in enumerate(zip(commitments, proofs, publics)):
            outcome = ledger.record_account(epoch, f"acct{i:05d}", c, p, s)
            if outcome.status != "proven":
                raise SystemExit(f"simulated proof {i} was not accepted: {outcome}")
        ledger.close_epoch(epoch)
    tmp.rename(path)
    return path


def measure_audit(n: int, work_dir: Path, runs: int = 3) -> dict[str, Any]:
    path = _audit_ledger(n, work_dir)
    exe = Path(sys.executable).parent / "zkmargin"
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(
            [str(exe), "ledger", "audit", str(path)], capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
        )
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"ledger audit failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return {"proofs": n, "audit_s": statistics.median(times), "audit_times_s": times, "ledger": str(path)}


def measure_kernels(reps: int = 200) -> dict[str, float]:
    """Median microseconds of the verifier's kernels, called directly on kernel rows."""
    import numpy as np

    from algebra import G1, G2, PreparedG2, R, g1_to_lem, g2_to_lem, ints_to_limbs
    from algebra import _nb_pairing as pairing
    from algebra import _nb_subgroup as subgroup
    from verifier import VerifyingKey, prepare

    rng = random.Random(5)
    n = 64
    p = g1_to_lem([G1.mul(G1.generator, rng.randrange(1, R)) for _ in range(n)]).reshape(n, 8)
    q = g2_to_lem([G2.mul(G2.generator, rng.randrange(1, R)) for _ in range(n)]).reshape(n, 16)
    lines = np.stack([PreparedG2.of(G2.mul(G2.generator, k)).limbs for k in (3, 5)])
    no_p = p[:0]
    key = prepare(VerifyingKey.load(FIXTURES / "verification_key.json"))
    f = pairing.miller_loop(p[:1], q[:1], p[1:3], lines)
    partials = np.empty((n // 16 + 1, 12, 4), dtype=np.uint64)
    flags = np.empty(n, dtype=np.bool_)
    scalars = ints_to_limbs([rng.randrange(R) for _ in range(key.vk.n_public + 2)])
    r128 = ints_to_limbs([rng.randrange(1, 2**128) for _ in range(n)])
    idx = np.arange(n + 1, dtype=np.int64)

    def us(fn: Callable[[], Any], per: int = 1) -> float:
        fn()
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1e6 / per

    import algebra

    return {
        "miller_loop_1_pair_us": us(lambda: pairing.miller_loop(p[:1], q[:1], no_p, lines[:0])),
        "miller_loop_1_pair_2_prepared_us": us(lambda: pairing.miller_loop(p[:1], q[:1], p[1:3], lines)),
        "miller_loop_per_pair_of_64_parallel_us": us(
            lambda: pairing.miller_partials(p, q, no_p, lines[:0], 16, partials), n
        ),
        "final_exponentiation_us": us(lambda: pairing.final_exponentiation(f)),
        "g2_subgroup_check_us": us(lambda: subgroup.in_subgroup_row(q, 0)),
        "g2_subgroup_check_per_point_of_64_parallel_us": us(lambda: subgroup.in_subgroup_rows(q, flags), n),
        "public_input_term_us": us(lambda: key.bases.combination_limbs(scalars)),
        "g1_times_128_bit_per_point_of_64_us": us(lambda: algebra.g1_sparse_combination(p, idx, idx[:n], r128), n),
    }


# ---- reporting ------------------------------------------------------------------------------


def summarize(raw: dict[str, Any], audit: dict[str, Any] | None, batches: list[int]) -> dict[str, Any]:
    single = {k: statistics.median(v) for k, v in raw["single"].items()}
    rows = []
    for n in batches:
        row: dict[str, Any] = {"n": n}
        for name, runs in raw["batch"].items():
            s = statistics.median(runs[n])
            row[f"{name}_s"] = s
            row[f"{name}_proofs_per_s"] = n / s
        row["ratio_vs_groth16py"] = row["zkmargin_s"] / row["groth16py_s"]
        row["ratio_vs_snarkjs"] = row["zkmargin_s"] / row["snarkjs_s"]
        rows.append(row)
    out: dict[str, Any] = {
        "single_s": single,
        "single_ratio_vs_groth16py": single["zkmargin"] / single["groth16py"],
        "single_json_ratio_vs_groth16py": single["zkmargin_json"] / single["groth16py_json"],
        "single_ratio_vs_snarkjs": single["zkmargin"] / single["snarkjs"],
        "batches": rows,
        "audit": audit,
        "one_bad": raw["one_bad"],
    }
    big = next((r for r in rows if r["n"] == 1000), None)
    if big is not None:
        out["batch1000_proofs_per_s"] = big["zkmargin_proofs_per_s"]
        out["batch1000_speedup_vs_single"] = big["zkmargin_proofs_per_s"] * single["zkmargin"]
    if audit is not None and audit["proofs"] == 1000:
        out["audit_s"] = audit["audit_s"]
    checks = {}
    for key, (kind, limit) in ACCEPTANCE.items():
        value = out.get(key)
        ok = None if value is None else (value <= limit if kind == "max" else value >= limit)
        checks[key] = {"value": value, kind: limit, "pass": ok}
    out["acceptance"] = checks
    return out


def print_tables(summary: dict[str, Any], rounds: int, cpus: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    s = summary["single_s"]
    t = Table(title=f"one proof, warm, in-process: median call over {rounds} rounds, {cpus} cores (ms)")
    for col in ("input", "zkmargin", "groth16py", "snarkjs", "zkm/groth16py", "zkm/snarkjs"):
        t.add_column(col, justify="right")
    t.add_row(
        "parsed",
        f"{s['zkmargin'] * 1e3:.3f}",
        f"{s['groth16py'] * 1e3:.3f}",
        f"{s['snarkjs'] * 1e3:.3f}",
        f"{summary['single_ratio_vs_groth16py']:.2f}",
        f"{summary['single_ratio_vs_snarkjs']:.3f}",
    )
    t.add_row(
        "JSON text",
        f"{s['zkmargin_json'] * 1e3:.3f}",
        f"{s['groth16py_json'] * 1e3:.3f}",
        "-",
        f"{summary['single_json_ratio_vs_groth16py']:.2f}",
        "-",
    )
    console.print(t)
    b = Table(title="batches: zkmargin batch_verify; peers one by one (proofs/s, median round)")
    for col in (
        "n",
        "zkmargin",
        "zkmargin JSON",
        "groth16py JSON",
        "snarkjs",
        "zkm/groth16py time",
        "zkm/snarkjs time",
    ):
        b.add_column(col, justify="right")
    for r in summary["batches"]:
        b.add_row(
            str(r["n"]),
            *(f"{r[f'{k}_proofs_per_s']:,.0f}" for k in ("zkmargin", "zkmargin_json", "groth16py", "snarkjs")),
            f"{r['ratio_vs_groth16py']:.3f}",
            f"{r['ratio_vs_snarkjs']:.4f}",
        )
    console.print(b)
    bad = summary["one_bad"]
    console.print(
        f"a batch of {bad['n']:,} with one wrong proof (index {bad['bad']}): named {bad['named']} in {bad['s']:.2f} s"
    )
    if summary["audit"]:
        a = summary["audit"]
        console.print(
            f"zkmargin ledger audit of {a['proofs']:,} proofs, whole process: {a['audit_s']:.2f} s (median of 3)"
        )
    k = Table(title="kernels (median microseconds, kernel rows in and out)")
    k.add_column("kernel")
    k.add_column("us", justify="right")
    for name, value in summary["kernels_us"].items():
        k.add_row(name.removesuffix("_us").replace("_", " "), f"{value:,.1f}")
    console.print(k)
    acc = Table(title="acceptance")
    for col in ("check", "value", "limit", "pass"):
        acc.add_column(col)
    for key, c in summary["acceptance"].items():
        limit = c.get("max", c.get("min"))
        acc.add_row(
            key,
            "-" if c["value"] is None else f"{c['value']:.3f}",
            f"{'<=' if 'max' in c else '>='} {limit}",
            str(c["pass"]),
        )
    console.print(acc)


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    ns = [r["n"] for r in summary["batches"]]
    styles = {
        "zkmargin": ("tab:blue", "zkmargin batch_verify"),
        "zkmargin_json": ("tab:cyan", "zkmargin batch_verify (from JSON)"),
        "groth16py": ("tab:green", "groth16py, one by one (JSON)"),
        "snarkjs": ("tab:orange", "snarkjs, one by one"),
    }
    for key, (color, label) in styles.items():
        ax.plot(ns, [r[f"{key}_proofs_per_s"] for r in summary["batches"]], marker="o", color=color, label=label)
    ax.axhline(1 / summary["single_s"]["zkmargin"], color="tab:blue", linestyle=":", label="zkmargin verify, one proof")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("proofs in the batch")
    ax.set_ylabel("proofs verified per second")
    ax.set_title(f"Groth16 verification, one key, {os.cpu_count()} cores")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--single", type=int, default=50, help="single-proof calls per verifier per round")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--audit-proofs", type=int, default=1000, help="0 skips the audit")
    parser.add_argument("--work-dir", type=Path, default=RESULTS / "verify-cases")
    parser.add_argument("--out", type=Path, default=RESULTS / "verify.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "verify.png")
    args = parser.parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    kernels = measure_kernels()
    raw = measure(args)
    audit = measure_audit(args.audit_proofs, args.work_dir) if args.audit_proofs else None
    summary = summarize(raw, audit, args.batches)
    summary["kernels_us"] = kernels
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    print_tables(summary, args.rounds, cpus)
    report = {
        **summary,
        "raw": raw,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus_usable": cpus,
            "rounds": args.rounds,
            "single_calls": args.single,
            "loadavg_start": load_before,
            "loadavg_end": os.getloadavg(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str))
    plot(summary, args.plot)
    print(f"wrote {args.out} and {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
