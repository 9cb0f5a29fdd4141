"""Fr kernels against their references: Montgomery Fr arithmetic, NTTs (also against galois,
an independent implementation of polynomials over Fr), element-wise products and
Montgomery conversion, plus input validation."""

from __future__ import annotations

import random
from functools import cache

import galois
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import algebra as A
from algebra import MONT_R_R, Q, R, fq_to_lem, fr_root_of_unity, fr_to_limbs, limbs_to_ints
from algebra import _fr_kernels as FK
from algebra import _nb_field as NF

fr_edge = st.one_of(
    st.sampled_from([0, 1, 2, R - 1, R - 2, (R - 1) // 2, (R + 1) // 2, MONT_R_R, 2**64 - 1, 2**64]),
    st.integers(min_value=0, max_value=R - 1),
)
kernel_settings = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def _gf() -> type[galois.FieldArray]:
    # DESIGN.md: with the primitive element given and verification off, galois does not factor r - 1
    return galois.GF(R, primitive_element=5, verify=False)


def _rand(n: int, seed: int) -> np.ndarray:
    rng = random.Random(seed)
    return fr_to_limbs([rng.randrange(R) for _ in range(n)])


# ---- Fr field arithmetic -------------------------------------------------------------------


@kernel_settings
@given(st.lists(st.tuples(fr_edge, fr_edge), min_size=1, max_size=12))
def test_fr_ops_match_python_ints(pairs: list[tuple[int, int]]) -> None:
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    mont = A.to_montgomery(fr_to_limbs(xs), "r"), A.to_montgomery(fr_to_limbs(ys), "r")
    expected = {
        NF.OP_ADD: [(x + y) % R for x, y in pairs],
        NF.OP_SUB: [(x - y) % R for x, y in pairs],
        NF.OP_MUL: [x * y % R for x, y in pairs],
        NF.OP_SQR: [x * x % R for x in xs],
        NF.OP_NEG: [-x % R for x in xs],
    }
    for op, want in expected.items():
        out = np.zeros_like(mont[0])
        NF._fr_apply(op, mont[0], mont[1], out)
        assert limbs_to_ints(A.from_montgomery(out, "r")) == want, op


# ---- NTT ------------------------------------------------------------------------------------


@kernel_settings
@given(st.integers(min_value=0, max_value=7).flatmap(lambda k: st.lists(fr_edge, min_size=1 << k, max_size=1 << k)))
def test_ntt_matches_reference(values: list[int]) -> None:
    a = fr_to_limbs(values)
    assert np.array_equal(A.fr_ntt(a), A.fr_ntt_ref(a))
    assert np.array_equal(A.fr_intt(a), A.fr_intt_ref(a))
    shift = values[0] or 5
    assert np.array_equal(A.fr_coset_ntt(a, shift), A.fr_coset_ntt_ref(a, shift))
    assert np.array_equal(A.fr_coset_intt(a, shift), A.fr_coset_intt_ref(a, shift))


@pytest.mark.parametrize("log_n", [0, 1, 2, 5, 11, 12, 13, 14])  # 12 is one cache block; 13+ add whole-array stages
def test_ntt_sizes_match_reference(log_n: int) -> None:
    a = _rand(1 << log_n, log_n)
    shift = fr_root_of_unity(2 << log_n)  # the odd coset of snarkjs's witness map
    assert np.array_equal(A.fr_ntt(a), A.fr_ntt_ref(a))
    assert np.array_equal(A.fr_intt(a), A.fr_intt_ref(a))
    assert np.array_equal(A.fr_coset_ntt(a, shift), A.fr_coset_ntt_ref(a, shift))
    assert np.array_equal(A.fr_coset_intt(a, shift), A.fr_coset_intt_ref(a, shift))


@pytest.mark.parametrize("log_n", [1, 3, 6])
def test_ntt_agrees_with_galois(log_n: int) -> None:
    """galois evaluates the polynomial at the same points: w^i and, for the coset, 7 w^i."""
    gf = _gf()
    n = 1 << log_n
    coeffs = [random.Random(log_n).randrange(R) for _ in range(n)]
    poly = galois.Poly(gf(coeffs[::-1]))  # galois takes the leading coefficient first
    w = fr_root_of_unity(n)
    points = gf([pow(w, i, R) for i in range(n)])
    a = fr_to_limbs(coeffs)
    assert limbs_to_ints(A.fr_ntt(a)) == [int(v) for v in poly(points)]
    assert limbs_to_ints(A.fr_coset_ntt(a, 7)) == [int(v) for v in poly(points * gf(7))]
    values = gf(limbs_to_ints(A.fr_ntt(a)))
    interp = galois.lagrange_poly(points, values)
    assert limbs_to_ints(A.fr_intt(A.fr_ntt(a))) == coeffs
    assert [int(c) for c in interp.coeffs[::-1]] + [0] * (n - len(interp.coeffs)) == coeffs


def test_ntt_at_2_20_round_trips_and_evaluates() -> None:
    """The largest size in the issue: a round trip, and two outputs checked by Horner on Python ints."""
    n = 1 << 20
    rng = np.random.default_rng(20)
    a = rng.integers(0, 2**63, size=(n, 4), dtype=np.uint64)
    a[:, 3] &= np.uint64((1 << 61) - 1)  # below 2^253 < r
    evals = A.fr_ntt(a)
    assert np.array_equal(A.fr_intt(evals), a)
    coeffs = limbs_to_ints(a)
    w = fr_root_of_unity(n)
    for i in (1, 777_777):
        x = pow(w, i, R)
        acc = 0
        for c in reversed(coeffs):
            acc = (acc * x + c) % R
        assert limbs_to_ints(evals[i : i + 1])[0] == acc


def test_ntt_does_not_modify_its_input_and_accepts_read_only_arrays() -> None:
    a = _rand(64, 1)
    before = a.copy()
    a.setflags(write=False)
    out = A.fr_ntt(a)
    assert np.array_equal(a, before) and not np.shares_memory(a, out)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((3, 4), np.uint64), "power of two"),
        (np.zeros((0, 4), np.uint64), "power of two"),
        (np.zeros((4, 3), np.uint64), "shape"),
        (np.zeros((4, 4), np.int64), "dtype"),
        (fr_to_limbs([0, 1, 2, 3]).copy() + np.array([[0, 0, 0, 2**63]], np.uint64), "not below r"),
    ],
)
def test_ntt_input_is_validated(bad: np.ndarray, match: str) -> None:
    for fn in (A.fr_ntt, A.fr_intt, A.fr_ntt_ref):
        with pytest.raises(ValueError, match=match):
            fn(bad)


