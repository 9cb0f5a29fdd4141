"""`zkmargin groth16 verify`: one proof like snarkjs, or many proofs of one key as one batch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from verifier import (
    Proof,
    PublicSignals,
    Verdict,
    VerificationInputError,
    VerifyingKey,
    batch_verify,
    verify,
)

from ._base import EXIT_ERROR, EXIT_INVALID, EXIT_OK, _fail, _out, _say


def groth16_verify(
    verification_key: Annotated[Path, typer.Argument(help="verification_key.json (snarkjs format).")],
    public: Annotated[Path, typer.Argument(help="public.json: the public signals.")],
    proof: Annotated[Path, typer.Argument(help="proof.json (snarkjs format).")],
    more: Annotated[
        list[Path] | None,
        typer.Argument(help="More public.json proof.json pairs: verified as one batch, one line per proof."),
    ] = None,
) -> None:
    """Verify a Groth16 proof, like `snarkjs groth16 verify`; or many proofs of one key at once.

    One proof: prints OK (exit 0), INVALID (exit 1) or ERROR for malformed or unreadable
    input (exit 2). Several: one line per proof; exit 0 if all are valid, 2 if any input
    is malformed or unreadable, else 1.
    """
    if more:
        _verify_batch(verification_key, [public, proof, *more])
        return
    try:
        vk = VerifyingKey.load(verification_key)
        signals = PublicSignals.load(public)
        proof_obj = Proof.load(proof)
        valid = verify(vk, signals, proof_obj)
    except VerificationInputError as exc:
        _fail(f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        _fail(_unreadable(exc))
    if not valid:
        _say(_out, "INVALID: pairing check failed", "bold red")
        raise typer.Exit(EXIT_INVALID)
    _say(_out, "OK", "bold green")


def _unreadable(exc: OSError) -> str:
    return f"cannot read {exc.filename or 'input'}: {exc.strerror or exc}"


def _read_pair(public: Path, proof: Path) -> tuple[bytes, bytes] | str:
    """The two files' bytes (bounded by each model's limit), or why they cannot be read."""
    try:
        return PublicSignals.read_bytes(public), Proof.read_bytes(proof)
    except OSError as exc:
        return _unreadable(exc)


def _verify_batch(verification_key: Path, paths: list[Path]) -> None:
    if len(paths) % 2:
        _fail(f"expected public.json proof.json pairs, got {len(paths)} files after the key")
    try:
        vk = VerifyingKey.load(verification_key)
    except VerificationInputError as exc:
        _fail(f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        _fail(_unreadable(exc))
    pairs = list(zip(paths[::2], paths[1::2]))
    read = [_read_pair(public, proof) for public, proof in pairs]
    verdicts = iter(batch_verify(vk, [r for r in read if not isinstance(r, str)]))
    worst = EXIT_OK
    for (_, proof), r in zip(pairs, read):
        v: Verdict | str = r if isinstance(r, str) else next(verdicts)
        if isinstance(v, str) or v.error is not None:
            reason = v if isinstance(v, str) else f"{type(v.error).__name__}: {v.error}"
            _say(_out, f"{proof}: ERROR: {reason}", "bold red")
            worst = EXIT_ERROR
        elif not v.valid:
            _say(_out, f"{proof}: INVALID: pairing check failed", "bold red")
            worst = max(worst, EXIT_INVALID)
        else:
            _say(_out, f"{proof}: OK", "bold green")
    if worst != EXIT_OK:
        raise typer.Exit(worst)
