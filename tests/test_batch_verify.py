"""Batch verification and the kernels behind the fast verifier: verdicts equal verifying
one by one for every mix of valid, wrong and malformed proofs; failing proofs are named;
fixed-base combinations equal their Python-int twin."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import algebra._fixed_base as fixed_base
from algebra import G1, G1FixedBase, PointNotInSubgroupError, R
from benchmarks._proofs import rerandomized
from tests._paths import FIXTURES
from tests._points import twist_point_outside_g2
from verifier import (
    MalformedProofError,
    MalformedPublicSignalsError,
    Proof,
    PublicSignals,
    Verdict,
    VerifyingKey,
    batch_verify,
    check,
    verify,
)


@cache
def _kit() -> tuple[VerifyingKey, PublicSignals, list[Proof]]:
    """The chain fixture's key, its public signals and 24 distinct valid proofs."""
    from circuits import read_wtns_limbs
    from prover import Prover

    proof, public = Prover.from_zkey(FIXTURES / "chain.zkey").prove(read_wtns_limbs(FIXTURES / "chain.wtns"))
    vk = VerifyingKey.load(FIXTURES / "verification_key.json")
    return vk, public, rerandomized(proof, vk, 24, seed=1)


def _outside_subgroup_json(proof: Proof, seed: int) -> dict[str, Any]:
    (x0, x1), (y0, y1) = twist_point_outside_g2(seed)
    return {**proof.to_json_obj(), "pi_b": [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]}


KINDS = ("valid", "wrong_signal", "swapped_a", "bad_json", "outside_g2", "short_signals", "big_signal")


def _item(kind: str, k: int) -> tuple[Any, Any]:
    _, public, proofs = _kit()
    proof = proofs[k % len(proofs)]
    signals = list(public.values)
    if kind == "wrong_signal":
        signals[0] = (signals[0] + 1) % R
    elif kind == "swapped_a":
        proof = Proof.from_points(proofs[(k + 1) % len(proofs)].a, proof.b, proof.c)
    elif kind == "bad_json":
        return signals, '{"pi_a": ["1", "2", "1"]'
    elif kind == "outside_g2":
        return [str(v) for v in signals], json.dumps(_outside_subgroup_json(proof, k))
    elif kind == "short_signals":
        signals = signals[:-1]
    elif kind == "big_signal":
        return [str(R), *map(str, signals[1:])], proof.to_json()
    return signals, proof


def _summary(v: Verdict) -> tuple[bool, type | None]:
    return v.valid, type(v.error) if v.error is not None else None


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 23)), min_size=1, max_size=12))
def test_batch_verdicts_equal_one_by_one(mix: list[tuple[str, int]]) -> None:
    vk = _kit()[0]
    items = [_item(kind, k) for kind, k in mix]
    verdicts = batch_verify(vk, items)
    assert [_summary(v) for v in verdicts] == [_summary(check(vk, *item)) for item in items]
    assert [v.valid for v in verdicts] == [kind == "valid" for kind, _ in mix]


def test_all_valid_batch_and_one_bad_proof_named() -> None:
    vk, public, proofs = _kit()
    assert all(batch_verify(vk, [(public, p) for p in proofs]))
    for bad in (0, 13, 23):
        items: list[tuple[Any, Any]] = [(public, p) for p in proofs]
        items[bad] = (public, Proof.from_points(proofs[bad].a, proofs[bad].b, proofs[(bad + 1) % 24].c))
        assert [i for i, v in enumerate(batch_verify(vk, items)) if not v] == [bad]


def test_errors_that_cancel_without_random_weights_are_caught() -> None:
    """(A + D, B, C) and (A - D, B, C): a plain product of the two checks is 1, so only the
    secret randomizers catch them."""
    vk, public, proofs = _kit()
    p = proofs[0]
    d = G1.mul(G1.generator, 12345)
    plus = Proof.from_points(G1.add(p.a, d), p.b, p.c)
    minus = Proof.from_points(G1.add(p.a, G1.neg(d)), p.b, p.c)
    verdicts = batch_verify(vk, [(public, plus), (public, minus), *((public, q) for q in proofs[1:4])])
    assert [v.valid for v in verdicts] == [False, False, True, True, True]


