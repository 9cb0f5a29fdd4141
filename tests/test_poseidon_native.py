"""Native Poseidon vs circomlibjs (run through Node.js at test time)."""

from __future__ import annotations

import random

import pytest

from algebra._poseidon import _poseidon_reference, poseidon
from algebra._poseidon_constants import (
    FIELD_MODULUS,
    PARTIAL_ROUNDS,
    poseidon_params,
)

try:
    from tests._node import NodePeersMissing, run_node
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from _node import NodePeersMissing, run_node  # type: ignore[no-redef]

R = FIELD_MODULUS
ARITIES = range(1, 17)
RANDOM_PER_ARITY = 6

_CIRCOMLIBJS_POSEIDON = r"""
const { buildPoseidon } = require("circomlibjs");
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
buildPoseidon().then((poseidon) => {
  const out = cases.map((inputs) => poseidon.F.toString(poseidon(inputs)));
  process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(0));
}).catch((err) => { console.error(err); process.exit(1); });
"""


def _cases() -> list[list[int]]:
    rng = random.Random(0x5EED_9051)
    cases: list[list[int]] = []
    for n in ARITIES:
        cases.append([0] * n)
        cases.append([R - 1 - i for i in range(n)])
        cases.append(list(range(1, n + 1)))
        for _ in range(RANDOM_PER_ARITY):
            cases.append([rng.randrange(R) for _ in range(n)])
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def circomlibjs_digests() -> list[int] | NodePeersMissing:
    # One node process for every case; JSON numbers are doubles, so field
    # elements travel as decimal strings.
    payload = [[str(v) for v in case] for case in CASES]
    try:
        out = run_node(_CIRCOMLIBJS_POSEIDON, payload, packages=["circomlibjs"])
    except NodePeersMissing as exc:
        return exc  # reported as a test failure (never a skip) below
    assert isinstance(out, list) and len(out) == len(CASES)
    return [int(x) for x in out]


@pytest.mark.parametrize("arity", ARITIES)
def test_matches_circomlibjs(arity: int, circomlibjs_digests: list[int] | NodePeersMissing) -> None:
    if isinstance(circomlibjs_digests, NodePeersMissing):
        pytest.fail(f"circomlibjs reference unavailable: {circomlibjs_digests}", pytrace=False)
    checked = 0
    for case, expected in zip(CASES, circomlibjs_digests, strict=True):
        if len(case) == arity:
            assert poseidon(case) == expected, f"mismatch for inputs {case}"
            checked += 1
    assert checked >= RANDOM_PER_ARITY + 3


def test_known_vector() -> None:
    assert poseidon([1, 2]) == 7853200120776062878684798364095072458815029376092732009249414926327459813530


def test_accepts_tuple_and_is_deterministic() -> None:
    assert poseidon((1, 2)) == poseidon([1, 2])


@pytest.mark.parametrize("arity", ARITIES)
def test_optimized_matches_reference_evaluation(arity: int) -> None:
    rng = random.Random(arity)
    for _ in range(3):
        values = [rng.randrange(R) for _ in range(arity)]
        assert poseidon(values) == _poseidon_reference(values)


def test_rejects_no_inputs() -> None:
    with pytest.raises(ValueError, match=r"got 0 inputs, Poseidon supports 1 to 16"):
        poseidon([])


def test_rejects_17_inputs() -> None:
    with pytest.raises(ValueError, match=r"got 17 inputs, Poseidon supports 1 to 16"):
        poseidon([1] * 17)


def test_rejects_negative_input() -> None:
    with pytest.raises(ValueError, match=r"input 1 .*-5"):
        poseidon([3, -5, 7])


def test_rejects_input_equal_to_modulus() -> None:
    with pytest.raises(ValueError, match=rf"input 2 .*{R}"):
        poseidon([0, 1, R])


def test_rejects_input_above_modulus() -> None:
    with pytest.raises(ValueError, match=rf"input 0 .*{R + 10}"):
        poseidon([R + 10])


@pytest.mark.parametrize("bad", [1.0, "1", None, True])
def test_rejects_non_int_input(bad: object) -> None:
    with pytest.raises(ValueError, match=r"input 1 "):
        poseidon([1, bad])  # type: ignore[list-item]


@pytest.mark.parametrize("t", [0, 1, 18, 100, 2.0, True])
def test_params_reject_bad_width(t: int) -> None:
    with pytest.raises(ValueError, match=r"2\.\.17"):
        poseidon_params(t)


@pytest.mark.parametrize("t", range(2, 18))
def test_params_shape(t: int) -> None:
    params = poseidon_params(t)
    assert params.t == t
    assert params.full_rounds == 8
    assert params.partial_rounds == PARTIAL_ROUNDS[t - 2]
    assert len(params.round_constants) == t * (8 + params.partial_rounds)
    assert all(0 <= c < R for c in params.round_constants)
    assert len(params.mds) == t and all(len(row) == t for row in params.mds)
    assert all(0 < m < R for row in params.mds for m in row)
    assert poseidon_params(t) is params  # cached
