"""Untrusted input never crashes a reader, the verifier or the CLI (issue 13).

Each case here was found by attacking the code as it stood: a JSON document nested
80,000 levels deep crashed the process (SIGSEGV), an .r1cs header claiming 2^31
constraints or 2^32 - 1 wires exhausted memory, and ["0", "0", "1"] read as the point
at infinity. The ledger's cases are in test_ledger_hardening.py; the fuzz suite over
all readers is test_fuzz.py.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

from algebra import G1, G2, BinFileWriter, R, SectionSizeError, read_binfile
from circuits import CommitmentOpening, compile_circuit, read_r1cs, write_r1cs
from tests._limits import bounded
from tests._paths import FIXTURES
from verifier import (
    MalformedProofError,
    MalformedPublicSignalsError,
    MalformedVerifyingKeyError,
    Proof,
    PublicSignals,
    VerifyingKey,
)

ZKMARGIN = Path(sys.executable).parent / "zkmargin"
FIXTURE_VK = FIXTURES / "verification_key.json"

#: 160 KB of brackets: json.loads recursed on the C stack and crashed the process.
NESTED = "[" * 80_000 + "]" * 80_000


def _zkm(*args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ZKMARGIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)


# ---- JSON nested without end ------------------------------------------------------------


def test_nested_json_is_a_named_error_after_the_whole_package_is_imported() -> None:
    """In a fresh process with everything imported (py_ecc included, which raises the
    recursion limit on import): each model refuses the document, nothing crashes."""
    code = textwrap.dedent(
        """
        import sys
        limit = sys.getrecursionlimit()
        import cli, verifier, algebra, prover, circuits  # noqa
        from algebra import pairing  # the py_ecc-backed reference
        assert sys.getrecursionlimit() == limit, (limit, sys.getrecursionlimit())
        from verifier import Proof, PublicSignals, VerifyingKey, VerificationInputError
        nested = "[" * 80_000 + "]" * 80_000
        deep = "[" * 1_000 + "]" * 1_000  # under every size limit: refused for its depth
        for model in (Proof, PublicSignals, VerifyingKey):
            for doc in (nested, deep, '{"pi_a": ' + deep + '}'):
                try:
                    model.from_json(doc)
                except VerificationInputError as exc:
                    print(type(exc).__name__)
                else:
                    raise SystemExit("accepted " + model.__name__)
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    names = res.stdout.split()
    assert (
        names == ["MalformedProofError"] * 3 + ["MalformedPublicSignalsError"] * 3 + ["MalformedVerifyingKeyError"] * 3
    )


@pytest.mark.parametrize("which", ["proof", "public", "vk"])
def test_cli_verify_refuses_nested_json_with_exit_2(tmp_path: Path, which: str) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text(NESTED)
    files = {"vk": FIXTURE_VK, "public": tmp_path / "public.json", "proof": tmp_path / "proof.json"}
    files["public"].write_text('["1"]')
    files["proof"].write_text('{"pi_a": ["1", "2", "1"]}')
    files[which] = nested
    res = _zkm("groth16", "verify", files["vk"], files["public"], files["proof"])
    assert res.returncode == 2, (res.returncode, res.stderr[-500:])
    assert res.stderr.startswith("ERROR: Malformed"), res.stderr
    assert "Traceback" not in res.stderr


