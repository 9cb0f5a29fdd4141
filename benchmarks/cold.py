"""A one-off proof from the command line, whole process: `zkmargin groth16 prove` against
groth16py and the snarkjs CLI on the same .zkey and .wtns, in one run.

    ZKMARGIN_NODE_PEERS=.npm-peers .venv/bin/python benchmarks/cold.py [--runs 7]
        [--zkey ../shared/fixtures/chain.zkey --wtns ../shared/fixtures/chain.wtns]
        [--out benchmarks/results/cold.json] [--plot benchmarks/results/cold.png]

What a trader or an operator pays for one proof: interpreter start, imports, reading the
key and the witness, the first proof of a process (numba loads its cached kernels, V8
compiles snarkjs), writing the proof. Each run is a fresh process, timed from spawn to
exit by this script:

- zkmargin: the installed console script, `zkmargin groth16 prove <zkey> <wtns> proof.json
  public.json -v` (its -v lines give the proof's stage times);
- groth16py (arkworks): `python -c` importing groth16py, `import_zkey`, `prove_wtns`,
  writing the 256-byte proof (less than our JSON: in groth16py's favour);
- snarkjs: `node cli.cjs groth16 prove <zkey> <wtns> proof.json public.json`.

One untimed run each first (the OS page cache holds the files for all three), then
--runs rounds, the provers in turn within a round, so that machine noise falls on all of
them alike. Every proof written is verified by zkmargin's verifier against the key's
verifying key. zkmargin's time is split into interpreter and imports (a separate
`python -c "import cli._prove"` process, median), the proof's stages (from -v) and the
rest (reading the key and the witness, numba's first dispatch, kernels loaded from the
cache, writing JSON).

Prints a table, writes JSON (with the acceptance check: zkmargin's median at most 0.6x
groth16py's) and a PNG of the medians with zkmargin's split.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.prove import FIXTURES, RESULTS, _node_modules, groth16py_proof  # noqa: E402

PROVERS = ("zkmargin", "groth16py", "snarkjs")
#: Acceptance: zkmargin's median whole-process time over groth16py's.
MAX_RATIO_VS_GROTH16PY = 0.6
_TIMEOUT_S = 600

_GROTH16PY = (
    "import sys, groth16py\n"
    "pk, _vk = groth16py.import_zkey(sys.argv[1])\n"
    "open(sys.argv[3], 'wb').write(groth16py.prove_wtns(pk, sys.argv[2]))\n"
)


def _bin(name: str) -> str:
    """An executable of the interpreter's environment (the venv's console scripts)."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        raise SystemExit(f"{path} not found: run `make demo` or `make test` first")
    return str(path)


def _commands(zkey: Path, wtns: Path, out: Path) -> dict[str, list[str]]:
    node = shutil.which("node")
    cli = _node_modules() / "snarkjs" / "build" / "cli.cjs"
    if node is None or not cli.is_file():
        raise SystemExit(f"snarkjs not found: need `node` and {cli} (set ZKMARGIN_NODE_PEERS)")
    return {
        "zkmargin": [
            _bin("zkmargin"), "groth16", "prove", str(zkey), str(wtns),
            str(out / "zkmargin-proof.json"), str(out / "zkmargin-public.json"), "-v",
        ],
        "groth16py": [sys.executable, "-c", _GROTH16PY, str(zkey), str(wtns), str(out / "groth16py-proof.bin")],
        "snarkjs": [
            node, str(cli), "groth16", "prove", str(zkey), str(wtns),
            str(out / "snarkjs-proof.json"), str(out / "snarkjs-public.json"),
        ],
    }  # fmt: skip


def _timed(cmd: list[str]) -> tuple[float, str]:
    """Wall seconds from spawn to exit, and stderr; SystemExit if the process failed."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{Path(cmd[0]).name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return seconds, proc.stderr


def _stages(stderr: str) -> dict[str, float]:
    """zkmargin's -v stage lines ("  A in G1   0.195 s") as {stage: seconds}."""
    from prover import STAGES

    out: dict[str, float] = {}
    for line in stderr.splitlines():
        for stage in STAGES:
            rest = line.strip().removeprefix(stage)
            if rest != line.strip() and rest.strip().endswith(" s"):
                out[stage] = float(rest.strip()[:-2])
    return out


