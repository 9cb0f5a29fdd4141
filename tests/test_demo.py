"""`zkmargin demo` end to end: two epochs over the example accounts, the second settled
(funding, expiry, a liquidation), its ledger and the snarkjs-compatible proofs, checked
by snarkjs and by `zkmargin groth16 verify` (also after tampering), by `zkmargin ledger
audit`, and a rerun that reuses the keys.

The demo's dev setup of the example margin circuit takes a minute or two: it runs
once for the module (and the rerun only proves)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from algebra import G1, g1_from_snarkjs, g1_to_snarkjs
from tests._snarkjs import snarkjs

ZKMARGIN = Path(sys.executable).parent / "zkmargin"
PROVEN = ("healthy_cross", "healthy_cross_portfolio", "isolated", "multi_collateral", "options_portfolio")
#: Epoch 2's proofs: every account, `liquidatable` once liquidated and `house` included.
SETTLED = (*PROVEN, "house", "liquidatable")


@dataclass(frozen=True)
class Demo:
    out: Path
    stdout: str
    stderr: str

    def files(self, account: str) -> tuple[Path, Path, Path]:
        """(verification_key.json, public.json, proof.json) in `snarkjs groth16 verify` order."""
        proofs = self.out / "proofs"
        return (
            self.out / "keys" / "verification_key.json",
            proofs / f"{account}.public.json",
            proofs / f"{account}.proof.json",
        )


def _zkmargin(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}  # rich tables on one line each
    return subprocess.run(
        [str(ZKMARGIN), *map(str, args)], capture_output=True, text=True, timeout=900, check=False, env=env
    )


def _run_demo(out: Path) -> Demo:
    proc = _zkmargin("demo", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Demo(out, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return _run_demo(tmp_path_factory.mktemp("demo") / "out")


def _tables(stdout: str, first_column: str) -> list[dict[str, str]]:
    """The header and first row of every rich table whose first column is `first_column`."""
    lines = stdout.splitlines()
    out = []
    for start in (i for i, ln in enumerate(lines) if re.match(rf"┃\s*{first_column}\s*┃", ln)):
        row = next(ln for ln in lines[start:] if ln.startswith("│"))
        names = [c.strip() for c in lines[start].strip("┃").split("┃")]
        out.append(dict(zip(names, [c.strip() for c in row.strip("│").split("│")], strict=True)))
    return out


def _table(stdout: str, first_column: str) -> dict[str, str]:
    """The first such table's header and first row."""
    return _tables(stdout, first_column)[0]


def _verdicts(*paths: Path) -> tuple[int, int]:
    return snarkjs("groth16", "verify", *paths, check=False).returncode, _zkmargin(
        "groth16", "verify", *paths
    ).returncode


def test_demo_prints_the_epoch_summaries(demo: Demo) -> None:
    first, second = _tables(demo.stdout, "accounts")
    assert (first["accounts"], first["healthy (proven)"], first["flagged"]) == ("7", "6", "1")
    assert (second["accounts"], second["healthy (proven)"], second["flagged"]) == ("7", "7", "0")
    assert first["rejected proofs"] == second["rejected proofs"] == "0"
    assert "flagged for liquidation: liquidatable" in demo.stdout
    assert "AUDIT OK" in demo.stdout and "18 proofs re-verified" in demo.stdout  # 6 + 7 margin, 5 transitions
    assert "INSECURE" in demo.stdout and "INSECURE dev setup" in demo.stderr
    assert "npx snarkjs groth16 verify" in demo.stdout and "zkmargin ledger audit" in demo.stdout
    # the engine's table over the accounts, before the epoch
    engine_rows: dict[str, str] = {}
    for ln in demo.stdout.splitlines():
        if ln.startswith("│ "):
            engine_rows.setdefault(ln.split("│")[1].strip(), ln)  # the first table names each account first
    assert "liquidatable" in engine_rows["liquidatable"].split("│")[5]
    for name in PROVEN:
        assert "healthy" in engine_rows[name].split("│")[5]
    assert "portfolio" in engine_rows["healthy_cross_portfolio"]


def test_demo_prints_the_second_epoch_s_settlement(demo: Demo) -> None:
    """Funding paid, the dated markets settled, `liquidatable` liquidated with the fund
    covering its bad debt, and the other accounts' transitions proven."""
    out = demo.stdout
    assert "epoch 2 settled (from epoch 1)" in out and "insurance fund" in out
    fund = {ln.split("│")[1].strip(): ln.split("│")[2].strip() for ln in out.splitlines() if ln.startswith("│ fund")}
    assert fund["fund before"] == "1,000,000.000000" and fund["fund after"] != fund["fund before"]
    assert "liquidations: 1" in out and re.search(r"liquidatable: \d position\(s\) closed", out)
    markets = {ln.split("│")[1].strip(): ln for ln in out.splitlines() if ln.startswith("│ BTC-")}
    assert markets["BTC-PERP"].split("│")[3].strip() != "-"  # the funding index moved
    assert markets["BTC-27MAR26"].split("│")[5].strip() != "-"  # the future expired at its settlement price
    assert "transitions: 1 counterparty, 1 liquidated, 5 proven" in out
    assert (demo.out / "state" / "epoch-2" / "liquidatable.json").is_file()


