"""Solvency: what the venue owes each account, summed over the epoch's commitment tree.

These formulas are the specification the solvency batch circuit
(`circuits.SolvencyBatch`) reproduces; both are exact integer arithmetic. Λ =
10**`solvency_decimals` (the least power of ten that makes every collateral value and
every position value an integer number of 1/Λ micro-quote). Per account::

    collateral_j = amount_j                                   (quantums, owed in kind)
    settled      = quote_balance                              (micro-quote)
    value(pos)   = quote * Λ + size * (mark - (F_now - F_entry)) * Λ / 10**d    (over Λ)
    unrealized   = sum over cross positions of value(pos)
                 + sum over isolated positions of (isolated_margin * Λ + value(pos))
    equity       = sum_j amount_j * index_j * weight_j * Λ / (10**dec_j * 10**6)
                 + quote_balance * Λ + sum over cross positions of value'(pos)
    bad_debt     = max(0, -equity) + sum over isolated positions of max(0, -(isolated_margin * Λ + value(pos)))
    net_k        = size in market k

where value' is value with an option at the margin engine's conservative bound (a long
at its lower price bound, a short at its upper; linear positions at mark). The totals
are these summed over every registered account. What the auditor concludes from them
(`ledger.solvency_problems`): reserves_j >= collateral_j per asset, quote reserves >=
settled + ceil(unrealized / Λ), insurance fund >= ceil(bad_debt / Λ), net_k = 0.

A bankrupt account (or isolated position) counts its negative value in `unrealized` and
its deficit in `bad_debt`: the quote reserves cover what the others are owed less what
it lost, the fund what it cannot pay, and nothing is required twice.

Rounding: none per account; the auditor rounds the liabilities and the bad debt up,
once, against the venue. Options are valued at their mark for the liabilities (with
every market's longs equal to its shorts, the marks cancel in the sum) and at the
conservative bound for the equity that decides bankruptcy (a larger deficit).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from algebra import FileFormatError, MerkleTree, MismatchedFilesError, R, merkle_tree, totals_commitment
from circuits import (
    CompiledCircuit,
    MarginShape,
    SolvencyBatch,
    compile_circuit,
    file_checksum,
    load_compiled,
    save_compiled,
    solvency_decimals,
)
from ledger import PublishedTotals, Reserves

from ._commitment import account_layout_of, commit_encoding, encode_account, random_salt
from ._errors import MalformedInputError
from ._margin import _funding_owed, _valuation_price, validate_account
from ._models import Account, MarketSnapshot, OptionMarket
from ._prove_account import check_supported, circuit_path, margin_shape
from ._units import PPM, pow10


@dataclass(frozen=True)
class SolvencyTotals:
    """Running totals of a solvency round, in the circuit's order (`circuits.totals_names`)."""

    collateral: tuple[int, ...]
    settled: int
    unrealized: int
    bad_debt: int
    net: tuple[int, ...]

    @classmethod
    def zero(cls, n_assets: int, n_markets: int) -> SolvencyTotals:
        return cls((0,) * n_assets, 0, 0, 0, (0,) * n_markets)

    @classmethod
    def from_values(cls, values: Sequence[int], n_assets: int) -> SolvencyTotals:
        a = n_assets
        return cls(tuple(values[:a]), values[a], values[a + 1], values[a + 2], tuple(values[a + 3 :]))

    def values(self) -> list[int]:
        return [*self.collateral, self.settled, self.unrealized, self.bad_debt, *self.net]

    def __add__(self, other: SolvencyTotals) -> SolvencyTotals:
        return SolvencyTotals.from_values(
            [x + y for x, y in zip(self.values(), other.values(), strict=True)], len(self.collateral)
        )

    def commitment(self, blind: int) -> int:
        """`algebra.totals_commitment(blind, values)`: a batch's public before/after."""
        return totals_commitment(blind, self.values())


def solvency_scale(snapshot: MarketSnapshot) -> int:
    """Λ of the snapshot's shape (module doc)."""
    return pow10(solvency_decimals(margin_shape(snapshot)))


