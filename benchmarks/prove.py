"""Groth16 prove time and peak memory: zkmargin against snarkjs and groth16py, same .zkey and .wtns, one run.

    ZKMARGIN_NODE_PEERS=.npm-peers .venv/bin/python benchmarks/prove.py [--repeat 5]
        [--sizes 10 11 12 13 14 15 16] [--skip-chain] [--work-dir benchmarks/results/prove-cases]
        [--out benchmarks/results/prove.json] [--plot benchmarks/results/prove.png]

Cases: the shared chain fixture (61,440 constraints, ../shared/fixtures/chain.zkey and
chain.wtns) and, for each n in --sizes, a circuit of our builder: k chained Poseidon
hashes (about 237 constraints each) with k the largest whose domain is still 2^n, so
the constraints are just below 2^n. Those are set up here from pot16.ptau with our
phase 2 (byte-identical to `snarkjs groth16 setup`); their .r1cs, .wtns and .zkey are
cached in --work-dir by k, so reruns skip the setup (about 35 s at 2^16).

Method. For every case, each prover runs in its own process, which loads the key
once, makes one untimed warm-up proof (numba loads its cached kernels, V8 compiles
snarkjs and ffjavascript starts its workers), then --repeat timed proofs:

- zkmargin: `Prover.from_zkey` (memory-mapped), then `prover.prove(read_wtns_limbs(wtns))`;
- snarkjs 0.7: in-process `snarkjs.groth16.prove(zkey, wtns)`, all in one node process
  (snarkjs re-reads the .zkey on every call; its load time is reading the key header and
  building the curve, via `zKey.exportVerificationKey`);
- groth16py (arkworks): `import_zkey` once, then `prove_wtns(pk, wtns)`.

The table shows the median wall time of one proof, zkmargin's ratios to each peer
(below 1: zkmargin is faster) and each process's peak RSS: VmHWM from /proc/self/status,
the high-water mark of its own memory (interpreter, key loading, proving; node's worker
threads included), read before any verification. Not ru_maxrss or node's maxRSS: on
Linux those start from the RSS of the process that spawned them.

Every proof, warm-up included, is verified here by zkmargin's verifier against the
key's verifying key and the witness's public signals (groth16py returns the 256-byte
Ethereum proof blob, decoded first); snarkjs also verifies its own proofs with
`snarkjs.groth16.verify`. The JSON keeps every time, the load and warm-up times,
zkmargin's per-stage medians, the machine and the acceptance check on the chain fixture;
the PNG plots time against constraints. The machine is shared and noisy: compare ratios
from one run, not times across runs.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIXTURES = ROOT.parent / "shared" / "fixtures"
RESULTS = ROOT / "benchmarks" / "results"
PROVERS = ("zkmargin", "snarkjs", "groth16py")
MAX_LOG_DOMAIN = 16  # pot16.ptau
#: Acceptance on the chain fixture: zkmargin's median prove time and peak RSS over the peers'.
ACCEPTANCE = {"ratio_vs_groth16py": 0.5, "ratio_vs_snarkjs": 0.25, "rss_ratio": 1.0}
_WORKER_FLAG = "--worker"
_TIMEOUT_S = 3600

_SNARKJS_SCRIPT = r"""
const t0 = process.hrtime.bigint();
const snarkjs = require("snarkjs");
const secs = (t) => Number(process.hrtime.bigint() - t) / 1e9;
// VmHWM of this process (worker threads included) in KB; maxRSS would carry the parent's RSS
const peakRss = () => {
  try {
    return +require("fs").readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)/)[1];
  } catch (e) {
    return process.resourceUsage().maxRSS;
  }
};
const [zkey, wtns, repeat] = [process.argv[1], process.argv[2], +process.argv[3]];
(async () => {
  const importS = secs(t0);
  let t = process.hrtime.bigint();
  const vk = await snarkjs.zKey.exportVerificationKey(zkey);  // key header + curve (workers)
  const loadS = secs(t);
  const runs = [];
  for (let i = 0; i <= repeat; i++) {  // run 0 is the warm-up
    t = process.hrtime.bigint();
    const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtns);
    runs.push({ s: secs(t), proof, public: publicSignals });
  }
  const peakRssKb = peakRss();  // before verifying
  for (const [i, r] of runs.entries()) {
    if (!(await snarkjs.groth16.verify(vk, r.public, r.proof))) {
      throw new Error(`snarkjs proof ${i} did not verify (snarkjs.groth16.verify)`);
    }
  }
  const version = require(require("path").join(process.env.NODE_PATH, "snarkjs", "package.json")).version;
  console.log(JSON.stringify({ import_s: importS, load_s: loadS, runs, peak_rss_kb: peakRssKb, version }));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
"""


# ---- the prover processes -------------------------------------------------------------


def _peak_rss_kb() -> int:
    """This process's peak RSS in KB: VmHWM, the high-water mark of its own address space.

    Not ru_maxrss: on Linux, exec carries the spawning process's RSS into it (the parent
    here holds the verifier and the setup, ~200 MB), so it would be a floor, not a peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux; bytes on macOS


