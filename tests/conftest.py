"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._settling import first, keys
from tests._snarkjs import make_ptau

__all__ = ["first", "keys"]  # the settled venue's session fixtures (`tests._settling`)

#: Power of the session's powers-of-tau: circuits of up to 2^9 = 512 rows.
SMALL_PTAU_POWER = 9


@pytest.fixture(scope="session")
def small_ptau(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared bn128 powers-of-tau file of power 9, made by snarkjs once per session.

    Fails (does not skip) with an installation hint if the npm peers are missing.
    """
    return make_ptau(tmp_path_factory.mktemp("ptau"), SMALL_PTAU_POWER)


# ---- markers: `pytest -m unit` is the fast edit-test loop --------------------------------

#: Each test module's marker by what dominates its cost; modules not listed are `unit`
#: (in-process, no npm peers, seconds each). `make test` runs every marker.
MODULE_MARKERS = {
    "test_benchmarks": "bench",  # runs the benchmark scripts against snarkjs
    "test_demo": "e2e",  # whole processes: the CLI, keys, proofs, the ledger
    "test_cli_prove_account": "e2e",
    "test_engine_cli": "e2e",
    "test_ledger": "e2e",
    "test_ledger_hardening": "e2e",
    "test_ledger_anonymous": "e2e",
    "test_hardening": "e2e",
    "test_dask": "e2e",  # real dask scheduler and worker processes
    "test_setup_cli": "interop",  # snarkjs, circom2 or circomlibjs as the oracle
    "test_verifier": "interop",
    "test_zkey_ptau_files": "interop",
    "test_mpc": "interop",
    "test_poseidon_native": "interop",
    "test_r1cs_wtns_files": "interop",
    "test_fast_prover": "interop",
    "test_margin_circuit": "interop",
    "test_engine_commitment": "interop",
    "test_fuzz": "interop",
    "test_onchain": "interop",
    "test_explorer_browser": "e2e",  # the explorer as a real server, driven by headless chromium  # solc (npm) compiles, pyrevm runs; snarkjs's verifier beside ours
    "test_encoding_circuit": "e2e",  # every field through the compiled example circuit (~45 s)
    "test_settlement_sigkill": "e2e",  # killed and rerun settled epochs through the CLI (~60 s)
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.path.stem
        item.add_marker(getattr(pytest.mark, MODULE_MARKERS.get(module, "unit")))
