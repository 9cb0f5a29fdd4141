"""`zkmargin solvency` end to end: the example accounts plus generated ones (a bankrupt
one and the house among them) prove solvent after their epoch, on the pool and on a
local Dask cluster; every user's inclusion checks; refusals exit with a named reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import (
    Account,
    Position,
    commit,
    counterparty_account,
    generate_accounts,
    load_example_account,
    load_example_snapshot,
    read_salt_file,
    required_reserves,
    salt_path,
)
from engine._examples import EXAMPLE_ACCOUNTS
from ledger import Ledger, inclusion_of, inclusion_problem

pytestmark = pytest.mark.e2e

ZKMARGIN = Path(sys.executable).parent / "zkmargin"
SNAP = load_example_snapshot()
USD = 10**6
SHAPE = ["--batch-size", "4", "--depth", "5"]


def _zkm(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(ZKMARGIN), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def _accounts() -> list[Account]:
    mark = SNAP.mark_prices["BTC-PERP"]
    broke = Account(
        id="broke",
        collateral={"USDC": 1_000 * USD},
        positions=(
            Position(
                market="BTC-PERP",
                size=10**8,
                quote=-(mark + 5_000 * USD),
                funding_index=SNAP.funding_indices["BTC-PERP"],
            ),
        ),
    )
    traders = [*(load_example_account(n) for n in EXAMPLE_ACCOUNTS), *generate_accounts(SNAP, 11, seed=7), broke]
    return [*traders, counterparty_account(SNAP, traders)]


def _reserves(accounts: list[Account], short: str | None = None) -> dict[str, object]:
    """The least reserves for the accounts, or one unit short of them in `short`."""
    r = required_reserves(accounts, SNAP)
    if short in r.assets:
        r = r.model_copy(update={"assets": {**r.assets, short: r.assets[short] - 1}})
    elif short is not None:
        r = r.model_copy(update={short: getattr(r, short) - 1})
    return r.model_dump()


@pytest.fixture(scope="module")
def epoch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed epoch of 18 accounts (two flagged), and the solvency keys (K = 4, depth 5)."""
    d = tmp_path_factory.mktemp("solvency_cli")
    accounts = _accounts()
    (d / "accounts").mkdir()
    for a in accounts:
        (d / "accounts" / f"{a.id}.json").write_text(a.model_dump_json())
    (d / "snapshot.json").write_text(SNAP.model_dump_json())
    (d / "reserves.json").write_text(json.dumps(_reserves(accounts)))
    for name in ("USDC", "quote", "insurance_fund"):
        (d / f"short-{name}.json").write_text(json.dumps(_reserves(accounts, name)))
    for args in (
        ["margin-setup", "--snapshot", d / "snapshot.json", "--out-dir", d / "keys", "--dev"],
        ["epoch", "run", "--accounts", d / "accounts", "--snapshot", d / "snapshot.json", "--ledger",
         d / "ledger.db", "--zkey", d / "keys" / "margin.zkey"],
        ["solvency", "setup", "--snapshot", d / "snapshot.json", "--out-dir", d / "skeys", "--dev", *SHAPE],
    ):  # fmt: skip
        run = _zkm(*args)
        assert run.returncode == 0, run.stderr
    return d


