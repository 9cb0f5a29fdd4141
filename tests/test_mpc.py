"""Phase-2 MPC (prover._mpc*): every piece against snarkjs 0.7.6 / ffjavascript at test time.

- ChaCha words, Fr/G1/G2.fromRng, hashToG2 and the uncompressed encodings against
  snarkjs's own ffjavascript copy and snarkjs's src/keypair.js;
- cs_hash against `zkey new` on a small circuit; the emulated wasm arithmetic of the
  point snarkjs reads past the end of a .ptau's section 2 against ffjavascript;
- section 10 of the chain fixture and of a snarkjs ceremony (contribute + beacon):
  byte-identical round trip, verification, tampering, contribution hashes;
- a beacon made here equals snarkjs's; a contribution made here, applied to a zkey,
  passes `snarkjs zkey verify` (and a tampered one fails it).
"""

from __future__ import annotations

import hashlib
import random
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from algebra import (
    G1,
    G1_GEN,
    G2,
    G2_GEN,
    G1Point,
    G2Point,
    R,
    g1_from_lem,
    g1_to_lem,
    g2_from_lem,
    g2_to_lem,
)
from prover import (
    BEACON,
    CONTRIBUTION,
    ChaCha,
    Contribution,
    MalformedMpcParamsError,
    MpcError,
    MpcParams,
    contribution_hash,
    cs_hash,
    fr_from_rng,
    g1_from_rng,
    g1_points_to_uncompressed,
    g1_to_uncompressed,
    g2_from_rng,
    g2_points_to_uncompressed,
    g2_to_uncompressed,
    h_hash_count,
    hash_to_g2,
    make_beacon_contribution,
    make_contribution,
    parse_mpc_params,
    random_rng,
    serialize_mpc_params,
    tau_g1_rows_needed,
    transcript_hash,
    verify_contributions,
)
from prover._mpc_hash import _wasm_sub_affine
from tests._node import run_node
from tests._paths import FIXTURES
from tests._snarkjs import circom2

CHAIN_ZKEY = FIXTURES / "chain.zkey"
POT16 = FIXTURES / "pot16.ptau"

# Offsets inside a Groth16 zkey header (section 2): n8q, q, n8r, r, nVars, nPublic, domainSize, points.
_H_DOMAIN, _H_ALPHA1, _H_BETA1, _H_BETA2, _H_DELTA1, _H_DELTA2, _H_END = 80, 84, 148, 212, 468, 532, 660

# ---- a tiny iden3 container walker (tests only) -----------------------------------------


def _sections(data: bytes) -> dict[int, tuple[int, int]]:
    """{section type: (payload offset, size)} of an iden3 binary file (magic, version, n, sections)."""
    (n,) = struct.unpack_from("<I", data, 8)
    pos, out = 12, {}
    for _ in range(n):
        typ, size = struct.unpack_from("<IQ", data, pos)
        out[typ] = (pos + 12, size)
        pos += 12 + size
    return out


def _file_sections(path: Path) -> dict[int, tuple[int, int]]:
    """Like :func:`_sections` for a file on disk, reading only the section headers."""
    out = {}
    with path.open("rb") as f:
        (n,) = struct.unpack("<I", f.read(12)[8:])
        pos = 12
        for _ in range(n):
            f.seek(pos)
            typ, size = struct.unpack("<IQ", f.read(12))
            out[typ] = (pos + 12, size)
            pos += 12 + size
    return out


def _section(data: bytes, typ: int) -> bytes:
    off, size = _sections(data)[typ]
    return data[off : off + size]


def _with_sections(data: bytes, new: dict[int, bytes]) -> bytes:
    """The same container with some payloads replaced (section order kept)."""
    (n,) = struct.unpack_from("<I", data, 8)
    out, pos = [data[:12]], 12
    for _ in range(n):
        typ, size = struct.unpack_from("<IQ", data, pos)
        payload = new.get(typ, data[pos + 12 : pos + 12 + size])
        out.append(struct.pack("<IQ", typ, len(payload)) + payload)
        pos += 12 + size
    return b"".join(out)


def _g1_rows(payload: bytes) -> np.ndarray:
    return np.frombuffer(payload, dtype="<u8").reshape(-1, 8)


def _g2_rows(payload: bytes) -> np.ndarray:
    return np.frombuffer(payload, dtype="<u8").reshape(-1, 16)


