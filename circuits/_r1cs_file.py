"""circom's .r1cs files: read them into a ConstraintSystem, write ours for snarkjs.

Format (iden3 container, magic "r1cs", version 1; integers little-endian):

- section 1 (header): n8 u32 (32 for BN254), prime (n8 bytes, must be r), nWires u32,
  nPubOut u32, nPubIn u32, nPrvIn u32, nLabels u64, nConstraints u32.
- section 2 (constraints): nConstraints times the three linear combinations A, B, C,
  each: nTerms u32, then nTerms times (wire u32, coefficient n8 bytes, standard form).
- section 3 (wire -> label map): nWires u64 label ids.
- sections 4 and 5 (custom gates, PLONK only) are ignored.

Wire layout: wire 0 is the constant one, then public outputs, public inputs, private
inputs, internal wires. Our circuits have no public outputs: their n_public public
inputs follow wire 0, so they export with nPubOut = 0, nPubIn = n_public.

Reading is vectorized: one Python pass finds the 3 * nConstraints term-count headers,
numpy cuts them out of the section and views the rest as (wire, coefficient) records;
the 61,440-constraint fixture (800k terms) parses in about a second.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from algebra import (
    N8,
    BinFile,
    BinFileWriter,
    FieldMismatchError,
    FileFormatError,
    R,
    SectionSizeError,
    U64Array,
    limbs_below,
    limbs_to_ints,
    read_binfile,
)

from ._r1cs import Constraint, ConstraintSystem

R1CS_MAGIC = "r1cs"
R1CS_VERSION = 1

#: Section types of a .r1cs file.
R1CS_SECTION_HEADER = 1
R1CS_SECTION_CONSTRAINTS = 2
R1CS_SECTION_WIRE_TO_LABEL = 3
R1CS_SECTION_CUSTOM_GATES_LIST = 4
R1CS_SECTION_CUSTOM_GATES_USES = 5

_HEADER_AFTER_PRIME = struct.Struct("<IIIIQI")  # nWires, nPubOut, nPubIn, nPrvIn, nLabels, nConstraints
_U32 = struct.Struct("<I")
#: One (wire, coefficient) term of a linear combination, packed (36 bytes for n8 = 32).
_TERM_DTYPE = np.dtype([("wire", "<u4"), ("coef", "<u8", (4,))])


@dataclass(frozen=True, eq=False)  # numpy fields
class R1csMatrix:
    """One of A, B, C as coordinate arrays: entry k is coefs[k] at (rows[k], wires[k]).

    Entries are in file order (by row, then as the file lists the terms); coefs holds
    standard-form Fr values as rows of 4 little-endian uint64 limbs.
    """

    rows: npt.NDArray[np.int64]
    wires: npt.NDArray[np.uint32]
    coefs: U64Array

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def entries(self) -> list[tuple[int, int, int]]:
        """(row, wire, coefficient) triples with Python-int coefficients."""
        return list(zip(self.rows.tolist(), self.wires.tolist(), limbs_to_ints(self.coefs)))


@dataclass(frozen=True, eq=False)  # numpy fields: compare constraints explicitly
class R1csFile:
    """A parsed .r1cs file.

    - prime: the field's modulus (always BN254's r: other primes are rejected).
    - n_wires, n_pub_out, n_pub_in, n_prv_in, n_labels, n_constraints: the header.
    - constraints: the constraint system, n_public = n_pub_out + n_pub_in, constraint k
      named "constraint {k}", wire 0 named "one" and wire i "wire {i}".
    - wire_to_label: section 3 (label id of each wire), None if the file has none.
    - matrices: A, B, C as coordinate arrays (the raw data, for vectorized consumers).
    """

    prime: int
    n_wires: int
    n_pub_out: int
    n_pub_in: int
    n_prv_in: int
    n_labels: int
    n_constraints: int
    constraints: ConstraintSystem
    wire_to_label: list[int] | None
    matrices: tuple[R1csMatrix, R1csMatrix, R1csMatrix]

    @property
    def n_public(self) -> int:
        """Public signals (outputs then inputs), not counting wire 0."""
        return self.n_pub_out + self.n_pub_in

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write this file back (header counts and label map included)."""
        write_r1cs(
            self.constraints,
            path,
            n_pub_out=self.n_pub_out,
            n_prv_in=self.n_prv_in,
            n_labels=self.n_labels,
            wire_to_label=self.wire_to_label,
        )


