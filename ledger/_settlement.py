"""Settlements in the ledger: what an epoch's settlement phase did, in public, and the
transitions that chain each account's commitment from one epoch to the next (checked
without the prover, circuits or engine).

A settlement (one per epoch, appended in one transaction with the registration of every
settled account's new commitment) publishes `SettlementFacts`:

- the insurance fund before and after, with what funding and expiry paid into it and,
  per liquidation, the penalty it received and the bad debt it covered, so that
  ``fund_after = fund_before + funding + expiry + sum (penalty - fund_used)``;
- per market, the funding index applied (and its change since the previous epoch's
  snapshot, with the implied rate over the mark) and the settlement price of what has
  expired: each must be the epoch's published snapshot's;
- the number of liquidations and, for each liquidated and each deleveraged account,
  its new commitment (registered in the same transaction); the counterparty; and every
  account of the previous epoch that this one no longer settles (`departed`, with its
  last commitment), so that no account leaves without a trace.

A transition (one per settled account) names how the account's commitment of the
previous epoch became this epoch's: `proven` carries a transition proof
(`circuits.SettlementTransition`, public [old commitment, new commitment, snapshot
hash], under the settlement's transition key) that the new account is the old one after
the published funding and expiry, nothing else; the other kinds say why no proof is
possible (`TRANSITION_KINDS`): the account was liquidated, deleveraged, or the
counterparty that took liquidated positions over; it traded (or was otherwise changed)
between the epochs, so its old commitment does not open to the account settled; it is
new; or the listed markets changed (`relisted`: the two commitments' encodings differ).

`settlement_problems` and `transition_problems` name the first violation; the ledger
checks both before appending, and the audit re-checks every epoch with them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from verifier import Proof, PublicSignals, VerifyingKey, batch_verify

#: A transition proof's public signals: old commitment, new commitment, snapshot hash.
TRANSITION_N_PUBLIC = 3
#: How an account's commitment reached this epoch's (module doc); all but `proven` carry no proof.
TRANSITION_KINDS = ("proven", "liquidated", "deleveraged", "counterparty", "traded", "new", "relisted")
UNPROVEN_KINDS = TRANSITION_KINDS[1:]

#: Why a proven transition whose signals are right is refused.
TRANSITION_PAIRING_FAILED = "pairing check failed: the proof does not verify under the settlement's transition key"

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class MarketFact(BaseModel):
    """One market's public settlement facts (micro-quote per whole unit)."""

    model_config = _FROZEN

    market: StrictStr
    funding_index: StrictInt | None = Field(default=None, description="A perpetual's funding index applied.")
    funding_change: StrictInt | None = Field(
        default=None, description="Its change since the previous epoch's snapshot (what a long paid per unit)."
    )
    funding_rate_ppm: StrictInt | None = Field(
        default=None, description="trunc(funding_change * 10**6 / mark): the change as a rate of the mark."
    )
    settlement_price: StrictInt | None = Field(default=None, description="An expired market's settlement price.")


class LiquidationFact(BaseModel):
    """One liquidation: the account's new commitment and what the fund received and paid."""

    model_config = _FROZEN

    account: StrictStr
    commitment: StrictInt
    closes: StrictInt = Field(ge=0, description="Positions closed (0: no position, only bad debt covered).")
    penalty: StrictInt = Field(ge=0, description="Liquidation fees paid into the fund.")
    fund_used: StrictInt = Field(ge=0, description="Bad debt the fund covered.")
    deleveraged_shortfall: StrictInt = Field(ge=0, description="Bad debt the deleveraged accounts absorbed.")


class AccountFact(BaseModel):
    """An account named by the settlement, with its new commitment."""

    model_config = _FROZEN

    account: StrictStr
    commitment: StrictInt


class SettlementFacts(BaseModel):
    """An epoch's public settlement (module doc)."""

    model_config = _FROZEN

    epoch: StrictInt
    previous_epoch: StrictInt | None = Field(description="The epoch whose commitments the transitions start from.")
    fund_before: StrictInt = Field(ge=0)
    funding_delta: StrictInt = Field(description="What funding paid into the fund (rounding dust, any imbalance).")
    expiry_delta: StrictInt = Field(description="What expiry paid into the fund.")
    fund_after: StrictInt = Field(ge=0)
    counterparty: StrictStr = Field(description="The account that takes liquidated positions over.")
    markets: tuple[MarketFact, ...]
    liquidations: tuple[LiquidationFact, ...]
    deleveraged: tuple[AccountFact, ...]
    departed: tuple[AccountFact, ...] = Field(
        description="Accounts of the previous epoch not settled in this one, with their last commitment."
    )

    @property
    def liquidation_delta(self) -> int:
        """What the liquidations paid into the fund: penalties less the bad debt covered."""
        return sum(x.penalty - x.fund_used for x in self.liquidations)


