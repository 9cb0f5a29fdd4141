"""snarkjs Groth16 .zkey files: read them (zero-copy), write them byte for byte as snarkjs does.

Format (iden3 container, magic "zkey", version 1; integers little-endian). Points are
affine, little-endian Montgomery over Fq (the LEM layout of algebra._lem): G1 64 bytes
(x, y), G2 128 bytes (x.c0, x.c1, y.c0, y.c1), all zeros = infinity.

- 1 protocol: u32, 1 = Groth16 (2 = PLONK and 10 = FFLONK are rejected).
- 2 header: n8q u32, q (n8q bytes), n8r u32, r (n8r bytes), nVars u32, nPublic u32,
  domainSize u32, then alpha1 (G1), beta1 (G1), beta2 (G2), gamma2 (G2), delta1 (G1),
  delta2 (G2), in that order (660 bytes for BN254).
- 3 IC: nPublic + 1 G1 points.
- 4 coefficients of A and B (C is never stored): u32 count, then count records of
  44 bytes: matrix u32 (0 = A, 1 = B), constraint u32, signal u32, value (32 bytes LE).
  The value is coef * R^2 mod r with R = 2^256, coef in standard form: zkey_new.js
  reads the r1cs coefficient into Montgomery form (coef * R), Montgomery-multiplies it
  by R2r = Fr.e(R^2) (i.e. by R^2) and writes the standard representation of the
  product, coef * R^2; readZKey multiplies by R^-2 to recover coef. The prover feeds
  the stored bytes to a Montgomery multiplication with the standard-form witness,
  which yields coef * w in Montgomery form. Records come in snarkjs's order: for each
  constraint its A terms then its B terms, then one A record (coef 1) per public
  signal s = 0..nPublic at constraint nConstraints + s.
- 5 A, 6 B1: nVars G1 points; 7 B2: nVars G2 points.
- 8 C: nVars - nPublic - 1 G1 points (private signals).
- 9 H: domainSize G1 points (odd Lagrange points of the 2n domain, over delta).
- 10 MPC parameters: csHash (64 bytes), u32 number of contributions, then each:
  deltaAfter (G1), delta.g1_s (G1), delta.g1_sx (G1), delta.g2_spx (G2), all LEM like
  every other point; transcript (64 bytes); type u32 (0 = contribution, 1 = beacon);
  u32 length of the parameters, then the parameters as (id byte, ...) in increasing
  id order: 1 name (u8 length + UTF-8 bytes, at most 64 characters), 2 beacon
  numIterationsExp (u8), 3 beacon hash (u8 length + bytes). snarkjs keeps the first 64
  UTF-16 code units of a name.

`groth16 setup` writes the sections in the order 1, 2, 4, 3, 9, 8, 5, 6, 7, 10; every
`zkey contribute` / `beacon` rewrites them as 1, 2, ..., 10. A ZkeyFile remembers the
order it was read in, so writing it back reproduces the file byte for byte.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from algebra import (
    G1,
    G2,
    MONT_R_R,
    MONT_R_R_INV,
    N8,
    BinFile,
    BinFileWriter,
    FieldMismatchError,
    FileFormatError,
    G1Point,
    G2Point,
    Q,
    R,
    SectionSizeError,
    U64Array,
    g1_from_lem,
    g1_to_lem,
    g2_from_lem,
    g2_to_lem,
    ints_to_limbs,
    limbs_below,
    limbs_to_ints,
    read_binfile,
)

from ._keys import MatrixEntry, ProvingKey
from ._mpc import Contribution, MalformedMpcParamsError, MpcParams, parse_mpc_params, serialize_mpc_params

ZKEY_MAGIC = "zkey"
ZKEY_VERSION = 1

#: Section types of a Groth16 .zkey file.
ZKEY_SECTION_PROTOCOL = 1
ZKEY_SECTION_HEADER = 2
ZKEY_SECTION_IC = 3
ZKEY_SECTION_COEFFS = 4
ZKEY_SECTION_A = 5
ZKEY_SECTION_B1 = 6
ZKEY_SECTION_B2 = 7
ZKEY_SECTION_C = 8
ZKEY_SECTION_H = 9
ZKEY_SECTION_CONTRIBUTIONS = 10

#: Section 1's protocol ids (snarkjs zkey_constants.js).
GROTH16_PROTOCOL_ID = 1
_PROTOCOL_NAMES = {1: "groth16", 2: "plonk", 10: "fflonk"}

#: Section order of `zkey contribute` / `zkey beacon` output (and of our writer by default).
SNARKJS_SECTION_ORDER: tuple[int, ...] = tuple(range(1, 11))
#: Section order of `groth16 setup` (zkey_new.js) output.
SNARKJS_SETUP_SECTION_ORDER: tuple[int, ...] = (1, 2, 4, 3, 9, 8, 5, 6, 7, 10)

#: One record of section 4: 12 bytes of indices and a 32-byte value (coef * R^2 mod r).
COEF_DTYPE = np.dtype([("matrix", "<u4"), ("constraint", "<u4"), ("signal", "<u4"), ("value", "<u8", (4,))])

G1_SIZE = 2 * N8
G2_SIZE = 4 * N8
_HEADER_SIZE = 4 + N8 + 4 + N8 + 12 + 3 * G1_SIZE + 3 * G2_SIZE
_R2 = MONT_R_R * MONT_R_R % R
_R2_INV = MONT_R_R_INV * MONT_R_R_INV % R
_U32 = struct.Struct("<I")


class UnsupportedProtocolError(FileFormatError):
    """The .zkey is for another proof system than Groth16 (PLONK, FFLONK)."""


def _lem_rows(points: U64Array, width: int) -> U64Array:
    return np.ascontiguousarray(points, dtype=np.uint64).reshape(-1, width)


def _g1_bytes(p: G1Point) -> bytes:
    return g1_to_lem([p]).tobytes()


def _g2_bytes(p: G2Point) -> bytes:
    return g2_to_lem([p]).tobytes()


def _g1_at(raw: npt.NDArray[np.uint8] | bytes, pos: int) -> G1Point:
    return g1_from_lem(np.frombuffer(raw, dtype="<u8", count=8, offset=pos).reshape(1, 8))[0]


def _g2_at(raw: npt.NDArray[np.uint8] | bytes, pos: int) -> G2Point:
    return g2_from_lem(np.frombuffer(raw, dtype="<u8", count=16, offset=pos).reshape(1, 16))[0]


#: Section 10's contribution records are `_mpc.Contribution` (one codec for both).
ZkeyContribution = Contribution


def encode_mpc_params(cs_hash: bytes, contributions: Sequence[Contribution]) -> bytes:
    """Section 10's payload: csHash, the number of contributions, each contribution."""
    if len(cs_hash) != 64:
        raise ValueError(f"csHash is 64 bytes, got {len(cs_hash)}")
    return serialize_mpc_params(MpcParams(bytes(cs_hash), tuple(contributions)))


