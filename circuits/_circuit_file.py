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
from collections.abc import Callable
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


def _header_parts(header: dict[str, Any]) -> tuple[ConstraintSystem, list[InputSpec]]:
    """The constraint system (counts and names) and the inputs a header describes."""
    n_wires = int(header["n_wires"])
    if n_wires < 1 or not isinstance(header["names"], list):
        raise ValueError("no wires or no constraint names")
    cs = ConstraintSystem(n_public=int(header["n_public"]))
    cs.wire_names = ["one"] * n_wires  # names are not kept: the counts matter
    cs.constraints = [Constraint({}, {}, {}, str(name)) for name in header["names"]]
    inputs = [InputSpec(str(n), bool(p), tuple(int(w) for w in ws), bool(a)) for n, p, ws, a in header["inputs"]]
    return cs, inputs


def _array_problem(a: dict[str, np.ndarray], n_wires: int, n_constraints: int) -> str | None:
    """What makes the program's arrays unsafe to run (indices out of range, pointers
    not monotone, wrong shapes or types), or None."""
    ints = ("param", "in_ptr", "out_ptr", "out_wire", "row_a", "row_b", "row_c", "checked", "lc_ptr", "term_wire")
    if a["op"].dtype != np.int8 or any(a[k].dtype != np.int64 or a[k].ndim != 1 for k in ints):
        return "array types"
    n_steps, n_terms = len(a["op"]), len(a["term_wire"])
    if a["offsets"].shape != (n_steps, 4) or a["term_coef"].shape != (n_terms, 8):
        return "array shapes"
    if a["offsets"].dtype != np.uint64 or a["term_coef"].dtype != np.uint64:
        return "limb types"
    n_lcs = len(a["lc_ptr"]) - 1
    checks: list[tuple[Callable[[], bool], str]] = [
        (lambda: len(a["param"]) == n_steps and len(a["in_ptr"]) == len(a["out_ptr"]) == n_steps + 1, "step counts"),
        (lambda: n_lcs >= 0 and _pointers(a["lc_ptr"], n_terms), "term pointers"),
        (lambda: _pointers(a["in_ptr"], None) and a["in_ptr"][-1] <= n_lcs, "input pointers"),
        (lambda: _pointers(a["out_ptr"], len(a["out_wire"])), "output pointers"),
        (lambda: bool(np.all((a["op"] >= 0) & (a["op"] < len(_ARITY)))), "opcodes"),
        (lambda: _arities(a), "inputs or outputs per step"),
        (lambda: _within(a["out_wire"], n_wires) and _within(a["term_wire"], n_wires), "wire indices"),
        (lambda: all(_within(a[k], n_lcs) for k in ("row_a", "row_b", "row_c")), "row indices"),
        (lambda: len(a["row_a"]) == len(a["row_b"]) == len(a["row_c"]) == len(a["checked"]), "row counts"),
        (lambda: _within(a["checked"], n_constraints), "constraint indices"),
    ]
    return next((what for ok, what in checks if not ok()), None)  # in order: later ones index by earlier


#: Per opcode (`_nb_witness`): (least inputs, most inputs, least outputs, most outputs).
_ARITY = np.array(
    [
        (2, 2, 1, 1),  # product
        (1, 1, 1, 256),  # bits (of a 256-bit element)
        (1, 1, 1, 1),  # inverse
        (2, 2, 1, 1),  # field division
        (1, 1, 2, 2),  # sign and magnitude
        (1, 1, 1, 1 << 20),  # one-hot
        (2, 2, 2, 2),  # quotient and remainder
        (2, 1 << 20, 1, 1),  # max of ceilings
        (2, 2, 1, 1),  # quotient
    ]
)


def _arities(a: dict[str, np.ndarray]) -> bool:
    """Each step has the inputs and outputs its opcode reads and writes (opcodes checked)."""
    bounds = _ARITY[a["op"].astype(np.int64)]
    n_in, n_out = np.diff(a["in_ptr"]), np.diff(a["out_ptr"])
    return bool(
        np.all((n_in >= bounds[:, 0]) & (n_in <= bounds[:, 1]) & (n_out >= bounds[:, 2]) & (n_out <= bounds[:, 3]))
    )


def _pointers(ptr: np.ndarray, end: int | None) -> bool:
    """CSR pointers: from 0, non-decreasing, ending at `end` (when given)."""
    ok = len(ptr) >= 1 and ptr[0] == 0 and bool(np.all(np.diff(ptr) >= 0))
    return ok and (end is None or ptr[-1] == end)


def _within(index: np.ndarray, n: int) -> bool:
    return bool(np.all((index >= 0) & (index < n)))


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
    try:
        cs, inputs = _header_parts(header)
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(f"{path}: a malformed circuit header ({exc!r})") from exc
    problem = _array_problem(arrays, cs.n_wires, cs.n_constraints)
    if problem is None and any(w >= cs.n_wires for spec in inputs for w in spec.wires):
        problem = "input wires"
    if problem is not None:  # the kernel indexes by these arrays: never run a malformed one
        raise FileFormatError(f"{path}: a malformed circuit program ({problem})")
    circuit = CompiledCircuit(str(header["name"]), cs, inputs, [])
    circuit._loaded = True  # type: ignore[attr-defined]
    circuit._program = WitnessProgram(circuit=circuit, **arrays)  # type: ignore[attr-defined]
    return circuit
