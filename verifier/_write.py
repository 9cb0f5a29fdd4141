"""snarkjs's proof.json and public.json from points and values, without the models.

A prover writing its own output needs the files, not models to hold them: `save_proof`
and `save_public` validate what they write as the models do (canonical coordinates,
curve equation, subgroup; signals below r) and write it exactly as snarkjs does, and a
one-off `zkmargin groth16 prove` never imports pydantic. The documents' layout lives
here once: `Proof.to_json_obj` and `PublicSignals.to_json_obj` are `proof_document` and
`public_document`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from algebra import (
    G1,
    G2,
    EncodingError,
    FieldElementOutOfRangeError,
    G1Point,
    G2Point,
    InvalidPointError,
    R,
    g1_to_snarkjs,
    g2_to_snarkjs,
    short_repr,
)

from . import _json
from ._errors import MalformedProofError, MalformedPublicSignalsError


def proof_document(a: G1Point, b: G2Point, c: G1Point) -> dict[str, Any]:
    """proof.json as Python dicts, lists and strings (points not checked: see `save_proof`)."""
    return {
        "pi_a": g1_to_snarkjs(a),
        "pi_b": g2_to_snarkjs(b),
        "pi_c": g1_to_snarkjs(c),
        "protocol": "groth16",
        "curve": "bn128",
    }


def public_document(values: Iterable[int]) -> list[str]:
    """public.json as a list of decimal strings (values not checked: see `save_public`)."""
    return [str(v) for v in values]


def save_proof(path: str | os.PathLike[str], a: G1Point, b: G2Point, c: G1Point) -> None:
    """Write proof.json for these points; MalformedProofError (nothing written) if one
    is not a canonical point of its group."""
    for name, point, group in (("pi_a", a, G1), ("pi_b", b, G2), ("pi_c", c, G1)):
        try:
            group.validate(point, f"proof: {name}")
        except InvalidPointError as exc:
            raise MalformedProofError(str(exc), field=name) from exc
    _write(path, proof_document(a, b, c))


def save_public(path: str | os.PathLike[str], values: Iterable[int]) -> None:
    """Write public.json; MalformedPublicSignalsError (nothing written) unless every
    value is an int in [0, r)."""
    values = tuple(values)
    for i, v in enumerate(values):
        try:
            fr_int(v, f"public signal [{i}]")
        except (EncodingError, InvalidPointError) as exc:
            raise MalformedPublicSignalsError(str(exc)) from exc
    _write(path, public_document(values))


def fr_int(value: Any, what: str) -> int:
    """`value` if it is an int (not a bool) in [0, r): EncodingError or
    FieldElementOutOfRangeError naming `what` (the models' rule for a signal given as an int)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise EncodingError(f"{what}: expected an int, got {short_repr(value)}")
    if not 0 <= value < R:
        raise FieldElementOutOfRangeError(f"{what}: {value} is not below the scalar field modulus r")
    return value


def _write(path: str | os.PathLike[str], document: Any) -> None:
    Path(path).write_text(_json.dumps(document), encoding="utf-8")
