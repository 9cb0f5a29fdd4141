"""`zkmargin solvency`: the venue proves it owes its users no more than it holds; auditors
and users check it (`verify`, `inclusion`, `check-inclusion`: `cli._solvency_audit`).

    zkmargin solvency setup --snapshot <snapshot.json> --out-dir <dir> (--ptau <pot.ptau> | --dev)
        [--batch-size 32] [--depth 20]
    zkmargin solvency prove --ledger <ledger.db> --epoch N --accounts <dir> --reserves <reserves.json>
        --zkey <solvency.zkey> [--salts <dir>] [--workers W | --dask ADDR | --dask-local N]
    zkmargin solvency verify --ledger <ledger.db> --epoch N --verification-key <vk.json>
    zkmargin solvency inclusion --ledger <ledger.db> --epoch N --account A [--out inclusion.json]
    zkmargin solvency check-inclusion --ledger <ledger.db> --epoch N --account-file <a.json>
        --salt-file <salt> --verification-key <vk.json> [--inclusion inclusion.json]

`verify` and `check-inclusion` exit 0 with a table or OK, 1 with the first violation
named (INVALID: ...), 2 on bad input (ERROR: ...). `prove` records nothing unless the
round passes the same check (exit 2 naming the violation otherwise).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from circuits import DEFAULT_BATCH_SIZE, DEFAULT_DEPTH
from ledger import Ledger, Reserves

from ._base import _err, _out, _say, reported_errors
from ._epoch import DaskAddress, DaskLocal, TlsCa, TlsCert, TlsKey, cluster_of
from ._solvency_audit import EpochNumber, LedgerPath, print_round

SolvencyZkey = Annotated[Path, typer.Option("--zkey", "-k", help="solvency.zkey (`zkmargin solvency setup`).")]
BatchSize = Annotated[
    int, typer.Option("--batch-size", min=1, help="Accounts per batch proof (a power of two; the key's).")
]
Depth = Annotated[int, typer.Option("--depth", min=1, max=32, help="Depth of the commitment tree (the key's).")]


def solvency_setup(
    snapshot: Annotated[Path, typer.Option("--snapshot", "-s", help="snapshot.json: the circuit takes its shape.")],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help="Folder for solvency.r1cs, .zkey and its vk.")],
    ptau: Annotated[Path | None, typer.Option("--ptau", help="A powers-of-tau file prepared for phase 2.")] = None,
    dev: Annotated[bool, typer.Option("--dev", help="INSECURE single-party setup (tests and demos).")] = False,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    depth: Depth = DEFAULT_DEPTH,
) -> None:
    """Compile the solvency batch circuit for a snapshot's shape and make its keys."""
    from engine import load_snapshot, save_solvency_circuit, solvency_circuit_for
    from prover import read_ptau

    from ._setup import KeyFiles, check_setup_choice, report_keys, write_keys

    check_setup_choice(ptau, dev)
    start = time.perf_counter()
    files = KeyFiles(out_dir, "solvency.r1cs", "solvency.zkey", "solvency_verification_key.json")
    with reported_errors():
        snapshot_obj = load_snapshot(snapshot)
        ptau_file = read_ptau(ptau) if ptau is not None else None
        circuit = solvency_circuit_for(snapshot_obj, batch_size, depth)
        key = write_keys(circuit, files, ptau_file)
        save_solvency_circuit(snapshot_obj, batch_size, depth, files.path(files.zkey))
    cs = circuit.cs
    _say(
        _out,
        f"solvency circuit: {batch_size} accounts a batch, a tree of depth {depth} (up to {2**depth:,} accounts), "
        f"{cs.n_constraints:,} constraints, {cs.n_public} public",
        "",
    )
    report_keys(files, key, ptau_file is not None, time.perf_counter() - start)


def solvency_prove(
    ledger: LedgerPath,
    epoch: EpochNumber,
    accounts: Annotated[Path, typer.Option("--accounts", "-a", help="Folder of the accounts' JSON files.")],
    reserves: Annotated[Path, typer.Option("--reserves", "-r", help="reserves.json: what the venue holds.")],
    zkey: SolvencyZkey,
    salts: Annotated[
        Path | None, typer.Option("--salts", help="The epoch's salts folder (default <ledger>.salts).")
    ] = None,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    depth: Depth = DEFAULT_DEPTH,
    workers: Annotated[int, typer.Option("--workers", "-w", min=0, help="Prover processes (0 or 1: this one).")] = 1,
    dask: DaskAddress = None,
    dask_local: DaskLocal = 0,
    tls_ca: TlsCa = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
) -> None:
    """Prove every registered account of a closed epoch in batches and record the round."""
    from engine import load_accounts, prove_solvency

    with reported_errors():
        cluster = cluster_of(dask, dask_local, workers if workers > 1 else 0, (tls_ca, tls_cert, tls_key), None, 30.0)
        reserves_obj = Reserves.load(reserves)
        accounts_list = load_accounts(accounts)
        with Ledger.open(ledger, create=False) as db, _batch_progress(epoch) as (on_start, on_batch):
            summary = prove_solvency(
                db, epoch, accounts_list, zkey, reserves_obj, batch_size=batch_size, depth=depth,
                salts_dir=salts, workers=max(1, workers), dask=cluster, on_start=on_start, on_batch=on_batch,
            )  # fmt: skip
    _say(
        _out,
        f"epoch {epoch}: {summary.accounts} accounts in {summary.batches} batches, proven in "
        f"{summary.prove_seconds:.1f} s ({summary.accounts_per_second:.1f} accounts/s), recorded",
        "",
    )
    print_round(summary.round)


@contextmanager
def _batch_progress(epoch: int) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """A rich progress bar over a round's batches: yields `prove_solvency`'s (on_start, on_batch)."""
    with Progress(
        TextColumn(f"[bold]solvency, epoch {epoch}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_err,
        transient=True,
    ) as progress:
        task = progress.add_task("batches", total=None)
        yield (lambda n: progress.update(task, total=n)), (lambda _i: progress.update(task, advance=1))
