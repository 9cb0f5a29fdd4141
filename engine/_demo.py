"""`zkmargin demo`: the whole path on embedded defaults, in a few seconds.

Builds the commitment-opening circuit, runs the (INSECURE) dev setup, solves a witness,
proves, verifies, and writes snarkjs's three files so that `snarkjs groth16 verify`
can check the same proof. Then runs the margin engine over the example accounts of
`engine/examples/` under the example snapshot: each account's verdict and its Poseidon
commitment (the public value the margin circuit will prove against).
"""

from __future__ import annotations

import secrets
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from circuits import CommitmentOpening, compile_circuit, poseidon
from prover import INSECURE_NOTICE, InsecureSetupWarning, dev_setup, prove, verifying_key
from verifier import verify

from ._cli_base import stages
from ._commitment import commit, random_salt
from ._examples import EXAMPLE_ACCOUNTS, load_example_account, load_example_snapshot
from ._margin import compute_margin

#: Embedded defaults: 5,000.000000 units of collateral (1e-6 units), claimed >= 1,000.
DEFAULT_VALUE = 5_000_000_000
DEFAULT_MINIMUM = 1_000_000_000
NOTICE_FILE = "SETUP_IS_INSECURE.txt"
_N_STAGES = 6  # compile, setup, witness, prove, verify, write


@dataclass(frozen=True)
class DemoResult:
    constraints: int
    setup_seconds: float
    prove_seconds: float
    verify_seconds: float
    valid: bool
    out_dir: Path


def run_demo(
    out_dir: Path, *, value: int = DEFAULT_VALUE, minimum: int = DEFAULT_MINIMUM, console: Console | None = None
) -> DemoResult:
    """Run the demo and write verification_key.json, proof.json and public.json to out_dir."""
    console = console or Console()
    out_dir.mkdir(parents=True, exist_ok=True)
    salt = secrets.randbelow(1 << 248)
    commitment = poseidon([value, salt])
    with stages(_N_STAGES, console, first="compile") as step:
        compiled = compile_circuit(CommitmentOpening(bits=64))
        step("setup (INSECURE dev setup)")
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureSetupWarning)  # said loudly below instead
            pk = dev_setup(compiled.cs)
        setup_s = time.perf_counter() - t0
        vk = verifying_key(pk)
        step("witness")
        witness = compiled.solve({"commitment": commitment, "minimum": minimum, "value": value, "salt": salt})
        step("prove")
        t0 = time.perf_counter()
        proof, public = prove(pk, witness.values)
        prove_s = time.perf_counter() - t0
        step("verify")
        t0 = time.perf_counter()
        valid = verify(vk, public, proof)
        verify_s = time.perf_counter() - t0
        step("write")
        vk.save(out_dir / "verification_key.json")  # carries the INSECURE notice
        proof.save(out_dir / "proof.json")
        public.save(out_dir / "public.json")
        (out_dir / NOTICE_FILE).write_text(
            INSECURE_NOTICE + ".\nThe keys in this folder come from zkmargin's dev setup.\n"
        )
        step("done")
    return DemoResult(compiled.cs.n_constraints, setup_s, prove_s, verify_s, valid, out_dir)


def print_summary(result: DemoResult, console: Console) -> None:
    table = Table(title="zkmargin demo", show_header=False)
    table.add_row("circuit", "Poseidon commitment opening, 64-bit range check")
    table.add_row("constraints", f"{result.constraints:,}")
    table.add_row("setup", f"{result.setup_seconds:.2f} s")
    table.add_row("prove", f"{result.prove_seconds:.2f} s")
    table.add_row("verify", f"{result.verify_seconds:.2f} s")
    table.add_row("files", str(result.out_dir))
    table.add_row("result", "[bold green]OK[/]" if result.valid else "[bold red]INVALID[/]")
    console.print(table)
    console.print(f"[bold yellow]WARNING:[/] {INSECURE_NOTICE}.")
    console.print(
        f"Check it with snarkjs: snarkjs groth16 verify {result.out_dir}/verification_key.json "
        f"{result.out_dir}/public.json {result.out_dir}/proof.json"
    )


def print_margin_examples(console: Console) -> None:
    """The margin engine on the example accounts: equity, requirements, verdict, commitment."""
    snapshot = load_example_snapshot()
    table = Table(title=f"margin engine: example accounts, epoch {snapshot.epoch} (quote units)")
    for col in ("account", "equity", "maintenance", "verdict", "commitment"):
        table.add_column(col, justify="right" if col in ("equity", "maintenance") else "left", no_wrap=True)
    for name in EXAMPLE_ACCOUNTS:
        account = load_example_account(name)
        report = compute_margin(account, snapshot)
        commitment = commit(account, snapshot, random_salt())
        table.add_row(
            name,
            f"{report.equity / 1e6:,.2f}",
            f"{report.maintenance_requirement / 1e6:,.2f}",
            "[green]healthy[/]" if report.healthy else "[bold red]liquidatable[/]",
            f"{str(commitment)[:10]}...",
        )
    console.print(table)
    console.print(f"snapshot hash: {snapshot.snapshot_hash()}")
    console.print(
        "One account's report: zkmargin margin engine/examples/healthy_cross.json "
        "--snapshot engine/examples/snapshot.json --table"
    )
