"""Settlement: funding, expiry, liquidation and deleveraging.

Properties (hypothesis): funding and expiry conserve value exactly, liquidation
conserves the total value of the accounts, counterparties and insurance fund, a
liquidated account ends healthy (at zero equity when it was bankrupt) with the fund and
deleveraging covering the rest, and the fund never goes negative. Reference vectors:
dYdX v4 (fillable price, bankruptcy price, insurance-fund delta, funding cap), the
Binance funding-rate clamp.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import (
    Account,
    Asset,
    DuplicateEntryError,
    FutureMarket,
    InconsistentSnapshotError,
    MarketSnapshot,
    OptionMarket,
    PerpetualMarket,
    Position,
    PriceBounds,
    RiskParams,
    ScenarioGrid,
    ScenarioValues,
    UnknownMarketError,
    ValueOutOfRangeError,
    compute_margin,
    load_example_account,
    load_example_snapshot,
)
from engine._margin import linear_requirement
from engine._settlement import (
    AccountNotLiquidatableError,
    DeleveragingError,
    InsufficientInsuranceFundError,
    InvalidFundingInputError,
    LiquidationParams,
    LiquidationResult,
    UnsettledPositionError,
    advance_funding,
    bankruptcy_quote,
    deleverage,
    dydx_funding_rate_ppm,
    expiry_value,
    fillable_price,
    funding_cap_ppm,
    funding_rate_ppm,
    insurance_fund_delta,
    liquidate,
    liquidation_fill_quote,
    next_funding_index,
    portfolio_weight,
    premium_ppm,
    settle_expiry,
    settle_funding,
)

USD = 10**6
PPM = 10**6
NOW = 1_767_225_600
BTC_D, ETH_D = 8, 9  # dYdX unit tests: BTC atomic resolution -8, ETH -9
GRID = ScenarioGrid(
    price_moves_ppm=(-100_000, 0, 100_000),
    extreme_move_ppm=300_000,
    extreme_fraction_ppm=300_000,
    short_option_min_ppm=10_000,
)
#: dYdX's `BtcUsd_20PercentInitial_10PercentMaintenance` (and the same for ETH).
DYDX_20_10 = RiskParams.dydx(200_000, 500_000)
BOOK = Account(id="book")


# ---- builders ---------------------------------------------------------------------------------


def linear_snapshot(
    btc: int = 50_000 * USD,
    eth: int = 3_000 * USD,
    *,
    btc_funding: int = 0,
    eth_funding: int = 0,
    btc_risk: RiskParams = DYDX_20_10,
    eth_risk: RiskParams = DYDX_20_10,
    btc_decimals: int = BTC_D,
) -> MarketSnapshot:
    """USDC, BTC, ETH; BTC-PERP and ETH-PERP (marks = index prices)."""
    return MarketSnapshot(
        epoch=1,
        timestamp=NOW,
        assets=(
            Asset(symbol="USDC", decimals=6),
            Asset(symbol="BTC", decimals=8, collateral_weight_ppm=900_000),
            Asset(symbol="ETH", decimals=9, collateral_weight_ppm=800_000),
        ),
        markets=(
            PerpetualMarket(id="BTC-PERP", base="BTC", size_decimals=btc_decimals, risk=btc_risk),
            PerpetualMarket(id="ETH-PERP", base="ETH", size_decimals=ETH_D, risk=eth_risk),
        ),
        index_prices={"USDC": USD, "BTC": btc, "ETH": eth},
        mark_prices={"BTC-PERP": btc, "ETH-PERP": eth},
        funding_indices={"BTC-PERP": btc_funding, "ETH-PERP": eth_funding},
        grid=GRID,
    )


def expiry_snapshot(
    settle: int, call_strike: int, put_strike: int, *, fut_d: int = 8, opt_d: int = 2
) -> MarketSnapshot:
    """BTC-PERP (live) and an expired future, call and put settling at `settle`."""
    expired = NOW - 60
    call = OptionMarket(
        id="BTC-C", base="BTC", size_decimals=opt_d, option_type="call", strike=call_strike, expiry=expired
    )
    put = OptionMarket(
        id="BTC-P", base="BTC", size_decimals=opt_d, option_type="put", strike=put_strike, expiry=expired
    )
    return MarketSnapshot(
        epoch=2,
        timestamp=NOW,
        assets=(Asset(symbol="USDC", decimals=6), Asset(symbol="BTC", decimals=8)),
        markets=(
            PerpetualMarket(id="BTC-PERP", base="BTC", size_decimals=8, risk=DYDX_20_10),
            FutureMarket(id="BTC-FUT", base="BTC", size_decimals=fut_d, expiry=expired, risk=DYDX_20_10),
            call,
            put,
        ),
        index_prices={"USDC": USD, "BTC": settle},
        mark_prices={"BTC-PERP": settle, "BTC-FUT": settle, "BTC-C": call.payoff(settle), "BTC-P": put.payoff(settle)},
        funding_indices={"BTC-PERP": 0},
        settlement_prices={"BTC-FUT": settle, "BTC-C": settle, "BTC-P": settle},
        grid=GRID,
    )


def options_snapshot(btc: int = 50_000 * USD) -> MarketSnapshot:
    """BTC-PERP and a live BTC call (strike = spot) with a hand-made, consistent value table."""
    call = OptionMarket(
        id="BTC-C", base="BTC", size_decimals=2, option_type="call", strike=btc, expiry=NOW + 30 * 86400
    )
    moves = [
        m * f // PPM for m, f in ((-100_000, PPM), (0, PPM), (100_000, PPM), (-300_000, 300_000), (300_000, 300_000))
    ]
    changes = [btc * m // (2 * PPM) for m in moves]  # delta 0.5
    values = ScenarioValues(lower=tuple(c - 5 * USD for c in changes), upper=tuple(c + 5 * USD for c in changes))
    price = btc * 46 // 1000  # about 4.6% of spot
    return MarketSnapshot(
        epoch=3,
        timestamp=NOW,
        assets=(Asset(symbol="USDC", decimals=6), Asset(symbol="BTC", decimals=8)),
        markets=(PerpetualMarket(id="BTC-PERP", base="BTC", size_decimals=8, risk=DYDX_20_10), call),
        index_prices={"USDC": USD, "BTC": btc},
        mark_prices={"BTC-PERP": btc, "BTC-C": price},
        funding_indices={"BTC-PERP": 0},
        implied_vols_ppm={"BTC-C": 600_000},
        option_price_bounds={"BTC-C": PriceBounds(lower=price - 10 * USD, upper=price + 10 * USD)},
        scenario_values={"BTC-C": values},
        grid=GRID,
    )


def acct(name: str, *positions: Position, quote_balance: int = 0, **kw: Any) -> Account:
    return Account(id=name, quote_balance=quote_balance, positions=positions, **kw)


def pos(market: str, size: int, quote: int = 0, **kw: Any) -> Position:
    return Position(market=market, size=size, quote=quote, **kw)


def cash(accounts: list[Account] | tuple[Account, ...]) -> int:
    """Quote balances + isolated margins + position quotes (collateral is never touched)."""
    return sum(a.quote_balance + sum(p.quote + (p.isolated_margin or 0) for p in a.positions) for a in accounts)


def total_value(accounts: list[Account] | tuple[Account, ...], snapshot: MarketSnapshot, fund: int) -> Fraction:
    """fund + cash + sum size * mark / D, exactly (the measure settlement conserves)."""
    total = Fraction(fund + cash(accounts))
    for a in accounts:
        for p in a.positions:
            m = snapshot.market(p.market)
            total += Fraction(p.size * snapshot.mark_prices[m.id], 10**m.size_decimals)
    return total


nonzero = st.integers(-(10**11), 10**11).filter(lambda s: s != 0)
quotes = st.integers(-(10**13), 10**13)


# ---- funding: rates, premium, index ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("premium", "expected"),
    [
        (0, 100),  # no premium: the interest rate, 0.01%
        (100, 100),
        (300, 100),  # |I - P| <= 0.05%: F = I
        (600, 100),  # I - P = -0.05%, the clamp's edge
        (601, 101),
        (700, 200),  # P + clamp(I - P) = 0.07% - 0.05%
        (-400, 100),  # I - P = +0.05%, the other edge
        (-401, 99),
        (-1_000, -500),  # -0.10% + 0.05%
        (5_000, 4_500),
    ],
)
def test_binance_funding_rate_clamp(premium: int, expected: int) -> None:
    # Binance: F = P + clamp(I - P, 0.05%, -0.05%), I = 0.01% per interval (/tmp/venue_examples.md 2.7)
    assert funding_rate_ppm(premium) == expected


def test_funding_rate_zero_interest_and_cap() -> None:
    assert funding_rate_ppm(300, interest_ppm=0) == 0  # BNBUSDT: interest 0%
    assert funding_rate_ppm(50_000, cap_ppm=30_000) == 30_000
    assert funding_rate_ppm(-50_000, cap_ppm=30_000) == -30_000
    assert funding_rate_ppm(50_000, cap_ppm=None) == 49_500
    with pytest.raises(InvalidFundingInputError):
        funding_rate_ppm(0, clamp_ppm=-1)
    with pytest.raises(InvalidFundingInputError):
        funding_rate_ppm(0, cap_ppm=-1)


@given(premium=st.integers(-(10**6), 10**6), interest=st.integers(-1_000, 1_000), clamp=st.integers(0, 5_000))
def test_funding_rate_clamp_property(premium: int, interest: int, clamp: int) -> None:
    rate = funding_rate_ppm(premium, interest, clamp)
    if abs(interest - premium) <= clamp:
        assert rate == interest  # "the Funding Rate will equal the Interest Rate"
    else:
        assert abs(rate - premium) == clamp
    cap = abs(premium) // 2
    assert abs(funding_rate_ppm(premium, interest, clamp, cap)) <= cap


def test_dydx_funding_cap_and_rate() -> None:
    # dydxprotocol/v4-chain liquidity_tier_test.go: BigIntMulPpm(6_000_000, 150_000 - 120_000) = 180_000
    assert funding_cap_ppm(150_000, 120_000) == 180_000
    # docs funding.mdx: BTC-USD (Large-Cap) 600% * (5% - 3%) = 12%
    large_cap = RiskParams.dydx(50_000, 600_000)
    assert large_cap.mmf_ppm is not None
    assert funding_cap_ppm(large_cap.imf_ppm, large_cap.mmf_ppm) == 120_000
    assert dydx_funding_rate_ppm(800) == 100
    assert dydx_funding_rate_ppm(-807) == -100  # truncated toward zero
    assert dydx_funding_rate_ppm(10**7, cap_ppm=120_000) == 120_000
    with pytest.raises(InvalidFundingInputError):
        funding_cap_ppm(100_000, 200_000)


def test_premium_index() -> None:
    index = 100 * USD
    assert premium_ppm(100_050_000, 100_100_000, index) == 500  # impact bid 0.05% above index
    assert premium_ppm(99_900_000, 100_100_000, index) == 0  # index inside the impact spread
    assert premium_ppm(99_800_000, 99_950_000, index) == -500  # impact ask 0.05% below
    assert premium_ppm(3_000_001, 3_000_002, 3_000_000) == 0  # 0.33 ppm truncates toward zero
    assert premium_ppm(2_999_998, 2_999_999, 3_000_000) == 0
    with pytest.raises(InvalidFundingInputError):
        premium_ppm(101 * USD, 100 * USD, index)
    with pytest.raises(ValueOutOfRangeError):
        premium_ppm(0, 100 * USD, index)


@given(bid=st.integers(1, 2**40), spread=st.integers(0, 2**20), index=st.integers(1, 2**40))
def test_premium_truncates_toward_zero(bid: int, spread: int, index: int) -> None:
    ask = bid + spread
    exact = Fraction((max(0, bid - index) - max(0, index - ask)) * PPM, index)
    p = premium_ppm(bid, ask, index)
    assert abs(p) <= abs(exact) < abs(p) + 1
    assert p * exact >= 0


def test_next_funding_index() -> None:
    assert next_funding_index(0, 100, 65_000 * USD) == 6_500_000  # 0.01% of $65,000 per BTC
    assert next_funding_index(10, -100, 65_000 * USD) == 10 - 6_500_000
    assert next_funding_index(0, -1, 1) == 0  # truncated toward zero, not -1
    assert next_funding_index(0, 1, 999_999) == 0
    with pytest.raises(ValueOutOfRangeError):
        next_funding_index(2**64 - 1, 1_000_000, 2**40)
    with pytest.raises(ValueOutOfRangeError):
        next_funding_index(0, 100, 0)


def test_advance_funding_moves_perpetual_indices_at_the_mark() -> None:
    snap = linear_snapshot(btc_funding=7)
    nxt = advance_funding(snap, {"BTC-PERP": 100})
    assert nxt.funding_indices == {"BTC-PERP": 7 + 5_000_000, "ETH-PERP": 0}
    assert advance_funding(snap, {"ETH-PERP": -50}, prices={"ETH-PERP": 2_000 * USD}).funding_indices["ETH-PERP"] == (
        -100_000
    )
    with pytest.raises(UnknownMarketError):
        advance_funding(snap, {"DOGE-PERP": 1})
    with pytest.raises(InconsistentSnapshotError):
        advance_funding(expiry_snapshot(50_000 * USD, 1, 1), {"BTC-FUT": 1})


# ---- funding: settlement ----------------------------------------------------------------------------


def test_settle_funding_worked_example() -> None:
    snap = advance_funding(linear_snapshot(65_000 * USD), {"BTC-PERP": 100})  # F: 0 -> 6.5 USD per BTC
    long, short = acct("long", pos("BTC-PERP", 10**8)), acct("short", pos("BTC-PERP", -(10**8)))
    (l2, s2), fund_delta = settle_funding([long, short], snap)
    assert l2.positions[0].quote == -6_500_000 and s2.positions[0].quote == 6_500_000
    assert l2.positions[0].funding_index == s2.positions[0].funding_index == 6_500_000
    assert fund_delta == 0
    assert compute_margin(l2, snap).equity == compute_margin(long, snap).equity  # funding was already in equity


@given(
    sizes=st.lists(nonzero, min_size=1, max_size=6),
    qs=st.lists(quotes, min_size=7, max_size=7),
    f0=st.integers(-(10**12), 10**12),
    f1=st.integers(-(10**12), 10**12),
    d=st.integers(0, 12),
)
@settings(max_examples=80, deadline=None)
def test_funding_conserves_value_exactly(sizes: list[int], qs: list[int], f0: int, f1: int, d: int) -> None:
    if sum(sizes):
        sizes = [*sizes, -sum(sizes)]  # two-sided: positions net to zero
    snap = linear_snapshot(btc_funding=f1, btc_decimals=d)
    accounts = [acct(f"a{i}", pos("BTC-PERP", s, qs[i], funding_index=f0)) for i, s in enumerate(sizes)]
    new, fund_delta = settle_funding(accounts, snap)
    assert cash(new) + fund_delta == cash(accounts)  # exact
    assert total_value(new, snap, fund_delta) == total_value(accounts, snap, 0)
    assert 0 <= fund_delta < len(sizes)  # two-sided: only rounding dust reaches the fund
    for before, after in zip(accounts, new):
        assert after.positions[0].funding_index == f1
        drop = compute_margin(before, snap).equity - compute_margin(after, snap).equity
        assert drop in (0, 1)  # payer ceil / receiver floor costs at most 1 micro-quote
    again, zero = settle_funding(new, snap)
    assert again == new and zero == 0  # idempotent


@given(
    entries=st.lists(st.tuples(nonzero, st.integers(-(10**10), 10**10)), min_size=1, max_size=6),
    f1=st.integers(-(10**10), 10**10),
)
@settings(max_examples=60, deadline=None)
def test_funding_imbalance_goes_through_the_fund(entries: list[tuple[int, int]], f1: int) -> None:
    # one-sided interest and different entry indices: conservation still exact, the fund takes the imbalance
    snap = linear_snapshot(btc_funding=f1)
    accounts = [acct(f"a{i}", pos("BTC-PERP", s, funding_index=f)) for i, (s, f) in enumerate(entries)]
    new, fund_delta = settle_funding(accounts, snap)
    assert cash(new) + fund_delta == cash(accounts)
    exact = sum(Fraction(s * (f1 - f), 10**BTC_D) for s, f in entries)
    assert exact <= fund_delta < exact + len(entries)
    if fund_delta < 0:
        with pytest.raises(InsufficientInsuranceFundError):
            settle_funding(accounts, snap, fund=-fund_delta - 1)
        assert settle_funding(accounts, snap, fund=-fund_delta).fund_delta == fund_delta


def test_settle_funding_with_index_override_and_bad_inputs() -> None:
    snap = linear_snapshot()
    a = acct("a", pos("BTC-PERP", 10**8), pos("ETH-PERP", -(10**9)))
    (out,), delta = settle_funding([a], snap, indices={"ETH-PERP": 1_000_000})
    assert [p.quote for p in out.positions] == [0, 1_000_000] and delta == -1_000_000
    with pytest.raises(UnknownMarketError):
        settle_funding([a], snap, indices={"DOGE-PERP": 1})
    with pytest.raises(ValueOutOfRangeError):
        settle_funding([a], snap, indices={"BTC-PERP": 2**64})
    with pytest.raises(InsufficientInsuranceFundError):
        settle_funding([a], snap, indices={"ETH-PERP": 1_000_000}, fund=999_999)
    with pytest.raises(UnknownMarketError):
        settle_funding([acct("x", pos("DOGE-PERP", 1))], snap)
    with pytest.raises(InconsistentSnapshotError):
        settle_funding([a], expiry_snapshot(50_000 * USD, 1, 1), indices={"BTC-FUT": 1})


# ---- expiry ----------------------------------------------------------------------------------------


def test_settle_expiry_worked_example() -> None:
    snap = expiry_snapshot(65_000 * USD, 60_000 * USD, 70_000 * USD)
    long = acct("long", pos("BTC-C", 200, -9_000 * USD), pos("BTC-PERP", 10**8, -65_000 * USD))  # 2 calls
    short = acct("short", pos("BTC-C", -200, 9_000 * USD), quote_balance=100 * USD)
    (l2, s2), fund_delta = settle_expiry([long, short], snap)
    assert l2.quote_balance == 10_000 * USD - 9_000 * USD  # intrinsic 5,000 per call
    assert [p.market for p in l2.positions] == ["BTC-PERP"]  # live markets are kept
    assert s2.quote_balance == 100 * USD + 9_000 * USD - 10_000 * USD and s2.positions == ()
    assert fund_delta == 0
    assert expiry_value(snap.market("BTC-P"), 65_000 * USD) == 5_000 * USD  # type: ignore[arg-type]


@given(
    settle=st.integers(1, 2**40),
    strikes=st.tuples(st.integers(1, 2**40), st.integers(1, 2**40)),
    legs=st.lists(
        st.tuples(st.sampled_from(["BTC-FUT", "BTC-C", "BTC-P"]), nonzero, quotes, st.booleans()),
        min_size=1,
        max_size=8,
    ),
    decimals=st.tuples(st.integers(0, 12), st.integers(0, 6)),
)
@settings(max_examples=80, deadline=None)
def test_expiry_conserves_value_exactly(
    settle: int, strikes: tuple[int, int], legs: list[tuple[str, int, int, bool]], decimals: tuple[int, int]
) -> None:
    snap = expiry_snapshot(settle, *strikes, fut_d=decimals[0], opt_d=decimals[1])
    accounts = []
    net: dict[str, int] = {}
    for i, (market, size, quote, isolated) in enumerate(legs):
        iso = abs(quote) if isolated and market == "BTC-FUT" else None
        accounts.append(acct(f"a{i}", pos(market, size, quote, isolated_margin=iso), pos("BTC-PERP", 1)))
        net[market] = net.get(market, 0) + size
    accounts.append(acct("z", *(pos(m, -s) for m, s in sorted(net.items()) if s)))  # closes the set
    new, fund_delta = settle_expiry(accounts, snap)
    assert total_value(new, snap, fund_delta) == total_value(accounts, snap, 0)
    assert cash(new) + fund_delta == cash(accounts) + sum(
        Fraction(p.size * snap.mark_prices[p.market], 10 ** snap.market(p.market).size_decimals)
        for a in accounts
        for p in a.positions
        if p.market != "BTC-PERP"
    )
    assert 0 <= fund_delta < len(legs) + 3
    for before, after in zip(accounts, new):
        assert all(p.market == "BTC-PERP" for p in after.positions)
        assert compute_margin(after, snap).total_equity == compute_margin(before, snap).total_equity
    again, zero = settle_expiry(new, snap)
    assert again == new and zero == 0


def test_one_sided_expiry_needs_the_fund() -> None:
    snap = expiry_snapshot(65_000 * USD, 60_000 * USD, 70_000 * USD)
    lone = acct("lone", pos("BTC-FUT", 10**8, -60_000 * USD))
    (out,), delta = settle_expiry([lone], snap)
    assert out.quote_balance == 5_000 * USD and delta == -65_000 * USD
    with pytest.raises(InsufficientInsuranceFundError):
        settle_expiry([lone], snap, fund=64_999 * USD)
    assert settle_expiry([lone], snap, fund=65_000 * USD).fund_delta == delta


# ---- dYdX v4 liquidation vectors ---------------------------------------------------------------------
# Source: dydxprotocol/v4-chain, protocol/x/clob/keeper/liquidations_test.go (TestGetFillablePrice,
# TestGetBankruptcyPriceInQuoteQuantums, TestGetLiquidationInsuranceFundDelta), as transcribed in
# /tmp/venue_examples.md 1.6. BTC $50,000 (atomic resolution -8), ETH $3,000 (-9), both IMF 20% /
# MMF 10%; LiquidationsConfig_Default: BA 1_000_000, SMMR 100_000, max fee 5_000. Quote quantums are
# micro-USDC, our micro-quote; a fillable price per base quantum times 10**d is our price per unit.

BTC01, ETH01 = 10_000_000, 100_000_000  # 0.1 BTC, 0.1 ETH in quantums
MAX_UINT32 = 2**32 - 1


def _dydx_account(positions: list[tuple[str, int]], usdc: int) -> Account:
    return acct("dydx", *(pos(m, s) for m, s in positions), quote_balance=usdc * USD)


FILLABLE_VECTORS = [
    # positions, USDC balance, market liquidated, BA, SMMR, fillable price (micro-USDC per whole unit)
    ([("BTC-PERP", BTC01)], -4_501, "BTC-PERP", PPM, 100_000, 49_999 * USD),
    ([("BTC-PERP", BTC01)], -4_501, "BTC-PERP", 2 * PPM, 100_000, 49_998 * USD),
    ([("BTC-PERP", BTC01)], -4_501, "BTC-PERP", PPM, 200_000, 49_998 * USD),
    ([("BTC-PERP", -BTC01)], 5_499, "BTC-PERP", PPM, 100_000, 50_001 * USD),
    ([("BTC-PERP", -BTC01)], 5_499, "BTC-PERP", 2 * PPM, 100_000, 50_002 * USD),
    ([("BTC-PERP", -BTC01)], 5_499, "BTC-PERP", PPM, 200_000, 50_002 * USD),
    ([("BTC-PERP", BTC01)], -5_000, "BTC-PERP", PPM, 100_000, 49_500 * USD),
    ([("BTC-PERP", -BTC01)], 5_000, "BTC-PERP", PPM, 100_000, 50_500 * USD),
    ([("BTC-PERP", BTC01)], -5_500, "BTC-PERP", PPM, 100_000, 49_500 * USD),  # below bankruptcy: ABR clamps at 1
    ([("BTC-PERP", -BTC01)], 4_500, "BTC-PERP", PPM, 100_000, 50_500 * USD),
    ([("BTC-PERP", 400_000), ("ETH-PERP", ETH01)], -490, "ETH-PERP", PPM, 100_000, 2_976 * USD),  # 372/125 per quantum
    ([("BTC-PERP", BTC01)], -4_501, "BTC-PERP", MAX_UINT32, 100_000, 49_500 * USD),
    ([("BTC-PERP", BTC01)], -4_501, "BTC-PERP", PPM, 1, 49_999_999_990),  # 4_999_999_999/10_000_000 per quantum
    ([("BTC-PERP", BTC01)], -4_501, "BTC-PERP", PPM, PPM, 49_990 * USD),
]


@pytest.mark.parametrize(("positions", "usdc", "market", "ba", "smmr", "expected"), FILLABLE_VECTORS)
def test_dydx_fillable_price_vectors(
    positions: list[tuple[str, int]], usdc: int, market: str, ba: int, smmr: int, expected: int
) -> None:
    snap = linear_snapshot()
    account = _dydx_account(positions, usdc)
    report = compute_margin(account, snap)
    row = next(r for r in report.positions if r.market == market)
    assert row.maintenance_requirement is not None
    size = row.size
    price = fillable_price(
        size,
        snap.mark_prices[market],
        snap.market(market).size_decimals,
        row.maintenance_requirement,
        report.equity,
        report.maintenance_requirement,
        bankruptcy_adjustment_ppm=ba,
        spread_to_maintenance_ppm=smmr,
    )
    assert price == expected
    # liquidate() closes the largest position first, here the market of the vector, at the same price
    params = LiquidationParams(bankruptcy_adjustment_ppm=ba, spread_to_maintenance_ppm=smmr)
    result = liquidate(account, snap, 10**12, params, counterparty=BOOK)
    assert result.closes[0].market == market and result.closes[0].fillable_price == expected


def test_dydx_fillable_price_half_close_is_the_same_price() -> None:
    # "+0.1 BTC (delta -0.1 or -0.05), USDC -5,000 -> 495/1": the price does not depend on the amount closed
    snap = linear_snapshot()
    report = compute_margin(_dydx_account([("BTC-PERP", BTC01)], -5_000), snap)
    assert fillable_price(BTC01, 50_000 * USD, BTC_D, 500 * USD, report.equity, 500 * USD) == 49_500 * USD
    assert liquidation_fill_quote(BTC01, 50_000 * USD, BTC_D, 500 * USD, report.equity, 500 * USD) == 4_950 * USD


BANKRUPTCY_VECTORS = [
    # positions, USDC, market changed, delta (quantums), expected bankruptcy quote (quote quantums)
    ([("BTC-PERP", BTC01)], -4_501, "BTC-PERP", -BTC01, 4_501_000_000),
    ([("BTC-PERP", -BTC01)], 5_499, "BTC-PERP", BTC01, -5_499_000_000),
    ([("BTC-PERP", BTC01)], -5_000, "BTC-PERP", -BTC01, 5_000_000_000),
    ([("BTC-PERP", BTC01)], -5_000, "BTC-PERP", -BTC01 // 2, 2_500_000_000),
    ([("BTC-PERP", -BTC01)], 5_000, "BTC-PERP", BTC01 // 2, -2_500_000_000),
    ([("BTC-PERP", -BTC01)], 5_000, "BTC-PERP", BTC01, -5_000_000_000),
    ([("BTC-PERP", BTC01)], -5_100, "BTC-PERP", -BTC01, 5_100_000_000),
    ([("BTC-PERP", -BTC01)], 4_900, "BTC-PERP", BTC01, -4_900_000_000),
    ([("BTC-PERP", 400_000), ("ETH-PERP", ETH01)], -490, "ETH-PERP", -ETH01, 294_000_000),
    ([("BTC-PERP", -400_000), ("ETH-PERP", -ETH01)], 510, "ETH-PERP", ETH01, -306_000_000),
    ([("BTC-PERP", 400_000), ("ETH-PERP", -ETH01)], 110, "ETH-PERP", ETH01, -306_000_000),
    ([("BTC-PERP", 10**8)], -13, "BTC-PERP", -21_347, 2_776),  # "rounded up from 2,775.11"
    ([("BTC-PERP", -(10**8))], 13, "BTC-PERP", 21_347, -2_775),  # toward +infinity
    ([("BTC-PERP", 10**8)], 1, "BTC-PERP", -(10**8), -1_000_000),
]


@pytest.mark.parametrize(("positions", "usdc", "market", "delta", "expected"), BANKRUPTCY_VECTORS)
def test_dydx_bankruptcy_price_vectors(
    positions: list[tuple[str, int]], usdc: int, market: str, delta: int, expected: int
) -> None:
    snap = linear_snapshot()

    def nnv_mmr(m: str, size: int) -> tuple[int, int]:
        mk = snap.market(m)
        assert isinstance(mk, PerpetualMarket)
        price = snap.mark_prices[m]
        return size * price // 10**mk.size_decimals, linear_requirement(
            mk.risk, size, price, mk.size_decimals, 0
        ).maintenance

    report = compute_margin(_dydx_account(positions, usdc), snap)
    size = dict(positions)[market]
    nnv0, mmr0 = nnv_mmr(market, size)
    nnv1, mmr1 = nnv_mmr(market, size + delta)
    got = bankruptcy_quote(nnv1 - nnv0, mmr1 - mmr0, report.equity, report.maintenance_requirement)
    assert got == expected


@pytest.mark.parametrize(
    ("fill", "bankruptcy", "fee_ppm", "expected"),
    [
        (5_610_000_000, 5_100_000_000, 5_000, 28_050_000),  # 0.5% of the fill
        (5_610_000_000, 5_100_000_000, 25_000, 140_250_000),
        (5_610_000_000, 5_100_000_000, PPM, 510_000_000),  # capped at what is left above bankruptcy
        (5_105_100_000, 5_100_000_000, 5_000, 5_100_000),  # leftover below the max fee
        (-4_410_000_000, -4_900_000_000, 5_000, 22_050_000),  # short, bought back at $44,100
        (-4_410_000_000, -4_900_000_000, 25_000, 110_250_000),
        (-4_410_000_000, -4_900_000_000, PPM, 490_000_000),
        (4_950_000_000, 5_100_000_000, 5_000, -150_000_000),  # below bankruptcy: the fund pays
    ],
)
def test_dydx_insurance_fund_delta_vectors(fill: int, bankruptcy: int, fee_ppm: int, expected: int) -> None:
    assert insurance_fund_delta(fill, bankruptcy, fee_ppm) == expected


def test_dydx_insurance_fund_vector_bankruptcies() -> None:
    # the two accounts of TestGetLiquidationInsuranceFundDelta: +0.1 BTC / USDC -5,100 and -0.1 BTC / +4,900
    snap = linear_snapshot()
    for positions, usdc, expected in (
        ([("BTC-PERP", BTC01)], -5_100, 5_100 * USD),
        ([("BTC-PERP", -BTC01)], 4_900, -4_900 * USD),
    ):
        report = compute_margin(_dydx_account(positions, usdc), snap)
        size = positions[0][1]
        nnv = size * 50_000 * USD // 10**BTC_D
        assert bankruptcy_quote(-nnv, -500 * USD, report.equity, report.maintenance_requirement) == expected


def test_dydx_liquidatable_is_strict() -> None:
    # TestIsLiquidatable: 0.1 BTC long, USDC -4,500 -> TNC 500 = MMR: not liquidatable; -4,501: liquidatable
    snap = linear_snapshot()
    with pytest.raises(AccountNotLiquidatableError, match="500000000"):
        liquidate(_dydx_account([("BTC-PERP", BTC01)], -4_500), snap, 0, counterparty=BOOK)
    result = liquidate(_dydx_account([("BTC-PERP", BTC01)], -4_501), snap, 0, counterparty=BOOK)
    close = result.closes[0]
    assert (close.fill_quote, close.bankruptcy_quote, close.fee) == (4_999_900_000, 4_501_000_000, 24_999_500)
    assert result.account.quote_balance == -4_501 * USD + 4_999_900_000 - 24_999_500
    assert result.fund == result.penalty == 24_999_500 and result.healthy_after
    assert result.counterparty.positions == (pos("BTC-PERP", BTC01, -4_999_900_000),)


# ---- liquidation properties ------------------------------------------------------------------------


@st.composite
def liquidation_cases(
    draw: st.DrawFn,
) -> tuple[Account, MarketSnapshot, int, LiquidationParams, Account, list[Account]]:
    btc = draw(st.integers(20_000, 90_000)) * USD + draw(st.integers(0, USD - 1))
    eth = draw(st.integers(1_000, 5_000)) * USD + draw(st.integers(0, USD - 1))
    eth_risk = draw(
        st.sampled_from(
            [
                DYDX_20_10,
                RiskParams.binance([(50_000 * USD, 4_000, 0, 125), (None, 5_000, 50 * USD, 100)]),
                RiskParams.deribit(20_000, 10_000, 50),
            ]
        )
    )
    snap = linear_snapshot(btc, eth, btc_risk=RiskParams.dydx(50_000, 600_000), eth_risk=eth_risk)
    positions: list[Position] = []
    for market, d, mark in (("BTC-PERP", BTC_D, btc), ("ETH-PERP", ETH_D, eth)):
        if draw(st.booleans()) or (not positions and market == "ETH-PERP"):
            size = draw(st.integers(-5 * 10**d, 5 * 10**d).filter(lambda s: s != 0))
            entry = mark * draw(st.integers(800, 1_200)) // 1_000
            iso = draw(st.one_of(st.none(), st.integers(0, abs(size) * mark // 10**d // 5)))
            positions.append(pos(market, size, -(size * entry) // 10**d, isolated_margin=iso))
    collateral = draw(st.sampled_from([{}, {"BTC": 10**7}, {"ETH": 10**9, "USDC": 100 * USD}]))
    probe = Account(id="victim", collateral=collateral, positions=tuple(positions))
    report = compute_margin(probe, snap)
    notional = sum(r.notional for r in report.positions)
    has_cross = any(not p.isolated for p in positions)
    if has_cross and (report.equity >= report.maintenance_requirement or draw(st.booleans())):
        # push the cross account below maintenance, sometimes far below zero (bad debt)
        shift = report.maintenance_requirement - report.equity - 1 - draw(st.integers(0, notional // 2))
    else:
        shift = 0
    victim = Account(id="victim", collateral=collateral, quote_balance=shift, positions=tuple(positions))
    pool: list[Account] = []
    for p in positions:
        extra = draw(st.integers(0, abs(p.size)))
        split = draw(st.integers(0, abs(p.size) + extra))
        sign = -1 if p.size > 0 else 1
        for k, part in enumerate((split, abs(p.size) + extra - split)):
            if part:
                entry = snap.mark_prices[p.market] * draw(st.integers(700, 1_300)) // 1_000
                d = snap.market(p.market).size_decimals
                pool.append(acct(f"{p.market}-{k}", pos(p.market, sign * part, -(sign * part * entry) // 10**d)))
    fund = draw(st.sampled_from([0, 1, 10 * USD, 10**15]))
    params = draw(
        st.sampled_from(
            [LiquidationParams(), LiquidationParams.dydx_mainnet(), LiquidationParams(max_liquidation_fee_ppm=0)]
        )
    )
    book = draw(st.sampled_from([BOOK, acct("book", pos("BTC-PERP", -(10**8), 50_000 * USD))]))
    return victim, snap, fund, params, book, pool


def _check_liquidation(
    victim: Account,
    snap: MarketSnapshot,
    fund: int,
    book: Account,
    pool: list[Account],
    result: LiquidationResult,
    params: LiquidationParams | None = None,
) -> None:
    max_fee_ppm = (params or LiquidationParams()).max_liquidation_fee_ppm
    before = [victim, book, *pool]
    after = [result.account, result.counterparty, *result.pool]
    assert total_value(after, snap, result.fund) == total_value(before, snap, fund)  # exact conservation
    assert result.fund >= 0
    assert result.fund == fund + result.penalty - result.fund_used
    final = compute_margin(result.account, snap)
    assert final.healthy and result.healthy_after
    assert final.equity >= 0
    for c in result.closes:
        assert c.received >= c.bankruptcy_quote  # never below bankruptcy: the account keeps its share
        cap = abs(c.fill_quote) * max_fee_ppm // PPM
        assert 0 <= c.fee <= (cap if c.net_collateral > 0 else max(cap, 1))
        assert sum(f.size for f in c.fills) == c.size
        if c.deleveraged:
            assert c.received == c.bankruptcy_quote == sum(f.quote for f in c.fills)
    # bad debt is covered by the fund and deleveraging (up to the fills' rounding, < 1 each)
    assert result.equity_after - result.equity_before <= result.fund_used + result.deleveraged_shortfall + len(
        result.closes
    )
    # deleveraged accounts only shrink their positions, never flip them
    for b, a in zip(pool, result.pool):
        (pb,) = b.positions
        sizes = [p.size for p in a.positions if p.market == pb.market]
        assert not sizes or (sizes[0] * pb.size > 0 and abs(sizes[0]) <= abs(pb.size))


@given(case=liquidation_cases())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_liquidation_conserves_value_and_ends_healthy(
    case: tuple[Account, MarketSnapshot, int, LiquidationParams, Account, list[Account]],
) -> None:
    victim, snap, fund, params, book, pool = case
    report = compute_margin(victim, snap)
    if report.healthy:  # only isolated positions drawn and all healthy with a healthy cross: nothing to do
        with pytest.raises(AccountNotLiquidatableError):
            liquidate(victim, snap, fund, params, counterparty=book, pool=pool)
        return
    result = liquidate(victim, snap, fund, params, counterparty=book, pool=pool)
    _check_liquidation(victim, snap, fund, book, pool, result, params)
    if report.equity < 0 and all(not p.isolated for p in victim.positions) and victim.positions:
        assert result.equity_after == 0  # bankrupt: ends at exactly zero, no positions
        assert result.account.positions == ()
        assert result.fund_used + result.deleveraged_shortfall + len(result.closes) >= -report.equity
    if fund >= 10**15:
        assert result.deleveraged_shortfall == 0 and not any(c.deleveraged for c in result.closes)
    # the fund only spends what it holds, including penalties this liquidation paid into it
    assert result.fund_used <= fund + result.penalty


@given(
    size=st.integers(-5_000, 5_000).filter(lambda s: s != 0),
    perp=st.integers(-(10**8), 10**8),
    extra=st.integers(0, 20_000 * USD),
    fund=st.sampled_from([0, 10**15]),
    mode=st.sampled_from(["standard", "portfolio"]),
)
@settings(max_examples=60, deadline=None)
def test_liquidation_with_options_uses_portfolio_weights(
    size: int, perp: int, extra: int, fund: int, mode: str
) -> None:
    snap = options_snapshot()
    positions = [pos("BTC-C", size, -size * snap.mark_prices["BTC-C"] // 100)]
    if perp:
        positions.append(pos("BTC-PERP", perp, -perp * 50_000 * USD // 10**8))
    probe = acct("victim", *positions, margin_mode=mode)
    r = compute_margin(probe, snap)
    victim = acct(
        "victim", *positions, quote_balance=r.maintenance_requirement - r.equity - 1 - extra, margin_mode=mode
    )
    pool = [acct("p-opt", pos("BTC-C", -size)), *([acct("p-perp", pos("BTC-PERP", -perp))] if perp else [])]
    result = liquidate(victim, snap, fund, counterparty=BOOK, pool=pool)
    _check_liquidation(victim, snap, fund, BOOK, pool, result)
    for c in result.closes:
        if c.market == "BTC-C" or mode == "portfolio":
            assert c.weight == portfolio_weight(pos(c.market, c.size), snap.market(c.market), snap)
        if c.market == "BTC-C":
            assert c.weight > 0


def test_isolated_liquidation_closes_only_the_unhealthy_position() -> None:
    snap = linear_snapshot()
    iso = pos("BTC-PERP", BTC01, -5_000 * USD, isolated_margin=100 * USD)  # equity 100 < MMR 500 (20%/10%)
    cross = pos("ETH-PERP", ETH01, -300 * USD)
    victim = acct("victim", iso, cross, quote_balance=1_000 * USD)
    before = compute_margin(victim, snap)
    assert before.equity >= before.maintenance_requirement and before.liquidatable
    result = liquidate(victim, snap, 0, counterparty=BOOK)
    assert [c.market for c in result.closes] == ["BTC-PERP"] and result.closes[0].scope == "isolated"
    assert result.account.positions == (cross,)
    residual = result.account.quote_balance - 1_000 * USD
    assert residual == result.closes[0].received + iso.quote + 100 * USD >= 0
    _check_liquidation(victim, snap, 0, BOOK, [], result)


def test_bankrupt_isolated_position_is_covered_by_the_fund_not_the_cross_balance() -> None:
    snap = linear_snapshot()
    iso = pos("BTC-PERP", BTC01, -5_200 * USD, isolated_margin=100 * USD)  # isolated equity -100
    victim = acct("victim", iso, quote_balance=1_000 * USD)
    result = liquidate(victim, snap, 1_000 * USD, counterparty=BOOK)
    assert result.account.quote_balance == 1_000 * USD  # residual exactly zero
    assert result.fund_used >= 100 * USD
    _check_liquidation(victim, snap, 1_000 * USD, BOOK, [], result)


def test_bankrupt_account_ends_at_exactly_zero_despite_fill_rounding() -> None:
    # TNC -1; closing ETH first (larger) brings it to exactly 0; the BTC fill then rounds 1 micro-quote
    # above bankruptcy (200.9 - 0.7 -> 201 vs 200). With no fee, that micro-quote goes to the fund.
    snap = linear_snapshot(20_090 * USD, 3_000 * USD, btc_risk=RiskParams.dydx(50_000, 600_000))
    victim = acct("victim", pos("BTC-PERP", 1), pos("ETH-PERP", 100), quote_balance=-501)
    assert compute_margin(victim, snap).equity == -1
    params = LiquidationParams(max_liquidation_fee_ppm=0)
    result = liquidate(victim, snap, 10, params, counterparty=BOOK)
    eth, btc = result.closes
    assert (eth.net_collateral, eth.fill_quote, eth.bankruptcy_quote, eth.fund_cover) == (-1, 297, 301, 4)
    assert (btc.net_collateral, btc.fill_quote, btc.bankruptcy_quote, btc.fee) == (0, 201, 200, 1)
    assert result.equity_after == 0 and result.fund == 10 - 4 + 1
    _check_liquidation(victim, snap, 10, BOOK, [], result, params)


def test_deleveraging_when_the_fund_is_empty() -> None:
    snap = linear_snapshot()
    victim = _dydx_account([("BTC-PERP", BTC01)], -5_500)  # TNC -500: bankrupt
    pool = [
        acct("rich", pos("BTC-PERP", -BTC01 // 2, 2_600 * USD)),  # short from $52,000: profit 100
        acct("poor", pos("BTC-PERP", -BTC01, 4_900 * USD)),  # short from $49,000: loss 100
        acct("long", pos("BTC-PERP", BTC01)),  # same side: never deleveraged
    ]
    result = liquidate(victim, snap, 0, counterparty=BOOK, pool=pool)
    (close,) = result.closes
    assert close.deleveraged and close.bankruptcy_quote == 5_500 * USD
    assert [(f.counterparty, f.size, f.quote) for f in close.fills] == [
        ("rich", BTC01 // 2, 2_750 * USD),
        ("poor", BTC01 // 2, 2_750 * USD),
    ]
    assert result.pool[0].positions == () and result.pool[0].quote_balance == -150 * USD
    assert result.pool[1].positions == (pos("BTC-PERP", -BTC01 // 2, 2_150 * USD),)
    assert result.pool[2] == pool[2]
    assert result.account.quote_balance == 0 and result.account.positions == ()
    assert result.deleveraged_shortfall == 5_500 * USD - close.fill_quote and result.fund == 0
    _check_liquidation(victim, snap, 0, BOOK, pool, result)
    with pytest.raises(DeleveragingError, match="hold only 5000000"):
        liquidate(victim, snap, 0, counterparty=BOOK, pool=[pool[0]])
    # with enough in the fund the same close goes to the book and the fund pays
    funded = liquidate(victim, snap, 10**12, counterparty=BOOK, pool=pool)
    assert not funded.closes[0].deleveraged and funded.fund_used == 5_500 * USD - funded.closes[0].fill_quote


@given(
    pool_sizes=st.lists(st.tuples(st.integers(1, 10**9), quotes), min_size=1, max_size=6),
    frac=st.fractions(0, 1),
    quote=st.integers(-(10**12), 10**12),
    long=st.booleans(),
)
@settings(max_examples=80, deadline=None)
def test_deleverage_splits_exactly(pool_sizes: list[tuple[int, int]], frac: Fraction, quote: int, long: bool) -> None:
    snap = linear_snapshot()
    sign = 1 if long else -1
    pool = [acct(f"p{i}", pos("BTC-PERP", -sign * s, q)) for i, (s, q) in enumerate(pool_sizes)]
    total = sum(s for s, _ in pool_sizes)
    size = sign * max(1, int(total * frac))
    new, fills = deleverage("BTC-PERP", size, quote, pool, snap)
    assert sum(f.size for f in fills) == size and sum(f.quote for f in fills) == quote
    profits = [p.positions[0].quote + p.positions[0].size * 50_000 * USD // 10**8 for p in pool]
    order = sorted(range(len(pool)), key=lambda i: (-profits[i], pool[i].id))
    assert [f.counterparty for f in fills] == [pool[i].id for i in order[: len(fills)]]  # most profitable first
    # the liquidated side gives up `size` for `quote`: the pool's value changes by exactly the opposite
    assert total_value(list(new), snap, 0) - total_value(pool, snap, 0) == Fraction(size * 50_000 * USD, 10**8) - quote
    with pytest.raises(DeleveragingError):
        deleverage("BTC-PERP", sign * (total + 1), quote, pool, snap)


# ---- named errors and the example workflow ---------------------------------------------------------


def test_liquidation_named_errors() -> None:
    snap = linear_snapshot()
    victim = _dydx_account([("BTC-PERP", BTC01)], -4_501)
    with pytest.raises(AccountNotLiquidatableError):
        liquidate(_dydx_account([("BTC-PERP", BTC01)], 0), snap, 0, counterparty=BOOK)
    with pytest.raises(UnknownMarketError):
        liquidate(acct("x", pos("DOGE-PERP", 1)), snap, 0, counterparty=BOOK)
    with pytest.raises(UnknownMarketError):
        liquidate(victim, snap, 0, counterparty=acct("book", pos("DOGE-PERP", 1)))
    with pytest.raises(UnsettledPositionError, match="settle_funding"):
        liquidate(victim, linear_snapshot(btc_funding=5), 0, counterparty=BOOK)
    expired = expiry_snapshot(50_000 * USD, 1, 1)
    with pytest.raises(UnsettledPositionError, match="settle_expiry"):
        liquidate(acct("x", pos("BTC-FUT", 10**8), quote_balance=-60_000 * USD), expired, 0, counterparty=BOOK)
    with pytest.raises(DuplicateEntryError):
        liquidate(victim, snap, 0, counterparty=acct("dydx"))
    with pytest.raises(ValueOutOfRangeError):
        liquidate(victim, snap, -1, counterparty=BOOK)
    with pytest.raises(ValueOutOfRangeError):
        LiquidationParams(max_liquidation_fee_ppm=PPM + 1)
    with pytest.raises(ValueOutOfRangeError):
        bankruptcy_quote(0, 0, 1, 0)
    with pytest.raises(ValueOutOfRangeError):
        fillable_price(0, 1, 0, 0, 0, 1)
    # a book position whose funding is not settled cannot absorb a trade
    stale_book = acct("book", pos("BTC-PERP", 1, funding_index=3))
    with pytest.raises(UnsettledPositionError):
        liquidate(victim, snap, 0, counterparty=stale_book)


def test_bad_debt_without_positions() -> None:
    snap = linear_snapshot(btc=20_000 * USD)
    # 0.1 BTC collateral (weight 90%: 1,800) against a 2,000 quote debt, no positions
    debtor = Account(id="debtor", collateral={"BTC": BTC01}, quote_balance=-2_000 * USD)
    result = liquidate(debtor, snap, 500 * USD, counterparty=BOOK)
    assert result.fund_used == 200 * USD and result.fund == 300 * USD and result.equity_after == 0
    assert result.closes == () and result.healthy_after
    with pytest.raises(InsufficientInsuranceFundError):
        liquidate(debtor, snap, 199 * USD, counterparty=BOOK)


def test_example_workflow_settles_funding_then_liquidates() -> None:
    snap = load_example_snapshot()
    bob = load_example_account("liquidatable")
    with pytest.raises(UnsettledPositionError):
        liquidate(bob, snap, 0, counterparty=BOOK)
    (settled,), fund_delta = settle_funding([bob], snap)
    assert fund_delta == 10_000_000  # 1 BTC long, index 1,240 -> 1,250 USD
    assert compute_margin(settled, snap).liquidatable
    result = liquidate(settled, snap, 10**12, counterparty=BOOK)
    assert result.healthy_after and result.account.positions == ()
    assert total_value([result.account, result.counterparty], snap, result.fund) == total_value(
        [settled, BOOK], snap, 10**12
    )
    again = LiquidationResult.model_validate_json(result.model_dump_json())
    assert again == result
