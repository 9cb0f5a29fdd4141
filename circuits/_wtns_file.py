"""snarkjs/circom .wtns witness files.

Format (iden3 container, magic "wtns", version 2; integers little-endian):

- section 1 (header): n8 u32 (32 for BN254), prime (n8 bytes, must be r), count u32.
- section 2 (values): count field elements, n8 bytes each, standard form (not
  Montgomery), wire 0 (the constant 1) first.

Readers check the prime, that section 2 holds exactly `count` values and that every
value is below r.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence, Sized

import numpy as np

from algebra import (
    N8,
    BinFileWriter,
    FieldMismatchError,
    FileFormatError,
    MismatchedFilesError,
    R,
    U64Array,
    limbs_below,
    limbs_to_ints,
    read_binfile,
)

WTNS_MAGIC = "wtns"
WTNS_VERSION = 2

#: Section types of a .wtns file.
WTNS_SECTION_HEADER = 1
WTNS_SECTION_VALUES = 2

_U32 = struct.Struct("<I")


def read_wtns_limbs(path: str | os.PathLike[str]) -> U64Array:
    """The witness as an (n, 4) array of standard-form little-endian uint64 limbs.

    The array is a read-only view of the memory-mapped file (no copy), for vectorized
    consumers. Raises FieldMismatchError for another prime, SectionSizeError if
    section 2 does not hold `count` values, FileFormatError for a value >= r.
    """
    with read_binfile(path, WTNS_MAGIC, WTNS_VERSION) as bf:
        header = bf.section_bytes(WTNS_SECTION_HEADER)
        n8 = bf.section_u32(WTNS_SECTION_HEADER)
        if n8 != N8:
            raise FieldMismatchError(
                f"{bf.name}: witness values are {n8} bytes; BN254's scalar field r = {R} needs {N8}"
            )
        bf.expect_section_size(WTNS_SECTION_HEADER, 1, 4 + n8 + 4, "header")
        prime = int.from_bytes(header[4 : 4 + n8].tobytes(), "little")
        if prime != R:
            raise FieldMismatchError(f"{bf.name}: witness prime is {prime}, expected BN254's scalar field r = {R}")
        count = int(_U32.unpack_from(header.data, 4 + n8)[0])
        values = bf.section_u64(WTNS_SECTION_VALUES, (count, 4), what="values")
    canonical = limbs_below(values, R)
    if not bool(canonical.all()):
        k = int(np.argmin(canonical))
        raise FileFormatError(f"{path}: witness value {k} is {limbs_to_ints(values[k : k + 1])[0]}, not below r = {R}")
    return values


def read_wtns(path: str | os.PathLike[str]) -> list[int]:
    """The witness values (standard form, wire 0 first) of a .wtns file. See read_wtns_limbs."""
    return limbs_to_ints(read_wtns_limbs(path))


def write_wtns(values: Sequence[int], path: str | os.PathLike[str]) -> None:
    """Write a witness as snarkjs does (version 2, n8 = 32, prime r, standard form).

    Raises ValueError if a value is not a field element in [0, r).
    """
    for i, v in enumerate(values):
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < R:
            raise ValueError(f"witness[{i}] = {v!r} is not a field element in [0, r)")
    header = _U32.pack(N8) + R.to_bytes(N8, "little") + _U32.pack(len(values))
    with BinFileWriter(path, WTNS_MAGIC, WTNS_VERSION, n_sections=2) as w:
        w.write_section(WTNS_SECTION_HEADER, header)
        w.write_section(WTNS_SECTION_VALUES, b"".join(v.to_bytes(N8, "little") for v in values))


def check_witness_matches(n_expected: int, witness: Sized, what: str) -> None:
    """Raise MismatchedFilesError unless the witness has n_expected values.

    `what` names the other side: check_witness_matches(zkey.n_vars, w, "zkey") raises
    "witness has 3235 values, zkey expects 3236".
    """
    n = len(witness)
    if n != n_expected:
        raise MismatchedFilesError(f"witness has {n} values, {what} expects {n_expected}")
