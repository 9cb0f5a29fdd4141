"""The benchmark scripts run (on the smallest size) and report proofs that verified."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._node import ENV_VAR, node_peers_dir

ROOT = Path(__file__).resolve().parent.parent


def _script(name: str, *args: str, node_peers: bool = False, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """benchmarks/<name> run in its own process from the repository root; with
    `node_peers`, pointed at the npm peers (which must exist: the test fails, not skips)."""
    env = dict(os.environ)
    if node_peers:
        env[ENV_VAR] = str(node_peers_dir(["snarkjs"]).parent)
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        env=env,
    )


def test_reference_benchmark_runs_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "ref.json"
    proc = _script("bench_reference.py", "--hashes", "1", "--out", str(out), timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert rows[0]["constraints"] == 238
    assert rows[0]["prove_s"] > 0 and rows[0]["stage_witness_map_s"] >= 0


def test_prove_benchmark_compares_three_provers(tmp_path: Path) -> None:
    """benchmarks/prove.py on the 2^10 builder circuit only: zkmargin, snarkjs and groth16py
    each prove (and verify) in their own process; the JSON has the three times, the
    ratios, each process's peak RSS, and the PNG is written."""
    out, png = tmp_path / "prove.json", tmp_path / "prove.png"
    proc = _script(
        "prove.py",
        *("--sizes", "10", "--skip-chain", "--repeat", "1"),
        *("--work-dir", str(tmp_path / "cases"), "--out", str(out), "--plot", str(png)),
        node_peers=True,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
    report = json.loads(out.read_text())
    (row,) = report["rows"]
    assert row["hashes"] == 4 and 900 < row["constraints"] < 1024 and row["domain"] == 1024
    for key in (
        "zkmargin_s",
        "snarkjs_s",
        "groth16py_s",
        "ratio_vs_snarkjs",
        "ratio_vs_groth16py",
        "zkmargin_peak_rss_mb",
        "snarkjs_peak_rss_mb",
        "groth16py_peak_rss_mb",
        "rss_ratio",
    ):
        assert row[key] is not None and row[key] > 0, key
    assert row["ratio_vs_snarkjs"] == pytest.approx(row["zkmargin_s"] / row["snarkjs_s"])
    assert row["rss_ratio"] == pytest.approx(row["zkmargin_peak_rss_mb"] / row["snarkjs_peak_rss_mb"])
    for name in ("zkmargin", "snarkjs", "groth16py"):
        assert row[f"{name}_verified"] == 2, name  # the warm-up and the timed proof
    assert set(row["zkmargin_stages_s"]) == {"witness map", "A in G1", "B in G2", "B in G1", "C in G1"}
    assert report["acceptance"]["measured"] is False and report["acceptance"]["passed"] is None
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def example_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of dev keys for the example snapshot's circuits, shared by the epoch, scale
    and settlement benchmarks (each makes what it lacks, cached by circuit digest)."""
    return tmp_path_factory.mktemp("example-keys")


@pytest.fixture(scope="module")
def small_key(tmp_path_factory: pytest.TempPathFactory, small_ptau: Path) -> tuple[Path, Path]:
    """(.zkey, .wtns) of a ~400-constraint circuit in snarkjs's formats, phase 2 from the
    session's ptau: the benchmark scripts' smoke runs need their files, not their size."""
    from algebra import poseidon
    from circuits import CommitmentOpening, compile_circuit, read_r1cs, write_r1cs, write_wtns
    from prover import new_zkey, read_ptau, write_zkey

    d = tmp_path_factory.mktemp("small-key")
    circuit = compile_circuit(CommitmentOpening(bits=64))
    write_r1cs(circuit.cs, d / "small.r1cs")
    write_zkey(new_zkey(read_r1cs(d / "small.r1cs"), read_ptau(small_ptau)), d / "small.zkey")
    witness = circuit.solve({"commitment": poseidon([77, 5]), "minimum": 9, "value": 77, "salt": 5})
    write_wtns(witness.values, d / "small.wtns")
    return d / "small.zkey", d / "small.wtns"


def test_cold_benchmark_times_whole_processes_of_three_provers(tmp_path: Path, small_key: tuple[Path, Path]) -> None:
    """benchmarks/cold.py, one round on a small circuit (`make bench` runs it on the chain
    fixture): every prover's process is timed, every proof it wrote verified, zkmargin's
    time split, the PNG written."""
    out, png = tmp_path / "cold.json", tmp_path / "cold.png"
    files = ("--zkey", str(small_key[0]), "--wtns", str(small_key[1]))
    proc = _script("cold.py", "--runs", "1", *files, "--out", str(out), "--plot", str(png), node_peers=True)
    assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
    report = json.loads(out.read_text())
    assert set(report["median_s"]) == {"zkmargin", "groth16py", "snarkjs"}
    assert all(len(t) == 1 and t[0] > 0 for t in report["times_s"].values())
    median = report["median_s"]
    assert report["ratio_vs_groth16py"] == pytest.approx(median["zkmargin"] / median["groth16py"])
    assert set(report["zkmargin_stages_s"]) == {"witness map", "A in G1", "B in G2", "B in G1", "C in G1"}
    assert sum(report["zkmargin_split_s"].values()) == pytest.approx(report["median_s"]["zkmargin"])
    assert "every proof verified" in proc.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_kernels_benchmark_compares_msm_and_ntt_with_ffjavascript(tmp_path: Path) -> None:
    """benchmarks/kernels.py at 2^10: zkmargin and ffjavascript (in node) agree on every
    MSM and NTT, and the JSON carries both times, their ratio and the acceptance summary."""
    out, png = tmp_path / "kernels.json", tmp_path / "kernels.png"
    proc = _script(
        "kernels.py",
        *("--msm-log-sizes", "10", "--g2-msm-log-sizes", "10", "--ntt-log-sizes", "10"),
        *("--repeat", "1", "--no-fixture", "--skip", "scale"),
        *("--out", str(out), "--plot", str(png)),
        node_peers=True,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
    report = json.loads(out.read_text())
    rows = report["rows"]
    compared = [r for r in rows if "group" in r]
    kinds = {(r["group"], r["op"], r["log_size"], r.get("scalars", "")) for r in compared}
    assert kinds == {
        ("G1", "MSM", 10, "random full-width"),
        ("G1", "MSM", 10, "witness-like (50% 0, 40% 1)"),
        ("G2", "MSM", 10, "random full-width"),
        ("G2", "MSM", 10, "witness-like (50% 0, 40% 1)"),
        ("Fr", "NTT", 10, ""),
        ("Fr", "iNTT", 10, ""),
    }
    for r in compared:
        assert r["match"] is True, r
        assert r["zkmargin_s"] > 0 and r["ffjavascript_s"] > 0, r
        assert r["ratio"] == pytest.approx(r["zkmargin_s"] / r["ffjavascript_s"])
    assert all(r["roundtrip_ok"] for r in compared if r["group"] == "Fr")
    micro = {r["op"] for r in rows if "group" not in r}
    assert {"Fr mul (dependent chain)", "Fq mul (dependent chain)"} <= micro
    meta = report["meta"]
    assert meta["cpu_count"] >= 1 and meta["numba_threads"] >= 1 and meta["platform"]
    assert meta["ffjavascript"]["concurrency"] >= 1
    # no 2^16 rows in this run: the acceptance check is reported as not measured
    assert report["acceptance"]["G1"]["ratio"] is None and report["acceptance"]["passed"] is None
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_precompute_measurement_runs_and_checks_its_result(tmp_path: Path) -> None:
    out = tmp_path / "precompute.json"
    proc = _script("precompute.py", "--points", "512", "--windows", "6", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    plain, pre = json.loads(out.read_text())["rows"]
    assert plain["n"] == pre["n"] == 512 and pre["table_mb"] > 0 and pre["seconds"] > 0


def test_verify_benchmark_compares_three_verifiers(tmp_path: Path) -> None:
    """benchmarks/verify.py at its smallest: every verifier accepts every proof (or the
    script fails), batches and the single call are timed, the audit runs on a simulated
    ledger, and the JSON and PNG are written."""
    out, png = tmp_path / "verify.json", tmp_path / "verify.png"
    proc = _script(
        "verify.py",
        *("--rounds", "1", "--single", "3", "--batches", "1", "12", "--audit-proofs", "20"),
        *("--work-dir", str(tmp_path / "cases"), "--out", str(out), "--plot", str(png)),
        node_peers=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    report = json.loads(out.read_text())
    assert [r["n"] for r in report["batches"]] == [1, 12]
    for row in report["batches"]:
        for name in ("zkmargin", "zkmargin_json", "groth16py", "snarkjs"):
            assert row[f"{name}_proofs_per_s"] > 0
    assert set(report["single_s"]) == {"zkmargin", "zkmargin_json", "groth16py", "groth16py_json", "snarkjs"}
    assert report["audit"]["proofs"] == 20 and report["audit"]["audit_s"] > 0
    assert set(report["acceptance"]) == {
        "single_ratio_vs_groth16py",
        "batch1000_speedup_vs_single",
        "batch1000_proofs_per_s",
        "audit_s",
    }
    assert png.stat().st_size > 0
    assert "acceptance" in proc.stdout


def test_epoch_benchmark_proves_generated_accounts_end_to_end(tmp_path: Path, example_keys: Path) -> None:
    out, png = tmp_path / "epoch.json", tmp_path / "epoch.png"
    args = ["--sizes", "3", "--workers", "1", "--keys", str(example_keys), "--out", str(out), "--plot", str(png)]
    proc = _script("epoch.py", *args, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    (row,) = result["epochs"]
    assert (row["accounts"], row["workers"], row["proven"]) == (3, 1, 3)
    assert row["proofs_per_second"] > 0 and {"claim", "witness", "verify", "append"} <= set(
        row["stage_seconds_per_proof"]
    )
    assert result["witness"]["compiled_s"] < result["witness"]["python_s"]
    assert png.stat().st_size > 0


def test_scale_benchmark_runs_the_pool_dask_and_the_writer(tmp_path: Path, example_keys: Path) -> None:
    """benchmarks/scale.py on 4 accounts: the pool and Dask (1 and 2 local workers) each
    prove every account, the writer's ceiling is measured, the projections follow."""
    out, png = tmp_path / "scale.json", tmp_path / "scale.png"
    args = ["--accounts", "4", "--writer-accounts", "3", "--writer-runs", "1", "--keys", str(example_keys),
            "--out", str(out), "--plot", str(png)]  # fmt: skip
    proc = _script("scale.py", *args, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    runs = {(r["kind"], r["workers"]): r for r in result["epochs"]}
    assert set(runs) == {("pool", 2), ("dask", 1), ("dask", 2)}
    assert all(r["proven"] == 4 and r["proofs_per_s"] > 0 for r in runs.values())
    writer = result["writer"]
    assert writer["accounts"] == 3 and writer["accounts_per_s"] > 0
    million = result["projections"]["million"]
    assert [row["cores"] for row in million] == [8, 64, 512]
    assert all(row["hours_for_1e6"] * 3600 * row["proofs_per_s"] == pytest.approx(1e6) for row in million)
    share = result["acceptance"]["dask2_share_of_pool2"]["value"]
    assert share == pytest.approx(runs[("dask", 2)]["proofs_per_s"] / runs[("pool", 2)]["proofs_per_s"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_solvency_benchmark_proves_and_verifies_a_round(tmp_path: Path) -> None:
    """benchmarks/solvency.py on 6 accounts in batches of 4: the round is proven, recorded,
    verified in process and by `zkmargin solvency verify`; the JSON and PNG are written."""
    out, png = tmp_path / "solvency.json", tmp_path / "solvency.png"
    args = ["--accounts", "6", "--batch-size", "4", "--depth", "3", "--workers", "1",
            "--keys", str(tmp_path / "keys"), "--out", str(out), "--plot", str(png)]  # fmt: skip
    proc = _script("solvency.py", *args, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    (row,) = result["rounds"]
    assert (row["accounts"], row["batches"], row["workers"]) == (6, 2, 1) and row["accounts_per_second"] > 0
    assert result["verify"]["batches"] == 2 and result["verify"]["cli_process_s"] > 0
    assert result["acceptance"]["accounts_per_s"]["value"] == row["accounts_per_second"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_settlement_benchmark_compares_a_settled_epoch_with_an_unsettled_one(
    tmp_path: Path, example_keys: Path
) -> None:
    """benchmarks/settlement.py on 4 accounts: both epochs run, a liquidation happens, the
    untouched accounts' transitions are proven; the JSON and PNG are written."""
    out, png = tmp_path / "settlement.json", tmp_path / "settlement.png"
    args = ["--accounts", "4", "--workers", "1", "--keys", str(example_keys), "--out", str(out),
            "--plot", str(png)]  # fmt: skip
    proc = _script("settlement.py", *args, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (row,) = json.loads(out.read_text())["epochs"]
    assert (row["accounts"], row["workers"]) == (4, 1) and row["liquidations"] >= 1
    assert row["transitions_proven"] >= 1 and row["transitions_per_second"] > 0
    assert row["settled_epoch_seconds"] > 0 and row["plain_epoch_seconds"] > 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_onchain_benchmark_compares_gas_with_snarkjs_and_groth16py(tmp_path: Path, example_keys: Path) -> None:
    """benchmarks/onchain.py on a 1-input circuit, the margin key and a batch of 2: every
    verifier accepts, ours costs least, the batch of 2 costs less than two submits (a batch
    of one is checked as a single proof: within 1% of submit, the arrays' calldata)."""
    out, png = tmp_path / "onchain.json", tmp_path / "onchain.png"
    args = ["--inputs", "1", "--accounts", "2", "--batches", "1", "2", "--keys", str(example_keys),
            "--out", str(out), "--plot", str(png)]  # fmt: skip
    proc = _script("onchain.py", *args, node_peers=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [r["inputs"] for r in result["verify"]] == [1, 4]
    assert all(min(r["gas"].values()) == r["gas"]["zkmargin"] for r in result["verify"])
    one, two = result["ledger"]
    assert one["batch_gas"] <= 1.01 * one["submit_gas"] and two["batch_gas"] < two["submit_gas"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_explorer_benchmark_times_every_route_over_http(tmp_path: Path) -> None:
    """benchmarks/explorer.py on two epochs of 300 accounts: a real server answers every
    route; the JSON and PNG are written."""
    out, png = tmp_path / "explorer.json", tmp_path / "explorer.png"
    args = ["--accounts", "300", "--epochs", "2", "--runs", "1", "--out", str(out), "--plot", str(png)]
    proc = _script("explorer.py", *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (row,) = json.loads(out.read_text())["sizes"]
    assert row["accounts"] == 300 and len(row["ms"]) == 6 and all(v > 0 for v in row["ms"].values())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_commands_report_throughput(tmp_path: Path) -> None:
    from tests._engine import perp_snapshot

    zkmargin = Path(sys.executable).parent / "zkmargin"
    fixtures = ROOT.parent / "shared" / "fixtures"
    out = tmp_path / "prove.json"
    proc = subprocess.run(
        [str(zkmargin), "bench", "prove", str(fixtures / "chain.zkey"), str(fixtures / "chain.wtns"), "--runs", "2",
         "--out", str(out), "--plot", str(tmp_path / "prove.png")],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "proofs/s" in proc.stdout and json.loads(out.read_text())["runs"] == 2
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(perp_snapshot().model_dump_json())
    out = tmp_path / "epoch.json"
    proc = subprocess.run(
        [str(zkmargin), "bench", "epoch", "--snapshot", str(snapshot), "--accounts", "2", "--workers", "1",
         "--keys", str(tmp_path / "keys"), "--out", str(out)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["proven"] == 2 and result["proofs_per_second"] > 0 and "proofs/s end to end" in proc.stdout
    out = tmp_path / "epoch-dask.json"
    proc = subprocess.run(
        [str(zkmargin), "bench", "epoch", "--snapshot", str(snapshot), "--accounts", "2", "--dask-local", "1",
         "--keys", str(tmp_path / "keys"), "--out", str(out)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(out.read_text())["proven"] == 2 and "on Dask local, 1 workers" in proc.stdout
