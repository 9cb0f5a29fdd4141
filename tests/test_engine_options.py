"""Public-data option pricing: textbook values, Black-Scholes identities, conservative
integer bounds checked against a 60-digit `decimal` oracle, scenario tables, edges."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Literal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from engine._options import (
    DAYS_PER_YEAR,
    PPM,
    SECONDS_PER_DAY,
    SECONDS_PER_YEAR,
    Greeks,
    black_scholes,
    bs_delta,
    bs_gamma,
    bs_theta,
    bs_vega,
    greeks,
    norm_cdf,
    option_price,
    option_price_bounds,
    scenario_count,
    scenario_value_changes,
    scenario_value_changes_bounds,
    scenarios,
    year_fraction,
)

USDC = 10**6  # micro-quote per whole quote unit
DAY = SECONDS_PER_DAY


class OptionMarket(BaseModel):
    """Stand-in for engine's pydantic OptionMarket: the pricing protocol's fields."""

    model_config = ConfigDict(frozen=True)

    option_type: Literal["call", "put"]
    strike: int
    expiry: int


@dataclass(frozen=True)
class Grid:
    price_moves_ppm: list[int] = field(default_factory=lambda: [-150_000, -75_000, 0, 75_000, 150_000])
    vol_moves_ppm: list[int] = field(default_factory=lambda: [-250_000, 0, 250_000])
    extreme_move_ppm: int = 330_000
    extreme_fraction_ppm: int = 330_000


def call(strike: int, expiry: int) -> OptionMarket:
    return OptionMarket(option_type="call", strike=strike, expiry=expiry)


def put(strike: int, expiry: int) -> OptionMarket:
    return OptionMarket(option_type="put", strike=strike, expiry=expiry)


BTC = 100_000 * USDC
VOL = 550_000
NOW = 1_700_000_000
MONTH = NOW + 30 * DAY


# ---- a 60-digit oracle (decimal, exact rational inputs) -----------------------------

_PREC = 60


def _dec_pi() -> Decimal:
    """pi by Machin's formula, 16 atan(1/5) - 4 atan(1/239), at the context precision."""

    def atan_inv(n: int) -> Decimal:
        total, power, k = Decimal(0), Decimal(n), 0
        eps = Decimal(10) ** -(_PREC + 10)
        while True:
            term = 1 / ((2 * k + 1) * power)
            if term < eps:
                return total
            total += -term if k % 2 else term
            power *= n * n
            k += 1

    return 16 * atan_inv(5) - 4 * atan_inv(239)


def _dec_norm_cdf(x: Decimal, sqrt_2pi: Decimal) -> Decimal:
    """N(x) = 1/2 + phi(x) sum_n x^(2n+1) / (1*3*...*(2n+1)) (Marsaglia). The absolute
    error is ~10^-prec for any x (the big partial sums are multiplied by the tiny phi);
    beyond |x| = 40, N is within 1e-349 of 0 or 1."""
    if x > 40:
        return Decimal(1)
    if x < -40:
        return Decimal(0)
    if x == 0:
        return Decimal(1) / 2
    x2 = x * x
    term = total = x
    eps = Decimal(10) ** -(_PREC + 10)
    n = 0
    while True:
        n += 1
        term = term * x2 / (2 * n + 1)
        total += term
        if n > x2 and abs(term) <= eps * abs(total):
            break
    return Decimal(1) / 2 + (-x2 / 2).exp() / sqrt_2pi * total


def oracle_price(kind: str, S: Decimal, K: int, t_seconds: int, sigma: Decimal, rate_ppm: int) -> Decimal:
    """Black-Scholes at 60 significant digits, for T > 0, sigma > 0, S > 0, K > 0."""
    with localcontext() as ctx:
        ctx.prec = _PREC
        sqrt_2pi = (2 * _dec_pi()).sqrt()
        T = Decimal(t_seconds) / SECONDS_PER_YEAR
        r = Decimal(rate_ppm) / PPM
        Kd = Decimal(K)
        v = sigma * T.sqrt()
        d1 = ((S / Kd).ln() + r * T) / v + v / 2
        d2 = d1 - v
        dk = Kd * (-r * T).exp()
        if kind == "call":
            return S * _dec_norm_cdf(d1, sqrt_2pi) - dk * _dec_norm_cdf(d2, sqrt_2pi)
        return dk * _dec_norm_cdf(-d2, sqrt_2pi) - S * _dec_norm_cdf(-d1, sqrt_2pi)


