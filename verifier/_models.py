"""Verifying key, proof and public signals: pydantic models with snarkjs JSON round-trips.

Points are held as algebra's affine int tuples: G1 (x, y), G2 ((x0, x1), (y0, y1)),
infinity all zeros. Fields accept two input forms and tell them apart by container:

- lists are snarkjs JSON: ["x", "y", "1"], [["x0", "x1"], ["y0", "y1"], ["1", "0"]],
  ["1", "2"] (decimal strings);
- tuples are the internal form, from Python (ints).

Every point is validated when the model is built (canonical coordinates, curve
equation, subgroup), so a model that exists is well-formed. Build models through
`from_json` / `load` / `from_points` / `from_values`: they map failures to
MalformedProofError, MalformedVerifyingKeyError or MalformedPublicSignalsError.
`model_validate` raises pydantic's ValidationError instead.

`to_json` / `save` write the file byte for byte as snarkjs writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from algebra import (
    G1,
    G2,
    EncodingError,
    FieldElementOutOfRangeError,
    G1Point,
    G2Point,
    Q,
    g1_from_snarkjs,
    g1_to_snarkjs,
    g2_from_snarkjs,
    g2_to_snarkjs,
    parse_decimal,
    parse_fr,
    short_repr,
)

from . import _json
from ._errors import (
    MalformedProofError,
    MalformedPublicSignalsError,
    MalformedVerifyingKeyError,
    VerificationInputError,
)
from ._gt import Fq12, fq12_to_snarkjs, snarkjs_pairing
from ._write import fr_int, proof_document, public_document

#: Longest JSON text read as each document (snarkjs writes about 800 bytes for a proof,
#: about 170 bytes per public signal in a verification key and 80 in public.json).
MAX_PROOF_BYTES = 64 * 1024
MAX_KEY_BYTES = 16 * 1024 * 1024
MAX_PUBLIC_BYTES = 16 * 1024 * 1024

# ---- field parsers (raise algebra's errors; the models map them) -------------------


def _parse_g1(value: Any, what: str) -> G1Point:
    if isinstance(value, tuple):
        return G1.validate(value, what)
    return g1_from_snarkjs(value, what)


def _parse_g2(value: Any, what: str) -> G2Point:
    if isinstance(value, tuple):
        return G2.validate(value, what)
    return g2_from_snarkjs(value, what)


def _parse_fq(value: Any, what: str) -> int:
    v = parse_decimal(value, what) if isinstance(value, str) else value
    if not isinstance(v, int) or isinstance(v, bool):
        raise EncodingError(f"{what}: expected a decimal string, got {short_repr(value)}")
    if not 0 <= v < Q:
        raise FieldElementOutOfRangeError(f"{what}: {v} is not a field element below q")
    return v


def _parse_fq12(value: Any, what: str) -> Fq12:
    """[[[c0, c1] x 3] x 2] (JSON strings or internal ints) to the internal Fq12 tuple."""

    def is_seq(v: Any, n: int) -> bool:
        return isinstance(v, (list, tuple)) and len(v) == n

    if not (is_seq(value, 2) and all(is_seq(h, 3) and all(is_seq(c, 2) for c in h) for h in value)):
        raise EncodingError(f"{what}: expected [[[c0, c1] x 3] x 2] of decimal strings, got {short_repr(value)}")
    halves = tuple(
        tuple(
            (_parse_fq(c[0], f"{what}[{i}][{j}][0]"), _parse_fq(c[1], f"{what}[{i}][{j}][1]"))
            for j, c in enumerate(half)
        )
        for i, half in enumerate(value)
    )
    return halves  # type: ignore[return-value]  # shape checked above


def _parse_fr(value: Any, what: str) -> int:
    if isinstance(value, str):
        return parse_fr(value, what)
    if not isinstance(value, int) or isinstance(value, bool):
        raise EncodingError(f"{what}: expected a decimal string, got {short_repr(value)}")
    return fr_int(value, what)


# ---- shared machinery ---------------------------------------------------------------


def _json_name(model: type[BaseModel], info: ValidationInfo) -> str:
    """The snarkjs JSON name of the field being validated (its alias)."""
    name = info.field_name or "?"
    field = model.model_fields.get(name)
    return field.alias if field is not None and field.alias else name


def _map_validation_error(
    exc: ValidationError, error: type[VerificationInputError], what: str
) -> VerificationInputError:
    """The first pydantic error as our named error, chained to the algebra error behind it."""
    errors = exc.errors()
    first = errors[0]
    loc = ".".join(str(part) for part in first["loc"])
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, error) and len(errors) == 1:
        return cause  # raised by our own model validator, already named
    if isinstance(cause, Exception):
        message = str(cause)
    elif first["type"] in ("missing", "model_type", "model_attributes_type"):
        message = f"{loc or what}: {first['msg']}"
    else:
        message = f"{loc or what}: {first['msg']}, got {short_repr(first['input'])}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problems)"
    field = str(first["loc"][0]) if first["loc"] else getattr(cause, "field", None)
    mapped = error(message, field=field)
    mapped.__cause__ = cause if isinstance(cause, Exception) else exc
    return mapped


class _SnarkjsJson:
    """from_json / load / to_json / save shared by the three models."""

    _error: ClassVar[type[VerificationInputError]]
    _what: ClassVar[str]
    _max_bytes: ClassVar[int]

    @classmethod
    def _build(cls, data: Any) -> Self:
        try:
            return cls.model_validate(data)  # type: ignore[attr-defined, no-any-return]
        except ValidationError as exc:
            mapped = _map_validation_error(exc, cls._error, cls._what)
            raise mapped from mapped.__cause__

    @classmethod
    def from_json(cls, data: _json.JsonInput) -> Self:
        """Parse snarkjs JSON (text, bytes, or an already-decoded dict / list)."""
        return cls._build(_json.loads(data, cls._error, cls._what, cls._max_bytes))

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a snarkjs JSON file. OSError if it cannot be read; the named error if malformed
        (a file longer than the model's byte limit is refused after reading one byte past it)."""
        return cls.from_json(cls.read_bytes(path))

    @classmethod
    def read_bytes(cls, path: str | Path) -> bytes:
        """The file's bytes, at most one past the model's byte limit (so `from_json`
        refuses a longer file without reading it all). OSError if it cannot be read."""
        with Path(path).open("rb") as f:
            return f.read(cls._max_bytes + 1)

    def to_json_obj(self) -> Any:
        """The snarkjs JSON document as Python dicts, lists and strings."""
        return self.model_dump(mode="json", by_alias=True)  # type: ignore[attr-defined]

    def to_json(self) -> str:
        """The JSON text exactly as snarkjs writes it (bfj, one-space indent, no final newline)."""
        return _json.dumps(self.to_json_obj())

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")