def _header_deltas(zkey: bytes) -> tuple[G1Point, G2Point]:
    hdr = _section(zkey, 2)
    return g1_from_lem(_g1_rows(hdr[_H_DELTA1:_H_DELTA2]))[0], g2_from_lem(_g2_rows(hdr[_H_DELTA2:_H_END]))[0]


# ---- node -------------------------------------------------------------------------------

_NODE_PRELUDE = r"""
const path = require("path");
const fs = require("fs");
const SNARKJS = path.dirname(path.dirname(require.resolve("snarkjs")));
const ff = require(require.resolve("ffjavascript", {paths: [SNARKJS]}));
const src = (name) => import(path.join(SNARKJS, "src", name));
const payload = JSON.parse(fs.readFileSync(0, "utf8"));
const hex = (b) => Buffer.from(b).toString("hex");
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"));
const str = (o) => Array.isArray(o) ? o.map(str) : o.toString();
const big = (o) => Array.isArray(o) ? o.map(big) : BigInt(o);
"""

_REFERENCE_JS = (
    _NODE_PRELUDE
    + r"""
(async () => {
  const {getCurveFromName} = await src("curves.js");
  const kp = await src("keypair.js");
  const zu = await src("zkey_utils.js");
  const bfu = require(require.resolve("@iden3/binfileutils", {paths: [SNARKJS]}));
  const {blake2b} = require(require.resolve("@noble/hashes/blake2b", {paths: [SNARKJS]}));
  const curve = await getCurveFromName("bn128", {singleThread: true});
  const G1 = curve.G1, G2 = curve.G2;
  const out = {chacha: [], rng: [], hash_to_g2: [], g1_u: [], g2_u: [], sub: []};
  for (const seed of payload.seeds) {
    const r = new ff.ChaCha(seed);
    const w = []; for (let i = 0; i < 40; i++) w.push(r.nextU32());
    out.chacha.push(w);
    const r2 = new ff.ChaCha(seed);
    const fr = curve.Fr.toObject(curve.Fr.fromRng(r2)).toString();
    const g1 = str(G1.toObject(G1.toAffine(G1.fromRng(r2))).slice(0, 2));
    const g2 = str(G2.toObject(G2.toAffine(G2.fromRng(r2))).slice(0, 2));
    out.rng.push({fr, g1, g2, next: r2.nextU32()});
  }
  for (const h of payload.hashes) {
    out.hash_to_g2.push(str(G2.toObject(G2.toAffine(kp.hashToG2(curve, unhex(h)))).slice(0, 2)));
  }
  for (const p of payload.g1) out.g1_u.push(hex(G1.toUncompressed(G1.fromObject(big(p)))));
  for (const p of payload.g2) out.g2_u.push(hex(G2.toUncompressed(G2.fromObject(big(p)))));
  out.g1_batch = hex(await G1.batchLEMtoU(unhex(payload.g1_lem)));
  out.g2_batch = hex(await G2.batchLEMtoU(unhex(payload.g2_lem)));
  for (const [a, b] of payload.sub) out.sub.push(hex(G1.toUncompressed(G1.sub(unhex(a), unhex(b)))));
  // The chain fixture's section 10 through snarkjs's own reader and hashers.
  const {fd, sections} = await bfu.readBinFile(payload.zkey, "zkey", 2);
  const mpc = await zu.readMPCParams(fd, curve, sections);
  await fd.close();
  const t = blake2b.create({dkLen: 64});
  t.update(mpc.csHash);
  for (const c of mpc.contributions) zu.hashPubKey(t, curve, c);
  zu.hashG1(t, curve, G1.fromObject(big(payload.g1_s)));
  zu.hashG1(t, curve, G1.fromObject(big(payload.g1_sx)));
  out.transcript = hex(t.digest());
  out.contribution_hashes = mpc.contributions.map((c) => {
    const h = blake2b.create({dkLen: 64}); zu.hashPubKey(h, curve, c); return hex(h.digest());
  });
  console.log(JSON.stringify(out));
  await curve.terminate();
})().catch((e) => { console.error(e); process.exit(1); });
"""
)

