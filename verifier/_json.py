"""Reading JSON input and writing JSON exactly as snarkjs writes it.

snarkjs writes its JSON files with `bfj.write(file, obj, {space: 1})`. That is the
layout of `JSON.stringify(obj, null, 1)` (one space per level, `"key": value`, no
trailing newline) with one difference: an empty array is written on two lines,
"[" newline indent "]", where JSON.stringify writes "[]". `dumps` reproduces bfj.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import from_json

from ._errors import VerificationInputError

JsonInput = str | bytes | bytearray | dict[str, Any] | list[Any]


def loads(data: JsonInput, error: type[VerificationInputError], what: str, max_bytes: int) -> Any:
    """Parse `data` if it is text or bytes; pass an already-parsed dict or list through.

    Text longer than `max_bytes` is refused before it is parsed. The parser is
    pydantic-core's: it refuses nesting deeper than its recursion limit (about 200
    levels; snarkjs's files have 4) with an error instead of recursing on the C stack,
    as json.loads does. Too long, too deep or invalid JSON (NaN, Infinity, lone
    surrogates and bad escapes included) raise `error` naming `what` ("proof", "verifying key", ...).
    """
    if isinstance(data, (dict, list)):
        return data
    if not isinstance(data, (str, bytes, bytearray)):
        raise error(f"{what}: expected JSON text, bytes, a dict or a list, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise error(f"{what}: the JSON text is longer than the {max_bytes} bytes a {what} may have")
    try:
        return from_json(data, allow_inf_nan=False)
    except (ValueError, TypeError) as exc:  # invalid JSON, recursion limit; TypeError: str not UTF-8
        raise error(f"{what}: not valid JSON: {exc}") from exc


def dumps(obj: Any) -> str:
    """`obj` (dicts, lists, strings, ints, bools, None) as bfj.write(..., {space: 1}) writes it."""
    parts: list[str] = []
    _write(obj, 0, parts)
    return "".join(parts)


def _write(obj: Any, level: int, out: list[str]) -> None:
    inner = "\n" + " " * (level + 1)
    if isinstance(obj, dict):
        out.append("{")
        for i, (key, value) in enumerate(obj.items()):
            out.append(("," if i else "") + inner + json.dumps(str(key)) + ": ")
            _write(value, level + 1, out)
        out.append("\n" + " " * level + "}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for i, value in enumerate(obj):
            out.append(("," if i else "") + inner)
            _write(value, level + 1, out)
        out.append("\n" + " " * level + "]")
    else:
        out.append(json.dumps(obj))
