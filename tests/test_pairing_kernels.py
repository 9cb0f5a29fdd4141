"""Each pairing kernel (algebra._nb_pairing) against its Python-int twin (algebra._tower,
algebra._ate) on random inputs: the same value, limb for limb after conversion."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numba import njit

from algebra import G1, G2, Q, R, final_exponentiation_ref, miller_loop, miller_loop_ref
from algebra import _ate as ref
from algebra import _nb_field as nbf
from algebra import _nb_pairing as nb
from algebra import _tower as tw
from algebra._pairing_kernels import _fq12_in, _fq12_out, _fq_in, _fq_out, final_exponentiation

fq = st.integers(min_value=0, max_value=Q - 1)
fq2 = st.tuples(fq, fq)
fq6 = st.tuples(fq2, fq2, fq2)
fq12 = st.tuples(fq6, fq6)
scalars = st.integers(min_value=1, max_value=R - 1)


def _in2(a: tw.Fq2) -> Any:
    return (_fq_in(a[0]), _fq_in(a[1]))


def _out2(a: Any) -> tw.Fq2:
    return (_fq_out(a[0]), _fq_out(a[1]))


def _in6(a: tw.Fq6) -> Any:
    return tuple(_in2(c) for c in a)


def _out6(a: Any) -> tw.Fq6:
    return tuple(_out2(c) for c in a)  # type: ignore[return-value]


@settings(max_examples=40, deadline=None)
@given(fq12, fq12)
def test_fq12_arithmetic(a: tw.Fq12, b: tw.Fq12) -> None:
    x, y = _fq12_in(a), _fq12_in(b)
    assert _fq12_out(nb.fq12_mul(x, y)) == tw.fq12_mul(a, b)
    assert _fq12_out(nb.fq12_sqr(x)) == tw.fq12_sqr(a)
    assert _fq12_out(nb.fq12_conj(x)) == tw.fq12_conj(a)
    for k in (1, 2, 3):
        assert _fq12_out(nb.fq12_frobenius(x, k)) == tw.fq12_frobenius(a, k)
    if a != (tw.FQ6_ZERO, tw.FQ6_ZERO):
        assert _fq12_out(nb.fq12_inv(x)) == tw.fq12_inv(a)


@settings(max_examples=60, deadline=None)
@given(fq6)
def test_fq6_inverse(a: tw.Fq6) -> None:
    assume(a != tw.FQ6_ZERO)
    assert _out6(nb.fq6_inv(_in6(a))) == tw.fq6_inv(a)


@settings(max_examples=40, deadline=None)
@given(fq12, fq2, fq2, fq2)
def test_sparse_line_product(a: tw.Fq12, r0: tw.Fq2, r1: tw.Fq2, r2: tw.Fq2) -> None:
    line = ((r0, tw.FQ2_ZERO, tw.FQ2_ZERO), (r1, r2, tw.FQ2_ZERO))
    assert _fq12_out(nb.fq12_mul_034(_fq12_in(a), _in2(r0), _in2(r1), _in2(r2))) == tw.fq12_mul(a, line)


@settings(max_examples=10, deadline=None)
@given(fq12)
def test_cyclotomic_squaring_on_the_cyclotomic_subgroup(a: tw.Fq12) -> None:
    assume(a != (tw.FQ6_ZERO, tw.FQ6_ZERO))
    # the easy part of the final exponentiation lands in the cyclotomic subgroup
    t = tw.fq12_mul(tw.fq12_conj(a), tw.fq12_inv(a))
    c = tw.fq12_mul(tw.fq12_frobenius(t, 2), t)
    assert _fq12_out(nb.fq12_cyclotomic_sqr(_fq12_in(c))) == tw.fq12_sqr(c)
    assert _fq12_out(nb._expt(_fq12_in(c))) == ref._expt(c)


@settings(max_examples=8, deadline=None)
@given(scalars, scalars)
def test_line_steps(a: int, b: int) -> None:
    q = G2.mul(G2.generator, a)
    s = G2.mul(G2.generator, b)
    t = (s[0], s[1], (1, 0))
    t2, line = ref.double_step(t)
    kt, kline = nb.double_step(tuple(_in2(c) for c in t))
    assert tuple(_out2(c) for c in kt) == t2 and tuple(_out2(c) for c in kline) == line
    t3, line = ref.add_step(t2, q)
    kt3, kline = nb.add_step(tuple(_in2(_out2(c)) for c in kt), _in2(q[0]), _in2(q[1]))
    assert tuple(_out2(c) for c in kt3) == t3 and tuple(_out2(c) for c in kline) == line


@settings(max_examples=4, deadline=None)
@given(st.lists(st.tuples(scalars, scalars), min_size=1, max_size=4))
def test_multi_miller_loop_and_final_exponentiation(ks: list[tuple[int, int]]) -> None:
    pairs = [(G1.mul(G1.generator, a), G2.mul(G2.generator, b)) for a, b in ks]
    f = miller_loop_ref(pairs)
    assert miller_loop(pairs) == f
    assert final_exponentiation(f) == final_exponentiation_ref(f)


# ---- a miscompilation found while writing these kernels ------------------------------------


@njit
def _fq6_inv_on_field_kernels(a: Any) -> Any:
    """fq6_inv spelled out on _nb_field's kernels (the ADX assembly where the CPU has it)."""
    xi = nb.fq2_by_xi
    c0 = nbf.fq2_sub(nbf.fq2_sqr(a[0]), xi(nbf.fq2_mul(a[1], a[2])))
    c1 = nbf.fq2_sub(xi(nbf.fq2_sqr(a[2])), nbf.fq2_mul(a[0], a[1]))
    c2 = nbf.fq2_sub(nbf.fq2_sqr(a[1]), nbf.fq2_mul(a[0], a[2]))
    norm = nbf.fq2_add(nbf.fq2_mul(a[0], c0), xi(nbf.fq2_add(nbf.fq2_mul(a[2], c1), nbf.fq2_mul(a[1], c2))))
    nt = nbf.fq_inv(nbf.fq_add(nbf.fq_mul(norm[0], norm[0]), nbf.fq_mul(norm[1], norm[1])))
    t = (nbf.fq_mul(norm[0], nt), nbf.fq_neg(nbf.fq_mul(norm[1], nt)))
    return (nbf.fq2_mul(c0, t), nbf.fq2_mul(c1, t), nbf.fq2_mul(c2, t))


