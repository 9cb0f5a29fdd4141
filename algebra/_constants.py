"""BN254 (alt_bn128) constants, exactly as circom, snarkjs and Ethereum (EIP-196/197) use them.

Curve E: y^2 = x^3 + 3 over Fq; twist E': y^2 = x^3 + 3/(9 + u) over Fq2 = Fq[u]/(u^2 + 1).
Both G1 = E(Fq) and the order-r subgroup of E'(Fq2) have prime order r (the scalar field).
"""

from __future__ import annotations

#: Base field modulus q (coordinates of points).
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
#: Scalar field modulus r (group order; the field circuits compute in).
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617

#: The BN parameter x: q = 36x^4 + 36x^3 + 24x^2 + 6x + 1, r = q - 6x^2 (the optimal
#: ate loop runs over 6x + 2; the final exponentiation and the G2 subgroup test in x).
BN_X = 4965661367192848881

#: Curve coefficient b of G1: y^2 = x^3 + 3.
G1_B = 3
#: Twist coefficient b' = 3 / (9 + u), as (c0, c1).
G2_B = (
    19485874751759354771024239261021720505790618469301721065564631296452457478373,
    266929791119991161246907387137283842545076965332900288569378510910307636690,
)

#: Generator of G1.
G1_GEN = (1, 2)
#: Generator of G2 (the one in EIP-197, snarkjs and py-ecc), coordinates as (c0, c1).
G2_GEN = (
    (
        10857046999023057135944570762232829481370756359578518086990519993285655852781,
        11559732032986387107991004021392285783925812861821192530917403151452391805634,
    ),
    (
        8495653923123431417604973247489272438418190587263600148770280649306958101930,
        4082367875863433681332203403145435568316851327593401208105741076214120093531,
    ),
)

#: Byte length of one field element in every encoding (254 bits fit in 32 bytes).
N8 = 32

#: Fr has 2-adicity 28: r - 1 = 2^28 * odd.
FR_TWO_ADICITY = 28
#: The smallest quadratic non-residue of Fr; ffjavascript derives its roots of unity from it,
#: and we do the same so that evaluation domains are ordered exactly as snarkjs orders them.
FR_NQR = 5
