"""The public ledger explorer: a read-only web app over a zkmargin ledger.

    zkmargin ledger serve ledger.db [--host 127.0.0.1] [--port 8000]

Pages for the epochs, an epoch (statement, snapshot in readable units, every
commitment with its verdict, settlement facts, solvency totals), an entry (content,
recomputed hashes, its line of the chain) and the audit, and a JSON API for all of it
(`/openapi.json`). The SQLite file is opened read-only (`Ledger.open(read_only=True)`);
each request reads one consistent snapshot while another process appends.

This package imports the ledger (and, through it, the verifier) only: never the
prover, circuits or engine.
"""

from ._app import MAX_PAGE_SIZE, PAGE_SIZE, create_app
from ._views import DOCUMENTS, NotFound

__all__ = ["DOCUMENTS", "MAX_PAGE_SIZE", "PAGE_SIZE", "NotFound", "create_app"]
