"""The fast `Prover` (numba witness map and MSMs): the same proofs as the reference twin,
proofs snarkjs accepts for witness values 0, 1 and full-width, public outputs, and a
circuit of a single constraint; named errors for bad witnesses; a .zkey never written."""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path

import numpy as np
import pytest

from algebra import R, fr_to_limbs
from circuits import API, Circuit, Public, Secret, compile_circuit, read_wtns_limbs
from prover import (
    STAGES,
    InsecureSetupWarning,
    Prover,
    WitnessError,
    ZkeyFile,
    dev_setup,
    h_scalars,
    prove_raw,
    write_zkey,
)
from tests._snarkjs import circom2, groth16_setup, snarkjs, wtns_calculate
from verifier import Proof, PublicSignals, verify


class Square(Circuit):
    """One constraint: x * x = y."""

    y = Public()
    x = Secret()

    def define(self, api: API) -> None:
        api.assert_product(self.x, self.x, self.y, name="square")


@pytest.fixture(scope="module")
def square():
    cc = compile_circuit(Square())
    assert cc.cs.n_constraints == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        pk = dev_setup(cc.cs, randbelow=random.Random(5).randrange)
    return cc, pk


X_VALUES = {"zero": 0, "one": 1, "minus one": R - 1, "full width": 0x1F2E3D4C5B6A79880123456789ABCDEF * 7**40 % R}


@pytest.mark.parametrize("kind", sorted(X_VALUES))
def test_single_constraint_proofs_match_the_reference_and_verify_with_snarkjs(square, kind: str, tmp_path: Path):
    cc, pk = square
    x = X_VALUES[kind]
    w = cc.solve({"y": x * x % R, "x": x}).values
    fast = prove_raw(pk, w, randbelow=random.Random(3).randrange)
    assert fast == prove_raw(pk, w, randbelow=random.Random(3).randrange, reference=True)

    prover = Prover(pk)
    proof, public = prover.prove(w)
    assert verify(prover.verifying_key, public, proof)
    vk_path, proof_path, public_path = tmp_path / "vk.json", tmp_path / "proof.json", tmp_path / "public.json"
    vk = prover.verifying_key.model_copy(update={"setup_notice": None})  # snarkjs reads the plain layout
    vk.save(vk_path)
    proof.save(proof_path)
    public.save(public_path)
    assert snarkjs("groth16", "verify", vk_path, public_path, proof_path, check=False).returncode == 0
    public_path.write_text(json.dumps([str((x * x + 1) % R)]))
    assert snarkjs("groth16", "verify", vk_path, public_path, proof_path, check=False).returncode != 0


def test_one_prover_proves_many_witnesses_and_times_its_stages(square):
    cc, pk = square
    prover = Prover(pk)
    for x in (0, 1, 2, R - 1, 12345678901234567890):
        proof, public = prover.prove(cc.solve({"y": x * x % R, "x": x}).values)
        assert verify(prover.verifying_key, public, proof)
        assert list(prover.last_timings) == list(STAGES)
    # an unsatisfying witness gives a proof that does not verify
    proof, public = prover.prove([1, 5, 2])
    assert not verify(prover.verifying_key, public, proof)


def test_limb_and_int_witnesses_give_the_same_proof(square):
    cc, pk = square
    w = cc.solve({"y": 9, "x": 3}).values
    prover = Prover(pk)
    a = prover.prove_raw(w, randbelow=random.Random(1).randrange)
    b = prover.prove_raw(fr_to_limbs(w), randbelow=random.Random(1).randrange)
    assert a == b


def test_witness_map_matches_the_reference(square):
    cc, pk = square
    w = cc.solve({"y": 4, "x": R - 2}).values
    fast = Prover(pk).h_scalars(w)
    assert fast.shape == (pk.domain_size, 4)
    assert [int.from_bytes(row.tobytes(), "little") for row in fast] == h_scalars(
        pk.a_coeffs, pk.b_coeffs, w, pk.domain_size
    )


