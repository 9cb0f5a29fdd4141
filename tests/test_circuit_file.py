"""The compiled circuit saved beside its keys: loaded, it solves the same witness with the
same named errors; a file of another key or shape, or not one at all, is refused by
name, and the margin helpers fall back to compiling (it is a cache)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from algebra import FileFormatError, MismatchedFilesError
from circuits import CircuitError, UnsatisfiedConstraintError, file_checksum, load_compiled, save_compiled
from engine import (
    circuit_path,
    margin_circuit_with_key,
    save_margin_circuit,
)
from engine._prove_account import assign_witness, margin_circuit_for, margin_shape
from tests._engine import USD, account, perp_snapshot

SNAP = perp_snapshot()
HEALTHY = account(usdc=10_000)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Path]:
    zkey = tmp_path / "margin.zkey"
    zkey.write_bytes(b"a stand-in key: only its checksum matters here")
    return zkey, save_margin_circuit(SNAP, zkey)


def test_a_loaded_circuit_solves_the_same_witness(saved: tuple[Path, Path]) -> None:
    zkey, path = saved
    assert path == circuit_path(zkey) and path.exists()
    compiled = margin_circuit_for(SNAP)
    loaded = load_compiled(path, key_checksum=file_checksum(zkey), shape=repr(margin_shape(SNAP)))
    assert (loaded.cs.n_wires, loaded.cs.n_public, loaded.cs.n_constraints) == (
        compiled.cs.n_wires,
        compiled.cs.n_public,
        compiled.cs.n_constraints,
    )
    good = assign_witness(HEALTHY, SNAP, 3 << 200)
    assert np.array_equal(loaded.solve_limbs(good), compiled.solve_limbs(good))
    broke = account(usdc=0, quote_balance=-1 * USD)  # equity below zero: fails the health check
    with pytest.raises(UnsatisfiedConstraintError) as from_file:
        loaded.solve_limbs(assign_witness(broke, SNAP, 3 << 200))
    with pytest.raises(UnsatisfiedConstraintError) as from_python:
        compiled.solve(assign_witness(broke, SNAP, 3 << 200))
    assert str(from_file.value) == str(from_python.value)
    with pytest.raises(CircuitError, match="loaded"):
        loaded.solve(good)


def test_another_key_shape_or_file_is_refused_and_the_helper_compiles(saved: tuple[Path, Path]) -> None:
    zkey, path = saved
    shape = repr(margin_shape(SNAP))
    with pytest.raises(MismatchedFilesError, match=r"another \.zkey"):
        load_compiled(path, key_checksum="0" * 64, shape=shape)
    with pytest.raises(MismatchedFilesError, match="shape"):
        load_compiled(path, key_checksum=file_checksum(zkey), shape="another")
    garbage = path.with_name("garbage.npz")
    garbage.write_bytes(b"not a zip")
    with pytest.raises(FileFormatError):
        load_compiled(garbage, key_checksum=file_checksum(zkey), shape=shape)
    assert getattr(margin_circuit_with_key(SNAP, zkey), "_loaded", False)  # this key's: loaded
    zkey.write_bytes(b"another key")
    assert margin_circuit_with_key(SNAP, zkey) is margin_circuit_for(SNAP)  # stale: compiled
    other = perp_snapshot(size_decimals=6)
    assert margin_circuit_with_key(other, zkey) is margin_circuit_for(other)


def test_saving_replaces_the_file_whole(tmp_path: Path) -> None:
    zkey = tmp_path / "k.zkey"
    zkey.write_bytes(b"k")
    target = tmp_path / "c.npz"
    save_compiled(margin_circuit_for(SNAP), target, key_checksum=file_checksum(zkey), shape="s")
    first = target.read_bytes()
    save_compiled(margin_circuit_for(SNAP), target, key_checksum=file_checksum(zkey), shape="s")
    assert target.read_bytes() == first and not list(tmp_path.glob(".*tmp*"))


def _tampered(path: Path, out: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: np.array(data[k]) for k in data.files}
    change(arrays)
    np.savez(out, **arrays)  # `out` ends in .npz: written as named
    return out


def _header(arrays: dict[str, Any], **update: Any) -> None:
    header = json.loads(bytes(arrays["header"]).decode()) | update
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda a: a["out_wire"].__setitem__(0, 10**9), "wire indices"),
        (lambda a: a["term_wire"].__setitem__(-1, -1), "wire indices"),
        (lambda a: a["lc_ptr"].__setitem__(-1, 10**9), "term pointers"),
        (lambda a: a["op"].__setitem__(0, 99), "opcodes"),
        (lambda a: a["in_ptr"].__setitem__(1, 0), "inputs or outputs per step"),
        (lambda a: a.__setitem__("row_a", a["row_a"][:-1]), "row counts"),
        (lambda a: a.__setitem__("term_coef", a["term_coef"][:, :4]), "array shapes"),
        (lambda a: a.__setitem__("op", a["op"].astype(np.int64)), "array types"),
        (lambda a: _header(a, names=[]), "constraint indices"),
        (lambda a: _header(a, n_wires="many"), "header"),
        (lambda a: _header(a, inputs=[["x", True, [10**9], False]]), "input wires"),
    ],
)
def test_a_malformed_program_is_refused_before_it_runs(
    saved: tuple[Path, Path], tmp_path: Path, change: Callable[[dict[str, Any]], None], what: str
) -> None:
    """The kernel indexes by the file's arrays: a file whose checksum and shape match but
    whose program is out of bounds (damaged, or written by someone else) is refused by
    name, never run; and the margin helper compiles instead."""
    zkey, path = saved
    bad = _tampered(path, tmp_path / "bad.npz", change)
    with pytest.raises(FileFormatError, match=what):
        load_compiled(bad, key_checksum=file_checksum(zkey), shape=repr(margin_shape(SNAP)))
    bad.replace(path)
    assert margin_circuit_with_key(SNAP, zkey) is margin_circuit_for(SNAP)
