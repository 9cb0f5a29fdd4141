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
