"""Engine models: JSON round-trips, JSON Schemas, named errors on malformed input,
venue risk parameters, and the snapshot hash (checked against circomlibjs)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algebra import text_to_field
from circuits import SIGNED_OFFSET
from engine import (
    EXAMPLE_ACCOUNTS,
    MODELS,
    SNAPSHOT_TAG,
    Account,
    Asset,
    Bracket,
    DuplicateEntryError,
    InconsistentSnapshotError,
    InvalidRiskParamsError,
    InvalidScenarioGridError,
    MalformedInputError,
    MarketSnapshot,
    MissingPriceError,
    NegativeCollateralError,
    OptionMarket,
    OracleReport,
    PerpetualMarket,
    Position,
    RiskParams,
    ScenarioGrid,
    ScenarioValues,
    UnknownAssetError,
    UnknownMarketError,
    ValueOutOfRangeError,
    json_schemas,
    load_example_account,
    load_example_snapshot,
    parse_model,
    sponge,
)

try:
    from tests._engine import GRID, USD, circomlibjs_sponges, perp_snapshot, risk_params, sizes
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _engine import GRID, USD, circomlibjs_sponges, perp_snapshot, risk_params, sizes  # type: ignore[no-redef]


# ---- round-trips and schemas -------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_ACCOUNTS)
def test_example_accounts_round_trip(name: str) -> None:
    acct = load_example_account(name)
    assert Account.model_validate_json(acct.model_dump_json()) == acct


def test_snapshot_round_trip_keeps_union_kinds_and_big_ints() -> None:
    snap = load_example_snapshot()
    again = MarketSnapshot.model_validate_json(snap.model_dump_json())
    assert again == snap
    assert again.snapshot_hash() == snap.snapshot_hash()
    kinds = [m.kind for m in again.markets]
    assert kinds == ["perpetual", "perpetual", "future", "option", "option"]
    assert isinstance(again.markets[3], OptionMarket) and again.markets[3].underlying == "BTC"


@given(
    size=sizes,
    quote=st.integers(-(2**96) + 1, 2**96 - 1),
    funding=st.integers(-(2**64) + 1, 2**64 - 1),
    iso=st.one_of(st.none(), st.integers(0, 2**96 - 1)),
    amount=st.integers(0, 2**64 - 1),
)
@settings(max_examples=60, deadline=None)
def test_account_round_trip_at_the_bounds(size: int, quote: int, funding: int, iso: int | None, amount: int) -> None:
    acct = Account(
        id="acct-1",
        collateral={"BTC": amount},
        quote_balance=quote,
        positions=(Position(market="BTC-PERP", size=size, quote=quote, funding_index=funding, isolated_margin=iso),),
    )
    assert parse_model(Account, acct.model_dump_json()) == acct


@given(risk=risk_params)
@settings(max_examples=40, deadline=None)
def test_risk_params_round_trip(risk: RiskParams) -> None:
    assert RiskParams.model_validate_json(risk.model_dump_json()) == risk


def test_schemas_export_every_model() -> None:
    schemas = json_schemas()
    assert set(schemas) == set(MODELS)
    json.dumps(schemas)  # serialisable
    account = schemas["Account"]
    assert account["additionalProperties"] is False
    assert {"id", "collateral", "quote_balance", "positions", "margin_mode"} <= set(account["properties"])
    assert "discriminator" in json.dumps(schemas["MarketSnapshot"])
    assert schemas["Position"]["properties"]["size"]["type"] == "integer"


# ---- malformed input -> named errors ----------------------------------------------------------


def test_negative_collateral_is_named_from_python_and_json() -> None:
    with pytest.raises(NegativeCollateralError, match="collateral USDC = -1 is negative"):
        Account(id="a", collateral={"USDC": -1})
    with pytest.raises(NegativeCollateralError):
        parse_model(Account, '{"id": "a", "collateral": {"BTC": -5}}')
    with pytest.raises(NegativeCollateralError, match="isolated_margin"):
        Position(market="BTC-PERP", size=1, isolated_margin=-1)


def test_overflowing_size_names_both_numbers() -> None:
    with pytest.raises(ValueOutOfRangeError, match=r"size = 18446744073709551616 is outside \(-2\*\*64, 2\*\*64\)"):
        parse_model(Account, json.dumps({"id": "a", "positions": [{"market": "BTC-PERP", "size": 2**64}]}))
    Position(market="BTC-PERP", size=-(2**64) + 1)  # the largest short is fine
    with pytest.raises(ValueOutOfRangeError):
        Account(id="a", quote_balance=-(2**96))
    with pytest.raises(ValueOutOfRangeError, match="price"):
        OracleReport(source="x", symbol="BTC", price=2**48, timestamp=0)


def test_types_are_strict_and_unknown_fields_refused() -> None:
    for text in (
        '{"id": "a", "quote_balance": 1.5}',
        '{"id": "a", "quote_balance": "100"}',
        '{"id": "a", "quote_balance": true}',
        '{"id": "a", "nickname": "x"}',
        '{"id": "a", "margin_mode": "yolo"}',
        '{"id": "this id is far too long for one field element"}',
        "{not json",
    ):
        with pytest.raises(MalformedInputError, match="is not a valid Account"):
            parse_model(Account, text)


def test_duplicate_positions_refused() -> None:
    with pytest.raises(DuplicateEntryError):
        Account(id="a", positions=(Position(market="M", size=1), Position(market="M", size=2)))


def test_risk_params_consistency() -> None:
    with pytest.raises(InvalidRiskParamsError, match="exceeds imf_ppm"):
        RiskParams(imf_ppm=10_000, mmf_ppm=20_000)
    with pytest.raises(InvalidRiskParamsError, match="exactly one"):
        RiskParams(imf_ppm=10_000)
    with pytest.raises(InvalidRiskParamsError, match="exactly one"):
        RiskParams(imf_ppm=10_000, mmf_ppm=5_000, brackets=(Bracket(notional_cap=None, mmr_ppm=5_000),))
    with pytest.raises(ValueOutOfRangeError, match="imf_ppm"):
        RiskParams(imf_ppm=1_000_001, mmf_ppm=0)
    # cum jumps more than the continuity amount: the requirement would fall at the cap
    with pytest.raises(InvalidRiskParamsError, match="never falls"):
        RiskParams.binance([(50_000 * USD, 4_000, 0, 125), (None, 5_000, 51 * USD, 100)])
    with pytest.raises(InvalidRiskParamsError, match="not above"):
        RiskParams.binance([(50_000 * USD, 4_000, 0, 125), (40_000 * USD, 5_000, 0, 100), (None, 6_000, 0, 50)])
    with pytest.raises(InvalidRiskParamsError, match="first bracket"):
        RiskParams(imf_ppm=10_000, brackets=(Bracket(notional_cap=None, mmr_ppm=5_000, cum=1),))


def test_venue_constructors() -> None:
    dydx = RiskParams.dydx(50_000, 600_000, oi_lower_cap=1, oi_upper_cap=2)
    assert (dydx.imf_ppm, dydx.mmf_ppm, dydx.oi_upper_cap) == (50_000, 30_000, 2)
    assert RiskParams.dydx(33_333, 500_000).mmf_ppm == 16_667  # rounded up, like dYdX's BigMulPpm
    binance = RiskParams.binance([(50_000 * USD, 4_000, 0, 125), (None, 5_000, 50 * USD, 100)])
    assert [b.imf_ppm for b in binance.brackets] == [8_000, 10_000]
    assert binance.mmf_ppm is None and binance.imf_ppm == 8_000
    deribit = RiskParams.deribit(40_000, 20_000, 50)
    assert deribit.size_premium_ppm_per_unit == deribit.mm_size_premium_ppm_per_unit == 50


def test_scenario_grid_checks_and_order() -> None:
    assert GRID.scenario_count == 5 * 3 + 2
    scenarios = GRID.scenarios()
    assert scenarios[0][:2] == (-150_000, -250_000) and scenarios[1][:2] == (-150_000, 0)
    assert [s.extreme for s in scenarios[-2:]] == [True, True]
    assert [s.price_move_ppm for s in scenarios[-2:]] == [-330_000, 330_000]
    base = GRID.model_dump()
    for change in (
        {"price_moves_ppm": ()},
        {"price_moves_ppm": (0, 0)},
        {"price_moves_ppm": (-1_000_000,)},
        {"extreme_move_ppm": 0},
        {"initial_multiplier_ppm": 999_999},
        {"extreme_fraction_ppm": 1_000_001},
    ):
        with pytest.raises(InvalidScenarioGridError):
            ScenarioGrid(**{**base, **change})


def test_snapshot_consistency_errors() -> None:
    snap = perp_snapshot()
    data: dict[str, Any] = json.loads(snap.model_dump_json())

    def build(**changes: Any) -> MarketSnapshot:
        return MarketSnapshot.model_validate({**data, **changes})

    with pytest.raises(MissingPriceError, match="no index price for asset BTC"):
        build(index_prices={"USDC": USD})
    with pytest.raises(MissingPriceError, match="no mark price"):
        build(mark_prices={})
    with pytest.raises(MissingPriceError, match="funding index"):
        build(funding_indices={})
    with pytest.raises(UnknownMarketError):
        build(mark_prices={"BTC-PERP": 1, "ETH-PERP": 1})
    with pytest.raises(UnknownAssetError, match="base asset ETH"):
        market = {**data["markets"][0], "base": "ETH"}
        build(markets=[market])
    with pytest.raises(DuplicateEntryError):
        build(assets=[data["assets"][0], data["assets"][0]])
    with pytest.raises(ValueOutOfRangeError, match="mark price of BTC-PERP"):
        build(mark_prices={"BTC-PERP": 0})


def test_option_snapshot_needs_consistent_tables() -> None:
    snap = load_example_snapshot()
    data: dict[str, Any] = json.loads(snap.model_dump_json())
    call = "BTC-27MAR26-70000-C"
    short = {**data["scenario_values"], call: {"lower": [0] * 3, "upper": [0] * 3}}
    with pytest.raises(InconsistentSnapshotError, match="3 scenarios, the grid has 23"):
        MarketSnapshot.model_validate({**data, "scenario_values": short})
    with pytest.raises(InconsistentSnapshotError, match="lower 1 is above upper 0"):
        ScenarioValues(lower=(1,), upper=(0,))
    vols = {k: v for k, v in data["implied_vols_ppm"].items() if k != call}
    with pytest.raises(MissingPriceError, match="implied volatility"):
        MarketSnapshot.model_validate({**data, "implied_vols_ppm": vols})
    marks = {**data["mark_prices"], call: data["option_price_bounds"][call]["upper"] + 1}
    with pytest.raises(InconsistentSnapshotError, match="outside its price bounds"):
        MarketSnapshot.model_validate({**data, "mark_prices": marks})


def test_expired_market_needs_settlement() -> None:
    snap = perp_snapshot()
    option = OptionMarket(
        id="BTC-C", base="BTC", size_decimals=0, option_type="call", strike=60_000 * USD, expiry=snap.timestamp
    )
    base: dict[str, Any] = {**snap.model_dump(), "markets": (*snap.markets, option)}
    base["mark_prices"] = {**snap.mark_prices, "BTC-C": 5_000 * USD}
    with pytest.raises(MissingPriceError, match="no settlement price"):
        MarketSnapshot(**base)
    expired = MarketSnapshot(**{**base, "settlement_prices": {"BTC-C": 65_000 * USD}})
    assert expired.is_expired(option)
    with pytest.raises(InconsistentSnapshotError, match="settlement value is 5000000000"):
        MarketSnapshot(
            **{**base, "settlement_prices": {"BTC-C": 65_000 * USD}, "mark_prices": {**snap.mark_prices, "BTC-C": 1}}
        )


# ---- snapshot hash ------------------------------------------------------------------------------


def test_snapshot_hash_binds_prices_and_order_but_not_dict_order() -> None:
    snap = perp_snapshot()
    h = snap.snapshot_hash()
    assert h == perp_snapshot().snapshot_hash()
    assert perp_snapshot(mark=65_000 * USD + 1).snapshot_hash() != h
    assert perp_snapshot(funding=-1).snapshot_hash() != h
    # open interest enters the hash through the IMF increase it implies (none here: no caps)
    assert perp_snapshot(open_interest=1).snapshot_hash() == h
    reordered_dicts = snap.model_copy(update={"index_prices": dict(reversed(list(snap.index_prices.items())))})
    assert reordered_dicts.snapshot_hash() == h
    reordered_assets = MarketSnapshot(**{**snap.model_dump(), "assets": tuple(reversed(snap.assets))})
    assert reordered_assets.snapshot_hash() != h


def test_field_encoding_layout_and_ranges() -> None:
    snap = perp_snapshot(funding=-5)
    enc = snap.field_encoding()
    assert enc[:4] == [7, snap.timestamp, 2, 1]
    assert enc[4] == 5 and enc[5] == SIGNED_OFFSET - 150_000
    assert text_to_field("BTC-PERP") not in enc  # labels are the JSON's (pinned by the ledger), not the hash's
    assert SIGNED_OFFSET - 5 in enc
    assert all(0 <= v < 2**254 for v in enc)
    assert snap.snapshot_hash() == sponge(SNAPSHOT_TAG, enc)


def test_snapshot_hash_matches_circomlibjs() -> None:
    example = load_example_snapshot()
    small = perp_snapshot()
    cases = [
        (SNAPSHOT_TAG, example.field_encoding()),
        (SNAPSHOT_TAG, small.field_encoding()),
        (SNAPSHOT_TAG, []),
        (SNAPSHOT_TAG, list(range(15))),
        (SNAPSHOT_TAG, list(range(16))),
    ]
    expected = circomlibjs_sponges(cases)
    assert expected[0] == example.snapshot_hash()
    assert expected[1] == small.snapshot_hash()
    assert expected[2:] == [sponge(tag, values) for tag, values in cases[2:]]


def test_perpetual_kind_is_the_default() -> None:
    market = PerpetualMarket(id="X", base="BTC", size_decimals=0, risk=RiskParams(imf_ppm=1, mmf_ppm=1))
    assert json.loads(market.model_dump_json())["kind"] == "perpetual"
    with pytest.raises(ValueOutOfRangeError, match="decimals"):
        Asset(symbol="X", decimals=19)
