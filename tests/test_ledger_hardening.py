"""The ledger under concurrent writers, spam, and a damaged file (issue 13).

The ledger cares only about a proof's four public signals and its pairing check, so a
tiny four-signal circuit (any signals, one secret) with an INSECURE dev key stands in
for the margin circuit: its proofs are real Groth16 proofs, made in milliseconds.

Found by attacking the ledger as it stood: `register()` racing `close_epoch()`
appended a commitment after the closure, two `open_epoch()` calls raced into an
IntegrityError, re-randomized copies of a proof and submissions for made-up accounts
each appended a "rejected" row, and a dropped table made the audit print a traceback.
"""

from __future__ import annotations

import multiprocessing
import random
import re
import sqlite3
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from algebra import G1, G2, R
from circuits import API, Circuit, Public, Secret, compile_circuit
from ledger import (
    MAX_REJECTED_PROOFS,
    SCHEMA_VERSION,
    AccountDecidedError,
    EpochClosedError,
    Ledger,
    NotALedgerError,
    RejectionLimitError,
    SignalCountError,
    UnknownAccountError,
    audit_ledger,
    audit_ledger_file,
    margin_signals,
)
from prover import InsecureSetupWarning, Prover, dev_setup
from tests._engine import perp_snapshot
from verifier import Proof, PublicSignals, VerifyingKey

ZKMARGIN = Path(sys.executable).parent / "zkmargin"
SNAP = perp_snapshot()  # epoch 7


class FourSignals(Circuit):
    """Any four public signals; the prover knows x with x * x = x (a bit)."""

    signals = Public(4)
    x = Secret()

    def define(self, api: API) -> None:
        api.assert_boolean(self.x)
        for i, s in enumerate(self.signals):
            api.mul(s, self.x, name=f"bind signal {i}")


@pytest.fixture(scope="module")
def kit() -> tuple[Any, Prover]:
    compiled = compile_circuit(FourSignals())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        return compiled, Prover(dev_setup(compiled.cs))


def _prove(kit: tuple[Any, Prover], commitment: int) -> tuple[Proof, PublicSignals]:
    compiled, prover = kit
    signals = margin_signals(commitment, SNAP.snapshot_hash(), "maintenance", 0)
    return prover.prove(compiled.solve({"signals": signals, "x": 1}).values)


def _ledger(path: Path, vk: VerifyingKey, accounts: int = 0) -> Path:
    with Ledger.open(path) as ledger:
        ledger.open_epoch(SNAP, vk)
        for i in range(accounts):
            ledger.register(SNAP.epoch, f"acct{i}", 1000 + i)
    return path


def _rerandomized(proof: Proof, t: int) -> Proof:
    """(t A, B / t, C): another valid proof of the same statement, with other bytes."""
    return Proof.from_points(G1.mul(proof.a, t), G2.mul(proof.b, pow(t, -1, R)), proof.c)


# ---- concurrent writers -------------------------------------------------------------------


def _register_many(path: str, first: int, count: int, out: Any) -> None:
    registered = refused = 0
    with Ledger.open(path, create=False) as ledger:
        for i in range(first, first + count):
            try:
                ledger.register(SNAP.epoch, f"acct{i}", 1000 + i)
                registered += 1
            except EpochClosedError:
                refused += 1
    out.put((registered, refused))


def _record_many(path: str, first: int, count: int, out: Any) -> None:
    recorded = refused = 0
    with Ledger.open(path, create=False) as ledger:
        for i in range(first, first + count):
            try:
                ledger.record_account(SNAP.epoch, f"acct{i}", 1000 + i, flag_reason="unhealthy")
                recorded += 1
            except EpochClosedError:
                refused += 1
    out.put((recorded, refused))


def _close_after(path: str, delay: float, out: Any) -> None:
    time.sleep(delay)
    with Ledger.open(path, create=False) as ledger:
        stats = ledger.close_epoch(SNAP.epoch)
    out.put(stats.accounts)


