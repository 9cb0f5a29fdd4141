"""Settlement: funding, expiry and liquidation, in integers, conserving value exactly.

Pure functions on the engine's frozen models: every function returns new models and
never mutates its inputs. Units are those of `engine._units` (micro-quote, prices in
micro-quote per whole unit, sizes in quantums with ``D = 10**size_decimals`` per whole
unit, ratios in ppm). ``ceil``/``floor`` are exact integer divisions; ``trunc`` rounds
toward zero.

What "value is conserved" means here
------------------------------------

Settlement moves cash between accounts, the insurance fund and the venue's
counterparties; it never creates or destroys it. The measure every function conserves
exactly (and the tests check with exact rationals) is::

    total = fund + sum over accounts of ( quote_balance
                                          + sum_positions (isolated_margin + quote + size * P / D) )

with ``P`` any one price per market (the tests use the snapshot's mark). Collateral
balances are never touched by settlement. Unrealised funding is not part of the measure:
the insurance fund is the clearing account of funding payments (below).

Funding (Binance USD-M / dYdX v4)
---------------------------------

::

    premium_ppm  = trunc((max(0, impact_bid - index) - max(0, index - impact_ask)) * 10**6 / index)
    rate_ppm     = premium + clamp(interest - premium, -clamp, +clamp)        (Binance: interest 100
                   then clamp(rate, -cap, +cap) when a cap is given               = 0.01%, clamp 500 = 0.05%)
    dYdX rate    = trunc(premium_8h / 8) + interest, capped; cap = floor(factor * (IMF - MMF) / 10**6)
                   (factor 6_000_000 = 600%)
    F_next       = F + trunc(rate_ppm * price / 10**6)     (micro-quote per whole unit; longs pay when F rises)
    payment      = ceil(size * (F_now - F_entry) / D)      (paid by the position; negative = received)
    quote'       = quote - payment,  funding_index' = F_now

A payer pays the ceiling of what it owes and a receiver receives the floor of what it
is owed (``-ceil(-x) = floor(x)``: one formula does both). The fund receives the sum of
all payments. So ``sum(quote_balance + position quotes) + fund`` is unchanged exactly,
always. When the settled accounts' positions in a market net to zero and share one entry
index (the normal case: every account is settled every epoch), the exact payments sum to
zero and the fund receives only the rounding dust, ``0 <= dust < number of positions``.
When they do not (one-sided open interest, a subset of the accounts, accounts last
settled at different indices) the fund also receives the imbalance, which may be
negative: the fund then pays the missing side, and `settle_funding` refuses (named
error) when the ``fund`` it is given cannot pay it. Each account's margin equity falls
by at most 1 micro-quote per position (``floor(a) - ceil(b) >= floor(a - b) - 1``).
The index moves by ``trunc(rate * price)``: nobody is charged more than the published
rate; the truncation is a public number both sides share, so it costs no conservation.

Expiry (cash settlement at the snapshot's settlement price ``S``)
-----------------------------------------------------------------

::

    value per whole unit  v = S                (future)
                          v = max(S - K, 0)    (call)      v = max(K - S, 0)   (put)
    credit       = floor(size * v / D)         (a long receives the floor, a short pays the ceiling)
    quote_balance' = quote_balance + isolated_margin + quote + credit ; the position disappears
    fund delta   = -sum credit

This is exactly the value the margin engine gives an expired position, so every
account's total equity is unchanged. Over a closed set of accounts whose positions net
to zero per market, ``sum size * v = 0`` and the fund receives the dust
``0 <= -sum floor(...) < number of positions``. An isolated position's equity (negative
if it was left unliquidated) moves into the cross balance.

Liquidation (dYdX v4, ``x/clob/keeper/liquidations.go``)
---------------------------------------------------------

An account is liquidated when `compute_margin` says it is liquidatable. Preconditions
(named errors otherwise): funding is settled (every perpetual position's funding_index
is the snapshot's) and no position is in an expired market (run `settle_expiry`).

Scopes. Each unhealthy isolated position is its own scope (``TNC`` = its isolated
equity, weight its maintenance requirement) and is closed entirely; its residual
(never negative) moves into the cross balance. Then, if the cross account is still
unhealthy, its positions are closed one at a time, largest notional first (ties by
market id), re-running `compute_margin` after each, until it is healthy. Closing every
cross position always ends healthy (see below), so this terminates. Positions are
closed whole (dYdX closes partially; a whole close keeps the guarantee simple for
portfolio-margined options, whose requirement is not monotone in any one size).

Weights. A position's weight ``w`` (dYdX's PMMR) is its maintenance requirement under
the linear rules; for a position in a portfolio (options; linear positions in portfolio
mode) it is its stand-alone portfolio requirement
``max(max(0, max_s leg_loss_s), short option minimum)``, so that the weights of a
portfolio add up to at least its requirement. ``W`` = the sum of the weights of the
scope's positions not yet closed (dYdX's TMMR). If ``W = 0``, the bankruptcy split uses
weight 1 per remaining position instead.

For closing a position of size ``s`` at valuation price ``P`` (the engine's: the mark of
a linear market; an option's lower price bound for a long, upper for a short), with
``NNV = floor(s * P / D)`` and ``TNC`` the scope's equity before the close::

    ABR         = clamp(BA * (W - TNC) / (W * 10**6), 0, 1)         (1 when W = 0)
    spread      = ABR * SMMR / 10**6 * w                             (exact rational)
    fill quote  = ceil(s * P / D - spread), at least 0 for a long    (received; < 0 = paid)
    fillable    = P - spread * D / s per whole unit; rounded up for a long, down for a short
    bankruptcy  = -dNNV - floor(TNC * |dMMR| / TMMR) = NNV - floor(TNC * w / W)
    IF delta    = fill - bankruptcy
                  > 0: fee = min(floor(|fill| * max_fee_ppm / 10**6), IF delta) goes to the fund
                  <= 0: the fund pays -IF delta, if it holds that much

The fill rounds in the liquidated account's favour: it is the worst price the venue's
liquidation order accepts, and a limit order never fills at a worse price. The fee is
capped at what the account holds above its bankruptcy quote, so the penalty never
makes it insolvent. One deviation from dYdX: a scope with ``TNC <= 0`` owns nothing, so
when its fill lands above bankruptcy (only by the fill's rounding, at most 1
micro-quote) the whole surplus goes to the fund as the fee.

Closing at (or above) the bankruptcy quote leaves
``TNC' = TNC - floor(TNC * w / W) >= TNC * (W - w) / W``: the remaining positions keep
at least their share and the last close leaves ``TNC' >= 0``. A scope that starts at
``TNC <= 0`` receives exactly its bankruptcy quote at every close (the fund or
deleveraging pays the difference, the surplus rule above takes any excess), stays at
``TNC' <= 0`` and ends at exactly zero: its bad debt is covered close by close.

The liquidation trade's counterparty is an explicit account, the venue's order-book
stand-in: it takes the position over at the fill quote (its health is not checked).
When the fund cannot pay a close's negative IF delta, that position is instead
*deleveraged*: `deleverage` transfers it at the bankruptcy quote to accounts of the
``pool`` holding opposite positions, most profitable first (unrealised profit
``quote + floor(size * P / D)``, ties by account id; dYdX walks subaccounts in a
pseudo-random order, Binance ADL ranks by profit and leverage), each taking at most its
own size so nobody's position flips. The bankruptcy quote is split by cumulative
rounding, ``paid_k = ceil(q * S_k / |s|) - ceil(q * S_(k-1) / |s|)`` with ``S_k`` the
size taken so far, so the pieces sum to it exactly. The fund is never used partially for
a close and never goes negative. An account with negative equity and no positions left
to close (collateral fell below a quote debt) has its bad debt paid by the fund, or a
named error when the fund is short (nothing can be deleveraged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from ._errors import (
    DuplicateEntryError,
    EngineError,
    InconsistentSnapshotError,
    ValueOutOfRangeError,
)
from ._margin import compute_margin, leg_loss, linear_scenario_values, short_option_minimum, validate_account
from ._models import (
    Account,
    FutureMarket,
    MarginReport,
    MarketSnapshot,
    OptionMarket,
    PerpetualMarket,
    Position,
    PositionReport,
    check_range,
)
from ._units import FUNDING_BOUND, PPM, PRICE_BOUND, QUOTE_BOUND, ceil_div, floor_div, pow10

AnyMarket = PerpetualMarket | FutureMarket | OptionMarket
M = TypeVar("M", bound=BaseModel)

# ---- errors ---------------------------------------------------------------------------------


class InvalidFundingInputError(EngineError):
    """Funding inputs that make no sense: crossed impact prices, a negative clamp or cap."""


class InsufficientInsuranceFundError(EngineError):
    """The insurance fund cannot pay what a settlement needs from it (an imbalance of
    one-sided funding or expiry, or bad debt with no position left to deleverage)."""


class AccountNotLiquidatableError(EngineError):
    """`liquidate` was given an account the margin engine says is healthy."""


class UnsettledPositionError(EngineError):
    """A position must be settled first: funding not settled to the snapshot's index, or a
    position in an expired market (run `settle_funding` / `settle_expiry` before)."""


class DeleveragingError(EngineError):
    """The deleveraging pool does not hold enough opposite size to take a position over."""


# ---- small helpers --------------------------------------------------------------------------


def _trunc_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded toward zero (positive denominator)."""
    q = abs(numerator) // denominator
    return q if numerator >= 0 else -q


