"""`zkmargin ledger serve <ledger.db> [--host 127.0.0.1] [--port 8000]`: the explorer.

A read-only web app over the ledger (`explorer`): the epochs, each epoch's statement,
snapshot, commitments and verdicts, its settlement and solvency, every entry of the
hash chain, the audit, and a JSON API (`/openapi.json`). It serves until interrupted;
a file that is not a ledger exits 2 at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._base import _err, _say, reported_errors


def ledger_serve(
    ledger: Annotated[Path, typer.Argument(help="The ledger to show (opened read-only).")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Serve the ledger explorer: pages and a JSON API, read-only."""
    import uvicorn

    from explorer import create_app

    with reported_errors():
        app = create_app(ledger)
    _say(_err, f"explorer of {ledger} on http://{host}:{port}/ (read-only; Ctrl-C stops it)", "green")
    uvicorn.run(app, host=host, port=port, log_level="warning")
