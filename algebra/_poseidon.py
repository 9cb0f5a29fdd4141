"""Native (pure Python) circomlib-compatible Poseidon hash over the BN254 scalar field.

``poseidon(values)`` equals circomlib's ``Poseidon(n)`` template and circomlibjs's
``poseidon(values)`` for 1 to 16 inputs.  The permutation, with ``t = n + 1``,
state ``[0, in_1, ..., in_n]`` (capacity element first), R_F = 8 full and R_P
partial rounds, is, per round ``r``::

    state[i] += C[r * t + i]               for all i
    state[i]  = state[i] ** 5              for all i (full rounds), i = 0 only (partial)
    state[i]  = sum_j M[i][j] * state[j]

and the digest is ``state[0]``.  Constants come from
:func:`algebra._poseidon_constants.poseidon_params`.

The evaluation below is algebraically identical but cheaper: the partial rounds use
the sparse-matrix factorisation from Appendix B of the Poseidon paper (ePrint
2019/458).  Writing ``A = [[a00, v^T], [w, H]]`` one has
``A = S · diag(1, H)`` with ``S = [[a00, v^T H^-1], [w, I]]``; the block
``diag(1, H)`` commutes with the partial S-box (which only touches ``state[0]``), so
it is pushed into the preceding round, where it multiplies ``M`` and is factored
again (closed forms in ``poseidon_tables``).  Round constants of the partial rounds are
pushed the same way, so that each partial round only adds one scalar to
``state[0]``; ``state[1:]`` then costs ``t - 1`` multiplications per partial round.  ``_poseidon_reference`` keeps
the textbook evaluation for cross-checking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from operator import mul

from ._poseidon_constants import (
    FIELD_MODULUS,
    MAX_T,
    MIN_T,
    PoseidonParams,
    poseidon_params,
)

__all__ = ["MAX_INPUTS", "MIN_INPUTS", "poseidon", "poseidon_tables"]

MIN_INPUTS = MIN_T - 1
MAX_INPUTS = MAX_T - 1

_P = FIELD_MODULUS

Vector = tuple[int, ...]
Matrix = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class _OptimizedTables:
    """Precomputed tables for the fast evaluation of one width ``t``."""

    t: int
    half_full: int
    # Full round constants, one vector per full round (first half then second
    # half); the first round after the partial block absorbs the constants
    # carried out of the partial rounds.
    first_constants: tuple[Vector, ...]
    last_constants: tuple[Vector, ...]
    # Matrix of the full rounds, and of the last full round before the partial
    # block (M premultiplied by diag(1, M_hat^R_P)).
    mds: Matrix
    pre_partial_mds: Matrix
    # Per partial round k: scalar constant for state[0] and the sparse matrix
    # S_k = [[m00, v_k^T], [w_k, I]].
    m00: int
    partial_constants: Vector
    partial_v: tuple[Vector, ...]
    partial_w: tuple[Vector, ...]


def _mat_mul(a: Matrix, b: Matrix) -> Matrix:
    cols = tuple(zip(*b, strict=True))
    return tuple(tuple(sum(map(mul, row, col)) % _P for col in cols) for row in a)


def _mat_vec(a: Matrix, v: Sequence[int]) -> Vector:
    return tuple(sum(map(mul, row, v)) % _P for row in a)


def _vec_mat(v: Sequence[int], a: Matrix) -> Vector:
    return tuple(sum(map(mul, v, col)) % _P for col in zip(*a, strict=True))


def _mat_pow(a: Matrix, e: int) -> Matrix:
    n = len(a)
    result: Matrix = tuple(tuple(int(i == j) for j in range(n)) for i in range(n))
    while e:
        if e & 1:
            result = _mat_mul(result, a)
        a = _mat_mul(a, a)
        e >>= 1
    return result


def _mat_inv(a: Matrix) -> Matrix:
    """Inverse modulo p by Gauss-Jordan elimination (``a`` must be invertible)."""
    n = len(a)
    aug = [list(row) + [int(i == j) for j in range(n)] for i, row in enumerate(a)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if aug[r][col] % _P)
        aug[col], aug[pivot] = aug[pivot], aug[col]
        inv = pow(aug[col][col], -1, _P)
        aug[col] = [x * inv % _P for x in aug[col]]
        for r in range(n):
            if r != col and aug[r][col]:
                f = aug[r][col]
                aug[r] = [(x - f * y) % _P for x, y in zip(aug[r], aug[col], strict=True)]
    return tuple(tuple(row[n:]) for row in aug)


@cache
def poseidon_tables(t: int) -> _OptimizedTables:
    """Sparse partial-round tables (see the module docstring for the factorisation).

    With ``M = [[m00, v^T], [w, H]]`` and ``e_k = R_P - k`` for partial round
    ``k = 0..R_P-1``, the round matrix ``diag(1, H^(e_k - 1)) · M`` factors as
    ``S_k · diag(1, H^e_k)`` with ``S_k = [[m00, v^T H^-e_k], [H^(e_k - 1) w, I]]``.
    Telescoping, the partial block becomes ``S_0 ... S_{R_P-1}`` (interleaved with
    the S-box on ``state[0]``) preceded by ``diag(1, H^R_P)``, which is folded into
    the previous full round's matrix.

    Constants: round ``k`` adds ``diag(1, H^e_k) c_k``.  Its tail commutes past the
    S-box, and ``S_k (0, u) = (v^T H^-e_k u, u)``, so tails accumulate.  Writing the
    accumulated tail as ``H^e_k r_k`` gives ``r_k = H r_{k-1} + c_k[1:]`` and a
    scalar constant ``c_k[0] + v · r_{k-1}`` for ``state[0]``; what is left after
    the last partial round, ``(v · r, H r)``, joins the next full round's constants.
    """
    params: PoseidonParams = poseidon_params(t)
    m = params.mds
    half = params.full_rounds // 2
    n_partial = params.partial_rounds
    consts = [params.round_constants[r * t : (r + 1) * t] for r in range(params.full_rounds + n_partial)]

    m00 = m[0][0]
    v = m[0][1:]
    w = tuple(row[0] for row in m[1:])
    h: Matrix = tuple(row[1:] for row in m[1:])
    h_inv = _mat_inv(h)

    partial_v: list[Vector] = [()] * n_partial
    partial_w: list[Vector] = [()] * n_partial
    vk = v
    wk = w
    for k in range(n_partial - 1, -1, -1):  # e_k = 1, 2, ..., R_P
        vk = _vec_mat(vk, h_inv)  # v^T H^-e_k
        partial_v[k] = vk
        partial_w[k] = wk  # H^(e_k - 1) w
        wk = _mat_vec(h, wk)

    partial_constants: list[int] = []
    r: Vector = (0,) * (t - 1)
    for k in range(n_partial):
        c = consts[half + k]
        partial_constants.append((c[0] + sum(map(mul, v, r))) % _P)
        r = tuple((x + y) % _P for x, y in zip(_mat_vec(h, r), c[1:], strict=True))
    carry = (sum(map(mul, v, r)) % _P, *_mat_vec(h, r))

    last_constants = [list(c) for c in consts[half + n_partial :]]
    last_constants[0] = [(x + y) % _P for x, y in zip(last_constants[0], carry, strict=True)]

    pre_partial_mds = (m[0], *_mat_mul(_mat_pow(h, n_partial), m[1:]))

    return _OptimizedTables(
        t=t,
        half_full=half,
        first_constants=tuple(consts[:half]),
        last_constants=tuple(tuple(c) for c in last_constants),
        mds=m,
        pre_partial_mds=pre_partial_mds,
        m00=m00,
        partial_constants=tuple(partial_constants),
        partial_v=tuple(partial_v),
        partial_w=tuple(partial_w),
    )


def _validate(values: Sequence[int]) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"Poseidon inputs must be a sequence of ints, got {type(values).__name__}")
    count = len(values)
    if not MIN_INPUTS <= count <= MAX_INPUTS:
        raise ValueError(f"got {count} inputs, Poseidon supports {MIN_INPUTS} to {MAX_INPUTS}")
    checked: list[int] = []
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"Poseidon input {index} must be an int, got {value!r} ({type(value).__name__})")
        if not 0 <= value < _P:
            raise ValueError(f"Poseidon input {index} is out of range [0, r): {value}")
        checked.append(int(value))
    return checked


def poseidon(values: Sequence[int]) -> int:
    """circomlib Poseidon hash of 1 to 16 BN254 scalar field elements.

    Each input must be an ``int`` in ``[0, r)`` with ``r`` the BN254 scalar field
    order; no implicit reduction is performed.
    """
    inputs = _validate(values)
    tb = poseidon_tables(len(inputs) + 1)
    p = _P
    mds = tb.mds

    state = [0, *inputs]
    # First half of the full rounds; the last one uses the premultiplied matrix.
    for r, c in enumerate(tb.first_constants):
        state = [pow(x + k, 5, p) for x, k in zip(state, c, strict=False)]
        matrix = tb.pre_partial_mds if r == tb.half_full - 1 else mds
        state = [sum(map(mul, row, state)) % p for row in matrix]

    # Partial rounds with sparse matrices.  state[1:] is left unreduced (it only
    # grows by < p^2 per round); pow() reduces everything in the next full round.
    # (Lengths all match by construction, hence zip(strict=False) in the hot loops.)
    x0 = state[0]
    rest = state[1:]
    m00 = tb.m00
    for k0, v, w in zip(tb.partial_constants, tb.partial_v, tb.partial_w, strict=False):
        s0 = pow(x0 + k0, 5, p)
        x0 = m00 * s0 + sum(map(mul, v, rest))
        rest = [x + wi * s0 for x, wi in zip(rest, w, strict=False)]
    state = [x0, *rest]

    # Second half of the full rounds; only state[0] of the last one is needed.
    last = len(tb.last_constants) - 1
    for r, c in enumerate(tb.last_constants):
        state = [pow(x + k, 5, p) for x, k in zip(state, c, strict=False)]
        if r == last:
            digest: int = sum(map(mul, mds[0], state)) % p
            return digest
        state = [sum(map(mul, row, state)) % p for row in mds]
    raise AssertionError("unreachable: Poseidon has at least one full round")


def _poseidon_reference(values: Sequence[int]) -> int:
    """Textbook evaluation (as circomlibjs's ``poseidon_reference.js``)."""
    inputs = _validate(values)
    t = len(inputs) + 1
    params = poseidon_params(t)
    half = params.full_rounds // 2
    rounds = params.full_rounds + params.partial_rounds
    c = params.round_constants
    state = [0, *inputs]
    for r in range(rounds):
        state = [(x + k) % _P for x, k in zip(state, c[r * t : (r + 1) * t], strict=True)]
        if r < half or r >= half + params.partial_rounds:
            state = [pow(x, 5, _P) for x in state]
        else:
            state[0] = pow(state[0], 5, _P)
        state = [sum(map(mul, row, state)) % _P for row in params.mds]
    return state[0]