def _worker(name: str, zkey: str, wtns: str, repeat: int) -> dict[str, Any]:
    """Runs in the prover's own process: load, warm up, prove `repeat` times. Run 0 is the warm-up."""
    runs: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    if name == "zkmargin":
        import numba

        from circuits import read_wtns_limbs
        from prover import Prover

        import_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        prover = Prover.from_zkey(zkey)
        load_s = time.perf_counter() - t0
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            proof, public = prover.prove(read_wtns_limbs(wtns))
            seconds = time.perf_counter() - t0
            runs.append(
                {
                    "s": seconds,
                    "stages": dict(prover.last_timings),
                    "proof": proof.to_json_obj(),
                    "public": public.to_json_obj(),
                }
            )
        version = f"numba {numba.__version__}, {numba.get_num_threads()} threads"
    elif name == "groth16py":
        import groth16py  # a speed peer for benchmarks only, never imported by the package

        import_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pk, _vk = groth16py.import_zkey(zkey)  # (ProvingKey, VerifyingKey)
        load_s = time.perf_counter() - t0
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            blob = groth16py.prove_wtns(pk, wtns)  # the 256-byte Ethereum proof
            runs.append({"s": time.perf_counter() - t0, "proof": blob.hex()})
        version = groth16py.__version__
    else:
        raise SystemExit(f"unknown worker {name!r}")
    return {"import_s": import_s, "load_s": load_s, "runs": runs, "peak_rss_kb": _peak_rss_kb(), "version": version}


def _last_json_line(stdout: str) -> Any:
    lines = [line for line in stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def _run_python_worker(name: str, zkey: Path, wtns: Path, repeat: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), _WORKER_FLAG, name, str(zkey), str(wtns), str(repeat)],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{name} worker failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return dict(_last_json_line(proc.stdout))


def _node_modules() -> Path:
    base = Path(os.environ.get("ZKMARGIN_NODE_PEERS", ROOT / ".npm-peers"))
    return base / "node_modules"


