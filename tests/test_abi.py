"""The ABI encoder of contract calls (verifier._abi): Keccak-256, selectors, the head/tail
layout of dynamic arrays, and named errors for what it cannot encode. The contracts
decode its calldata on a real EVM in tests/test_onchain.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier import AbiEncodingError, encode_arguments, encode_call, keccak256, parse_signature, selector


def words(data: bytes) -> list[int]:
    assert len(data) % 32 == 0
    return [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32)]


def test_keccak_and_selectors_are_ethereum_s() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert selector("transfer(address,uint256)").hex() == "a9059cbb"
    assert selector("baz(uint32,bool)").hex() == "cdcd77c0"  # the Solidity ABI spec's example


def test_static_arrays_are_inline_and_dynamic_ones_go_to_the_tail() -> None:
    data = encode_arguments(["uint64", "uint256[]", "uint256[2][]", "uint8[2]"], [7, [1, 2], [[3, 4]], [5, 6]])
    # heads: 7, offset of [1, 2], offset of [[3, 4]], 5, 6; tails: 2, 1, 2 | 1, 3, 4
    assert words(data) == [7, 0xA0, 0x100, 5, 6, 2, 1, 2, 1, 3, 4]
    assert encode_call("f(uint256)", [1])[:4] == selector("f(uint256)")


@given(st.lists(st.lists(st.integers(0, 2**256 - 1), min_size=8, max_size=8), max_size=5), st.integers(0, 2**64 - 1))
def test_a_batch_s_layout_for_any_sizes(proofs: list[list[int]], epoch: int) -> None:
    commitments = [p[0] for p in proofs]
    data = encode_arguments(["uint64", "uint256[]", "uint256[8][]"], [epoch, commitments, proofs])
    w = words(data)
    n = len(proofs)
    assert w[0] == epoch and w[1] == 0x60 and w[2] == 0x60 + 32 * (1 + n)
    assert w[3] == n and w[4 : 4 + n] == commitments
    assert w[4 + n] == n and w[5 + n :] == [x for p in proofs for x in p]


@pytest.mark.parametrize(
    ("types", "values", "why"),
    [
        (["uint8"], [256], "out of range"),
        (["uint256"], [-1], "out of range"),
        (["uint256"], [True], "expected an integer"),
        (["uint256[2]"], [[1]], "expected 2 values"),
        (["uint256[]"], [5], "expected a list"),
        (["bool"], [True], "unsupported"),
        (["uint300"], [1], "not an ABI type"),
        (["uint256[]"], [b"\x01\x02"], "expected a list"),
        (["uint256[2]"], ["ab"], "expected 2 values"),
        (["uint256", "uint256"], [1], "1 arguments for 2 parameters"),
    ],
)
def test_what_cannot_be_encoded_is_named(types: list[str], values: list[object], why: str) -> None:
    with pytest.raises(AbiEncodingError, match=why):
        encode_arguments(types, values)


def test_a_malformed_signature_is_named() -> None:
    assert parse_signature("closeEpoch(uint64)") == ("closeEpoch", ["uint64"])
    assert parse_signature("f()") == ("f", [])
    for bad in ("f(uint256", "f uint256", "(uint256)", "f((uint256))"):
        with pytest.raises(AbiEncodingError, match="not a canonical"):
            parse_signature(bad)