def test_coset_shift_must_be_nonzero() -> None:
    with pytest.raises(ValueError, match="nonzero"):
        A.fr_coset_ntt(_rand(4, 0), R)
    with pytest.raises(ValueError, match="integer"):
        A.fr_coset_intt(_rand(4, 0), 1.5)  # type: ignore[arg-type]


# ---- element-wise products and Montgomery conversion -------------------------------------


@kernel_settings
@given(st.lists(st.tuples(fr_edge, fr_edge, fr_edge), min_size=1, max_size=20))
def test_mul_sub_matches_reference(rows: list[tuple[int, int, int]]) -> None:
    a, b, c = (fr_to_limbs([r[k] for r in rows]) for k in range(3))
    assert limbs_to_ints(A.fr_mul_sub(a, b, c)) == [(x * y - z) % R for x, y, z in rows]
    assert np.array_equal(A.fr_mul_sub(a, b, c), A.fr_mul_sub_ref(a, b, c))
    assert np.array_equal(A.fr_mul_sub(a, b), A.fr_mul_sub_ref(a, b))


def test_mul_sub_lengths_must_agree() -> None:
    with pytest.raises(ValueError, match="rows"):
        A.fr_mul_sub(_rand(4, 0), _rand(3, 0))
    with pytest.raises(ValueError, match="rows"):
        A.fr_mul_sub(_rand(4, 0), _rand(4, 0), _rand(5, 0))


