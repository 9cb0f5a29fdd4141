"""The optimal ate pairing in snarkjs's tower against py-ecc, for both implementations:
the numba kernels (`pairing`, ...) and their Python-int twins (`pairing_ref`, ...).

py-ecc is the independent oracle: its FQ12 lives in another basis (converted by
fq12_from_pyecc) and its final exponent is (q^12 - 1)/r, ours that times GT_EXPONENT.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.fields import optimized_bn128_FQ12 as FQ12

from algebra import (
    G1,
    G2,
    GT_EXPONENT,
    PreparedG2,
    Q,
    R,
    fq12_from_pyecc,
    fq12_mul,
    fq12_to_pyecc_coeffs,
    g2_in_subgroup,
    g2_in_subgroup_batch,
    g2_in_subgroup_ref,
    miller_loop,
    miller_loop_ref,
    pairing,
    pairing_check,
    pairing_check_ref,
    pairing_ref,
    pyecc_pairing,
    pyecc_pairing_check,
)
from algebra._curve import g2_psi
from algebra._tower import FQ12_ONE, fq12_conj, fq12_frobenius, fq12_inv, fq12_pow
from tests._paths import FIXTURES
from tests._points import twist_point_outside_g2
from verifier import VerifyingKey, snarkjs_pairing

scalars = st.integers(min_value=1, max_value=R - 1)
fq12s = st.lists(st.integers(min_value=0, max_value=Q - 1), min_size=12, max_size=12).map(FQ12)
SLOW = settings(max_examples=4, deadline=None)
IMPLS = {
    "kernels": (miller_loop, pairing, pairing_check),
    "reference": (miller_loop_ref, pairing_ref, pairing_check_ref),
}
impls = pytest.mark.parametrize("impl", sorted(IMPLS))


@given(fq12s, fq12s)
def test_tower_multiplication_is_py_eccs_in_another_basis(a: FQ12, b: FQ12) -> None:
    assert fq12_mul(fq12_from_pyecc(a), fq12_from_pyecc(b)) == fq12_from_pyecc(a * b)
    assert fq12_to_pyecc_coeffs(fq12_from_pyecc(a)) == [int(c) for c in a.coeffs]


@settings(max_examples=20)
@given(fq12s)
def test_inverse_frobenius_and_conjugate(a: FQ12) -> None:
    x = fq12_from_pyecc(a)
    if x != fq12_from_pyecc(FQ12.zero()):
        assert fq12_mul(x, fq12_inv(x)) == FQ12_ONE
    assert fq12_frobenius(x, 1) == fq12_from_pyecc(a**Q)
    assert fq12_frobenius(x, 2) == fq12_frobenius(fq12_frobenius(x, 1), 1)
    assert fq12_frobenius(x, 3) == fq12_frobenius(fq12_frobenius(x, 2), 1)
    assert fq12_conj(x) == fq12_frobenius(fq12_frobenius(fq12_frobenius(x, 3), 2), 1)  # x^(q^6)


@impls
@SLOW
@given(a=scalars, b=scalars)
def test_pairing_is_py_eccs_to_the_power_gt_exponent(impl: str, a: int, b: int) -> None:
    miller_loop, pairing, _ = IMPLS[impl]
    p, q = G1.mul(G1.generator, a), G2.mul(G2.generator, b)
    assert pairing(p, q) == fq12_from_pyecc(pyecc_pairing(p, q) ** GT_EXPONENT)
    # the Miller loop alone agrees with py-ecc's up to the final exponentiation
    assert fq12_pow(miller_loop([(p, q)]), (Q**12 - 1) // R) == fq12_from_pyecc(pyecc_pairing(p, q))


@impls
@SLOW
@given(a=scalars, b=scalars, k=scalars)
def test_bilinear_and_non_degenerate(impl: str, a: int, b: int, k: int) -> None:
    _, pairing, _ = IMPLS[impl]
    p, q = G1.mul(G1.generator, a), G2.mul(G2.generator, b)
    e = pairing(p, q)
    assert e != FQ12_ONE
    assert pairing(G1.mul(p, k), q) == fq12_pow(e, k) == pairing(p, G2.mul(q, k))
    assert fq12_pow(e, R) == FQ12_ONE


@impls
@SLOW
@given(a=scalars, b=scalars, off=st.integers(min_value=0, max_value=2))
def test_pairing_check_decides_as_py_ecc(impl: str, a: int, b: int, off: int) -> None:
    """e(aP, Q) e(-P, aQ) e(P, offQ)... is 1 exactly when off = 0; infinity counts as 1."""
    p, q = G1.mul(G1.generator, a), G2.mul(G2.generator, b)
    pairs = [(G1.mul(p, a), q), (G1.neg(p), G2.mul(q, a)), (G1.infinity, q), (p, G2.infinity)]
    if off:
        pairs.append((G1.mul(p, off), q))
    assert IMPLS[impl][2](pairs) is pyecc_pairing_check(pairs) is (off == 0)


@impls
def test_snarkjs_alphabeta_is_our_pairing(impl: str) -> None:
    pairing = IMPLS[impl][1]
    raw = json.loads((FIXTURES / "verification_key.json").read_text())
    vk = VerifyingKey.from_json(raw)
    assert pairing(vk.alpha1, vk.beta2) == vk.alphabeta12 == snarkjs_pairing(vk.alpha1, vk.beta2)
    assert pairing(G1.infinity, vk.beta2) == FQ12_ONE == pairing(vk.alpha1, G2.infinity)


# ---- G2 subgroup membership: the endomorphism test against [r]P == O ----------------------


@settings(max_examples=12, deadline=None)
@given(scalars, st.integers(min_value=0, max_value=2**16), st.booleans())
def test_g2_endomorphism_subgroup_test_is_the_order_test(k: int, seed: int, outside: bool) -> None:
    p = G2.mul(G2.generator, k)
    if outside:  # a twist point with a component outside G2, plus a G2 point
        p = G2.add(p, twist_point_outside_g2(seed))
    assert G2.is_on_curve(p)
    assert G2.in_subgroup(p) is G2.in_subgroup_by_order(p) is (not outside)
    assert g2_in_subgroup_ref(p) is g2_in_subgroup(p) is (not outside)


@settings(max_examples=5, deadline=None)
@given(st.lists(st.tuples(scalars, st.integers(min_value=0, max_value=2**16), st.booleans()), max_size=6))
def test_g2_subgroup_batch_names_each_point(points: list[tuple[int, int, bool]]) -> None:
    pts = [
        G2.add(G2.mul(G2.generator, k), twist_point_outside_g2(s)) if out else G2.mul(G2.generator, k)
        for k, s, out in points
    ]
    assert g2_in_subgroup_batch([*pts, G2.infinity]) == [not out for _, _, out in points] + [True]


def test_single_point_checks_run_in_python_first_then_on_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process's first PYTHON_CHECKS single-point checks skip loading the kernel; later
    ones use it; both paths give the same answers inside and outside G2."""
    from algebra import _subgroup

    pts = [G2.mul(G2.generator, 5), G2.add(G2.mul(G2.generator, 7), twist_point_outside_g2(3))]
    calls: list[int] = []
    kernels = _subgroup._kernels
    monkeypatch.setattr(_subgroup, "_kernels", lambda: calls.append(1) or kernels())
    monkeypatch.setattr(_subgroup, "_python_checks_left", 2)
    assert [_subgroup.g2_in_subgroup_fast(p) for p in pts] == [True, False] and not calls
    assert _subgroup._python_checks_left == 0
    assert [_subgroup.g2_in_subgroup_fast(p) for p in pts] == [True, False] and len(calls) == 2
    assert G2.in_subgroup(pts[0]) and not G2.in_subgroup(pts[1])


