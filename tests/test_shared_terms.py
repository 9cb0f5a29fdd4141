"""Shared wires: the wires an epoch's inputs determine (the program's analysis against its
Python twin, equal in every witness of the epoch, never an account's wire), and a prover
that reuses their MSM terms gives the same proofs as one that does not, also when the
shared values change."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from algebra import R
from circuits import API, EPOCH_INPUTS, Circuit, Public, Secret, compile_circuit, poseidon_hash
from circuits._builder import determined_wires_ref
from engine import EpochContext, generate_accounts, margin_circuit_for
from engine._prove_account import margin_assignment
from prover import InsecureSetupWarning, Prover, WitnessError, dev_setup
from tests._engine import perp_snapshot
from verifier import verify


class Keyed(Circuit):
    """y = x * (x + poseidon(s, p)): a full-width part fixed by (p, s), and x's part."""

    p = Public()
    y = Public()
    s = Secret()
    x = Secret()

    def define(self, api: API) -> None:
        t = poseidon_hash(api, [self.s, self.p])
        api.assert_product(self.x, self.x + t, self.y, name="y")


def _keyed_witness(cc, p: int, s: int, x: int) -> list[int]:
    from algebra import poseidon

    y = x * (x + poseidon([s, p])) % R
    return cc.solve({"p": p, "y": y, "s": s, "x": x}).values


@pytest.fixture(scope="module")
def keyed():
    cc = compile_circuit(Keyed())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        pk = dev_setup(cc.cs, randbelow=random.Random(11).randrange)
    return cc, pk


def test_determined_wires_follow_the_inputs_only(keyed) -> None:
    cc, _ = keyed
    wires = cc.wires_determined_by(["p", "s"])
    assert wires.tolist() == determined_wires_ref(cc, [w for i in cc.inputs if i.name in "ps" for w in i.wires])
    by_name = {i.name: i.wires[0] for i in cc.inputs}
    assert {0, by_name["p"], by_name["s"]} <= set(wires.tolist())
    assert by_name["x"] not in wires and by_name["y"] not in wires
    assert len(wires) > 200  # the Poseidon rounds
    # they are the wires equal in witnesses that share p and s, and not all of those
    ws = np.array([_keyed_witness(cc, 5, 7, x) for x in (2, 3, R - 1)], dtype=object)
    assert (ws[:, wires] == ws[0, wires]).all()
    assert cc.wires_determined_by([]).tolist() == [0]
    with pytest.raises(KeyError):
        cc.wires_determined_by(["nope"])


def test_the_margin_circuit_s_epoch_wires_are_shared_by_its_accounts() -> None:
    snap = perp_snapshot()
    cc = margin_circuit_for(snap)
    wires = cc.wires_determined_by(EPOCH_INPUTS)
    inputs = [w for i in cc.inputs if i.name in EPOCH_INPUTS for w in i.wires]
    assert wires.tolist() == determined_wires_ref(cc, inputs)
    ctx = EpochContext.build(snap, None, circuit=cc)
    witnesses = []
    for i, acct in enumerate(generate_accounts(snap, 4, seed=5)):
        claim = ctx.claim(acct, 1000 + i)
        assignment = margin_assignment(
            claim.commitment, ctx.snapshot_hash, ctx.requirement, 0, claim.salt, claim.encoding, ctx.snapshot_encoding
        )
        witnesses.append(cc.solve_limbs(assignment))
    w = np.stack(witnesses)
    assert (w[:, wires] == w[:1, wires]).all()
    account_wires = {x for i in cc.inputs if i.name in ("account", "salt", "commitment") for x in i.wires}
    assert not account_wires & set(wires.tolist())


def test_a_prover_sharing_wires_gives_the_same_proofs(keyed) -> None:
    cc, pk = keyed
    shared, plain = Prover(pk), Prover(pk)
    shared.share_wires(cc.wires_determined_by(["p", "s"]))
    for p, s, x in [(5, 7, 2), (5, 7, 3), (5, 7, 0), (5, 8, 3), (6, 8, R - 1), (5, 7, 9)]:
        w = _keyed_witness(cc, p, s, x)
        a = shared.prove_raw(w, randbelow=random.Random(x).randrange)
        b = plain.prove_raw(w, randbelow=random.Random(x).randrange)
        assert a == b
        proof, public = shared.prove(w)
        assert verify(shared.verifying_key, public, proof)
    # a tampered witness still gives a proof that fails, shared part or not
    bad = _keyed_witness(cc, 5, 7, 2)
    bad[cc.wires_determined_by(["p", "s"])[-1]] ^= 1
    proof, public = shared.prove(bad)
    assert not verify(shared.verifying_key, public, proof)
    shared.share_wires(None)
    assert shared.prove_raw(w, randbelow=random.Random(1).randrange) == plain.prove_raw(
        w, randbelow=random.Random(1).randrange
    )


def test_shared_wires_outside_the_witness_are_refused(keyed) -> None:
    _, pk = keyed
    with pytest.raises(ValueError, match="shared wires"):
        Prover(pk).share_wires([0, pk.n_vars])


def test_an_epoch_with_another_circuit_s_key_fails_by_name_at_its_first_proof(keyed) -> None:
    """A key that does not fit the snapshot's circuit shares nothing; proving then names
    the misfit (WitnessError), as it did before wires were shared."""
    _, pk = keyed
    snap = perp_snapshot()
    ctx = EpochContext.build(snap, Prover(pk))
    claim = ctx.claim(generate_accounts(snap, 1, seed=2)[0], 77)
    with pytest.raises(WitnessError, match="proving key expects"):
        ctx.prove(claim)