_CONFIG = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

# ---- verification_key.json ----------------------------------------------------------


class VerifyingKey(_SnarkjsJson, BaseModel):
    """A Groth16 verifying key, snarkjs's verification_key.json.

    JSON names are the aliases; the JSON keys are written in snarkjs's order.
    """

    model_config = _CONFIG
    _error: ClassVar[type[VerificationInputError]] = MalformedVerifyingKeyError
    _what: ClassVar[str] = "verifying key"
    _max_bytes: ClassVar[int] = MAX_KEY_BYTES

    setup_notice: str | None = Field(
        None,
        alias="zkmargin_setup",
        description=(
            "zkmargin's warning for keys from an insecure single-party dev setup; written first when set, "
            "absent otherwise. snarkjs ignores it."
        ),
    )
    protocol: Literal["groth16"] = Field("groth16", description="Proof system; always 'groth16'.")
    curve: Literal["bn128"] = Field("bn128", description="Curve name as snarkjs spells BN254: 'bn128'.")
    n_public: StrictInt = Field(
        alias="nPublic", ge=0, description="Number of public signals (outputs first, then public inputs)."
    )
    alpha1: G1Point = Field(alias="vk_alpha_1", description="[alpha]_1 in G1.")
    beta2: G2Point = Field(alias="vk_beta_2", description="[beta]_2 in G2.")
    gamma2: G2Point = Field(alias="vk_gamma_2", description="[gamma]_2 in G2.")
    delta2: G2Point = Field(alias="vk_delta_2", description="[delta]_2 in G2.")
    alphabeta12: Fq12 = Field(
        alias="vk_alphabeta_12",
        description=(
            "e(alpha1, beta2) as snarkjs computes it, in its Fq12 tower layout "
            "[[[c0, c1] x 3] x 2]. Informational: verify() recomputes the pairing and does not read it; "
            "see alphabeta_is_consistent()."
        ),
    )
    ic: tuple[G1Point, ...] = Field(
        alias="IC",
        description="IC[0] + sum_i s_i IC[i+1] is the public-input term; nPublic + 1 points in G1.",
    )

    @field_validator("alpha1", mode="before")
    @classmethod
    def _g1(cls, value: Any, info: ValidationInfo) -> G1Point:
        return _parse_g1(value, _json_name(cls, info))

    @field_validator("beta2", "gamma2", "delta2", mode="before")
    @classmethod
    def _g2(cls, value: Any, info: ValidationInfo) -> G2Point:
        return _parse_g2(value, _json_name(cls, info))

    @field_validator("alphabeta12", mode="before")
    @classmethod
    def _fq12(cls, value: Any, info: ValidationInfo) -> Fq12:
        return _parse_fq12(value, _json_name(cls, info))

    @field_validator("ic", mode="before")
    @classmethod
    def _ic(cls, value: Any) -> tuple[G1Point, ...]:
        if not isinstance(value, (list, tuple)) or not value:
            raise EncodingError(f"IC: expected a non-empty list of G1 points, got {short_repr(value)}")
        return tuple(_parse_g1(p, f"IC[{i}]") for i, p in enumerate(value))

    @model_validator(mode="after")
    def _ic_matches_n_public(self) -> Self:
        if len(self.ic) != self.n_public + 1:
            raise MalformedVerifyingKeyError(
                f"IC has {len(self.ic)} points, nPublic = {self.n_public} needs {self.n_public + 1}", field="IC"
            )
        return self

    @field_serializer("alpha1", when_used="json")
    def _dump_g1(self, p: G1Point) -> list[str]:
        return g1_to_snarkjs(p)

    @field_serializer("beta2", "gamma2", "delta2", when_used="json")
    def _dump_g2(self, p: G2Point) -> list[list[str]]:
        return g2_to_snarkjs(p)

    @field_serializer("alphabeta12", when_used="json")
    def _dump_fq12(self, value: Fq12) -> list[list[list[str]]]:
        return fq12_to_snarkjs(value)

    @field_serializer("ic", when_used="json")
    def _dump_ic(self, ic: tuple[G1Point, ...]) -> list[list[str]]:
        return [g1_to_snarkjs(p) for p in ic]

    def to_json_obj(self) -> Any:
        obj = super().to_json_obj()
        if obj.get("zkmargin_setup") is None:
            obj.pop("zkmargin_setup", None)
        return obj

    @classmethod
    def from_points(
        cls,
        alpha1: G1Point,
        beta2: G2Point,
        gamma2: G2Point,
        delta2: G2Point,
        ic: Sequence[G1Point],
        *,
        setup_notice: str | None = None,
    ) -> VerifyingKey:
        """The key for these points (e.g. from a .zkey header), computing vk_alphabeta_12.

        Points are validated (MalformedVerifyingKeyError); nPublic = len(ic) - 1.
        `setup_notice` marks keys from an insecure setup (written as "zkmargin_setup").
        """
        # alpha and beta enter a pairing before the model validates them
        for curve, point, what in ((G1, alpha1, "vk_alpha_1"), (G2, beta2, "vk_beta_2")):
            try:
                curve.validate(point, what)
            except ValueError as exc:
                raise MalformedVerifyingKeyError(str(exc), field=what) from exc
        return cls._build(
            {
                "nPublic": len(ic) - 1,
                "vk_alpha_1": alpha1,
                "vk_beta_2": beta2,
                "vk_gamma_2": gamma2,
                "vk_delta_2": delta2,
                "vk_alphabeta_12": snarkjs_pairing(alpha1, beta2),
                "IC": tuple(ic),
                "zkmargin_setup": setup_notice,
            }
        )

    def alphabeta_is_consistent(self) -> bool:
        """True if vk_alphabeta_12 equals e(vk_alpha_1, vk_beta_2) (costs one pairing)."""
        return snarkjs_pairing(self.alpha1, self.beta2) == self.alphabeta12


