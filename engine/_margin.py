"""Margin: an account's equity and requirements against a snapshot, in integers.

These formulas are the specification the margin circuit reproduces constraint by
constraint. Notation: ``d`` = the market's size_decimals, ``D = 10**d``, ``s`` = signed
size (quantums), ``P`` = mark price, ``S`` = the underlying's index price, ``ppm`` =
10**6. ``ceil``/``floor`` are exact integer divisions (`engine._units`); requirements
round up, values round down.

Equity (cross)::

    collateral  = sum_assets floor(amount * index * weight_ppm / (10**decimals * ppm))
    value(pos)  = quote + floor(s * (P' - (F_now - F_entry)) / D)
    equity      = collateral + quote_balance + sum_{cross and portfolio positions} value

``F`` is a perpetual's cumulative funding index (0 for futures and options; longs pay
when it rises). ``P'`` is the mark of a linear market; for an option it is the lower
price bound for a long and the upper bound for a short (the payoff once expired).

Linear rules (cross positions in standard mode, and every isolated position)::

    notional   = ceil(|s| * P / D)
    oi_notional= ceil(open_interest * P / D)
    base       = the bracket's imf (bracket chosen by notional), else imf_ppm
    oi_inc     = ceil((ppm - base) * (clamp(oi_notional, lo, hi) - lo) / (hi - lo))   (0 if hi == 0)
    IMF        = min(ppm, base + oi_inc + ceil(k * |s| / D))
    IMR        = ceil(notional * IMF / ppm)
    MMR        = ceil(notional * mmr_b / ppm) - cum_b                 (brackets; b = first with notional <= cap)
               = ceil(notional * min(ppm, mmf + ceil(k_mm * |s| / D)) / ppm)  (otherwise)

The bracket of a notional is the first whose cap is >= it (the last if none is).
Expired markets carry no requirement (they are valued at settlement).

Portfolio rules (every option; in portfolio mode also cross perpetuals and futures),
per underlying, with each leg's exact loss in each scenario (options: per-contract
value changes ``lo[i][s] <= true <= hi[i][s]`` from the snapshot's public Black-Scholes
table; linear markets: the exact change ``P * move_s * fraction_s / ppm**2``), summed
exactly over the legs and rounded up once per scenario::

    loss_s     = ceil(sum_i leg_i,s)
    leg_i,s    = (neg_i * hi[i][s] - pos_i * lo[i][s]) / D_i           (options)
               = -s_i * P_i * move_s * fraction_s / (ppm**2 * D_i)     (perpetuals, futures)
                 with pos_i = max(s_i, 0), neg_i = max(-s_i, 0)
    scan       = max(0, max_s loss_s)
    SOM        = sum_{short options} ceil(|s_i| * S * short_option_min_ppm / (D_i * ppm))
    MMR        = max(scan, SOM)
    IMR        = ceil(MMR * initial_multiplier_ppm / ppm)

(The short option minimum is a floor under the scan requirement, as SPAN's.)

Cross requirements add up: ``MMR_cross`` = the linear MMRs of the cross positions plus
the MMR of every portfolio (one per underlying), and likewise ``IMR_cross``.

Verdicts::

    healthy          = equity >= MMR_cross and, for every isolated position,
                       isolated_margin + value >= its MMR        (equality is healthy)
    free_collateral  = equity - IMR_cross
    margin_ratio_ppm = ceil(MMR_cross * ppm / equity) if equity > 0 else None

Estimated liquidation price (informational, not proven) of a linear position judged by
the linear rules: with every other input fixed (also the index prices that value
collateral and the marks of other markets on the same underlying), bisection over
integer mark prices in [1, 2**48) on the engine's own health predicate. A long reports
the lowest price at which the account (or the isolated position) is healthy while one
micro-quote lower it is not; a short the highest healthy price while one above is not.
Both are the conservative side of the boundary. None when no price in range flips the
verdict, and for options and positions in a portfolio (their requirement is not a
function of one price).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from circuits import NOTIONAL_BITS, SCENARIO_LOSS_BITS

from ._errors import (
    ExposureTooLargeError,
    StalePriceError,
    UnknownAssetError,
    UnknownMarketError,
    UnsupportedPositionError,
)
from ._models import (
    Account,
    Bracket,
    FutureMarket,
    Greeks,
    MarginReport,
    MarketSnapshot,
    OptionMarket,
    PerpetualMarket,
    PortfolioReport,
    Position,
    PositionReport,
    RiskParams,
    ScenarioGrid,
    ScenarioValues,
)
from ._units import MAX_DECIMALS, PPM, PRICE_BOUND, ceil_div, floor_div, pow10

AnyMarket = PerpetualMarket | FutureMarket | OptionMarket

# ---- small pure formulas ----------------------------------------------------------------


def collateral_value(amount: int, index_price: int, decimals: int, weight_ppm: int) -> int:
    """floor(amount * index_price * weight_ppm / (10**decimals * 10**6)) micro-quote."""
    return floor_div(amount * index_price * weight_ppm, pow10(decimals) * PPM)


def notional(size: int, price: int, size_decimals: int) -> int:
    """ceil(|size| * price / 10**size_decimals) micro-quote."""
    return ceil_div(abs(size) * price, pow10(size_decimals))


def position_value(size: int, quote: int, price: int, funding_owed: int, size_decimals: int) -> int:
    """quote + floor(size * (price - funding_owed) / 10**d), with funding_owed = F_now - F_entry."""
    return quote + floor_div(size * (price - funding_owed), pow10(size_decimals))


def unrealized_funding(size: int, funding_owed: int, size_decimals: int) -> int:
    """floor(-size * (F_now - F_entry) / 10**d): funding received (> 0) or owed (< 0)."""
    return floor_div(-size * funding_owed, pow10(size_decimals))


def size_premium_ppm(premium_ppm_per_unit: int, size: int, size_decimals: int) -> int:
    """ceil(k * |size| / 10**d): the fraction added for a position of |size|."""
    return ceil_div(premium_ppm_per_unit * abs(size), pow10(size_decimals))


def oi_imf_increase(base_imf_ppm: int, oi_notional: int, lower_cap: int, upper_cap: int) -> int:
    """dYdX v4 open-interest scaling: the IMF rises linearly from base to 100% between the
    caps, ceil((10**6 - base) * (clamp(oi, lower, upper) - lower) / (upper - lower)); 0 when
    upper_cap == 0 (scaling disabled)."""
    if upper_cap == 0:
        return 0
    clamped = min(max(oi_notional, lower_cap), upper_cap)
    return ceil_div((PPM - base_imf_ppm) * (clamped - lower_cap), upper_cap - lower_cap)


def select_bracket(brackets: Sequence[Bracket], notional_value: int) -> int:
    """Index of the first bracket whose cap is >= notional (the last one if none is)."""
    for i, b in enumerate(brackets):
        if b.notional_cap is None or notional_value <= b.notional_cap:
            return i
    return len(brackets) - 1


@dataclass(frozen=True)
class LinearRequirement:
    """The linear-rule requirement of one position (all micro-quote, fractions ppm)."""

    notional: int
    imf_ppm: int
    initial: int
    maintenance: int
    bracket: int | None


def linear_requirement(
    risk: RiskParams, size: int, price: int, size_decimals: int, open_interest: int
) -> LinearRequirement:
    """IMR and MMR of `size` at `price` under `risk` (formulas in the module docstring)."""
    n = notional(size, price, size_decimals)
    bracket_index = select_bracket(risk.brackets, n) if risk.brackets else None
    bracket = risk.brackets[bracket_index] if bracket_index is not None else None
    base = risk.bracket_imf_ppm(bracket)
    oi_notional = notional(open_interest, price, size_decimals)
    increase = oi_imf_increase(base, oi_notional, risk.oi_lower_cap, risk.oi_upper_cap)
    imf = min(PPM, base + increase + size_premium_ppm(risk.size_premium_ppm_per_unit, size, size_decimals))
    initial = ceil_div(n * imf, PPM)
    if bracket is not None:
        maintenance = ceil_div(n * bracket.mmr_ppm, PPM) - bracket.cum
    else:
        assert risk.mmf_ppm is not None  # RiskParams guarantees mmf_ppm or brackets
        mmf = min(PPM, risk.mmf_ppm + size_premium_ppm(risk.mm_size_premium_ppm_per_unit, size, size_decimals))
        maintenance = ceil_div(n * mmf, PPM)
    return LinearRequirement(n, imf, initial, maintenance, bracket_index)


def linear_scenario_values(price: int, grid: ScenarioGrid) -> ScenarioValues:
    """Per-contract value change of a linear market in every scenario:
    floor / ceil(price * move * fraction / 10**12) (volatility moves do not matter)."""
    lower, upper = [], []
    for sc in grid.scenarios():
        change = price * sc.price_move_ppm * sc.fraction_ppm
        lower.append(floor_div(change, PPM * PPM))
        upper.append(ceil_div(change, PPM * PPM))
    return ScenarioValues(lower=tuple(lower), upper=tuple(upper))


def leg_loss(size: int, size_decimals: int, lower: int, upper: int) -> int:
    """ceil((neg * upper - pos * lower) / 10**d): one leg's loss in one scenario."""
    pos, neg = max(size, 0), max(-size, 0)
    return ceil_div(neg * upper - pos * lower, pow10(size_decimals))


