"""Generated healthy accounts of a snapshot's shape, for benchmarks (`benchmarks/epoch.py`,
`zkmargin bench epoch`): a seeded mix of the account kinds a venue proves.

Account i takes profile i mod 6 (falling back to cross perpetuals when the snapshot
has no market of the kind a profile needs):

0. cross perpetuals;  1. a future and a perpetual;  2. options (cross) with a hedge;
3. an isolated perpetual beside a cross one;  4. multi-collateral (every asset with a
weight) and a perpetual;  5. portfolio mode with options and linear positions.

Positions open at the mark (quote = -size * mark / 10**d; a perpetual's entry funding
index is the current one), sizes are drawn from a seeded generator, and collateral is
added (in the first asset, or as quote cash when no asset has a weight) until the engine
says the account meets `requirement` with margin to spare, so every account is
provable.
"""

from __future__ import annotations

import random

from ledger import Requirement

from ._margin import compute_margin
from ._models import Account, Asset, FutureMarket, MarketSnapshot, OptionMarket, PerpetualMarket, Position
from ._prove_account import check_supported, meets
from ._units import PPM

Market = PerpetualMarket | FutureMarket | OptionMarket

#: Profiles, in the order accounts take them.
PROFILES = ("cross", "future", "options", "isolated", "multi_collateral", "portfolio")


def generate_accounts(
    snapshot: MarketSnapshot, n: int, *, seed: int = 0, requirement: Requirement = "maintenance"
) -> list[Account]:
    """`n` healthy, provable accounts of the snapshot's shape (module doc), ids
    `acct00000`, ...; the same seed gives the same accounts."""
    rng = random.Random(seed)
    return [_healthy(snapshot, _account(snapshot, i, rng), requirement) for i in range(n)]


def _markets(snapshot: MarketSnapshot, kind: type[Market]) -> list[Market]:
    return [m for m in snapshot.markets if isinstance(m, kind) and not snapshot.is_expired(m)]


def _position(snapshot: MarketSnapshot, market: Market, size: int, isolated_margin: int | None = None) -> Position:
    mark = snapshot.mark_prices[market.id]
    funding = snapshot.funding_indices.get(market.id, 0) if isinstance(market, PerpetualMarket) else 0
    quote = -size * mark // 10**market.size_decimals
    return Position(market=market.id, size=size, quote=quote, funding_index=funding, isolated_margin=isolated_margin)


def _size(rng: random.Random, market: Market) -> int:
    """About 0.01 to 2 whole units (at least one quantum), long or short."""
    units = rng.uniform(0.01, 2.0) * rng.choice((-1, 1))
    return int(units * 10**market.size_decimals) or 1


def _isolated(snapshot: MarketSnapshot, market: Market, size: int) -> Position:
    """An isolated position with half its notional as isolated margin (plus 1 quote unit)."""
    notional = abs(size) * snapshot.mark_prices[market.id] // 10**market.size_decimals
    return _position(snapshot, market, size, isolated_margin=notional // 2 + 10**6)


def _positions(snapshot: MarketSnapshot, profile: str, rng: random.Random) -> list[Position]:
    perps, futures, options = (_markets(snapshot, k) for k in (PerpetualMarket, FutureMarket, OptionMarket))
    linear: list[Market] = [*perps, *futures]
    if profile == "future" and futures:
        chosen = [rng.choice(futures), *rng.sample(perps, min(1, len(perps)))]
    elif profile in ("options", "portfolio") and options:
        chosen = [*rng.sample(options, min(2, len(options))), *rng.sample(linear, min(1, len(linear)))]
    elif profile == "isolated" and len(perps) >= 2:
        cross, iso = rng.sample(perps, 2)
        return [_position(snapshot, cross, _size(rng, cross)), _isolated(snapshot, iso, _size(rng, iso))]
    else:
        chosen = rng.sample(linear, min(2, len(linear)))
    return [_position(snapshot, m, _size(rng, m)) for m in chosen]


def _account(snapshot: MarketSnapshot, i: int, rng: random.Random) -> Account:
    profile = PROFILES[i % len(PROFILES)]
    positions = _positions(snapshot, profile, rng)
    collateral: dict[str, int] = {}
    if profile == "multi_collateral":
        collateral = {a.symbol: 10**a.decimals for a in snapshot.assets if a.collateral_weight_ppm}
    return Account(
        id=f"acct{i:05d}",
        collateral=collateral,
        positions=tuple(positions),
        margin_mode="portfolio" if profile == "portfolio" else "standard",
    )


def _healthy(snapshot: MarketSnapshot, account: Account, requirement: Requirement) -> Account:
    """The account with collateral raised until it meets the requirement with a fifth to
    spare (RuntimeError if 64 top-ups do not get there)."""
    check_supported(account, snapshot)
    weighted = [a for a in snapshot.assets if a.collateral_weight_ppm]
    for _ in range(64):
        report = compute_margin(account, snapshot)
        required = report.initial_requirement if requirement == "initial" else report.maintenance_requirement
        if meets(report, requirement) and report.equity - required >= required // 5:
            return account
        account = _add_collateral(snapshot, account, max(required - report.equity, 0) * 2 + 10**6, weighted)
    raise RuntimeError(f"{account.id}: could not make the generated account healthy")


def _add_collateral(snapshot: MarketSnapshot, account: Account, quote: int, weighted: list[Asset]) -> Account:
    """`quote` micro-quote more collateral: in the first weighted asset, or as cash."""
    data = account.model_dump()
    if not weighted:
        data["quote_balance"] += quote
    else:
        asset = weighted[0]
        price = snapshot.index_prices[asset.symbol]
        amount = quote * 10**asset.decimals * PPM // (price * asset.collateral_weight_ppm) + 1
        data["collateral"][asset.symbol] = data["collateral"].get(asset.symbol, 0) + amount
    return Account.model_validate(data)


def counterparty_account(
    snapshot: MarketSnapshot,
    accounts: list[Account],
    account_id: str = "house",
    *,
    requirement: Requirement = "maintenance",
) -> Account:
    """The venue's market maker for `accounts`: in every market where their sizes do not
    net to zero, the opposite size, with the opposite of their quotes (every trade has
    two sides: sizes and quotes sum to zero over all accounts) and the current funding
    index, collateralised like a generated account. With it, every market's longs equal
    its shorts (the solvency round's net positions are zero)."""
    size: dict[str, int] = {}
    quote: dict[str, int] = {}
    for a in accounts:
        for p in a.positions:
            size[p.market] = size.get(p.market, 0) + p.size
            quote[p.market] = quote.get(p.market, 0) + p.quote
    positions = []
    for m in snapshot.markets:
        if size.get(m.id, 0):
            funding = snapshot.funding_indices.get(m.id, 0) if isinstance(m, PerpetualMarket) else 0
            positions.append(Position(market=m.id, size=-size[m.id], quote=-quote[m.id], funding_index=funding))
    return _healthy(snapshot, Account(id=account_id, positions=tuple(positions)), requirement)
