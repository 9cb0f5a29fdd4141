"""Field and curve laws (hypothesis), cross-checks against py-ecc, and encodings."""

from __future__ import annotations

import galois
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py_ecc.optimized_bn128 import optimized_curve as oc

import algebra as A
from algebra import G1, G2, Q, R
from tests._points import twist_point_outside_g2

fr = st.integers(min_value=0, max_value=R - 1)
fq = st.integers(min_value=0, max_value=Q - 1)
fq2 = st.tuples(fq, fq)
nonzero_fq2 = fq2.filter(lambda a: a != (0, 0))
small_scalar = st.integers(min_value=0, max_value=2**64)
curve_settings = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- fields --------------------------------------------------------------------


@given(fq2, fq2, fq2)
def test_fq2_ring_laws(a, b, c):
    assert A.fq2_mul(a, b) == A.fq2_mul(b, a)
    assert A.fq2_mul(A.fq2_mul(a, b), c) == A.fq2_mul(a, A.fq2_mul(b, c))
    assert A.fq2_mul(a, A.fq2_add(b, c)) == A.fq2_add(A.fq2_mul(a, b), A.fq2_mul(a, c))
    assert A.fq2_sqr(a) == A.fq2_mul(a, a)
    assert A.fq2_add(a, A.fq2_neg(a)) == A.FQ2_ZERO
    assert A.fq2_sub(a, b) == A.fq2_add(a, A.fq2_neg(b))


@given(nonzero_fq2)
def test_fq2_inverse(a):
    assert A.fq2_mul(a, A.fq2_inv(a)) == A.FQ2_ONE


def test_fq2_u_squared_is_minus_one():
    assert A.fq2_mul((0, 1), (0, 1)) == (Q - 1, 0)


@given(fq2)
def test_fq2_sqrt_of_a_square_and_of_a_non_square(a):
    root = A.fq2_sqrt(A.fq2_sqr(a))
    assert root is not None and A.fq2_sqr(root) == A.fq2_sqr(a)
    non_residue = (9, 1)  # 9 + u, the twist's non-residue: a*a*(9+u) is never a square unless 0
    if a != (0, 0):
        assert A.fq2_sqrt(A.fq2_mul(A.fq2_sqr(a), non_residue)) is None


@given(fq)
def test_fq_sqrt(a):
    assert A.fq_sqrt(a * a % Q) in (a, (Q - a) % Q)
    assert A.fq_sqrt((Q - 1) * a * a % Q) is None or a == 0  # -1 is not a square mod q


def test_fq2_inverse_of_zero_raises():
    with pytest.raises(ZeroDivisionError):
        A.fq2_inv((0, 0))


@given(st.lists(fr, min_size=0, max_size=20))
def test_batch_inverse_matches_single_inverses_and_keeps_zeros(values):
    inv = A.batch_inverse(values, R)
    assert inv == [pow(v, -1, R) if v else 0 for v in values]


@pytest.mark.parametrize("k", [1, 2, 4, 1024, 1 << 28])
def test_roots_of_unity_have_exact_order(k):
    w = A.fr_root_of_unity(k)
    assert pow(w, k, R) == 1
    assert k == 1 or pow(w, k // 2, R) == R - 1


def test_roots_of_unity_match_ffjavascript():
    # ffjavascript: w[28] = 5^((r-1)/2^28); every smaller domain squares it down.
    assert A.fr_root_of_unity(1 << 27) == pow(A.fr_root_of_unity(1 << 28), 2, R)
    assert A.fr_root_of_unity(1 << 28) == pow(5, (R - 1) >> 28, R)


@pytest.mark.parametrize("bad", [0, 3, 6, 1 << 29])
def test_root_of_unity_rejects_bad_orders(bad):
    with pytest.raises(ValueError, match="power of two"):
        A.fr_root_of_unity(bad)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([1, 2, 4, 8, 16]).flatmap(lambda n: st.lists(fr, min_size=n, max_size=n)))
def test_ntt_is_evaluation_and_inverts(coeffs):
    n = len(coeffs)
    w = A.fr_root_of_unity(n)
    evals = A.ntt(coeffs)
    assert evals == [sum(c * pow(w, i * j, R) for j, c in enumerate(coeffs)) % R for i in range(n)]
    assert A.intt(evals) == coeffs


