"""CLI commands of the margin engine:

    zkmargin margin <account.json> --snapshot <snapshot.json> [--table] [--check]
    zkmargin schema [NAME]

`margin` prints the account's MarginReport as JSON on stdout (``--table``: rich tables
instead) and exits 0 whether or not the account is healthy; with ``--check`` it exits
1 when the account is liquidatable. Malformed or inconsistent input (a negative
collateral amount, an unknown market, a stale snapshot with ``--max-age``, an
overflowing size, bad JSON) is one ``ERROR: <ErrorName>: ...`` line on stderr and exit
2. `schema` prints the JSON Schemas of the engine's models (all, by name, or one).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from engine import (
    MODELS,
    QUOTE_DECIMALS,
    MarginReport,
    MarketSnapshot,
    UnknownSchemaError,
    compute_margin,
    json_schemas,
    load_account,
    load_snapshot,
    whole_units,
)

from ._base import EXIT_INVALID, _out, reported_errors


def format_quote(micro: int | None, places: int = QUOTE_DECIMALS) -> str:
    """Micro-quote as a decimal with thousands separators, rounded half up (in magnitude)
    to `places` decimals (exact by default): 1234567890 -> 1,234.56789 or, with 2, 1,234.57."""
    if micro is None:
        return "-"
    step = 10 ** (QUOTE_DECIMALS - places)
    units = (abs(micro) + step // 2) // step
    sign = "-" if micro < 0 and units else ""
    q, r = divmod(units, 10**places)
    frac = str(r).rjust(places, "0") if places else ""
    return f"{sign}{q:,}" + (f".{frac}" if frac else "")


def format_ppm(ppm: int | None) -> str:
    """ppm as a percentage with up to four decimals (exact): 21663 -> 2.1663%."""
    if ppm is None:
        return "-"
    sign = "-" if ppm < 0 else ""
    q, r = divmod(abs(ppm), 10**4)
    frac = str(r).rjust(4, "0").rstrip("0")
    return f"{sign}{q}" + (f".{frac}" if frac else "") + "%"


def describe_scenario(snapshot: MarketSnapshot, index: int) -> str:
    """'#20: price +15%, vol +25%' or '#21: extreme price -33%' for scenario `index` of the grid."""
    sc = snapshot.grid.scenarios()[index]
    signed_pct = ("+" if sc.price_move_ppm > 0 else "") + format_ppm(sc.price_move_ppm)
    if sc.extreme:
        return f"#{index}: extreme price {signed_pct}"
    vol_pct = ("+" if sc.vol_move_ppm > 0 else "") + format_ppm(sc.vol_move_ppm)
    return f"#{index}: price {signed_pct}, vol {vol_pct}"


def print_report_table(report: MarginReport, snapshot: MarketSnapshot, console: Console) -> None:
    """The report as rich tables: summary, positions, portfolios."""
    verdict = "[bold green]healthy[/]" if report.healthy else "[bold red]LIQUIDATABLE[/]"
    summary = Table(title=f"margin of {report.account_id} at epoch {report.epoch}", show_header=False)
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    summary.add_row("margin mode", report.margin_mode)
    summary.add_row("collateral value", format_quote(report.collateral_value))
    summary.add_row("equity (cross)", format_quote(report.equity))
    summary.add_row("initial requirement", format_quote(report.initial_requirement))
    summary.add_row("maintenance requirement", format_quote(report.maintenance_requirement))
    summary.add_row("free collateral", format_quote(report.free_collateral))
    summary.add_row("margin ratio", format_ppm(report.margin_ratio_ppm))
    summary.add_row("total equity (with isolated)", format_quote(report.total_equity))
    summary.add_row("verdict", verdict)
    summary.add_row("snapshot hash", report.snapshot_hash[:20] + "...")
    console.print(summary)

    if report.positions:
        table = Table(title="positions (amounts in quote units, rounded to cents)")
        for header in ("market", "margin", "size", "mark", "notional", "value", "IMR", "MMR", "liq. price", "delta"):
            left = header in ("market", "margin")
            table.add_column(header, justify="left" if left else "right", no_wrap=header == "market")
        for p in report.positions:
            d = snapshot.market(p.market).size_decimals
            margin: str = p.margin
            if p.healthy is not None:
                margin += " [green]ok[/]" if p.healthy else " [red]LIQ[/]"
            if p.expired:
                margin += " (expired)"
            table.add_row(
                p.market,
                margin,
                whole_units(p.size, d),
                format_quote(p.mark_price, 2),
                format_quote(p.notional, 2),
                format_quote(p.value, 2),
                format_quote(p.initial_requirement, 2),
                format_quote(p.maintenance_requirement, 2),
                format_quote(p.liquidation_price, 2),
                whole_units(p.greeks.delta_ppm, 6),
            )
        console.print(table)

    if report.portfolios:
        table = Table(title="portfolio margin (scenario grid)")
        for header in ("underlying", "markets", "worst scenario", "scan", "short option min", "MMR", "IMR"):
            left = header in ("underlying", "markets")
            table.add_column(header, justify="left" if left else "right", no_wrap=header == "markets")
        for pf in report.portfolios:
            table.add_row(
                pf.underlying,
                "\n".join(pf.markets),
                "-" if pf.worst_scenario is None else describe_scenario(snapshot, pf.worst_scenario),
                format_quote(pf.scan_requirement, 2),
                format_quote(pf.short_option_minimum, 2),
                format_quote(pf.maintenance_requirement, 2),
                format_quote(pf.initial_requirement, 2),
            )
        console.print(table)


def margin(
    account: Annotated[Path, typer.Argument(help="account.json (an Account).")],
    snapshot: Annotated[Path, typer.Option("--snapshot", "-s", help="snapshot.json (a MarketSnapshot).")],
    table: Annotated[bool, typer.Option("--table", help="Print rich tables instead of JSON.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when the account is liquidatable.")] = False,
    max_age: Annotated[
        int | None, typer.Option("--max-age", help="Refuse a snapshot older than this many seconds (StalePriceError).")
    ] = None,
    now: Annotated[
        int | None, typer.Option("--now", help="Current unix time for --max-age (default: the clock).")
    ] = None,
) -> None:
    """Compute an account's margin report against a market snapshot."""
    with reported_errors():
        account_obj = load_account(account)
        snapshot_obj = load_snapshot(snapshot)
        when = now if now is not None else (int(time.time()) if max_age is not None else None)
        report = compute_margin(account_obj, snapshot_obj, now=when, max_age_s=max_age)
    if table:
        # A terminal gets tables that fit it; a pipe or file gets them unabridged.
        console = _out if _out.is_terminal else Console(highlight=False, width=max(_out.width, 132))
        print_report_table(report, snapshot_obj, console)
    else:
        typer.echo(report.model_dump_json(indent=2))
    if check and report.liquidatable:
        raise typer.Exit(EXIT_INVALID)


def schema(
    name: Annotated[str | None, typer.Argument(help=f"One model ({', '.join(MODELS)}); default: all, by name.")] = None,
) -> None:
    """Print the JSON Schemas of the engine's models."""
    with reported_errors():
        if name is None:
            document: object = json_schemas()
        else:
            matches = [cls for key, cls in MODELS.items() if key.lower() == name.lower()]
            if not matches:
                raise UnknownSchemaError(f"no model named {name}; models: {', '.join(MODELS)}")
            document = matches[0].model_json_schema()
    typer.echo(json.dumps(document, indent=2))
