""".zkey and .ptau files: the snarkjs fixtures parse to their known values, zkeys write
back byte for byte, keys cross between zkmargin and snarkjs, malformed files fail by name."""

from __future__ import annotations

import dataclasses
import json
import struct
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from algebra import (
    G1,
    G2,
    BadMagicError,
    BinFileWriter,
    FieldMismatchError,
    FileFormatError,
    MismatchedFilesError,
    MissingSectionError,
    Q,
    R,
    SectionSizeError,
    TruncatedFileError,
    UnsupportedVersionError,
    g1_from_lem,
    g2_from_lem,
    read_binfile,
)
from circuits import (
    API,
    Circuit,
    CompiledCircuit,
    Public,
    Secret,
    check_witness_matches,
    compile_circuit,
    write_r1cs,
    write_wtns,
)
from prover import (
    InsecureSetupWarning,
    ProvingKey,
    PtauFile,
    PtauNotPreparedError,
    PtauTooSmallError,
    UnsupportedProtocolError,
    ZkeyContribution,
    ZkeyFile,
    constraint_matrices,
    dev_setup,
    prove,
    read_ptau,
    read_zkey,
    verifying_key,
    write_zkey,
)
from prover._zkey_file import SNARKJS_SETUP_SECTION_ORDER, decode_mpc_params, encode_mpc_params
from tests._paths import FIXTURES
from tests._snarkjs import snarkjs
from verifier import Proof, PublicSignals, VerifyingKey, verify

CHAIN_ZKEY = FIXTURES / "chain.zkey"
POT16 = FIXTURES / "pot16.ptau"
CHAIN_VK = FIXTURES / "verification_key.json"


class Cube(Circuit):
    """x^3 + x + 5 = out: three constraints, one public signal."""

    out = Public()
    x = Secret()

    def define(self, api: API) -> None:
        x3 = api.mul(api.mul(self.x, self.x, name="x2"), self.x, name="x3")
        api.assert_equal(x3 + self.x + 5, self.out, name="out")


@pytest.fixture(scope="module")
def chain_zkey() -> ZkeyFile:
    return read_zkey(CHAIN_ZKEY)


@pytest.fixture(scope="module")
def pot16() -> PtauFile:
    return read_ptau(POT16)


@pytest.fixture(scope="module")
def cube() -> tuple[CompiledCircuit, list[int]]:
    compiled = compile_circuit(Cube())
    return compiled, compiled.solve({"out": 35, "x": 3}).values


@pytest.fixture(scope="module")
def cube_pk(cube: tuple[CompiledCircuit, list[int]]) -> ProvingKey:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        return dev_setup(cube[0].cs)


@pytest.fixture(scope="module")
def cube_zkey(cube_pk: ProvingKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cube") / "cube.zkey"
    ZkeyFile.from_proving_key(cube_pk).write(path)
    return path


def _rewrite(
    src: Path, dst: Path, magic: str, version: int, replace: dict[int, bytes | None], order: tuple[int, ...] = ()
) -> Path:
    """Copy a binary file section by section, replacing (bytes) or dropping (None) payloads."""
    with read_binfile(src, magic, version) as bf:
        types = order or tuple(sorted(bf.sections, key=lambda t: bf.sections[t][0][0]))
        with BinFileWriter(dst, magic, version) as w:
            for t in types:
                payload = replace.get(t, bf.section_bytes(t))
                if payload is not None:
                    w.write_section(t, payload)
    return dst


def _assert_keys_equal(a: ProvingKey, b: ProvingKey) -> None:
    for field in dataclasses.fields(ProvingKey):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y), field.name
        else:
            assert x == y, field.name


# ---- the snarkjs fixtures -------------------------------------------------------------


def test_chain_zkey_matches_verification_key_json(chain_zkey: ZkeyFile) -> None:
    vk = VerifyingKey.load(CHAIN_VK)
    z = chain_zkey
    assert (z.n8q, z.q, z.n8r, z.r) == (32, Q, 32, R)
    assert (z.n_vars, z.n_public, z.domain_size) == (61443, vk.n_public, 65536)
    assert (z.alpha1, z.beta2, z.gamma2, z.delta2) == (vk.alpha1, vk.beta2, vk.gamma2, vk.delta2)
    assert z.ic == vk.ic
    pk = z.to_proving_key()
    vk_ours = verifying_key(pk)
    assert vk_ours.to_json_obj() == json.loads(CHAIN_VK.read_text())


