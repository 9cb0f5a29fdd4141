"""Oracle: median, staleness, deviation guard, minimum sources, and snapshot building."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    Asset,
    DuplicateEntryError,
    DuplicateSourceError,
    FutureMarket,
    FutureReportError,
    InconsistentSnapshotError,
    InsufficientSourcesError,
    MissingPriceError,
    OptionMarket,
    OracleReport,
    PerpetualMarket,
    PriceDeviationError,
    StalePriceError,
    UnknownAssetError,
    aggregate_prices,
    build_snapshot,
    load_example_snapshot,
    median,
)
from engine._examples import EXAMPLES_DIR, example_files, load_example_reports

try:
    from tests._engine import DYDX, GRID, NOW, USD
except ModuleNotFoundError:
    from _engine import DYDX, GRID, NOW, USD  # type: ignore[no-redef]


def rep(source: str, price: int, age: int = 0, symbol: str = "BTC") -> OracleReport:
    return OracleReport(source=source, symbol=symbol, price=price, timestamp=NOW - age)


def btc(prices: list[int], ages: list[int] | None = None) -> list[OracleReport]:
    ages = ages or [0] * len(prices)
    return [rep(f"s{i}", p, a) for i, (p, a) in enumerate(zip(prices, ages, strict=True))]


def agg(reports: list[OracleReport], **kw: int) -> int:
    return aggregate_prices(reports, now=NOW, **kw)["BTC"]


def test_median_odd_and_even() -> None:
    assert median([3, 1, 2]) == 2
    assert median([1, 2]) == 1  # floor of 1.5
    assert median([1, 4, 2, 3]) == 2
    assert median([7]) == 7


@given(st.lists(st.integers(1, 2**48 - 1), min_size=1, max_size=30))
def test_median_is_between_middle_values(prices: list[int]) -> None:
    m = median(prices)
    s = sorted(prices)
    assert s[(len(s) - 1) // 2] <= m <= s[len(s) // 2]
    assert sum(p <= m for p in prices) >= len(prices) / 2


def test_aggregate_takes_the_median_of_fresh_reports() -> None:
    assert agg(btc([100, 102, 101]), max_deviation_ppm=50_000) == 101
    assert agg(btc([100, 102, 101, 103]), max_deviation_ppm=50_000) == 101  # (101 + 102) // 2


def test_stale_reports_are_dropped_then_too_few_is_a_stale_price_error() -> None:
    reports = btc([100_000, 100_010, 100_020, 100_030], ages=[0, 10, 61, 600])
    assert agg(reports, max_age_s=60, min_sources=2) == 100_005
    with pytest.raises(StalePriceError, match=r"BTC: 2 fresh reports, 3 needed; 2 older than 60 s"):
        agg(reports, max_age_s=60, min_sources=3)


def test_too_few_sources() -> None:
    with pytest.raises(InsufficientSourcesError, match="BTC: 2 sources reported, 3 needed"):
        agg(btc([100, 100]))


def test_deviating_source_is_dropped() -> None:
    reports = btc([65_000 * USD, 65_010 * USD, 64_990 * USD, 70_000 * USD])
    assert agg(reports, max_deviation_ppm=20_000, min_sources=3) == 65_000 * USD


def test_too_many_deviating_sources_is_an_error() -> None:
    reports = btc([100 * USD, 110 * USD, 120 * USD])
    with pytest.raises(PriceDeviationError, match=r"1 of 3 reports within 20000 ppm of the median 110000000") as e:
        agg(reports, max_deviation_ppm=20_000, min_sources=2)
    assert "s0 100000000 (90910 ppm)" in str(e.value)


def test_duplicate_and_future_reports() -> None:
    with pytest.raises(DuplicateSourceError, match="BTC: source a reported twice"):
        agg([rep("a", 1), rep("b", 1), rep("a", 2)], min_sources=1)
    with pytest.raises(FutureReportError, match="after the snapshot time"):
        agg([rep("a", 1, age=-1)], min_sources=1)


@given(
    prices=st.lists(st.integers(10**9, 10**11), min_size=3, max_size=12),
    deviation=st.integers(0, 100_000),
)
@settings(max_examples=80, deadline=None)
def test_aggregate_is_a_kept_median_or_a_named_error(prices: list[int], deviation: int) -> None:
    try:
        price = agg(btc(prices), max_deviation_ppm=deviation, min_sources=3)
    except PriceDeviationError:
        return
    first = median(prices)
    kept = [p for p in prices if abs(p - first) * 10**6 <= deviation * first]
    assert len(kept) >= 3 and price == median(kept)
    assert min(kept) <= price <= max(kept)


# ---- build_snapshot ------------------------------------------------------------------------------

ASSETS = (Asset(symbol="USDC", decimals=6), Asset(symbol="BTC", decimals=8))
PERP = PerpetualMarket(id="BTC-PERP", base="BTC", size_decimals=8, risk=DYDX)


def three(symbol: str, price: int) -> list[OracleReport]:
    return [rep(s, price, 1, symbol) for s in ("a", "b", "c")]


def test_build_snapshot_routes_asset_and_market_reports() -> None:
    reports = three("USDC", USD) + three("BTC", 65_000 * USD) + three("BTC-PERP", 65_050 * USD)
    snap = build_snapshot(reports, epoch=3, now=NOW, assets=ASSETS, markets=(PERP,), grid=GRID)
    assert snap.index_prices == {"USDC": USD, "BTC": 65_000 * USD}
    assert snap.mark_prices == {"BTC-PERP": 65_050 * USD}
    assert snap.funding_indices == {"BTC-PERP": 0}
    with pytest.raises(DuplicateEntryError):
        build_snapshot(
            reports, epoch=3, now=NOW, assets=ASSETS, markets=(PERP,), grid=GRID, mark_prices={"BTC-PERP": 1}
        )


def test_build_snapshot_named_errors() -> None:
    base = three("USDC", USD) + three("BTC", 65_000 * USD)
    kw = {"epoch": 1, "now": NOW, "assets": ASSETS, "grid": GRID}
    with pytest.raises(UnknownAssetError, match="DOGE"):
        build_snapshot([*base, *three("DOGE", 1)], markets=(PERP,), **kw)  # type: ignore[arg-type]
    with pytest.raises(MissingPriceError, match="no oracle reports for asset BTC"):
        build_snapshot(three("USDC", USD), markets=(PERP,), **kw)  # type: ignore[arg-type]
    expired = FutureMarket(id="BTC-F", base="BTC", size_decimals=8, expiry=NOW - 1, risk=DYDX)
    with pytest.raises(MissingPriceError, match="no settlement price"):
        build_snapshot(base, markets=(expired,), **kw)  # type: ignore[arg-type]
    option = OptionMarket(id="BTC-C", base="BTC", size_decimals=1, option_type="call", strike=USD, expiry=NOW + 86_400)
    with pytest.raises(MissingPriceError, match="no implied volatility"):
        build_snapshot(base, markets=(option,), **kw)  # type: ignore[arg-type]
    with pytest.raises(InconsistentSnapshotError, match="not expired"):
        build_snapshot(base, markets=(PERP,), settlement_prices={"BTC-PERP": 1}, **kw)  # type: ignore[arg-type]


def test_build_snapshot_prices_options_and_settles_expired_markets() -> None:
    base = three("USDC", USD) + three("BTC", 65_000 * USD)
    live = OptionMarket(
        id="BTC-C", base="BTC", size_decimals=1, option_type="call", strike=70_000 * USD, expiry=NOW + 30 * 86_400
    )
    dead = OptionMarket(id="BTC-P", base="BTC", size_decimals=1, option_type="put", strike=70_000 * USD, expiry=NOW)
    future = FutureMarket(id="BTC-F", base="BTC", size_decimals=8, expiry=NOW - 60, risk=DYDX)
    snap = build_snapshot(
        base,
        epoch=1,
        now=NOW,
        assets=ASSETS,
        markets=(live, dead, future),
        grid=GRID,
        settlement_prices={"BTC-P": 64_000 * USD, "BTC-F": 64_500 * USD},
        implied_vols_ppm={"BTC": 600_000},
    )
    assert snap.mark_prices["BTC-P"] == 6_000 * USD  # exact payoff
    assert snap.mark_prices["BTC-F"] == 64_500 * USD
    assert snap.implied_vols_ppm == {"BTC-C": 600_000}
    bounds = snap.option_price_bounds["BTC-C"]
    assert 0 < bounds.lower <= snap.mark_prices["BTC-C"] <= bounds.upper
    values = snap.scenario_values["BTC-C"]
    assert len(values.lower) == GRID.scenario_count
    assert all(lo <= hi for lo, hi in zip(values.lower, values.upper, strict=True))
    assert 0 < snap.greeks["BTC-C"].delta_ppm < 10**6
    assert "BTC-P" not in snap.scenario_values


def test_example_snapshot_is_built_from_the_example_reports_and_files_are_current() -> None:
    snap = load_example_snapshot()
    assert snap.index_prices["ETH"] == 3_420_100_000  # okx's outlier was dropped
    assert len(load_example_reports()) == 12
    for name, text in example_files().items():
        assert (EXAMPLES_DIR / name).read_text() == text, f"{name} is stale: run python -m engine._examples"
