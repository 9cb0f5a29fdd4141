"""The settlement ledger, its audit, and the epoch workflow (issue 8).

One small snapshot (USDC + BTC, one BTC perpetual: ~8k constraints) and one INSECURE
dev key for the module. Acceptance checked here: SIGKILL at random points leaves a
ledger that audits clean with no partial entries, and a rerun completes the epoch; a
tampered row in any column of any table fails the audit naming its entry; unhealthy
accounts are flagged and never proven; forged and replayed proofs are rejected.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from engine import Account, Position, commit, margin_circuit_for, prove_account, run_epoch
from engine._commitment import random_salt
from engine._epoch import POOL_MIN_PROOFS, _pool_size
from ledger import (
    AccountDecidedError,
    EpochClosedError,
    EpochConflictError,
    Ledger,
    NotALedgerError,
    audit_ledger,
    table_rows,
)
from prover import InsecureSetupWarning, Prover, ZkeyFile, dev_setup, write_zkey
from tests._engine import USD, perp_snapshot
from tests._ledgers import ledger_entries, run_and_kill
from verifier import MalformedProofError, Proof, PublicSignals

ZKMARGIN = Path(sys.executable).parent / "zkmargin"
SNAP = perp_snapshot()  # epoch 7
NEXT = SNAP.model_copy(update={"epoch": 8})


def _account(name: str, size: int, usdc: int) -> Account:
    """`size` BTC quantums (1e-8) long (short if negative) at the 65,000 mark, `usdc` collateral."""
    return Account(
        id=name,
        collateral={"USDC": usdc * USD},
        positions=(Position(market="BTC-PERP", size=size, quote=-size * 65_000 * USD // 10**8),),
    )


#: 4 healthy, 2 not (20 BTC on 1,000 USDC; 5 BTC short on 500 USDC).
ACCOUNTS = [
    _account("alice", 10**8, 10_000),
    _account("bob", 2 * 10**8, 20_000),
    _account("carol", 20 * 10**8, 1_000),
    _account("dave", -(10**8), 5_000),
    _account("erin", -5 * 10**8, 500),
    _account("frank", 3 * 10**7, 3_000),
]
UNHEALTHY = {"carol", "erin"}


@pytest.fixture(scope="module")
def zkey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        pk = dev_setup(margin_circuit_for(SNAP).cs)
    path = tmp_path_factory.mktemp("keys") / "margin.zkey"
    write_zkey(ZkeyFile.from_proving_key(pk), path)
    return path


@pytest.fixture(scope="module")
def prover(zkey: Path) -> Prover:
    return Prover.from_zkey(zkey)


@pytest.fixture(scope="module")
def ran(zkey: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with epoch 7 run over ACCOUNTS (in-process) and closed."""
    path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    with Ledger.open(path) as ledger:
        summary = run_epoch(ACCOUNTS, SNAP, zkey, ledger, workers=1)
    assert (summary.accounts, summary.proven, summary.flagged, summary.rejected) == (6, 4, 2, 0)
    assert summary.closed and summary.proved_now == 4
    return path


