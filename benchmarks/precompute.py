"""Does fixed-base precomputation pay for the prover? A measurement, not a feature.

    .venv/bin/python benchmarks/precompute.py [--windows 12 14 16] [--points N] [--out results/precompute.json]

The proving key's points are fixed across proofs, so one could store 2^(cj) P for every
window j and run Pippenger over all W * n of them into a single set of buckets: the
same number of bucket additions as the plain MSM, but one bucket sum instead of W, which
makes larger windows (fewer additions) pay. This times that against the plain `g1_msm`
on the chain fixture's H points (65,536, random full-width scalars, as H's are), both on
the numba kernels with 2 workers, and reports the table's size and build time.

Result on the dev machine (2026-11-21): plain 0.162 s; precomputed c = 12 / 14 / 16:
0.134 / 0.120 / 0.118 s with tables of 88 / 76 / 64 MB built in 12-17 s. A chain proof
has four G1 MSMs of about 64k points and one G2 MSM: precomputing them all would save
about 0.18 s of 0.89 s but add over 250 MB (G1 alone) to a peak RSS of 238 MB, past
snarkjs's 436 MB, which issue 5 sets as the ceiling. So the prover does not precompute.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import algebra as A  # noqa: E402
from algebra._nb_curve import G1_WIT  # noqa: E402
from algebra._nb_msm import bucket_windows_kernel, signed_digits_kernel, sum_rows_kernel  # noqa: E402
from prover import read_zkey  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"


def _best(fn: Callable[[], Any], repeat: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _precomputed_msm(table: np.ndarray, scalars: np.ndarray, n: int, c: int, n_windows: int) -> np.ndarray:
    """sum_i k_i P_i from table rows j * n + i = 2^(cj) P_i: one bucket set per worker."""
    digits = np.empty((n, n_windows), dtype=np.int32)
    signed_digits_kernel(scalars, np.arange(n, dtype=np.int64), c, n_windows, digits)
    flat = np.ascontiguousarray(digits.T).reshape(-1)  # window j's digit goes with 2^(cj) P
    half = flat.size // 2
    rows = np.zeros((2, flat.size), np.int32)  # half of the terms for each of 2 workers
    rows[0, :half] = flat[:half]
    rows[1, half:] = flat[half:]
    sums = np.empty((2, 12), np.uint64)
    bucket_windows_kernel(table, np.arange(table.shape[0], dtype=np.int64), rows, c, True, sums, 2, G1_WIT)
    out = np.zeros((1, 8), np.uint64)
    sum_rows_kernel(sums, out, G1_WIT)
    return out[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windows", type=int, nargs="+", default=[12, 14, 16])
    parser.add_argument("--points", type=int, default=0, help="use only the first N H points (0: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "precompute.json")
    args = parser.parse_args()
    points = np.ascontiguousarray(read_zkey(FIXTURES / "chain.zkey", copy_on_write=True).h_points)
    if args.points:
        points = np.ascontiguousarray(points[: args.points])
    n = points.shape[0]
    rng = np.random.default_rng(1)
    scalars = rng.integers(0, 2**63, size=(n, 4), dtype=np.uint64)
    scalars[:, 3] &= np.uint64((1 << 60) - 1)  # below 2^252 < r
    expected = A.g1_msm(points, scalars)
    plain = _best(lambda: A.g1_msm(points, scalars))
    rows: list[dict[str, Any]] = [{"variant": "plain g1_msm", "n": n, "seconds": plain}]
    for c in args.windows:
        n_windows = -(-255 // c)
        t0 = time.perf_counter()
        table = np.concatenate([A.g1_scale(points, pow(2, c * j, A.R)) for j in range(n_windows)])
        build = time.perf_counter() - t0
        if not np.array_equal(_precomputed_msm(table, scalars, n, c, n_windows), expected):
            raise SystemExit(f"precomputed MSM with c = {c} disagrees with g1_msm")
        seconds = _best(lambda t=table, c=c, w=n_windows: _precomputed_msm(t, scalars, n, c, w))
        rows.append(
            {
                "variant": f"precomputed, c = {c}",
                "n": n,
                "seconds": seconds,
                "table_mb": table.nbytes / 2**20,
                "build_s": build,
            }
        )
    for r in rows:
        extra = f", table {r['table_mb']:.0f} MB built in {r['build_s']:.1f} s" if "table_mb" in r else ""
        print(f"{r['variant']:<24} {r['seconds']:.3f} s{extra}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
