"""snarkjs-compatible phase-2 MPC: contributions to delta, their transcript and checks.

A Groth16 key's phase 2 randomises delta: each participant draws a secret x, multiplies
delta (G1 and G2) by x and the C and H sections by 1/x, and publishes a proof of
knowledge of x. snarkjs (0.7.6) stores the ceremony in section 10 of the .zkey:

    csHash (64 bytes)            blake2b-512 "circuit hash" of the initial key (_mpc_hash)
    u32 n                        number of contributions, then per contribution:
      deltaAfter  G1 (64, LEM)   delta1 after this contribution
      g1_s        G1 (64, LEM)   a random point s (drawn from the participant's rng)
      g1_sx       G1 (64, LEM)   x * s
      g2_spx      G2 (128, LEM)  x * sp, with sp = hash_to_g2(transcript)
      transcript  64 bytes       blake2b-512(csHash || pubkeys of earlier contributions
                                 || uncompressed(g1_s) || uncompressed(g1_sx))
      u32 type                   0 = contribution, 1 = beacon
      u32 paramLength, then params sorted by id, each one byte id:
        1 name: u8 length, utf-8 bytes (snarkjs keeps the first 64 UTF-16 units)
        2 numIterationsExp: u8 (beacon)
        3 beaconHash: u8 length, bytes (beacon)

All u32 are little-endian; points are little-endian Montgomery (LEM) like the rest of
the .zkey. Hashes use the *uncompressed* encoding instead (big-endian, standard form,
see _mpc_hash). The "pubkey" of a contribution (hashPubKey) is
uncompressed(deltaAfter) || uncompressed(g1_s) || uncompressed(g1_sx) ||
uncompressed(g2_spx) || transcript, and blake2b-512 of it is the "Contribution Hash"
snarkjs prints.

Verification (zkey_verify_frominit.js) checks, per contribution, the transcript,
e(g1_s, g2_spx) = e(g1_sx, sp) and e(deltaBefore, g2_spx) = e(deltaAfter, sp), for
beacons that s and x follow from the beacon; then that the key's delta1 is the last
deltaAfter and e(G1, delta2) = e(delta1, G2).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Protocol

from algebra import (
    G1,
    G1_GEN,
    G2,
    G2_GEN,
    MONT_R_Q,
    MONT_R_Q_INV,
    G1Point,
    G2Point,
    InvalidPointError,
    Q,
    pairing_check,
)

from ._errors import SetupError
from ._mpc_hash import g1_to_uncompressed, g2_to_uncompressed
from ._mpc_rng import ChaCha, fr_from_rng, g1_from_rng, hash_to_g2, random_rng, rng_from_beacon

__all__ = [
    "BEACON",
    "CONTRIBUTION",
    "DEFAULT_MAX_BEACON_EXP",
    "Contribution",
    "MalformedMpcParamsError",
    "MpcError",
    "MpcParams",
    "contribution_hash",
    "hash_pub_key",
    "make_beacon_contribution",
    "make_contribution",
    "parse_mpc_params",
    "pub_key_bytes",
    "same_ratio",
    "serialize_mpc_params",
    "transcript_hash",
    "verify_contributions",
]

#: Contribution types (section 10's u32 "type").
CONTRIBUTION = 0
BEACON = 1

#: verify_contributions checks beacons of up to 2^24 sha256 iterations by default (a few seconds).
DEFAULT_MAX_BEACON_EXP = 24

_HASH_LEN = 64
_FIXED_LEN = 64 * 3 + 128 + _HASH_LEN + 4 + 4  # points, transcript, type, paramLength
_PARAM_NAME, _PARAM_EXP, _PARAM_BEACON_HASH = 1, 2, 3
_NAME_UTF16_UNITS = 64


class MpcError(SetupError):
    """A phase-2 contribution cannot be made or encoded."""


class MalformedMpcParamsError(MpcError):
    """Section 10 bytes do not have snarkjs's layout."""


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...


