"""numba kernels against the Python-int reference: Fq, Fq2, G1/G2 point arithmetic, scalar
multiplication, sparse combinations, scaling, MSM and batch normalization (hypothesis),
plus the public functions' input validation.

The first run compiles the kernels (tens of seconds); numba caches them in
algebra/__pycache__ for later runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import algebra as A
from algebra import G1, G2, MONT_R_Q, Q, R, fq_from_lem, fq_to_lem, fr_to_limbs
from algebra import _kernels as K
from algebra import _nb_curve as NC
from algebra import _nb_field as NF
from algebra import _nb_msm as NM
from algebra._kernels import wnaf_digits

fq = st.integers(min_value=0, max_value=Q - 1)
fq_edge = st.one_of(st.sampled_from([0, 1, 2, Q - 1, Q - 2, MONT_R_Q, (1 << 255) % Q]), fq)
fr_edge = st.one_of(
    st.sampled_from([0, 1, 2, 3, 15, 16, 17, R - 1, R - 2, R - 17, (R - 1) // 2, (R + 1) // 2]),
    st.integers(min_value=0, max_value=R - 1),
    st.integers(min_value=0, max_value=2**64),
)
kernel_settings = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
slow_settings = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- Fq and Fq2 --------------------------------------------------------------------


def _fq_ref(op: int, x: int, y: int) -> int:
    return [
        (x + y) % Q,
        (x - y) % Q,
        x * y % Q,
        x * x % Q,
        -x % Q,
        pow(x, Q - 2, Q),
    ][op]


@kernel_settings
@given(st.lists(st.tuples(fq_edge, fq_edge), min_size=1, max_size=12))
def test_fq_ops_match_python_ints(pairs: list[tuple[int, int]]) -> None:
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    a, b = fq_to_lem(xs), fq_to_lem(ys)
    out = np.zeros_like(a)
    for op in (NF.OP_ADD, NF.OP_SUB, NF.OP_MUL, NF.OP_SQR, NF.OP_NEG, NF.OP_INV):
        NF._fq_apply(op, a, b, out)
        assert fq_from_lem(out) == [_fq_ref(op, x, y) for x, y in zip(xs, ys)], f"op {op}"


@kernel_settings
@given(st.lists(st.tuples(fq_edge, fq_edge), min_size=1, max_size=12))
def test_both_montgomery_multiplications_match_python_ints(pairs: list[tuple[int, int]]) -> None:
    """The ADX assembly (used when the CPU has it) and the portable IR agree with Python ints."""
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    a, b = fq_to_lem(xs), fq_to_lem(ys)
    want = [x * y % Q for x, y in pairs]
    out = np.zeros_like(a)
    NF._fq_mul_portable_apply(a, b, out)
    assert fq_from_lem(out) == want
    NF._fq_apply(NF.OP_MUL, a, b, out)
    assert fq_from_lem(out) == want


def test_fq_inverse_of_zero_is_zero_and_mul_by_inverse_is_one() -> None:
    a = fq_to_lem([0, 5, Q - 1])
    inv = np.zeros_like(a)
    NF._fq_apply(NF.OP_INV, a, a, inv)
    prod = np.zeros_like(a)
    NF._fq_apply(NF.OP_MUL, a, inv, prod)
    assert fq_from_lem(prod) == [0, 1, 1]


def _fq2_ref(op: int, x: tuple[int, int], y: tuple[int, int]) -> tuple[int, int]:
    if op == NF.OP_ADD:
        return A.fq2_add(x, y)
    if op == NF.OP_SUB:
        return A.fq2_sub(x, y)
    if op == NF.OP_MUL:
        return A.fq2_mul(x, y)
    if op == NF.OP_SQR:
        return A.fq2_sqr(x)
    if op == NF.OP_NEG:
        return A.fq2_neg(x)
    return (0, 0) if x == (0, 0) else A.fq2_inv(x)


@kernel_settings
@given(st.lists(st.tuples(st.tuples(fq_edge, fq_edge), st.tuples(fq_edge, fq_edge)), min_size=1, max_size=8))
def test_fq2_ops_match_reference(pairs: list[tuple[tuple[int, int], tuple[int, int]]]) -> None:
    a = fq_to_lem([c for x, _ in pairs for c in x]).reshape(-1, 8)
    b = fq_to_lem([c for _, y in pairs for c in y]).reshape(-1, 8)
    out = np.zeros_like(a)
    for op in (NF.OP_ADD, NF.OP_SUB, NF.OP_MUL, NF.OP_SQR, NF.OP_NEG, NF.OP_INV):
        NF._fq2_apply(op, a, b, out)
        c = fq_from_lem(out.reshape(-1, 4))
        got = [(c[i], c[i + 1]) for i in range(0, len(c), 2)]
        assert got == [_fq2_ref(op, x, y) for x, y in pairs], f"op {op}"


# ---- groups -----------------------------------------------------------------------------


@dataclass
class Group:
    name: str
    curve: Any
    width: int
    wit: Any
    to_lem: Callable[[Any], np.ndarray]
    from_lem: Callable[[np.ndarray], list[Any]]
    pool: list[Any]
    sparse: Callable[..., np.ndarray]
    sparse_ref: Callable[..., np.ndarray]
    scale: Callable[..., np.ndarray]
    scale_ref: Callable[..., np.ndarray]
    msm: Callable[..., np.ndarray]
    msm_ref: Callable[..., np.ndarray]
    to_affine: Callable[..., np.ndarray]
    to_affine_ref: Callable[..., np.ndarray]


def _pool(curve: Any, n: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    return curve.batch_mul(curve.generator, [rng.randrange(1, R) for _ in range(n)])


_GROUPS: dict[str, Group] = {}


def _group(name: str) -> Group:
    if name not in _GROUPS:
        if name == "G1":
            _GROUPS[name] = Group(
                "G1", G1, 8, NC.G1_WIT, A.g1_to_lem, A.g1_from_lem, _pool(G1, 300, 1),
                A.g1_sparse_combination, A.g1_sparse_combination_ref, A.g1_scale, A.g1_scale_ref,
                A.g1_msm, A.g1_msm_ref, A.g1_batch_to_affine, A.g1_batch_to_affine_ref,
            )  # fmt: skip
        else:
            _GROUPS[name] = Group(
                "G2", G2, 16, NC.G2_WIT, A.g2_to_lem, A.g2_from_lem, _pool(G2, 300, 2),
                A.g2_sparse_combination, A.g2_sparse_combination_ref, A.g2_scale, A.g2_scale_ref,
                A.g2_msm, A.g2_msm_ref, A.g2_batch_to_affine, A.g2_batch_to_affine_ref,
            )  # fmt: skip
    return _GROUPS[name]


@pytest.fixture(scope="module", params=["G1", "G2"])
def group(request: pytest.FixtureRequest) -> Group:
    return _group(request.param)


def _point(g: Group, i: int) -> Any:
    """Pool point i, with index -1 standing for infinity."""
    return g.curve.infinity if i < 0 else g.pool[i]


# ---- point arithmetic ---------------------------------------------------------------------

pair_strategy = st.lists(
    st.tuples(
        st.integers(min_value=-1, max_value=11),
        st.integers(min_value=-1, max_value=11),
        st.sampled_from(["other", "same", "negated"]),
    ),
    min_size=1,
    max_size=8,
)


@kernel_settings
@given(pairs=pair_strategy)
def test_point_ops_match_reference(group: Group, pairs: list[tuple[int, int, str]]) -> None:
    c = group.curve
    ps, qs = [], []
    for i, j, mode in pairs:
        p = _point(group, i)
        q = p if mode == "same" else c.neg(p) if mode == "negated" else _point(group, j)
        ps.append(p)
        qs.append(q)
    a, b = group.to_lem(ps), group.to_lem(qs)
    out = np.zeros_like(a)
    expected = {
        NM.PT_ADD: [c.add(p, q) for p, q in zip(ps, qs)],
        NM.PT_DOUBLE: [c.double(p) for p in ps],
        NM.PT_ADD_AFF: [c.add(p, q) for p, q in zip(ps, qs)],
        NM.PT_SUB: [c.add(p, c.neg(q)) for p, q in zip(ps, qs)],
    }
    for op, want in expected.items():
        NM.point_apply(op, a, b, out, group.wit)
        assert group.from_lem(out) == want, f"op {op}"


@slow_settings
@given(ks=st.lists(fr_edge, min_size=1, max_size=4), idx=st.integers(-1, 11))
def test_scalar_mul_matches_reference(group: Group, ks: list[int], idx: int) -> None:
    # one term per output: w-NAF ladder with a per-term table, k > (r-1)/2 as -(r-k)
    pts = [_point(group, (idx + t) % 12 if idx >= 0 else -1) for t in range(len(ks))]
    n = len(ks)
    out = group.sparse(group.to_lem(pts), np.arange(n + 1), np.arange(n), fr_to_limbs(ks))
    assert group.from_lem(out) == [group.curve.mul(p, k) for p, k in zip(pts, ks)]


@settings(max_examples=100, deadline=None)
@given(k=st.integers(min_value=0, max_value=(1 << 255) - 1), w=st.integers(min_value=2, max_value=5))
def test_wnaf_kernel_matches_python_and_sums_to_k(k: int, w: int) -> None:
    digits = np.zeros((1, NM.NAF_LEN), dtype=np.int8)
    limbs = A.ints_to_limbs([k])[0]
    n = NC.wnaf(limbs[0], limbs[1], limbs[2], limbs[3], w, digits, 0)
    expected = wnaf_digits(k, w)
    assert digits[0, :n].tolist() == expected
    assert sum(d << i for i, d in enumerate(expected)) == k
    assert all(d == 0 or (d % 2 == 1 and abs(d) < 1 << (w - 1)) for d in expected)


# ---- sparse combinations --------------------------------------------------------------------

csr_strategy = st.lists(  # rows of (point index, scalar); point -1 is infinity
    st.lists(st.tuples(st.integers(min_value=-1, max_value=5), fr_edge), max_size=5), max_size=6
)


def _csr(g: Group, rows: list[list[tuple[int, int]]]) -> tuple[np.ndarray, ...]:
    points = g.to_lem([g.curve.infinity, *g.pool[:6]])  # index 0 is infinity
    indptr = np.array([0, *np.cumsum([len(r) for r in rows])], dtype=np.int64)
    indices = np.array([i + 1 for r in rows for i, _ in r], dtype=np.int64)
    scalars = fr_to_limbs([k for r in rows for _, k in r]).reshape(-1, 4)
    return points, indptr, indices, scalars


@slow_settings
@given(rows=csr_strategy)
def test_sparse_combination_matches_reference(group: Group, rows: list[list[tuple[int, int]]]) -> None:
    args = _csr(group, rows)
    fast = group.sparse(*args)
    assert fast.shape == (len(rows), group.width)
    assert np.array_equal(fast, group.sparse_ref(*args))


@pytest.mark.parametrize("impl", ["fast", "ref"])
def test_sparse_combination_edge_cases(group: Group, impl: str) -> None:
    c, p = group.curve, group.pool
    k = 0x1234567890ABCDEF1234567890ABCDEF1234567890ABCDEF1234567890ABCDEF % R
    rows = [
        [],  # empty row -> infinity
        [(0, 1)],  # one
        [(1, R - 1)],  # minus one
        [(2, k), (2, R - k)],  # cancels -> infinity
        [(3, 5), (3, 7), (4, 0)],  # duplicate index, zero scalar
        [(-1, k), (5, 2)],  # infinity point
        [(i % 6, (k * (i + 1)) % R) for i in range(40)],  # longer than one Straus block
    ]
    expected = [
        c.infinity,
        p[0],
        c.neg(p[1]),
        c.infinity,
        c.mul(p[3], 12),
        c.mul(p[5], 2),
        c.msm([p[i % 6] for i in range(40)], [(k * (i + 1)) % R for i in range(40)]),
    ]
    fn = group.sparse if impl == "fast" else group.sparse_ref
    got = fn(*_csr(group, rows))
    assert group.from_lem(got) == expected
    assert not got[0].any() and not got[3].any()  # infinity is all zero


def test_sparse_combination_no_outputs(group: Group) -> None:
    points, _, _, _ = _csr(group, [])
    out = group.sparse(points, np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros((0, 4), np.uint64))
    assert out.shape == (0, group.width)


# ---- scale ----------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, 1, 2, R - 1, R, R + 5, -1, 2**200 + 1, 0xDEADBEEF * 10**60 % R])
def test_scale_matches_reference(group: Group, k: int) -> None:
    points = group.to_lem([group.curve.infinity, *group.pool[:3]])
    assert np.array_equal(group.scale(points, k), group.scale_ref(points, k))


def test_scale_many_points_in_parallel_chunks(group: Group) -> None:
    points = group.to_lem(group.pool[:16] * 40)
    k = 3**150 % R
    fast = group.scale(points, k)
    assert np.array_equal(fast[:16], group.scale_ref(points[:16], k))
    assert np.array_equal(np.tile(fast[:16], (40, 1)), fast)


# ---- MSM ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 10, 300])
@pytest.mark.parametrize("kind", ["random", "witness"])
def test_msm_matches_reference(group: Group, n: int, kind: str) -> None:
    rng = random.Random(n * 7 + len(kind))
    if kind == "random":
        ks = [rng.randrange(R) for _ in range(n)]
    else:  # range-check bits: mostly 0 and 1, some r - 1, small and full-width values
        ks = [rng.choice([0, 0, 0, 1, 1, 1, R - 1, rng.randrange(2, 1000), rng.randrange(R)]) for _ in range(n)]
    pts = [group.pool[i] for i in range(n)]
    if n >= 2:
        pts[1] = group.curve.infinity
    points, scalars = group.to_lem(pts).reshape(-1, group.width), fr_to_limbs(ks).reshape(-1, 4)
    fast = group.msm(points, scalars)
    assert fast.shape == (group.width,)
    assert np.array_equal(fast, group.msm_ref(points, scalars))


@slow_settings
@given(ks=st.lists(fr_edge, min_size=1, max_size=40))
def test_msm_property(group: Group, ks: list[int]) -> None:
    points = group.to_lem(group.pool[: len(ks)])
    scalars = fr_to_limbs(ks)
    assert np.array_equal(group.msm(points, scalars), group.msm_ref(points, scalars))


@pytest.mark.parametrize("window", [3, 9, 10, 11])  # 9: Jacobian buckets; 10, 11: affine buckets
@pytest.mark.parametrize("kind", ["random", "same scalar", "repeated points"])
def test_msm_bucket_paths(group: Group, window: int, kind: str) -> None:
    rng = random.Random(window)
    n = 300
    pts = list(group.pool[:n])
    ks = [rng.randrange(2, R - 1) for _ in range(n)]
    if kind == "same scalar":  # every point lands in the same bucket of every window
        ks = [ks[0]] * n
    elif kind == "repeated points":  # bucket == P (doubling) and bucket == -P (cancel) cases
        p, q = pts[0], pts[1]
        pts = [p, p, p, group.curve.neg(p), q, q, *pts[6:]]
        ks = [ks[0]] * 6 + ks[6:]
    points, scalars = group.to_lem(pts), fr_to_limbs(ks)
    like = NC.G1_WIT if group.name == "G1" else NC.G2_WIT
    fast = K._msm(points, scalars, group.width, like, window=window)
    assert np.array_equal(fast, group.msm_ref(points, scalars))


@pytest.mark.parametrize("window", range(2, 21))
def test_msm_every_window_size(group: Group, window: int) -> None:
    """Every window the cost model can pick, on edge scalars, infinity and repeated points."""
    rng = random.Random(window)
    ks = [0, 1, R - 1, 2, R - 2, (R - 1) // 2, (R + 1) // 2, 2**64 - 1, 2**64, rng.randrange(R), rng.randrange(1000)]
    pts = list(group.pool[: len(ks)])
    pts[3] = group.curve.infinity
    pts[4] = pts[5]  # the same point twice, with different scalars
    ks.append(ks[-2])
    pts.append(pts[-2])  # and the same point with the same scalar
    points, scalars = group.to_lem(pts), fr_to_limbs(ks)
    like = NC.G1_WIT if group.name == "G1" else NC.G2_WIT
    assert np.array_equal(K._msm(points, scalars, group.width, like, window=window), group.msm_ref(points, scalars))


@pytest.mark.parametrize("kind", ["small only", "small and full", "single small", "units only"])
def test_msm_scalar_partition(group: Group, kind: str) -> None:
    """Scalars below 2^64 take their own Pippenger pass; 0, 1 and r - 1 take none."""
    rng = random.Random(len(kind))
    n = 200
    if kind == "small only":
        ks = [rng.choice([0, 1, rng.randrange(2, 2**64)]) for _ in range(n)]
    elif kind == "small and full":
        ks = [
            rng.choice([0, 1, R - 1, rng.randrange(2, 256), rng.randrange(2, 2**64), rng.randrange(R)])
            for _ in range(n)
        ]
    elif kind == "single small":
        ks = [0] * (n - 1) + [5]
    else:
        ks = [rng.choice([1, R - 1]) for _ in range(n)]
    points, scalars = group.to_lem(group.pool[:n]), fr_to_limbs(ks)
    assert np.array_equal(group.msm(points, scalars), group.msm_ref(points, scalars))


@pytest.mark.parametrize("n,bits", [(1, 254), (300, 254), (1 << 12, 254), (1 << 16, 254), (1 << 20, 254), (100, 8)])
def test_msm_window_bits_is_sane(n: int, bits: int) -> None:
    c = A.msm_window_bits(n, bits)
    assert 2 <= c <= 20
    assert A.msm_window_bits(n * 16, bits) >= c
    for workers in (2, 3, 8):
        assert 2 <= A.msm_window_bits(n, bits, workers) <= 20
        assert A.msm_window_bits(n * 16, bits, workers) >= A.msm_window_bits(n, bits, workers)


# ---- Jacobian -> affine -------------------------------------------------------------------------


def test_batch_to_affine_matches_reference(group: Group) -> None:
    c = group.curve
    o = c.ops
    rng = random.Random(5)
    rows = []
    for i in range(9):
        if i in (2, 7):
            rows.append((o.one, o.one, o.zero))  # infinity
            continue
        x, y = group.pool[i]
        z = o.one if i == 0 else (rng.randrange(1, Q) if group.name == "G1" else (rng.randrange(Q), rng.randrange(Q)))
        z2 = o.sqr(z)
        rows.append((o.mul(x, z2), o.mul(y, o.mul(z2, z)), z))
    flat = [v for p in rows for coord in p for v in ((coord,) if group.name == "G1" else coord)]
    jac = fq_to_lem(flat).reshape(len(rows), -1)
    fast = group.to_affine(jac)
    assert np.array_equal(fast, group.to_affine_ref(jac))
    expected = [c.infinity if i in (2, 7) else group.pool[i] for i in range(9)]
    assert group.from_lem(fast) == expected


def test_read_only_inputs_give_the_same_results(group: Group) -> None:
    points, indptr, indices, scalars = _csr(group, [[(0, 3), (1, R - 4)], [(2, 5)]])
    expected = group.sparse(points, indptr, indices, scalars)
    for arr in (points, indptr, indices, scalars):
        arr.setflags(write=False)
    assert np.array_equal(group.sparse(points, indptr, indices, scalars), expected)
    assert np.array_equal(group.msm(points, fr_to_limbs([7] * 7)), group.msm_ref(points, fr_to_limbs([7] * 7)))


# ---- validation ------------------------------------------------------------------------------


def test_inputs_are_validated(group: Group) -> None:
    points, indptr, indices, scalars = _csr(group, [[(0, 3), (1, 4)], [(2, 5)]])
    w = group.width
    with pytest.raises(ValueError, match="dtype is int64, expected uint64"):
        group.msm(points.astype(np.int64), fr_to_limbs([1] * points.shape[0]))
    with pytest.raises(ValueError, match=rf"shape is \(3, {w // 2}\), expected \(n, {w}\)"):
        group.scale(np.zeros((3, w // 2), np.uint64), 3)
    with pytest.raises(ValueError, match="not C-contiguous"):
        group.scale(np.asfortranarray(points), 3)
    with pytest.raises(ValueError, match="msm: 7 points but 6 scalars"):
        group.msm(points, fr_to_limbs([1] * 6))
    bad = points.copy()
    bad[1, :4] = A.ints_to_limbs([Q])[0]
    with pytest.raises(ValueError, match="not below q"):
        group.scale(bad, 3)
    big = scalars.copy()
    big[1] = A.ints_to_limbs([R])[0]
    with pytest.raises(ValueError, match=f"scalars: row 1 is {R}, not below r"):
        group.sparse(points, indptr, indices, big)
    with pytest.raises(ValueError, match="indices has 9, outside the 7 points"):
        group.sparse(points, indptr, np.array([0, 9, 1], np.int64), scalars)
    with pytest.raises(ValueError, match="indptr\\[-1\\] is 2 but there are 3 terms"):
        group.sparse(points, np.array([0, 1, 2], np.int64), indices, scalars)
    with pytest.raises(ValueError, match="indptr\\[0\\] is 1, expected 0"):
        group.sparse(points, np.array([1, 2, 3], np.int64), indices, scalars)
    with pytest.raises(ValueError, match="indptr decreases at output 1: 2 -> 1"):
        group.sparse(points, np.array([0, 2, 1, 3], np.int64), indices, scalars)
    with pytest.raises(ValueError, match="scalars has 2 rows but indices has 3 entries"):
        group.sparse(points, indptr, indices, scalars[:2].copy())
    with pytest.raises(ValueError, match="expected a 1-d int64 array, got dtype int32"):
        group.sparse(points, indptr.astype(np.int32), indices, scalars)
    with pytest.raises(ValueError, match="expected an integer scalar, got float"):
        group.scale(points, 2.0)
    for fn in (group.sparse_ref, group.sparse):  # the reference validates the same way
        with pytest.raises(ValueError, match="indices has -1, outside the 7 points"):
            fn(points, indptr, np.array([0, -1, 1], np.int64), scalars)
