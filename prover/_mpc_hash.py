"""The "uncompressed" point encoding of ffjavascript and snarkjs's circuit hash (csHash).

Uncompressed encoding (ffjavascript ``toRprUncompressed`` / wasm ``LEMtoU``), used by
every hash of the phase-2 ceremony:
- G1: x || y, each 32 bytes big-endian in standard (non-Montgomery) form: 64 bytes.
- G2: each Fq2 coordinate is the 64-byte little-endian Montgomery pair (c0, c1)
  converted to standard form and byte-reversed as a whole, so x.c1 || x.c0 ||
  y.c1 || y.c0, each 32 bytes big-endian: 128 bytes (the EIP-197 order).
- Infinity is all zero bytes: no flag bit (only the compressed form sets 0x40).

The circuit hash is blake2b-512 over, in this order (zkey_new.js):
1. alpha1, beta1 (G1), beta2 (G2), then gamma2 = G2 generator, delta1 = G1 generator,
   delta2 = G2 generator: the header's points, uncompressed;
2. for each of IC (section 3), H, C (section 8), A (5), B1 (6), B2 (7): a u32 count,
   *big-endian*, then the section's points uncompressed, in section order.
The sections are the freshly computed ones of the initial key (before any
contribution; a contribution changes C and H). H is not the zkey's section 9: it is
``tau^(i+d) G1 - tau^i G1`` from the monomial powers of tau (the .ptau's section 2) for
i = 0, 1, ..., with d the domain size, and the count written is d - 1. snarkjs hashes
these in chunks of 2^14 and gives *every* chunk min(d - 1, 2^14) points, so for a
domain (always a power of two) d >= 2^15 it hashes d points, one more than the count
says, and reads tau^(2d-1). That lies one point *past the end* of section 2 when d is
the ptau's full size 2^power (the chain fixture: d = 2^16 with pot16): snarkjs then
treats the 64 bytes that follow section 2 in the .ptau (normally section 3's 12-byte
header and the start of its first G2 point) as a point in Montgomery form, with
coordinates >= q, and its wasm add/sub wrap modulo 2^256 on them; this module emulates
that arithmetic exactly for such rows (:func:`_wasm_sub_affine`).
:func:`h_hash_count` and :func:`tau_g1_rows_needed` give the numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from algebra import G1, G1_GEN, G2_GEN, G1Point, G2Point, Q, U64Array, batch_inverse

__all__ = [
    "H_HASH_CHUNK",
    "G1Points",
    "G2Points",
    "cs_hash",
    "g1_points_to_uncompressed",
    "g1_to_uncompressed",
    "g2_points_to_uncompressed",
    "g2_to_uncompressed",
    "h_hash_count",
    "tau_g1_rows_needed",
]

#: Points of G1 as an (n, 8) LEM uint64 array (the .zkey / .ptau layout) or affine tuples.
G1Points = U64Array | Sequence[G1Point]
#: Points of G2 as an (n, 16) LEM uint64 array or affine tuples.
G2Points = U64Array | Sequence[G2Point]

#: Chunk size of snarkjs's hashHPoints.
H_HASH_CHUNK = 1 << 14

_MONT_Q = (1 << 256) % Q
_INV_MONT_Q = pow(_MONT_Q, -1, Q)


def _be(v: int) -> bytes:
    return v.to_bytes(32, "big")


def g1_to_uncompressed(p: G1Point) -> bytes:
    """64 bytes: x || y big-endian, standard form; infinity (0, 0) is all zeros."""
    return _be(p[0]) + _be(p[1])


def g2_to_uncompressed(p: G2Point) -> bytes:
    """128 bytes: x.c1 || x.c0 || y.c1 || y.c0 big-endian; infinity is all zeros."""
    (x0, x1), (y0, y1) = p
    return _be(x1) + _be(x0) + _be(y1) + _be(y0)


def _lem_bytes(arr: U64Array, width: int, what: str) -> bytes:
    a = np.asarray(arr)
    if a.dtype.kind not in "ui" or a.dtype.itemsize != 8:
        raise TypeError(f"{what}: expected a uint64 LEM array, got dtype {a.dtype}")
    if a.size % width:
        raise ValueError(f"{what}: {a.size} limbs is not a whole number of {width}-limb points")
    return np.ascontiguousarray(a, dtype="<u8").tobytes()


def _lem_to_uncompressed(raw: bytes, coord_order: tuple[int, ...]) -> bytes:
    """Montgomery little-endian coordinates -> standard big-endian, reordered per point."""
    n_coords = len(coord_order)
    point_len = 32 * n_coords
    out = bytearray(len(raw))
    for base in range(0, len(raw), point_len):
        for k, dst in enumerate(coord_order):
            src = base + 32 * k
            v = int.from_bytes(raw[src : src + 32], "little") * _INV_MONT_Q % Q
            out[base + 32 * dst : base + 32 * dst + 32] = v.to_bytes(32, "big")
    return bytes(out)


def g1_points_to_uncompressed(points: G1Points, what: str = "G1 points") -> bytes:
    """Concatenated :func:`g1_to_uncompressed` of LEM rows or affine points (batchLEMtoU)."""
    if isinstance(points, np.ndarray):
        return _lem_to_uncompressed(_lem_bytes(points, 8, what), (0, 1))
    return b"".join(g1_to_uncompressed(p) for p in points)


def g2_points_to_uncompressed(points: G2Points, what: str = "G2 points") -> bytes:
    """Concatenated :func:`g2_to_uncompressed` of LEM rows or affine points."""
    if isinstance(points, np.ndarray):
        return _lem_to_uncompressed(_lem_bytes(points, 16, what), (1, 0, 3, 2))
    return b"".join(g2_to_uncompressed(p) for p in points)


def _n_points(points: G1Points | G2Points, width: int) -> int:
    if isinstance(points, np.ndarray):
        return int(np.asarray(points).size) // width
    return len(points)


def h_hash_count(domain_size: int) -> int:
    """How many H points snarkjs's newZKey hashes for a domain of this size.

    d - 1 for d <= 2^14 + 1; above, every 2^14-chunk is full, so a multiple of 2^14
    (d itself for a power of two).
    """
    if domain_size < 1:
        raise ValueError(f"domain size must be positive, got {domain_size}")
    n = domain_size - 1
    chunks = -(-n // H_HASH_CHUNK)
    return chunks * min(n, H_HASH_CHUNK)


def tau_g1_rows_needed(domain_size: int) -> int:
    """Rows of tau^i G1 that :func:`cs_hash` reads: ``domain_size + h_hash_count(domain_size)``.

    A .ptau of power p holds 2^(p+1) - 1 of them in section 2; for d = 2^p > 2^14 this
    is one more, and the last "row" is the 64 bytes that follow section 2 in the file.
    """
    return domain_size + h_hash_count(domain_size)


def _g1_reps(points: G1Points, what: str) -> list[tuple[int, int]]:
    """Montgomery representatives of the coordinates: LEM rows as stored (not reduced)."""
    if isinstance(points, np.ndarray):
        raw = _lem_bytes(points, 8, what)
        vals = [int.from_bytes(raw[i : i + 32], "little") for i in range(0, len(raw), 32)]
        return [(vals[i], vals[i + 1]) for i in range(0, len(vals), 2)]
    return [(p[0] * _MONT_Q % Q, p[1] * _MONT_Q % Q) for p in points]


# ---- ffjavascript's wasm Fq arithmetic on raw 256-bit representatives ----------------
# On canonical inputs (< q) these agree with arithmetic mod q. They matter for the one
# "point" past the end of a .ptau's section 2 (see the module docstring), whose
# coordinates may exceed q: there the wasm add/sub wrap modulo 2^256 and the result is
# no longer congruent to the mathematical one. Multiplication and the later inversion
# stay congruent mod q, and the final conversion reduces fully.
_TWO256 = 1 << 256
_MASK256 = _TWO256 - 1
_NEG_QINV_256 = (-pow(Q, -1, _TWO256)) % _TWO256


def _w_add(a: int, b: int) -> int:
    s = a + b
    if s >= _TWO256:
        return (s - Q) & _MASK256
    return s - Q if s >= Q else s


def _w_sub(a: int, b: int) -> int:
    return a - b if a >= b else (a - b + Q) & _MASK256


def _w_mul(a: int, b: int) -> int:
    t = a * b
    m = (t * _NEG_QINV_256) & _MASK256
    t = (t + m * Q) >> 256  # < 2^256 + q
    return t - Q if t >= Q else t


def _wasm_sub_affine(p1: tuple[int, int], p2: tuple[int, int]) -> G1Point:
    """g1m_subAffine(p1, p2) then batchToAffine and LEMtoU, on Montgomery representatives."""
    x1, y1 = p1
    x2, y2 = p2[0], _w_sub(0, p2[1])  # negAffine
    if p1 == (0, 0) or p2 == (0, 0) or (x1 == x2 and y1 == y2):
        # copy / doubling branches: only reachable with canonical points here
        a, b = _std(p1), _std(p2)
        return G1.add(a, G1.neg(b))
    h = _w_sub(x2, x1)
    y2_minus_y1 = _w_sub(y2, y1)
    hh = _w_mul(h, h)
    i = _w_add(hh, hh)
    i = _w_add(i, i)
    j = _w_mul(h, i)
    r = _w_add(y2_minus_y1, y2_minus_y1)
    v = _w_mul(x1, i)
    r2 = _w_mul(r, r)
    v2 = _w_add(v, v)
    x3 = _w_sub(_w_sub(r2, j), v2)
    y1_j2 = _w_mul(y1, j)
    y1_j2 = _w_add(y1_j2, y1_j2)
    y3 = _w_sub(_w_mul(_w_sub(v, x3), r), y1_j2)
    z3 = _w_add(h, h)
    if z3 % Q == 0:
        return G1.infinity
    zx, zy, zz = (c * _INV_MONT_Q % Q for c in (x3, y3, z3))
    zi = pow(zz, -1, Q)
    zi2 = zi * zi % Q
    return (zx * zi2 % Q, zy * zi2 % Q * zi % Q)


def _std(rep: tuple[int, int]) -> G1Point:
    return (rep[0] * _INV_MONT_Q % Q, rep[1] * _INV_MONT_Q % Q)


def _h_points_uncompressed(tau_g1: G1Points, domain_size: int) -> bytes:
    """tau^(i+d) - tau^i for i < h_hash_count(d), affine, uncompressed (hashHPoints)."""
    count = h_hash_count(domain_size)
    need = domain_size + count
    have = _n_points(tau_g1, 8)
    if have < need:
        raise ValueError(
            f"tau_g1 has {have} points, the circuit hash of a domain of size {domain_size} reads {need} "
            f"(see tau_g1_rows_needed; for d = 2^power > 2^14 append the 64 bytes after the .ptau's section 2)"
        )
    if isinstance(tau_g1, np.ndarray):
        reps = _g1_reps(np.asarray(tau_g1).reshape(-1, 8)[:need], "tau_g1")
    else:
        reps = _g1_reps(tau_g1[:need], "tau_g1")
    pts = [_std(rep) for rep in reps]
    # P_i = tau^(i+d), Q_i = tau^i; P - Q by the chord rule, denominators inverted in one batch
    # (addition formulas are algebraic, so this equals snarkjs's Jacobian result whenever x_P != x_Q).
    generic: list[int] = []
    results: list[G1Point] = [G1.infinity] * count
    for i in range(count):
        rp, rq = reps[i + domain_size], reps[i]
        if max(*rp, *rq) >= Q:
            results[i] = _wasm_sub_affine(rp, rq)
            continue
        p, q = pts[i + domain_size], pts[i]
        if p == (0, 0) or q == (0, 0) or p[0] == q[0]:
            results[i] = G1.add(p, G1.neg(q))
        else:
            generic.append(i)
    dens = batch_inverse([(pts[i][0] - pts[i + domain_size][0]) % Q for i in generic], Q)
    for i, inv in zip(generic, dens):
        (x1, y1), (x2, y2) = pts[i + domain_size], pts[i]
        y2 = -y2 % Q  # adding -Q
        lam = (y2 - y1) * inv % Q
        x3 = (lam * lam - x1 - x2) % Q
        results[i] = (x3, (lam * (x1 - x3) - y1) % Q)
    return b"".join(g1_to_uncompressed(p) for p in results)


def cs_hash(
    *,
    alpha1: G1Point,
    beta1: G1Point,
    beta2: G2Point,
    ic: G1Points,
    tau_g1: G1Points,
    c: G1Points,
    a: G1Points,
    b1: G1Points,
    b2: G2Points,
    domain_size: int,
) -> bytes:
    """The 64-byte circuit hash snarkjs's ``zkey new`` prints and stores in section 10.

    ``ic``, ``c``, ``a``, ``b1``, ``b2`` are the initial key's sections 3, 8, 5, 6, 7
    (LEM arrays as in the file, or affine points; infinity is zeros / (0, 0)).
    ``tau_g1`` holds tau^i G1 in the monomial basis (.ptau section 2, from i = 0), at
    least :func:`tau_g1_rows_needed` rows; it is only read, to form H as described in
    the module docstring. When that exceeds section 2 (d = 2^power >= 2^15), take the
    rows straight from the file bytes, running past the section's end like snarkjs:
    ``np.frombuffer(ptau, "<u8", count=8 * rows, offset=section2_offset).reshape(-1, 8)``.
    ``alpha1``, ``beta1``, ``beta2`` are the .ptau's first alpha and beta points (the
    zkey header's). Counts are taken from the arrays' lengths.
    """
    h = hashlib.blake2b(digest_size=64)
    h.update(g1_to_uncompressed(alpha1))
    h.update(g1_to_uncompressed(beta1))
    h.update(g2_to_uncompressed(beta2))
    h.update(g2_to_uncompressed(G2_GEN))  # gamma2
    h.update(g1_to_uncompressed(G1_GEN))  # delta1 before any contribution
    h.update(g2_to_uncompressed(G2_GEN))  # delta2
    h.update(_n_points(ic, 8).to_bytes(4, "big"))
    h.update(g1_points_to_uncompressed(ic, "IC"))
    h.update((domain_size - 1).to_bytes(4, "big"))
    h.update(_h_points_uncompressed(tau_g1, domain_size))
    for name, pts in (("C", c), ("A", a), ("B1", b1)):
        h.update(_n_points(pts, 8).to_bytes(4, "big"))
        h.update(g1_points_to_uncompressed(pts, name))
    h.update(_n_points(b2, 16).to_bytes(4, "big"))
    h.update(g2_points_to_uncompressed(b2, "B2"))
    return h.digest()
