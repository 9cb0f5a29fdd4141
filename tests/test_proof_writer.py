"""verifier.save_proof / save_public: the prover's model-free writers. They write the
bytes the models write, check what the models check, and write nothing when refusing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algebra import G1, G1_GEN, G2, G2_GEN, Q, R
from tests._points import twist_point_outside_g2
from verifier import (
    MalformedProofError,
    MalformedPublicSignalsError,
    Proof,
    PublicSignals,
    proof_document,
    public_document,
    save_proof,
    save_public,
)

scalars = st.integers(min_value=0, max_value=R - 1)


@settings(max_examples=20, deadline=None)
@given(scalars, scalars, scalars, st.lists(scalars, max_size=5))
def test_the_writers_write_what_the_models_write(ka: int, kb: int, kc: int, values: list[int]) -> None:
    a, b, c = G1.mul(G1_GEN, ka), G2.mul(G2_GEN, kb), G1.mul(G1_GEN, kc)
    proof, signals = Proof.from_points(a, b, c), PublicSignals.from_values(values)
    assert proof_document(a, b, c) == proof.model_dump(mode="json", by_alias=True)
    assert public_document(values) == signals.model_dump(mode="json")
    assert Proof.from_json(proof.to_json()) == proof


def test_saved_files_are_byte_for_byte_the_models_and_read_back(tmp_path: Path) -> None:
    a, b, c = G1.mul(G1_GEN, 5), G2.mul(G2_GEN, 7), G1.infinity
    save_proof(tmp_path / "proof.json", a, b, c)
    save_public(tmp_path / "public.json", [0, 1, R - 1])
    Proof.from_points(a, b, c).save(tmp_path / "model_proof.json")
    PublicSignals.from_values([0, 1, R - 1]).save(tmp_path / "model_public.json")
    assert (tmp_path / "proof.json").read_bytes() == (tmp_path / "model_proof.json").read_bytes()
    assert (tmp_path / "public.json").read_bytes() == (tmp_path / "model_public.json").read_bytes()
    assert Proof.load(tmp_path / "proof.json") == Proof.from_points(a, b, c)
    assert PublicSignals.load(tmp_path / "public.json").values == (0, 1, R - 1)


def _bad_points() -> list[tuple[str, tuple[object, object, object]]]:
    a, b = G1.mul(G1_GEN, 3), G2.mul(G2_GEN, 3)
    x, y = a
    return [
        ("pi_a", ((x, (y + 1) % Q), b, a)),  # off the curve
        ("pi_c", (a, b, (x + Q, y))),  # a coordinate not below q
        ("pi_b", (a, twist_point_outside_g2(1), a)),  # on the twist, outside G2
        ("pi_b", (a, ((1, 2), (3, 4)), a)),  # off the twist
    ]


@pytest.mark.parametrize("field,points", _bad_points())
def test_a_bad_point_is_refused_and_nothing_is_written(field: str, points: tuple, tmp_path: Path) -> None:
    out = tmp_path / "proof.json"
    with pytest.raises(MalformedProofError) as err:
        save_proof(out, *points)
    assert err.value.field == field
    assert not out.exists()


@pytest.mark.parametrize("values", [[R], [-1], [1, True], [2**300], ["5"]])
def test_a_bad_signal_is_refused_and_nothing_is_written(values: list[object], tmp_path: Path) -> None:
    out = tmp_path / "public.json"
    with pytest.raises(MalformedPublicSignalsError):
        save_public(out, values)  # type: ignore[arg-type]
    assert not out.exists()
