"""Reference-speed benchmark: dev setup, prove (by stage) and verify on circuits of our
own builder, at a few sizes. Prints a table and writes JSON.

    .venv/bin/python benchmarks/bench_reference.py [--hashes 1 8 32] [--out benchmarks/results/reference.json]

A circuit of k chained Poseidon(2) hashes has about 240 k constraints, like the
../shared chain fixture (256 hashes). Comparisons with snarkjs and groth16py on the
same .zkey need the .zkey writer and land with it.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from algebra import poseidon
from circuits import API, Circuit, Public, Secret, compile_circuit, poseidon_hash
from prover import InsecureSetupWarning, dev_setup, prove, verifying_key
from verifier import verify


class PoseidonChain(Circuit):
    """out = H(H(...H(x, 0)..., k-2), k-1): k chained two-input Poseidon hashes."""

    out = Public()
    x = Secret()

    def __init__(self, k: int) -> None:
        self.k = k

    def define(self, api: API) -> None:
        h = self.x
        for i in range(self.k):
            h = poseidon_hash(api, [h, i], name=f"h{i}")
        api.assert_equal(h, self.out, name="out")


def _chain_native(x: int, k: int) -> int:
    for i in range(k):
        x = poseidon([x, i])
    return x


class _StageTimer:
    """Collects the prover's `on_stage` calls into seconds per stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._name = ""
        self._since = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        if self._name:
            self.seconds[self._name] += now - self._since
        self._name, self._since = name, now

    def finish(self) -> None:
        self("")


def run(hashes: list[int]) -> list[dict[str, float | int]]:
    rows = []
    for k in hashes:
        compiled = compile_circuit(PoseidonChain(k))
        witness = compiled.solve({"x": 12345, "out": _chain_native(12345, k)})
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureSetupWarning)
            pk = dev_setup(compiled.cs)
        setup_s = time.perf_counter() - t0
        timer = _StageTimer()
        t0 = time.perf_counter()
        proof, public = prove(pk, witness.values, on_stage=timer)
        prove_s = time.perf_counter() - t0
        timer.finish()
        vk = verifying_key(pk)
        t0 = time.perf_counter()
        ok = verify(vk, public, proof)
        verify_s = time.perf_counter() - t0
        if not ok:
            raise SystemExit(f"proof for k={k} did not verify")
        rows.append(
            {
                "hashes": k,
                "constraints": compiled.cs.n_constraints,
                "domain": pk.domain_size,
                "setup_s": setup_s,
                "prove_s": prove_s,
                "verify_s": verify_s,
                **{f"stage_{name.replace(' ', '_')}_s": v for name, v in timer.seconds.items()},
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hashes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/reference.json"))
    args = parser.parse_args()
    rows = run(args.hashes)
    table = Table(title="zkmargin reference prover (Python ints)")
    for col in (
        "constraints",
        "domain",
        "setup s",
        "prove s",
        "witness map s",
        "A s",
        "B G2 s",
        "B G1 s",
        "C s",
        "verify s",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            f"{r['constraints']:,}",
            f"{r['domain']:,}",
            f"{r['setup_s']:.2f}",
            f"{r['prove_s']:.2f}",
            f"{r.get('stage_witness_map_s', 0):.2f}",
            f"{r.get('stage_A_in_G1_s', 0):.2f}",
            f"{r.get('stage_B_in_G2_s', 0):.2f}",
            f"{r.get('stage_B_in_G1_s', 0):.2f}",
            f"{r.get('stage_C_in_G1_s', 0):.2f}",
            f"{r['verify_s']:.2f}",
        )
    Console(width=160).print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpu_count": __import__("os").cpu_count(),
    }
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