#: Denominator of the legs' exact scenario losses: 10**(18 + 12) is a multiple of an
#: option leg's 10**d and a linear leg's 10**d * ppm**2 (d <= 18).
SCENARIO_DENOMINATOR = 10 ** (MAX_DECIMALS + 12)


def option_leg_numerators(size: int, size_decimals: int, values: ScenarioValues) -> list[int]:
    """An option leg's loss in each scenario over SCENARIO_DENOMINATOR:
    (neg * upper - pos * lower) * 10**(30 - d)."""
    pos, neg = max(size, 0), max(-size, 0)
    scale = SCENARIO_DENOMINATOR // pow10(size_decimals)
    return [(neg * hi - pos * lo) * scale for lo, hi in zip(values.lower, values.upper, strict=True)]


def linear_leg_numerators(size: int, size_decimals: int, price: int, grid: ScenarioGrid) -> list[int]:
    """A perpetual's or future's exact loss in each scenario over SCENARIO_DENOMINATOR:
    -size * price * move * fraction * 10**(18 - d)."""
    scale = SCENARIO_DENOMINATOR // (pow10(size_decimals) * PPM * PPM)
    return [-size * price * sc.price_move_ppm * sc.fraction_ppm * scale for sc in grid.scenarios()]


def scenario_losses(numerators: Sequence[Sequence[int]], count: int) -> list[int]:
    """loss_s = ceil(sum over legs of their numerators / SCENARIO_DENOMINATOR): the legs'
    exact losses summed, rounded up once per scenario."""
    return [ceil_div(sum(leg[s] for leg in numerators), SCENARIO_DENOMINATOR) for s in range(count)]


