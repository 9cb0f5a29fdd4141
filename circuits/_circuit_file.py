"""A compiled circuit saved beside its keys, so that provers load it instead of
compiling it again (`zkmargin margin-setup` writes it; epoch workers and
`prove-account` read it).

    save_compiled(circuit, "keys/margin.circuit.npz", key_checksum=file_checksum("keys/margin.zkey"))
    circuit = load_compiled("keys/margin.circuit.npz", key_checksum=..., shape=repr(shape))

The file is a NumPy .npz read without pickle: the witness program's arrays
(`_witness_program`) and a JSON header (format, the circuit's name, wire and constraint
counts, inputs, constraint names, the shape it was compiled for, and the checksum of
the .zkey it belongs to). A loaded circuit solves its witness with the program only
(`solve_limbs`); its `solve` (the Python reference) needs the circuit compiled.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from algebra import FileFormatError, MismatchedFilesError

from ._builder import CompiledCircuit, InputSpec
from ._r1cs import Constraint, ConstraintSystem
from ._witness_program import WitnessProgram

#: Format tag of the header.
CIRCUIT_FILE_FORMAT = "zkmargin.circuit.v1"
_ARRAYS = (
    "op", "param", "offsets", "in_ptr", "out_ptr", "out_wire", "row_a", "row_b", "row_c", "checked",
    "lc_ptr", "term_wire", "term_coef",
)  # fmt: skip


def file_checksum(path: str | os.PathLike[str]) -> str:
    """sha256 of a file (hex), read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_compiled(circuit: CompiledCircuit, path: str | os.PathLike[str], *, key_checksum: str, shape: str) -> None:
    """Write `circuit`'s program and header (atomically: a temporary file renamed)."""
    program = WitnessProgram.of(circuit)
    cs = circuit.cs
    header = {
        "format": CIRCUIT_FILE_FORMAT,
        "name": circuit.name,
        "n_wires": cs.n_wires,
        "n_public": cs.n_public,
        "names": [c.name for c in cs.constraints],
        "inputs": [[s.name, s.public, list(s.wires), s.is_array] for s in circuit.inputs],
        "shape": shape,
        "key_checksum": key_checksum,
    }
    arrays: dict[str, Any] = {name: getattr(program, name) for name in _ARRAYS}
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(target)


def load_compiled(path: str | os.PathLike[str], *, key_checksum: str, shape: str) -> CompiledCircuit:
    """The circuit saved at `path`: FileFormatError for a file that is not one,
    MismatchedFilesError when it belongs to another key or was compiled for another shape."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            arrays = {name: np.ascontiguousarray(data[name]) for name in _ARRAYS}
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise FileFormatError(f"{path}: not a saved compiled circuit ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != CIRCUIT_FILE_FORMAT:
        raise FileFormatError(f"{path}: not a {CIRCUIT_FILE_FORMAT} file")
    if header["key_checksum"] != key_checksum:
        raise MismatchedFilesError(f"{path} belongs to another .zkey (its checksum differs)")
    if header["shape"] != shape:
        raise MismatchedFilesError(f"{path} was compiled for another snapshot shape")
    cs = ConstraintSystem(n_public=int(header["n_public"]))
    cs.wire_names = ["one"] * int(header["n_wires"])  # names are not kept: the counts matter
    cs.constraints = [Constraint({}, {}, {}, str(name)) for name in header["names"]]
    inputs = [InputSpec(str(n), bool(p), tuple(int(w) for w in ws), bool(a)) for n, p, ws, a in header["inputs"]]
    circuit = CompiledCircuit(str(header["name"]), cs, inputs, [])
    circuit._loaded = True  # type: ignore[attr-defined]
    circuit._program = WitnessProgram(circuit=circuit, **arrays)  # type: ignore[attr-defined]
    return circuit
