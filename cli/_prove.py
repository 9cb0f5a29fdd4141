"""`zkmargin groth16 prove`, like snarkjs's, in a module of its own: a one-off proof
imports the prover's file path and nothing else of the command tree.

    zkmargin groth16 prove <circuit.zkey> <witness.wtns> <proof.json> <public.json> [-v]

Bad or mismatched files give one ERROR line naming the error and exit 2.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from prover import STAGES, prove_to_files

from ._base import _err, _say, reported_errors, stages


def groth16_prove(
    zkey: Annotated[Path, typer.Argument(help="circuit.zkey (Groth16, snarkjs format).")],
    witness: Annotated[Path, typer.Argument(help="witness.wtns (as circom / snarkjs write it).")],
    proof: Annotated[Path, typer.Argument(help="Where to write proof.json.")],
    public: Annotated[Path, typer.Argument(help="Where to write public.json.")],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print the time of each stage.")] = False,
) -> None:
    """Make a Groth16 proof, like `snarkjs groth16 prove`."""
    start = time.perf_counter()
    timings: dict[str, float] = {}
    with reported_errors(), stages(len(STAGES)) as on_stage:
        prove_to_files(zkey, witness, proof, public, on_stage=on_stage, timings=timings)
    total = time.perf_counter() - start
    if verbose:
        staged = sum(timings.values())
        for name, seconds in timings.items():
            _say(_err, f"  {name:<12} {seconds:8.3f} s", "")
        _say(_err, f"  {'all stages':<12} {staged:8.3f} s (reading and writing files: {total - staged:.3f} s)", "")
    _say(_err, f"proved in {total:.2f} s: {proof}, {public}", "green")
