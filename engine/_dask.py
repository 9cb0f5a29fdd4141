"""Proofs on a Dask cluster (`distributed`): an existing scheduler or a LocalCluster of
worker processes; an epoch's margin proofs and a solvency round's batches alike (a
`Recipe` of `engine._proving` says how a worker builds its context).

    cluster = DaskCluster(address="tls://10.0.0.5:8786", tls=TlsFiles(ca, cert, key))
    run_epoch(accounts, snapshot, "margin.zkey", ledger, dask=cluster)

- Each worker loads the proving key and the compiled circuit once (`_ProverPlugin`, a
  worker plugin the scheduler also gives to workers that join later): from the key's
  path when the workers share it (the same sha256), else from the files the client
  ships once inside the plugin (when some worker lacks the file, or `ship_key=True`),
  written to the worker's own directory.
- Tasks carry chunks of work items (an epoch's claims: account, salt, commitment,
  report; a solvency round's batch jobs) and return each proof's JSON and stage
  times. A worker proves one chunk at a time, its numba kernels using its share of its
  machine's cores.
- The parent stays the only writer (`engine._epoch`): results are verified and appended
  as chunks arrive. A worker lost mid-epoch has its tasks rerun on the others (Dask's
  scheduler does that); a lost scheduler raises `ClusterLostError`, and a rerun of the
  epoch completes it (accounts already recorded are skipped).
- The channel can use TLS (`TlsFiles`: a CA, a certificate and its key, as the
  scheduler and workers are started with `--tls-ca-file --tls-cert --tls-key`).

`distributed` is imported only here: `run_epoch` imports this module when a cluster is used.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import logging
import os
import threading
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker
from distributed.comm.core import CommClosedError
from distributed.security import Security

from circuits import file_checksum

from ._cluster import DaskCluster
from ._errors import ClusterError, ClusterLostError, ClusterUnavailableError, ProvingKeyUnavailableError
from ._prove_account import circuit_path
from ._proving import ProvingContext, Recipe, Result, prove_item

#: Claims per task: small enough that a lost worker costs little and the last tasks
#: balance, large enough that a task's overhead (a few ms) stays small beside a proof.
MAX_CHUNK = 4


@dataclass(frozen=True)
class _Spec:
    """What a worker needs to build its proving context (all picklable and small)."""

    zkey: str
    checksum: str
    recipe: Recipe
    #: Numba threads per worker, by host (1 on a host not listed: one that joined later).
    threads_by_host: tuple[tuple[str, int], ...]


# ---- the worker side ------------------------------------------------------------------


def _plugin_name(spec: _Spec) -> str:
    """One plugin per recipe (an epoch's statement, a solvency round) and key: two epochs
    on one cluster never share one."""
    statement = (spec.checksum, repr(spec.recipe))
    return "zkmargin-prover-" + hashlib.sha256(repr(statement).encode()).hexdigest()[:16]


class _ProverPlugin(WorkerPlugin):
    """The recipe's context, built on a worker at its first task and kept for the next
    ones (the scheduler gives the plugin to every worker, those that join later too)."""

    def __init__(self, spec: _Spec, files: dict[str, bytes] | None) -> None:
        self.name = _plugin_name(spec)
        self.spec = spec
        self.files = files
        self._ctx: ProvingContext | None = None
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._host = ""

    def setup(self, worker: Any) -> None:
        self._dir = Path(worker.local_directory) / "zkmargin-keys" / self.spec.checksum
        self._host = _host(str(worker.address))

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec, "files": self.files}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["spec"], state["files"])  # type: ignore[misc]

    def prove(self, items: Sequence[Any]) -> list[Result]:
        """Proofs of the items, one after the other (the kernels use every thread given)."""
        with self._lock:
            ctx = self._context()
            return [prove_item(ctx, item) for item in items]

    def _context(self) -> ProvingContext:
        if self._ctx is None:
            n = dict(self.spec.threads_by_host).get(self._host, 1)
            self._ctx = self.spec.recipe.context(self._key_path(), n)
        return self._ctx

    def _key_path(self) -> str:
        """The shipped files written to the worker's own directory (once), or, with
        none shipped, the client's path when this worker has the same file."""
        path = Path(self.spec.zkey)
        if self.files is None:
            if path.is_file() and file_checksum(path) == self.spec.checksum:
                return str(path)
            raise ProvingKeyUnavailableError(
                f"worker has no file {path} with sha256 {self.spec.checksum[:16]}...: share it or ship the key"
            )
        if self._dir is None:
            raise ProvingKeyUnavailableError("the prover plugin was not set up on this worker")
        self._dir.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            target = self._dir / name
            if not (target.is_file() and target.stat().st_size == len(data)):
                tmp = target.with_suffix(target.suffix + f".{os.getpid()}.tmp")
                tmp.write_bytes(data)
                tmp.replace(target)
        return str(self._dir / path.name)


def _prove_chunk(plugin: str, items: Sequence[Any]) -> list[Result]:
    return get_worker().plugins[plugin].prove(items)  # type: ignore[no-any-return, attr-defined]


# ---- the client side ------------------------------------------------------------------


@contextlib.contextmanager
def connect(cluster: DaskCluster, threads: int | None = None) -> Iterator[Client]:
    """A client of the cluster (a LocalCluster started and stopped here); named errors
    when no scheduler answers."""
    security = None
    if cluster.tls is not None:
        t = cluster.tls
        security = Security(
            tls_ca_file=str(t.ca), tls_client_cert=str(t.cert), tls_client_key=str(t.key), require_encryption=True
        )
    with contextlib.ExitStack() as stack:
        stack.enter_context(_quiet_logs())
        try:
            if cluster.address is not None:
                client = stack.enter_context(
                    Client(cluster.address, security=security, timeout=cluster.timeout, set_as_default=False)
                )
            else:
                local = stack.enter_context(
                    LocalCluster(
                        n_workers=cluster.local_workers,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address="127.0.0.1:0",
                        protocol="tls" if security is not None else "tcp",
                        security=security,
                        silence_logs=40,
                    )
                )
                client = stack.enter_context(
                    Client(local, set_as_default=False, security=security, timeout=cluster.timeout)
                )
        except (OSError, TimeoutError) as exc:
            raise ClusterUnavailableError(f"no Dask scheduler answered at {cluster.address}: {exc}") from exc
        if cluster.on_dashboard is not None and (link := _dashboard(client)) is not None:
            cluster.on_dashboard(link)
        yield client


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """distributed's own log lines (reconnect attempts with their tracebacks) kept off the
    terminal while this client runs: what went wrong is reported as a named error."""
    names = ["distributed", *(n for n in logging.root.manager.loggerDict if n.startswith("distributed."))]
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)


