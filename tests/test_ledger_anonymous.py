"""Anonymous proofs in the ledger: an epoch publishes the Merkle root of its registered
commitments, an anonymous proof is recorded against it, a used nullifier is refused,
and the audit re-verifies it (library and CLI); `zkmargin ledger audit` runs without
the prover, circuits or engine.

One small snapshot (one BTC perpetual) with INSECURE dev keys for the named circuit and
the anonymous circuit of depth 3.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import warnings
from contextlib import closing
from pathlib import Path

import pytest

from engine import (
    anonymous_circuit_for,
    commit,
    margin_circuit_for,
    prove_account_anonymously,
    read_salt_file,
    run_epoch,
)
from engine._epoch import salt_path
from ledger import (
    AnonymousProofRefusedError,
    Ledger,
    NoRootError,
    NullifierUsedError,
    RegistrationClosedError,
    RootConflictError,
    audit_ledger,
    audit_ledger_file,
)
from prover import InsecureSetupWarning, Prover, ZkeyFile, dev_setup, verifying_key, write_zkey
from tests._engine import perp_snapshot
from tests.test_ledger import ACCOUNTS, UNHEALTHY, _copy
from tests.test_ledger_hardening import assert_odd_values_fail_the_audit
from verifier import Proof, PublicSignals, VerifyingKey

ZKMARGIN = Path(sys.executable).parent / "zkmargin"
SNAP = perp_snapshot()  # epoch 7
DEPTH = 3
ROOT = Path(__file__).resolve().parent.parent


def _keys(cs: object, folder: Path) -> tuple[Path, Path]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        pk = dev_setup(cs)  # type: ignore[arg-type]
    zkey, vk = folder / "circuit.zkey", folder / "verification_key.json"
    write_zkey(ZkeyFile.from_proving_key(pk), zkey)
    verifying_key(pk).save(vk)
    return zkey, vk


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    named = _keys(margin_circuit_for(SNAP).cs, tmp_path_factory.mktemp("named"))
    anonymous = _keys(anonymous_circuit_for(SNAP, DEPTH).cs, tmp_path_factory.mktemp("anonymous"))
    return {"named": named, "anonymous": anonymous}


@pytest.fixture(scope="module")
def rooted(keys: dict[str, tuple[Path, Path]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Epoch 7 run over ACCOUNTS, kept open, with its root published at depth 3."""
    path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    with Ledger.open(path) as ledger:
        run_epoch(ACCOUNTS, SNAP, keys["named"][0], ledger, workers=1, close=False)
        record = ledger.publish_root(7, VerifyingKey.load(keys["anonymous"][1]), depth=DEPTH)
        assert record.leaves == len(ACCOUNTS) and record.depth == DEPTH
    return path


def _anonymous_proof(ledger_path: Path, zkey: Path, name: str) -> tuple[Proof, PublicSignals]:
    account = next(a for a in ACCOUNTS if a.id == name)
    salt = read_salt_file(salt_path(ledger_path.with_name(ledger_path.name + ".salts"), 7, name))
    with Ledger.open(ledger_path, create=False) as ledger:
        leaves = ledger.leaves(7)
    index = leaves.index(commit(account, SNAP, salt))
    return prove_account_anonymously(
        account, SNAP, Prover.from_zkey(zkey), salt=salt, leaves=leaves, index=index, depth=DEPTH
    )