@dataclass(frozen=True)
class Transition:
    """How one account's commitment reached this epoch's (module doc)."""

    account: str
    kind: str
    new_commitment: int
    old_commitment: int | None = None
    reason: str = ""
    proof: Proof | None = None
    public: PublicSignals | None = None


def transition_row(epoch: int, t: Transition) -> dict[str, Any]:
    """The transitions-table row of `t` (without its seq)."""
    return {
        "epoch": epoch,
        "account": t.account,
        "kind": t.kind,
        "old_commitment": None if t.old_commitment is None else str(t.old_commitment),
        "new_commitment": str(t.new_commitment),
        "reason": t.reason,
        "proof_json": None if t.proof is None else t.proof.to_json(),
        "public_json": None if t.public is None else t.public.to_json(),
    }


def transition_of(row: Mapping[str, Any]) -> Transition:
    """A transitions-table row read back (raises on a malformed one)."""
    proof = None if row["proof_json"] is None else Proof.from_json(row["proof_json"])
    public = None if row["public_json"] is None else PublicSignals.from_json(row["public_json"])
    old = None if row["old_commitment"] is None else int(row["old_commitment"])
    return Transition(row["account"], row["kind"], int(row["new_commitment"]), old, row["reason"], proof, public)


def _trunc_div(a: int, b: int) -> int:
    """a / b rounded toward zero (b > 0)."""
    return a // b if a >= 0 else -(-a // b)


def market_facts(snapshot_json: str, previous_snapshot_json: str | None) -> tuple[MarketFact, ...]:
    """The market facts an epoch's settlement publishes, from its snapshot and the previous
    epoch's (one per perpetual and per market with a settlement price, in snapshot order)."""
    snapshot = json.loads(snapshot_json)
    before = json.loads(previous_snapshot_json)["funding_indices"] if previous_snapshot_json is not None else {}
    indices, prices, marks = snapshot["funding_indices"], snapshot["settlement_prices"], snapshot["mark_prices"]
    facts = []
    for m in snapshot["markets"]:
        market = m["id"]
        if market not in indices and market not in prices:
            continue
        index = indices.get(market)
        change = index - before[market] if index is not None and market in before else None
        rate = None if change is None or not marks[market] else _trunc_div(change * 10**6, marks[market])
        facts.append(MarketFact(market=market, funding_index=index, funding_change=change, funding_rate_ppm=rate,
                                settlement_price=prices.get(market)))  # fmt: skip
    return tuple(facts)


def settlement_problems(
    facts: SettlementFacts,
    snapshot_json: str,
    previous_snapshot_json: str | None,
    previous_epoch: int | None,
    previous_fund: int | None,
    registered: Mapping[str, int],
    previous_registered: Mapping[str, int],
) -> str | None:
    """The first violation of `facts` for its epoch: the previous epoch is the ledger's
    last before it (`previous_epoch`), the fund starts where the last settlement left it
    (`previous_fund`) and moves by exactly the published amounts, the market facts are
    the snapshot's, every named account's commitment is the one registered, and the
    departed accounts are exactly the previous epoch's that this one does not register,
    each with its last commitment."""
    if facts.previous_epoch != previous_epoch:
        return f"it settles from epoch {facts.previous_epoch}, but the ledger's previous epoch is {previous_epoch}"
    if previous_fund is not None and facts.fund_before != previous_fund:
        return f"the fund starts at {facts.fund_before}, but the last settlement left it at {previous_fund}"
    moved = facts.funding_delta + facts.expiry_delta + facts.liquidation_delta
    if facts.fund_after != facts.fund_before + moved:
        return (
            f"the fund moved from {facts.fund_before} to {facts.fund_after}, not by the published "
            f"{facts.funding_delta} + {facts.expiry_delta} + {facts.liquidation_delta}"
        )
    expected = {m.market: m for m in market_facts(snapshot_json, previous_snapshot_json)}
    if len(facts.markets) != len(expected) or {m.market for m in facts.markets} != set(expected):
        return "the market facts are not one per perpetual and expired market of the snapshot"
    for m in facts.markets:
        if m != expected[m.market]:
            return f"{m.market}: the funding and settlement facts are not the snapshot's ({expected[m.market]})"
    named: list[LiquidationFact | AccountFact] = [*facts.liquidations, *facts.deleveraged]
    if len({x.account for x in facts.liquidations}) != len(facts.liquidations):
        return "an account is liquidated twice"
    for x in named:
        if registered.get(x.account) != x.commitment:
            return f"{x.account}'s published commitment is not the one registered in epoch {facts.epoch}"
    gone = {a: c for a, c in previous_registered.items() if a not in registered}
    if {d.account: d.commitment for d in facts.departed} != gone or len(facts.departed) != len(gone):
        return f"the departed accounts are not the previous epoch's that it does not settle ({sorted(gone)})"
    return None


