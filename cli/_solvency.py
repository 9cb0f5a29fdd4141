"""`zkmargin solvency`: the venue proves it owes its users no more than it holds; auditors
and users check it.

    zkmargin solvency setup --snapshot <snapshot.json> --out-dir <dir> (--ptau <pot.ptau> | --dev)
        [--batch-size 16] [--depth 20]
    zkmargin solvency prove --ledger <ledger.db> --epoch N --accounts <dir> --reserves <reserves.json>
        --zkey <solvency.zkey> [--salts <dir>] [--workers W | --dask ADDR | --dask-local N]
    zkmargin solvency verify --ledger <ledger.db> --epoch N [--verification-key <vk.json>]
    zkmargin solvency inclusion --ledger <ledger.db> --epoch N --account A [--out inclusion.json]
    zkmargin solvency check-inclusion --ledger <ledger.db> --epoch N --account-file <a.json>
        --salt-file <salt> [--inclusion inclusion.json]

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
from rich.table import Table

from ledger import Inclusion, Ledger, Reserves, SolvencyRound, UnknownEpochError, inclusion_of, inclusion_problem
from verifier import VerifyingKey

from ._base import EXIT_INVALID, _err, _fail, _out, _say, reported_errors
from ._epoch import DaskAddress, DaskLocal, TlsCa, TlsCert, TlsKey, cluster_of

SolvencyZkey = Annotated[Path, typer.Option("--zkey", "-k", help="solvency.zkey (`zkmargin solvency setup`).")]
BatchSize = Annotated[
    int, typer.Option("--batch-size", min=1, help="Accounts per batch proof (a power of two; the key's).")
]
Depth = Annotated[int, typer.Option("--depth", min=1, max=32, help="Depth of the commitment tree (the key's).")]
LedgerPath = Annotated[Path, typer.Option("--ledger", "-l", help="The ledger (SQLite).")]
EpochNumber = Annotated[int, typer.Option("--epoch", "-e", min=0, help="The epoch.")]


def solvency_setup(
    snapshot: Annotated[Path, typer.Option("--snapshot", "-s", help="snapshot.json: the circuit takes its shape.")],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help="Folder for solvency.r1cs, .zkey and its vk.")],
    ptau: Annotated[Path | None, typer.Option("--ptau", help="A powers-of-tau file prepared for phase 2.")] = None,
    dev: Annotated[bool, typer.Option("--dev", help="INSECURE single-party setup (tests and demos).")] = False,
    batch_size: BatchSize = 16,
    depth: Depth = 20,
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
    batch_size: BatchSize = 16,
    depth: Depth = 20,
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


def solvency_verify(
    ledger: LedgerPath,
    epoch: EpochNumber,
    verification_key: Annotated[
        Path | None, typer.Option("--verification-key", help="The published solvency key: the round must use it.")
    ] = None,
) -> None:
    """Check the epoch's solvency round: the tree, the chain of batches, every proof (one
    batch verification), zero net positions, reserves and insurance fund."""
    with reported_errors(), Ledger.open(ledger, create=False) as db:
        rnd = _round(db, epoch)
        problem = None
        if verification_key is not None and not _same_key(VerifyingKey.from_json(verification_key.read_text()), rnd):
            problem = f"the round's verification key is not the published {verification_key}"
        problem = problem or db.solvency_problem(rnd)
    print_round(rnd)
    if problem is not None:
        _say(_out, f"INVALID: {problem}", "bold red")
        raise typer.Exit(EXIT_INVALID)
    _say(_out, f"SOLVENT: {rnd.accounts} accounts in {len(rnd.batches)} verified batches", "bold green")


def solvency_inclusion(
    ledger: LedgerPath,
    epoch: EpochNumber,
    account: Annotated[str, typer.Option("--account", "-a", help="The account id.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the inclusion proof here (else stdout).")
    ] = None,
) -> None:
    """An account's leaf index and Merkle path in the epoch's solvency round."""
    with reported_errors(), Ledger.open(ledger, create=False) as db:
        inclusion = inclusion_of(db.registered(epoch), _round(db, epoch), account)
        if out is None:
            print(inclusion.to_json())
        else:
            out.write_text(inclusion.to_json() + "\n")
            _say(_err, f"wrote {out}: leaf {inclusion.index} of {inclusion.accounts}", "green")


def solvency_check_inclusion(
    ledger: LedgerPath,
    epoch: EpochNumber,
    account_file: Annotated[Path, typer.Option("--account-file", help="Your account JSON, as the venue holds it.")],
    salt_file: Annotated[Path, typer.Option("--salt-file", help="Your commitment's salt for this epoch.")],
    inclusion: Annotated[
        Path | None, typer.Option("--inclusion", help="The inclusion proof you were given (else computed here).")
    ] = None,
) -> None:
    """Recompute your commitment from your own account file and salt and check that the
    epoch's verified solvency round counts it (a leaf of its root, inside its range)."""
    from engine import commit, load_account, read_salt_file
    from engine._models import MarketSnapshot

    with reported_errors(), Ledger.open(ledger, create=False) as db:
        rnd = _round(db, epoch)
        snapshot = MarketSnapshot.model_validate_json(db.epoch(epoch).snapshot_json)
        account = load_account(account_file)
        commitment = commit(account, snapshot, read_salt_file(salt_file))
        if inclusion is None:
            proof = inclusion_of(db.registered(epoch), rnd, account.id)
        else:
            try:
                proof = Inclusion.from_json(inclusion.read_bytes())
            except ValueError as exc:
                _fail(f"{inclusion}: {exc}")
        problem = inclusion_problem(proof, commitment, rnd)
        if problem is None and (round_problem := db.solvency_problem(rnd)) is not None:
            problem = f"the round itself: {round_problem}"
    if problem is not None:
        _say(_out, f"INVALID: {problem}", "bold red")
        raise typer.Exit(EXIT_INVALID)
    _say(
        _out,
        f"OK: {account.id} is leaf {proof.index} of the {rnd.accounts} accounts of epoch {epoch}'s verified "
        f"solvency round (root {rnd.merkle_root:#x})",
        "bold green",
    )


