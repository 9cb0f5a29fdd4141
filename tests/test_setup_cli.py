"""Issue-level interop: zkmargin's setup, contributions, key checks and prover against
snarkjs, on the shared chain fixture and on circuits circom2 compiles in the test."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from algebra import G1, g1_from_lem, g1_to_lem, poseidon
from circuits import CommitmentOpening, compile_circuit, write_r1cs, write_wtns
from prover import read_zkey
from tests._paths import FIXTURES
from tests._snarkjs import circom2, snarkjs, wtns_calculate

ZKMARGIN = Path(sys.executable).parent / "zkmargin"


def zkmargin(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ZKMARGIN), *map(str, args)], capture_output=True, text=True, timeout=900, check=False)


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _snarkjs_accepts(vk: Path, public: Path, proof: Path) -> bool:
    return snarkjs("groth16", "verify", vk, public, proof, check=False).returncode == 0


def _zkmargin_accepts(vk: Path, public: Path, proof: Path) -> bool:
    return zkmargin("groth16", "verify", vk, public, proof).returncode == 0


# ---- the shared chain fixture (61,440 constraints) -------------------------------------


def test_chain_fixture_proof_verifies_with_snarkjs_and_public_json_matches(tmp_path: Path) -> None:
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    _ok(zkmargin("groth16", "prove", FIXTURES / "chain.zkey", FIXTURES / "chain.wtns", proof, public))
    vk = FIXTURES / "verification_key.json"
    assert _snarkjs_accepts(vk, public, proof)
    their_proof, their_public = tmp_path / "their_proof.json", tmp_path / "their_public.json"
    snarkjs("groth16", "prove", FIXTURES / "chain.zkey", FIXTURES / "chain.wtns", their_proof, their_public)
    assert public.read_text() == their_public.read_text()
    assert _zkmargin_accepts(vk, their_public, their_proof)
    # a changed public signal fails both
    tampered = tmp_path / "tampered.json"
    values = json.loads(public.read_text())
    tampered.write_text(json.dumps([str(int(values[0]) + 1), *values[1:]]))
    assert not _snarkjs_accepts(vk, tampered, proof)
    assert not _zkmargin_accepts(vk, tampered, proof)


# ---- circom2 circuits: setup, contribute, verify both ways --------------------------------

SHAPES = {
    # a public output and one public input
    "mult": """
pragma circom 2.0.0;
template Mult() { signal input a; signal input b; signal input c; signal output d; signal t;
  t <== a * b; d <== t * c + a; }
component main {public [a]} = Mult();
""",
    # many public inputs, two outputs
    "sums": """
pragma circom 2.0.0;
template Sums(n) { signal input xs[n]; signal input k; signal output s; signal output p;
  signal acc[n + 1]; acc[0] <== 0;
  for (var i = 0; i < n; i++) { acc[i + 1] <== acc[i] + xs[i] * k; }
  s <== acc[n]; p <== s * k; }
component main {public [xs]} = Sums(12);
""",
    # circomlib's Poseidon: dense linear rows, private inputs only
    "poseidon": """
pragma circom 2.0.0;
include "circomlib/circuits/poseidon.circom";
template H() { signal input a; signal input b; signal output h;
  component p = Poseidon(1); p.inputs[0] <== a * b; h <== p.out; }
