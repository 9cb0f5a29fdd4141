"""`zkmargin settlement setup` (the transition circuit's keys) and how an epoch's
settlement is printed (`epoch run --settle`, `ledger show --epoch N`).

    zkmargin settlement setup --snapshot <snapshot.json> --out-dir <dir> (--ptau <pot.ptau> | --dev)
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledger import Ledger, SettlementFacts, quote_units

from ._base import _out, _say, reported_errors


def settlement_setup(
    snapshot: Annotated[Path, typer.Option("--snapshot", "-s", help="snapshot.json: the circuit takes its shape.")],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help="Folder for transition.r1cs, .zkey and its vk.")],
    ptau: Annotated[Path | None, typer.Option("--ptau", help="A powers-of-tau file prepared for phase 2.")] = None,
    dev: Annotated[bool, typer.Option("--dev", help="INSECURE single-party setup (tests and demos).")] = False,
) -> None:
    """Compile the settlement transition circuit for a snapshot's shape and make its keys."""
    from engine import load_snapshot, save_transition_circuit, transition_circuit_for
    from prover import read_ptau

    from ._setup import KeyFiles, check_setup_choice, report_keys, write_keys

    check_setup_choice(ptau, dev)
    start = time.perf_counter()
    files = KeyFiles(out_dir, "transition.r1cs", "transition.zkey", "transition_verification_key.json")
    with reported_errors():
        snapshot_obj = load_snapshot(snapshot)
        ptau_file = read_ptau(ptau) if ptau is not None else None
        circuit = transition_circuit_for(snapshot_obj)
        key = write_keys(circuit, files, ptau_file)
        save_transition_circuit(snapshot_obj, files.path(files.zkey))
    cs = circuit.cs
    _say(_out, f"transition circuit: {cs.n_constraints:,} constraints, {cs.n_public} public", "")
    report_keys(files, key, ptau_file is not None, time.perf_counter() - start)


def _optional(value: int | None, quote: bool = False) -> str:
    if value is None:
        return "-"
    return quote_units(value) if quote else f"{value:,}"


def print_settlement(db: Ledger, epoch: int, console: Console = _out) -> None:
    """The epoch's settlement facts, market facts and transitions (nothing when unsettled)."""
    settled = db.settlement(epoch)
    if settled is None:
        return
    facts = settled[0]
    _print_fund(facts, console)
    markets = Table(title=f"epoch {epoch}: funding and settlement prices (quote per whole unit)", title_justify="left")
    for col in ("market", "funding index", "change since last epoch", "rate (ppm of mark)", "settlement price"):
        markets.add_column(col, justify="left" if col == "market" else "right")
    for m in facts.markets:
        markets.add_row(
            m.market,
            _optional(m.funding_index, True),
            _optional(m.funding_change, True),
            _optional(m.funding_rate_ppm),
            _optional(m.settlement_price, True),
        )
    console.print(markets)
    transitions = db.transitions(epoch)
    table = Table(title=f"epoch {epoch}: how each commitment came from the previous epoch's", title_justify="left")
    for col in ("account", "transition", "reason"):
        table.add_column(col)
    for t in transitions:
        style = "green" if t.kind == "proven" else "red" if t.kind == "liquidated" else "yellow"
        table.add_row(t.account, f"[{style}]{t.kind}", t.reason)
    console.print(table)
    counts = Counter(t.kind for t in transitions)
    console.print("transitions: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())), highlight=False)


def _print_fund(facts: SettlementFacts, console: Console) -> None:
    origin = f"from epoch {facts.previous_epoch}" if facts.previous_epoch is not None else "the ledger's first"
    console.print(f"epoch {facts.epoch} settled ({origin})", style="bold", highlight=False)
    table = Table(title="insurance fund", title_justify="left")
    table.add_column("")
    table.add_column("quote", justify="right")
    rows = (
        ("fund before", facts.fund_before),
        ("funding paid in", facts.funding_delta),
        ("expiry paid in", facts.expiry_delta),
        ("liquidation fees", sum(x.penalty for x in facts.liquidations)),
        ("bad debt covered", -sum(x.fund_used for x in facts.liquidations)),
        ("fund after", facts.fund_after),
    )
    for name, value in rows:
        table.add_row(name, quote_units(value))
    console.print(table)
    console.print(f"liquidations: {len(facts.liquidations)}", highlight=False)
    for x in facts.liquidations:
        console.print(
            f"  {x.account}: {x.closes} position(s) closed, fee {quote_units(x.penalty)}, fund covered "
            f"{quote_units(x.fund_used)}, deleveraged {quote_units(x.deleveraged_shortfall)}; "
            f"commitment {x.commitment:#x}",
            highlight=False,
        )
    for d in facts.deleveraged:
        console.print(f"  deleveraged: {d.account}; commitment {d.commitment:#x}", highlight=False)