def test_demo_writes_accounts_keys_ledger_and_proofs(demo: Demo) -> None:
    out = demo.out
    assert {p.stem for p in (out / "accounts").glob("*.json")} == set(SETTLED)
    keys = {p.name for p in (out / "keys").iterdir()}
    assert keys >= {"margin.r1cs", "margin.zkey", "verification_key.json", "SETUP_IS_INSECURE.txt"}
    assert keys >= {"transition.r1cs", "transition.zkey", "transition_verification_key.json"}
    assert "INSECURE" in (out / "keys" / "SETUP_IS_INSECURE.txt").read_text()
    assert "INSECURE" in json.loads((out / "keys" / "verification_key.json").read_text())["zkmargin_setup"]
    assert (out / "ledger.db").is_file()
    assert sorted(p.name for p in (out / "proofs").iterdir()) == sorted(
        f"{a}.{kind}.json" for a in SETTLED for kind in ("proof", "public")
    )


@pytest.mark.parametrize("account", SETTLED)
def test_zkmargin_accepts_every_proof(demo: Demo, account: str) -> None:
    proc = _zkmargin("groth16", "verify", *demo.files(account))
    assert (proc.returncode, proc.stdout.strip()) == (0, "OK")


def test_snarkjs_accepts_a_proof(demo: Demo) -> None:
    assert snarkjs("groth16", "verify", *demo.files("options_portfolio"), check=False).returncode == 0


def test_the_ledger_audits_clean(demo: Demo) -> None:
    proc = _zkmargin("ledger", "audit", demo.out / "ledger.db")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("AUDIT OK")


def _copy(demo: Demo, account: str, tmp_path: Path) -> tuple[Path, Path, Path]:
    copies = tuple(tmp_path / p.name for p in demo.files(account))
    for src, dst in zip(demo.files(account), copies, strict=True):
        shutil.copy(src, dst)
    return copies  # type: ignore[return-value]


@pytest.mark.parametrize("index", [0, 1, 2])  # commitment, snapshot hash, requirement
def test_both_reject_a_changed_public_input(demo: Demo, tmp_path: Path, index: int) -> None:
    vk, public_path, proof = _copy(demo, "healthy_cross", tmp_path)
    public = json.loads(public_path.read_text())
    public[index] = str(int(public[index]) + 1)
    public_path.write_text(json.dumps(public))
    assert _verdicts(vk, public_path, proof) == (1, 1)


def test_both_reject_another_accounts_public_signals(demo: Demo, tmp_path: Path) -> None:
    vk, _, proof = demo.files("healthy_cross")
    _, other_public, _ = demo.files("isolated")
    assert _verdicts(vk, other_public, proof) == (1, 1)


def test_both_reject_another_valid_point(demo: Demo, tmp_path: Path) -> None:
    vk, public, proof_path = _copy(demo, "isolated", tmp_path)
    proof = json.loads(proof_path.read_text())
    proof["pi_a"] = g1_to_snarkjs(G1.double(g1_from_snarkjs(proof["pi_a"])))
    proof_path.write_text(json.dumps(proof))
    assert _verdicts(vk, public, proof_path) == (1, 1)


def test_a_rerun_reuses_the_keys(demo: Demo, tmp_path: Path) -> None:
    """Into a folder holding the first run's keys (copied, so the other tests' files stay)."""
    shutil.copytree(demo.out / "keys", tmp_path / "keys")
    zkey_bytes = (tmp_path / "keys" / "margin.zkey").read_bytes()
    rerun = _run_demo(tmp_path)
    assert "reusing the keys" in rerun.stderr and "INSECURE dev setup" not in rerun.stderr
    assert "reused from an earlier run" in rerun.stdout
    assert (tmp_path / "keys" / "margin.zkey").read_bytes() == zkey_bytes
    summary = _table(rerun.stdout, "accounts")
    assert (summary["accounts"], summary["healthy (proven)"], summary["flagged"]) == ("7", "6", "1")
    # a new ledger and new salts: fresh commitments, still the same verification key
    assert _zkmargin("groth16", "verify", *rerun.files("multi_collateral")).returncode == 0
    first_public = demo.files("healthy_cross")[1].read_text()
    assert (tmp_path / "proofs" / "healthy_cross.public.json").read_text() != first_public
