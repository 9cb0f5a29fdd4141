"""`zkmargin margin-setup` and `zkmargin prove-account` through the console script.

One small snapshot (USDC + BTC, one BTC perpetual: ~5.7k constraints) and one INSECURE
dev setup for the whole module; proofs are checked by `zkmargin groth16 verify` and by
snarkjs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from circuits import CommitmentOpening, compile_circuit
from engine import Account, Position
from engine._commitment import commit
from prover import InsecureSetupWarning, ZkeyFile, dev_setup, write_zkey
from tests._engine import USD, account, perp_snapshot
from tests._snarkjs import snarkjs

ZKMARGIN = Path(sys.executable).parent / "zkmargin"

SNAP = perp_snapshot()
# 1 BTC long at 65,000 entry, 10,000 USDC: healthy. 1,000 USDC against 20 BTC: not.
HEALTHY = account(Position(market="BTC-PERP", size=100_000_000, quote=-65_000 * USD), usdc=10_000 * USD)
UNHEALTHY = account(Position(market="BTC-PERP", size=2_000_000_000, quote=-1_310_000 * USD), usdc=1_000 * USD)
PORTFOLIO = HEALTHY.model_copy(update={"margin_mode": "portfolio"})
SALT = (1 << 200) + 12345


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [str(ZKMARGIN), *map(str, args)], capture_output=True, text=True, timeout=300, check=False, env=env
    )


def _write(path: Path, model: Account | object) -> Path:
    path.write_text(model.model_dump_json())  # type: ignore[attr-defined]
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("prove_account")
    _write(d / "snapshot.json", SNAP)
    _write(d / "healthy.json", HEALTHY)
    _write(d / "unhealthy.json", UNHEALTHY)
    _write(d / "portfolio.json", PORTFOLIO)
    res = run("margin-setup", "--snapshot", d / "snapshot.json", "--out-dir", d / "keys", "--dev")
    assert res.returncode == 0, res.stderr
    assert "INSECURE" in res.stderr
    return d


def prove(
    work: Path, acct: str, out: Path, *extra: str | Path, zkey: Path | None = None
) -> subprocess.CompletedProcess[str]:
    out.mkdir(exist_ok=True)
    return run(
        "prove-account",
        work / acct,
        "--snapshot",
        work / "snapshot.json",
        "--zkey",
        zkey or work / "keys" / "margin.zkey",
        "--proof",
        out / "proof.json",
        "--public",
        out / "public.json",
        *extra,
    )


def test_margin_setup_writes_keys_and_requires_one_mode(work: Path, tmp_path: Path) -> None:
    keys = work / "keys"
    written = {"margin.r1cs", "margin.zkey", "verification_key.json", "margin.circuit.npz"}
    assert {p.name for p in keys.iterdir()} >= written
    assert "INSECURE" in json.loads((keys / "verification_key.json").read_text())["zkmargin_setup"]
    assert (keys / "SETUP_IS_INSECURE.txt").exists()
    for mode in ((), ("--dev", "--ptau", tmp_path / "x.ptau")):
        res = run("margin-setup", "--snapshot", work / "snapshot.json", "--out-dir", tmp_path / "k", *mode)
        assert res.returncode == 2 and "exactly one of --ptau" in res.stderr
        assert not (tmp_path / "k").exists()


def test_healthy_account_proves_and_both_verifiers_agree(work: Path, tmp_path: Path) -> None:
    res = prove(work, "healthy.json", tmp_path)
    assert res.returncode == 0, res.stderr
    salt_file = tmp_path / "proof.json.salt"
    assert salt_file.stat().st_mode & 0o777 == 0o600
    salt = int(salt_file.read_text())
    assert str(salt) not in res.stdout + res.stderr  # the salt is never printed
    commitment = commit(HEALTHY, SNAP, salt)
    assert f"commitment: {commitment}" in res.stdout
    assert "secret opening" in res.stderr
    public = json.loads((tmp_path / "public.json").read_text())
    assert public == [str(commitment), str(SNAP.snapshot_hash()), "0", "0"]

    vk = work / "keys" / "verification_key.json"
    args = (vk, tmp_path / "public.json", tmp_path / "proof.json")
    ours = run("groth16", "verify", *args)
    assert ours.returncode == 0 and "OK" in ours.stdout
    assert snarkjs("groth16", "verify", *args, check=False).returncode == 0

    # Tampered public signals: both reject.
    bad = tmp_path / "bad_public.json"
    bad.write_text(json.dumps([str(commitment + 1), *public[1:]]))
    bad_args = (vk, bad, tmp_path / "proof.json")
    assert run("groth16", "verify", *bad_args).returncode == 1
    assert snarkjs("groth16", "verify", *bad_args, check=False).returncode != 0

    # An existing salt file is never overwritten; --salt-file proves against the same commitment.
    again = prove(work, "healthy.json", tmp_path)
    assert again.returncode == 2 and "SaltFileExistsError" in again.stderr
    assert int(salt_file.read_text()) == salt
    out2 = tmp_path / "again"
    reuse = prove(work, "healthy.json", out2, "--salt-file", salt_file, "--requirement", "initial")
    assert reuse.returncode == 0, reuse.stderr
    assert f"commitment: {commitment}" in reuse.stdout
    assert json.loads((out2 / "public.json").read_text())[2] == "1"
    assert not (out2 / "proof.json.salt").exists()


def test_weak_salt_is_refused(work: Path, tmp_path: Path) -> None:
    res = prove(work, "healthy.json", tmp_path, "--salt", "12345")
    assert res.returncode == 2 and "WeakSaltError" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_unhealthy_account_is_refused_and_nothing_is_written(work: Path, tmp_path: Path) -> None:
    res = prove(work, "unhealthy.json", tmp_path)
    assert res.returncode == 1, res.stderr
    line = res.stdout.strip()
    assert line.startswith("NOT PROVED:") and "maintenance requirement" in line and "equity" in line
    assert "no proof was made" in line
    assert list(tmp_path.iterdir()) == []
    # A healthy account against a ratio bound it does not meet: refused too.
    res = prove(work, "healthy.json", tmp_path, "--max-margin-ratio-ppm", "1", "--salt", str(SALT))
    assert res.returncode == 1 and "margin ratio" in res.stdout
    assert list(tmp_path.iterdir()) == []


def test_zkey_of_another_circuit_is_a_named_error(work: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        pk = dev_setup(compile_circuit(CommitmentOpening(bits=8)).cs)
    other = tmp_path / "other.zkey"
    write_zkey(ZkeyFile.from_proving_key(pk), other)
    out = tmp_path / "out"
    res = prove(work, "healthy.json", out, zkey=other)
    assert res.returncode == 2
    assert res.stderr.startswith("ERROR: MismatchedFilesError:") and "n_vars" in res.stderr
    assert list(out.iterdir()) == []


def test_portfolio_mode_account_proves_with_the_same_key(work: Path, tmp_path: Path) -> None:
    """The margin mode is private: a portfolio-mode account proves with the snapshot's one
    key (its BTC perpetual margined on the grid), and the proof verifies."""
    res = prove(work, "portfolio.json", tmp_path)
    assert res.returncode == 0, res.stderr
    salt = int((tmp_path / "proof.json.salt").read_text())
    public = json.loads((tmp_path / "public.json").read_text())
    assert public[0] == str(commit(PORTFOLIO, SNAP, salt)) != str(commit(HEALTHY, SNAP, salt))
    vk = work / "keys" / "verification_key.json"
    ours = run("groth16", "verify", vk, tmp_path / "public.json", tmp_path / "proof.json")
    assert ours.returncode == 0 and "OK" in ours.stdout