def test_chain_zkey_sections(chain_zkey: ZkeyFile) -> None:
    z = chain_zkey
    assert z.a_points.shape == z.b1_points.shape == (61443, 8)
    assert z.b2_points.shape == (61443, 16)
    assert z.c_points.shape == (61443 - 3, 8)
    assert z.h_points.shape == (65536, 8)
    assert not z.a_points.flags.writeable and not z.a_points.flags.owndata  # a view of the file
    a, b = z.a_coeffs(), z.b_coeffs()
    assert len(a) + len(b) == z.coeffs.shape[0] == 244227
    # One binding A row per public signal (wire 0 included), after the constraints.
    assert a[-3:] == ((61440, 0, 1), (61441, 1, 1), (61442, 2, 1))
    assert all(0 < coef < R for _, _, coef in a + b)


def test_chain_zkey_contributions(chain_zkey: ZkeyFile) -> None:
    z = chain_zkey
    assert len(z.cs_hash) == 64
    assert len(z.contributions) == 1
    c = z.contributions[0]
    assert (c.type, c.name, c.num_iterations_exp, c.beacon_hash) == (0, "b", None, None)
    assert c.delta_after == z.delta1  # the last contribution's delta is the header's
    assert G1.is_on_curve(c.delta_g1_s) and G1.is_on_curve(c.delta_g1_sx) and G2.is_on_curve(c.delta_g2_spx)
    with read_binfile(FIXTURES / "chain.zkey", "zkey", 1) as bf:
        section_10 = bf.section_bytes(10).tobytes()  # the bytes snarkjs wrote
    assert encode_mpc_params(z.cs_hash, z.contributions) == section_10 == z.contributions_raw
    assert decode_mpc_params(section_10) == (z.cs_hash, z.contributions)


def test_chain_zkey_write_is_byte_identical(chain_zkey: ZkeyFile, tmp_path: Path) -> None:
    out = tmp_path / "chain.zkey"
    start = time.perf_counter()
    chain_zkey.write(out)
    elapsed = time.perf_counter() - start
    assert out.read_bytes() == CHAIN_ZKEY.read_bytes()
    assert elapsed < 5.0


def test_chain_zkey_reads_fast() -> None:
    start = time.perf_counter()
    read_zkey(CHAIN_ZKEY)
    read_ptau(POT16)
    assert time.perf_counter() - start < 5.0


def test_pot16_header_and_sections(pot16: PtauFile, chain_zkey: ZkeyFile) -> None:
    p = pot16
    assert (p.n8, p.q, p.power, p.ceremony_power) == (32, Q, 16, 16)
    assert p.is_prepared and p.max_domain_size == 65536 and p.n_contributions == 1
    assert p.tau_g1.shape == (2 * 65536 - 1, 8) and p.tau_g2.shape == (65536, 16)
    assert p.alpha_tau_g1.shape == p.beta_tau_g1.shape == (65536, 8) and p.beta_g2.shape == (1, 16)
    assert p.lagrange[12].shape == (4 * 65536 - 1, 8) and p.lagrange[13].shape == (2 * 65536 - 1, 16)
    # groth16 setup copies alpha1, beta1 and beta2 from the ptau into the zkey header.
    assert (p.alpha1, p.beta1, p.beta2) == (chain_zkey.alpha1, chain_zkey.beta1, chain_zkey.beta2)
    assert g1_from_lem(p.tau_g1[:1])[0] == G1.generator and g2_from_lem(p.tau_g2[:1])[0] == G2.generator


