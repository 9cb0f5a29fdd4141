"""snarkjs powers-of-tau (.ptau) files, read zero-copy, for a phase-2 (circuit-specific) setup.

Format (iden3 container, magic "ptau", version 1; integers little-endian; points LEM
like .zkey files: G1 64 bytes, G2 128 bytes, Montgomery, all zeros = infinity):

- 1 header: n8 u32 (32), q (n8 bytes), power u32, ceremonyPower u32 (0 when new).
- 2 tauG1: tau^i G1 for i < 2^(power+1) - 1.
- 3 tauG2: tau^i G2 for i < 2^power.
- 4 alphaTauG1, 5 betaTauG1: alpha tau^i G1, beta tau^i G1 for i < 2^power.
- 6 betaG2: one G2 point.
- 7 contributions: u32 count, then each contribution (kept as raw bytes here).

`powersoftau prepare phase2` adds the Lagrange forms: section 12 (from 2), 13 (from 3),
14 (from 4), 15 (from 5). For each power p = 0, 1, ..., power it appends the 2^p
points L_i(tau) X, i < 2^p, of the domain of 2^p-th roots of unity (X = G1, G2, alpha
G1 or beta G1), so the domain of size n starts at point n - 1. Section 12 has one more
block, p = power + 1, computed from the 2^(power+1) - 1 tau powers padded with a zero
point: zkey_new.js takes its odd points as the H points of a domain of 2^power.
Sizes: section 12 holds 2^(power+2) - 1 G1 points, 13 holds 2^(power+1) - 1 G2 points,
14 and 15 hold 2^(power+1) - 1 G1 points each.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import numpy as np

from algebra import (
    FR_TWO_ADICITY,
    N8,
    BinFile,
    FieldMismatchError,
    FileFormatError,
    G1Point,
    G2Point,
    MismatchedFilesError,
    MissingSectionError,
    Q,
    U64Array,
    g1_from_lem,
    g2_from_lem,
    limbs_below,
    read_binfile,
)

PTAU_MAGIC = "ptau"
PTAU_VERSION = 1

#: Section types of a .ptau file.
PTAU_SECTION_HEADER = 1
PTAU_SECTION_TAU_G1 = 2
PTAU_SECTION_TAU_G2 = 3
PTAU_SECTION_ALPHA_TAU_G1 = 4
PTAU_SECTION_BETA_TAU_G1 = 5
PTAU_SECTION_BETA_G2 = 6
PTAU_SECTION_CONTRIBUTIONS = 7
PTAU_SECTION_LAGRANGE_TAU_G1 = 12
PTAU_SECTION_LAGRANGE_TAU_G2 = 13
PTAU_SECTION_LAGRANGE_ALPHA_TAU_G1 = 14
PTAU_SECTION_LAGRANGE_BETA_TAU_G1 = 15

_LAGRANGE_G1_SECTIONS = (
    PTAU_SECTION_LAGRANGE_TAU_G1,
    PTAU_SECTION_LAGRANGE_ALPHA_TAU_G1,
    PTAU_SECTION_LAGRANGE_BETA_TAU_G1,
)
_LAGRANGE_SECTIONS = (*_LAGRANGE_G1_SECTIONS, PTAU_SECTION_LAGRANGE_TAU_G2)


class PtauNotPreparedError(FileFormatError):
    """The .ptau has no Lagrange sections (12-15): run `snarkjs powersoftau prepare phase2`."""


class PtauTooSmallError(MismatchedFilesError):
    """The circuit needs a larger domain than the .ptau's power provides."""


def _log2(n: int) -> int:
    return n.bit_length() - 1


