"""Ledger files seen from outside: what another process reads while a run writes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def ledger_entries(ledger: Path) -> int:
    """How many entries another reader sees in the ledger (0 before it has any)."""
    if not ledger.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=5)) as db:
            return int(db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
    except sqlite3.DatabaseError:  # the schema is not there yet
        return 0
