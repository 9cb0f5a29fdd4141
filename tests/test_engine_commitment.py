"""Account commitments: the dense field encoding, the salted Poseidon sponge, and
equality with circomlibjs computing the same sponge."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algebra import R
from engine import (
    ACCOUNT_TAG,
    SIGNED_OFFSET,
    Account,
    Position,
    Universe,
    UnknownAssetError,
    UnknownMarketError,
    ValueOutOfRangeError,
    commit,
    encode_account,
    encoding_length,
    load_example_account,
    load_example_snapshot,
    random_salt,
    sponge,
    text_to_field,
)

try:
    from tests._engine import circomlibjs_sponges
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _engine import circomlibjs_sponges  # type: ignore[no-redef]

UNIVERSE = Universe(assets=("USDC", "BTC", "ETH"), markets=("BTC-PERP", "ETH-PERP"), kinds=("perpetual", "perpetual"))


def test_layout() -> None:
    acct = Account(
        id="alice",
        collateral={"BTC": 5, "USDC": 7},
        quote_balance=-3,
        margin_mode="portfolio",
        positions=(Position(market="ETH-PERP", size=-2, quote=11, funding_index=-13, isolated_margin=17),),
    )
    enc = encode_account(acct, UNIVERSE)
    o = SIGNED_OFFSET
    header = [text_to_field("alice"), 1, o - 3]  # id, portfolio mode, quote balance
    collateral = [7, 5, 0]  # USDC, BTC, ETH
    btc_perp = [o, o, o, 0, 0]  # no position
    eth_perp = [o - 2, o + 11, o - 13, 1, 17]  # size, quote, funding, isolated, isolated margin
    assert enc == header + collateral + btc_perp + eth_perp
    assert len(enc) == encoding_length(UNIVERSE) == 3 + 3 + 5 * 2


def test_encoding_is_dense_over_the_snapshot() -> None:
    snap = load_example_snapshot()
    for name in ("healthy_cross", "options_portfolio", "isolated"):
        enc = encode_account(load_example_account(name), snap)
        per_kind = {"perpetual": 5, "future": 4, "option": 2}  # a position record's fields
        assert len(enc) == encoding_length(snap) == 3 + len(snap.assets) + sum(per_kind[m.kind] for m in snap.markets)
        assert all(0 <= v < 2**248 for v in enc)


def test_unknown_entries_are_named() -> None:
    with pytest.raises(UnknownMarketError):
        encode_account(Account(id="a", positions=(Position(market="SOL-PERP", size=1),)), UNIVERSE)
    with pytest.raises(UnknownAssetError):
        encode_account(Account(id="a", collateral={"SOL": 1}), UNIVERSE)
    with pytest.raises(ValueOutOfRangeError):
        commit(Account(id="a"), UNIVERSE, R)


@given(
    size=st.integers(-(2**64) + 1, 2**64 - 1),
    quote=st.integers(-(2**96) + 1, 2**96 - 1),
    other=st.integers(-(2**64) + 1, 2**64 - 1),
)
@settings(max_examples=50, deadline=None)
def test_encoding_is_injective_on_signed_values(size: int, quote: int, other: int) -> None:
    a = Account(id="a", positions=(Position(market="BTC-PERP", size=size, quote=quote),))
    b = Account(id="a", positions=(Position(market="BTC-PERP", size=other, quote=quote),))
    assert (encode_account(a, UNIVERSE) == encode_account(b, UNIVERSE)) == (size == other)


def test_commitment_hides_with_salt_and_binds_the_account() -> None:
    acct = load_example_account("healthy_cross")
    snap = load_example_snapshot()
    s1, s2 = random_salt(), random_salt()
    assert 0 <= s1 < R and s1 != s2
    c = commit(acct, snap, s1)
    assert c == commit(acct, snap.universe(), s1)
    assert c != commit(acct, snap, s2)
    changed = acct.model_copy(update={"quote_balance": 1})
    assert c != commit(changed, snap, s1)
    assert c == sponge(ACCOUNT_TAG, [s1, *encode_account(acct, snap)])


def test_commitment_matches_circomlibjs() -> None:
    snap = load_example_snapshot()
    salt = 0x1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF0_1234_5678 % R
    accounts = [load_example_account(n) for n in ("healthy_cross", "isolated", "options_portfolio")]
    cases = [(ACCOUNT_TAG, [salt, *encode_account(a, snap)]) for a in accounts]
    assert circomlibjs_sponges(cases) == [commit(a, snap, salt) for a in accounts]
