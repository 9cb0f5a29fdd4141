"""`zkmargin demo [OUT]`: one whole margin epoch on the example data.

1. The example snapshot (``engine/examples/snapshot.json``) and six accounts: the five
   examples (``liquidatable`` does not meet its maintenance requirement, the others
   do) plus ``healthy_cross`` again in portfolio margin mode. Each account's id is its
   example name; the accounts are written to ``OUT/accounts/<name>.json``.
2. Keys in ``OUT/keys/``: ``margin.r1cs``, ``margin.zkey``, ``verification_key.json``
   and ``SETUP_IS_INSECURE.txt``, from the **INSECURE** single-party dev setup (a minute
   or two for the ~56k-constraint example circuit). A ``margin.zkey`` already there
   that fits the circuit is reused, so a second run only proves.
3. A fresh ledger ``OUT/ledger.db`` (salts in ``OUT/salts/``) and one epoch
   (`run_epoch`): healthy accounts are proven on a small process pool, verified and
   appended; the unhealthy one is flagged with its commitment and no proof.
4. The snarkjs-compatible proof of every accepted account, from the ledger:
   ``OUT/proofs/<account>.proof.json`` and ``OUT/proofs/<account>.public.json``.
5. `audit_ledger` re-verifies every proof and the hash chain; then the epoch summary,
   the flagged accounts, and the commands that check the files independently.

`DemoResult.ok`: the audit is clean, every healthy account is proven and every
unhealthy one flagged.
"""

from __future__ import annotations

import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from circuits import CompiledCircuit, write_r1cs
from engine import (
    EXAMPLE_ACCOUNTS,
    Account,
    EpochSummary,
    MarketSnapshot,
    check_zkey_matches,
    compute_margin,
    load_example_account,
    load_example_snapshot,
    margin_circuit_for,
    meets,
    n_private_inputs,
    run_epoch,
    save_margin_circuit,
)
from ledger import AuditReport, Ledger, audit_ledger
from prover import INSECURE_NOTICE, InsecureSetupWarning, ZkeyFile, dev_setup, read_zkey, verifying_key, write_zkey

from ._base import EXIT_INVALID, _err, _out, _say, input_errors, reported_errors, stages
from ._epoch import epoch_progress, print_epoch_summary
from ._ledger import print_audit

NOTICE_FILE = "SETUP_IS_INSECURE.txt"
_DEV_STAGES = 6  # lagrange, A, B1, B2, C, H (dev_setup's on_stage calls)


@dataclass(frozen=True)
class DemoResult:
    out_dir: Path
    keys_reused: bool
    setup_seconds: float
    summary: EpochSummary
    audit: AuditReport
    expected: dict[str, str]  # account -> "proven" | "flagged", by the margin engine
    verdicts: dict[str, str]  # account -> the ledger's verdict
    proof_files: list[tuple[Path, Path]]  # (proof.json, public.json) per proven account

    @property
    def flagged(self) -> list[str]:
        return [a for a, v in self.verdicts.items() if v == "flagged"]

    @property
    def ok(self) -> bool:
        return self.audit.ok and self.verdicts == self.expected


def demo_accounts() -> dict[str, Account]:
    """The example accounts by name (each account's id set to its name), plus
    ``healthy_cross_portfolio``: healthy_cross in portfolio margin mode."""
    accounts = {name: load_example_account(name).model_copy(update={"id": name}) for name in EXAMPLE_ACCOUNTS}
    accounts["healthy_cross_portfolio"] = accounts["healthy_cross"].model_copy(
        update={"id": "healthy_cross_portfolio", "margin_mode": "portfolio"}
    )
    return accounts


def _reusable_key(keys: Path, circuit: CompiledCircuit) -> bool:
    zkey = keys / "margin.zkey"
    if not (zkey.is_file() and (keys / "verification_key.json").is_file()):
        return False
    unusable: tuple[type[Exception], ...] = (OSError, *input_errors())
    try:
        check_zkey_matches(read_zkey(zkey, copy_on_write=True), circuit, str(zkey))
    except unusable:  # unreadable, truncated or for another circuit: make a new one
        return False
    return True