def _copy(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / "copy.db"
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


# ---- the epoch: verdicts, audit, idempotence -----------------------------------------------


def test_epoch_flags_the_unhealthy_and_proves_the_rest(ran: Path) -> None:
    with Ledger.open(ran, create=False) as ledger:
        verdicts = {v.account: v for v in ledger.verdicts(7)}
        assert {a for a, v in verdicts.items() if v.verdict == "flagged"} == UNHEALTHY
        assert {a for a, v in verdicts.items() if v.verdict == "proven"} == {a.id for a in ACCOUNTS} - UNHEALTHY
        proofs = table_rows(ledger.connection, "proofs")
        assert {p["account"] for p in proofs} == {a.id for a in ACCOUNTS} - UNHEALTHY  # no proof was ever made
        assert all(p["status"] == "accepted" for p in proofs)
        for v in verdicts.values():
            assert ledger.commitment(7, v.account) == v.commitment
        report = audit_ledger(ledger)
        assert report.ok, report.problems
        assert (report.entries, report.epochs, report.proofs_verified) == (1 + 6 + 4 + 6 + 1, 1, 4)


def test_automatic_workers_prove_in_process_for_a_small_epoch(monkeypatch: Any) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert [_pool_size(None, n) for n in (0, 1, POOL_MIN_PROOFS - 1)] == [1, 1, 1]
    assert _pool_size(None, POOL_MIN_PROOFS) == min(8, POOL_MIN_PROOFS)
    assert _pool_size(None, 1000) == 8
    assert [_pool_size(w, 1000) for w in (1, 3)] == [1, 3]  # an explicit count is kept
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert _pool_size(None, 1000) == 1


def test_rerunning_a_closed_epoch_appends_nothing(ran: Path, zkey: Path, tmp_path: Path) -> None:
    db = _copy(ran, tmp_path)
    with Ledger.open(db) as ledger:
        head = ledger.head()
        summary = run_epoch(ACCOUNTS, SNAP, zkey, ledger)
        assert ledger.head() == head and summary.proved_now == 0 and summary.closed


def test_an_epoch_number_cannot_be_reused_for_another_snapshot(ran: Path, zkey: Path, tmp_path: Path) -> None:
    db = _copy(ran, tmp_path)
    other = SNAP.model_copy(update={"mark_prices": {"BTC-PERP": 60_000 * USD}})
    with Ledger.open(db) as ledger:
        head = ledger.head()
        with pytest.raises(EpochConflictError):
            run_epoch(ACCOUNTS, other, zkey, ledger)
        assert ledger.head() == head


# ---- submissions: forged, replayed, idempotent ----------------------------------------------


@pytest.fixture()
def open_epoch(ran: Path, prover: Prover, tmp_path: Path) -> tuple[Ledger, dict[str, Any]]:
    """Epoch 8 open, alice and dave registered with fresh salts, and their valid proofs."""
    ledger = Ledger.open(_copy(ran, tmp_path))
    ledger.open_epoch(NEXT, prover.verifying_key)
    alice, dave = ACCOUNTS[0], ACCOUNTS[3]
    salts = {a.id: random_salt() for a in (alice, dave)}
    proofs = {}
    for a in (alice, dave):
        assert ledger.register(8, a.id, commit(a, NEXT, salts[a.id]))
        proofs[a.id] = prove_account(a, NEXT, prover, salt=salts[a.id])
    return ledger, proofs


def test_a_valid_proof_is_accepted_once_and_resubmission_is_idempotent(
    open_epoch: tuple[Ledger, dict[str, Any]],
) -> None:
    ledger, proofs = open_epoch
    out = ledger.submit(8, "alice", *proofs["alice"])
    assert (out.status, out.new) == ("proven", True)
    head = ledger.head()
    again = ledger.submit(8, "alice", *proofs["alice"])
    assert (again.status, again.new) == ("proven", False) and ledger.head() == head
    assert audit_ledger(ledger).ok


def test_forged_and_replayed_proofs_are_rejected_and_recorded(
    open_epoch: tuple[Ledger, dict[str, Any]], ran: Path
) -> None:
    ledger, proofs = open_epoch
    proof, public = proofs["alice"]
    # another account's proof (dave's commitment) submitted for alice
    out = ledger.submit(8, "alice", *proofs["dave"])
    assert out.status == "rejected" and "commitment" in out.reason
    # a proof from epoch 7 (alice's accepted one there): another snapshot hash
    with Ledger.open(ran, create=False) as old:
        (row,) = [r for r in table_rows(old.connection, "proofs") if r["account"] == "alice"]
    replay = (Proof.from_json(row["proof_json"]), PublicSignals.from_json(row["public_json"]))
    out = ledger.submit(8, "alice", *replay)
    assert out.status == "rejected" and ("snapshot hash" in out.reason or "commitment" in out.reason)
    # the right signals with a forged proof: the pairing fails
    forged = proof.model_copy(update={"c": proofs["dave"][0].c})
    out = ledger.submit(8, "alice", forged, public)
    assert out.status == "rejected" and "pairing" in out.reason
    # a claim of the initial requirement where the epoch proves maintenance
    claimed = PublicSignals.from_values([*public.root[:2], 1, public.root[3]])
    assert "requirement" in ledger.submit(8, "alice", proof, claimed).reason
    assert ledger.verdict(8, "alice") is None  # still not proven
    rejected = [r for r in table_rows(ledger.connection, "proofs") if r["status"] == "rejected"]
    assert len(rejected) == 4 and all(r["reason"] for r in rejected)
    # the genuine proof still goes through, and everything audits
    assert ledger.submit(8, "alice", proof, public).status == "proven"
    stats = ledger.close_epoch(8)
    assert (stats.proven, stats.flagged, stats.rejected_proofs) == (1, 1, 4)  # dave never submitted
    assert ledger.verdict(8, "dave") == ("flagged", "no valid proof before the epoch closed")
    assert audit_ledger(ledger).ok
    with pytest.raises(EpochClosedError):
        ledger.submit(8, "dave", *proofs["dave"])


def test_an_unhealthy_account_is_flagged_and_cannot_be_proven(
    open_epoch: tuple[Ledger, dict[str, Any]], prover: Prover
) -> None:
    ledger, proofs = open_epoch
    carol = ACCOUNTS[2]
    salt = random_salt()
    out = ledger.record_account(8, "carol", commit(carol, NEXT, salt), flag_reason="does not meet the requirement")
    assert out.status == "flagged"
    # nothing she can submit makes her proven: a decided account takes no proof, and
    # the refusal appends nothing
    head = ledger.head()
    with pytest.raises(AccountDecidedError, match="carol already has a verdict"):
        ledger.submit(8, "carol", *proofs["alice"])
    assert ledger.head() == head
    assert ledger.verdict(8, "carol") == ("flagged", "does not meet the requirement")


def test_malformed_proof_is_a_named_error_and_writes_nothing(open_epoch: tuple[Ledger, dict[str, Any]]) -> None:
    ledger, proofs = open_epoch
    head = ledger.head()
    with pytest.raises(MalformedProofError):
        ledger.submit(8, "alice", Proof.from_json('{"pi_a": [1, 2]}'), proofs["alice"][1])
    assert ledger.head() == head


def test_a_failing_append_leaves_nothing_behind(open_epoch: tuple[Ledger, dict[str, Any]], monkeypatch: Any) -> None:
    """record_account is one transaction: an error after the commitment row rolls it back."""
    ledger, _ = open_epoch
    head = ledger.head()
    real = Ledger._append
    calls = []

    def failing(self: Ledger, cur: Any, kind: str, *args: Any) -> int:
        calls.append(kind)
        if kind == "verdict":
            raise RuntimeError("disk on fire")
        return real(self, cur, kind, *args)

    monkeypatch.setattr(Ledger, "_append", failing)
    with pytest.raises(RuntimeError):
        ledger.record_account(8, "carol", 12345, flag_reason="x")
    assert calls == ["commitment", "verdict"]
    assert ledger.head() == head and ledger.commitment(8, "carol") is None


# ---- tampering ----------------------------------------------------------------------------


def _tampered_value(value: Any) -> Any:
    if value is None:
        return 1
    if isinstance(value, bool | int):
        return value + 1000
    if isinstance(value, float):
        return value + 1.0
    text = str(value)
    return text[:-1] + ("0" if text[-1:] != "0" else "1")


def _columns(db: sqlite3.Connection) -> list[tuple[str, str]]:
    tables = ("entries", "epochs", "commitments", "proofs", "verdicts", "closures")
    return [(t, c[1]) for t in tables for c in db.execute(f"PRAGMA table_info({t})")]


def test_any_tampered_column_fails_the_audit_at_its_entry(ran: Path, tmp_path: Path) -> None:
    with sqlite3.connect(ran) as db:
        columns = _columns(db)
    assert len(columns) > 30
    for i, (table, column) in enumerate(columns):
        copy = tmp_path / f"t{i}.db"
        shutil.copy(ran, copy)
        for suffix in ("-wal", "-shm"):
            if Path(str(ran) + suffix).exists():
                shutil.copy(Path(str(ran) + suffix), Path(str(copy) + suffix))
        db = sqlite3.connect(copy)
        db.execute("PRAGMA ignore_check_constraints = ON")  # an attacker with the file can,
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f"DROP TRIGGER {name}")  # and can drop the append-only triggers
        seq, value = db.execute(f"SELECT seq, {column} FROM {table} ORDER BY seq DESC LIMIT 1").fetchone()
        db.execute(f"UPDATE {table} SET {column} = ? WHERE seq = ?", (_tampered_value(value), seq))
        db.commit()
        db.close()
        with Ledger.open(copy, create=False) as ledger:
            report = audit_ledger(ledger, verify_proofs=False)  # the chain alone must catch it
        assert not report.ok, (table, column)
        named = {p.seq for p in report.problems}
        assert seq in named or (table, column) == ("entries", "seq"), (table, column, report.problems)
        assert any(f"entry {seq} " in str(p) for p in report.problems) or column == "seq", (table, column)


