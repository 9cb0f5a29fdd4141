"""Transition proofs: the circuit accepts exactly the engine's funding and expiry of an
account between two commitments; one micro-quote more is unsatisfiable; a proof
verifies and a tampered one does not."""

from __future__ import annotations

import dataclasses
import warnings

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from algebra import R
from circuits import SIGNED_OFFSET, UnsatisfiedConstraintError
from engine import (
    Account,
    MalformedInputError,
    MarketSnapshot,
    Position,
    TransitionContext,
    TransitionJob,
    generate_accounts,
    load_example_snapshot,
    random_salt,
    settle_transition,
    transition_circuit_for,
    transition_job,
)
from engine._commitment import account_layout_of, commit_encoding, encode_account
from engine._errors import EngineError
from prover import Prover, dev_setup
from verifier import verify

try:
    from tests._engine import moved, provable_accounts
    from tests._settling import first_snapshot, second_snapshot
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _engine import moved, provable_accounts  # type: ignore[no-redef]
    from _settling import first_snapshot, second_snapshot  # type: ignore[no-redef]

pytestmark = pytest.mark.unit

SNAP = load_example_snapshot()
#: The next epoch: prices moved, funding accrued, every dated market expired.
NEXT = moved(SNAP, 7, 2_345_678, True)
LIVE = moved(SNAP, -3, -987_654, False)


def _with_new(job: TransitionJob, account: Account, snapshot: MarketSnapshot) -> TransitionJob:
    """The job with another new account (same salt): what a venue overcharging would prove."""
    encoding = tuple(encode_account(account, snapshot))
    return dataclasses.replace(job, new_encoding=encoding, new_commitment=commit_encoding(encoding, job.new_salt))


def _solve(job: TransitionJob, snapshot: MarketSnapshot) -> None:
    transition_circuit_for(snapshot).solve_limbs(job.assignment(snapshot.snapshot_hash(), snapshot.field_encoding()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(provable_accounts(), st.sampled_from([NEXT, LIVE]), st.data())
def test_the_circuit_accepts_exactly_the_engine_s_settlement(
    account: Account, snapshot: MarketSnapshot, data: st.DataObject
) -> None:
    try:
        job = transition_job(account, random_salt(), snapshot, random_salt())
    except EngineError:  # beyond the engine's bounds once settled: nothing to prove
        assume(False)
        return
    _solve(job, snapshot)
    # ... and no other: any field of the new encoding one unit off opens no new commitment
    # the circuit accepts (the commitment is recomputed for the changed encoding).
    i = data.draw(st.integers(0, len(job.new_encoding) - 1))
    encoding = list(job.new_encoding)
    encoding[i] = (encoding[i] + data.draw(st.sampled_from([-1, 1]))) % R
    changed = dataclasses.replace(
        job, new_encoding=tuple(encoding), new_commitment=commit_encoding(encoding, job.new_salt)
    )
    with pytest.raises(UnsatisfiedConstraintError):
        _solve(changed, snapshot)


def _perp_trader() -> Account:
    return Account(
        id="trader",
        collateral={"USDC": 50_000 * 10**6},
        positions=(
            Position(market="BTC-PERP", size=3 * 10**8, quote=-150_000 * 10**6, funding_index=1_000),
            *[Position(market=m.id, size=-(10**8), quote=90_000 * 10**6) for m in SNAP.markets if m.kind == "future"][
                :1
            ],
        ),
    )


def test_one_micro_quote_above_the_published_rate_cannot_be_proven() -> None:
    trader = _perp_trader()
    job = transition_job(trader, random_salt(), NEXT, random_salt())
    _solve(job, NEXT)
    settled = settle_transition(trader, NEXT)
    perp = next(p for p in settled.positions if p.market == "BTC-PERP")
    positions = tuple(p.model_copy(update={"quote": p.quote - 1}) if p is perp else p for p in settled.positions)
    charged = settled.model_copy(update={"positions": positions})
    with pytest.raises(UnsatisfiedConstraintError, match="quote-payment"):
        _solve(_with_new(job, charged, NEXT), NEXT)
    short_paid = settled.model_copy(update={"quote_balance": settled.quote_balance - 1})
    with pytest.raises(UnsatisfiedConstraintError, match="account/quote_balance"):
        _solve(_with_new(job, short_paid, NEXT), NEXT)


def test_another_epoch_s_rates_do_not_open_the_snapshot_hash() -> None:
    trader = _perp_trader()
    job = transition_job(trader, random_salt(), NEXT, random_salt())
    other = moved(SNAP, 7, 2_345_679, True)  # the index one micro-quote higher
    with pytest.raises(UnsatisfiedConstraintError):
        transition_circuit_for(NEXT).solve_limbs(job.assignment(NEXT.snapshot_hash(), other.field_encoding()))


def test_a_new_account_other_than_the_settled_one_is_refused_before_proving() -> None:
    trader = _perp_trader()
    with pytest.raises(MalformedInputError, match="not the old one after funding and expiry"):
        transition_job(trader, random_salt(), NEXT, random_salt(), new=trader)


@pytest.fixture(scope="module")
def transition_key() -> Prover:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Prover(dev_setup(transition_circuit_for(NEXT).cs))


def test_a_transition_proof_verifies_and_a_tampered_one_fails(transition_key: Prover) -> None:
    traders = generate_accounts(SNAP, 2, seed=11)
    vk = transition_key.verifying_key
    for trader in traders:
        job = transition_job(trader, random_salt(), NEXT, random_salt())
        proof, public = TransitionContext.build(NEXT, transition_key).prove(job)
        assert list(public.root) == job.public(NEXT.snapshot_hash())
        assert verify(vk, public, proof)
        swapped = proof.model_copy(update={"a": proof.c, "c": proof.a})
        assert not verify(vk, public, swapped)
        other = [job.old_commitment, job.new_commitment + 1, NEXT.snapshot_hash()]
        assert not verify(vk, other, proof)


def test_a_new_balance_the_engine_cannot_hold_is_unsatisfiable() -> None:
    """A short future settling 572 micro-quote below a balance of -(2**96) + 572: the engine
    refuses the result (-2**96 is beyond its bound), and so does the circuit."""
    s7 = first_snapshot()
    s8 = second_snapshot(s7)
    assert s8.settlement_prices["BTC-FUT"] == 57_200 * 10**6
    old = Account(id="edge", quote_balance=-(2**96) + 572, positions=(Position(market="BTC-FUT", size=-1),))
    with pytest.raises(EngineError):
        settle_transition(old, s8)
    job = transition_job(old.model_copy(update={"quote_balance": 0}), random_salt(), s8, random_salt())
    old_encoding = tuple(encode_account(old, s8))
    new_encoding = list(job.new_encoding)
    balance_at = account_layout_of(s8).offset("account") + 2  # id, mode, quote_balance
    new_encoding[balance_at] = (SIGNED_OFFSET - 2**96) % R
    edge = dataclasses.replace(
        job,
        old_encoding=old_encoding,
        old_commitment=commit_encoding(old_encoding, job.old_salt),
        new_encoding=tuple(new_encoding),
        new_commitment=commit_encoding(new_encoding, job.new_salt),
    )
    with pytest.raises(UnsatisfiedConstraintError, match="new_quote_balance_above"):
        _solve(edge, s8)
