"""The `zkmargin` command tree, registered explicitly: every command and the group it
belongs to are listed here, and no module registers itself on import.

A command's module is imported when the command is registered; `build_app(argv)` for
one command line registers only the command it names, so `zkmargin ledger audit` loads
the ledger and the verifier, not the prover, circuits or engine (the full tree, for
`--help` or a mistyped command, imports every command module).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import typer

_HELP = "Zero-knowledge private margin proofs (Groth16 over BN254, snarkjs-compatible)."

#: (group, command name, module of cli, function); group "" is the top level.
COMMANDS: tuple[tuple[str, str, str, str], ...] = (
    ("groth16", "verify", "_verify", "groth16_verify"),
    ("groth16", "prove", "_prove", "groth16_prove"),
    ("groth16", "setup", "_keys", "groth16_setup"),
    ("zkey", "contribute", "_keys", "zkey_contribute"),
    ("zkey", "verify", "_keys", "zkey_verify"),
    ("zkey export", "verificationkey", "_keys", "zkey_export_verificationkey"),
    ("zkey export", "solidityverifier", "_solidity", "zkey_export_solidityverifier"),
    ("zkey export", "soliditycalldata", "_solidity", "zkey_export_soliditycalldata"),
    ("", "demo", "_demo", "demo"),
    ("", "margin", "_margin", "margin"),
    ("", "schema", "_margin", "schema"),
    ("", "margin-setup", "_account", "margin_setup"),
    ("", "prove-account", "_account", "prove_account_cmd"),
    ("", "prove-anonymous", "_account", "prove_anonymous_cmd"),
    ("epoch", "run", "_epoch", "epoch_run"),
    ("ledger", "audit", "_ledger", "ledger_audit"),
    ("ledger", "submit", "_ledger", "ledger_submit"),
    ("ledger", "show", "_ledger", "ledger_show"),
    ("ledger", "publish-root", "_ledger", "ledger_publish_root"),
    ("ledger", "export-calls", "_ledger", "ledger_export_calls"),
    ("ledger", "serve", "_serve", "ledger_serve"),
    ("solvency", "setup", "_solvency", "solvency_setup"),
    ("solvency", "prove", "_solvency", "solvency_prove"),
    ("solvency", "verify", "_solvency_audit", "solvency_verify"),
    ("solvency", "inclusion", "_solvency_audit", "solvency_inclusion"),
    ("solvency", "check-inclusion", "_solvency_audit", "solvency_check_inclusion"),
    ("settlement", "setup", "_settlement", "settlement_setup"),
    ("bench", "epoch", "_bench", "bench_epoch_cmd"),
    ("bench", "prove", "_bench", "bench_prove_cmd"),
)

#: Command groups and their help, parents before children.
GROUPS: tuple[tuple[str, str], ...] = (
    ("groth16", "Groth16 proofs and keys in snarkjs's formats."),
    ("zkey", "Groth16 .zkey files: contributions, checks, exports (like `snarkjs zkey`)."),
    ("zkey export", "Export parts of a .zkey."),
    ("epoch", "The epoch workflow: prove, verify, append."),
    ("ledger", "The settlement ledger: audit, inspect, submit, publish a root, replay on chain, serve an explorer."),
    ("solvency", "Exchange solvency: prove the venue's liabilities, verify them, check your inclusion."),
    ("settlement", "Settlement transitions: the keys of the circuit proving funding and expiry."),
    ("bench", "Throughput on your snapshot and hardware: an epoch, or repeated proofs."),
)


def command_function(module: str, function: str) -> Callable[..., Any]:
    """The function of a listed command (importing its module)."""
    return getattr(importlib.import_module(f"cli.{module}"), function)  # type: ignore[no-any-return]


def named_command(argv: Sequence[str]) -> tuple[str, str] | None:
    """The (group, name) of COMMANDS that a command line names, or None (options first,
    a group alone, an unknown command: the full tree answers those)."""
    words = list(argv)
    for group, name, _, _ in COMMANDS:
        path = [*group.split(), name]
        if words[: len(path)] == path:
            return group, name
    return None


def _typer(help_text: str, **options: Any) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_show_locals=False, **options)


def build_app(argv: Sequence[str] | None = None) -> typer.Typer:
    """A new `zkmargin` app: every command of COMMANDS in its group, or, when `argv`
    names one command, that command alone (its module the only one imported)."""
    app = _typer(_HELP, name="zkmargin", add_completion=False)

    @app.callback()
    def _root() -> None:
        """Zero-knowledge private margin proofs (Groth16 over BN254, snarkjs-compatible)."""

    only = named_command(argv) if argv is not None else None
    groups: dict[str, typer.Typer] = {"": app}
    for path, help_text in GROUPS:
        parent, _, name = path.rpartition(" ")
        groups[path] = _typer(help_text)
        groups[parent].add_typer(groups[path], name=name)
    for group, name, module, function in COMMANDS:
        if only is None or only == (group, name):
            groups[group].command(name)(command_function(module, function))
    return app
