"""Reference elliptic-curve arithmetic for G1 and G2 of BN254 on Python ints.

One implementation of short-Weierstrass arithmetic (a = 0) serves both groups: a curve
is its coordinate field's operations plus its `b`. Points cross the public API in affine
form, a tuple (x, y); the point at infinity is (0, 0) in G1 and ((0, 0), (0, 0)) in G2,
the convention of .zkey files and Ethereum's precompiles (neither pair lies on the
curve, since b != 0). Internally sums run in Jacobian coordinates (X, Y, Z), x = X/Z^2,
y = Y/Z^3, Z = 0 at infinity.

This is the slow, obviously-correct twin of the numba kernels: Python ints, formulas
from the Explicit-Formulas Database (dbl-2009-l, add-2007-bl, madd-2007-bl).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._constants import BN_X, G1_B, G1_GEN, G2_B, G2_GEN, Q, R
from ._errors import FieldElementOutOfRangeError, PointNotInSubgroupError, PointNotOnCurveError
from ._field import (
    FQ2_ONE,
    FQ2_ZERO,
    batch_inverse,
    fq2_add,
    fq2_inv,
    fq2_mul,
    fq2_neg,
    fq2_sqr,
    fq2_sub,
)
from ._tower import FROBENIUS_GAMMA, fq2_conj

F = TypeVar("F")  # an element of the coordinate field: int (Fq) or tuple[int, int] (Fq2)


@dataclass(frozen=True)
class _FieldOps(Generic[F]):
    zero: F
    one: F
    add: Callable[[F, F], F]
    sub: Callable[[F, F], F]
    mul: Callable[[F, F], F]
    sqr: Callable[[F], F]
    neg: Callable[[F], F]
    inv: Callable[[F], F]
    batch_inv: Callable[[Sequence[F]], list[F]]
    in_range: Callable[[Any], bool]


def _fq2_batch_inv(values: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    # Invert the norms in one batch: 1/a = conj(a) / N(a).
    norms = [(a[0] * a[0] + a[1] * a[1]) % Q for a in values]
    inv_norms = batch_inverse(norms, Q)
    return [(a[0] * t % Q, -a[1] * t % Q) for a, t in zip(values, inv_norms)]


def _is_fq(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < Q


def _is_fq2(v: Any) -> bool:
    return isinstance(v, tuple) and len(v) == 2 and _is_fq(v[0]) and _is_fq(v[1])


_FQ_OPS: _FieldOps[int] = _FieldOps(
    zero=0,
    one=1,
    add=lambda a, b: (a + b) % Q,
    sub=lambda a, b: (a - b) % Q,
    mul=lambda a, b: a * b % Q,
    sqr=lambda a: a * a % Q,
    neg=lambda a: -a % Q,
    inv=lambda a: pow(a, -1, Q),
    batch_inv=lambda vs: batch_inverse(vs, Q),
    in_range=_is_fq,
)

_FQ2_OPS: _FieldOps[tuple[int, int]] = _FieldOps(
    zero=FQ2_ZERO,
    one=FQ2_ONE,
    add=fq2_add,
    sub=fq2_sub,
    mul=fq2_mul,
    sqr=fq2_sqr,
    neg=fq2_neg,
    inv=fq2_inv,
    batch_inv=_fq2_batch_inv,
    in_range=_is_fq2,
)


class Curve(Generic[F]):
    """A prime-order group of BN254 (G1 or G2) with reference arithmetic.

    Affine points are tuples (x, y); `infinity` is (zero, zero).
    """

    def __init__(self, name: str, ops: _FieldOps[F], b: F, generator: tuple[F, F], cofactor_is_one: bool) -> None:
        self.name = name
        self.ops = ops
        self.b = b
        self.generator = generator
        self.order = R
        self.infinity: tuple[F, F] = (ops.zero, ops.zero)
        self._cofactor_is_one = cofactor_is_one
        self._subgroup_test: Callable[[tuple[F, F]], bool] | None = None

    def __repr__(self) -> str:
        return f"Curve({self.name})"

    # ---- predicates ------------------------------------------------------------
    def is_infinity(self, p: tuple[F, F]) -> bool:
        return p == self.infinity

    def is_on_curve(self, p: tuple[F, F]) -> bool:
        """True for infinity and for (x, y) with y^2 = x^3 + b."""
        if self.is_infinity(p):
            return True
        o = self.ops
        x, y = p
        return o.sqr(y) == o.add(o.mul(o.sqr(x), x), self.b)

    def in_subgroup(self, p: tuple[F, F]) -> bool:
        """True if p (assumed on the curve) has order dividing r. G2 decides it with the
        endomorphism test (`g2_in_subgroup`), about 4x cheaper than a multiplication by r."""
        if self._cofactor_is_one or self.is_infinity(p):
            return True
        if self._subgroup_test is not None:
            return self._subgroup_test(p)
        return self.in_subgroup_by_order(p)

    def in_subgroup_by_order(self, p: tuple[F, F]) -> bool:
        """[r]p == O: the definition, the reference twin of the endomorphism test."""
        return self._jac_is_inf(self._jac_mul(self._to_jac(p), self.order))

    def validate(self, p: Any, what: str = "point") -> tuple[F, F]:
        """Check shape, coordinate range, curve equation and subgroup; return p.

        Raises FieldElementOutOfRangeError, PointNotOnCurveError or
        PointNotInSubgroupError naming `what`.
        """
        if not (isinstance(p, tuple) and len(p) == 2):
            raise FieldElementOutOfRangeError(f"{what}: a {self.name} point is a pair (x, y), got {p!r}")
        for coord_name, c in zip("xy", p):
            if not self.ops.in_range(c):
                raise FieldElementOutOfRangeError(
                    f"{what}: {self.name} coordinate {coord_name} is not a field element below q: {c!r}"
                )
        if not self.is_on_curve(p):
            raise PointNotOnCurveError(f"{what}: ({p[0]}, {p[1]}) is not on {self.name}")
        if not self.in_subgroup(p):
            raise PointNotInSubgroupError(
                f"{what}: point is on the curve but not in the order-r subgroup of {self.name}"
            )
        return p

    # ---- affine API ------------------------------------------------------------
    def neg(self, p: tuple[F, F]) -> tuple[F, F]:
        if self.is_infinity(p):
            return p
        return (p[0], self.ops.neg(p[1]))

    def add(self, p: tuple[F, F], q: tuple[F, F]) -> tuple[F, F]:
        return self._to_affine(self._jac_add(self._to_jac(p), self._to_jac(q)))

    def double(self, p: tuple[F, F]) -> tuple[F, F]:
        return self._to_affine(self._jac_double(self._to_jac(p)))

    def mul(self, p: tuple[F, F], k: int) -> tuple[F, F]:
        """k * p for any integer k (reduced mod r)."""
        return self._to_affine(self._jac_mul(self._to_jac(p), k % self.order))

    def sum(self, points: Sequence[tuple[F, F]]) -> tuple[F, F]:
        acc = self._jac_infinity()
        for p in points:
            acc = self._jac_add_affine(acc, p)
        return self._to_affine(acc)

    def batch_mul(self, base: tuple[F, F], scalars: Sequence[int], window: int = 8) -> list[tuple[F, F]]:
        """[k * base for k in scalars] with a fixed-base window table (for key setup).

        With w-bit windows each product costs about 256/w additions instead of 256
        doublings plus 128 additions; results are normalised with one batched inversion.
        """
        n_windows = (self.order.bit_length() + window - 1) // window
        mask = (1 << window) - 1
        # table[j][d] = d * 2^(w*j) * base, affine
        table: list[list[tuple[F, F]]] = []
        row_base = self._to_jac(base)
        for _ in range(n_windows):
            row = [self._jac_infinity()]
            for _d in range(1, mask + 1):
                row.append(self._jac_add(row[-1], row_base))
            table.append(self._batch_to_affine(row))
            row_base = self._jac_add(row[mask], row_base)  # 2^w times this window's unit
        out = []
        for k in scalars:
            k %= self.order
            acc = self._jac_infinity()
            j = 0
            while k:
                d = k & mask
                if d:
                    acc = self._jac_add_affine(acc, table[j][d])
                k >>= window
                j += 1
            out.append(acc)
        return self._batch_to_affine(out)

    def msm(self, points: Sequence[tuple[F, F]], scalars: Sequence[int]) -> tuple[F, F]:
        """sum_i scalars[i] * points[i] by Pippenger's bucket method (reference speed).

        Zero scalars are skipped and scalars equal to one are added directly: witnesses
        are mostly range-check bits.
        """
        if len(points) != len(scalars):
            raise ValueError(f"msm: {len(points)} points but {len(scalars)} scalars")
        acc = self._jac_infinity()
        big_points: list[tuple[F, F]] = []
        big_scalars: list[int] = []
        for p, k in zip(points, scalars):
            k %= self.order
            if k == 0 or self.is_infinity(p):
                continue
            if k == 1:
                acc = self._jac_add_affine(acc, p)
            else:
                big_points.append(p)
                big_scalars.append(k)
        if big_points:
            acc = self._jac_add(acc, self._pippenger(big_points, big_scalars))
        return self._to_affine(acc)

    # ---- Pippenger ---------------------------------------------------------------
    @staticmethod
    def _window_size(n: int, bits: int) -> int:
        """Window c minimising (bits/c) * (n + 2^(c+1)) additions."""
        best_c, best_cost = 1, None
        for c in range(1, 20):
            cost = ((bits + c - 1) // c) * (n + (2 << c))
            if best_cost is None or cost < best_cost:
                best_c, best_cost = c, cost
        return best_c

    def _pippenger(self, points: Sequence[tuple[F, F]], scalars: Sequence[int]) -> tuple[F, F, F]:
        bits = max(k.bit_length() for k in scalars)
        c = self._window_size(len(points), bits)
        mask = (1 << c) - 1
        n_windows = (bits + c - 1) // c
        result = self._jac_infinity()
        for w in range(n_windows - 1, -1, -1):
            for _ in range(c):
                result = self._jac_double(result)
            shift = w * c
            buckets: list[tuple[F, F, F] | None] = [None] * (mask + 1)
            for p, k in zip(points, scalars):
                d = (k >> shift) & mask
                if d:
                    b = buckets[d]
                    buckets[d] = self._to_jac(p) if b is None else self._jac_add_affine(b, p)
            # sum_d d * bucket[d] as a running sum from the top bucket down
            running = self._jac_infinity()
            window_sum = self._jac_infinity()
            for d in range(mask, 0, -1):
                b = buckets[d]
                if b is not None:
                    running = self._jac_add(running, b)
                window_sum = self._jac_add(window_sum, running)
            result = self._jac_add(result, window_sum)
        return result

    # ---- Jacobian internals ------------------------------------------------------
    def _jac_infinity(self) -> tuple[F, F, F]:
        return (self.ops.one, self.ops.one, self.ops.zero)

    def _jac_is_inf(self, p: tuple[F, F, F]) -> bool:
        return p[2] == self.ops.zero

    def _to_jac(self, p: tuple[F, F]) -> tuple[F, F, F]:
        if self.is_infinity(p):
            return self._jac_infinity()
        return (p[0], p[1], self.ops.one)

    def _to_affine(self, p: tuple[F, F, F]) -> tuple[F, F]:
        if self._jac_is_inf(p):
            return self.infinity
        o = self.ops
        zi = o.inv(p[2])
        zi2 = o.sqr(zi)
        return (o.mul(p[0], zi2), o.mul(p[1], o.mul(zi2, zi)))

    def _batch_to_affine(self, pts: Sequence[tuple[F, F, F]]) -> list[tuple[F, F]]:
        o = self.ops
        zs = [p[2] for p in pts]
        if o.zero in zs:
            # Batch inverse of Fq2 cannot skip zeros; handle infinities separately.
            idx = [i for i, z in enumerate(zs) if z != o.zero]
            invs_sparse = o.batch_inv([zs[i] for i in idx])
            invs: list[F | None] = [None] * len(pts)
            for i, v in zip(idx, invs_sparse):
                invs[i] = v
        else:
            invs = list(o.batch_inv(zs))
        out: list[tuple[F, F]] = []
        for p, zi in zip(pts, invs):
            if zi is None:
                out.append(self.infinity)
                continue
            zi2 = o.sqr(zi)
            out.append((o.mul(p[0], zi2), o.mul(p[1], o.mul(zi2, zi))))
        return out

    def _jac_double(self, p: tuple[F, F, F]) -> tuple[F, F, F]:
        o = self.ops
        x, y, z = p
        if z == o.zero:
            return p
        a = o.sqr(x)
        b = o.sqr(y)
        c = o.sqr(b)
        t = o.sub(o.sub(o.sqr(o.add(x, b)), a), c)
        d = o.add(t, t)
        e = o.add(o.add(a, a), a)
        f = o.sqr(e)
        x3 = o.sub(f, o.add(d, d))
        c8 = o.add(c, c)
        c8 = o.add(c8, c8)
        c8 = o.add(c8, c8)
        y3 = o.sub(o.mul(e, o.sub(d, x3)), c8)
        yz = o.mul(y, z)
        return (x3, y3, o.add(yz, yz))

    def _jac_add(self, p: tuple[F, F, F], q: tuple[F, F, F]) -> tuple[F, F, F]:
        o = self.ops
        if p[2] == o.zero:
            return q
        if q[2] == o.zero:
            return p
        x1, y1, z1 = p
        x2, y2, z2 = q
        z1z1 = o.sqr(z1)
        z2z2 = o.sqr(z2)
        u1 = o.mul(x1, z2z2)
        u2 = o.mul(x2, z1z1)
        s1 = o.mul(o.mul(y1, z2), z2z2)
        s2 = o.mul(o.mul(y2, z1), z1z1)
        h = o.sub(u2, u1)
        rr = o.sub(s2, s1)
        if h == o.zero:
            return self._jac_double(p) if rr == o.zero else self._jac_infinity()
        i = o.sqr(o.add(h, h))
        j = o.mul(h, i)
        rr = o.add(rr, rr)
        v = o.mul(u1, i)
        x3 = o.sub(o.sub(o.sqr(rr), j), o.add(v, v))
        s1j = o.mul(s1, j)
        y3 = o.sub(o.mul(rr, o.sub(v, x3)), o.add(s1j, s1j))
        z3 = o.mul(o.sub(o.sub(o.sqr(o.add(z1, z2)), z1z1), z2z2), h)
        return (x3, y3, z3)

    def _jac_add_affine(self, p: tuple[F, F, F], q: tuple[F, F]) -> tuple[F, F, F]:
        """Mixed addition: Jacobian p plus affine q."""
        o = self.ops
        if self.is_infinity(q):
            return p
        if p[2] == o.zero:
            return (q[0], q[1], o.one)
        x1, y1, z1 = p
        x2, y2 = q
        z1z1 = o.sqr(z1)
        u2 = o.mul(x2, z1z1)
        s2 = o.mul(o.mul(y2, z1), z1z1)
        h = o.sub(u2, x1)
        rr = o.sub(s2, y1)
        if h == o.zero:
            return self._jac_double(p) if rr == o.zero else self._jac_infinity()
        hh = o.sqr(h)
        i = o.add(hh, hh)
        i = o.add(i, i)
        j = o.mul(h, i)
        rr = o.add(rr, rr)
        v = o.mul(x1, i)
        x3 = o.sub(o.sub(o.sqr(rr), j), o.add(v, v))
        y1j = o.mul(y1, j)
        y3 = o.sub(o.mul(rr, o.sub(v, x3)), o.add(y1j, y1j))
        z3 = o.sub(o.sub(o.sqr(o.add(z1, h)), z1z1), hh)
        return (x3, y3, z3)

    def _jac_mul(self, p: tuple[F, F, F], k: int) -> tuple[F, F, F]:
        acc = self._jac_infinity()
        for bit in bin(k)[2:] if k else "":
            acc = self._jac_double(acc)
            if bit == "1":
                acc = self._jac_add(acc, p)
        return acc


G1: Curve[int] = Curve("G1", _FQ_OPS, G1_B, G1_GEN, cofactor_is_one=True)
G2: Curve[tuple[int, int]] = Curve("G2", _FQ2_OPS, G2_B, G2_GEN, cofactor_is_one=False)


_PSI_X, _PSI_Y = FROBENIUS_GAMMA[1][2], FROBENIUS_GAMMA[1][3]


def g2_psi(p: tuple[tuple[int, int], tuple[int, int]]) -> tuple[tuple[int, int], tuple[int, int]]:
    """psi = untwist o Frobenius o twist on E'(Fq2): (conj(x) xi^((q-1)/3), conj(y) xi^((q-1)/2))."""
    x, y = p
    return (fq2_mul(fq2_conj(x), _PSI_X), fq2_mul(fq2_conj(y), _PSI_Y))


def g2_in_subgroup(p: tuple[tuple[int, int], tuple[int, int]]) -> bool:
    """For p on the twist: [x+1]p + psi([x]p) + psi^2([x]p) == psi^3([2x]p), with x the BN
    parameter. The difference of the two sides is [r]p for every point of E'(Fq2) (El
    Housni, Guillevic and Piellard, eprint 2022/352; gnark's test), so this is [r]p == O
    with a 63-bit multiplication instead of a 254-bit one."""
    a = G2.mul(p, BN_X)
    b = g2_psi(a)
    lhs = G2.add(G2.add(G2.add(a, p), b), g2_psi(b))
    return lhs == G2.double(g2_psi(g2_psi(b)))


G2._subgroup_test = g2_in_subgroup

G1Point = tuple[int, int]
G2Point = tuple[tuple[int, int], tuple[int, int]]
