"""The next epoch's snapshot from this one, for demos, tests and what-if runs: prices
moved, funding accrued, dated markets expired. A venue's real next snapshot comes from
its oracle reports (`build_snapshot`); this one reprices only what a move can reprice
without an options model (live options keep their marks, bounds and scenario values).

    nxt = roll_snapshot(snapshot, move_ppm=-60_000, funding_rates_ppm={"BTC-PERP": 300}, expire=True)
"""

from __future__ import annotations

from collections.abc import Mapping

from ._models import MarketSnapshot, OptionMarket, PerpetualMarket
from ._settlement import advance_funding
from ._units import PPM


def roll_snapshot(
    snapshot: MarketSnapshot,
    *,
    move_ppm: int = 0,
    funding_rates_ppm: Mapping[str, int] | None = None,
    expire: bool = False,
) -> MarketSnapshot:
    """Epoch + 1; every non-quote index price and every perpetual's and live future's mark
    moved by `move_ppm`; each perpetual's funding index advanced one interval at its rate
    (`advance_funding`, at the new marks); with `expire`, the clock moved to the last
    expiry of the dated markets, each settled at its underlying's new index price (an
    option marked at its payoff; markets expired before keep their prices). Raises the
    engine's named errors for what does not make a valid snapshot."""
    quote = snapshot.assets[0].symbol

    def moved(price: int) -> int:
        return max(1, price * (PPM + move_ppm) // PPM)

    data = snapshot.model_dump()
    index = {s: p if s == quote else moved(p) for s, p in snapshot.index_prices.items()}
    fixed = {m.id for m in snapshot.markets if isinstance(m, OptionMarket) or m.id in snapshot.settlement_prices}
    marks = {
        m.id: snapshot.mark_prices[m.id] if m.id in fixed else moved(snapshot.mark_prices[m.id])
        for m in snapshot.markets
    }
    data.update(epoch=snapshot.epoch + 1, index_prices=index, mark_prices=marks)
    dated = [
        m for m in snapshot.markets if not isinstance(m, PerpetualMarket) and m.id not in snapshot.settlement_prices
    ]
    if expire and dated:  # those expired before keep their settlement prices
        data["timestamp"] = max(snapshot.timestamp, *(m.expiry for m in dated))
        data["settlement_prices"] = {**snapshot.settlement_prices, **{m.id: index[m.base] for m in dated}}
        marks.update({m.id: m.payoff(index[m.base]) if isinstance(m, OptionMarket) else index[m.base] for m in dated})
    rolled = MarketSnapshot.model_validate(data)
    return advance_funding(rolled, funding_rates_ppm or {})
