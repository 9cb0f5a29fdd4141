"""Dev setup, witness map and proving: proofs of satisfied witnesses verify, others do not."""

from __future__ import annotations

import random
import warnings

import galois
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algebra import G1, G2, R, fr_root_of_unity, g1_from_lem, g1_to_lem, g2_to_lem, pairing_check, poseidon
from circuits import API, Circuit, Public, Secret, compile_circuit, poseidon_hash, range_check
from prover import (
    InsecureSetupWarning,
    ProvingKey,
    SetupError,
    WitnessError,
    constraint_matrices,
    dev_setup,
    domain_size_for,
    h_scalars,
    prove_raw,
)

GF = galois.GF(R, primitive_element=5, verify=False)


class Opening(Circuit):
    commitment = Public()
    bound = Public()
    value = Secret()
    salt = Secret()

    def define(self, api: API) -> None:
        range_check(api, self.value, 32, name="value_range")
        api.assert_equal(poseidon_hash(api, [self.value, self.salt]), self.commitment, name="commitment")
        api.assert_equal(api.mul(self.value, self.bound), api.mul(self.bound, self.value), name="bound used")


def _setup(cc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        return dev_setup(cc.cs, randbelow=random.Random(1).randrange)


@pytest.fixture(scope="module")
def opening():
    cc = compile_circuit(Opening())
    return cc, _setup(cc)


def _verify(pk: ProvingKey, proof) -> bool:
    vk_x = G1.msm(list(pk.ic), [1, *proof.public_signals])
    return pairing_check([(G1.neg(proof.a), proof.b), (pk.alpha1, pk.beta2), (vk_x, pk.gamma2), (proof.c, pk.delta2)])


def test_setup_warns_and_marks_key_insecure():
    cc = compile_circuit(Opening())
    with pytest.warns(InsecureSetupWarning, match="INSECURE"):
        pk = dev_setup(cc.cs)
    assert pk.insecure
    assert pk.n_vars == cc.cs.n_wires
    assert pk.domain_size >= cc.cs.n_constraints + cc.cs.n_public + 1
    assert len(pk.c_points) == pk.n_vars - pk.n_public - 1
    assert len(pk.h_points) == pk.domain_size
    assert len(pk.ic) == pk.n_public + 1


def test_setup_points_equal_the_python_fixed_base_products(monkeypatch, opening):
    """dev_setup's key points come from the numba kernel; with the same toxic waste the
    Python-int fixed-base products (`Curve.batch_mul`) give the same key."""
    import prover._setup as setup

    cc, fast = opening
    curves = {setup.g1_sparse_combination: (G1, g1_to_lem), setup.g2_sparse_combination: (G2, g2_to_lem)}

    def python_products(combination, _base, scalars):
        curve, to_lem = curves[combination]
        return to_lem(curve.batch_mul(curve.generator, [k % R for k in scalars]))

    monkeypatch.setattr(setup, "_generator_multiples", python_products)
    slow = _setup(cc)
    for name in ("a_points", "b1_points", "b2_points", "c_points", "h_points"):
        assert getattr(fast, name).shape == getattr(slow, name).shape, name
        assert (getattr(fast, name) == getattr(slow, name)).all(), name
    assert (fast.ic, fast.alpha1, fast.delta2) == (slow.ic, slow.alpha1, slow.delta2)


def test_the_window_table_path_equals_its_reference(monkeypatch):
    """Big keys' fixed-base products (sums of window-table rows) equal the reference's
    (`_plain_multiples`: one doubling chain per product), edge scalars included; the
    table path is forced on a small input here."""
    import random

    import prover._setup as setup

    monkeypatch.setattr(setup, "_TABLE_MIN", 1)
    rng = random.Random(7)
    scalars = [0, 1, 2, 255, 256, R - 1, R, R + 5, 2**253, 2**256 - 1 - R] + [rng.randrange(R) for _ in range(200)]
    for combination, base in (
        (setup.g1_sparse_combination, setup._G1_BASE),
        (setup.g2_sparse_combination, setup._G2_BASE),
    ):
        fast = setup._generator_multiples(combination, base, scalars)
        assert (fast == setup._plain_multiples(combination, base, scalars)).all()
    assert g1_from_lem(setup._generator_multiples(setup.g1_sparse_combination, setup._G1_BASE, [R - 1]))[0] == G1.neg(
        G1.generator
    )


def test_valid_proof_verifies_and_tampered_fails(opening):
    cc, pk = opening
    w = cc.solve({"commitment": poseidon([77, 5]), "bound": 9, "value": 77, "salt": 5})
    proof = prove_raw(pk, w.values)
    assert proof.public_signals == (poseidon([77, 5]), 9)
    assert _verify(pk, proof)
    # another public input
    assert not _verify(pk, type(proof)(proof.a, proof.b, proof.c, (proof.public_signals[0], 10)))
    # another (valid) point for A, B or C
    assert not _verify(pk, type(proof)(G1.double(proof.a), proof.b, proof.c, proof.public_signals))
    assert not _verify(pk, type(proof)(proof.a, proof.b, G1.neg(proof.c), proof.public_signals))


def test_proofs_are_randomised(opening):
    cc, pk = opening
    w = cc.solve({"commitment": poseidon([1, 2]), "bound": 0, "value": 1, "salt": 2}).values
    p1, p2 = prove_raw(pk, w), prove_raw(pk, w)
    assert p1.a != p2.a and _verify(pk, p1) and _verify(pk, p2)


def test_unsatisfying_witness_gives_a_proof_that_fails(opening):
    cc, pk = opening
    w = cc.solve({"commitment": poseidon([1, 2]), "bound": 3, "value": 1, "salt": 2}).values
    bad = list(w)
    bad[-1] = (bad[-1] + 1) % R
    assert not cc.cs.is_satisfied(bad)
    assert not _verify(pk, prove_raw(pk, bad))


def test_witness_errors_give_both_numbers(opening):
    _cc, pk = opening
    with pytest.raises(WitnessError, match=f"witness has 3 values, proving key expects {pk.n_vars}"):
        prove_raw(pk, [1, 2, 3])
    with pytest.raises(WitnessError, match="constant 1"):
        prove_raw(pk, [0] * pk.n_vars)
    with pytest.raises(WitnessError, match=r"witness\[2\]"):
        prove_raw(pk, [1, 0, R] + [0] * (pk.n_vars - 3))


def test_empty_circuit_cannot_be_set_up():
    class Empty(Circuit):
        x = Public()

        def define(self, api: API) -> None:
            pass

    with pytest.raises(SetupError, match="no constraints"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dev_setup(compile_circuit(Empty()).cs)


def test_domain_size():
    assert domain_size_for(3, 1) == 8
    assert domain_size_for(6, 1) == 8
    assert domain_size_for(7, 1) == 16
    with pytest.raises(SetupError):
        domain_size_for(1 << 27, 0)


# ---- the witness map against an independent polynomial oracle (galois) ---------------


class Small(Circuit):
    out = Public()
    x = Secret()
    y = Secret()

    def define(self, api: API) -> None:
        xy = api.mul(self.x, self.y)
        api.assert_equal(api.mul(xy, api.add(self.x, 3)), self.out)


def _interpolate(values, n):
    w = fr_root_of_unity(n)
    xs = GF([pow(w, i, R) for i in range(n)])
    return galois.lagrange_poly(xs, GF(values))


@settings(max_examples=5, deadline=None)
@given(st.integers(0, R - 1), st.integers(0, R - 1))
def test_h_scalars_match_galois_quotient(x, y):
    cc = compile_circuit(Small())
    out = x * y % R * (x + 3) % R
    w = cc.solve({"out": out, "x": x, "y": y}).values
    a_m, b_m, c_m = constraint_matrices(cc.cs)
    n = domain_size_for(cc.cs.n_constraints, cc.cs.n_public)

    def evals(m):
        v = [0] * n
        for row, wire, coef in m:
            v[row] = (v[row] + coef * w[wire]) % R
        return v

    a, b, c = (_interpolate(evals(m), n) for m in (a_m, b_m, c_m))
    p = a * b - c
    z = galois.Poly.Degrees([n, 0], coeffs=[1, -1], field=GF)
    assert p % z == galois.Poly.Zero(GF)  # the witness satisfies the QAP
    w2n = fr_root_of_unity(2 * n)
    expected = [int(p(GF(pow(w2n, 2 * i + 1, R)))) for i in range(n)]
    assert h_scalars(a_m, b_m, w, n) == expected


def test_verifying_key_carries_the_insecure_notice_through_json(opening):
    from prover import verifying_key
    from verifier import VerifyingKey

    _cc, pk = opening
    vk = verifying_key(pk)
    text = vk.to_json()
    assert text.startswith('{\n "zkmargin_setup": "INSECURE')
    assert VerifyingKey.from_json(text).setup_notice == vk.setup_notice
    assert VerifyingKey.from_json(text).to_json() == text


def test_fast_and_reference_msms_give_the_same_proof(opening):
    cc, pk = opening
    w = cc.solve({"commitment": poseidon([3, 4]), "bound": 1, "value": 3, "salt": 4}).values
    fast = prove_raw(pk, w, randbelow=random.Random(7).randrange)
    slow = prove_raw(pk, w, randbelow=random.Random(7).randrange, reference=True)
    assert fast == slow
    assert _verify(pk, fast)
