"""Settled epochs: `run_epoch` settles before proving, writes the next account state once,
records the public facts and the transitions, proves those of untouched accounts; the
ledger and the audit refuse facts or transitions that are not what they claim; a crash
at any point followed by a rerun applies each settlement once."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from engine import (
    Account,
    SettlementConfig,
    SettlementInputError,
    StateConflictError,
    load_example_snapshot,
    read_state,
    roll_snapshot,
    run_epoch,
    settle_epoch,
    snapshot_encoding_problem,
    write_state,
)
from engine._errors import EngineError
from ledger import (
    AccountFact,
    Ledger,
    SettlementRefusedError,
    Transition,
    audit_ledger,
    settlement_problems,
    transition_problems,
)
from prover import Prover

try:
    from tests._settling import (
        CONFIG,
        FUND,
        S7,
        S8,
        copy_venue,
        measure,
        settling_of,
        traded_inputs,
        venue,
    )
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _settling import (  # type: ignore[no-redef]
        CONFIG,
        FUND,
        S7,
        S8,
        copy_venue,
        measure,
        settling_of,
        traded_inputs,
        venue,
    )


@pytest.fixture(scope="module")
def second(first: Path, keys: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = copy_venue(first, tmp_path_factory.mktemp("second"))
    inputs = traded_inputs(d)
    with Ledger.open(d / "ledger.db") as ledger:
        summary = run_epoch(inputs, S8, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d))
    return {"dir": d, "inputs": inputs, "summary": summary}


def test_the_second_epoch_settles_funding_expiry_and_a_liquidation(second: dict[str, Any]) -> None:
    d = second["dir"]
    with Ledger.open(d / "ledger.db") as ledger:
        settled = ledger.settlement(8)
        assert settled is not None
        facts = settled[0]
        kinds = {t.account: t.kind for t in ledger.transitions(8)}
        report = audit_ledger(ledger)
    assert report.ok, report.problems
    assert [x.account for x in facts.liquidations] == ["carol"]
    assert facts.fund_after == facts.fund_before + facts.funding_delta + facts.expiry_delta + facts.liquidation_delta
    assert facts.fund_after >= 0 and facts.fund_before == FUND
    by_market = {m.market: m for m in facts.markets}
    assert by_market["BTC-PERP"].funding_change == 40 * 10**6
    assert by_market["BTC-FUT"].settlement_price == S8.settlement_prices["BTC-FUT"]
    assert kinds == {
        "alice": "traded", "bob": "proven", "carol": "liquidated", "dave": "proven", "erin": "proven",
        "house": "counterparty",
    }  # fmt: skip
    after = read_state(d / "state", 8)
    assert after is not None
    assert measure(second["inputs"], S8, facts.fund_before) == measure(after, S8, facts.fund_after)
    before = read_state(d / "state", 7)  # version 7 is still there, not overwritten
    assert before is not None and sorted(before, key=lambda a: a.id) != sorted(after, key=lambda a: a.id)


def test_a_rerun_settles_nothing_twice(second: dict[str, Any], keys: tuple[Path, Path]) -> None:
    d = second["dir"]
    with Ledger.open(d / "ledger.db") as ledger:
        head = ledger.head()
        summary = run_epoch(second["inputs"], S8, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d))
        assert ledger.head() == head and summary.proved_now == 0


def test_a_crash_after_the_state_and_salts_were_written_reruns_cleanly(
    first: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    """The write-ahead steps before the ledger's transaction, done by a run that died:
    the rerun reuses them and records the same settlement."""
    d = copy_venue(first, tmp_path / "v")
    inputs = traded_inputs(d)
    with Ledger.open(d / "ledger.db") as ledger:
        phase = settle_epoch(inputs, S8, FUND, CONFIG.liquidation, counterparty="house")
        write_state(d / "state", 8, phase.accounts)
        run_epoch(inputs, S8, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d))
        assert audit_ledger(ledger).ok
        state = read_state(d / "state", 8)
        assert state is not None
        assert sorted(state, key=lambda a: a.id) == sorted(phase.accounts, key=lambda a: a.id)


def test_another_state_for_an_unrecorded_settlement_is_refused_and_nothing_written(
    first: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    d = copy_venue(first, tmp_path / "v")
    inputs = traded_inputs(d)
    write_state(d / "state", 8, inputs)  # not what settling these accounts gives
    with Ledger.open(d / "ledger.db") as ledger:
        head = ledger.head()
        with pytest.raises(StateConflictError, match="holds other accounts"):
            run_epoch(inputs, S8, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d))
        assert ledger.settlement(8) is None and ledger.commitment(8, "alice") is None
        assert ledger.head()[0] == head[0] + 1  # the epoch's statement only


def test_the_first_settlement_needs_a_fund_and_a_later_one_the_ledger_s(
    first: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    d = tmp_path / "fresh"
    d.mkdir()
    with Ledger.open(d / "ledger.db") as ledger:
        with pytest.raises(SettlementInputError, match="first settlement needs"):
            run_epoch(venue(S7), S7, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d))
        assert ledger.head()[0] == 0  # refused before anything was written
    d = copy_venue(first, tmp_path / "v")
    with Ledger.open(d / "ledger.db") as ledger, pytest.raises(SettlementInputError, match="insurance fund is"):
        run_epoch(traded_inputs(d), S8, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d, 1))


def test_lost_or_changed_state_of_a_recorded_settlement_is_named(
    first: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    d = copy_venue(first, tmp_path / "v")
    inputs = traded_inputs(d)
    with Ledger.open(d / "ledger.db") as ledger:
        run_epoch(inputs, S8, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d), close=False)
        bob = d / "state" / "epoch-8" / "bob.json"
        original = bob.read_text()
        bob.write_text(original.replace('"USDC": 10000000000', '"USDC": 10000000001'))
        with pytest.raises(SettlementInputError, match="bob: the state and salts of epoch 8 do not open"):
            run_epoch(inputs, S8, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d))
        shutil.rmtree(d / "state" / "epoch-8")
        with pytest.raises(SettlementInputError, match="has no epoch-8"):
            run_epoch(inputs, S8, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d))
        assert not ledger.epoch(8).closed


# ---- the ledger's and the audit's checks ------------------------------------------------------


def _checked(ledger: Ledger, facts: Any) -> str | None:
    previous = ledger.epoch(7).snapshot_json
    registered, before = dict(ledger.registered(8)), dict(ledger.registered(7))
    return settlement_problems(facts, ledger.epoch(8).snapshot_json, previous, 7, FUND, registered, before)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda f: {"fund_after": f.fund_after + 1}, "the fund moved from"),
        (lambda f: {"fund_before": f.fund_before - 1, "fund_after": f.fund_after - 1}, "the fund starts at"),
        (lambda f: {"funding_delta": f.funding_delta + 1}, "the fund moved from"),
        (lambda f: {"previous_epoch": 6}, "settles from epoch 6"),
        (lambda f: {"markets": f.markets[:1]}, "one per perpetual and expired market"),
        (
            lambda f: {"markets": (f.markets[0].model_copy(update={"funding_index": 1}), *f.markets[1:])},
            "are not the snapshot's",
        ),
        (
            lambda f: {"liquidations": (f.liquidations[0].model_copy(update={"commitment": 5}),)},
            "not the one registered",
        ),
        (
            lambda f: {"liquidations": (*f.liquidations, f.liquidations[0].model_copy(update={"fund_used": 0}))},
            "liquidated twice",
        ),
        (lambda f: {"departed": (AccountFact(account="bob", commitment=1),)}, "the departed accounts are not"),
    ],
)
def test_settlement_facts_that_are_not_the_epoch_s_are_named(second: dict[str, Any], change: Any, named: str) -> None:
    with Ledger.open(second["dir"] / "ledger.db") as ledger:
        settled = ledger.settlement(8)
        assert settled is not None
        facts = settled[0]
        assert _checked(ledger, facts) is None
        problem = _checked(ledger, facts.model_copy(update=change(facts)))
    assert problem is not None and named in problem, problem


def _transition_check(
    ledger: Ledger, transitions: list[Transition], closed: bool = True, relisted: bool = False
) -> list[tuple[str, str]]:
    settled = ledger.settlement(8)
    assert settled is not None
    return transition_problems(
        transitions, settled[0], ledger.epoch(8).snapshot_hash, dict(ledger.registered(8)),
        dict(ledger.registered(7)), settled[1], relisted=relisted, closed=closed,
    )  # fmt: skip


def test_transitions_that_are_not_what_they_claim_are_named(second: dict[str, Any]) -> None:
    with Ledger.open(second["dir"] / "ledger.db") as ledger:
        recorded = ledger.transitions(8)
        assert _transition_check(ledger, recorded) == []
        bob = next(t for t in recorded if t.account == "bob")
        others = [t for t in recorded if t.account != "bob"]
        assert bob.proof is not None and bob.public is not None
        swapped = bob.proof.model_copy(update={"a": bob.proof.c, "c": bob.proof.a})
        cases = {
            "pairing check failed": Transition(**{**bob.__dict__, "proof": swapped}),
            "old commitment is not its commitment": Transition(**{**bob.__dict__, "old_commitment": 12345}),
            "new commitment is not the registered one": Transition(**{**bob.__dict__, "new_commitment": 7}),
            "liquidations do not name it": Transition(**{**bob.__dict__, "kind": "liquidated", "proof": None}),
            "marked new, but it has a commitment": Transition(**{**bob.__dict__, "kind": "new", "proof": None}),
            "not the settlement's counterparty": Transition(**{**bob.__dict__, "kind": "counterparty", "proof": None}),
            "the two epochs list the same": Transition(**{**bob.__dict__, "kind": "relisted", "proof": None}),
        }
        alice = next(t for t in recorded if t.account == "alice")  # traded: its old commitment is checked too
        cases["old commitment is not its commitment"] = Transition(**{**alice.__dict__, "old_commitment": 5})
        for named, changed in cases.items():
            problems = _transition_check(ledger, [*others, changed])
            assert any(named in p for _, p in problems), (named, problems)
        assert ("bob", "no transition recorded (the epoch is closed)") in _transition_check(ledger, others)
        relisted = _transition_check(ledger, recorded, relisted=True)
        assert any("the listing changed" in p for a, p in relisted if a == "bob"), relisted


def test_the_ledger_records_no_settlement_it_finds_wrong(
    first: Path, second: dict[str, Any], keys: tuple[Path, Path], tmp_path: Path
) -> None:
    """Epoch 8's recorded settlement, replayed into a copy of the ledger before it: with
    the fund one unit off it is refused and nothing is written; as recorded it is taken."""
    with Ledger.open(second["dir"] / "ledger.db") as done:
        settled = done.settlement(8)
        assert settled is not None
        facts, key = settled
        commitments = done.registered(8)
        done_transitions = done.transitions(8)
        unproven = [t for t in done_transitions if t.kind != "proven"]
    d = copy_venue(first, tmp_path / "v")
    with Ledger.open(d / "ledger.db") as ledger:
        ledger.open_epoch(S8, Prover.from_zkey(keys[0]).verifying_key)
        head = ledger.head()
        with pytest.raises(SettlementRefusedError, match="the fund moved from"):
            ledger.record_settlement(
                facts.model_copy(update={"fund_after": facts.fund_after + 1}), key, commitments, unproven
            )
        assert ledger.head() == head and ledger.commitment(8, "bob") is None
        proven = [t for t in done_transitions if t.kind == "proven"]
        with pytest.raises(SettlementRefusedError, match="recorded with its proof"):
            ledger.record_settlement(facts, key, commitments, [*unproven, *proven])
        assert ledger.record_settlement(facts, key, commitments, unproven)
        with pytest.raises(SettlementRefusedError, match="proven transitions only"):
            ledger.record_transitions(8, unproven)
        assert ledger.record_transitions(8, proven) == len(proven)
        assert not ledger.record_settlement(facts, key, commitments, unproven)  # the same again: a no-op


def test_a_departed_account_and_a_liquidation_without_positions_are_published(
    first: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    """erin leaves between the epochs (published with her last commitment); zed arrives
    bankrupt with no position (liquidated with nothing to close: the fund pays)."""
    d = copy_venue(first, tmp_path / "v")
    inputs = [a for a in traded_inputs(d) if a.id != "erin"]
    inputs.append(Account(id="zed", quote_balance=-5 * 10**6))
    with Ledger.open(d / "ledger.db") as ledger:
        run_epoch(inputs, S8, keys[0], ledger, salts_dir=d / "salts", settling=settling_of(keys, d))
        settled = ledger.settlement(8)
        assert settled is not None
        facts = settled[0]
        assert [(x.account, x.commitment) for x in facts.departed] == [("erin", ledger.commitment(7, "erin"))]
        zed = next(x for x in facts.liquidations if x.account == "zed")
        assert (zed.closes, zed.fund_used) == (0, 5 * 10**6)
        assert {t.account: t.kind for t in ledger.transitions(8)}["zed"] == "liquidated"
        report = audit_ledger(ledger)
        assert report.ok, report.problems


def test_settlements_are_recorded_in_epoch_order(second: dict[str, Any], tmp_path: Path) -> None:
    d = copy_venue(second["dir"], tmp_path / "v")
    with Ledger.open(d / "ledger.db") as ledger:
        settled = ledger.settlement(7)
        assert settled is not None
        early = S7.model_copy(update={"epoch": 6})
        ledger.open_epoch(early, ledger.epoch(7).verifying_key)
        facts = settled[0].model_copy(update={"epoch": 6})
        with pytest.raises(SettlementRefusedError, match="settlements are recorded in epoch order"):
            ledger.record_settlement(facts, settled[1], [], [])


# ---- the inputs: the config file and the next snapshot ----------------------------------------


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"", "is not a valid SettlementConfig"),
        (b"{}", "counterparty"),
        (b'{"counterparty": "house", "fees": 1}', "fees"),
        (b'{"counterparty": "house", "liquidation": {"max_liquidation_fee_ppm": -1}}', "max_liquidation_fee_ppm"),
        (b'{"counterparty": "house", "liquidation": {"max_liquidation_fee_ppm": 2000000}}', "max_liquidation_fee_ppm"),
        (b'{"counterparty": "not a name!"}', "counterparty"),
        (b"\xff\xfe garbage", "is not a valid SettlementConfig"),
        (b'{"counterparty": "house", "liquidation": ' + b"[" * 100_000, "is not a valid SettlementConfig"),
    ],
)
def test_malformed_settlement_configs_are_named(tmp_path: Path, content: bytes, named: str) -> None:
    path = tmp_path / "settlement.json"
    path.write_bytes(content)
    with pytest.raises(EngineError, match=re.escape(named)):
        SettlementConfig.load(path)


def test_roll_snapshot_moves_prices_accrues_funding_and_expires_once() -> None:
    snap = load_example_snapshot()
    rolled = roll_snapshot(snap, move_ppm=-60_000, funding_rates_ppm={"BTC-PERP": 300}, expire=True)
    assert rolled.epoch == snap.epoch + 1
    assert rolled.mark_prices["BTC-PERP"] == snap.mark_prices["BTC-PERP"] * 94 // 100
    expected_index = snap.funding_indices["BTC-PERP"] + 300 * rolled.mark_prices["BTC-PERP"] // 10**6
    assert rolled.funding_indices["BTC-PERP"] == expected_index
    assert rolled.funding_indices["ETH-PERP"] == snap.funding_indices["ETH-PERP"]
    dated = {m.id for m in snap.markets if m.kind != "perpetual"}
    assert set(rolled.settlement_prices) == dated and all(rolled.is_expired(rolled.market(m)) for m in dated)
    again = roll_snapshot(rolled, move_ppm=50_000)  # expired markets keep their settlement prices and marks
    assert again.settlement_prices == rolled.settlement_prices
    assert all(again.mark_prices[m] == rolled.mark_prices[m] for m in dated)
    with pytest.raises(EngineError):
        roll_snapshot(snap, funding_rates_ppm={"BTC-27MAR26": 1})  # not a perpetual


def test_a_snapshot_json_the_engine_finds_inconsistent_is_a_named_problem() -> None:
    """The audit's --snapshots check reports, never raises (a settlement price off the mark)."""
    data = json.loads(S8.model_dump_json())
    data["settlement_prices"]["BTC-FUT"] += 1
    problem = snapshot_encoding_problem(json.dumps(data), S8.field_encoding())
    assert problem is not None and "not a valid snapshot" in problem
    assert snapshot_encoding_problem(S8.model_dump_json(), S8.field_encoding()) is None
