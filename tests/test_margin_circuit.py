"""The margin circuit (circuits.MarginHealth) against the margin engine.

Acceptance (issue 7): over random standard- and portfolio-mode accounts with cross and
isolated positions in perpetuals and futures and cross options, on random scenario
grids, the witness satisfies the circuit
IF AND ONLY IF the engine says the account meets the requirement and every isolated
position is healthy, to the micro-quote; wrap-around, smuggled
signs, foreign openings, foreign snapshots and off-by-one quotients are all rejected;
an end-to-end Groth16 proof verifies and tampered public signals do not.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import circuits._margin_circuit as mc
from algebra import R
from circuits import CompiledCircuit, UnsatisfiedConstraintError, merkle_root_native, write_r1cs, write_wtns
from engine import (
    ACCOUNT_TAG,
    SIGNED_OFFSET,
    SNAPSHOT_TAG,
    Account,
    Asset,
    Bracket,
    ExposureTooLargeError,
    FutureMarket,
    MarginReport,
    MarketSnapshot,
    OptionMarket,
    PerpetualMarket,
    Position,
    PriceBounds,
    RiskParams,
    ScenarioGrid,
    ScenarioValues,
    UnhealthyAccountError,
    UnsupportedInCircuitError,
    UnsupportedPositionError,
    ValueOutOfRangeError,
    assign_witness,
    commit,
    compute_margin,
    load_example_account,
    load_example_snapshot,
    margin_circuit_for,
    margin_shape,
    prove_account,
    public_signals_for,
    sponge,
)
from engine._prove_account import (
    NULLIFIER_TAG,
    anonymous_circuit_for,
    assign_anonymous_witness,
    check_supported,
    meets,
    membership,
    nullifier,
    prove_account_anonymously,
    public_signals_for_anonymous,
)
from ledger import Requirement
from prover import InsecureSetupWarning, dev_setup, verifying_key
from tests._circuits import with_hint
from tests._engine import perp_snapshot
from tests._snarkjs import snarkjs
from verifier import PublicSignals, verify

NOW = 1_767_225_600
PPM = 10**6
USD = 10**6
GRID = ScenarioGrid(
    price_moves_ppm=(-100_000,), extreme_move_ppm=300_000, extreme_fraction_ppm=300_000, short_option_min_ppm=10_000
)
REQUIREMENTS: tuple[Requirement, ...] = ("maintenance", "initial")
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Shapes exercised by the property tests: (asset symbols, market kinds with bracket counts).
#: An option's entry names its underlying's position among the assets; a linear market's
#: underlying is the last asset unless a third entry names its position.
SHAPES: dict[str, tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]] = {
    "one_perp": (("USDC",), (("perpetual", 0),)),
    "brackets_and_future": (("USDC", "BTC"), (("perpetual", 2), ("future", 0))),
    "three_markets": (("USDC", "BTC"), (("future", 3), ("perpetual", 0), ("option", 1))),
    "options": (("USDC", "BTC", "ETH"), (("option", 1), ("perpetual", 0), ("option", 2), ("option", 1))),
    "two_underlyings": (("USDC", "BTC", "ETH"), (("perpetual", 0, 1), ("future", 2, 2), ("option", 1))),
}


# ---- strategies ---------------------------------------------------------------------------

signed64 = st.integers(-(2**64) + 1, 2**64 - 1)
prices = st.one_of(st.integers(1, 10**12), st.integers(1, 2**48 - 1))
sizes = st.one_of(st.just(0), st.integers(-(10**12), 10**12), st.integers(-(2**64) + 1, 2**64 - 1))
amounts = st.one_of(st.integers(0, 10**13), st.integers(0, 2**64 - 1))
quotes = st.one_of(st.integers(-(10**15), 10**15), st.integers(-(2**96) + 1, 2**96 - 1))


#: OI caps (lower, upper): none (hi = 0, with or without a stray lower cap), small,
#: wide, adjacent, and at the engine's bound.
oi_caps = st.one_of(
    st.just((0, 0)),
    st.tuples(st.integers(0, 2**96 - 1), st.just(0)),
    st.integers(0, 10**12).flatmap(lambda lo: st.tuples(st.just(lo), st.integers(lo + 1, lo + 10**12))),
    st.integers(0, 2**95).flatmap(lambda lo: st.tuples(st.just(lo), st.integers(lo + 1, 2**96 - 1))),
)


@st.composite
def fraction_risk(draw: st.DrawFn) -> RiskParams:
    imf = draw(st.integers(1, PPM))
    k = draw(st.one_of(st.just(0), st.integers(0, 20_000), st.integers(0, PPM)))
    lo, hi = draw(oi_caps)
    return RiskParams(
        imf_ppm=imf,
        mmf_ppm=draw(st.integers(0, imf)),
        size_premium_ppm_per_unit=k,
        mm_size_premium_ppm_per_unit=draw(st.integers(0, k)),
        oi_lower_cap=lo,
        oi_upper_cap=hi,
    )


@st.composite
def bracket_risk(draw: st.DrawFn, n: int) -> RiskParams:
    caps = sorted(draw(st.sets(st.integers(1, 10**14), min_size=n, max_size=n)))
    mmrs = sorted(draw(st.lists(st.integers(0, 200_000), min_size=n, max_size=n)))
    brackets, cum, imf_prev = [], 0, 0
    for i in range(n):
        if i:
            allowed = caps[i - 1] * (mmrs[i] - mmrs[i - 1]) // PPM
            cum += draw(st.sampled_from([allowed, allowed // 2, 0]))
        imf = draw(st.integers(max(mmrs[i], imf_prev, 1), PPM))
        imf_prev = imf
        cap = None if i == n - 1 and draw(st.booleans()) else caps[i]
        brackets.append(Bracket(notional_cap=cap, mmr_ppm=mmrs[i], cum=cum, imf_ppm=imf))
    lo, hi = draw(oi_caps)
    return RiskParams(
        imf_ppm=brackets[0].imf_ppm or 1,
        brackets=tuple(brackets),
        size_premium_ppm_per_unit=draw(st.integers(0, 5_000)),
        oi_lower_cap=lo,
        oi_upper_cap=hi,
    )


def open_interest(draw: st.DrawFn, risk: RiskParams, mark: int, d: int) -> int:
    """Open interest whose notional ceil(oi * mark / 10**d) is below, inside or above the
    OI caps (or just random), within the engine's bound 2**64."""
    lo, hi = risk.oi_lower_cap, max(risk.oi_upper_cap, risk.oi_lower_cap)  # (hi = 0: no scaling)
    target = draw(
        st.one_of(
            st.integers(0, max(lo - 1, 0)),
            st.integers(lo, hi),
            st.integers(hi, 2 * hi + 1),
            st.sampled_from([lo - 1, lo, lo + 1, hi - 1, hi, hi + 1]),
        )
    )
    oi = max(target, 0) * 10**d // mark + draw(st.integers(0, 1))
    return draw(st.one_of(st.just(min(oi, 2**64 - 1)), st.integers(0, 2**64 - 1)))