@dataclass(frozen=True)
class Contribution:
    """One entry of section 10 (snarkjs names in brackets).

    Points are affine Python-int tuples in standard form; infinity is (0, 0).
    """

    #: delta1 after this contribution [deltaAfter].
    delta_after: G1Point
    #: the random G1 point s [delta.g1_s].
    delta_g1_s: G1Point
    #: x * s [delta.g1_sx].
    delta_g1_sx: G1Point
    #: x * hash_to_g2(transcript) [delta.g2_spx].
    delta_g2_spx: G2Point
    #: 64-byte blake2b transcript [transcript].
    transcript: bytes
    #: CONTRIBUTION (0) or BEACON (1) [type].
    type: int = CONTRIBUTION
    #: participant's name, if any [name].
    name: str | None = None
    #: beacon: sha256 is iterated 2^num_iterations_exp times [numIterationsExp].
    num_iterations_exp: int | None = None
    #: beacon: the public random value [beaconHash].
    beacon_hash: bytes | None = None

    @property
    def delta_g2_sp(self) -> G2Point:
        """sp = hash_to_g2(transcript) [delta.g2_sp, not stored in the file]."""
        return hash_to_g2(self.transcript)

    @property
    def hash(self) -> bytes:
        """The "Contribution Hash" snarkjs prints (see :func:`contribution_hash`)."""
        return contribution_hash(self)


@dataclass(frozen=True)
class MpcParams:
    """Section 10 of a .zkey: the circuit hash and the contributions, oldest first."""

    cs_hash: bytes
    contributions: tuple[Contribution, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if len(self.cs_hash) != _HASH_LEN:
            raise MpcError(f"csHash has {len(self.cs_hash)} bytes, expected {_HASH_LEN}")
        object.__setattr__(self, "contributions", tuple(self.contributions))

    def with_contribution(self, contribution: Contribution) -> MpcParams:
        """These parameters with one more contribution appended."""
        return replace(self, contributions=(*self.contributions, contribution))


# ---- section 10 bytes ------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise MalformedMpcParamsError(
                f"section 10 ends inside {what}: needs {n} bytes at offset {self.pos}, has {len(self.data) - self.pos}"
            )
        out = self.data[self.pos : end]
        self.pos = end
        return out

    def u32(self, what: str) -> int:
        return int.from_bytes(self.take(4, what), "little")

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def fq(self, what: str) -> int:
        v = int.from_bytes(self.take(32, what), "little")
        if v >= Q:
            raise MalformedMpcParamsError(f"{what}: Montgomery coordinate {v} is not below q")
        return v * MONT_R_Q_INV % Q

    def g1(self, what: str) -> G1Point:
        return (self.fq(f"{what}.x"), self.fq(f"{what}.y"))

    def g2(self, what: str) -> G2Point:
        x0, x1 = self.fq(f"{what}.x.c0"), self.fq(f"{what}.x.c1")
        y0, y1 = self.fq(f"{what}.y.c0"), self.fq(f"{what}.y.c1")
        return ((x0, x1), (y0, y1))