# ---- proof.json ---------------------------------------------------------------------


class Proof(_SnarkjsJson, BaseModel):
    """A Groth16 proof (A, B, C), snarkjs's proof.json."""

    model_config = _CONFIG
    _error: ClassVar[type[VerificationInputError]] = MalformedProofError
    _what: ClassVar[str] = "proof"
    _max_bytes: ClassVar[int] = MAX_PROOF_BYTES

    a: G1Point = Field(alias="pi_a", description="A in G1.")
    b: G2Point = Field(alias="pi_b", description="B in G2.")
    c: G1Point = Field(alias="pi_c", description="C in G1.")
    protocol: Literal["groth16"] = Field("groth16", description="Proof system; always 'groth16'.")
    curve: Literal["bn128"] = Field("bn128", description="Curve name as snarkjs spells BN254: 'bn128'.")

    @field_validator("a", "c", mode="before")
    @classmethod
    def _g1(cls, value: Any, info: ValidationInfo) -> G1Point:
        return _parse_g1(value, _json_name(cls, info))

    @field_validator("b", mode="before")
    @classmethod
    def _g2(cls, value: Any, info: ValidationInfo) -> G2Point:
        return _parse_g2(value, _json_name(cls, info))

    @field_serializer("a", "c", when_used="json")
    def _dump_g1(self, p: G1Point) -> list[str]:
        return g1_to_snarkjs(p)

    @field_serializer("b", when_used="json")
    def _dump_g2(self, p: G2Point) -> list[list[str]]:
        return g2_to_snarkjs(p)

    @classmethod
    def from_points(cls, a: G1Point, b: G2Point, c: G1Point) -> Proof:
        """The proof with these (validated) points."""
        return cls._build({"pi_a": a, "pi_b": b, "pi_c": c})

    def to_json_obj(self) -> dict[str, Any]:
        return proof_document(self.a, self.b, self.c)