def test_g2_psi_acts_as_q_on_g2() -> None:
    """On G2, psi is multiplication by q (mod r): the identity the test rests on."""
    p = G2.mul(G2.generator, 987654321)
    assert g2_psi(p) == G2.mul(p, Q % R)


# ---- prepared G2 points: lines computed once, evaluated per loop --------------------------


@impls
@SLOW
@given(a=scalars, b=scalars, c=scalars)
def test_prepared_pairs_are_the_same_miller_loop(impl: str, a: int, b: int, c: int) -> None:
    miller_loop, _, pairing_check = IMPLS[impl]
    p, q, s = G1.mul(G1.generator, a), G2.mul(G2.generator, b), G2.mul(G2.generator, c)
    prepared = PreparedG2.of(s)
    assert miller_loop([(p, q)], [(G1.neg(p), prepared)]) == miller_loop([(p, q), (G1.neg(p), s)])
    # e(p, q) e(-p, q) = 1 with q prepared; a factor is a Miller loop multiplied in
    factor = miller_loop([(p, q)])
    assert pairing_check([], [(G1.neg(p), PreparedG2.of(q))], factor)
    assert not pairing_check([], [(p, PreparedG2.of(q))], factor)
    assert pairing_check([(G1.infinity, q)], [(G1.infinity, prepared)])