def _read_contribution(r: _Reader, index: int) -> Contribution:
    what = f"contribution {index + 1}"
    delta_after = r.g1(f"{what} deltaAfter")
    g1_s = r.g1(f"{what} delta.g1_s")
    g1_sx = r.g1(f"{what} delta.g1_sx")
    g2_spx = r.g2(f"{what} delta.g2_spx")
    transcript = r.take(_HASH_LEN, f"{what} transcript")
    ctype = r.u32(f"{what} type")
    param_len = r.u32(f"{what} paramLength")
    start = r.pos
    name: str | None = None
    exp: int | None = None
    beacon_hash: bytes | None = None
    last = 0
    while r.pos - start < param_len:
        pid = r.u8(f"{what} parameter id")
        if pid <= last:
            raise MalformedMpcParamsError(f"{what}: parameter {pid} after {last}; parameters must be sorted")
        last = pid
        if pid == _PARAM_NAME:
            name = r.take(r.u8(f"{what} name length"), f"{what} name").decode("utf-8", errors="replace")
        elif pid == _PARAM_EXP:
            exp = r.u8(f"{what} numIterationsExp")
        elif pid == _PARAM_BEACON_HASH:
            beacon_hash = r.take(r.u8(f"{what} beaconHash length"), f"{what} beaconHash")
        else:
            raise MalformedMpcParamsError(f"{what}: unknown parameter id {pid}")
    if r.pos != start + param_len:
        raise MalformedMpcParamsError(f"{what}: parameters take {r.pos - start} bytes, paramLength says {param_len}")
    return Contribution(delta_after, g1_s, g1_sx, g2_spx, transcript, ctype, name, exp, beacon_hash)


def parse_mpc_params(data: bytes) -> MpcParams:
    """Section 10's payload -> :class:`MpcParams` (snarkjs readMPCParams, as strict).

    Raises :class:`MalformedMpcParamsError` for truncated data, unsorted or unknown
    parameters, a paramLength that does not match, non-canonical coordinates or
    trailing bytes. Points are not checked to be on the curve here:
    :func:`verify_contributions` does that.
    """
    r = _Reader(bytes(data))
    cs = r.take(_HASH_LEN, "csHash")
    n = r.u32("number of contributions")
    contributions = tuple(_read_contribution(r, i) for i in range(n))
    if r.pos != len(r.data):
        raise MalformedMpcParamsError(f"section 10 has {len(r.data)} bytes but {n} contributions end at byte {r.pos}")
    return MpcParams(cs, contributions)


def _fq_lem(v: int) -> bytes:
    return (v % Q * MONT_R_Q % Q).to_bytes(32, "little")


def _g1_lem(p: G1Point) -> bytes:
    return _fq_lem(p[0]) + _fq_lem(p[1])


def _g2_lem(p: G2Point) -> bytes:
    (x0, x1), (y0, y1) = p
    return _fq_lem(x0) + _fq_lem(x1) + _fq_lem(y0) + _fq_lem(y1)


def _js_name_bytes(name: str) -> bytes:
    """utf-8 of ``name.substring(0, 64)`` as JavaScript does it (UTF-16 units, U+FFFD for halves)."""
    units = name.encode("utf-16-le", errors="surrogatepass")
    if len(units) > 2 * _NAME_UTF16_UNITS:
        name = units[: 2 * _NAME_UTF16_UNITS].decode("utf-16-le", errors="surrogatepass")
    name = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in name)
    return name.encode("utf-8")


def _contribution_bytes(c: Contribution, index: int) -> bytes:
    what = f"contribution {index + 1}"
    if len(c.transcript) != _HASH_LEN:
        raise MpcError(f"{what}: transcript has {len(c.transcript)} bytes, expected {_HASH_LEN}")
    if not 0 <= c.type <= 0xFFFFFFFF:
        raise MpcError(f"{what}: type {c.type} does not fit a u32")
    params = bytearray()
    if c.name:
        nb = _js_name_bytes(c.name)
        params += bytes([_PARAM_NAME, len(nb)]) + nb
    if c.type == BEACON:
        if c.num_iterations_exp is None or c.beacon_hash is None:
            raise MpcError(f"{what}: a beacon needs num_iterations_exp and beacon_hash")
        if not 0 <= c.num_iterations_exp <= 255:
            raise MpcError(f"{what}: numIterationsExp {c.num_iterations_exp} does not fit a byte")
        if not 0 < len(c.beacon_hash) <= 255:
            raise MpcError(f"{what}: beacon hash has {len(c.beacon_hash)} bytes, expected 1..255")
        params += bytes([_PARAM_EXP, c.num_iterations_exp, _PARAM_BEACON_HASH, len(c.beacon_hash)])
        params += c.beacon_hash
    return b"".join(
        (
            _g1_lem(c.delta_after),
            _g1_lem(c.delta_g1_s),
            _g1_lem(c.delta_g1_sx),
            _g2_lem(c.delta_g2_spx),
            c.transcript,
            c.type.to_bytes(4, "little"),
            len(params).to_bytes(4, "little"),
            bytes(params),
        )
    )


