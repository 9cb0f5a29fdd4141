"""BN254 (alt_bn128) algebra: constants, reference field and curve arithmetic, pairings,
the encodings used by snarkjs and Ethereum, and circomlib's Poseidon over the scalar
field with zkmargin's sponge, domain tags and Merkle trees (what the engine hashes, the
circuits re-hash and the ledger checks).

This package imports nothing else of zkmargin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._ate import GT_EXPONENT, N_LINES, PreparedG2
from ._ate import final_exponentiation as final_exponentiation_ref
from ._ate import miller_loop as miller_loop_ref
from ._ate import pairing as pairing_ref
from ._ate import pairing_check as pairing_check_ref
from ._binfile import BinFile, BinFileWriter, SectionRef, limbs_below, parse_binfile, read_binfile
from ._constants import BN_X, FR_TWO_ADICITY, G1_B, G1_GEN, G2_B, G2_GEN, N8, Q, R
from ._curve import G1, G2, Curve, G1Point, G2Point
from ._curve import g2_in_subgroup as g2_in_subgroup_ref
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
    short_repr,
)
from ._errors import (
    BadMagicError,
    EncodingError,
    FieldElementOutOfRangeError,
    FieldMismatchError,
    FileFormatError,
    InvalidPointError,
    MismatchedFilesError,
    MissingSectionError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    SectionSizeError,
    TruncatedFileError,
    UnsupportedVersionError,
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
    fq2_sqrt,
    fq2_sub,
    fq_sqrt,
    fr_root_of_unity,
    inv_mod,
)
from ._fixed_base import G1FixedBase
from ._lem import (
    MONT_R_Q,
    MONT_R_Q_INV,
    MONT_R_R,
    MONT_R_R_INV,
    U64Array,
    fq_from_lem,
    fq_to_lem,
    fr_to_limbs,
    g1_from_lem,
    g1_to_lem,
    g2_from_lem,
    g2_to_lem,
    ints_to_limbs,
    limbs_to_ints,
)
from ._merkle import (
    MerkleTree,
    merkle_depth,
    merkle_path,
    merkle_root_native,
    merkle_tree,
    merkle_tree_root,
    zero_hashes,
)
from ._ntt import intt, ntt
from ._pairing import (
    g1_from_pyecc,
    g1_to_pyecc,
    g2_from_pyecc,
    g2_to_pyecc,
    pyecc_pairing,
    pyecc_pairing_check,
)
from ._pairing_kernels import (
    final_exponentiation,
    fq12_to_limbs,
    miller_loop,
    pairing,
    pairing_check,
    pairing_check_lem,
)
from ._poseidon import MAX_INPUTS as POSEIDON_MAX_INPUTS
from ._poseidon import MIN_INPUTS as POSEIDON_MIN_INPUTS
from ._poseidon import poseidon, poseidon_tables
from ._poseidon_constants import poseidon_params
from ._sponge import (
    ACCOUNT_TAG,
    MAX_TEXT_BYTES,
    NULLIFIER_TAG,
    SNAPSHOT_TAG,
    SPONGE_RATE,
    TOTALS_TAG,
    solvency_decimals,
    sponge,
    text_to_field,
    totals_commitment,
)
from ._subgroup import g2_in_subgroup_batch
from ._subgroup import g2_in_subgroup_fast as g2_in_subgroup
from ._tower import FQ12_ONE, Fq6, Fq12, fq12_from_pyecc, fq12_mul, fq12_to_pyecc_coeffs

__all__ = [
    "merkle_depth",
    "merkle_path",
    "merkle_root_native",
    "merkle_tree_root",
    "merkle_tree",
    "MerkleTree",
    "zero_hashes",
    "POSEIDON_MAX_INPUTS",
    "POSEIDON_MIN_INPUTS",
    "poseidon",
    "poseidon_tables",
    "poseidon_params",
    "ACCOUNT_TAG",
    "MAX_TEXT_BYTES",
    "NULLIFIER_TAG",
    "SNAPSHOT_TAG",
    "SPONGE_RATE",
    "sponge",
    "totals_commitment",
    "solvency_decimals",
    "TOTALS_TAG",
    "text_to_field",
    "BinFile",
    "BinFileWriter",
    "SectionRef",
    "limbs_below",
    "parse_binfile",
    "read_binfile",
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
    "G1FixedBase",
    "g2_in_subgroup",
    "g2_in_subgroup_batch",
    "g2_in_subgroup_ref",
    "g1_from_eth_bytes",
    "g1_from_snarkjs",
    "g1_to_eth_bytes",
    "g1_to_snarkjs",
    "g2_from_eth_bytes",
    "g2_from_snarkjs",
    "g2_to_eth_bytes",
    "g2_to_snarkjs",
    "parse_decimal",
    "short_repr",
    "parse_fr",
    "EncodingError",
    "FieldElementOutOfRangeError",
    "InvalidPointError",
    "PointNotInSubgroupError",
    "PointNotOnCurveError",
    "FileFormatError",
    "TruncatedFileError",
    "BadMagicError",
    "UnsupportedVersionError",
    "MissingSectionError",
    "SectionSizeError",
    "FieldMismatchError",
    "MismatchedFilesError",
    "FQ2_ONE",
    "FQ2_ZERO",
    "Fq2",
    "batch_inverse",
    "fq2_add",
    "fq2_inv",
    "fq2_mul",
    "fq2_neg",
    "fq2_sqr",
    "fq2_sqrt",
    "fq_sqrt",
    "fq2_sub",
    "fr_root_of_unity",
    "inv_mod",
    "MONT_R_Q",
    "MONT_R_Q_INV",
    "MONT_R_R",
    "MONT_R_R_INV",
    "U64Array",
    "fq_from_lem",
    "fq_to_lem",
    "fr_to_limbs",
    "g1_from_lem",
    "g1_to_lem",
    "g2_from_lem",
    "g2_to_lem",
    "ints_to_limbs",
    "limbs_to_ints",
    "intt",
    "ntt",
    "g1_from_pyecc",
    "g1_to_pyecc",
    "g2_from_pyecc",
    "g2_to_pyecc",
    "BN_X",
    "GT_EXPONENT",
    "N_LINES",
    "PreparedG2",
    "final_exponentiation_ref",
    "miller_loop_ref",
    "pairing_ref",
    "pairing_check_ref",
    "FQ12_ONE",
    "Fq6",
    "Fq12",
    "final_exponentiation",
    "fq12_from_pyecc",
    "fq12_mul",
    "fq12_to_pyecc_coeffs",
    "miller_loop",
    "pairing",
    "pairing_check",
    "pairing_check_lem",
    "fq12_to_limbs",
    "pyecc_pairing",
    "pyecc_pairing_check",
    "g1_batch_to_affine",
    "g1_batch_to_affine_ref",
    "g1_msm",
    "g1_msm_ref",
    "g1_scale",
    "g1_scale_ref",
    "g1_sparse_combination",
    "g1_sparse_combination_ref",
    "g2_batch_to_affine",
    "g2_batch_to_affine_ref",
    "g2_msm",
    "g2_msm_ref",
    "g2_scale",
    "g2_scale_ref",
    "g2_sparse_combination",
    "g2_sparse_combination_ref",
    "msm_window_bits",
    "fr_ntt",
    "fr_ntt_ref",
    "fr_intt",
    "fr_intt_ref",
    "fr_coset_ntt",
    "fr_coset_ntt_ref",
    "fr_coset_intt",
    "fr_coset_intt_ref",
    "fr_mul_sub",
    "fr_mul_sub_ref",
    "FrCsr",
    "fr_sparse_matvec",
    "fr_sparse_matvec_ref",
    "to_montgomery",
    "to_montgomery_ref",
    "from_montgomery",
    "from_montgomery_ref",
]


# The numba kernels load on first use, so that importing algebra (and the verifier,
# which needs no kernel) does not import numba.
_KERNELS = frozenset(
    {
        "g1_batch_to_affine",
        "g1_batch_to_affine_ref",
        "g1_msm",
        "g1_msm_ref",
        "g1_scale",
        "g1_scale_ref",
        "g1_sparse_combination",
        "g1_sparse_combination_ref",
        "g2_batch_to_affine",
        "g2_batch_to_affine_ref",
        "g2_msm",
        "g2_msm_ref",
        "g2_scale",
        "g2_scale_ref",
        "g2_sparse_combination",
        "g2_sparse_combination_ref",
        "msm_window_bits",
    }
)
_FR_KERNELS = frozenset(
    {
        "FrCsr",
        "fr_ntt",
        "fr_ntt_ref",
        "fr_intt",
        "fr_intt_ref",
        "fr_coset_ntt",
        "fr_coset_ntt_ref",
        "fr_coset_intt",
        "fr_coset_intt_ref",
        "fr_mul_sub",
        "fr_mul_sub_ref",
        "fr_sparse_matvec",
        "fr_sparse_matvec_ref",
        "to_montgomery",
        "to_montgomery_ref",
        "from_montgomery",
        "from_montgomery_ref",
    }
)

if TYPE_CHECKING:
    from ._fr_kernels import (
        FrCsr,
        fr_coset_intt,
        fr_coset_intt_ref,
        fr_coset_ntt,
        fr_coset_ntt_ref,
        fr_intt,
        fr_intt_ref,
        fr_mul_sub,
        fr_mul_sub_ref,
        fr_ntt,
        fr_ntt_ref,
        fr_sparse_matvec,
        fr_sparse_matvec_ref,
        from_montgomery,
        from_montgomery_ref,
        to_montgomery,
        to_montgomery_ref,
    )
    from ._kernels import (
        g1_batch_to_affine,
        g1_batch_to_affine_ref,
        g1_msm,
        g1_msm_ref,
        g1_scale,
        g1_scale_ref,
        g1_sparse_combination,
        g1_sparse_combination_ref,
        g2_batch_to_affine,
        g2_batch_to_affine_ref,
        g2_msm,
        g2_msm_ref,
        g2_scale,
        g2_scale_ref,
        g2_sparse_combination,
        g2_sparse_combination_ref,
        msm_window_bits,
    )


def __getattr__(name: str) -> Any:
    if name in _KERNELS:
        from . import _kernels

        return getattr(_kernels, name)
    if name in _FR_KERNELS:
        from . import _fr_kernels

        return getattr(_fr_kernels, name)
    raise AttributeError(f"module 'algebra' has no attribute {name!r}")
