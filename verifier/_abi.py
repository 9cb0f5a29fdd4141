"""Ethereum ABI encoding of a contract call, for the few shapes our contracts take.

`encode_call("submitBatch(uint64,uint256[],uint256[8][])", [7, [c1, c2], [p1, p2]])` is
the transaction's calldata: the function selector (the first 4 bytes of the signature's
Keccak-256) and the arguments in the ABI's head/tail layout. Types: `uint<M>`, fixed
arrays `T[k]` of those (nested, static), and dynamic arrays `T[]` of static T. Values
out of a type's range or of the wrong length raise AbiEncodingError; nothing is
truncated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from Crypto.Hash import keccak

_UINT = re.compile(r"uint(\d+)")
_ARRAY = re.compile(r"(.+)\[(\d*)\]")
_SIGNATURE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(([^()]*)\)")


class AbiEncodingError(ValueError):
    """A call's signature or arguments cannot be ABI-encoded (type, range or length)."""


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (the original padding, not SHA3-256's)."""
    return keccak.new(data=data, digest_bits=256).digest()


def selector(signature: str) -> bytes:
    """The 4-byte function selector of a canonical signature such as `f(uint256,uint8)`."""
    return keccak256(signature.encode())[:4]


def _word(value: Any, bits: int) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AbiEncodingError(f"uint{bits}: expected an integer, got {type(value).__name__}")
    if not 0 <= value < 1 << bits:
        raise AbiEncodingError(f"uint{bits}: {value} is out of range")
    return value.to_bytes(32, "big")


def _static(kind: str, value: Any) -> bytes:
    """The encoding of a static type (a uint or a fixed array of static types)."""
    if m := _UINT.fullmatch(kind):
        bits = int(m.group(1))
        if not (8 <= bits <= 256 and bits % 8 == 0):
            raise AbiEncodingError(f"{kind} is not an ABI type (uint8 to uint256 in steps of 8)")
        return _word(value, bits)
    m = _ARRAY.fullmatch(kind)
    if m is None or not m.group(2):
        raise AbiEncodingError(f"unsupported or dynamic type {kind!r} where a static one is needed")
    inner, k = m.group(1), int(m.group(2))
    if not isinstance(value, (list, tuple)) or len(value) != k:
        raise AbiEncodingError(f"{kind}: expected {k} values, got {_count(value)}")
    return b"".join(_static(inner, v) for v in value)


def _count(value: Any) -> str:
    return str(len(value)) if isinstance(value, Sequence) else type(value).__name__


def _is_dynamic(kind: str) -> bool:
    return kind.endswith("[]")


def encode_arguments(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """The ABI encoding of `values` as a tuple of `types` (without a selector)."""
    if len(types) != len(values):
        raise AbiEncodingError(f"{len(values)} arguments for {len(types)} parameters")
    head_size = sum(32 if _is_dynamic(t) else len(_static(t, v)) for t, v in zip(types, values, strict=True))
    heads: list[bytes] = []
    tails: list[bytes] = []
    for kind, value in zip(types, values, strict=True):
        if not _is_dynamic(kind):
            heads.append(_static(kind, value))
            continue
        if not isinstance(value, (list, tuple)):
            raise AbiEncodingError(f"{kind}: expected a list, got {type(value).__name__}")
        heads.append(_word(head_size + sum(map(len, tails)), 256))
        tails.append(_word(len(value), 256) + b"".join(_static(kind[:-2], v) for v in value))
    return b"".join(heads) + b"".join(tails)


def parse_signature(signature: str) -> tuple[str, list[str]]:
    """(name, parameter types) of a canonical signature; AbiEncodingError if it is not one."""
    m = _SIGNATURE.fullmatch(signature)
    if m is None:
        raise AbiEncodingError(f"not a canonical function signature: {signature!r}")
    return m.group(1), [t for t in m.group(2).split(",") if t]


def encode_call(signature: str, values: Sequence[Any]) -> bytes:
    """Calldata of a call to `signature` with `values`."""
    _, types = parse_signature(signature)
    return selector(signature) + encode_arguments(types, values)
