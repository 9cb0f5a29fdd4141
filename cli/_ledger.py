"""`zkmargin ledger ...`: audit, show, submit (named or anonymous) and publish-root.

    zkmargin ledger audit <ledger.db> [--head <hex>] [--snapshots]
    zkmargin ledger show <ledger.db> [--epoch N]
    zkmargin ledger submit <ledger.db> --epoch N --account A --proof proof.json --public public.json
    zkmargin ledger submit <ledger.db> --epoch N --anonymous --proof proof.json --public public.json
    zkmargin ledger publish-root <ledger.db> --epoch N --verification-key anonymous_vk.json [--depth D]
    zkmargin ledger export-calls <ledger.db> --epoch N [--out calls.json] [--contract MarginLedger.sol] [--batch 16]

This module imports the ledger and the verifier only (not the prover, circuits or
engine): `zkmargin ledger audit` runs with the small verifier (`--snapshots` loads the
engine to tie each snapshot's JSON to its published encoding). `ledger audit` exits 0
when the ledger audits clean, 1 when it does not (each problem on one line, naming its
entry or damaged table), 2 when the file is not a ledger. `ledger submit` exits 0 for
PROVEN, 1 for REJECTED (a wrong proof, recorded; or a submission that could change
nothing, refused with its named reason and not recorded; an anonymous proof that does
not verify or whose nullifier is used is refused unrecorded), 2 for malformed files or
an unknown epoch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ledger import AppendRefusedError, AuditReport, Ledger, SnapshotCheck, audit_ledger_file
from verifier import Proof, PublicSignals, VerifyingKey

from ._base import EXIT_INVALID, _err, _fail, _out, _say, reported_errors


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


def ledger_audit(
    ledger: Annotated[Path, typer.Argument(help="The ledger to audit.")],
    head: Annotated[str | None, typer.Option("--head", help="The published head hash it must end at.")] = None,
    snapshots: Annotated[
        bool, typer.Option("--snapshots", help="Also re-encode each snapshot's JSON (loads the engine).")
    ] = False,
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
            check = _engine_snapshot_check() if snapshots else None
            report = audit_ledger_file(ledger, expected_head=head, on_proof=on_proof, snapshot_check=check)
    finally:
        progress.stop()
    print_audit(report, _out, _err)
    if not report.ok:
        raise typer.Exit(EXIT_INVALID)


def _engine_snapshot_check() -> SnapshotCheck:
    """The engine's tie of a snapshot JSON to its published encoding (loads the engine)."""
    from engine import snapshot_encoding_problem

    return snapshot_encoding_problem


def ledger_submit(
    ledger: Annotated[Path, typer.Argument(help="The ledger.")],
    epoch: Annotated[int, typer.Option("--epoch", "-e", help="The epoch the proof is for.")],
    proof: Annotated[Path, typer.Option("--proof", help="proof.json (snarkjs format).")],
    public: Annotated[Path, typer.Option("--public", help="public.json.")],
    account: Annotated[
        str | None, typer.Option("--account", "-a", help="The account whose commitment it proves.")
    ] = None,
    anonymous: Annotated[
        bool, typer.Option("--anonymous", help="An anonymous proof against the epoch's published root.")
    ] = False,
) -> None:
    """Submit a proof for a registered account of an open epoch: verified, then appended.

    Prints PROVEN (exit 0) or REJECTED with the reason (exit 1). A wrong proof for a
    registered account without a verdict is recorded; one that could change nothing (a
    closed epoch, an unregistered or already decided account, too many rejections) is
    refused unrecorded, naming the reason. Malformed files or an unknown epoch exit 2
    and write nothing.
    """
    if (account is None) != anonymous:
        _fail("give exactly one of --account A (a named proof) and --anonymous")
    with reported_errors(), Ledger.open(ledger, create=False) as db:
        try:
            proof_obj, public_obj = Proof.load(proof), PublicSignals.load(public)
            if account is None:
                outcome = db.submit_anonymous(epoch, proof_obj, public_obj)
            else:
                outcome = db.submit(epoch, account, proof_obj, public_obj)
        except AppendRefusedError as exc:
            _say(_out, f"REJECTED: {type(exc).__name__}: {exc} (nothing appended)", "bold red")
            raise typer.Exit(EXIT_INVALID) from None
    note = "" if outcome.new else " (already recorded: nothing appended)"
    if outcome.status == "proven":
        _say(_out, f"PROVEN: {outcome.account} in epoch {epoch}{note}", "bold green")
        return
    _say(_out, f"REJECTED: {outcome.reason}{note}", "bold red")
    raise typer.Exit(EXIT_INVALID)


def ledger_publish_root(
    ledger: Annotated[Path, typer.Argument(help="The ledger.")],
    epoch: Annotated[int, typer.Option("--epoch", "-e", help="The open epoch whose commitments it roots.")],
    verification_key: Annotated[
        Path, typer.Option("--verification-key", help="The anonymous margin circuit's verification_key.json.")
    ],
    depth: Annotated[
        int | None, typer.Option("--depth", min=1, help="Tree depth (default: the smallest that holds them).")
    ] = None,
) -> None:
    """Publish the Merkle root of an epoch's commitments for anonymous proofs.

    The epoch then takes no new commitment. Prints the root, depth and leaf count.
    """
    with reported_errors(), Ledger.open(ledger, create=False) as db:
        record = db.publish_root(epoch, VerifyingKey.load(verification_key), depth=depth)
    _say(
        _out,
        f"ROOT: epoch {record.epoch}: {record.merkle_root:#x} over {record.leaves} commitments, depth {record.depth}",
        "bold green",
    )


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
                ("closed" if s.closed else "open")
                + (", settled" if db.settlement(s.epoch) else "")
                + (", solvency round" if db.solvency(s.epoch) else ""),
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
            from ._settlement import print_settlement

            print_settlement(db, epoch)
            rnd = db.solvency(epoch)
            if rnd is not None:
                from ._solvency_audit import print_round

                print_round(rnd)
        _out.print(f"head: {db.head()[1]}", highlight=False)


__all__ = ["print_audit"]


def ledger_export_calls(
    ledger: Annotated[Path, typer.Argument(help="The ledger.")],
    epoch: Annotated[int, typer.Option("--epoch", help="The epoch to replay on chain.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the calls (JSON).")] = Path("calls.json"),
    contract: Annotated[
        Path | None, typer.Option("--contract", help="Also write MarginLedger.sol for the epoch's key here.")
    ] = None,
    batch: Annotated[int, typer.Option("--batch", help="Proofs per submitBatch call (1: one submit each).")] = 16,
) -> None:
    """Write the MarginLedger contract calls that replay an epoch on chain (and the contract).

    openEpoch, registerCommitments, the proven accounts' proofs in batches, closeEpoch
    when the epoch is closed: each call with its signature, arguments and ABI calldata.
    """
    import json
    from collections import Counter

    from ledger import calls_document, margin_ledger_contract

    with reported_errors(), Ledger.open(ledger, create=False) as db:
        document = calls_document(db, epoch, batch=batch)
        source = None if contract is None else margin_ledger_contract(db.epoch(epoch).verifying_key)
        out.write_text(json.dumps(document, indent=1) + "\n")  # both made before either is written
        if contract is not None and source is not None:
            contract.write_text(source)
    counts = Counter(call["function"].split("(")[0] for call in document["calls"])
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    _say(_out, f"epoch {epoch}: {len(document['calls'])} calls ({summary}) -> {out}", "")
    if contract is not None:
        _say(_err, f"wrote {contract}", "green")