@kernel_settings
@given(st.lists(st.integers(min_value=0, max_value=Q - 1), min_size=1, max_size=16))
def test_montgomery_conversion_matches_reference(values: list[int]) -> None:
    fq = A.ints_to_limbs(values)
    assert np.array_equal(A.to_montgomery(fq, "q"), fq_to_lem(values))
    assert np.array_equal(A.to_montgomery(fq, "q"), A.to_montgomery_ref(fq, "q"))
    assert np.array_equal(A.from_montgomery(A.to_montgomery(fq, "q"), "q"), fq)
    fr = fr_to_limbs(values)
    assert np.array_equal(A.to_montgomery(fr, "r"), A.to_montgomery_ref(fr, "r"))
    assert np.array_equal(A.from_montgomery(fr, "r"), A.from_montgomery_ref(fr, "r"))


def test_montgomery_conversion_keeps_row_shape_and_checks_range() -> None:
    g1_rows = A.ints_to_limbs([1, 2, 3, 4]).reshape(2, 8)
    assert A.to_montgomery(g1_rows, "q").shape == (2, 8)
    with pytest.raises(ValueError, match="not below the modulus r"):
        A.to_montgomery(A.ints_to_limbs([R]), "r")
    with pytest.raises(ValueError, match="'r' or 'q'"):
        A.to_montgomery(A.ints_to_limbs([1]), "p")  # type: ignore[arg-type]


def test_kernels_are_exported_with_their_twins() -> None:
    for name in ("fr_ntt", "fr_intt", "fr_coset_ntt", "fr_coset_intt", "fr_mul_sub", "to_montgomery"):
        assert callable(getattr(A, name)) and callable(getattr(A, f"{name}_ref"))
    assert FK.fr_ntt is A.fr_ntt


@kernel_settings
@given(
    st.lists(st.lists(st.tuples(st.integers(0, 9), fr_edge), max_size=6), min_size=1, max_size=8),
    st.lists(fr_edge, min_size=10, max_size=10),
)
def test_sparse_matvec_matches_reference(rows: list[list[tuple[int, int]]], x: list[int]) -> None:
    indptr = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    indices = np.array([i for r in rows for i, _ in r], dtype=np.int64)
    coefs = fr_to_limbs([c for r in rows for _, c in r]).reshape(-1, 4)
    xs = fr_to_limbs(x)
    fast = A.fr_sparse_matvec(indptr, indices, coefs, xs)
    assert limbs_to_ints(fast) == [sum(c * x[i] for i, c in r) % R for r in rows]
    assert np.array_equal(fast, A.fr_sparse_matvec_ref(indptr, indices, coefs, xs))
    # the prepared matrix, from standard or Montgomery-form coefficients, gives the same
    for matrix in (
        A.FrCsr.of(indptr, indices, coefs, len(x)),
        A.FrCsr.of(indptr, indices, A.to_montgomery(coefs, "r"), len(x), montgomery=True),
    ):
        assert np.array_equal(matrix.matvec(xs), fast)


def test_sparse_matvec_many_rows_in_parallel_chunks() -> None:
    rng = np.random.default_rng(3)
    n_rows, m = 5000, 300
    counts = rng.integers(0, 5, size=n_rows)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = rng.integers(0, m, size=int(indptr[-1])).astype(np.int64)
    coefs = _rand(int(indptr[-1]), 4)
    x = _rand(m, 5)
    assert np.array_equal(
        A.fr_sparse_matvec(indptr, indices, coefs, x), A.fr_sparse_matvec_ref(indptr, indices, coefs, x)
    )
    with pytest.raises(ValueError, match="outside"):
        A.fr_sparse_matvec(indptr, indices + m, coefs, x)
    with pytest.raises(ValueError, match="outside"):
        A.FrCsr.of(indptr, indices + m, coefs, m)
    with pytest.raises(ValueError, match="300 columns"):
        A.FrCsr.of(indptr, indices, coefs, m).matvec(x[:-1])
