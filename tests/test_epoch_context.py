"""The epoch context and claims: one margin run and one commitment per account, one
proving path, and salts written durably and privately."""

from __future__ import annotations

import stat
import warnings
from functools import cache
from pathlib import Path

import pytest

from circuits import UnsatisfiedConstraintError
from engine import (
    Claim,
    EpochContext,
    Position,
    UnhealthyAccountError,
    commit,
    compute_margin,
    margin_circuit_for,
    meets,
    prove_account,
    public_signals_for,
    read_salt_file,
    write_salt_file,
)
from prover import InsecureSetupWarning, Prover, dev_setup
from tests._engine import USD, account, perp_snapshot
from verifier import verify

SNAP = perp_snapshot()
HEALTHY = account(Position(market="BTC-PERP", size=10**6, quote=-650 * USD), usdc=1_000 * USD)
BROKE = account(Position(market="BTC-PERP", size=10**8, quote=-65_000 * USD), usdc=1 * USD)
SALT = 2**130 + 17


@cache
def _prover() -> Prover:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        return Prover(dev_setup(margin_circuit_for(SNAP).cs))


def test_a_claim_is_the_engine_s_commitment_and_verdict() -> None:
    ctx = EpochContext.build(SNAP, None)
    for acct in (HEALTHY, BROKE):
        claim = ctx.claim(acct, SALT)
        assert claim.commitment == commit(acct, SNAP, SALT)
        assert claim.report == compute_margin(acct, SNAP)
        assert claim.healthy is meets(claim.report, "maintenance") is (acct is HEALTHY)
    assert ctx.snapshot_hash == SNAP.snapshot_hash() and list(ctx.snapshot_encoding) == SNAP.field_encoding()


def test_the_context_proves_a_healthy_claim_and_refuses_an_unhealthy_one() -> None:
    ctx = EpochContext.build(SNAP, _prover())
    claim = ctx.claim(HEALTHY, SALT)
    proof, public = ctx.prove(claim)
    assert public == ctx.public_signals(claim.commitment) == public_signals_for(claim.commitment, SNAP)
    assert verify(_prover().verifying_key, public, proof)
    with pytest.raises(UnhealthyAccountError, match="no proof is made"):
        ctx.prove(ctx.claim(BROKE, SALT))
    broke = ctx.claim(BROKE, SALT)
    lie = Claim(broke.account, broke.salt, broke.encoding, broke.commitment, claim.report, True)
    with pytest.raises(UnsatisfiedConstraintError) as info:  # the circuit is the judge
        ctx.prove(lie)
    assert info.value.name.startswith("health/"), info.value.name
    with pytest.raises(RuntimeError, match="no prover"):
        EpochContext.build(SNAP, None).prove(claim)
    proof2, public2 = prove_account(HEALTHY, SNAP, _prover(), salt=SALT)  # the same path
    assert public2 == public and verify(_prover().verifying_key, public2, proof2)


def test_salts_are_written_privately_and_atomically(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "acct.salt"
    write_salt_file(path, SALT)
    assert read_salt_file(path) == SALT
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_salt_file(path, SALT + 1)  # replaced whole
    assert read_salt_file(path) == SALT + 1
    with pytest.raises(FileExistsError):
        write_salt_file(path, SALT + 2, exclusive=True)  # never over a salt that may open a commitment
    assert read_salt_file(path) == SALT + 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["acct.salt"]  # no temporary left