def _dashboard(client: Client) -> str | None:
    """The dashboard's link when it serves its status page (a scheduler started without
    the dashboard still reports a port, where only its other HTTP routes answer)."""
    with contextlib.suppress(Exception):
        link = client.dashboard_link
        with urllib.request.urlopen(link, timeout=2) as page:
            return link if page.status == 200 else None
    return None


def _host(address: str) -> str:
    """The host of a Dask address ("tcp://10.0.0.5:40123" -> "10.0.0.5")."""
    return address.split("://")[-1].rsplit(":", 1)[0]


def _threads_by_host(client: Client) -> tuple[tuple[str, int], ...]:
    """Each host's cores shared among the workers on it (numba threads per worker)."""
    per_host: dict[str, int] = {}
    for address in client.scheduler_info(n_workers=-1)["workers"]:
        per_host[_host(address)] = per_host.get(_host(address), 0) + 1
    cores = client.run(lambda: os.cpu_count() or 1)
    return tuple(sorted({_host(a): max(1, n // per_host.get(_host(a), 1)) for a, n in cores.items()}.items()))


def _files_to_ship(client: Client, zkey: Path, checksum: str, ship: bool | None) -> dict[str, bytes] | None:
    """The key's files (and its saved circuit) when a worker lacks them or `ship`."""
    if ship is None:
        have = client.run(lambda p=str(zkey): Path(p).is_file() and file_checksum(p) == checksum)
        ship = not have or not all(have.values())
    if not ship:
        return None
    files = {zkey.name: zkey.read_bytes()}
    saved = circuit_path(zkey)
    if saved.is_file():
        files[saved.name] = saved.read_bytes()
    return files


def prove_on_cluster(
    client: Client,
    recipe: Recipe,
    zkey: Path,
    items: Sequence[Any],
    on_result: Callable[[Any, Result], None],
    on_batch_end: Callable[[], None],
    ship_key: bool | None = None,
) -> None:
    """Prove `items` on the cluster with `recipe`'s context; `on_result(item, result)`
    for each proof as its chunk arrives, `on_batch_end` after each arrival (what arrived
    together is verified together)."""

    zkey = zkey.resolve()
    checksum = file_checksum(zkey)
    try:
        spec = _Spec(str(zkey), checksum, recipe, _threads_by_host(client))
        plugin = _ProverPlugin(spec, _files_to_ship(client, zkey, checksum, ship_key))
        client.register_plugin(plugin, name=plugin.name)
        chunk = max(1, min(MAX_CHUNK, len(items) // (4 * max(1, len(client.nthreads())))))
        chunks = [list(items[i : i + chunk]) for i in range(0, len(items), chunk)]
        futures = {client.submit(_prove_chunk, plugin.name, c, pure=False): c for c in chunks}
        for future in as_completed(futures, loop=client.loop):
            for item, result in zip(futures.pop(future), future.result(), strict=True):
                on_result(item, result)
            on_batch_end()
        client.unregister_worker_plugin(plugin.name)  # the workers drop the key and the circuit
    except ClusterError:
        raise
    except Exception as exc:
        if _lost(client, exc):
            raise ClusterLostError(f"lost the Dask scheduler while proving: {type(exc).__name__}: {exc}") from exc
        raise


def _lost(client: Client, exc: BaseException) -> bool:
    """Whether `exc` comes from losing the scheduler, not from a task's own error: a
    closed connection, or a future cancelled (this client never cancels one; the
    scheduler's loss does, "scheduler-connection-lost")."""
    lost = (CommClosedError, OSError, TimeoutError, asyncio.CancelledError, concurrent.futures.CancelledError)
    return isinstance(exc, lost) or client.status not in ("running", "connecting")
