"""The iden3 binary container shared by .r1cs, .wtns, .zkey and .ptau files.

Format (every integer little-endian; iden3's binfileutils reads and writes the same):

    magic       4 bytes ASCII: "r1cs", "wtns", "zkey" or "ptau"
    version     u32
    n_sections  u32
    then n_sections times:
        type    u32
        size    u64
        payload `size` bytes

Sections may come in any order and a type may repeat (readers of the formats here want
each type once). The file ends exactly where its last section ends; a reader that finds
fewer or more bytes than the section table accounts for rejects the file.

Reading maps the file read-only (np.memmap) and hands out payloads as numpy views into
the mapping, so a 75 MB .ptau section costs no copy. Views stay valid after `close()`:
they keep the mapping alive until they are dropped. Writing goes to a temporary file
beside the target, renamed over it only once the whole file is written, so a failed
write leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import struct
from collections.abc import Iterator
from math import prod
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self, cast

import numpy as np
import numpy.typing as npt

from ._errors import (
    BadMagicError,
    FileFormatError,
    MissingSectionError,
    SectionSizeError,
    TruncatedFileError,
    UnsupportedVersionError,
)
from ._lem import U64Array

#: Bytes of the file header: magic, version, section count.
HEADER_SIZE = 12
#: Bytes of a section header: type (u32) and payload size (u64).
SECTION_HEADER_SIZE = 12

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_SECTION_HEADER = struct.Struct("<IQ")

#: One section's payload in the file: (byte offset of the payload, payload size).
SectionRef = tuple[int, int]
#: What a section payload may be written from.
Payload = bytes | bytearray | memoryview | npt.NDArray[np.generic]


def _describe_magic(raw: bytes) -> str:
    if raw.isascii() and raw.decode("ascii").isprintable():
        return repr(raw.decode("ascii"))
    return repr(raw)


def limbs_below(limbs: npt.NDArray[np.uint64], modulus: int) -> npt.NDArray[np.bool_]:
    """For rows of 4 little-endian uint64 limbs: True where the 256-bit value is < modulus.

    Vectorized check that stored field elements are canonical (no Python ints involved):
    the top limb decides almost every row; only rows whose top limb equals the modulus's
    compare the lower limbs.
    """
    rows = np.asarray(limbs).reshape(-1, 4)
    top = np.uint64(modulus >> 192)
    below: npt.NDArray[np.bool_] = rows[:, 3] < top
    tied = np.flatnonzero(rows[:, 3] == top)
    if tied.size:
        below[tied] = _lower_limbs_below(rows[tied], modulus)
    return below


def _lower_limbs_below(rows: npt.NDArray[np.uint64], modulus: int) -> npt.NDArray[np.bool_]:
    """limbs_below for rows whose top limb equals the modulus's: limbs 2, 1, 0 decide."""
    below = np.zeros(rows.shape[0], dtype=np.bool_)
    equal = np.ones(rows.shape[0], dtype=np.bool_)
    for i in (2, 1, 0):
        col = rows[:, i]
        m = np.uint64((modulus >> (64 * i)) & 0xFFFF_FFFF_FFFF_FFFF)
        below |= equal & (col < m)
        equal &= col == m
    return below


