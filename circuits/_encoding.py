"""The one declaration of the two encodings the margin proofs hash: the market snapshot
(public, its sponge is the snapshot hash) and the account (private, its salted sponge is
the commitment).

Each encoding is a sequence of RECORDS laid out by a PLAN over the shape (counts and
market kinds, never values); each record is an ordered list of named FIELDS with a bit
bound and a signedness. The engine's encoders write by name through `Layout.encode`; the
margin circuit reads by name through `Layout.view` and takes each range check's width
from the field (account fields: the account is private; the snapshot is public and
checked against these bounds when it is encoded, not in every proof). Adding a field is
one line here plus the formula that reads it.

The snapshot encoding holds what the margin formulas read, and the epoch and timestamp
that make each epoch's hash its own; the rest of the published snapshot (ids, symbols,
option terms, volatility moves, settlement prices: labels, or inputs already folded into
the public values the formulas read) is pinned by the ledger's hash chain with its JSON.

Field elements: a non-negative field is itself, ``0 <= v < 2**bits``; a signed field is
``v + SIGNED_OFFSET`` with ``abs(v) < 2**bits`` (every signed bound is at most 2**96, so
the element is in (0, 2**101) and the circuit recovers v by subtracting the constant);
a text field is its ASCII bytes, big-endian (`algebra.text_to_field`, < 2**248).

The bit constants below ARE the engine's bounds (`engine._units` derives its bounds from
them) and the circuit's range-check widths.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Generic, TypeVar

from algebra import EncodingError, text_to_field

T = TypeVar("T")

#: Offset that makes a signed value non-negative: encoded = v + 2**100.
SIGNED_OFFSET = 2**100
#: Parts per million: 100%.
PPM = 10**6
#: Largest decimals of an asset or a market's size (0 <= decimals <= 18).
MAX_DECIMALS = 18
#: Market kind codes of the snapshot encoding.
KIND_PERPETUAL, KIND_FUTURE, KIND_OPTION = 1, 2, 3

# ---- the bounds (engine._units derives its bounds from these) -------------------------
SIZE_BITS = 64  # abs(position size) < 2**64 quantums
AMOUNT_BITS = 64  # collateral amount, open interest < 2**64 quantums
PRICE_BITS = 48  # prices < 2**48 micro-quote
QUOTE_BITS = 96  # abs(quote amount) < 2**96 micro-quote
FUNDING_BITS = 64  # abs(funding index) < 2**64
PPM_BITS = 20  # ratios, fractions, weights <= 10**6 < 2**20
TIME_BITS = 40  # unix seconds < 2**40
CAP_BITS = 97  # bracket notional caps <= 2**96 (2**96 encodes "no cap")
VALUE_CHANGE_BITS = 52  # abs(scenario value change per contract) < 2**52
MULTIPLIER_BITS = 24  # initial multiplier <= 10**7 < 2**24
MOVE_BITS = 24  # abs(grid price or vol move) <= 10**7 < 2**24
DECIMALS_BITS = 5  # decimals 0..18
EPOCH_BITS = 64  # epoch number
COUNT_BITS = 16  # counts of assets, markets, moves, brackets; asset positions
CODE_BITS = 2  # market kind codes
# Bounds on derived quantities, which the engine refuses an account beyond:
NOTIONAL_BITS = 96  # a position's notional |size| * price / 10**d < 2**96 (options: at the index)
SCENARIO_LOSS_BITS = 100  # a portfolio leg's loss in any scenario: abs < 2**100 micro-quote
FLAG_BITS = 1  # booleans
TEXT_BITS = 248  # ASCII text of at most 31 bytes


@dataclass(frozen=True)
class Field:
    """One field element: its name, bound (``0 <= v < 2**bits``, or ``abs(v) < 2**bits``
    when signed, offset by SIGNED_OFFSET) and whether it holds text."""

    name: str
    bits: int
    signed: bool = False
    text: bool = False

    def encode(self, value: int | str) -> int:
        """The field element of `value`; EncodingError beyond the bound."""
        if self.text:
            if not isinstance(value, str):
                raise EncodingError(f"{self.name}: text expected, got {value!r}")
            return text_to_field(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise EncodingError(f"{self.name}: int expected, got {value!r}")
        low = -(2**self.bits) + 1 if self.signed else 0
        if not low <= value < 2**self.bits:
            kind = "abs(value)" if self.signed else "value"
            raise EncodingError(f"{self.name} = {value}: the encoding needs {kind} < 2**{self.bits}")
        return value + SIGNED_OFFSET if self.signed else value

    def decode(self, element: int) -> int:
        """The value of a field element (the inverse of `encode` for non-text fields)."""
        value = element - SIGNED_OFFSET if self.signed else element
        low = -(2**self.bits) + 1 if self.signed else 0
        if not low <= value < 2**self.bits:
            raise EncodingError(f"{self.name}: element {element} is outside the field's bound")
        return value


class Record:
    """An ordered list of fields, read and written by name."""

    def __init__(self, name: str, *fields: Field) -> None:
        self.name = name
        self.fields = fields
        self.index = {f.name: i for i, f in enumerate(fields)}
        if len(self.index) != len(fields):
            raise ValueError(f"record {name}: duplicate field names")

    def __len__(self) -> int:
        return len(self.fields)

    def field(self, name: str) -> Field:
        return self.fields[self.index[name]]

    def encode(self, values: Mapping[str, int | str]) -> list[int]:
        """The record's elements from a value per field name (exactly its fields)."""
        if set(values) != set(self.index):
            missing, extra = set(self.index) - set(values), set(values) - set(self.index)
            raise EncodingError(f"record {self.name}: missing {sorted(missing)}, unknown {sorted(extra)}")
        return [f.encode(values[f.name]) for f in self.fields]


