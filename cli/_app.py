"""The `zkmargin` command tree, registered explicitly: every command and the group it
belongs to are listed here, and no module registers itself on import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from . import _account, _demo, _keys, _ledger, _margin, _verify

_HELP = "Zero-knowledge private margin proofs (Groth16 over BN254, snarkjs-compatible)."

#: (group, command name, function); group "" is the top level.
COMMANDS: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    ("groth16", "verify", _verify.groth16_verify),
    ("groth16", "prove", _keys.groth16_prove),
    ("groth16", "setup", _keys.groth16_setup),
    ("zkey", "contribute", _keys.zkey_contribute),
    ("zkey", "verify", _keys.zkey_verify),
    ("zkey export", "verificationkey", _keys.zkey_export_verificationkey),
    ("", "demo", _demo.demo),
    ("", "margin", _margin.margin),
    ("", "schema", _margin.schema),
    ("", "margin-setup", _account.margin_setup),
    ("", "prove-account", _account.prove_account_cmd),
    ("epoch", "run", _ledger.epoch_run),
    ("ledger", "audit", _ledger.ledger_audit),
    ("ledger", "submit", _ledger.ledger_submit),
    ("ledger", "show", _ledger.ledger_show),
)

#: Command groups and their help, parents before children.
GROUPS: tuple[tuple[str, str], ...] = (
    ("groth16", "Groth16 proofs and keys in snarkjs's formats."),
    ("zkey", "Groth16 .zkey files: contributions, checks, exports (like `snarkjs zkey`)."),
    ("zkey export", "Export parts of a .zkey."),
    ("epoch", "The epoch workflow: prove, verify, append."),
    ("ledger", "The settlement ledger: audit and inspect."),
)


def _typer(help_text: str, **options: Any) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_show_locals=False, **options)


def build_app() -> typer.Typer:
    """A new `zkmargin` app with every command of COMMANDS in its group."""
    app = _typer(_HELP, name="zkmargin", add_completion=False)

    @app.callback()
    def _root() -> None:
        """Zero-knowledge private margin proofs (Groth16 over BN254, snarkjs-compatible)."""

    groups: dict[str, typer.Typer] = {"": app}
    for path, help_text in GROUPS:
        parent, _, name = path.rpartition(" ")
        groups[path] = _typer(help_text)
        groups[parent].add_typer(groups[path], name=name)
    for group, name, fn in COMMANDS:
        groups[group].command(name)(fn)
    return app
