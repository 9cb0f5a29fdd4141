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
    LedgerError,
    PublishedTotals,
    Reserves,
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


def _hex(value: Any) -> str:
    """A field element as 0x-hex; a stored value that is not one shows as damaged."""
    if isinstance(value, bytes):
        return f"damaged: 0x{value[:40].hex()}"
    try:
        return f"0x{int(value):064x}"
    except (TypeError, ValueError):
        return f"damaged: {str(value)[:80]!r}"


def safe(value: Any) -> Any:
    """`value` made fit for JSON and HTML: text that is not UTF-8 (a damaged row) with
    backslash escapes, bytes as 0x-hex, non-finite floats as text."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, dict):
        return {safe(k): safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe(v) for v in value]
    return value


def _guarded(fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args), or {"damaged": why} when the ledger's data for it does not read (the
    audit names the entry; the page still renders)."""
    try:
        return fn(*args)
    except (ValueError, KeyError, TypeError, AttributeError, LedgerError) as exc:
        return {"damaged": f"{type(exc).__name__}: {exc}"[:500]}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def utc_text(seconds: Any) -> str | None:
    """Unix seconds as UTC text, None for what is not a time."""
    if not isinstance(seconds, int | float) or not 0 <= seconds < 2**40:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def head(ledger: Ledger) -> dict[str, Any]:
    seq, digest = ledger.head()
    return {"seq": seq, "hash": digest}


def _counts(db: sqlite3.Connection, epoch: int) -> dict[str, int]:
    """Accounts, proven, flagged, pending and rejected proofs of one epoch (the close's
    counts for a closed epoch; counted for an open one)."""
    closed = db.execute("SELECT accounts, proven, flagged FROM closures WHERE epoch = ?", (epoch,)).fetchone()
    if closed is not None:
        accounts, proven, flagged = (int(v) for v in closed)
    else:
        accounts = db.execute("SELECT COUNT(*) FROM commitments WHERE epoch = ?", (epoch,)).fetchone()[0]
        verdicts = dict(db.execute("SELECT verdict, COUNT(*) FROM verdicts WHERE epoch = ? GROUP BY verdict", (epoch,)))
        proven, flagged = verdicts.get("proven", 0), verdicts.get("flagged", 0)
    rejected = db.execute("SELECT COUNT(*) FROM proofs WHERE epoch = ? AND status = 'rejected'", (epoch,)).fetchone()
    return {"accounts": accounts, "proven": proven, "flagged": flagged, "pending": accounts - proven - flagged,
            "rejected_proofs": rejected[0]}  # fmt: skip


def _head_after(db: sqlite3.Connection, epoch: int) -> tuple[int, str]:
    """The chain's head after the epoch's last entry. A closed epoch's last entry is its
    close or its solvency round's (nothing else of it is appended after the close); an
    open epoch's is found from the end of the chain."""
    row = db.execute(
        "SELECT MAX(s) FROM (SELECT seq AS s FROM closures WHERE epoch = ?1 UNION ALL "
        "SELECT seq FROM solvency WHERE epoch = ?1 UNION ALL SELECT MAX(seq) FROM solvency_batches WHERE epoch = ?1)",
        (epoch,),
    ).fetchone()
    seq = row[0]
    if seq is None:
        found = db.execute("SELECT seq FROM entries WHERE epoch = ? ORDER BY seq DESC LIMIT 1", (epoch,)).fetchone()
        seq = found[0] if found else 0
    digest = db.execute("SELECT entry_hash FROM entries WHERE seq = ?", (seq,)).fetchone()
    return int(seq), digest[0] if digest else GENESIS


