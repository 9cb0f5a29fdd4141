"""Shared pieces of the `zkmargin` CLI: the apps, consoles, exit codes, error lines."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text


class RequirementChoice(StrEnum):
    """--requirement: what equity must meet (ledger.Requirement)."""

    maintenance = "maintenance"
    initial = "initial"


EXIT_OK = 0
EXIT_INVALID = 1
EXIT_ERROR = 2

_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)


def _say(console: Console, text: str, style: str) -> None:
    # soft_wrap: a reason stays on one line however long; Text: no markup in messages.
    console.print(Text(text, style=style), soft_wrap=True)


def _fail(message: str) -> NoReturn:
    _say(_err, f"ERROR: {message}", "bold red")
    raise typer.Exit(EXIT_ERROR)


#: (package, error base) of the errors that mean "bad input", reported as one ERROR line
#: with exit 2. Looked up among the packages a command loaded: a command that imports
#: only the ledger and the verifier (`ledger audit`) never loads the others.
_INPUT_ERRORS = (
    ("algebra", "FileFormatError"),
    ("algebra", "EncodingError"),
    ("verifier", "VerificationInputError"),
    ("ledger", "LedgerError"),
    ("prover", "ProverError"),
    ("circuits", "CircuitError"),
    ("engine", "EngineError"),
)


def input_errors() -> tuple[type[Exception], ...]:
    """The bad-input error bases of the packages loaded so far (an error of a package
    that is not loaded cannot be raised)."""
    return tuple(getattr(sys.modules[m], name) for m, name in _INPUT_ERRORS if m in sys.modules)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn bad input and unreadable files into one ERROR line and exit 2."""
    try:
        yield
    except OSError as exc:
        _fail(f"cannot read or write {exc.filename or 'a file'}: {exc.strerror or exc}")
    except Exception as exc:
        if not isinstance(exc, input_errors()):
            raise
        _fail(f"{type(exc).__name__}: {exc}")


@contextmanager
def stages(total: int, console: Console | None = None, first: str = "starting") -> Iterator[Callable[[str], None]]:
    """A rich progress bar (on stderr by default) advanced by `on_stage(name)` callbacks."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console or _err,
        transient=True,
    ) as progress:
        task = progress.add_task(first, total=total)

        def on_stage(name: str) -> None:
            progress.update(task, description=name, advance=1)

        yield on_stage