class View(Generic[T]):
    """A record's fields at an offset of an encoded sequence (ints or circuit wires)."""

    def __init__(self, record: Record, seq: Sequence[T], at: int) -> None:
        self.record, self._seq, self.at = record, seq, at

    def __getitem__(self, name: str) -> T:
        return self._seq[self.at + self.record.index[name]]

    def field(self, name: str) -> Field:
        return self.record.field(name)


# ---- the records ------------------------------------------------------------------------

SNAPSHOT_HEADER = Record(
    "header",
    Field("epoch", EPOCH_BITS),
    Field("timestamp", TIME_BITS),
    Field("n_assets", COUNT_BITS),
    Field("n_markets", COUNT_BITS),
)
#: Number of price moves, then of vol moves: each before its list of moves.
MOVE_COUNT = Record("move_count", Field("n", COUNT_BITS))
MOVE = Record("move", Field("move", MOVE_BITS, signed=True))
GRID = Record(
    "grid",
    Field("extreme_move", PPM_BITS),
    Field("extreme_fraction", PPM_BITS),
    Field("short_option_min", PPM_BITS),
    Field("initial_multiplier", MULTIPLIER_BITS),
)
ASSET = Record(
    "asset",
    Field("decimals", DECIMALS_BITS),
    Field("weight", PPM_BITS),
    Field("index_price", PRICE_BITS),
)
MARKET = Record(
    "market",
    Field("kind", CODE_BITS),
    Field("base", COUNT_BITS),
    Field("size_decimals", DECIMALS_BITS),
    Field("expiry", TIME_BITS),  # 0 for a perpetual
    Field("mark", PRICE_BITS),
)
PERPETUAL = Record("perpetual", Field("funding_index", FUNDING_BITS, signed=True))
LINEAR_RISK = Record(
    "linear_risk",
    Field("imf", PPM_BITS),
    Field("mmf", PPM_BITS),  # 0 with brackets
    Field("size_premium", PPM_BITS),
    Field("mm_size_premium", PPM_BITS),
    # The IMF's open-interest increase with `imf` as its base (0 without brackets' use or
    # scaling), computed from the snapshot's open interest and caps (public: a function
    # of public values, so proofs need not recompute it).
    Field("oi_increase", PPM_BITS),
    Field("n_brackets", COUNT_BITS),
)
BRACKET = Record(
    "bracket",
    Field("cap", CAP_BITS),  # 2**96 when none
    Field("mmr", PPM_BITS),
    Field("cum", QUOTE_BITS),
    Field("imf", PPM_BITS),  # the market's when the bracket has none
    Field("oi_increase", PPM_BITS),  # the open-interest increase with this bracket's imf as base
)
OPTION = Record(
    "option",
    Field("lower_bound", PRICE_BITS),  # price bounds per contract (both the payoff when expired)
    Field("upper_bound", PRICE_BITS),
)
SCENARIO = Record(
    "scenario",
    Field("lower", VALUE_CHANGE_BITS, signed=True),  # zeros when expired
    Field("upper", VALUE_CHANGE_BITS, signed=True),
)

ACCOUNT_HEADER = Record(
    "account",
    Field("id", TEXT_BITS, text=True),
    Field("mode", FLAG_BITS),  # 0 standard, 1 portfolio
    Field("quote_balance", QUOTE_BITS, signed=True),
)
COLLATERAL = Record("collateral", Field("amount", AMOUNT_BITS))  # 0 when absent
# A position slot per market, by its kind (0s when there is no position): a perpetual's
# carries its entry funding index; perpetuals and futures may be isolated; options are
# cross only (the engine refuses isolated options and futures' funding indices).
PERPETUAL_POSITION = Record(
    "perpetual_position",
    Field("size", SIZE_BITS, signed=True),
    Field("quote", QUOTE_BITS, signed=True),
    Field("entry_funding", FUNDING_BITS, signed=True),
    Field("isolated", FLAG_BITS),
    Field("isolated_margin", QUOTE_BITS),  # 0 when cross
)
FUTURE_POSITION = Record(
    "future_position",
    Field("size", SIZE_BITS, signed=True),
    Field("quote", QUOTE_BITS, signed=True),
    Field("isolated", FLAG_BITS),
    Field("isolated_margin", QUOTE_BITS),
)
OPTION_POSITION = Record(
    "option_position",
    Field("size", SIZE_BITS, signed=True),
    Field("quote", QUOTE_BITS, signed=True),
)
POSITION_RECORDS = {KIND_PERPETUAL: PERPETUAL_POSITION, KIND_FUTURE: FUTURE_POSITION, KIND_OPTION: OPTION_POSITION}

