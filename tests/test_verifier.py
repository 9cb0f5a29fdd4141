"""Verifier: snarkjs JSON round-trips, `zkmargin groth16 verify` and verify() on proofs
made by snarkjs (valid passes, tampered fails, malformed raises a named error), and
property tests of point parsing.

snarkjs is the oracle: it compiles (circom2), sets up, proves, and its own
`groth16 verify` must agree with ours on every tampered proof.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from algebra import (
    G1,
    G1_GEN,
    G2,
    G2_GEN,
    EncodingError,
    FieldElementOutOfRangeError,
    PointNotInSubgroupError,
    PointNotOnCurveError,
    Q,
    R,
    g1_to_snarkjs,
)
from cli import app
from tests._node import run_node
from tests._paths import FIXTURES
from tests._points import twist_point_outside_g2
from tests._snarkjs import circom2, groth16_prove, groth16_setup, snarkjs, wtns_calculate
from verifier import (
    MalformedProofError,
    MalformedPublicSignalsError,
    MalformedVerifyingKeyError,
    Proof,
    PublicSignals,
    VerificationInputError,
    VerifyingKey,
    verify,
)

FIXTURE_VK = FIXTURES / "verification_key.json"

MULTIPLIER = """\
pragma circom 2.0.0;

// out = a * b * c with a and b public: public signals are [out, a, b].
template Multiplier3() {
    signal input a;
    signal input b;
    signal input c;
    signal output out;
    signal ab;
    ab <== a * b;
    out <== ab * c;
}

component main {public [a, b]} = Multiplier3();
"""
INPUTS = {"a": "3", "b": "11", "c": "5"}
PUBLIC = [165, 3, 11]


@dataclass(frozen=True)
class SnarkjsRun:
    """Files written by snarkjs for the multiplier circuit."""

    vk: Path
    proof: Path
    public: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, small_ptau: Path) -> SnarkjsRun:
    work = tmp_path_factory.mktemp("multiplier")
    src = work / "multiplier.circom"
    src.write_text(MULTIPLIER)
    build = circom2(src, work / "build")
    zkey, vk = groth16_setup(build.r1cs, small_ptau, work)
    inputs = work / "input.json"
    inputs.write_text(json.dumps(INPUTS))
    wtns = wtns_calculate(build.wasm, inputs, work / "witness.wtns")
    proof, public = groth16_prove(zkey, wtns, work / "proof.json", work / "public.json")
    return SnarkjsRun(vk, proof, public)


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def _write(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj, indent=1))
    return path


def _snarkjs_accepts(vk: Path, public: Path, proof: Path) -> bool:
    return snarkjs("groth16", "verify", vk, public, proof, check=False).returncode == 0


# ---- (a) models round-trip snarkjs JSON exactly --------------------------------------


def test_fixture_verifying_key_round_trips_byte_for_byte(tmp_path: Path) -> None:
    text = FIXTURE_VK.read_text()
    vk = VerifyingKey.from_json(text)
    assert vk.n_public == 2 and len(vk.ic) == 3
    assert vk.to_json() == text
    vk.save(tmp_path / "vk.json")
    assert (tmp_path / "vk.json").read_bytes() == FIXTURE_VK.read_bytes()
    assert VerifyingKey.load(tmp_path / "vk.json") == vk


def test_alphabeta_matches_snarkjs() -> None:
    fixture = VerifyingKey.load(FIXTURE_VK)
    rebuilt = VerifyingKey.from_points(fixture.alpha1, fixture.beta2, fixture.gamma2, fixture.delta2, fixture.ic)
    assert rebuilt.alphabeta12 == fixture.alphabeta12
    assert rebuilt == fixture
    assert fixture.alphabeta_is_consistent()
    # tampered: another alpha gives another e(alpha, beta)
    other = VerifyingKey.from_points(
        G1.double(fixture.alpha1), fixture.beta2, fixture.gamma2, fixture.delta2, fixture.ic
    )
    assert other.alphabeta12 != fixture.alphabeta12
    assert not fixture.model_copy(update={"alphabeta12": other.alphabeta12}).alphabeta_is_consistent()


@pytest.mark.parametrize("kind", ["vk", "proof", "public"])
def test_snarkjs_written_files_round_trip_byte_for_byte(run: SnarkjsRun, kind: str, tmp_path: Path) -> None:
    models: dict[str, type[VerifyingKey] | type[Proof] | type[PublicSignals]] = {
        "vk": VerifyingKey,
        "proof": Proof,
        "public": PublicSignals,
    }
    model = models[kind]
    path: Path = getattr(run, kind)
    parsed = model.load(path)
    assert parsed.to_json() == path.read_text()
    parsed.save(tmp_path / path.name)
    assert (tmp_path / path.name).read_bytes() == path.read_bytes()
    # every input form gives the same model: text, bytes, decoded JSON
    assert model.from_json(path.read_bytes()) == model.from_json(_load(path)) == parsed


def test_snarkjs_files_parse_to_the_expected_values(run: SnarkjsRun) -> None:
    assert PublicSignals.load(run.public).values == tuple(PUBLIC)
    vk = VerifyingKey.load(run.vk)
    assert vk.n_public == 3 and len(vk.ic) == 4
    assert vk.gamma2 == G2_GEN  # snarkjs's phase 2 leaves gamma at the generator
    assert vk.delta2 != G2_GEN  # ... and the contribution moved delta
    assert vk.alphabeta_is_consistent()


def test_json_layout_matches_bfj_including_empty_lists() -> None:
    # snarkjs writes with bfj {space: 1}: JSON.stringify(x, null, 1) except "[]" -> "[\n]"
    docs = [
        PublicSignals.from_values([]).to_json_obj(),
        PublicSignals.from_values([0, R - 1]).to_json_obj(),
        VerifyingKey.load(FIXTURE_VK).to_json_obj(),
        {"a": [], "b": {}, "c": [[], [[]]], "d": "x"},
    ]
    script = r"""