def short_option_minimum(size: int, underlying_price: int, size_decimals: int, minimum_ppm: int) -> int:
    """ceil(|size| * S * minimum_ppm / (10**d * 10**6)) for a short option, 0 for a long."""
    if size >= 0:
        return 0
    return ceil_div(-size * underlying_price * minimum_ppm, pow10(size_decimals) * PPM)


def margin_ratio_ppm(maintenance: int, equity: int) -> int | None:
    """ceil(maintenance * 10**6 / equity), None when equity <= 0."""
    return ceil_div(maintenance * PPM, equity) if equity > 0 else None


def liquidation_price(
    size: int, healthy_at: Callable[[int], bool], lo: int = 1, hi: int = PRICE_BOUND - 1
) -> int | None:
    """Bisection for the conservative boundary of `healthy_at` over integer prices in [lo, hi]:
    a long's lowest healthy price above an unhealthy one, a short's highest healthy price
    below an unhealthy one; None when the verdict does not flip in range."""
    if size == 0:
        return None
    if size > 0:
        if healthy_at(lo) or not healthy_at(hi):
            return None
        while hi - lo > 1:  # healthy_at(hi), not healthy_at(lo)
            mid = (lo + hi) // 2
            if healthy_at(mid):
                hi = mid
            else:
                lo = mid
        return hi
    if healthy_at(hi) or not healthy_at(lo):
        return None
    while hi - lo > 1:  # healthy_at(lo), not healthy_at(hi)
        mid = (lo + hi) // 2
        if healthy_at(mid):
            lo = mid
        else:
            hi = mid
    return lo


