"""Solvency rounds in the ledger: the venue's proof that it owes its users no more than
it holds, and the auditor's check of it (without the prover, circuits or engine).

A round covers one closed epoch: the Poseidon Merkle tree of its registered commitments
(registration order, at the round's depth), chained batch proofs of the solvency circuit
(`circuits.SolvencyBatch`: public [root, snapshot hash, start, end, totals before,
totals after]), the final totals opened with their blinding, and the published reserves.
It is appended in one transaction, and only when `solvency_problems` finds nothing.

`solvency_problems` names the first violation of, in order:

0. the statement: the epoch's snapshot encoding hashes to its snapshot hash and, given
   a `snapshot_check` (the engine's re-encoding; the CLI always passes it), the JSON the
   names and Λ are read from encodes to it;
1. the tree: N = the epoch's registered commitments, all distinct, and the round's root
   is theirs at its depth;
2. the batches: each signals the round's root and the epoch's snapshot hash (a batch of
   another epoch names it), the first starts at 0 from the zero totals (blinding 0),
   each starts where the previous ended (a gap, an overlap: an account dropped or
   counted twice) and opens the previous one's totals, the last ends at N (never past
   it), and the published totals open the last one's;
3. the proofs: all of them in one batch verification (failures named by bisection);
4. the economics: every market's net position is zero; per asset the reserves cover the
   collateral owed; the quote reserves cover settled + ceil(unrealized / Λ); the
   insurance fund covers ceil(bad_debt / Λ).

What is public: N, the root, the totals (per-asset collateral owed, the quote totals,
the bad debt, per-market net positions) and the reserves; no account's balance or
position (intermediate totals are blinded).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from algebra import EncodingError, merkle_tree_root, solvency_decimals, totals_commitment
from verifier import Proof, PublicSignals, VerifyingKey, batch_verify

from ._errors import MalformedReservesError
from ._statement import SnapshotCheck, snapshot_hash_of

#: A batch proof's public signals: root, snapshot hash, start, end, totals before, after.
SOLVENCY_N_PUBLIC = 6
#: Deepest tree a solvency round may use (2**32 accounts).
MAX_SOLVENCY_DEPTH = 32
#: Largest reserves file read (a few symbols and amounts need far less).
MAX_RESERVES_BYTES = 1 << 20


class Reserves(BaseModel):
    """What the venue holds against its liabilities, as it publishes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    assets: dict[str, StrictInt] = Field(
        default_factory=dict, description="Asset symbol -> quantums held for users (absent = 0)."
    )
    quote: StrictInt = Field(default=0, ge=0, description="Micro-quote held for the users' quote balances and PnL.")
    insurance_fund: StrictInt = Field(default=0, ge=0, description="Micro-quote in the insurance fund.")

    def model_post_init(self, context: Any) -> None:
        for symbol, amount in self.assets.items():
            if amount < 0:
                raise ValueError(f"reserves of {symbol} are negative: {amount}")

    @classmethod
    def load(cls, path: str | Path) -> Reserves:
        """The reserves in a JSON file (at most MAX_RESERVES_BYTES); MalformedReservesError
        naming what is wrong, OSError when it cannot be read."""
        with Path(path).open("rb") as f:
            raw = f.read(MAX_RESERVES_BYTES + 1)
        if len(raw) > MAX_RESERVES_BYTES:
            raise MalformedReservesError(f"{path}: longer than the {MAX_RESERVES_BYTES} bytes reserves may have")
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "the file"
            raise MalformedReservesError(f"{path}: {where}: {first['msg']}") from None