def _rebuild(model: M, **changes: object) -> M:
    """A copy of `model` with `changes`, validated again (bounds raise named errors)."""
    data = {name: getattr(model, name) for name in type(model).model_fields}
    data.update(changes)
    return type(model).model_validate(data)


def _market_price(snapshot: MarketSnapshot, market: AnyMarket, size: int) -> int:
    """The engine's valuation price: the mark of a linear market; an option's lower price
    bound for a long and upper for a short (its payoff once expired)."""
    if isinstance(market, OptionMarket):
        lower, upper = snapshot.option_value_bounds(market)
        return lower if size > 0 else upper
    return snapshot.mark_prices[market.id]


def _check_fund(fund: int | None, delta: int, what: str) -> None:
    if fund is None:
        return
    check_range("insurance fund", fund, 0, QUOTE_BOUND)
    if fund + delta < 0:
        raise InsufficientInsuranceFundError(
            f"{what} needs {-delta} micro-quote from the insurance fund, which holds {fund}"
        )


class Settlement(NamedTuple):
    """Result of `settle_funding` / `settle_expiry`: the new accounts (same order) and what
    the insurance fund receives (negative: pays)."""

    accounts: tuple[Account, ...]
    fund_delta: int


# ---- funding ----------------------------------------------------------------------------------


