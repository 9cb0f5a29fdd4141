"""Shared builders and hypothesis strategies for the margin-engine tests."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st

from engine import (
    Account,
    Asset,
    Bracket,
    MarketSnapshot,
    PerpetualMarket,
    Position,
    RiskParams,
    ScenarioGrid,
    load_example_snapshot,
)

try:
    from tests._node import NodePeersMissing, run_node
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _node import NodePeersMissing, run_node  # type: ignore[no-redef]

USD = 10**6
PPM = 10**6
NOW = 1_767_225_600

GRID = ScenarioGrid(
    price_moves_ppm=(-150_000, -50_000, 0, 50_000, 150_000),
    vol_moves_ppm=(-250_000, 0, 250_000),
    extreme_move_ppm=330_000,
    extreme_fraction_ppm=330_000,
    short_option_min_ppm=10_000,
    initial_multiplier_ppm=1_300_000,
)

DYDX = RiskParams.dydx(50_000, 600_000)


def perp_snapshot(
    risk: RiskParams = DYDX,
    *,
    mark: int = 65_000 * USD,
    index: int | None = None,
    size_decimals: int = 8,
    open_interest: int = 0,
    funding: int = 0,
    grid: ScenarioGrid = GRID,
    btc_weight_ppm: int = 950_000,
) -> MarketSnapshot:
    """USDC + BTC, one BTC-PERP market."""
    return MarketSnapshot(
        epoch=7,
        timestamp=NOW,
        assets=(
            Asset(symbol="USDC", decimals=6),
            Asset(symbol="BTC", decimals=8, collateral_weight_ppm=btc_weight_ppm),
        ),
        markets=(PerpetualMarket(id="BTC-PERP", base="BTC", size_decimals=size_decimals, risk=risk),),
        index_prices={"USDC": USD, "BTC": mark if index is None else index},
        mark_prices={"BTC-PERP": mark},
        funding_indices={"BTC-PERP": funding},
        open_interest={"BTC-PERP": open_interest},
        grid=grid,
    )


def account(*positions: Position, usdc: int = 0, quote_balance: int = 0, **kw: Any) -> Account:
    return Account(
        id="t", collateral={"USDC": usdc} if usdc else {}, quote_balance=quote_balance, positions=positions, **kw
    )


# ---- strategies ----------------------------------------------------------------------------


@st.composite
def fraction_risk(draw: st.DrawFn) -> RiskParams:
    """IMF / MMF rules with optional size premium and open-interest scaling."""
    imf = draw(st.integers(1, PPM))
    mmf = draw(st.integers(0, imf))
    k = draw(st.integers(0, 20_000))
    k_mm = draw(st.integers(0, k))
    lower = draw(st.integers(0, 10**15))
    upper = draw(st.one_of(st.just(0), st.integers(lower + 1, lower + 10**15)))
    return RiskParams(
        imf_ppm=imf,
        mmf_ppm=mmf,
        size_premium_ppm_per_unit=k,
        mm_size_premium_ppm_per_unit=k_mm,
        oi_lower_cap=lower if upper else 0,
        oi_upper_cap=upper,
    )


@st.composite
def bracket_risk(draw: st.DrawFn) -> RiskParams:
    """Binance-style brackets with continuous (or upward-jumping) maintenance."""
    n = draw(st.integers(1, 5))
    caps = sorted(draw(st.sets(st.integers(1, 10**14), min_size=n, max_size=n)))
    mmrs = sorted(draw(st.lists(st.integers(0, 200_000), min_size=n, max_size=n)))
    brackets: list[Bracket] = []
    cum = 0
    imf_prev = 0
    for i in range(n):
        if i:
            allowed = caps[i - 1] * (mmrs[i] - mmrs[i - 1]) // PPM
            cum += draw(st.sampled_from([allowed, allowed // 2, 0]))
        imf = draw(st.integers(max(mmrs[i], imf_prev), PPM))
        imf_prev = imf
        cap = None if i == n - 1 and draw(st.booleans()) else caps[i]
        brackets.append(Bracket(notional_cap=cap, mmr_ppm=mmrs[i], cum=cum, imf_ppm=imf))
    return RiskParams(
        imf_ppm=brackets[0].imf_ppm or 0,
        brackets=tuple(brackets),
        size_premium_ppm_per_unit=draw(st.integers(0, 5_000)),
    )


risk_params = st.one_of(fraction_risk(), bracket_risk())
prices = st.integers(1, 2**48 - 1)
sizes = st.integers(-(2**64) + 1, 2**64 - 1)
small_sizes = st.integers(-(10**12), 10**12)


# ---- circomlibjs reference -----------------------------------------------------------------

_CIRCOMLIBJS_SPONGE = r"""
const { buildPoseidon } = require("circomlibjs");
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
buildPoseidon().then((poseidon) => {
  const F = poseidon.F;
  const out = cases.map(({ tag, values }) => {
    let h = BigInt(F.toString(poseidon([BigInt(tag), BigInt(values.length)])));
    for (let i = 0; i < values.length; i += 15) {
      h = BigInt(F.toString(poseidon([h, ...values.slice(i, i + 15).map(BigInt)])));
    }
    return h.toString();
  });
  process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(0));
}).catch((err) => { console.error(err); process.exit(1); });
"""


def circomlibjs_sponges(cases: list[tuple[int, list[int]]]) -> list[int]:
    """The sponge of algebra.sponge computed by circomlibjs in node."""
    payload = [{"tag": str(tag), "values": [str(v) for v in values]} for tag, values in cases]
    try:
        out = run_node(_CIRCOMLIBJS_SPONGE, payload, packages=["circomlibjs"])
    except NodePeersMissing as exc:
        pytest.fail(f"circomlibjs reference unavailable: {exc}", pytrace=False)
    return [int(x) for x in out]


@st.composite
def provable_accounts(draw: st.DrawFn, snapshot: MarketSnapshot | None = None) -> Account:
    """Accounts of any kind the circuit proves, healthy, bankrupt or in between."""
    snapshot = snapshot or load_example_snapshot()
    collateral = {a.symbol: draw(st.integers(0, 2**50)) for a in snapshot.assets if draw(st.booleans())}
    positions = []
    for m in snapshot.markets:
        if not draw(st.booleans()):
            continue
        option = m.kind == "option"
        size = draw(st.integers(-(2**30), 2**30) if option else st.integers(-(2**40), 2**40))
        isolated = None if option or not draw(st.booleans()) else draw(st.integers(0, 2**70))
        funding = draw(st.integers(-(2**40), 2**40)) if m.kind == "perpetual" else 0
        quote = draw(st.integers(-(2**70), 2**70))
        positions.append(Position(market=m.id, size=size, quote=quote, funding_index=funding, isolated_margin=isolated))
    return Account(
        id=draw(st.sampled_from(["a", "trader-7", "x" * 31])),
        collateral=collateral,
        quote_balance=draw(st.integers(-(2**70), 2**70)),
        positions=tuple(positions),
    )


def moved(snap: MarketSnapshot, percent: int, funding: int, expire: bool) -> MarketSnapshot:
    """The next epoch's snapshot: index and linear marks moved by `percent`, funding
    indices by `funding`, and with `expire` the dated markets expired at the moved BTC
    index (options then marked at their payoff)."""
    data = snap.model_dump()
    index = {k: v if k == "USDC" else v * (100 + percent) // 100 for k, v in snap.index_prices.items()}
    # Live options keep their marks (their price bounds and value tables are the snapshot's).
    options = {m.id for m in snap.markets if m.kind == "option"}
    marks = {k: v if k in options else max(1, v * (100 + percent) // 100) for k, v in snap.mark_prices.items()}
    data.update(
        epoch=snap.epoch + 1,
        index_prices=index,
        mark_prices=marks,
        funding_indices={k: v + funding for k, v in snap.funding_indices.items()},
    )
    if expire:
        s = index["BTC"]
        dated = [m for m in snap.markets if m.kind != "perpetual"]
        data["timestamp"] = max(m.expiry for m in dated)  # type: ignore[union-attr]
        data["settlement_prices"] = {m.id: s for m in dated}
        marks.update({m.id: s if m.kind == "future" else m.payoff(s) for m in dated})  # type: ignore[union-attr]
    return MarketSnapshot.model_validate(data)