const bfj = require("bfj");
const docs = JSON.parse(require("fs").readFileSync(0, "utf8"));
Promise.all(docs.map((d) => bfj.stringify(d, {space: 1}))).then((out) => {
  process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(0));
}).catch((err) => { console.error(err); process.exit(1); });
"""
    expected = run_node(script, docs, packages=["bfj"])
    assert PublicSignals.from_values([]).to_json() == "[\n]"
    from verifier._json import dumps

    assert [dumps(d) for d in docs] == expected


# ---- (b) the CLI on a snarkjs proof --------------------------------------------------


def _zkmargin() -> Path:
    exe = Path(sys.executable).parent / "zkmargin"
    if not exe.is_file():
        pytest.fail(f"console script {exe} not found: install the package with `pip install -e '.[dev]'`")
    return exe


def _cli_subprocess(*args: Path) -> subprocess.CompletedProcess[str]:
    cmd = [str(_zkmargin()), "groth16", "verify", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _cli(*args: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["groth16", "verify", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def test_cli_accepts_snarkjs_proof(run: SnarkjsRun) -> None:
    proc = _cli_subprocess(run.vk, run.public, run.proof)
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "OK", "")


def test_cli_rejects_changed_public_input(run: SnarkjsRun, tmp_path: Path) -> None:
    public = _load(run.public)
    public[1] = str(int(public[1]) + 1)  # a = 4: out = 165 no longer a * b * c
    tampered = _write(tmp_path / "public.json", public)
    proc = _cli_subprocess(run.vk, tampered, run.proof)
    assert (proc.returncode, proc.stdout.strip()) == (1, "INVALID: pairing check failed")
    assert "Traceback" not in proc.stderr
    assert not _snarkjs_accepts(run.vk, tampered, run.proof)


def test_cli_rejects_another_valid_point(run: SnarkjsRun, tmp_path: Path) -> None:
    proof = _load(run.proof)
    a = Proof.load(run.proof).a
    proof["pi_a"] = g1_to_snarkjs(G1.double(a))  # on the curve, in the group, but wrong
    tampered = _write(tmp_path / "proof.json", proof)
    assert _cli(run.vk, run.public, tampered) == (1, "INVALID: pairing check failed\n", "")
    assert not _snarkjs_accepts(run.vk, run.public, tampered)


def test_cli_reports_point_not_on_curve(run: SnarkjsRun, tmp_path: Path) -> None:
    proof = _load(run.proof)
    proof["pi_a"][1] = str((int(proof["pi_a"][1]) + 1) % Q)
    tampered = _write(tmp_path / "proof.json", proof)
    proc = _cli_subprocess(run.vk, run.public, tampered)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("ERROR: MalformedProofError: pi_a: ")
    assert proc.stderr.rstrip().endswith("is not on G1")
    assert proc.stderr.count("\n") == 1  # one line, no traceback


def _malformed_cases(run: SnarkjsRun, tmp: Path) -> list[tuple[list[Path], str]]:
    """(arguments, expected stderr prefix) for input that must exit 2."""
    public = _load(run.public)
    vk = _load(run.vk)
    too_big = [str(R), *public[1:]]
    vk_short_ic = {**vk, "IC": vk["IC"][:-1]}
    return [
        (
            [run.vk, _write(tmp / "short.json", public[:2]), run.proof],
            "ERROR: MalformedPublicSignalsError: proof has 2 public signals, verifying key expects 3",
        ),
        (
            [run.vk, _write(tmp / "long.json", [*public, "1"]), run.proof],
            "ERROR: MalformedPublicSignalsError: proof has 4 public signals, verifying key expects 3",
        ),
        (
            [run.vk, _write(tmp / "big.json", too_big), run.proof],
            "ERROR: MalformedPublicSignalsError: public signal [0]: ",
        ),
        ([run.vk, run.public, _garbage(tmp / "garbage.json")], "ERROR: MalformedProofError: proof: not valid JSON"),
        ([_garbage(tmp / "garbage.json"), run.public, run.proof], "ERROR: MalformedVerifyingKeyError: verifying key: "),
        ([run.vk, run.public, run.vk], "ERROR: MalformedProofError: pi_a: Field required"),
        (
            [_write(tmp / "vk.json", vk_short_ic), run.public, run.proof],
            "ERROR: MalformedVerifyingKeyError: IC has 3 points, nPublic = 3 needs 4",
        ),
        ([run.vk, tmp / "missing.json", run.proof], f"ERROR: cannot read {tmp / 'missing.json'}: "),
    ]


def _garbage(path: Path) -> Path:
    path.write_bytes(b'{"pi_a": [\x00\xff garbage')
    return path


def test_cli_reports_malformed_input_with_exit_2(run: SnarkjsRun, tmp_path: Path) -> None:
    for args, prefix in _malformed_cases(run, tmp_path):
        code, out, err = _cli(*args)
        assert (code, out) == (2, ""), (args, err)
        assert err.startswith(prefix), (prefix, err)
        assert err.count("\n") == 1 and "Traceback" not in err


# ---- (c) the Python API on the same proof --------------------------------------------


def test_verify_accepts_snarkjs_proof(run: SnarkjsRun) -> None:
    vk, proof = VerifyingKey.load(run.vk), Proof.load(run.proof)
    assert verify(vk, PublicSignals.load(run.public), proof) is True
    assert verify(vk, PUBLIC, proof) is True  # plain ints
    # Groth16 is malleable: (-A, -B, C) verifies too, as it does in snarkjs
    assert verify(vk, PUBLIC, Proof.from_points(G1.neg(proof.a), G2.neg(proof.b), proof.c)) is True


def test_verify_rejects_tampered_proofs(run: SnarkjsRun) -> None:
    vk, proof = VerifyingKey.load(run.vk), Proof.load(run.proof)
    assert verify(vk, [165, 4, 11], proof) is False
    assert verify(vk, [166, 3, 11], proof) is False
    assert verify(vk, PUBLIC, Proof.from_points(G1.double(proof.a), proof.b, proof.c)) is False
    assert verify(vk, PUBLIC, Proof.from_points(proof.a, G2.double(proof.b), proof.c)) is False
    assert verify(vk, PUBLIC, Proof.from_points(proof.a, proof.b, G1.neg(proof.c))) is False
    assert verify(vk, PUBLIC, Proof.from_points(proof.c, proof.b, proof.a)) is False
    assert verify(vk, PUBLIC, Proof.from_points(G1.infinity, proof.b, proof.c)) is False
    other_vk = vk.model_copy(update={"ic": (vk.ic[0], vk.ic[2], vk.ic[1], vk.ic[3])})
    assert verify(other_vk, PUBLIC, proof) is False


def test_verify_raises_named_errors_for_malformed_input(run: SnarkjsRun) -> None:
    vk, proof = VerifyingKey.load(run.vk), Proof.load(run.proof)
    fixture_vk = VerifyingKey.load(FIXTURE_VK)
    with pytest.raises(MalformedPublicSignalsError, match=r"^proof has 3 public signals, verifying key expects 2$"):
        verify(fixture_vk, PUBLIC, proof)
    with pytest.raises(MalformedPublicSignalsError, match="not below the scalar field modulus r"):
        verify(vk, [165 + R, 3, 11], proof)
    with pytest.raises(MalformedPublicSignalsError, match=r"public signal \[2\]"):
        PublicSignals.from_json(["165", "3", "0x0b"])
    with pytest.raises(TypeError):
        verify(_load(run.vk), PUBLIC, proof)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify(vk, PUBLIC, _load(run.proof))  # type: ignore[arg-type]
    for error in (MalformedProofError, MalformedVerifyingKeyError, MalformedPublicSignalsError):
        assert issubclass(error, VerificationInputError) and issubclass(error, ValueError)


def test_protocol_and_curve_are_checked(run: SnarkjsRun) -> None:
    vk = _load(run.vk)
    with pytest.raises(MalformedVerifyingKeyError, match=r"^protocol: .*'plonk'") as info:
        VerifyingKey.from_json({**vk, "protocol": "plonk"})
    assert info.value.field == "protocol"
    with pytest.raises(MalformedProofError, match=r"^curve: .*'bls12381'"):
        Proof.from_json({**_load(run.proof), "curve": "bls12381"})
    with pytest.raises(MalformedVerifyingKeyError, match=r"^nPublic: "):
        VerifyingKey.from_json({**vk, "nPublic": "3"})


# ---- (d) point parsing, property-based -----------------------------------------------

_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
scalars = st.integers(min_value=1, max_value=R - 1)
_FIXTURE_VK_JSON = json.loads(FIXTURE_VK.read_text())
_BASE_PROOF = Proof.from_points(G1_GEN, G2_GEN, G1.double(G1_GEN)).to_json_obj()


@_SETTINGS
@given(ka=scalars, kb=scalars, kc=scalars)
def test_random_valid_points_round_trip(ka: int, kb: int, kc: int) -> None:
    a, b, c = G1.mul(G1_GEN, ka), G2.mul(G2_GEN, kb), G1.mul(G1_GEN, kc)
    proof = Proof.from_points(a, b, c)
    assert (proof.a, proof.b, proof.c) == (a, b, c)
    again = Proof.from_json(proof.to_json())
    assert again == proof
    assert Proof.from_json(json.loads(proof.to_json())) == proof


@_SETTINGS
@given(k=scalars, delta=st.integers(min_value=1, max_value=Q - 1), field=st.sampled_from(["pi_a", "pi_c"]))
def test_g1_point_off_curve_raises_malformed_proof(k: int, delta: int, field: str) -> None:
    x, y = G1.mul(G1_GEN, k)
    y2 = (y + delta) % Q
    assume(y2 != Q - y)  # -y is on the curve
    doc = {**_BASE_PROOF, field: [str(x), str(y2), "1"]}
    with pytest.raises(MalformedProofError, match=rf"^{field}: .* is not on G1$") as info:
        Proof.from_json(doc)
    assert info.value.field == field
    assert isinstance(info.value.__cause__, PointNotOnCurveError)


@_SETTINGS
@given(k=scalars, coord=st.integers(0, 1), extra=st.integers(min_value=1, max_value=2**256 // Q))
def test_coordinate_not_below_q_raises(k: int, coord: int, extra: int) -> None:
    point = list(G1.mul(G1_GEN, k))
    point[coord] += extra * Q  # the same residue, but not canonical
    doc = {**_BASE_PROOF, "pi_c": [str(point[0]), str(point[1]), "1"]}
    with pytest.raises(MalformedProofError, match=r"^pi_c: ") as info:
        Proof.from_json(doc)
    assert isinstance(info.value.__cause__, FieldElementOutOfRangeError)


_BAD_DECIMALS = st.one_of(
    st.sampled_from(["", "-1", " 1", "1 ", "0x10", "1.0", "1e3", "١٢", "+5", "9" * 81]),
    st.integers(0, 10),  # a JSON number, not a string
    st.none(),
    st.text(min_size=1, max_size=5).filter(lambda s: not (s.isascii() and s.isdigit())),
)


@_SETTINGS
@given(bad=_BAD_DECIMALS, position=st.integers(0, 2), field=st.sampled_from(["pi_a", "pi_c"]))
def test_non_decimal_coordinate_raises(bad: Any, position: int, field: str) -> None:
    coords: list[Any] = list(_BASE_PROOF[field])
    coords[position] = bad
    with pytest.raises(MalformedProofError, match=rf"^{field}\[{position}\]: ") as info:
        Proof.from_json({**_BASE_PROOF, field: coords})
    assert info.value.field == field
    assert isinstance(info.value.__cause__, EncodingError)


@_SETTINGS
@given(k=scalars, delta=st.integers(min_value=1, max_value=Q - 1), part=st.integers(0, 1))
def test_g2_point_off_curve_raises(k: int, delta: int, part: int) -> None:
    x, y = G2.mul(G2_GEN, k)
    y_bad = list(y)
    y_bad[part] = (y_bad[part] + delta) % Q
    doc = {**_BASE_PROOF, "pi_b": [[str(x[0]), str(x[1])], [str(y_bad[0]), str(y_bad[1])], ["1", "0"]]}
    with pytest.raises(MalformedProofError, match=r"^pi_b: .* is not on G2$") as info:
        Proof.from_json(doc)
    assert isinstance(info.value.__cause__, PointNotOnCurveError)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, Q - 1))
def test_g2_point_outside_subgroup_raises(seed: int) -> None:
    (x0, x1), (y0, y1) = twist_point_outside_g2(seed)
    bad = [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]
    with pytest.raises(MalformedProofError, match=r"^pi_b: .*subgroup") as info:
        Proof.from_json({**_BASE_PROOF, "pi_b": bad})
    assert isinstance(info.value.__cause__, PointNotInSubgroupError)
    with pytest.raises(MalformedVerifyingKeyError, match=r"^vk_delta_2: .*subgroup") as vk_info:
        VerifyingKey.from_json({**_FIXTURE_VK_JSON, "vk_delta_2": bad})
    assert vk_info.value.field == "vk_delta_2"


@_SETTINGS
@given(index=st.integers(0, 2), delta=st.integers(min_value=1, max_value=Q - 1))
def test_verifying_key_ic_point_off_curve_raises(index: int, delta: int) -> None:
    ic = [list(p) for p in _FIXTURE_VK_JSON["IC"]]
    y = int(ic[index][1])
    y2 = (y + delta) % Q
    assume(y2 != Q - y)
    ic[index][1] = str(y2)
    with pytest.raises(MalformedVerifyingKeyError, match=rf"^IC\[{index}\]: .* is not on G1$") as info:
        VerifyingKey.from_json({**_FIXTURE_VK_JSON, "IC": ic})
    assert info.value.field == "IC"


@_SETTINGS
@given(values=st.lists(st.integers(0, R - 1), max_size=6))
def test_public_signals_round_trip(values: list[int]) -> None:
    signals = PublicSignals.from_values(values)
    assert list(signals) == values and len(signals) == len(values)
    assert PublicSignals.from_json(signals.to_json()) == signals
    assert signals.to_json_obj() == [str(v) for v in values]


@_SETTINGS
@given(
    values=st.lists(st.integers(0, R - 1), min_size=1, max_size=4),
    index=st.integers(0, 3),
    big=st.integers(min_value=R, max_value=2**256),
)
def test_public_signal_not_below_r_raises(values: list[int], index: int, big: int) -> None:
    index %= len(values)
    doc = [str(v) for v in values]
    doc[index] = str(big)
    with pytest.raises(MalformedPublicSignalsError, match=rf"^public signal \[{index}\]: ") as info:
        PublicSignals.from_json(doc)
    assert isinstance(info.value.__cause__, FieldElementOutOfRangeError)


def test_verifier_imports_nothing_above_it_and_no_numba() -> None:
    """A ledger node installs a small verifier: it must not pull the prover, circuits,
    engine, or the numba kernels in."""
    code = (
        "import sys, verifier; print(sorted(m for m in ('prover', 'circuits', 'engine', 'numba') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert proc.stdout.strip() == "[]"
