"""The settlement transition circuit: an account's new commitment holds its old
commitment's account after the epoch's funding and expiry, at the public snapshot's
funding indices and settlement prices, with the engine's exact rounding.

`SettlementTransition(shape)` proves, for two commitments of the margin proofs'
encoding (`circuits._encoding`, salted sponge `ACCOUNT_TAG`) and a snapshot hashed in
the public `snapshot_hash` (the epoch's: its funding indices and settlement prices are
public), that ``new = settle_expiry(settle_funding(old))`` (`engine._settlement`).
Public inputs, in this order (`TRANSITION_PUBLIC`): `old_commitment`,
`new_commitment`, `snapshot_hash`. Secret: both salts, both account encodings, the
snapshot encoding.

Per field of the account encoding:

- the id, the margin mode and every collateral amount are unchanged;
- a perpetual's slot (market k, ``D = 10**d``, ``F`` the snapshot's funding index):
  size, isolated flag and margin unchanged, ``quote' = quote - ceil(size * (F - entry) / D)``
  (exact: `div_mod` with the remainder in [0, D)), and ``entry' = F``; a zero size
  may keep its old entry index instead (the dense encoding cannot tell "no position"
  from a position of size 0, and a size of 0 pays nothing at any index);
- a future's or option's slot, with ``expired = (timestamp >= expiry)``: unchanged
  when live; when expired, every field 0 and ``credit = floor(size * v / D)`` with
  ``v`` the settlement value (a future's mark, which an expired snapshot sets to its
  settlement price; an option's lower bound, which it sets to the payoff);
- ``quote_balance' = quote_balance + sum over expired slots (isolated_margin + quote + credit)``.

Charging one micro-quote more than the published rate makes the witness unsatisfiable:
every quantity is exact, no bound is left slack. Soundness: the old account's fields
that enter arithmetic are range-checked to their declared bounds, and the new quote
fields and quote balance to exactly the engine's (|v| < 2**bits: the new encoding is
one the engine can hold), so every equation holds
over the integers (each side far below r: checked by `div_mod`'s width check), not
just modulo r.
"""

from __future__ import annotations

from typing import Any

from algebra import ACCOUNT_TAG

from ._builder import API, Circuit, Public, Secret
from ._encoding import FUNDING_BITS, KIND_OPTION, KIND_PERPETUAL, PRICE_BITS, SIGNED_OFFSET, SIZE_BITS, TIME_BITS
from ._gadgets_arith import div
from ._gadgets_bits import range_check
from ._gadgets_compare import greater_or_equal, is_zero
from ._gadgets_poseidon import poseidon_sponge
from ._lc import LinearCombination, as_lc
from ._margin_circuit import MarginShape, MarketShape, Reader, check_snapshot, public_field, ranged_field

#: Public inputs of a transition proof, in order.
TRANSITION_PUBLIC = ("old_commitment", "new_commitment", "snapshot_hash")


class SettlementTransition(Circuit):
    """new = the old account after funding and expiry under the snapshot (module doc)."""

    old_commitment = Public(doc="the account's commitment before the settlement")
    new_commitment = Public(doc="the account's commitment after funding and expiry")
    snapshot_hash = Public(doc="sponge('zkmargin.snapshot.v1', snapshot) of the settling epoch")
    old_salt = Secret(doc="the old commitment's salt")
    new_salt = Secret(doc="the new commitment's salt")

    shape: MarginShape
    old: list[LinearCombination]
    new: list[LinearCombination]
    snapshot: list[LinearCombination]

    def __init__(self, shape: MarginShape) -> None:
        self.shape = shape

    def input_declarations(self) -> list[tuple[str, Any]]:
        n = self.shape.account_length
        return [
            *type(self).declared_inputs(),
            ("old", Secret(n, doc="the account before: its dense encoding")),
            ("new", Secret(n, doc="the account after: its dense encoding")),
            ("snapshot", Secret(self.shape.snapshot_length, doc="MarketSnapshot.field_encoding()")),
        ]

    def define(self, api: API) -> None:
        sh = self.shape
        snap = Reader(sh.snapshot_layout, self.snapshot)
        old, new = Reader(sh.account_layout, self.old), Reader(sh.account_layout, self.new)
        check_snapshot(api, sh, snap, self.snapshot, self.snapshot_hash)
        with api.scope("commitment"):
            before = poseidon_sponge(api, ACCOUNT_TAG, [self.old_salt, *self.old], name="old")
            api.assert_equal(before, self.old_commitment, name="old_opens")
            after = poseidon_sponge(api, ACCOUNT_TAG, [self.new_salt, *self.new], name="new")
            api.assert_equal(after, self.new_commitment, name="new_opens")
        with api.scope("account"):
            api.assert_equal(new("account")["id"], old("account")["id"], name="same_id")
            api.assert_equal(new("account")["mode"], old("account")["mode"], name="same_mode")
            balance = ranged_field(api, old("account"), "quote_balance", "old_quote_balance")
            balance_after = _canonical(api, new("account"), "quote_balance", "new_quote_balance")
            for j in range(sh.n_assets):
                api.assert_equal(new("collateral", j)["amount"], old("collateral", j)["amount"], name=f"asset{j}")
        timestamp = public_field(snap("header"), "timestamp")
        released: list[LinearCombination] = []
        for k, m in enumerate(sh.markets):
            with api.scope(f"market{k}"):
                if m.kind == KIND_PERPETUAL:
                    _funding(api, m, snap, k, old("position", k), new("position", k))
                else:
                    released.append(_expiry(api, m, snap, k, old("position", k), new("position", k), timestamp))
        with api.scope("account"):
            api.assert_equal(balance_after, balance + api.sum(released), name="quote_balance")