# ---- validation ---------------------------------------------------------------------------


def validate_account(
    account: Account, snapshot: MarketSnapshot, *, now: int | None = None, max_age_s: int | None = None
) -> None:
    """Check an account against a snapshot before any arithmetic (named errors).

    Unknown collateral assets (`UnknownAssetError`), unknown markets
    (`UnknownMarketError`), isolated options or a funding index on a non-perpetual
    (`UnsupportedPositionError`), and, when `now` and `max_age_s` are given, a snapshot
    older than `max_age_s` (`StalePriceError`). Ranges were checked when the models
    were built.
    """
    if now is not None and max_age_s is not None and now - snapshot.timestamp > max_age_s:
        raise StalePriceError(
            f"snapshot epoch {snapshot.epoch} is from {snapshot.timestamp}, {now - snapshot.timestamp} s before "
            f"{now}; at most {max_age_s} s allowed"
        )
    symbols = {a.symbol for a in snapshot.assets}
    for symbol in account.collateral:
        if symbol not in symbols:
            raise UnknownAssetError(
                f"{account.id}: collateral {symbol} is not an asset of snapshot epoch {snapshot.epoch}"
            )
    markets = {m.id: m for m in snapshot.markets}
    for p in account.positions:
        m = markets.get(p.market)
        if m is None:
            raise UnknownMarketError(
                f"{account.id}: position in {p.market}, not a market of snapshot epoch {snapshot.epoch}"
            )
        if isinstance(m, OptionMarket) and p.isolated:
            raise UnsupportedPositionError(
                f"{account.id}: option {p.market} cannot be isolated (options are portfolio-margined)"
            )
        if not isinstance(m, PerpetualMarket) and p.funding_index != 0:
            raise UnsupportedPositionError(
                f"{account.id}: {p.market} is a {m.kind}, but the position has funding_index {p.funding_index}"
            )
        _check_exposure(account.id, p, m, snapshot)


def _check_exposure(account: str, p: Position, m: AnyMarket, snapshot: MarketSnapshot) -> None:
    """ExposureTooLargeError for a notional >= 2**96 or an option's scenario loss >= 2**100
    (a linear position's is below 10 times its notional). An option's notional (size times
    the underlying's index) is bounded where the circuit uses it: its short side, in the
    short option minimum; a long option enters only through its value and its scenario
    losses, whose widths are the size's and the price's, and the loss bound below."""
    if isinstance(m, OptionMarket):
        size, price = max(-p.size, 0), snapshot.index_prices[m.base]
    else:
        size, price = abs(p.size), snapshot.mark_prices[m.id]
    if size * price > ((1 << NOTIONAL_BITS) - 1) * pow10(m.size_decimals):  # ceil(...) >= 2**96
        raise ExposureTooLargeError(f"{account}: the notional of {p.market} is 2**{NOTIONAL_BITS} or more")
    if isinstance(m, OptionMarket) and not snapshot.is_expired(m):
        limit = (1 << SCENARIO_LOSS_BITS) * SCENARIO_DENOMINATOR
        if any(abs(n) >= limit for n in option_leg_numerators(p.size, m.size_decimals, snapshot.scenario_values[m.id])):
            raise ExposureTooLargeError(f"{account}: a scenario loss of {p.market} is 2**{SCENARIO_LOSS_BITS} or more")


# ---- the account ------------------------------------------------------------------------------


def _funding_owed(snapshot: MarketSnapshot, market: AnyMarket, position: Position) -> int:
    if isinstance(market, PerpetualMarket):
        return snapshot.funding_indices[market.id] - position.funding_index
    return 0