def test_already_parsed_deep_structures_are_named_errors() -> None:
    """A caller's own deeply nested lists (no JSON text) meet the same named errors, with
    a message that stays one short line (repr of such a list crashed the process too).
    In a subprocess, with py_ecc imported: a crash fails this test, not the session."""
    code = textwrap.dedent(
        """
        import algebra, verifier
        from verifier import Proof, PublicSignals, VerifyingKey, VerificationInputError
        deep = []
        for _ in range(100_000):
            deep = [deep]
        for model in (Proof, PublicSignals, VerifyingKey):
            for doc in (deep, {"pi_a": deep, "pi_b": deep, "IC": deep, "nPublic": 0}):
                try:
                    model.from_json(doc)
                except VerificationInputError as exc:
                    assert len(str(exc)) < 400, str(exc)[:1000]
                    print(type(exc).__name__)
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    assert (
        res.stdout.split()
        == ["MalformedProofError"] * 2 + ["MalformedPublicSignalsError"] * 2 + ["MalformedVerifyingKeyError"] * 2
    )


@pytest.mark.parametrize(
    ("model", "error", "limit"),
    [(Proof, MalformedProofError, 64 * 1024), (PublicSignals, MalformedPublicSignalsError, 16 * 1024 * 1024)],
)
def test_json_longer_than_its_limit_is_refused_before_parsing(
    tmp_path: Path, model: type[Proof] | type[PublicSignals], error: type[Exception], limit: int
) -> None:
    padded = "[" + " " * limit + "]"  # valid JSON, one byte over
    with pytest.raises(error, match="longer than"):
        model.from_json(padded)
    path = tmp_path / "big.json"
    path.write_text(padded)
    with pytest.raises(error, match="longer than"):
        model.load(path)


# ---- .r1cs headers that claim more than the file holds ----------------------------------


def _small_r1cs(tmp_path: Path) -> Path:
    path = tmp_path / "small.r1cs"
    write_r1cs(compile_circuit(CommitmentOpening(bits=8)).cs, path)
    return path


def _patched_r1cs(src: Path, dst: Path, *, n_wires: int | None, n_constraints: int | None, labels: bool) -> Path:
    """`src` with header counts replaced (header: n8, prime, nWires, nPubOut, nPubIn,
    nPrvIn, nLabels u64, nConstraints) and, without `labels`, no section 3."""
    with read_binfile(src, "r1cs", 1) as bf:
        sections = {t: bf.section_bytes(t).tobytes() for t in sorted(bf.sections)}
    header = bytearray(sections[1])
    if n_wires is not None:
        struct.pack_into("<I", header, 36, n_wires)
    if n_constraints is not None:
        struct.pack_into("<I", header, 36 + 24, n_constraints)
    sections[1] = bytes(header)
    if not labels:
        del sections[3]
    with BinFileWriter(dst, "r1cs", 1, n_sections=len(sections)) as w:
        for t, payload in sections.items():
            w.write_section(t, payload)
    return dst


HUGE_HEADERS = {
    "2^31 constraints": {"n_wires": None, "n_constraints": 2**31, "labels": True},
    "2^32-1 constraints": {"n_wires": None, "n_constraints": 2**32 - 1, "labels": True},
    "2^32-1 wires, no labels": {"n_wires": 2**32 - 1, "n_constraints": None, "labels": False},
    "2^32-1 wires with labels": {"n_wires": 2**32 - 1, "n_constraints": None, "labels": True},
}


@pytest.mark.parametrize("case", sorted(HUGE_HEADERS))
def test_huge_r1cs_headers_are_named_errors_at_once_without_allocating(tmp_path: Path, case: str) -> None:
    path = _patched_r1cs(_small_r1cs(tmp_path), tmp_path / "huge.r1cs", **HUGE_HEADERS[case])
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with bounded(seconds=5, megabytes=1024), pytest.raises(SectionSizeError):  # fail, never swap or hang
            read_r1cs(path)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seconds < 1.0, seconds
    assert peak < 16 * 2**20, peak  # the file is a few KB; the header claims gigabytes


def test_an_r1cs_without_labels_cannot_claim_wires_up_to_the_highest_one_used(tmp_path: Path) -> None:
    """150 bytes: one term on wire 2^32 - 2, a header of 2^32 - 1 wires, no labels."""
    header = struct.pack("<I", 32) + R.to_bytes(32, "little") + struct.pack("<IIIIQI", 2**32 - 1, 0, 0, 0, 0, 1)
    term = struct.pack("<I", 2**32 - 2) + (1).to_bytes(32, "little")
    constraint = struct.pack("<I", 1) + term + struct.pack("<II", 0, 0)  # A = w, B = C = 0
    path = tmp_path / "sparse.r1cs"
    with BinFileWriter(path, "r1cs", 1, n_sections=2) as w:
        w.write_section(1, header)
        w.write_section(2, constraint)
    with bounded(seconds=5, megabytes=1024), pytest.raises(SectionSizeError, match="no wire label section"):
        read_r1cs(path)


def test_an_r1cs_without_labels_still_reads_when_its_constraints_use_every_wire(tmp_path: Path) -> None:
    src = _small_r1cs(tmp_path)
    full = read_r1cs(src)
    bare = read_r1cs(_patched_r1cs(src, tmp_path / "bare.r1cs", n_wires=None, n_constraints=None, labels=False))
    assert bare.wire_to_label is None and bare.n_wires == full.n_wires
    assert bare.constraints.constraints == full.constraints.constraints


@pytest.mark.parametrize("command", ["setup", "verify"])
@pytest.mark.parametrize("case", ["2^31 constraints", "2^32-1 wires, no labels"])
def test_cli_refuses_huge_r1cs_headers_with_exit_2(tmp_path: Path, command: str, case: str) -> None:
    path = _patched_r1cs(_small_r1cs(tmp_path), tmp_path / "huge.r1cs", **HUGE_HEADERS[case])
    ptau, zkey = FIXTURES / "pot16.ptau", FIXTURES / "chain.zkey"
    if command == "setup":
        res = _zkm("groth16", "setup", path, ptau, tmp_path / "out.zkey")
    else:
        res = _zkm("zkey", "verify", path, ptau, zkey)
    assert res.returncode == 2, (res.returncode, res.stdout[-300:], res.stderr[-1000:])
    assert res.stderr.startswith("ERROR: SectionSizeError"), res.stderr
    assert not (tmp_path / "out.zkey").exists()


# ---- the point at infinity has one encoding ----------------------------------------------

G1_BAD_INFINITIES = [["0", "0", "1"], ["0", "0", "0"], ["1", "0", "0"], ["0", "2", "0"], ["0", "0"]]
G2_BAD_INFINITIES = [
    [["0", "0"], ["0", "0"], ["0", "0"]],
    [["0", "0"], ["0", "0"], ["1", "0"]],
    [["5", "0"], ["1", "0"], ["0", "0"]],
    [["0", "0"], ["1", "1"], ["0", "0"]],
    [["0", "0"], ["1", "0"], ["0", "1"]],
    [["0", "0"], ["0", "0"]],
]


def _fixture_proof_json() -> dict[str, object]:
    return {
        "pi_a": [str(G1.mul(G1.generator, 5)[0]), str(G1.mul(G1.generator, 5)[1]), "1"],
        "pi_b": [[str(c) for c in G2.generator[0]], [str(c) for c in G2.generator[1]], ["1", "0"]],
        "pi_c": ["1", "2", "1"],
        "protocol": "groth16",
        "curve": "bn128",
    }


@pytest.mark.parametrize("bad", G1_BAD_INFINITIES, ids=str)
def test_only_snarkjs_g1_infinity_is_infinity(bad: list[str]) -> None:
    doc = _fixture_proof_json()
    doc["pi_a"] = ["0", "1", "0"]
    assert G1.is_infinity(Proof.from_json(doc).a)  # the one encoding
    doc["pi_a"] = bad
    with pytest.raises(MalformedProofError):
        Proof.from_json(doc)
    vk = VerifyingKey.load(FIXTURE_VK).to_json_obj()
    vk["IC"][0] = bad
    with pytest.raises(MalformedVerifyingKeyError):
        VerifyingKey.from_json(vk)


@pytest.mark.parametrize("bad", G2_BAD_INFINITIES, ids=str)
def test_only_snarkjs_g2_infinity_is_infinity(bad: list[list[str]]) -> None:
    doc = _fixture_proof_json()
    doc["pi_b"] = [["0", "0"], ["1", "0"], ["0", "0"]]
    assert G2.is_infinity(Proof.from_json(doc).b)
    doc["pi_b"] = bad
    with pytest.raises(MalformedProofError):
        Proof.from_json(doc)
    vk = VerifyingKey.load(FIXTURE_VK).to_json_obj()
    vk["vk_delta_2"] = bad
    with pytest.raises(MalformedVerifyingKeyError):
        VerifyingKey.from_json(vk)
