"""Units, bounds and the two rounding helpers of the margin engine.

Every quantity the engine handles is a Python ``int`` in one of these units:

- quote amounts (equity, balances, requirements, cost basis): micro-quote, 1e-6 of the
  quote currency (USDC); signed where they can be negative; ``abs(v) < 2**96``.
- prices: micro-quote per ONE whole unit of the base asset ($65,000.5 is
  65_000_500_000); ``0 < p < 2**48`` (option prices per contract may be 0).
- position sizes: quantums of the market, whole units = size / 10**size_decimals;
  signed, long > 0; ``abs(s) < 2**64``.
- collateral amounts and open interest: quantums of the asset / market (10**decimals
  per whole unit); ``0 <= a < 2**64``.
- ratios, fractions, weights: parts per million (ppm), 1_000_000 = 100%; within
  ``[0, 10**6]`` unless documented (scenario moves: ``(-10**6, 10**7]``; initial
  multiplier: ``[10**6, 10**7]``).
- volatility: annualised sigma in ppm (800_000 = 80%); ``0 < v <= 10**7``.
- funding index: cumulative micro-quote per whole unit, signed; ``abs(f) < 2**64``.
- scenario value changes: micro-quote per contract, signed; ``abs(v) < 2**52``.
- times: unix seconds, ``0 <= t < 2**40``. decimals: ``0 <= d <= 18``.

Values beyond a bound are rejected with `ValueOutOfRangeError` (or a subclass) when the
model holding them is built.

The bounds keep every product and sum the engine forms far below the BN254 scalar
field (r ~ 2**254), so the margin circuit can reproduce each formula without
wrapping modulo r (DESIGN.md, decision 6): a size times a price is below 2**112, a
collateral amount times price times weight below 2**132, sums over 2**16 terms below
2**150.

Rounding: every division names its direction and the direction favours solvency.
Requirements and liabilities round up (:func:`ceil_div`), equity and collateral
values round down (:func:`floor_div`). Python's ``//`` is floor division for negative
numerators too, which is what the formulas mean.
"""

from __future__ import annotations

from circuits import (
    AMOUNT_BITS,
    FUNDING_BITS,
    PRICE_BITS,
    QUOTE_BITS,
    SIZE_BITS,
    TIME_BITS,
    VALUE_CHANGE_BITS,
)
from circuits import MAX_DECIMALS as MAX_DECIMALS  # the encodings' units are the engine's
from circuits import PPM as PPM

#: Decimals of the quote currency: quote amounts are in 10**-6 units.
QUOTE_DECIMALS = 6
#: One whole quote unit (1 USDC) in micro-quote.
QUOTE_UNIT = 10**QUOTE_DECIMALS

# The bounds are the encodings' declared bounds (circuits._encoding): one fact, one place.
#: abs(size) < SIZE_BOUND (position sizes, signed quantums).
SIZE_BOUND = 2**SIZE_BITS
#: 0 < price < PRICE_BOUND (micro-quote per whole unit).
PRICE_BOUND = 2**PRICE_BITS
#: abs(quote amount) < QUOTE_BOUND (micro-quote).
QUOTE_BOUND = 2**QUOTE_BITS
#: 0 <= collateral amount < AMOUNT_BOUND (asset quantums); also open interest.
AMOUNT_BOUND = 2**AMOUNT_BITS
#: abs(funding index) < FUNDING_BOUND (micro-quote per whole unit).
FUNDING_BOUND = 2**FUNDING_BITS
#: abs(per-contract scenario value change) < VALUE_CHANGE_BOUND (micro-quote).
VALUE_CHANGE_BOUND = 2**VALUE_CHANGE_BITS
#: 0 < volatility <= VOL_MAX_PPM (annualised sigma, ppm; 1000%).
VOL_MAX_PPM = 10 * PPM
#: 0 <= unix time < TIME_BOUND.
TIME_BOUND = 2**TIME_BITS
#: 10**6 <= initial multiplier of the portfolio scenario requirement <= this (10x).
MAX_MULTIPLIER_PPM = 10 * PPM
#: Signed price / volatility moves of a scenario grid: abs(move) <= this (ppm, 1000%).
MAX_MOVE_PPM = 10 * PPM


def ceil_div(numerator: int, denominator: int) -> int:
    """ceil(numerator / denominator) for a positive denominator: the rounding of
    requirements and liabilities (never below the exact quotient)."""
    if denominator <= 0:
        raise ZeroDivisionError(f"ceil_div needs a positive denominator, got {denominator}")
    return -((-numerator) // denominator)


def floor_div(numerator: int, denominator: int) -> int:
    """floor(numerator / denominator) for a positive denominator: the rounding of equity
    and collateral values (never above the exact quotient)."""
    if denominator <= 0:
        raise ZeroDivisionError(f"floor_div needs a positive denominator, got {denominator}")
    return numerator // denominator


def pow10(decimals: int) -> int:
    """10**decimals, the number of quantums in one whole unit."""
    return 10**decimals


def whole_units(quantums: int, decimals: int) -> str:
    """A quantum count as an exact decimal string in whole units (for messages and tables)."""
    sign = "-" if quantums < 0 else ""
    q, r = divmod(abs(quantums), 10**decimals)
    if decimals == 0:
        return f"{sign}{q}"
    frac = str(r).rjust(decimals, "0").rstrip("0")
    return f"{sign}{q}.{frac}" if frac else f"{sign}{q}"
