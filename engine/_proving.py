"""Where proofs are made, for every circuit: this process, a local process pool, or a
Dask cluster (`engine._dask`).

A `Recipe` is what a prover process needs to build its context once (small and
picklable: the snapshot's JSON and the statement, never the key, which each process maps
from its path); the context's `prove(item, timings)` turns one work item (an epoch's
`Claim`, a solvency `SolvencyBatchJob`) into a proof. The parent process sends items,
receives (proof JSON, public JSON, stage seconds) and stays the only writer.

    prove_on_pool(MarginRecipe(...), zkey, claims, on_result, on_arrival, workers=2)
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from verifier import Proof, PublicSignals

if TYPE_CHECKING:
    from circuits import CompiledCircuit
    from prover import Prover

#: One proof's result as it crosses processes: proof JSON, public JSON, seconds by stage.
Result = tuple[str, str, dict[str, float]]
#: A proof as it reaches the parent: a Result from another process, the models
#: themselves from this one (`prove_where` proving here).
Arrival = tuple[Proof | str, PublicSignals | str, dict[str, float]]


class ProvingContext(Protocol):
    """A prover process's context: everything shared by its proofs, built once."""

    def prove(self, item: Any, timings: dict[str, float] | None = None) -> tuple[Proof, PublicSignals]: ...


class Recipe(Protocol):
    """How a prover process builds its context from the key's path (module doc)."""

    def context(self, zkey: str, threads: int) -> ProvingContext: ...


def set_threads(threads: int) -> None:
    """numba's threads in this process, at most what it has."""
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]


def add_timings(timings: dict[str, float] | None, witness_seconds: float, stages: dict[str, float]) -> None:
    """Accumulate one proof's seconds into `timings` (if given): "witness", then the
    prover's stages (`Prover.last_timings`)."""
    if timings is None:
        return
    timings["witness"] = timings.get("witness", 0.0) + witness_seconds
    for stage, seconds in stages.items():
        timings[stage] = timings.get(stage, 0.0) + seconds


def prove_assignment(
    circuit: CompiledCircuit, prover: Prover, assignment: Mapping[str, Any], timings: dict[str, float] | None
) -> tuple[Proof, PublicSignals]:
    """The circuit's witness for `assignment` (named inputs), solved and proven; `timings`
    accumulates "witness" and the prover's stages (`add_timings`)."""
    start = time.perf_counter()
    witness = circuit.solve_limbs(assignment)
    solved = time.perf_counter()
    proof, public = prover.prove(witness)
    add_timings(timings, solved - start, prover.last_timings)
    return proof, public


def opened(arrival: Arrival) -> tuple[Proof, PublicSignals, dict[str, float]]:
    """An arrival's proof, public signals and seconds by stage: JSON parsed and checked
    as the models check it; models made in this process taken as they are."""
    proof, public, timings = arrival
    return (
        proof if isinstance(proof, Proof) else Proof.from_json(proof),
        public if isinstance(public, PublicSignals) else PublicSignals.from_json(public),
        timings,
    )


def prove_item(ctx: ProvingContext, item: Any) -> Result:
    """One item proven, as it crosses processes."""
    timings: dict[str, float] = {}
    proof, public = ctx.prove(item, timings)
    return proof.to_json(), public.to_json(), timings


_worker: dict[str, ProvingContext] = {}


def _init_worker(recipe: Recipe, zkey: str, threads: int) -> None:
    _worker["ctx"] = recipe.context(zkey, threads)


def _prove_in_worker(item: Any) -> Result:
    return prove_item(_worker["ctx"], item)


def prove_on_pool(
    recipe: Recipe,
    zkey: str,
    items: Sequence[Any],
    on_result: Callable[[Any, Result], None],
    on_arrival: Callable[[], None],
    workers: int,
) -> None:
    """The items proven on a spawn pool of `workers` processes (each builds the recipe's
    context once, with its share of the cores); `on_result(item, result)` as each
    arrives, `on_arrival()` after each wait (what arrived together is handled together)."""
    if not items:
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(
        max_workers=min(workers, len(items)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(recipe, zkey, threads),
    ) as pool:
        pending: dict[Future[Result], Any] = {pool.submit(_prove_in_worker, item): item for item in items}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                on_result(pending.pop(fut), fut.result())
            on_arrival()


def prove_where(
    recipe: Recipe,
    zkey: str | os.PathLike[str],
    items: Sequence[Any],
    on_result: Callable[[Any, Arrival], None],
    flush: Callable[[], None],
    *,
    workers: int = 1,
    cluster: tuple[Any, bool | None] | None = None,
    local: ProvingContext | None = None,
    flush_every: int = 1,
) -> None:
    """Every item proven where the run asks, the one dispatcher of the margin, solvency
    and transition proofs: on a Dask cluster (`cluster` = (client, ship_key)); else in
    this process with `local` (a context already built); else on a spawn pool of
    `workers` processes when more than one; else in this process with the recipe's
    context. `on_result(item, arrival)` as each proof arrives (`opened` reads it); `flush()` after every
    `flush_every` proofs made here, after each arrival from a pool or cluster, and once
    at the end (not at all when there is nothing to prove)."""
    if not items:
        return
    if cluster is not None:
        from ._dask import prove_on_cluster

        prove_on_cluster(cluster[0], recipe, Path(zkey), items, on_result, flush, cluster[1])
    elif local is None and workers > 1:
        prove_on_pool(recipe, str(zkey), items, on_result, flush, workers)
    else:
        ctx = local if local is not None else recipe.context(str(zkey), os.cpu_count() or 1)
        for done, item in enumerate(items, 1):
            timings: dict[str, float] = {}
            proof, public = ctx.prove(item, timings)  # no JSON round trip within one process
            on_result(item, (proof, public, timings))
            if done % flush_every == 0:
                flush()
    flush()
