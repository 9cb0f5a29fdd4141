"""The margin engine's data: pydantic models with JSON round-trips and JSON Schemas.

All quantities are ints in the units of :mod:`engine._units` (micro-quote, prices in
micro-quote per whole unit, sizes in quantums, ratios in ppm, unix seconds). Models are
frozen, refuse unknown fields, and refuse floats and numeric strings for ints (strict
ints), so ``Model.model_validate_json(m.model_dump_json()) == m``.

Context-free checks run when a model is built and raise the engine's named errors
directly (not pydantic's ValidationError): a negative collateral amount raises
`NegativeCollateralError`, a size of 2**64 `ValueOutOfRangeError`, maintenance above
initial `InvalidRiskParamsError`, a snapshot whose market names an unknown asset
`UnknownAssetError`, and so on. Checks that need both an account and a snapshot live in
`engine.validate_account`.

Markets are a discriminated union on ``kind``: ``"perpetual"``, ``"future"``,
``"option"``. Linear markets (perpetuals and futures) carry `RiskParams`; options are
always margined by the snapshot's scenario grid (see `engine._margin`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError, model_validator

from algebra import SNAPSHOT_TAG, sponge
from circuits import (
    KIND_FUTURE,
    KIND_OPTION,
    KIND_PERPETUAL,
    Key,
    Layout,
    snapshot_layout,
)

from ._errors import (
    DuplicateEntryError,
    EngineError,
    InconsistentSnapshotError,
    InvalidRiskParamsError,
    InvalidScenarioGridError,
    MalformedInputError,
    MissingPriceError,
    NegativeCollateralError,
    UnknownAssetError,
    UnknownMarketError,
    ValueOutOfRangeError,
)
from ._options import Greeks, Scenario, scenario_count, scenarios
from ._units import (
    AMOUNT_BOUND,
    FUNDING_BOUND,
    MAX_DECIMALS,
    MAX_MOVE_PPM,
    MAX_MULTIPLIER_PPM,
    PPM,
    PRICE_BOUND,
    QUOTE_BOUND,
    SIZE_BOUND,
    TIME_BOUND,
    VALUE_CHANGE_BOUND,
    VOL_MAX_PPM,
)

Int = StrictInt
#: Asset symbols, market / account ids and oracle source names: ASCII, 1 to 31
#: characters, so each fits one field element (`algebra.text_to_field`).
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,30}$")]

_CONFIG = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def _bound_text(v: int) -> str:
    if v >= 2**16 and v & (v - 1) == 0:
        return f"2**{v.bit_length() - 1}"
    return str(v)


def check_range(
    what: str, value: int, lo: int, hi: int, *, hi_inclusive: bool = False, error: type[Exception] | None = None
) -> None:
    """Raise a named error unless lo <= value < hi (or <= hi), naming both numbers."""
    ok = lo <= value <= hi if hi_inclusive else lo <= value < hi
    if not ok:
        close = "]" if hi_inclusive else ")"
        raise (error or ValueOutOfRangeError)(
            f"{what} = {value} is outside [{_bound_text(lo) if lo >= 0 else '-' + _bound_text(-lo)}, "
            f"{_bound_text(hi)}{close}"
        )


def _check_signed(what: str, value: int, bound: int) -> None:
    if not -bound < value < bound:
        raise ValueOutOfRangeError(f"{what} = {value} is outside (-{_bound_text(bound)}, {_bound_text(bound)})")


def _check_ppm(what: str, value: int) -> None:
    check_range(what, value, 0, PPM, hi_inclusive=True)


class _Model(BaseModel):
    model_config = _CONFIG


# ---- assets and risk parameters ---------------------------------------------------------


class Asset(_Model):
    """An asset: collateral, a market's base, or the quote currency's token."""

    symbol: Name = Field(description="Ticker, e.g. BTC, ETH, USDC.")
    decimals: Int = Field(description="Quantums per whole unit = 10**decimals (0..18).")
    collateral_weight_ppm: Int = Field(
        default=PPM,
        description="Haircut weight: a balance counts as floor(amount * index_price * weight / "
        "(10**decimals * 10**6)) micro-quote of collateral. 0 = not accepted as collateral.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_range(f"{self.symbol}: decimals", self.decimals, 0, MAX_DECIMALS, hi_inclusive=True)
        _check_ppm(f"{self.symbol}: collateral_weight_ppm", self.collateral_weight_ppm)
        return self


class Bracket(_Model):
    """One notional bracket (Binance style): maintenance = ceil(notional * mmr / 10**6) - cum."""

    notional_cap: Int | None = Field(
        description="Largest position notional (micro-quote, inclusive) of this bracket; null for an unbounded "
        "last bracket. Notionals above every cap use the last bracket."
    )
    mmr_ppm: Int = Field(description="Maintenance margin rate of the bracket (ppm).")
    cum: Int = Field(
        default=0,
        description="Maintenance amount (micro-quote) subtracted, Binance's 'cum': cum_i = cum_(i-1) + "
        "cap_(i-1) * (mmr_i - mmr_(i-1)) / 10**6 makes the requirement continuous.",
    )
    imf_ppm: Int | None = Field(
        default=None,
        description="Initial margin fraction in this bracket (ppm; Binance: 10**6 / max leverage); null = "
        "the market's imf_ppm.",
    )


class RiskParams(_Model):
    """Margin rules of a linear market (perpetual or future).

    Initial fraction: ``IMF = min(10**6, base + oi_increase + ceil(k * |size| / 10**d))``
    with ``base`` the bracket's ``imf_ppm`` or ``imf_ppm``, ``oi_increase`` the
    open-interest scaling (dYdX v4) and ``k = size_premium_ppm_per_unit`` (Deribit /
    Drift). Maintenance: by ``brackets`` (Binance) when given, else
    ``MMF = min(10**6, mmf_ppm + ceil(k_mm * |size| / 10**d))``. Exactly one of
    ``mmf_ppm`` and ``brackets`` is given. The venue constructors `dydx`, `binance`
    and `deribit` map published parameters onto these fields.
    """

    imf_ppm: Int = Field(description="Base initial margin fraction (ppm), e.g. 50_000 = 5% (20x).")
    mmf_ppm: Int | None = Field(
        default=None, description="Maintenance margin fraction (ppm) when there are no brackets; <= imf_ppm."
    )
    brackets: tuple[Bracket, ...] = Field(
        default=(), description="Notional brackets for the maintenance requirement (ascending caps)."
    )
    size_premium_ppm_per_unit: Int = Field(
        default=0, description="Initial fraction added per whole unit of |size| (ppm), rounded up."
    )
    mm_size_premium_ppm_per_unit: Int = Field(
        default=0,
        description="Maintenance fraction added per whole unit of |size| (ppm, rounded up; Deribit); "
        "<= size_premium_ppm_per_unit and only without brackets.",
    )
    oi_lower_cap: Int = Field(
        default=0, description="Open-interest notional (micro-quote) up to which the IMF is the base IMF."
    )
    oi_upper_cap: Int = Field(
        default=0,
        description="Open-interest notional (micro-quote) at which the IMF reaches 100%; 0 disables the scaling.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_ppm("imf_ppm", self.imf_ppm)
        check_range("size_premium_ppm_per_unit", self.size_premium_ppm_per_unit, 0, PPM, hi_inclusive=True)
        check_range("mm_size_premium_ppm_per_unit", self.mm_size_premium_ppm_per_unit, 0, PPM, hi_inclusive=True)
        check_range("oi_lower_cap", self.oi_lower_cap, 0, QUOTE_BOUND)
        check_range("oi_upper_cap", self.oi_upper_cap, 0, QUOTE_BOUND)
        if self.oi_upper_cap and self.oi_lower_cap >= self.oi_upper_cap:
            raise InvalidRiskParamsError(
                f"oi_lower_cap {self.oi_lower_cap} must be below oi_upper_cap {self.oi_upper_cap}"
            )
        if self.mm_size_premium_ppm_per_unit > self.size_premium_ppm_per_unit:
            raise InvalidRiskParamsError(
                f"mm_size_premium_ppm_per_unit {self.mm_size_premium_ppm_per_unit} exceeds "
                f"size_premium_ppm_per_unit {self.size_premium_ppm_per_unit}"
            )
        if (self.mmf_ppm is None) == (not self.brackets):
            raise InvalidRiskParamsError("give exactly one of mmf_ppm and brackets")
        if self.mmf_ppm is not None:
            _check_ppm("mmf_ppm", self.mmf_ppm)
            if self.mmf_ppm > self.imf_ppm:
                raise InvalidRiskParamsError(f"mmf_ppm {self.mmf_ppm} exceeds imf_ppm {self.imf_ppm}")
        else:
            self._check_brackets()
        return self

    def _check_brackets(self) -> None:
        if self.mm_size_premium_ppm_per_unit:
            raise InvalidRiskParamsError("mm_size_premium_ppm_per_unit cannot be combined with brackets")
        prev: Bracket | None = None
        for i, b in enumerate(self.brackets):
            what = f"brackets[{i}]"
            _check_ppm(f"{what}.mmr_ppm", b.mmr_ppm)
            check_range(f"{what}.cum", b.cum, 0, QUOTE_BOUND)
            imf = self.bracket_imf_ppm(b)
            _check_ppm(f"{what}.imf_ppm", imf)
            if b.mmr_ppm > imf:
                raise InvalidRiskParamsError(f"{what}: mmr_ppm {b.mmr_ppm} exceeds its initial fraction {imf}")
            if b.notional_cap is None:
                if i != len(self.brackets) - 1:
                    raise InvalidRiskParamsError(f"{what}: only the last bracket may have no notional_cap")
            else:
                check_range(f"{what}.notional_cap", b.notional_cap, 1, QUOTE_BOUND)
            if prev is None:
                if b.cum != 0:
                    raise InvalidRiskParamsError(f"{what}: the first bracket's cum must be 0, got {b.cum}")
            else:
                cap = prev.notional_cap
                assert cap is not None  # only the last may be None
                if b.notional_cap is not None and b.notional_cap <= cap:
                    raise InvalidRiskParamsError(f"{what}: notional_cap {b.notional_cap} is not above {cap}")
                if b.mmr_ppm < prev.mmr_ppm:
                    raise InvalidRiskParamsError(f"{what}: mmr_ppm {b.mmr_ppm} is below the previous {prev.mmr_ppm}")
                if imf < self.bracket_imf_ppm(prev):
                    raise InvalidRiskParamsError(
                        f"{what}: initial fraction {imf} is below the previous {self.bracket_imf_ppm(prev)}"
                    )
                # Monotone requirement: the cum step may not exceed cap * (mmr step) / 10**6.
                step, allowed = (b.cum - prev.cum) * PPM, cap * (b.mmr_ppm - prev.mmr_ppm)
                if not 0 <= step <= allowed:
                    raise InvalidRiskParamsError(
                        f"{what}: cum {b.cum} - {prev.cum} must lie in [0, {cap} * ({b.mmr_ppm} - {prev.mmr_ppm}) "
                        f"/ 10**6] so the maintenance requirement never falls as notional grows"
                    )
            prev = b

    def bracket_imf_ppm(self, bracket: Bracket | None) -> int:
        """The base initial fraction in `bracket` (its own or the market's)."""
        if bracket is None or bracket.imf_ppm is None:
            return self.imf_ppm
        return bracket.imf_ppm

    # ---- venue constructors -----------------------------------------------------------

    @classmethod
    def dydx(
        cls, imf_ppm: int, maintenance_fraction_ppm: int, *, oi_lower_cap: int = 0, oi_upper_cap: int = 0
    ) -> RiskParams:
        """dYdX v4 liquidity tier: MMF = ceil(IMF * maintenance_fraction / 10**6) (as dYdX's
        BigMulPpm rounding up), IMF scaled by open interest between the caps (micro-quote)."""
        _check_ppm("maintenance_fraction_ppm", maintenance_fraction_ppm)
        mmf = -((-imf_ppm * maintenance_fraction_ppm) // PPM)
        return cls(imf_ppm=imf_ppm, mmf_ppm=mmf, oi_lower_cap=oi_lower_cap, oi_upper_cap=oi_upper_cap)

    @classmethod
    def binance(cls, brackets: list[tuple[int | None, int, int, int]]) -> RiskParams:
        """Binance USD-M leverage brackets as (notional_cap, mmr_ppm, cum, max_leverage); the
        initial fraction of a bracket is ceil(10**6 / max_leverage) ppm."""
        items = tuple(
            Bracket(notional_cap=cap, mmr_ppm=mmr, cum=cum, imf_ppm=-(-PPM // lev)) for cap, mmr, cum, lev in brackets
        )
        return cls(imf_ppm=items[0].imf_ppm or PPM, brackets=items)

    @classmethod
    def deribit(cls, imf_ppm: int, mmf_ppm: int, premium_ppm_per_unit: int) -> RiskParams:
        """Deribit futures: IM = imf + k * size, MM = mmf + k * size (size in whole units)."""
        return cls(
            imf_ppm=imf_ppm,
            mmf_ppm=mmf_ppm,
            size_premium_ppm_per_unit=premium_ppm_per_unit,
            mm_size_premium_ppm_per_unit=premium_ppm_per_unit,
        )


# ---- markets ------------------------------------------------------------------------------


class _MarketBase(_Model):
    id: Name = Field(description="Market id, e.g. BTC-PERP.")
    base: Name = Field(description="Symbol of the base asset (the underlying): one contract = one whole unit of it.")
    size_decimals: Int = Field(description="Size quantums per whole unit = 10**size_decimals (0..18).")

    def _check_common(self) -> None:
        check_range(f"{self.id}: size_decimals", self.size_decimals, 0, MAX_DECIMALS, hi_inclusive=True)


class PerpetualMarket(_MarketBase):
    """A perpetual swap: linear in its mark price, with a cumulative funding index."""

    kind: Literal["perpetual"] = "perpetual"
    risk: RiskParams = Field(description="Margin rules.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        self._check_common()
        return self


class FutureMarket(_MarketBase):
    """A dated future, cash-settled at the settlement price at `expiry`."""

    kind: Literal["future"] = "future"
    expiry: Int = Field(description="Expiry (unix seconds).")
    risk: RiskParams = Field(description="Margin rules.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        self._check_common()
        check_range(f"{self.id}: expiry", self.expiry, 0, TIME_BOUND)
        return self


class OptionMarket(_MarketBase):
    """A European option on one whole unit of `base`, cash-settled at expiry:
    a call pays max(0, S - strike), a put max(0, strike - S) (micro-quote per contract)."""

    kind: Literal["option"] = "option"
    option_type: Literal["call", "put"] = Field(description="call or put.")
    strike: Int = Field(description="Strike price (micro-quote per whole unit of base).")
    expiry: Int = Field(description="Expiry (unix seconds).")
    settlement: Literal["cash"] = Field(default="cash", description="Always cash-settled.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        self._check_common()
        check_range(f"{self.id}: strike", self.strike, 1, PRICE_BOUND)
        check_range(f"{self.id}: expiry", self.expiry, 0, TIME_BOUND)
        return self

    @property
    def underlying(self) -> str:
        """The underlying asset's symbol (= base)."""
        return self.base

    def payoff(self, settlement_price: int) -> int:
        """Exact value of one contract at expiry (micro-quote)."""
        if self.option_type == "call":
            return max(0, settlement_price - self.strike)
        return max(0, self.strike - settlement_price)


Market = Annotated[PerpetualMarket | FutureMarket | OptionMarket, Field(discriminator="kind")]
LinearMarket = PerpetualMarket | FutureMarket
MARKET_KIND_CODES = {"perpetual": KIND_PERPETUAL, "future": KIND_FUTURE, "option": KIND_OPTION}


# ---- accounts -------------------------------------------------------------------------------


class Position(_Model):
    """A position in one market."""

    market: Name = Field(description="Market id.")
    size: Int = Field(description="Signed size in quantums (long > 0, short < 0), abs < 2**64.")
    quote: Int = Field(
        default=0,
        description="The position's cash so far, signed micro-quote: -entry notional for a long, +proceeds for a "
        "short, plus realised PnL and funding settled into it. Value = quote + size * mark / 10**d.",
    )
    funding_index: Int = Field(
        default=0,
        description="The perpetual's cumulative funding index when funding was last settled into quote "
        "(micro-quote per whole unit, signed); 0 for futures and options.",
    )
    isolated_margin: Int | None = Field(
        default=None,
        description="Margin (micro-quote) set aside for an isolated position; null = cross margin.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_signed(f"{self.market}: size", self.size, SIZE_BOUND)
        _check_signed(f"{self.market}: quote", self.quote, QUOTE_BOUND)
        _check_signed(f"{self.market}: funding_index", self.funding_index, FUNDING_BOUND)
        if self.isolated_margin is not None:
            if self.isolated_margin < 0:
                raise NegativeCollateralError(f"{self.market}: isolated_margin = {self.isolated_margin} is negative")
            check_range(f"{self.market}: isolated_margin", self.isolated_margin, 0, QUOTE_BOUND)
        return self

    @property
    def isolated(self) -> bool:
        return self.isolated_margin is not None


class Account(_Model):
    """A trader's account: collateral balances, a quote balance and positions."""

    id: Name = Field(description="Account id (ASCII, at most 31 characters).")
    collateral: dict[Name, Int] = Field(
        default_factory=dict, description="Collateral balances: asset symbol -> amount in the asset's quantums (>= 0)."
    )
    quote_balance: Int = Field(
        default=0, description="Settled quote balance (micro-quote), negative when borrowed; counts 1:1 in equity."
    )
    positions: tuple[Position, ...] = Field(default=(), description="At most one position per market.")
    margin_mode: Literal["standard", "portfolio"] = Field(
        default="standard",
        description="standard: linear positions by their market's rules, options by the scenario grid; "
        "portfolio: cross futures and perpetuals join their underlying's options in the scenario grid.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        for symbol, amount in self.collateral.items():
            if amount < 0:
                raise NegativeCollateralError(f"{self.id}: collateral {symbol} = {amount} is negative")
            check_range(f"{self.id}: collateral {symbol}", amount, 0, AMOUNT_BOUND)
        _check_signed(f"{self.id}: quote_balance", self.quote_balance, QUOTE_BOUND)
        seen: set[str] = set()
        for p in self.positions:
            if p.market in seen:
                raise DuplicateEntryError(f"{self.id}: two positions in market {p.market}")
            seen.add(p.market)
        return self


# ---- oracle and snapshot ---------------------------------------------------------------------


class OracleReport(_Model):
    """One source's price for one symbol (an asset's index price, or a market's mark)."""

    source: Name = Field(description="Reporting source, e.g. an exchange or an oracle node.")
    symbol: Name = Field(description="Asset symbol (index price) or market id (mark price).")
    price: Int = Field(description="Micro-quote per whole unit, 0 < price < 2**48.")
    timestamp: Int = Field(description="Observation time (unix seconds).")

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_range(f"{self.source}/{self.symbol}: price", self.price, 1, PRICE_BOUND)
        check_range(f"{self.source}/{self.symbol}: timestamp", self.timestamp, 0, TIME_BOUND)
        return self


class ScenarioGrid(_Model):
    """The public scenario grid of portfolio margin (SPAN / Deribit style).

    Scenarios, in this order (`scenarios()`, defined by `engine._options.scenarios`):
    every price move with every volatility move, price-major (``for p in price_moves:
    for v in vol_moves``), then the two extreme moves ``-extreme_move_ppm`` and
    ``+extreme_move_ppm`` with volatility unchanged. A scenario moves the underlying to
    ``S * (10**6 + p) / 10**6`` and the volatility to ``sigma * (10**6 + v) / 10**6``
    (relative moves). An extreme scenario's value change counts at
    ``extreme_fraction_ppm``, applied inside the public value tables.
    """

    price_moves_ppm: tuple[Int, ...] = Field(description="Signed relative moves of the underlying (ppm), > -10**6.")
    vol_moves_ppm: tuple[Int, ...] = Field(
        default=(0,), description="Signed relative moves of the implied volatility (ppm), > -10**6."
    )
    extreme_move_ppm: Int = Field(description="Size of the two extreme price moves (ppm), in (0, 10**6).")
    extreme_fraction_ppm: Int = Field(description="Fraction of an extreme scenario's loss that counts (ppm).")
    short_option_min_ppm: Int = Field(
        description="Short option minimum: each short contract needs at least underlying * this / 10**6."
    )
    initial_multiplier_ppm: Int = Field(
        default=PPM, description="Initial requirement = maintenance * this / 10**6 (ppm, >= 10**6, e.g. 1_300_000)."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        for name, moves in (("price_moves_ppm", self.price_moves_ppm), ("vol_moves_ppm", self.vol_moves_ppm)):
            if not moves:
                raise InvalidScenarioGridError(f"{name} is empty")
            if len(set(moves)) != len(moves):
                raise InvalidScenarioGridError(f"{name} has duplicate moves: {list(moves)}")
            for m in moves:
                check_range(name, m, -PPM + 1, MAX_MOVE_PPM, hi_inclusive=True, error=InvalidScenarioGridError)
        check_range("extreme_move_ppm", self.extreme_move_ppm, 1, PPM, error=InvalidScenarioGridError)
        for name in ("extreme_fraction_ppm", "short_option_min_ppm"):
            check_range(name, getattr(self, name), 0, PPM, hi_inclusive=True, error=InvalidScenarioGridError)
        check_range(
            "initial_multiplier_ppm",
            self.initial_multiplier_ppm,
            PPM,
            MAX_MULTIPLIER_PPM,
            hi_inclusive=True,
            error=InvalidScenarioGridError,
        )
        return self

    def scenarios(self) -> list[Scenario]:
        """All scenarios in table order, each with the fraction of its change that counts."""
        return scenarios(self)

    @property
    def scenario_count(self) -> int:
        return scenario_count(self)


class ScenarioValues(_Model):
    """Per-contract value changes of one market in every scenario of the grid (micro-quote).

    ``lower[s] <= true change <= upper[s]``: longs are charged with ``lower`` (their
    loss rounded up), shorts with ``upper`` (their loss rounded up too). For options
    they come from Black-Scholes on public data (`engine._options`), floored and
    ceiled. The two extreme scenarios hold the counted change (already multiplied by
    the grid's extreme fraction, floor for lower and ceil for upper).
    """

    lower: tuple[Int, ...] = Field(description="Floor of one long contract's value change per scenario.")
    upper: tuple[Int, ...] = Field(description="Ceiling of one long contract's value change per scenario.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(self.lower) != len(self.upper):
            raise InconsistentSnapshotError(f"lower has {len(self.lower)} scenarios, upper {len(self.upper)}")
        for s, (lo, hi) in enumerate(zip(self.lower, self.upper)):
            _check_signed(f"scenario {s} lower", lo, VALUE_CHANGE_BOUND)
            _check_signed(f"scenario {s} upper", hi, VALUE_CHANGE_BOUND)
            if lo > hi:
                raise InconsistentSnapshotError(f"scenario {s}: lower {lo} is above upper {hi}")
        return self


class PriceBounds(_Model):
    """Integer bounds on an option's true model price (micro-quote per contract)."""

    lower: Int = Field(description="<= the true price: longs are valued at it.")
    upper: Int = Field(description=">= the true price: shorts are valued at it.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_range("price bound lower", self.lower, 0, PRICE_BOUND)
        check_range("price bound upper", self.upper, 0, PRICE_BOUND)
        if self.lower > self.upper:
            raise InconsistentSnapshotError(f"price bounds: lower {self.lower} is above upper {self.upper}")
        return self


class Universe(_Model):
    """The ordered assets and markets an account encoding is dense over (see `engine._commitment`)."""

    assets: tuple[Name, ...] = Field(description="Asset symbols, in encoding order.")
    markets: tuple[Name, ...] = Field(description="Market ids, in encoding order.")
    kinds: tuple[Literal["perpetual", "future", "option"], ...] = Field(
        description="Each market's kind, in encoding order (its position record's)."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(self.kinds) != len(self.markets):
            raise MalformedInputError(f"{len(self.kinds)} kinds for {len(self.markets)} markets")
        return self


class MarketSnapshot(_Model):
    """All public market data of one epoch: what margin is computed and proven against.

    Built by `engine.build_snapshot` from oracle reports. Prices of expired markets are
    their settlement: a future's mark is its settlement price, an option's mark its
    payoff, and neither carries margin requirements. `snapshot_hash()` binds proofs to
    the snapshot.
    """

    epoch: Int = Field(description="Epoch number (>= 0).")
    timestamp: Int = Field(description="Time of the snapshot (unix seconds); markets with expiry <= it are expired.")
    assets: tuple[Asset, ...] = Field(description="Assets, in encoding order.")
    markets: tuple[Market, ...] = Field(description="Markets, in encoding order.")
    index_prices: dict[Name, Int] = Field(description="Asset symbol -> index price (oracle median).")
    mark_prices: dict[Name, Int] = Field(
        description="Market id -> mark price: linear markets per whole unit; options per contract "
        "(Black-Scholes, floored; may be 0)."
    )
    funding_indices: dict[Name, Int] = Field(
        default_factory=dict,
        description="Perpetual id -> cumulative funding index (micro-quote per whole unit; rises when longs pay).",
    )
    open_interest: dict[Name, Int] = Field(
        default_factory=dict, description="Market id -> open interest (size quantums, one side); absent = 0."
    )
    settlement_prices: dict[Name, Int] = Field(
        default_factory=dict, description="Expired market id -> settlement price of its base."
    )
    implied_vols_ppm: dict[Name, Int] = Field(
        default_factory=dict, description="Option market id -> implied volatility used (annualised, ppm)."
    )
    grid: ScenarioGrid = Field(description="The portfolio-margin scenario grid.")
    scenario_values: dict[Name, ScenarioValues] = Field(
        default_factory=dict,
        description="Option market id -> per-contract value changes per scenario (public Black-Scholes table).",
    )
    option_price_bounds: dict[Name, PriceBounds] = Field(
        default_factory=dict,
        description="Option market id -> bounds on the model price; equity values longs at lower, shorts at upper.",
    )
    greeks: dict[Name, Greeks] = Field(default_factory=dict, description="Option market id -> per-contract greeks.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_range("epoch", self.epoch, 0, 2**64)
        check_range("timestamp", self.timestamp, 0, TIME_BOUND)
        assets = self._unique("asset", [a.symbol for a in self.assets])
        markets = self._unique("market", [m.id for m in self.markets])
        for m in self.markets:
            if m.base not in assets:
                raise UnknownAssetError(f"market {m.id}: base asset {m.base} is not in the snapshot")
        self._keys("index_prices", self.index_prices, assets, UnknownAssetError)
        for table in (
            "mark_prices",
            "open_interest",
            "settlement_prices",
            "implied_vols_ppm",
            "scenario_values",
            "option_price_bounds",
        ):
            self._keys(table, getattr(self, table), markets, UnknownMarketError)
        self._keys("greeks", self.greeks, markets, UnknownMarketError)
        for a in self.assets:
            if a.symbol not in self.index_prices:
                raise MissingPriceError(f"no index price for asset {a.symbol}")
            check_range(f"index price of {a.symbol}", self.index_prices[a.symbol], 1, PRICE_BOUND)
        for m in self.markets:
            self._check_market(m)
        for market_id in self.funding_indices:
            if market_id not in markets:
                raise UnknownMarketError(f"funding_indices: {market_id} is not a market of the snapshot")
            if self.market(market_id).kind != "perpetual":
                raise InconsistentSnapshotError(f"funding_indices: {market_id} is not a perpetual")
        return self

    @staticmethod
    def _unique(what: str, names: list[str]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for n in names:
            if n in seen:
                raise DuplicateEntryError(f"two {what}s named {n}")
            seen[n] = n
        return seen

    def _keys(self, table: str, values: Mapping[str, Any], known: Mapping[str, Any], error: type[Exception]) -> None:
        for key in values:
            if key not in known:
                raise error(f"{table}: {key} is not in the snapshot")

    def _check_market(self, m: PerpetualMarket | FutureMarket | OptionMarket) -> None:
        if m.id not in self.mark_prices:
            raise MissingPriceError(f"no mark price for market {m.id}")
        mark = self.mark_prices[m.id]
        check_range(f"mark price of {m.id}", mark, 0 if m.kind == "option" else 1, PRICE_BOUND)
        check_range(f"open interest of {m.id}", self.open_interest.get(m.id, 0), 0, AMOUNT_BOUND)
        if isinstance(m, PerpetualMarket):
            if m.id not in self.funding_indices:
                raise MissingPriceError(f"no funding index for perpetual {m.id}")
            _check_signed(f"funding index of {m.id}", self.funding_indices[m.id], FUNDING_BOUND)
        if not isinstance(m, OptionMarket) and m.risk.oi_upper_cap and m.id not in self.open_interest:
            raise MissingPriceError(f"no open interest for {m.id}, whose initial fraction scales with it")
        if not isinstance(m, PerpetualMarket) and m.expiry <= self.timestamp:
            if m.id not in self.settlement_prices:
                raise MissingPriceError(f"market {m.id} expired at {m.expiry} <= {self.timestamp}: no settlement price")
            settle = self.settlement_prices[m.id]
            check_range(f"settlement price of {m.id}", settle, 1, PRICE_BOUND)
            expected = m.payoff(settle) if isinstance(m, OptionMarket) else settle
            if mark != expected:
                raise InconsistentSnapshotError(
                    f"expired market {m.id}: mark {mark}, its settlement value is {expected}"
                )
            return
        if m.id in self.settlement_prices:
            raise InconsistentSnapshotError(f"market {m.id} has a settlement price but has not expired")
        if isinstance(m, OptionMarket):
            if m.id not in self.implied_vols_ppm:
                raise MissingPriceError(f"no implied volatility for option {m.id}")
            check_range(f"implied volatility of {m.id}", self.implied_vols_ppm[m.id], 1, VOL_MAX_PPM, hi_inclusive=True)
            if m.id not in self.option_price_bounds:
                raise MissingPriceError(f"no price bounds for option {m.id}")
            bounds = self.option_price_bounds[m.id]
            if not bounds.lower <= mark <= bounds.upper:
                raise InconsistentSnapshotError(
                    f"option {m.id}: mark {mark} is outside its price bounds [{bounds.lower}, {bounds.upper}]"
                )
            if m.id not in self.scenario_values:
                raise MissingPriceError(f"no scenario values for option {m.id}")
            n = len(self.scenario_values[m.id].lower)
            if n != self.grid.scenario_count:
                raise InconsistentSnapshotError(
                    f"scenario values of {m.id} have {n} scenarios, the grid has {self.grid.scenario_count}"
                )

    # ---- lookups --------------------------------------------------------------------------

    def asset(self, symbol: str) -> Asset:
        for a in self.assets:
            if a.symbol == symbol:
                return a
        raise UnknownAssetError(f"asset {symbol} is not in snapshot epoch {self.epoch}")

    def market(self, market_id: str) -> PerpetualMarket | FutureMarket | OptionMarket:
        for m in self.markets:
            if m.id == market_id:
                return m
        raise UnknownMarketError(f"market {market_id} is not in snapshot epoch {self.epoch}")

    def is_expired(self, market: PerpetualMarket | FutureMarket | OptionMarket) -> bool:
        return not isinstance(market, PerpetualMarket) and market.expiry <= self.timestamp

    def oi_increase(self, market: PerpetualMarket | FutureMarket, base_imf_ppm: int) -> int:
        """The IMF's open-interest increase of a linear market for an IMF base
        (`engine._margin.oi_imf_increase` at its open-interest notional)."""
        from ._margin import notional, oi_imf_increase

        r = market.risk
        oi_notional = notional(self.open_interest.get(market.id, 0), self.mark_prices[market.id], market.size_decimals)
        return oi_imf_increase(base_imf_ppm, oi_notional, r.oi_lower_cap, r.oi_upper_cap)

    def option_value_bounds(self, option: OptionMarket) -> tuple[int, int]:
        """(lower, upper) value of one contract: the payoff when expired, else the price bounds."""
        if self.is_expired(option):
            payoff = self.mark_prices[option.id]
            return payoff, payoff
        b = self.option_price_bounds[option.id]
        return b.lower, b.upper

    def universe(self) -> Universe:
        return Universe(
            assets=tuple(a.symbol for a in self.assets),
            markets=tuple(m.id for m in self.markets),
            kinds=tuple(m.kind for m in self.markets),
        )

    # ---- hash -----------------------------------------------------------------------------

    def field_encoding(self) -> list[int]:
        """The snapshot as field elements, the input of `snapshot_hash`: the records of
        `circuits._encoding.snapshot_layout` (header, grid, assets, markets with their
        funding index, risk and brackets or option terms and scenarios), in its order, each
        field encoded by its declaration. Everything the margin formulas read is included;
        greeks (informational) are not."""
        return self.layout().encode(self._field_values())

    def layout(self) -> Layout:
        """The layout of `field_encoding()` for this snapshot's shape (`circuits._encoding`)."""
        markets = tuple(
            (MARKET_KIND_CODES[m.kind], 0 if isinstance(m, OptionMarket) else len(m.risk.brackets))
            for m in self.markets
        )
        return snapshot_layout(len(self.assets), markets, len(self.grid.price_moves_ppm), len(self.grid.vol_moves_ppm))

    def _field_values(self) -> dict[Key, dict[str, int | str]]:
        """Every record of the snapshot layout, by key and field name."""
        g = self.grid
        out: dict[Key, dict[str, int | str]] = {
            ("header",): {
                "epoch": self.epoch,
                "timestamp": self.timestamp,
                "n_assets": len(self.assets),
                "n_markets": len(self.markets),
            },
            ("price_moves",): {"n": len(g.price_moves_ppm)},
            ("vol_moves",): {"n": len(g.vol_moves_ppm)},
            ("grid",): {
                "extreme_move": g.extreme_move_ppm,
                "extreme_fraction": g.extreme_fraction_ppm,
                "short_option_min": g.short_option_min_ppm,
                "initial_multiplier": g.initial_multiplier_ppm,
            },
        }
        out |= {("price_move", i): {"move": v} for i, v in enumerate(g.price_moves_ppm)}
        for j, a in enumerate(self.assets):
            out[("asset", j)] = {
                "decimals": a.decimals,
                "weight": a.collateral_weight_ppm,
                "index_price": self.index_prices[a.symbol],
            }
        for k, m in enumerate(self.markets):
            out |= self._market_values(k, m)
        return out

    def _market_values(
        self, k: int, m: PerpetualMarket | FutureMarket | OptionMarket
    ) -> dict[Key, dict[str, int | str]]:
        """A market's records: common, then a perpetual's funding index, then an option's
        terms and scenario value changes or a linear market's risk and brackets."""
        position = {a.symbol: i for i, a in enumerate(self.assets)}
        out: dict[Key, dict[str, int | str]] = {
            ("market", k): {
                "kind": MARKET_KIND_CODES[m.kind],
                "base": position[m.base],
                "size_decimals": m.size_decimals,
                "expiry": 0 if isinstance(m, PerpetualMarket) else m.expiry,
                "mark": self.mark_prices[m.id],
            }
        }
        if isinstance(m, PerpetualMarket):
            out[("perpetual", k)] = {"funding_index": self.funding_indices[m.id]}
        if isinstance(m, OptionMarket):
            lower, upper = self.option_value_bounds(m)
            out[("option", k)] = {
                "lower_bound": lower,
                "upper_bound": upper,
            }
            values = None if self.is_expired(m) else self.scenario_values[m.id]
            for s in range(self.grid.scenario_count):
                changes = (values.lower[s], values.upper[s]) if values else (0, 0)
                out[("scenario", k, s)] = {"lower": changes[0], "upper": changes[1]}
            return out
        r = m.risk
        out[("linear_risk", k)] = {
            "imf": r.imf_ppm,
            "mmf": r.mmf_ppm or 0,
            "size_premium": r.size_premium_ppm_per_unit,
            "mm_size_premium": r.mm_size_premium_ppm_per_unit,
            "oi_increase": self.oi_increase(m, r.imf_ppm),
            "n_brackets": len(r.brackets),
        }
        for b, bracket in enumerate(r.brackets):
            cap = QUOTE_BOUND if bracket.notional_cap is None else bracket.notional_cap
            out[("bracket", k, b)] = {
                "cap": cap,
                "mmr": bracket.mmr_ppm,
                "cum": bracket.cum,
                "imf": r.bracket_imf_ppm(bracket),
                "oi_increase": self.oi_increase(m, r.bracket_imf_ppm(bracket)),
            }
        return out

    def snapshot_hash(self) -> int:
        """Poseidon sponge (domain ``zkmargin.snapshot.v1``) over `field_encoding()`
        (memoized by encoding: every account of an epoch reports it)."""
        return _snapshot_sponge(tuple(self.field_encoding()))


def snapshot_encoding_problem(snapshot_json: str, encoding: list[int]) -> str | None:
    """Why a published snapshot's JSON does not encode to its published field encoding, or
    None (a `ledger.SnapshotCheck`: what ties the names, decimals and prices an auditor
    reads to what the proofs hashed)."""
    try:
        snapshot = MarketSnapshot.model_validate_json(snapshot_json)
    except (ValueError, EngineError) as exc:  # shape and types, or the engine's consistency checks
        return f"the snapshot JSON is not a valid snapshot: {exc}"
    if snapshot.field_encoding() != encoding:
        return "the snapshot JSON does not encode to its published encoding"
    return None


@lru_cache(maxsize=16)
def _snapshot_sponge(encoding: tuple[int, ...]) -> int:
    return sponge(SNAPSHOT_TAG, encoding)


# ---- reports --------------------------------------------------------------------------------


class PositionReport(_Model):
    """One position's part of a margin report."""

    market: str = Field(description="Market id.")
    kind: Literal["perpetual", "future", "option"] = Field(description="The market's kind.")
    size: int = Field(description="Signed size (quantums).")
    margin: Literal["cross", "portfolio", "isolated"] = Field(
        description="cross: linear rules within the cross account; portfolio: the scenario grid of its underlying; "
        "isolated: linear rules against its own isolated margin."
    )
    expired: bool = Field(description="The market has expired: valued at settlement, no requirement.")
    mark_price: int = Field(description="The market's mark (micro-quote per whole unit; per contract for options).")
    notional: int = Field(
        description="ceil(|size| * price / 10**d): price = mark (linear) or the underlying's index (options)."
    )
    value: int = Field(description="Contribution to equity: quote + floor(size * (mark - funding owed) / 10**d).")
    unrealized_funding: int = Field(description="floor(-size * (F_now - F_entry) / 10**d), included in value.")
    initial_requirement: int | None = Field(description="Linear rules only; null in a portfolio.")
    maintenance_requirement: int | None = Field(description="Linear rules only; null in a portfolio.")
    isolated_equity: int | None = Field(description="isolated_margin + value for an isolated position.")
    healthy: bool | None = Field(description="isolated_equity >= maintenance requirement (isolated only).")
    liquidation_price: int | None = Field(
        description="Estimated mark price at which the account (or the isolated position) reaches its maintenance "
        "requirement, all other prices fixed; null when no price does or under portfolio margin."
    )
    greeks: Greeks = Field(description="Per-contract greeks times size / 10**d, floored (informational).")


class PortfolioReport(_Model):
    """The scenario-grid requirement of the positions on one underlying."""

    underlying: str = Field(description="Symbol of the underlying asset.")
    markets: tuple[str, ...] = Field(description="Markets of the positions in this portfolio.")
    scenario_losses: tuple[int, ...] = Field(description="Loss per scenario (extreme ones already scaled).")
    worst_scenario: int | None = Field(description="Index of the largest loss; null when no scenario loses.")
    scan_requirement: int = Field(description="max(0, max scenario loss).")
    short_option_minimum: int = Field(description="Sum over short options of ceil(|size| * S * min / (10**d 10**6)).")
    maintenance_requirement: int = Field(description="max(scan_requirement, short_option_minimum).")
    initial_requirement: int = Field(description="ceil(maintenance * initial_multiplier / 10**6).")


class MarginReport(_Model):
    """An account's margin against one snapshot (all amounts micro-quote)."""

    account_id: str = Field(description="The account's id.")
    epoch: int = Field(description="The snapshot's epoch.")
    snapshot_hash: str = Field(description="The snapshot's Poseidon hash (decimal string).")
    margin_mode: Literal["standard", "portfolio"] = Field(description="The account's margin mode.")
    collateral_value: int = Field(description="Sum of floor(amount * index * weight / (10**dec 10**6)).")
    equity: int = Field(description="Cross equity: collateral_value + quote_balance + cross positions' value.")
    initial_requirement: int = Field(description="Cross initial requirement.")
    maintenance_requirement: int = Field(description="Cross maintenance requirement.")
    free_collateral: int = Field(description="equity - initial_requirement (negative: no new risk allowed).")
    margin_ratio_ppm: int | None = Field(
        description="ceil(maintenance_requirement * 10**6 / equity); null when equity <= 0 (unbounded)."
    )
    total_equity: int = Field(description="equity + the isolated positions' equities.")
    healthy: bool = Field(
        description="equity >= maintenance_requirement and every isolated position's equity >= its requirement."
    )
    liquidatable: bool = Field(description="not healthy.")
    positions: tuple[PositionReport, ...] = Field(description="One report per position, in account order.")
    portfolios: tuple[PortfolioReport, ...] = Field(description="One per underlying with portfolio-margined positions.")


# ---- loading and schemas --------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)

#: Every model of the engine by name, for `zkmargin schema`.
MODELS: dict[str, type[BaseModel]] = {
    cls.__name__: cls
    for cls in (
        Asset,
        Bracket,
        RiskParams,
        PerpetualMarket,
        FutureMarket,
        OptionMarket,
        Position,
        Account,
        OracleReport,
        ScenarioGrid,
        ScenarioValues,
        Greeks,
        Universe,
        MarketSnapshot,
        PositionReport,
        PortfolioReport,
        MarginReport,
    )
}


def _one_line(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or "document"
    text = f"{loc}: {first['msg']}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problems)"
    return text


#: Longest JSON document the engine reads (an account, a snapshot with its scenario
#: tables, oracle reports): refused before it is parsed.
MAX_INPUT_BYTES = 64 * 1024 * 1024


def parse_model(cls: type[M], text: str | bytes, what: str = "input") -> M:
    """Parse JSON into `cls`; shape and type problems become MalformedInputError (one line).
    Range and consistency problems raise the engine's named errors. Text over
    MAX_INPUT_BYTES is refused unparsed; pydantic's parser refuses deep nesting (about
    200 levels) with an error rather than recursion."""
    if len(text) > MAX_INPUT_BYTES:
        raise MalformedInputError(f"{what} is longer than the {MAX_INPUT_BYTES} bytes a {cls.__name__} may have")
    try:
        return cls.model_validate_json(text)
    except ValidationError as exc:
        raise MalformedInputError(f"{what} is not a valid {cls.__name__}: {_one_line(exc)}") from None


def load_model(cls: type[M], path: str | Path) -> M:
    """Read and parse a JSON file (see `parse_model`); reads one byte past the limit at most."""
    p = Path(path)
    with p.open("rb") as f:
        return parse_model(cls, f.read(MAX_INPUT_BYTES + 1), str(p))


def load_account(path: str | Path) -> Account:
    return load_model(Account, path)


def load_snapshot(path: str | Path) -> MarketSnapshot:
    return load_model(MarketSnapshot, path)


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every model, by model name."""
    return {name: cls.model_json_schema() for name, cls in MODELS.items()}


__all__ = [
    "Account",
    "Asset",
    "Bracket",
    "FutureMarket",
    "Greeks",
    "LinearMarket",
    "MAX_INPUT_BYTES",
    "MODELS",
    "MarginReport",
    "Market",
    "MarketSnapshot",
    "OptionMarket",
    "OracleReport",
    "PerpetualMarket",
    "PortfolioReport",
    "Position",
    "PositionReport",
    "RiskParams",
    "Scenario",
    "ScenarioGrid",
    "ScenarioValues",
    "Universe",
    "check_range",
    "json_schemas",
    "load_account",
    "load_model",
    "load_snapshot",
    "parse_model",
]
