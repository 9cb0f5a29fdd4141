"""`zkmargin solvency verify | inclusion | check-inclusion`: the auditor's and the user's
side of a solvency round (`cli._solvency` has the venue's). Both checks take the
published key (the ledger holds whatever key the venue recorded) and load the engine to
tie the snapshot's JSON (names, decimals) to the encoding the proofs hashed and, for
`check-inclusion`, to recompute the user's commitment.

Exit codes: 0 SOLVENT / OK (with a table), 1 INVALID naming the first violation, 2 bad
input (ERROR: ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger import Inclusion, Ledger, SolvencyRound, UnknownEpochError, inclusion_of, inclusion_problem
from verifier import VerifyingKey

from ._base import EXIT_INVALID, _err, _out, _say, reported_errors

LedgerPath = Annotated[Path, typer.Option("--ledger", "-l", help="The ledger (SQLite).")]
EpochNumber = Annotated[int, typer.Option("--epoch", "-e", min=0, help="The epoch.")]
PublishedKey = Annotated[
    Path,
    typer.Option(
        "--verification-key",
        help="The solvency circuit's published verification key (check it against the circuit with "
        "`zkmargin zkey verify`): the round must use it.",
    ),
]


def solvency_verify(ledger: LedgerPath, epoch: EpochNumber, verification_key: PublishedKey) -> None:
    """Check the epoch's solvency round: the key is the published one, the snapshot's JSON
    is what the proofs hashed, the tree, the chain of batches, every proof (one batch
    verification), zero net positions, reserves and insurance fund."""
    with reported_errors(), Ledger.open(ledger, create=False) as db:
        rnd = _round(db, epoch)
        problem = _round_problem(db, rnd, verification_key)
    print_round(rnd)
    if problem is not None:
        _say(_out, f"INVALID: {problem}", "bold red")
        raise typer.Exit(EXIT_INVALID)
    _say(_out, f"SOLVENT: {rnd.accounts} accounts in {len(rnd.batches)} verified batches", "bold green")


def solvency_inclusion(
    ledger: LedgerPath,
    epoch: EpochNumber,
    account: Annotated[str, typer.Option("--account", "-a", help="The account id.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the inclusion proof here (else stdout).")
    ] = None,
) -> None:
    """An account's leaf index and Merkle path in the epoch's solvency round."""
    with reported_errors(), Ledger.open(ledger, create=False) as db:
        inclusion = inclusion_of(db.registered(epoch), _round(db, epoch), account)
        if out is None:
            print(inclusion.to_json())
        else:
            out.write_text(inclusion.to_json() + "\n")
            _say(_err, f"wrote {out}: leaf {inclusion.index} of {inclusion.accounts}", "green")


def solvency_check_inclusion(
    ledger: LedgerPath,
    epoch: EpochNumber,
    account_file: Annotated[Path, typer.Option("--account-file", help="Your account JSON, as the venue holds it.")],
    salt_file: Annotated[Path, typer.Option("--salt-file", help="Your commitment's salt for this epoch.")],
    verification_key: PublishedKey,
    inclusion: Annotated[
        Path | None, typer.Option("--inclusion", help="The inclusion proof you were given (else computed here).")
    ] = None,
) -> None:
    """Recompute your commitment from your own account file and salt and check that the
    epoch's verified solvency round counts it (a leaf of its root, inside its range)."""
    from engine import MarketSnapshot, commit, load_account, read_salt_file

    with reported_errors(), Ledger.open(ledger, create=False) as db:
        rnd = _round(db, epoch)
        snapshot = MarketSnapshot.model_validate_json(db.epoch(epoch).snapshot_json)
        account = load_account(account_file)
        commitment = commit(account, snapshot, read_salt_file(salt_file))
        proof = inclusion_of(db.registered(epoch), rnd, account.id) if inclusion is None else Inclusion.load(inclusion)
        problem = inclusion_problem(proof, commitment, rnd)
        if problem is None and (round_problem := _round_problem(db, rnd, verification_key)) is not None:
            problem = f"the round itself: {round_problem}"
    if problem is not None:
        _say(_out, f"INVALID: {problem}", "bold red")
        raise typer.Exit(EXIT_INVALID)
    _say(
        _out,
        f"OK: {account.id} is leaf {proof.index} of the {rnd.accounts} accounts of epoch {epoch}'s verified "
        f"solvency round (root {rnd.merkle_root:#x})",
        "bold green",
    )


def _round_problem(db: Ledger, rnd: SolvencyRound, verification_key: Path) -> str | None:
    """The round against the published key and the ledger, the snapshot's JSON tied to its
    hashed encoding by the engine (`engine.snapshot_encoding_problem`)."""
    from engine import snapshot_encoding_problem

    if not _same_key(VerifyingKey.load(verification_key), rnd):
        return f"the round's verification key is not the published {verification_key}"
    return db.solvency_problem(rnd, snapshot_encoding_problem)


def _same_key(vk: VerifyingKey, rnd: SolvencyRound) -> bool:
    """The same key material (a dev key's notice aside)."""
    keep = {"setup_notice"}
    return vk.model_dump(exclude=keep) == rnd.verifying_key.model_dump(exclude=keep)


def _round(db: Ledger, epoch: int) -> SolvencyRound:
    rnd = db.solvency(epoch)
    if rnd is None:
        db.epoch(epoch)  # UnknownEpochError first
        raise UnknownEpochError(f"epoch {epoch} has no solvency round (run `zkmargin solvency prove`)")
    return rnd


def print_round(rnd: SolvencyRound) -> None:
    """The round's liabilities beside the reserves, in a table."""
    t, r = rnd.totals, rnd.reserves
    table = Table(title=f"epoch {rnd.epoch}: solvency ({rnd.accounts} accounts)", title_justify="left")
    for col in ("liability", "owed to users", "held", "margin"):
        table.add_column(col, justify="right" if col != "liability" else "left")
    for symbol, owed in t.collateral:
        held = r.assets.get(symbol, 0)
        table.add_row(f"{symbol} (quantums)", f"{owed:,}", f"{held:,}", f"{held - owed:,}")
    table.add_row("quote (micro)", f"{t.quote_liability:,}", f"{r.quote:,}", f"{r.quote - t.quote_liability:,}")
    fund = r.insurance_fund
    table.add_row("bad debt (micro)", f"{t.bad_debt_quote:,}", f"{fund:,} (fund)", f"{fund - t.bad_debt_quote:,}")
    _out.print(table)
    nonzero = [f"{m} {n:+,}" for m, n in t.net if n]
    _say(_out, "net positions: " + (", ".join(nonzero) if nonzero else f"all {len(t.net)} markets zero"), "")
