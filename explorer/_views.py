"""What the explorer shows, as JSON-ready dicts: the API returns them and the pages
render them, so a page never says what the API does not.

Every function takes a ledger opened read-only inside one `reading()` block (a
consistent snapshot while another process appends) and raises `NotFound` for what is
not there. Numbers stay exact: integers as JSON integers (field elements and hashes as
decimal or hex strings), readable units as strings beside them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ledger import (
    GENESIS,
    KIND_TABLES,
    Ledger,
    UnknownEpochError,
    content_hash,
    decimal_units,
    entry_hash,
    ppm_percent,
    quote_units,
    read_row,
)

#: JSON columns an entry's row may carry, downloadable as <name>.json.
DOCUMENTS = {
    "proof": "proof_json",
    "public": "public_json",
    "verification_key": "verification_key_json",
    "transition_key": "transition_key_json",
    "snapshot": "snapshot_json",
    "facts": "facts_json",
    "totals": "totals_json",
    "reserves": "reserves_json",
}
#: Entries shown on each side of an entry in its line of the chain.
CHAIN_WINDOW = 3


class NotFound(LookupError):
    """What a request names is not in the ledger (the reason says what)."""


def _hex(value: int | str) -> str:
    return f"0x{int(value):064x}"


def _when(seconds: Any) -> str | None:
    if not isinstance(seconds, int | float) or not 0 <= seconds < 2**40:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def head(ledger: Ledger) -> dict[str, Any]:
    seq, digest = ledger.head()
    return {"seq": seq, "hash": digest}


def _heads_by_epoch(db: sqlite3.Connection) -> dict[int, tuple[int, str]]:
    rows = db.execute(
        "SELECT e.epoch, e.seq, e.entry_hash FROM entries e "
        "JOIN (SELECT epoch, MAX(seq) AS last FROM entries GROUP BY epoch) m ON e.seq = m.last"
    ).fetchall()
    return {int(r[0]): (int(r[1]), r[2]) for r in rows}


def overview(ledger: Ledger, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """The epochs, newest first, a page of them: statement, counts, open or closed, the
    chain's head after the epoch's last entry."""
    stats = sorted(ledger.epochs(), key=lambda s: -s.epoch)
    heads = _heads_by_epoch(ledger.connection)
    settled = {int(r[0]) for r in ledger.connection.execute("SELECT epoch FROM settlements")}
    solvent = {int(r[0]) for r in ledger.connection.execute("SELECT epoch FROM solvency")}
    rows = []
    for s in stats[offset : offset + limit]:
        record = ledger.epoch(s.epoch)
        seq, digest = heads.get(s.epoch, (0, GENESIS))
        rows.append({
            "epoch": s.epoch,
            "snapshot_hash": _hex(s.snapshot_hash),
            "requirement": record.requirement,
            "max_margin_ratio_ppm": record.max_margin_ratio_ppm,
            "accounts": s.accounts,
            "proven": s.proven,
            "flagged": s.flagged,
            "pending": s.accounts - s.proven - s.flagged,
            "rejected_proofs": s.rejected_proofs,
            "closed": s.closed,
            "settled": s.epoch in settled,
            "solvency": s.epoch in solvent,
            "head_seq": seq,
            "head_hash": digest,
        })  # fmt: skip
    return {"head": head(ledger), "total": len(stats), "offset": offset, "limit": limit, "epochs": rows}


def _epoch_record(ledger: Ledger, epoch: int) -> Any:
    try:
        return ledger.epoch(epoch)
    except UnknownEpochError as exc:
        raise NotFound(str(exc)) from exc


def _as(fmt: Callable[..., str], value: Any, *args: Any) -> str | None:
    """`fmt(value, *args)` for an integer, None for anything else (a field the snapshot
    does not have, or a null)."""
    return fmt(value, *args) if isinstance(value, int) and not isinstance(value, bool) else None


def _snapshot(snapshot_json: str) -> dict[str, Any]:
    """The snapshot's prices and parameters in readable units (the fields it has)."""
    snap = json.loads(snapshot_json)
    index, marks = snap.get("index_prices", {}), snap.get("mark_prices", {})
    funding, oi = snap.get("funding_indices", {}), snap.get("open_interest", {})
    settlement = snap.get("settlement_prices", {})
    assets = [
        {
            "symbol": a.get("symbol"),
            "decimals": a.get("decimals"),
            "collateral_weight": _as(ppm_percent, a.get("collateral_weight_ppm")),
            "index_price": _as(quote_units, index.get(a.get("symbol"))),
        }
        for a in snap.get("assets", [])
    ]
    markets = []
    for m in snap.get("markets", []):
        mid, risk = m.get("id"), m.get("risk") or {}
        markets.append({
            "id": mid,
            "kind": m.get("kind"),
            "base": m.get("base"),
            "mark_price": _as(quote_units, marks.get(mid)),
            "funding_index": _as(quote_units, funding.get(mid)),
            "open_interest": _as(decimal_units, oi.get(mid), m.get("size_decimals") or 0),
            "settlement_price": _as(quote_units, settlement.get(mid)),
            "expiry": _when(m.get("expiry")),
            "initial_fraction": _as(ppm_percent, risk.get("imf_ppm")),
            "maintenance_fraction": _as(ppm_percent, risk.get("mmf_ppm")),
        })  # fmt: skip
    return {"epoch": snap.get("epoch"), "timestamp": _when(snap.get("timestamp")), "assets": assets, "markets": markets}