def _valuation_price(snapshot: MarketSnapshot, market: AnyMarket, size: int) -> int:
    if isinstance(market, OptionMarket):
        lower, upper = snapshot.option_value_bounds(market)
        return lower if size > 0 else upper
    return snapshot.mark_prices[market.id]


def _greeks(delta_ppm: int = 0, gamma: int = 0, vega: int = 0, theta: int = 0) -> Greeks:
    return Greeks(delta_ppm=delta_ppm, gamma_ppm_per_pct=gamma, vega_per_vol_point=vega, theta_per_day=theta)


def _position_greeks(snapshot: MarketSnapshot, market: AnyMarket, size: int, expired: bool) -> Greeks:
    scale = pow10(market.size_decimals)
    if expired:
        return _greeks()
    if not isinstance(market, OptionMarket):
        return Greeks(
            delta_ppm=floor_div(size * PPM, scale), gamma_ppm_per_pct=0, vega_per_vol_point=0, theta_per_day=0
        )
    g = snapshot.greeks.get(market.id)
    if g is None:
        return _greeks()
    return Greeks(
        delta_ppm=floor_div(g.delta_ppm * size, scale),
        gamma_ppm_per_pct=floor_div(g.gamma_ppm_per_pct * size, scale),
        vega_per_vol_point=floor_div(g.vega_per_vol_point * size, scale),
        theta_per_day=floor_div(g.theta_per_day * size, scale),
    )


@dataclass
class _Row:
    """Working state of one position while the report is assembled."""

    position: Position
    market: AnyMarket
    margin: str
    expired: bool
    value: int
    funding_owed: int
    notional: int
    requirement: LinearRequirement | None = None


def _portfolio(underlying: str, rows: list[_Row], snapshot: MarketSnapshot) -> PortfolioReport:
    grid = snapshot.grid
    legs: list[list[int]] = []
    som = 0
    spot = snapshot.index_prices[underlying]
    for r in rows:
        m, size = r.market, r.position.size
        if isinstance(m, OptionMarket):
            legs.append(option_leg_numerators(size, m.size_decimals, snapshot.scenario_values[m.id]))
            som += short_option_minimum(size, spot, m.size_decimals, grid.short_option_min_ppm)
        else:
            legs.append(linear_leg_numerators(size, m.size_decimals, snapshot.mark_prices[m.id], grid))
    losses = scenario_losses(legs, grid.scenario_count)
    worst = max(range(len(losses)), key=lambda s: (losses[s], -s))
    scan = max(0, losses[worst])
    maintenance = max(scan, som)
    return PortfolioReport(
        underlying=underlying,
        markets=tuple(r.market.id for r in rows),
        scenario_losses=tuple(losses),
        worst_scenario=worst if losses[worst] > 0 else None,
        scan_requirement=scan,
        short_option_minimum=som,
        maintenance_requirement=maintenance,
        initial_requirement=ceil_div(maintenance * grid.initial_multiplier_ppm, PPM),
    )