@pytest.mark.parametrize("writer", [_register_many, _record_many])
def test_a_closing_epoch_refuses_every_later_write_and_the_audit_stays_clean(
    kit: tuple[Any, Prover], tmp_path: Path, writer: Any
) -> None:
    ctx = multiprocessing.get_context("fork")
    vk = kit[1].verifying_key
    rng = random.Random(13)
    for trial in range(12):
        path = str(_ledger(tmp_path / f"race{trial}.db", vk))
        out = ctx.Queue()
        procs = [
            ctx.Process(target=writer, args=(path, 0, 150, out)),
            ctx.Process(target=writer, args=(path, 1000, 150, out)),
            ctx.Process(target=_close_after, args=(path, rng.uniform(0.0, 0.4), out)),
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
            assert p.exitcode == 0, (trial, p.exitcode)
        results = [out.get(timeout=5) for _ in procs]
        closed_with = next(r for r in results if isinstance(r, int))
        written = sum(r[0] for r in results if isinstance(r, tuple))
        with Ledger.open(path, create=False) as ledger:
            report = audit_ledger(ledger)
            assert report.ok, (trial, report.problems)
            (stats,) = ledger.epochs()
        assert stats.closed and stats.accounts == closed_with == written, (trial, stats, written)


def _open_epoch(path: str, vk_json: str, out: Any) -> None:
    try:
        with Ledger.open(path) as ledger:
            out.put(ledger.open_epoch(SNAP, VerifyingKey.from_json(vk_json)).epoch)
    except Exception as exc:  # reported to the parent, which fails the test
        out.put(f"{type(exc).__name__}: {exc}")


def test_concurrent_creators_and_opens_of_one_epoch_make_one_ledger_and_one_epoch(
    kit: tuple[Any, Prover], tmp_path: Path
) -> None:
    ctx = multiprocessing.get_context("fork")
    vk_json = kit[1].verifying_key.to_json()
    for trial in range(8):
        path = str(tmp_path / f"open{trial}.db")
        if trial % 2:
            Ledger.open(path).close()  # the schema exists: only the epochs race
        out = ctx.Queue()
        procs = [ctx.Process(target=_open_epoch, args=(path, vk_json, out)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert sorted(out.get(timeout=5) for _ in procs) == [SNAP.epoch] * 4, trial
        with Ledger.open(path, create=False) as ledger:
            assert [s.epoch for s in ledger.epochs()] == [SNAP.epoch] and ledger.head()[0] == 1
            assert audit_ledger(ledger).ok


# ---- submissions that cannot change anything append nothing -------------------------------


def test_rerandomized_copies_of_a_proof_grow_nothing(kit: tuple[Any, Prover], tmp_path: Path) -> None:
    path = _ledger(tmp_path / "spam.db", kit[1].verifying_key, accounts=1)
    proof, public = _prove(kit, 1000)
    with Ledger.open(path, create=False) as ledger:
        first = _rerandomized(proof, 7)  # a copy is as good as the original: accepted once
        assert ledger.submit(SNAP.epoch, "acct0", first, public).status == "proven"
        head = ledger.head()
        for t in (2, 3, 5, 11):
            with pytest.raises(AccountDecidedError):
                ledger.submit(SNAP.epoch, "acct0", _rerandomized(proof, t), public)
        with pytest.raises(AccountDecidedError):  # a wrong proof changes nothing either
            ledger.submit(SNAP.epoch, "acct0", proof.model_copy(update={"c": proof.a}), public)
        assert ledger.submit(SNAP.epoch, "acct0", first, public).new is False  # idempotent
        assert ledger.head() == head
        assert audit_ledger(ledger).ok


def test_made_up_accounts_and_closed_epochs_grow_nothing(kit: tuple[Any, Prover], tmp_path: Path) -> None:
    path = _ledger(tmp_path / "spam.db", kit[1].verifying_key, accounts=1)
    proof, public = _prove(kit, 1000)
    with Ledger.open(path, create=False) as ledger:
        head = ledger.head()
        for name in ("mallory", "acct1", "x" * 200):
            with pytest.raises(UnknownAccountError):
                ledger.submit(SNAP.epoch, name, proof, public)
        assert ledger.head() == head
        ledger.close_epoch(SNAP.epoch)
        head = ledger.head()
        with pytest.raises(EpochClosedError):
            ledger.submit(SNAP.epoch, "acct0", proof, public)
        assert ledger.head() == head


def test_wrong_proofs_are_recorded_up_to_the_limit_and_never_block_the_valid_one(
    kit: tuple[Any, Prover], tmp_path: Path
) -> None:
    path = _ledger(tmp_path / "spam.db", kit[1].verifying_key, accounts=2)
    proof, public = _prove(kit, 1000)
    other, _ = _prove(kit, 1001)
    with Ledger.open(path, create=False) as ledger:
        for t in range(2, 2 + MAX_REJECTED_PROOFS):  # wrong: acct0's signals, another proof
            out = ledger.submit(SNAP.epoch, "acct0", _rerandomized(other, t), public)
            assert (out.status, out.new) == ("rejected", True) and "pairing" in out.reason
        head = ledger.head()
        with pytest.raises(RejectionLimitError):
            ledger.submit(SNAP.epoch, "acct0", _rerandomized(other, 99), public)
        assert ledger.head() == head
        assert ledger.epochs()[0].rejected_proofs == MAX_REJECTED_PROOFS
        # anyone can send wrong proofs; the account's own valid proof still counts
        assert ledger.submit(SNAP.epoch, "acct0", _rerandomized(proof, 5), public).status == "proven"
        assert audit_ledger(ledger).ok


def test_signals_that_no_margin_proof_has_are_refused_unrecorded(kit: tuple[Any, Prover], tmp_path: Path) -> None:
    """A wrong number of signals carries nothing (and up to 16 MB each): not recorded."""
    path = _ledger(tmp_path / "count.db", kit[1].verifying_key, accounts=1)
    proof, public = _prove(kit, 1000)
    with Ledger.open(path, create=False) as ledger:
        head = ledger.head()
        for values in ([], list(public.root[:3]), [*public.root, 0], [1] * 10_000):
            with pytest.raises(SignalCountError):
                ledger.submit(SNAP.epoch, "acct0", proof, PublicSignals.from_values(values))
        assert ledger.head() == head


def test_the_venue_records_around_a_verdict_already_there(kit: tuple[Any, Prover], tmp_path: Path) -> None:
    """A trader's submission (or a flag) may decide an account before the venue's run
    records it: record_account then returns the verdict, appends nothing, never raises."""
    path = _ledger(tmp_path / "venue.db", kit[1].verifying_key, accounts=2)
    proof, public = _prove(kit, 1000)
    venue_proof, venue_public = _prove(kit, 1001)
    with Ledger.open(path, create=False) as ledger:
        ledger.submit(SNAP.epoch, "acct0", proof, public)
        ledger.flag(SNAP.epoch, "acct1", "unhealthy")
        head = ledger.head()
        out = ledger.record_account(SNAP.epoch, "acct0", 1000, _rerandomized(proof, 3), public)
        assert (out.status, out.new) == ("proven", False)
        out = ledger.record_account(SNAP.epoch, "acct1", 1001, venue_proof, venue_public)
        assert (out.status, out.reason, out.new) == ("flagged", "unhealthy", False)
        assert ledger.head() == head


def test_the_audit_names_a_proof_appended_after_a_verdict(
    kit: tuple[Any, Prover], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that skipped the refusal (an older version, a bug) is caught by the audit."""
    path = _ledger(tmp_path / "late.db", kit[1].verifying_key, accounts=1)
    proof, public = _prove(kit, 1000)
    with Ledger.open(path, create=False) as ledger:
        ledger.flag(SNAP.epoch, "acct0", "unhealthy")
        monkeypatch.setattr(Ledger, "_refuse_useless", lambda self, record, account, public: 1000)
        wrong = proof.model_copy(update={"c": proof.a})
        assert ledger.submit(SNAP.epoch, "acct0", wrong, public).status == "rejected"
        report = audit_ledger(ledger)
    assert [p.message for p in report.problems] == ["appended after the account's verdict (entry 3)"]


def _cli_submit(path: Path, tmp_path: Path, account: str, proof: Proof, public: PublicSignals) -> Any:
    proof.save(tmp_path / "proof.json")
    public.save(tmp_path / "public.json")
    args = ["ledger", "submit", path, "--epoch", SNAP.epoch, "--account", account]
    args += ["--proof", tmp_path / "proof.json", "--public", tmp_path / "public.json"]
    return subprocess.run([str(ZKMARGIN), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_cli_submit_names_a_refusal_and_appends_nothing(kit: tuple[Any, Prover], tmp_path: Path) -> None:
    path = _ledger(tmp_path / "cli.db", kit[1].verifying_key, accounts=1)
    proof, public = _prove(kit, 1000)
    with Ledger.open(path, create=False) as ledger:
        head = ledger.head()
    res = _cli_submit(path, tmp_path, "mallory", proof, public)
    assert res.returncode == 1, res.stdout + res.stderr
    assert res.stdout.startswith("REJECTED: UnknownAccountError: ") and "nothing appended" in res.stdout
    with Ledger.open(path, create=False) as ledger:
        assert ledger.head() == head
        ledger.close_epoch(SNAP.epoch)
    res = _cli_submit(path, tmp_path, "acct0", proof, public)
    assert res.returncode == 1 and res.stdout.startswith("REJECTED: EpochClosedError: "), res.stdout


# ---- a damaged file: the audit reports it, never a traceback ------------------------------


def _proven_ledger(kit: tuple[Any, Prover], path: Path) -> Path:
    _ledger(path, kit[1].verifying_key, accounts=2)
    with Ledger.open(path, create=False) as ledger:
        ledger.submit(SNAP.epoch, "acct0", *_prove(kit, 1000))
        ledger.close_epoch(SNAP.epoch)
    return path


DAMAGE = {
    "dropped proofs": ["DROP TABLE proofs"],
    "dropped meta": ["DROP TABLE meta"],
    "dropped entries": ["DROP TABLE entries"],
    "column dropped": ["DROP TRIGGER proofs_no_update", "ALTER TABLE proofs DROP COLUMN reason"],
    "column renamed": ["ALTER TABLE verdicts RENAME COLUMN reason TO why"],
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_missing_or_reshaped_table_fails_the_audit_by_name(
    kit: tuple[Any, Prover], tmp_path: Path, case: str
) -> None:
    path = _proven_ledger(kit, tmp_path / "damaged.db")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA foreign_keys = OFF")
        for statement in DAMAGE[case]:
            db.execute(statement)
    report = audit_ledger_file(path)
    assert not report.ok and all(p.kind == "schema" for p in report.problems), report.problems
    res = subprocess.run([str(ZKMARGIN), "ledger", "audit", str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, (res.returncode, res.stderr[-1000:])
    assert "AUDIT FAILED" in res.stdout and "table " in res.stdout and "Traceback" not in res.stderr


#: Values of the wrong type or shape an attacker with the file can write into any cell.
ODD_VALUES = [b"\x00\xffblob", 1.5e308, -(2**63), "[" * 50_000 + "]" * 50_000, "9" * 5000, None, ""]


def test_odd_values_in_any_cell_are_audit_problems_never_exceptions(kit: tuple[Any, Prover], tmp_path: Path) -> None:
    src = _proven_ledger(kit, tmp_path / "src.db")
    covered = assert_odd_values_fail_the_audit(src, tmp_path)
    assert {"entries", "epochs", "commitments", "proofs", "verdicts"} <= covered


def assert_odd_values_fail_the_audit(src: Path, tmp_path: Path, tables: Sequence[str] | None = None) -> set[str]:
    """Each column of the last row of each table of `src` (or of `tables`) set to an odd
    value, in its own copy: the audit fails, and never raises. Returns the tables covered
    (those with a row)."""
    with sqlite3.connect(src) as db:
        if tables is None:
            tables = [
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'meta'")
            ]
        tables = [t for t in tables if db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]]
        cells = [(t, c[1]) for t in tables for c in db.execute(f"PRAGMA table_info({t})")]
    rng = random.Random(13)
    for i, (table, column) in enumerate(cells):
        path = tmp_path / f"odd{i}.db"
        with sqlite3.connect(src) as a, sqlite3.connect(path) as b:
            a.backup(b)
        last = f"rowid = (SELECT MAX(rowid) FROM {table})"
        with sqlite3.connect(path) as db:
            (current,) = db.execute(f"SELECT {column} FROM {table} WHERE {last}").fetchone()
            db.execute("PRAGMA ignore_check_constraints = ON")
            db.execute(f"DROP TRIGGER {table}_no_update")
            for value in rng.sample(ODD_VALUES, len(ODD_VALUES)):
                if value != current:
                    try:  # NOT NULL and UNIQUE hold even for an attacker: try the next value
                        db.execute(f"UPDATE {table} SET {column} = ? WHERE {last}", (value,))
                        break
                    except sqlite3.IntegrityError:
                        continue
        report = audit_ledger_file(path, verify_proofs=column in ("proof_json", "public_json", "verification_key_json"))
        assert not report.ok, (table, column, value if not isinstance(value, str) else value[:20])
    return set(tables)


def test_text_that_is_not_utf8_is_an_audit_problem(kit: tuple[Any, Prover], tmp_path: Path) -> None:
    path = _proven_ledger(kit, tmp_path / "utf8.db")
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER verdicts_no_update")
        db.execute("UPDATE verdicts SET reason = CAST(x'c3ff00ff' AS TEXT) WHERE account = 'acct1'")
        (seq,) = db.execute("SELECT seq FROM verdicts WHERE account = 'acct1'").fetchone()
    res = subprocess.run([str(ZKMARGIN), "ledger", "audit", str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, (res.returncode, res.stderr[-1000:])
    assert f"entry {seq} (verdict" in res.stdout + res.stderr and "Traceback" not in res.stderr


def test_other_databases_and_other_versions_are_not_ledgers(kit: tuple[Any, Prover], tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:  # some other program's database, with a meta table too
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('owner', 'someone')")
    with pytest.raises(NotALedgerError) as info:
        Ledger.open(other, create=False)
    assert type(info.value) is NotALedgerError and "none of the ledger's tables" in str(info.value)
    old = _proven_ledger(kit, tmp_path / "v1.db")
    with sqlite3.connect(old) as db:
        db.execute("UPDATE meta SET value = 'zkmargin.ledger.v1'")
    with pytest.raises(NotALedgerError, match=re.escape(f"'zkmargin.ledger.v1', expected {SCHEMA_VERSION!r}")):
        Ledger.open(old, create=False)
    res = subprocess.run([str(ZKMARGIN), "ledger", "audit", str(other)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and res.stderr.startswith("ERROR: NotALedgerError"), res.stderr


@pytest.mark.parametrize(
    "column", ["proof_json", "public_json", "verification_key_json", "snapshot_json", "snapshot_encoding"]
)
def test_nested_json_in_a_ledger_row_is_named_by_the_cli_audit(
    kit: tuple[Any, Prover], tmp_path: Path, column: str
) -> None:
    path = _proven_ledger(kit, tmp_path / "nested.db")
    table = "proofs" if column in ("proof_json", "public_json") else "epochs"
    with sqlite3.connect(path) as db:
        db.execute(f"DROP TRIGGER {table}_no_update")
        (seq,) = db.execute(f"SELECT MIN(seq) FROM {table}").fetchone()
        db.execute(f"UPDATE {table} SET {column} = ? WHERE seq = ?", ("[" * 80_000 + "]" * 80_000, seq))
    res = subprocess.run([str(ZKMARGIN), "ledger", "audit", str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, (res.returncode, res.stderr[-1000:])
    assert f"entry {seq} " in res.stdout + res.stderr and "Traceback" not in res.stderr


# ---- batch verification ahead of appends (epoch run's single writer) -----------------------


def test_preverified_proofs_skip_only_their_own_pairing_check(
    kit: tuple[Any, Prover], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _ledger(tmp_path / "batch.db", kit[1].verifying_key, accounts=3)
    good = [_prove(kit, 1000 + i) for i in range(3)]
    wrong = (good[2][0].model_copy(update={"c": good[2][0].a}), good[2][1])
    with Ledger.open(path, create=False) as ledger:
        assert ledger.preverify(SNAP.epoch, [good[0], good[1], wrong]) == [True, True, False]
        import ledger._store as ledger_module

        calls: list[Any] = []
        real_verify = ledger_module.verify
        monkeypatch.setattr(ledger_module, "verify", lambda *a: calls.append(a) or real_verify(*a))
        assert ledger.record_account(SNAP.epoch, "acct0", 1000, *good[0]).status == "proven"
        assert calls == []  # batch-verified: not checked again
        with pytest.raises(SignalCountError):  # every other check still runs
            ledger.submit(SNAP.epoch, "acct1", good[1][0], PublicSignals.from_values(good[1][1].values[:3]))
        assert ledger.record_account(SNAP.epoch, "acct2", 1002, *wrong).status == "rejected"
        assert len(calls) == 1  # the wrong one is verified again, and refused
        # a preverified proof for another account's commitment is still refused
        assert ledger.submit(SNAP.epoch, "acct1", *good[0]).status == "rejected"
        assert audit_ledger(ledger).ok
    with Ledger.open(path, create=False) as other:  # another object trusts nothing it did not verify
        assert other.submit(SNAP.epoch, "acct1", *good[1]).status == "proven"
        assert len(calls) == 2
        assert audit_ledger(other).ok


def test_one_acceptance_rule_names_the_first_wrong_signal() -> None:
    from ledger import signals_problem

    want = margin_signals(1000, SNAP.snapshot_hash(), "maintenance", 0)
    assert signals_problem(want, want, SNAP.epoch) is None
    assert "commitment 1001 does not match" in (signals_problem([1001, *want[1:]], want, 7) or "")
    assert "another epoch" in (signals_problem([want[0], 5, *want[2:]], want, 7) or "")
    assert "epoch 7 proves requirement = 0" in (signals_problem([*want[:2], 1, 0], want, 7) or "")
    assert signals_problem(want[:3], want, 7) == "3 public signals, a margin proof has 4"
