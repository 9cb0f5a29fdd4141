"""Batch verification: many proofs of one key with one final exponentiation.

For proofs (A_j, B_j, C_j) with signals s_j and secret random 128-bit r_j, all are valid
(except with probability about n / 2^128) iff

    prod_j e(-r_j A_j, B_j) * e(R alpha, beta) * e(sum_j r_j vk_x_j, gamma)
        * e(sum_j r_j C_j, delta) = 1,        R = sum_j r_j,

n + 3 Miller loops (the last three on prepared lines) and one final exponentiation;
sum_j r_j vk_x_j = R IC_0 + sum_i (sum_j r_j s_ji) IC_i is one fixed-base combination
and sum_j r_j C_j one MSM. The r_j come from `secrets`, fresh for every check, so no
one who makes proofs can predict them. When the combined check fails, the batch is
halved and each half checked again, down to single proofs verified exactly as `verify`
does, so the verdicts name exactly the failing proofs.

Items may be models or snarkjs JSON; one that cannot be parsed, or whose signals do not
fit the key, gets a verdict carrying its named error, as `check` gives one by one.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import algebra
from algebra import R, g1_to_lem, g2_to_lem, ints_to_limbs, pairing_check_lem

from ._errors import VerificationInputError
from ._models import Proof, PublicSignals, VerifyingKey
from ._verify import PreparedVerifyingKey, prepare, verify

#: Randomizer size: a wrong batch passes with probability at most 2^-RANDOMIZER_BITS.
RANDOMIZER_BITS = 128

ProofInput = Proof | str | bytes | dict[str, Any]
SignalsInput = PublicSignals | Sequence[int] | Sequence[str] | str | bytes


@dataclass(frozen=True)
class Verdict:
    """One proof's outcome: `valid`, and for malformed input the named error (else None).

    Truthy exactly when the proof is valid.
    """

    valid: bool
    error: VerificationInputError | None = None

    def __bool__(self) -> bool:
        return self.valid


def _proof(value: Any) -> Proof:
    if isinstance(value, Proof):
        return value
    if isinstance(value, (str, bytes, bytearray, dict)):
        return Proof.from_json(value)
    raise TypeError(f"proof must be a Proof or snarkjs JSON, got {type(value).__name__}")


def _signals(value: Any) -> PublicSignals:
    if isinstance(value, PublicSignals):
        return value
    if isinstance(value, (str, bytes, bytearray)):
        return PublicSignals.from_json(value)
    if isinstance(value, Sequence) and all(isinstance(v, int) for v in value):
        return PublicSignals.from_values(value)
    if isinstance(value, Sequence):
        return PublicSignals.from_json(list(value))
    raise TypeError(f"public signals must be PublicSignals, ints or snarkjs JSON, got {type(value).__name__}")


def _parse(key: PreparedVerifyingKey, signals: Any, proof: Any) -> tuple[PublicSignals, Proof]:
    return key.check_signals(_signals(signals)), _proof(proof)


def check(vk: VerifyingKey, public_signals: SignalsInput, proof: ProofInput) -> Verdict:
    """One proof's verdict, from models or snarkjs JSON: what `batch_verify` gives one by one."""
    try:
        signals, parsed = _parse(prepare(vk), public_signals, proof)
    except VerificationInputError as exc:
        return Verdict(False, exc)
    return Verdict(verify(vk, signals, parsed))


@dataclass(frozen=True)
class _Batch:
    """The well-formed proofs of a batch as kernel rows, shared by every sub-check."""

    signals: list[tuple[int, ...]]
    a: Any  # (n, 8) LEM rows of A
    b: Any  # (n, 16) LEM rows of B
    c: Any  # (n, 8) LEM rows of C

    @classmethod
    def of(cls, items: list[tuple[PublicSignals, Proof]]) -> _Batch:
        n = len(items)
        return cls(
            [s.values for s, _ in items],
            g1_to_lem([p.a for _, p in items]).reshape(n, 8),
            g2_to_lem([p.b for _, p in items]).reshape(n, 16),
            g1_to_lem([p.c for _, p in items]).reshape(n, 8),
        )


def _randomizers(n: int) -> list[int]:
    return [secrets.randbelow((1 << RANDOMIZER_BITS) - 1) + 1 for _ in range(n)]


def _combined_check(key: PreparedVerifyingKey, batch: _Batch, lo: int, hi: int) -> bool:
    """The random linear combination of proofs lo..hi-1 (see the module docstring)."""
    n = hi - lo
    r = _randomizers(n)
    total = sum(r) % R
    sums = [sum(rj * s[i] for rj, s in zip(r, batch.signals[lo:hi])) % R for i in range(key.vk.n_public)]
    idx = np.arange(n + 1, dtype=np.int64)
    neg_ra = algebra.g1_sparse_combination(batch.a[lo:hi], idx, idx[:n], ints_to_limbs([R - rj for rj in r]))
    rc = algebra.g1_msm(batch.c[lo:hi], ints_to_limbs(r))
    fixed = key.fixed_rows(
        [key.combination(total, [0] * (key.vk.n_public + 1)), key.combination(0, [total, *sums]), rc]
    )
    return pairing_check_lem(neg_ra, batch.b[lo:hi], fixed, key.lines, np.empty((0, 12, 4), dtype=np.uint64))


def _failing(
    key: PreparedVerifyingKey,
    batch: _Batch,
    items: list[tuple[PublicSignals, Proof]],
    lo: int,
    hi: int,
    known_bad: bool = False,
) -> list[int]:
    """Indices in lo..hi-1 of the proofs that do not verify (bisection)."""
    if hi - lo == 1:
        signals, proof = items[lo]
        return [] if verify(key.vk, signals, proof) else [lo]
    if not known_bad and _combined_check(key, batch, lo, hi):
        return []
    mid = (lo + hi) // 2
    left = _failing(key, batch, items, lo, mid)
    return left + _failing(key, batch, items, mid, hi, known_bad=known_bad and not left)


def batch_verify(vk: VerifyingKey, items: Sequence[tuple[SignalsInput, ProofInput]]) -> list[Verdict]:
    """One verdict per (public_signals, proof) item, equal to `check` of each, from one
    combined check when all are valid (and bisection naming the failing ones if not)."""
    if not isinstance(vk, VerifyingKey):
        raise TypeError(f"vk must be a VerifyingKey, got {type(vk).__name__}")
    key = prepare(vk)
    verdicts: list[Verdict | None] = [None] * len(items)
    good: list[tuple[PublicSignals, Proof]] = []
    where: list[int] = []
    for i, (signals, proof) in enumerate(items):
        try:
            good.append(_parse(key, signals, proof))
            where.append(i)
        except VerificationInputError as exc:
            verdicts[i] = Verdict(False, exc)
    bad = set(_failing(key, _Batch.of(good), good, 0, len(good))) if good else set()
    for k, i in enumerate(where):
        verdicts[i] = Verdict(k not in bad)
    return [v for v in verdicts if v is not None]
