"""A small venue that settles: two epochs of a BTC perpetual and a BTC future, with a
funding payment, the future's expiry and a liquidation between them; its keys and its
first epoch as session fixtures (`tests/conftest.py` imports them: one dev setup and one
first epoch for every module that uses them)."""

from __future__ import annotations

import shutil
import sqlite3
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import pytest

from engine import (
    Account,
    FutureMarket,
    MarketSnapshot,
    Position,
    SettlementConfig,
    Settling,
    counterparty_account,
    margin_circuit_for,
    read_state,
    run_epoch,
    transition_circuit_for,
)
from ledger import Ledger
from prover import InsecureSetupWarning, ZkeyFile, dev_setup, write_zkey

try:
    from tests._engine import DYDX, NOW, USD, perp_snapshot
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _engine import DYDX, NOW, USD, perp_snapshot  # type: ignore[no-redef]

BTC = 10**8
EXPIRY = NOW + 86_400
FUTURE = FutureMarket(id="BTC-FUT", base="BTC", size_decimals=8, expiry=EXPIRY, risk=DYDX)


def first_snapshot() -> MarketSnapshot:
    """Epoch 7: BTC at 65,000, funding index 1,000, the future live."""
    base = perp_snapshot(funding=1_000)
    data = base.model_dump()
    data["markets"] = [*data["markets"], FUTURE.model_dump()]
    data["mark_prices"] = {**base.mark_prices, "BTC-FUT": 65_000 * USD}
    data["open_interest"] = {**base.open_interest, "BTC-FUT": 0}
    return MarketSnapshot.model_validate(data)


def second_snapshot(first: MarketSnapshot, drop_percent: int = 12) -> MarketSnapshot:
    """Epoch 8: BTC down `drop_percent`, funding 40 USDC per BTC paid by longs, the future
    expired and settled at the new price."""
    price = 65_000 * USD * (100 - drop_percent) // 100
    data = first.model_dump()
    data.update(
        epoch=first.epoch + 1,
        timestamp=EXPIRY,
        index_prices={**first.index_prices, "BTC": price},
        mark_prices={"BTC-PERP": price, "BTC-FUT": price},
        funding_indices={"BTC-PERP": first.funding_indices["BTC-PERP"] + 40 * USD},
        settlement_prices={"BTC-FUT": price},
    )
    return MarketSnapshot.model_validate(data)


def _perp(size: int, price: int = 65_000 * USD, index: int = 1_000) -> Position:
    return Position(market="BTC-PERP", size=size, quote=-size * price // BTC, funding_index=index)


def _future(size: int, price: int = 65_000 * USD) -> Position:
    return Position(market="BTC-FUT", size=size, quote=-size * price // BTC)


def venue(first: MarketSnapshot) -> list[Account]:
    """Traders (one over-leveraged long that a 12% drop liquidates) and the house."""
    traders = [
        Account(id="alice", collateral={"USDC": 20_000 * USD}, positions=(_perp(BTC),)),
        Account(id="bob", collateral={"USDC": 10_000 * USD}, positions=(_perp(-BTC), _future(BTC))),
        Account(id="carol", collateral={"USDC": 30_000 * USD}, positions=(_perp(5 * BTC),)),
        Account(id="dave", collateral={"USDC": 40_000 * USD}, positions=(_perp(-2 * BTC), _future(-BTC // 2))),
        Account(id="erin", collateral={"USDC": 8_000 * USD}, positions=(_future(BTC // 4),)),
    ]
    return [*traders, counterparty_account(first, traders)]


ZKMARGIN = Path(sys.executable).parent / "zkmargin"
S7 = first_snapshot()
S8 = second_snapshot(S7)
FUND = 50_000 * 10**6
CONFIG = SettlementConfig(counterparty="house")


def measure(accounts: list[Account] | tuple[Account, ...], snap: MarketSnapshot, fund: int) -> Fraction:
    """fund + cash + sum size * mark / D, exactly (what settlement conserves)."""
    total = Fraction(fund)
    for a in accounts:
        total += a.quote_balance + sum(p.quote + (p.isolated_margin or 0) for p in a.positions)
        for p in a.positions:
            total += Fraction(p.size * snap.mark_prices[p.market], 10 ** snap.market(p.market).size_decimals)
    return total


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("keys")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        write_zkey(ZkeyFile.from_proving_key(dev_setup(margin_circuit_for(S7).cs)), d / "margin.zkey")
        write_zkey(ZkeyFile.from_proving_key(dev_setup(transition_circuit_for(S7).cs)), d / "transition.zkey")
    return d / "margin.zkey", d / "transition.zkey"


def settling_of(keys: tuple[Path, Path], d: Path, fund: int | None = None) -> Settling:
    return Settling(CONFIG, keys[1], d / "state", fund)


@pytest.fixture(scope="session")
def first(keys: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger, its salts and state after epoch 7 settled and proven (every account new)."""
    d = tmp_path_factory.mktemp("venue")
    with Ledger.open(d / "ledger.db") as ledger:
        summary = run_epoch(venue(S7), S7, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d, FUND))
        assert (summary.proven, summary.flagged) == (6, 0)
        assert {t.kind for t in ledger.transitions(7)} == {"new"}
    return d


def copy_venue(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(src / "ledger.db") as a, sqlite3.connect(dst / "ledger.db") as b:
        a.backup(b)
    for sub in ("salts", "state"):
        shutil.copytree(src / sub, dst / sub)
    return dst


def traded_inputs(d: Path) -> list[Account]:
    """Epoch 7's settled accounts, alice's collateral topped up by 1 between the epochs."""
    accounts = read_state(d / "state", 7)
    assert accounts is not None
    return [
        a.model_copy(update={"collateral": {"USDC": a.collateral["USDC"] + 1}}) if a.id == "alice" else a
        for a in accounts
    ]
