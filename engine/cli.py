"""The `zkmargin` command line.

Commands mirror snarkjs where they do the same job:

    zkmargin groth16 verify <verification_key.json> <public.json> <proof.json>

Exit codes of `groth16 verify`: 0 valid ("OK"), 1 well-formed but invalid
("INVALID: ..."), 2 malformed or unreadable input ("ERROR: <ErrorName>: ..."; also
typer's own usage errors). Every outcome is one line, never a traceback.
Verdicts go to stdout, errors to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from verifier import Proof, PublicSignals, VerificationInputError, VerifyingKey, verify

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_ERROR = 2

app = typer.Typer(
    name="zkmargin",
    help="Zero-knowledge private margin proofs (Groth16 over BN254, snarkjs-compatible).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

groth16_app = typer.Typer(
    help="Groth16 proofs and keys in snarkjs's formats.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(groth16_app, name="groth16")

# More commands register on `app` (top level, e.g. `demo`) or `groth16_app` (e.g. `prove`).

_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)


@app.callback()
def _root() -> None:
    """Zero-knowledge private margin proofs (Groth16 over BN254, snarkjs-compatible)."""


def _say(console: Console, text: str, style: str) -> None:
    # soft_wrap: a reason stays on one line however long; Text: no markup in messages.
    console.print(Text(text, style=style), soft_wrap=True)


def _fail(message: str) -> NoReturn:
    _say(_err, f"ERROR: {message}", "bold red")
    raise typer.Exit(EXIT_ERROR)


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
    out_dir: Annotated[Path, typer.Argument(help="Folder for verification_key.json, proof.json, public.json.")] = Path(
        "demo-out"
    ),
) -> None:
    """Prove and verify a Poseidon commitment opening end to end (INSECURE dev setup)."""
    from ._demo import print_summary, run_demo  # the prover is only imported when needed

    result = run_demo(out_dir, console=_out)
    print_summary(result, _out)
    if not result.valid:
        raise typer.Exit(EXIT_INVALID)


def main() -> None:
    """Entry point of the `zkmargin` console script."""
    app(prog_name="zkmargin")