def test_ntt_matches_galois():
    gf = galois.GF(R, primitive_element=5, verify=False)
    coeffs = [3, 1, 4, 1, 5, 9, 2, 6]
    poly = galois.Poly(list(reversed(coeffs)), field=gf)
    w = A.fr_root_of_unity(8)
    expected = [int(poly(gf(pow(w, i, R)))) for i in range(8)]
    assert A.ntt(coeffs) == expected


# ---- curves --------------------------------------------------------------------


@pytest.mark.parametrize("curve", [G1, G2], ids=["G1", "G2"])
def test_generator_valid_and_has_order_r(curve):
    assert curve.validate(curve.generator) == curve.generator
    assert curve.is_infinity(curve.mul(curve.generator, R))
    assert not curve.is_infinity(curve.mul(curve.generator, R - 1))


@curve_settings
@given(small_scalar, small_scalar, fr)
def test_group_laws_g1(a, b, c):
    _check_group_laws(G1, a, b, c)


@curve_settings
@given(small_scalar, small_scalar, fr)
def test_group_laws_g2(a, b, c):
    _check_group_laws(G2, a, b, c)


def _check_group_laws(curve, a, b, c):
    g = curve.generator
    p, q, s = curve.mul(g, a), curve.mul(g, b), curve.mul(g, c)
    assert curve.add(p, q) == curve.add(q, p)
    assert curve.add(curve.add(p, q), s) == curve.add(p, curve.add(q, s))
    assert curve.add(p, curve.infinity) == p
    assert curve.is_infinity(curve.add(p, curve.neg(p)))
    assert curve.add(p, p) == curve.double(p)
    assert curve.mul(g, a + b) == curve.add(p, q)
    assert curve.mul(p, c) == curve.mul(g, a * c)
    assert curve.is_on_curve(curve.add(p, s))


@curve_settings
@given(fr)
def test_g1_mul_matches_pyecc(k):
    assert G1.mul(G1.generator, k) == A.g1_from_pyecc(oc.multiply(oc.G1, k))


@curve_settings
@given(fr)
def test_g2_mul_matches_pyecc(k):
    assert G2.mul(G2.generator, k) == A.g2_from_pyecc(oc.multiply(oc.G2, k))


@settings(max_examples=10, deadline=None)
@given(st.lists(st.one_of(st.just(0), st.just(1), small_scalar, fr), min_size=0, max_size=40))
def test_msm_matches_naive_sum(scalars):
    points = G1.batch_mul(G1.generator, list(range(3, 3 + len(scalars))))
    expected = G1.sum([G1.mul(p, k) for p, k in zip(points, scalars)])
    assert G1.msm(points, scalars) == expected
    assert G1.msm(points, scalars) == G1.mul(G1.generator, sum(k * (i + 3) for i, k in enumerate(scalars)))


def test_msm_g2_and_infinity_points():
    pts = [G2.generator, G2.infinity, G2.mul(G2.generator, 5)]
    assert G2.msm(pts, [2, 7, 3]) == G2.mul(G2.generator, 17)


def test_msm_length_mismatch():
    with pytest.raises(ValueError, match="2 points but 1 scalars"):
        G1.msm([G1.generator, G1.generator], [1])


@settings(max_examples=10, deadline=None)
@given(st.lists(st.one_of(st.just(0), fr), min_size=1, max_size=10))
def test_batch_mul_matches_mul(scalars):
    assert G1.batch_mul(G1.generator, scalars) == [G1.mul(G1.generator, k) for k in scalars]


def test_pairing_bilinear_and_check():
    a, b = 6, 35
    lhs = A.pairing(G1.mul(G1.generator, a), G2.mul(G2.generator, b))
    rhs = A.pairing(G1.mul(G1.generator, a * b), G2.generator)
    assert lhs == rhs
    assert lhs != A.pairing(G1.generator, G2.generator)
    p = G1.mul(G1.generator, 7)
    assert A.pairing_check([(p, G2.mul(G2.generator, 3)), (G1.neg(G1.mul(p, 3)), G2.generator)])
    assert not A.pairing_check([(p, G2.mul(G2.generator, 3)), (G1.neg(G1.mul(p, 2)), G2.generator)])


# ---- validation ----------------------------------------------------------------