def test_b_outside_g2_is_refused_with_a_named_error() -> None:
    vk, public, proofs = _kit()
    doc = _outside_subgroup_json(proofs[0], 3)
    with pytest.raises(MalformedProofError, match="subgroup") as info:
        Proof.from_json(doc)
    assert isinstance(info.value.__cause__, PointNotInSubgroupError)
    (verdict,) = batch_verify(vk, [(public, doc)])
    assert not verdict and isinstance(verdict.error, MalformedProofError)
    assert isinstance(verdict.error.__cause__, PointNotInSubgroupError)


def test_signal_count_and_types_are_checked() -> None:
    vk, public, proofs = _kit()
    (v,) = batch_verify(vk, [(public.values[:1], proofs[0])])
    assert isinstance(v.error, MalformedPublicSignalsError)
    with pytest.raises(TypeError):
        batch_verify(vk, [(public, 42)])
    with pytest.raises(TypeError):
        batch_verify("vk", [])  # type: ignore[arg-type]
    assert batch_verify(vk, []) == []
    assert verify(vk, public, proofs[0])


# ---- fixed-base combinations: kernel against G1.msm, every window -------------------------


@settings(max_examples=6, deadline=None)
@given(
    st.lists(st.integers(0, R - 1), min_size=1, max_size=5),
    st.lists(st.sampled_from([0, 1, R - 1, 2**64 - 1, 2**128, R - 2**200]), max_size=3),
)
def test_fixed_base_combination_is_the_msm(ks: list[int], edge: list[int]) -> None:
    points = [G1.mul(G1.generator, k) for k in ks] + [G1.infinity]
    scalars = [(k * 7919 + 3) % R for k in ks] + [5]
    fb = G1FixedBase.of(points)
    assert fb.window == 8
    assert fb.combination(scalars) == fb.combination_ref(scalars) == G1.msm(points, scalars)
    if edge:
        pts = points[: len(edge)] + [G1.generator] * max(0, len(edge) - len(points))
        assert G1FixedBase.of(pts).combination(edge) == G1.msm(pts, edge)


@pytest.mark.parametrize("rows, window", [(8192, 4), (2000, 2), (16, 0)])
def test_fixed_base_falls_back_to_narrower_windows(monkeypatch: pytest.MonkeyPatch, rows: int, window: int) -> None:
    monkeypatch.setattr(fixed_base, "MAX_TABLE_ROWS", rows)
    points = [G1.mul(G1.generator, k) for k in (3, 1000, R - 5)]
    fb = G1FixedBase.of(points)
    assert fb.window == window
    for scalars in ([1, 2, 3], [R - 1, 0, 2**253 + 17]):
        assert fb.combination(scalars) == G1.msm(points, scalars)
    with pytest.raises(ValueError):
        fb.combination([1, 2])
    with pytest.raises(ValueError):
        fb.combination([1, 2, R])


# ---- the CLI's batch form -------------------------------------------------------------------


def _cli(*args: Any) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from cli import app

    result = CliRunner().invoke(app, ["groth16", "verify", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def test_cli_batch_prints_one_line_per_proof(tmp_path: Any) -> None:
    _, public, proofs = _kit()
    key = FIXTURES / "verification_key.json"
    pub = tmp_path / "public.json"
    public.save(pub)
    files = []
    for i, p in enumerate(proofs[:4]):
        p.save(tmp_path / f"p{i}.json")
        files += [pub, tmp_path / f"p{i}.json"]
    assert _cli(key, *files) == (0, "".join(f"{tmp_path}/p{i}.json: OK\n" for i in range(4)), "")
    wrong = Proof.from_points(proofs[0].a, proofs[0].b, proofs[1].c)
    wrong.save(tmp_path / "p1.json")
    code, out, _ = _cli(key, *files)
    assert code == 1 and out.splitlines()[1] == f"{tmp_path}/p1.json: INVALID: pairing check failed"
    assert [line.endswith(": OK") for line in out.splitlines()] == [True, False, True, True]
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(_outside_subgroup_json(proofs[2], 5)))
    code, out, _ = _cli(key, *files, pub, outside)
    assert code == 2 and out.splitlines()[4].startswith(f"{outside}: ERROR: MalformedProofError: pi_b: ")
    assert "subgroup" in out.splitlines()[4]
    code, _, err = _cli(key, pub, outside)  # the single form: unchanged, exit 2
    assert code == 2 and err.startswith("ERROR: MalformedProofError: pi_b: ") and "subgroup" in err
    code, _, err = _cli(key, *files, pub)
    assert code == 2 and "pairs" in err