def _settlement(ledger: Ledger, epoch: int) -> dict[str, Any] | None:
    found = ledger.settlement(epoch)
    if found is None:
        return None
    facts, _ = found
    fund = [("fund before", facts.fund_before), ("funding paid in", facts.funding_delta),
            ("expiry paid in", facts.expiry_delta), ("fund after", facts.fund_after)]  # fmt: skip
    return {
        "previous_epoch": facts.previous_epoch,
        "counterparty": facts.counterparty,
        "fund": [{"item": name, "micro_quote": v, "amount": quote_units(v)} for name, v in fund],
        "markets": [
            {
                "market": m.market,
                "funding_index": None if m.funding_index is None else quote_units(m.funding_index),
                "funding_change": None if m.funding_change is None else quote_units(m.funding_change),
                "funding_rate": None if m.funding_rate_ppm is None else ppm_percent(m.funding_rate_ppm),
                "settlement_price": None if m.settlement_price is None else quote_units(m.settlement_price),
            }
            for m in facts.markets
        ],
        "liquidations": [
            {
                "account": x.account,
                "commitment": _hex(x.commitment),
                "closes": x.closes,
                "penalty": quote_units(x.penalty),
                "fund_used": quote_units(x.fund_used),
                "deleveraged": quote_units(x.deleveraged_shortfall),
            }
            for x in facts.liquidations
        ],
        "transitions": _transition_counts(ledger, epoch),
    }


def _transition_counts(ledger: Ledger, epoch: int) -> dict[str, int]:
    rows = ledger.connection.execute("SELECT kind, COUNT(*) FROM transitions WHERE epoch = ? GROUP BY kind", (epoch,))
    return {kind: n for kind, n in rows.fetchall()}


def _solvency(ledger: Ledger, epoch: int, decimals: dict[str, int]) -> dict[str, Any] | None:
    rnd = ledger.solvency(epoch)
    if rnd is None:
        return None
    t, r = rnd.totals, rnd.reserves
    return {
        "accounts": rnd.accounts,
        "batches": len(rnd.batches),
        "merkle_root": _hex(rnd.merkle_root),
        "quote_liability": quote_units(t.quote_liability),
        "bad_debt": quote_units(t.bad_debt),
        "collateral": [
            {
                "asset": a,
                "owed": decimal_units(v, decimals.get(a, 0)),
                "held": decimal_units(r.assets.get(a, 0), decimals.get(a, 0)),
            }
            for a, v in t.collateral
        ],
        "net_positions": [{"market": m, "net": v} for m, v in t.net],
        "quote_reserves": quote_units(r.quote),
        "insurance_fund": quote_units(r.insurance_fund),
    }


def epoch_view(ledger: Ledger, epoch: int) -> dict[str, Any]:
    """An epoch's statement, snapshot, counts, settlement facts and solvency totals."""
    record = _epoch_record(ledger, epoch)
    stats = next(s for s in ledger.epochs() if s.epoch == epoch)
    snapshot = _snapshot(record.snapshot_json)
    decimals = {a["symbol"]: a["decimals"] or 0 for a in snapshot["assets"]}
    root = ledger.root(epoch)
    return {
        "epoch": epoch,
        "snapshot_hash": _hex(record.snapshot_hash),
        "requirement": record.requirement,
        "max_margin_ratio_ppm": record.max_margin_ratio_ppm,
        "max_margin_ratio": ppm_percent(record.max_margin_ratio_ppm) if record.max_margin_ratio_ppm else "none",
        "closed": record.closed,
        "counts": {
            "accounts": stats.accounts,
            "proven": stats.proven,
            "flagged": stats.flagged,
            "pending": stats.accounts - stats.proven - stats.flagged,
            "rejected_proofs": stats.rejected_proofs,
        },
        "snapshot": snapshot,
        "merkle_root": None if root is None else _hex(root.merkle_root),
        "settlement": _settlement(ledger, epoch),
        "solvency": _solvency(ledger, epoch, decimals),
    }