_CEREMONY_JS = (
    _NODE_PRELUDE
    + r"""
const snarkjs = require("snarkjs");
(async () => {
  const p = payload;
  const cs = await snarkjs.zKey.newZKey(p.r1cs, p.ptau, p.z0);
  const h1 = await snarkjs.zKey.contribute(p.z0, p.z1, "alice", "some entropy");
  const h2 = await snarkjs.zKey.beacon(p.z1, p.z2, "final beacon", p.beacon_hash, p.beacon_exp);
  console.log(JSON.stringify({cs_hash: hex(cs), hashes: [hex(h1), hex(h2)]}));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
"""
)

_VERIFY_JS = (
    _NODE_PRELUDE
    + r"""
const snarkjs = require("snarkjs");
(async () => {
  const res = [];
  for (const z of payload.zkeys) res.push(await snarkjs.zKey.verifyFromR1cs(payload.r1cs, payload.ptau, z));
  console.log(JSON.stringify(res));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
"""
)

_SEEDS = [[0] * 8, [1, 2, 3, 4, 5, 6, 7, 8], [0xFFFFFFFF] * 8, [0xDEADBEEF, 0, 17, 1 << 31, 5, 0xFFFF, 9, 3]]
_HASHES = [bytes(64), b"\xff" * 64, *(hashlib.blake2b(bytes([i]), digest_size=64).digest() for i in range(4))]
_G1_POINTS: list[G1Point] = [G1.infinity, G1_GEN, G1.mul(G1_GEN, 123456789), G1.mul(G1_GEN, R - 5)]
_G2_POINTS: list[G2Point] = [G2.infinity, G2_GEN, G2.mul(G2_GEN, 987654321), G2.mul(G2_GEN, R - 7)]


def _g1_obj(p: G1Point) -> list[str]:
    return ["0", "1", "0"] if G1.is_infinity(p) else [str(p[0]), str(p[1]), "1"]


