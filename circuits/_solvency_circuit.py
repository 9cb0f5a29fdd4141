"""The solvency batch circuit: K consecutive accounts of an epoch's commitment tree, what
the venue owes them, added to running totals that chain from batch to batch.

`SolvencyBatch(shape, batch_size=K, depth=d)` proves, for the K leaves at indexes
``start .. start + K - 1`` of the Poseidon Merkle tree of depth d whose root is public
(`algebra.merkle_tree`: the ledger's tree of an epoch's registered commitments), that
the first ``end - start`` of them open to accounts (the margin proofs' encoding and
salt, `circuits._encoding`) and the rest are the tree's zero padding, and that

    totals_after = totals_before + the sum of those accounts' contributions

under the snapshot hashed in the public `snapshot_hash`. Public inputs, in this order
(`SOLVENCY_PUBLIC`): `merkle_root`, `snapshot_hash`, `start` (a multiple of K), `end`
(start <= end <= start + K), `totals_before`, `totals_after`, where each totals input
is `algebra.totals_commitment(blind, totals)` (blinded, so that intermediate totals stay
hidden; the auditor opens the first with blind 0 and zero totals and the last with the
published blind and totals).

The totals, in this order (`totals_names`), each a signed integer carried as a field
element (the sums stay below r/2 in absolute value: checked at build time for 2**d
accounts), with Λ = 10**`solvency_decimals(shape)`:

- `collateral/<j>` per asset: the sum of amounts (quantums): owed to users in kind;
- `settled`: the sum of quote balances (micro-quote);
- `unrealized` (over Λ micro-quote): every position's value at its market's mark,
  ``quote + size * (mark - (F_now - F_entry)) / 10**d``, exact (no rounding: the
  auditor rounds the total up once); an isolated position counts as
  ``isolated_margin + value`` (its margin is the user's cash), negative when the
  position is bankrupt, its deficit then in `bad_debt` (as a bankrupt account's
  negative balance counts here and its deficit there: the fund pays what the account
  cannot, and nobody is owed it twice);
- `bad_debt` (over Λ micro-quote): each account's deficit ``max(0, -equity)`` with
  equity = sum_j amount_j * index_j * weight_j / (10**dec_j 10**6) + quote_balance +
  the cross positions' values (options at the margin engine's conservative bound:
  a long at its lower price bound, a short at its upper), exact; plus each isolated
  position's ``max(0, -(isolated_margin + value))``: what the insurance fund must cover;
- `net/<k>` per market: the sum of sizes (quantums), zero for a venue whose longs
  equal its shorts.

Soundness: every account field that enters a total is range-checked to its declared
bound (a negative amount or a value near r cannot pass); the account is the opened
leaf, so it is bound to the registered commitment; inactive slots (past `end`) must
be zero leaves and their contributions are multiplied by 0; the deficits are exact
(`sign_magnitude`: ``equity = |e| - 2 s |e|``, deficit = s |e|).
"""

from __future__ import annotations

from typing import Any

from algebra import ACCOUNT_TAG, TOTALS_TAG, R
from algebra import solvency_decimals as algebra_solvency_decimals

from ._builder import API, Circuit, HintOp, Public, Secret
from ._encoding import (
    AMOUNT_BITS,
    KIND_OPTION,
    KIND_PERPETUAL,
    PPM_BITS,
    PRICE_BITS,
    QUOTE_BITS,
    SIGNED_OFFSET,
    SIZE_BITS,
)
from ._errors import CircuitDefinitionError
from ._gadgets_arith import sign_magnitude
from ._gadgets_bits import MAX_BITS, from_bits
from ._gadgets_merkle import merkle_root
from ._gadgets_poseidon import poseidon_hash, poseidon_sponge
from ._lc import LinearCombination, as_lc
from ._margin_circuit import MarginShape, Reader, check_snapshot, public_field, ranged_field