def published_totals(totals: SolvencyTotals, snapshot: MarketSnapshot) -> PublishedTotals:
    """The totals by name, over the snapshot's Λ, as the ledger records and checks them."""
    return PublishedTotals(
        tuple((a.symbol, v) for a, v in zip(snapshot.assets, totals.collateral, strict=True)),
        totals.settled,
        totals.unrealized,
        totals.bad_debt,
        tuple((m.id, v) for m, v in zip(snapshot.markets, totals.net, strict=True)),
        solvency_decimals(margin_shape(snapshot)),
    )


def required_reserves(accounts: Sequence[Account], snapshot: MarketSnapshot) -> Reserves:
    """The least reserves the auditor accepts for these accounts: per asset the collateral
    owed, the quote liability and the bad debt rounded up as `ledger` rounds them."""
    zero = SolvencyTotals.zero(len(snapshot.assets), len(snapshot.markets))
    t = published_totals(sum((account_totals(a, snapshot) for a in accounts), zero), snapshot)
    return Reserves(assets=dict(t.collateral), quote=max(0, t.quote_liability), insurance_fund=t.bad_debt_quote)


def account_totals(account: Account, snapshot: MarketSnapshot) -> SolvencyTotals:
    """One account's contribution to the solvency totals (module doc); the engine's named
    errors for an account the snapshot cannot value."""
    validate_account(account, snapshot)
    check_supported(account, snapshot)
    big = solvency_scale(snapshot)
    equity = account.quote_balance * big
    collateral = []
    for a in snapshot.assets:
        amount = account.collateral.get(a.symbol, 0)
        collateral.append(amount)
        equity += amount * snapshot.index_prices[a.symbol] * a.collateral_weight_ppm * big // (pow10(a.decimals) * PPM)
    unrealized = bad_debt = 0
    sizes = {p.market: p for p in account.positions}
    for p in account.positions:
        m = snapshot.market(p.market)
        scale = big // pow10(m.size_decimals)
        owed = _funding_owed(snapshot, m, p)
        value = p.quote * big + p.size * (snapshot.mark_prices[m.id] - owed) * scale
        if p.isolated_margin is not None:
            isolated = p.isolated_margin * big + value
            unrealized += isolated
            bad_debt += max(0, -isolated)
            continue
        unrealized += value
        if isinstance(m, OptionMarket):
            value = p.quote * big + p.size * _valuation_price(snapshot, m, p.size) * scale
        equity += value
    bad_debt += max(0, -equity)
    net = tuple(sizes[m.id].size if m.id in sizes else 0 for m in snapshot.markets)
    return SolvencyTotals(tuple(collateral), account.quote_balance, unrealized, bad_debt, net)


# ---- batches ----------------------------------------------------------------------------------


@cache
def _compiled(shape: MarginShape, batch_size: int, depth: int) -> CompiledCircuit:
    return compile_circuit(SolvencyBatch(shape, batch_size, depth))


def solvency_circuit_for(snapshot: MarketSnapshot, batch_size: int, depth: int) -> CompiledCircuit:
    """The compiled solvency batch circuit of the snapshot's shape (cached)."""
    return _compiled(margin_shape(snapshot), batch_size, depth)


def _saved_shape(snapshot: MarketSnapshot, batch_size: int, depth: int) -> str:
    return repr((margin_shape(snapshot), batch_size, depth))


def save_solvency_circuit(snapshot: MarketSnapshot, batch_size: int, depth: int, zkey: str | Path) -> Path:
    """Save the compiled solvency circuit beside its (written) key, as the margin's is."""
    path = circuit_path(zkey)
    circuit = solvency_circuit_for(snapshot, batch_size, depth)
    save_compiled(circuit, path, key_checksum=file_checksum(zkey), shape=_saved_shape(snapshot, batch_size, depth))
    return path


def solvency_circuit_with_key(
    snapshot: MarketSnapshot, batch_size: int, depth: int, zkey: str | Path
) -> CompiledCircuit:
    """The solvency circuit saved beside `zkey` when it is this key's and shape's, else compiled."""
    path = circuit_path(zkey)
    if path.exists():
        with contextlib.suppress(FileFormatError, MismatchedFilesError):
            return load_compiled(
                path, key_checksum=file_checksum(zkey), shape=_saved_shape(snapshot, batch_size, depth)
            )
    return solvency_circuit_for(snapshot, batch_size, depth)