@pytest.mark.parametrize(
    ("table", "column", "value", "where"),
    [("commitments", "commitment", "not a number", "account = 'alice'"), ("epochs", "requirement", "weekly", "1")],
)
def test_unreadable_tampered_values_fail_the_audit_without_crashing(
    ran: Path, tmp_path: Path, table: str, column: str, value: str, where: str
) -> None:
    """With every proof re-verified too: a value that is no number (a proven account's
    commitment) or no requirement is reported, at its entry and at the proofs it spoils."""
    copy = _copy(ran, tmp_path)
    db = sqlite3.connect(copy)
    db.execute("PRAGMA ignore_check_constraints = ON")
    db.execute(f"DROP TRIGGER {table}_no_update")
    (seq,) = db.execute(f"SELECT seq FROM {table} WHERE {where}").fetchone()
    db.execute(f"UPDATE {table} SET {column} = ? WHERE seq = ?", (value, seq))
    db.commit()
    db.close()
    with Ledger.open(copy, create=False) as ledger:
        report = audit_ledger(ledger)
    assert not report.ok and any(p.seq == seq for p in report.problems), report.problems
    assert any("not readable" in p.message for p in report.problems), report.problems


def test_deleted_rows_and_a_moved_head_fail_the_audit(ran: Path, tmp_path: Path) -> None:
    copy = _copy(ran, tmp_path)
    with Ledger.open(copy, create=False) as ledger:
        head = ledger.head()[1]
        assert audit_ledger(ledger, expected_head=head).ok
        assert not audit_ledger(ledger, expected_head="ab" * 32).ok
    db = sqlite3.connect(copy)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM verdicts WHERE account = 'carol'")
    db.execute("DROP TRIGGER verdicts_no_delete")
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("DELETE FROM verdicts WHERE account = 'carol'")  # hide a liquidation flag
    db.commit()
    db.close()
    with Ledger.open(copy, create=False) as ledger:
        report = audit_ledger(ledger)
    assert not report.ok and any("verdicts row is missing" in str(p) for p in report.problems)