@dataclass(frozen=True)
class PublishedTotals:
    """A round's final totals by name (`circuits.totals_names` order in `values`)."""

    collateral: tuple[tuple[str, int], ...]
    settled: int
    unrealized: int
    bad_debt: int
    net: tuple[tuple[str, int], ...]
    scale_decimals: int

    def values(self) -> list[int]:
        return [
            *(v for _, v in self.collateral),
            self.settled,
            self.unrealized,
            self.bad_debt,
            *(v for _, v in self.net),
        ]

    @property
    def quote_liability(self) -> int:
        """settled + ceil(unrealized / Λ) micro-quote."""
        return self.settled - (-self.unrealized // 10**self.scale_decimals)

    @property
    def bad_debt_quote(self) -> int:
        """ceil(bad_debt / Λ) micro-quote."""
        return -(-self.bad_debt // 10**self.scale_decimals)

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "collateral": [list(x) for x in self.collateral],
            "settled": self.settled,
            "unrealized": self.unrealized,
            "bad_debt": self.bad_debt,
            "net": [list(x) for x in self.net],
            "scale_decimals": self.scale_decimals,
        }

    @classmethod
    def from_json_obj(cls, obj: dict[str, Any]) -> PublishedTotals:
        return cls(
            tuple((str(s), int(v)) for s, v in obj["collateral"]),
            int(obj["settled"]),
            int(obj["unrealized"]),
            int(obj["bad_debt"]),
            tuple((str(m), int(v)) for m, v in obj["net"]),
            int(obj["scale_decimals"]),
        )


@dataclass(frozen=True)
class SolvencyBatchProof:
    """One batch proof of a round."""

    proof: Proof
    public: PublicSignals

    @property
    def signals(self) -> list[int]:
        return list(self.public.root)


@dataclass(frozen=True)
class SolvencyRound:
    """A round as recorded (or about to be): the tree, the key, the batches, the totals
    with the last blinding, and the reserves."""

    epoch: int
    depth: int
    batch_size: int
    accounts: int
    merkle_root: int
    verification_key_json: str
    batches: tuple[SolvencyBatchProof, ...]
    totals: PublishedTotals
    blind: int
    reserves: Reserves

    @property
    def verifying_key(self) -> VerifyingKey:
        return VerifyingKey.from_json(self.verification_key_json)


def snapshot_names(snapshot_json: str) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(assets as (symbol, decimals), markets as (id, size decimals)) of a published
    snapshot's JSON, in encoding order."""
    snap = json.loads(snapshot_json)
    assets = [(a["symbol"], int(a["decimals"])) for a in snap["assets"]]
    markets = [(m["id"], int(m["size_decimals"])) for m in snap["markets"]]
    return assets, markets


@dataclass(frozen=True)
class Statement:
    """An epoch's published snapshot as a round is checked against it: the hash the
    batches must signal, the JSON (names, decimals) and the field encoding it hashes."""

    snapshot_hash: int
    snapshot_json: str
    encoding: list[int]


def solvency_problems(
    rnd: SolvencyRound,
    leaves: Sequence[int],
    statement: Statement,
    epoch_closed: bool,
    *,
    verify: bool = True,
    snapshot_check: SnapshotCheck | None = None,
) -> str | None:
    """The first violation of the round (module doc), or None: solvent and proven
    (`verify=False` skips step 3, the pairings). The totals' names and Λ are read from
    the snapshot's JSON, which only `snapshot_check` (the engine's re-encoding) ties to
    the hashed encoding the proofs are bound to: without it they are the venue's word."""
    problem = _statement_problem(statement, snapshot_check)
    for check in (_tree_problem, _names_problem):
        problem = problem or check(rnd, leaves, statement.snapshot_json)
    if problem:
        return problem
    if not epoch_closed:
        return f"epoch {rnd.epoch} is open: its accounts are not final"
    problem = _chain_problem(rnd, statement.snapshot_hash)
    if problem:
        return problem
    problem = _proofs_problem(rnd) if verify else None
    return problem or economics_problem(rnd.totals, rnd.reserves)


def _statement_problem(statement: Statement, snapshot_check: SnapshotCheck | None) -> str | None:
    if snapshot_hash_of(statement.encoding) != statement.snapshot_hash:
        return "the epoch's snapshot encoding does not hash to its snapshot hash"
    return snapshot_check(statement.snapshot_json, statement.encoding) if snapshot_check else None


def _tree_problem(rnd: SolvencyRound, leaves: Sequence[int], _snapshot_json: str) -> str | None:
    if rnd.accounts != len(leaves):
        return f"the round counts {rnd.accounts} accounts; epoch {rnd.epoch} registered {len(leaves)}"
    if len(set(leaves)) != len(leaves):
        return "two registered accounts share a commitment (one leaf for two accounts)"
    if not 1 <= rnd.depth <= MAX_SOLVENCY_DEPTH or len(leaves) > 1 << rnd.depth:
        return f"{len(leaves)} accounts do not fit a tree of depth {rnd.depth}"
    if merkle_tree_root(list(leaves), rnd.depth) != rnd.merkle_root:
        return "the round's Merkle root is not the root of the epoch's registered commitments"
    return None


def _names_problem(rnd: SolvencyRound, _leaves: Sequence[int], snapshot_json: str) -> str | None:
    assets, markets = snapshot_names(snapshot_json)
    t = rnd.totals
    if [s for s, _ in t.collateral] != [s for s, _ in assets] or [m for m, _ in t.net] != [m for m, _ in markets]:
        return "the totals do not name the snapshot's assets and markets in order"
    want = solvency_decimals([d for _, d in assets], [d for _, d in markets])
    if t.scale_decimals != want:
        return f"the totals are over 10**{t.scale_decimals}; the snapshot's shape makes it 10**{want}"
    unknown = sorted(set(rnd.reserves.assets) - {s for s, _ in assets})
    if unknown:
        return f"reserves name assets the snapshot does not have: {unknown}"
    return None


def _chain_problem(rnd: SolvencyRound, snapshot_hash: int) -> str | None:
    """Step 2: every batch's statement, and the batches tiling [0, N) in a chain."""
    zero = totals_commitment(0, [0] * len(rnd.totals.values()))
    expected_start, previous = 0, zero
    if not rnd.batches:
        return "the round has no batch"
    for b, batch in enumerate(rnd.batches):
        s = batch.signals
        if len(s) != SOLVENCY_N_PUBLIC:
            return f"batch {b} has {len(s)} public signals, a solvency batch has {SOLVENCY_N_PUBLIC}"
        root, snap, start, end, before, after = s
        if snap != snapshot_hash:
            return f"batch {b} proves another snapshot (another epoch's batch?)"
        if root != rnd.merkle_root:
            return f"batch {b} is over another Merkle root"
        problem = _range_problem(b, start, end, expected_start, rnd.accounts)
        if problem:
            return problem
        if before != previous:
            what = "the zero totals" if b == 0 else f"batch {b - 1}'s totals"
            return f"batch {b} does not start from {what}"
        expected_start, previous = end, after
    if expected_start != rnd.accounts:
        return f"the batches end at {expected_start}; accounts {expected_start}..{rnd.accounts - 1} are in no batch"
    try:
        opened = totals_commitment(rnd.blind, rnd.totals.values())
    except EncodingError:
        return "the published totals are not integers of absolute value below r/2"
    if opened != previous:
        return "the published totals do not open the last batch's totals"
    return None


def _range_problem(b: int, start: int, end: int, expected: int, n: int) -> str | None:
    """Batch b's index range [start, end) against the next expected start and N."""
    if start > expected:
        return (
            f"a gap in the index range: batch {b} starts at {start}; accounts {expected}..{start - 1} are in no batch"
        )
    if start < expected:
        return f"batch {b} starts at {start}, inside the previous batch: accounts {start}..{expected - 1} counted twice"
    if end > n:
        return f"batch {b} ends at {end}, past the {n} registered accounts (a leaf placed past N)"
    if end <= start:
        return f"batch {b} covers no account ({start}..{end})"
    return None


def _proofs_problem(rnd: SolvencyRound) -> str | None:
    """Step 3: one batch verification (bisection names the failing batches; the first is reported)."""
    vk = rnd.verifying_key
    if vk.n_public != SOLVENCY_N_PUBLIC:
        return f"the round's verification key has {vk.n_public} public inputs, a solvency batch has {SOLVENCY_N_PUBLIC}"
    verdicts = batch_verify(vk, [(b.signals, b.proof) for b in rnd.batches])
    bad = next((i for i, v in enumerate(verdicts) if not v), None)
    if bad is None:
        return None
    error = verdicts[bad].error
    return f"batch {bad}'s proof does not verify" + (f" ({type(error).__name__}: {error})" if error else "")


def economics_problem(t: PublishedTotals, r: Reserves) -> str | None:
    """Step 4: net positions, reserves, insurance fund (also what a venue checks its
    totals against before it proves them)."""
    for market, net in t.net:
        if net:
            return f"market {market}'s net position is {net}, not zero (longs and shorts differ)"
    for symbol, owed in t.collateral:
        held = r.assets.get(symbol, 0)
        if held < owed:
            return f"reserves of {symbol} are {held}, short of the {owed} owed to users by {owed - held}"
    if r.quote < t.quote_liability:
        return f"quote reserves are {r.quote}, short of the {t.quote_liability} owed by {t.quote_liability - r.quote}"
    if r.insurance_fund < t.bad_debt_quote:
        short = t.bad_debt_quote - r.insurance_fund
        return f"the insurance fund holds {r.insurance_fund}, short of the {t.bad_debt_quote} bad debt by {short}"
    return None


def round_row(rnd: SolvencyRound) -> dict[str, Any]:
    """The `solvency` row of a round (its batches are rows of `solvency_batches`)."""
    return {
        "epoch": rnd.epoch,
        "depth": rnd.depth,
        "batch_size": rnd.batch_size,
        "accounts": rnd.accounts,
        "batches": len(rnd.batches),
        "merkle_root": str(rnd.merkle_root),
        "verification_key_json": rnd.verification_key_json,
        "totals_json": json.dumps(rnd.totals.to_json_obj(), separators=(",", ":")),
        "blind": str(rnd.blind),
        "reserves_json": rnd.reserves.model_dump_json(),
    }


def batch_row(epoch: int, index: int, batch: SolvencyBatchProof) -> dict[str, Any]:
    return {"epoch": epoch, "batch": index, "proof_json": batch.proof.to_json(), "public_json": batch.public.to_json()}


def round_of(row: dict[str, Any], batch_rows: Sequence[dict[str, Any]]) -> SolvencyRound:
    """The round of a `solvency` row and its `solvency_batches` rows (in batch order)."""
    return SolvencyRound(
        epoch=row["epoch"],
        depth=row["depth"],
        batch_size=row["batch_size"],
        accounts=row["accounts"],
        merkle_root=int(row["merkle_root"]),
        verification_key_json=row["verification_key_json"],
        batches=tuple(
            SolvencyBatchProof(Proof.from_json(b["proof_json"]), PublicSignals.from_json(b["public_json"]))
            for b in batch_rows
        ),
        totals=PublishedTotals.from_json_obj(json.loads(row["totals_json"])),
        blind=int(row["blind"]),
        reserves=Reserves.model_validate_json(row["reserves_json"]),
    )
