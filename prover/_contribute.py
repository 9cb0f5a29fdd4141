"""Phase-2 contributions to a .zkey, as `snarkjs zkey contribute` makes them.

A contributor draws x, multiplies delta by x and the C ("L") and H sections by 1/x,
and appends a record (delta after, a proof of knowledge of x bound to the transcript)
that anyone can check (`verify_zkey`). One honest contributor makes the key sound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from algebra import G2, R, g1_scale

from ._mpc import MpcParams, contribution_hash, make_contribution
from ._zkey_file import SNARKJS_SECTION_ORDER, ZkeyFile


def contribute(
    zkey: ZkeyFile,
    *,
    name: str | None,
    entropy: str | bytes,
    on_stage: Callable[[str], None] | None = None,
) -> tuple[ZkeyFile, bytes]:
    """A new key with one more contribution, and the contribution's hash (as snarkjs prints it).

    `entropy` is mixed with OS randomness; the secret x never leaves this function.
    """
    stage = on_stage or (lambda _s: None)
    mpc = MpcParams(zkey.cs_hash, tuple(zkey.contributions))
    contribution, x = make_contribution(mpc, zkey.delta1, zkey.delta2, name, entropy)
    x_inv = pow(x, -1, R)
    stage("C section")
    c_points = g1_scale(zkey.c_points, x_inv)
    stage("H section")
    h_points = g1_scale(zkey.h_points, x_inv)
    contributions = (*zkey.contributions, contribution)
    new = dataclasses.replace(
        zkey,
        delta1=contribution.delta_after,
        delta2=G2.mul(zkey.delta2, x),
        c_points=c_points,
        h_points=h_points,
        contributions=contributions,
        section_order=SNARKJS_SECTION_ORDER,  # zkey contribute rewrites sections in order
    )
    return new, contribution_hash(contribution)
