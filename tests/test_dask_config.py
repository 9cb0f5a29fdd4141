"""The Dask options without a cluster: validation, CLI flag conflicts (exit 2, nothing
written), an address where no scheduler answers, and where a worker finds its key."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from cli import build_app
from engine import ClusterError, ClusterUnavailableError, DaskCluster, ProvingKeyUnavailableError, TlsFiles


def test_a_cluster_is_an_address_or_a_local_size() -> None:
    assert DaskCluster(address="tcp://127.0.0.1:8786").local_workers == 0
    assert DaskCluster(local_workers=2).address is None
    for bad in ({}, {"address": "tcp://h:1", "local_workers": 2}, {"local_workers": 0}):
        with pytest.raises(ClusterError):
            DaskCluster(**bad)  # type: ignore[arg-type]
    with pytest.raises(ClusterError):
        DaskCluster(local_workers=1, timeout=0)


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--dask", "tcp://127.0.0.1:1", "--dask-local", "2"], "not both"),
        (["--dask", "tcp://127.0.0.1:1", "--workers", "2"], "--workers is for the local pool"),
        (["--tls-ca", "ca.pem"], "go with --dask"),
        (["--ship-key"], "go with --dask"),
        (["--dask", "tls://127.0.0.1:1", "--tls-ca", "ca.pem"], "needs all of"),
    ],
)
def test_conflicting_flags_are_refused_before_anything_is_read(flags: list[str], message: str, tmp_path: Path) -> None:
    args = ["epoch", "run", "--accounts", str(tmp_path / "none"), "--snapshot", str(tmp_path / "none.json"),
            "--ledger", str(tmp_path / "ledger.db"), "--zkey", str(tmp_path / "none.zkey"), *flags]  # fmt: skip
    result = CliRunner().invoke(build_app(args), args)
    assert result.exit_code == 2
    assert "ClusterError" in result.output and message in result.output
    assert not (tmp_path / "ledger.db").exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_scheduler_at_the_address_is_a_named_error() -> None:
    from engine._dask import connect

    with pytest.raises(ClusterUnavailableError, match="no Dask scheduler answered"):
        with connect(DaskCluster(address=f"tcp://127.0.0.1:{_closed_port()}", timeout=2)):
            pass


def _plugin(tmp_path: Path, zkey: Path, files: dict[str, bytes] | None):  # type: ignore[no-untyped-def]
    from circuits import file_checksum
    from engine._dask import _ProverPlugin, _Spec
    from engine._epoch import MarginRecipe

    checksum = file_checksum(zkey) if zkey.exists() else "0" * 64
    plugin = _ProverPlugin(_Spec(str(zkey), checksum, MarginRecipe("{}", "maintenance", 0), ()), files)
    plugin.setup(SimpleNamespace(local_directory=str(tmp_path / "worker"), address="tcp://127.0.0.1:1"))
    return plugin


def test_a_worker_uses_the_shared_path_or_the_shipped_files(tmp_path: Path) -> None:
    key = tmp_path / "margin.zkey"
    key.write_bytes(b"key bytes")
    assert _plugin(tmp_path, key, None)._key_path() == str(key)
    shipped = _plugin(tmp_path, key, {"margin.zkey": b"key bytes", "margin.circuit.npz": b"circuit"})
    path = Path(shipped._key_path())
    assert path != key and path.read_bytes() == b"key bytes" and path.with_name("margin.circuit.npz").is_file()
    assert Path(shipped._key_path()) == path  # written once, then found
    shared = _plugin(tmp_path, key, None)
    key.write_bytes(b"another key")  # the worker's file is no longer the client's key
    with pytest.raises(ProvingKeyUnavailableError, match="share it or ship the key"):
        shared._key_path()
    with pytest.raises(ProvingKeyUnavailableError, match="share it or ship the key"):
        _plugin(tmp_path, tmp_path / "missing.zkey", None)._key_path()


def test_tls_files_are_plain_paths(tmp_path: Path) -> None:
    tls = TlsFiles(tmp_path / "ca.pem", tmp_path / "c.pem", tmp_path / "k.pem")
    assert DaskCluster(local_workers=1, tls=tls).tls == tls
