"""The fast Groth16 prover: load a key once, prove many witnesses.

    prover = Prover.from_zkey("circuit.zkey")        # or Prover(proving_key)
    proof, public = prover.prove(witness)              # witness: ints or (n_vars, 4) limbs
    prover.last_timings                                # {"witness map": 0.03, ...}

Everything heavy runs in the numba kernels of `algebra`, on all cores:
- witness map (snarkjs's layout, see `_qap`): A w and B w as sparse matrix-vector
  products over Fr, c = a * b, then for each of a, b, c an inverse NTT and an NTT on the
  odd coset w_2n <w>; h = a' b' - c' (6 NTTs);
- the five MSMs: A and B1 (G1) and B2 (G2) over the whole witness, C over the private
  wires, H over h. The MSM partitions scalars (0 skipped, 1 and r - 1 added, small
  and full-width ones in separate Pippenger passes), which is what Groth16 witnesses
  need: range-check bits are 0 or 1;
- blinding: r delta, s delta and the C combination as small MSMs over the key's
  header points (LEM rows made once);
- shared wires (`share_wires`, `_shared`): wires whose values a run of proofs shares
  (an epoch's snapshot part) have their A, B and C terms summed once per distinct
  values; the proofs are the same.

The key's point sections are used in place: `from_zkey` maps the file copy-on-write,
so nothing is copied and RSS grows only by the pages the MSMs touch.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

import verifier
from algebra import (
    FrCsr,
    R,
    U64Array,
    fr_coset_ntt,
    fr_intt,
    fr_mul_sub,
    fr_root_of_unity,
    fr_to_limbs,
    from_montgomery,
    g1_from_lem,
    g1_msm,
    g1_to_lem,
    g2_from_lem,
    g2_msm,
    g2_to_lem,
    limbs_below,
    limbs_to_ints,
)

from ._csr import group_by_output
from ._errors import WitnessError
from ._keys import MatrixEntry, ProvingKey
from ._prove import RawProof, prove_raw_reference
from ._setup import INSECURE_NOTICE
from ._shared import SharedTerms
from ._zkey_file import ZkeyFile, read_zkey

if TYPE_CHECKING:  # the models load with the first proof or key made (pydantic)
    from verifier import Proof, PublicSignals, VerifyingKey

I64Array = npt.NDArray[np.int64]

#: The proof's stages, in order (names for progress bars and `last_timings`).
STAGES = ("witness map", "A in G1", "B in G2", "B in G1", "C in G1")


def _matrix(rows: npt.ArrayLike, cols: npt.ArrayLike, coefs: U64Array, shape: tuple[int, int], mont: bool) -> FrCsr:
    """One R1CS matrix over the domain's rows as a prepared CSR (coefficients standard
    or, with `mont`, already in Montgomery form)."""
    indptr, indices, values = group_by_output(rows, cols, coefs, shape[0])
    return FrCsr.of(indptr, indices, values, shape[1], montgomery=mont)


def _matrix_of(entries: Sequence[MatrixEntry], shape: tuple[int, int]) -> FrCsr:
    arr = np.array([(r, w) for r, w, _ in entries], dtype=np.int64).reshape(-1, 2)
    coefs = fr_to_limbs([c for _, _, c in entries]).reshape(-1, 4)
    return _matrix(arr[:, 0], arr[:, 1], coefs, shape, False)


class Prover:
    """A Groth16 prover holding one proving key, ready to prove many witnesses.

    Build it from a `ProvingKey` (dev setup) or a `ZkeyFile` / .zkey path (snarkjs or our
    phase 2). Proofs are the same, bit for bit, as `prove_raw(..., reference=True)` for
    the same randomness. Not thread-safe (the kernels use every core anyway).
    """

    def __init__(self, key: ProvingKey | ZkeyFile, *, insecure: bool | None = None) -> None:
        self.n_vars = key.n_vars
        self.n_public = key.n_public
        self.domain_size = key.domain_size
        self.insecure = bool(key.insecure if isinstance(key, ProvingKey) else insecure)
        n = key.domain_size
        shape = (n, key.n_vars)
        if isinstance(key, ZkeyFile):
            sel_a = key.coeffs["matrix"] == 0
            # values are stored as coef * R^2: one Montgomery reduction gives coef * R,
            # the Montgomery form the product kernel multiplies by
            mont = from_montgomery(np.ascontiguousarray(key.coeffs["value"]), "r")
            rows, cols = key.coeffs["constraint"], key.coeffs["signal"]
            self._a = _matrix(rows[sel_a], cols[sel_a], mont[sel_a], shape, True)
            self._b = _matrix(rows[~sel_a], cols[~sel_a], mont[~sel_a], shape, True)
        else:
            self._a = _matrix_of(key.a_coeffs, shape)
            self._b = _matrix_of(key.b_coeffs, shape)
        self._a_points = _writable(key.a_points)
        self._b1_points = _writable(key.b1_points)
        self._b2_points = _writable(key.b2_points)
        # C's private-wire rows, then H's: one MSM (one Pippenger pass) sums both per proof
        self._ch_points = np.concatenate([np.asarray(key.c_points), np.asarray(key.h_points)])
        self._g1_fixed = g1_to_lem([key.alpha1, key.beta1, key.delta1])  # rows: alpha, beta, delta
        self._g2_fixed = g2_to_lem([key.beta2, key.delta2])  # rows: beta, delta
        # The verifying key (its alpha-beta pairing loads the pairing kernels) is made on
        # first use: proving alone never needs it.
        self._vk_points = (key.alpha1, key.beta2, key.gamma2, key.delta2, key.ic)
        self._vk: VerifyingKey | None = None
        self._coset = fr_root_of_unity(2 * n)
        self._shared: SharedTerms | None = None
        #: Seconds per stage of the last proof, in `STAGES` order.
        self.last_timings: dict[str, float] = {}

    @classmethod
    def from_zkey(cls, path: str | os.PathLike[str]) -> Prover:
        """Load a .zkey (memory-mapped copy-on-write: the file is never written)."""
        return cls(read_zkey(path, copy_on_write=True))

    @property
    def verifying_key(self) -> VerifyingKey:
        """The verifying key matching this prover's key (made on first use)."""
        if self._vk is None:
            notice = INSECURE_NOTICE if self.insecure else None
            self._vk = verifier.VerifyingKey.from_points(*self._vk_points, setup_notice=notice)
        return self._vk

    def share_wires(self, wires: npt.ArrayLike | None) -> None:
        """Declare wires whose values the coming witnesses share (e.g.
        `CompiledCircuit.wires_determined_by` of an epoch's inputs): their MSM terms are
        made once per distinct values and reused (`_shared`). Proofs are unchanged; a
        witness with other values there only refreshes the shared sums. None stops it."""
        self._shared = None if wires is None else SharedTerms(wires, self.n_vars)

    # ---- witness ----------------------------------------------------------------------

    def witness_limbs(self, witness: Sequence[int] | U64Array) -> U64Array:
        """The witness as (n_vars, 4) standard-form limbs, checked against the key.

        Raises WitnessError for a wrong length, a first value other than 1, or a value
        not below r.
        """
        if isinstance(witness, np.ndarray):
            if witness.dtype != np.uint64 or witness.ndim != 2 or witness.shape[1] != 4:
                raise WitnessError(f"witness array must be (n, 4) uint64 limbs, got {witness.dtype} {witness.shape}")
            w = np.ascontiguousarray(witness)
        else:
            for i, v in enumerate(witness):
                if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 0 <= v < R:
                    raise WitnessError(f"witness[{i}] = {v!r} is not a field element in [0, r)")
            w = fr_to_limbs([int(v) for v in witness]).reshape(-1, 4)
        if w.shape[0] != self.n_vars:
            raise WitnessError(f"witness has {w.shape[0]} values, proving key expects {self.n_vars}")
        if w.shape[0] and not (w[0, 0] == 1 and not w[0, 1:].any()):
            raise WitnessError(f"witness[0] must be the constant 1, got {limbs_to_ints(w[:1])[0]}")
        bad = ~limbs_below(w, R)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise WitnessError(f"witness[{i}] = {limbs_to_ints(w[i : i + 1])[0]} is not a field element in [0, r)")
        return w

    def h_scalars(self, witness: Sequence[int] | U64Array) -> U64Array:
        """The witness map: (a*b - c) on the odd 2n-th roots, as snarkjs computes it."""
        w = self.witness_limbs(witness)
        return self._h(w)

    def _h(self, w: U64Array) -> U64Array:
        a = self._a.matvec(w)
        b = self._b.matvec(w)
        c = fr_mul_sub(a, b)
        odd = [fr_coset_ntt(fr_intt(v), self._coset) for v in (a, b, c)]
        return fr_mul_sub(*odd)

    # ---- proving ----------------------------------------------------------------------

    def prove_raw(
        self,
        witness: Sequence[int] | U64Array,
        *,
        randbelow: Callable[[int], int] = secrets.randbelow,
        on_stage: Callable[[str], None] | None = None,
    ) -> RawProof:
        """The proof points for `witness`. The witness is not checked against the
        constraints (the key has no C matrix): an unsatisfying one gives a proof that does
        not verify. Stage times land in `last_timings`."""
        w = self.witness_limbs(witness)
        r = randbelow(R)
        s = randbelow(R)
        timings: dict[str, float] = {}
        clock = _StageClock(timings, on_stage)

        clock.start("witness map")
        h = self._h(w)

        # A = alpha + sum_j w_j A_j + r delta
        clock.start("A in G1")
        part = _Parts(w, self._shared)
        a = _g1_sum(np.stack([part.g1("A", self._a_points), self._g1_fixed[0], self._g1_fixed[2]]), [1, 1, r])

        # B = beta + sum_j w_j B_j + s delta, in G2 for the proof and in G1 for C
        clock.start("B in G2")
        b2 = _g2_sum(np.stack([part.g2("B2", self._b2_points), self._g2_fixed[0], self._g2_fixed[1]]), [1, 1, s])
        clock.start("B in G1")
        b1 = _g1_sum(np.stack([part.g1("B1", self._b1_points), self._g1_fixed[1], self._g1_fixed[2]]), [1, 1, s])

        # C = sum_private w_j C_j + sum_i h_i H_i + s A + r B' - r s delta
        clock.start("C in G1")
        c_h = part.g1("C", self._ch_points, self.n_public + 1, tail=h)
        c = _g1_sum(np.stack([c_h, a, b1, self._g1_fixed[2]]), [1, s, r, -r * s % R])
        clock.stop()
        self.last_timings = timings

        public = tuple(limbs_to_ints(w[1 : self.n_public + 1]))
        return RawProof(
            g1_from_lem(a.reshape(1, 8))[0],
            g2_from_lem(b2.reshape(1, 16))[0],
            g1_from_lem(c.reshape(1, 8))[0],
            public,
        )

    def prove(
        self,
        witness: Sequence[int] | U64Array,
        *,
        randbelow: Callable[[int], int] = secrets.randbelow,
        on_stage: Callable[[str], None] | None = None,
    ) -> tuple[Proof, PublicSignals]:
        """A proof and its public signals as the snarkjs-compatible models."""
        raw = self.prove_raw(witness, randbelow=randbelow, on_stage=on_stage)
        return verifier.Proof.from_points(raw.a, raw.b, raw.c), verifier.PublicSignals.from_values(raw.public_signals)


