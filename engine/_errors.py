"""Named errors of the margin engine.

Malformed input (an account, a snapshot, oracle reports, risk parameters) raises one of
these before any margin arithmetic runs, with the offending numbers in the message
("BTC-PERP: size -18446744073709551616 is outside (-2**64, 2**64)").

`EngineError` is deliberately *not* a ValueError: pydantic wraps ValueErrors raised in
validators into its own ValidationError, while other exceptions propagate unchanged.
So building a model with a negative collateral amount raises
`NegativeCollateralError` itself, from Python and from JSON alike. Type-level problems
(a string where an int belongs, a float, a missing field, bad JSON) are pydantic's
ValidationError; the loaders (`load_account`, `load_snapshot`, `parse_model`) turn
those into `MalformedInputError`.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class: input the margin engine refuses (reported by the CLI with exit 2)."""


class MalformedInputError(EngineError):
    """A JSON document is not valid JSON or does not have the model's shape and types."""


class ValueOutOfRangeError(EngineError):
    """A number is outside its documented bound (an overflowing size, a price >= 2**48,
    a ppm above 10**6, ...)."""


class NegativeCollateralError(ValueOutOfRangeError):
    """A collateral amount (or an isolated margin) is negative."""


class ExposureTooLargeError(ValueOutOfRangeError):
    """A position beyond what can be proven: its notional at or above 2**96 micro-quote, or
    its loss in a scenario of the grid at or above 2**100 (`circuits._encoding` bounds)."""


class InvalidRiskParamsError(EngineError):
    """Risk parameters are inconsistent (maintenance above initial, brackets not
    increasing or with a discontinuous cumulative amount, ...)."""


class InvalidScenarioGridError(EngineError):
    """A scenario grid is empty, has duplicate moves, or a bad fraction / multiplier."""


class UnknownAssetError(EngineError):
    """An asset symbol is not in the snapshot (collateral, a market's base, a report)."""


class UnknownMarketError(EngineError):
    """A market id is not in the snapshot (a position, a price table entry)."""


class DuplicateEntryError(EngineError):
    """Two assets, markets or positions share one symbol / id."""


class UnsupportedPositionError(EngineError):
    """A position the engine does not margin (e.g. an isolated option position)."""


class MissingPriceError(EngineError):
    """A price the snapshot needs is absent: an index price, a mark, a funding index, an
    implied volatility, a settlement price of an expired market, a scenario table."""


class InconsistentSnapshotError(EngineError):
    """Snapshot tables disagree (a scenario table of the wrong length, lower bound above
    upper bound, ...)."""


class StalePriceError(EngineError):
    """Too few oracle reports are fresh enough, or a snapshot is older than allowed."""


class InsufficientSourcesError(EngineError):
    """Fewer distinct oracle sources reported a symbol than the minimum required."""


class PriceDeviationError(EngineError):
    """Too many oracle reports deviate from the median for the minimum to remain."""


class DuplicateSourceError(EngineError):
    """One source reported the same symbol twice in one oracle round."""


class FutureReportError(EngineError):
    """An oracle report is timestamped after the snapshot time."""


class UnknownSchemaError(EngineError):
    """`zkmargin schema NAME` for a NAME that is not one of the engine's models."""


class UnhealthyAccountError(EngineError):
    """The account does not meet the requirement it was asked to prove: no proof is made."""


class UnsupportedInCircuitError(EngineError):
    """The account uses a feature the margin circuit does not prove yet (portfolio mode,
    isolated positions, open-interest scaled IMF)."""


class ClusterError(EngineError):
    """A Dask cluster run that cannot go on (reported by the CLI with exit 2; a rerun of
    the epoch completes it)."""


class ClusterUnavailableError(ClusterError):
    """No Dask scheduler answered at the address given."""


class ClusterLostError(ClusterError):
    """The Dask scheduler went away during the epoch."""


class ProvingKeyUnavailableError(ClusterError):
    """A worker has neither the proving key's file nor shipped bytes of it."""
