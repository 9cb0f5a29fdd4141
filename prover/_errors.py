"""Named errors of setup and proving."""

from __future__ import annotations


class ProverError(Exception):
    """Base of all prover errors."""


class WitnessError(ProverError, ValueError):
    """The witness does not fit the proving key (length or values)."""


class SetupError(ProverError, ValueError):
    """The circuit cannot be set up (too large for the field's 2-adicity, empty)."""
