"""Named errors for bad curve points and encodings. All are ValueErrors."""

from __future__ import annotations


class InvalidPointError(ValueError):
    """A value does not describe a valid point of the group it claims to be in."""


class FieldElementOutOfRangeError(InvalidPointError):
    """A coordinate or scalar is not a canonical field element (negative or >= modulus)."""


class PointNotOnCurveError(InvalidPointError):
    """The coordinates do not satisfy the curve equation."""


class PointNotInSubgroupError(InvalidPointError):
    """The point is on the curve but not in the prime-order subgroup (G2 has a cofactor)."""


class EncodingError(ValueError):
    """Bytes or JSON do not have the shape of the encoding they claim to be."""


# ---- binary files (.r1cs, .wtns, .zkey, .ptau) ------------------------------------


class FileFormatError(ValueError):
    """A binary file does not have the layout its format prescribes."""


class TruncatedFileError(FileFormatError):
    """The file ends before its header, section table or a section's payload does."""


class BadMagicError(FileFormatError):
    """The file's 4-byte magic is not the expected one (e.g. a .ptau given as a .zkey)."""


class UnsupportedVersionError(FileFormatError):
    """The file's format version is newer than the reader understands."""


class MissingSectionError(FileFormatError):
    """A section the format requires is absent (or one expected once appears several times)."""


class SectionSizeError(FileFormatError):
    """A section's size disagrees with the counts in the file's header (or the table with the file)."""


class FieldMismatchError(FileFormatError):
    """The file is over another prime field or curve than BN254's."""


class MismatchedFilesError(FileFormatError):
    """Two files that belong together do not match (e.g. a witness shorter than the zkey's nVars)."""