component main = H();
""",
}
INPUTS = {
    "mult": {"a": 3, "b": 4, "c": 5},
    "sums": {"xs": list(range(1, 13)), "k": 7},
    "poseidon": {"a": 1, "b": 2},
}


@dataclass(frozen=True)
class Keys:
    folder: Path
    r1cs: Path
    wtns: Path
    zkey: Path  # ours, with one contribution of ours
    vk: Path


@pytest.fixture(scope="module", params=sorted(SHAPES))
def keys(request: pytest.FixtureRequest, small_ptau: Path, tmp_path_factory: pytest.TempPathFactory) -> Keys:
    name = request.param
    folder = tmp_path_factory.mktemp(name)
    src = folder / f"{name}.circom"
    src.write_text(SHAPES[name])
    build = circom2(src, folder, optimize="--O2" if name == "poseidon" else "--O1")
    (folder / "input.json").write_text(json.dumps(INPUTS[name]))
    wtns = wtns_calculate(build.wasm, folder / "input.json", folder / "w.wtns")
    z0, z1, vk = folder / "k0.zkey", folder / "k1.zkey", folder / "vk.json"
    _ok(zkmargin("groth16", "setup", build.r1cs, small_ptau, z0))
    _ok(zkmargin("zkey", "contribute", z0, z1, "--name", "zkmargin test", "-e", "entropy"))
    _ok(zkmargin("zkey", "export", "verificationkey", z1, vk))
    return Keys(folder, build.r1cs, wtns, z1, vk)


def test_our_setup_equals_snarkjs_setup_byte_for_byte(keys: Keys, small_ptau: Path) -> None:
    ours, theirs = keys.folder / "ours0.zkey", keys.folder / "theirs0.zkey"
    _ok(zkmargin("groth16", "setup", keys.r1cs, small_ptau, ours))
    snarkjs("groth16", "setup", keys.r1cs, small_ptau, theirs)
    assert ours.read_bytes() == theirs.read_bytes()


def test_snarkjs_zkey_verify_accepts_our_contributed_key(keys: Keys, small_ptau: Path) -> None:
    proc = snarkjs("zkey", "verify", keys.r1cs, small_ptau, keys.zkey, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ZKey Ok!" in proc.stdout + proc.stderr
    assert _ok(zkmargin("zkey", "verify", keys.r1cs, small_ptau, keys.zkey)).stdout.strip().endswith("OK")


def test_our_zkey_verify_accepts_snarkjs_contributions_on_top_of_ours(keys: Keys, small_ptau: Path) -> None:
    theirs = keys.folder / "k2.zkey"
    snarkjs("zkey", "contribute", keys.zkey, theirs, "--name=snarkjs", "-e=more entropy")
    assert _ok(zkmargin("zkey", "verify", keys.r1cs, small_ptau, theirs)).stdout.strip().endswith("OK")
    ours_again = keys.folder / "k3.zkey"
    _ok(zkmargin("zkey", "contribute", theirs, ours_again, "-e", "x"))
    assert snarkjs("zkey", "verify", keys.r1cs, small_ptau, ours_again, check=False).returncode == 0


def test_proofs_from_either_prover_verify_with_either_verifier(keys: Keys) -> None:
    for prover in ("zkmargin", "snarkjs"):
        proof, public = keys.folder / f"{prover}_proof.json", keys.folder / f"{prover}_public.json"
        if prover == "zkmargin":
            _ok(zkmargin("groth16", "prove", keys.zkey, keys.wtns, proof, public))
        else:
            snarkjs("groth16", "prove", keys.zkey, keys.wtns, proof, public)
        assert _snarkjs_accepts(keys.vk, public, proof), prover
        assert _zkmargin_accepts(keys.vk, public, proof), prover
        doc = json.loads(proof.read_text())
        doc["pi_a"] = [str(c) for c in G1.double((int(doc["pi_a"][0]), int(doc["pi_a"][1])))] + ["1"]
        bad = keys.folder / f"{prover}_bad.json"
        bad.write_text(json.dumps(doc))
        assert not _snarkjs_accepts(keys.vk, public, bad)
        assert not _zkmargin_accepts(keys.vk, public, bad)
    assert (keys.folder / "zkmargin_public.json").read_text() == (keys.folder / "snarkjs_public.json").read_text()


def test_zkey_verify_rejects_a_tampered_key(keys: Keys, small_ptau: Path) -> None:
    key = read_zkey(keys.zkey)
    # Replace one C ("L") point by another valid point: same shape, wrong value.
    c_points = np.array(key.c_points)
    c_points[0] = g1_to_lem([G1.double(g1_from_lem(c_points[:1])[0])])[0]
    tampered = keys.folder / "tampered.zkey"
    type(key).write(_replace(key, c_points=c_points), tampered)
    proc = zkmargin("zkey", "verify", keys.r1cs, small_ptau, tampered)
    assert proc.returncode == 1
    assert "C (L) section" in proc.stdout and "INVALID" in proc.stdout
    assert snarkjs("zkey", "verify", keys.r1cs, small_ptau, tampered, check=False).returncode != 0


def _replace(key, **changes):  # type: ignore[no-untyped-def]
    import dataclasses

    return dataclasses.replace(key, **changes)


# ---- our builder's circuits through snarkjs -------------------------------------------------


def test_builder_circuit_proves_with_snarkjs_and_verifies_with_zkmargin(small_ptau: Path, tmp_path: Path) -> None:
    compiled = compile_circuit(CommitmentOpening(bits=16))
    witness = compiled.solve({"commitment": poseidon([1234, 99]), "minimum": 1000, "value": 1234, "salt": 99})
    r1cs, wtns = tmp_path / "opening.r1cs", tmp_path / "opening.wtns"
    write_r1cs(compiled.cs, r1cs, n_prv_in=2)
    write_wtns(witness.values, wtns)
    z0, z1, vk = tmp_path / "o0.zkey", tmp_path / "o1.zkey", tmp_path / "vk.json"
    snarkjs("groth16", "setup", r1cs, small_ptau, z0)
    snarkjs("zkey", "contribute", z0, z1, "--name=t", "-e=t")
    snarkjs("zkey", "export", "verificationkey", z1, vk)
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    snarkjs("groth16", "prove", z1, wtns, proof, public)
    assert json.loads(public.read_text()) == [str(v) for v in witness.public_signals]
    assert _zkmargin_accepts(vk, public, proof)
    public.write_text(json.dumps([str(poseidon([1234, 99])), "999"]))  # claim another minimum
    assert not _zkmargin_accepts(vk, public, proof)


# ---- bad files: one named ERROR line, exit 2, nothing written --------------------------------


@pytest.fixture(scope="module")
def mult(small_ptau: Path, tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("mult_errors")
    src = folder / "mult.circom"
    src.write_text(SHAPES["mult"])
    build = circom2(src, folder)
    (folder / "input.json").write_text(json.dumps(INPUTS["mult"]))
    wtns = wtns_calculate(build.wasm, folder / "input.json", folder / "w.wtns")
    zkey = folder / "k.zkey"
    _ok(zkmargin("groth16", "setup", build.r1cs, small_ptau, zkey))
    return Keys(folder, build.r1cs, wtns, zkey, folder / "vk.json")


def _one_error_line(proc: subprocess.CompletedProcess[str], name: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"ERROR: {name}"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_prove_with_truncated_zkey(mult: Keys, tmp_path: Path) -> None:
    cut = tmp_path / "cut.zkey"
    cut.write_bytes(mult.zkey.read_bytes()[:1000])
    proc = zkmargin("groth16", "prove", cut, mult.wtns, tmp_path / "p.json", tmp_path / "pub.json")
    _one_error_line(proc, "TruncatedFileError")
    assert not (tmp_path / "p.json").exists()


def test_prove_with_corrupted_zkey_magic(mult: Keys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zkey"
    bad.write_bytes(b"ptau" + mult.zkey.read_bytes()[4:])
    _one_error_line(zkmargin("groth16", "prove", bad, mult.wtns, tmp_path / "p", tmp_path / "q"), "BadMagicError")


def test_prove_with_witness_of_another_circuit(mult: Keys, tmp_path: Path) -> None:
    compiled = compile_circuit(CommitmentOpening(bits=8))
    w = compiled.solve({"commitment": poseidon([5, 1]), "minimum": 0, "value": 5, "salt": 1})
    other = tmp_path / "other.wtns"
    write_wtns(w.values, other)
    proc = zkmargin("groth16", "prove", mult.zkey, other, tmp_path / "p", tmp_path / "q")
    _one_error_line(proc, "MismatchedFilesError")
    n_vars = read_zkey(mult.zkey).n_vars
    assert f"witness has {len(w.values)} values, zkey expects {n_vars}" in proc.stderr


def test_setup_with_a_ptau_too_small(mult: Keys, tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    folder.mkdir()
    p0, p1, p2 = folder / "0.ptau", folder / "1.ptau", folder / "2.ptau"
    snarkjs("powersoftau", "new", "bn128", "1", p0)
    snarkjs("powersoftau", "contribute", p0, p1, "--name=x", "-e=x")
    snarkjs("powersoftau", "prepare", "phase2", p1, p2)
    out = tmp_path / "k.zkey"
    proc = zkmargin("groth16", "setup", mult.r1cs, p2, out)
    _one_error_line(proc, "PtauTooSmallError")
    assert "circuit needs a domain of 2^3 rows (2 constraints + 3 public rows)" in proc.stderr
    assert "holds up to 2^1" in proc.stderr
    assert not out.exists()


def test_setup_with_an_unprepared_ptau(mult: Keys, tmp_path: Path) -> None:
    p0, p1 = tmp_path / "0.ptau", tmp_path / "1.ptau"
    snarkjs("powersoftau", "new", "bn128", "4", p0)
    snarkjs("powersoftau", "contribute", p0, p1, "--name=x", "-e=x")
    _one_error_line(zkmargin("groth16", "setup", mult.r1cs, p1, tmp_path / "k.zkey"), "PtauNotPreparedError")


def test_zkey_verify_against_another_circuit(mult: Keys, small_ptau: Path, tmp_path: Path) -> None:
    compiled = compile_circuit(CommitmentOpening(bits=8))
    other = tmp_path / "other.r1cs"
    write_r1cs(compiled.cs, other, n_prv_in=2)
    proc = zkmargin("zkey", "verify", other, small_ptau, mult.zkey)
    assert proc.returncode == 1 and "INVALID" in proc.stdout


def test_contribute_to_a_missing_file(tmp_path: Path) -> None:
    _one_error_line(zkmargin("zkey", "contribute", tmp_path / "nope.zkey", tmp_path / "o.zkey"), "cannot read")


def test_cli_help_lists_the_snarkjs_style_commands() -> None:
    out = _ok(zkmargin("groth16", "--help")).stdout
    for cmd in ("prove", "setup", "verify"):
        assert cmd in out
    out = _ok(zkmargin("zkey", "--help")).stdout
    for cmd in ("contribute", "verify", "export"):
        assert cmd in out
    assert shutil.which("node")