#: The oracle's own absolute error is ~1e-60 of the notional; a true price of 0 may come out as -4e-59.
_ORACLE_SLACK = Decimal("1e-30")


def assert_inside(lower: int, true: Decimal, upper: int, *context: object) -> None:
    """lower <= true <= upper, up to the oracle's own rounding."""
    assert lower - _ORACLE_SLACK <= true <= upper + _ORACLE_SLACK, (lower, true, upper, *context)


def test_oracle_matches_textbook_and_float():
    hull_call = oracle_price("call", Decimal(42), 40, SECONDS_PER_YEAR // 2, Decimal("0.2"), 100_000)
    assert abs(hull_call - Decimal("4.759422392871532")) < Decimal("1e-12")
    assert float(oracle_price("put", Decimal(100), 100, SECONDS_PER_YEAR, Decimal("0.3"), 0)) == pytest.approx(
        black_scholes("put", 100.0, 100.0, 1.0, 0.3), rel=1e-14
    )


# ---- strategies -----------------------------------------------------------------


def log_int(lo_exp: float, hi_exp: float) -> st.SearchStrategy[int]:
    """Integers spread evenly over orders of magnitude, at least 1."""
    return st.floats(min_value=lo_exp, max_value=hi_exp).map(lambda e: max(1, round(10**e)))


kinds = st.sampled_from(["call", "put"])
prices = log_int(0, 14)  # 1 micro-quote .. 1e8 USDC
moneyness = st.floats(min_value=-2.5, max_value=2.5)  # log10(K / S)
vols = log_int(0, 6.7)  # 1e-6 .. 500 (50,000 vol points)
expiries = log_int(0, 8.3)  # 1 s .. 6 years
rates = st.integers(min_value=-100_000, max_value=200_000)


def strike_for(price: int, m: float) -> int:
    return max(1, round(price * 10**m))


# ---- float Black-Scholes ------------------------------------------------------------


def test_hull_textbook_example():
    # Hull, Options, Futures and Other Derivatives, example 15.6: S=42, K=40, r=10%, sigma=20%, T=0.5.
    assert black_scholes("call", 42.0, 40.0, 0.5, 0.2, 0.1) == pytest.approx(4.76, abs=1e-2)
    assert black_scholes("put", 42.0, 40.0, 0.5, 0.2, 0.1) == pytest.approx(0.81, abs=1e-2)


def test_norm_cdf_known_values_and_tails():
    assert norm_cdf(0.0) == 0.5
    assert norm_cdf(1.959963984540054) == pytest.approx(0.975, rel=1e-12)
    assert 0.0 <= norm_cdf(-40.0) < 1e-300
    assert 0.0 < norm_cdf(-37.0) < 1e-290  # erfc keeps the lower tail (1 + erf would give 0)
    assert norm_cdf(math.inf) == 1.0 and norm_cdf(-math.inf) == 0.0


@settings(max_examples=300)
@given(
    S=st.floats(min_value=1e-3, max_value=1e12),
    m=moneyness,
    T=st.floats(min_value=0.0, max_value=10.0),
    sigma=st.floats(min_value=0.0, max_value=20.0),
    r=st.floats(min_value=-0.1, max_value=0.3),
)
def test_put_call_parity(S, m, T, sigma, r):
    K = S * 10**m
    c = black_scholes("call", S, K, T, sigma, r)
    p = black_scholes("put", S, K, T, sigma, r)
    assert c - p == pytest.approx(S - K * math.exp(-r * T), abs=1e-9 * (S + K))


@settings(max_examples=200)
@given(
    S=st.floats(min_value=1e-3, max_value=1e12),
    m=moneyness,
    T=st.floats(min_value=0.0, max_value=10.0),
    sigma=st.floats(min_value=0.0, max_value=20.0),
    r=st.floats(min_value=-0.1, max_value=0.3),
)
def test_greek_identities(S, m, T, sigma, r):
    K = S * 10**m
    assert bs_delta("call", S, K, T, sigma, r) - bs_delta("put", S, K, T, sigma, r) == pytest.approx(1.0, abs=1e-12)
    assert 0.0 <= bs_delta("call", S, K, T, sigma, r) <= 1.0
    assert bs_gamma("call", S, K, T, sigma, r) == bs_gamma("put", S, K, T, sigma, r) >= 0.0
    assert bs_vega("call", S, K, T, sigma, r) == bs_vega("put", S, K, T, sigma, r) >= 0.0


@pytest.mark.parametrize("kind", ["call", "put"])
@pytest.mark.parametrize(
    ("S", "K", "T", "sigma", "r"),
    [(100.0, 100.0, 0.25, 0.5, 0.0), (42.0, 40.0, 0.5, 0.2, 0.1), (3000.0, 3500.0, 0.1, 0.8, 0.03)],
)
def test_greeks_match_finite_differences(kind, S, K, T, sigma, r):
    def v(**kw: float) -> float:
        args = {"S": S, "K": K, "T_years": T, "sigma": sigma, "r": r} | kw
        return black_scholes(kind, **args)

    h = S * 1e-4
    assert bs_delta(kind, S, K, T, sigma, r) == pytest.approx((v(S=S + h) - v(S=S - h)) / (2 * h), rel=1e-6)
    assert bs_gamma(kind, S, K, T, sigma, r) == pytest.approx((v(S=S + h) - 2 * v() + v(S=S - h)) / (h * h), rel=1e-4)
    dv = 1e-5
    assert bs_vega(kind, S, K, T, sigma, r) == pytest.approx(
        (v(sigma=sigma + dv) - v(sigma=sigma - dv)) / (2 * dv), rel=1e-6
    )
    dt = 1e-6
    # theta is dV/dt with calendar time passing: -dV/dT
    assert bs_theta(kind, S, K, T, sigma, r) == pytest.approx(
        -(v(T_years=T + dt) - v(T_years=T - dt)) / (2 * dt), rel=1e-5
    )


@settings(max_examples=200)
@given(
    S=st.floats(min_value=1.0, max_value=1e9),
    m=moneyness,
    T=st.floats(min_value=1e-6, max_value=5.0),
    sigma=st.floats(min_value=1e-3, max_value=5.0),
    up=st.floats(min_value=1.0001, max_value=2.0),
)
def test_monotonicity(S, m, T, sigma, up):
    K = S * 10**m

    def tol(x: float) -> float:
        return 1e-12 * (S + K) + 1e-12 * abs(x)

    c0 = black_scholes("call", S, K, T, sigma)
    assert black_scholes("call", S * up, K, T, sigma) >= c0 - tol(c0)
    assert black_scholes("call", S, K, T, sigma * up) >= c0 - tol(c0)
    p0 = black_scholes("put", S, K, T, sigma)
    assert black_scholes("put", S * up, K, T, sigma) <= p0 + tol(p0)
    assert black_scholes("put", S, K, T, sigma * up) >= p0 - tol(p0)


@settings(max_examples=300)
@given(
    kind=kinds,
    S=st.floats(min_value=0.0, max_value=1e300),
    K=st.floats(min_value=0.0, max_value=1e300),
    T=st.floats(min_value=-10.0, max_value=1e6),
    sigma=st.floats(min_value=0.0, max_value=1e6),
    r=st.floats(min_value=-0.1, max_value=0.1),
)
def test_floats_never_nan_or_negative_price(kind, S, K, T, sigma, r):
    try:
        price = black_scholes(kind, S, K, T, sigma, r)
    except ValueError as exc:  # only when K e^{-rT} leaves the float range
        assert "overflows" in str(exc) and math.log(K) - r * T > 709
        return
    assert math.isfinite(price) and price >= 0.0
    for greek in (bs_delta, bs_gamma, bs_vega, bs_theta):
        assert not math.isnan(greek(kind, S, K, T, sigma, r))


def test_expiry_and_zero_vol_limits():
    for T in (0.0, -1.0):
        assert black_scholes("call", 110.0, 100.0, T, 0.5) == 10.0
        assert black_scholes("put", 110.0, 100.0, T, 0.5) == 0.0
        assert black_scholes("put", 90.0, 100.0, T, 0.5, r=0.05) == 10.0  # no discounting at expiry
        assert bs_delta("call", 110.0, 100.0, T, 0.5) == 1.0
        assert bs_delta("call", 90.0, 100.0, T, 0.5) == 0.0
        assert bs_delta("call", 100.0, 100.0, T, 0.5) == 0.5
        assert bs_delta("put", 90.0, 100.0, T, 0.5) == -1.0
        assert bs_delta("put", 110.0, 100.0, T, 0.5) == 0.0
        for greek in (bs_gamma, bs_vega, bs_theta):
            assert greek("call", 100.0, 100.0, T, 0.5) == 0.0
    # zero vol: the discounted forward's intrinsic value
    assert black_scholes("call", 110.0, 100.0, 1.0, 0.0, r=0.05) == pytest.approx(110.0 - 100.0 * math.exp(-0.05))
    assert black_scholes("put", 110.0, 100.0, 1.0, 0.0) == 0.0
    assert bs_vega("call", 100.0, 100.0, 1.0, 0.0) == pytest.approx(100.0 / math.sqrt(2 * math.pi))  # ATM limit
    # S = 0 and K = 0
    assert black_scholes("call", 0.0, 100.0, 1.0, 0.5) == 0.0
    assert black_scholes("put", 0.0, 100.0, 1.0, 0.5, r=0.05) == pytest.approx(100.0 * math.exp(-0.05))
    assert black_scholes("call", 100.0, 0.0, 1.0, 0.5) == 100.0
    assert bs_gamma("call", 0.0, 100.0, 1.0, 0.5) == 0.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("straddle", 1.0, 1.0, 1.0, 0.5), "option_type"),
        (("call", -1.0, 1.0, 1.0, 0.5), "S must be >= 0"),
        (("call", 1.0, -1.0, 1.0, 0.5), "K must be >= 0"),
        (("call", 1.0, 1.0, 1.0, -0.5), "sigma must be >= 0"),
        (("call", math.nan, 1.0, 1.0, 0.5), "S must be finite"),
        (("call", 1.0, 1.0, math.inf, 0.5), "T_years must be finite"),
    ],
)
def test_float_input_errors(args, message):
    with pytest.raises(ValueError, match=message):
        black_scholes(*args)


