"""`zkmargin epoch run --dask`: an epoch proven by real `dask scheduler` and `dask worker`
processes on 127.0.0.1 (started and stopped here): a worker SIGKILLed mid-epoch, the
same epoch over TLS, a scheduler lost mid-epoch (exit 2, then a rerun completes it),
and the key shipped to workers that lack its file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from engine import Account, Position, margin_circuit_for, save_margin_circuit
from ledger import Ledger
from prover import InsecureSetupWarning, ZkeyFile, dev_setup, write_zkey
from tests._dask import Tls, dask_cluster, kill, make_tls
from tests._engine import USD, perp_snapshot
from tests._ledgers import ledger_entries

ZKMARGIN = Path(sys.executable).parent / "zkmargin"
SNAP = perp_snapshot()  # epoch 7
N_HEALTHY = 12
#: 12 healthy accounts (long and short BTC on ample collateral) and one that is not.
ACCOUNTS = [
    Account(
        id=f"acct{i:02d}",
        collateral={"USDC": (5_000 + 250 * i) * USD},
        positions=(Position(market="BTC-PERP", size=s, quote=-s * 65_000 * USD // 10**8),),
    )
    for i in range(N_HEALTHY)
    for s in [(i + 1) * 10**7 * (-1 if i % 3 else 1)]
] + [
    Account(
        id="zed",
        collateral={"USDC": 500 * USD},
        positions=(Position(market="BTC-PERP", size=10**9, quote=-(10**9) * 65_000 * USD // 10**8),),
    )
]
#: Entries of the whole epoch: statement, then per account a commitment, its proof (if
#: healthy) and its verdict, then the close.
FULL_EPOCH = 1 + (len(ACCOUNTS) + N_HEALTHY + len(ACCOUNTS)) + 1


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("dask-epoch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        pk = dev_setup(margin_circuit_for(SNAP).cs)
    write_zkey(ZkeyFile.from_proving_key(pk), d / "margin.zkey")
    save_margin_circuit(SNAP, d / "margin.zkey")  # workers load it instead of compiling
    (d / "accounts").mkdir()
    for a in ACCOUNTS:
        (d / "accounts" / f"{a.id}.json").write_text(a.model_dump_json())
    (d / "snapshot.json").write_text(SNAP.model_dump_json())
    return d


def _epoch_args(files: Path, ledger: Path, *extra: str | Path) -> list[str]:
    return [
        str(ZKMARGIN), "epoch", "run", "--accounts", str(files / "accounts"),
        "--snapshot", str(files / "snapshot.json"), "--ledger", str(ledger), "--zkey", str(files / "margin.zkey"),
        *map(str, extra),
    ]  # fmt: skip


def _run(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


def _wait_for_entries(proc: subprocess.Popen[str], ledger: Path, n: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while ledger_entries(ledger) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"the ledger never reached {n} entries"
        time.sleep(0.02)


def _assert_complete(ledger: Path) -> None:
    """Every account has one verdict (proven, or flagged for `zed`), one accepted proof per
    proven account, the epoch closed, and `ledger audit` clean."""
    audit = _run([str(ZKMARGIN), "ledger", "audit", str(ledger)])
    assert audit.returncode == 0 and audit.stdout.startswith("AUDIT OK"), audit.stdout + audit.stderr
    with Ledger.open(ledger, create=False) as db:
        verdicts = {v.account: v.verdict for v in db.verdicts(7)}
        assert verdicts == {a.id: "flagged" if a.id == "zed" else "proven" for a in ACCOUNTS}
        rows = db.connection.execute(
            "SELECT account, COUNT(*) FROM proofs WHERE status = 'accepted' GROUP BY account"
        ).fetchall()
        assert sorted(rows) == [(a.id, 1) for a in ACCOUNTS if a.id != "zed"]
        (stats,) = db.epochs()
        assert stats.closed and stats.rejected_proofs == 0
    assert ledger_entries(ledger) == FULL_EPOCH


def test_an_epoch_survives_a_worker_killed_mid_epoch(files: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.db"
    with dask_cluster(tmp_path / "cluster", 2) as cluster:
        proc = subprocess.Popen(
            _epoch_args(files, ledger, "--dask", cluster.address),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            # the flagged account and two proven ones appended: both workers are proving
            _wait_for_entries(proc, ledger, 1 + 2 + 3 * 2)
            kill(cluster.workers[0])
            out, err = proc.communicate(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert cluster.workers[0].returncode == -9 and cluster.workers[1].poll() is None
    assert "flagged for liquidation: zed" in out
    _assert_complete(ledger)


def test_the_same_epoch_over_tls(files: Path, tmp_path: Path) -> None:
    tls = make_tls(tmp_path)
    ledger = tmp_path / "ledger.db"
    with dask_cluster(tmp_path / "cluster", 2, tls=tls) as cluster:
        assert cluster.address.startswith("tls://")
        plain = _run(_epoch_args(files, tmp_path / "plain.db", "--dask", cluster.address.replace("tls://", "tcp://"),
                                 "--dask-timeout", "5"))  # fmt: skip
        assert plain.returncode == 2 and "ClusterUnavailableError" in plain.stderr, plain.stderr
        assert ledger_entries(tmp_path / "plain.db") == 0  # nothing written: the cluster is checked first
        res = _run(_epoch_args(files, ledger, "--dask", cluster.address, *_tls_flags(tls)))
        assert res.returncode == 0, res.stderr
    _assert_complete(ledger)


def _tls_flags(tls: Tls) -> list[str | Path]:
    return ["--tls-ca", tls.ca, "--tls-cert", tls.cert, "--tls-key", tls.key]


def test_a_lost_scheduler_ends_the_run_with_exit_2_and_a_rerun_completes(files: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.db"
    with dask_cluster(tmp_path / "cluster", 1) as cluster:
        proc = subprocess.Popen(
            _epoch_args(files, ledger, "--dask", cluster.address, "--dask-timeout", "5"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            _wait_for_entries(proc, ledger, 1 + 2 + 3)
            kill(cluster.scheduler)
            _out, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 2, err
        assert "ClusterLostError" in err and "Traceback" not in err, err
    audit = _run([str(ZKMARGIN), "ledger", "audit", str(ledger)])
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert ledger_entries(ledger) < FULL_EPOCH
    with dask_cluster(tmp_path / "cluster2", 1) as cluster:
        res = _run(_epoch_args(files, ledger, "--dask", cluster.address))
        assert res.returncode == 0, res.stderr
    _assert_complete(ledger)


def test_shipped_keys_are_written_to_each_worker_once_and_prove(files: Path, tmp_path: Path) -> None:
    """With --ship-key the workers prove with the files the client sent them (written to
    their own directories), not with the path they could also read here."""
    ledger = tmp_path / "ledger.db"
    with dask_cluster(tmp_path / "cluster", 2) as cluster:
        res = _run(_epoch_args(files, ledger, "--dask", cluster.address, "--ship-key"))
        assert res.returncode == 0, res.stderr
        shipped = list((tmp_path / "cluster").glob("worker*/**/zkmargin-keys/*/margin.zkey"))
        assert len(shipped) == 2 and all(p.read_bytes() == (files / "margin.zkey").read_bytes() for p in shipped)
    _assert_complete(ledger)