def _read_header(bf: BinFile) -> tuple[int, int, int, int, int, int, int]:
    payload = bf.section_bytes(R1CS_SECTION_HEADER)
    n8 = bf.section_u32(R1CS_SECTION_HEADER)
    if n8 != N8:
        prime_hint = ""
        if payload.shape[0] >= 4 + n8:
            prime_hint = f" (prime {int.from_bytes(payload[4 : 4 + n8].tobytes(), 'little')})"
        raise FieldMismatchError(
            f"{bf.name}: field elements are {n8} bytes{prime_hint}; BN254's scalar field r = {R} needs {N8}"
        )
    bf.expect_section_size(R1CS_SECTION_HEADER, 1, 4 + n8 + _HEADER_AFTER_PRIME.size, "header")
    prime = int.from_bytes(payload[4 : 4 + n8].tobytes(), "little")
    if prime != R:
        raise FieldMismatchError(f"{bf.name}: r1cs prime is {prime}, expected BN254's scalar field r = {R}")
    n_wires, n_pub_out, n_pub_in, n_prv_in, n_labels, n_constraints = _HEADER_AFTER_PRIME.unpack_from(
        payload.data, 4 + n8
    )
    if 1 + n_pub_out + n_pub_in + n_prv_in > n_wires:
        raise FileFormatError(
            f"{bf.name}: header has 1 + {n_pub_out} + {n_pub_in} + {n_prv_in} input/output wires "
            f"but only {n_wires} wires"
        )
    return prime, n_wires, n_pub_out, n_pub_in, n_prv_in, n_labels, n_constraints


def _term_counts(section: npt.NDArray[np.uint8], n_lcs: int, name: str) -> tuple[list[int], list[int]]:
    """Positions of the 3 * nConstraints term-count headers and the counts they hold."""
    mv = section.data
    size = len(mv)
    term = 4 + N8
    positions = [0] * n_lcs
    counts = [0] * n_lcs
    unpack = _U32.unpack_from
    pos = 0
    for k in range(n_lcs):
        if pos + 4 > size:
            raise SectionSizeError(
                f"{name}: section {R1CS_SECTION_CONSTRAINTS} has {size} bytes, but constraint {k // 3} "
                f"needs more than that (its term count alone ends at {pos + 4})"
            )
        n = unpack(mv, pos)[0]
        positions[k] = pos
        counts[k] = n
        pos += 4 + n * term
    if pos != size:
        raise SectionSizeError(
            f"{name}: section {R1CS_SECTION_CONSTRAINTS} has {size} bytes, but its {n_lcs // 3} constraints take {pos}"
        )
    return positions, counts


