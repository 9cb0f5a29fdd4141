"""The iden3 binary container: reading (zero-copy), atomic writing, named errors."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np
import pytest

from algebra import (
    BadMagicError,
    BinFileWriter,
    FileFormatError,
    MissingSectionError,
    Q,
    R,
    SectionSizeError,
    TruncatedFileError,
    UnsupportedVersionError,
    ints_to_limbs,
    limbs_below,
    parse_binfile,
    read_binfile,
)

POINTS = np.arange(3 * 8, dtype=np.uint64).reshape(3, 8)


def _write_sample(path: Path) -> None:
    """Sections in a non-sorted order, a repeated type, and each way of writing a payload."""
    with BinFileWriter(path, "test", 3, n_sections=4) as w:
        w.write_section(5, POINTS)
        w.write_section(1, b"\x07\x00\x00\x00", memoryview(b"abc"))
        with w.section(2):
            w.write(b"xy")
            w.write(np.array([1, 2], dtype="<u4"))
        w.write_section(2, b"")


def _sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.bin"
    _write_sample(path)
    return path


def test_round_trip_sections_any_order_and_repeated(tmp_path: Path) -> None:
    path = _sample(tmp_path)
    with read_binfile(path, "test", 3) as bf:
        assert bf.magic == "test"
        assert bf.version == 3
        assert sorted(bf.sections) == [1, 2, 5]
        assert [size for _, size in bf.sections[2]] == [10, 0]
        assert bf.section_bytes(1).tobytes() == b"\x07\x00\x00\x00abc"
        assert bf.section_u32(1) == 7
        points = bf.section_u64(5, (3, 8))
        assert np.array_equal(points, POINTS)
        assert bf.size == path.stat().st_size
    # Views are read-only and outlive close(): they keep the mapping alive.
    assert not points.flags.writeable
    assert np.array_equal(points, POINTS)


def test_section_payloads_are_views_not_copies(tmp_path: Path) -> None:
    path = _sample(tmp_path)
    bf = read_binfile(path, "test", 3)
    whole = bf._buffer()
    assert np.shares_memory(bf.section_bytes(5), whole)
    assert np.shares_memory(bf.section_array(5, "<u8", (3, 8)), whole)


def test_repeated_section_must_be_read_as_a_list(tmp_path: Path) -> None:
    with read_binfile(_sample(tmp_path), "test", 3) as bf, pytest.raises(FileFormatError, match="appears 2 times"):
        bf.section_bytes(2)


def test_missing_section(tmp_path: Path) -> None:
    with read_binfile(_sample(tmp_path), "test", 3) as bf, pytest.raises(MissingSectionError, match="no section 9"):
        bf.section_bytes(9)


def test_closed_file_refuses_new_views(tmp_path: Path) -> None:
    bf = read_binfile(_sample(tmp_path), "test", 3)
    bf.close()
    assert bf.closed
    with pytest.raises(ValueError, match="closed"):
        bf.section_bytes(1)


def test_section_array_size_error_names_both_numbers(tmp_path: Path) -> None:
    with read_binfile(_sample(tmp_path), "test", 3) as bf:
        with pytest.raises(SectionSizeError, match=r"section 5 has 192 bytes, expected 256 = 4 points x 64"):
            bf.section_array(5, "<u8", (4, 8), what="points")
        with pytest.raises(SectionSizeError, match=r"section 1 has 7 bytes, not 0 \+ a multiple of 4"):
            bf.section_array(1, "<u4")


def test_n_sections_back_patched(tmp_path: Path) -> None:
    path = tmp_path / "auto.bin"
    with BinFileWriter(path, "test", 1) as w:
        w.write_section(1, b"a")
        w.write_section(2, b"b")
    assert struct.unpack_from("<I", path.read_bytes(), 8)[0] == 2
    assert sorted(read_binfile(path, "test", 1).sections) == [1, 2]


def test_failed_write_leaves_the_old_file_and_no_temporaries(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"previous contents")
    with pytest.raises(RuntimeError, match="boom"), BinFileWriter(path, "test", 1, n_sections=2) as w:
        w.write_section(1, b"partial")
        raise RuntimeError("boom")
    assert path.read_bytes() == b"previous contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_wrong_section_count_is_refused_and_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    with pytest.raises(ValueError, match="wrote 1 sections, but the header announces 2"):
        with BinFileWriter(path, "test", 1, n_sections=2) as w:
            w.write_section(1, b"only one")
    assert list(tmp_path.iterdir()) == []


def test_writer_misuse() -> None:
    w = BinFileWriter("unused.bin", "test", 1)
    with pytest.raises(ValueError, match="context manager"):
        w.write_section(1, b"")
    with pytest.raises(ValueError, match="4 ASCII"):
        BinFileWriter("unused.bin", "toolong", 1)


# ---- malformed files ------------------------------------------------------------------


def test_truncated_in_header(tmp_path: Path) -> None:
    path = tmp_path / "cut.bin"
    path.write_bytes(_sample(tmp_path).read_bytes()[:6])
    with pytest.raises(TruncatedFileError, match="file is 6 bytes, the header needs 12"):
        read_binfile(path, "test", 3)


def test_truncated_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    with pytest.raises(TruncatedFileError, match="file is 0 bytes"):
        read_binfile(path, "test", 3)


def test_truncated_in_section_table(tmp_path: Path) -> None:
    path = tmp_path / "cut.bin"
    path.write_bytes(_sample(tmp_path).read_bytes()[:17])
    with pytest.raises(TruncatedFileError, match="file is 17 bytes, section table entry 1 of 4 ends at 24"):
        read_binfile(path, "test", 3)


def test_truncated_in_payload(tmp_path: Path) -> None:
    data = _sample(tmp_path).read_bytes()
    path = tmp_path / "cut.bin"
    path.write_bytes(data[:100])
    # Section 5 (192 bytes of points) starts at 12 + 12 = 24 and ends at 216.
    with pytest.raises(TruncatedFileError, match="file is 100 bytes, section 5 ends at 216"):
        read_binfile(path, "test", 3)


def test_corrupted_section_size_too_large(tmp_path: Path) -> None:
    data = bytearray(_sample(tmp_path).read_bytes())
    struct.pack_into("<Q", data, 16, 4_194_952)  # section 5's size field
    path = tmp_path / "bad.bin"
    path.write_bytes(bytes(data))
    with pytest.raises(TruncatedFileError, match=f"file is {len(data)} bytes, section 5 ends at {24 + 4_194_952}"):
        read_binfile(path, "test", 3)


def test_corrupted_section_size_too_small(tmp_path: Path) -> None:
    path = tmp_path / "one.bin"
    with BinFileWriter(path, "test", 1, n_sections=1) as w:
        w.write_section(1, bytes(64))
    data = bytearray(path.read_bytes())
    struct.pack_into("<Q", data, 16, 60)
    path.write_bytes(bytes(data))
    with pytest.raises(SectionSizeError, match=r"file is 88 bytes, but its 1 sections end at 84 \(4 trailing bytes\)"):
        read_binfile(path, "test", 1)


def test_trailing_bytes(tmp_path: Path) -> None:
    data = _sample(tmp_path).read_bytes()
    path = tmp_path / "long.bin"
    path.write_bytes(data + b"junk")
    with pytest.raises(SectionSizeError, match=f"file is {len(data) + 4} bytes, but its 4 sections end at {len(data)}"):
        read_binfile(path, "test", 3)


def test_bad_magic(tmp_path: Path) -> None:
    with pytest.raises(BadMagicError, match="expected a 'zkey' file, got magic 'test'"):
        read_binfile(_sample(tmp_path), "zkey", 1)
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\xff\x01\x02" + bytes(8))
    with pytest.raises(BadMagicError, match=r"got magic b'\\x00\\xff"):
        read_binfile(garbage, "zkey", 1)


def test_unsupported_version(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedVersionError, match=r"test version 3 is not supported .*up to 2"):
        read_binfile(_sample(tmp_path), "test", 2)


def test_errors_are_value_errors() -> None:
    data = np.frombuffer(b"r1cs\x01\x00\x00\x00\x01\x00\x00\x00", dtype=np.uint8)
    with pytest.raises(ValueError, match="section table entry 1 of 1"):
        parse_binfile(data, "r1cs", 1)


# ---- canonical-value check ------------------------------------------------------------


@pytest.mark.parametrize("modulus", [Q, R])
def test_limbs_below_matches_python_ints(modulus: int) -> None:
    rng = random.Random(modulus)
    values = [0, 1, modulus - 1, modulus, modulus + 1, (1 << 256) - 1, modulus - (1 << 64), modulus + (1 << 64)]
    values += [rng.randrange(1 << 256) for _ in range(200)] + [rng.randrange(modulus) for _ in range(200)]
    got = limbs_below(ints_to_limbs(values), modulus)
    assert got.tolist() == [v < modulus for v in values]