def _canonical(api: API, view: Any, name: str, label: str) -> LinearCombination:
    """A signed field of the new account with exactly the engine's bound, |v| < 2**bits
    (`ranged_field` admits -2**bits too, which the engine refuses: the lower end is
    checked again), so that the new encoding is one the engine can hold."""
    value = ranged_field(api, view, name, label)
    range_check(
        api, value + (2 ** view.field(name).bits - 1), view.field(name).bits + 1, name=f"{label}_above_-2**bits"
    )
    return value


def _funding(api: API, m: MarketShape, snap: Reader, k: int, old: Any, new: Any) -> None:
    """A perpetual slot after funding at the snapshot's index (module doc)."""
    size = ranged_field(api, old, "size")
    quote = ranged_field(api, old, "quote")
    entry = ranged_field(api, old, "entry_funding")
    index = public_field(snap("perpetual", k), "funding_index")
    owed = api.mul(size, index - entry, name="size*(F-entry)")
    payment = div(
        api, owed, 10**m.decimals, n_bits=SIZE_BITS + FUNDING_BITS + 1, d_bits=(10**m.decimals).bit_length(),
        signed=True, ceil=True, name="payment",
    )  # fmt: skip
    api.assert_equal(new["size"], old["size"], name="same_size")
    api.assert_equal(new["isolated"], old["isolated"], name="same_isolated")
    api.assert_equal(new["isolated_margin"], old["isolated_margin"], name="same_isolated_margin")
    api.assert_equal(_canonical(api, new, "quote", "new_quote"), quote - payment, name="quote-payment")
    entry_after = as_lc(new["entry_funding"]) - SIGNED_OFFSET
    moved = api.mul(1 - is_zero(api, size, name="no_size"), entry_after - index, name="sized*(entry'-F)")
    api.assert_equal(moved, 0, name="entry'=F")
    api.assert_product(entry_after - index, entry_after - entry, 0, name="entry'_in_{F,entry}")


def _expiry(
    api: API, m: MarketShape, snap: Reader, k: int, old: Any, new: Any, timestamp: LinearCombination
) -> LinearCombination:
    """A future's or option's slot: unchanged when live, cash-settled into the quote
    balance and zeroed when expired; returns what the balance receives (module doc)."""
    market = snap("market", k)
    expired = greater_or_equal(api, timestamp, public_field(market, "expiry"), TIME_BITS, name="expired")
    live = 1 - expired
    size = ranged_field(api, old, "size")
    quote = ranged_field(api, old, "quote")
    value = public_field(snap("option", k), "lower_bound") if m.kind == KIND_OPTION else public_field(market, "mark")
    credit = div(
        api, api.mul(size, value, name="size*value"), 10**m.decimals, n_bits=SIZE_BITS + PRICE_BITS,
        d_bits=(10**m.decimals).bit_length(), signed=True, name="credit",
    )  # fmt: skip
    cash = quote + credit
    api.assert_equal(as_lc(new["size"]) - SIGNED_OFFSET, api.mul(live, size, name="live*size"), name="size")
    api.assert_equal(as_lc(new["quote"]) - SIGNED_OFFSET, api.mul(live, quote, name="live*quote"), name="quote")
    if m.kind != KIND_OPTION:
        margin = ranged_field(api, old, "isolated_margin")
        api.assert_equal(new["isolated"], api.mul(live, old["isolated"], name="live*isolated"), name="isolated")
        api.assert_equal(new["isolated_margin"], api.mul(live, margin, name="live*margin"), name="margin")
        cash = cash + margin
    return api.mul(expired, cash, name="released")


def transition_public(old_commitment: int, new_commitment: int, snapshot_hash: int) -> list[int]:
    """A transition proof's public signals in `TRANSITION_PUBLIC` order."""
    return [old_commitment, new_commitment, snapshot_hash]