def test_pot16_lagrange_blocks(pot16: PtauFile) -> None:
    p = pot16
    # The domain of size 1: L_0 = 1.
    assert g1_from_lem(p.lagrange_g1(12, 1))[0] == G1.generator
    assert g2_from_lem(p.lagrange_g2(1))[0] == G2.generator
    assert g1_from_lem(p.lagrange_g1(14, 1))[0] == p.alpha1
    assert g1_from_lem(p.lagrange_g1(15, 1))[0] == p.beta1
    # sum_i L_i(tau) = 1 on every domain.
    assert G1.sum(g1_from_lem(p.lagrange_g1(12, 8))) == G1.generator
    assert G2.sum(g2_from_lem(p.lagrange_g2(4))) == G2.generator
    assert G1.sum(g1_from_lem(p.lagrange_g1(14, 4))) == p.alpha1
    view = p.lagrange_g1(12, 1024)
    assert view.shape == (1024, 8) and np.shares_memory(view, p.lagrange[12])
    assert p.lagrange_g1(12, 1 << 17).shape == (1 << 17, 8)  # the H block of the largest domain


def test_pot16_too_small(pot16: PtauFile) -> None:
    with pytest.raises(PtauTooSmallError, match=r"circuit needs domain 2\^17, ptau .* holds up to 2\^16"):
        pot16.lagrange_g1(14, 1 << 17)
    with pytest.raises(PtauTooSmallError, match=r"circuit needs domain 2\^17, ptau .* holds up to 2\^16"):
        pot16.lagrange_g2(1 << 17)
    with pytest.raises(PtauTooSmallError, match=r"circuit needs domain 2\^18, ptau .* holds up to 2\^17"):
        pot16.lagrange_g1(12, 1 << 18)
    with pytest.raises(ValueError, match="power of two"):
        pot16.lagrange_g1(12, 3)


def test_chain_zkey_coefficients_match_the_ptau(chain_zkey: ZkeyFile, pot16: PtauFile) -> None:
    """A_j = sum_rows coef * L_row(tau) G1 and B2_j likewise in G2: decodes section 4's
    coef * R^2 encoding, against the ceremony the zkey came from."""
    z = chain_zkey
    lag1 = pot16.lagrange_g1(12, z.domain_size)
    lag2 = pot16.lagrange_g2(z.domain_size)
    col_a: dict[int, list[tuple[int, int]]] = defaultdict(list)
    col_b: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row, wire, coef in z.a_coeffs():
        col_a[wire].append((row, coef))
    for row, wire, coef in z.b_coeffs():
        col_b[wire].append((row, coef))
    for j in (1, 5, 100):
        rows, coefs = [r for r, _ in col_a[j]], [c for _, c in col_a[j]]
        assert G1.msm(g1_from_lem(lag1[rows]), coefs) == g1_from_lem(z.a_points[j : j + 1])[0]
        rows, coefs = [r for r, _ in col_b[j]], [c for _, c in col_b[j]]
        assert G2.msm(g2_from_lem(lag2[rows]), coefs) == g2_from_lem(z.b2_points[j : j + 1])[0]


# ---- keys made here, checked by snarkjs -----------------------------------------------


def test_dev_setup_zkey_round_trip(cube_pk: ProvingKey, cube_zkey: Path, tmp_path: Path) -> None:
    z = read_zkey(cube_zkey)
    _assert_keys_equal(z.to_proving_key(insecure=True), cube_pk)
    assert z.cs_hash == bytes(64) and z.contributions == ()
    again = tmp_path / "again.zkey"
    write_zkey(z, again)
    assert again.read_bytes() == cube_zkey.read_bytes()


def test_zkey_with_contributions_round_trip(cube_pk: ProvingKey, tmp_path: Path) -> None:
    g1, g2 = G1.mul(G1.generator, 7), G2.mul(G2.generator, 11)
    contributions = (
        ZkeyContribution(g1, g1, G1.generator, g2, bytes(range(64)), name="alice"),
        ZkeyContribution(
            G1.generator, g1, g1, g2, bytes(64), type=1, name="beacon", num_iterations_exp=10, beacon_hash=b"\x01" * 32
        ),
        ZkeyContribution(g1, g1, g1, g2, b"\x02" * 64),
    )
    z = ZkeyFile.from_proving_key(cube_pk, cs_hash=b"\x05" * 64, contributions=contributions)
    path = tmp_path / "c.zkey"
    z.write(path)
    back = read_zkey(path)
    assert back.cs_hash == b"\x05" * 64 and back.contributions == contributions
    assert back.contributions_raw == z.contributions_raw


