"""Solvency rounds: the engine's formulas and the batch circuit agree; a solvent round
proves and verifies; each attack is refused, by the prover or by the auditor's check."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from algebra import R, merkle_tree, totals_commitment
from circuits import UnsatisfiedConstraintError, compile_circuit
from engine import (
    Account,
    ExposureTooLargeError,
    MarketSnapshot,
    NegativeCollateralError,
    Position,
    SolvencyInputError,
    account_totals,
    commit,
    counterparty_account,
    generate_accounts,
    load_example_snapshot,
    plan_solvency,
    prove_solvency,
    random_salt,
    required_reserves,
    salt_path,
    solvency_circuit_for,
    solvency_member,
    write_salt_file,
)
from engine._commitment import commit_encoding
from engine._solvency import SolvencyMember, padding_encoding
from ledger import (
    Ledger,
    Reserves,
    SolvencyBatchProof,
    SolvencyRefusedError,
    SolvencyRound,
    inclusion_of,
    inclusion_problem,
    solvency_problems,
)
from prover import ZkeyFile, dev_setup, verifying_key, write_zkey
from verifier import PublicSignals

try:
    from tests._engine import USD, perp_snapshot, provable_accounts
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _engine import USD, perp_snapshot, provable_accounts  # type: ignore[no-redef]

pytestmark = pytest.mark.unit

SNAP = load_example_snapshot()


# ---- the engine and the circuit are one specification ------------------------------------------


def _one_batch(member: SolvencyMember, snapshot: MarketSnapshot = SNAP) -> dict[str, Any]:
    plan = plan_solvency([member], snapshot, 1, 1)
    job = plan.jobs[0]
    return job.assignment(plan.root, snapshot.snapshot_hash(), snapshot.field_encoding(), padding_encoding(snapshot), 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(provable_accounts(), st.data())
def test_the_circuit_adds_exactly_the_engine_s_totals(account: Account, data: st.DataObject) -> None:
    try:
        member = solvency_member(account, SNAP, random_salt())
    except ExposureTooLargeError:
        assume(False)
        return
    circuit = solvency_circuit_for(SNAP, 1, 1)
    assignment = _one_batch(member)
    circuit.solve_limbs(assignment)  # the engine's totals satisfy the circuit
    # ... and no other: any total one unit off opens no commitment the circuit computes.
    values = member.totals.values()
    i = data.draw(st.integers(0, len(values) - 1))
    values[i] += data.draw(st.sampled_from([-1, 1]))
    assignment["totals_after"] = totals_commitment(assignment["blind_after"], values)  # type: ignore[arg-type]
    with pytest.raises(UnsatisfiedConstraintError, match="totals_after/opens"):
        circuit.solve_limbs(assignment)


def test_a_bankrupt_account_s_deficit_and_an_isolated_loss_beyond_its_margin_are_bad_debt() -> None:
    snap = perp_snapshot()
    mark = snap.mark_prices["BTC-PERP"]
    broke = Account(
        id="broke",
        collateral={"USDC": 1_000 * USD},
        positions=(Position(market="BTC-PERP", size=10**8, quote=-(mark + 5_000 * USD)),),
    )
    t = account_totals(broke, snap)
    big = 10**14  # Λ: BTC's 8 decimals + 6
    assert t.bad_debt == 4_000 * USD * big and t.unrealized == -5_000 * USD * big and t.collateral == (1_000 * USD, 0)
    iso = Account(
        id="iso",
        positions=(Position(market="BTC-PERP", size=10**8, quote=-(mark + 5_000 * USD), isolated_margin=3_000 * USD),),
    )
    t = account_totals(iso, snap)
    # Its margin and loss net to -2,000 in the quote total; the fund covers the 2,000.
    assert (t.unrealized, t.bad_debt) == (-2_000 * USD * big, 2_000 * USD * big)
    circuit = solvency_circuit_for(snap, 1, 1)
    for a in (broke, iso):
        circuit.solve_limbs(_one_batch(solvency_member(a, snap, random_salt()), snap))


def test_a_negative_amount_or_a_value_near_r_cannot_enter_a_batch() -> None:
    with pytest.raises(NegativeCollateralError):
        Account(id="neg", collateral={"USDC": -1})
    member = solvency_member(generate_accounts(SNAP, 1, seed=1)[0], SNAP, random_salt())
    layout_offset = 3  # header (id, mode, quote balance), then the first asset's amount
    for where, value, constraint in [
        (layout_offset, R - 1, "account0/asset0/amount_range"),  # "-1" as a field element
        (layout_offset, 2**64, "account0/asset0/amount_range"),
        (2, R - 5, "account0/quote_balance_range"),
    ]:
        encoding = list(member.encoding)
        encoding[where] = value
        forged = dataclasses.replace(
            member, encoding=tuple(encoding), commitment=commit_encoding(encoding, member.salt)
        )
        with pytest.raises(UnsatisfiedConstraintError, match=constraint):
            solvency_circuit_for(SNAP, 1, 1).solve_limbs(_one_batch(forged))


def test_prices_other_than_the_snapshot_s_do_not_open_its_hash() -> None:
    member = solvency_member(generate_accounts(SNAP, 1, seed=2)[0], SNAP, random_salt())
    assignment = _one_batch(member)
    encoding = list(assignment["snapshot"])  # type: ignore[arg-type]
    mark = SNAP.layout().offset("market", 0) + 4
    encoding[mark] += 1
    assignment["snapshot"] = encoding
    with pytest.raises(UnsatisfiedConstraintError, match="snapshot_hash/matches"):
        solvency_circuit_for(SNAP, 1, 1).solve_limbs(assignment)


def test_padding_slots_must_be_the_tree_s_zero_leaves() -> None:
    members = [solvency_member(a, SNAP, random_salt()) for a in generate_accounts(SNAP, 3, seed=4)]
    plan = plan_solvency(members, SNAP, 2, 2)
    last = plan.jobs[-1]
    assert (last.start, last.end) == (2, 3)
    args = (SNAP.snapshot_hash(), SNAP.field_encoding(), padding_encoding(SNAP), 2)
    circuit = solvency_circuit_for(SNAP, 2, 2)
    circuit.solve_limbs(last.assignment(plan.root, *args))
    # Claiming the padding slot as an account (end past N) needs its leaf to be 0.
    past = dataclasses.replace(last, end=4)
    with pytest.raises(UnsatisfiedConstraintError, match="tree/root"):
        circuit.solve_limbs(past.assignment(plan.root, *args))


# ---- a recorded round, and the auditor's refusals ------------------------------------------------


def _flagging_vk() -> Any:
    """A margin-shaped (4 public inputs) key: the epoch's statement, its proofs not needed here."""
    from circuits import Circuit, Public

    class Four(Circuit):
        commitment = Public()
        snapshot_hash = Public()
        requirement = Public()
        ratio = Public()

        def define(self, api: Any) -> None:
            api.assert_equal(api.mul(self.commitment, self.snapshot_hash), api.mul(self.commitment, self.snapshot_hash))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return verifying_key(dev_setup(compile_circuit(Four()).cs))