# ---- integer prices and bounds ---------------------------------------------------------


@settings(max_examples=600, deadline=None)
@given(kind=kinds, S=prices, m=moneyness, vol=vols, t=expiries, rate=rates)
def test_bounds_contain_the_true_price(kind, S, m, vol, t, rate):
    K = strike_for(S, m)
    option = OptionMarket(option_type=kind, strike=K, expiry=NOW + t)
    lower, upper = option_price_bounds(option, S, vol, NOW, rate)
    price = option_price(option, S, vol, NOW, rate)
    true = oracle_price(kind, Decimal(S), K, t, Decimal(vol) / PPM, rate)
    assert_inside(lower, true, upper)
    assert lower <= price <= upper
    assert 0 <= lower
    # the interval is the documented error margin (1 + 1e-9 gross notional each side) or tighter
    assert upper - lower <= 4 + math.ceil(2.01e-9 * (S + K * max(1.0, math.exp(-rate / PPM * t / SECONDS_PER_YEAR))))
    # the floor price is the float price rounded down, unless an exact bound lifts it
    p = black_scholes(kind, float(S), float(K), t / SECONDS_PER_YEAR, vol / PPM, rate / PPM)
    assert price <= max(p, lower)
    assert price == min(max(math.floor(p), lower), upper)