class BinFile:
    """An opened iden3 binary file: magic, version and a table of section payloads.

    `sections` maps each section type to its payloads in file order, as
    (offset, size) pairs. Payload accessors return read-only numpy views, no copies.
    """

    def __init__(
        self,
        name: str,
        magic: str,
        version: int,
        sections: dict[int, list[SectionRef]],
        data: npt.NDArray[np.uint8],
    ) -> None:
        self.name = name
        self.magic = magic
        self.version = version
        self.sections = sections
        self.size = int(data.shape[0])
        self._data: npt.NDArray[np.uint8] | None = data

    def __repr__(self) -> str:
        table = ", ".join(f"{t}: {[s for _, s in refs]}" for t, refs in sorted(self.sections.items()))
        return f"BinFile({self.name!r}, {self.magic!r} v{self.version}, {self.size} bytes, sections {{{table}}})"

    # ---- lifetime ------------------------------------------------------------------

    def close(self) -> None:
        """Release this object's reference to the mapping (views handed out stay valid)."""
        self._data = None

    @property
    def closed(self) -> bool:
        return self._data is None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- sections ------------------------------------------------------------------

    def has_section(self, section_type: int) -> bool:
        return section_type in self.sections

    def section_ref(self, section_type: int) -> SectionRef:
        """(offset, size) of the one payload of `section_type`.

        Raises MissingSectionError if the section is absent, FileFormatError if it repeats.
        """
        refs = self.sections.get(section_type)
        if not refs:
            present = sorted(self.sections)
            raise MissingSectionError(f"{self.name}: {self.magic} file has no section {section_type} (has {present})")
        if len(refs) > 1:
            raise FileFormatError(f"{self.name}: section {section_type} appears {len(refs)} times, expected once")
        return refs[0]

    def section_size(self, section_type: int) -> int:
        return self.section_ref(section_type)[1]

    def _buffer(self) -> npt.NDArray[np.uint8]:
        if self._data is None:
            raise ValueError(f"{self.name}: file is closed")
        return self._data

    @property
    def raw(self) -> npt.NDArray[np.uint8]:
        """The whole file as a read-only uint8 view (for readers that must look across
        section boundaries, as snarkjs's circuit hash does)."""
        return self._buffer()

    def section_bytes(self, section_type: int) -> npt.NDArray[np.uint8]:
        """The payload of `section_type` as a read-only uint8 view (zero-copy)."""
        offset, size = self.section_ref(section_type)
        return self._buffer()[offset : offset + size]

    def expect_section_size(self, section_type: int, count: int, item_size: int, what: str, extra: int = 0) -> None:
        """Raise SectionSizeError unless the section holds exactly `extra` + count * item_size bytes.

        The message names both numbers: "section 5 has 3932351 bytes, expected 3932352 =
        61443 points x 64".
        """
        size = self.section_size(section_type)
        expected = extra + count * item_size
        if size != expected:
            plus = f"{extra} + " if extra else ""
            raise SectionSizeError(
                f"{self.name}: section {section_type} has {size} bytes, expected {expected} = "
                f"{plus}{count} {what} x {item_size}"
            )

    def section_array(
        self,
        section_type: int,
        dtype: npt.DTypeLike,
        shape: tuple[int, ...] | None = None,
        *,
        offset: int = 0,
        what: str = "items",
    ) -> npt.NDArray[np.generic]:
        """The payload (from byte `offset` on) viewed as a read-only array, zero-copy.

        With `shape`, the section must hold exactly offset + prod(shape) items, else
        SectionSizeError naming both sizes (rows of shape[0] are called `what`). Without
        it, the payload after `offset` must be a whole number of items.
        """
        dt = np.dtype(dtype)
        start, size = self.section_ref(section_type)
        if shape is None:
            body = size - offset
            if body < 0 or body % dt.itemsize:
                raise SectionSizeError(
                    f"{self.name}: section {section_type} has {size} bytes, not {offset} + a multiple of {dt.itemsize}"
                )
            shape = (body // dt.itemsize,)
        else:
            row = dt.itemsize * prod(shape[1:])
            self.expect_section_size(section_type, shape[0], row, what, extra=offset)
        count = prod(shape)
        arr = np.frombuffer(self._buffer(), dtype=dt, count=count, offset=start + offset)
        return arr.reshape(shape)

    def section_u64(
        self, section_type: int, shape: tuple[int, ...], *, offset: int = 0, what: str = "points"
    ) -> U64Array:
        """section_array with dtype little-endian uint64 (LEM points, limbs): zero-copy."""
        return cast(U64Array, self.section_array(section_type, "<u8", shape, offset=offset, what=what))

    def section_u32(self, section_type: int, pos: int = 0) -> int:
        """The u32 at byte `pos` of the section; SectionSizeError if the section is too short."""
        payload = self.section_bytes(section_type)
        if pos + 4 > payload.shape[0]:
            raise SectionSizeError(
                f"{self.name}: section {section_type} has {payload.shape[0]} bytes, needs at least {pos + 4}"
            )
        return int(_U32.unpack_from(payload.data, pos)[0])


def parse_binfile(data: npt.NDArray[np.uint8], magic: str, max_version: int, name: str = "<bytes>") -> BinFile:
    """Parse the container of `data` (uint8 array, e.g. a memmap) without copying payloads."""
    if len(magic) != 4:
        raise ValueError(f"magic must be 4 ASCII characters, got {magic!r}")
    size = int(data.shape[0])
    if size < HEADER_SIZE:
        raise TruncatedFileError(f"{name}: file is {size} bytes, the header needs {HEADER_SIZE}")
    head = data[:HEADER_SIZE].tobytes()
    raw_magic = head[:4]
    if raw_magic != magic.encode("ascii"):
        raise BadMagicError(f"{name}: expected a {magic!r} file, got magic {_describe_magic(raw_magic)}")
    version, n_sections = struct.unpack_from("<II", head, 4)
    if version > max_version:
        raise UnsupportedVersionError(
            f"{name}: {magic} version {version} is not supported (this reader handles up to {max_version})"
        )
    sections: dict[int, list[SectionRef]] = {}
    pos = HEADER_SIZE
    for k in range(n_sections):
        if pos + SECTION_HEADER_SIZE > size:
            raise TruncatedFileError(
                f"{name}: file is {size} bytes, section table entry {k + 1} of {n_sections} ends at "
                f"{pos + SECTION_HEADER_SIZE}"
            )
        section_type, section_size = _SECTION_HEADER.unpack(data[pos : pos + SECTION_HEADER_SIZE].tobytes())
        pos += SECTION_HEADER_SIZE
        if pos + section_size > size:
            raise TruncatedFileError(
                f"{name}: file is {size} bytes, section {section_type} ends at {pos + section_size}"
            )
        sections.setdefault(section_type, []).append((pos, section_size))
        pos += section_size
    if pos != size:
        raise SectionSizeError(
            f"{name}: file is {size} bytes, but its {n_sections} sections end at {pos} ({size - pos} trailing bytes)"
        )
    return BinFile(name, magic, version, sections, data)


def read_binfile(path: str | os.PathLike[str], magic: str, max_version: int, *, copy_on_write: bool = False) -> BinFile:
    """Open an iden3 binary file read-only (memory-mapped) and index its sections.

    With `copy_on_write`, the mapping is private and writable: payload views are
    writable arrays (numba kernels take them without a copy), pages stay shared with the
    page cache until written, and no write ever reaches the file.

    Raises TruncatedFileError, BadMagicError, UnsupportedVersionError, or
    SectionSizeError (bytes after the last section), each naming both numbers.
    """
    p = Path(path)
    size = p.stat().st_size
    if size < HEADER_SIZE:
        data: npt.NDArray[np.uint8] = np.frombuffer(p.read_bytes(), dtype=np.uint8)
    else:
        data = np.memmap(p, dtype=np.uint8, mode="c" if copy_on_write else "r")
    return parse_binfile(data, magic, max_version, name=str(p))


class BinFileWriter:
    """Write an iden3 binary file atomically; use as a context manager.

        with BinFileWriter(path, "wtns", 2, n_sections=2) as w:
            w.write_section(1, header_bytes)
            with w.section(2):          # streaming: the size is back-patched
                w.write(values_array)

    The file appears at `path` only when the `with` block completes; on an exception the
    temporary file is removed and `path` is left untouched. `n_sections` is written into
    the header up front (snarkjs does the same); the writer checks that exactly that many
    sections were written. Without it, the count is back-patched at the end.
    """

    def __init__(self, path: str | os.PathLike[str], magic: str, version: int, n_sections: int | None = None) -> None:
        raw = magic.encode("ascii")
        if len(raw) != 4:
            raise ValueError(f"magic must be 4 ASCII characters, got {magic!r}")
        self.path = Path(path)
        self.magic = magic
        self.version = version
        self.n_sections = n_sections
        self._raw_magic = raw
        self._tmp: Path | None = None
        self._f: BinaryIO | None = None
        self._written = 0
        self._open_section: tuple[int, int] | None = None  # (type, position of its size field)

    def __enter__(self) -> Self:
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self._tmp = tmp
        self._f = os.fdopen(fd, "wb", buffering=1 << 20)
        self._f.write(self._raw_magic + _U32.pack(self.version) + _U32.pack(self.n_sections or 0))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            try:
                self._finish()
            except BaseException:
                self._abort()
                raise
        else:
            self._abort()

    def _file(self) -> BinaryIO:
        if self._f is None:
            raise ValueError("BinFileWriter is not open: use it as a context manager (`with BinFileWriter(...) as w`)")
        return self._f

    def _finish(self) -> None:
        f = self._file()
        if self._open_section is not None:
            raise ValueError(f"section {self._open_section[0]} was begun but not ended")
        if self.n_sections is None:
            f.seek(8)
            f.write(_U32.pack(self._written))
        elif self._written != self.n_sections:
            raise ValueError(f"wrote {self._written} sections, but the header announces {self.n_sections}")
        f.flush()
        os.fsync(f.fileno())
        f.close()
        self._f = None
        if self._tmp is None:
            raise ValueError("BinFileWriter has no temporary file")
        os.replace(self._tmp, self.path)
        self._tmp = None

    def _abort(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
        if self._tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                self._tmp.unlink()
            self._tmp = None

    # ---- sections ------------------------------------------------------------------

    def write(self, data: Payload) -> None:
        """Append bytes (bytes, memoryview or a numpy array, written in memory order) to the open section."""
        f = self._file()
        if self._open_section is None:
            raise ValueError("no section is open: call begin_section first (or use write_section)")
        if isinstance(data, np.ndarray):
            arr = np.ascontiguousarray(data)
            if arr.dtype.byteorder == ">":
                arr = arr.astype(arr.dtype.newbyteorder("<"))
            f.write(arr.data.cast("B"))
        else:
            f.write(data)

    def begin_section(self, section_type: int) -> None:
        """Start a section whose size is back-patched by end_section."""
        f = self._file()
        if self._open_section is not None:
            raise ValueError(f"section {self._open_section[0]} is still open")
        f.write(_U32.pack(section_type))
        self._open_section = (section_type, f.tell())
        f.write(_U64.pack(0))

    def end_section(self) -> None:
        f = self._file()
        if self._open_section is None:
            raise ValueError("no section is open")
        _, size_pos = self._open_section
        end = f.tell()
        f.seek(size_pos)
        f.write(_U64.pack(end - size_pos - 8))
        f.seek(end)
        self._open_section = None
        self._written += 1

    @contextlib.contextmanager
    def section(self, section_type: int) -> Iterator[Self]:
        """`with w.section(t): w.write(...)`: a streaming section."""
        self.begin_section(section_type)
        yield self
        self.end_section()

    def write_section(self, section_type: int, *payloads: Payload) -> None:
        """Write one whole section whose payload is the concatenation of `payloads`."""
        self.begin_section(section_type)
        for p in payloads:
            self.write(p)
        self.end_section()