def test_snarkjs_proves_with_our_zkey(
    cube: tuple[CompiledCircuit, list[int]], cube_pk: ProvingKey, cube_zkey: Path, tmp_path: Path
) -> None:
    _, witness = cube
    vk_json = tmp_path / "vk.json"
    snarkjs("zkey", "export", "verificationkey", cube_zkey, vk_json)
    vk = VerifyingKey.load(vk_json)
    ours = verifying_key(cube_pk)
    assert (vk.alpha1, vk.beta2, vk.gamma2, vk.delta2, vk.ic) == (
        ours.alpha1,
        ours.beta2,
        ours.gamma2,
        ours.delta2,
        ours.ic,
    )

    for name, values, valid in (("good", witness, True), ("bad", [*witness[:-1], (witness[-1] + 1) % R], False)):
        wtns, proof, public = tmp_path / f"{name}.wtns", tmp_path / f"{name}_proof.json", tmp_path / f"{name}.json"
        write_wtns(values, wtns)
        snarkjs("groth16", "prove", cube_zkey, wtns, proof, public)
        result = snarkjs("groth16", "verify", vk_json, public, proof, check=False)
        assert (result.returncode == 0) is valid, result.stdout
        assert verify(vk, PublicSignals.load(public), Proof.load(proof)) is valid


def test_we_prove_with_a_snarkjs_setup_zkey(
    cube: tuple[CompiledCircuit, list[int]], small_ptau: Path, tmp_path: Path
) -> None:
    compiled, witness = cube
    r1cs, zkey, vk_json = tmp_path / "cube.r1cs", tmp_path / "cube.zkey", tmp_path / "vk.json"
    write_r1cs(compiled.cs, r1cs, n_prv_in=1)
    snarkjs("groth16", "setup", r1cs, small_ptau, zkey)
    snarkjs("zkey", "export", "verificationkey", zkey, vk_json)

    z = read_zkey(zkey)
    assert z.section_order == SNARKJS_SETUP_SECTION_ORDER
    copy = tmp_path / "copy.zkey"
    z.write(copy)
    assert copy.read_bytes() == zkey.read_bytes()

    # snarkjs's coefficients are ours: the same rows in the same order.
    a, b, _ = constraint_matrices(compiled.cs)
    assert list(z.a_coeffs()) == a and list(z.b_coeffs()) == b
    # The zkey's alpha, beta come from the ptau.
    ptau = read_ptau(small_ptau)
    assert (z.alpha1, z.beta1, z.beta2) == (ptau.alpha1, ptau.beta1, ptau.beta2)

    pk = z.to_proving_key()
    vk = VerifyingKey.load(vk_json)
    proof, public = prove(pk, witness)
    assert verify(vk, public, proof)
    tampered = [*witness[:-1], (witness[-1] + 1) % R]
    proof, public = prove(pk, tampered)
    assert not verify(vk, public, proof)


# ---- malformed zkeys ------------------------------------------------------------------


def test_zkey_wrong_magic() -> None:
    with pytest.raises(BadMagicError, match="expected a 'zkey' file, got magic 'ptau'"):
        read_zkey(POT16)


def test_zkey_unsupported_version(cube_zkey: Path, tmp_path: Path) -> None:
    data = bytearray(cube_zkey.read_bytes())
    struct.pack_into("<I", data, 4, 2)
    bad = tmp_path / "v2.zkey"
    bad.write_bytes(bytes(data))
    with pytest.raises(UnsupportedVersionError, match=r"zkey version 2 is not supported .*up to 1"):
        read_zkey(bad)


@pytest.mark.parametrize("cut", [7, 30, 1000])
def test_zkey_truncated(cube_zkey: Path, tmp_path: Path, cut: int) -> None:
    bad = tmp_path / "cut.zkey"
    bad.write_bytes(cube_zkey.read_bytes()[:cut])
    with pytest.raises(TruncatedFileError, match=f"file is {cut} bytes, "):
        read_zkey(bad)


def test_zkey_plonk_protocol(cube_zkey: Path, tmp_path: Path) -> None:
    bad = _rewrite(cube_zkey, tmp_path / "plonk.zkey", "zkey", 1, {1: struct.pack("<I", 2)})
    with pytest.raises(UnsupportedProtocolError, match=r"zkey protocol is 2 \(plonk\); only 1 \(groth16\)"):
        read_zkey(bad)


