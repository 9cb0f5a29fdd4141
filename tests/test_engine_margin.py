"""Margin engine: hand-checked venue-style numbers, named errors, and hypothesis
properties (monotone requirements, rounding that favours solvency checked against exact
rational arithmetic, the healthy boundary, liquidation prices)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine import (
    Account,
    ExposureTooLargeError,
    FutureMarket,
    MarginReport,
    MarketSnapshot,
    Position,
    RiskParams,
    ScenarioGrid,
    ScenarioValues,
    StalePriceError,
    UnknownAssetError,
    UnknownMarketError,
    UnsupportedPositionError,
    compute_margin,
    load_example_account,
    load_example_snapshot,
    validate_account,
)
from engine._margin import (
    SCENARIO_DENOMINATOR,
    leg_loss,
    linear_leg_numerators,
    linear_requirement,
    linear_scenario_values,
    oi_imf_increase,
    option_leg_numerators,
    scenario_losses,
    select_bracket,
    short_option_minimum,
)

try:
    from tests._engine import DYDX, GRID, NOW, PPM, USD, account, perp_snapshot, risk_params, small_sizes
except ModuleNotFoundError:
    from _engine import DYDX, GRID, NOW, PPM, USD, account, perp_snapshot, risk_params, small_sizes  # type: ignore[no-redef]

BTC = 10**8


def margin(acct: Account, snap: MarketSnapshot) -> MarginReport:
    return compute_margin(acct, snap)


# ---- venue-style numbers by hand -----------------------------------------------------------------


def test_dydx_fractions() -> None:
    r = margin(account(Position(market="BTC-PERP", size=BTC, quote=-65_000 * USD), usdc=5_000 * USD), perp_snapshot())
    p = r.positions[0]
    assert (p.notional, p.initial_requirement, p.maintenance_requirement) == (65_000 * USD, 3_250 * USD, 1_950 * USD)
    assert (r.equity, r.free_collateral, r.margin_ratio_ppm) == (5_000 * USD, 1_750 * USD, 390_000)
    assert r.healthy and not r.liquidatable


def test_dydx_open_interest_scaling() -> None:
    risk = RiskParams.dydx(50_000, 600_000, oi_lower_cap=500_000_000 * USD, oi_upper_cap=1_000_000_000 * USD)
    # OI 7,800 BTC at 65,000 = 507M: the IMF rises by 95% * 7M / 500M = 1.33%
    assert oi_imf_increase(50_000, 507_000_000 * USD, risk.oi_lower_cap, risk.oi_upper_cap) == 13_300
    req = linear_requirement(risk, BTC, 65_000 * USD, 8, 7_800 * BTC)
    assert (req.imf_ppm, req.initial, req.maintenance) == (63_300, 4_114_500_000, 1_950 * USD)
    assert linear_requirement(risk, BTC, 65_000 * USD, 8, 20_000 * BTC).imf_ppm == PPM  # above the upper cap
    assert linear_requirement(risk, BTC, 65_000 * USD, 8, 0).imf_ppm == 50_000


def test_binance_brackets() -> None:
    risk = RiskParams.binance(
        [
            (50_000 * USD, 4_000, 0, 125),
            (600_000 * USD, 5_000, 50 * USD, 100),
            (3_000_000 * USD, 6_500, 950 * USD, 75),
            (None, 10_000, 11_450 * USD, 50),
        ]
    )
    # 100,000 USDT notional: bracket 2, MM = 100,000 * 0.5% - 50 = 450, IM = 100,000 / 100 = 1,000
    req = linear_requirement(risk, 100 * 10**6, 1_000 * USD, 6, 0)
    assert (req.bracket, req.notional, req.maintenance, req.initial) == (1, 100_000 * USD, 450 * USD, 1_000 * USD)
    # continuity at the cap: 50,000 in bracket 1 and just above in bracket 2 agree
    assert linear_requirement(risk, 50 * 10**6, 1_000 * USD, 6, 0).maintenance == 200 * USD
    assert select_bracket(risk.brackets, 50_000 * USD) == 0 and select_bracket(risk.brackets, 50_000 * USD + 1) == 1
    assert select_bracket(risk.brackets, 10**20) == 3


def test_deribit_size_premium() -> None:
    risk = RiskParams.deribit(40_000, 20_000, 50)
    req = linear_requirement(risk, 10 * BTC, 65_000 * USD, 8, 0)  # 4% + 10 * 0.005% = 4.05%
    assert (req.imf_ppm, req.initial, req.maintenance) == (40_500, 26_325 * USD, 13_325 * USD)
    assert linear_requirement(risk, 1, 65_000 * USD, 8, 0).imf_ppm == 40_001  # premium rounds up


def test_equity_collateral_haircut_funding_and_quote_balance() -> None:
    snap = perp_snapshot(funding=1_500)
    acct = Account(
        id="t",
        collateral={"BTC": BTC // 2, "USDC": 1_000 * USD},
        quote_balance=-200 * USD,
        positions=(Position(market="BTC-PERP", size=BTC, quote=-64_000 * USD, funding_index=1_000),),
    )
    r = margin(acct, snap)
    assert r.collateral_value == 30_875 * USD + 1_000 * USD  # 0.5 BTC * 65,000 * 95%
    pos = r.positions[0]
    assert pos.unrealized_funding == -500 and pos.value == 1_000 * USD - 500
    assert r.equity == 31_875 * USD - 200 * USD + 1_000 * USD - 500


def test_short_pays_no_funding_when_index_falls() -> None:
    snap = perp_snapshot(funding=-2_000_000)  # F fell by 2 USDC per BTC: shorts pay longs
    r = margin(account(Position(market="BTC-PERP", size=-BTC, quote=65_000 * USD)), snap)
    assert r.positions[0].unrealized_funding == -2 * USD


def test_expired_future_is_valued_at_settlement_without_requirement() -> None:
    snap = perp_snapshot()
    fut = FutureMarket(id="BTC-F", base="BTC", size_decimals=8, expiry=NOW - 1, risk=DYDX)
    data = snap.model_dump()
    data["markets"] = (*snap.markets, fut)
    data["mark_prices"] = {**snap.mark_prices, "BTC-F": 66_000 * USD}
    data["settlement_prices"] = {"BTC-F": 66_000 * USD}
    snap = MarketSnapshot(**data)
    r = margin(account(Position(market="BTC-F", size=BTC, quote=-65_000 * USD)), snap)
    p = r.positions[0]
    assert p.expired and p.value == 1_000 * USD and p.maintenance_requirement == 0
    assert r.maintenance_requirement == 0 and p.liquidation_price is None


def test_examples() -> None:
    snap = load_example_snapshot()
    healthy = margin(load_example_account("healthy_cross"), snap)
    assert healthy.healthy and healthy.free_collateral > 0
    bad = margin(load_example_account("liquidatable"), snap)
    assert bad.liquidatable and bad.equity < bad.maintenance_requirement
    assert (
        bad.positions[0].liquidation_price is not None
        and bad.positions[0].liquidation_price > snap.mark_prices["BTC-PERP"]
    )
    iso = margin(load_example_account("isolated"), snap)
    btc = next(p for p in iso.positions if p.margin == "isolated")
    assert btc.isolated_equity == 1_000 * USD + btc.value and btc.healthy
    assert iso.total_equity == iso.equity + btc.isolated_equity
    assert btc.liquidation_price is not None and btc.liquidation_price > snap.mark_prices["BTC-PERP"]
    multi = margin(load_example_account("multi_collateral"), snap)
    # 0.8 BTC at 95% + 5 ETH at 90% + 2,000 USDC
    btc_value = 80_000_000 * snap.index_prices["BTC"] * 950_000 // (10**8 * PPM)
    eth_value = 5 * 10**9 * snap.index_prices["ETH"] * 900_000 // (10**9 * PPM)
    assert multi.collateral_value == btc_value + eth_value + 2_000 * USD
    options = margin(load_example_account("options_portfolio"), snap)
    (pf,) = options.portfolios
    assert pf.underlying == "BTC" and len(pf.scenario_losses) == snap.grid.scenario_count
    assert (
        options.maintenance_requirement
        == pf.maintenance_requirement
        == max(pf.scan_requirement, pf.short_option_minimum)
    )
    assert options.initial_requirement == -(-pf.maintenance_requirement * 1_300_000 // PPM)
    assert all(p.margin == "portfolio" for p in options.positions)
    call = options.positions[0]
    assert call.greeks.delta_ppm < 0 and call.value <= 0  # short call valued at the upper price bound


def test_standard_mode_keeps_perps_linear_but_options_in_the_grid() -> None:
    snap = load_example_snapshot()
    acct = load_example_account("options_portfolio").model_copy(update={"margin_mode": "standard"})
    r = margin(acct, snap)
    assert [p.margin for p in r.positions] == ["portfolio", "portfolio", "cross"]
    assert r.portfolios[0].markets == ("BTC-27MAR26-70000-C", "BTC-27MAR26-60000-P")


# ---- named errors before arithmetic -------------------------------------------------------------


def test_validation_errors() -> None:
    snap = perp_snapshot()
    with pytest.raises(UnknownMarketError, match="position in ETH-PERP, not a market of snapshot epoch 7"):
        compute_margin(account(Position(market="ETH-PERP", size=1)), snap)
    with pytest.raises(UnknownAssetError, match="collateral DOGE"):
        compute_margin(Account(id="t", collateral={"DOGE": 1}), snap)
    with pytest.raises(StalePriceError, match="61 s before"):
        compute_margin(account(), snap, now=NOW + 61, max_age_s=60)
    validate_account(account(), snap, now=NOW + 60, max_age_s=60)
    example = load_example_snapshot()
    with pytest.raises(UnsupportedPositionError, match="cannot be isolated"):
        validate_account(account(Position(market="BTC-27MAR26-70000-C", size=1, isolated_margin=0)), example)
    with pytest.raises(UnsupportedPositionError, match="funding_index"):
        validate_account(account(Position(market="BTC-27MAR26", size=1, funding_index=5)), example)


# ---- exact reference (fractions) ----------------------------------------------------------------


def exact_linear(risk: RiskParams, size: int, price: int, d: int, oi: int) -> tuple[Fraction, Fraction]:
    """IMR and MMR with exact rationals and no rounding anywhere."""
    scale = 10**d
    n = Fraction(abs(size) * price, scale)
    bracket = None
    if risk.brackets:
        bracket = next((b for b in risk.brackets if b.notional_cap is None or n <= b.notional_cap), risk.brackets[-1])
    base = risk.bracket_imf_ppm(bracket)
    inc = Fraction(0)
    if risk.oi_upper_cap:
        oi_n = min(max(Fraction(oi * price, scale), Fraction(risk.oi_lower_cap)), Fraction(risk.oi_upper_cap))
        inc = (PPM - base) * (oi_n - risk.oi_lower_cap) / (risk.oi_upper_cap - risk.oi_lower_cap)
    imf = min(Fraction(PPM), base + inc + Fraction(risk.size_premium_ppm_per_unit * abs(size), scale))
    if bracket is not None:
        mmr = n * bracket.mmr_ppm / PPM - bracket.cum
    else:
        assert risk.mmf_ppm is not None
        mmf = min(Fraction(PPM), risk.mmf_ppm + Fraction(risk.mm_size_premium_ppm_per_unit * abs(size), scale))
        mmr = n * mmf / PPM
    return n * imf / PPM, mmr


linear_case = st.tuples(risk_params, small_sizes, st.integers(1, 10**12), st.integers(0, 8), st.integers(0, 10**14))


@given(linear_case)
@settings(max_examples=300, deadline=None)
def test_linear_requirements_round_up(case: tuple[RiskParams, int, int, int, int]) -> None:
    risk, size, price, d, oi = case
    req = linear_requirement(risk, size, price, d, oi)
    exact_imr, exact_mmr = exact_linear(risk, size, price, d, oi)
    assert req.initial >= exact_imr and req.maintenance >= exact_mmr
    assert req.initial >= req.maintenance >= 0
    if not risk.brackets:  # not absurdly conservative: ceil(notional), ceil(premium), ceil(product)
        slack = 2 + (Fraction(abs(size) * price, 10**d) + 1) / PPM if risk.mm_size_premium_ppm_per_unit else 2
        assert req.maintenance - exact_mmr < slack


@given(
    risk=risk_params,
    a=st.integers(0, 10**12),
    b=st.integers(0, 10**12),
    p=st.integers(1, 10**12),
    q=st.integers(1, 10**12),
    d=st.integers(0, 8),
    oi=st.integers(0, 10**14),
    short=st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_linear_requirements_are_monotone_in_size_and_price(
    risk: RiskParams, a: int, b: int, p: int, q: int, d: int, oi: int, short: bool
) -> None:
    a, b = sorted((a, b))
    p, q = sorted((p, q))
    sign = -1 if short else 1
    small, large = linear_requirement(risk, sign * a, p, d, oi), linear_requirement(risk, sign * b, p, d, oi)
    assert small.initial <= large.initial and small.maintenance <= large.maintenance
    low, high = linear_requirement(risk, sign * b, p, d, oi), linear_requirement(risk, sign * b, q, d, oi)
    assert low.initial <= high.initial and low.maintenance <= high.maintenance


@given(
    usdc=st.integers(0, 10**12),
    btc=st.integers(0, 10**10),
    weight=st.integers(0, PPM),
    size=small_sizes,
    quote=st.integers(-(10**15), 10**15),
    mark=st.integers(1, 10**12),
    f_now=st.integers(-(10**9), 10**9),
    f_entry=st.integers(-(10**9), 10**9),
    risk=risk_params,
)
@settings(max_examples=200, deadline=None)
def test_equity_rounds_down_and_requirements_up_against_exact_arithmetic(
    usdc: int, btc: int, weight: int, size: int, quote: int, mark: int, f_now: int, f_entry: int, risk: RiskParams
) -> None:
    snap = perp_snapshot(risk, mark=mark, index=mark + 7, funding=f_now, btc_weight_ppm=weight)
    acct = Account(
        id="t",
        collateral={"USDC": usdc, "BTC": btc},
        positions=(Position(market="BTC-PERP", size=size, quote=quote, funding_index=f_entry),),
    )
    r = margin(acct, snap)
    exact_equity = (
        Fraction(usdc)
        + Fraction(btc * (mark + 7) * weight, 10**8 * PPM)
        + quote
        + Fraction(size * (mark - (f_now - f_entry)), 10**8)
    )
    assert r.equity <= exact_equity < r.equity + 3
    exact_imr, exact_mmr = exact_linear(risk, size, mark, 8, 0)
    assert r.initial_requirement >= exact_imr and r.maintenance_requirement >= exact_mmr


# ---- portfolio rounding and monotonicity --------------------------------------------------------

tables = st.integers(1, 6).flatmap(
    lambda n: st.lists(
        st.tuples(st.integers(-(2**40), 2**40), st.integers(0, 3)).map(lambda t: (t[0], t[0] + t[1])),
        min_size=n,
        max_size=n,
    )
)


@given(
    legs=st.lists(st.tuples(small_sizes, st.integers(0, 6), tables), min_size=1, max_size=4),
    data=st.data(),
)
@settings(max_examples=200, deadline=None)
def test_scenario_losses_round_up_for_any_true_change_in_the_bounds(
    legs: list[tuple[int, int, list[tuple[int, int]]]], data: st.DataObject
) -> None:
    count = min(len(t) for _, _, t in legs)
    built = [
        (size, d, ScenarioValues(lower=tuple(lo for lo, _ in t[:count]), upper=tuple(hi for _, hi in t[:count])))
        for size, d, t in legs
    ]
    losses = scenario_losses([option_leg_numerators(size, d, values) for size, d, values in built], count)
    for s in range(count):
        exact = Fraction(0)
        worst = Fraction(0)
        for size, d, values in built:
            # any true per-contract change within [lower, upper], e.g. a random rational in between
            t = data.draw(st.fractions(0, 1))
            true = values.lower[s] + (values.upper[s] - values.lower[s]) * t
            exact += -size * true / 10**d
            worst += Fraction(max(-size, 0) * values.upper[s] - max(size, 0) * values.lower[s], 10**d)
        assert losses[s] >= exact  # conservative for any true change in the bounds
        assert losses[s] - 1 < worst <= losses[s]  # and the legs' worst case, rounded up once


@given(
    size=st.integers(1, 10**9), extra=st.integers(0, 10**9), d=st.integers(0, 4), short=st.booleans(), data=st.data()
)
@settings(max_examples=150, deadline=None)
def test_one_leg_scan_requirement_is_monotone_in_size(
    size: int, extra: int, d: int, short: bool, data: st.DataObject
) -> None:
    lows = data.draw(st.lists(st.integers(-(2**30), 2**30), min_size=3, max_size=8))
    values = ScenarioValues(lower=tuple(lows), upper=tuple(lo + 1 for lo in lows))
    sign = -1 if short else 1

    def scan(q: int) -> int:
        return max(0, *scenario_losses([option_leg_numerators(sign * q, d, values)], len(lows)))

    assert scan(size) <= scan(size + extra)
    spot = data.draw(st.integers(1, 10**12))
    assert short_option_minimum(sign * size, spot, d, 10_000) <= short_option_minimum(
        sign * (size + extra), spot, d, 10_000
    )


@given(
    size=st.integers(-(10**10), 10**10).filter(bool),
    mark=st.integers(10**6, 10**12),
    moves=st.lists(st.integers(-900_000, 900_000), min_size=1, max_size=6, unique=True),
    factor=st.integers(1_000_000, 1_100_000),
)
@settings(max_examples=150, deadline=None)
def test_portfolio_requirement_grows_with_adverse_price_moves(
    size: int, mark: int, moves: list[int], factor: int
) -> None:
    wider = [m * factor // PPM for m in moves]
    assume(len(set(wider)) == len(wider) and all(-PPM < m <= 10 * PPM for m in wider))

    def requirement(price_moves: list[int], extreme: int) -> int:
        grid = ScenarioGrid(**{**GRID.model_dump(), "price_moves_ppm": tuple(price_moves), "extreme_move_ppm": extreme})
        snap = perp_snapshot(mark=mark, grid=grid)
        acct = account(Position(market="BTC-PERP", size=size, quote=0), margin_mode="portfolio")
        return margin(acct, snap).maintenance_requirement

    base = requirement(moves, 300_000)
    assert requirement(wider, 300_000) >= base  # every move at least as large
    assert requirement(wider, 330_000) >= base  # and a larger extreme move
    assert requirement([*moves, 999_999 if size < 0 else -999_999], 300_000) >= base  # one more scenario


def test_linear_legs_lose_the_exact_change() -> None:
    size, mark, d = -123_456_789, 65_000_000_001, 8
    numerators = linear_leg_numerators(size, d, mark, GRID)
    for sc, n in zip(GRID.scenarios(), numerators, strict=True):
        assert Fraction(n, SCENARIO_DENOMINATOR) == Fraction(
            -size * mark * sc.price_move_ppm * sc.fraction_ppm, PPM * PPM * 10**d
        )
    losses = scenario_losses([numerators], GRID.scenario_count)
    assert losses == [-((-n) // SCENARIO_DENOMINATOR) for n in numerators]


def test_linear_scenario_values_bracket_the_exact_change() -> None:
    values = linear_scenario_values(65_000_000_001, GRID)
    for sc, lo, hi in zip(GRID.scenarios(), values.lower, values.upper, strict=True):
        exact = Fraction(65_000_000_001 * sc.price_move_ppm * sc.fraction_ppm, PPM * PPM)
        assert lo <= exact <= hi and hi - lo <= 1
    assert leg_loss(-3, 0, -10, 7) == 21 and leg_loss(3, 0, -10, 7) == 30


# ---- the healthy boundary and liquidation prices ---------------------------------------------------


@given(
    risk=risk_params,
    size=st.integers(-(10**10), 10**10).filter(bool),
    mark=st.integers(10**6, 10**12),
    quote=st.integers(-(10**14), 10**14),
    isolated=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_healthy_exactly_at_the_boundary(risk: RiskParams, size: int, mark: int, quote: int, isolated: bool) -> None:
    snap = perp_snapshot(risk, mark=mark)
    if isolated:
        probe = margin(account(Position(market="BTC-PERP", size=size, quote=quote, isolated_margin=0)), snap)
        pos = probe.positions[0]
        assert pos.maintenance_requirement is not None
        iso = pos.maintenance_requirement - pos.value
        assume(iso >= 1)
        at = margin(account(Position(market="BTC-PERP", size=size, quote=quote, isolated_margin=iso)), snap)
        assert at.positions[0].isolated_equity == at.positions[0].maintenance_requirement
        assert at.healthy and at.positions[0].healthy
        below = margin(account(Position(market="BTC-PERP", size=size, quote=quote, isolated_margin=iso - 1)), snap)
        assert below.liquidatable and below.positions[0].healthy is False
        return
    position = Position(market="BTC-PERP", size=size, quote=quote)
    probe = margin(account(position), snap)
    balance = probe.maintenance_requirement - probe.equity
    at = margin(account(position, quote_balance=balance), snap)
    assert at.equity == at.maintenance_requirement and at.healthy and not at.liquidatable
    below = margin(account(position, quote_balance=balance - 1), snap)
    assert below.equity == below.maintenance_requirement - 1 and below.liquidatable and not below.healthy


@given(
    risk=risk_params,
    size=st.integers(-(10**10), 10**10).filter(bool),
    mark=st.integers(10**6, 10**12),
    usdc=st.integers(0, 10**13),
    quote=st.integers(-(10**14), 10**14),
    isolated=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_liquidation_price_is_the_conservative_side_of_the_boundary(
    risk: RiskParams, size: int, mark: int, usdc: int, quote: int, isolated: bool
) -> None:
    snap = perp_snapshot(risk, mark=mark)
    iso = usdc if isolated else None
    acct = account(
        Position(market="BTC-PERP", size=size, quote=quote, isolated_margin=iso), usdc=0 if isolated else usdc
    )
    liq = margin(acct, snap).positions[0].liquidation_price
    assume(liq is not None)
    assert liq is not None

    def healthy(price: int) -> bool:
        moved = snap.model_copy(update={"mark_prices": {"BTC-PERP": price}})
        return margin(acct, moved).healthy

    step = -1 if size > 0 else 1  # the unhealthy side
    assert healthy(liq)
    assert not healthy(liq + step)


@given(size=st.integers(-(10**6), 10**6), quote=st.integers(-(10**12), 10**12), t=st.fractions(0, 1))
@settings(max_examples=100, deadline=None)
def test_option_value_rounds_down_for_any_true_price_in_the_bounds(size: int, quote: int, t: Fraction) -> None:
    snap = load_example_snapshot()
    market = "BTC-27MAR26-70000-C"
    bounds = snap.option_price_bounds[market]
    true_price = bounds.lower + (bounds.upper - bounds.lower) * t
    r = margin(account(Position(market=market, size=size, quote=quote)), snap)
    assert r.positions[0].value <= quote + size * true_price / 10


def test_exposure_beyond_the_provable_bounds_is_refused() -> None:
    """A notional of 2**96 micro-quote or more is refused by name (the circuit's widths
    are sized from this bound); just below it is margined."""
    snap = perp_snapshot(size_decimals=0, mark=2**40)
    just_below = (2**96 - 1) // 2**40  # whole contracts, d = 0
    margin(account(Position(market="BTC-PERP", size=just_below, quote=-just_below * 2**40), usdc=0), snap)
    with pytest.raises(ExposureTooLargeError, match="notional"):
        margin(account(Position(market="BTC-PERP", size=just_below + 1, quote=0)), snap)
    with pytest.raises(ExposureTooLargeError):
        margin(account(Position(market="BTC-PERP", size=-(just_below + 1), quote=0)), snap)


def test_an_option_s_notional_bound_is_on_its_short_side() -> None:
    """The circuit bounds an option's notional in the short option minimum only: a short
    option of notional 2**96 or more is refused, a long one is margined (its value and
    scenario losses have their own bounds)."""
    snap = load_example_snapshot()
    market = "BTC-27MAR26-70000-C"
    spot = snap.index_prices["BTC"]
    d = next(m for m in snap.markets if m.id == market).size_decimals
    size = ((2**96 - 1) * 10**d) // spot + 1  # notional just above 2**96 - 1
    with pytest.raises(ExposureTooLargeError, match="notional"):
        margin(account(Position(market=market, size=-size, quote=0)), snap)
    report = margin(account(Position(market=market, size=size, quote=0), usdc=0), snap)
    assert report.positions[0].value > 0 and report.healthy