#: Every record of both encodings (for the tests that walk every field).
SNAPSHOT_RECORDS = (
    SNAPSHOT_HEADER,
    MOVE_COUNT,
    MOVE,
    GRID,
    ASSET,
    MARKET,
    PERPETUAL,
    LINEAR_RISK,
    BRACKET,
    OPTION,
    SCENARIO,
)
ACCOUNT_RECORDS = (ACCOUNT_HEADER, COLLATERAL, PERPETUAL_POSITION, FUTURE_POSITION, OPTION_POSITION)

#: A key of a laid-out record: its role and indices, e.g. ("market", 2), ("bracket", 2, 0).
Key = tuple[object, ...]


class Layout:
    """The records of one encoding in order, with their offsets, from a plan."""

    def __init__(self, plan: Sequence[tuple[Key, Record]]) -> None:
        self.plan = tuple(plan)
        self.offsets: dict[Key, int] = {}
        at = 0
        for key, record in self.plan:
            self.offsets[key] = at
            at += len(record)
        self.length = at
        self._records = dict(self.plan)

    def offset(self, *key: object) -> int:
        return self.offsets[key]

    def view(self, seq: Sequence[T], *key: object) -> View[T]:
        """The record `key` of an encoded sequence: fields by name."""
        return View(self._records[key], seq, self.offsets[key])

    def encode(self, values: Mapping[Key, Mapping[str, int | str]]) -> list[int]:
        """The encoding: every planned record from its values (`values[key]`)."""
        if len(values) != len(self.plan) or set(values) != set(self.offsets):
            raise EncodingError(f"records missing or unknown: {sorted(map(str, set(values) ^ set(self.offsets)))}")
        out: list[int] = []
        for key, record in self.plan:
            out += record.encode(values[key])
        return out

    def decode(self, seq: Sequence[int]) -> dict[Key, dict[str, int]]:
        """Every record's field elements by name (text fields stay field elements)."""
        if len(seq) != self.length:
            raise EncodingError(f"{len(seq)} elements, the layout has {self.length}")
        return {
            key: {
                f.name: seq[self.offsets[key] + i] if f.text else f.decode(seq[self.offsets[key] + i])
                for i, f in enumerate(record.fields)
            }
            for key, record in self.plan
        }


def _snapshot_plan(
    n_assets: int, markets: tuple[tuple[int, int], ...], n_price_moves: int, n_vol_moves: int
) -> Iterator[tuple[Key, Record]]:
    n_scenarios = n_price_moves * n_vol_moves + 2
    yield ("header",), SNAPSHOT_HEADER
    yield ("price_moves",), MOVE_COUNT
    for i in range(n_price_moves):
        yield ("price_move", i), MOVE
    yield ("vol_moves",), MOVE_COUNT  # the moves themselves are in the options' scenario values
    yield ("grid",), GRID
    for j in range(n_assets):
        yield ("asset", j), ASSET
    for k, (kind, n_brackets) in enumerate(markets):
        yield ("market", k), MARKET
        if kind == KIND_PERPETUAL:
            yield ("perpetual", k), PERPETUAL
        if kind == KIND_OPTION:
            yield ("option", k), OPTION
            for s in range(n_scenarios):
                yield ("scenario", k, s), SCENARIO
        else:
            yield ("linear_risk", k), LINEAR_RISK
            for b in range(n_brackets):
                yield ("bracket", k, b), BRACKET


@cache
def snapshot_layout(
    n_assets: int, markets: tuple[tuple[int, int], ...], n_price_moves: int, n_vol_moves: int
) -> Layout:
    """The snapshot encoding's layout: header, grid (price moves, vol moves, grid
    parameters), the assets, then per market its record, a perpetual's funding index,
    and an option's record and scenarios (n_price_moves * n_vol_moves + 2 of them) or a
    linear market's risk record and brackets. `markets` is (kind, bracket count) each."""
    return Layout(list(_snapshot_plan(n_assets, markets, n_price_moves, n_vol_moves)))


@cache
def account_layout(n_assets: int, market_kinds: tuple[int, ...]) -> Layout:
    """The account encoding's layout: header, a collateral amount per asset, a position
    slot per market of its kind's record (dense: a market without a position is a zero
    position)."""
    plan: list[tuple[Key, Record]] = [(("account",), ACCOUNT_HEADER)]
    plan += [(("collateral", j), COLLATERAL) for j in range(n_assets)]
    plan += [(("position", k), POSITION_RECORDS[kind]) for k, kind in enumerate(market_kinds)]
    return Layout(plan)