def compute_margin(
    account: Account, snapshot: MarketSnapshot, *, now: int | None = None, max_age_s: int | None = None
) -> MarginReport:
    """The account's `MarginReport` under `snapshot` (formulas in the module docstring).

    Calls `validate_account` first, so malformed combinations raise named errors
    before any arithmetic.
    """
    validate_account(account, snapshot, now=now, max_age_s=max_age_s)
    collateral = sum(
        collateral_value(
            amount, snapshot.index_prices[sym], (a := snapshot.asset(sym)).decimals, a.collateral_weight_ppm
        )
        for sym, amount in account.collateral.items()
    )
    rows: list[_Row] = []
    for p in account.positions:
        m = snapshot.market(p.market)
        expired = snapshot.is_expired(m)
        owed = _funding_owed(snapshot, m, p)
        value = position_value(p.size, p.quote, _valuation_price(snapshot, m, p.size), owed, m.size_decimals)
        if p.isolated:
            margin = "isolated"
        elif isinstance(m, OptionMarket) or account.margin_mode == "portfolio":
            margin = "portfolio"
        else:
            margin = "cross"
        price = snapshot.index_prices[m.base] if isinstance(m, OptionMarket) else snapshot.mark_prices[m.id]
        row = _Row(p, m, margin, expired, value, owed, notional(p.size, price, m.size_decimals))
        if margin != "portfolio" and not isinstance(m, OptionMarket):
            row.requirement = (
                LinearRequirement(row.notional, 0, 0, 0, None)
                if expired
                else linear_requirement(m.risk, p.size, price, m.size_decimals, snapshot.open_interest.get(m.id, 0))
            )
        rows.append(row)

    groups: dict[str, list[_Row]] = defaultdict(list)
    for r in rows:
        if r.margin == "portfolio" and not r.expired:
            groups[r.market.base].append(r)
    portfolios = [_portfolio(u, groups[u], snapshot) for u in sorted(groups)]

    cross_rows = [r for r in rows if r.margin != "isolated"]
    equity = collateral + account.quote_balance + sum(r.value for r in cross_rows)
    linear_cross = [r.requirement for r in cross_rows if r.requirement is not None]
    initial = sum(q.initial for q in linear_cross) + sum(p.initial_requirement for p in portfolios)
    maintenance = sum(q.maintenance for q in linear_cross) + sum(p.maintenance_requirement for p in portfolios)

    reports: list[PositionReport] = []
    all_isolated_ok = True
    isolated_total = 0
    for r in rows:
        p, m, req = r.position, r.market, r.requirement
        iso_equity: int | None = None
        iso_ok: bool | None = None
        liq: int | None = None
        if r.margin == "isolated":
            assert req is not None and p.isolated_margin is not None
            iso_equity = p.isolated_margin + r.value
            iso_ok = iso_equity >= req.maintenance
            all_isolated_ok &= iso_ok
            isolated_total += iso_equity
            if not r.expired:
                liq = _liquidation_price(r, snapshot, p.isolated_margin, 0)
        elif req is not None and not r.expired:
            liq = _liquidation_price(r, snapshot, equity - r.value, maintenance - req.maintenance)
        reports.append(
            PositionReport(
                market=m.id,
                kind=m.kind,
                size=p.size,
                margin=r.margin,  # type: ignore[arg-type]
                expired=r.expired,
                mark_price=snapshot.mark_prices[m.id],
                notional=r.notional,
                value=r.value,
                unrealized_funding=unrealized_funding(p.size, r.funding_owed, m.size_decimals),
                initial_requirement=None if req is None else req.initial,
                maintenance_requirement=None if req is None else req.maintenance,
                isolated_equity=iso_equity,
                healthy=iso_ok,
                liquidation_price=liq,
                greeks=_position_greeks(snapshot, m, p.size, r.expired),
            )
        )
    healthy = equity >= maintenance and all_isolated_ok
    return MarginReport(
        account_id=account.id,
        epoch=snapshot.epoch,
        snapshot_hash=str(snapshot.snapshot_hash()),
        margin_mode=account.margin_mode,
        collateral_value=collateral,
        equity=equity,
        initial_requirement=initial,
        maintenance_requirement=maintenance,
        free_collateral=equity - initial,
        margin_ratio_ppm=margin_ratio_ppm(maintenance, equity),
        total_equity=equity + isolated_total,
        healthy=healthy,
        liquidatable=not healthy,
        positions=tuple(reports),
        portfolios=tuple(portfolios),
    )


def _liquidation_price(row: _Row, snapshot: MarketSnapshot, rest_equity: int, rest_maintenance: int) -> int | None:
    """Health of (rest + this position at mark P) as a function of P, bisected."""
    p, m = row.position, row.market
    assert not isinstance(m, OptionMarket)
    risk, d, oi = m.risk, m.size_decimals, snapshot.open_interest.get(m.id, 0)

    def healthy_at(price: int) -> bool:
        value = position_value(p.size, p.quote, price, row.funding_owed, d)
        return rest_equity + value >= rest_maintenance + linear_requirement(risk, p.size, price, d, oi).maintenance

    return liquidation_price(p.size, healthy_at)
