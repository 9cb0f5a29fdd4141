"""`zkmargin epoch run`: prove every account of an epoch, verify, append, close.

    zkmargin epoch run --accounts <dir> --snapshot <snapshot.json> --ledger <ledger.db> --zkey <margin.zkey>
        [--workers W | --dask tcp://host:8786 | --dask-local N] [--tls-ca ca.pem --tls-cert c.pem --tls-key k.pem]
        [--settle settlement.json --transition-zkey transition.zkey [--state <dir>] [--insurance-fund N]]

With --settle, the accounts are settled first (funding, expiry, liquidation: the
config names the counterparty and the liquidation parameters), written as the next
version of the account state (<state>/epoch-N/, default <ledger>.accounts), and the
margin proofs are made of the settled accounts; the transitions of accounts nothing
else touched are proven (`engine._settle_stage`).

Exits 0 when the epoch ran (flagged accounts are a result, not an error), 2 on bad
input (nothing written) or a Dask cluster that cannot be reached or goes away (a rerun
completes the epoch).
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
    ClusterError,
    DaskCluster,
    EpochSummary,
    MalformedInputError,
    SettlementConfig,
    Settling,
    TlsFiles,
    load_accounts,
    load_snapshot,
    run_epoch,
)
from ledger import Ledger, Outcome

from ._base import RequirementChoice, _err, _out, _say, reported_errors
from ._settlement import print_settlement

#: The Dask options of `epoch run` and `bench epoch` (turned into a cluster by `cluster_of`).
DaskAddress = Annotated[
    str | None, typer.Option("--dask", help="Prove on the Dask scheduler at this address (tcp:// or tls://).")
]
DaskLocal = Annotated[
    int, typer.Option("--dask-local", min=0, help="Prove on a local Dask cluster of N worker processes.")
]
TlsCa = Annotated[Path | None, typer.Option("--tls-ca", help="Dask TLS: the CA certificate (PEM).")]
TlsCert = Annotated[Path | None, typer.Option("--tls-cert", help="Dask TLS: this client's certificate.")]
TlsKey = Annotated[Path | None, typer.Option("--tls-key", help="Dask TLS: this client's private key.")]


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
    dask: DaskAddress = None,
    dask_local: DaskLocal = 0,
    tls_ca: TlsCa = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    dask_timeout: Annotated[
        float,
        typer.Option(
            "--dask-timeout",
            min=0.1,
            help="Seconds to wait for the Dask scheduler (to connect or reconnect) before exit 2.",
        ),
    ] = 30.0,
    ship_key: Annotated[
        bool | None,
        typer.Option(
            "--ship-key/--shared-key",
            help="Send the proving key to the Dask workers / they read it at the same path (default: ship "
            "only when a worker lacks the file).",
        ),
    ] = None,
    settle: Annotated[
        Path | None,
        typer.Option("--settle", help="Settle first, with this config (JSON: counterparty, liquidation parameters)."),
    ] = None,
    transition_zkey: Annotated[
        Path | None, typer.Option("--transition-zkey", help="transition.zkey (`zkmargin settlement setup`).")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="Folder of the versioned account state (default <ledger>.accounts)."),
    ] = None,
    insurance_fund: Annotated[
        int | None,
        typer.Option("--insurance-fund", min=0, help="Micro-quote in the fund before the ledger's first settlement."),
    ] = None,
) -> None:
    """Prove every account of an epoch, verify, append to the ledger, close the epoch.

    Accounts that do not meet the requirement are flagged (no proof is made). A rerun
    after a crash skips accounts already recorded and completes the epoch.
    """
    with reported_errors():
        cluster = cluster_of(dask, dask_local, workers, (tls_ca, tls_cert, tls_key), ship_key, dask_timeout)
        settling = settling_of(
            settle, transition_zkey, state or ledger.with_name(ledger.name + ".accounts"), insurance_fund
        )
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
                dask=cluster,
                settling=settling,
            )
            flagged = [v for v in db.verdicts(summary.epoch) if v.verdict == "flagged"]
            if settling is not None:
                print_settlement(db, summary.epoch)
    print_epoch_summary(summary, _out)
    for v in flagged:
        _say(_out, f"flagged for liquidation: {v.account} ({v.reason})", "yellow")


def settling_of(config: Path | None, zkey: Path | None, state: Path, fund: int | None) -> Settling | None:
    """The settlement the flags ask for, or None (no --settle)."""
    if config is None:
        if zkey is not None or fund is not None:
            raise MalformedInputError("--transition-zkey and --insurance-fund go with --settle")
        return None
    if zkey is None:
        raise MalformedInputError("--settle needs the transition key: --transition-zkey (`zkmargin settlement setup`)")
    return Settling(SettlementConfig.load(config), zkey, state, fund)


def cluster_of(
    address: str | None,
    local: int,
    workers: int,
    tls: tuple[Path | None, Path | None, Path | None],
    ship_key: bool | None,
    timeout: float,
) -> DaskCluster | None:
    """The Dask cluster the flags name, or None (this process or the local pool)."""
    if address is None and not local:
        if any(tls) or ship_key is not None:
            raise ClusterError("--tls-* and --ship-key/--shared-key go with --dask or --dask-local")
        return None
    if workers:
        raise ClusterError("--workers is for the local pool: give it or --dask / --dask-local, not both")
    files = None
    if any(tls):
        if not all(tls):
            raise ClusterError("Dask TLS needs all of --tls-ca, --tls-cert and --tls-key")
        ca, cert, key = (Path(t) for t in tls if t is not None)
        files = TlsFiles(ca, cert, key)
    return DaskCluster(
        address=address,
        local_workers=local,
        tls=files,
        ship_key=ship_key,
        timeout=timeout,
        on_dashboard=lambda link: _say(_err, f"Dask dashboard: {link}", ""),
    )


__all__ = [
    "DaskAddress",
    "DaskLocal",
    "TlsCa",
    "TlsCert",
    "TlsKey",
    "cluster_of",
    "epoch_progress",
    "print_epoch_summary",
]
