"""The CLI is its own package on top: commands registered in one list, nothing below
imports it, and importing a command module registers nothing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

import cli
from cli._app import COMMANDS, GROUPS

ROOT = Path(__file__).resolve().parent.parent


def _walk(group: object, prefix: str = "") -> set[str]:
    out = set()
    for name, cmd in getattr(group, "commands", {}).items():
        path = f"{prefix} {name}".strip()
        out.add(path)
        out |= _walk(cmd, path)
    return out


def test_every_listed_command_is_in_the_tree_and_nothing_else() -> None:
    tree = _walk(get_command(cli.build_app()))
    listed = {f"{group} {name}".strip() for group, name, _ in COMMANDS} | {g for g, _ in GROUPS}
    assert tree == listed
    assert {"groth16 verify", "ledger audit", "epoch run", "demo", "zkey export verificationkey"} <= tree


def test_build_app_makes_independent_apps() -> None:
    a, b = cli.build_app(), cli.build_app()
    assert a is not b
    result = CliRunner().invoke(a, ["--help"])
    assert result.exit_code == 0 and "groth16" in result.stdout and "ledger" in result.stdout


def test_no_library_package_imports_the_cli() -> None:
    for package in ("algebra", "circuits", "prover", "verifier", "engine"):
        for path in (ROOT / package).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    assert not (node.module or "").startswith("cli"), f"{path} imports {node.module}"
                    assert node.module not in ("typer", "rich.progress"), f"{path} imports {node.module}"
                if isinstance(node, ast.Import):
                    assert not any(a.name.split(".")[0] in ("cli", "typer") for a in node.names), path


def test_importing_engine_loads_no_cli_module() -> None:
    code = "import sys, engine; print(sorted(m for m in sys.modules if m == 'cli' or m.startswith('cli.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
