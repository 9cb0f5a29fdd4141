"""Lazy package namespaces: circuits, prover and verifier declare their public API once,
in `__init__.pyi` (what type checkers read), and `__init__.py` attaches it lazily from
that stub (lazy_loader), so importing one submodule (`from prover import prove_files`)
loads that submodule's imports and nothing else of the package."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAZY = ("circuits", "prover", "verifier")


def _stub(package: str) -> tuple[dict[str, str], list[str]]:
    """(name -> submodule, __all__) as the package's stub declares them."""
    tree = ast.parse((ROOT / package / "__init__.pyi").read_text())
    names: dict[str, str] = {}
    declared: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            assert node.level == 1 and node.module, f"{package} stub: only `from .module import name`"
            for alias in node.names:
                assert alias.asname is None, f"{package} stub: lazy_loader ignores `as` ({alias.name})"
                names[alias.name] = node.module
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
            declared = list(ast.literal_eval(node.value))
    return names, declared


@pytest.mark.parametrize("package", LAZY)
def test_the_stub_s_all_is_what_it_imports_and_every_name_resolves(package: str) -> None:
    names, declared = _stub(package)
    assert len(declared) == len(set(declared)), f"{package}: a name twice in __all__"
    assert set(declared) == set(names)
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(declared)
    assert sorted(dir(module)) == sorted(declared)
    for name, submodule in names.items():
        assert getattr(module, name) is getattr(importlib.import_module(f"{package}.{submodule}"), name)


@pytest.mark.parametrize("package", LAZY)
def test_an_unknown_name_is_an_attribute_error(package: str) -> None:
    module = importlib.import_module(package)
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec(f"from {package} import no_such_name", {})


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return set(out.stdout.split())


def test_importing_a_package_loads_none_of_its_submodules() -> None:
    loaded = _modules_after("import circuits, prover, verifier")
    assert not {m for m in loaded if m.split(".")[0] in LAZY and "." in m}
    assert "numba" not in loaded and "pydantic" not in loaded


def test_a_one_off_proof_loads_only_the_prover_s_file_path() -> None:
    """`zkmargin groth16 prove`'s module: no setup, MPC, margin circuit, engine or ledger."""
    loaded = _modules_after("import cli._prove")
    for unwanted in ("prover._contribute", "prover._phase2", "prover._zkey_verify", "prover._ptau_file",
                     "circuits._margin_circuit", "circuits._builder", "engine", "ledger", "cli._keys"):
        assert unwanted not in loaded, unwanted
    assert {"prover._files", "prover._prover", "circuits._wtns_file"} <= loaded
