"""An epoch's settlement phase: funding, then expiry, then liquidation, over every account
of the venue and its insurance fund (`engine._settlement` has the formulas).

    phase = settle_epoch(accounts, snapshot, fund, params, counterparty="house")

1. Funding: every perpetual position pays or receives at the snapshot's funding index
   (`settle_funding`); the fund clears the payments (it receives the rounding dust).
2. Expiry: every position in a market expired in the snapshot is cash-settled at its
   settlement price into the account's quote balance (`settle_expiry`).
3. Liquidation: every account `compute_margin` says is liquidatable, in id order, is
   liquidated (`liquidate`) with the venue's order-book stand-in `counterparty` taking
   the positions over and every other account in the deleveraging pool; accounts that a
   deleveraging made liquidatable are taken in the next pass, until none is (each pass
   closes positions and deleveraging never flips one, so this ends). The counterparty
   itself is never liquidated (dYdX's order book: its health is not the venue's check).

Value is conserved exactly: ``fund + sum (quote_balance + isolated margins + quotes) +
sum size * mark / D`` is the same before and after (each step conserves it; the tests
check it with exact rationals). The fund never goes negative: a step that would need
more than it holds deleverages instead, or raises a named error and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._errors import DuplicateEntryError, MalformedInputError
from ._margin import compute_margin
from ._models import Account, MarketSnapshot, check_range
from ._settlement import LiquidationParams, LiquidationResult, liquidate, settle_expiry, settle_funding
from ._units import QUOTE_BOUND


@dataclass(frozen=True)
class EpochSettlement:
    """The phase's outcome: the accounts afterwards (in the given order) and the fund."""

    accounts: tuple[Account, ...]
    fund_before: int
    funding_delta: int
    expiry_delta: int
    fund_after: int
    liquidations: tuple[LiquidationResult, ...]

    @property
    def liquidated(self) -> tuple[str, ...]:
        """Ids of the accounts liquidated, in order."""
        return tuple(r.account.id for r in self.liquidations)

    @property
    def deleveraged(self) -> tuple[str, ...]:
        """Ids of the accounts that took positions over by deleveraging (sorted)."""
        return tuple(
            sorted(
                {f.counterparty for r in self.liquidations for c in r.closes for f in c.fills if f.kind == "deleverage"}
            )
        )


def settle_epoch(
    accounts: Sequence[Account],
    snapshot: MarketSnapshot,
    fund: int,
    params: LiquidationParams | None = None,
    *,
    counterparty: str,
) -> EpochSettlement:
    """Funding, expiry and liquidation of every account (module doc). Named errors, and
    nothing settled, for duplicate ids, an unknown counterparty, a fund out of range or
    too small for a step that has no other way to pay."""
    ids = [a.id for a in accounts]
    if len(set(ids)) != len(ids):
        raise DuplicateEntryError("settlement needs distinct account ids")
    if counterparty not in ids:
        raise MalformedInputError(f"the liquidation counterparty {counterparty!r} is not one of the accounts")
    check_range("insurance fund", fund, 0, QUOTE_BOUND)
    funded = settle_funding(accounts, snapshot, fund=fund)
    expired = settle_expiry(funded.accounts, snapshot, fund=fund + funded.fund_delta)
    current = {a.id: a for a in expired.accounts}
    balance = fund + funded.fund_delta + expired.fund_delta
    results: list[LiquidationResult] = []
    for _ in range(1 + sum(len(a.positions) for a in accounts)):
        due = [i for i in sorted(current) if i != counterparty and compute_margin(current[i], snapshot).liquidatable]
        if not due:
            break
        for account_id in due:
            if not compute_margin(current[account_id], snapshot).liquidatable:
                continue  # a deleveraging earlier in this pass made it healthy
            pool = [current[i] for i in sorted(current) if i not in (account_id, counterparty)]
            r = liquidate(current[account_id], snapshot, balance, params, counterparty=current[counterparty], pool=pool)
            current[account_id], current[counterparty] = r.account, r.counterparty
            current.update({a.id: a for a in r.pool})
            balance = r.fund
            results.append(r)
    return EpochSettlement(
        tuple(current[i] for i in ids),
        fund,
        funded.fund_delta,
        expired.fund_delta,
        balance,
        tuple(results),
    )
