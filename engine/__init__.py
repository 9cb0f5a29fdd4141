"""Margin and settlement engine: models, oracle, margin math, settlement, commitments,
ledger, epoch workflow, and the `zkmargin` command line.

Public API of the margin engine (units and rounding: `engine._units`; formulas:
`engine._margin`; encodings: `engine._models.MarketSnapshot.field_encoding` and
`engine._commitment`):

- models: `Asset`, `Bracket`, `RiskParams`, `PerpetualMarket`, `FutureMarket`,
  `OptionMarket`, `Position`, `Account`, `OracleReport`, `ScenarioGrid`,
  `ScenarioValues`, `PriceBounds`, `Greeks`, `Universe`, `MarketSnapshot`,
  `PositionReport`, `PortfolioReport`, `MarginReport`; `load_account`,
  `load_snapshot`, `parse_model`, `json_schemas`;
- oracle: `build_snapshot`, `aggregate_prices`, `median`;
- margin: `validate_account`, `compute_margin`;
- commitments: `encode_account`, `commit`, `random_salt`;
- examples: `load_example_snapshot`, `load_example_account`, `example_path`;
- errors: `EngineError` and its named subclasses.
"""

from ._commitment import commit, encode_account, encoding_length, random_salt
from ._encoding import ACCOUNT_TAG, SIGNED_OFFSET, SNAPSHOT_TAG, sponge, text_to_field
from ._errors import (
    DuplicateEntryError,
    DuplicateSourceError,
    EngineError,
    FutureReportError,
    InconsistentSnapshotError,
    InsufficientSourcesError,
    InvalidRiskParamsError,
    InvalidScenarioGridError,
    MalformedInputError,
    MissingPriceError,
    NegativeCollateralError,
    PriceDeviationError,
    StalePriceError,
    UnknownAssetError,
    UnknownMarketError,
    UnknownSchemaError,
    UnsupportedPositionError,
    ValueOutOfRangeError,
)
from ._examples import EXAMPLE_ACCOUNTS, example_path, load_example_account, load_example_reports, load_example_snapshot
from ._margin import compute_margin, validate_account
from ._models import (
    MODELS,
    Account,
    Asset,
    Bracket,
    FutureMarket,
    Greeks,
    MarginReport,
    Market,
    MarketSnapshot,
    OptionMarket,
    OracleReport,
    PerpetualMarket,
    PortfolioReport,
    Position,
    PositionReport,
    PriceBounds,
    RiskParams,
    ScenarioGrid,
    ScenarioValues,
    Universe,
    json_schemas,
    load_account,
    load_snapshot,
    parse_model,
)
from ._oracle import aggregate_prices, build_snapshot, median

__all__ = [
    "ACCOUNT_TAG",
    "EXAMPLE_ACCOUNTS",
    "MODELS",
    "SIGNED_OFFSET",
    "SNAPSHOT_TAG",
    "Account",
    "Asset",
    "Bracket",
    "DuplicateEntryError",
    "DuplicateSourceError",
    "EngineError",
    "FutureMarket",
    "FutureReportError",
    "Greeks",
    "InconsistentSnapshotError",
    "InsufficientSourcesError",
    "InvalidRiskParamsError",
    "InvalidScenarioGridError",
    "MalformedInputError",
    "MarginReport",
    "Market",
    "MarketSnapshot",
    "MissingPriceError",
    "NegativeCollateralError",
    "OptionMarket",
    "OracleReport",
    "PerpetualMarket",
    "PortfolioReport",
    "Position",
    "PositionReport",
    "PriceBounds",
    "PriceDeviationError",
    "RiskParams",
    "ScenarioGrid",
    "ScenarioValues",
    "StalePriceError",
    "UnknownAssetError",
    "UnknownMarketError",
    "UnknownSchemaError",
    "Universe",
    "UnsupportedPositionError",
    "ValueOutOfRangeError",
    "aggregate_prices",
    "build_snapshot",
    "commit",
    "compute_margin",
    "encode_account",
    "encoding_length",
    "example_path",
    "json_schemas",
    "load_account",
    "load_example_account",
    "load_example_reports",
    "load_example_snapshot",
    "load_snapshot",
    "median",
    "parse_model",
    "random_salt",
    "sponge",
    "text_to_field",
    "validate_account",
]