def accounts_page(ledger: Ledger, epoch: int, offset: int, limit: int) -> dict[str, Any]:
    """A page of the epoch's registered commitments in registration order, each with its
    verdict, reason, proof entry and (settled epochs) transition."""
    _epoch_record(ledger, epoch)
    db = ledger.connection
    total = db.execute("SELECT COUNT(*) FROM commitments WHERE epoch = ?", (epoch,)).fetchone()[0]
    rows = db.execute(
        "SELECT c.seq, c.account, c.commitment, v.verdict, v.reason, v.proof_seq, v.seq, t.kind, t.seq "
        "FROM commitments c LEFT JOIN verdicts v USING (epoch, account) "
        "LEFT JOIN transitions t USING (epoch, account) "
        "WHERE c.epoch = ? ORDER BY c.seq LIMIT ? OFFSET ?",
        (epoch, limit, offset),
    ).fetchall()
    accounts = [
        {
            "seq": r[0],
            "account": r[1],
            "commitment": _hex(r[2]),
            "verdict": r[3] or "pending",
            "reason": r[4] or "",
            "proof_seq": r[5],
            "verdict_seq": r[6],
            "transition": r[7],
            "transition_seq": r[8],
        }
        for r in rows
    ]
    return {"epoch": epoch, "total": total, "offset": offset, "limit": limit, "accounts": accounts}


def _entry_row(db: sqlite3.Connection, seq: int) -> dict[str, Any]:
    row = db.execute(
        "SELECT seq, kind, epoch, account, content_hash, prev_hash, entry_hash FROM entries WHERE seq = ?", (seq,)
    ).fetchone()
    if row is None:
        raise NotFound(f"entry {seq} is not in the ledger")
    return dict(zip(("seq", "kind", "epoch", "account", "content_hash", "prev_hash", "entry_hash"), row, strict=True))


def entry_view(ledger: Ledger, seq: int) -> dict[str, Any]:
    """An entry: its row's content, its hashes recomputed, its line of the chain."""
    db = ledger.connection
    entry = _entry_row(db, seq)
    table = KIND_TABLES[entry["kind"]]
    content = read_row(db, table, seq)
    recomputed = entry_hash(entry["prev_hash"], seq, entry["kind"], entry["epoch"], entry["account"],
                            entry["content_hash"])  # fmt: skip
    chain = db.execute(
        "SELECT seq, kind, epoch, account, entry_hash FROM entries WHERE seq BETWEEN ? AND ? ORDER BY seq",
        (seq - CHAIN_WINDOW, seq + CHAIN_WINDOW),
    ).fetchall()
    previous = db.execute("SELECT entry_hash FROM entries WHERE seq = ?", (seq - 1,)).fetchone()
    return {
        **entry,
        "table": table,
        "content": content,
        "content_hash_ok": content_hash(table, content) == entry["content_hash"],
        "entry_hash_ok": recomputed == entry["entry_hash"],
        "prev_hash_ok": entry["prev_hash"] == (previous[0] if previous else GENESIS),
        "documents": [name for name, column in DOCUMENTS.items() if content.get(column)],
        "chain": [dict(zip(("seq", "kind", "epoch", "account", "entry_hash"), r, strict=True)) for r in chain],
    }


def document(ledger: Ledger, seq: int, name: str) -> str:
    """The JSON document `name` (DOCUMENTS) of entry `seq`, as stored."""
    column = DOCUMENTS.get(name)
    entry = _entry_row(ledger.connection, seq)
    content = read_row(ledger.connection, KIND_TABLES[entry["kind"]], seq)
    if column is None or not content.get(column):
        raise NotFound(f"entry {seq} ({entry['kind']}) has no {name}.json")
    return str(content[column])


def epoch_key(ledger: Ledger, epoch: int) -> str:
    """The epoch's margin verification key (snarkjs JSON, as published)."""
    return str(_epoch_record(ledger, epoch).verification_key_json)


def epoch_snapshot(ledger: Ledger, epoch: int) -> str:
    return str(_epoch_record(ledger, epoch).snapshot_json)


def newest_accepted_proof(ledger: Ledger) -> dict[str, int] | None:
    """The newest accepted margin proof's entry and epoch (the audit page's example)."""
    row = ledger.connection.execute(
        "SELECT seq, epoch FROM proofs WHERE seq = (SELECT MAX(seq) FROM proofs WHERE status = 'accepted')"
    ).fetchone()
    return None if row is None else {"seq": int(row[0]), "epoch": int(row[1])}