@dataclass(frozen=True, eq=False)  # numpy fields
class PtauFile:
    """A .ptau file: header values and zero-copy LEM views of its point sections.

    - n8, q: field element size and base field modulus (BN254's; others are rejected).
    - power: the file holds powers for domains up to 2^power; ceremony_power: the power
      of the ceremony it was truncated from (0 for a fresh `powersoftau new`).
    - tau_g1 (2^(power+1) - 1, 8), tau_g2 (2^power, 16), alpha_tau_g1 and beta_tau_g1
      (2^power, 8), beta_g2 (1, 16): sections 2-6.
    - contributions_raw: section 7 as bytes.
    - lagrange: sections 12-15 by type, when the file is prepared for phase 2.

    Reading checks every section's size but not its points (a large ceremony file is
    gigabytes): lagrange_g1 / lagrange_g2 check that the block they return holds
    canonical coordinates (< q).
    """

    name: str
    n8: int
    q: int
    power: int
    ceremony_power: int
    tau_g1: U64Array
    tau_g2: U64Array
    alpha_tau_g1: U64Array
    beta_tau_g1: U64Array
    beta_g2: U64Array
    contributions_raw: bytes
    lagrange: dict[int, U64Array]
    tau_g1_and_following: U64Array | None = None

    def tau_g1_rows(self, count: int) -> U64Array:
        """The first `count` 64-byte rows from the start of section 2, which may run past
        its end into the bytes that follow in the file.

        snarkjs's circuit hash reads tau^(2d-1) for a domain of the ptau's full size d,
        one point past section 2 (see `_mpc_hash`); reproducing its csHash needs those
        bytes exactly as they lie in the file.
        """
        tail = self.tau_g1_and_following if self.tau_g1_and_following is not None else self.tau_g1
        if count > tail.shape[0]:
            raise MismatchedFilesError(
                f"{self.name}: the circuit hash needs {count} rows from tauG1 onwards, the file holds {tail.shape[0]}"
            )
        return tail[:count]

    @property
    def is_prepared(self) -> bool:
        """True when sections 12-15 (the Lagrange forms) are present."""
        return bool(self.lagrange)

    @property
    def max_domain_size(self) -> int:
        """The largest circuit domain this file serves: 2^power."""
        return 1 << self.power

    @property
    def n_contributions(self) -> int:
        return int(struct.unpack_from("<I", self.contributions_raw)[0]) if len(self.contributions_raw) >= 4 else 0

    @property
    def alpha1(self) -> G1Point:
        """alpha G1 (the first alphaTauG1 point), as snarkjs copies it into a new .zkey."""
        return g1_from_lem(self.alpha_tau_g1[:1])[0]

    @property
    def beta1(self) -> G1Point:
        return g1_from_lem(self.beta_tau_g1[:1])[0]

    @property
    def beta2(self) -> G2Point:
        return g2_from_lem(self.beta_g2[:1])[0]

    def _check_domain(self, domain_size: int, max_power: int, section: int) -> None:
        if domain_size < 1 or domain_size & (domain_size - 1):
            raise ValueError(f"domain size must be a power of two, got {domain_size}")
        if not self.lagrange:
            raise PtauNotPreparedError(
                f"{self.name} is not prepared for phase 2 (it has no sections 12-15); "
                "run `snarkjs powersoftau prepare phase2` on it"
            )
        if _log2(domain_size) > max_power:
            raise PtauTooSmallError(
                f"circuit needs domain 2^{_log2(domain_size)}, ptau {self.name} holds up to 2^{max_power} "
                f"(section {section}; power {self.power})"
            )

    def lagrange_g1(self, section: int, domain_size: int) -> U64Array:
        """L_i(tau) X for i < domain_size as a (domain_size, 8) LEM view (zero-copy).

        section 12: X = G1 (domains up to 2^(power+1), the top one for H points only);
        14: X = alpha G1; 15: X = beta G1 (domains up to 2^power).
        """
        if section not in _LAGRANGE_G1_SECTIONS:
            raise ValueError(f"Lagrange G1 sections are {_LAGRANGE_G1_SECTIONS}, got {section}")
        max_power = self.power + 1 if section == PTAU_SECTION_LAGRANGE_TAU_G1 else self.power
        self._check_domain(domain_size, max_power, section)
        return _canonical(self.lagrange[section][domain_size - 1 : 2 * domain_size - 1], section, self.name)

    def lagrange_g2(self, domain_size: int) -> U64Array:
        """L_i(tau) G2 for i < domain_size (section 13) as a (domain_size, 16) LEM view."""
        self._check_domain(domain_size, self.power, PTAU_SECTION_LAGRANGE_TAU_G2)
        block = self.lagrange[PTAU_SECTION_LAGRANGE_TAU_G2][domain_size - 1 : 2 * domain_size - 1]
        return _canonical(block, PTAU_SECTION_LAGRANGE_TAU_G2, self.name)