def _epoch(ledger: Ledger, snapshot: MarketSnapshot, accounts: list[Account], salts: Path) -> int:
    """A closed epoch with the accounts registered (flagged: their margin proofs are not the point)."""
    record = ledger.open_epoch(snapshot, _flagging_vk())
    for a in accounts:
        salt = random_salt()
        write_salt_file(salt_path(salts, record.epoch, a.id), salt)
        ledger.record_account(record.epoch, a.id, commit(a, snapshot, salt), flag_reason="registered for the test")
    ledger.close_epoch(record.epoch)
    return record.epoch


def _venue(snapshot: MarketSnapshot, n: int, seed: int) -> list[Account]:
    """Generated traders, a bankrupt one, and the house on the other side of everything."""
    mark = snapshot.mark_prices["BTC-PERP"]
    broke = Account(
        id="broke",
        collateral={"USDC": 1_000 * USD},
        positions=(Position(market="BTC-PERP", size=10**8, quote=-(mark + 5_000 * USD)),),
    )
    traders = [*generate_accounts(snapshot, n, seed=seed), broke]
    return [*traders, counterparty_account(snapshot, traders)]


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A ledger of closed epochs of 7 accounts on the one-perpetual snapshot (K = 2,
    depth 3): epochs 7 and 8 (another mark) with their recorded rounds."""
    d = tmp_path_factory.mktemp("solvency")
    snap = perp_snapshot()
    accounts = _venue(snap, 5, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_zkey(ZkeyFile.from_proving_key(dev_setup(solvency_circuit_for(snap, 2, 3).cs)), d / "s.zkey")
    ledger = Ledger.open(d / "ledger.db")
    v = {"ledger": ledger, "accounts": accounts, "dir": d, "snap": snap, "zkey": d / "s.zkey"}
    rounds = []
    for s in (snap, _moved(snap, 8)):
        n = _epoch(ledger, s, accounts, d / "ledger.db.salts")
        rounds.append(prove_solvency(ledger, n, accounts, d / "s.zkey", required_reserves(accounts, s), **SHAPE).round)
    v["round"], v["other"] = rounds
    yield v
    ledger.close()


SHAPE = {"batch_size": 2, "depth": 3}


def _moved(snap: MarketSnapshot, epoch: int) -> MarketSnapshot:
    """The snapshot of another epoch, its mark moved."""
    return snap.model_copy(update={"epoch": epoch, "mark_prices": {"BTC-PERP": 66_000 * USD}})


def _problem(v: dict[str, Any], rnd: SolvencyRound) -> str | None:
    return v["ledger"].solvency_problem(rnd)


def test_a_solvent_round_is_recorded_verified_and_audited(venue: dict[str, Any]) -> None:
    from ledger import audit_ledger

    rnd = venue["round"]
    assert rnd.accounts == 7 and len(rnd.batches) == 4
    assert _problem(venue, rnd) is None
    assert [n for _, n in rnd.totals.net] == [0] and rnd.totals.bad_debt_quote == 4_000 * USD
    assert audit_ledger(venue["ledger"]).ok


def test_every_user_finds_their_account_counted(venue: dict[str, Any]) -> None:
    ledger, rnd, snap = venue["ledger"], venue["round"], venue["snap"]
    from engine import read_salt_file

    for a in venue["accounts"]:
        salt = read_salt_file(salt_path(venue["dir"] / "ledger.db.salts", rnd.epoch, a.id))
        inclusion = inclusion_of(ledger.registered(rnd.epoch), rnd, a.id)
        assert inclusion_problem(inclusion, commit(a, snap, salt), rnd) is None
        # Someone else's file, or a changed balance, is not this leaf.
        richer = a.model_copy(update={"quote_balance": a.quote_balance + 1})
        assert "not your commitment" in (inclusion_problem(inclusion, commit(richer, snap, salt), rnd) or "")


def test_a_leaf_placed_past_n_is_not_counted(venue: dict[str, Any]) -> None:
    ledger, rnd = venue["ledger"], venue["round"]
    leaves = ledger.leaves(rnd.epoch)
    extra = random_salt()  # the venue puts a user at leaf N of a tree it says has N accounts
    tree = merkle_tree([*leaves, extra], rnd.depth)
    siblings, bits = tree.path(len(leaves))
    inclusion = dataclasses.replace(
        inclusion_of(ledger.registered(rnd.epoch), rnd, "broke"),
        index=len(leaves), leaf=extra, siblings=tuple(siblings), path_bits=tuple(bits),
    )  # fmt: skip
    problem = inclusion_problem(inclusion, extra, dataclasses.replace(rnd, merkle_root=tree.root))
    assert problem is not None and "past the 7 accounts" in problem
    assert "not the root of the epoch's registered" in (
        _problem(venue, dataclasses.replace(rnd, merkle_root=tree.root)) or ""
    )


def _past_n(batch: SolvencyBatchProof) -> SolvencyBatchProof:
    """The last batch claiming one more account than the ledger registered."""
    signals = list(batch.public.root)
    signals[3] += 1
    return dataclasses.replace(batch, public=PublicSignals.from_values(signals))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda r, o: dataclasses.replace(r, batches=r.batches[:-1]), "in no batch"),  # an account dropped
        (lambda r, o: dataclasses.replace(r, batches=(r.batches[0], *r.batches)), "counted twice"),
        (lambda r, o: dataclasses.replace(r, batches=(r.batches[0], *r.batches[2:])), "a gap in the index range"),
        (lambda r, o: dataclasses.replace(r, accounts=6), "registered 7"),
        (lambda r, o: dataclasses.replace(r, batches=(*r.batches[:-1], _past_n(r.batches[-1]))), "past the 7"),
        (lambda r, o: dataclasses.replace(r, batches=(o.batches[0], *r.batches[1:])), "another snapshot"),
        (lambda r, o: dataclasses.replace(r, blind=r.blind + 1), "do not open the last batch"),
        (
            lambda r, o: dataclasses.replace(r, totals=dataclasses.replace(r.totals, bad_debt=r.totals.bad_debt - 1)),
            "do not open the last batch",
        ),
    ],
)
def test_the_auditor_names_each_broken_round(venue: dict[str, Any], change: Any, named: str) -> None:
    problem = _problem(venue, change(venue["round"], venue["other"]))
    assert problem is not None and named in problem


def test_a_tampered_batch_proof_fails_verification(venue: dict[str, Any]) -> None:
    rnd = venue["round"]
    b = rnd.batches[2]
    forged = dataclasses.replace(b, proof=b.proof.model_copy(update={"c": rnd.batches[1].proof.c}))
    problem = _problem(venue, dataclasses.replace(rnd, batches=(*rnd.batches[:2], forged, *rnd.batches[3:])))
    assert problem == "batch 2's proof does not verify"


@pytest.mark.parametrize("what", ["USDC", "BTC", "quote", "insurance_fund"])
def test_reserves_one_unit_short_are_named(venue: dict[str, Any], what: str) -> None:
    rnd = venue["round"]
    problem = _problem(venue, dataclasses.replace(rnd, reserves=_short(rnd.reserves, what)))
    assert problem is not None and "short of" in problem and problem.endswith("by 1")


def _short(r: Reserves, what: str) -> Reserves:
    if what in r.assets:
        return r.model_copy(update={"assets": {**r.assets, what: r.assets[what] - 1}})
    return r.model_copy(update={what: getattr(r, what) - 1})


def test_the_prover_records_no_round_that_fails_the_check(venue: dict[str, Any]) -> None:
    ledger, accounts, snap = venue["ledger"], venue["accounts"], _moved(venue["snap"], 9)
    n = _epoch(ledger, snap, accounts, venue["dir"] / "ledger.db.salts")
    short = _short(required_reserves(accounts, snap), "insurance_fund")
    with pytest.raises(SolvencyRefusedError, match=r"insurance fund .* by 1$"):
        prove_solvency(ledger, n, accounts, venue["zkey"], short, **SHAPE)
    # Without the house, the traders' longs are not matched by shorts.
    traders = accounts[:-1]
    n = _epoch(ledger, _moved(venue["snap"], 10), traders, venue["dir"] / "ledger.db.salts")
    rich = Reserves(assets={"USDC": 10**15, "BTC": 10**12}, quote=10**15, insurance_fund=10**15)
    with pytest.raises(SolvencyRefusedError, match=r"BTC-PERP's net position is -?[1-9]"):
        prove_solvency(ledger, n, traders, venue["zkey"], rich, **SHAPE)
    assert ledger.solvency(9) is None and ledger.solvency(10) is None


def test_the_prover_refuses_accounts_that_do_not_open_their_commitments(venue: dict[str, Any]) -> None:
    ledger, accounts = venue["ledger"], venue["accounts"]
    n = _epoch(ledger, _moved(venue["snap"], 11), accounts, venue["dir"] / "ledger.db.salts")
    with pytest.raises(SolvencyInputError, match="has no account file"):  # an account dropped from the sum
        prove_solvency(ledger, n, accounts[1:], venue["zkey"], Reserves(), **SHAPE)
    changed = [accounts[0].model_copy(update={"quote_balance": accounts[0].quote_balance - 1}), *accounts[1:]]
    with pytest.raises(SolvencyInputError, match="do not open the commitment registered"):
        prove_solvency(ledger, n, changed, venue["zkey"], Reserves(), **SHAPE)
    assert ledger.solvency(n) is None


def _padded_root(leaves: list[int], depth: int) -> int:
    """The reference: the whole tree, padding included, hashed level by level."""
    from algebra import poseidon

    level = [*leaves, *[0] * ((1 << depth) - len(leaves))]
    while len(level) > 1:
        level = [poseidon([level[j], level[j + 1]]) for j in range(0, len(level), 2)]
    return level[0]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4).flatmap(lambda d: st.tuples(st.just(d), st.lists(st.integers(0, R - 1), max_size=1 << d))))
def test_the_sparse_tree_is_the_padded_tree(case: tuple[int, list[int]]) -> None:
    depth, leaves = case
    tree = merkle_tree(leaves, depth)
    assert tree.root == _padded_root(leaves, depth)
    for i in range(len(leaves)):
        siblings, bits = tree.path(i)
        from algebra import merkle_root_native

        assert merkle_root_native(leaves[i], siblings, bits) == tree.root


def test_a_snapshot_json_that_is_not_what_the_proofs_hashed_is_named(venue: dict[str, Any]) -> None:
    """Λ and the names come from the JSON: the engine's re-encoding ties them to the hash."""
    from engine import snapshot_encoding_problem
    from ledger import Statement

    ledger, rnd, snap = venue["ledger"], venue["round"], venue["snap"]
    encoding = snap.field_encoding()
    leaves = ledger.leaves(rnd.epoch)
    honest = Statement(snap.snapshot_hash(), snap.model_dump_json(), encoding)
    assert solvency_problems(rnd, leaves, honest, True, snapshot_check=snapshot_encoding_problem) is None
    lying = snap.model_copy(update={"assets": (snap.assets[0].model_copy(update={"decimals": 9}), snap.assets[1])})
    forged = Statement(snap.snapshot_hash(), lying.model_dump_json(), encoding)
    problem = solvency_problems(rnd, leaves, forged, True, snapshot_check=snapshot_encoding_problem)
    assert problem == "the snapshot JSON does not encode to its published encoding"
    other = Statement(snap.snapshot_hash(), snap.model_dump_json(), [*encoding[:-1], encoding[-1] + 1])
    assert "does not hash to its snapshot hash" in (solvency_problems(rnd, leaves, other, True) or "")
    huge = dataclasses.replace(rnd, totals=dataclasses.replace(rnd.totals, settled=R))
    assert "below r/2" in (_problem(venue, huge) or "")


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"not json", "reserves"),
        (b'{"assets": {"USDC": -1}}', "negative"),
        (b'{"assets": {"USDC": 1.5}}', "assets.USDC"),
        (b'{"quote": -5}', "quote"),
        (b'{"quote": 1, "cash": 2}', "cash"),
        (b"[" * 100_000, "reserves"),
        (b" " * (2 << 20), "longer than"),
    ],
)
def test_malformed_reserves_files_are_named(tmp_path: Path, content: bytes, named: str) -> None:
    from ledger import MalformedReservesError

    path = tmp_path / "reserves.json"
    path.write_bytes(content)
    with pytest.raises(MalformedReservesError, match=named):
        Reserves.load(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"{}", b'{"epoch": 1}', b"[" * 100_000, b'{"index": "x"}', b" " * (1 << 17)],
)
def test_malformed_inclusion_files_are_named(tmp_path: Path, content: bytes) -> None:
    from ledger import Inclusion, MalformedInclusionError

    path = tmp_path / "inclusion.json"
    path.write_bytes(content)
    with pytest.raises(MalformedInclusionError):
        Inclusion.load(path)