def serialize_mpc_params(params: MpcParams) -> bytes:
    """:class:`MpcParams` -> section 10's payload, byte for byte as snarkjs writeMPCParams.

    Like snarkjs, an empty name is omitted, names keep their first 64 UTF-16 units, and
    beacon parameters are written only for type BEACON.
    """
    parts = [params.cs_hash, len(params.contributions).to_bytes(4, "little")]
    parts += [_contribution_bytes(c, i) for i, c in enumerate(params.contributions)]
    return b"".join(parts)


# ---- hashes --------------------------------------------------------------------------


def pub_key_bytes(c: Contribution) -> bytes:
    """What snarkjs's hashPubKey feeds a hasher for one contribution."""
    return b"".join(
        (
            g1_to_uncompressed(c.delta_after),
            g1_to_uncompressed(c.delta_g1_s),
            g1_to_uncompressed(c.delta_g1_sx),
            g2_to_uncompressed(c.delta_g2_spx),
            c.transcript,
        )
    )


def hash_pub_key(hasher: _Hasher, c: Contribution) -> None:
    """zkey_utils.hashPubKey: feed ``hasher`` the contribution's public key and transcript."""
    hasher.update(pub_key_bytes(c))


def _accumulated(mpc: MpcParams, n: int | None = None) -> hashlib.blake2b:
    h = hashlib.blake2b(digest_size=_HASH_LEN)
    h.update(mpc.cs_hash)
    for c in mpc.contributions[:n]:
        hash_pub_key(h, c)
    return h


def transcript_hash(mpc: MpcParams, g1_s: G1Point, g1_sx: G1Point) -> bytes:
    """The transcript of a contribution appended to ``mpc`` with public key (g1_s, g1_sx)."""
    h = _accumulated(mpc)
    h.update(g1_to_uncompressed(g1_s))
    h.update(g1_to_uncompressed(g1_sx))
    return h.digest()


def contribution_hash(c: Contribution) -> bytes:
    """blake2b-512 of :func:`pub_key_bytes`: the "Contribution Hash" snarkjs prints."""
    return hashlib.blake2b(pub_key_bytes(c), digest_size=_HASH_LEN).digest()


# ---- contributing ------------------------------------------------------------------


def _contribute(
    mpc: MpcParams, delta1_before: G1Point, delta2_before: G2Point, rng: ChaCha, check_deltas: bool
) -> tuple[int, G1Point, G1Point, bytes, G2Point, G1Point]:
    try:
        G1.validate(delta1_before, "delta1 before the contribution")
        G2.validate(delta2_before, "delta2 before the contribution")
    except InvalidPointError as exc:
        raise MpcError(str(exc)) from exc
    if check_deltas and not same_ratio(G1_GEN, delta1_before, G2_GEN, delta2_before):
        raise MpcError("delta1 and delta2 before the contribution do not have the same discrete log")
    prv_key = fr_from_rng(rng)
    if prv_key == 0:
        raise MpcError("the contribution's secret is zero (a broken random generator?)")
    g1_s = g1_from_rng(rng)
    g1_sx = G1.mul(g1_s, prv_key)
    transcript = transcript_hash(mpc, g1_s, g1_sx)
    g2_spx = G2.mul(hash_to_g2(transcript), prv_key)
    return prv_key, g1_s, g1_sx, transcript, g2_spx, G1.mul(delta1_before, prv_key)


