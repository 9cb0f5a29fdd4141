"""A small venue that settles: two epochs of a BTC perpetual and a BTC future, with a
funding payment, the future's expiry and a liquidation between them."""

from __future__ import annotations

from engine import (
    Account,
    FutureMarket,
    MarketSnapshot,
    Position,
    counterparty_account,
)

try:
    from tests._engine import DYDX, NOW, USD, perp_snapshot
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _engine import DYDX, NOW, USD, perp_snapshot  # type: ignore[no-redef]

BTC = 10**8
EXPIRY = NOW + 86_400
FUTURE = FutureMarket(id="BTC-FUT", base="BTC", size_decimals=8, expiry=EXPIRY, risk=DYDX)


def first_snapshot() -> MarketSnapshot:
    """Epoch 7: BTC at 65,000, funding index 1,000, the future live."""
    base = perp_snapshot(funding=1_000)
    data = base.model_dump()
    data["markets"] = [*data["markets"], FUTURE.model_dump()]
    data["mark_prices"] = {**base.mark_prices, "BTC-FUT": 65_000 * USD}
    data["open_interest"] = {**base.open_interest, "BTC-FUT": 0}
    return MarketSnapshot.model_validate(data)


def second_snapshot(first: MarketSnapshot, drop_percent: int = 12) -> MarketSnapshot:
    """Epoch 8: BTC down `drop_percent`, funding 40 USDC per BTC paid by longs, the future
    expired and settled at the new price."""
    price = 65_000 * USD * (100 - drop_percent) // 100
    data = first.model_dump()
    data.update(
        epoch=first.epoch + 1,
        timestamp=EXPIRY,
        index_prices={**first.index_prices, "BTC": price},
        mark_prices={"BTC-PERP": price, "BTC-FUT": price},
        funding_indices={"BTC-PERP": first.funding_indices["BTC-PERP"] + 40 * USD},
        settlement_prices={"BTC-FUT": price},
    )
    return MarketSnapshot.model_validate(data)


def _perp(size: int, price: int = 65_000 * USD, index: int = 1_000) -> Position:
    return Position(market="BTC-PERP", size=size, quote=-size * price // BTC, funding_index=index)


def _future(size: int, price: int = 65_000 * USD) -> Position:
    return Position(market="BTC-FUT", size=size, quote=-size * price // BTC)


def venue(first: MarketSnapshot) -> list[Account]:
    """Traders (one over-leveraged long that a 12% drop liquidates) and the house."""
    traders = [
        Account(id="alice", collateral={"USDC": 20_000 * USD}, positions=(_perp(BTC),)),
        Account(id="bob", collateral={"USDC": 10_000 * USD}, positions=(_perp(-BTC), _future(BTC))),
        Account(id="carol", collateral={"USDC": 30_000 * USD}, positions=(_perp(5 * BTC),)),
        Account(id="dave", collateral={"USDC": 40_000 * USD}, positions=(_perp(-2 * BTC), _future(-BTC // 2))),
        Account(id="erin", collateral={"USDC": 8_000 * USD}, positions=(_future(BTC // 4),)),
    ]
    return [*traders, counterparty_account(first, traders)]
