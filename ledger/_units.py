"""How the ledger's published numbers read: the engine's fixed units (engine/_units.py
defines them; the ledger publishes them as integers) written out for people, exactly.

- quote amounts and prices: micro-quote, 6 decimals of the quote currency;
- ratios: parts per million;
- sizes, collateral and open interest: quantums, `decimals` places per whole unit.
"""

from __future__ import annotations

#: Decimals of a quote amount or a price (micro-quote).
QUOTE_DECIMALS = 6


def decimal_units(value: int, decimals: int) -> str:
    """`value` quantums as whole units with exactly `decimals` places (-1,234.500000)."""
    sign = "-" if value < 0 else ""
    if decimals == 0:
        return f"{sign}{abs(value):,}"
    whole, frac = divmod(abs(value), 10**decimals)
    return f"{sign}{whole:,}.{frac:0{decimals}d}"


def quote_units(micro: int) -> str:
    """Micro-quote in whole units with six decimals, exactly (-1,234.500000)."""
    return decimal_units(micro, QUOTE_DECIMALS)


def ppm_percent(ppm: int) -> str:
    """Parts per million as a percentage, exactly (12.5%, 0.0001%)."""
    text = decimal_units(ppm, 4).rstrip("0").rstrip(".")
    return f"{text}%"