#: Price moves in (-100%, +1000%] (the engine's bound), with the usual ones often.
moves = st.one_of(st.sampled_from([-100_000, -50_000, 0, 50_000, 100_000]), st.integers(-PPM + 1, 10 * PPM))
grids = st.builds(
    ScenarioGrid,
    price_moves_ppm=st.lists(moves, min_size=1, max_size=2, unique=True).map(tuple),
    vol_moves_ppm=st.lists(st.integers(-PPM + 1, PPM), min_size=1, max_size=2, unique=True).map(tuple),
    extreme_move_ppm=st.one_of(st.just(300_000), st.integers(1, PPM - 1)),
    extreme_fraction_ppm=st.one_of(st.just(300_000), st.integers(0, PPM)),
    short_option_min_ppm=st.integers(0, PPM),
    initial_multiplier_ppm=st.integers(PPM, 10 * PPM),
)
value_changes = st.one_of(st.integers(-(10**9), 10**9), st.integers(-(2**52) + 1, 2**52 - 1))


def _option(
    draw: st.DrawFn,
    mid: str,
    base: str,
    d: int,
    markets: list[Any],
    marks: dict[str, int],
    settlement: dict[str, int],
    vols: dict[str, int],
    bounds: dict[str, PriceBounds],
    values: dict[str, ScenarioValues],
    n_scenarios: int,
) -> None:
    """A live or expired option on `base` with random public price data."""
    expired = draw(st.booleans())
    expiry = NOW - draw(st.integers(0, 10**6)) if expired else NOW + draw(st.integers(1, 10**7))
    option = OptionMarket(
        id=mid,
        base=base,
        size_decimals=d,
        option_type=draw(st.sampled_from(["call", "put"])),
        strike=draw(prices),
        expiry=expiry,
    )
    markets.append(option)
    if expired:
        settlement[mid] = draw(prices)
        marks[mid] = option.payoff(settlement[mid])
        return
    lo, mark, hi = sorted(draw(st.lists(st.integers(0, 2**48 - 1), min_size=3, max_size=3)))
    marks[mid] = mark
    vols[mid] = draw(st.integers(1, 10**7))
    bounds[mid] = PriceBounds(lower=lo, upper=hi)
    pairs = [sorted(draw(st.lists(value_changes, min_size=2, max_size=2))) for _ in range(n_scenarios)]
    values[mid] = ScenarioValues(lower=tuple(p[0] for p in pairs), upper=tuple(p[1] for p in pairs))


@st.composite
def snapshots(draw: st.DrawFn, shape: str) -> MarketSnapshot:
    symbols, kinds = SHAPES[shape]
    assets = tuple(
        Asset(
            symbol=s,
            decimals=6 if s == "USDC" else draw(st.integers(0, 18)),
            collateral_weight_ppm=PPM if s == "USDC" else draw(st.integers(0, PPM)),
        )
        for s in symbols
    )
    grid = draw(grids)
    markets: list[Any] = []
    index = {s: (USD if s == "USDC" else draw(prices)) for s in symbols}
    marks: dict[str, int] = {}
    funding: dict[str, int] = {}
    settlement: dict[str, int] = {}
    extra: dict[str, int] = {}
    vols: dict[str, int] = {}
    bounds: dict[str, PriceBounds] = {}
    values: dict[str, ScenarioValues] = {}
    for k, (kind, n_brackets, *where) in enumerate(kinds):
        mid = f"M{k}"
        d = draw(st.integers(0, 18))
        if kind == "option":
            _option(
                draw, mid, symbols[n_brackets], d, markets, marks, settlement, vols, bounds, values, grid.scenario_count
            )
            continue
        base = symbols[where[0]] if where else symbols[-1]
        risk = draw(bracket_risk(n_brackets)) if n_brackets else draw(fraction_risk())
        if kind == "perpetual":
            markets.append(PerpetualMarket(id=mid, base=base, size_decimals=d, risk=risk))
            funding[mid] = draw(signed64)
            marks[mid] = draw(prices)
        elif kind == "future":
            expired = draw(st.booleans())
            expiry = NOW - draw(st.integers(0, 10**6)) if expired else NOW + draw(st.integers(1, 10**7))
            markets.append(FutureMarket(id=mid, base=base, size_decimals=d, expiry=expiry, risk=risk))
            marks[mid] = draw(prices)
            if expired:
                settlement[mid] = marks[mid]
        if risk.oi_upper_cap or draw(st.booleans()):
            extra[mid] = open_interest(draw, risk, marks[mid], d)
    return MarketSnapshot(
        epoch=draw(st.integers(0, 100)),
        timestamp=NOW,
        assets=assets,
        markets=tuple(markets),
        index_prices=index,
        mark_prices=marks,
        funding_indices=funding,
        open_interest=extra,
        settlement_prices=settlement,
        implied_vols_ppm=vols,
        grid=grid,
        scenario_values=values,
        option_price_bounds=bounds,
    )


isolated_margins = st.one_of(st.none(), st.none(), st.integers(0, 10**15), st.integers(0, 2**96 - 1))


@st.composite
def accounts(draw: st.DrawFn, snap: MarketSnapshot) -> Account:
    positions = []
    for m in snap.markets:
        if not draw(st.integers(0, 4)):
            continue
        positions.append(
            Position(
                market=m.id,
                size=draw(sizes),
                quote=draw(quotes),
                funding_index=draw(signed64) if isinstance(m, PerpetualMarket) else 0,
                isolated_margin=None if isinstance(m, OptionMarket) else draw(isolated_margins),
            )
        )
    return Account(
        id="acct",
        margin_mode=draw(st.sampled_from(["standard", "portfolio"])),
        collateral={a.symbol: draw(amounts) for a in snap.assets if draw(st.booleans())},
        quote_balance=draw(quotes),
        positions=tuple(positions),
    )


def with_equity_gap(account: Account, snap: MarketSnapshot, requirement: Requirement, gap: int) -> Account | None:
    """The account with its quote balance moved so that equity - requirement == gap
    (requirements do not depend on the quote balance); None if out of the engine's bounds."""
    report = compute_margin(account, snap)
    target = report.initial_requirement if requirement == "initial" else report.maintenance_requirement
    balance = account.quote_balance + target + gap - report.equity
    if not -(2**96) < balance < 2**96:
        return None
    return account.model_copy(update={"quote_balance": balance})


def with_isolated_gap(account: Account, snap: MarketSnapshot, index: int, gap: int) -> Account | None:
    """The account with position `index` isolated and its isolated margin set so that
    isolated_margin + value - MMR == gap (cross equity and requirements then leave the
    position out); None if the margin would leave [0, 2**96) or the engine refuses the account."""
    position = account.positions[index]
    flagged = list(account.positions)
    flagged[index] = position.model_copy(update={"isolated_margin": 0})
    account = account.model_copy(update={"positions": tuple(flagged)})
    try:
        row = compute_margin(account, snap).positions[index]
    except ExposureTooLargeError:  # the engine refuses the account: no boundary to move to
        return None
    assert row.margin == "isolated" and row.maintenance_requirement is not None
    margin = row.maintenance_requirement - row.value + gap
    if not 0 <= margin < 2**96:
        return None
    flagged[index] = position.model_copy(update={"isolated_margin": margin})
    return account.model_copy(update={"positions": tuple(flagged)})