def make_contribution(
    mpc: MpcParams,
    delta1_before: G1Point,
    delta2_before: G2Point,
    name: str | None,
    entropy: bytes | str,
    *,
    check_deltas: bool = True,
) -> tuple[Contribution, int]:
    """A snarkjs ``zkey contribute`` on top of ``mpc``: (contribution, secret x).

    The caller applies x to the key: delta1 and delta2 times x (delta1 * x is
    ``contribution.delta_after``), sections C (8) and H (9) times 1/x mod r, then
    writes ``mpc.with_contribution(contribution)`` as section 10; and forgets x.
    The randomness is OS randomness hashed with ``entropy`` (snarkjs getRandomRng).
    With ``check_deltas`` the two deltas are first checked to match (one pairing check).
    """
    rng = random_rng(entropy)
    prv_key, g1_s, g1_sx, transcript, g2_spx, delta_after = _contribute(
        mpc, delta1_before, delta2_before, rng, check_deltas
    )
    return Contribution(delta_after, g1_s, g1_sx, g2_spx, transcript, CONTRIBUTION, name or None), prv_key


def make_beacon_contribution(
    mpc: MpcParams,
    delta1_before: G1Point,
    delta2_before: G2Point,
    name: str | None,
    beacon_hash: bytes,
    num_iterations_exp: int,
    *,
    check_deltas: bool = True,
) -> tuple[Contribution, int]:
    """A snarkjs ``zkey beacon``: like :func:`make_contribution` with a public, reproducible secret.

    snarkjs accepts beacon hashes of 1..255 bytes and exponents 10..63; so does this.
    """
    if not 0 < len(beacon_hash) < 256:
        raise MpcError(f"beacon hash has {len(beacon_hash)} bytes, expected 1..255")
    if not 10 <= num_iterations_exp <= 63:
        raise MpcError(f"numIterationsExp is {num_iterations_exp}, expected 10..63")
    rng = rng_from_beacon(beacon_hash, num_iterations_exp)
    prv_key, g1_s, g1_sx, transcript, g2_spx, delta_after = _contribute(
        mpc, delta1_before, delta2_before, rng, check_deltas
    )
    contribution = Contribution(
        delta_after, g1_s, g1_sx, g2_spx, transcript, BEACON, name or None, num_iterations_exp, bytes(beacon_hash)
    )
    return contribution, prv_key


# ---- verifying -----------------------------------------------------------------------


def same_ratio(g1_a: G1Point, g1_b: G1Point, g2_a: G2Point, g2_b: G2Point) -> bool:
    """snarkjs misc.sameRatio: e(g1_a, g2_b) == e(g1_b, g2_a), False if any point is infinity.

    Points must be valid (on the curve, in the subgroup).
    """
    if G1.is_infinity(g1_a) or G1.is_infinity(g1_b) or G2.is_infinity(g2_a) or G2.is_infinity(g2_b):
        return False
    return pairing_check([(g1_a, g2_b), (G1.neg(g1_b), g2_a)])


def _invalid_points(label: str, c: Contribution) -> list[str]:
    problems = []
    for what, p in (("deltaAfter", c.delta_after), ("g1_s", c.delta_g1_s), ("g1_sx", c.delta_g1_sx)):
        try:
            G1.validate(p, what)
        except InvalidPointError as exc:
            problems.append(f"{label}: {exc}")
    try:
        G2.validate(c.delta_g2_spx, "g2_spx")
    except InvalidPointError as exc:
        problems.append(f"{label}: {exc}")
    return problems