def premium_ppm(impact_bid: int, impact_ask: int, index_price: int) -> int:
    """Premium index (Binance, dYdX): trunc((max(0, bid - index) - max(0, index - ask)) *
    10**6 / index) ppm, from the impact bid / ask prices and the index price."""
    for what, price in (("impact bid", impact_bid), ("impact ask", impact_ask), ("index price", index_price)):
        check_range(what, price, 1, PRICE_BOUND)
    if impact_bid > impact_ask:
        raise InvalidFundingInputError(f"impact bid {impact_bid} is above impact ask {impact_ask}")
    return _trunc_div((max(0, impact_bid - index_price) - max(0, index_price - impact_ask)) * PPM, index_price)


def funding_rate_ppm(
    premium_ppm: int, interest_ppm: int = 100, clamp_ppm: int = 500, cap_ppm: int | None = None
) -> int:
    """Binance: rate = premium + clamp(interest - premium, -clamp, +clamp), then clamped to
    [-cap, +cap] when a cap is given. Defaults: interest 0.01% per interval, clamp 0.05%.
    Inside the clamp band the rate equals the interest rate."""
    if clamp_ppm < 0:
        raise InvalidFundingInputError(f"clamp_ppm = {clamp_ppm} is negative")
    rate = premium_ppm + min(max(interest_ppm - premium_ppm, -clamp_ppm), clamp_ppm)
    return _cap(rate, cap_ppm)


def _cap(rate: int, cap_ppm: int | None) -> int:
    if cap_ppm is None:
        return rate
    if cap_ppm < 0:
        raise InvalidFundingInputError(f"cap_ppm = {cap_ppm} is negative")
    return min(max(rate, -cap_ppm), cap_ppm)


def dydx_funding_rate_ppm(premium_ppm: int, interest_ppm: int = 0, cap_ppm: int | None = None) -> int:
    """dYdX v4: rate = trunc(premium / 8) + interest, clamped to [-cap, +cap]. The docs give
    the premium as an 8-hour figure applied hourly (/8); the interest is 0 for cross markets."""
    return _cap(_trunc_div(premium_ppm, 8) + interest_ppm, cap_ppm)


def funding_cap_ppm(imf_ppm: int, mmf_ppm: int, clamp_factor_ppm: int = 6_000_000) -> int:
    """dYdX's funding-rate cap: floor(clamp_factor * (IMF - MMF) / 10**6) (BigIntMulPpm);
    factor 600%: Large-Cap 5% / 3% -> 12%."""
    if not 0 <= mmf_ppm <= imf_ppm <= PPM or clamp_factor_ppm < 0:
        raise InvalidFundingInputError(
            f"funding cap needs 0 <= mmf {mmf_ppm} <= imf {imf_ppm} <= 10**6 and a factor >= 0 ({clamp_factor_ppm})"
        )
    return floor_div(clamp_factor_ppm * (imf_ppm - mmf_ppm), PPM)


def next_funding_index(index: int, rate_ppm: int, price: int) -> int:
    """F + trunc(rate_ppm * price / 10**6): micro-quote per whole unit a long pays (a short
    receives) for one interval at `rate_ppm` and `price` (the mark)."""
    check_range("funding price", price, 1, PRICE_BOUND)
    new = index + _trunc_div(rate_ppm * price, PPM)
    if not -FUNDING_BOUND < new < FUNDING_BOUND:
        raise ValueOutOfRangeError(f"funding index {index} + rate {rate_ppm} ppm at {price} = {new} overflows 2**64")
    return new


def advance_funding(
    snapshot: MarketSnapshot, rates_ppm: Mapping[str, int], prices: Mapping[str, int] | None = None
) -> MarketSnapshot:
    """A copy of `snapshot` whose perpetuals' funding indices moved by one interval at
    `rates_ppm` (market id -> rate), priced at `prices` (default: the marks)."""
    indices = dict(snapshot.funding_indices)
    for market_id, rate in rates_ppm.items():
        m = snapshot.market(market_id)
        if not isinstance(m, PerpetualMarket):
            raise InconsistentSnapshotError(f"funding rate for {market_id}, a {m.kind}, not a perpetual")
        price = snapshot.mark_prices[market_id] if prices is None else prices[market_id]
        indices[market_id] = next_funding_index(indices[market_id], rate, price)
    return _rebuild(snapshot, funding_indices=indices)


