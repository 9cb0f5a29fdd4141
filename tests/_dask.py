"""Real Dask processes for tests: a `dask scheduler` and `dask worker`s on 127.0.0.1,
started and stopped by the test (no mocks), and a self-signed CA for TLS."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

DASK = Path(sys.executable).parent / "dask"


@dataclass(frozen=True)
class Tls:
    ca: Path
    cert: Path
    key: Path

    def flags(self) -> list[str]:
        """The TLS flags of `dask scheduler` and `dask worker`."""
        return ["--tls-ca-file", str(self.ca), "--tls-cert", str(self.cert), "--tls-key", str(self.key)]


def make_tls(folder: Path) -> Tls:
    """A CA and one certificate it signs (for 127.0.0.1 and localhost), as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(name("zkmargin test CA")).issuer_name(name("zkmargin test CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (
        x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(san, critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    out = Tls(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    out.ca.write_bytes(ca.public_bytes(pem))
    out.cert.write_bytes(cert.public_bytes(pem))
    out.key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return out


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(DASK), *args], stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=_env()
        )


def _env() -> dict[str, str]:
    return {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False", "PYTHONUNBUFFERED": "1"}


@contextmanager
def dask_cluster(folder: Path, n_workers: int, tls: Tls | None = None, timeout: float = 120) -> Iterator[Cluster]:
    """A scheduler and `n_workers` single-threaded workers (no nanny: a killed worker
    stays dead), all on 127.0.0.1; every process is killed on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    info = folder / "scheduler.json"
    info.unlink(missing_ok=True)
    proto = ["--protocol", "tls", *tls.flags()] if tls else []
    scheduler = _spawn(
        [
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            str(info),
            *proto,
        ],
        folder / "scheduler.log",
    )
    cluster = Cluster("", scheduler)
    try:
        deadline = time.monotonic() + timeout
        while not info.exists() or not info.read_text().strip():
            assert scheduler.poll() is None, (folder / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        cluster.address = json.loads(info.read_text())["address"]
        for i in range(n_workers):
            cluster.workers.append(
                _spawn(
                    ["worker", cluster.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                     "--local-directory", str(folder / f"worker{i}"), "--name", f"w{i}",
                     *(tls.flags() if tls else [])],
                    folder / f"worker{i}.log",
                )
            )  # fmt: skip
        _wait_for_workers(cluster, tls, n_workers, deadline, folder)
        yield cluster
    finally:
        for proc in [*cluster.workers, scheduler]:
            kill(proc)


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process (and its group) if it still runs, and reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


def _wait_for_workers(cluster: Cluster, tls: Tls | None, n: int, deadline: float, folder: Path) -> None:
    from distributed import Client
    from distributed.security import Security

    security = (
        Security(tls_ca_file=str(tls.ca), tls_client_cert=str(tls.cert), tls_client_key=str(tls.key),
                 require_encryption=True)
        if tls else None
    )  # fmt: skip
    with Client(cluster.address, security=security, timeout=30, set_as_default=False) as client:
        while len(client.scheduler_info(n_workers=-1)["workers"]) < n:
            logs = "\n".join(p.read_text() for p in folder.glob("worker*.log"))
            assert all(w.poll() is None for w in cluster.workers), logs
            assert time.monotonic() < deadline, f"workers did not join\n{logs}"
            time.sleep(0.2)
