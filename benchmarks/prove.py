"""Prover throughput against snarkjs and groth16py on the same .zkey and .wtns, in one run.

    .venv/bin/python benchmarks/bench_prove.py [--repeat 3] [--out benchmarks/results/prove.json]

Cases: the shared chain fixture (61,440 constraints, ../shared/fixtures) and a
~3,000-constraint circuit of our builder (13 chained Poseidon hashes) set up here from
pot16.ptau. Each prover proves each case `repeat` times; the table shows the median
wall time of one proof (key already loaded where the tool allows: snarkjs runs
in-process in one node process, groth16py imports the .zkey once) and zkmargin's
ratio to each peer (below 1 means zkmargin is faster). Every proof is checked.
The machines are noisy: compare ratios from one run, not times across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_reference import PoseidonChain, _chain_native  # noqa: E402
from circuits import compile_circuit, write_r1cs, write_wtns  # noqa: E402
from prover import export_verification_key, new_zkey, prove_files, read_ptau, read_zkey  # noqa: E402
from verifier import verify  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"

_SNARKJS_SCRIPT = r"""
const snarkjs = require("snarkjs");
const [zkey, wtns, vk, repeat] = [process.argv[1], process.argv[2], require(process.argv[3]), +process.argv[4]];
(async () => {
  const times = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtns);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (!(await snarkjs.groth16.verify(vk, publicSignals, proof))) throw new Error("snarkjs proof did not verify");
  }
  console.log(JSON.stringify(times));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
"""


def _node_modules() -> Path:
    base = Path(os.environ.get("ZKMARGIN_NODE_PEERS", ROOT / ".npm-peers"))
    return base / "node_modules"


def time_zkmargin(zkey: Path, wtns: Path, repeat: int) -> list[float]:
    vk = export_verification_key(read_zkey(zkey))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proof, public = prove_files(zkey, wtns)
        times.append(time.perf_counter() - t0)
        if not verify(vk, public, proof):
            raise SystemExit("zkmargin proof did not verify")
    return times


def time_snarkjs(zkey: Path, wtns: Path, vk_json: Path, repeat: int) -> list[float] | None:
    modules = _node_modules()
    if not (modules / "snarkjs").is_dir():
        return None
    env = {**os.environ, "NODE_PATH": str(modules)}
    proc = subprocess.run(
        ["node", "-e", _SNARKJS_SCRIPT, str(zkey), str(wtns), str(vk_json), str(repeat)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=3600,
    )
    return [float(t) for t in json.loads(proc.stdout.strip().splitlines()[-1])]


def time_groth16py(zkey: Path, wtns: Path, repeat: int) -> list[float] | None:
    try:
        import groth16py  # a speed peer for benchmarks only, never imported by the package
    except ImportError:
        return None
    pk, _vk = groth16py.import_zkey(str(zkey))  # (ProvingKey, VerifyingKey)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        groth16py.prove_wtns(pk, str(wtns))
        times.append(time.perf_counter() - t0)
    return times


def _builder_case(folder: Path) -> tuple[str, Path, Path, int]:
    compiled = compile_circuit(PoseidonChain(13))
    witness = compiled.solve({"x": 7, "out": _chain_native(7, 13)})
    r1cs, wtns, zkey = folder / "pchain.r1cs", folder / "pchain.wtns", folder / "pchain.zkey"
    write_r1cs(compiled.cs, r1cs, n_prv_in=1)
    write_wtns(witness.values, wtns)
    from circuits import read_r1cs

    new_zkey(read_r1cs(r1cs), read_ptau(FIXTURES / "pot16.ptau")).write(zkey)
    return "poseidon x13 (builder)", zkey, wtns, compiled.cs.n_constraints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "prove.json")
    parser.add_argument("--skip-chain", action="store_true", help="only the small builder circuit")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = [_builder_case(folder)]
        if not args.skip_chain:
            cases.append(("chain fixture", FIXTURES / "chain.zkey", FIXTURES / "chain.wtns", 61440))
        for name, zkey, wtns, constraints in cases:
            vk_json = folder / f"{zkey.stem}_vk.json"
            export_verification_key(read_zkey(zkey)).save(vk_json)
            ours = statistics.median(time_zkmargin(zkey, wtns, args.repeat))
            sj = time_snarkjs(zkey, wtns, vk_json, args.repeat)
            g16 = time_groth16py(zkey, wtns, args.repeat)
            rows.append(
                {
                    "case": name,
                    "constraints": constraints,
                    "zkmargin_s": ours,
                    "snarkjs_s": statistics.median(sj) if sj else None,
                    "groth16py_s": statistics.median(g16) if g16 else None,
                }
            )
    table = Table(title=f"Groth16 prove, median of {args.repeat} (2 cores)")
    for col in ("case", "constraints", "zkmargin s", "snarkjs s", "groth16py s", "zkm/snarkjs", "zkm/groth16py"):
        table.add_column(col, justify="right")

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    for r in rows:
        ratio_sj = r["zkmargin_s"] / r["snarkjs_s"] if r["snarkjs_s"] else None
        ratio_g = r["zkmargin_s"] / r["groth16py_s"] if r["groth16py_s"] else None
        r["ratio_vs_snarkjs"], r["ratio_vs_groth16py"] = ratio_sj, ratio_g
        table.add_row(
            r["case"],
            f"{r['constraints']:,}",
            fmt(r["zkmargin_s"]),
            fmt(r["snarkjs_s"]),
            fmt(r["groth16py_s"]),
            fmt(ratio_sj),
            fmt(ratio_g),
        )
    Console(width=140).print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.machine(), "python": platform.python_version(), "cpu_count": os.cpu_count()}
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
