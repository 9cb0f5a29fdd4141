""".r1cs and .wtns files: circom's fixture reads, our circuits export, snarkjs accepts them."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest

from algebra import (
    BinFileWriter,
    FieldMismatchError,
    FileFormatError,
    MismatchedFilesError,
    R,
    SectionSizeError,
    TruncatedFileError,
    poseidon,
    read_binfile,
)
from circuits import (
    CommitmentOpening,
    CompiledCircuit,
    R1csFile,
    check_witness_matches,
    compile_circuit,
    read_r1cs,
    read_wtns,
    read_wtns_limbs,
    write_r1cs,
    write_wtns,
)
from tests._paths import FIXTURES
from tests._snarkjs import snarkjs

CHAIN_R1CS = FIXTURES / "chain.r1cs"
CHAIN_WTNS = FIXTURES / "chain.wtns"


@pytest.fixture(scope="module")
def chain_r1cs() -> R1csFile:
    return read_r1cs(CHAIN_R1CS)


@pytest.fixture(scope="module")
def chain_wtns() -> list[int]:
    return read_wtns(CHAIN_WTNS)


@pytest.fixture(scope="module")
def opening() -> tuple[CompiledCircuit, list[int]]:
    compiled = compile_circuit(CommitmentOpening(bits=8))
    value, salt = 200, 12345
    witness = compiled.solve({"commitment": poseidon([value, salt]), "minimum": 150, "value": value, "salt": salt})
    return compiled, witness.values


def _rewrite(src: Path, dst: Path, magic: str, version: int, replace: dict[int, bytes]) -> Path:
    """Copy a binary file section by section, replacing some payloads."""
    with read_binfile(src, magic, version) as bf, BinFileWriter(dst, magic, version) as w:
        for t in sorted(bf.sections, key=lambda t: bf.sections[t][0][0]):
            w.write_section(t, replace.get(t, bf.section_bytes(t)))
    return dst


# ---- the circom fixture ---------------------------------------------------------------


def test_chain_r1cs_header(chain_r1cs: R1csFile) -> None:
    f = chain_r1cs
    assert f.prime == R
    assert (f.n_wires, f.n_pub_out, f.n_pub_in, f.n_prv_in) == (61443, 1, 1, 1)
    assert (f.n_labels, f.n_constraints) == (196356, 61440)
    assert f.n_public == 2
    cs = f.constraints
    assert (cs.n_public, cs.n_wires, cs.n_constraints) == (2, 61443, 61440)
    assert cs.constraints[7].name == "constraint 7"
    assert cs.wire_names[:3] == ["one", "wire 1", "wire 2"]
    assert f.wire_to_label is not None and len(f.wire_to_label) == f.n_wires and f.wire_to_label[:3] == [0, 1, 2]


def test_chain_r1cs_matrices_agree_with_constraints(chain_r1cs: R1csFile) -> None:
    cs = chain_r1cs.constraints
    for m, name in enumerate("abc"):
        matrix = chain_r1cs.matrices[m]
        assert len(matrix) == sum(len(getattr(con, name)) for con in cs.constraints)
        entries = matrix.entries()
        for row, wire, coef in entries[:50] + entries[-50:]:
            assert getattr(cs.constraints[row], name)[wire] == coef
    assert np.all(np.diff(chain_r1cs.matrices[0].rows) >= 0)


def test_chain_r1cs_parses_fast() -> None:
    start = time.perf_counter()
    read_r1cs(CHAIN_R1CS)
    assert time.perf_counter() - start < 10.0


def test_chain_witness_satisfies_every_constraint(chain_r1cs: R1csFile, chain_wtns: list[int]) -> None:
    check_witness_matches(chain_r1cs.n_wires, chain_wtns, "r1cs")
    # circom's order: 1, outputs, public inputs, private inputs (chain_input.json: x=1, y=2).
    assert chain_wtns[0] == 1 and chain_wtns[2] == 2 and chain_wtns[3] == 1
    assert chain_r1cs.constraints.first_unsatisfied(chain_wtns) is None


def test_tampered_chain_witness_fails(chain_r1cs: R1csFile, chain_wtns: list[int]) -> None:
    tampered = list(chain_wtns)
    tampered[1] = (tampered[1] + 1) % R  # the output
    k = chain_r1cs.constraints.first_unsatisfied(tampered)
    assert k is not None
    con = chain_r1cs.constraints.constraints[k]
    assert 1 in con.a or 1 in con.b or 1 in con.c


def test_wtns_limbs_are_a_zero_copy_view() -> None:
    limbs = read_wtns_limbs(CHAIN_WTNS)
    assert limbs.shape == (61443, 4) and not limbs.flags.writeable and not limbs.flags.owndata


def test_chain_r1cs_round_trip(chain_r1cs: R1csFile, tmp_path: Path) -> None:
    out = tmp_path / "chain.r1cs"
    chain_r1cs.write(out)
    again = read_r1cs(out)
    assert again.constraints.constraints == chain_r1cs.constraints.constraints
    for field in ("prime", "n_wires", "n_pub_out", "n_pub_in", "n_prv_in", "n_labels", "n_constraints"):
        assert getattr(again, field) == getattr(chain_r1cs, field)
    assert again.wire_to_label == chain_r1cs.wire_to_label
    # circom writes the sections as 2, 1, 3, we as 1, 2, 3: every payload is identical.
    with read_binfile(CHAIN_R1CS, "r1cs", 1) as theirs, read_binfile(out, "r1cs", 1) as ours:
        for t in (1, 2, 3):
            assert np.array_equal(theirs.section_bytes(t), ours.section_bytes(t))


def test_chain_wtns_round_trip_is_byte_identical(chain_wtns: list[int], tmp_path: Path) -> None:
    out = tmp_path / "chain.wtns"
    write_wtns(chain_wtns, out)
    assert out.read_bytes() == CHAIN_WTNS.read_bytes()


# ---- our circuits, checked by snarkjs -------------------------------------------------


def test_builder_circuit_exports_for_snarkjs(opening: tuple[CompiledCircuit, list[int]], tmp_path: Path) -> None:
    compiled, witness = opening
    cs = compiled.cs
    r1cs, wtns = tmp_path / "opening.r1cs", tmp_path / "opening.wtns"
    write_r1cs(cs, r1cs, n_prv_in=2)
    write_wtns(witness, wtns)

    info = snarkjs("r1cs", "info", r1cs).stdout
    for line in (
        f"# of Wires: {cs.n_wires}",
        f"# of Constraints: {cs.n_constraints}",
        "# of Private Inputs: 2",
        f"# of Public Inputs: {cs.n_public}",
        "# of Outputs: 0",
    ):
        assert line in info, info
    assert snarkjs("wtns", "check", r1cs, wtns, check=False).returncode == 0

    tampered = list(witness)
    tampered[-1] = (tampered[-1] + 1) % R
    bad = tmp_path / "tampered.wtns"
    write_wtns(tampered, bad)
    assert snarkjs("wtns", "check", r1cs, bad, check=False).returncode != 0

    back = read_r1cs(r1cs)
    assert (back.n_pub_out, back.n_pub_in, back.n_prv_in, back.n_labels) == (0, cs.n_public, 2, cs.n_wires)
    assert [(c.a, c.b, c.c) for c in back.constraints.constraints] == [(c.a, c.b, c.c) for c in cs.constraints]
    assert read_wtns(wtns) == witness


def test_write_r1cs_validates_arguments(opening: tuple[CompiledCircuit, list[int]], tmp_path: Path) -> None:
    cs = opening[0].cs
    with pytest.raises(ValueError, match="n_pub_out = 3"):
        write_r1cs(cs, tmp_path / "x.r1cs", n_pub_out=3)
    with pytest.raises(ValueError, match="wire_to_label has 2 entries"):
        write_r1cs(cs, tmp_path / "x.r1cs", wire_to_label=[0, 1])
    assert list(tmp_path.iterdir()) == []


def test_write_wtns_rejects_non_field_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"witness\[1\] = .* is not a field element"):
        write_wtns([1, R], tmp_path / "x.wtns")
    assert list(tmp_path.iterdir()) == []


# ---- malformed files and mismatches ---------------------------------------------------


@pytest.fixture()
def small_files(opening: tuple[CompiledCircuit, list[int]], tmp_path: Path) -> tuple[Path, Path]:
    compiled, witness = opening
    r1cs, wtns = tmp_path / "small.r1cs", tmp_path / "small.wtns"
    write_r1cs(compiled.cs, r1cs, n_prv_in=2)
    write_wtns(witness, wtns)
    return r1cs, wtns


def test_r1cs_wrong_prime(small_files: tuple[Path, Path], tmp_path: Path) -> None:
    data = bytearray(small_files[0].read_bytes())
    prime_at = 12 + 12 + 4  # file header, section 1's header, n8
    assert int.from_bytes(data[prime_at : prime_at + 32], "little") == R
    other = R - 2
    data[prime_at : prime_at + 32] = other.to_bytes(32, "little")
    bad = tmp_path / "bad.r1cs"
    bad.write_bytes(bytes(data))
    with pytest.raises(FieldMismatchError, match=f"r1cs prime is {other}, expected .* r = {R}"):
        read_r1cs(bad)


def test_r1cs_truncated(small_files: tuple[Path, Path], tmp_path: Path) -> None:
    data = small_files[0].read_bytes()
    bad = tmp_path / "cut.r1cs"
    bad.write_bytes(data[:-10])
    with pytest.raises(TruncatedFileError, match=f"file is {len(data) - 10} bytes, section 3 ends at {len(data)}"):
        read_r1cs(bad)


def test_r1cs_constraint_section_shorter_than_header_says(small_files: tuple[Path, Path], tmp_path: Path) -> None:
    src = small_files[0]
    with read_binfile(src, "r1cs", 1) as bf:
        section = bf.section_bytes(2).tobytes()
    bad = _rewrite(src, tmp_path / "short.r1cs", "r1cs", 1, {2: section[:-36]})
    with pytest.raises(SectionSizeError, match=f"section 2 has {len(section) - 36} bytes"):
        read_r1cs(bad)


def test_r1cs_term_with_unknown_wire(small_files: tuple[Path, Path], tmp_path: Path) -> None:
    src = small_files[0]
    with read_binfile(src, "r1cs", 1) as bf:
        section = bytearray(bf.section_bytes(2).tobytes())
        n_wires = struct.unpack_from("<I", bf.section_bytes(1).tobytes(), 36)[0]
    struct.pack_into("<I", section, 4, n_wires + 5)  # first term's wire
    bad = _rewrite(src, tmp_path / "wire.r1cs", "r1cs", 1, {2: bytes(section)})
    with pytest.raises(FileFormatError, match=f"uses wire {n_wires + 5}, the header has {n_wires} wires"):
        read_r1cs(bad)


def test_r1cs_label_map_size(small_files: tuple[Path, Path], tmp_path: Path) -> None:
    src = small_files[0]
    with read_binfile(src, "r1cs", 1) as bf:
        labels = bf.section_bytes(3).tobytes()
    bad = _rewrite(src, tmp_path / "labels.r1cs", "r1cs", 1, {3: labels[:-8]})
    n = len(labels) // 8
    with pytest.raises(SectionSizeError, match=f"section 3 has {len(labels) - 8} bytes, expected {len(labels)} = {n}"):
        read_r1cs(bad)


def test_wtns_wrong_prime(small_files: tuple[Path, Path], tmp_path: Path) -> None:
    data = bytearray(small_files[1].read_bytes())
    other = 21888242871839275222246405745257275088696311157297823662689037894645226208583  # q, not r
    data[28:60] = other.to_bytes(32, "little")
    bad = tmp_path / "bad.wtns"
    bad.write_bytes(bytes(data))
    with pytest.raises(FieldMismatchError, match=f"witness prime is {other}, expected .* r = {R}"):
        read_wtns(bad)


def test_wtns_count_disagrees_with_values(small_files: tuple[Path, Path], tmp_path: Path) -> None:
    data = bytearray(small_files[1].read_bytes())
    count = struct.unpack_from("<I", data, 60)[0]
    struct.pack_into("<I", data, 60, count + 1)
    bad = tmp_path / "count.wtns"
    bad.write_bytes(bytes(data))
    with pytest.raises(
        SectionSizeError,
        match=f"section 2 has {32 * count} bytes, expected {32 * (count + 1)} = {count + 1} values x 32",
    ):
        read_wtns(bad)


def test_wtns_value_not_below_r(small_files: tuple[Path, Path], tmp_path: Path) -> None:
    data = bytearray(small_files[1].read_bytes())
    values_at = 12 + 12 + 40 + 12
    data[values_at + 32 : values_at + 64] = R.to_bytes(32, "little")
    bad = tmp_path / "big.wtns"
    bad.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=f"witness value 1 is {R}, not below r"):
        read_wtns(bad)


def test_witness_length_mismatch(opening: tuple[CompiledCircuit, list[int]], small_files: tuple[Path, Path]) -> None:
    _, witness = opening
    r1cs = read_r1cs(small_files[0])
    check_witness_matches(r1cs.n_wires, witness, "r1cs")
    short = witness[:-1]
    with pytest.raises(MismatchedFilesError, match=f"witness has {len(short)} values, r1cs expects {r1cs.n_wires}"):
        check_witness_matches(r1cs.n_wires, short, "r1cs")
