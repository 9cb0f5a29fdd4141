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