@pytest.mark.parametrize(
    "witness, match",
    [
        ([1, 4], "has 2 values, proving key expects 3"),
        ([0, 4, 2], "must be the constant 1"),
        ([1, 4, R], r"witness\[2\] = .* is not a field element"),
        ([1, -4, 2], r"witness\[1\] = -4 is not a field element"),
        ([1, 4.0, 2], "is not a field element"),
        (np.zeros((3, 3), np.uint64), "must be \\(n, 4\\) uint64"),
        (np.array([[1, 0, 0, 0], [4, 0, 0, 0], [2**64 - 1] * 4], np.uint64), r"witness\[2\] = .* is not a field"),
    ],
)
def test_bad_witnesses_get_a_named_error(square, witness, match: str):
    _cc, pk = square
    with pytest.raises(WitnessError, match=match):
        Prover(pk).prove(witness)


# ---- snarkjs keys and circom circuits with public outputs ----------------------------------

OUTPUTS = """pragma circom 2.0.0;
template Outputs() {
    signal input a;
    signal input b;
    signal input k;
    signal output prod;
    signal output sq;
    prod <== a * b;
    sq <== k * k;
}
component main {public [a]} = Outputs();
"""


@pytest.fixture(scope="module")
def outputs(small_ptau: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("outputs")
    src = folder / "outputs.circom"
    src.write_text(OUTPUTS)
    build = circom2(src, folder)
    zkey, vk = groth16_setup(build.r1cs, small_ptau, folder)
    return folder, build, zkey, vk


@pytest.mark.parametrize(
    "inputs",
    [
        {"a": "0", "b": "0", "k": "0"},
        {"a": "1", "b": "1", "k": "1"},
        {"a": str(R - 1), "b": "123456789123456789123456789", "k": str(R // 3)},
    ],
    ids=["zeros", "ones", "full width"],
)
def test_snarkjs_key_with_public_outputs(outputs, inputs: dict[str, str], tmp_path: Path):
    _folder, build, zkey, vk = outputs
    (tmp_path / "input.json").write_text(json.dumps(inputs))
    wtns = wtns_calculate(build.wasm, tmp_path / "input.json", tmp_path / "w.wtns")
    before = zkey.read_bytes()
    prover = Prover.from_zkey(zkey)
    proof, public = prover.prove(read_wtns_limbs(wtns))
    assert zkey.read_bytes() == before  # the copy-on-write map never reaches the file
    a, b, k = (int(inputs[n]) for n in "abk")
    assert list(public.values) == [a * b % R, k * k % R, a]  # outputs first, then public inputs
    proof.save(tmp_path / "proof.json")
    public.save(tmp_path / "public.json")
    accepted = snarkjs("groth16", "verify", vk, tmp_path / "public.json", tmp_path / "proof.json", check=False)
    assert accepted.returncode == 0
    # snarkjs's own proof of the same witness has the same public signals and both verifiers agree
    snarkjs("groth16", "prove", zkey, wtns, tmp_path / "theirs.json", tmp_path / "their_public.json")
    assert (tmp_path / "their_public.json").read_text() == (tmp_path / "public.json").read_text()
    theirs = Proof.load(tmp_path / "theirs.json")
    assert verify(prover.verifying_key, public, theirs)
    tampered = PublicSignals.from_values([(a * b + 1) % R, k * k % R, a])
    assert not verify(prover.verifying_key, tampered, proof)


def test_zkey_written_from_a_dev_key_proves_the_same(square, tmp_path: Path):
    cc, pk = square
    path = tmp_path / "square.zkey"
    write_zkey(ZkeyFile.from_proving_key(pk), path)
    w = cc.solve({"y": 49, "x": 7}).values
    from_file = Prover.from_zkey(path).prove_raw(w, randbelow=random.Random(2).randrange)
    assert from_file == Prover(pk).prove_raw(w, randbelow=random.Random(2).randrange)
