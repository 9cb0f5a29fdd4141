"""Poseidon in the circuit, with circomlib's parameters (the twin of `algebra.poseidon`).

Per round: add the round constants (free), S-box x^5 (three constraints: x^2, x^4, x^5)
on every element in full rounds and on state[0] in partial rounds, then the MDS matrix
(free: a linear combination). t inputs + 1 wide, 8 full rounds, circomlib's partial
round counts; 3 * (8 t + R_P) - 3 constraints (round 0's capacity S-box acts on a
constant and folds away), e.g. 240 for two inputs, as circomlib.
"""

from __future__ import annotations

from collections.abc import Sequence

from algebra import POSEIDON_MAX_INPUTS as MAX_INPUTS
from algebra import POSEIDON_MIN_INPUTS as MIN_INPUTS
from algebra import poseidon_tables

from ._builder import API, Value
from ._errors import CircuitDefinitionError
from ._lc import LinearCombination, as_lc


def _sbox(api: API, x: LinearCombination, name: str) -> LinearCombination:
    x2 = api.mul(x, x, name=f"{name}/x^2")
    x4 = api.mul(x2, x2, name=f"{name}/x^4")
    return api.mul(x4, x, name=f"{name}/x^5")


def _mix_row(state: Sequence[LinearCombination], row: Sequence[int]) -> LinearCombination:
    """sum_j row[j] * state[j] (free: a linear combination), accumulated in one dict and
    reduced mod r once; the partial rounds' combinations grow to many terms, so this is
    what compiling a wide Poseidon spends its time on."""
    terms: dict[int, int] = {}
    get = terms.get
    for s, m in zip(state, row):
        for w, c in s.terms.items():
            terms[w] = get(w, 0) + c * m
    return LinearCombination(terms)


def poseidon_hash(api: API, inputs: Sequence[Value], name: str = "poseidon") -> LinearCombination:
    """The circomlib Poseidon hash of 1 to 16 values, constrained; returns the digest.

    The partial rounds run in the sparse form of `algebra.poseidon` (the Poseidon paper's
    Appendix B, tables `algebra.poseidon_tables`): the S-box inputs are the textbook's
    values, so the constraints and the witness's S-box wires are the same, but the free
    linear layer touches t terms a round instead of t**2, which keeps compiling wide
    sponges fast."""
    if not MIN_INPUTS <= len(inputs) <= MAX_INPUTS:
        raise CircuitDefinitionError(
            f"{name}: got {len(inputs)} inputs, Poseidon supports {MIN_INPUTS} to {MAX_INPUTS}"
        )
    tb = poseidon_tables(len(inputs) + 1)
    state = [LinearCombination(), *(as_lc(v) for v in inputs)]
    with api.scope(name):
        r = 0
        for c in tb.first_constants:  # the first half of the full rounds
            state = [_sbox(api, s + k, f"round{r}/sbox{i}") for i, (s, k) in enumerate(zip(state, c))]
            matrix = tb.pre_partial_mds if r == tb.half_full - 1 else tb.mds
            state = [_mix_row(state, row) for row in matrix]
            r += 1
        x0, rest = state[0], state[1:]
        for k0, v, w in zip(tb.partial_constants, tb.partial_v, tb.partial_w):
            s0 = _sbox(api, x0 + k0, f"round{r}/sbox0")
            x0 = _mix_row([s0, *rest], (tb.m00, *v))
            rest = [x + s0 * wi for x, wi in zip(rest, w)]
            r += 1
        state = [x0, *rest]
        last = len(tb.last_constants) - 1
        for j, c in enumerate(tb.last_constants):  # the second half
            state = [_sbox(api, s + k, f"round{r}/sbox{i}") for i, (s, k) in enumerate(zip(state, c))]
            if j == last:
                return _mix_row(state, tb.mds[0])
            state = [_mix_row(state, row) for row in tb.mds]
            r += 1
    raise AssertionError("unreachable: Poseidon has at least one full round")


#: Inputs per sponge step besides the chaining value (Poseidon takes at most 16).
SPONGE_RATE = 15


def poseidon_sponge(api: API, tag: int, values: Sequence[Value], name: str = "sponge") -> LinearCombination:
    """The Poseidon sponge of `algebra.sponge` over any number of values, constrained::

        h = poseidon([tag, len(values)])           (constants: folds to a constant, free)
        for each chunk of 15 values (the last may be shorter): h = poseidon([h, *chunk])

    The length in the first call makes the encoding injective across lengths; `tag`
    separates domains. Returns the digest (the last h).
    """
    h: LinearCombination = poseidon_hash(api, [tag, len(values)], name=f"{name}/init")
    for i, start in enumerate(range(0, len(values), SPONGE_RATE)):
        h = poseidon_hash(api, [h, *values[start : start + SPONGE_RATE]], name=f"{name}/chunk{i}")
    return h