def _canonical(block: U64Array, section_type: int, name: str) -> U64Array:
    canonical = limbs_below(block, Q)
    if not bool(canonical.all()):
        k = int(np.argmin(canonical))
        raise FileFormatError(
            f"{name}: section {section_type}: point {k // (block.shape[1] // 4)} of the block has a coordinate >= q"
        )
    return block


def _points(bf: BinFile, section_type: int, count: int, width: int) -> U64Array:
    return bf.section_u64(section_type, (count, width))


def read_ptau(path: str | os.PathLike[str]) -> PtauFile:
    """Read a BN254 .ptau file (prepared or not), point sections zero-copy.

    Raises FieldMismatchError for another curve, SectionSizeError when a section does
    not hold the points its power implies, MissingSectionError, and the container's
    errors. An unprepared file reads fine; asking it for Lagrange points raises
    PtauNotPreparedError.
    """
    with read_binfile(path, PTAU_MAGIC, PTAU_VERSION) as bf:
        name = bf.name
        header = bf.section_bytes(PTAU_SECTION_HEADER)
        n8 = bf.section_u32(PTAU_SECTION_HEADER)
        if n8 != N8:
            raise FieldMismatchError(f"{name}: ptau field elements are {n8} bytes; BN254's q = {Q} needs {N8}")
        bf.expect_section_size(PTAU_SECTION_HEADER, 1, 4 + n8 + 8, "header")
        q = int.from_bytes(header[4 : 4 + n8].tobytes(), "little")
        if q != Q:
            raise FieldMismatchError(f"{name}: ptau curve prime q is {q}, expected BN254's q = {Q}")
        power, ceremony_power = struct.unpack_from("<II", header.data, 4 + n8)
        if power > FR_TWO_ADICITY:
            raise FileFormatError(f"{name}: ptau power {power} exceeds BN254's 2-adicity {FR_TWO_ADICITY}")
        n = 1 << power
        tau_g1 = _points(bf, PTAU_SECTION_TAU_G1, 2 * n - 1, 8)
        tau_g2 = _points(bf, PTAU_SECTION_TAU_G2, n, 16)
        alpha_tau_g1 = _points(bf, PTAU_SECTION_ALPHA_TAU_G1, n, 8)
        beta_tau_g1 = _points(bf, PTAU_SECTION_BETA_TAU_G1, n, 8)
        beta_g2 = _points(bf, PTAU_SECTION_BETA_G2, 1, 16)
        contributions_raw = bf.section_bytes(PTAU_SECTION_CONTRIBUTIONS).tobytes()
        start = bf.section_ref(PTAU_SECTION_TAU_G1)[0]
        whole = bf.raw
        n_rows = (whole.shape[0] - start) // 64
        following = whole[start : start + 64 * n_rows].view("<u8").reshape(n_rows, 8)

        lagrange: dict[int, U64Array] = {}
        present = [t for t in _LAGRANGE_SECTIONS if bf.has_section(t)]
        if present:
            missing = [t for t in _LAGRANGE_SECTIONS if t not in present]
            if missing:
                raise MissingSectionError(
                    f"{name}: ptau is partly prepared: it has sections {present} but not {missing}"
                )
            lagrange[PTAU_SECTION_LAGRANGE_TAU_G1] = _points(bf, PTAU_SECTION_LAGRANGE_TAU_G1, 4 * n - 1, 8)
            lagrange[PTAU_SECTION_LAGRANGE_TAU_G2] = _points(bf, PTAU_SECTION_LAGRANGE_TAU_G2, 2 * n - 1, 16)
            for t in (PTAU_SECTION_LAGRANGE_ALPHA_TAU_G1, PTAU_SECTION_LAGRANGE_BETA_TAU_G1):
                lagrange[t] = _points(bf, t, 2 * n - 1, 8)

    return PtauFile(
        name=name,
        n8=n8,
        q=q,
        power=power,
        ceremony_power=ceremony_power,
        tau_g1=tau_g1,
        tau_g2=tau_g2,
        alpha_tau_g1=alpha_tau_g1,
        beta_tau_g1=beta_tau_g1,
        beta_g2=beta_g2,
        contributions_raw=contributions_raw,
        lagrange=lagrange,
        tau_g1_and_following=following,
    )