def _run_snarkjs(zkey: Path, wtns: Path, repeat: int) -> dict[str, Any]:
    modules = _node_modules()
    node = shutil.which("node")
    if node is None or not (modules / "snarkjs").is_dir():
        raise SystemExit(f"snarkjs not found: need `node` and {modules}/snarkjs (set ZKMARGIN_NODE_PEERS)")
    proc = subprocess.run(
        [node, "-e", _SNARKJS_SCRIPT, str(zkey), str(wtns), str(repeat)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(modules)},
        timeout=_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"snarkjs failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return dict(_last_json_line(proc.stdout))


# ---- verifying what the provers returned ------------------------------------------------


def groth16py_proof(blob: bytes) -> Any:
    """groth16py's proof blob as our Proof model. The blob is Ethereum's uint256[8], big-endian:
    A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y (G2 coordinates imaginary part first)."""
    from verifier import Proof

    if len(blob) != 256:
        raise ValueError(f"groth16py proof is {len(blob)} bytes, expected 256")
    u = [int.from_bytes(blob[32 * i : 32 * i + 32], "big") for i in range(8)]
    return Proof.from_points((u[0], u[1]), ((u[3], u[2]), (u[5], u[4])), (u[6], u[7]))


def _verify_runs(name: str, result: dict[str, Any], vk: Any, expected_public: tuple[int, ...]) -> int:
    """Verify every proof of one prover with zkmargin's verifier; the count verified."""
    from verifier import Proof, PublicSignals, verify

    for i, run in enumerate(result["runs"]):
        if name == "groth16py":
            proof, public = groth16py_proof(bytes.fromhex(run["proof"])), PublicSignals.from_values(expected_public)
        else:
            proof, public = Proof.from_json(run["proof"]), PublicSignals.from_json(run["public"])
            if public.values != expected_public:
                raise SystemExit(f"{name} proof {i}: public signals {public.values} != witness's {expected_public}")
        if not verify(vk, public, proof):
            raise SystemExit(f"{name} proof {i} did not verify")
    return len(result["runs"])


# ---- cases --------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    zkey: Path
    wtns: Path
    constraints: int
    domain: int
    hashes: int | None = None
    setup_s: float | None = None  # None for a fixture
    cached: bool = False  # set up by an earlier run (setup_s is that run's)


def _chain_case() -> Case:
    from circuits import read_r1cs
    from prover import read_zkey

    zkey, wtns = FIXTURES / "chain.zkey", FIXTURES / "chain.wtns"
    constraints = read_r1cs(FIXTURES / "chain.r1cs").n_constraints
    return Case("chain fixture", zkey, wtns, constraints, read_zkey(zkey).domain_size)


@functools.cache
def _chain_shape(k: int) -> tuple[int, int]:
    """(constraints, public signals) of the k-hash Poseidon chain."""
    from benchmarks.bench_reference import PoseidonChain
    from circuits import compile_circuit

    cs = compile_circuit(PoseidonChain(k)).cs
    return cs.n_constraints, cs.n_public


def hashes_for(log_n: int) -> int:
    """The largest k whose k-hash Poseidon chain has a domain of at most 2^log_n."""
    from prover import domain_size_for

    (c1, n_pub), (c2, _) = _chain_shape(1), _chain_shape(2)
    per, base = c2 - c1, c1 - (c2 - c1)  # constraints = base + per * k
    k = max(1, (2**log_n - n_pub - 1 - base) // per)
    while k > 1 and domain_size_for(base + per * k, n_pub) > 2**log_n:
        k -= 1
    return k


def _builder_case(k: int, work_dir: Path) -> Case:
    folder = work_dir / f"poseidon-chain-{k}"
    meta_path = folder / "case.json"
    r1cs, wtns, zkey = folder / "circuit.r1cs", folder / "circuit.wtns", folder / "circuit.zkey"
    name = f"poseidon x{k}"
    if meta_path.is_file() and r1cs.is_file() and wtns.is_file() and zkey.is_file():
        meta = json.loads(meta_path.read_text())
        return Case(name, zkey, wtns, meta["constraints"], meta["domain"], k, meta.get("setup_s"), cached=True)

    from benchmarks.bench_reference import PoseidonChain, _chain_native
    from circuits import compile_circuit, read_r1cs, write_r1cs, write_wtns
    from prover import new_zkey, read_ptau

    print(f"setting up {name} in {folder} ...", flush=True)
    t0 = time.perf_counter()
    compiled = compile_circuit(PoseidonChain(k))
    witness = compiled.solve({"x": 7, "out": _chain_native(7, k)})
    folder.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)
    write_r1cs(compiled.cs, r1cs, n_prv_in=1)
    write_wtns(witness.values, wtns)
    key = new_zkey(read_r1cs(r1cs), read_ptau(FIXTURES / "pot16.ptau"))
    key.write(zkey)
    setup_s = time.perf_counter() - t0
    meta = {"hashes": k, "constraints": compiled.cs.n_constraints, "domain": key.domain_size, "setup_s": setup_s}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")  # last: marks the case complete
    return Case(name, zkey, wtns, meta["constraints"], meta["domain"], k, setup_s)


# ---- measuring a case ---------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values)


def measure(case: Case, repeat: int) -> dict[str, Any]:
    from algebra import limbs_to_ints
    from circuits import read_wtns_limbs
    from prover import STAGES, export_verification_key, read_zkey

    vk = export_verification_key(read_zkey(case.zkey))
    expected_public = tuple(limbs_to_ints(read_wtns_limbs(case.wtns)[1 : vk.n_public + 1]))
    results = {
        "zkmargin": _run_python_worker("zkmargin", case.zkey, case.wtns, repeat),
        "snarkjs": _run_snarkjs(case.zkey, case.wtns, repeat),
        "groth16py": _run_python_worker("groth16py", case.zkey, case.wtns, repeat),
    }
    row: dict[str, Any] = {
        "case": case.name,
        "constraints": case.constraints,
        "domain": case.domain,
        "hashes": case.hashes,
        "setup_s": case.setup_s,
        "setup_cached": case.cached,
        "zkey": str(case.zkey),
        "wtns": str(case.wtns),
    }
    for name in PROVERS:
        res = results[name]
        times = [run["s"] for run in res["runs"][1:]]
        row[f"{name}_s"] = _median(times)
        row[f"{name}_times_s"] = times
        row[f"{name}_warmup_s"] = res["runs"][0]["s"]
        row[f"{name}_import_s"] = res["import_s"]
        row[f"{name}_load_s"] = res["load_s"]
        row[f"{name}_peak_rss_mb"] = res["peak_rss_kb"] / 1024
        row[f"{name}_verified"] = _verify_runs(name, res, vk, expected_public)
        row[f"{name}_version"] = res["version"]
    stage_runs = [run["stages"] for run in results["zkmargin"]["runs"][1:]]
    row["zkmargin_stages_s"] = {stage: _median([s.get(stage, 0.0) for s in stage_runs]) for stage in STAGES}
    row["ratio_vs_snarkjs"] = row["zkmargin_s"] / row["snarkjs_s"]
    row["ratio_vs_groth16py"] = row["zkmargin_s"] / row["groth16py_s"]
    row["rss_ratio"] = row["zkmargin_peak_rss_mb"] / row["snarkjs_peak_rss_mb"]
    row["rss_ratio_vs_groth16py"] = row["zkmargin_peak_rss_mb"] / row["groth16py_peak_rss_mb"]
    return row


def acceptance(rows: list[dict[str, Any]]) -> dict[str, Any]:
    chain = next((r for r in rows if r["case"] == "chain fixture"), None)
    out: dict[str, Any] = {"case": "chain fixture", "measured": chain is not None}
    for key, limit in ACCEPTANCE.items():
        value = chain[key] if chain else None
        out[key] = {"value": value, "max": limit, "pass": None if value is None else value <= limit}
    out["passed"] = all(out[k]["pass"] for k in ACCEPTANCE) if chain else None
    return out


def _machine(repeat: int, load_before: tuple[float, float, float]) -> dict[str, Any]:
    node = shutil.which("node")
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "node": node_version,
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "repeat": repeat,
        "warmup_proofs": 1,
        "loadavg_start": load_before,
        "loadavg_end": os.getloadavg(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


# ---- output -------------------------------------------------------------------------------


def _fmt(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def print_tables(rows: list[dict[str, Any]], repeat: int, cpus: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=180)
    table = Table(title=f"Groth16 prove: median of {repeat} after 1 warm-up, {cpus} cores; peak RSS per process")
    for col in (
        "case",
        "constraints",
        "zkmargin s",
        "snarkjs s",
        "groth16py s",
        "zkm/snarkjs",
        "zkm/groth16py",
        "zkm RSS MB",
        "snarkjs RSS MB",
        "groth16py RSS MB",
        "RSS zkm/snarkjs",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["case"],
            f"{r['constraints']:,}",
            _fmt(r["zkmargin_s"], 3),
            _fmt(r["snarkjs_s"], 3),
            _fmt(r["groth16py_s"], 3),
            _fmt(r["ratio_vs_snarkjs"]),
            _fmt(r["ratio_vs_groth16py"]),
            _fmt(r["zkmargin_peak_rss_mb"], 0),
            _fmt(r["snarkjs_peak_rss_mb"], 0),
            _fmt(r["groth16py_peak_rss_mb"], 0),
            _fmt(r["rss_ratio"]),
        )
    console.print(table)

    detail = Table(title="key load and warm-up proof (s); zkmargin's median stages (s)")
    for col in ("case", "zkm load", "snarkjs load", "g16py load", "zkm warm-up", "snarkjs warm-up", "g16py warm-up"):
        detail.add_column(col, justify="right")
    stages = list(rows[0]["zkmargin_stages_s"]) if rows else []
    for stage in stages:
        detail.add_column(stage, justify="right")
    for r in rows:
        detail.add_row(
            r["case"],
            *(_fmt(r[f"{p}_load_s"]) for p in PROVERS),
            *(_fmt(r[f"{p}_warmup_s"]) for p in PROVERS),
            *(_fmt(r["zkmargin_stages_s"][s], 3) for s in stages),
        )
    console.print(detail)


def plot(rows: list[dict[str, Any]], path: Path, repeat: int, cpus: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"zkmargin": "tab:blue", "snarkjs": "tab:orange", "groth16py": "tab:green"}
    builder = sorted((r for r in rows if r["hashes"] is not None), key=lambda r: r["constraints"])
    fixtures = [r for r in rows if r["hashes"] is None]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for name in PROVERS:
        if builder:
            ax.plot(
                [r["constraints"] for r in builder],
                [r[f"{name}_s"] for r in builder],
                marker="o",
                color=colors[name],
                label=f"{name} (builder circuits)",
            )
        for r in fixtures:
            ax.plot(
                [r["constraints"]],
                [r[f"{name}_s"]],
                marker="*",
                markersize=15,
                linestyle="none",
                color=colors[name],
                markeredgecolor="black",
                label=f"{name} ({r['case']})",
            )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("constraints")
    ax.set_ylabel(f"prove wall time, median of {repeat} (s)")
    ax.set_title(f"Groth16 prove over BN254, same .zkey and .wtns ({cpus} cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed proofs per prover and case (default 5)")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=list(range(10, 17)),
        metavar="LOG2",
        help="builder circuits with just under 2^LOG2 constraints (10..16; default all)",
    )
    parser.add_argument("--skip-chain", action="store_true", help="leave out the chain fixture")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=RESULTS / "prove-cases",
        help="cache of the builder circuits' .r1cs/.wtns/.zkey, by hash count",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "prove.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "prove.png")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    bad = [n for n in args.sizes if not 1 <= n <= MAX_LOG_DOMAIN]
    if bad:
        parser.error(f"--sizes must be in 1..{MAX_LOG_DOMAIN} (pot16.ptau), got {bad}")

    load_before = os.getloadavg()
    cases = [_builder_case(hashes_for(n), args.work_dir) for n in sorted(set(args.sizes))]
    if not args.skip_chain:
        cases.append(_chain_case())
    rows = []
    for case in cases:
        print(f"proving {case.name} ({case.constraints:,} constraints), {args.repeat} + 1 warm-up each ...", flush=True)
        rows.append(measure(case, args.repeat))

    meta = _machine(args.repeat, load_before)
    cpus = meta["cpus_usable"]
    print_tables(rows, args.repeat, cpus)
    report = {"meta": meta, "rows": rows, "acceptance": acceptance(rows)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    plot(rows, args.plot, args.repeat, cpus)
    acc = report["acceptance"]
    if acc["measured"]:
        verdict = "PASS" if acc["passed"] else "FAIL"
        parts = ", ".join(f"{k} {acc[k]['value']:.2f} (max {acc[k]['max']})" for k in ACCEPTANCE)
        print(f"acceptance on the chain fixture: {verdict}: {parts}")
    print(f"every proof verified; wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == _WORKER_FLAG:
        print(json.dumps(_worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
    else:
        main()
