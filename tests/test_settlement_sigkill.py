"""SIGKILL at random points of a settled epoch (settlement, proofs, transitions), then a
rerun (in its process, on a pool, on a local Dask cluster): every settlement applied once,
the audit clean, value conserved, every transition proven where the margin proofs are."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable
from pathlib import Path

from engine import read_state, settle_epoch
from ledger import Ledger, audit_ledger

try:
    from tests._ledgers import ledger_entries, run_and_kill
    from tests._settling import CONFIG, FUND, S8, ZKMARGIN, copy_venue, measure, traded_inputs
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _ledgers import ledger_entries, run_and_kill  # type: ignore[no-redef]
    from _settling import CONFIG, FUND, S8, ZKMARGIN, copy_venue, measure, traded_inputs  # type: ignore[no-redef]


def _run_args(d: Path, keys: tuple[Path, Path], inputs: Path) -> list[str | Path]:
    return [
        "epoch", "run", "--accounts", inputs, "--snapshot", d / "s8.json", "--ledger", d / "ledger.db",
        "--zkey", keys[0], "--salts", d / "salts", "--state", d / "state", "--settle", d / "settle.json",
        "--transition-zkey", keys[1], "--workers", "1",
    ]  # fmt: skip


def _where(d: Path, start: int) -> str:
    """How far a killed run got: the state written, salts written, entries appended."""
    state = (d / "state" / "epoch-8").is_dir()
    salts = len(list((d / "salts" / "epoch-8").glob("*.salt"))) if (d / "salts" / "epoch-8").is_dir() else 0
    return f"state {'written' if state else 'absent'}, {salts} salts, {ledger_entries(d / 'ledger.db') - start} entries"


#: Where each trial's rerun proves: in this process, on a pool, on a local Dask cluster.
RERUNS = (["--workers", "1"], ["--workers", "2"], ["--dask-local", "2"])


def test_sigkill_at_random_points_then_a_rerun_settles_once(
    first: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    """Kill points are drawn in the run's progress: in the settlement's write-ahead (the
    state version appearing, its salts being written) and at a number of ledger entries
    (the settlement's transaction, the proofs, the transitions), each after a random delay.
    The first trial's rerun completes the epoch in its process; the others are killed in
    the write-ahead only and rerun on a pool and on Dask, which then prove every margin
    proof and transition there."""
    rng = random.Random()
    inputs_dir = tmp_path / "inputs"
    inputs_dir.mkdir()
    for a in traded_inputs(first):
        (inputs_dir / f"{a.id}.json").write_text(a.model_dump_json())
    inputs = traded_inputs(first)
    expected = settle_epoch(inputs, S8, FUND, CONFIG.liquidation, counterparty="house")
    start = ledger_entries(first / "ledger.db")
    landed = []
    for trial, rerun in enumerate(RERUNS):
        d = copy_venue(first, tmp_path / f"v{trial}")
        (d / "s8.json").write_text(S8.model_dump_json())
        (d / "settle.json").write_text(CONFIG.model_dump_json())
        args = _run_args(d, keys, inputs_dir)
        target = rng.randint(start + 1, start + 24)
        points: list[Callable[[], bool]] = [
            lambda d=d: (d / "state" / "epoch-8").is_dir() or any((d / "state").glob(".epoch-8.*")),
            lambda d=d: (d / "salts" / "epoch-8").is_dir(),
            lambda d=d, n=target: ledger_entries(d / "ledger.db") >= n,
        ]
        # the first trial always ends with a kill at an entry count (the settlement's
        # transaction, a proof, a transition); the others only in the write-ahead
        kill_points = [*rng.sample(points[:2], rng.randint(0, 2)), points[2]] if trial == 0 else points[:2]
        for ready in kill_points:
            if run_and_kill([ZKMARGIN, *args], ready, rng.uniform(0.0, 0.02)):
                landed.append(_where(d, start))
        again = [*(a for a in args if a not in ("--workers", "1")), *rerun]
        res = subprocess.run([str(ZKMARGIN), *map(str, again)], capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stdout + res.stderr
        with Ledger.open(d / "ledger.db", create=False) as ledger:
            report = audit_ledger(ledger)
            assert report.ok, report.problems
            settled = ledger.settlement(8)
            assert settled is not None and settled[0].fund_after == expected.fund_after
            kinds = sorted(t.kind for t in ledger.transitions(8))
            assert kinds == ["counterparty", "liquidated", "proven", "proven", "proven", "traded"]
            assert ledger.epoch(8).closed
            (n,) = ledger.connection.execute("SELECT COUNT(*) FROM settlements WHERE epoch = 8").fetchone()
            assert n == 1
        after = read_state(d / "state", 8)
        assert after is not None
        assert sorted(after, key=lambda a: a.id) == sorted(expected.accounts, key=lambda a: a.id)
        assert measure(inputs, S8, FUND) == measure(after, S8, settled[0].fund_after)
    print("kills landed at:", landed)
    assert any(" 1 entries" not in w for w in landed) and any("state written" in w for w in landed), landed
