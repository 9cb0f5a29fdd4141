"""CLI commands that make and use proving keys, mirroring snarkjs:

    zkmargin groth16 setup <circuit.r1cs> <pot.ptau> <circuit.zkey>
    zkmargin zkey contribute <in.zkey> <out.zkey> --name NAME [-e ENTROPY]
    zkmargin zkey verify <circuit.r1cs> <pot.ptau> <circuit.zkey>
    zkmargin zkey export verificationkey <circuit.zkey> <verification_key.json>

(`zkey export solidityverifier` and `soliditycalldata` are in `cli/_solidity.py`.)

Bad or mismatched files give one ERROR line naming the error and exit 2.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from circuits import read_r1cs
from prover import contribute, export_verification_key, new_zkey, read_ptau, read_zkey, verify_zkey

from ._base import EXIT_INVALID, _err, _out, _say, reported_errors, stages

_SETUP_STAGES = 7  # A, B1, B2, C, H, coefficients, circuit hash


def groth16_setup(
    r1cs: Annotated[Path, typer.Argument(help="circuit.r1cs (circom format).")],
    ptau: Annotated[Path, typer.Argument(help="A powers-of-tau file prepared for phase 2.")],
    zkey: Annotated[Path, typer.Argument(help="Where to write the initial circuit.zkey.")],
) -> None:
    """Phase-2 setup from a prepared ptau, like `snarkjs groth16 setup`.

    The key has no contribution yet (delta = 1): add at least one with `zkey contribute`
    before using it for anything of value.
    """
    start = time.perf_counter()
    with reported_errors():
        r1cs_file, ptau_file = read_r1cs(r1cs), read_ptau(ptau)
        with stages(_SETUP_STAGES) as on_stage:
            key = new_zkey(r1cs_file, ptau_file, on_stage=on_stage)
        key.write(zkey)
    _say(_out, f"circuit hash: {key.cs_hash.hex()}", "")
    _say(_err, f"wrote {zkey} in {time.perf_counter() - start:.1f} s; contribute to it before use", "yellow")


def zkey_contribute(
    zkey_in: Annotated[Path, typer.Argument(help="The .zkey to contribute to.")],
    zkey_out: Annotated[Path, typer.Argument(help="Where to write the new .zkey.")],
    name: Annotated[str | None, typer.Option("--name", "-n", help="Contributor's name, stored in the key.")] = None,
    entropy: Annotated[
        str | None, typer.Option("--entropy", "-e", help="Extra entropy text (mixed with OS randomness).")
    ] = None,
) -> None:
    """Add a phase-2 contribution, like `snarkjs zkey contribute`."""
    with reported_errors():
        key = read_zkey(zkey_in)
        with stages(2) as on_stage:
            new, digest = contribute(key, name=name, entropy=entropy or "", on_stage=on_stage)
        new.write(zkey_out)
    _say(_out, f"contribution hash: {digest.hex()}", "")


def zkey_verify(
    r1cs: Annotated[Path, typer.Argument(help="circuit.r1cs the key was made for.")],
    ptau: Annotated[Path, typer.Argument(help="The prepared powers-of-tau file it was made from.")],
    zkey: Annotated[Path, typer.Argument(help="The .zkey to check.")],
) -> None:
    """Check a .zkey against its circuit and ptau, like `snarkjs zkey verify`.

    Prints OK (exit 0), or every problem found and INVALID (exit 1).
    """
    with reported_errors():
        r1cs_file, ptau_file, key = read_r1cs(r1cs), read_ptau(ptau), read_zkey(zkey)
        with stages(_SETUP_STAGES + 3) as on_stage:
            problems = verify_zkey(r1cs_file, ptau_file, key, on_stage=on_stage)
    for c in key.contributions:
        _say(_out, f"contribution {c.name or '(no name)'}: {c.hash.hex()}", "")
    if problems:
        for p in problems:
            _say(_out, f"problem: {p}", "red")
        _say(_out, "INVALID", "bold red")
        raise typer.Exit(EXIT_INVALID)
    _say(_out, "OK", "bold green")


def zkey_export_verificationkey(
    zkey: Annotated[Path, typer.Argument(help="circuit.zkey.")],
    verification_key: Annotated[Path, typer.Argument(help="Where to write verification_key.json.")],
) -> None:
    """Write the verifying key, like `snarkjs zkey export verificationkey`."""
    with reported_errors():
        export_verification_key(read_zkey(zkey)).save(verification_key)
    _say(_err, f"wrote {verification_key}", "green")
