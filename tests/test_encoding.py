"""The one declaration of the encodings (`circuits._encoding`): fields encode within their
bounds, records and layouts need exactly their fields, and the engine writes every
declared field where the layout puts it. (The circuit's side: tests/test_encoding_circuit.py.)"""

from __future__ import annotations

import pytest

from algebra import EncodingError, text_to_field
from circuits import (
    ACCOUNT_RECORDS,
    POSITION_RECORDS,
    SIGNED_OFFSET,
    SNAPSHOT_RECORDS,
    Field,
    Layout,
    Record,
)
from engine import (
    Account,
    MarketSnapshot,
    OptionMarket,
    PerpetualMarket,
    load_example_account,
    load_example_snapshot,
)
from engine._commitment import account_layout_of, encode_account
from engine._models import MARKET_KIND_CODES
from engine._prove_account import margin_shape


def _snapshot() -> MarketSnapshot:
    return load_example_snapshot()


def _account() -> Account:
    return load_example_account("options_portfolio")


# ---- the declaration ------------------------------------------------------------------


def test_fields_encode_within_their_bounds_and_refuse_past_them() -> None:
    for record in (*SNAPSHOT_RECORDS, *ACCOUNT_RECORDS):
        for f in record.fields:
            if f.text:
                assert f.encode("BTC") == text_to_field("BTC")
                with pytest.raises(EncodingError):
                    f.encode(3)
                continue
            top = 2**f.bits - 1
            assert f.decode(f.encode(top)) == top
            with pytest.raises(EncodingError, match=f.name):
                f.encode(top + 1)
            if f.signed:
                assert f.encode(-top) == SIGNED_OFFSET - top and f.encode(0) == SIGNED_OFFSET
                with pytest.raises(EncodingError):
                    f.encode(-top - 1)
            else:
                with pytest.raises(EncodingError):
                    f.encode(-1)


def test_a_record_needs_exactly_its_fields() -> None:
    record = Record("r", Field("a", 8), Field("b", 8, signed=True))
    assert record.encode({"a": 1, "b": -1}) == [1, SIGNED_OFFSET - 1]
    with pytest.raises(EncodingError, match="missing"):
        record.encode({"a": 1})
    with pytest.raises(EncodingError, match="unknown"):
        record.encode({"a": 1, "b": 2, "c": 3})
    layout = Layout([(("r", 0), record), (("r", 1), record)])
    assert layout.length == 4 and layout.offset("r", 1) == 2
    with pytest.raises(EncodingError):
        layout.encode({("r", 0): {"a": 1, "b": 0}})


# ---- the engine writes every field where the layout puts it -----------------------------


def test_the_engine_writes_every_snapshot_field_by_the_layout() -> None:
    snap = _snapshot()
    decoded = snap.layout().decode(snap.field_encoding())
    position = {a.symbol: j for j, a in enumerate(snap.assets)}
    assert decoded[("header",)] == {
        "epoch": snap.epoch,
        "timestamp": snap.timestamp,
        "n_assets": len(snap.assets),
        "n_markets": len(snap.markets),
    }
    assert [decoded[("price_move", i)]["move"] for i in range(len(snap.grid.price_moves_ppm))] == list(
        snap.grid.price_moves_ppm
    )
    assert decoded[("grid",)]["initial_multiplier"] == snap.grid.initial_multiplier_ppm
    for j, a in enumerate(snap.assets):
        assert decoded[("asset", j)] == {
            "decimals": a.decimals,
            "weight": a.collateral_weight_ppm,
            "index_price": snap.index_prices[a.symbol],
        }
    for k, m in enumerate(snap.markets):
        market = decoded[("market", k)]
        assert (market["base"], market["mark"]) == (position[m.base], snap.mark_prices[m.id])
        if isinstance(m, PerpetualMarket):
            assert decoded[("perpetual", k)]["funding_index"] == snap.funding_indices[m.id]
        if isinstance(m, OptionMarket):
            assert decoded[("option", k)]["lower_bound"] == snap.option_value_bounds(m)[0]
            assert decoded[("scenario", k, 0)]["upper"] == snap.scenario_values[m.id].upper[0]
        else:
            risk = decoded[("linear_risk", k)]
            assert risk["n_brackets"] == len(m.risk.brackets)
            assert risk["oi_increase"] == snap.oi_increase(m, m.risk.imf_ppm)
            for b, bracket in enumerate(m.risk.brackets):
                row = decoded[("bracket", k, b)]
                assert row["mmr"] == bracket.mmr_ppm
                assert row["oi_increase"] == snap.oi_increase(m, m.risk.bracket_imf_ppm(bracket))
    assert any(
        decoded[("linear_risk", k)]["oi_increase"] for k in range(len(snap.markets)) if ("linear_risk", k) in decoded
    )


def test_the_layout_covers_every_declared_record() -> None:
    snap, account = _snapshot(), _account()
    used = {record.name for _, record in snap.layout().plan}
    assert used == {record.name for record in SNAPSHOT_RECORDS}
    used = {record.name for _, record in account_layout_of(snap).plan}
    assert used == {record.name for record in ACCOUNT_RECORDS}
    assert len(encode_account(account, snap)) == margin_shape(snap).account_length


def test_the_engine_writes_every_account_field_by_the_layout() -> None:
    snap, account = _snapshot(), _account()
    decoded = account_layout_of(snap).decode(encode_account(account, snap))
    assert decoded[("account",)] == {
        "id": text_to_field(account.id),
        "mode": int(account.margin_mode == "portfolio"),
        "quote_balance": account.quote_balance,
    }
    for j, a in enumerate(snap.assets):
        assert decoded[("collateral", j)]["amount"] == account.collateral.get(a.symbol, 0)
    held = {p.market: p for p in account.positions}
    for k, m in enumerate(snap.markets):
        p = held.get(m.id)
        row = decoded[("position", k)]
        assert (row["size"], row["quote"]) == ((p.size, p.quote) if p else (0, 0))
        if m.kind == "perpetual":
            assert row["entry_funding"] == (p.funding_index if p else 0)
        if m.kind != "option":
            assert (row["isolated"], row["isolated_margin"]) == (
                (int(p.isolated), p.isolated_margin or 0) if p else (0, 0)
            )
        assert set(row) == {f.name for f in POSITION_RECORDS[MARKET_KIND_CODES[m.kind]].fields}
