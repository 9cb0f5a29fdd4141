"""The benchmark scripts run (on the smallest size) and report proofs that verified."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_reference_benchmark_runs_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "ref.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_reference.py"), "--hashes", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert rows[0]["constraints"] == 238
    assert rows[0]["prove_s"] > 0 and rows[0]["stage_witness_map_s"] >= 0


def test_prove_benchmark_compares_three_provers(tmp_path: Path) -> None:
    out = tmp_path / "prove.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_prove.py"),
            "--skip-chain",
            "--repeat",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(out.read_text())["rows"]
    assert row["constraints"] > 3000
    for key in ("zkmargin_s", "snarkjs_s", "groth16py_s", "ratio_vs_snarkjs", "ratio_vs_groth16py"):
        assert row[key] is not None and row[key] > 0, key