@pytest.mark.parametrize(("offset", "what", "expected"), [(4, "q", Q), (40, "r", R)])
def test_zkey_wrong_field(cube_zkey: Path, tmp_path: Path, offset: int, what: str, expected: int) -> None:
    with read_binfile(cube_zkey, "zkey", 1) as bf:
        header = bytearray(bf.section_bytes(2).tobytes())
    assert int.from_bytes(header[offset : offset + 32], "little") == expected
    other = expected + 2  # e.g. another curve's prime
    header[offset : offset + 32] = other.to_bytes(32, "little")
    bad = _rewrite(cube_zkey, tmp_path / "field.zkey", "zkey", 1, {2: bytes(header)})
    with pytest.raises(FieldMismatchError, match=f"zkey {what} is {other}, expected BN254's {what} = {expected}"):
        read_zkey(bad)


def test_zkey_point_section_one_point_short(cube_zkey: Path, tmp_path: Path) -> None:
    z = read_zkey(cube_zkey)
    bad = _rewrite(cube_zkey, tmp_path / "short.zkey", "zkey", 1, {5: z.a_points[:-1].tobytes()})
    n = z.n_vars
    with pytest.raises(
        SectionSizeError, match=f"section 5 has {64 * (n - 1)} bytes, expected {64 * n} = {n} points x 64"
    ):
        read_zkey(bad)


def test_zkey_header_n_vars_disagrees_with_sections(cube_zkey: Path, tmp_path: Path) -> None:
    z = read_zkey(cube_zkey)
    with read_binfile(cube_zkey, "zkey", 1) as bf:
        header = bytearray(bf.section_bytes(2).tobytes())
    struct.pack_into("<I", header, 72, z.n_vars + 1)  # nVars after n8q, q, n8r, r
    bad = _rewrite(cube_zkey, tmp_path / "nvars.zkey", "zkey", 1, {2: bytes(header)})
    n = z.n_vars
    with pytest.raises(
        SectionSizeError, match=f"section 5 has {64 * n} bytes, expected {64 * (n + 1)} = {n + 1} points"
    ):
        read_zkey(bad)


def test_zkey_domain_size_not_power_of_two(cube_zkey: Path, tmp_path: Path) -> None:
    with read_binfile(cube_zkey, "zkey", 1) as bf:
        header = bytearray(bf.section_bytes(2).tobytes())
    struct.pack_into("<I", header, 80, 12)
    bad = _rewrite(cube_zkey, tmp_path / "domain.zkey", "zkey", 1, {2: bytes(header)})
    with pytest.raises(FileFormatError, match="domain size 12 is not a power of two"):
        read_zkey(bad)


def test_zkey_coefficient_count_disagrees(cube_zkey: Path, tmp_path: Path) -> None:
    with read_binfile(cube_zkey, "zkey", 1) as bf:
        coeffs = bytearray(bf.section_bytes(4).tobytes())
    n = struct.unpack_from("<I", coeffs)[0]
    struct.pack_into("<I", coeffs, 0, n + 1)
    bad = _rewrite(cube_zkey, tmp_path / "coeffs.zkey", "zkey", 1, {4: bytes(coeffs)})
    with pytest.raises(
        SectionSizeError, match=f"section 4 has {len(coeffs)} bytes, expected {len(coeffs) + 44} = 4 \\+ {n + 1} coef"
    ):
        read_zkey(bad)


def test_zkey_missing_section(cube_zkey: Path, tmp_path: Path) -> None:
    bad = _rewrite(cube_zkey, tmp_path / "noh.zkey", "zkey", 1, {9: None})
    with pytest.raises(MissingSectionError, match="no section 9"):
        read_zkey(bad)


def test_witness_length_vs_zkey(cube: tuple[CompiledCircuit, list[int]], cube_zkey: Path) -> None:
    z = read_zkey(cube_zkey)
    _, witness = cube
    check_witness_matches(z.n_vars, witness, "zkey")
    with pytest.raises(MismatchedFilesError, match=f"witness has {z.n_vars + 1} values, zkey expects {z.n_vars}"):
        check_witness_matches(z.n_vars, [*witness, 0], "zkey")


# ---- malformed and unprepared ptau files ----------------------------------------------