def _same_key(vk: VerifyingKey, rnd: SolvencyRound) -> bool:
    """The same key material (a dev key's notice aside)."""
    keep = {"setup_notice"}
    return vk.model_dump(exclude=keep) == rnd.verifying_key.model_dump(exclude=keep)


def _round(db: Ledger, epoch: int) -> SolvencyRound:
    rnd = db.solvency(epoch)
    if rnd is None:
        db.epoch(epoch)  # UnknownEpochError first
        raise UnknownEpochError(f"epoch {epoch} has no solvency round (run `zkmargin solvency prove`)")
    return rnd


def print_round(rnd: SolvencyRound) -> None:
    """The round's liabilities beside the reserves, in a table."""
    t, r = rnd.totals, rnd.reserves
    table = Table(title=f"epoch {rnd.epoch}: solvency ({rnd.accounts} accounts)", title_justify="left")
    for col in ("liability", "owed to users", "held", "margin"):
        table.add_column(col, justify="right" if col != "liability" else "left")
    for symbol, owed in t.collateral:
        held = r.assets.get(symbol, 0)
        table.add_row(f"{symbol} (quantums)", f"{owed:,}", f"{held:,}", f"{held - owed:,}")
    table.add_row("quote (micro)", f"{t.quote_liability:,}", f"{r.quote:,}", f"{r.quote - t.quote_liability:,}")
    fund = r.insurance_fund
    table.add_row("bad debt (micro)", f"{t.bad_debt_quote:,}", f"{fund:,} (fund)", f"{fund - t.bad_debt_quote:,}")
    _out.print(table)
    nonzero = [f"{m} {n:+,}" for m, n in t.net if n]
    _say(_out, "net positions: " + (", ".join(nonzero) if nonzero else f"all {len(t.net)} markets zero"), "")


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
