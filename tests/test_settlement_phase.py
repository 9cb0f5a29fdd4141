"""The settlement phase of an epoch over generated accounts and two epochs: value is
conserved exactly across accounts and fund, every liquidatable account ends healthy or
closed, the fund never goes negative."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import (
    Account,
    MarketSnapshot,
    compute_margin,
    counterparty_account,
    generate_accounts,
    load_example_snapshot,
    settle_epoch,
)
from engine._errors import EngineError

try:
    from tests._engine import moved
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _engine import moved  # type: ignore[no-redef]

pytestmark = pytest.mark.unit

SNAP = load_example_snapshot()


def measure(accounts: tuple[Account, ...] | list[Account], snap: MarketSnapshot, fund: int) -> Fraction:
    """fund + cash + sum size * mark / D, exactly (what settlement conserves)."""
    total = Fraction(fund)
    for a in accounts:
        total += a.quote_balance + sum(p.quote + (p.isolated_margin or 0) for p in a.positions)
        for p in a.positions:
            m = snap.market(p.market)
            total += Fraction(p.size * snap.mark_prices[m.id], 10**m.size_decimals)
    return total


def _venue(seed: int, n: int) -> list[Account]:
    traders = generate_accounts(SNAP, n, seed=seed)
    return [*traders, counterparty_account(SNAP, traders)]


def _check_phase(accounts: list[Account], snap: MarketSnapshot, fund: int) -> tuple[tuple[Account, ...], int]:
    phase = settle_epoch(accounts, snap, fund, counterparty="house")
    assert measure(phase.accounts, snap, phase.fund_after) == measure(accounts, snap, fund)
    assert phase.fund_after >= 0
    assert phase.fund_after == fund + phase.funding_delta + phase.expiry_delta + sum(
        r.fund - f for r, f in zip(phase.liquidations, _funds_before(phase, fund), strict=True)
    )
    for a in phase.accounts:
        if a.id != "house":
            assert compute_margin(a, snap).healthy or not a.positions, a.id
    for liquidated in phase.liquidations:
        assert liquidated.healthy_after
    assert [a.id for a in phase.accounts] == [a.id for a in accounts]
    return phase.accounts, phase.fund_after


def _funds_before(phase: object, fund: int) -> list[int]:
    """The fund before each liquidation of the phase, in order."""
    balance = fund + phase.funding_delta + phase.expiry_delta  # type: ignore[attr-defined]
    out = []
    for r in phase.liquidations:  # type: ignore[attr-defined]
        out.append(balance)
        balance = r.fund
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(2, 8),
    percent=st.integers(-35, 35),
    funding=st.integers(-(10**9), 10**9),
    expire=st.booleans(),
)
def test_two_epochs_conserve_value_and_leave_nobody_liquidatable(
    seed: int, n: int, percent: int, funding: int, expire: bool
) -> None:
    accounts, fund = _check_phase(_venue(seed, n), SNAP, 10**14)
    _check_phase(list(accounts), moved(SNAP, percent, funding, expire), fund)


def test_a_crash_liquidates_and_the_fund_pays_the_bad_debt() -> None:
    accounts = _venue(1, 12)
    crash = moved(SNAP, -25, 50_000_000, True)
    phase = settle_epoch(accounts, crash, 10**14, counterparty="house")
    assert phase.liquidated and phase.fund_after < 10**14 and not phase.deleveraged
    assert measure(phase.accounts, crash, phase.fund_after) == measure(accounts, crash, 10**14)


def test_bad_input_is_named_and_settles_nothing() -> None:
    accounts = _venue(2, 3)
    with pytest.raises(EngineError, match="counterparty 'nobody' is not one of the accounts"):
        settle_epoch(accounts, SNAP, 0, counterparty="nobody")
    with pytest.raises(EngineError, match="distinct account ids"):
        settle_epoch([*accounts, accounts[0]], SNAP, 0, counterparty="house")
    with pytest.raises(EngineError, match="insurance fund"):
        settle_epoch(accounts, SNAP, -1, counterparty="house")