def test_not_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(NotALedgerError):
        Ledger.open(tmp_path / "missing.db", create=False)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(NotALedgerError):
        Ledger.open(junk)


# ---- the CLI, and SIGKILL ------------------------------------------------------------------


def _zkm(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(ZKMARGIN), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def epoch_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("epoch")
    (d / "accounts").mkdir()
    for a in ACCOUNTS:
        (d / "accounts" / f"{a.id}.json").write_text(a.model_dump_json())
    (d / "snapshot.json").write_text(SNAP.model_dump_json())
    return d


def _run_args(d: Path, zkey: Path, ledger: Path) -> list[str | Path]:
    return [
        "epoch", "run", "--accounts", d / "accounts", "--snapshot", d / "snapshot.json",
        "--ledger", ledger, "--zkey", zkey, "--workers", "2",
    ]  # fmt: skip


def _no_partial_entries(ledger_path: Path) -> None:
    """Every registered account has its verdict, and every proven one its accepted proof."""
    with Ledger.open(ledger_path, create=False) as ledger:
        db = ledger.connection
        assert db.execute(
            "SELECT COUNT(*) FROM commitments c LEFT JOIN verdicts v USING (epoch, account) WHERE v.verdict IS NULL"
        ).fetchone() == (0,)
        assert (
            db.execute("SELECT COUNT(*) FROM proofs WHERE status = 'accepted'").fetchone()
            == db.execute("SELECT COUNT(*) FROM verdicts WHERE verdict = 'proven'").fetchone()
        )


#: Entries of the whole epoch: its statement, 6 commitments, 4 proofs, 6 verdicts, the close.
FULL_EPOCH = 1 + 6 + 4 + 6 + 1


def _run_and_kill(args: list[str | Path], ledger: Path, target: int, jitter: float) -> bool:
    """Start `zkmargin epoch run`, SIGKILL it (and its prover pool) `jitter` seconds after
    the ledger holds `target` entries; False if it finished first."""
    return run_and_kill([ZKMARGIN, *args], lambda: ledger_entries(ledger) >= target, jitter)


def test_cli_epoch_run_survives_sigkill_at_random_points(epoch_files: Path, zkey: Path, tmp_path: Path) -> None:
    """Kill points are drawn in the epoch's progress (a number of entries, then a random
    delay), not in wall time, so they land mid-epoch on a fast machine and a slow one: on
    a fresh ledger the first lands during start-up, each later one after at least one more
    entry; a ledger with no room left for a kill is rerun at the end like the others."""
    ledgers: list[Path] = []
    rng = random.Random()
    kills = []  # (target entries, entries after the kill)
    for _ in range(12):
        if not ledgers or ledger_entries(ledgers[-1]) >= FULL_EPOCH - 2:
            ledgers.append(tmp_path / f"ledger{len(ledgers)}.db")
            target, jitter = 0, rng.uniform(0.0, 1.5)
        else:
            target, jitter = rng.randint(ledger_entries(ledgers[-1]) + 1, FULL_EPOCH - 2), rng.uniform(0.0, 0.2)
        ledger = ledgers[-1]
        if not _run_and_kill(_run_args(epoch_files, zkey, ledger), ledger, target, jitter):
            continue
        kills.append((target, ledger_entries(ledger)))
        if ledger.exists():
            res = _zkm("ledger", "audit", ledger)
            assert res.returncode == 0, res.stdout + res.stderr
            _no_partial_entries(ledger)
        if sum(0 < n < FULL_EPOCH for _, n in kills) >= 2:
            break
    print("kills (target entries, entries after)", kills)
    assert sum(0 < n < FULL_EPOCH for _, n in kills) >= 2, kills  # at least two landed mid-epoch
    for ledger in ledgers:  # rerunning completes each epoch
        res = _zkm(*_run_args(epoch_files, zkey, ledger))
        assert res.returncode == 0, res.stderr
        assert "proofs/s" in res.stdout and "flagged for liquidation: carol" in res.stdout
        audit = _zkm("ledger", "audit", ledger)
        assert audit.returncode == 0 and audit.stdout.startswith("AUDIT OK"), audit.stdout + audit.stderr
        _no_partial_entries(ledger)
        assert ledger_entries(ledger) == FULL_EPOCH
        with Ledger.open(ledger, create=False) as db:
            verdicts = {v.account: v.verdict for v in db.verdicts(7)}
            assert verdicts == {a.id: "flagged" if a.id in UNHEALTHY else "proven" for a in ACCOUNTS}
            (stats,) = db.epochs()
            assert stats.closed and stats.rejected_proofs == 0
    show = _zkm("ledger", "show", ledgers[-1], "--epoch", "7")
    assert show.returncode == 0 and "carol" in show.stdout and "closed" in show.stdout


def test_cli_audit_names_a_tampered_entry(ran: Path, tmp_path: Path) -> None:
    copy = _copy(ran, tmp_path)
    db = sqlite3.connect(copy)
    db.execute("DROP TRIGGER verdicts_no_update")
    db.execute("UPDATE verdicts SET verdict = 'proven', proof_seq = 4, reason = 'verified' WHERE account = 'carol'")
    db.commit()
    (seq,) = db.execute("SELECT seq FROM verdicts WHERE account = 'carol'").fetchone()
    db.close()
    res = _zkm("ledger", "audit", copy)
    assert res.returncode == 1
    assert "AUDIT FAILED" in res.stdout and f"entry {seq} (verdict, epoch 7, carol)" in res.stdout + res.stderr
    assert _zkm("ledger", "audit", tmp_path / "nothing.db").returncode == 2


def test_cli_submit_rejects_a_replay_and_accepts_the_genuine_proof(
    open_epoch: tuple[Ledger, dict[str, Any]], tmp_path: Path
) -> None:
    ledger, proofs = open_epoch
    files = {}
    for name, (proof, public) in proofs.items():
        proof.save(tmp_path / f"{name}.proof.json")
        public.save(tmp_path / f"{name}.public.json")
        files[name] = ("--proof", tmp_path / f"{name}.proof.json", "--public", tmp_path / f"{name}.public.json")
    submit = ("ledger", "submit", ledger.path, "--epoch", "8", "--account", "alice")
    replay = _zkm(*submit, *files["dave"])
    assert replay.returncode == 1 and replay.stdout.startswith("REJECTED: public commitment")
    ok = _zkm(*submit, *files["alice"])
    assert ok.returncode == 0 and ok.stdout.startswith("PROVEN: alice in epoch 8"), ok.stdout + ok.stderr
    again = _zkm(*submit, *files["alice"])
    assert again.returncode == 0 and "already recorded" in again.stdout
    (tmp_path / "bad.json").write_text("{")
    head = ledger.head()
    bad = _zkm(*submit, "--proof", tmp_path / "bad.json", "--public", tmp_path / "alice.public.json")
    assert bad.returncode == 2 and bad.stderr.startswith("ERROR: MalformedProofError")
    assert ledger.head() == head
    assert audit_ledger(ledger).ok