def listing(snapshot_json: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The assets and (market, kind) a snapshot lists, in order: what an account's
    commitment encoding is dense over. Two epochs with one listing have one encoding."""
    snap = json.loads(snapshot_json)
    return tuple(a["symbol"] for a in snap["assets"]), tuple((m["id"], m["kind"]) for m in snap["markets"])


def _name(marked: bool) -> str:
    return "do not name" if marked else "name"


def _kind_problem(t: Transition, facts: SettlementFacts, previous: Mapping[str, int], relisted: bool) -> str | None:
    """Why a transition's kind or old commitment contradicts the settlement, or None."""
    liquidated = {x.account for x in facts.liquidations}
    deleveraged = {x.account for x in facts.deleveraged} - liquidated
    if t.kind not in TRANSITION_KINDS:
        return f"unknown transition kind {t.kind!r}"
    if t.old_commitment != previous.get(t.account):
        return "its old commitment is not its commitment in the previous epoch"
    if (t.kind == "liquidated") != (t.account in liquidated):
        return f"its transition is {t.kind}, but the settlement's liquidations {_name(t.kind == 'liquidated')} it"
    if (t.kind == "deleveraged") != (t.account in deleveraged):
        return f"its transition is {t.kind}, but the settlement {_name(t.kind == 'deleveraged')} it deleveraged"
    if t.kind == "counterparty" and (t.account != facts.counterparty or not facts.liquidations):
        return "marked counterparty, but it is not the settlement's counterparty of a liquidation"
    if t.kind == "new" and t.old_commitment is not None:
        return "marked new, but it has a commitment in the previous epoch"
    if t.kind in ("proven", "traded", "relisted") and t.old_commitment is None:
        return f"marked {t.kind}, but it has no commitment in the previous epoch"
    if t.kind == "relisted" and not relisted:
        return "marked relisted, but the two epochs list the same assets and markets"
    if t.kind in ("proven", "traded") and relisted:
        return f"marked {t.kind}, but the listing changed: its commitments have different encodings"
    if (t.kind == "proven") != (t.proof is not None and t.public is not None):
        return "a proven transition carries a proof, any other none"
    return None


def transition_problems(
    transitions: Sequence[Transition],
    facts: SettlementFacts,
    snapshot_hash: int,
    registered: Mapping[str, int],
    previous: Mapping[str, int],
    transition_key: VerifyingKey,
    *,
    relisted: bool,
    closed: bool,
    verify: bool = True,
) -> list[tuple[str, str]]:
    """(account, problem) for every transition that is not what it says: on an account
    registered in the epoch, its new commitment the registered one, its old commitment
    the previous epoch's (None when it had none), its kind consistent with the settlement
    (`relisted`: the previous epoch's `listing` differs), a proven one with the signals
    [old, new, snapshot hash] and a proof that verifies (one batch); once the epoch is
    closed, every registered account has one."""
    problems: list[tuple[str, str]] = []
    pending: list[tuple[str, list[int], Proof]] = []
    seen: set[str] = set()
    for t in transitions:
        if t.account in seen:
            problems.append((t.account, "a second transition of the account"))
        seen.add(t.account)
        problem = (
            None if registered.get(t.account) == t.new_commitment else "its new commitment is not the registered one"
        )
        problem = problem or _kind_problem(t, facts, previous, relisted)
        if problem is None and t.proof is not None and t.public is not None and t.old_commitment is not None:
            signals = [t.old_commitment, t.new_commitment, snapshot_hash]
            if list(t.public.root) != signals:
                problem = "its public signals are not [old commitment, new commitment, snapshot hash]"
            else:
                pending.append((t.account, signals, t.proof))
        if problem is not None:
            problems.append((t.account, problem))
    if verify and pending:
        verdicts = batch_verify(transition_key, [(signals, proof) for _, signals, proof in pending])
        problems += [(account, TRANSITION_PAIRING_FAILED) for (account, _, _), ok in zip(pending, verdicts) if not ok]
    if closed:
        problems += [(a, "no transition recorded (the epoch is closed)") for a in registered if a not in seen]
    return problems
