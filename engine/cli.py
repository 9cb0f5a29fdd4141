"""The `zkmargin` command line.

Commands mirror snarkjs where they do the same job:

    zkmargin groth16 verify <verification_key.json> <public.json> <proof.json>
    zkmargin groth16 prove <circuit.zkey> <witness.wtns> <proof.json> <public.json>
    zkmargin groth16 setup <circuit.r1cs> <pot.ptau> <circuit.zkey>
    zkmargin zkey contribute | verify | export verificationkey ...
    zkmargin demo [folder]
    zkmargin margin <account.json> --snapshot <snapshot.json> [--table] [--check]
    zkmargin schema [NAME]
    zkmargin margin-setup --snapshot <snapshot.json> --out-dir <dir> (--ptau <pot.ptau> | --dev)
    zkmargin prove-account <account.json> --snapshot <snapshot.json> --zkey <margin.zkey>
        --proof <proof.json> --public <public.json>
    zkmargin epoch run --accounts <dir> --snapshot <snapshot.json> --ledger <ledger.db> --zkey <margin.zkey>
    zkmargin ledger audit <ledger.db> [--head <hex>]
    zkmargin ledger show <ledger.db> [--epoch N]
    zkmargin ledger submit <ledger.db> --epoch N --account A --proof <proof.json> --public <public.json>

Exit codes of `groth16 verify`: 0 valid ("OK"), 1 well-formed but invalid
("INVALID: ..."), 2 malformed or unreadable input ("ERROR: <ErrorName>: ..."; also
typer's own usage errors). Every outcome is one line, never a traceback.
Verdicts go to stdout, errors to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from verifier import Proof, PublicSignals, VerificationInputError, VerifyingKey, verify

from . import (
    _cli_account,  # noqa: F401  (registers margin-setup and prove-account)
    _cli_keys,  # noqa: F401  (registers groth16 prove/setup and the zkey commands)
    _cli_ledger,  # noqa: F401  (registers epoch run, ledger audit and ledger show)
    _cli_margin,  # noqa: F401  (registers margin and schema)
)
from ._cli_base import (
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    _err,
    _fail,
    _out,
    _say,
    app,
    groth16_app,
    reported_errors,
    zkey_app,
)
from ._demo import print_demo_result, run_demo

__all__ = ["EXIT_ERROR", "EXIT_INVALID", "EXIT_OK", "app", "groth16_app", "main", "zkey_app"]


@groth16_app.command("verify")
def groth16_verify(
    verification_key: Annotated[Path, typer.Argument(help="verification_key.json (snarkjs format).")],
    public: Annotated[Path, typer.Argument(help="public.json: the public signals.")],
    proof: Annotated[Path, typer.Argument(help="proof.json (snarkjs format).")],
) -> None:
    """Verify a Groth16 proof, like `snarkjs groth16 verify`.

    Prints OK (exit 0), INVALID (exit 1) or ERROR for malformed or unreadable input (exit 2).
    """
    try:
        vk = VerifyingKey.load(verification_key)
        signals = PublicSignals.load(public)
        proof_obj = Proof.load(proof)
        valid = verify(vk, signals, proof_obj)
    except VerificationInputError as exc:
        _fail(f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        _fail(f"cannot read {exc.filename or 'input'}: {exc.strerror or exc}")
    if not valid:
        _say(_out, "INVALID: pairing check failed", "bold red")
        raise typer.Exit(EXIT_INVALID)
    _say(_out, "OK", "bold green")


@app.command("demo")
def demo(
    out_dir: Annotated[
        Path, typer.Argument(help="Folder for the accounts, keys, ledger.db and the proofs (snarkjs format).")
    ] = Path("demo-out"),
) -> None:
    """One margin epoch on the example accounts: keys, proofs, ledger, audit (INSECURE dev setup).

    Exit 0 when the audit is clean, every healthy account is proven and the unhealthy
    one flagged; 1 otherwise. Keys already in <folder>/keys are reused.
    """
    with reported_errors():
        result = run_demo(out_dir, console=_out, err=_err)
    print_demo_result(result, _out, _err)
    if not result.ok:
        raise typer.Exit(EXIT_INVALID)


def main() -> None:
    """Entry point of the `zkmargin` console script."""
    app(prog_name="zkmargin")
