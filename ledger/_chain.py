"""The ledger's hash chain: canonical digests of rows and entries.

Every append adds one row to `entries` and one row to the table of its kind, with the
same `seq`. The chain is::

    content_hash = sha256(canonical([table, [[column, value], ...]]))   (every column, by name)
    entry_hash   = sha256(canonical([prev_hash, seq, kind, epoch, account, content_hash]))
    prev_hash    = the entry_hash of entry seq - 1 (GENESIS for entry 1)

`canonical` is JSON with sorted keys, no spaces and ASCII only; integers stay integers
and text stays text, so a column retyped from "5" to 5 changes the digest too. Any edit
of any column of any chained row, a deleted entry or an inserted one breaks the chain
at a named entry; publishing the head hash (`zkmargin ledger show`) pins the whole
history.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: prev_hash of the first entry.
GENESIS = "0" * 64

#: Table of each entry kind (one content row per entry).
KIND_TABLES: dict[str, str] = {
    "epoch": "epochs",
    "commitment": "commitments",
    "proof": "proofs",
    "verdict": "verdicts",
    "root": "roots",
    "anonymous": "anonymous_proofs",
    "close": "closures",
    "solvency_batch": "solvency_batches",
    "solvency": "solvency",
    "settlement": "settlements",
    "transition": "transitions",
}


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes hashed by the chain."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _sha256(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def content_hash(table: str, row: Mapping[str, Any]) -> str:
    """Digest of one row of `table` (every column, by name)."""
    return _sha256([table, sorted([str(k), v] for k, v in row.items())])


def entry_hash(prev_hash: str, seq: int, kind: str, epoch: int, account: str | None, content: str) -> str:
    """Digest of one entry, chained to the one before."""
    return _sha256([prev_hash, seq, kind, epoch, account, content])