def prove_raw(
    pk: ProvingKey,
    witness: Sequence[int] | U64Array,
    *,
    randbelow: Callable[[int], int] = secrets.randbelow,
    on_stage: Callable[[str], None] | None = None,
    reference: bool = False,
) -> RawProof:
    """One proof under `pk` (builds a `Prover`; keep one to prove many witnesses).

    `reference=True` runs the slow twin on Python ints (`prove_raw_reference`); the same
    randomness gives the same proof either way.
    """
    if reference:
        values = witness if not isinstance(witness, np.ndarray) else limbs_to_ints(witness)
        return prove_raw_reference(pk, values, randbelow=randbelow, on_stage=on_stage)
    return Prover(pk).prove_raw(witness, randbelow=randbelow, on_stage=on_stage)


def prove(
    pk: ProvingKey,
    witness: Sequence[int] | U64Array,
    *,
    randbelow: Callable[[int], int] = secrets.randbelow,
    on_stage: Callable[[str], None] | None = None,
) -> tuple[Proof, PublicSignals]:
    """A Groth16 proof and its public signals as the snarkjs-compatible models."""
    return Prover(pk).prove(witness, randbelow=randbelow, on_stage=on_stage)


class _Parts:
    """A witness's MSMs, split into the shared wires' cached sums and the rest."""

    def __init__(self, w: U64Array, shared: SharedTerms | None) -> None:
        self._shared = shared
        self._w = w if shared is None else shared.variable_part(w)

    def g1(self, name: str, points: U64Array, first_wire: int = 0, tail: U64Array | None = None) -> U64Array:
        """sum_j w_j points[j - first_wire] over wires j >= first_wire, in G1; with `tail`,
        plus sum_i tail_i points[m + i], the rows after the m wire rows."""
        scalars = self._w[first_wire:] if tail is None else np.concatenate([self._w[first_wire:], tail])
        rest = g1_msm(points, np.ascontiguousarray(scalars))
        if self._shared is None:
            return rest
        return _g1_sum(np.stack([rest, self._shared.sum(name, g1_msm, points, first_wire)]), [1, 1])

    def g2(self, name: str, points: U64Array) -> U64Array:
        """sum_j w_j points[j] in G2."""
        rest = g2_msm(points, self._w)
        if self._shared is None:
            return rest
        return _g2_sum(np.stack([rest, self._shared.sum(name, g2_msm, points)]), [1, 1])


class _StageClock:
    """Times named stages into a dict and reports each start to `on_stage`."""

    def __init__(self, timings: dict[str, float], on_stage: Callable[[str], None] | None) -> None:
        self._timings = timings
        self._on_stage = on_stage
        self._name: str | None = None
        self._t0 = 0.0

    def start(self, name: str) -> None:
        self.stop()
        if self._on_stage is not None:
            self._on_stage(name)
        self._name, self._t0 = name, time.perf_counter()

    def stop(self) -> None:
        if self._name is not None:
            self._timings[self._name] = time.perf_counter() - self._t0
            self._name = None


def _writable(points: Any) -> U64Array:
    """The key's point array itself when numba can take it (writable, C order), else a copy."""
    arr = np.ascontiguousarray(points)
    return arr if arr.flags.writeable else arr.copy()


def _g1_sum(rows: U64Array, scalars: Sequence[int]) -> U64Array:
    return g1_msm(np.ascontiguousarray(rows), fr_to_limbs(list(scalars)).reshape(-1, 4))


def _g2_sum(rows: U64Array, scalars: Sequence[int]) -> U64Array:
    return g2_msm(np.ascontiguousarray(rows), fr_to_limbs(list(scalars)).reshape(-1, 4))
