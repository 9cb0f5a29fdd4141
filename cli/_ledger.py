"""`zkmargin epoch run`, `zkmargin ledger audit` and `zkmargin ledger show`.

    zkmargin epoch run --accounts <dir> --snapshot <snapshot.json> --ledger <ledger.db> --zkey <margin.zkey>
    zkmargin ledger audit <ledger.db> [--head <hex>]
    zkmargin ledger show <ledger.db> [--epoch N]
    zkmargin ledger submit <ledger.db> --epoch N --account A --proof proof.json --public public.json

`epoch run` exits 0 when the epoch ran (flagged accounts are a result, not an error),
2 on bad input (nothing written). `ledger audit` exits 0 when the ledger audits clean,
1 when it does not (each problem on one line, naming its entry or damaged table), 2
when the file is not a ledger. `ledger submit` exits 0 for PROVEN, 1 for REJECTED (a
wrong proof, recorded; or a submission that could change nothing, refused with its
named reason and not recorded), 2 for malformed files or an unknown epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from engine import (
    POOL_MIN_PROOFS,
    AppendRefusedError,
    AuditReport,
    EpochSummary,
    Ledger,
    Outcome,
    audit_ledger_file,
    load_accounts,
    load_snapshot,
    run_epoch,
)
from verifier import Proof, PublicSignals

from ._base import EXIT_INVALID, RequirementChoice, _err, _fail, _out, _say, reported_errors


@contextmanager
def epoch_progress(
    console: Console, epoch: int
) -> Iterator[tuple[Callable[[int, int], None], Callable[[Outcome], None]]]:
    """A rich progress bar over an epoch's accounts: yields `run_epoch`'s (on_start, on_account)."""
    with Progress(
        TextColumn("[bold]epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("accounts", total=None, epoch=epoch, last="loading keys")

        def on_start(total: int, skipped: int) -> None:
            progress.update(task, total=total, last=f"{skipped} already recorded" if skipped else "proving")

        def on_account(outcome: Outcome) -> None:
            progress.update(task, advance=1, last=f"{outcome.account}: {outcome.status}")

        yield on_start, on_account


def print_epoch_summary(summary: EpochSummary, console: Console) -> None:
    """The epoch summary table: accounts, healthy (proven), flagged, proofs/s."""
    table = Table(title=f"epoch {summary.epoch}" + ("" if summary.closed else " (open)"), title_justify="left")
    for col in ("accounts", "healthy (proven)", "flagged", "rejected proofs", "proved now", "proofs/s", "seconds"):
        table.add_column(col, justify="right")
    table.add_row(
        str(summary.accounts),
        str(summary.proven),
        str(summary.flagged),
        str(summary.rejected),
        str(summary.proved_now) + (f" ({summary.skipped} already recorded)" if summary.skipped else ""),
        f"{summary.proofs_per_second:.2f}" if summary.proved_now else "-",
        f"{summary.seconds:.1f}",
    )
    console.print(table)
    console.print(f"ledger head: {summary.head}", highlight=False)


def print_audit(report: AuditReport, console: Console, err: Console) -> None:
    if report.ok:
        _say(
            console,
            f"AUDIT OK: {report.entries} entries, {report.epochs} epochs, {report.proofs_verified} proofs re-verified; "
            f"head {report.head}",
            "bold green",
        )
        return
    for p in report.problems:
        _say(err, f"  {p}", "red")
    _say(console, f"AUDIT FAILED: {len(report.problems)} problem(s); first: {report.problems[0]}", "bold red")


def epoch_run(
    accounts: Annotated[Path, typer.Option("--accounts", "-a", help="Folder of account JSON files (*.json).")],
    snapshot: Annotated[Path, typer.Option("--snapshot", "-s", help="The epoch's snapshot.json.")],
    ledger: Annotated[Path, typer.Option("--ledger", "-l", help="The ledger (SQLite, created if missing).")],
    zkey: Annotated[Path, typer.Option("--zkey", "-k", help="margin.zkey for the snapshot's shape.")],
    requirement: Annotated[
        RequirementChoice, typer.Option("--requirement", "-r", help="The requirement every account must meet.")
    ] = RequirementChoice.maintenance,
    max_margin_ratio_ppm: Annotated[
        int, typer.Option("--max-margin-ratio-ppm", min=0, max=2**64 - 1, help="Also prove ratio <= N ppm.")
    ] = 0,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            min=0,
            help=f"Prover processes (1: this process; 0: one per core from {POOL_MIN_PROOFS} proofs on, else 1).",
        ),
    ] = 0,
    salts: Annotated[
        Path | None, typer.Option("--salts", help="Folder for the commitments' salts (default <ledger>.salts).")
    ] = None,
    keep_open: Annotated[bool, typer.Option("--keep-open", help="Do not close the epoch.")] = False,
) -> None:
    """Prove every account of an epoch, verify, append to the ledger, close the epoch.

    Accounts that do not meet the requirement are flagged (no proof is made). A rerun
    after a crash skips accounts already recorded and completes the epoch.
    """
    with reported_errors():
        accounts_list = load_accounts(accounts)
        snapshot_obj = load_snapshot(snapshot)
        with Ledger.open(ledger) as db, epoch_progress(_err, snapshot_obj.epoch) as (on_start, on_account):
            summary = run_epoch(
                accounts_list,
                snapshot_obj,
                zkey,
                db,
                requirement=requirement.value,
                max_margin_ratio_ppm=max_margin_ratio_ppm,
                workers=workers or None,
                salts_dir=salts,
                close=not keep_open,
                on_start=on_start,
                on_account=on_account,
            )
            flagged = [v for v in db.verdicts(summary.epoch) if v.verdict == "flagged"]
    print_epoch_summary(summary, _out)
    for v in flagged:
        _say(_out, f"flagged for liquidation: {v.account} ({v.reason})", "yellow")


def ledger_audit(
    ledger: Annotated[Path, typer.Argument(help="The ledger to audit.")],
    head: Annotated[str | None, typer.Option("--head", help="The published head hash it must end at.")] = None,
) -> None:
    """Re-verify every proof and check the hash chain and every row. Exit 0 clean, 1 not."""
    # The bar appears with the first proof, so a file that is no ledger prints one line.
    progress = Progress(
        TextColumn("[bold]re-verifying proofs"), BarColumn(), MofNCompleteColumn(), console=_err, transient=True
    )
    task = progress.add_task("proofs", total=None)

    def on_proof(done: int, total: int) -> None:
        if not progress.live.is_started:
            progress.start()
        progress.update(task, completed=done, total=total)

    try:
        with reported_errors():
            report = audit_ledger_file(ledger, expected_head=head, on_proof=on_proof)
    finally:
        progress.stop()
    print_audit(report, _out, _err)
    if not report.ok:
        raise typer.Exit(EXIT_INVALID)


def ledger_submit(
    ledger: Annotated[Path, typer.Argument(help="The ledger.")],
    epoch: Annotated[int, typer.Option("--epoch", "-e", help="The epoch the proof is for.")],
    account: Annotated[str, typer.Option("--account", "-a", help="The account whose commitment it proves.")],
    proof: Annotated[Path, typer.Option("--proof", help="proof.json (snarkjs format).")],
    public: Annotated[Path, typer.Option("--public", help="public.json.")],
) -> None:
    """Submit a proof for a registered account of an open epoch: verified, then appended.

    Prints PROVEN (exit 0) or REJECTED with the reason (exit 1). A wrong proof for a
    registered account without a verdict is recorded; one that could change nothing (a
    closed epoch, an unregistered or already decided account, too many rejections) is
    refused unrecorded, naming the reason. Malformed files or an unknown epoch exit 2
    and write nothing.
    """
    with reported_errors(), Ledger.open(ledger, create=False) as db:
        try:
            outcome = db.submit(epoch, account, Proof.load(proof), PublicSignals.load(public))
        except AppendRefusedError as exc:
            _say(_out, f"REJECTED: {type(exc).__name__}: {exc} (nothing appended)", "bold red")
            raise typer.Exit(EXIT_INVALID) from None
    note = "" if outcome.new else " (already recorded: nothing appended)"
    if outcome.status == "proven":
        _say(_out, f"PROVEN: {account} in epoch {epoch}{note}", "bold green")
        return
    _say(_out, f"REJECTED: {outcome.reason}{note}", "bold red")
    raise typer.Exit(EXIT_INVALID)


def ledger_show(
    ledger: Annotated[Path, typer.Argument(help="The ledger to show.")],
    epoch: Annotated[int | None, typer.Option("--epoch", "-e", help="List this epoch's accounts.")] = None,
) -> None:
    """List the epochs (and with --epoch, that epoch's accounts and verdicts)."""
    with reported_errors(), Ledger.open(ledger, create=False) as db:
        stats = db.epochs()
        table = Table(title=f"{ledger}: {db.head()[0]} entries", title_justify="left")
        for col in ("epoch", "snapshot hash", "accounts", "proven", "flagged", "rejected proofs", "state"):
            table.add_column(col, justify="right" if col not in ("snapshot hash", "state") else "left")
        for s in stats:
            table.add_row(
                str(s.epoch),
                f"{s.snapshot_hash:#x}"[:18] + "...",
                str(s.accounts),
                str(s.proven),
                str(s.flagged),
                str(s.rejected_proofs),
                "closed" if s.closed else "open",
            )
        _out.print(table)
        if epoch is not None:
            verdicts = db.verdicts(epoch)
            if not any(s.epoch == epoch for s in stats):
                _fail(f"UnknownEpochError: epoch {epoch} is not in the ledger")
            acc = Table(title=f"epoch {epoch}", title_justify="left")
            for col in ("account", "commitment", "verdict", "reason", "entry"):
                acc.add_column(col)
            for v in verdicts:
                style = {"proven": "green", "flagged": "red"}.get(v.verdict, "yellow")
                acc.add_row(v.account, f"{v.commitment:#x}"[:18] + "...", f"[{style}]{v.verdict}", v.reason, str(v.seq))
            _out.print(acc)
        _out.print(f"head: {db.head()[1]}", highlight=False)


__all__ = ["epoch_progress", "print_audit", "print_epoch_summary"]
