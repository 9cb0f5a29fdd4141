"""`zkmargin demo [OUT]`: two margin epochs on the example data, the second settled.

1. The example snapshot (``engine/examples/snapshot.json``) and seven accounts: the
   five examples (``liquidatable`` does not meet its maintenance requirement, the
   others do), ``healthy_cross`` again in portfolio margin mode, and ``house``, the
   venue's side of every trade (`counterparty_account`). Each account's id is its
   example name; the accounts are written to ``OUT/accounts/<name>.json``.
2. Keys in ``OUT/keys/``: ``margin.r1cs``, ``margin.zkey``, ``verification_key.json``,
   the transition circuit's ``transition.*`` and ``SETUP_IS_INSECURE.txt``, from the
   **INSECURE** single-party dev setup. Keys already there that fit their circuits are
   reused, so a second run only proves.
3. A fresh ledger ``OUT/ledger.db`` (salts in ``OUT/salts/``) and epoch 1
   (`run_epoch`): healthy accounts are proven, verified and appended; the unhealthy one
   is flagged with its commitment and no proof.
4. Epoch 2 (`example_next_snapshot`: prices 6% down, a funding interval, the dated markets
   expired), settled before its proofs (`--settle`): funding paid, futures and options
   cash-settled, ``liquidatable`` liquidated with the insurance fund (seeded with
   1,000,000 USDC) covering its bad debt; the settled accounts written to
   ``OUT/state/epoch-2/``, the facts and transitions recorded, the transitions of
   untouched accounts proven; then the settled accounts' margin proofs.
5. The snarkjs-compatible proof of every accepted account of epoch 2, from the ledger:
   ``OUT/proofs/<account>.proof.json`` and ``OUT/proofs/<account>.public.json``.
6. `audit_ledger` re-verifies every proof, the settlement and the hash chain; then the
   epochs' summaries, epoch 2's settlement facts, and the commands that check the
   files independently.

`DemoResult.ok`: the audit is clean, each epoch's verdicts are the engine's (healthy
proven, unhealthy flagged), and epoch 2's settlement liquidated ``liquidatable``.
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
    SettlementConfig,
    Settling,
    check_zkey_matches,
    compute_margin,
    counterparty_account,
    example_next_snapshot,
    load_example_account,
    load_example_snapshot,
    margin_circuit_for,
    meets,
    n_private_inputs,
    read_state,
    run_epoch,
    save_margin_circuit,
    save_transition_circuit,
    transition_circuit_for,
)
from ledger import AuditReport, Ledger, SettlementFacts, audit_ledger
from prover import INSECURE_NOTICE, InsecureSetupWarning, ZkeyFile, dev_setup, read_zkey, verifying_key, write_zkey

from ._base import EXIT_INVALID, _err, _out, _say, input_errors, reported_errors, stages
from ._epoch import epoch_progress, print_epoch_summary
from ._ledger import print_audit
from ._settlement import print_settlement

NOTICE_FILE = "SETUP_IS_INSECURE.txt"
_DEV_STAGES = 6  # lagrange, A, B1, B2, C, H (dev_setup's on_stage calls)
#: The insurance fund before the demo's first settlement: 1,000,000 USDC.
DEMO_FUND = 1_000_000 * 10**6


@dataclass(frozen=True)
class EpochOutcome:
    """One demo epoch: its summary, the engine's expected verdicts and the ledger's."""

    summary: EpochSummary
    expected: dict[str, str]  # account -> "proven" | "flagged", by the margin engine
    verdicts: dict[str, str]  # account -> the ledger's verdict

    @property
    def flagged(self) -> list[str]:
        return [a for a, v in self.verdicts.items() if v == "flagged"]


@dataclass(frozen=True)
class DemoResult:
    out_dir: Path
    keys_reused: bool
    setup_seconds: float
    epochs: tuple[EpochOutcome, EpochOutcome]
    settlement: SettlementFacts | None
    audit: AuditReport
    proof_files: list[tuple[Path, Path]]  # (proof.json, public.json) per proven account of epoch 2

    @property
    def ok(self) -> bool:
        liquidated = self.settlement is not None and "liquidatable" in [x.account for x in self.settlement.liquidations]
        return self.audit.ok and all(e.verdicts == e.expected for e in self.epochs) and liquidated


def demo_accounts(snapshot: MarketSnapshot | None = None) -> dict[str, Account]:
    """The example accounts by name (each account's id set to its name), plus
    ``healthy_cross_portfolio`` (healthy_cross in portfolio margin mode) and ``house``
    (the other side of their trades under `snapshot`, default the example's)."""
    accounts = {name: load_example_account(name).model_copy(update={"id": name}) for name in EXAMPLE_ACCOUNTS}
    accounts["healthy_cross_portfolio"] = accounts["healthy_cross"].model_copy(
        update={"id": "healthy_cross_portfolio", "margin_mode": "portfolio"}
    )
    accounts["house"] = counterparty_account(snapshot or load_example_snapshot(), list(accounts.values()))
    return accounts


#: Each key the demo makes: (file stem, its verification key's file name).
_KEYS = {"margin": "verification_key.json", "transition": "transition_verification_key.json"}


def _reusable_key(keys: Path, circuit: CompiledCircuit, stem: str = "margin") -> bool:
    zkey = keys / f"{stem}.zkey"
    if not (zkey.is_file() and (keys / _KEYS[stem]).is_file()):
        return False
    unusable: tuple[type[Exception], ...] = (OSError, *input_errors())
    try:
        check_zkey_matches(read_zkey(zkey, copy_on_write=True), circuit, str(zkey))
    except unusable:  # unreadable, truncated or for another circuit: make a new one
        return False
    return True


def _dev_keys(keys: Path, circuit: CompiledCircuit, stem: str = "margin") -> None:
    """The INSECURE dev setup, written like `zkmargin margin-setup --dev`."""
    keys.mkdir(parents=True, exist_ok=True)
    with stages(1 + _DEV_STAGES + 1, first=f"write {stem}.r1cs") as on_stage:
        write_r1cs(circuit.cs, keys / f"{stem}.r1cs", n_prv_in=n_private_inputs(circuit))
        on_stage("setup (INSECURE dev setup)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureSetupWarning)  # said loudly by the caller instead
            pk = dev_setup(circuit.cs, on_stage=on_stage)
        on_stage(f"write {stem}.zkey")
        write_zkey(ZkeyFile.from_proving_key(pk), keys / f"{stem}.zkey")
        verifying_key(pk).save(keys / _KEYS[stem])  # carries the INSECURE notice
        notice = INSECURE_NOTICE + ".\nThe keys in this folder come from zkmargin's dev setup.\n"
        (keys / NOTICE_FILE).write_text(notice)


def _fresh_ledger(out_dir: Path) -> Path:
    ledger = out_dir / "ledger.db"
    for name in ("ledger.db", "ledger.db-wal", "ledger.db-shm"):
        (out_dir / name).unlink(missing_ok=True)
    for folder in ("salts", "proofs", "state"):
        shutil.rmtree(out_dir / folder, ignore_errors=True)
    return ledger


def _run_epoch(
    accounts: list[Account],
    snapshot: MarketSnapshot,
    zkey: Path,
    db: Ledger,
    salts: Path,
    err: Console,
    settling: Settling | None = None,
) -> EpochOutcome:
    with epoch_progress(err, snapshot.epoch) as (on_start, on_account):
        summary = run_epoch(
            accounts,
            snapshot,
            zkey,
            db,
            workers=None,
            salts_dir=salts,
            on_start=on_start,
            on_account=on_account,
            settling=settling,
        )
    if settling is not None:  # the proofs are of the settled accounts
        accounts = read_state(settling.state_dir, snapshot.epoch) or []
    expected = {a.id: "proven" if meets(compute_margin(a, snapshot), "maintenance", 0) else "flagged" for a in accounts}
    verdicts = {v.account: v.verdict for v in db.verdicts(summary.epoch)}
    return EpochOutcome(summary, expected, verdicts)


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


def _keys(keys: Path, snapshot: MarketSnapshot, err: Console) -> bool:
    """The margin and transition keys, made by the dev setup unless usable ones are there;
    True when both were reused."""
    reused = True
    for stem, circuit in (("margin", margin_circuit_for(snapshot)), ("transition", transition_circuit_for(snapshot))):
        if _reusable_key(keys, circuit, stem):
            continue
        reused = False
        _say(err, f"INSECURE dev setup of the {stem} circuit ({circuit.cs.n_constraints:,} constraints)", "bold yellow")
        _dev_keys(keys, circuit, stem)
        save = save_margin_circuit if stem == "margin" else save_transition_circuit
        save(snapshot, keys / f"{stem}.zkey")  # provers load it instead of compiling
    if reused:
        _say(err, f"reusing the keys in {keys} (delete the folder for a new dev setup)", "green")
    return reused


def run_demo(out_dir: Path, *, console: Console | None = None, err: Console | None = None) -> DemoResult:
    """Run the demo into out_dir (module doc); progress bars and notices go to `err`."""
    console, err = console or Console(), err or _err
    out_dir.mkdir(parents=True, exist_ok=True)
    snapshot = load_example_snapshot()
    accounts = demo_accounts(snapshot)
    (out_dir / "accounts").mkdir(exist_ok=True)
    for name, account in accounts.items():
        (out_dir / "accounts" / f"{name}.json").write_text(account.model_dump_json(indent=2) + "\n")
    print_margin_examples(console, snapshot, accounts)

    keys = out_dir / "keys"
    t0 = time.perf_counter()
    reused = _keys(keys, snapshot, err)
    setup_s = time.perf_counter() - t0

    ledger_path = _fresh_ledger(out_dir)
    second = example_next_snapshot(snapshot)
    settling = Settling(SettlementConfig(counterparty="house"), keys / "transition.zkey", out_dir / "state", DEMO_FUND)
    with Ledger.open(ledger_path) as db:
        salts = out_dir / "salts"
        first = _run_epoch(list(accounts.values()), snapshot, keys / "margin.zkey", db, salts, err)
        settled = _run_epoch(list(accounts.values()), second, keys / "margin.zkey", db, salts, err, settling)
        facts = db.settlement(second.epoch)
        proof_files = _write_proofs(db, second.epoch, out_dir / "proofs")
        audit = audit_ledger(db)
    return DemoResult(out_dir, reused, setup_s, (first, settled), facts[0] if facts else None, audit, proof_files)


def print_demo_result(result: DemoResult, console: Console, err: Console | None = None) -> None:
    """The audit verdict, the epoch summary, the flagged accounts and how to check the files."""
    err = err or _err
    out = result.out_dir
    keys = "reused from an earlier run" if result.keys_reused else f"dev setup in {result.setup_seconds:.1f} s"
    console.print(f"keys: {out / 'keys'} ({keys})", highlight=False)
    for n, epoch in enumerate(result.epochs):
        if n == 1:
            with Ledger.open(out / "ledger.db", create=False) as db:
                print_settlement(db, epoch.summary.epoch, console)
        print_epoch_summary(epoch.summary, console)
        for name in epoch.flagged:
            _say(console, f"flagged for liquidation: {name}", "yellow")
        for name, want in epoch.expected.items():
            if epoch.verdicts.get(name) != want:
                got = epoch.verdicts.get(name, "missing")
                _say(console, f"UNEXPECTED: epoch {epoch.summary.epoch}: {name} is {got}, expected {want}", "bold red")
    print_audit(result.audit, console, err)
    if result.settlement is None or "liquidatable" not in [x.account for x in result.settlement.liquidations]:
        _say(console, "UNEXPECTED: epoch 2's settlement did not liquidate `liquidatable`", "bold red")
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


__all__ = [
    "NOTICE_FILE",
    "DemoResult",
    "EpochOutcome",
    "demo_accounts",
    "print_demo_result",
    "print_margin_examples",
    "run_demo",
]


def demo(
    out_dir: Annotated[
        Path, typer.Argument(help="Folder for the accounts, keys, ledger.db and the proofs (snarkjs format).")
    ] = Path("demo-out"),
) -> None:
    """Two margin epochs on the example accounts, the second settled (funding, expiry, a
    liquidation): keys, proofs, ledger, audit (INSECURE dev setup).

    Exit 0 when the audit is clean, each epoch's healthy accounts are proven and its
    unhealthy ones flagged, and epoch 2 liquidated `liquidatable`; 1 otherwise. Keys
    already in <folder>/keys are reused.
    """
    with reported_errors():
        result = run_demo(out_dir, console=_out, err=_err)
    print_demo_result(result, _out, _err)
    if not result.ok:
        raise typer.Exit(EXIT_INVALID)
