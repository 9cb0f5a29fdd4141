"""Pairing values (elements of GT in Fq12) in snarkjs's layout.

Two bases of the same field Fq12:

- snarkjs / ffjavascript (a tower): Fq2 = Fq[u]/(u^2 + 1), Fq6 = Fq2[v]/(v^3 - xi) with
  xi = 9 + u, Fq12 = Fq6[w]/(w^2 - v). An element is c0 + c1 w with c_i = c_i0 + c_i1 v
  + c_i2 v^2, written in JSON as [[c00, c01, c02], [c10, c11, c12]], each c_ij an Fq2
  pair [real, imaginary] of decimal strings.
- py-ecc (flat): Fq12 = Fq[W]/(W^12 - 18 W^6 + 82), twelve Fq coefficients of 1..W^11.

Both pick a sixth root of xi: w^6 = v^3 = xi and W^6 = 9 + u (that is what
W^12 - 18 W^6 + 82 = (W^6 - 9)^2 + 1 says). With w = W, v = W^2 and u = W^6 - 9, so
c_ij v^j w^i = c_ij W^k with k = 2j + i, and an Fq2 coefficient a + b u at W^k is
(a - 9b) at W^k plus b at W^(k+6). `_pyecc_to_tower` inverts this.

The two libraries also reach different (equivalent) pairings: ffjavascript's final
exponentiation uses the addition chain of Fuentes-Castaneda, Knapp and
Rodriguez-Henriquez, which raises to (q^12 - 1)/r times m = 2x(6x^2 + 3x + 1), where
x is the BN parameter; py-ecc raises to (q^12 - 1)/r. So snarkjs's e(P, Q) is py-ecc's
e(P, Q)^m. Tested against a snarkjs-written vk_alphabeta_12.
"""

from __future__ import annotations

from typing import Any

from algebra import G1Point, G2Point, Q, pairing

Fq2 = tuple[int, int]
#: An Fq12 element in snarkjs's tower layout: ((c00, c01, c02), (c10, c11, c12)).
Fq12 = tuple[tuple[Fq2, Fq2, Fq2], tuple[Fq2, Fq2, Fq2]]

#: The BN254 curve parameter x (q and r are polynomials in x).
_BN_X = 4965661367192848881
#: snarkjs's pairing is py-ecc's pairing raised to this power (see module docstring).
_SNARKJS_GT_EXPONENT = 2 * _BN_X * (6 * _BN_X * _BN_X + 3 * _BN_X + 1)


def _pyecc_to_tower(value: Any) -> Fq12:
    """A py-ecc FQ12 as snarkjs's tower coefficients (no exponent change)."""
    coeffs = [int(c) for c in value.coeffs]
    by_power: list[Fq2] = []
    for k in range(6):
        b = coeffs[k + 6]
        by_power.append(((coeffs[k] + 9 * b) % Q, b % Q))
    c0 = (by_power[0], by_power[2], by_power[4])  # W^(2j)
    c1 = (by_power[1], by_power[3], by_power[5])  # W^(2j + 1)
    return (c0, c1)


def snarkjs_pairing(p: G1Point, q: G2Point) -> Fq12:
    """e(p, q) exactly as snarkjs computes it (curve.pairing), in its tower layout.

    For the verifying key, vk_alphabeta_12 = snarkjs_pairing(vk_alpha_1, vk_beta_2).
    """
    return _pyecc_to_tower(pairing(p, q) ** _SNARKJS_GT_EXPONENT)


def fq12_to_snarkjs(value: Fq12) -> list[list[list[str]]]:
    """Tower coefficients as snarkjs writes them: [[[c0, c1] x 3] x 2] decimal strings."""
    return [[[str(c[0]), str(c[1])] for c in half] for half in value]
