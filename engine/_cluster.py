"""Where an epoch's proofs go when they leave this machine: a Dask cluster's address, or
a LocalCluster's size, and TLS files. Plain data: `engine._dask` does the work (and
imports `distributed`) only when a run uses a cluster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._errors import ClusterError


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for Dask's TLS: the CA that signed the cluster's certificates, and this
    client's certificate and private key."""

    ca: Path
    cert: Path
    key: Path


@dataclass(frozen=True)
class DaskCluster:
    """Where an epoch's proofs go: `address` of a running scheduler ("tcp://host:8786",
    "tls://host:8786"), or, without it, a LocalCluster of `local_workers` processes.
    `ship_key`: True sends the key's files to the workers (once each, inside a worker
    plugin) and they prove with those; False: they read the key at its path; None (the
    default): ship only when some worker lacks the file (the same bytes, by sha256)."""

    address: str | None = None
    local_workers: int = 0
    tls: TlsFiles | None = None
    ship_key: bool | None = None
    #: Seconds to wait for the scheduler: to connect, and to reconnect before the run
    #: ends with ClusterLostError.
    timeout: float = 30.0
    #: Called once with the dashboard's address when the scheduler serves one.
    on_dashboard: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if (self.address is None) == (self.local_workers < 1):
            raise ClusterError("give a scheduler address or a number of local workers (at least 1), not both")
        if not self.timeout > 0:
            raise ClusterError(f"the Dask timeout must be positive, got {self.timeout}")
