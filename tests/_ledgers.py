"""Ledger files seen from outside: what another process reads while a run writes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Sequence
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


def run_and_kill(command: Sequence[str | Path], ready: Callable[[], bool], jitter: float) -> bool:
    """Start `command` in its own process group and SIGKILL the group `jitter` seconds
    after `ready()` holds (checked every 2 ms, for at most 300 s); False if it finished first."""
    proc = subprocess.Popen(
        [str(c) for c in command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and not ready() and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(jitter)
        killed = proc.poll() is None
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)
        return killed
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