def test_ptau_not_prepared(tmp_path: Path) -> None:
    p0, p1 = tmp_path / "pot4_0.ptau", tmp_path / "pot4_1.ptau"
    snarkjs("powersoftau", "new", "bn128", "4", p0)
    snarkjs("powersoftau", "contribute", p0, p1, "--name=test", "-e=zkmargin unprepared")
    ptau = read_ptau(p1)
    assert (ptau.power, ptau.is_prepared, ptau.n_contributions) == (4, False, 1)
    assert ptau.tau_g1.shape == (31, 8)
    with pytest.raises(PtauNotPreparedError, match="not prepared for phase 2"):
        ptau.lagrange_g1(12, 8)
    with pytest.raises(PtauNotPreparedError, match="prepare phase2"):
        ptau.lagrange_g2(8)


def test_ptau_wrong_curve(small_ptau: Path, tmp_path: Path) -> None:
    with read_binfile(small_ptau, "ptau", 1) as bf:
        header = bytearray(bf.section_bytes(1).tobytes())
    other = Q - 2
    header[4:36] = other.to_bytes(32, "little")
    bad = _rewrite(small_ptau, tmp_path / "curve.ptau", "ptau", 1, {1: bytes(header)})
    with pytest.raises(FieldMismatchError, match=f"ptau curve prime q is {other}, expected BN254's q = {Q}"):
        read_ptau(bad)


def test_ptau_partly_prepared(small_ptau: Path, tmp_path: Path) -> None:
    bad = _rewrite(small_ptau, tmp_path / "partial.ptau", "ptau", 1, {13: None})
    with pytest.raises(MissingSectionError, match=r"has sections \[12, 14, 15\] but not \[13\]"):
        read_ptau(bad)


def test_ptau_lagrange_section_short(small_ptau: Path, tmp_path: Path) -> None:
    ptau = read_ptau(small_ptau)
    n = 4 * (1 << ptau.power) - 1  # section 12: domains 2^0 .. 2^(power+1)
    bad = _rewrite(small_ptau, tmp_path / "short.ptau", "ptau", 1, {12: ptau.lagrange[12][:-1].tobytes()})
    with pytest.raises(SectionSizeError, match=f"section 12 has {64 * (n - 1)} bytes, expected {64 * n} = {n} points"):
        read_ptau(bad)


def test_zkey_point_not_canonical(cube_zkey: Path, tmp_path: Path) -> None:
    z = read_zkey(cube_zkey)
    points = z.a_points.copy()
    points[2, 4:8] = np.uint64(0xFFFF_FFFF_FFFF_FFFF)  # y of point 2 >= q
    bad = _rewrite(cube_zkey, tmp_path / "big.zkey", "zkey", 1, {5: points.tobytes()})
    with pytest.raises(FileFormatError, match="section 5: point 2 has a coordinate >= q"):
        read_zkey(bad)


def test_ptau_lagrange_point_not_canonical(small_ptau: Path, tmp_path: Path) -> None:
    ptau = read_ptau(small_ptau)
    section = ptau.lagrange[14].copy()
    section[4, 0:4] = np.uint64(0xFFFF_FFFF_FFFF_FFFF)  # point 1 of the domain of size 4 (it starts at 3)
    bad = read_ptau(_rewrite(small_ptau, tmp_path / "big.ptau", "ptau", 1, {14: section.tobytes()}))
    assert bad.lagrange_g1(14, 2).shape == (2, 8)  # other blocks are fine
    with pytest.raises(FileFormatError, match="section 14: point 1 of the block has a coordinate >= q"):
        bad.lagrange_g1(14, 4)


def test_contribution_name_truncated_as_javascript_does() -> None:
    g1, g2 = G1.generator, G2.generator
    long_name = "n" * 63 + "\U0001f600" + "tail"  # the emoji's surrogate pair straddles unit 64
    raw = encode_mpc_params(bytes(64), [ZkeyContribution(g1, g1, g1, g2, bytes(64), name=long_name)])
    _, (c,) = decode_mpc_params(raw)
    assert c.name == "n" * 63 + "\ufffd"
    raw = encode_mpc_params(bytes(64), [ZkeyContribution(g1, g1, g1, g2, bytes(64), name="x" * 70)])
    assert decode_mpc_params(raw)[1][0].name == "x" * 64