def test_at_the_money_btc_month():
    option = call(BTC, MONTH)
    price = option_price(option, BTC, VOL, NOW)
    # ATM approximation 0.4 S sigma sqrt(T)
    assert price == pytest.approx(0.3989 * BTC * 0.55 * math.sqrt(30 / 365), rel=1e-2)
    assert option_price(put(BTC, MONTH), BTC, VOL, NOW) == price  # r = 0 ATM: C = P
    lower, upper = option_price_bounds(option, BTC, VOL, NOW)
    assert lower <= price <= upper and upper - lower <= 2 + 2 * (1 + 2 * BTC // 10**9)


@settings(max_examples=100, deadline=None)
@given(kind=kinds, S=log_int(3, 13), m=moneyness, vol=log_int(3, 6.5), t=log_int(2, 8))
def test_integer_prices_are_monotone_in_price_and_vol(kind, S, m, vol, t):
    option = OptionMarket(option_type=kind, strike=strike_for(S, m), expiry=NOW + t)
    up = S + S // 10 + 1
    base = option_price(option, S, vol, NOW)
    # one micro-quote of slack: two floors of floats that are equal up to float error
    if kind == "call":
        assert option_price(option, up, vol, NOW) >= base - 1
    else:
        assert option_price(option, up, vol, NOW) <= base + 1
    assert option_price(option, S, vol * 2, NOW) >= base - 1


@pytest.mark.parametrize("now", [MONTH, MONTH + 1, MONTH + 10 * DAY])
def test_expired_options_are_exact_intrinsic(now):
    K = 95_000 * USDC
    for S in (BTC, K, 90_000 * USDC + 7):
        assert option_price_bounds(call(K, MONTH), S, VOL, now) == (max(S - K, 0), max(S - K, 0))
        assert option_price_bounds(put(K, MONTH), S, VOL, now) == (max(K - S, 0), max(K - S, 0))
        assert option_price(put(K, MONTH), S, VOL, now, rate_ppm=50_000) == max(K - S, 0)


def test_zero_vol_at_zero_rate_is_exact_intrinsic():
    K = 95_000 * USDC
    assert option_price_bounds(call(K, MONTH), BTC, 0, NOW) == (BTC - K, BTC - K)
    assert option_price_bounds(put(K, MONTH), BTC, 0, NOW) == (0, 0)


def test_tiny_vol_is_intrinsic_without_nan():
    K = 95_000 * USDC
    assert option_price(call(K, MONTH), BTC, 1, NOW) == BTC - K
    assert option_price(put(K, MONTH), BTC, 1, NOW) == 0
    lower, upper = option_price_bounds(call(BTC, MONTH), BTC, 1, NOW)  # ATM, sigma = 1e-6: ~0.4 S sigma sqrt T
    assert_inside(lower, oracle_price("call", Decimal(BTC), BTC, MONTH - NOW, Decimal("1e-6"), 0), upper)
    assert 0 < lower and upper - lower <= 2 * (1 + 2 * BTC // 10**9) + 2
    g = greeks(call(BTC, MONTH), BTC, 1, NOW)
    assert 0 < g.gamma_ppm_per_pct and abs(g.delta_ppm - PPM // 2) < 10


def test_deep_out_of_the_money_prices_zero():
    option = call(10 * BTC, MONTH)
    assert option_price(option, BTC, VOL, NOW) == 0
    lower, upper = option_price_bounds(option, BTC, VOL, NOW)
    assert lower == 0 and 0 <= upper <= 2 + (11 * BTC) // 10**9
    assert option_price(put(BTC // 10, MONTH), BTC, VOL, NOW) == 0


def test_deep_in_the_money_keeps_the_exact_intrinsic_floor():
    K = BTC // 10
    assert option_price_bounds(call(K, MONTH), BTC, VOL, NOW)[0] == BTC - K
    assert option_price_bounds(put(10 * BTC, MONTH), BTC, VOL, NOW)[0] == 9 * BTC


def test_huge_underlying_price():
    S = 10**18  # 1e12 whole quote units
    for kind in ("call", "put"):
        option = OptionMarket(option_type=kind, strike=S, expiry=MONTH)
        lower, upper = option_price_bounds(option, S, VOL, NOW)
        true = oracle_price(kind, Decimal(S), S, MONTH - NOW, Decimal(VOL) / PPM, 0)
        assert_inside(lower, true, upper)
        assert (upper - lower) / S < 1e-8
        assert isinstance(greeks(option, S, VOL, NOW).gamma_ppm_per_pct, int)


def test_zero_underlying_price():
    assert option_price(call(BTC, MONTH), 0, VOL, NOW) == 0
    assert option_price_bounds(put(BTC, MONTH), 0, VOL, NOW) == (BTC, BTC)


def test_integer_api_rejects_floats_and_bad_values():
    with pytest.raises(TypeError, match="underlying_price must be an int"):
        option_price(call(BTC, MONTH), float(BTC), VOL, NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="vol_ppm must be >= 0, got -1"):
        option_price(call(BTC, MONTH), BTC, -1, NOW)
    with pytest.raises(ValueError, match="underlying_price must be >= 0"):
        option_price(call(BTC, MONTH), -5, VOL, NOW)
    with pytest.raises(ValueError, match="rate_ppm must be <= 1000000, got 2000000"):
        option_price(call(BTC, MONTH), BTC, VOL, NOW, rate_ppm=2 * PPM)

    @dataclass
    class Odd:
        option_type: str = "binary"
        strike: int = BTC
        expiry: int = MONTH

    with pytest.raises(ValueError, match="'binary'"):
        option_price(Odd(), BTC, VOL, NOW)


def test_works_with_any_object_with_the_attributes():
    @dataclass
    class Plain:
        option_type: str
        strike: int
        expiry: int

    assert option_price(Plain("call", BTC, MONTH), BTC, VOL, NOW) == option_price(call(BTC, MONTH), BTC, VOL, NOW)


# ---- Greeks ----------------------------------------------------------------------


def test_integer_greeks_units():
    option = call(BTC, MONTH)
    g = greeks(option, BTC, VOL, NOW)
    args = ("call", float(BTC), float(BTC), 30 / 365, 0.55, 0.0)
    assert g.delta_ppm == round(bs_delta(*args) * PPM)
    assert 500_000 < g.delta_ppm < 600_000
    assert g.gamma_ppm_per_pct == round(bs_gamma(*args) * BTC * 1e4)
    # vega: micro-quote per vol point; repricing at +1 vol point agrees to first order
    bumped = option_price(option, BTC, VOL + 10_000, NOW) - option_price(option, BTC, VOL, NOW)
    assert g.vega_per_vol_point == pytest.approx(bumped, rel=1e-3)
    # theta: micro-quote per calendar day
    decayed = option_price(option, BTC, VOL, NOW + DAY) - option_price(option, BTC, VOL, NOW)
    assert g.theta_per_day == pytest.approx(decayed, rel=2e-2)
    assert g.theta_per_day < 0
    # gamma: delta change (ppm) for a +1% move, to first order
    up = greeks(option, BTC + BTC // 1000, VOL, NOW).delta_ppm - greeks(option, BTC - BTC // 1000, VOL, NOW).delta_ppm
    assert g.gamma_ppm_per_pct == pytest.approx(up * 5, rel=1e-3)
    put_g = greeks(put(BTC, MONTH), BTC, VOL, NOW)
    assert g.delta_ppm - put_g.delta_ppm == PPM
    assert (put_g.gamma_ppm_per_pct, put_g.vega_per_vol_point) == (g.gamma_ppm_per_pct, g.vega_per_vol_point)


def test_greeks_at_expiry():
    K = 95_000 * USDC
    assert greeks(call(K, MONTH), BTC, VOL, MONTH) == Greeks(
        delta_ppm=PPM, gamma_ppm_per_pct=0, vega_per_vol_point=0, theta_per_day=0
    )
    assert greeks(put(K, MONTH), BTC, VOL, MONTH + DAY).delta_ppm == 0
    assert greeks(call(BTC, MONTH), BTC, VOL, MONTH).delta_ppm == PPM // 2


def test_greeks_model_is_frozen_and_round_trips():
    g = greeks(put(BTC, MONTH), BTC, VOL, NOW)
    assert Greeks.model_validate_json(g.model_dump_json()) == g
    with pytest.raises(ValidationError):
        g.delta_ppm = 0  # type: ignore[misc]
    assert all(isinstance(v, int) for v in g.model_dump().values())


# ---- scenario tables -----------------------------------------------------------------


def test_scenario_order_and_count():
    grid = Grid()
    table = scenarios(grid)
    assert len(table) == scenario_count(grid) == 5 * 3 + 2
    assert [(s.price_move_ppm, s.vol_move_ppm) for s in table[:4]] == [
        (-150_000, -250_000),
        (-150_000, 0),
        (-150_000, 250_000),
        (-75_000, -250_000),
    ]
    assert table[-2] == (-330_000, 0, 330_000, True)
    assert table[-1] == (330_000, 0, 330_000, True)
    assert not any(s.extreme for s in table[:-2])
    assert all(s.fraction_ppm == PPM for s in table[:-2])
    assert scenario_count(Grid(price_moves_ppm=[], vol_moves_ppm=[0])) == 2


@pytest.mark.parametrize("option", [call(BTC, MONTH), put(BTC, MONTH), call(120_000 * USDC, MONTH)])
def test_scenario_table_shape_and_signs(option):
    grid = Grid()
    lower, upper = scenario_value_changes_bounds(option, BTC, VOL, NOW, grid)
    assert len(lower) == len(upper) == scenario_count(grid)
    assert scenario_value_changes(option, BTC, VOL, NOW, grid) == lower
    assert all(lo <= hi for lo, hi in zip(lower, upper))
    assert max(hi - lo for lo, hi in zip(lower, upper)) <= 4 * (2 + 2 * (2 * BTC) // 10**9)
    zero = scenarios(grid).index((0, 0, PPM, False))
    assert lower[zero] <= 0 <= upper[zero]
    # the value change is increasing (call) / decreasing (put) in the price move, per vol move
    n_vol = len(grid.vol_moves_ppm)
    for v in range(n_vol):
        column = lower[v:15:n_vol]
        assert column == sorted(column, reverse=option.option_type == "put")
    # and increasing in the vol shift (long vega), per price move
    for p in range(len(grid.price_moves_ppm)):
        row = lower[p * n_vol : (p + 1) * n_vol]
        assert row == sorted(row)


def test_extreme_scenarios_are_scaled_by_the_fraction():
    option = put(BTC, MONTH)
    full = scenario_value_changes_bounds(option, BTC, VOL, NOW, Grid(extreme_fraction_ppm=PPM))
    counted = scenario_value_changes_bounds(option, BTC, VOL, NOW, Grid(extreme_fraction_ppm=330_000))
    for side in range(2):
        assert full[side][:-2] == counted[side][:-2]
    for i in (-2, -1):
        assert counted[0][i] == full[0][i] * 330_000 // PPM  # floor
        assert counted[1][i] == -(-full[1][i] * 330_000 // PPM)  # ceil
    assert counted[0][-2] == pytest.approx(0.33 * full[0][-2], abs=2)
    assert counted[0][-1] < 0 < counted[0][-2]  # a long put gains on the crash
    zeroed = scenario_value_changes_bounds(option, BTC, VOL, NOW, Grid(extreme_fraction_ppm=0))
    assert [zeroed[0][-2:], zeroed[1][-2:]] == [[0, 0], [0, 0]]


@pytest.mark.parametrize("now", [MONTH, MONTH + DAY])
def test_expired_scenarios_are_exact_intrinsic_changes(now):
    K = 95_000 * USDC
    grid = Grid()
    for option, payoff in ((call(K, MONTH), lambda s: max(s - K, 0)), (put(K, MONTH), lambda s: max(K - s, 0))):
        lower, upper = scenario_value_changes_bounds(option, BTC, VOL, now, grid)
        for s, lo, hi in zip(scenarios(grid), lower, upper):
            change = payoff(BTC * (PPM + s.price_move_ppm) // PPM) - payoff(BTC)  # BTC * move is exact
            assert lo == change * s.fraction_ppm // PPM
            assert hi == -(-change * s.fraction_ppm // PPM)


def test_horizon_adds_time_decay():
    option = call(BTC, MONTH)
    grid = Grid()
    zero = scenarios(grid).index((0, 0, PPM, False))
    lower, upper = scenario_value_changes_bounds(option, BTC, VOL, NOW, grid, horizon_s=DAY)
    theta = greeks(option, BTC, VOL, NOW).theta_per_day
    assert upper[zero] < 0
    assert lower[zero] == pytest.approx(theta, rel=2e-2)
    # a horizon past expiry prices the scenarios at intrinsic value
    past = scenario_value_changes_bounds(option, BTC, VOL, NOW, grid, horizon_s=60 * DAY)
    assert past[0][zero] == -option_price_bounds(option, BTC, VOL, NOW)[1]


@settings(max_examples=200, deadline=None)
@given(
    kind=kinds,
    S=log_int(2, 13),
    m=st.floats(min_value=-1.0, max_value=1.0),
    vol=log_int(3, 6.5),
    t=log_int(1, 8),
    rate=rates,
    price_moves=st.lists(st.integers(min_value=-PPM, max_value=2 * PPM), min_size=1, max_size=3),
    vol_moves=st.lists(st.integers(min_value=-PPM + 1, max_value=2 * PPM), min_size=1, max_size=2),
    extreme=st.integers(min_value=0, max_value=PPM - 1),
    fraction=st.integers(min_value=0, max_value=PPM),
    horizon=st.integers(min_value=0, max_value=DAY),
)
def test_scenario_bounds_contain_the_true_changes(
    kind, S, m, vol, t, rate, price_moves, vol_moves, extreme, fraction, horizon
):
    assume(horizon < t)
    K = strike_for(S, m)
    option = OptionMarket(option_type=kind, strike=K, expiry=NOW + t)
    grid = Grid(price_moves, vol_moves, extreme, fraction)
    lower, upper = scenario_value_changes_bounds(option, S, vol, NOW, grid, rate, horizon)
    base = oracle_price(kind, Decimal(S), K, t, Decimal(vol) / PPM, rate)
    for s, lo, hi in zip(scenarios(grid), lower, upper):
        if s.price_move_ppm == -PPM:
            continue  # S' = 0: priced exactly by the limit (call 0, put K e^{-rT}); the oracle needs S > 0
        with localcontext() as ctx:
            ctx.prec = _PREC
            S_s = Decimal(S) * (PPM + s.price_move_ppm) / PPM
            vol_s = Decimal(vol) * (PPM + s.vol_move_ppm) / PPM / PPM
        true = (oracle_price(kind, S_s, K, t - horizon, vol_s, rate) - base) * s.fraction_ppm / PPM
        assert_inside(lo, true, hi, s)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        (Grid(price_moves_ppm=[-PPM - 1]), "price move must be >= -1000000, got -1000001"),
        (Grid(vol_moves_ppm=[-2 * PPM]), "vol move must be >= -1000000, got -2000000"),
        (Grid(extreme_move_ppm=PPM + 1), "extreme_move_ppm must be <= 1000000, got 1000001"),
        (Grid(extreme_fraction_ppm=-1), "extreme_fraction_ppm must be >= 0, got -1"),
    ],
)
def test_bad_grids_are_rejected(grid, message):
    with pytest.raises(ValueError, match=message):
        scenario_value_changes_bounds(call(BTC, MONTH), BTC, VOL, NOW, grid)


def test_vol_collapse_scenario_is_the_zero_vol_limit():
    # vol move -100%: sigma' = 0, the option is worth its (forward) intrinsic value
    option = call(BTC, MONTH)
    grid = Grid(price_moves_ppm=[100_000], vol_moves_ppm=[-PPM])
    lower, upper = scenario_value_changes_bounds(option, BTC, VOL, NOW, grid)
    lo0, hi0 = option_price_bounds(option, BTC, VOL, NOW)
    assert (lower[0], upper[0]) == (BTC // 10 - hi0, BTC // 10 - lo0)


def test_units_constants():
    assert SECONDS_PER_YEAR == 365 * 86_400 and DAYS_PER_YEAR == 365
    assert year_fraction(NOW, NOW + SECONDS_PER_YEAR) == 1.0
    assert year_fraction(NOW, NOW - 5) == 0.0