def decode_mpc_params(raw: bytes, name: str = "zkey") -> tuple[bytes, tuple[Contribution, ...]]:
    """Parse section 10 (csHash and contributions), as strictly as snarkjs's readMPCParams."""
    try:
        mpc = parse_mpc_params(bytes(raw))
    except MalformedMpcParamsError as exc:
        raise SectionSizeError(f"{name}: section 10 (contributions): {exc}") from exc
    return mpc.cs_hash, mpc.contributions


@dataclass(frozen=True, eq=False)  # numpy fields: compare sections explicitly
class ZkeyFile:
    """A Groth16 .zkey: header values as Python ints, big sections as zero-copy LEM arrays.

    - n8q, q, n8r, r: field sizes and moduli (BN254's q and r; others are rejected).
    - n_vars (wires incl. wire 0), n_public (public signals), domain_size (power of two).
    - alpha1, beta1, beta2, gamma2, delta1, delta2: the header points.
    - ic: the nPublic + 1 IC points (the verifying key's).
    - coeffs: section 4 as a structured array (COEF_DTYPE), values as stored
      (coef * R^2 mod r); a_coeffs() / b_coeffs() give standard-form entries.
    - a_points (n_vars, 8), b1_points (n_vars, 8), b2_points (n_vars, 16),
      c_points (n_vars - n_public - 1, 8), h_points (domain_size, 8): LEM uint64 arrays,
      read-only views of the file's memory map (or of our own buffers).
    - cs_hash, contributions: section 10 parsed (`contributions_raw` re-encodes it).
    - section_order: the order of the sections in the file, reproduced by write().
    """

    n8q: int
    q: int
    n8r: int
    r: int
    n_vars: int
    n_public: int
    domain_size: int
    alpha1: G1Point
    beta1: G1Point
    beta2: G2Point
    gamma2: G2Point
    delta1: G1Point
    delta2: G2Point
    ic: tuple[G1Point, ...]
    coeffs: npt.NDArray[np.void]
    a_points: U64Array
    b1_points: U64Array
    b2_points: U64Array
    c_points: U64Array
    h_points: U64Array
    cs_hash: bytes
    contributions: tuple[ZkeyContribution, ...]
    section_order: tuple[int, ...] = SNARKJS_SECTION_ORDER

    @property
    def contributions_raw(self) -> bytes:
        """Section 10's payload for cs_hash and contributions (what write() stores)."""
        return encode_mpc_params(self.cs_hash, self.contributions)

    # ---- coefficients ----------------------------------------------------------------

    def _entries(self, matrix: int) -> tuple[MatrixEntry, ...]:
        sel = self.coeffs[self.coeffs["matrix"] == matrix]
        values = [v * _R2_INV % R for v in limbs_to_ints(sel["value"])]
        return tuple(zip(sel["constraint"].tolist(), sel["signal"].tolist(), values))

    def a_coeffs(self) -> tuple[MatrixEntry, ...]:
        """A's entries (row, wire, coefficient in standard form), in file order."""
        return self._entries(0)

    def b_coeffs(self) -> tuple[MatrixEntry, ...]:
        """B's entries (row, wire, coefficient in standard form), in file order."""
        return self._entries(1)

    # ---- conversions -----------------------------------------------------------------

    def to_proving_key(self, *, insecure: bool = False) -> ProvingKey:
        """The proving key; its point sections are this file's arrays (no copy)."""
        return ProvingKey(
            n_vars=self.n_vars,
            n_public=self.n_public,
            domain_size=self.domain_size,
            alpha1=self.alpha1,
            beta1=self.beta1,
            beta2=self.beta2,
            gamma2=self.gamma2,
            delta1=self.delta1,
            delta2=self.delta2,
            a_coeffs=self.a_coeffs(),
            b_coeffs=self.b_coeffs(),
            a_points=self.a_points,
            b1_points=self.b1_points,
            b2_points=self.b2_points,
            c_points=self.c_points,
            h_points=self.h_points,
            ic=self.ic,
            insecure=insecure,
        )

    @classmethod
    def from_proving_key(
        cls,
        pk: ProvingKey,
        *,
        cs_hash: bytes = bytes(64),
        contributions: Sequence[ZkeyContribution] = (),
    ) -> ZkeyFile:
        """A .zkey for a key made here (e.g. the dev setup), laid out as snarkjs lays it out.

        Coefficients are ordered as zkey_new.js orders them (by row, A terms before B).
        The csHash cannot be snarkjs's (that hashes the ptau's tau powers, which a dev
        setup never had): it defaults to 64 zero bytes. Note that a .zkey has no field
        for `pk.insecure`: the caller must keep saying so.
        """
        tagged = [(0, row, wire, coef) for row, wire, coef in pk.a_coeffs]
        tagged += [(1, row, wire, coef) for row, wire, coef in pk.b_coeffs]
        tagged.sort(key=lambda e: (e[1], e[0]))
        coeffs = np.zeros(len(tagged), dtype=COEF_DTYPE)
        if tagged:
            coeffs["matrix"] = [e[0] for e in tagged]
            coeffs["constraint"] = [e[1] for e in tagged]
            coeffs["signal"] = [e[2] for e in tagged]
            coeffs["value"] = ints_to_limbs([e[3] % R * _R2 % R for e in tagged])
        return cls(
            n8q=N8,
            q=Q,
            n8r=N8,
            r=R,
            n_vars=pk.n_vars,
            n_public=pk.n_public,
            domain_size=pk.domain_size,
            alpha1=pk.alpha1,
            beta1=pk.beta1,
            beta2=pk.beta2,
            gamma2=pk.gamma2,
            delta1=pk.delta1,
            delta2=pk.delta2,
            ic=tuple(pk.ic),
            coeffs=coeffs,
            a_points=_lem_rows(pk.a_points, 8),
            b1_points=_lem_rows(pk.b1_points, 8),
            b2_points=_lem_rows(pk.b2_points, 16),
            c_points=_lem_rows(pk.c_points, 8),
            h_points=_lem_rows(pk.h_points, 8),
            cs_hash=bytes(cs_hash),
            contributions=tuple(contributions),
        )

    def with_mpc_params(self, cs_hash: bytes, contributions: Sequence[ZkeyContribution]) -> ZkeyFile:
        """A copy with other section-10 contents (csHash and contributions)."""
        return dataclasses.replace(
            self,
            cs_hash=bytes(cs_hash),
            contributions=tuple(contributions),
        )

    # ---- writing ---------------------------------------------------------------------

    def header_bytes(self) -> bytes:
        """Section 2's payload."""
        return b"".join(
            [
                _U32.pack(self.n8q),
                self.q.to_bytes(self.n8q, "little"),
                _U32.pack(self.n8r),
                self.r.to_bytes(self.n8r, "little"),
                struct.pack("<III", self.n_vars, self.n_public, self.domain_size),
                _g1_bytes(self.alpha1),
                _g1_bytes(self.beta1),
                _g2_bytes(self.beta2),
                _g2_bytes(self.gamma2),
                _g1_bytes(self.delta1),
                _g2_bytes(self.delta2),
            ]
        )

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the .zkey (atomically), sections in `section_order`. See write_zkey."""
        write_zkey(self, path)


def _check_shapes(z: ZkeyFile) -> None:
    n_private = z.n_vars - z.n_public - 1
    expected = {
        "ic": (len(z.ic), z.n_public + 1),
        "a_points": (z.a_points.shape, (z.n_vars, 8)),
        "b1_points": (z.b1_points.shape, (z.n_vars, 8)),
        "b2_points": (z.b2_points.shape, (z.n_vars, 16)),
        "c_points": (z.c_points.shape, (n_private, 8)),
        "h_points": (z.h_points.shape, (z.domain_size, 8)),
    }
    for what, (got, want) in expected.items():
        if got != want:
            raise ValueError(f"zkey {what} has shape {got}, the header implies {want}")
    if z.coeffs.dtype != COEF_DTYPE:
        raise ValueError(f"zkey coeffs must have dtype {COEF_DTYPE}, got {z.coeffs.dtype}")
    if sorted(z.section_order) != list(SNARKJS_SECTION_ORDER):
        raise ValueError(f"section_order must be a permutation of 1..10, got {z.section_order}")


def write_zkey(zkey: ZkeyFile, path: str | os.PathLike[str]) -> None:
    """Write `zkey` as snarkjs does (the same bytes for a file read with read_zkey).

    Section 10 is encoded from cs_hash and contributions. The file is written to a
    temporary name and renamed, so a failure leaves `path` untouched.
    """
    _check_shapes(zkey)
    mpc = encode_mpc_params(zkey.cs_hash, zkey.contributions)
    writers = {
        ZKEY_SECTION_PROTOCOL: lambda w: w.write_section(ZKEY_SECTION_PROTOCOL, _U32.pack(GROTH16_PROTOCOL_ID)),
        ZKEY_SECTION_HEADER: lambda w: w.write_section(ZKEY_SECTION_HEADER, zkey.header_bytes()),
        ZKEY_SECTION_IC: lambda w: w.write_section(ZKEY_SECTION_IC, g1_to_lem(zkey.ic)),
        ZKEY_SECTION_COEFFS: lambda w: w.write_section(
            ZKEY_SECTION_COEFFS, _U32.pack(zkey.coeffs.shape[0]), zkey.coeffs
        ),
        ZKEY_SECTION_A: lambda w: w.write_section(ZKEY_SECTION_A, zkey.a_points),
        ZKEY_SECTION_B1: lambda w: w.write_section(ZKEY_SECTION_B1, zkey.b1_points),
        ZKEY_SECTION_B2: lambda w: w.write_section(ZKEY_SECTION_B2, zkey.b2_points),
        ZKEY_SECTION_C: lambda w: w.write_section(ZKEY_SECTION_C, zkey.c_points),
        ZKEY_SECTION_H: lambda w: w.write_section(ZKEY_SECTION_H, zkey.h_points),
        ZKEY_SECTION_CONTRIBUTIONS: lambda w: w.write_section(ZKEY_SECTION_CONTRIBUTIONS, mpc),
    }
    with BinFileWriter(path, ZKEY_MAGIC, ZKEY_VERSION, n_sections=len(writers)) as w:
        for section_type in zkey.section_order:
            writers[section_type](w)


# ---- reading -------------------------------------------------------------------------


def _points(bf: BinFile, section_type: int, count: int, width: int) -> U64Array:
    arr = bf.section_u64(section_type, (count, width))
    canonical = limbs_below(arr, Q)
    if not bool(canonical.all()):
        k = int(np.argmin(canonical))
        raise FileFormatError(
            f"{bf.name}: section {section_type}: point {k // (width // 4)} has a coordinate >= q "
            "(not a canonical Montgomery value)"
        )
    return arr


def _read_protocol(bf: BinFile) -> None:
    bf.expect_section_size(ZKEY_SECTION_PROTOCOL, 1, 4, "protocol id")
    protocol = bf.section_u32(ZKEY_SECTION_PROTOCOL)
    if protocol != GROTH16_PROTOCOL_ID:
        label = _PROTOCOL_NAMES.get(protocol, "unknown")
        raise UnsupportedProtocolError(
            f"{bf.name}: zkey protocol is {protocol} ({label}); only {GROTH16_PROTOCOL_ID} (groth16) is supported"
        )


def _read_prime(payload: npt.NDArray[np.uint8], pos: int, expected: int, what: str, name: str) -> tuple[int, int]:
    if pos + 4 > payload.shape[0]:
        raise SectionSizeError(
            f"{name}: section {ZKEY_SECTION_HEADER} has {payload.shape[0]} bytes, needs {_HEADER_SIZE}"
        )
    (n8,) = _U32.unpack_from(payload.data, pos)
    if n8 != N8:
        raise FieldMismatchError(f"{name}: zkey {what} elements are {n8} bytes; BN254's {what} = {expected} needs {N8}")
    if pos + 4 + n8 > payload.shape[0]:
        raise SectionSizeError(
            f"{name}: section {ZKEY_SECTION_HEADER} has {payload.shape[0]} bytes, needs {_HEADER_SIZE}"
        )
    value = int.from_bytes(payload[pos + 4 : pos + 4 + n8].tobytes(), "little")
    if value != expected:
        raise FieldMismatchError(f"{name}: zkey {what} is {value}, expected BN254's {what} = {expected}")
    return n8, value


def read_zkey(path: str | os.PathLike[str], *, copy_on_write: bool = False) -> ZkeyFile:
    """Read a Groth16 .zkey over BN254 (snarkjs's layout), big sections zero-copy.

    Sections are read-only views of a memory map; with `copy_on_write` they are writable
    views of a private mapping (what the prover uses: no copy, and the file is never
    written).

    Raises UnsupportedProtocolError (PLONK/FFLONK keys), FieldMismatchError (another
    curve), SectionSizeError (a section disagrees with the header's counts),
    MissingSectionError, FileFormatError (bad domain size, coefficient indices out of
    range, non-canonical values), plus the container's errors.
    """
    with read_binfile(path, ZKEY_MAGIC, ZKEY_VERSION, copy_on_write=copy_on_write) as bf:
        name = bf.name
        _read_protocol(bf)
        header = _read_header(bf, name)
        n_vars, n_public, domain_size = header["n_vars"], header["n_public"], header["domain_size"]
        ic_arr = _points(bf, ZKEY_SECTION_IC, n_public + 1, 8)
        ic = tuple(g1_from_lem(ic_arr))
        for j, p in enumerate(ic):
            if not G1.is_on_curve(p):
                raise FileFormatError(f"{name}: zkey IC point {j} is not on the curve")

        n_coeffs = bf.section_u32(ZKEY_SECTION_COEFFS)
        coeffs = cast(
            npt.NDArray[np.void],
            bf.section_array(ZKEY_SECTION_COEFFS, COEF_DTYPE, (n_coeffs,), offset=4, what="coefficients"),
        )
        _check_coeffs(coeffs, n_vars, domain_size, name)
        a_points = _points(bf, ZKEY_SECTION_A, n_vars, 8)
        b1_points = _points(bf, ZKEY_SECTION_B1, n_vars, 8)
        b2_points = _points(bf, ZKEY_SECTION_B2, n_vars, 16)
        c_points = _points(bf, ZKEY_SECTION_C, n_vars - n_public - 1, 8)
        h_points = _points(bf, ZKEY_SECTION_H, domain_size, 8)
        mpc_raw = bf.section_bytes(ZKEY_SECTION_CONTRIBUTIONS).tobytes()
        cs_hash, contributions = decode_mpc_params(mpc_raw, name)
        order = tuple(sorted(bf.sections, key=lambda t: bf.sections[t][0][0]))
        extra = sorted(set(order) - set(SNARKJS_SECTION_ORDER))
        if extra:
            raise FileFormatError(f"{name}: zkey has unknown sections {extra}")

    return ZkeyFile(
        **header,
        ic=ic,
        coeffs=coeffs,
        a_points=a_points,
        b1_points=b1_points,
        b2_points=b2_points,
        c_points=c_points,
        h_points=h_points,
        cs_hash=cs_hash,
        contributions=contributions,
        section_order=order,
    )


def _read_header(bf: BinFile, name: str) -> dict[str, Any]:
    """The Groth16 header section: primes, sizes and the fixed points, each point on its curve."""
    header = bf.section_bytes(ZKEY_SECTION_HEADER)
    n8q, q = _read_prime(header, 0, Q, "q", name)
    n8r, r = _read_prime(header, 4 + n8q, R, "r", name)
    bf.expect_section_size(ZKEY_SECTION_HEADER, 1, _HEADER_SIZE, "header")
    raw = header.tobytes()
    pos = 8 + n8q + n8r
    n_vars, n_public, domain_size = struct.unpack_from("<III", raw, pos)
    pos += 12
    if domain_size < 1 or domain_size & (domain_size - 1):
        raise FileFormatError(f"{name}: zkey domain size {domain_size} is not a power of two")
    if n_public + 1 > n_vars:
        raise FileFormatError(f"{name}: zkey has {n_public} public signals but only {n_vars} wires")
    alpha1, beta1 = _g1_at(raw, pos), _g1_at(raw, pos + G1_SIZE)
    pos += 2 * G1_SIZE
    beta2, gamma2 = _g2_at(raw, pos), _g2_at(raw, pos + G2_SIZE)
    pos += 2 * G2_SIZE
    delta1, delta2 = _g1_at(raw, pos), _g2_at(raw, pos + G1_SIZE)
    for label, p1 in (("alpha1", alpha1), ("beta1", beta1), ("delta1", delta1)):
        if not G1.is_on_curve(p1):
            raise FileFormatError(f"{name}: zkey header point {label} is not on the curve")
    for label, p2 in (("beta2", beta2), ("gamma2", gamma2), ("delta2", delta2)):
        if not G2.is_on_curve(p2):
            raise FileFormatError(f"{name}: zkey header point {label} is not on the twist")
    return {
        "n8q": n8q,
        "q": q,
        "n8r": n8r,
        "r": r,
        "n_vars": n_vars,
        "n_public": n_public,
        "domain_size": domain_size,
        "alpha1": alpha1,
        "beta1": beta1,
        "beta2": beta2,
        "gamma2": gamma2,
        "delta1": delta1,
        "delta2": delta2,
    }


def _check_coeffs(coeffs: npt.NDArray[np.void], n_vars: int, domain_size: int, name: str) -> None:
    checks = (
        (coeffs["matrix"] > 1, "matrix", "must be 0 (A) or 1 (B)"),
        (coeffs["constraint"] >= domain_size, "constraint", f"must be below the domain size {domain_size}"),
        (coeffs["signal"] >= n_vars, "signal", f"must be below nVars = {n_vars}"),
    )
    for bad, field, rule in checks:
        if bool(bad.any()):
            k = int(np.argmax(bad))
            raise FileFormatError(f"{name}: coefficient {k} has {field} {int(coeffs[field][k])}, which {rule}")
    canonical = limbs_below(coeffs["value"], R)
    if not bool(canonical.all()):
        k = int(np.argmin(canonical))
        raise FileFormatError(f"{name}: coefficient {k}'s value is not below r")
