"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._snarkjs import make_ptau

#: Power of the session's powers-of-tau: circuits of up to 2^9 = 512 rows.
SMALL_PTAU_POWER = 9


@pytest.fixture(scope="session")
def small_ptau(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared bn128 powers-of-tau file of power 9, made by snarkjs once per session.

    Fails (does not skip) with an installation hint if the npm peers are missing.
    """
    return make_ptau(tmp_path_factory.mktemp("ptau"), SMALL_PTAU_POWER)
