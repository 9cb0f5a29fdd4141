"""Pairing values (elements of GT in Fq12) in snarkjs's layout.

snarkjs (ffjavascript) works in the tower Fq2 = Fq[u]/(u^2 + 1), Fq6 = Fq2[v]/(v^3 - xi)
with xi = 9 + u, Fq12 = Fq6[w]/(w^2 - v), and writes an element c0 + c1 w as
[[c00, c01, c02], [c10, c11, c12]], each c_ij an Fq2 pair [real, imaginary] of decimal
strings. algebra's pairing computes in the same tower with the same final exponent
(algebra._ate, algebra._tower, which also convert from py-ecc's flat basis), so its
value is snarkjs's. Tested against a snarkjs-written vk_alphabeta_12.
"""

from __future__ import annotations

from algebra import Fq12, G1Point, G2Point, pairing

__all__ = ["Fq12", "fq12_to_snarkjs", "snarkjs_pairing"]


def snarkjs_pairing(p: G1Point, q: G2Point) -> Fq12:
    """e(p, q) exactly as snarkjs computes it (curve.pairing), in its tower layout.

    For the verifying key, vk_alphabeta_12 = snarkjs_pairing(vk_alpha_1, vk_beta_2).
    algebra's optimal ate pairing is that value: same tower, same final exponent.
    """
    return pairing(p, q)


def fq12_to_snarkjs(value: Fq12) -> list[list[list[str]]]:
    """Tower coefficients as snarkjs writes them: [[[c0, c1] x 3] x 2] decimal strings."""
    return [[[str(c[0]), str(c[1])] for c in half] for half in value]
