"""`zkmargin bench`: throughput on the operator's own snapshot and hardware.

    zkmargin bench epoch --snapshot s.json [--accounts 48] [--workers 2 | --dask tcp://host:8786 | --dask-local N]
        [--out bench-epoch.json] [--plot p.png]
    zkmargin bench prove <circuit.zkey> <witness.wtns> [--runs 10] [--out bench-prove.json] [--plot p.png]

`bench epoch` proves an epoch of generated healthy accounts of the snapshot's shape
(INSECURE dev keys, made once and cached in --keys) through the whole epoch path into a
throwaway ledger (on the local pool, or on a Dask cluster to size a fleet of
workers); `bench prove` proves one witness --runs times with one loaded key.
Each prints proofs per second, seconds by stage and peak memory, writes JSON and, with
--plot, draws a PNG (matplotlib, installed with the dev extras).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from circuits import read_wtns_limbs
from engine import bench_epoch, bench_prove, load_snapshot

from ._base import _err, _out, _say, reported_errors
from ._epoch import DaskAddress, DaskLocal, TlsCa, TlsCert, TlsKey, cluster_of

_DEFAULT_KEYS = Path.home() / ".cache" / "zkmargin" / "bench-keys"


def _progress(what: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
    )


def _stage_table(title: str, stages: dict[str, float], unit: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("stage")
    table.add_column(unit, justify="right")
    for stage, seconds in stages.items():
        table.add_row(stage, f"{seconds * 1e3:.1f}")
    return table


def _save(result: dict[str, Any], out: Path, plot: Path | None, draw: Any) -> None:
    out.write_text(json.dumps(result, indent=1))
    if plot is not None:
        draw(result, plot)
    _say(_err, f"wrote {out}" + (f" and {plot}" if plot else ""), "green")


def bench_epoch_cmd(
    snapshot: Annotated[Path, typer.Option("--snapshot", "-s", help="snapshot.json: accounts take its shape.")],
    accounts: Annotated[int, typer.Option("--accounts", "-n", min=1, help="Generated healthy accounts.")] = 48,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Prover processes.")] = max(
        1, os.cpu_count() or 1
    ),
    keys: Annotated[Path, typer.Option("--keys", help="Cache folder of the dev keys.")] = _DEFAULT_KEYS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated accounts.")] = 0,
    out: Annotated[Path, typer.Option("--out", help="JSON result.")] = Path("bench-epoch.json"),
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw seconds per proof by stage.")] = None,
    dask: DaskAddress = None,
    dask_local: DaskLocal = 0,
    tls_ca: TlsCa = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
) -> None:
    """Prove an epoch of generated accounts of a snapshot's shape; print proofs/s by stage."""
    with reported_errors():
        cluster = cluster_of(dask, dask_local, 0, (tls_ca, tls_cert, tls_key), None, 30.0)
        where = f"{workers} workers" if cluster is None else f"Dask {dask or f'local, {dask_local} workers'}"
        snap = load_snapshot(snapshot)
        with _progress(f"epoch of {accounts} accounts, {where}") as progress:
            task = progress.add_task("accounts", total=accounts)
            result = bench_epoch(
                snap, accounts, workers, keys, seed=seed, on_account=lambda _o: progress.advance(task), dask=cluster
            )
    _out.print(
        _stage_table(
            f"seconds per proof by stage ({result.constraints:,} constraints)",
            result.stage_seconds_per_proof,
            "ms per proof",
        )
    )
    _say(
        _out,
        f"{result.proven} proofs in {result.seconds:.1f} s: {result.proofs_per_second:.2f} proofs/s end to end "
        f"on {where}; peak memory {result.peak_rss_mb:.0f} MiB",
        "bold",
    )
    _save(result.to_json(), out, plot, _draw_epoch)


def bench_prove_cmd(
    zkey: Annotated[Path, typer.Argument(help="circuit.zkey.")],
    witness: Annotated[Path, typer.Argument(help="witness.wtns.")],
    runs: Annotated[int, typer.Option("--runs", "-k", min=1, help="Proofs to make.")] = 10,
    out: Annotated[Path, typer.Option("--out", help="JSON result.")] = Path("bench-prove.json"),
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw each proof's time.")] = None,
) -> None:
    """Prove one witness --runs times with one loaded key; print proofs/s by stage."""
    with reported_errors():
        limbs = read_wtns_limbs(witness)
        with _progress(f"{runs} proofs") as progress:
            task = progress.add_task("proofs", total=runs)
            result = bench_prove(zkey, limbs, runs, on_proof=lambda _i: progress.advance(task))
    _out.print(_stage_table("median proof by stage", result.stage_seconds, "ms"))
    _say(
        _out,
        f"key loaded in {result.load_seconds:.2f} s; first proof {result.first_seconds:.3f} s, then "
        f"{result.median_seconds:.3f} s: {result.proofs_per_second:.2f} proofs/s; peak memory "
        f"{result.peak_rss_mb:.0f} MiB",
        "bold",
    )
    _save(result.to_json(), out, plot, _draw_prove)


def _draw_epoch(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = result["stage_seconds_per_proof"]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.barh(list(stages), [v * 1e3 for v in stages.values()])
    ax.set_xlabel("ms per proof")
    ax.set_title(
        f"{result['accounts']} accounts, {result['workers']} workers: {result['proofs_per_second']:.2f} proofs/s"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _draw_prove(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(range(1, len(result["times"]) + 1), result["times"], marker="o")
    ax.set_xlabel("proof")
    ax.set_ylabel("seconds")
    ax.set_title(f"{result['proofs_per_second']:.2f} proofs/s after the first")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