def funding_payment(size: int, funding_owed: int, size_decimals: int) -> int:
    """ceil(size * (F_now - F_entry) / 10**d): what the position pays (negative: receives
    the floor of what it is owed)."""
    return ceil_div(size * funding_owed, pow10(size_decimals))


def _funding_table(snapshot: MarketSnapshot, indices: Mapping[str, int] | None) -> Mapping[str, int]:
    """The snapshot's funding indices, overridden by `indices` (checked)."""
    if indices is None:
        return snapshot.funding_indices
    for market_id, value in indices.items():
        m = snapshot.market(market_id)
        if not isinstance(m, PerpetualMarket):
            raise InconsistentSnapshotError(f"funding index for {market_id}, a {m.kind}, not a perpetual")
        if not -FUNDING_BOUND < value < FUNDING_BOUND:
            raise ValueOutOfRangeError(f"funding index of {market_id} = {value} is outside (-2**64, 2**64)")
    return {**snapshot.funding_indices, **indices}


def settle_funding(
    accounts: Sequence[Account],
    snapshot: MarketSnapshot,
    *,
    indices: Mapping[str, int] | None = None,
    fund: int | None = None,
) -> Settlement:
    """Settle every perpetual position's funding into its quote at the snapshot's funding
    indices (overridden by `indices`, market id -> F_now): quote -= ceil(size * (F_now - F_entry) / D),
    funding_index = F_now. Returns the accounts and the fund's receipt (the sum of the
    payments: rounding dust, plus any imbalance; module docstring). With `fund` given,
    raises `InsufficientInsuranceFundError` if the fund cannot pay a negative receipt."""
    table = _funding_table(snapshot, indices)
    out: list[Account] = []
    received = 0
    for account in accounts:
        validate_account(account, snapshot)
        positions: list[Position] = []
        for p in account.positions:
            m = snapshot.market(p.market)
            if isinstance(m, PerpetualMarket):
                f_now = table[m.id]
                pay = funding_payment(p.size, f_now - p.funding_index, m.size_decimals)
                received += pay
                p = _rebuild(p, quote=p.quote - pay, funding_index=f_now)
            positions.append(p)
        out.append(_rebuild(account, positions=tuple(positions)))
    _check_fund(fund, received, "funding settlement")
    return Settlement(tuple(out), received)


# ---- expiry -----------------------------------------------------------------------------------


def expiry_value(market: FutureMarket | OptionMarket, settlement_price: int) -> int:
    """Value of one whole unit at expiry: S for a future, the payoff for an option."""
    if isinstance(market, OptionMarket):
        return market.payoff(settlement_price)
    return settlement_price


def settle_expiry(accounts: Sequence[Account], snapshot: MarketSnapshot, fund: int | None = None) -> Settlement:
    """Cash-settle and remove every position in a market that has expired in `snapshot`:
    quote_balance += isolated_margin + quote + floor(size * v / D), v = `expiry_value`.
    Returns the accounts and the fund's receipt (-sum of the credits: dust on a closed set
    of accounts). With `fund` given, refuses a receipt the fund cannot pay."""
    out: list[Account] = []
    received = 0
    for account in accounts:
        validate_account(account, snapshot)
        balance = account.quote_balance
        kept: list[Position] = []
        for p in account.positions:
            m = snapshot.market(p.market)
            if isinstance(m, PerpetualMarket) or not snapshot.is_expired(m):
                kept.append(p)
                continue
            credit = floor_div(p.size * expiry_value(m, snapshot.settlement_prices[m.id]), pow10(m.size_decimals))
            received -= credit
            balance += (p.isolated_margin or 0) + p.quote + credit
        out.append(_rebuild(account, quote_balance=balance, positions=tuple(kept)))
    _check_fund(fund, received, "expiry settlement")
    return Settlement(tuple(out), received)


# ---- liquidation formulas -----------------------------------------------------------------------


