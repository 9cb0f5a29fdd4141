"""The Groth16 proving key, laid out as a snarkjs .zkey lays it out.

Keeping the .zkey's shape (A and B coefficients only, one extra A row per public signal,
H points on the odd 2n-th roots of unity) means one prover serves both keys made here
and keys made by snarkjs from real ceremonies.
"""

from __future__ import annotations

from dataclasses import dataclass

from algebra import G1Point, G2Point, U64Array

#: (row, wire, coefficient in standard form): one entry of the sparse A or B matrix.
MatrixEntry = tuple[int, int, int]


@dataclass(frozen=True, eq=False)  # numpy fields: compare sections explicitly
class ProvingKey:
    """Groth16 proving key over BN254.

    Fields follow the .zkey header and sections:
    - n_vars: number of wires, including wire 0 (the constant one).
    - n_public: number of public signals (wires 1..n_public).
    - domain_size: evaluation domain n, a power of two >= constraints + n_public + 1.
    - alpha1, beta1, delta1 (G1) and beta2, gamma2, delta2 (G2): the setup's elements.
    - a_coeffs, b_coeffs: the A and B matrices as sparse entries, including the rows
      n_constraints + i binding public signal i (C is never stored: c_i = a_i * b_i).
    - Point sections are numpy arrays in the LEM layout of `algebra._lem` (a .zkey's own
      bytes), one row per point:
    - a_points[j] = u_j(tau) G1, b1_points[j] = v_j(tau) G1, b2_points[j] = v_j(tau) G2.
    - c_points: (beta u_j + alpha v_j + w_j)(tau) / delta G1 for the private wires
      j = n_public + 1 .. n_vars - 1, in that order.
    - h_points[i] = L_{2i+1}(tau) / delta G1, Lagrange polynomials of the 2n domain at its
      odd points, so h needs no division by Z(x) (snarkjs's convention).
    - ic: the verifying key's (beta u_j + alpha v_j + w_j)(tau) / gamma G1, j <= n_public.
    - insecure: True for a single-party dev setup whose toxic waste one process knew.
    """

    n_vars: int
    n_public: int
    domain_size: int
    alpha1: G1Point
    beta1: G1Point
    beta2: G2Point
    gamma2: G2Point
    delta1: G1Point
    delta2: G2Point
    a_coeffs: tuple[MatrixEntry, ...]
    b_coeffs: tuple[MatrixEntry, ...]
    a_points: U64Array
    b1_points: U64Array
    b2_points: U64Array
    c_points: U64Array
    h_points: U64Array
    ic: tuple[G1Point, ...]
    insecure: bool = False