def _parse_constraints(
    bf: BinFile, n_wires: int, n_constraints: int
) -> tuple[tuple[R1csMatrix, R1csMatrix, R1csMatrix], list[list[dict[int, int]]]]:
    section = bf.section_bytes(R1CS_SECTION_CONSTRAINTS)
    n_lcs = 3 * n_constraints
    if 4 * n_lcs > section.shape[0]:  # every linear combination has a 4-byte term count
        raise SectionSizeError(
            f"{bf.name}: section {R1CS_SECTION_CONSTRAINTS} has {section.shape[0]} bytes, but the header's "
            f"{n_constraints} constraints need at least {4 * n_lcs}"
        )
    positions, counts = _term_counts(section, n_lcs, bf.name)

    # Cut the 4-byte count headers out; what remains is a packed array of terms.
    keep = np.ones(section.shape[0], dtype=np.bool_)
    if n_lcs:
        heads = np.asarray(positions, dtype=np.int64)
        keep[(heads[:, None] + np.arange(4, dtype=np.int64)).ravel()] = False
    terms = np.frombuffer(section[keep].tobytes(), dtype=_TERM_DTYPE)
    wires = terms["wire"]
    coefs = terms["coef"]

    if terms.shape[0] and int(wires.max()) >= n_wires:
        k = int(np.argmax(wires >= n_wires))
        raise FileFormatError(f"{bf.name}: a constraint term uses wire {int(wires[k])}, the header has {n_wires} wires")
    canonical = limbs_below(coefs, R)
    if not bool(canonical.all()):
        k = int(np.argmin(canonical))
        value = limbs_to_ints(coefs[k : k + 1])[0]
        raise FileFormatError(f"{bf.name}: coefficient {value} of term {k} is not below r = {R}")

    count_arr = np.asarray(counts, dtype=np.int64)
    lc_index = np.repeat(np.arange(n_lcs, dtype=np.int64), count_arr)
    matrices = tuple(
        R1csMatrix(rows=lc_index[sel] // 3, wires=wires[sel], coefs=coefs[sel])
        for sel in ((lc_index % 3) == m for m in range(3))
    )

    wire_list = wires.tolist()
    coef_list = limbs_to_ints(coefs)
    rows: list[list[dict[int, int]]] = []
    start = 0
    for c in range(n_constraints):
        lcs: list[dict[int, int]] = []
        for m in range(3):
            n = counts[3 * c + m]
            lc = dict(zip(wire_list[start : start + n], coef_list[start : start + n]))
            if len(lc) != n:
                raise FileFormatError(f"{bf.name}: constraint {c} lists a wire twice in {'ABC'[m]}")
            lcs.append(lc)
            start += n
        rows.append(lcs)
    return (matrices[0], matrices[1], matrices[2]), rows


def _check_wires_described(name: str, n_wires: int, matrices: tuple[R1csMatrix, ...]) -> None:
    """Without a label section, every wire must be one a constraint uses (or wire 0).

    A file describes each wire by its label (section 3, 8 bytes a wire, so the file's
    size bounds the count) or by the terms that use it. Without labels, nothing else
    would bound the header's count: a 150-byte file could claim 2^32 - 1 wires and make
    every consumer allocate per wire. circom and snarkjs always write section 3.
    """
    used = np.unique(np.concatenate([np.zeros(1, dtype=np.uint32), *(m.wires for m in matrices)]))
    if n_wires > used.shape[0]:  # all wire indices are below n_wires: a gap is a wire nothing describes
        raise SectionSizeError(
            f"{name}: header claims {n_wires} wires, but the file has no wire label section (section "
            f"{R1CS_SECTION_WIRE_TO_LABEL}) and its constraints use only {used.shape[0] - 1} besides wire 0"
        )


def read_r1cs(path: str | os.PathLike[str]) -> R1csFile:
    """Read a circom .r1cs file over BN254.

    Raises FileFormatError subclasses: FieldMismatchError for another prime,
    SectionSizeError if the sections disagree with the header, MissingSectionError,
    and the container's errors (truncation, magic, version).
    """
    with read_binfile(path, R1CS_MAGIC, R1CS_VERSION) as bf:
        prime, n_wires, n_pub_out, n_pub_in, n_prv_in, n_labels, n_constraints = _read_header(bf)
        labels = None
        if bf.has_section(R1CS_SECTION_WIRE_TO_LABEL):  # its size bounds n_wires before anything is built
            labels = bf.section_array(R1CS_SECTION_WIRE_TO_LABEL, "<u8", (n_wires,), what="wire labels")
        matrices, rows = _parse_constraints(bf, n_wires, n_constraints)
        if labels is None:
            _check_wires_described(bf.name, n_wires, matrices)
        wire_to_label = None if labels is None else [int(v) for v in labels.tolist()]
    names = ["one", *(f"wire {i}" for i in range(1, n_wires))]
    cs = ConstraintSystem(
        n_public=n_pub_out + n_pub_in,
        wire_names=names,
        constraints=[Constraint(a, b, c, f"constraint {k}") for k, (a, b, c) in enumerate(rows)],
    )
    return R1csFile(
        prime=prime,
        n_wires=n_wires,
        n_pub_out=n_pub_out,
        n_pub_in=n_pub_in,
        n_prv_in=n_prv_in,
        n_labels=n_labels,
        n_constraints=n_constraints,
        constraints=cs,
        wire_to_label=wire_to_label,
        matrices=matrices,
    )


def _lc_bytes(lc: dict[int, int], n_wires: int, where: str) -> bytes:
    parts = [_U32.pack(len(lc))]
    for w, c in lc.items():
        if not 0 <= w < n_wires:
            raise ValueError(f"{where} uses wire {w}, the circuit has {n_wires} wires")
        parts.append(w.to_bytes(4, "little"))
        parts.append((c % R).to_bytes(N8, "little"))
    return b"".join(parts)


def write_r1cs(
    cs: ConstraintSystem,
    path: str | os.PathLike[str],
    n_prv_in: int = 0,
    *,
    n_pub_out: int = 0,
    n_labels: int | None = None,
    wire_to_label: Sequence[int] | None = None,
) -> None:
    """Write `cs` as a circom .r1cs file (sections 1, 2, 3; coefficients in standard form).

    The first n_pub_out of cs's public wires are declared outputs, the rest public
    inputs (our circuits: n_pub_out = 0, n_pub_in = cs.n_public). n_prv_in counts the
    private inputs after them (informational: snarkjs prints it). The wire -> label map
    defaults to the identity, with n_labels = n_wires.
    """
    n_wires = cs.n_wires
    if not 0 <= n_pub_out <= cs.n_public:
        raise ValueError(f"n_pub_out = {n_pub_out} must be between 0 and the {cs.n_public} public wires")
    if not 0 <= n_prv_in <= n_wires - 1 - cs.n_public:
        raise ValueError(f"n_prv_in = {n_prv_in} exceeds the {n_wires - 1 - cs.n_public} non-public wires")
    labels = list(range(n_wires)) if wire_to_label is None else list(wire_to_label)
    if len(labels) != n_wires:
        raise ValueError(f"wire_to_label has {len(labels)} entries, the circuit has {n_wires} wires")
    if n_labels is None:
        n_labels = max(labels, default=-1) + 1
    header = (
        _U32.pack(N8)
        + R.to_bytes(N8, "little")
        + _HEADER_AFTER_PRIME.pack(n_wires, n_pub_out, cs.n_public - n_pub_out, n_prv_in, n_labels, cs.n_constraints)
    )
    with BinFileWriter(path, R1CS_MAGIC, R1CS_VERSION, n_sections=3) as w:
        w.write_section(R1CS_SECTION_HEADER, header)
        with w.section(R1CS_SECTION_CONSTRAINTS):
            for k, con in enumerate(cs.constraints):
                where = f"constraint {k} ({con.name!r})"
                w.write(
                    _lc_bytes(con.a, n_wires, where)
                    + _lc_bytes(con.b, n_wires, where)
                    + _lc_bytes(con.c, n_wires, where)
                )
        w.write_section(R1CS_SECTION_WIRE_TO_LABEL, np.asarray(labels, dtype="<u8"))