def _checker(zkey: Path, wtns: Path, out: Path) -> Callable[[str], None]:
    """Verifies the proof a prover just wrote (zkmargin's verifier, the key's vk)."""
    from algebra import limbs_to_ints
    from circuits import read_wtns_limbs
    from prover import export_verification_key, read_zkey
    from verifier import Proof, PublicSignals, verify

    vk = export_verification_key(read_zkey(zkey))
    expected = tuple(limbs_to_ints(read_wtns_limbs(wtns)[1 : vk.n_public + 1]))

    def check(name: str) -> None:
        if name == "groth16py":
            proof = groth16py_proof((out / "groth16py-proof.bin").read_bytes())
            public = PublicSignals.from_values(expected)
        else:
            proof = Proof.load(out / f"{name}-proof.json")
            public = PublicSignals.load(out / f"{name}-public.json")
        if public.values != expected or not verify(vk, public, proof):
            raise SystemExit(f"{name}: the proof it wrote does not verify")
        for f in out.iterdir():
            f.unlink()

    return check


def measure(zkey: Path, wtns: Path, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="zkmargin-cold-") as tmp:
        out = Path(tmp)
        commands, check = _commands(zkey, wtns, out), _checker(zkey, wtns, out)
        times: dict[str, list[float]] = {name: [] for name in PROVERS}
        stages: list[dict[str, float]] = []
        for name in PROVERS:  # untimed: the page cache, numba's and node's caches
            _timed(commands[name])
            check(name)
        for i in range(runs):
            print(f"round {i + 1}/{runs} ...", flush=True)
            for name in PROVERS:
                seconds, stderr = _timed(commands[name])
                check(name)
                times[name].append(seconds)
                if name == "zkmargin":
                    stages.append(_stages(stderr))
        imports = [_timed([sys.executable, "-c", "import cli._prove"])[0] for _ in range(runs)]
    median = {name: statistics.median(v) for name, v in times.items()}
    stage_median = {s: statistics.median(d[s] for d in stages) for s in stages[0]}
    split = {"interpreter and imports": statistics.median(imports), "proof stages": sum(stage_median.values())}
    split["the rest"] = median["zkmargin"] - sum(split.values())
    return {
        "times_s": times,
        "median_s": median,
        "ratio_vs_groth16py": median["zkmargin"] / median["groth16py"],
        "ratio_vs_snarkjs": median["zkmargin"] / median["snarkjs"],
        "zkmargin_stages_s": stage_median,
        "zkmargin_split_s": split,
    }


def print_table(result: dict[str, Any], runs: int, case: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"one proof, whole process ({case}), median of {runs} runs")
    for col in ("prover", "median s", "min s", "max s", "zkmargin / this"):
        table.add_column(col, justify="right" if col != "prover" else "left")
    for name in PROVERS:
        t = result["times_s"][name]
        ratio = result["median_s"]["zkmargin"] / result["median_s"][name]
        table.add_row(name, f"{statistics.median(t):.2f}", f"{min(t):.2f}", f"{max(t):.2f}", f"{ratio:.2f}")
    Console().print(table)
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in result["zkmargin_split_s"].items())
    Console().print(f"zkmargin's median split: {parts}")


def plot(result: dict[str, Any], path: Path, runs: int, case: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, name in enumerate(PROVERS):
        t = result["times_s"][name]
        if name == "zkmargin":
            left = 0.0
            for j, (part, s) in enumerate(result["zkmargin_split_s"].items()):
                ax.barh(i, s, left=left, color=plt.get_cmap("Blues")(0.4 + 0.2 * j), label=f"zkmargin: {part}")
                left += s
        else:
            ax.barh(i, statistics.median(t), color="tab:gray")
        ax.plot(t, [i] * len(t), "k|", markersize=12)
    ax.set_yticks(range(len(PROVERS)), PROVERS)
    ax.invert_yaxis()
    ax.set_xlabel(f"seconds from spawn to exit (bars: median of {runs}; ticks: every run)")
    ax.set_title(f"One Groth16 proof from the command line: {case}")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed processes per prover (default 7)")
    parser.add_argument("--zkey", type=Path, default=FIXTURES / "chain.zkey")
    parser.add_argument("--wtns", type=Path, default=FIXTURES / "chain.wtns")
    parser.add_argument("--out", type=Path, default=RESULTS / "cold.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "cold.png")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    case = args.zkey.name
    result = measure(args.zkey.resolve(), args.wtns.resolve(), args.runs)
    print_table(result, args.runs, case)
    ratio = result["ratio_vs_groth16py"]
    result["acceptance"] = {"ratio_vs_groth16py": ratio, "max": MAX_RATIO_VS_GROTH16PY}
    result["acceptance"]["pass"] = ratio <= MAX_RATIO_VS_GROTH16PY
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    result["case"] = {"zkey": str(args.zkey), "wtns": str(args.wtns), "runs": args.runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    plot(result, args.plot, args.runs, case)
    verdict = "PASS" if result["acceptance"]["pass"] else "FAIL"
    print(f"acceptance: zkmargin / groth16py = {ratio:.2f} (max {MAX_RATIO_VS_GROTH16PY}): {verdict}")
    print(f"every proof verified; wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    main()
