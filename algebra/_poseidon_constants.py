"""Poseidon parameters for the BN254 scalar field, generated from first principles.

The Poseidon hash used by circom's ``circomlib`` (and by ``circomlibjs``) takes its
round constants and MDS matrices from the reference parameter generator published
by the Poseidon authors, ``generate_parameters_grain.sage`` in the IAIK ``hadeshash``
repository (https://extgit.iaik.tugraz.at/krypto/hadeshash, ``code/``), invoked as::

    sage generate_parameters_grain.sage 1 0 254 <t> 8 <R_P> 0x30644e72...f0000001

(Grassi, Khovratovich, Rechberger, Roy, Schofnegger, "Poseidon: A New Hash Function
for Zero-Knowledge Proof Systems", USENIX Security 2021, ePrint 2019/458.)
No constant table is stored here: this module re-derives every value with a pure
Python port of the deterministic part of that script.  The procedure is:

1. **Seed.**  An 80-bit Grain LFSR state is built from the parameters, most
   significant bit first: field type (2 bits, ``1`` = GF(p)), S-box type (4 bits,
   ``0`` = x^alpha), field size n (12 bits, 254), width t (12 bits), full rounds
   R_F (10 bits, 8), partial rounds R_P (10 bits), then 30 bits set to 1.
2. **Clock.**  The feedback bit is ``b[62]^b[51]^b[38]^b[23]^b[13]^b[0]``; it is
   appended while ``b[0]`` is dropped.  The first 160 outputs are discarded.
3. **Filter.**  Output bits are taken in pairs ``(a, b)``: when ``a == 1`` the bit
   ``b`` is emitted, otherwise the pair is dropped.
4. **Field elements.**  Each element is built from n = 254 emitted bits, the first
   bit being the most significant one.
5. **Round constants.**  ``t * (R_F + R_P)`` elements in round-major order; any
   candidate ``>= p`` is *rejected* and redrawn.
6. **MDS matrix.**  Drawn from the same stream right after the round constants:
   ``2t`` candidates that are *reduced modulo p* (the script wraps them in ``F(.)``;
   no rejection here), redrawn as a whole if any two coincide.  With
   ``x = first t`` and ``y = last t`` the Cauchy matrix is
   ``M[i][j] = 1 / (x_i + y_j)`` (redrawn if some ``x_i + y_j == 0``).

Later revisions of the script additionally test the Cauchy matrix against
invariant-subspace trails (``algorithm_1/2/3``) and redraw it on failure.  That
filter is deliberately *not* implemented: circomlib's matrices are the first Cauchy
matrices drawn, for every width (checked against circomlibjs's tables), and
reproducing circomlib is the point.  The matrix is applied as
``new_state[i] = sum_j M[i][j] * state[j]`` (circomlibjs ``poseidon_reference.js``);
``M`` is not symmetric, so the orientation matters.

Round numbers are circomlib's: R_F = 8 and, for t = 2..17,
R_P = 56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68.

Generation is lazy (one width at a time, cached) and vectorised over Python big
integers: the LFSR recurrence is annihilated by its feedback polynomial Q(x), and
over GF(2) also by Q(x)^(2^k) = Q(x^(2^k)), so ``18 * 2^k`` new bits can be
produced with six shifts and XORs of one big integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import compress

__all__ = [
    "FIELD_MODULUS",
    "FULL_ROUNDS",
    "MAX_T",
    "MIN_T",
    "PARTIAL_ROUNDS",
    "PoseidonParams",
    "poseidon_params",
]

#: BN254 (alt_bn128) scalar field order r.
FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617

#: Bit length n of field elements fed to the Grain LFSR.
FIELD_SIZE_BITS = 254

#: Number of full rounds R_F (all widths).
FULL_ROUNDS = 8

#: Number of partial rounds R_P, indexed by t - 2 (t = 2..17), as in circomlib.
PARTIAL_ROUNDS: tuple[int, ...] = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)

MIN_T = 2
MAX_T = MIN_T + len(PARTIAL_ROUNDS) - 1

_FIELD_GF_P = 1  # "field" argument of the reference script: 1 = GF(p)
_SBOX_POW = 0  # "s_box" argument: 0 = x^alpha

# Feedback taps of the 80-bit Grain LFSR: b[80] = XOR of b[k] for k in _TAPS.
_LFSR_LEN = 80
_TAPS = (62, 51, 38, 23, 13, 0)
_WARMUP = 160
# New bits per step of the plain recurrence: b[80 + j] only needs b[j .. j + 62],
# which are all known for j < 80 - 62 = 18.
_STEP = _LFSR_LEN - _TAPS[0]  # 18
# Spread factor 2^k of the squared polynomial used for bulk generation.
_SPREAD = 256

_BIT_SELECT = bytes.maketrans(b"01", b"\x00\x01")


@dataclass(frozen=True)
class PoseidonParams:
    """Poseidon parameters for one state width ``t`` over the BN254 scalar field.

    ``round_constants`` is round-major: round ``r`` adds
    ``round_constants[r * t + i]`` to ``state[i]``.  ``mds`` is applied as
    ``new_state[i] = sum_j mds[i][j] * state[j]``.
    """

    t: int
    full_rounds: int
    partial_rounds: int
    round_constants: tuple[int, ...]
    mds: tuple[tuple[int, ...], ...]


def _seed_state(t: int, full_rounds: int, partial_rounds: int) -> int:
    """80-bit initial LFSR state; bit ``i`` of the result is ``b[i]``."""
    fields = (
        (_FIELD_GF_P, 2),
        (_SBOX_POW, 4),
        (FIELD_SIZE_BITS, 12),
        (t, 12),
        (full_rounds, 10),
        (partial_rounds, 10),
        ((1 << 30) - 1, 30),
    )
    seq = "".join(format(value, f"0{width}b") for value, width in fields)
    assert len(seq) == _LFSR_LEN
    # seq[0] is b[0]; store it as the least significant bit.
    return int(seq[::-1], 2)


def _feedback(bits: int, spread: int) -> int:
    """XOR of ``bits`` shifted right by ``tap * spread`` for every feedback tap.

    If bit ``i`` of ``bits`` is ``b[base + i]``, bit ``j`` of the result is
    ``b[base + j + 80 * spread]`` (for ``j < 18 * spread``): the Grain recurrence
    for ``spread = 1``, and for ``spread = 2^k`` the recurrence of
    ``Q(x)^(2^k) = Q(x^(2^k))``, which the sequence also satisfies.
    """
    acc = 0
    for tap in _TAPS:
        acc ^= bits >> (tap * spread)
    return acc


class _GrainStream:
    """The filtered Grain LFSR output of the reference script, as '0'/'1' bytes."""

    def __init__(self, seed: int) -> None:
        # Small-step phase: extend the raw sequence 18 bits at a time until the
        # window is long enough for the spread recurrence.
        window_bits = _LFSR_LEN * _SPREAD
        state = seed  # bit i = b[i] for i < known
        known = _LFSR_LEN
        mask = (1 << _STEP) - 1
        while known < window_bits:
            new = _feedback(state >> (known - _LFSR_LEN), 1) & mask
            state |= new << known
            known += _STEP
        # Window = the last `window_bits` raw bits; everything before it is history.
        self._window = state >> (known - window_bits)
        self._raw = self._bits_lsb_first(state, known)
        self._raw_pos = _LFSR_LEN + _WARMUP  # skip seed and warm-up clocks
        self._out = bytearray()
        self._out_pos = 0

    @staticmethod
    def _bits_lsb_first(value: int, count: int) -> bytes:
        return format(value, f"0{count}b")[::-1].encode("ascii")

    def _extend_raw(self) -> None:
        spread = _SPREAD
        window = self._window
        block = _STEP * spread
        new = _feedback(window, spread) & ((1 << block) - 1)
        self._window = (window >> block) | (new << ((_LFSR_LEN - _STEP) * spread))
        self._raw = self._raw[self._raw_pos :] + self._bits_lsb_first(new, block)
        self._raw_pos = 0

    def _refill(self) -> None:
        raw = self._raw
        start = self._raw_pos
        usable = (len(raw) - start) & ~1
        if usable == 0:
            self._extend_raw()
            raw = self._raw
            start = 0
            usable = len(raw) & ~1
        chunk = raw[start : start + usable]
        self._raw_pos = start + usable
        selectors = chunk[0::2].translate(_BIT_SELECT)
        emitted = bytes(compress(chunk[1::2], selectors))
        self._out = self._out[self._out_pos :] + emitted
        self._out_pos = 0

    def take(self, nbits: int) -> int:
        """Next ``nbits`` filtered bits as an integer, first bit most significant."""
        while len(self._out) - self._out_pos < nbits:
            self._refill()
        pos = self._out_pos
        self._out_pos = pos + nbits
        return int(self._out[pos : pos + nbits], 2)


def _generate_round_constants(stream: _GrainStream, count: int, n: int, prime: int) -> list[int]:
    constants: list[int] = []
    while len(constants) < count:
        value = stream.take(n)
        if value < prime:  # rejection sampling, as in the reference script
            constants.append(value)
    return constants


def _generate_cauchy_mds(stream: _GrainStream, t: int, n: int, prime: int) -> tuple[tuple[int, ...], ...]:
    while True:
        # Candidates are reduced modulo p (the reference wraps them in F(...)).
        values = [stream.take(n) % prime for _ in range(2 * t)]
        while len(set(values)) != len(values):
            values = [stream.take(n) % prime for _ in range(2 * t)]
        xs, ys = values[:t], values[t:]
        if any((x + y) % prime == 0 for x in xs for y in ys):
            continue
        return tuple(tuple(pow(x + y, -1, prime) for y in ys) for x in xs)


# typed=True: 2.0 or True must not hit the cache entry of an int width.
@lru_cache(maxsize=None, typed=True)
def poseidon_params(t: int) -> PoseidonParams:
    """Return circomlib's Poseidon parameters for state width ``t`` (2..17).

    The result is generated on first use and cached per width.
    """
    if isinstance(t, bool) or not isinstance(t, int) or not MIN_T <= t <= MAX_T:
        raise ValueError(
            f"Poseidon state width t must be an integer in {MIN_T}..{MAX_T} (1 to {MAX_T - 1} inputs), got {t!r}"
        )
    full_rounds = FULL_ROUNDS
    partial_rounds = PARTIAL_ROUNDS[t - MIN_T]
    stream = _GrainStream(_seed_state(t, full_rounds, partial_rounds))
    round_constants = _generate_round_constants(
        stream, t * (full_rounds + partial_rounds), FIELD_SIZE_BITS, FIELD_MODULUS
    )
    mds = _generate_cauchy_mds(stream, t, FIELD_SIZE_BITS, FIELD_MODULUS)
    return PoseidonParams(
        t=t,
        full_rounds=full_rounds,
        partial_rounds=partial_rounds,
        round_constants=tuple(round_constants),
        mds=mds,
    )
