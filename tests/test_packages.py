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
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return set(out.stdout.split())


def test_importing_a_package_loads_none_of_its_submodules() -> None:
    loaded = _modules_after("import circuits, prover, verifier")
    assert not {m for m in loaded if m.split(".")[0] in LAZY and "." in m}
    assert "numba" not in loaded and "pydantic" not in loaded


def test_a_one_off_proof_loads_only_the_prover_s_file_path() -> None:
    """`zkmargin groth16 prove`'s module: no setup, MPC, margin circuit, engine or ledger."""
    loaded = _modules_after("import cli._prove")
    for unwanted in (
        "prover._contribute",
        "prover._phase2",
        "prover._zkey_verify",
        "prover._ptau_file",
        "circuits._margin_circuit",
        "circuits._builder",
        "engine",
        "ledger",
        "cli._keys",
    ):
        assert unwanted not in loaded, unwanted
    assert {"prover._files", "prover._prover", "circuits._wtns_file"} <= loaded
    assert "verifier._models" not in loaded  # it writes the JSON files without models


def test_a_one_off_proof_builds_no_model(tmp_path: Path) -> None:
    """The whole `groth16 prove` on a small circuit: the proof verifies, and the JSON
    models were never built (the files are written from the points; the models load
    for verification, here in the test's own process)."""
    import random
    import warnings

    from circuits import API, Circuit, Public, Secret, compile_circuit, write_wtns
    from prover import InsecureSetupWarning, ZkeyFile, dev_setup, export_verification_key, write_zkey

    class Cube(Circuit):
        y = Public()
        x = Secret()

        def define(self, api: API) -> None:
            api.assert_equal(api.mul(api.mul(self.x, self.x), self.x), self.y)

    cc = compile_circuit(Cube())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        key = ZkeyFile.from_proving_key(dev_setup(cc.cs, randbelow=random.Random(3).randrange))
    zkey, wtns = tmp_path / "cube.zkey", tmp_path / "cube.wtns"
    write_zkey(key, zkey)
    write_wtns(list(cc.solve({"y": 343, "x": 7}).values), wtns)
    export_verification_key(key).save(tmp_path / "vk.json")
    code = (
        "import sys; from typer.testing import CliRunner; from cli._app import build_app\n"
        f"argv = ['groth16', 'prove', {str(zkey)!r}, {str(wtns)!r}, {str(tmp_path / 'proof.json')!r},"
        f" {str(tmp_path / 'public.json')!r}]\n"
        "r = CliRunner().invoke(build_app(argv), argv)\n"
        "print(r.exit_code, 'verifier._models' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["0", "False"]
    from verifier import Proof, PublicSignals, VerifyingKey, verify

    vk = VerifyingKey.load(tmp_path / "vk.json")
    assert verify(vk, PublicSignals.load(tmp_path / "public.json"), Proof.load(tmp_path / "proof.json"))
