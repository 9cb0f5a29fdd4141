"""The explorer's routes: pages (Jinja2 templates) and the JSON API they render.

    /                               the epochs, newest first (?page=)
    /epochs/{n}                     an epoch: statement, snapshot, counts, accounts (?page=&size=),
                                    settlement facts, solvency totals
    /epochs/{n}/verification_key.json, /epochs/{n}/snapshot.json
    /entries/{seq}                  an entry: content, hashes (recomputed), its line of the chain
    /entries/{seq}/{name}.json      a document of the entry (proof, public, verification_key, ...)
    /audit                          the audit, run here (cached per head), and how to repeat it
    /api/...                        the same as JSON; /openapi.json describes it

Every request opens the ledger read-only and reads in one transaction. Unknown epochs,
entries and documents are 404 with the reason; malformed or oversized parameters 422;
anything else 500 with no traceback.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger import AuditReport, Ledger, audit_ledger

from . import _views as views

MAX_PAGE_SIZE = 500
#: Seconds an audit report stands before a visit starts a new one (at the same head).
AUDIT_MAX_AGE = 300.0
PAGE_SIZE = 50
T = TypeVar("T")

Epoch = Annotated[int, PathParam(ge=0, le=2**63 - 1, description="An epoch number.")]
Seq = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="An entry's sequence number.")]
Page = Annotated[int, Query(ge=1, le=10**9, alias="page", description="Page number, from 1.")]
Size = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page, at most {MAX_PAGE_SIZE}.")]
Offset = Annotated[int, Query(ge=0, le=10**12)]


class _Audits:
    """The audit, run in one background thread on its own read-only connection, never
    inside a request: a request gets the last finished report and whether it covers the
    current head, and starts a new audit when none runs and the last one is for another
    head or older than `max_age` seconds (an edit in the middle of the chain leaves the
    head as it was: only a new audit sees it)."""

    def __init__(self, path: Path, max_age: float) -> None:
        self._path, self._max_age = path, max_age
        self._lock = threading.Lock()
        self._report: dict[str, Any] | None = None
        self._thread: threading.Thread | None = None

    def status(self, head: tuple[int, str]) -> dict[str, Any]:
        with self._lock:
            report = self._report
            current = (
                report is not None
                and (report["head_seq"], report["head"]) == head
                and time.time() - report["finished_at"] <= self._max_age
            )
            running = self._thread is not None and self._thread.is_alive()
            if not current and not running:
                self._thread = threading.Thread(target=self._run, name="explorer-audit", daemon=True)
                self._thread.start()
                running = True
        return {"status": "done" if current else "running", "current": current, "report": report}

    def _run(self) -> None:
        started = time.time()
        try:
            with Ledger.open(self._path, read_only=True) as ledger, ledger.reading():
                key = ledger.head()
                report = _audit_document(audit_ledger(ledger), key)
        except Exception as exc:  # the report says what stopped the audit
            report = _audit_document(AuditReport(), (-1, ""))
            report.update(ok=False, problems=[f"the audit could not run: {type(exc).__name__}: {exc}"])
        report.update(
            started_at=views.utc_text(started), finished_at=time.time(), seconds=round(time.time() - started, 3)
        )
        with self._lock:
            self._report = views.safe(report)


def _audit_document(report: AuditReport, key: tuple[int, str]) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "entries": report.entries,
        "epochs": report.epochs,
        "proofs_verified": report.proofs_verified,
        "head_seq": key[0],
        "head": key[1],
        "problems": [str(p) for p in report.problems],
        "problem_entries": sorted({p.seq for p in report.problems if p.seq}),
    }


def create_app(path: str | Path, *, audit_max_age: float = AUDIT_MAX_AGE) -> FastAPI:
    """The explorer of the ledger at `path` (NotALedgerError now if it is not one);
    an audit report older than `audit_max_age` seconds is redone."""
    path = Path(path)
    Ledger.open(path, read_only=True).close()
    app = FastAPI(
        title="zkmargin ledger explorer",
        description="Read-only views of a zkmargin settlement ledger: epochs, commitments, verdicts, "
        "proofs, the hash chain and the audit.",
        docs_url=None,
        redoc_url=None,
    )
    templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
    audits = _Audits(path, audit_max_age)

    @contextmanager
    def reading() -> Iterator[Ledger]:
        with Ledger.open(path, read_only=True) as ledger, ledger.reading():
            yield ledger

    def read(fn: Callable[[Ledger], T]) -> T:
        with reading() as ledger:
            try:
                return views.safe(fn(ledger))  # type: ignore[no-any-return]
            except views.NotFound as exc:
                raise HTTPException(404, str(exc)) from exc

    def page(request: Request, template: str, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, template, {"ledger_name": path.name, **context})

    def download(text: str, name: str) -> Response:
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(text, media_type="application/json", headers=headers)

    _register_errors(app, templates, path.name)

    # ---- the JSON API -------------------------------------------------------------------
    @app.get("/api/epochs", tags=["api"], summary="The epochs, newest first")
    def api_epochs(offset: Offset = 0, limit: Size = PAGE_SIZE) -> dict[str, Any]:
        return read(lambda ledger: views.overview(ledger, offset, limit))

    @app.get("/api/epochs/{epoch}", tags=["api"], summary="An epoch's statement, snapshot, counts, facts")
    def api_epoch(epoch: Epoch) -> dict[str, Any]:
        return read(lambda ledger: views.epoch_view(ledger, epoch))

    @app.get("/api/epochs/{epoch}/accounts", tags=["api"], summary="A page of an epoch's commitments and verdicts")
    def api_accounts(epoch: Epoch, offset: Offset = 0, limit: Size = PAGE_SIZE) -> dict[str, Any]:
        return read(lambda ledger: views.accounts_page(ledger, epoch, offset, limit))

    @app.get("/api/entries/{seq}", tags=["api"], summary="An entry, its hashes and its line of the chain")
    def api_entry(seq: Seq) -> dict[str, Any]:
        return read(lambda ledger: views.entry_view(ledger, seq))

    @app.get("/api/head", tags=["api"], summary="The chain's head")
    def api_head() -> dict[str, Any]:
        return read(views.head)

    @app.get("/api/audit", tags=["api"], summary="The last audit of the whole ledger, and whether it is current")
    def api_audit() -> dict[str, Any]:
        return read(lambda ledger: audits.status(ledger.head()))

    # ---- documents ------------------------------------------------------------------------
    @app.get("/epochs/{epoch}/verification_key.json", tags=["documents"])
    def epoch_key(epoch: Epoch) -> Response:
        key = read(lambda ledger: views.epoch_document(ledger, epoch, "verification_key_json"))
        return download(key, f"epoch-{epoch}-verification_key.json")

    @app.get("/epochs/{epoch}/snapshot.json", tags=["documents"])
    def epoch_snapshot(epoch: Epoch) -> Response:
        snapshot = read(lambda ledger: views.epoch_document(ledger, epoch, "snapshot_json"))
        return download(snapshot, f"epoch-{epoch}-snapshot.json")

    @app.get("/entries/{seq}/{name}.json", tags=["documents"])
    def entry_document(seq: Seq, name: str) -> Response:
        return download(read(lambda ledger: views.document(ledger, seq, name)), f"entry-{seq}-{name}.json")

    # ---- pages ----------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request, page_number: Page = 1) -> HTMLResponse:
        data = read(lambda ledger: views.overview(ledger, (page_number - 1) * PAGE_SIZE, PAGE_SIZE))
        return page(request, "index.html", data=data, page=page_number)

    @app.get("/epochs/{epoch}", response_class=HTMLResponse, include_in_schema=False)
    def epoch_page(
        request: Request,
        epoch: Epoch,
        page_number: Page = 1,
        size: Size = PAGE_SIZE,
    ) -> HTMLResponse:
        def both(ledger: Ledger) -> tuple[dict[str, Any], dict[str, Any]]:
            return views.epoch_view(ledger, epoch), views.accounts_page(ledger, epoch, (page_number - 1) * size, size)

        data, accounts = read(both)
        return page(request, "epoch.html", data=data, accounts=accounts, page=page_number, size=size)

    @app.get("/entries/{seq}", response_class=HTMLResponse, include_in_schema=False)
    def entry_page(request: Request, seq: Seq) -> HTMLResponse:
        return page(request, "entry.html", data=read(lambda ledger: views.entry_view(ledger, seq)))

    @app.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(request: Request) -> HTMLResponse:
        def both(ledger: Ledger) -> tuple[dict[str, Any], dict[str, int] | None, dict[str, Any]]:
            return audits.status(ledger.head()), views.newest_accepted_proof(ledger), views.head(ledger)

        audit, proof, now = read(both)
        return page(request, "audit.html", audit=audit, report=audit["report"], proof=proof, now=now,
                    base=str(request.base_url).rstrip("/"), command_path=shlex.quote(path.name))  # fmt: skip

    return app


def _register_errors(app: FastAPI, templates: Jinja2Templates, name: str) -> None:
    """404 and 422 with their reason (JSON under /api and for documents, a page
    otherwise); any other exception a 500 without a traceback."""

    def respond(request: Request, status: int, reason: str) -> Response:
        if request.url.path.startswith("/api") or request.url.path.endswith(".json"):
            return JSONResponse({"detail": reason}, status_code=status)
        context = {"ledger_name": name, "status": status, "reason": reason}
        return templates.TemplateResponse(request, "error.html", context, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return respond(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        return respond(request, 422, reasons)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        return respond(request, 500, f"internal error ({type(exc).__name__})")