def _dev_keys(keys: Path, circuit: CompiledCircuit) -> None:
    """The INSECURE dev setup, written like `zkmargin margin-setup --dev`."""
    keys.mkdir(parents=True, exist_ok=True)
    with stages(1 + _DEV_STAGES + 1, first="write margin.r1cs") as on_stage:
        write_r1cs(circuit.cs, keys / "margin.r1cs", n_prv_in=n_private_inputs(circuit))
        on_stage("setup (INSECURE dev setup)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureSetupWarning)  # said loudly by the caller instead
            pk = dev_setup(circuit.cs, on_stage=on_stage)
        on_stage("write margin.zkey")
        write_zkey(ZkeyFile.from_proving_key(pk), keys / "margin.zkey")
        verifying_key(pk).save(keys / "verification_key.json")  # carries the INSECURE notice
        notice = INSECURE_NOTICE + ".\nThe keys in this folder come from zkmargin's dev setup.\n"
        (keys / NOTICE_FILE).write_text(notice)


def _fresh_ledger(out_dir: Path) -> Path:
    ledger = out_dir / "ledger.db"
    for name in ("ledger.db", "ledger.db-wal", "ledger.db-shm"):
        (out_dir / name).unlink(missing_ok=True)
    for folder in ("salts", "proofs"):
        shutil.rmtree(out_dir / folder, ignore_errors=True)
    return ledger


def _run_epoch(
    accounts: list[Account], snapshot: MarketSnapshot, zkey: Path, db: Ledger, salts: Path, err: Console
) -> EpochSummary:
    with epoch_progress(err, snapshot.epoch) as (on_start, on_account):
        return run_epoch(
            accounts,
            snapshot,
            zkey,
            db,
            workers=None,
            salts_dir=salts,
            on_start=on_start,
            on_account=on_account,
        )


def _write_proofs(db: Ledger, epoch: int, folder: Path) -> list[tuple[Path, Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = db.connection.execute(
        "SELECT account, proof_json, public_json FROM proofs WHERE epoch = ? AND status = 'accepted' ORDER BY account",
        (epoch,),
    ).fetchall()
    written = []
    for account, proof_json, public_json in rows:
        proof, public = folder / f"{account}.proof.json", folder / f"{account}.public.json"
        proof.write_text(proof_json)
        public.write_text(public_json)
        written.append((proof, public))
    return written


def run_demo(out_dir: Path, *, console: Console | None = None, err: Console | None = None) -> DemoResult:
    """Run the demo into out_dir (module doc); progress bars and notices go to `err`."""
    console, err = console or Console(), err or _err
    out_dir.mkdir(parents=True, exist_ok=True)
    snapshot = load_example_snapshot()
    accounts = demo_accounts()
    (out_dir / "accounts").mkdir(exist_ok=True)
    for name, account in accounts.items():
        (out_dir / "accounts" / f"{name}.json").write_text(account.model_dump_json(indent=2) + "\n")
    print_margin_examples(console, snapshot, accounts)

    keys = out_dir / "keys"
    circuit = margin_circuit_for(snapshot)
    t0 = time.perf_counter()
    reused = _reusable_key(keys, circuit)
    if reused:
        _say(err, f"reusing the keys in {keys} (delete the folder for a new dev setup)", "green")
    else:
        _say(
            err,
            f"INSECURE dev setup of the margin circuit ({circuit.cs.n_constraints:,} constraints); "
            "this takes about 10 s on 2 cores",
            "bold yellow",
        )
        _dev_keys(keys, circuit)
        save_margin_circuit(snapshot, keys / "margin.zkey")  # provers load it instead of compiling
    setup_s = time.perf_counter() - t0

    ledger_path = _fresh_ledger(out_dir)
    with Ledger.open(ledger_path) as db:
        summary = _run_epoch(list(accounts.values()), snapshot, keys / "margin.zkey", db, out_dir / "salts", err)
        verdicts = {v.account: v.verdict for v in db.verdicts(summary.epoch)}
        proof_files = _write_proofs(db, summary.epoch, out_dir / "proofs")
        audit = audit_ledger(db)
    expected = {
        name: "proven" if meets(compute_margin(a, snapshot), "maintenance", 0) else "flagged"
        for name, a in accounts.items()
    }
    return DemoResult(out_dir, reused, setup_s, summary, audit, expected, verdicts, proof_files)


def print_demo_result(result: DemoResult, console: Console, err: Console | None = None) -> None:
    """The audit verdict, the epoch summary, the flagged accounts and how to check the files."""
    err = err or _err
    out = result.out_dir
    keys = "reused from an earlier run" if result.keys_reused else f"dev setup in {result.setup_seconds:.1f} s"
    console.print(f"keys: {out / 'keys'} ({keys})", highlight=False)
    print_epoch_summary(result.summary, console)
    for name in result.flagged:
        _say(console, f"flagged for liquidation: {name}", "yellow")
    print_audit(result.audit, console, err)
    for name, want in result.expected.items():
        if result.verdicts.get(name) != want:
            _say(console, f"UNEXPECTED: {name} is {result.verdicts.get(name, 'missing')}, expected {want}", "bold red")
    _say(console, f"WARNING: {INSECURE_NOTICE}.", "bold yellow")
    if result.proof_files:
        proof, public = result.proof_files[0]
        vk = out / "keys" / "verification_key.json"
        console.print(
            f"proofs: {out / 'proofs'}/<account>.proof.json and .public.json (snarkjs format). Check one:\n"
            f"  npx snarkjs groth16 verify {vk} {public} {proof}\n"
            f"  zkmargin groth16 verify {vk} {public} {proof}\n"
            f"Audit the ledger: zkmargin ledger audit {out / 'ledger.db'}",
            highlight=False,
            soft_wrap=True,
        )


def print_margin_examples(
    console: Console, snapshot: MarketSnapshot | None = None, accounts: dict[str, Account] | None = None
) -> None:
    """The margin engine on the demo's accounts: mode, equity, maintenance requirement, verdict."""
    snapshot = snapshot or load_example_snapshot()
    accounts = accounts or demo_accounts()
    table = Table(title=f"margin engine: example accounts, epoch {snapshot.epoch} (quote units)")
    for col in ("account", "mode", "equity", "maintenance", "verdict"):
        table.add_column(col, justify="right" if col in ("equity", "maintenance") else "left", no_wrap=True)
    for name, account in accounts.items():
        report = compute_margin(account, snapshot)
        table.add_row(
            name,
            account.margin_mode,
            f"{report.equity / 1e6:,.2f}",
            f"{report.maintenance_requirement / 1e6:,.2f}",
            "[green]healthy[/]" if report.healthy else "[bold red]liquidatable[/]",
        )
    console.print(table)
    console.print(f"snapshot hash: {snapshot.snapshot_hash()}", highlight=False, soft_wrap=True)


__all__ = ["NOTICE_FILE", "DemoResult", "demo_accounts", "print_demo_result", "print_margin_examples", "run_demo"]


def demo(
    out_dir: Annotated[
        Path, typer.Argument(help="Folder for the accounts, keys, ledger.db and the proofs (snarkjs format).")
    ] = Path("demo-out"),
) -> None:
    """One margin epoch on the example accounts: keys, proofs, ledger, audit (INSECURE dev setup).

    Exit 0 when the audit is clean, every healthy account is proven and the unhealthy
    one flagged; 1 otherwise. Keys already in <folder>/keys are reused.
    """
    with reported_errors():
        result = run_demo(out_dir, console=_out, err=_err)
    print_demo_result(result, _out, _err)
    if not result.ok:
        raise typer.Exit(EXIT_INVALID)