def engine_says(report: MarginReport, requirement: Requirement, ratio: int = 0) -> bool:
    """What the circuit proves, by the engine: the cross account meets the requirement
    (`meets`) and every isolated position is healthy (against its MMR, as `healthy`)."""
    return meets(report, requirement, ratio) and all(p.healthy is not False for p in report.positions)


ISOLATED_CHECK = re.compile(r"market\d+/isolated/margin\+value>=mmr/")


@st.composite
def cases(draw: st.DrawFn) -> tuple[MarketSnapshot, Account, int]:
    snap = draw(snapshots(draw(st.sampled_from(sorted(SHAPES)))))
    account = draw(accounts(snap))
    linear = [i for i, p in enumerate(account.positions) if not isinstance(snap.market(p.market), OptionMarket)]
    if draw(st.booleans()) and linear:  # one position isolated near its own boundary
        moved = with_isolated_gap(account, snap, draw(st.sampled_from(linear)), draw(st.integers(-2, 2)))
        account = moved or account
    if draw(st.booleans()):  # near the boundary of one of the requirements
        moved = with_equity_gap(account, snap, draw(st.sampled_from(REQUIREMENTS)), draw(st.integers(-3, 3)))
        account = moved or account
    ratio = draw(st.one_of(st.just(0), st.just(0), st.integers(1, 3 * PPM), st.integers(1, 2**64 - 1)))
    return snap, account, ratio


def satisfied(cc: CompiledCircuit, assignment: dict[str, Any]) -> tuple[bool, str | None]:
    try:
        cc.solve(assignment)
    except UnsatisfiedConstraintError as exc:
        return False, exc.name
    return True, None


def fails_at(cc: CompiledCircuit, assignment: dict[str, Any], prefix: str) -> str:
    with pytest.raises(UnsatisfiedConstraintError) as info:
        cc.solve(assignment)
    assert info.value.name.startswith(prefix), info.value.name
    return info.value.name


# ---- the property: satisfiable iff healthy ------------------------------------------------


@SLOW
@given(case=cases(), salt=st.integers(0, R - 1))
def test_satisfiable_iff_the_engine_says_the_requirement_is_met(
    case: tuple[MarketSnapshot, Account, int], salt: int
) -> None:
    snap, account, ratio = case
    cc = margin_circuit_for(snap)
    assert margin_shape(snap).snapshot_length == len(snap.field_encoding())
    try:
        report: MarginReport | None = compute_margin(account, snap)
    except ExposureTooLargeError:
        report = None  # the engine refuses the account: the circuit must too, before any verdict
    for requirement in REQUIREMENTS:
        ok, where = satisfied(cc, assign_witness(account, snap, salt, requirement, max_margin_ratio_ppm=ratio))
        if report is None:
            assert not ok and where is not None and not where.startswith(("health/", "margin_ratio/")), where
            continue
        expected = engine_says(report, requirement, ratio)
        assert ok == expected, (requirement, where, report.equity, report.maintenance_requirement)
        if not ok:  # everything else about the witness holds: only a verdict fails
            assert where is not None, where
            assert where.startswith(("health/", "margin_ratio/")) or ISOLATED_CHECK.match(where), where


def test_an_exposure_the_engine_refuses_cannot_be_proven() -> None:
    """A notional of 2**96 micro-quote or more: the engine refuses the account by name
    and no witness satisfies the circuit, which stops at the notional's range."""
    snap = perp_snapshot(size_decimals=0, mark=2**40)
    cc = margin_circuit_for(snap)
    over = (2**96 - 1) // 2**40 + 1
    for size in (over, -over):
        acct = Account(
            id="big", collateral={"USDC": 10**12}, positions=(Position(market="BTC-PERP", size=size, quote=0),)
        )
        with pytest.raises(ExposureTooLargeError):
            compute_margin(acct, snap)
        ok, where = satisfied(cc, assign_witness(acct, snap, 5))
        assert not ok and where is not None and "notional" in where, where


@SLOW
@given(
    shape=st.sampled_from(sorted(SHAPES)),
    data=st.data(),
    requirement=st.sampled_from(REQUIREMENTS),
)
def test_equality_is_healthy_and_one_micro_quote_below_is_not(
    shape: str, data: st.DataObject, requirement: Requirement
) -> None:
    snap = data.draw(snapshots(shape))
    base = data.draw(accounts(snap))
    cc = margin_circuit_for(snap)
    at = with_equity_gap(base, snap, requirement, 0)
    below = with_equity_gap(base, snap, requirement, -1)
    # (isolated positions at their own boundary: test_isolated_and_cross_verdicts_...)
    assume(at is not None and below is not None)
    assume(all(p.healthy is not False for p in compute_margin(at, snap).positions))
    assert meets(compute_margin(at, snap), requirement)
    assert not meets(compute_margin(below, snap), requirement)
    assert satisfied(cc, assign_witness(at, snap, 7, requirement)) == (True, None)
    fails_at(cc, assign_witness(below, snap, 7, requirement), "health/equity>=requirement")


# ---- fixed examples ----------------------------------------------------------------------


def _snapshot() -> MarketSnapshot:
    """USDC + BTC; a perpetual with brackets and a future with a size premium."""
    return MarketSnapshot(
        epoch=3,
        timestamp=NOW,
        assets=(Asset(symbol="USDC", decimals=6), Asset(symbol="BTC", decimals=8, collateral_weight_ppm=900_000)),
        markets=(
            PerpetualMarket(
                id="BTC-PERP",
                base="BTC",
                size_decimals=8,
                risk=RiskParams.binance([(50_000 * USD, 4_000, 0, 125), (None, 5_000, 50 * USD, 100)]),
            ),
            FutureMarket(
                id="BTC-FUT",
                base="BTC",
                size_decimals=8,
                expiry=NOW + 86_400,
                risk=RiskParams.deribit(40_000, 20_000, 50),
            ),
        ),
        index_prices={"USDC": USD, "BTC": 65_000 * USD},
        mark_prices={"BTC-PERP": 65_010 * USD, "BTC-FUT": 65_500 * USD},
        funding_indices={"BTC-PERP": 1_200 * USD},
        grid=GRID,
    )


SNAP = _snapshot()
ALICE = Account(
    id="alice",
    collateral={"USDC": 5_000 * USD, "BTC": 10_000_000},
    quote_balance=-100 * USD,
    positions=(
        Position(market="BTC-PERP", size=50_000_000, quote=-32_000 * USD, funding_index=1_150 * USD),
        Position(market="BTC-FUT", size=-20_000_000, quote=13_200 * USD),
    ),
)
SALT = 0x1234567890ABCDEF