# ---- public.json --------------------------------------------------------------------


class PublicSignals(_SnarkjsJson, RootModel[tuple[int, ...]]):
    """The public signals, snarkjs's public.json: decimal strings of elements of Fr.

    Order is circom's: public outputs first, then public inputs.
    """

    model_config = ConfigDict(frozen=True)
    _error: ClassVar[type[VerificationInputError]] = MalformedPublicSignalsError
    _what: ClassVar[str] = "public signals"
    _max_bytes: ClassVar[int] = MAX_PUBLIC_BYTES

    root: tuple[int, ...] = Field(description="The values, each 0 <= v < r.")

    @field_validator("root", mode="before")
    @classmethod
    def _values(cls, value: Any) -> tuple[int, ...]:
        if not isinstance(value, (list, tuple)):
            raise EncodingError(f"public signals: expected a list of decimal strings, got {type(value).__name__}")
        return tuple(_parse_fr(v, f"public signal [{i}]") for i, v in enumerate(value))

    @field_serializer("root", when_used="json")
    def _dump(self, values: tuple[int, ...]) -> list[str]:
        return [str(v) for v in values]

    @classmethod
    def from_values(cls, values: Iterable[int]) -> PublicSignals:
        """Signals from Python ints (each must be in [0, r))."""
        return cls._build(tuple(values))

    @property
    def values(self) -> tuple[int, ...]:
        return self.root

    def to_json_obj(self) -> list[str]:
        return public_document(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def __iter__(self) -> Iterator[int]:  # type: ignore[override]
        return iter(self.root)

    def __getitem__(self, index: int) -> int:
        return self.root[index]
