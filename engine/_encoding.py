"""Field encodings shared by the snapshot hash and the account commitment.

Everything hashed is a list of BN254 scalar field elements (ints in [0, r)):

- non-negative ints are themselves (the engine's bounds keep them below 2**100);
- signed ints ``v`` (sizes, quote amounts, funding indices, moves, value changes) are
  ``v + 2**100`` (:data:`SIGNED_OFFSET`); every signed quantity is bounded by
  ``abs(v) < 2**96`` or less, so the encoding is non-negative and injective and the
  circuit recovers ``v`` by subtracting the constant;
- text (asset symbols, market and account ids, domain tags) is the ASCII bytes read as
  one big-endian integer: at most 31 bytes, so below 2**248 < r;
- ``None`` never appears: each encoder maps an absent optional to a documented number.

The sponge (:func:`sponge`) hashes a list of any length with circomlib's Poseidon,
which takes 1 to 16 inputs::

    h = poseidon([tag, len(values)])
    for chunk in values, 15 at a time (the last chunk may be shorter):
        h = poseidon([h, *chunk])
    return h

The length in the first call makes the encoding injective across lengths; the domain
tag separates what is hashed (``zkmargin.snapshot.v1``, ``zkmargin.account.v1``).
The circuit hashes the same list in the same chunks; circomlibjs reproduces it.
"""

from __future__ import annotations

from collections.abc import Sequence

from algebra import R
from circuits import poseidon

from ._errors import ValueOutOfRangeError

#: Offset that makes a signed value non-negative: encoded = v + 2**100.
SIGNED_OFFSET = 2**100
#: Inputs per sponge step besides the chaining value (Poseidon takes at most 16).
SPONGE_RATE = 15
#: Longest text that fits one field element.
MAX_TEXT_BYTES = 31


def text_to_field(text: str) -> int:
    """ASCII text of at most 31 bytes as one field element (big-endian bytes)."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueOutOfRangeError(f"{text!r} is not ASCII and has no field encoding") from None
    if len(raw) > MAX_TEXT_BYTES:
        raise ValueOutOfRangeError(f"{text!r} is {len(raw)} bytes, a field element holds at most {MAX_TEXT_BYTES}")
    return int.from_bytes(raw, "big")


def signed(value: int) -> int:
    """A signed int as the field element value + 2**100 (requires abs(value) < 2**100)."""
    if not -SIGNED_OFFSET < value < SIGNED_OFFSET:
        raise ValueOutOfRangeError(f"signed value {value} is outside (-2**100, 2**100)")
    return value + SIGNED_OFFSET


def unsigned(value: int) -> int:
    """A non-negative int below r, unchanged."""
    if not 0 <= value < R:
        raise ValueOutOfRangeError(f"value {value} is not a field element in [0, r)")
    return value


#: Domain tag of the snapshot hash.
SNAPSHOT_TAG = text_to_field("zkmargin.snapshot.v1")
#: Domain tag of the account commitment.
ACCOUNT_TAG = text_to_field("zkmargin.account.v1")


def sponge(tag: int, values: Sequence[int]) -> int:
    """Poseidon sponge over a list of field elements (see the module docstring)."""
    checked = [unsigned(v) for v in values]
    h = poseidon([unsigned(tag), len(checked)])
    for start in range(0, len(checked), SPONGE_RATE):
        h = poseidon([h, *checked[start : start + SPONGE_RATE]])
    return h
