"""Points that tests need and the library never makes: on the twist, outside G2."""

from __future__ import annotations

from algebra import G2, G2_B, G2Point, Q, fq2_add, fq2_mul, fq2_sqr, fq2_sqrt


def twist_point_outside_g2(seed: int = 0) -> G2Point:
    """A point on y^2 = x^3 + b' (so on the curve) but not in the order-r subgroup."""
    x0 = seed
    while True:
        x = (x0 % Q, 7)
        y = fq2_sqrt(fq2_add(fq2_mul(fq2_sqr(x), x), G2_B))
        if y is not None:
            point = (x, y)
            if G2.is_on_curve(point) and not G2.in_subgroup(point):
                return point
        x0 += 1
