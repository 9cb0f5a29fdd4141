"""BN254 (alt_bn128) algebra: constants, reference field and curve arithmetic, pairings,
and the encodings used by snarkjs and Ethereum.

This package imports nothing else of zkmargin.
"""

from ._constants import FR_TWO_ADICITY, G1_B, G1_GEN, G2_B, G2_GEN, N8, Q, R
from ._curve import G1, G2, Curve, G1Point, G2Point
from ._encoding import (
    g1_from_eth_bytes,
    g1_from_snarkjs,
    g1_to_eth_bytes,
    g1_to_snarkjs,
    g2_from_eth_bytes,
    g2_from_snarkjs,
    g2_to_eth_bytes,
    g2_to_snarkjs,
    parse_decimal,
    parse_fr,
)
from ._errors import (
    EncodingError,
    FieldElementOutOfRangeError,
    InvalidPointError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
)
from ._field import (
    FQ2_ONE,
    FQ2_ZERO,
    Fq2,
    batch_inverse,
    fq2_add,
    fq2_inv,
    fq2_mul,
    fq2_neg,
    fq2_sqr,
    fq2_sub,
    fr_root_of_unity,
    inv_mod,
)
from ._ntt import intt, ntt
from ._pairing import g1_from_pyecc, g1_to_pyecc, g2_from_pyecc, g2_to_pyecc, pairing, pairing_check

__all__ = [
    "FR_TWO_ADICITY",
    "G1_B",
    "G1_GEN",
    "G2_B",
    "G2_GEN",
    "N8",
    "Q",
    "R",
    "G1",
    "G2",
    "Curve",
    "G1Point",
    "G2Point",
    "g1_from_eth_bytes",
    "g1_from_snarkjs",
    "g1_to_eth_bytes",
    "g1_to_snarkjs",
    "g2_from_eth_bytes",
    "g2_from_snarkjs",
    "g2_to_eth_bytes",
    "g2_to_snarkjs",
    "parse_decimal",
    "parse_fr",
    "EncodingError",
    "FieldElementOutOfRangeError",
    "InvalidPointError",
    "PointNotInSubgroupError",
    "PointNotOnCurveError",
    "FQ2_ONE",
    "FQ2_ZERO",
    "Fq2",
    "batch_inverse",
    "fq2_add",
    "fq2_inv",
    "fq2_mul",
    "fq2_neg",
    "fq2_sqr",
    "fq2_sub",
    "fr_root_of_unity",
    "inv_mod",
    "intt",
    "ntt",
    "g1_from_pyecc",
    "g1_to_pyecc",
    "g2_from_pyecc",
    "g2_to_pyecc",
    "pairing",
    "pairing_check",
]