def test_montgomery_multiplication_is_exact_inside_a_larger_kernel() -> None:
    """With the flags clobber misnamed ("~{cc}"), the ADX assembly overwrote comparison
    results LLVM kept in EFLAGS around it: 22 of these 300 inverses came out wrong,
    though every product was right in isolation."""
    rnd = random.Random(5)
    wrong = 0
    for _ in range(300):
        a = tuple((rnd.randrange(Q), rnd.randrange(Q)) for _ in range(3))
        wrong += _out6(_fq6_inv_on_field_kernels(_in6(a))) != tw.fq6_inv(a)  # type: ignore[arg-type]
    assert wrong == 0, f"{wrong} of 300 inverses wrong"


def test_many_live_pairs_split_into_parallel_parts_check_exactly() -> None:
    """More live pairs than one Miller part holds (and no prepared pair): the parts'
    product decides as one loop would, for a product that is 1 and one that is not."""
    from algebra import pairing_check

    rng = random.Random(3)
    q = G2.mul(G2.generator, 12345)
    ks = [rng.randrange(1, R) for _ in range(39)]
    pairs = [(G1.mul(G1.generator, k), q) for k in ks] + [(G1.mul(G1.generator, -sum(ks) % R), q)]
    assert len(pairs) > 2 * 16
    assert pairing_check(pairs) is True
    wrong = [*pairs[:-1], (G1.mul(G1.generator, (1 - sum(ks)) % R), q)]
    assert pairing_check(wrong) is False  # the product is e(G1, q), not 1
