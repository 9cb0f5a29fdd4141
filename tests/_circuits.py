"""Helpers for circuit tests: a compiled circuit with one hint made dishonest."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from algebra import R
from circuits import Circuit, CompiledCircuit, Public, Secret


def with_hint(cc: CompiledCircuit, name: str, change: Callable[[list[int], list[int]], list[int]]) -> CompiledCircuit:
    """The circuit with the hint `name` replaced by a dishonest one: change(inputs, honest outputs)."""
    steps = []
    found = False
    for step in cc._steps:
        if getattr(step, "name", None) == name:
            honest = step.fn  # type: ignore[union-attr]

            def fn(v: list[int], honest: Callable[[list[int]], list[int]] = honest) -> list[int]:
                out = honest(v)
                return [x % R for x in change(v, list(out) if isinstance(out, list | tuple) else [out])]

            steps.append(dataclasses.replace(step, fn=fn, op=None))  # type: ignore[arg-type, type-var]
            found = True
        else:
            steps.append(step)
    assert found, name
    return CompiledCircuit(cc.name, cc.cs, cc.inputs, steps)


def powers_circuit(k: int) -> Circuit:
    """k public inputs y_i = x^(i+2): every input nonzero, each one constrained."""

    def define(self: Any, api: Any) -> None:
        acc = self.x
        for i in range(k):
            acc = api.mul(acc, self.x)
            api.assert_equal(acc, getattr(self, f"y{i}"))

    namespace: dict[str, Any] = {f"y{i}": Public() for i in range(k)}
    namespace.update(x=Secret(), define=define)
    return type(f"Powers{k}", (Circuit,), namespace)()  # type: ignore[no-any-return]