def overview(ledger: Ledger, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """The epochs, newest first, a page of them: statement, counts, open or closed, the
    chain's head after the epoch's last entry. The page's epochs only are counted."""
    db = ledger.connection
    total = db.execute("SELECT COUNT(*) FROM epochs").fetchone()[0]
    page = db.execute(
        "SELECT epoch, snapshot_hash, requirement, max_margin_ratio_ppm FROM epochs "
        "ORDER BY epoch DESC LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()
    rows = []
    for epoch, snapshot_hash, requirement, ratio in page:
        seq, digest = _head_after(db, epoch)
        rows.append({
            "epoch": epoch,
            "snapshot_hash": _hex(snapshot_hash),
            "requirement": requirement,
            "max_margin_ratio_ppm": ratio,
            **_counts(db, epoch),
            "closed": db.execute("SELECT 1 FROM closures WHERE epoch = ?", (epoch,)).fetchone() is not None,
            "settled": db.execute("SELECT 1 FROM settlements WHERE epoch = ?", (epoch,)).fetchone() is not None,
            "solvency": db.execute("SELECT 1 FROM solvency WHERE epoch = ?", (epoch,)).fetchone() is not None,
            "head_seq": seq,
            "head_hash": digest,
        })  # fmt: skip
    return {"head": head(ledger), "total": total, "offset": offset, "limit": limit, "epochs": rows}


def _as(fmt: Callable[..., str], value: Any, *args: Any) -> str | None:
    """`fmt(value, *args)` for an integer, None for anything else (a field the snapshot
    does not have, or a null)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and None not in args
    return fmt(value, *args) if ok else None


def _decimals(value: Any) -> int | None:
    """Decimals as the engine bounds them (0..18), else None: shown as '-'."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 18 else None


def _snapshot(snapshot_json: str) -> dict[str, Any]:
    """The snapshot's prices and parameters in readable units (the fields it has)."""
    snap = _dict(json.loads(snapshot_json))
    index, marks = _dict(snap.get("index_prices")), _dict(snap.get("mark_prices"))
    funding, oi = _dict(snap.get("funding_indices")), _dict(snap.get("open_interest"))
    settlement = _dict(snap.get("settlement_prices"))
    assets = [
        {
            "symbol": safe(a.get("symbol")),
            "decimals": _decimals(a.get("decimals")),
            "collateral_weight": _as(ppm_percent, a.get("collateral_weight_ppm")),
            "index_price": _as(quote_units, index.get(str(a.get("symbol")))),
        }
        for a in map(_dict, snap.get("assets") or [])
    ]
    markets = []
    for m in map(_dict, snap.get("markets") or []):
        mid, risk = str(m.get("id")), _dict(m.get("risk"))
        markets.append({
            "id": mid,
            "kind": m.get("kind"),
            "base": m.get("base"),
            "mark_price": _as(quote_units, marks.get(mid)),
            "funding_index": _as(quote_units, funding.get(mid)),
            "open_interest": _as(decimal_units, oi.get(mid), _decimals(m.get("size_decimals"))),
            "settlement_price": _as(quote_units, settlement.get(mid)),
            "expiry": utc_text(m.get("expiry")),
            "initial_fraction": _as(ppm_percent, risk.get("imf_ppm")),
            "maintenance_fraction": _as(ppm_percent, risk.get("mmf_ppm")),
        })  # fmt: skip
    return {
        "epoch": snap.get("epoch"),
        "timestamp": utc_text(snap.get("timestamp")),
        "assets": assets,
        "markets": markets,
    }


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
                "funding_index": _as(quote_units, m.funding_index),
                "funding_change": _as(quote_units, m.funding_change),
                "funding_rate": _as(ppm_percent, m.funding_rate_ppm),
                "settlement_price": _as(quote_units, m.settlement_price),
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


def _solvency(ledger: Ledger, epoch: int, decimals: dict[str, int | None]) -> dict[str, Any] | None:
    """The epoch's solvency round, read from its row (the batch proofs are the audit's)."""
    row = ledger.connection.execute(
        "SELECT accounts, batches, merkle_root, totals_json, reserves_json FROM solvency WHERE epoch = ?", (epoch,)
    ).fetchone()
    if row is None:
        return None
    t = PublishedTotals.from_json_obj(json.loads(row[3]))
    r = Reserves.model_validate_json(row[4])

    def units(asset: str, value: int) -> str | None:
        return _as(decimal_units, value, decimals.get(asset))

    return {
        "accounts": row[0],
        "batches": row[1],
        "merkle_root": _hex(row[2]),
        "quote_liability": quote_units(t.quote_liability),
        "bad_debt": quote_units(t.bad_debt),
        "collateral": [
            {"asset": a, "owed": units(a, v), "held": units(a, r.assets.get(a, 0))} for a, v in t.collateral
        ],
        "net_positions": [{"market": m, "net": v} for m, v in t.net],
        "quote_reserves": quote_units(r.quote),
        "insurance_fund": quote_units(r.insurance_fund),
    }


def epoch_view(ledger: Ledger, epoch: int) -> dict[str, Any]:
    """An epoch's statement, snapshot, counts, settlement facts and solvency totals; a
    part whose stored data does not read shows as {"damaged": why}."""
    db = ledger.connection
    row = db.execute(
        "SELECT snapshot_hash, snapshot_json, requirement, max_margin_ratio_ppm FROM epochs WHERE epoch = ?", (epoch,)
    ).fetchone()
    if row is None:
        raise NotFound(f"epoch {epoch} is not in the ledger")
    snapshot_hash, snapshot_json, requirement, ratio = row
    snapshot = _guarded(_snapshot, snapshot_json)
    decimals = {a["symbol"]: a["decimals"] for a in snapshot.get("assets", [])}
    root = db.execute("SELECT merkle_root FROM roots WHERE epoch = ?", (epoch,)).fetchone()
    return {
        "epoch": epoch,
        "snapshot_hash": _hex(snapshot_hash),
        "requirement": requirement,
        "max_margin_ratio_ppm": ratio,
        "max_margin_ratio": (_as(ppm_percent, ratio) or str(ratio)) if ratio else "none",
        "closed": db.execute("SELECT 1 FROM closures WHERE epoch = ?", (epoch,)).fetchone() is not None,
        "counts": _counts(db, epoch),
        "snapshot": snapshot,
        "merkle_root": None if root is None else _hex(root[0]),
        "settlement": _guarded(_settlement, ledger, epoch),
        "solvency": _guarded(_solvency, ledger, epoch, decimals),
    }


def accounts_page(ledger: Ledger, epoch: int, offset: int, limit: int) -> dict[str, Any]:
    """A page of the epoch's registered commitments in registration order, each with its
    verdict, reason, proof entry and (settled epochs) transition."""
    db = ledger.connection
    if db.execute("SELECT 1 FROM epochs WHERE epoch = ?", (epoch,)).fetchone() is None:
        raise NotFound(f"epoch {epoch} is not in the ledger")
    total = db.execute("SELECT COUNT(*) FROM commitments WHERE epoch = ?", (epoch,)).fetchone()[0]
    rows = db.execute(
        "WITH page AS (SELECT epoch, account, seq, commitment FROM commitments WHERE epoch = ? "
        "ORDER BY seq LIMIT ? OFFSET ?) "
        "SELECT c.seq, c.account, c.commitment, v.verdict, v.reason, v.proof_seq, v.seq, t.kind, t.seq "
        "FROM page c LEFT JOIN verdicts v USING (epoch, account) LEFT JOIN transitions t USING (epoch, account) "
        "ORDER BY c.seq",
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


def _content(db: sqlite3.Connection, entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(table, row) of an entry; the row is {} when its table has none with its seq."""
    table = KIND_TABLES.get(entry["kind"], "")
    try:
        return table, read_row(db, table, entry["seq"]) if table else {}
    except KeyError:
        return table, {}


def entry_view(ledger: Ledger, seq: int) -> dict[str, Any]:
    """An entry: its row's content, its hashes recomputed, its line of the chain."""
    db = ledger.connection
    entry = _entry_row(db, seq)
    table, content = _content(db, entry)
    recomputed = entry_hash(entry["prev_hash"], seq, entry["kind"], entry["epoch"], entry["account"],
                            entry["content_hash"])  # fmt: skip
    chain = db.execute(
        "SELECT seq, kind, epoch, account, entry_hash FROM entries WHERE seq BETWEEN ? AND ? ORDER BY seq",
        (seq - CHAIN_WINDOW, seq + CHAIN_WINDOW),
    ).fetchall()
    previous = db.execute("SELECT entry_hash FROM entries WHERE seq = ?", (seq - 1,)).fetchone()
    expected_prev = GENESIS if seq == 1 else (previous[0] if previous else None)
    return {
        **entry,
        "table": table,
        "content": content,
        "content_hash_ok": bool(content) and content_hash(table, content) == entry["content_hash"],
        "entry_hash_ok": recomputed == entry["entry_hash"],
        "prev_hash_ok": entry["prev_hash"] == expected_prev,
        "documents": [name for name, column in DOCUMENTS.items() if content.get(column)],
        "chain": [dict(zip(("seq", "kind", "epoch", "account", "entry_hash"), r, strict=True)) for r in chain],
    }


def document(ledger: Ledger, seq: int, name: str) -> str:
    """The JSON document `name` (DOCUMENTS) of entry `seq`, as stored."""
    column = DOCUMENTS.get(name)
    entry = _entry_row(ledger.connection, seq)
    _, content = _content(ledger.connection, entry)
    if column is None or not isinstance(content.get(column), str) or not content[column]:
        raise NotFound(f"entry {seq} ({entry['kind']}) has no {name}.json")
    return str(content[column])


def epoch_document(ledger: Ledger, epoch: int, column: str) -> str:
    """The epoch's published `verification_key_json` or `snapshot_json`, as stored."""
    if column not in ("verification_key_json", "snapshot_json"):
        raise NotFound(f"an epoch publishes no {column}")
    row = ledger.connection.execute(f"SELECT {column} FROM epochs WHERE epoch = ?", (epoch,)).fetchone()
    if row is None:
        raise NotFound(f"epoch {epoch} is not in the ledger")
    return str(row[0])


def newest_accepted_proof(ledger: Ledger) -> dict[str, int] | None:
    """The newest accepted margin proof's entry and epoch (the audit page's example)."""
    row = ledger.connection.execute(
        "SELECT seq, epoch FROM proofs WHERE seq = (SELECT MAX(seq) FROM proofs WHERE status = 'accepted')"
    ).fetchone()
    return None if row is None else {"seq": int(row[0]), "epoch": int(row[1])}
