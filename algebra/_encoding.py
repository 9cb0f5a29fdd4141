"""Encodings of field elements and points.

snarkjs JSON (verification_key.json, proof.json, public.json):
  field elements are decimal strings; a G1 point is projective ["x", "y", "1"] and
  infinity ["0", "1", "0"]; a G2 point is [["x.c0", "x.c1"], ["y.c0", "y.c1"], ["1", "0"]]
  (real part first), infinity [["0", "0"], ["1", "0"], ["0", "0"]].
Ethereum (EIP-196/197, Solidity verifiers' calldata):
  big-endian 32-byte words; G1 is x || y (64 bytes); G2 is x.c1 || x.c0 || y.c1 || y.c0
  (128 bytes, imaginary part first); infinity is all zero bytes.

Decoders validate fully (shape, canonical range, curve, subgroup) and raise the named
errors of `_errors`; encoders trust their input.
"""

from __future__ import annotations

import reprlib
from typing import Any

from ._constants import N8, R
from ._curve import G1, G2, G1Point, G2Point
from ._errors import EncodingError, FieldElementOutOfRangeError, PointNotOnCurveError

_MAX_DECIMAL_DIGITS = 80  # far above 77 (2^256); stops absurd strings before int()


def _short_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxlevel, r.maxstring, r.maxlong, r.maxother = 3, 60, 60, 60
    r.maxlist = r.maxtuple = r.maxdict = 4
    return r


_REPR = _short_repr()


def short_repr(value: Any) -> str:
    """repr(value) cut in depth and length, for error messages about untrusted input
    (never recursive beyond 3 levels, never longer than a line or two)."""
    return _REPR.repr(value)


def parse_decimal(s: Any, what: str = "value") -> int:
    """A non-negative decimal string (snarkjs style) to int; EncodingError otherwise."""
    if not isinstance(s, str) or not s or len(s) > _MAX_DECIMAL_DIGITS or not s.isascii() or not s.isdigit():
        raise EncodingError(f"{what}: expected a decimal string of digits, got {short_repr(s)}")
    return int(s)


def parse_fr(s: Any, what: str = "value") -> int:
    """A decimal string that must be a canonical element of Fr (0 <= v < r)."""
    v = parse_decimal(s, what)
    if v >= R:
        raise FieldElementOutOfRangeError(f"{what}: {v} is not below the scalar field modulus r")
    return v


# ---- snarkjs JSON ----------------------------------------------------------------


def g1_to_snarkjs(p: G1Point) -> list[str]:
    if G1.is_infinity(p):
        return ["0", "1", "0"]
    return [str(p[0]), str(p[1]), "1"]


def g2_to_snarkjs(p: G2Point) -> list[list[str]]:
    if G2.is_infinity(p):
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = p
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


#: snarkjs's one encoding of each point at infinity (projective, z = 0); no other z = 0 is read.
_G1_INFINITY = [0, 1, 0]
_G2_INFINITY = [(0, 0), (1, 0), (0, 0)]


def _affine(curve: Any, xy: tuple[Any, Any], what: str) -> Any:
    """An affine point read from JSON: on the curve and in the subgroup, and never our
    internal infinity marker (all zeros), which is not a point of the curve."""
    if curve.is_infinity(xy):
        raise PointNotOnCurveError(f"{what}: (0, 0) is not on {curve.name} (infinity is written with z = 0)")
    return curve.validate(xy, what)


def g1_from_snarkjs(obj: Any, what: str = "G1 point") -> G1Point:
    if not isinstance(obj, list) or len(obj) not in (2, 3):
        raise EncodingError(f"{what}: expected a list [x, y, z] of decimal strings, got {short_repr(obj)}")
    coords = [parse_decimal(c, f"{what}[{i}]") for i, c in enumerate(obj)]
    if coords == _G1_INFINITY:
        return G1.infinity
    z = coords[2] if len(coords) == 3 else 1
    if z != 1:
        raise EncodingError(
            f'{what}: projective z must be 1 (infinity is exactly ["0", "1", "0"]), got {short_repr(obj)}'
        )
    return _affine(G1, (coords[0], coords[1]), what)


def g2_from_snarkjs(obj: Any, what: str = "G2 point") -> G2Point:
    if not isinstance(obj, list) or len(obj) not in (2, 3) or not all(isinstance(c, list) and len(c) == 2 for c in obj):
        raise EncodingError(
            f"{what}: expected [[x0, x1], [y0, y1], [z0, z1]] of decimal strings, got {short_repr(obj)}"
        )
    coords = [
        (parse_decimal(c[0], f"{what}[{i}][0]"), parse_decimal(c[1], f"{what}[{i}][1]")) for i, c in enumerate(obj)
    ]
    if coords == _G2_INFINITY:
        return G2.infinity
    z = coords[2] if len(coords) == 3 else (1, 0)
    if z != (1, 0):
        raise EncodingError(
            f"{what}: projective z must be [1, 0] (infinity is exactly [[0, 0], [1, 0], [0, 0]]), got {short_repr(obj)}"
        )
    return _affine(G2, (coords[0], coords[1]), what)


# ---- Ethereum bytes --------------------------------------------------------------


def _word(v: int) -> bytes:
    return v.to_bytes(N8, "big")


def _words(data: bytes, n: int, what: str) -> list[int]:
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) != n * N8:
        size = len(data) if isinstance(data, (bytes, bytearray, memoryview)) else type(data).__name__
        raise EncodingError(f"{what}: expected {n * N8} bytes, got {size}")
    b = bytes(data)
    return [int.from_bytes(b[i * N8 : (i + 1) * N8], "big") for i in range(n)]


def g1_to_eth_bytes(p: G1Point) -> bytes:
    return _word(p[0]) + _word(p[1])


def g1_from_eth_bytes(data: bytes, what: str = "G1 point") -> G1Point:
    x, y = _words(data, 2, what)
    return G1.validate((x, y), what)


def g2_to_eth_bytes(p: G2Point) -> bytes:
    (x0, x1), (y0, y1) = p
    return _word(x1) + _word(x0) + _word(y1) + _word(y0)


def g2_from_eth_bytes(data: bytes, what: str = "G2 point") -> G2Point:
    x1, x0, y1, y0 = _words(data, 4, what)
    return G2.validate(((x0, x1), (y0, y1)), what)
