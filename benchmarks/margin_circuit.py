"""Constraints of the margin circuit (`circuits.MarginHealth`) by snapshot shape.

    .venv/bin/python benchmarks/margin_circuit.py [--out benchmarks/results/margin_circuit.json]

Compiles the circuit for a few shapes (assets, markets, grid) and prints a table of
constraint counts, then the marginal cost of one more asset, market kind, bracket,
option, underlying and scenario, measured as differences between compiled shapes. The
README's table comes from this script; the example snapshot's row compiles the shape of
`engine/examples/snapshot.json`. Writes JSON with every row.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from circuits import compile_circuit  # noqa: E402
from circuits._margin_circuit import (  # noqa: E402
    KIND_FUTURE,
    KIND_OPTION,
    KIND_PERPETUAL,
    MarginHealth,
    MarginShape,
    MarketShape,
)
from engine import load_example_snapshot, margin_shape  # noqa: E402

PERP, FUT, OPT = KIND_PERPETUAL, KIND_FUTURE, KIND_OPTION


def _shape(n_assets: int, markets: list[tuple[int, int, int]], price: int = 1, vol: int = 1) -> MarginShape:
    """markets: (kind, n_brackets, base asset position)."""
    shapes = tuple(MarketShape(k, b, base, decimals=8 if k != KIND_OPTION else 1) for k, b, base in markets)
    return MarginShape(n_assets, shapes, price, vol, asset_decimals=(6, *[8] * (n_assets - 1)))


def _rows() -> list[tuple[str, MarginShape]]:
    return [
        ("1 perpetual", _shape(1, [(PERP, 0, 0)])),
        ("1 perpetual, 1 future", _shape(2, [(PERP, 0, 1), (FUT, 0, 1)])),
        ("2 perpetuals (one with 2 brackets), 1 future", _shape(2, [(PERP, 0, 1), (PERP, 2, 1), (FUT, 0, 1)])),
        ("1 perpetual, 2 options on one underlying", _shape(2, [(PERP, 0, 1), (OPT, 0, 1), (OPT, 0, 1)])),
        ("8 perpetuals on 3 underlyings", _shape(4, [(PERP, 0, 1 + k % 3) for k in range(8)])),
        (
            "example snapshot: 2 perpetuals (one with 5 brackets), 1 future, 2 options",
            margin_shape(load_example_snapshot()),
        ),
        (
            "4 perpetuals, 4 futures, 4 options on 2 underlyings",
            _shape(4, [(kind, 0, 1 + k % 2) for kind in (PERP, FUT, OPT) for k in range(4)], price=5, vol=3),
        ),
    ]


def _marginal() -> list[tuple[str, MarginShape, MarginShape]]:
    """(what, without, with): the cost of one more of something."""
    base = [(PERP, 0, 1)]
    return [
        ("asset", _shape(2, base), _shape(3, base)),
        ("perpetual (same underlying)", _shape(2, base), _shape(2, [*base, (PERP, 0, 1)])),
        ("future (same underlying)", _shape(2, base), _shape(2, [*base, (FUT, 0, 1)])),
        ("perpetual on a new underlying", _shape(3, base), _shape(3, [*base, (PERP, 0, 2)])),
        ("bracket", _shape(2, [(PERP, 1, 1)]), _shape(2, [(PERP, 2, 1)])),
        (
            "option (same underlying, 3 scenarios)",
            _shape(2, [*base, (OPT, 0, 1)]),
            _shape(2, [*base, *[(OPT, 0, 1)] * 2]),
        ),
        ("price move, 1 perpetual", _shape(2, base), _shape(2, base, price=2)),
        ("vol move, 1 perpetual", _shape(2, base), _shape(2, base, vol=2)),
        ("vol move, 1 perpetual + 1 option", _shape(2, [*base, (OPT, 0, 1)]), _shape(2, [*base, (OPT, 0, 1)], vol=2)),
    ]


_cache: dict[tuple[MarginShape, int], int] = {}


def constraints(shape: MarginShape, anonymous_depth: int = 0) -> int:
    key = (shape, anonymous_depth)
    if key not in _cache:
        _cache[key] = compile_circuit(MarginHealth(shape, anonymous_depth=anonymous_depth)).cs.n_constraints
    return _cache[key]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "margin_circuit.json")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    table: list[dict[str, Any]] = []
    print("| assets | markets | grid (price x vol moves, scenarios) | snapshot / account fields | constraints |")
    print("| --- | --- | --- | --- | --- |")
    for what, sh in _rows():
        n = constraints(sh)
        grid = f"{sh.n_price_moves} x {sh.n_vol_moves}, {sh.n_scenarios}"
        print(f"| {sh.n_assets} | {what} | {grid} | {sh.snapshot_length} / {sh.account_length} | {n:,} |")
        table.append({"markets": what, "n_assets": sh.n_assets, "grid": grid, "constraints": n})
    print()
    marginal: list[dict[str, Any]] = []
    for what, without, with_ in _marginal():
        cost = constraints(with_) - constraints(without)
        print(f"one more {what}: {cost:,} constraints")
        marginal.append({"what": what, "constraints": cost})
    depth = 4
    one = _shape(2, [(PERP, 0, 1)])
    per_level = (constraints(one, depth) - constraints(one, 1)) / (depth - 1)
    print(f"anonymous mode: {per_level:,.0f} constraints per Merkle level")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "table": table,
                "marginal": marginal,
                "anonymous_per_level": per_level,
                "seconds": time.perf_counter() - t0,
            },
            indent=2,
        )
    )
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