def _check_beacon(label: str, c: Contribution, max_beacon_exp: int) -> list[str]:
    if c.num_iterations_exp is None or c.beacon_hash is None:
        return [f"{label}: beacon contribution without numIterationsExp and beaconHash"]
    if c.num_iterations_exp > max_beacon_exp:
        return [
            f"{label}: beacon numIterationsExp {c.num_iterations_exp} exceeds the limit {max_beacon_exp} "
            f"(2^{c.num_iterations_exp} sha256 iterations); the beacon was not checked"
        ]
    rng = rng_from_beacon(c.beacon_hash, c.num_iterations_exp)
    prv_key = fr_from_rng(rng)
    g1_s = g1_from_rng(rng)
    problems = []
    if g1_s != c.delta_g1_s:
        problems.append(f"{label}: key of the beacon does not match (g1_s)")
    if G1.mul(g1_s, prv_key) != c.delta_g1_sx:
        problems.append(f"{label}: key of the beacon does not match (g1_sx)")
    return problems


def verify_contributions(
    mpc: MpcParams,
    delta1_initial: G1Point,
    delta1_final: G1Point,
    delta2_final: G2Point,
    *,
    max_beacon_exp: int = DEFAULT_MAX_BEACON_EXP,
) -> list[str]:
    """Problems of the contribution chain (empty list: valid), as zkey_verify_frominit.js.

    ``delta1_initial`` is delta1 of the initial key (the G1 generator for snarkjs keys);
    ``delta1_final``/``delta2_final`` are the final key's header deltas. Per
    contribution: valid points, transcript = blake2b(csHash || earlier pubkeys || g1_s
    || g1_sx), sameRatio(g1_s, g1_sx, sp, g2_spx) with sp = hash_to_g2(transcript),
    sameRatio(previous delta1, deltaAfter, sp, g2_spx), and for beacons (type 1) that
    g1_s and g1_sx follow from the beacon (skipped, and reported, above
    ``max_beacon_exp``). Then delta1_final = the last deltaAfter and
    sameRatio(G1, delta1_final, G2, delta2_final). Unlike snarkjs, which stops at the
    first failure, every problem is listed.
    """
    problems: list[str] = []
    acc = _accumulated(mpc, 0)
    cur: G1Point | None = delta1_initial
    try:
        G1.validate(delta1_initial, "initial delta1")
    except InvalidPointError as exc:
        problems.append(str(exc))
        cur = None
    for i, c in enumerate(mpc.contributions):
        label = f"contribution {i + 1}" + (f" ({c.name!r})" if c.name else "")
        bad_points = _invalid_points(label, c)
        problems += bad_points
        ours = acc.copy()
        ours.update(g1_to_uncompressed(c.delta_g1_s))
        ours.update(g1_to_uncompressed(c.delta_g1_sx))
        if ours.digest() != c.transcript:
            problems.append(f"{label}: inconsistent transcript")
        if c.type not in (CONTRIBUTION, BEACON):
            problems.append(f"{label}: type {c.type} is neither {CONTRIBUTION} (contribution) nor {BEACON} (beacon)")
        if not bad_points:
            sp = hash_to_g2(c.transcript)
            if not same_ratio(c.delta_g1_s, c.delta_g1_sx, sp, c.delta_g2_spx):
                problems.append(f"{label}: public key G1 and G2 do not have the same ratio")
            if cur is not None and not same_ratio(cur, c.delta_after, sp, c.delta_g2_spx):
                problems.append(f"{label}: deltaAfter does not follow the public key")
            if c.type == BEACON:
                problems += _check_beacon(label, c, max_beacon_exp)
        hash_pub_key(acc, c)
        cur = None if bad_points else c.delta_after
    last = mpc.contributions[-1].delta_after if mpc.contributions else delta1_initial
    if delta1_final != last:
        problems.append("delta1 of the key is not the last contribution's deltaAfter")
    try:
        G1.validate(delta1_final, "final delta1")
        G2.validate(delta2_final, "final delta2")
    except InvalidPointError as exc:
        problems.append(str(exc))
    else:
        if not same_ratio(G1_GEN, delta1_final, G2_GEN, delta2_final):
            problems.append("delta2 of the key does not match delta1 (pairing check failed)")
    return problems