#: Public inputs of a solvency batch, in order.
SOLVENCY_PUBLIC = ("merkle_root", "snapshot_hash", "start", "end", "totals_before", "totals_after")
#: The default batch size and tree depth: 32 accounts of the example snapshot's shape
#: fill a 2**17 evaluation domain (125,804 constraints), where 16 would use half of one
#: (69,327; the snapshot hash and the tree path are paid once a batch); depth 20 holds
#: 2**20 accounts. Measured by `benchmarks/solvency.py`: 14.8 accounts/s against 9.0.
DEFAULT_BATCH_SIZE = 32
DEFAULT_DEPTH = 20
#: |mark - owed funding| < 2**48 + 2**65 < 2**66.
_MARK_MINUS_OWED_BITS = 66


def solvency_decimals(shape: MarginShape) -> int:
    """The exponent of Λ for the shape (`algebra.solvency_decimals`)."""
    return algebra_solvency_decimals(shape.asset_decimals, [m.decimals for m in shape.markets])


def totals_names(shape: MarginShape) -> list[str]:
    """The totals in their order (module doc)."""
    return [
        *(f"collateral/{j}" for j in range(shape.n_assets)),
        "settled",
        "unrealized",
        "bad_debt",
        *(f"net/{k}" for k in range(shape.n_markets)),
    ]


