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
    listed = {f"{group} {name}".strip() for group, name, _, _ in COMMANDS} | {g for g, _ in GROUPS}
    assert tree == listed
    assert {"groth16 verify", "ledger audit", "epoch run", "demo", "zkey export verificationkey"} <= tree


def test_build_app_makes_independent_apps() -> None:
    a, b = cli.build_app(), cli.build_app()
    assert a is not b
    result = CliRunner().invoke(a, ["--help"])
    assert result.exit_code == 0 and "groth16" in result.stdout and "ledger" in result.stdout


def test_no_library_package_imports_the_cli() -> None:
    for package in ("algebra", "circuits", "prover", "verifier", "ledger", "engine"):
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


def test_a_named_command_builds_an_app_of_that_command_alone() -> None:
    code = (
        "import sys, cli._app as a\n"
        "app = a.build_app(['ledger', 'show', 'x.db'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('engine', 'prover', 'circuits')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    groups = {g for g, _ in GROUPS}
    assert _walk(get_command(cli.build_app(["ledger", "audit", "x.db"]))) - groups == {"ledger audit"}
    assert _walk(get_command(cli.build_app(["--help"]))) == _walk(get_command(cli.build_app()))


def test_the_layers_import_downward_only() -> None:
    """DESIGN.md's layers: cli -> engine -> prover -> circuits -> algebra; engine -> ledger
    -> verifier -> algebra; prover -> verifier. The verifier and the ledger import
    neither the prover nor circuits nor the engine (the ledger's Poseidon is algebra's)."""
    allowed = {
        "algebra": set(),
        "circuits": {"algebra"},
        "prover": {"algebra", "circuits", "verifier"},
        "verifier": {"algebra"},
        "ledger": {"algebra", "verifier"},
        "engine": {"algebra", "circuits", "prover", "verifier", "ledger"},
        "explorer": {"algebra", "verifier", "ledger"},  # the web app: the ledger's reader, never the prover
    }
    ours = {*allowed, "cli"}
    for package, may in allowed.items():
        for path in [*(ROOT / package).glob("*.py"), *(ROOT / package).glob("*.pyi")]:
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                for name in names:
                    top = name.split(".")[0]
                    assert top not in ours or top == package or top in may, f"{path} imports {name}"


def test_the_console_entry_ends_with_the_command_s_status_after_atexit_handlers(tmp_path: Path) -> None:
    """`cli.main` skips the interpreter's teardown: atexit handlers still run, output is
    flushed, and the status is the command's (0 on success, 2 for unreadable input)."""
    script = (
        "import atexit, sys, cli\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "sys.argv = ['zkmargin', *sys.argv[1:]]\n"
        "print('buffered', end='')\n"
        "cli.main()\n"
        "print('not reached')\n"
    )
    missing = str(tmp_path / "missing.json")
    runs = {
        0: ["schema", "Asset"],
        2: ["groth16", "verify", missing, missing, missing],
    }
    for status, argv in runs.items():
        out = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, cwd=ROOT)
        assert out.returncode == status, out.stderr
        assert out.stdout.startswith("buffered") and "atexit ran" in out.stdout, out.stdout
        assert "not reached" not in out.stdout
