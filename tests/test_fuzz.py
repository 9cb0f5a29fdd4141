"""Fuzzing every reader of untrusted input (issue 13).

Hypothesis mutates real files with the formats' structure in mind (section tables,
header counts, field elements at or above their modulus, truncation, repeated and
missing sections) and real JSON documents (any node replaced by something odd: deep
nesting, huge numbers, wrong types; keys dropped; text cut short). Every case must end
in a value or the reader's named error, within 5 s and 512 MB more address space:
any other exception, a hang or a runaway allocation fails the test.
"""

from __future__ import annotations

import json
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algebra import FileFormatError, Q, R, poseidon, read_binfile
from circuits import CommitmentOpening, compile_circuit, read_r1cs, read_wtns, write_r1cs, write_wtns
from engine import Account, EngineError, MarketSnapshot
from engine._examples import example_path
from engine._models import parse_model
from prover import (
    InsecureSetupWarning,
    Prover,
    contribute,
    dev_setup,
    new_zkey,
    read_ptau,
    read_zkey,
    write_zkey,
)
from tests._limits import bounded
from tests._paths import FIXTURES
from verifier import Proof, PublicSignals, VerificationInputError, VerifyingKey

FUZZ = settings(
    max_examples=120,
    deadline=None,  # bounded() is the time limit
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---- binary files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    magic: str
    version: int
    sections: tuple[tuple[int, bytes], ...]  # in file order


def _seed(path: Path, magic: str, version: int) -> Seed:
    with read_binfile(path, magic, version) as bf:
        refs = sorted((off, t) for t, offs in bf.sections.items() for off, _ in offs)
        return Seed(magic, version, tuple((t, bf.raw[off : off + bf.sections[t][0][1]].tobytes()) for off, t in refs))


#: Where each format keeps its counts and sizes: (section type, byte offset, width).
#: A count that claims more than the file holds is the classic way to make a reader
#: allocate or loop without bound, so the fuzzer aims at these.
COUNT_FIELDS: dict[str, tuple[tuple[int, int, int], ...]] = {
    # n8, nWires, nPubOut, nPubIn, nPrvIn, nLabels (u64), nConstraints; the first term count
    "r1cs": ((1, 0, 4), (1, 36, 4), (1, 40, 4), (1, 44, 4), (1, 48, 4), (1, 52, 8), (1, 60, 4), (2, 0, 4)),
    "wtns": ((1, 0, 4), (1, 36, 4)),  # n8, count
    # protocol; n8q, n8r, nVars, nPublic, domainSize; coefficient count; contribution count
    "zkey": ((1, 0, 4), (2, 0, 4), (2, 36, 4), (2, 72, 4), (2, 76, 4), (2, 80, 4), (4, 0, 4), (10, 64, 4)),
    "ptau": ((1, 0, 4), (1, 36, 4), (1, 40, 4), (7, 0, 4)),  # n8, power, ceremonyPower; contributions
}


@pytest.fixture(scope="module")
def seeds(small_ptau: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Seed]:
    """A real small .r1cs, .wtns, .zkey (with a contribution) and a prepared .ptau."""
    out = tmp_path_factory.mktemp("seeds")
    compiled = compile_circuit(CommitmentOpening(bits=8))
    write_r1cs(compiled.cs, out / "c.r1cs")
    value, salt = 200, 12345
    witness = compiled.solve({"commitment": poseidon([value, salt]), "minimum": 150, "value": value, "salt": salt})
    write_wtns(witness.values, out / "c.wtns")
    zkey, _ = contribute(new_zkey(read_r1cs(out / "c.r1cs"), read_ptau(small_ptau)), name="fuzz", entropy="fuzz")
    write_zkey(zkey, out / "c.zkey")
    return {
        "r1cs": _seed(out / "c.r1cs", "r1cs", 1),
        "wtns": _seed(out / "c.wtns", "wtns", 2),
        "zkey": _seed(out / "c.zkey", "zkey", 1),
        "ptau": _seed(small_ptau, "ptau", 1),
    }


def _read_ptau_and_blocks(path: Path) -> object:
    ptau = read_ptau(path)
    if ptau.is_prepared:
        ptau.lagrange_g1(12, 4)
        ptau.lagrange_g2(4)
    return ptau


READERS: dict[str, Callable[[Path], object]] = {
    "r1cs": read_r1cs,
    "wtns": read_wtns,
    "zkey": lambda p: read_zkey(p).a_coeffs(),
    "ptau": _read_ptau_and_blocks,
}

_U32_VALUES = [0, 1, 2, 3, 4, 8, 31, 32, 33, 64, 255, 2**16, 2**24, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1]
_U64_VALUES = [*_U32_VALUES, 2**32, 2**40, 2**63 - 1, 2**63, 2**64 - 1]
_FIELD_VALUES = [0, 1, Q - 1, Q, R - 1, R, 2**254, 2**256 - 1]


def _pack(seed: Seed, sections: list[tuple[int, bytes]], n_sections: int | None = None) -> bytearray:
    out = bytearray(
        seed.magic.encode() + struct.pack("<II", seed.version, len(sections) if n_sections is None else n_sections)
    )
    for t, payload in sections:
        out += struct.pack("<IQ", t, len(payload)) + payload
    return out


@st.composite
def mutated(draw: st.DrawFn, seed: Seed) -> bytes:
    """The seed file with maybe one structural change, one to three in-place edits, and maybe
    cut short or extended (rarely: most cases should get past the container into the format)."""
    sections = list(seed.sections)
    n = len(sections)
    structural = draw(st.sampled_from(["none"] * 5 + ["drop", "dup", "swap", "retype"]))
    i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
    if structural == "drop":
        del sections[i]
    elif structural == "dup":
        sections.append(sections[i])
    elif structural == "swap":
        sections[i], sections[j] = sections[j], sections[i]
    elif structural == "retype":
        sections[i] = (draw(st.sampled_from([0, 11, 99, 2**32 - 1, sections[j][0]])), sections[i][1])
    data = _pack(seed, sections)
    starts, pos = [], 12  # offsets of each section's 12-byte header
    for _, payload in sections:
        starts.append(pos)
        pos += 12 + len(payload)
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            _edit_count(draw, data, sections, starts, COUNT_FIELDS[seed.magic])
        else:
            _edit(draw, data, sections, starts)
    tail = draw(st.sampled_from(["keep"] * 8 + ["cut", "extend"]))
    if tail == "cut":
        del data[draw(st.integers(0, len(data) - 1)) :]
    elif tail == "extend":
        data += draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


def _edit_count(
    draw: st.DrawFn,
    data: bytearray,
    sections: list[tuple[int, bytes]],
    starts: list[int],
    fields: tuple[tuple[int, int, int], ...],
) -> None:
    """Set one of the format's counts (in every section of its type) to an odd value."""
    section_type, offset, width = draw(st.sampled_from(fields))
    value = draw(st.sampled_from(_U32_VALUES if width == 4 else _U64_VALUES))
    for k, (t, payload) in enumerate(sections):
        if t == section_type and offset + width <= len(payload):
            struct.pack_into("<I" if width == 4 else "<Q", data, starts[k] + 12 + offset, value)


def _edit(draw: st.DrawFn, data: bytearray, sections: list[tuple[int, bytes]], starts: list[int]) -> None:
    kind = draw(st.sampled_from(["count", "size", *["u32", "u64", "field", "byte"] * 3]))
    if kind == "count":
        struct.pack_into("<I", data, 8, draw(st.sampled_from(_U32_VALUES)))
        return
    if not sections:
        return
    small = [i for i, (_, payload) in enumerate(sections) if len(payload) <= 1024]  # headers and counts
    k = draw(st.sampled_from(small)) if small and draw(st.booleans()) else draw(st.integers(0, len(sections) - 1))
    size = len(sections[k][1])
    if kind == "size":
        struct.pack_into("<Q", data, starts[k] + 4, draw(st.sampled_from([*_U64_VALUES, size - 1, size + 1])))
        return
    width = {"u32": 4, "u64": 8, "field": 32, "byte": 1}[kind]
    if size < width:
        return
    at = starts[k] + 12 + draw(st.integers(0, (size - width) // min(width, 4))) * min(width, 4)
    if kind == "u32":
        struct.pack_into("<I", data, at, draw(st.sampled_from(_U32_VALUES)))
    elif kind == "u64":
        struct.pack_into("<Q", data, at, draw(st.sampled_from(_U64_VALUES)))
    elif kind == "field":
        data[at : at + 32] = draw(st.sampled_from(_FIELD_VALUES)).to_bytes(32, "little")
    else:
        data[at] = draw(st.integers(0, 255))


def _reads_or_names(reader: Callable[[Path], object], path: Path, errors: tuple[type[Exception], ...]) -> None:
    with bounded(seconds=5, megabytes=512):
        try:
            reader(path)
        except errors:
            pass


@pytest.mark.parametrize("kind", sorted(READERS))
def test_mutated_files_read_or_raise_a_named_error(
    seeds: dict[str, Seed], tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"case.{kind}"
    path.write_bytes(_pack(seeds[kind], list(seeds[kind].sections)))
    READERS[kind](path)  # the seed itself reads

    @FUZZ
    @given(data=mutated(seeds[kind]))
    def case(data: bytes) -> None:
        path.write_bytes(data)
        _reads_or_names(READERS[kind], path, (FileFormatError,))

    case()


@pytest.mark.parametrize("kind", sorted(READERS))
def test_every_count_set_to_every_odd_value_reads_or_raises_a_named_error(
    seeds: dict[str, Seed], tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    """The deterministic sweep beside the random cases: each count field of the format
    (COUNT_FIELDS), alone, at each odd value, with and without the wire label section."""
    seed, path = seeds[kind], tmp_path_factory.mktemp("sweep") / f"case.{kind}"
    variants = [list(seed.sections)]
    if kind == "r1cs":
        variants.append([s for s in seed.sections if s[0] != 3])  # labels bound nWires; without them?
    for sections in variants:
        starts = [12 + sum(12 + len(p) for _, p in sections[:k]) for k in range(len(sections))]
        for section_type, offset, width in COUNT_FIELDS[kind]:
            for value in _U32_VALUES if width == 4 else _U64_VALUES:
                data = _pack(seed, sections)
                for k, (t, payload) in enumerate(sections):
                    if t == section_type and offset + width <= len(payload):
                        struct.pack_into("<I" if width == 4 else "<Q", data, starts[k] + 12 + offset, value)
                path.write_bytes(data)
                _reads_or_names(READERS[kind], path, (FileFormatError,))


# ---- JSON documents ---------------------------------------------------------------------------

_DEEP = "\x00deep\x00"  # stands for a nesting written into the text (json.dumps would recurse)


def _odd_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**300), max_value=2**300),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
        st.sampled_from(["0", "1", "-1", " 1", "0x10", "1e3", "9" * 78, "9" * 81, str(Q), str(R), str(R - 1), ""]),
    )
    return st.one_of(
        scalars,
        st.just(_DEEP),
        st.lists(scalars, max_size=5),
        st.dictionaries(st.text(max_size=8), scalars, max_size=3),
    )


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for k, v in enumerate(doc):
            out += _paths(v, (*prefix, k))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    if delete and len(path) == 1:
        del copy[path[0]]
    else:
        copy[path[0]] = _replace(copy[path[0]], path[1:], value, delete)
    return copy


@st.composite
def mutated_json(draw: st.DrawFn, seed: Any) -> str:
    doc = seed
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        delete = bool(path) and draw(st.booleans()) and draw(st.booleans())
        doc = _replace(doc, path, draw(_odd_values()), delete)
    text = json.dumps(doc)
    depth = draw(st.sampled_from([1, 150, 300, 5_000, 100_000]))
    text = text.replace(json.dumps(_DEEP), "[" * depth + "]" * depth)
    cut = draw(st.sampled_from(["keep", "keep", "cut", "insert"]))
    if cut == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif cut == "insert":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=4)) + text[at:]
    return text