def test_validation_errors_are_named():
    with pytest.raises(A.PointNotOnCurveError):
        G1.validate((1, 3))
    with pytest.raises(A.FieldElementOutOfRangeError):
        G1.validate((1, 2 + Q))
    with pytest.raises(A.FieldElementOutOfRangeError):
        G1.validate((1, -2))
    p = twist_point_outside_g2()
    assert G2.is_on_curve(p)
    with pytest.raises(A.PointNotInSubgroupError):
        G2.validate(p)
    with pytest.raises(A.PointNotOnCurveError):
        G2.validate(((1, 0), (2, 0)))
    assert G1.validate(G1.infinity) == G1.infinity


# ---- encodings -----------------------------------------------------------------


@curve_settings
@given(fr)
def test_snarkjs_json_round_trip(k):
    p1, p2 = G1.mul(G1.generator, k), G2.mul(G2.generator, k)
    assert A.g1_from_snarkjs(A.g1_to_snarkjs(p1)) == p1
    assert A.g2_from_snarkjs(A.g2_to_snarkjs(p2)) == p2


@curve_settings
@given(fr)
def test_eth_bytes_round_trip(k):
    p1, p2 = G1.mul(G1.generator, k), G2.mul(G2.generator, k)
    b1, b2 = A.g1_to_eth_bytes(p1), A.g2_to_eth_bytes(p2)
    assert len(b1) == 64 and len(b2) == 128
    assert A.g1_from_eth_bytes(b1) == p1
    assert A.g2_from_eth_bytes(b2) == p2


def test_eth_g2_is_imaginary_first():
    b = A.g2_to_eth_bytes(G2.generator)
    (x0, x1), (y0, y1) = G2.generator
    assert b[:32] == x1.to_bytes(32, "big") and b[32:64] == x0.to_bytes(32, "big")
    assert b[64:96] == y1.to_bytes(32, "big") and b[96:] == y0.to_bytes(32, "big")


def test_snarkjs_infinity_forms():
    assert A.g1_to_snarkjs(G1.infinity) == ["0", "1", "0"]
    assert A.g1_from_snarkjs(["0", "1", "0"]) == G1.infinity
    assert A.g2_from_snarkjs(A.g2_to_snarkjs(G2.infinity)) == G2.infinity
    assert A.g1_from_eth_bytes(bytes(64)) == G1.infinity


@pytest.mark.parametrize(
    ("obj", "error"),
    [
        (["1", "2"], None),
        (["1", "3", "1"], A.PointNotOnCurveError),
        (["1", "2", "2"], A.EncodingError),
        (["1", "-2", "1"], A.EncodingError),
        (["0x1", "2", "1"], A.EncodingError),
        ([1, 2, 1], A.EncodingError),
        ("1,2,1", A.EncodingError),
        ([str(1 + Q), "2", "1"], A.FieldElementOutOfRangeError),
    ],
)
def test_g1_from_snarkjs_rejects_malformed(obj, error):
    if error is None:
        assert A.g1_from_snarkjs(obj) == (1, 2)
    else:
        with pytest.raises(error):
            A.g1_from_snarkjs(obj)


def test_g2_from_snarkjs_rejects_outside_subgroup():
    (x0, x1), (y0, y1) = twist_point_outside_g2()
    with pytest.raises(A.PointNotInSubgroupError):
        A.g2_from_snarkjs([[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]])


def test_eth_bytes_rejects_wrong_length_and_bad_points():
    with pytest.raises(A.EncodingError, match="expected 64 bytes, got 63"):
        A.g1_from_eth_bytes(bytes(63))
    with pytest.raises(A.PointNotOnCurveError):
        A.g1_from_eth_bytes((1).to_bytes(32, "big") + (3).to_bytes(32, "big"))
    swapped = A.g2_to_eth_bytes(G2.generator)
    swapped = swapped[32:64] + swapped[:32] + swapped[96:] + swapped[64:96]  # real-first: wrong order
    with pytest.raises(A.InvalidPointError):
        A.g2_from_eth_bytes(swapped)


def test_parse_fr():
    assert A.parse_fr("0") == 0
    assert A.parse_fr(str(R - 1)) == R - 1
    with pytest.raises(A.FieldElementOutOfRangeError):
        A.parse_fr(str(R))
    for bad in ["", " 1", "1.0", "-1", "1e3", 5, None, "٣"]:
        with pytest.raises(A.EncodingError):
            A.parse_fr(bad)