_Int = StrictInt
_CONFIG = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class LiquidationParams(BaseModel):
    """dYdX v4 liquidation configuration (ppm). Defaults: dYdX's `LiquidationsConfig_Default`
    of its unit tests; `dydx_mainnet()` the mainnet-like genesis values."""

    model_config = _CONFIG

    bankruptcy_adjustment_ppm: _Int = Field(
        default=PPM, description="BA: scales how fast the fill price worsens as equity falls (dYdX 1_000_000)."
    )
    spread_to_maintenance_ppm: _Int = Field(
        default=100_000,
        description="SMMR: the largest spread from the valuation price, as a fraction of the position's "
        "maintenance requirement (dYdX tests 100_000, mainnet 1_500_000).",
    )
    max_liquidation_fee_ppm: _Int = Field(
        default=5_000, description="Largest penalty, as a fraction of the fill quote (dYdX tests 0.5%, mainnet 1.5%)."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_range("bankruptcy_adjustment_ppm", self.bankruptcy_adjustment_ppm, 0, 2**32)
        check_range("spread_to_maintenance_ppm", self.spread_to_maintenance_ppm, 0, 10 * PPM, hi_inclusive=True)
        check_range("max_liquidation_fee_ppm", self.max_liquidation_fee_ppm, 0, PPM, hi_inclusive=True)
        return self

    @classmethod
    def dydx_mainnet(cls) -> LiquidationParams:
        return cls(bankruptcy_adjustment_ppm=PPM, spread_to_maintenance_ppm=1_500_000, max_liquidation_fee_ppm=15_000)


def _abr(net_collateral: int, total_mmr: int, bankruptcy_adjustment_ppm: int) -> tuple[int, int]:
    """ABR = clamp(BA * (1 - TNC / TMMR), 0, 1) as (numerator, denominator); 1 when TMMR <= 0."""
    if total_mmr <= 0:
        return 1, 1
    den = total_mmr * PPM
    return min(max(bankruptcy_adjustment_ppm * (total_mmr - net_collateral), 0), den), den


def _check_fill_inputs(size: int, price: int, position_mmr: int, total_mmr: int) -> None:
    if size == 0:
        raise ValueOutOfRangeError("cannot price the liquidation of a zero size")
    check_range("liquidation price", price, 0, PRICE_BOUND)
    if position_mmr < 0 or total_mmr < 0:
        raise ValueOutOfRangeError(f"maintenance requirements must be >= 0: {position_mmr}, {total_mmr}")


def liquidation_fill_quote(
    size: int,
    price: int,
    size_decimals: int,
    position_mmr: int,
    net_collateral: int,
    total_mmr: int,
    *,
    bankruptcy_adjustment_ppm: int = PPM,
    spread_to_maintenance_ppm: int = 100_000,
) -> int:
    """Quote received for closing the whole position at the fillable price (negative: paid):
    ceil(size * price / D - ABR * SMMR * PMMR / 10**6), at least 0 for a long."""
    _check_fill_inputs(size, price, position_mmr, total_mmr)
    d = pow10(size_decimals)
    a, b = _abr(net_collateral, total_mmr, bankruptcy_adjustment_ppm)
    q = ceil_div(size * price * b * PPM - a * spread_to_maintenance_ppm * position_mmr * d, d * b * PPM)
    return max(q, 0) if size > 0 else q


def fillable_price(
    size: int,
    price: int,
    size_decimals: int,
    position_mmr: int,
    net_collateral: int,
    total_mmr: int,
    *,
    bankruptcy_adjustment_ppm: int = PPM,
    spread_to_maintenance_ppm: int = 100_000,
) -> int:
    """dYdX's fillable price per whole unit, P - ABR * SMMR * PMMR * D / (10**6 * size):
    below P for a long (rounded up, at least 0), above for a short (rounded down): the
    worst price the liquidation accepts, rounded in the liquidated account's favour."""
    _check_fill_inputs(size, price, position_mmr, total_mmr)
    a, b = _abr(net_collateral, total_mmr, bankruptcy_adjustment_ppm)
    spread = a * spread_to_maintenance_ppm * position_mmr * pow10(size_decimals)
    if size > 0:
        return max(0, ceil_div(price * b * PPM * size - spread, b * PPM * size))
    return floor_div(price * b * PPM * -size + spread, b * PPM * -size)


def bankruptcy_quote(delta_nnv: int, delta_mmr: int, net_collateral: int, total_mmr: int) -> int:
    """dYdX's bankruptcy quote for a position change: -dNNV - floor(TNC * |dMMR| / TMMR),
    the quote (received; negative = paid) at which the change leaves the account's equity
    at its maintenance-weighted share (signed, rounded toward +infinity)."""
    if total_mmr <= 0:
        raise ValueOutOfRangeError(f"total maintenance requirement must be positive, got {total_mmr}")
    return -delta_nnv - floor_div(net_collateral * abs(delta_mmr), total_mmr)


def insurance_fund_delta(fill_quote: int, bankruptcy: int, max_fee_ppm: int) -> int:
    """What the insurance fund receives for one close (dYdX GetLiquidationInsuranceFundDelta):
    d = fill - bankruptcy; d <= 0: -d is paid by the fund (returned negative); d > 0: the fee
    min(floor(|fill| * max_fee_ppm / 10**6), d)."""
    check_range("max_fee_ppm", max_fee_ppm, 0, PPM, hi_inclusive=True)
    d = fill_quote - bankruptcy
    if d <= 0:
        return d
    return min(floor_div(abs(fill_quote) * max_fee_ppm, PPM), d)


def portfolio_weight(position: Position, market: AnyMarket, snapshot: MarketSnapshot) -> int:
    """Stand-alone portfolio requirement of one position: max(max(0, max_s leg loss),
    short option minimum), the liquidation weight of a portfolio-margined position."""
    grid, d = snapshot.grid, market.size_decimals
    if isinstance(market, OptionMarket):
        values = snapshot.scenario_values[market.id]
        som = short_option_minimum(position.size, snapshot.index_prices[market.base], d, grid.short_option_min_ppm)
    else:
        values = linear_scenario_values(snapshot.mark_prices[market.id], grid)
        som = 0
    scan = max([0, *(leg_loss(position.size, d, lo, hi) for lo, hi in zip(values.lower, values.upper))])
    return max(scan, som)


# ---- results ----------------------------------------------------------------------------------


class LiquidationFill(BaseModel):
    """One counterparty's part of a close."""

    model_config = _CONFIG

    counterparty: str = Field(description="Account id: the order-book stand-in or a deleveraged account.")
    kind: Literal["liquidation", "deleverage"]
    size: _Int = Field(description="Part of the liquidated position taken over (signed like the position).")
    quote: _Int = Field(description="Paid by the counterparty to the liquidated account (negative: received by it).")


class ClosedPosition(BaseModel):
    """How one position of the liquidated account was closed (micro-quote, prices per whole unit)."""

    model_config = _CONFIG

    market: str
    scope: Literal["cross", "isolated"]
    size: _Int = Field(description="Signed size closed (the whole position).")
    valuation_price: _Int = Field(description="P: the mark, or an option's lower/upper bound.")
    net_collateral: _Int = Field(description="TNC: the scope's equity before this close.")
    weight: _Int = Field(description="w: the position's maintenance weight.")
    total_weight: _Int = Field(description="W: the weights of the scope's positions not yet closed.")
    fillable_price: _Int
    fill_quote: _Int = Field(description="Quote at the fillable price (received; negative: paid).")
    bankruptcy_quote: _Int
    fee: _Int = Field(
        description="Penalty paid to the insurance fund: min(|fill| * max fee, fill - bankruptcy); all of "
        "fill - bankruptcy (at most 1) when net_collateral <= 0."
    )
    fund_cover: _Int = Field(description="Paid by the insurance fund to bring the close up to bankruptcy.")
    deleveraged: bool = Field(description="The fund could not cover: closed against the pool at bankruptcy.")
    received: _Int = Field(description="Net quote credited for the position (fills - fee + cover).")
    fills: tuple[LiquidationFill, ...]


class LiquidationResult(BaseModel):
    """Outcome of `liquidate`: every account it touched, the fund, and the closes."""

    model_config = _CONFIG

    account: Account = Field(description="The liquidated account afterwards.")
    counterparty: Account = Field(description="The order-book stand-in afterwards.")
    pool: tuple[Account, ...] = Field(description="The deleveraging pool afterwards (same order).")
    fund: _Int = Field(description="Insurance fund balance afterwards (>= 0).")
    penalty: _Int = Field(description="Total liquidation fees paid into the fund.")
    fund_used: _Int = Field(description="Total paid by the fund to cover bad debt.")
    deleveraged_shortfall: _Int = Field(
        description="Bad debt the fund could not cover, absorbed by deleveraged counterparties (sum of "
        "bankruptcy - fill over deleveraged closes)."
    )
    equity_before: _Int = Field(description="Total equity (cross + isolated) before.")
    equity_after: _Int = Field(description="Total equity after.")
    healthy_after: bool
    closes: tuple[ClosedPosition, ...]


class Deleveraging(NamedTuple):
    """Result of `deleverage`: the pool afterwards (same order) and the fills."""

    accounts: tuple[Account, ...]
    fills: tuple[LiquidationFill, ...]


# ---- moving positions ---------------------------------------------------------------------------


def _take_over(account: Account, snapshot: MarketSnapshot, market: AnyMarket, size: int, paid: int) -> Account:
    """`account` takes `size` of `market` over and pays `paid` for it (merged into its position;
    a position that reaches zero is closed into quote_balance)."""
    f_now = snapshot.funding_indices[market.id] if isinstance(market, PerpetualMarket) else 0
    positions: list[Position] = []
    balance = account.quote_balance
    found = False
    for p in account.positions:
        if p.market != market.id:
            positions.append(p)
            continue
        found = True
        if p.funding_index != f_now:
            raise UnsettledPositionError(
                f"{account.id}: {p.market} funding settled at {p.funding_index}, the snapshot's index is {f_now}"
            )
        new_size, new_quote = p.size + size, p.quote - paid
        if new_size == 0:
            balance += new_quote + (p.isolated_margin or 0)
        else:
            positions.append(_rebuild(p, size=new_size, quote=new_quote))
    if not found:
        positions.append(Position(market=market.id, size=size, quote=-paid, funding_index=f_now))
    return _rebuild(account, quote_balance=balance, positions=tuple(positions))


def _close_out(account: Account, market_id: str, received: int) -> Account:
    """Remove the position in `market_id`; its margin, quote and `received` go to quote_balance."""
    p = next(p for p in account.positions if p.market == market_id)
    return _rebuild(
        account,
        quote_balance=account.quote_balance + (p.isolated_margin or 0) + p.quote + received,
        positions=tuple(q for q in account.positions if q.market != market_id),
    )


def _profit(position: Position, market: AnyMarket, snapshot: MarketSnapshot) -> int:
    price = _market_price(snapshot, market, position.size)
    return position.quote + floor_div(position.size * price, pow10(market.size_decimals))


def deleverage(
    market_id: str, size: int, quote: int, pool: Sequence[Account], snapshot: MarketSnapshot
) -> Deleveraging:
    """Transfer a position of `size` in `market_id` to accounts of `pool` holding opposite
    positions, which pay `quote` for it in total (the liquidated account receives it; the
    bankruptcy quote). Most profitable positions first (ties by account id), each taking at
    most its own size; the quote is split by cumulative rounding so the parts sum exactly.
    Raises `DeleveragingError` when the pool's opposite size is short."""
    market = snapshot.market(market_id)
    if size == 0:
        return Deleveraging(tuple(pool), ())
    candidates: list[tuple[int, str, int, Position]] = []
    for i, account in enumerate(pool):
        for p in account.positions:
            if p.market == market_id and p.size * size < 0:
                candidates.append((-_profit(p, market, snapshot), account.id, i, p))
    candidates.sort(key=lambda c: (c[0], c[1]))
    available = sum(abs(c[3].size) for c in candidates)
    if available < abs(size):
        raise DeleveragingError(
            f"deleveraging {size} of {market_id}: the pool's opposite positions hold only {available}"
        )
    accounts = list(pool)
    fills: list[LiquidationFill] = []
    sign = 1 if size > 0 else -1
    taken = paid_before = 0
    for _, account_id, i, p in candidates:
        take = min(abs(p.size), abs(size) - taken)
        taken += take
        paid_now = ceil_div(quote * taken, abs(size))
        part = paid_now - paid_before
        paid_before = paid_now
        accounts[i] = _take_over(accounts[i], snapshot, market, sign * take, part)
        fills.append(LiquidationFill(counterparty=account_id, kind="deleverage", size=sign * take, quote=part))
        if taken == abs(size):
            break
    return Deleveraging(tuple(accounts), tuple(fills))


# ---- liquidation --------------------------------------------------------------------------------


def _check_settled(account: Account, snapshot: MarketSnapshot) -> None:
    for p in account.positions:
        m = snapshot.market(p.market)
        if isinstance(m, PerpetualMarket):
            f_now = snapshot.funding_indices[m.id]
            if p.funding_index != f_now:
                raise UnsettledPositionError(
                    f"{account.id}: {m.id} funding settled at index {p.funding_index}, the snapshot's is {f_now}; "
                    f"run settle_funding first"
                )
        elif snapshot.is_expired(m):
            raise UnsettledPositionError(f"{account.id}: {m.id} has expired; run settle_expiry first")


@dataclass
class _Liquidation:
    """Working state of one liquidation (private; `liquidate` returns frozen models)."""

    snapshot: MarketSnapshot
    params: LiquidationParams
    account: Account
    counterparty: Account
    pool: tuple[Account, ...]
    fund: int
    penalty: int = 0
    fund_used: int = 0
    shortfall: int = 0
    closes: list[ClosedPosition] = field(default_factory=list)

    def close(
        self, position: Position, scope: Literal["cross", "isolated"], tnc: int, w: int, big_w: int, n: int
    ) -> None:
        """Close `position` whole; `w` / `big_w` its weight and the scope's remaining total, `n`
        the number of positions remaining in the scope (the bankruptcy split when big_w = 0)."""
        snap, prm = self.snapshot, self.params
        m = snap.market(position.market)
        s, d = position.size, m.size_decimals
        price = _market_price(snap, m, s)
        nnv = floor_div(s * price, pow10(d))
        kw = {
            "bankruptcy_adjustment_ppm": prm.bankruptcy_adjustment_ppm,
            "spread_to_maintenance_ppm": prm.spread_to_maintenance_ppm,
        }
        fill = liquidation_fill_quote(s, price, d, w, tnc, big_w, **kw)
        fillable = fillable_price(s, price, d, w, tnc, big_w, **kw)
        share, total = (w, big_w) if big_w > 0 else (1, n)
        bankrupt = bankruptcy_quote(-nnv, -share, tnc, total)
        delta = insurance_fund_delta(fill, bankrupt, prm.max_liquidation_fee_ppm)
        if tnc <= 0 and fill > bankrupt:  # a bankrupt scope keeps nothing above bankruptcy (<= 1 rounding)
            delta = fill - bankrupt
        fee = cover = 0
        deleveraged = False
        if delta >= 0 or self.fund >= -delta:
            fee, cover = max(delta, 0), max(-delta, 0)
            self.counterparty = _take_over(self.counterparty, snap, m, s, fill)
            fills: tuple[LiquidationFill, ...] = (
                LiquidationFill(counterparty=self.counterparty.id, kind="liquidation", size=s, quote=fill),
            )
            received = fill - fee + cover
            self.fund += fee - cover
            self.penalty += fee
            self.fund_used += cover
        else:
            deleveraged = True
            self.pool, fills = deleverage(m.id, s, bankrupt, self.pool, snap)
            received = bankrupt
            self.shortfall += -delta
        self.account = _close_out(self.account, m.id, received)
        self.closes.append(
            ClosedPosition(
                market=m.id,
                scope=scope,
                size=s,
                valuation_price=price,
                net_collateral=tnc,
                weight=w,
                total_weight=big_w,
                fillable_price=fillable,
                fill_quote=fill,
                bankruptcy_quote=bankrupt,
                fee=fee,
                fund_cover=cover,
                deleveraged=deleveraged,
                received=received,
                fills=fills,
            )
        )


def _weight(row: PositionReport, position: Position, snapshot: MarketSnapshot) -> int:
    if row.maintenance_requirement is not None:
        return row.maintenance_requirement
    return portfolio_weight(position, snapshot.market(position.market), snapshot)


def _cross_unhealthy(report: MarginReport) -> bool:
    return report.equity < report.maintenance_requirement


def liquidate(
    account: Account,
    snapshot: MarketSnapshot,
    fund: int,
    params: LiquidationParams | None = None,
    *,
    counterparty: Account,
    pool: Sequence[Account] = (),
) -> LiquidationResult:
    """Liquidate an account `compute_margin` says is liquidatable (module docstring).

    `counterparty` is the venue's order-book stand-in that takes positions over at the
    fillable price; `pool` the accounts that may be deleveraged when the insurance fund
    (`fund` micro-quote) cannot cover a close. Funding must be settled and expired
    positions settled first (`UnsettledPositionError`); a healthy account raises
    `AccountNotLiquidatableError`; account ids must be distinct (`DuplicateEntryError`).
    """
    prm = params or LiquidationParams()
    check_range("insurance fund", fund, 0, QUOTE_BOUND)
    ids = [account.id, counterparty.id, *(a.id for a in pool)]
    if len(set(ids)) != len(ids):
        raise DuplicateEntryError(f"liquidation needs distinct account ids, got {ids}")
    for a in (counterparty, *pool):
        validate_account(a, snapshot)
    report = compute_margin(account, snapshot)
    _check_settled(account, snapshot)
    if report.healthy:
        raise AccountNotLiquidatableError(
            f"{account.id} is healthy: equity {report.equity} >= maintenance requirement "
            f"{report.maintenance_requirement} and every isolated position is healthy"
        )
    state = _Liquidation(snapshot, prm, account, counterparty, tuple(pool), fund)
    positions = {p.market: p for p in account.positions}

    for row in report.positions:  # unhealthy isolated positions: each its own scope, closed whole
        if row.margin == "isolated" and row.healthy is False:
            assert row.isolated_equity is not None and row.maintenance_requirement is not None
            w = row.maintenance_requirement
            state.close(positions[row.market], "isolated", row.isolated_equity, w, w, 1)

    current = compute_margin(state.account, snapshot)
    if _cross_unhealthy(current):
        rows = {r.market: r for r in current.positions}
        cross = [p for p in state.account.positions if not p.isolated]
        weights = {p.market: _weight(rows[p.market], p, snapshot) for p in cross}
        order = sorted(cross, key=lambda p: (-rows[p.market].notional, p.market))
        for i, p in enumerate(order):
            remaining = sum(weights[q.market] for q in order[i:])
            state.close(p, "cross", current.equity, weights[p.market], remaining, len(order) - i)
            current = compute_margin(state.account, snapshot)
            if not _cross_unhealthy(current):
                break
        if current.equity < 0:  # no cross position to close: the fund pays the bad debt
            debt = -current.equity
            if state.fund < debt:
                raise InsufficientInsuranceFundError(
                    f"{account.id}: bad debt {debt} with no position left to deleverage; the fund holds {state.fund}"
                )
            state.account = _rebuild(state.account, quote_balance=state.account.quote_balance + debt)
            state.fund -= debt
            state.fund_used += debt
            current = compute_margin(state.account, snapshot)

    return LiquidationResult(
        account=state.account,
        counterparty=state.counterparty,
        pool=state.pool,
        fund=state.fund,
        penalty=state.penalty,
        fund_used=state.fund_used,
        deleveraged_shortfall=state.shortfall,
        equity_before=report.total_equity,
        equity_after=current.total_equity,
        healthy_after=current.healthy,
        closes=tuple(state.closes),
    )


__all__ = [
    "AccountNotLiquidatableError",
    "ClosedPosition",
    "Deleveraging",
    "DeleveragingError",
    "InsufficientInsuranceFundError",
    "InvalidFundingInputError",
    "LiquidationFill",
    "LiquidationParams",
    "LiquidationResult",
    "Settlement",
    "UnsettledPositionError",
    "advance_funding",
    "bankruptcy_quote",
    "deleverage",
    "dydx_funding_rate_ppm",
    "expiry_value",
    "fillable_price",
    "funding_cap_ppm",
    "funding_payment",
    "funding_rate_ppm",
    "insurance_fund_delta",
    "liquidate",
    "liquidation_fill_quote",
    "next_funding_index",
    "portfolio_weight",
    "premium_ppm",
    "settle_expiry",
    "settle_funding",
]
