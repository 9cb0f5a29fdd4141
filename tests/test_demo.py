"""`zkmargin demo` end to end, checked by snarkjs and by `zkmargin groth16 verify`,
both on the demo's files and after tampering with them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from algebra import G1, g1_from_snarkjs, g1_to_snarkjs
from tests._snarkjs import snarkjs

ZKMARGIN = Path(sys.executable).parent / "zkmargin"
FILES = ("verification_key.json", "public.json", "proof.json")


def _zkmargin(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ZKMARGIN), *map(str, args)], capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = _zkmargin("demo", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for word in ("constraints", "prove", "verify", "OK", "INSECURE"):
        assert word in proc.stdout
    # the margin engine's example accounts: one is liquidatable, the others healthy
    for line in ("healthy_cross", "liquidatable", "options_portfolio", "snapshot hash"):
        assert line in proc.stdout
    rows = {ln.split()[1]: ln for ln in proc.stdout.splitlines() if ln.startswith("│ ")}
    assert "liquidatable" in rows["liquidatable"].split("│")[4]
    assert "healthy" in rows["healthy_cross"].split("│")[4]
    return out


def _copy(demo_dir: Path, tmp_path: Path) -> Path:
    for name in FILES:
        shutil.copy(demo_dir / name, tmp_path / name)
    return tmp_path


def _verdicts(folder: Path) -> tuple[int, int]:
    paths = [folder / n for n in FILES]
    return snarkjs("groth16", "verify", *paths, check=False).returncode, _zkmargin(
        "groth16", "verify", *paths
    ).returncode


def test_demo_writes_the_three_files_and_says_insecure(demo_dir: Path) -> None:
    for name in FILES:
        assert (demo_dir / name).is_file()
    assert "INSECURE" in (demo_dir / "SETUP_IS_INSECURE.txt").read_text()
    assert "INSECURE" in json.loads((demo_dir / "verification_key.json").read_text())["zkmargin_setup"]


def test_snarkjs_and_zkmargin_accept_the_demo(demo_dir: Path) -> None:
    snarkjs_rc, ours_rc = _verdicts(demo_dir)
    assert (snarkjs_rc, ours_rc) == (0, 0)
    assert _zkmargin("groth16", "verify", *[demo_dir / n for n in FILES]).stdout.strip() == "OK"


@pytest.mark.parametrize("index", [0, 1])
def test_both_reject_a_changed_public_input(demo_dir: Path, tmp_path: Path, index: int) -> None:
    folder = _copy(demo_dir, tmp_path)
    public = json.loads((folder / "public.json").read_text())
    public[index] = str(int(public[index]) + 1)
    (folder / "public.json").write_text(json.dumps(public))
    assert _verdicts(folder) == (1, 1)


@pytest.mark.parametrize("field", ["pi_a", "pi_c"])
def test_both_reject_another_valid_point(demo_dir: Path, tmp_path: Path, field: str) -> None:
    folder = _copy(demo_dir, tmp_path)
    proof = json.loads((folder / "proof.json").read_text())
    proof[field] = g1_to_snarkjs(G1.double(g1_from_snarkjs(proof[field])))
    (folder / "proof.json").write_text(json.dumps(proof))
    assert _verdicts(folder) == (1, 1)


@pytest.mark.parametrize(("field", "i", "j"), [("pi_a", 0, None), ("pi_b", 1, 0), ("pi_c", 1, None)])
def test_both_reject_one_changed_coordinate(demo_dir: Path, tmp_path: Path, field: str, i: int, j: int | None) -> None:
    folder = _copy(demo_dir, tmp_path)
    proof = json.loads((folder / "proof.json").read_text())
    if j is None:
        proof[field][i] = str(int(proof[field][i]) + 1)
    else:
        proof[field][i][j] = str(int(proof[field][i][j]) + 1)
    (folder / "proof.json").write_text(json.dumps(proof))
    snarkjs_rc, ours_rc = _verdicts(folder)
    assert snarkjs_rc != 0
    assert ours_rc == 2  # off the curve: malformed, named
    err = _zkmargin("groth16", "verify", *[folder / n for n in FILES]).stderr
    assert "MalformedProofError" in err and field in err