@pytest.fixture(scope="module")
def cc() -> CompiledCircuit:
    return margin_circuit_for(SNAP)


def test_example_is_healthy_and_satisfies(cc: CompiledCircuit) -> None:
    report = compute_margin(ALICE, SNAP)
    assert report.healthy and report.equity >= report.initial_requirement
    for requirement in REQUIREMENTS:
        assert satisfied(cc, assign_witness(ALICE, SNAP, SALT, requirement)) == (True, None)
    assert margin_circuit_for(SNAP) is cc  # compiled once per shape


def test_circuit_hashes_equal_the_engine(cc: CompiledCircuit) -> None:
    """The circuit's in-circuit sponges compute engine.commit and the snapshot hash
    (which equal circomlibjs's, tests/test_engine_commitment.py)."""
    assert (mc.ACCOUNT_TAG, mc.SNAPSHOT_TAG, mc.SIGNED_OFFSET) == (ACCOUNT_TAG, SNAPSHOT_TAG, SIGNED_OFFSET)
    a = assign_witness(ALICE, SNAP, SALT)
    w = cc.solve({**a, "commitment": 0, "snapshot_hash": 0}, check=False)
    rows = {c.name: c for c in cc.cs.constraints}
    assert rows["commitment/opens"].evaluate(w.values)[0] == commit(ALICE, SNAP, SALT)
    assert rows["snapshot_hash/matches"].evaluate(w.values)[0] == SNAP.snapshot_hash()
    assert w.public_signals == [0, 0, 0, 0]


def test_margin_ratio_bound(cc: CompiledCircuit) -> None:
    ratio = compute_margin(ALICE, SNAP).margin_ratio_ppm
    assert ratio is not None
    assert satisfied(cc, assign_witness(ALICE, SNAP, SALT, max_margin_ratio_ppm=ratio))[0]
    fails_at(cc, assign_witness(ALICE, SNAP, SALT, max_margin_ratio_ppm=ratio - 1), "margin_ratio/ratio<=T")


# ---- attacks: each must fail to satisfy ------------------------------------------------


def _tampered_account(edit: Callable[[list[int]], None], salt: int = SALT, account: Account = ALICE) -> dict[str, Any]:
    """An assignment whose account encoding is edited and re-committed (the prover
    controls the commitment it publishes, so the opening itself is consistent)."""
    a = assign_witness(account, SNAP, salt)
    enc = list(a["account"])  # type: ignore[arg-type]
    edit(enc)
    return {**a, "account": enc, "commitment": sponge(ACCOUNT_TAG, [salt, *enc])}


A = len(SNAP.assets)
PERP, FUT = 3 + A, 3 + A + 5  # slots of the two markets in the account encoding (a perpetual's has 5 fields)


@pytest.mark.parametrize(
    ("index", "value", "where"),
    [
        (PERP, R - 1, "market0/size/"),  # a size of r - 1
        (PERP, (-5) % R, "market0/size/"),  # a negative size without the offset
        (PERP, SIGNED_OFFSET + 2**64, "market0/size/"),  # beyond the engine's bound
        (PERP + 1, R - 10**6, "market0/quote_range"),  # a negative quote without the offset
        (PERP + 2, R - 1, "market0/entry_funding_range"),
        (3, R - 5, "asset0/amount_range"),  # an amount of r - 5
        (4, 2**64, "asset1/amount_range"),
        (2, R - 7, "account/quote_balance_range"),
        (1, 2, "account/mode_is_boolean"),  # a mode of 2 would double the portfolio losses
        (1, R - 1, "account/mode_is_boolean"),  # a mode of -1 would turn them into gains
        (PERP + 3, 2, "market0/isolated_is_boolean"),  # a flag of 2 would halve the cross value
        (PERP + 3, R - 1, "market0/isolated_is_boolean"),
        (FUT + 3, 5, "market1/cross_has_no_isolated_margin"),  # margin on a cross position
        (FUT + 3, 2**96, "market1/isolated_margin_range"),
    ],
)
def test_smuggled_account_values_are_rejected(cc: CompiledCircuit, index: int, value: int, where: str) -> None:
    def edit(enc: list[int]) -> None:
        enc[index] = value

    fails_at(cc, _tampered_account(edit), where)


def test_commitment_must_open_with_the_committed_salt_and_state(cc: CompiledCircuit) -> None:
    a = assign_witness(ALICE, SNAP, SALT)
    fails_at(cc, {**a, "salt": SALT + 1}, "commitment/opens")
    richer = list(a["account"])  # type: ignore[arg-type]
    richer[3] += 10**12  # more USDC than committed
    fails_at(cc, {**a, "account": richer}, "commitment/opens")


def test_snapshot_must_hash_to_the_public_value(cc: CompiledCircuit) -> None:
    a = assign_witness(ALICE, SNAP, SALT)
    enc = list(a["snapshot"])  # type: ignore[arg-type]
    enc[enc.index(65_010 * USD)] += 1  # another mark price
    fails_at(cc, {**a, "snapshot": enc}, "snapshot_hash/matches")
    other = SNAP.model_copy(update={"mark_prices": {"BTC-PERP": 65_011 * USD, "BTC-FUT": 65_500 * USD}})
    fails_at(cc, {**a, "snapshot": other.field_encoding()}, "snapshot_hash/matches")


def test_requirement_must_be_boolean(cc: CompiledCircuit) -> None:
    fails_at(cc, {**assign_witness(ALICE, SNAP, SALT), "requirement": 2}, "statement/requirement_is_boolean")


@pytest.mark.parametrize(
    ("hint", "change", "where"),
    [
        # floor: n = q d + rem. q + 1 keeping the equation needs rem - d < 0.
        # a value one higher (more equity): its slack goes negative
        ("market0/value/quotient", lambda v, o: [o[0] + 1], "market0/value/slack_range"),
        # ceil: n = q d - rem.
        ("market1/notional/quotient_remainder", lambda v, o: [o[0] - 1, o[1] - v[1]], "market1/notional/remainder"),
        ("market1/notional/quotient_remainder", lambda v, o: [o[0] + 1, o[1] + v[1]], "market1/notional/remainder"),
        ("market1/imr/quotient", lambda v, o: [o[0] - 1], "market1/imr/slack_range"),
        ("asset1/collateral_value/quotient", lambda v, o: [o[0] + 1], "asset1/collateral_value/slack_range"),
        ("market0/brackets/mmr/quotient", lambda v, o: [o[0] - 1], "market0/brackets/mmr/slack_range"),
        # 10**d by one-hot selection: another exponent.
        # sign and magnitude: flip the sign of a nonzero size.
        ("market0/size/sign_magnitude", lambda v, o: [1 - o[0], o[1]], "market0/size/recompose"),
        # a short as a "long" of magnitude r - |s| (wraps to the same field element)
        ("market1/size/sign_magnitude", lambda v, o: [0, -o[1]], "market1/size/magnitude_range"),
    ],
)
def test_dishonest_hints_are_caught(
    cc: CompiledCircuit, hint: str, change: Callable[[list[int], list[int]], list[int]], where: str
) -> None:
    assert satisfied(cc, assign_witness(ALICE, SNAP, SALT))[0]
    fails_at(with_hint(cc, hint, change), assign_witness(ALICE, SNAP, SALT), where)


