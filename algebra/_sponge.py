"""zkmargin's Poseidon sponge over lists of field elements, its domain tags, and text as
a field element: what the engine hashes, the circuits re-hash and the ledger checks.

The sponge hashes a list of any length with circomlib's Poseidon (1 to 16 inputs)::

    h = poseidon([tag, len(values)])
    for chunk in values, 15 at a time (the last chunk may be shorter):
        h = poseidon([h, *chunk])
    return h

The length in the first call makes it injective across lengths; the domain tag
separates what is hashed. Text (asset symbols, market and account ids, domain tags) is
its ASCII bytes read as one big-endian integer: at most 31 bytes, so below 2**248 < r.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._constants import R
from ._errors import EncodingError
from ._poseidon import poseidon

#: Inputs per sponge step besides the chaining value (Poseidon takes at most 16).
SPONGE_RATE = 15
#: Longest text that fits one field element.
MAX_TEXT_BYTES = 31


def text_to_field(text: str) -> int:
    """ASCII text of at most 31 bytes as one field element (big-endian bytes);
    EncodingError otherwise."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise EncodingError(f"{text!r} is not ASCII and has no field encoding") from None
    if len(raw) > MAX_TEXT_BYTES:
        raise EncodingError(f"{text!r} is {len(raw)} bytes, a field element holds at most {MAX_TEXT_BYTES}")
    return int.from_bytes(raw, "big")


#: Domain tag of the snapshot hash.
SNAPSHOT_TAG = text_to_field("zkmargin.snapshot.v1")
#: Domain tag of the account commitment.
ACCOUNT_TAG = text_to_field("zkmargin.account.v1")
#: Domain tag of the anonymous mode's nullifier, poseidon([NULLIFIER_TAG, salt, snapshot_hash]).
NULLIFIER_TAG = text_to_field("zkmargin.nullifier.v1")
#: Domain tag of a solvency batch's running totals, `totals_commitment`.
TOTALS_TAG = text_to_field("zkmargin.solvency.totals.v1")


def sponge(tag: int, values: Sequence[int]) -> int:
    """Poseidon sponge over a list of field elements (module docstring); EncodingError
    for an element outside [0, r)."""
    for i, v in enumerate((tag, *values)):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < R:
            raise EncodingError(f"sponge input {i} is not a field element in [0, r): {v!r}")
    h = poseidon([tag, len(values)])
    for start in range(0, len(values), SPONGE_RATE):
        h = poseidon([h, *values[start : start + SPONGE_RATE]])
    return h


def totals_commitment(blind: int, totals: Sequence[int]) -> int:
    """sponge(TOTALS_TAG, [blind, *totals]) with each total, a signed integer of
    abs < r/2, as its field element (t mod r): what a solvency batch publishes of its
    running totals before and after it. EncodingError for a total out of range."""
    for i, t in enumerate(totals):
        if isinstance(t, bool) or not isinstance(t, int) or not -(R // 2) < t < R // 2:
            raise EncodingError(f"total {i} is not an integer of abs < r/2: {t!r}")
    return sponge(TOTALS_TAG, [blind, *(t % R for t in totals)])


def solvency_decimals(asset_decimals: Sequence[int], size_decimals: Sequence[int]) -> int:
    """The exponent of Λ, the denominator of a solvency round's `unrealized` and
    `bad_debt` totals: the least that makes every collateral value (an integer over
    10**(decimals + 6)) and every position value (over 10**size_decimals) an integer
    number of 1/Λ micro-quote. The circuit is compiled with it and the auditor rounds by it."""
    return max([d + 6 for d in asset_decimals] + list(size_decimals))