class _Bounds:
    """Bounds (exclusive) on one account's |equity| and on an isolated position's
    |margin + value|, from the range checks, in units of 1/Λ."""

    def __init__(self, shape: MarginShape) -> None:
        big = 10 ** solvency_decimals(shape)
        quote = 2**QUOTE_BITS * big
        self.equity = quote + sum(
            2 ** (AMOUNT_BITS + PRICE_BITS + PPM_BITS) * (big // 10 ** (d + 6)) for d in shape.asset_decimals
        )
        self.isolated = 0
        for m in shape.markets:
            scale = big // 10**m.decimals
            if m.kind == KIND_OPTION:  # long * lower - short * upper, size * mark
                self.equity += quote + 2 ** (SIZE_BITS + PRICE_BITS) * scale
            else:
                value = quote + 2 ** (SIZE_BITS + _MARK_MINUS_OWED_BITS) * scale
                self.equity += value
                self.isolated = max(self.isolated, quote + value)
        # One account adds at most this to any total in absolute value.
        self.account = 2 * self.equity + 2 * self.isolated * shape.n_markets


class SolvencyBatch(Circuit):
    """K accounts' contributions to the chained solvency totals (module doc)."""

    merkle_root = Public(doc="root of the epoch's Poseidon Merkle tree of commitments")
    snapshot_hash = Public(doc="sponge('zkmargin.snapshot.v1', snapshot)")
    start = Public(doc="index of the batch's first leaf, a multiple of the batch size")
    end = Public(doc="one past the last account of the batch (start <= end <= start + K)")
    totals_before = Public(doc="totals_commitment(blind_before, the totals before the batch)")
    totals_after = Public(doc="totals_commitment(blind_after, the totals after the batch)")
    blind_before = Secret(doc="the blinding of totals_before")
    blind_after = Secret(doc="the blinding of totals_after")

    shape: MarginShape
    batch_size: int
    depth: int
    accounts: list[LinearCombination]
    salts: list[LinearCombination]
    snapshot: list[LinearCombination]
    before: list[LinearCombination]
    siblings: list[LinearCombination]
    path_bits: list[LinearCombination]

    def __init__(self, shape: MarginShape, batch_size: int = DEFAULT_BATCH_SIZE, depth: int = DEFAULT_DEPTH) -> None:
        if not isinstance(batch_size, int) or batch_size < 1 or batch_size & (batch_size - 1):
            raise CircuitDefinitionError(f"the batch size must be a power of two, got {batch_size!r}")
        if not isinstance(depth, int) or not batch_size.bit_length() - 1 <= depth <= 32:
            raise CircuitDefinitionError(f"depth {depth!r}: the tree must hold a batch, at most 2**32 leaves")
        self.shape, self.batch_size, self.depth = shape, batch_size, depth
        self.bounds = _Bounds(shape)
        if self.bounds.account << depth >= R // 2:
            raise CircuitDefinitionError(f"shape too large: 2**{depth} accounts' totals could reach r/2: {shape}")
        if self.bounds.equity.bit_length() >= MAX_BITS - 1:
            raise CircuitDefinitionError(f"shape too large for the equity comparison: {shape}")

    @property
    def path_length(self) -> int:
        """Levels from the batch's subtree root up to the tree's root."""
        return self.depth - (self.batch_size.bit_length() - 1)

    def input_declarations(self) -> list[tuple[str, Any]]:
        sh, k = self.shape, self.batch_size
        return [
            *type(self).declared_inputs(),
            ("accounts", Secret(k * sh.account_length, doc="K dense account encodings, one after another")),
            ("salts", Secret(k, doc="each account's commitment salt (0 past `end`)")),
            ("snapshot", Secret(sh.snapshot_length, doc="MarketSnapshot.field_encoding()")),
            ("before", Secret(len(totals_names(sh)), doc="the totals before the batch (field elements)")),
            ("siblings", Secret(self.path_length, doc="the subtree root's Merkle path, lowest level first")),
            ("path_bits", Secret(self.path_length, doc="start / K, little-endian bits")),
        ]

    def define(self, api: API) -> None:
        sh = self.shape
        snap = Reader(sh.snapshot_layout, self.snapshot)
        check_snapshot(api, sh, snap, self.snapshot, self.snapshot_hash)
        active = self._active(api)
        with api.scope("totals_before"):
            digest = poseidon_sponge(api, TOTALS_TAG, [self.blind_before, *self.before], name="sponge")
            api.assert_equal(digest, self.totals_before, name="opens")
        totals = [as_lc(t) for t in self.before]
        leaves = []
        n = sh.account_length
        for i in range(self.batch_size):
            with api.scope(f"account{i}"):
                acct = Reader(sh.account_layout, self.accounts[i * n : (i + 1) * n])
                commitment = poseidon_sponge(api, ACCOUNT_TAG, [self.salts[i], *acct.seq], name="commitment")
                leaves.append(api.mul(active[i], commitment, name="leaf"))
                contribution = self._account(api, acct, snap)
                totals = [
                    t + api.mul(active[i], c, name=f"gate{j}") for j, (t, c) in enumerate(zip(totals, contribution))
                ]
        self._tree(api, leaves)
        with api.scope("totals_after"):
            digest = poseidon_sponge(api, TOTALS_TAG, [self.blind_after, *totals], name="sponge")
            api.assert_equal(digest, self.totals_after, name="opens")

    def _active(self, api: API) -> list[LinearCombination]:
        """Slot i holds an account iff i < end - start (scope `range`): a one-hot of the
        count in 0..K, so start <= end <= start + K."""
        k = self.batch_size
        count = self.end - self.start
        with api.scope("range"):
            hot = api.hint(
                lambda v: [int(v[0] == c) for c in range(k + 1)],
                [count],
                k + 1,
                name="onehot",
                boolean=True,
                op=HintOp("onehot", k + 1),
            )
            for c, h in enumerate(hot):
                api.assert_boolean(h, name=f"onehot{c}")
            api.assert_equal(api.sum(hot), 1, name="exactly_one")
            api.assert_equal(api.sum([h * c for c, h in enumerate(hot)]), count, name="count")
        return [api.sum(hot[i + 1 :]) for i in range(k)]

    def _tree(self, api: API, leaves: list[LinearCombination]) -> None:
        """The K leaves hash to a subtree whose path (start / K) reaches the public root."""
        with api.scope("tree"):
            level = leaves
            h = 0
            while len(level) > 1:
                level = [
                    poseidon_hash(api, [level[j], level[j + 1]], name=f"level{h}/node{j // 2}")
                    for j in range(0, len(level), 2)
                ]
                h += 1
            node = level[0]
            if self.path_length:
                node = merkle_root(api, node, self.siblings, self.path_bits, name="path")
                api.assert_equal(self.start, from_bits(api, self.path_bits) * self.batch_size, name="start")
            else:
                api.assert_equal(self.start, 0, name="start")
            api.assert_equal(node, self.merkle_root, name="root")

    def _account(self, api: API, acct: Reader, snap: Reader) -> list[LinearCombination]:
        """One account's contributions to the totals, in `totals_names` order."""
        sh = self.shape
        big = 10 ** solvency_decimals(sh)
        quote_balance = ranged_field(api, acct("account"), "quote_balance")
        equity = quote_balance * big
        amounts = []
        for j in range(sh.n_assets):
            with api.scope(f"asset{j}"):
                amount = ranged_field(api, acct("collateral", j), "amount")
                asset = snap("asset", j)
                priced = api.mul(amount, public_field(asset, "index_price"), name="amount*index")
                weighted = api.mul(priced, public_field(asset, "weight"), name="amount*index*weight")
                equity = equity + weighted * (big // 10 ** (sh.asset_decimals[j] + 6))
                amounts.append(amount)
        unrealized: LinearCombination = api.constant(0)
        deficit: LinearCombination = api.constant(0)
        sizes = []
        for k, m in enumerate(sh.markets):
            slot, market = acct("position", k), snap("market", k)
            scale = big // 10**m.decimals
            with api.scope(f"market{k}"):
                if m.kind == KIND_OPTION:
                    size, liability, value = self._option(api, slot, market, snap("option", k), big, scale)
                    unrealized, equity = unrealized + liability, equity + value
                else:
                    perpetual = snap("perpetual", k) if m.kind == KIND_PERPETUAL else None
                    size, cross, isolated, loss = self._linear(api, slot, market, perpetual, big, scale)
                    unrealized, equity, deficit = unrealized + cross + isolated, equity + cross, deficit + loss
            sizes.append(size)
        with api.scope("bankruptcy"):
            _, _, shortfall = sign_magnitude(api, equity, self.bounds.equity.bit_length(), 0, name="equity")
        return [*amounts, quote_balance, unrealized, deficit + shortfall, *sizes]

    def _linear(
        self,
        api: API,
        slot: Any,
        market: Any,
        perpetual: Any,
        big: int,
        scale: int,
    ) -> tuple[LinearCombination, LinearCombination, LinearCombination, LinearCombination]:
        """(size, cross value, isolated margin + value, isolated deficit) of a perpetual or
        future position, over Λ: value = quote + size * (mark - owed) / 10**d; an isolated
        one's deficit max(0, -(margin + value)) is exact (`sign_magnitude`)."""
        isolated = api.assert_boolean(slot["isolated"], name="isolated_is_boolean")
        margin = ranged_field(api, slot, "isolated_margin")
        api.assert_product(1 - isolated, margin, 0, name="cross_has_no_isolated_margin")
        size = ranged_field(api, slot, "size")
        quote = ranged_field(api, slot, "quote")
        mark = public_field(market, "mark")
        if perpetual is not None:
            owed = public_field(perpetual, "funding_index") - ranged_field(api, slot, "entry_funding")
            mark = mark - owed
        value = quote * big + api.mul(size, mark, name="size*(mark-owed)") * scale
        isolated_value = api.mul(isolated, value, name="flag*value")
        # margin + flag * value: 0 for a cross position (its margin is 0).
        _, _, loss = sign_magnitude(
            api, margin * big + isolated_value, self.bounds.isolated.bit_length(), 0, name="isolated"
        )
        return size, value - isolated_value, margin * big + isolated_value, loss

    def _option(
        self, api: API, slot: Any, market: Any, option: Any, big: int, scale: int
    ) -> tuple[LinearCombination, LinearCombination, LinearCombination]:
        """(size, value at mark, value at the conservative bound) of an option position,
        over Λ: quote + size * mark / 10**d, and quote + (long * lower - short * upper) / 10**d."""
        size, size_abs, short = sign_magnitude(api, slot["size"], slot.field("size").bits, SIGNED_OFFSET, name="size")
        long = size_abs - short
        quote = ranged_field(api, slot, "quote") * big
        at_mark = api.mul(size, public_field(market, "mark"), name="size*mark")
        lower = api.mul(long, public_field(option, "lower_bound"), name="long*lower")
        upper = api.mul(short, public_field(option, "upper_bound"), name="short*upper")
        return size, quote + at_mark * scale, quote + (lower - upper) * scale


def solvency_public(
    merkle_root: int, snapshot_hash: int, start: int, end: int, totals_before: int, totals_after: int
) -> list[int]:
    """A batch's public signals in `SOLVENCY_PUBLIC` order."""
    return [merkle_root, snapshot_hash, start, end, totals_before, totals_after]
