"""The deterministic randomness of snarkjs's phase-2 ceremony, bit for bit.

snarkjs draws every ceremony secret and every "hash to G2" point from ffjavascript's
ChaCha generator (ffjavascript 0.3.1, the copy snarkjs 0.7.6 ships):

- ``ChaCha(seed)``: the ChaCha20 block function (10 double rounds) with the 8 seed
  words as key, block counter in words 12..15 (all starting at 0, carried upward) and
  no nonce.  Output words come out in block order; ``next_u64`` is
  ``(first u32 << 32) | second u32`` and ``next_bool`` is the low bit of one u32.
- ``F.fromRng`` (Fr and Fq alike): four u64 draws, the first one the lowest limb,
  masked to the modulus's bit length (254 bits), rejected while ``>= p``.  The bytes
  are then used *as a Montgomery representation*: the field element is
  ``v * 2^-256 mod p``, not ``v``.
- ``G1.fromRng`` / ``G2.fromRng``: draw x (Fq2 draws c0 then c1), then one bool
  ``greatest``; repeat while x^3 + b is not a square.  y is a square root of x^3 + b,
  negated if needed so that ``is_negative(y) == greatest``, where an Fq element is
  negative when it exceeds (q - 1) / 2 and an Fq2 element takes the sign of c1, or of
  c0 when c1 = 0.  A G2 point is then multiplied by the cofactor of the twist
  (G1's cofactor is 1).
- ``hashToG2(hash)``: seed = the first 32 bytes of the hash as 8 big-endian u32 words.
- ``getRandomRng(entropy)``: seed = first 32 bytes of blake2b-512(64 OS-random bytes ||
  utf-8(entropy)), as big-endian u32 words.
- ``rngFromBeaconParams(beaconHash, e)``: sha256 applied 2^e times to the beacon hash;
  seed = the 32-byte result as big-endian u32 words.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from algebra import G1_B, G2, G2_B, G1Point, G2Point, Q, R, fq2_add, fq2_mul, fq2_neg, fq2_sqr, fq2_sqrt, fq_sqrt

__all__ = [
    "G2_COFACTOR",
    "MAX_BEACON_EXP",
    "ChaCha",
    "fq_from_rng",
    "fr_from_rng",
    "g1_from_rng",
    "g2_from_rng",
    "hash_to_g2",
    "random_rng",
    "rng_from_beacon",
    "seed_from_hash",
]

_MASK32 = 0xFFFFFFFF
_SIGMA = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)  # "expand 32-byte k"
_INV_MONT_Q = pow(1 << 256, -1, Q)
_INV_MONT_R = pow(1 << 256, -1, R)

#: Cofactor of the order-r subgroup of the twist E'(Fq2) (ffjavascript's cofactorG2, 2q - r).
G2_COFACTOR = 0x30644E72E131A029B85045B68181585E06CEECDA572A2489345F2299C0F9FA8D

#: Largest beacon exponent :func:`rng_from_beacon` accepts (snarkjs allows 10..63).
MAX_BEACON_EXP = 63


def _rotl(v: int, n: int) -> int:
    return ((v << n) | (v >> (32 - n))) & _MASK32


def _quarter_round(s: list[int], a: int, b: int, c: int, d: int) -> None:
    s[a] = (s[a] + s[b]) & _MASK32
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & _MASK32
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & _MASK32
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & _MASK32
    s[b] = _rotl(s[b] ^ s[c], 7)


class ChaCha:
    """ffjavascript's ChaCha: a ChaCha20 keystream as a stream of u32 words.

    ``seed`` is 8 words (the key); the 128-bit block counter starts at 0.
    """

    def __init__(self, seed: Sequence[int] = (0, 0, 0, 0, 0, 0, 0, 0)) -> None:
        if len(seed) != 8:
            raise ValueError(f"ChaCha seed has {len(seed)} words, expected 8")
        for i, w in enumerate(seed):
            if not (isinstance(w, int) and 0 <= w <= _MASK32):
                raise ValueError(f"ChaCha seed word {i} is not a u32: {w!r}")
        self._state = [*_SIGMA, *seed, 0, 0, 0, 0]
        self._block: list[int] = []
        self._idx = 16

    def _update(self) -> None:
        st = list(self._state)
        for _ in range(10):
            _quarter_round(st, 0, 4, 8, 12)
            _quarter_round(st, 1, 5, 9, 13)
            _quarter_round(st, 2, 6, 10, 14)
            _quarter_round(st, 3, 7, 11, 15)
            _quarter_round(st, 0, 5, 10, 15)
            _quarter_round(st, 1, 6, 11, 12)
            _quarter_round(st, 2, 7, 8, 13)
            _quarter_round(st, 3, 4, 9, 14)
        self._block = [(x + y) & _MASK32 for x, y in zip(st, self._state)]
        self._idx = 0
        for i in range(12, 16):  # 128-bit counter, carry upward
            self._state[i] = (self._state[i] + 1) & _MASK32
            if self._state[i] != 0:
                break

    def next_u32(self) -> int:
        if self._idx == 16:
            self._update()
        w = self._block[self._idx]
        self._idx += 1
        return w

    def next_u64(self) -> int:
        """Two words, the first one high (ffjavascript: ``nextU32() * 2^32 + nextU32()``)."""
        hi = self.next_u32()
        return (hi << 32) | self.next_u32()

    def next_bool(self) -> bool:
        return bool(self.next_u32() & 1)


def seed_from_hash(digest: bytes) -> list[int]:
    """The 8 ChaCha seed words of a hash: its first 32 bytes as big-endian u32 words."""
    if len(digest) < 32:
        raise ValueError(f"a ChaCha seed needs at least 32 bytes of hash, got {len(digest)}")
    return [int.from_bytes(digest[4 * i : 4 * i + 4], "big") for i in range(8)]


def _raw_from_rng(rng: ChaCha, modulus: int) -> int:
    mask = (1 << modulus.bit_length()) - 1
    while True:
        v = 0
        for i in range(4):
            v |= rng.next_u64() << (64 * i)
        v &= mask
        if v < modulus:
            return v


def fr_from_rng(rng: ChaCha) -> int:
    """ffjavascript ``Fr.fromRng``: the drawn bits are a Montgomery form, so v / 2^256 mod r."""
    return _raw_from_rng(rng, R) * _INV_MONT_R % R


def fq_from_rng(rng: ChaCha) -> int:
    """ffjavascript ``F1.fromRng`` over Fq (Montgomery reading, like :func:`fr_from_rng`)."""
    return _raw_from_rng(rng, Q) * _INV_MONT_Q % Q


_HALF_Q = (Q - 1) // 2


def _fq_is_negative(a: int) -> bool:
    return a > _HALF_Q


def _fq2_is_negative(a: tuple[int, int]) -> bool:
    return _fq_is_negative(a[0]) if a[1] == 0 else _fq_is_negative(a[1])


def g1_from_rng(rng: ChaCha) -> G1Point:
    """ffjavascript ``G1.fromRng`` (affine; G1 has cofactor 1)."""
    while True:
        x = fq_from_rng(rng)
        greatest = rng.next_bool()
        y = fq_sqrt((x * x % Q * x + G1_B) % Q)
        if y is not None:
            break
    if _fq_is_negative(y) != greatest:
        y = -y % Q
    return (x, y)


def _g2_times_cofactor(p: G2Point) -> G2Point:
    # G2.mul reduces its scalar mod r, which is only right inside the subgroup.
    acc = G2.infinity
    for bit in bin(G2_COFACTOR)[2:]:
        acc = G2.double(acc)
        if bit == "1":
            acc = G2.add(acc, p)
    return acc


def g2_from_rng(rng: ChaCha) -> G2Point:
    """ffjavascript ``G2.fromRng``: a point of the twist, times the cofactor (so in G2)."""
    while True:
        x = (fq_from_rng(rng), fq_from_rng(rng))
        greatest = rng.next_bool()
        y = fq2_sqrt(fq2_add(fq2_mul(fq2_sqr(x), x), G2_B))
        if y is not None:
            break
    if _fq2_is_negative(y) != greatest:
        y = fq2_neg(y)
    return _g2_times_cofactor((x, y))


def hash_to_g2(digest: bytes) -> G2Point:
    """snarkjs ``keypair.hashToG2``: ``G2.fromRng(ChaCha(seed_from_hash(digest)))``."""
    return g2_from_rng(ChaCha(seed_from_hash(digest)))


def random_rng(entropy: str | bytes) -> ChaCha:
    """snarkjs ``misc.getRandomRng``: ChaCha seeded by blake2b-512(os.urandom(64) || entropy).

    A str is encoded as utf-8 (snarkjs's TextEncoder); bytes are hashed as given.
    snarkjs refuses empty entropy (it asks for some), and so does this.
    """
    data = entropy.encode("utf-8") if isinstance(entropy, str) else bytes(entropy)
    if not data:
        raise ValueError("entropy must not be empty")
    h = hashlib.blake2b(digest_size=64)
    h.update(os.urandom(64))
    h.update(data)
    return ChaCha(seed_from_hash(h.digest()))


def rng_from_beacon(beacon_hash: bytes, num_iterations_exp: int) -> ChaCha:
    """snarkjs ``misc.rngFromBeaconParams``: sha256 iterated 2^num_iterations_exp times.

    Python manages about 2^21 sha256 per second: exponent 10 (snarkjs's minimum) is
    instant, 30 takes minutes.
    """
    if not 0 <= num_iterations_exp <= MAX_BEACON_EXP:
        raise ValueError(f"beacon numIterationsExp is {num_iterations_exp}, expected 0..{MAX_BEACON_EXP}")
    cur = bytes(beacon_hash)
    sha256 = hashlib.sha256
    for _ in range(1 << num_iterations_exp):
        cur = sha256(cur).digest()
    return ChaCha(seed_from_hash(cur))