def padding_encoding(snapshot: MarketSnapshot) -> tuple[int, ...]:
    """The encoding of an empty slot past the batch's last account: every field zero (its
    contributions are multiplied by 0 and its leaf must be the tree's 0)."""
    layout = account_layout_of(snapshot)
    values = {key: {f.name: ("" if f.text else 0) for f in record.fields} for key, record in layout.plan}
    return tuple(layout.encode(values))


@dataclass(frozen=True)
class SolvencyBatchJob:
    """Everything one batch proof needs beyond the round's context (picklable): its
    accounts' encodings and salts, the totals before and after with their blindings,
    and the subtree's Merkle path."""

    index: int
    start: int
    end: int
    encodings: tuple[tuple[int, ...], ...]
    salts: tuple[int, ...]
    before: tuple[int, ...]
    blind_before: int
    after: tuple[int, ...]
    blind_after: int
    siblings: tuple[int, ...]
    path_bits: tuple[int, ...]

    def assignment(
        self, root: int, snapshot_hash: int, snapshot_encoding: Sequence[int], padding: Sequence[int], batch_size: int
    ) -> dict[str, int | list[int]]:
        """The solvency circuit's input assignment for this batch."""
        pad = batch_size - len(self.encodings)
        accounts = [v for e in self.encodings for v in e] + list(padding) * pad
        return {
            "merkle_root": root,
            "snapshot_hash": snapshot_hash,
            "start": self.start,
            "end": self.end,
            "totals_before": totals_commitment(self.blind_before, self.before),
            "totals_after": totals_commitment(self.blind_after, self.after),
            "blind_before": self.blind_before,
            "blind_after": self.blind_after,
            "accounts": accounts,
            "salts": [*self.salts, *[0] * pad],
            "snapshot": list(snapshot_encoding),
            "before": [t % R for t in self.before],
            "siblings": list(self.siblings),
            "path_bits": list(self.path_bits),
        }


@dataclass(frozen=True)
class SolvencyMember:
    """One registered account in a solvency round: its opening and its contribution."""

    account: Account
    salt: int
    encoding: tuple[int, ...]
    commitment: int
    totals: SolvencyTotals


def solvency_member(account: Account, snapshot: MarketSnapshot, salt: int) -> SolvencyMember:
    """The account's opening (encoding, commitment) and its contribution to the totals."""
    totals = account_totals(account, snapshot)
    encoding = tuple(encode_account(account, snapshot))
    return SolvencyMember(account, salt, encoding, commit_encoding(encoding, salt), totals)


@dataclass(frozen=True)
class SolvencyPlan:
    """A round's batches, in order, with the tree and the final totals and blinding."""

    tree: MerkleTree
    batch_size: int
    jobs: tuple[SolvencyBatchJob, ...]
    totals: SolvencyTotals
    blind: int

    @property
    def root(self) -> int:
        return self.tree.root


def plan_solvency(
    members: Sequence[SolvencyMember], snapshot: MarketSnapshot, batch_size: int, depth: int
) -> SolvencyPlan:
    """The batches over `members` in leaf order (the tree of their commitments at
    `depth`): K consecutive leaves each, totals chained from zero with fresh blindings."""
    if not members:
        raise MalformedInputError("no registered account: there is nothing to prove solvent")
    tree = merkle_tree([m.commitment for m in members], depth)
    level = batch_size.bit_length() - 1
    totals = SolvencyTotals.zero(len(snapshot.assets), len(snapshot.markets))
    blind = 0
    jobs = []
    for b, start in enumerate(range(0, len(members), batch_size)):
        batch = members[start : start + batch_size]
        after = sum((m.totals for m in batch), totals)
        blind_after = random_salt()
        siblings, bits = tree.path(b, level)
        jobs.append(
            SolvencyBatchJob(
                b,
                start,
                start + len(batch),
                tuple(m.encoding for m in batch),
                tuple(m.salt for m in batch),
                tuple(totals.values()),
                blind,
                tuple(after.values()),
                blind_after,
                tuple(siblings),
                tuple(bits),
            )
        )
        totals, blind = after, blind_after
    return SolvencyPlan(tree, batch_size, tuple(jobs), totals, blind)