def test_an_anonymous_proof_is_recorded_once_and_audited(
    rooted: Path, keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    db = _copy(rooted, tmp_path)
    _copy_salts(rooted, db)
    proof, public = _anonymous_proof(db, keys["anonymous"][0], "alice")
    again, again_public = _anonymous_proof(db, keys["anonymous"][0], "alice")  # fresh randomness
    with Ledger.open(db) as ledger:
        outcome = ledger.submit_anonymous(7, proof, public)
        assert (outcome.status, outcome.new) == ("proven", True)
        assert ledger.submit_anonymous(7, proof, public).new is False  # the same proof: nothing appended
        head = ledger.head()
        with pytest.raises(NullifierUsedError):
            ledger.submit_anonymous(7, again, again_public)  # the same account again
        assert ledger.head() == head
        report = audit_ledger(ledger)
        assert report.ok, report.problems
        assert report.proofs_verified == 4 + 1
        stats = ledger.close_epoch(7)
        assert stats.closed
        assert audit_ledger(ledger).ok


def test_bad_anonymous_proofs_are_refused_unrecorded(
    rooted: Path, keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    db = _copy(rooted, tmp_path)
    _copy_salts(rooted, db)
    proof, public = _anonymous_proof(db, keys["anonymous"][0], "bob")
    signals = list(public.root)
    obj = proof.to_json_obj()
    forged = Proof.from_json({**obj, "pi_a": obj["pi_c"]})  # well formed, wrong
    with Ledger.open(db) as ledger:
        head = ledger.head()
        with pytest.raises(AnonymousProofRefusedError, match="pairing"):
            ledger.submit_anonymous(7, forged, public)
        for i, why in ((0, "merkle root"), (2, "snapshot hash"), (3, "requirement")):
            wrong = PublicSignals.from_values([*signals[:i], signals[i] + 1, *signals[i + 1 :]])
            with pytest.raises(AnonymousProofRefusedError, match=why):
                ledger.submit_anonymous(7, proof, wrong)
        with pytest.raises(RegistrationClosedError):
            ledger.register(7, "zoe", 12345)
        with pytest.raises(RootConflictError):
            ledger.publish_root(7, ledger.root(7).verifying_key, depth=DEPTH + 1)  # type: ignore[union-attr]
        assert ledger.head() == head
    fresh = tmp_path / "fresh.db"
    with Ledger.open(fresh) as ledger:
        run_epoch(ACCOUNTS[:2], SNAP, keys["named"][0], ledger, workers=1, close=False, salts_dir=tmp_path / "s")
        with pytest.raises(NoRootError):
            ledger.submit_anonymous(7, proof, public)


def test_a_tampered_anonymous_row_fails_the_audit_at_its_entry(
    rooted: Path, keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    db = _copy(rooted, tmp_path)
    _copy_salts(rooted, db)
    proof, public = _anonymous_proof(db, keys["anonymous"][0], "dave")
    with Ledger.open(db) as ledger:
        ledger.submit_anonymous(7, proof, public)
        (seq,) = ledger.connection.execute("SELECT seq FROM anonymous_proofs").fetchone()
    with closing(sqlite3.connect(db)) as raw:
        raw.execute("DROP TRIGGER anonymous_proofs_no_update")
        other = json.loads(public.to_json())
        other[3] = "1"  # claims the initial requirement
        raw.execute("UPDATE anonymous_proofs SET public_json = ? WHERE seq = ?", (json.dumps(other), seq))
        raw.commit()
    report = audit_ledger_file(db)
    assert not report.ok
    assert any(p.seq == seq and p.kind == "anonymous" for p in report.problems), report.problems
    # The root must be the commitments' root: a forged root fails at its entry.
    (tmp_path / "b").mkdir()
    db2 = _copy(rooted, tmp_path / "b")
    with closing(sqlite3.connect(db2)) as raw:
        raw.execute("DROP TRIGGER roots_no_update")
        raw.execute("UPDATE roots SET merkle_root = '5'")
        raw.commit()
    report = audit_ledger_file(db2)
    assert any(p.kind == "root" and "Merkle root" in p.message for p in report.problems), report.problems


def test_odd_values_in_the_anonymous_tables_are_audit_problems(
    rooted: Path, keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    db = _copy(rooted, tmp_path)
    _copy_salts(rooted, db)
    proof, public = _anonymous_proof(db, keys["anonymous"][0], "alice")
    with Ledger.open(db) as ledger:
        ledger.submit_anonymous(7, proof, public)
    covered = assert_odd_values_fail_the_audit(db, tmp_path, ["roots", "anonymous_proofs"])
    assert covered == {"roots", "anonymous_proofs"}


def _copy_salts(src: Path, dst: Path) -> None:
    """The salts folder beside a copied ledger (the copy's name differs)."""
    shutil.copytree(src.with_name(src.name + ".salts"), dst.with_name(dst.name + ".salts"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ZKMARGIN), *args], capture_output=True, text=True, cwd=ROOT)


def test_the_cli_records_an_anonymous_proof_once_and_audits_it(
    rooted: Path, keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    db = _copy(rooted, tmp_path)
    _copy_salts(rooted, db)
    snap_json = tmp_path / "snapshot.json"
    snap_json.write_text(SNAP.model_dump_json())
    account_json = tmp_path / "frank.json"
    account_json.write_text(next(a for a in ACCOUNTS if a.id == "frank").model_dump_json())
    salt = salt_path(db.with_name(db.name + ".salts"), 7, "frank")
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    made = _cli(
        "prove-anonymous", str(account_json), "--snapshot", str(snap_json), "--zkey", str(keys["anonymous"][0]),
        "--ledger", str(db), "--salt-file", str(salt), "--proof", str(proof), "--public", str(public),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "nullifier:" in made.stdout
    first = _cli(
        "ledger", "submit", str(db), "--epoch", "7", "--anonymous", "--proof", str(proof), "--public", str(public)
    )
    assert first.returncode == 0 and "PROVEN" in first.stdout, first.stdout + first.stderr
    again = tmp_path / "again.json"
    made = _cli(
        "prove-anonymous", str(account_json), "--snapshot", str(snap_json), "--zkey", str(keys["anonymous"][0]),
        "--ledger", str(db), "--salt-file", str(salt), "--proof", str(again), "--public", str(public),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    second = _cli(
        "ledger", "submit", str(db), "--epoch", "7", "--anonymous", "--proof", str(again), "--public", str(public)
    )
    assert second.returncode == 1 and "NullifierUsedError" in second.stdout, second.stdout + second.stderr
    audit = _cli("ledger", "audit", str(db))
    assert audit.returncode == 0 and "AUDIT OK" in audit.stdout and "5 proofs re-verified" in audit.stdout, audit.stdout
    deep = _cli("ledger", "audit", str(db), "--snapshots")
    assert deep.returncode == 0 and "AUDIT OK" in deep.stdout, deep.stdout + deep.stderr


def test_ledger_audit_loads_no_prover_circuits_or_engine(rooted: Path, tmp_path: Path) -> None:
    """`import ledger` loads no numba; `zkmargin ledger audit` (which verifies proofs:
    numba) loads no prover, circuits or engine module, and still names a tampered entry."""
    forbidden = ("prover", "circuits", "engine")
    code = "import sys, ledger; print(sorted({m.split('.')[0] for m in sys.modules}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(json.loads(out.stdout.replace("'", '"')))
    assert not loaded & {*forbidden, "numba"}, loaded
    db = _copy(rooted, tmp_path)
    with closing(sqlite3.connect(db)) as raw:
        raw.execute("DROP TRIGGER commitments_no_update")
        raw.execute("UPDATE commitments SET commitment = '7' WHERE account = 'bob'")
        raw.commit()
    code = (  # main() ends the process itself; its atexit handlers still run
        "import atexit, sys, cli\n"
        "atexit.register(lambda: print('LOADED', sorted({m.split('.')[0] for m in sys.modules})))\n"
        f"sys.argv = ['zkmargin', 'ledger', 'audit', {str(db)!r}]\n"
        "cli.main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "AUDIT FAILED" in out.stdout and "bob" in out.stdout, out.stdout + out.stderr
    loaded_line = next(line for line in out.stdout.splitlines() if line.startswith("LOADED"))
    loaded = set(json.loads(loaded_line.removeprefix("LOADED ").replace("'", '"')))
    assert "numba" in loaded and not loaded & set(forbidden), loaded
    assert UNHEALTHY  # the epoch flagged its unhealthy accounts (they are leaves all the same)
