r"""Public-data option pricing for the margin engine: floats inside, integers out.

Options are priced in public (DESIGN.md, decision 5): the value of ONE contract under
every scenario of the grid depends only on public data (oracle price, volatility,
time, the contract's terms), so portfolio margin stays linear in the private sizes:

    loss_s = -sum_i size_i * change[i][s],        requirement = max_s loss_s.

Floats are used only here, to evaluate Black-Scholes, and every number that leaves
this module for the engine is an integer rounded conservatively (decision 4).

Units and conventions
---------------------
- Prices and strikes: integers in micro-quote (1e-6 USDC) per ONE whole unit of the
  underlying. One option contract is one whole unit of the underlying, so an option
  price is also micro-quote per contract.
- Volatility ``vol_ppm``: annualised sigma x 1e6 (a 55% vol is ``550_000``).
- Rate ``rate_ppm``: continuously compounded annual rate x 1e6, default 0. Crypto
  venues (Deribit) price options off the underlying/forward with r = 0. Allowed range
  is [-1e6, 1e6].
- Time: unix seconds. A year is 365 days of 86,400 s (``SECONDS_PER_YEAR``), the
  convention Deribit uses. Time to expiry is ``max(expiry - now, 0) / SECONDS_PER_YEAR``.
- Contracts are European and cash-settled; at or after expiry (``now >= expiry``) an
  option is worth its intrinsic value ``max(S - K, 0)`` (call) or ``max(K - S, 0)``
  (put), without discounting.

Black-Scholes (no dividends, rate r, T in years)::

    d1 = (ln(S/K) + (r + sigma^2/2) T) / (sigma sqrt(T)),   d2 = d1 - sigma sqrt(T)
    call = S N(d1) - K e^{-rT} N(d2)
    put  = K e^{-rT} N(-d2) - S N(-d1)

with N the standard normal CDF, computed as ``N(x) = erfc(-x / sqrt 2) / 2`` (no
cancellation in either tail, so deep in- or out-of-the-money prices have no NaN and
no spurious negative values). When ``sigma sqrt(T) == 0`` (expired, or zero vol) d1
and d2 take their limits: +inf if ``ln(S/K) + rT > 0``, -inf if ``< 0``, 0 if ``== 0``,
which gives the intrinsic value of the forward.

Rounding (all directions favour solvency)
-----------------------------------------
The float price p of the exact inputs is within a documented error margin of the
true (infinitely precise) Black-Scholes value::

    err = FLOAT_ERROR_ABS + FLOAT_ERROR_REL * (S + K e^{-rT})    # micro-quote

i.e. 1 micro-quote plus 1e-9 of the gross notional. The price is a difference of two
terms bounded by S and K e^{-rT}, each computed to a few ulp (its sensitivity to a
relative input error is at most about S or K e^{-rT}), so |p - true| is a few ulp of
the notional: the worst of 20,000 random cases against a 60-digit ``decimal``
evaluation was 1.5 ulp (3.4e-16) of the notional, so the margin has about 6 orders
of magnitude of headroom; the tests keep checking it against that oracle. Float
conversion of the exact rational inputs (scenario prices and vols) is inside it.

``option_price_bounds`` returns ``[floor(p - err), ceil(p + err)]``, tightened by
exact integer no-arbitrage bounds (price >= 0, call <= S, and the intrinsic value
where the rate allows it). Expired options, and zero vol at zero rate, are priced
exactly in integers (intrinsic value).

Scenarios
---------
``scenarios(grid)`` fixes the order of every scenario table::

    for price_move in grid.price_moves_ppm:        # major
        for vol_move in grid.vol_moves_ppm:        # minor
            (price_move, vol_move, fraction = 1e6)
    (-grid.extreme_move_ppm, 0, grid.extreme_fraction_ppm)   # extreme down
    (+grid.extreme_move_ppm, 0, grid.extreme_fraction_ppm)   # extreme up

so ``scenario_count(grid) = len(price_moves) * len(vol_moves) + 2``. Scenario inputs:

- underlying ``S' = S * (1e6 + price_move) / 1e6`` (relative move, ``price_move >= -1e6``);
- volatility ``sigma' = sigma * (1e6 + vol_move) / 1e6``: vol shifts are RELATIVE
  (+250_000 means vol x 1.25), like Deribit's and SPAN's vol up/down shifts. A move
  must be >= -1e6; a move of exactly -1e6 gives sigma' = 0, priced as its exact limit
  (the discounted forward's intrinsic value), so no floor on the vol is needed;
- time: by default the scenario is evaluated at the same ``now`` (no time decay);
  ``horizon_s > 0`` evaluates the scenario prices at ``now + horizon_s``, so the
  changes then include the decay over the horizon;
- extreme scenarios move the underlying by +-``extreme_move_ppm`` at the unshifted vol,
  and their change is multiplied by ``extreme_fraction_ppm / 1e6`` before it is
  stored (in exact integer arithmetic, floor for the lower bound and ceil for the
  upper), so the table already holds the counted amount (SPAN: extreme moves counted
  at a fraction of their loss).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DAYS_PER_YEAR",
    "FLOAT_ERROR_ABS",
    "FLOAT_ERROR_REL",
    "PPM",
    "SECONDS_PER_DAY",
    "SECONDS_PER_YEAR",
    "Greeks",
    "OptionLike",
    "OptionType",
    "Scenario",
    "ScenarioGridLike",
    "black_scholes",
    "bs_delta",
    "bs_gamma",
    "bs_theta",
    "bs_vega",
    "greeks",
    "norm_cdf",
    "norm_pdf",
    "option_price",
    "option_price_bounds",
    "scenario_count",
    "scenario_value_changes",
    "scenario_value_changes_bounds",
    "scenarios",
    "year_fraction",
]

#: Parts per million: the unit of ratios, moves, vols and rates.
PPM = 1_000_000
SECONDS_PER_DAY = 86_400
#: Calendar days per year (Deribit's convention; no leap years, no business days).
DAYS_PER_YEAR = 365
SECONDS_PER_YEAR = DAYS_PER_YEAR * SECONDS_PER_DAY
#: Float error margin, absolute part, in micro-quote.
FLOAT_ERROR_ABS = 1.0
#: Float error margin, relative part, of the gross notional S + K e^{-rT}.
FLOAT_ERROR_REL = 1e-9

OptionType = Literal["call", "put"]

_OPTION_TYPES = ("call", "put")
_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


class OptionLike(Protocol):
    """What pricing needs of an option market (e.g. ``engine.OptionMarket``).

    Any object with these attributes works: ``option_type`` is ``"call"`` or
    ``"put"``, ``strike`` is micro-quote per whole unit, ``expiry`` is unix seconds.
    """

    @property
    def option_type(self) -> str: ...

    @property
    def strike(self) -> int: ...

    @property
    def expiry(self) -> int: ...


class ScenarioGridLike(Protocol):
    """What the scenario table needs of a portfolio-margin grid (all ppm, signed).

    ``price_moves_ppm``: relative underlying moves (-150_000 = -15%), each >= -1e6.
    ``vol_moves_ppm``: relative vol moves (+250_000 = vol x 1.25), each >= -1e6.
    ``extreme_move_ppm``: size of the two extreme moves, in [0, 1e6].
    ``extreme_fraction_ppm``: share of the extreme change that counts, >= 0.
    """

    @property
    def price_moves_ppm(self) -> Sequence[int]: ...

    @property
    def vol_moves_ppm(self) -> Sequence[int]: ...

    @property
    def extreme_move_ppm(self) -> int: ...

    @property
    def extreme_fraction_ppm(self) -> int: ...


class Scenario(NamedTuple):
    """One scenario of the grid, in table order (see ``scenarios``)."""

    price_move_ppm: int
    vol_move_ppm: int
    #: Share of the change that is counted: 1e6 for regular scenarios,
    #: ``extreme_fraction_ppm`` for the two extreme ones.
    fraction_ppm: int
    #: True for the two extreme-move scenarios (the last two of the table).
    extreme: bool


class Greeks(BaseModel):
    """Black-Scholes sensitivities of ONE long contract, rounded to nearest integers.

    Informational (reports, risk views); nothing here is proven, so the rounding is
    to nearest rather than conservative.
    """

    model_config = ConfigDict(frozen=True)

    delta_ppm: int = Field(
        description="dV/dS x 1e6: contract value change per unit change of the underlying price, in ppm "
        "(a call is in [0, 1e6], a put in [-1e6, 0]; 500_000 means half a unit of the underlying)."
    )
    gamma_ppm_per_pct: int = Field(
        description="Change of delta_ppm when the underlying rises by 1% (first order): "
        "d2V/dS2 x S x 0.01 x 1e6. Scale-free; the per-quote-unit gamma Deribit shows is "
        "gamma_ppm_per_pct x 100 / (S in whole quote units) / 1e6."
    )
    vega_per_vol_point: int = Field(
        description="Value change in micro-quote per +1 vol point (sigma + 0.01 absolute), as Deribit shows vega."
    )
    theta_per_day: int = Field(
        description="Value change in micro-quote per calendar day that passes (1/365 year), all else equal; "
        "usually negative for a long option; 0 at or after expiry."
    )


# ---- float helpers (public data only) -------------------------------------------


def norm_cdf(x: float) -> float:
    """Standard normal CDF, ``N(x) = erfc(-x / sqrt 2) / 2``.

    ``erfc`` keeps full relative precision in the lower tail (where ``1 + erf`` would
    cancel to 0) and gives exactly 0 and 1 at -inf and +inf.
    """
    return 0.5 * math.erfc(-x / _SQRT2)


def norm_pdf(x: float) -> float:
    """Standard normal density ``phi(x) = exp(-x^2 / 2) / sqrt(2 pi)``; 0 at +-inf."""
    return math.exp(-0.5 * x * x) / _SQRT_2PI


def year_fraction(now: int, expiry: int) -> float:
    """Time to expiry in years of 365 days: ``max(expiry - now, 0) / SECONDS_PER_YEAR``."""
    return max(expiry - now, 0) / SECONDS_PER_YEAR


def _check_float_inputs(option_type: str, S: float, K: float, T_years: float, sigma: float, r: float) -> None:
    if option_type not in _OPTION_TYPES:
        raise ValueError(f"option_type must be 'call' or 'put', got {option_type!r}")
    for name, value in (("S", S), ("K", K), ("T_years", T_years), ("sigma", sigma), ("r", r)):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
    for name, value in (("S", S), ("K", K), ("sigma", sigma)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")


def _discounted_strike(K: float, r: float, T: float) -> float:
    """``K e^{-rT}``, or ValueError if it overflows (only for absurd K, r and T)."""
    if K == 0.0:
        return 0.0
    try:
        discounted = K * math.exp(-r * T)
    except OverflowError:  # e^{-rT} alone overflows; K e^{-rT} may not
        try:
            discounted = math.exp(math.log(K) - r * T)
        except OverflowError:
            discounted = math.inf
    if not math.isfinite(discounted):
        raise ValueError(f"K e^(-rT) overflows a float: K={K}, r={r}, T={T}")
    return discounted


def _d1_d2(S: float, K: float, T: float, sigma: float, r: float) -> tuple[float, float]:
    """``(d1, d2)`` for ``T >= 0``, with the limits of the module docstring when
    ``sigma sqrt(T) == 0`` and with ``ln(S/K)`` = -inf at S = 0, +inf at K = 0."""
    v = sigma * math.sqrt(T)
    if S == 0.0 and K == 0.0:
        m = 0.0
    elif S == 0.0:
        m = -math.inf
    elif K == 0.0:
        m = math.inf
    else:
        ratio = S / K  # ln(S/K) is more accurate near the money than ln S - ln K
        m = -math.inf if ratio == 0.0 else math.inf if math.isinf(ratio) else math.log(ratio)
        m += r * T
    if v == 0.0:
        d = math.inf if m > 0 else -math.inf if m < 0 else 0.0
        return d, d
    return m / v + 0.5 * v, m / v - 0.5 * v


def black_scholes(option_type: str, S: float, K: float, T_years: float, sigma: float, r: float = 0.0) -> float:
    """Black-Scholes price of a European option (float; public data only).

    ``call = S N(d1) - K e^{-rT} N(d2)``, ``put = K e^{-rT} N(-d2) - S N(-d1)``, with
    ``d1 = (ln(S/K) + (r + sigma^2/2) T) / (sigma sqrt T)`` and ``d2 = d1 - sigma sqrt T``.
    Any unit works as long as S and K share it; T is in years, sigma and r per year.
    Finite up to float range: raises ValueError if ``K e^{-rT}`` overflows.

    ``T_years <= 0`` gives the intrinsic value ``max(S - K, 0)`` / ``max(K - S, 0)``;
    ``sigma == 0`` gives the discounted forward's intrinsic value
    ``max(S - K e^{-rT}, 0)`` / ``max(K e^{-rT} - S, 0)``. The result is never negative
    or NaN. Raises ValueError for an unknown type, non-finite inputs, or negative S, K
    or sigma.
    """
    _check_float_inputs(option_type, S, K, T_years, sigma, r)
    T = max(T_years, 0.0)
    discounted_k = _discounted_strike(K, r, T)
    d1, d2 = _d1_d2(S, K, T, sigma, r)
    if option_type == "call":
        price = S * norm_cdf(d1) - discounted_k * norm_cdf(d2)
    else:
        price = discounted_k * norm_cdf(-d2) - S * norm_cdf(-d1)
    return max(price, 0.0)


def bs_delta(option_type: str, S: float, K: float, T_years: float, sigma: float, r: float = 0.0) -> float:
    """dV/dS: ``N(d1)`` for a call, ``-N(-d1) = N(d1) - 1`` for a put.

    At expiry (or zero vol) this is the slope of the (forward) payoff: 1 or 0 for a
    call, -1 or 0 for a put, and the midpoint (0.5 / -0.5) exactly at the money.
    """
    _check_float_inputs(option_type, S, K, T_years, sigma, r)
    d1, _ = _d1_d2(S, K, max(T_years, 0.0), sigma, r)
    return norm_cdf(d1) if option_type == "call" else -norm_cdf(-d1)


def bs_gamma(option_type: str, S: float, K: float, T_years: float, sigma: float, r: float = 0.0) -> float:
    """d2V/dS2 = ``phi(d1) / (S sigma sqrt T)``, the same for calls and puts (per unit of S, squared).

    0 at expiry, at zero vol and at S = 0 (where the true second derivative is a
    point mass at the strike or vanishes).
    """
    _check_float_inputs(option_type, S, K, T_years, sigma, r)
    T = max(T_years, 0.0)
    v = sigma * math.sqrt(T)
    if v == 0.0 or S == 0.0:
        return 0.0
    d1, _ = _d1_d2(S, K, T, sigma, r)
    return norm_pdf(d1) / S / v  # not / (S * v): the product can underflow to 0


def bs_vega(option_type: str, S: float, K: float, T_years: float, sigma: float, r: float = 0.0) -> float:
    """dV/dsigma = ``S phi(d1) sqrt T``, the same for calls and puts (per 1.00 of sigma,
    i.e. per 100 vol points). 0 at expiry."""
    _check_float_inputs(option_type, S, K, T_years, sigma, r)
    T = max(T_years, 0.0)
    d1, _ = _d1_d2(S, K, T, sigma, r)
    return S * norm_pdf(d1) * math.sqrt(T)


def bs_theta(option_type: str, S: float, K: float, T_years: float, sigma: float, r: float = 0.0) -> float:
    """dV/dt per YEAR of calendar time passing (= -dV/dT)::

        call: -S phi(d1) sigma / (2 sqrt T) - r K e^{-rT} N(d2)
        put:  -S phi(d1) sigma / (2 sqrt T) + r K e^{-rT} N(-d2)

    0 at or after expiry (the value no longer changes with time).
    """
    _check_float_inputs(option_type, S, K, T_years, sigma, r)
    if T_years <= 0.0:
        return 0.0
    d1, d2 = _d1_d2(S, K, T_years, sigma, r)
    decay = -S * norm_pdf(d1) * sigma / (2.0 * math.sqrt(T_years))
    carry = r * _discounted_strike(K, r, T_years)
    if option_type == "call":
        return decay - carry * norm_cdf(d2)
    return decay + carry * norm_cdf(-d2)


# ---- integer API ----------------------------------------------------------------


def _check_int(name: str, value: object, minimum: int | None = None, maximum: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def _check_option(option: OptionLike) -> tuple[str, int, int]:
    kind = option.option_type
    if kind not in _OPTION_TYPES:
        raise ValueError(f"option_type must be 'call' or 'put', got {kind!r}")
    strike = _check_int("strike", option.strike, minimum=0)
    expiry = _check_int("expiry", option.expiry)
    return kind, strike, expiry


def _check_market(underlying_price: int, vol_ppm: int, now: int, rate_ppm: int) -> None:
    _check_int("underlying_price", underlying_price, minimum=0)
    _check_int("vol_ppm", vol_ppm, minimum=0)
    _check_int("now", now)
    _check_int("rate_ppm", rate_ppm, minimum=-PPM, maximum=PPM)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _price_bounds(
    kind: str, s_num: int, s_den: int, strike: int, t_seconds: int, vol_num: int, vol_den: int, rate_ppm: int
) -> tuple[int, int, int]:
    """``(lower, floor price, upper)`` in micro-quote of one contract at the exact
    rational inputs ``S = s_num / s_den`` and ``sigma = vol_num / vol_den``.

    ``lower <= true price <= upper`` and ``lower <= floor price <= upper``.
    """
    if t_seconds <= 0 or (vol_num == 0 and rate_ppm == 0):
        # Exactly the intrinsic value (expired, or zero vol at zero rate): integers only.
        intrinsic = max(0, s_num - strike * s_den if kind == "call" else strike * s_den - s_num)
        lower = intrinsic // s_den
        return lower, lower, _ceil_div(intrinsic, s_den)

    S = s_num / s_den  # int / int: correctly rounded
    sigma = vol_num / vol_den
    T = t_seconds / SECONDS_PER_YEAR
    r = rate_ppm / PPM
    price = black_scholes(kind, S, float(strike), T, sigma, r)
    err = FLOAT_ERROR_ABS + FLOAT_ERROR_REL * (S + _discounted_strike(float(strike), r, T))
    lower = max(math.floor(price - err), 0)
    upper = math.ceil(price + err)
    # Exact no-arbitrage bounds in integers tighten the float interval.
    if kind == "call":
        upper = min(upper, _ceil_div(s_num, s_den))  # call <= S
        if rate_ppm >= 0:  # call >= S - K e^{-rT} >= S - K
            lower = max(lower, max(0, s_num - strike * s_den) // s_den)
    else:
        if rate_ppm >= 0:  # put <= K e^{-rT} <= K
            upper = min(upper, strike)
        if rate_ppm <= 0:  # put >= K e^{-rT} - S >= K - S
            lower = max(lower, max(0, strike * s_den - s_num) // s_den)
    return lower, min(max(math.floor(price), lower), upper), upper


def option_price_bounds(
    option: OptionLike, underlying_price: int, vol_ppm: int, now: int, rate_ppm: int = 0
) -> tuple[int, int]:
    """``(lower, upper)`` integers with ``lower <= true Black-Scholes price <= upper``.

    Micro-quote per contract. ``lower = floor(p - err)`` and ``upper = ceil(p + err)``
    for the float price p and ``err = 1 + 1e-9 (S + K e^{-rT})`` micro-quote (see the
    module docstring), tightened by exact no-arbitrage bounds (``0 <= price``,
    ``call <= S``, intrinsic value when the rate allows). Expired options and zero vol
    at zero rate are exact: ``lower == upper == intrinsic``.

    For conservative valuation, mark long holdings at ``lower`` and short ones at
    ``upper``.
    """
    kind, strike, expiry = _check_option(option)
    _check_market(underlying_price, vol_ppm, now, rate_ppm)
    lower, _, upper = _price_bounds(kind, underlying_price, 1, strike, expiry - now, vol_ppm, PPM, rate_ppm)
    return lower, upper


def option_price(option: OptionLike, underlying_price: int, vol_ppm: int, now: int, rate_ppm: int = 0) -> int:
    """Black-Scholes price of one contract in micro-quote, rounded DOWN.

    ``floor(p)`` of the float price p, clamped into ``option_price_bounds`` (so an
    option never prices below an exactly known intrinsic value or below 0). Exact
    (the intrinsic value) at or after expiry and for zero vol at zero rate.
    """
    kind, strike, expiry = _check_option(option)
    _check_market(underlying_price, vol_ppm, now, rate_ppm)
    return _price_bounds(kind, underlying_price, 1, strike, expiry - now, vol_ppm, PPM, rate_ppm)[1]


def greeks(option: OptionLike, underlying_price: int, vol_ppm: int, now: int, rate_ppm: int = 0) -> Greeks:
    """Delta, gamma, vega and theta of one long contract as integers (see ``Greeks``
    for the units), rounded to nearest."""
    kind, strike, expiry = _check_option(option)
    _check_market(underlying_price, vol_ppm, now, rate_ppm)
    args = (kind, float(underlying_price), float(strike), year_fraction(now, expiry), vol_ppm / PPM, rate_ppm / PPM)
    return Greeks(
        delta_ppm=round(bs_delta(*args) * PPM),
        gamma_ppm_per_pct=round(bs_gamma(*args) * underlying_price * 0.01 * PPM),
        vega_per_vol_point=round(bs_vega(*args) * 0.01),
        theta_per_day=round(bs_theta(*args) / DAYS_PER_YEAR),
    )


# ---- scenario tables ------------------------------------------------------------


def scenarios(grid: ScenarioGridLike) -> list[Scenario]:
    """The grid's scenarios in table order: price move major, vol move minor (each
    counted in full), then the extreme down and extreme up moves at the unshifted vol,
    counted at ``extreme_fraction_ppm``. Validates the grid (ValueError)."""
    price_moves = [_check_int("price move", m, minimum=-PPM) for m in grid.price_moves_ppm]
    vol_moves = [_check_int("vol move", m, minimum=-PPM) for m in grid.vol_moves_ppm]
    extreme = _check_int("extreme_move_ppm", grid.extreme_move_ppm, minimum=0, maximum=PPM)
    fraction = _check_int("extreme_fraction_ppm", grid.extreme_fraction_ppm, minimum=0)
    table = [Scenario(p, v, PPM, False) for p in price_moves for v in vol_moves]
    table.append(Scenario(-extreme, 0, fraction, True))
    table.append(Scenario(extreme, 0, fraction, True))
    return table


def scenario_count(grid: ScenarioGridLike) -> int:
    """``len(price_moves_ppm) * len(vol_moves_ppm) + 2`` (the two extreme moves)."""
    return len(grid.price_moves_ppm) * len(grid.vol_moves_ppm) + 2


def scenario_value_changes_bounds(
    option: OptionLike,
    underlying_price: int,
    vol_ppm: int,
    now: int,
    grid: ScenarioGridLike,
    rate_ppm: int = 0,
    horizon_s: int = 0,
) -> tuple[list[int], list[int]]:
    """Per scenario, integer bounds on the value change of ONE LONG contract.

    Returns ``(lower, upper)``, two lists in ``scenarios(grid)`` order, with
    ``lower[s] <= f_s * (V_s - V) <= upper[s]`` for the true Black-Scholes values:
    V at ``(S, sigma, now)`` and V_s at ``(S * (1e6 + price_move) / 1e6,
    sigma * (1e6 + vol_move) / 1e6, now + horizon_s)``, and the counted fraction
    ``f_s = fraction_ppm / 1e6`` (1 except for the two extreme scenarios).

    Rounding: with integer price bounds ``[lo, hi]`` of each value, the change lies in
    ``[lo_s - hi, hi_s - lo]``; the extreme fraction is then applied exactly in
    integers, ``floor`` for the lower bound and ``ceil`` for the upper. The zero-move,
    zero-shift scenario therefore has ``lower <= 0 <= upper``.

    How the margin engine uses it: the loss of a position of signed size q in
    scenario s is ``-q * change_s``; it is at most ``-q * lower[s]`` for a long
    (q > 0) and at most ``|q| * upper[s]`` for a short (q < 0). So longs use
    ``lower``, shorts use ``upper``, and the requirement never understates the loss.

    Expired options (``now >= expiry``) give exact intrinsic-value changes.
    """
    kind, strike, expiry = _check_option(option)
    _check_market(underlying_price, vol_ppm, now, rate_ppm)
    _check_int("horizon_s", horizon_s, minimum=0)
    table = scenarios(grid)
    base_lo, _, base_hi = _price_bounds(kind, underlying_price, 1, strike, expiry - now, vol_ppm, PPM, rate_ppm)
    t_scenario = expiry - now - horizon_s
    lowers: list[int] = []
    uppers: list[int] = []
    for price_move, vol_move, fraction, _ in table:
        lo, _, hi = _price_bounds(
            kind,
            underlying_price * (PPM + price_move),
            PPM,
            strike,
            t_scenario,
            vol_ppm * (PPM + vol_move),
            PPM * PPM,
            rate_ppm,
        )
        change_lo, change_hi = lo - base_hi, hi - base_lo
        lowers.append(change_lo * fraction // PPM)
        uppers.append(_ceil_div(change_hi * fraction, PPM))
    return lowers, uppers


def scenario_value_changes(
    option: OptionLike,
    underlying_price: int,
    vol_ppm: int,
    now: int,
    grid: ScenarioGridLike,
    rate_ppm: int = 0,
    horizon_s: int = 0,
) -> list[int]:
    """The ``lower`` list of ``scenario_value_changes_bounds``: the conservative
    per-scenario change of one LONG contract (use the upper bounds for shorts)."""
    return scenario_value_changes_bounds(option, underlying_price, vol_ppm, now, grid, rate_ppm, horizon_s)[0]