def _prove(d: Path, ledger: Path, reserves: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _zkm(
        "solvency", "prove", "--ledger", ledger, "--epoch", "1", "--accounts", d / "accounts", "--reserves", reserves,
        "--zkey", d / "skeys" / "solvency.zkey", "--salts", d / "ledger.db.salts", *SHAPE, *extra,
    )  # fmt: skip


def _copy_ledger(d: Path, name: str) -> Path:
    """A consistent copy of the epoch's ledger (before any round), to prove on apart."""
    target = d / name
    with Ledger.open(d / "ledger.db", create=False) as src:
        src.connection.execute(f"VACUUM INTO '{target}'")
    return target


@pytest.fixture(scope="module")
def proven(epoch: Path) -> subprocess.CompletedProcess[str]:
    """The round proven on the local pool and recorded in the epoch's ledger."""
    _copy_ledger(epoch, "before.db")
    return _prove(epoch, epoch / "ledger.db", epoch / "reserves.json", "--workers", "2")


def test_an_epoch_proves_solvent_and_every_user_finds_their_account(
    epoch: Path, proven: subprocess.CompletedProcess[str]
) -> None:
    d = epoch
    assert proven.returncode == 0, proven.stderr
    assert "18 accounts in 5 batches" in proven.stdout and "all 5 markets zero" in proven.stdout
    verify = _zkm(
        "solvency", "verify", "--ledger", d / "ledger.db", "--epoch", "1",
        "--verification-key", d / "skeys" / "solvency_verification_key.json",
    )  # fmt: skip
    assert verify.returncode == 0 and "SOLVENT: 18 accounts in 5 verified batches" in verify.stdout, verify.stdout
    assert "4,000,000,000" in verify.stdout  # the bankrupt account's deficit, covered by the fund
    wrong_key = _zkm(
        "solvency", "verify", "--ledger", d / "ledger.db", "--epoch", "1",
        "--verification-key", d / "keys" / "verification_key.json",
    )  # fmt: skip
    assert wrong_key.returncode == 1 and "INVALID: the round's verification key" in wrong_key.stdout
    assert _zkm("ledger", "audit", d / "ledger.db").returncode == 0
    with Ledger.open(d / "ledger.db", create=False) as ledger:
        rnd = ledger.solvency(1)
        assert rnd is not None
        for a in _accounts():  # every user, as `check-inclusion` does it
            salt = read_salt_file(salt_path(d / "ledger.db.salts", 1, a.id))
            assert inclusion_problem(inclusion_of(ledger.registered(1), rnd, a.id), commit(a, SNAP, salt), rnd) is None


def test_reserves_one_unit_short_record_nothing(epoch: Path, proven: subprocess.CompletedProcess[str]) -> None:
    ledger = epoch / "before.db"  # no round yet (the Dask test records its own after this one)
    for name in ("USDC", "quote", "insurance_fund"):
        run = _prove(epoch, ledger, epoch / f"short-{name}.json")
        assert run.returncode == 2 and "SolvencyRefusedError" in run.stderr and "by 1" in run.stderr, run.stderr
    (epoch / "bad-reserves.json").write_text('{"assets": {"USDC": -1}}')
    bad = _prove(epoch, ledger, epoch / "bad-reserves.json")
    assert bad.returncode == 2 and "MalformedReservesError" in bad.stderr and "negative" in bad.stderr, bad.stderr
    with Ledger.open(ledger, create=False) as db:
        assert db.solvency(1) is None


def test_check_inclusion_from_the_user_s_own_files(epoch: Path, proven: subprocess.CompletedProcess[str]) -> None:
    d = epoch
    got = _zkm("solvency", "inclusion", "--ledger", d / "ledger.db", "--epoch", "1", "--account", "alice",
               "--out", d / "alice.inclusion.json")  # fmt: skip
    assert got.returncode == 0, got.stderr
    salts = d / "ledger.db.salts" / "epoch-1"
    vk = d / "skeys" / "solvency_verification_key.json"
    args = ["solvency", "check-inclusion", "--ledger", d / "ledger.db", "--epoch", "1", "--verification-key", vk]
    ok = _zkm(*args, "--account-file", d / "accounts" / "alice.json", "--salt-file", salts / "alice.salt",
              "--inclusion", d / "alice.inclusion.json")  # fmt: skip
    assert ok.returncode == 0 and ok.stdout.startswith("OK: alice is leaf"), ok.stdout + ok.stderr
    wrong = _zkm(*args, "--account-file", d / "accounts" / "alice.json", "--salt-file", salts / "bob.salt")
    assert wrong.returncode == 1 and "INVALID: leaf" in wrong.stdout and "not your commitment" in wrong.stdout
    (d / "garbage.json").write_text('{"index": [[[')
    garbage = _zkm(*args, "--account-file", d / "accounts" / "alice.json", "--salt-file", salts / "alice.salt",
                   "--inclusion", d / "garbage.json")  # fmt: skip
    assert garbage.returncode == 2 and "MalformedInclusionError" in garbage.stderr, garbage.stderr
    unknown = _zkm("solvency", "inclusion", "--ledger", d / "ledger.db", "--epoch", "1", "--account", "mallory")
    assert unknown.returncode == 2 and "UnknownAccountError" in unknown.stderr


def test_the_round_proves_alike_on_a_local_dask_cluster(epoch: Path, proven: subprocess.CompletedProcess[str]) -> None:
    run = _prove(epoch, epoch / "before.db", epoch / "reserves.json", "--dask-local", "2")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("recorded")[1] == proven.stdout.split("recorded")[1]  # the same totals table
