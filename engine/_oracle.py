"""Oracle: aggregate several sources' price reports into a `MarketSnapshot`.

Per symbol (an asset's index price, or a market's mark price), from the reports of one
round:

1. one report per (source, symbol): a second one raises `DuplicateSourceError`; a report
   timestamped after ``now`` raises `FutureReportError`;
2. staleness: keep reports with ``now - timestamp <= max_age_s``. Fewer than
   ``min_sources`` left: `StalePriceError` if reports were dropped for age, else
   `InsufficientSourcesError`;
3. ``m = median(prices)`` of the fresh reports;
4. deviation guard: drop reports with ``|p - m| * 10**6 > max_deviation_ppm * m``
   (exact integers). Fewer than ``min_sources`` left: `PriceDeviationError` naming the
   outliers;
5. the price is the median of the remaining reports.

The median of an odd count is the middle value; of an even count, the floor of the
mean of the two middle values, ``(a + b) // 2``. (No direction of a price favours
solvency for every account, so the rounding is simply fixed and documented.)

Everything else the snapshot holds is passed to `build_snapshot` beside the reports:

- mark prices of linear markets: a market id may itself be a report symbol (then its
  mark is aggregated like an index price), or be given in ``mark_prices`` (a venue's
  own mark, e.g. index plus premium), else it defaults to the index price of its base;
- expired markets (``expiry <= now``) need ``settlement_prices``; their mark is the
  settlement price (futures) or the exact payoff (options);
- funding indices per perpetual (default 0), open interest per market (default 0;
  required where the market's IMF scales with it);
- implied volatilities per option market id, or per underlying symbol as a fallback;
- options are then priced in public by `engine._options` (Black-Scholes, rate 0): the
  mark is the floored price, the price bounds and the per-scenario value-change bounds
  go into the snapshot, and the per-contract greeks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from . import _options
from ._errors import (
    DuplicateEntryError,
    DuplicateSourceError,
    FutureReportError,
    InsufficientSourcesError,
    MissingPriceError,
    PriceDeviationError,
    StalePriceError,
    UnknownAssetError,
)
from ._models import (
    Asset,
    FutureMarket,
    Greeks,
    MarketSnapshot,
    OptionMarket,
    OracleReport,
    PerpetualMarket,
    PriceBounds,
    ScenarioGrid,
    ScenarioValues,
    check_range,
)
from ._units import PPM, TIME_BOUND

AnyMarket = PerpetualMarket | FutureMarket | OptionMarket

#: Defaults of the oracle guards: reports at most a minute old, at most 2% from the
#: median, at least three sources.
DEFAULT_MAX_AGE_S = 60
DEFAULT_MAX_DEVIATION_PPM = 20_000
DEFAULT_MIN_SOURCES = 3


def median(prices: Sequence[int]) -> int:
    """Integer median: the middle value, or floor((a + b) / 2) of the two middle values."""
    if not prices:
        raise InsufficientSourcesError("median of no prices")
    ordered = sorted(prices)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) // 2


def deviation_ppm(price: int, reference: int) -> int:
    """ceil(|price - reference| * 10**6 / reference): a report's distance from the median."""
    return -((-abs(price - reference) * PPM) // reference)


def aggregate_symbol(
    symbol: str,
    reports: Sequence[OracleReport],
    *,
    now: int,
    max_age_s: int = DEFAULT_MAX_AGE_S,
    max_deviation_ppm: int = DEFAULT_MAX_DEVIATION_PPM,
    min_sources: int = DEFAULT_MIN_SOURCES,
) -> int:
    """The price of one symbol from its reports (steps 1-5 of the module docstring)."""
    seen: set[str] = set()
    for r in reports:
        if r.symbol != symbol:
            raise ValueError(f"report for {r.symbol} passed to the aggregation of {symbol}")
        if r.source in seen:
            raise DuplicateSourceError(f"{symbol}: source {r.source} reported twice")
        seen.add(r.source)
        if r.timestamp > now:
            raise FutureReportError(f"{symbol}: {r.source} reported at {r.timestamp}, after the snapshot time {now}")
    fresh = [r for r in reports if now - r.timestamp <= max_age_s]
    if len(fresh) < min_sources:
        stale = len(reports) - len(fresh)
        if stale:
            oldest = min(r.timestamp for r in reports)
            raise StalePriceError(
                f"{symbol}: {len(fresh)} fresh reports, {min_sources} needed; {stale} older than {max_age_s} s "
                f"at {now} (oldest at {oldest}, {now - oldest} s old)"
            )
        raise InsufficientSourcesError(f"{symbol}: {len(fresh)} sources reported, {min_sources} needed")
    m = median([r.price for r in fresh])
    kept = [r for r in fresh if abs(r.price - m) * PPM <= max_deviation_ppm * m]
    if len(kept) < min_sources:
        outliers = ", ".join(f"{r.source} {r.price} ({deviation_ppm(r.price, m)} ppm)" for r in fresh if r not in kept)
        raise PriceDeviationError(
            f"{symbol}: {len(kept)} of {len(fresh)} reports within {max_deviation_ppm} ppm of the median {m}, "
            f"{min_sources} needed; outliers: {outliers}"
        )
    return median([r.price for r in kept])


def aggregate_prices(
    reports: Iterable[OracleReport],
    *,
    now: int,
    max_age_s: int = DEFAULT_MAX_AGE_S,
    max_deviation_ppm: int = DEFAULT_MAX_DEVIATION_PPM,
    min_sources: int = DEFAULT_MIN_SOURCES,
) -> dict[str, int]:
    """Symbol -> aggregated price for every symbol that has reports."""
    check_range("now", now, 0, TIME_BOUND)
    check_range("max_age_s", max_age_s, 0, TIME_BOUND)
    check_range("max_deviation_ppm", max_deviation_ppm, 0, PPM, hi_inclusive=True)
    check_range("min_sources", min_sources, 1, 2**16)
    by_symbol: dict[str, list[OracleReport]] = defaultdict(list)
    for r in reports:
        by_symbol[r.symbol].append(r)
    return {
        symbol: aggregate_symbol(
            symbol, group, now=now, max_age_s=max_age_s, max_deviation_ppm=max_deviation_ppm, min_sources=min_sources
        )
        for symbol, group in sorted(by_symbol.items())
    }


def build_snapshot(
    reports: Iterable[OracleReport],
    *,
    epoch: int,
    now: int,
    assets: Sequence[Asset],
    markets: Sequence[AnyMarket],
    grid: ScenarioGrid,
    max_age_s: int = DEFAULT_MAX_AGE_S,
    max_deviation_ppm: int = DEFAULT_MAX_DEVIATION_PPM,
    min_sources: int = DEFAULT_MIN_SOURCES,
    mark_prices: Mapping[str, int] | None = None,
    funding_indices: Mapping[str, int] | None = None,
    open_interest: Mapping[str, int] | None = None,
    settlement_prices: Mapping[str, int] | None = None,
    implied_vols_ppm: Mapping[str, int] | None = None,
) -> MarketSnapshot:
    """Aggregate the reports and assemble (and validate) the snapshot of `epoch` at `now`.

    See the module docstring for where each table comes from. Raises the oracle's named
    errors (stale, too few sources, deviating, duplicate source), `UnknownAssetError`
    for a report whose symbol is neither an asset nor a market, `MissingPriceError`
    for an asset without reports, an expired market without a settlement price or an
    option without a volatility, and whatever `MarketSnapshot` validation raises.
    """
    asset_symbols = {a.symbol for a in assets}
    market_ids = {m.id: m for m in markets}
    prices = aggregate_prices(
        reports, now=now, max_age_s=max_age_s, max_deviation_ppm=max_deviation_ppm, min_sources=min_sources
    )
    for symbol in prices:
        if symbol not in asset_symbols and symbol not in market_ids:
            raise UnknownAssetError(f"oracle reports for {symbol}, which is neither an asset nor a market")
    index = {a.symbol: prices[a.symbol] for a in assets if a.symbol in prices}
    for a in assets:
        if a.symbol not in index:
            raise MissingPriceError(f"no oracle reports for asset {a.symbol}")
    explicit_marks = dict(mark_prices or {})
    for market_id in explicit_marks:
        if market_id in prices:
            raise DuplicateEntryError(f"mark price of {market_id} given both by oracle reports and by mark_prices")
    settlements = dict(settlement_prices or {})
    vols_in = dict(implied_vols_ppm or {})

    marks: dict[str, int] = {}
    vols: dict[str, int] = {}
    bounds: dict[str, PriceBounds] = {}
    values: dict[str, ScenarioValues] = {}
    greeks: dict[str, Greeks] = {}
    for m in markets:
        given = explicit_marks.get(m.id, prices.get(m.id))
        if not isinstance(m, PerpetualMarket) and m.expiry <= now:
            if m.id not in settlements:
                raise MissingPriceError(f"market {m.id} expired at {m.expiry} <= {now}: no settlement price")
            settle = settlements[m.id]
            default = m.payoff(settle) if isinstance(m, OptionMarket) else settle
            marks[m.id] = default if given is None else given
            continue
        if not isinstance(m, OptionMarket):
            marks[m.id] = index[m.base] if given is None else given
            continue
        vol = vols_in.get(m.id, vols_in.get(m.base))
        if vol is None:
            raise MissingPriceError(f"no implied volatility for option {m.id} (nor for its underlying {m.base})")
        vols[m.id] = vol
        spot = index[m.base]
        lower, upper = _options.option_price_bounds(m, spot, vol, now)
        bounds[m.id] = PriceBounds(lower=lower, upper=upper)
        marks[m.id] = _options.option_price(m, spot, vol, now) if given is None else given
        lo, hi = _options.scenario_value_changes_bounds(m, spot, vol, now, grid)
        values[m.id] = ScenarioValues(lower=tuple(lo), upper=tuple(hi))
        greeks[m.id] = _options.greeks(m, spot, vol, now)
    funding = {m.id: 0 for m in markets if isinstance(m, PerpetualMarket)}
    funding.update(funding_indices or {})
    return MarketSnapshot(
        epoch=epoch,
        timestamp=now,
        assets=tuple(assets),
        markets=tuple(markets),
        index_prices=index,
        mark_prices=marks,
        funding_indices=funding,
        open_interest=dict(open_interest or {}),
        settlement_prices=settlements,
        implied_vols_ppm=vols,
        grid=grid,
        scenario_values=values,
        option_price_bounds=bounds,
        greeks=greeks,
    )