@pytest.fixture(scope="module")
def json_seeds() -> dict[str, Any]:
    compiled = compile_circuit(CommitmentOpening(bits=8))
    witness = compiled.solve({"commitment": poseidon([200, 1]), "minimum": 150, "value": 200, "salt": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        proof, public = Prover(dev_setup(compiled.cs)).prove(witness.values)
    return {
        "proof": proof.to_json_obj(),
        "public": public.to_json_obj(),
        "vk": json.loads((FIXTURES / "verification_key.json").read_text()),
        "account": json.loads(example_path("options_portfolio").read_text()),
        "snapshot": json.loads(example_path("snapshot").read_text()),
    }


JSON_READERS: dict[str, tuple[Callable[[str], object], tuple[type[Exception], ...]]] = {
    "proof": (Proof.from_json, (VerificationInputError,)),
    "public": (PublicSignals.from_json, (VerificationInputError,)),
    "vk": (VerifyingKey.from_json, (VerificationInputError,)),
    "account": (lambda text: parse_model(Account, text), (EngineError,)),
    "snapshot": (lambda text: parse_model(MarketSnapshot, text), (EngineError,)),
}


@pytest.mark.parametrize("kind", sorted(JSON_READERS))
def test_mutated_json_parses_or_raises_a_named_error(json_seeds: dict[str, Any], kind: str) -> None:
    reader, errors = JSON_READERS[kind]
    reader(json.dumps(json_seeds[kind]))  # the seed itself parses

    @FUZZ
    @given(text=mutated_json(json_seeds[kind]))
    def case(text: str) -> None:
        with bounded(seconds=5, megabytes=512):
            try:
                reader(text)
            except errors:
                pass

    case()