def _with_oi_scaling(open_interest: int) -> MarketSnapshot:
    """SNAP with its future's IMF (4%, plus 50 ppm per BTC) scaled by open interest
    between 1,000 and 4,000 USD of open-interest notional (mark 65,500 USD)."""
    data = SNAP.model_dump()
    data["markets"][1]["risk"] = RiskParams(
        imf_ppm=40_000,
        mmf_ppm=20_000,
        size_premium_ppm_per_unit=50,
        oi_lower_cap=1_000 * USD,
        oi_upper_cap=4_000 * USD,
    ).model_dump()
    data["open_interest"] = {"BTC-FUT": open_interest}
    return MarketSnapshot.model_validate(data)


#: Open interest (BTC quantums) below, inside (off the grid: the increase rounds up)
#: and above the caps.
OI_BELOW, OI_INSIDE, OI_ABOVE = 1_000_000, 3_333_333, 10**8


@pytest.mark.parametrize("oi", [OI_BELOW, OI_INSIDE, OI_ABOVE])
def test_oi_scaled_imf_boundary_and_dishonest_increase(oi: int) -> None:
    """A position in an OI-scaled market is supported; the circuit's IMF is the engine's
    (base + ceil((10**6 - base) (clamp(oi_notional) - lo) / (hi - lo)) + premium, capped at
    10**6, the increase published with the snapshot): equality passes, one micro-quote
    below fails."""
    snap = _with_oi_scaling(oi)
    cc = margin_circuit_for(snap)
    check_supported(ALICE, snap)
    future = compute_margin(ALICE, snap).positions[1]
    oi_notional = -(-oi * 65_500 * USD // 10**8)
    clamped = min(max(oi_notional, 1_000 * USD), 4_000 * USD)
    increase = -(-(PPM - 40_000) * (clamped - 1_000 * USD) // (3_000 * USD))
    premium = -(-50 * 20_000_000 // 10**8)
    imf = min(PPM, 40_000 + increase + premium)
    assert future.initial_requirement == -(-future.notional * imf // PPM)
    assert (increase == 0, increase == PPM - 40_000) == (oi == OI_BELOW, oi == OI_ABOVE)
    for requirement in REQUIREMENTS:
        at = with_equity_gap(ALICE, snap, requirement, 0)
        below = with_equity_gap(ALICE, snap, requirement, -1)
        assert at is not None and below is not None
        assert satisfied(cc, assign_witness(at, snap, 5, requirement)) == (True, None)
        fails_at(cc, assign_witness(below, snap, 5, requirement), "health/equity>=requirement")
    assert snap.layout().view(snap.field_encoding(), "linear_risk", 1)["oi_increase"] == increase


def test_the_published_oi_increase_is_what_the_circuit_uses() -> None:
    """The IMF's open-interest increase is public, published in the snapshot's encoding
    (the engine's oi_imf_increase); the circuit takes it from there: an encoding that
    publishes a larger one (which the engine's encoder would not write, so an auditor
    re-encoding the snapshot refuses it) makes the same account's initial proof fail."""
    snap = _with_oi_scaling(OI_INSIDE)
    cc = margin_circuit_for(snap)
    at = with_equity_gap(ALICE, snap, "initial", 0)
    assert at is not None
    a = assign_witness(at, snap, 5, "initial")
    assert satisfied(cc, a) == (True, None)
    encoding = list(a["snapshot"])
    risk = snap.layout().view(encoding, "linear_risk", 1)
    encoding[risk.at + risk.record.index["oi_increase"]] += 1
    forged = {**a, "snapshot": encoding, "snapshot_hash": sponge(SNAPSHOT_TAG, encoding)}
    fails_at(cc, forged, "health/equity>=requirement")
    assert encoding != snap.field_encoding()


def test_example_accounts_with_oi_scaling_are_supported() -> None:
    """The example snapshot scales BTC-PERP's IMF with open interest: the example
    accounts are now proven (healthy ones satisfy, the liquidatable one does not)."""
    snap = load_example_snapshot()
    assert any(not isinstance(m, OptionMarket) and m.risk.oi_upper_cap for m in snap.markets)
    cc = margin_circuit_for(snap)
    for name, healthy in (("healthy_cross", True), ("multi_collateral", True), ("liquidatable", False)):
        account = load_example_account(name)
        check_supported(account, snap)
        assert compute_margin(account, snap).healthy is healthy
        ok, where = satisfied(cc, assign_witness(account, snap, 9))
        assert ok is healthy, (name, where)
        if not healthy:
            assert where is not None and where.startswith("health/equity>=requirement/"), where


def _with_call() -> MarketSnapshot:
    """SNAP plus a live BTC call (3 scenarios: lower <= upper value changes per contract),
    a 15% short option minimum and a 1.3 initial multiplier."""
    return MarketSnapshot.model_validate(
        {
            **SNAP.model_dump(),
            "markets": [
                *SNAP.model_dump()["markets"],
                OptionMarket(
                    id="BTC-C", base="BTC", size_decimals=1, option_type="call", strike=70_000 * USD, expiry=NOW + 10**6
                ).model_dump(),
            ],
            "mark_prices": {**SNAP.mark_prices, "BTC-C": 5_000 * USD},
            "implied_vols_ppm": {"BTC-C": 800_000},
            "option_price_bounds": {"BTC-C": {"lower": 4_990 * USD, "upper": 5_010 * USD}},
            "scenario_values": {
                "BTC-C": {"lower": [-3_000 * USD, 100, 9_000 * USD], "upper": [-2_990 * USD, 200, 9_100 * USD]}
            },
            "grid": {**SNAP.grid.model_dump(), "short_option_min_ppm": 150_000, "initial_multiplier_ppm": 1_300_000},
        }
    )


WITH_CALL = _with_call()


@pytest.mark.parametrize("size", [30, -30, -1])
def test_option_portfolio_boundary_and_dishonest_loss(size: int) -> None:
    """A long call loses most in scenario 0 (the scan binds); a short is margined by the
    short option minimum (15% of the underlying beats its scenario-2 loss). Equality passes,
    one below fails; a portfolio requirement one lower than the bound (to shrink it) is
    caught, one higher (only harder to meet) is not."""
    cc = margin_circuit_for(WITH_CALL)
    account = ALICE.model_copy(
        update={"positions": (*ALICE.positions, Position(market="BTC-C", size=size, quote=-size * 5_000 * USD // 10))}
    )
    (portfolio,) = compute_margin(account, WITH_CALL).portfolios
    assert portfolio.maintenance_requirement > 0
    assert (portfolio.short_option_minimum > portfolio.scan_requirement) == (size < 0)
    for requirement in REQUIREMENTS:
        at = with_equity_gap(account, WITH_CALL, requirement, 0)
        below = with_equity_gap(account, WITH_CALL, requirement, -1)
        assert at is not None and below is not None
        assert satisfied(cc, assign_witness(at, WITH_CALL, 5, requirement)) == (True, None)
        fails_at(cc, assign_witness(below, WITH_CALL, 5, requirement), "health/equity>=requirement")
    binding = "portfolio1/maintenance/" + (f"bound>=ceil{portfolio.worst_scenario}" if size > 0 else "bound>=floor")
    lower = with_hint(cc, "portfolio1/maintenance/max", lambda v, o: [o[0] - 1])
    fails_at(lower, assign_witness(account, WITH_CALL, 5), binding)
    roomy = with_equity_gap(account, WITH_CALL, "maintenance", 1)
    assert roomy is not None
    higher = with_hint(cc, "portfolio1/maintenance/max", lambda v, o: [o[0] + 1])
    assert satisfied(higher, assign_witness(roomy, WITH_CALL, 5)) == (True, None)


def test_in_circuit_refusal_of_isolated_options() -> None:
    snap = WITH_CALL
    cc = margin_circuit_for(snap)
    assert satisfied(cc, assign_witness(ALICE, snap, 1))[0]
    long_call = ALICE.model_copy(update={"positions": (*ALICE.positions, Position(market="BTC-C", size=10))})
    assert satisfied(cc, assign_witness(long_call, snap, 1))[0]  # options are proven
    isolated_call = ALICE.model_copy(
        update={"positions": (*ALICE.positions, Position(market="BTC-C", size=-10, isolated_margin=0))}
    )
    with pytest.raises(UnsupportedInCircuitError):
        prove_account(isolated_call, snap, None, salt=1)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedPositionError):  # an option's record has no isolated margin
        assign_witness(isolated_call, snap, 1)
    isolated = ALICE.model_copy(
        update={"positions": (ALICE.positions[0].model_copy(update={"isolated_margin": 10**9}), ALICE.positions[1])}
    )
    check_supported(isolated, snap)  # isolated perpetuals and futures are proven
    check_supported(ALICE.model_copy(update={"margin_mode": "portfolio"}), snap)  # and portfolio mode
    assert engine_says(compute_margin(isolated, snap), "initial")
    assert satisfied(cc, assign_witness(isolated, snap, 1, "initial")) == (True, None)


# ---- portfolio mode ----------------------------------------------------------------------

EXAMPLE = load_example_snapshot()
EXAMPLE_NAMES = ("healthy_cross", "liquidatable", "isolated", "multi_collateral", "options_portfolio")


@pytest.fixture(scope="module")
def example_cc() -> CompiledCircuit:
    return margin_circuit_for(EXAMPLE)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_portfolio_mode_on_the_example_grid(example_cc: CompiledCircuit, name: str) -> None:
    """The example snapshot's 7 x 3 grid (23 scenarios, 9 price classes): each example
    account in portfolio mode satisfies iff the engine says so, equality passes and one
    micro-quote below fails."""
    account = load_example_account(name).model_copy(update={"margin_mode": "portfolio"})
    report = compute_margin(account, EXAMPLE)
    assert report.portfolios  # the linear markets joined their underlyings' grids
    for requirement in REQUIREMENTS:
        ok, where = satisfied(example_cc, assign_witness(account, EXAMPLE, 3, requirement))
        assert ok == engine_says(report, requirement), (requirement, where)
        at = with_equity_gap(account, EXAMPLE, requirement, 0)
        below = with_equity_gap(account, EXAMPLE, requirement, -1)
        assert at is not None and below is not None
        if all(p.healthy is not False for p in compute_margin(at, EXAMPLE).positions):
            assert satisfied(example_cc, assign_witness(at, EXAMPLE, 3, requirement)) == (True, None)
            fails_at(example_cc, assign_witness(below, EXAMPLE, 3, requirement), "health/equity>=requirement")


def _hedged(mode: str) -> Account:
    """Long 2 BTC perpetual against short 2 BTC of the March future, 20,000 USD collateral."""
    return Account(
        id="hedger",
        margin_mode=mode,  # type: ignore[arg-type]
        collateral={"USDC": 20_000 * USD},
        positions=(
            Position(market="BTC-PERP", size=2 * 10**8, quote=-2 * 65_000 * USD),
            Position(market="BTC-27MAR26", size=-2 * 10**8, quote=2 * 66_000 * USD),
        ),
    )


def test_portfolio_mode_nets_a_hedge_in_circuit_as_in_the_engine(example_cc: CompiledCircuit) -> None:
    """A calendar hedge: in standard mode both legs carry their linear requirement, in
    portfolio mode the grid nets them. The circuit proves the smaller requirement only in
    portfolio mode; a standard-mode account cannot borrow it."""
    standard, portfolio = (compute_margin(_hedged(m), EXAMPLE) for m in ("standard", "portfolio"))
    assert portfolio.maintenance_requirement < standard.maintenance_requirement
    # Equity between the two requirements: healthy only in portfolio mode.
    for mode, report in (("standard", standard), ("portfolio", portfolio)):
        account = _hedged(mode)
        gap = (
            standard.maintenance_requirement + portfolio.maintenance_requirement
        ) // 2 - report.maintenance_requirement
        moved = with_equity_gap(account, EXAMPLE, "maintenance", gap)
        assert moved is not None
        ok, where = satisfied(example_cc, assign_witness(moved, EXAMPLE, 9))
        assert ok == (mode == "portfolio"), where
        assert ok == engine_says(compute_margin(moved, EXAMPLE), "maintenance")


@pytest.mark.parametrize(
    ("hint", "change", "where"),
    [
        # the portfolio requirement one lower than the worst scenario's loss
        ("portfolio1/maintenance/max", lambda v, o: [o[0] - 1], "portfolio1/maintenance/bound>="),
        # a value, a collateral value one higher (more equity than there is)
        ("market0/value/quotient", lambda v, o: [o[0] + 1], "market0/value/slack_range"),
        ("option3/value/quotient", lambda v, o: [o[0] + 1], "option3/value/slack_range"),
        ("asset1/collateral_value/quotient", lambda v, o: [o[0] + 1], "asset1/collateral_value/slack_range"),
        # a requirement one lower
        ("market0/mmr/quotient", lambda v, o: [o[0] - 1], "market0/mmr/slack_range"),
        ("market0/imr/quotient", lambda v, o: [o[0] - 1], "market0/imr/slack_range"),
    ],
)
def test_dishonest_portfolio_hints_are_caught(
    example_cc: CompiledCircuit, hint: str, change: Callable[[list[int], list[int]], list[int]], where: str
) -> None:
    """A hint that makes the account look healthier is caught; the bounds' hints may err
    only on the harder side."""
    # An odd future mark, so that mark * move / 10**6 is not an integer.
    odd = EXAMPLE.model_copy(update={"mark_prices": {**EXAMPLE.mark_prices, "BTC-27MAR26": 66_000 * USD + 1}})
    account = _hedged("portfolio")
    assert satisfied(example_cc, assign_witness(account, odd, 4))[0]
    fails_at(with_hint(example_cc, hint, change), assign_witness(account, odd, 4), where)


# ---- isolated positions ------------------------------------------------------------------

#: ALICE with her perpetual at a loss (value -7,520 USD, MMR 130.02 USD).
LOSER = ALICE.model_copy(
    update={"positions": (ALICE.positions[0].model_copy(update={"quote": -40_000 * USD}), ALICE.positions[1])}
)


@pytest.mark.parametrize("requirement", REQUIREMENTS)
@pytest.mark.parametrize(("cross_gap", "isolated_gap"), [(0, 0), (0, -1), (-1, 0), (-1, -1), (5, -1), (-1, 5)])
def test_isolated_and_cross_verdicts_are_both_required(
    cc: CompiledCircuit, requirement: Requirement, cross_gap: int, isolated_gap: int
) -> None:
    """ALICE's perpetual isolated with isolated_margin + value - MMR == isolated_gap and
    the cross account (the future and the collateral) at equity - requirement == cross_gap.
    The isolated position is held to its MMR also under the initial requirement (the
    engine's only isolated verdict), although its IMR is higher."""
    isolated = with_isolated_gap(LOSER, SNAP, 0, isolated_gap)
    assert isolated is not None
    account = with_equity_gap(isolated, SNAP, requirement, cross_gap)
    assert account is not None
    report = compute_margin(account, SNAP)
    row = report.positions[0]
    assert row.margin == "isolated" and row.isolated_equity is not None and row.maintenance_requirement is not None
    assert row.initial_requirement is not None and row.initial_requirement > row.maintenance_requirement
    assert row.isolated_equity - row.maintenance_requirement == isolated_gap
    expected = cross_gap >= 0 and isolated_gap >= 0
    assert engine_says(report, requirement) == expected
    assignment = assign_witness(account, SNAP, SALT, requirement)
    if expected:
        assert satisfied(cc, assignment) == (True, None)
    elif isolated_gap < 0:  # the isolated check comes first in the circuit
        fails_at(cc, assignment, "market0/isolated/margin+value>=mmr")
    else:
        fails_at(cc, assignment, "health/equity>=requirement")


def test_an_isolated_position_leaves_the_public_margin_ratio() -> None:
    """The margin-ratio bound is the engine's cross ratio: isolated positions are out."""
    account = with_isolated_gap(LOSER, SNAP, 0, 10 * USD)
    assert account is not None
    report = compute_margin(account, SNAP)
    ratio = report.margin_ratio_ppm
    assert ratio is not None and ratio != compute_margin(LOSER, SNAP).margin_ratio_ppm
    cc = margin_circuit_for(SNAP)
    assert satisfied(cc, assign_witness(account, SNAP, SALT, max_margin_ratio_ppm=ratio)) == (True, None)
    fails_at(cc, assign_witness(account, SNAP, SALT, max_margin_ratio_ppm=ratio - 1), "margin_ratio/ratio<=T")


def test_a_losing_cross_position_cannot_be_claimed_isolated(cc: CompiledCircuit) -> None:
    """An account unhealthy because of a losing perpetual cannot pass by flagging the
    position isolated (re-committed): its value and MMR leave the cross sums, but its own
    check then fails; a wrapped (r - 1) or short-by-one isolated margin fails too."""
    broke = with_equity_gap(LOSER, SNAP, "maintenance", -1)
    assert broke is not None and not engine_says(compute_margin(broke, SNAP), "maintenance")
    fails_at(cc, assign_witness(broke, SNAP, SALT), "health/equity>=requirement")
    needed = with_isolated_gap(broke, SNAP, 0, 0)
    assert needed is not None and needed.positions[0].isolated_margin
    margin = needed.positions[0].isolated_margin

    def claim(isolated_margin: int) -> dict[str, Any]:
        def edit(enc: list[int]) -> None:
            enc[PERP + 3], enc[PERP + 4] = 1, isolated_margin

        return _tampered_account(edit, account=broke)

    fails_at(cc, claim(0), "market0/isolated/margin+value>=mmr")
    fails_at(cc, claim(margin - 1), "market0/isolated/margin+value>=mmr")
    fails_at(cc, claim(R - 1), "market0/isolated_margin_range")
    fails_at(cc, claim(R - margin), "market0/isolated_margin_range")
    # With the margin really set aside (a committed, different account) it is healthy.
    assert engine_says(compute_margin(needed, SNAP), "maintenance")
    assert satisfied(cc, claim(margin)) == (True, None)


def test_an_unhealthy_isolated_position_gets_no_proof() -> None:
    """Cross healthy, the isolated position one micro-quote short: no proof is made."""
    account = with_isolated_gap(LOSER, SNAP, 0, -1)
    assert account is not None
    report = compute_margin(account, SNAP)
    assert not report.healthy and report.equity >= report.maintenance_requirement
    with pytest.raises(UnhealthyAccountError, match="no proof"):  # refused before any circuit work
        prove_account(account, SNAP, None, salt=SALT)  # type: ignore[arg-type]


# ---- end to end ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proving_key(cc: CompiledCircuit) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        return dev_setup(cc.cs)


def test_end_to_end_proof_verifies_and_tampered_signals_fail(proving_key: Any) -> None:
    proof, public = prove_account(ALICE, SNAP, proving_key, salt=SALT)
    expected = public_signals_for(commit(ALICE, SNAP, SALT), SNAP)
    assert public == expected
    vk = verifying_key(proving_key)
    assert verify(vk, public, proof)
    c, h, req, ratio = public.values
    for tampered in ([c + 1, h, req, ratio], [c, h + 1, req, ratio], [c, h, 1 - req, ratio], [c, h, req, 10**6]):
        assert not verify(vk, PublicSignals.from_values(tampered), proof)


def test_unhealthy_account_gets_no_proof(proving_key: Any) -> None:
    broke = with_equity_gap(ALICE, SNAP, "maintenance", -1)
    assert broke is not None and not compute_margin(broke, SNAP).healthy
    with pytest.raises(UnhealthyAccountError, match="maintenance"):
        prove_account(broke, SNAP, proving_key, salt=SALT)
    at_maintenance = with_equity_gap(ALICE, SNAP, "maintenance", 0)
    assert at_maintenance is not None
    with pytest.raises(UnhealthyAccountError, match="initial"):
        prove_account(at_maintenance, SNAP, proving_key, salt=SALT, requirement="initial")


def test_snarkjs_checks_the_witness_and_verifies_the_proof(
    cc: CompiledCircuit, proving_key: Any, tmp_path: Path
) -> None:
    """Interop: snarkjs accepts our .r1cs + .wtns and our proof under the exported key."""
    witness = cc.solve(assign_witness(ALICE, SNAP, SALT))
    r1cs, wtns, bad = tmp_path / "margin.r1cs", tmp_path / "margin.wtns", tmp_path / "bad.wtns"
    n_private = sum(len(s.wires) for s in cc.inputs if not s.public)
    write_r1cs(cc.cs, r1cs, n_prv_in=n_private)
    write_wtns(witness.values, wtns)
    assert snarkjs("wtns", "check", r1cs, wtns, check=False).returncode == 0
    broken = list(witness.values)
    broken[-1] = (broken[-1] + 1) % R
    write_wtns(broken, bad)
    assert snarkjs("wtns", "check", r1cs, bad, check=False).returncode != 0

    proof, public = prove_account(ALICE, SNAP, proving_key, salt=SALT)
    vk_path, proof_path, public_path = tmp_path / "vk.json", tmp_path / "proof.json", tmp_path / "public.json"
    verifying_key(proving_key).model_copy(update={"setup_notice": None}).save(vk_path)
    proof.save(proof_path)
    public.save(public_path)
    assert snarkjs("groth16", "verify", vk_path, public_path, proof_path, check=False).returncode == 0
    public_path.write_text(json.dumps([str(public.values[0] + 1), *map(str, public.values[1:])]))
    assert snarkjs("groth16", "verify", vk_path, public_path, proof_path, check=False).returncode != 0


# ---- anonymous mode: Merkle membership and nullifier -----------------------------------------

DEPTH = 3


def _anonymous_case(index: int = 5, salt: int = SALT) -> tuple[list[int], dict[str, Any]]:
    """ALICE's commitment as leaf `index` among 6 other accounts' commitments (a depth-3
    tree, its last leaf empty) and her anonymous assignment."""
    others = [commit(ALICE.model_copy(update={"id": f"acct{i}"}), SNAP, salt + i + 1) for i in range(6)]
    leaves = [*others[:index], commit(ALICE, SNAP, salt), *others[index:]]
    return leaves, assign_anonymous_witness(ALICE, SNAP, salt, membership(leaves, index, DEPTH))


@pytest.fixture(scope="module")
def anon_cc() -> CompiledCircuit:
    return anonymous_circuit_for(SNAP, DEPTH)


def test_anonymous_public_inputs_and_tag(anon_cc: CompiledCircuit, cc: CompiledCircuit) -> None:
    assert [s.name for s in anon_cc.inputs if s.public] == list(mc.ANONYMOUS_PUBLIC)
    assert [s.name for s in cc.inputs if s.public] == ["commitment", *mc.ANONYMOUS_PUBLIC[2:]]
    assert mc.NULLIFIER_TAG == NULLIFIER_TAG
    assert "commitment" not in {s.name for s in anon_cc.inputs}


@pytest.mark.parametrize("index", [0, 5, 6])
def test_anonymous_member_satisfies_and_native_nullifier_matches(anon_cc: CompiledCircuit, index: int) -> None:
    leaves, assignment = _anonymous_case(index)
    assert satisfied(anon_cc, assignment) == (True, None)
    assert (
        merkle_root_native(leaves[index], assignment["siblings"], assignment["index_bits"]) == assignment["merkle_root"]
    )
    witness = anon_cc.solve(assignment)
    assert witness.values[2] == nullifier(SALT, SNAP)  # wire 2: the public nullifier


def test_anonymous_bad_paths_and_nullifiers_fail(anon_cc: CompiledCircuit) -> None:
    leaves, good = _anonymous_case(5)

    def tampered(**changes: Any) -> dict[str, Any]:
        return {**good, **changes}

    sib = list(good["siblings"])
    fails_at(anon_cc, tampered(siblings=[sib[0], (sib[1] + 1) % R, sib[2]]), "membership/merkle/root")
    bits = list(good["index_bits"])
    fails_at(anon_cc, tampered(index_bits=[1 - bits[0], *bits[1:]]), "membership/merkle/root")
    fails_at(anon_cc, tampered(index_bits=[2, *bits[1:]]), "membership/merkle/level0/index_bit")
    # A healthy account that is not in the tree (another salt: another commitment).
    fails_at(anon_cc, tampered(salt=SALT + 100, nullifier=nullifier(SALT + 100, SNAP)), "membership/merkle/root")
    # Nullifier of another salt, or of another snapshot hash.
    fails_at(anon_cc, tampered(nullifier=nullifier(SALT + 1, SNAP)), "nullifier/matches")
    other = SNAP.model_copy(update={"epoch": SNAP.epoch + 1})
    assert other.snapshot_hash() != SNAP.snapshot_hash()
    fails_at(anon_cc, tampered(nullifier=nullifier(SALT, other)), "nullifier/matches")
    # An unhealthy member still fails at the health check.
    broke = with_equity_gap(ALICE, SNAP, "maintenance", -1)
    assert broke is not None
    leaves[5] = commit(broke, SNAP, SALT)
    fails_at(
        anon_cc,
        assign_anonymous_witness(broke, SNAP, SALT, membership(leaves, 5, DEPTH)),
        "health/equity>=requirement",
    )


def test_membership_helper_validates() -> None:
    assert membership([1, 2, 3], 2).depth == 2
    with pytest.raises(ValueOutOfRangeError):
        membership([1, 2, 3], 3)
    with pytest.raises(ValueOutOfRangeError):
        membership([1] * 5, 0, 2)
    with pytest.raises(ValueOutOfRangeError, match="not the account's commitment"):  # before any circuit work
        prove_account_anonymously(ALICE, SNAP, None, salt=SALT, leaves=[0, 1], index=0)  # type: ignore[arg-type]


def test_anonymous_end_to_end_proof_verifies(anon_cc: CompiledCircuit) -> None:
    leaves, assignment = _anonymous_case(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        pk = dev_setup(anon_cc.cs)
    proof, public = prove_account_anonymously(ALICE, SNAP, pk, salt=SALT, leaves=leaves, index=5, depth=DEPTH)
    assert public == public_signals_for_anonymous(assignment["merkle_root"], nullifier(SALT, SNAP), SNAP)
    vk = verifying_key(pk)
    assert verify(vk, public, proof)
    root, null, *rest = public.values
    for tampered in ([root + 1, null, *rest], [root, null + 1, *rest]):
        assert not verify(vk, PublicSignals.from_values(tampered), proof)


def test_decimals_are_the_circuits_constants() -> None:
    """Size and asset decimals are constants of the circuit (its divisions by 10**d are
    by constants); a snapshot of other decimals is refused at the shape check."""
    cc = margin_circuit_for(SNAP)
    data = SNAP.model_dump()
    data["markets"][0]["size_decimals"] = 6
    other = MarketSnapshot.model_validate(data)
    assert margin_shape(other) != margin_shape(SNAP)
    fails_at(cc, assign_witness(ALICE, other, SALT), "shape/market0/size_decimals")
    data = SNAP.model_dump()
    data["assets"][1]["decimals"] = 9
    fails_at(cc, assign_witness(ALICE, MarketSnapshot.model_validate(data), SALT), "shape/asset1/decimals")