def _g2_obj(p: G2Point) -> list[list[str]]:
    if G2.is_infinity(p):
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = p
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def _garbage_rows() -> list[tuple[bytes, bytes]]:
    """(p1, p2) LEM rows for g1m_subAffine: p1 off the curve with coordinates >= q."""
    off, size = _file_sections(POT16)[2]
    with POT16.open("rb") as f:
        f.seek(off + (size // 64) * 64)  # the 64 bytes snarkjs reads past section 2
        past_end = f.read(64)
        f.seek(off + 65535 * 64)
        tau_d_minus_1 = f.read(64)
    rnd = random.Random(7)
    rows = [(past_end, tau_d_minus_1)]
    for k in range(6):
        rows.append((rnd.randbytes(64), g1_to_lem([G1.mul(G1_GEN, 1000 + k)]).tobytes()))
    return rows


@pytest.fixture(scope="module")
def chain_zkey() -> bytes:
    return CHAIN_ZKEY.read_bytes()


@pytest.fixture(scope="module")
def fixture_contribution(chain_zkey: bytes) -> tuple[MpcParams, Contribution, int]:
    mpc = parse_mpc_params(_section(chain_zkey, 10))
    d1, d2 = _header_deltas(chain_zkey)
    c, x = make_contribution(mpc, d1, d2, "zkmargin", "test entropy")
    return mpc, c, x


@pytest.fixture(scope="module")
def reference(fixture_contribution: tuple[MpcParams, Contribution, int]) -> dict[str, Any]:
    _, c, _ = fixture_contribution
    payload = {
        "seeds": _SEEDS,
        "hashes": [h.hex() for h in _HASHES],
        "g1": [_g1_obj(p) for p in _G1_POINTS],
        "g2": [_g2_obj(p) for p in _G2_POINTS],
        "g1_lem": g1_to_lem(_G1_POINTS).tobytes().hex(),
        "g2_lem": g2_to_lem(_G2_POINTS).tobytes().hex(),
        "sub": [[a.hex(), b.hex()] for a, b in _garbage_rows()],
        "zkey": str(CHAIN_ZKEY),
        "g1_s": _g1_obj(c.delta_g1_s),
        "g1_sx": _g1_obj(c.delta_g1_sx),
    }
    out: dict[str, Any] = run_node(_REFERENCE_JS, payload, packages=["snarkjs"])
    return out


# ---- randomness -----------------------------------------------------------------------


def test_chacha_words_match_ffjavascript(reference: dict[str, Any]) -> None:
    for seed, words in zip(_SEEDS, reference["chacha"]):
        rng = ChaCha(seed)
        assert [rng.next_u32() for _ in range(40)] == words  # 40 words: crosses a 16-word block


def test_from_rng_matches_ffjavascript(reference: dict[str, Any]) -> None:
    for seed, ref in zip(_SEEDS, reference["rng"]):
        rng = ChaCha(seed)
        assert fr_from_rng(rng) == int(ref["fr"])
        g1 = g1_from_rng(rng)
        assert [str(c) for c in g1] == ref["g1"]
        g2 = g2_from_rng(rng)
        assert [[str(c) for c in coord] for coord in g2] == ref["g2"]
        assert G2.in_subgroup(g2) and G1.is_on_curve(g1)
        assert rng.next_u32() == ref["next"]  # same number of words consumed


def test_hash_to_g2_matches_snarkjs_keypair(reference: dict[str, Any]) -> None:
    for h, ref in zip(_HASHES, reference["hash_to_g2"]):
        p = hash_to_g2(h)
        assert [[str(c) for c in coord] for coord in p] == ref


def test_chacha_rejects_bad_seeds_and_random_rng_needs_entropy() -> None:
    with pytest.raises(ValueError, match="8"):
        ChaCha([1, 2, 3])
    with pytest.raises(ValueError, match="u32"):
        ChaCha([1 << 32, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="entropy"):
        random_rng("")
    a, b = random_rng("same"), random_rng("same")
    assert a.next_u64() != b.next_u64()  # OS randomness is mixed in


# ---- encodings and the circuit hash ---------------------------------------------------


def test_uncompressed_encodings_match_ffjavascript(reference: dict[str, Any]) -> None:
    assert [g1_to_uncompressed(p).hex() for p in _G1_POINTS] == reference["g1_u"]
    assert [g2_to_uncompressed(p).hex() for p in _G2_POINTS] == reference["g2_u"]
    assert g1_to_uncompressed(G1.infinity) == bytes(64)  # no infinity flag
    assert g1_points_to_uncompressed(g1_to_lem(_G1_POINTS)).hex() == reference["g1_batch"]
    assert g2_points_to_uncompressed(g2_to_lem(_G2_POINTS)).hex() == reference["g2_batch"]
    assert g1_points_to_uncompressed(_G1_POINTS).hex() == reference["g1_batch"]


def test_sub_of_a_point_past_the_ptau_end_matches_wasm(reference: dict[str, Any]) -> None:
    for (a, b), ref in zip(_garbage_rows(), reference["sub"]):
        rep = lambda row, k: int.from_bytes(row[32 * k : 32 * k + 32], "little")  # noqa: E731
        got = _wasm_sub_affine((rep(a, 0), rep(a, 1)), (rep(b, 0), rep(b, 1)))
        assert g1_to_uncompressed(got).hex() == ref


def test_h_hash_count_follows_snarkjs_chunking() -> None:
    # hashHPoints gives every 2^14-chunk min(d - 1, 2^14) points.
    assert [h_hash_count(d) for d in (1, 2, 32, 1 << 14, (1 << 14) + 1)] == [0, 1, 31, (1 << 14) - 1, 1 << 14]
    assert [h_hash_count(d) for d in ((1 << 14) + 2, 1 << 15, 1 << 16)] == [1 << 15, 1 << 15, 1 << 16]
    assert tau_g1_rows_needed(1 << 16) == 1 << 17  # one more than a power-16 .ptau's 2^17 - 1
    with pytest.raises(ValueError):
        h_hash_count(0)


_CIRCUIT = """pragma circom 2.0.0;
template Powers(n) {
    signal input a; signal input b; signal output c;
    signal t[n];
    t[0] <== a * b;
    for (var i = 1; i < n; i++) { t[i] <== t[i-1] * b; }
    c <== t[n-1] + a;
}
component main {public [b]} = Powers(20);
"""


@pytest.fixture(scope="module")
def ceremony(small_ptau: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """snarkjs: zkey new, contribute ("alice"), beacon (exp 10) on a small circuit."""
    d = tmp_path_factory.mktemp("mpc")
    src = d / "powers.circom"
    src.write_text(_CIRCUIT)
    build = circom2(src, d / "build")
    paths = {k: str(d / f"{k}.zkey") for k in ("z0", "z1", "z2")}
    payload: dict[str, Any] = {"r1cs": str(build.r1cs), "ptau": str(small_ptau), **paths}
    payload.update(beacon_hash="0123456789abcdef" * 2, beacon_exp=10)
    out: dict[str, Any] = run_node(_CEREMONY_JS, payload, packages=["snarkjs"])
    out.update(payload)
    out["dir"] = d
    for k in ("z0", "z1", "z2"):
        out[f"{k}_bytes"] = Path(paths[k]).read_bytes()
    return out


def test_cs_hash_matches_snarkjs_zkey_new(ceremony: dict[str, Any]) -> None:
    z0: bytes = ceremony["z0_bytes"]
    hdr = _section(z0, 2)
    (domain,) = struct.unpack_from("<I", hdr, _H_DOMAIN)
    ptau = Path(ceremony["ptau"]).read_bytes()
    off, size = _sections(ptau)[2]
    rows = tau_g1_rows_needed(domain)
    assert rows * 64 <= size
    tau_g1 = np.frombuffer(ptau, dtype="<u8", count=rows * 8, offset=off).reshape(-1, 8)
    a_rows = _g1_rows(_section(z0, 5))
    assert (~a_rows.any(axis=1)).any()  # some A points are infinity: their encoding is tested too
    got = cs_hash(
        alpha1=g1_from_lem(_g1_rows(hdr[_H_ALPHA1:_H_BETA1]))[0],
        beta1=g1_from_lem(_g1_rows(hdr[_H_BETA1:_H_BETA2]))[0],
        beta2=g2_from_lem(_g2_rows(hdr[_H_BETA2 : _H_BETA2 + 128]))[0],
        ic=_g1_rows(_section(z0, 3)),
        tau_g1=tau_g1,
        c=_g1_rows(_section(z0, 8)),
        a=a_rows,
        b1=_g1_rows(_section(z0, 6)),
        b2=_g2_rows(_section(z0, 7)),
        domain_size=domain,
    )
    assert got.hex() == ceremony["cs_hash"]
    assert got == _section(z0, 10)[:64]
    with pytest.raises(ValueError, match="tau_g1_rows_needed"):
        cs_hash(
            alpha1=G1_GEN,
            beta1=G1_GEN,
            beta2=G2_GEN,
            ic=[],
            tau_g1=tau_g1[: rows - 1],
            c=[],
            a=[],
            b1=[],
            b2=[],
            domain_size=domain,
        )


def test_snarkjs_ceremony_round_trips_and_verifies(ceremony: dict[str, Any]) -> None:
    z2: bytes = ceremony["z2_bytes"]
    raw = _section(z2, 10)
    mpc = parse_mpc_params(raw)
    assert serialize_mpc_params(mpc) == raw
    assert [c.type for c in mpc.contributions] == [CONTRIBUTION, BEACON]
    assert [c.name for c in mpc.contributions] == ["alice", "final beacon"]
    assert mpc.contributions[1].num_iterations_exp == 10
    assert mpc.contributions[1].beacon_hash == bytes.fromhex(ceremony["beacon_hash"])
    assert [contribution_hash(c).hex() for c in mpc.contributions] == ceremony["hashes"]
    d1, d2 = _header_deltas(z2)
    assert verify_contributions(mpc, G1_GEN, d1, d2) == []
    # A beacon whose key does not follow from its hash is rejected, as snarkjs does.
    fake = replace(mpc.contributions[1], beacon_hash=b"\x00" * 16)
    problems = verify_contributions(replace(mpc, contributions=(mpc.contributions[0], fake)), G1_GEN, d1, d2)
    assert any("key of the beacon does not match" in p for p in problems)


def test_beacon_made_here_equals_snarkjs_beacon(ceremony: dict[str, Any]) -> None:
    z1: bytes = ceremony["z1_bytes"]
    mpc1 = parse_mpc_params(_section(z1, 10))
    mpc2 = parse_mpc_params(_section(ceremony["z2_bytes"], 10))
    d1, d2 = _header_deltas(z1)
    c, x = make_beacon_contribution(
        mpc1, d1, d2, "final beacon", bytes.fromhex(ceremony["beacon_hash"]), ceremony["beacon_exp"]
    )
    assert c == mpc2.contributions[1]
    assert _header_deltas(ceremony["z2_bytes"]) == (G1.mul(d1, x), G2.mul(d2, x))


def _apply_contribution(zkey: bytes, mpc: MpcParams, c: Contribution, x: int) -> bytes:
    """What the lead's code does with a contribution: deltas * x, C and H * 1/x, section 10."""
    _, d2 = _header_deltas(zkey)
    hdr = bytearray(_section(zkey, 2))
    hdr[_H_DELTA1:_H_DELTA2] = g1_to_lem([c.delta_after]).tobytes()
    hdr[_H_DELTA2:_H_END] = g2_to_lem([G2.mul(d2, x)]).tobytes()
    inv = pow(x, -1, R)
    new = {2: bytes(hdr), 10: serialize_mpc_params(mpc.with_contribution(c))}
    for typ in (8, 9):
        pts = g1_from_lem(_g1_rows(_section(zkey, typ)))
        new[typ] = g1_to_lem([G1.mul(p, inv) for p in pts]).tobytes()
    return _with_sections(zkey, new)


def test_contribution_made_here_passes_snarkjs_zkey_verify(ceremony: dict[str, Any]) -> None:
    z2: bytes = ceremony["z2_bytes"]
    mpc = parse_mpc_params(_section(z2, 10))
    d1, d2 = _header_deltas(z2)
    c, x = make_contribution(mpc, d1, d2, "zkmargin", b"\x01\x02 entropy")
    good = _apply_contribution(z2, mpc, c, x)
    # Tampered: g2_spx made with another secret (the key still moves delta consistently).
    bad_c = replace(c, delta_g2_spx=G2.mul(c.delta_g2_sp, x + 1))
    bad = _apply_contribution(z2, mpc, bad_c, x)
    d: Path = ceremony["dir"]
    (d / "z3.zkey").write_bytes(good)
    (d / "z3_bad.zkey").write_bytes(bad)
    payload = {
        "r1cs": ceremony["r1cs"],
        "ptau": ceremony["ptau"],
        "zkeys": [str(d / "z3.zkey"), str(d / "z3_bad.zkey")],
    }
    assert run_node(_VERIFY_JS, payload, packages=["snarkjs"]) == [True, False]
    mpc3 = parse_mpc_params(_section(good, 10))
    assert verify_contributions(mpc3, G1_GEN, *_header_deltas(good)) == []
    problems = verify_contributions(parse_mpc_params(_section(bad, 10)), G1_GEN, *_header_deltas(bad))
    assert any("contribution 3 ('zkmargin')" in p and "same ratio" in p for p in problems)


# ---- the chain fixture ----------------------------------------------------------------


def test_fixture_section10_round_trips(chain_zkey: bytes) -> None:
    raw = _section(chain_zkey, 10)
    mpc = parse_mpc_params(raw)
    assert serialize_mpc_params(mpc) == raw
    assert len(mpc.contributions) == 1 and mpc.contributions[0].name == "b"
    assert mpc.contributions[0].type == CONTRIBUTION


def test_fixture_contributions_verify_and_tampering_is_caught(chain_zkey: bytes) -> None:
    mpc = parse_mpc_params(_section(chain_zkey, 10))
    d1, d2 = _header_deltas(chain_zkey)
    assert verify_contributions(mpc, G1_GEN, d1, d2) == []
    c = mpc.contributions[0]
    tampered = replace(mpc, contributions=(replace(c, delta_g1_sx=G1.add(c.delta_g1_sx, G1_GEN)),))
    problems = verify_contributions(tampered, G1_GEN, d1, d2)
    assert any("inconsistent transcript" in p for p in problems)  # g1_sx is hashed into the transcript
    assert any("same ratio" in p for p in problems)
    wrong_delta = G1.mul(d1, 2)
    problems = verify_contributions(mpc, G1_GEN, wrong_delta, d2)
    assert any("last contribution's deltaAfter" in p for p in problems)
    assert any("delta2 of the key does not match delta1" in p for p in problems)
    problems = verify_contributions(mpc, G1_GEN, d1, G2.mul(d2, 3))
    assert problems == ["delta2 of the key does not match delta1 (pairing check failed)"]


def test_fixture_transcripts_match_snarkjs(
    reference: dict[str, Any], fixture_contribution: tuple[MpcParams, Contribution, int]
) -> None:
    mpc, c, _ = fixture_contribution
    assert c.transcript.hex() == reference["transcript"]
    assert transcript_hash(mpc, c.delta_g1_s, c.delta_g1_sx) == c.transcript
    assert [contribution_hash(k).hex() for k in mpc.contributions] == reference["contribution_hashes"]
    assert c.hash == contribution_hash(c)


def test_contribution_on_fixture_verifies(
    chain_zkey: bytes, fixture_contribution: tuple[MpcParams, Contribution, int]
) -> None:
    mpc, c, x = fixture_contribution
    _, d2 = _header_deltas(chain_zkey)
    new = mpc.with_contribution(c)
    assert verify_contributions(new, G1_GEN, c.delta_after, G2.mul(d2, x)) == []
    assert parse_mpc_params(serialize_mpc_params(new)) == new
    assert c.name == "zkmargin" and c.type == CONTRIBUTION
    # Forgetting to move delta2 is caught.
    assert verify_contributions(new, G1_GEN, c.delta_after, d2) != []
    # Mismatched deltas are refused before contributing.
    with pytest.raises(MpcError, match="same discrete log"):
        make_contribution(mpc, c.delta_after, d2, None, "x")


# ---- section 10 bytes -------------------------------------------------------------------


def _one_contribution(**kw: Any) -> Contribution:
    base = Contribution(G1_GEN, G1_GEN, G1.mul(G1_GEN, 2), G2_GEN, bytes(range(64)))
    return replace(base, **kw)


def test_names_are_cut_like_javascript_substring() -> None:
    long_name = "x" * 70
    mpc = MpcParams(bytes(64), (_one_contribution(name=long_name),))
    assert parse_mpc_params(serialize_mpc_params(mpc)).contributions[0].name == "x" * 64
    # 63 ASCII units then an emoji (two UTF-16 units): JavaScript keeps half of it -> U+FFFD.
    emoji = "y" * 63 + "\U0001f600" + "z"
    back = parse_mpc_params(serialize_mpc_params(MpcParams(bytes(64), (_one_contribution(name=emoji),))))
    assert back.contributions[0].name == "y" * 63 + "\ufffd"
    empty = serialize_mpc_params(MpcParams(bytes(64), (_one_contribution(name=""),)))
    assert parse_mpc_params(empty).contributions[0].name is None  # snarkjs omits empty names


def test_malformed_section10_is_rejected() -> None:
    good = serialize_mpc_params(MpcParams(b"\x07" * 64, (_one_contribution(name="ab"),)))
    assert parse_mpc_params(good).contributions[0].name == "ab"
    with pytest.raises(MalformedMpcParamsError, match="ends inside"):
        parse_mpc_params(good[:-1])
    with pytest.raises(MalformedMpcParamsError, match="end at byte"):
        parse_mpc_params(good + b"\x00")
    fixed = 68 + 64 * 3 + 128 + 64 + 4
    unsorted = good[:fixed] + struct.pack("<I", 5) + bytes([2, 10, 1, 1, 65])
    with pytest.raises(MalformedMpcParamsError, match="sorted"):
        parse_mpc_params(unsorted)
    unknown = good[:fixed] + struct.pack("<I", 2) + bytes([9, 0])
    with pytest.raises(MalformedMpcParamsError, match="unknown parameter"):
        parse_mpc_params(unknown)
    overlong = good[:fixed] + struct.pack("<I", 3) + bytes([1, 3, 97, 98, 99])
    with pytest.raises(MalformedMpcParamsError, match="paramLength"):
        parse_mpc_params(overlong)
    non_canonical = good[:68] + b"\xff" * 32 + good[100:]
    with pytest.raises(MalformedMpcParamsError, match="not below q"):
        parse_mpc_params(non_canonical)
    with pytest.raises(MpcError, match="beacon"):
        serialize_mpc_params(MpcParams(bytes(64), (_one_contribution(type=BEACON),)))
    with pytest.raises(MpcError, match="csHash"):
        MpcParams(bytes(10))


def test_points_off_the_curve_are_reported_not_raised() -> None:
    c = _one_contribution(delta_g1_s=(1, 3))
    problems = verify_contributions(MpcParams(bytes(64), (c,)), G1_GEN, G1_GEN, G2_GEN)
    assert any("g1_s" in p and "not on G1" in p for p in problems)
    assert any("inconsistent transcript" in p for p in problems)
