"""The `zkmargin` command line: thin typer modules that parse, call the library and print.

Commands mirror snarkjs where they do the same job:

    zkmargin groth16 verify <verification_key.json> <public.json> <proof.json> [<public.json> <proof.json> ...]
    zkmargin groth16 prove <circuit.zkey> <witness.wtns> <proof.json> <public.json>
    zkmargin groth16 setup <circuit.r1cs> <pot.ptau> <circuit.zkey>
    zkmargin zkey contribute | verify | export verificationkey ...
    zkmargin zkey export solidityverifier <circuit.zkey | verification_key.json> <Verifier.sol>
    zkmargin zkey export soliditycalldata <public.json> <proof.json>
    zkmargin demo [folder]
    zkmargin margin <account.json> --snapshot <snapshot.json> [--table] [--check]
    zkmargin schema [NAME]
    zkmargin margin-setup --snapshot <snapshot.json> --out-dir <dir> (--ptau <pot.ptau> | --dev)
    zkmargin prove-account <account.json> --snapshot <snapshot.json> --zkey <margin.zkey>
        --proof <proof.json> --public <public.json>
    zkmargin epoch run --accounts <dir> --snapshot <snapshot.json> --ledger <ledger.db> --zkey <margin.zkey>
    zkmargin bench epoch --snapshot <snapshot.json> [--accounts N] [--workers W] [--plot p.png]
    zkmargin bench prove <circuit.zkey> <witness.wtns> [--runs K] [--plot p.png]
    zkmargin ledger audit <ledger.db> [--head <hex>]
    zkmargin ledger show <ledger.db> [--epoch N]
    zkmargin ledger submit <ledger.db> --epoch N (--account A | --anonymous) --proof <proof.json> --public <public.json>
    zkmargin ledger publish-root <ledger.db> --epoch N --verification-key <anonymous_vk.json> [--depth D]
    zkmargin ledger export-calls <ledger.db> --epoch N [--out calls.json] [--contract MarginLedger.sol] [--batch B]
    zkmargin ledger serve <ledger.db> [--host 127.0.0.1] [--port 8000]
    zkmargin solvency setup --snapshot <snapshot.json> --out-dir <dir> (--ptau <pot.ptau> | --dev)
    zkmargin solvency prove --ledger <ledger.db> --epoch N --accounts <dir> --reserves <reserves.json> --zkey <z>
    zkmargin solvency verify --ledger <ledger.db> --epoch N --verification-key <vk.json>
    zkmargin solvency inclusion | check-inclusion --ledger <ledger.db> --epoch N ...
    zkmargin prove-anonymous <account.json> --snapshot <snapshot.json> --zkey <anonymous.zkey> --ledger <ledger.db>
        --salt-file <salt> --proof <proof.json> --public <public.json>

Exit codes of `groth16 verify`: 0 valid ("OK"), 1 well-formed but invalid
("INVALID: ..."), 2 malformed or unreadable input ("ERROR: <ErrorName>: ..."; also
typer's own usage errors). Every outcome is one line, never a traceback.
Verdicts go to stdout, errors to stderr. Given several public/proof pairs, it verifies
them as one batch and prints one line per proof ("<proof>: OK", "<proof>: INVALID: ...",
"<proof>: ERROR: <ErrorName>: ..."); exit 0 if all are valid, 2 if any is malformed or
unreadable (or the key is), else 1.
"""

import atexit
import os
import sys
from typing import Any

import typer

from ._app import build_app
from ._base import EXIT_ERROR, EXIT_INVALID, EXIT_OK


def main() -> None:
    """Entry point of the `zkmargin` console script: an app of the one command named on
    the command line (only its modules load), or the whole tree.

    The process then ends without the interpreter's teardown, which costs about 0.2 s
    once numba has loaded kernels (freeing its LLVM objects one by one) and does nothing
    a finished command needs: the atexit handlers still run (temporary folders, process
    pools), the standard streams are flushed, every file a command writes is closed by
    the command itself, and the exit code is the command's."""
    try:
        build_app(sys.argv[1:])(prog_name="zkmargin")
        code = EXIT_OK
    except SystemExit as done:
        code = _exit_code(done.code)
    _end_process(code)


def _exit_code(code: object) -> int:
    """SystemExit's code as a process exit status (a message goes to stderr, status 1)."""
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _end_process(code: int) -> None:
    """atexit handlers, flushed streams, then the exit itself (no teardown)."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more to deliver
            pass
    os._exit(code)


def __getattr__(name: str) -> Any:
    """`cli.app`: the full command tree, built on first use (importing every command)."""
    if name == "app":
        global app
        app = build_app()
        return app
    raise AttributeError(f"module 'cli' has no attribute {name!r}")


app: typer.Typer

__all__ = ["EXIT_ERROR", "EXIT_INVALID", "EXIT_OK", "app", "build_app", "main"]
