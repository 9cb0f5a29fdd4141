"""The ledger explorer through the framework's test client: every page and API route, the
downloads (a proof checked here, not taken on the page's word), pagination, the audit
naming a tampered entry, and every error a 404, 422 or 500 with its reason and no
traceback. The ledger: the settled venue's epoch 7 (tests/_settling.py) with a solvency
round recorded after its close. The browser test is tests/test_explorer_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import prove_solvency, read_state, required_reserves, solvency_circuit_for
from explorer import MAX_PAGE_SIZE, create_app
from ledger import Ledger, NotALedgerError
from prover import ZkeyFile, dev_setup, write_zkey
from tests._settling import S7, copy_venue
from verifier import Proof, PublicSignals, VerifyingKey, verify

EPOCH = S7.epoch


@pytest.fixture(scope="module")
def venue(first: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the settled venue's ledger with epoch 7's solvency round recorded."""
    d = copy_venue(first, tmp_path_factory.mktemp("explorer"))
    accounts = read_state(d / "state", EPOCH)
    assert accounts is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_zkey(ZkeyFile.from_proving_key(dev_setup(solvency_circuit_for(S7, 2, 3).cs)), d / "s.zkey")
    with Ledger.open(d / "ledger.db") as ledger:
        reserves = required_reserves(accounts, S7)
        prove_solvency(ledger, EPOCH, accounts, d / "s.zkey", reserves, batch_size=2, depth=3, salts_dir=d / "salts")
    return d / "ledger.db"


@pytest.fixture(scope="module")
def client(venue: Path) -> TestClient:
    return TestClient(create_app(venue), raise_server_exceptions=False)


def test_the_epochs_page_and_api_list_the_epoch_with_its_counts_and_head(client: TestClient, venue: Path) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for text in (f"epoch {EPOCH}", "closed", "settled", "solvency", "maintenance"):
        assert text in page.text
    data = client.get("/api/epochs").json()
    (row,) = data["epochs"]
    assert (row["epoch"], row["accounts"], row["proven"], row["flagged"], row["pending"]) == (EPOCH, 6, 6, 0, 0)
    with Ledger.open(venue, read_only=True) as ledger:
        assert data["head"] == {"seq": ledger.head()[0], "hash": ledger.head()[1]}
        assert row["head_seq"] == ledger.head()[0]  # the solvency round is the epoch's last entry
    assert row["snapshot_hash"] == f"0x{S7.snapshot_hash():064x}" and row["snapshot_hash"] in page.text


def test_the_epoch_page_shows_prices_facts_solvency_and_every_verdict(client: TestClient) -> None:
    page = client.get(f"/epochs/{EPOCH}")
    assert page.status_code == 200
    for text in ("65,000.000000", "BTC-PERP", "BTC-FUT", "insurance fund", "50,000.000000", "6 new",
                 "Solvency", "quote liability", "Accounts (6)", "alice", "proven", "proof.json"):  # fmt: skip
        assert text in page.text, text
    data = client.get(f"/api/epochs/{EPOCH}").json()
    assert data["counts"] == {"accounts": 6, "proven": 6, "flagged": 0, "pending": 0, "rejected_proofs": 0}
    assert data["settlement"]["fund"][0] == {"item": "fund before", "micro_quote": 50_000 * 10**6,
                                             "amount": "50,000.000000"}  # fmt: skip
    assert data["solvency"]["accounts"] == 6 and data["solvency"]["batches"] == 3
    btc = next(m for m in data["snapshot"]["markets"] if m["id"] == "BTC-PERP")
    assert btc["mark_price"] == "65,000.000000" and btc["mark_price"] in page.text


def test_accounts_are_paginated(client: TestClient) -> None:
    first = client.get(f"/api/epochs/{EPOCH}/accounts", params={"limit": 4}).json()
    second = client.get(f"/api/epochs/{EPOCH}/accounts", params={"offset": 4, "limit": 4}).json()
    assert first["total"] == 6 and len(first["accounts"]) == 4 and len(second["accounts"]) == 2
    names = [a["account"] for a in first["accounts"] + second["accounts"]]
    assert len(set(names)) == 6 and all(a["transition"] == "new" for a in first["accounts"])
    page = client.get(f"/epochs/{EPOCH}", params={"page": 2, "size": 4})
    assert "accounts 5–6 of 6" in page.text  # noqa: RUF001
    assert "← previous" in page.text and "next →" not in page.text
    past = client.get(f"/epochs/{EPOCH}", params={"page": 3, "size": 4})
    assert past.status_code == 200 and "no accounts on this page (6 in all)" in past.text
    assert "No epoch on this page." in client.get("/", params={"page": 2}).text
    beyond = client.get(f"/api/epochs/{EPOCH}/accounts", params={"offset": 600, "limit": 4}).json()
    assert beyond["accounts"] == [] and beyond["total"] == 6


def test_a_downloaded_proof_verifies_under_the_downloaded_key(client: TestClient) -> None:
    account = client.get(f"/api/epochs/{EPOCH}/accounts").json()["accounts"][0]
    proof = client.get(f"/entries/{account['proof_seq']}/proof.json")
    public = client.get(f"/entries/{account['proof_seq']}/public.json")
    key = client.get(f"/epochs/{EPOCH}/verification_key.json")
    assert "attachment" in proof.headers["content-disposition"]
    vk, signals = VerifyingKey.from_json(key.text), PublicSignals.from_json(public.text)
    assert verify(vk, signals, Proof.from_json(proof.text))
    assert signals.values[0] == int(account["commitment"], 16)
    snapshot = json.loads(client.get(f"/epochs/{EPOCH}/snapshot.json").text)
    assert snapshot["epoch"] == EPOCH


def test_an_entry_shows_its_content_recomputed_hashes_and_line_of_the_chain(client: TestClient) -> None:
    account = client.get(f"/api/epochs/{EPOCH}/accounts").json()["accounts"][1]
    entry = client.get(f"/api/entries/{account['proof_seq']}").json()
    assert entry["kind"] == "proof" and entry["account"] == account["account"]
    assert entry["content_hash_ok"] and entry["entry_hash_ok"] and entry["prev_hash_ok"]
    assert [c["seq"] for c in entry["chain"]] == list(range(entry["seq"] - 3, entry["seq"] + 4))
    assert entry["documents"] == ["proof", "public"]
    before = client.get(f"/api/entries/{entry['seq'] - 1}").json()
    assert entry["prev_hash"] == before["entry_hash"]
    page = client.get(f"/entries/{entry['seq']}")
    for text in ("✓ recomputed", entry["entry_hash"], entry["prev_hash"], "Its line of the chain", "proof_json"):
        assert text in page.text
    first = client.get("/api/entries/1").json()
    assert first["kind"] == "epoch" and first["prev_hash"] == "0" * 64 and first["prev_hash_ok"]
    assert "snapshot" in first["documents"] and "verification_key" in first["documents"]


def audited(client: TestClient) -> dict[str, Any]:
    """/api/audit once the background audit covers the current head."""
    deadline = time.monotonic() + 120
    while (status := client.get("/api/audit").json())["status"] != "done":
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    return status  # type: ignore[no-any-return]


def test_the_audit_page_runs_the_audit_and_says_how_to_repeat_it(client: TestClient, venue: Path) -> None:
    audited(client)
    page = client.get("/audit")
    assert page.status_code == 200 and "AUDIT OK" in page.text
    with Ledger.open(venue, read_only=True) as ledger:
        head = ledger.head()[1]
    assert f"zkmargin ledger audit ledger.db --head {head}" in page.text
    assert "snarkjs groth16 verify verification_key.json public.json proof.json" in page.text
    report = client.get("/api/audit").json()["report"]
    assert report["ok"] and report["head"] == head and report["proofs_verified"] >= 6


def test_the_audit_page_names_a_tampered_entry(venue: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tampered.db"
    with sqlite3.connect(venue) as a, sqlite3.connect(copy) as b:
        a.backup(b)
    with sqlite3.connect(copy) as db:
        db.execute("DROP TRIGGER verdicts_no_update")
        seq = db.execute("SELECT seq FROM verdicts WHERE account = 'bob'").fetchone()[0]
        db.execute("UPDATE verdicts SET reason = 'looks fine' WHERE account = 'bob'")
    client = TestClient(create_app(copy), raise_server_exceptions=False)
    assert "AUDIT RUNNING" in client.get("/audit").text or audited(client)
    report = audited(client)["report"]
    page = client.get("/audit")
    assert "AUDIT FAILED" in page.text and f'href="/entries/{seq}"' in page.text
    assert seq in report["problem_entries"]
    assert not client.get(f"/api/entries/{seq}").json()["content_hash_ok"]


@pytest.mark.parametrize(
    ("url", "status", "reason"),
    [
        ("/epochs/99", 404, "epoch 99 is not in the ledger"),
        ("/api/epochs/99", 404, "epoch 99 is not in the ledger"),
        ("/api/epochs/99/accounts", 404, "epoch 99 is not in the ledger"),
        ("/epochs/99/verification_key.json", 404, "epoch 99 is not in the ledger"),
        ("/entries/999999", 404, "entry 999999 is not in the ledger"),
        ("/api/entries/999999", 404, "entry 999999 is not in the ledger"),
        ("/entries/1/proof.json", 404, "entry 1 (epoch) has no proof.json"),
        ("/entries/1/../../etc/passwd.json", 404, "Not Found"),
        ("/no/such/page", 404, "Not Found"),
        ("/entries/abc", 422, "seq"),
        ("/api/entries/0", 422, "greater than or equal to 1"),
        ("/api/entries/99999999999999999999999", 422, "seq"),
        ("/epochs/-1", 422, "epoch"),
        ("/epochs/7?page=0", 422, "page"),
        ("/epochs/7?size=100000", 422, f"less than or equal to {MAX_PAGE_SIZE}"),
        ("/api/epochs?limit=501", 422, "limit"),
        ("/api/epochs/7/accounts?offset=-5", 422, "offset"),
        ("/?page=x", 422, "page"),
    ],
)
def test_bad_requests_get_a_status_and_a_reason_never_a_traceback(
    client: TestClient, url: str, status: int, reason: str
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text[:300]
    assert reason in response.text and "Traceback" not in response.text
    if url.startswith("/api") or url.endswith(".json"):
        assert response.json()["detail"]
    else:
        assert response.headers["content-type"].startswith("text/html")


def test_an_internal_error_is_a_500_without_a_traceback(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer import _views

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(_views, "overview", broken)
    for url in ("/", "/api/epochs"):
        response = client.get(url)
        assert response.status_code == 500 and "internal error (RuntimeError)" in response.text
        assert "secret detail" not in response.text and "Traceback" not in response.text


def test_the_api_is_described_by_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/epochs", "/api/epochs/{epoch}", "/api/epochs/{epoch}/accounts", "/api/entries/{seq}",
            "/api/audit", "/api/head", "/entries/{seq}/{name}.json"} <= paths  # fmt: skip
    for path in paths:
        response = client.get(path.replace("{epoch}", str(EPOCH)).replace("{seq}", "2").replace("{name}", "proof"))
        assert response.status_code in (200, 404), path


def test_the_server_never_writes_the_ledger(venue: Path, client: TestClient) -> None:
    def digest() -> str:
        return hashlib.sha256(venue.read_bytes()).hexdigest()

    before = digest()
    for url in (
        "/",
        f"/epochs/{EPOCH}",
        "/entries/3",
        "/audit",
        "/api/audit",
        f"/epochs/{EPOCH}/verification_key.json",
    ):
        assert client.get(url).status_code == 200
    assert digest() == before
    with Ledger.open(venue, read_only=True) as ledger, pytest.raises(sqlite3.OperationalError, match="readonly"):
        ledger.connection.execute("DELETE FROM meta")


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.db").write_bytes(b"not sqlite at all" * 20)
    with pytest.raises(NotALedgerError):
        create_app(tmp_path / "x.db")
    with pytest.raises(NotALedgerError):
        create_app(tmp_path / "missing.db")


def test_what_a_venue_or_trader_names_is_shown_escaped(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    """Account names are the venue's text: a page shows them, never runs them."""
    from prover import export_verification_key, read_zkey

    evil = '<script>alert("x")</script>'
    with Ledger.open(tmp_path / "ledger.db") as ledger:
        epoch = ledger.open_epoch(S7, export_verification_key(read_zkey(keys[0]))).epoch
        ledger.register_all(epoch, [(evil, 12345), ("plain", 678)])
    client = TestClient(create_app(tmp_path / "ledger.db"), raise_server_exceptions=False)
    page = client.get(f"/epochs/{epoch}")
    assert page.status_code == 200 and "Accounts (2)" in page.text and "pending" in page.text
    assert evil not in page.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    entry = client.get("/entries/2")
    assert evil not in entry.text and "&lt;script&gt;" in entry.text
    assert client.get(f"/api/epochs/{epoch}/accounts").json()["accounts"][0]["account"] == evil


def _copy(venue: Path, to: Path) -> Path:
    with sqlite3.connect(venue) as a, sqlite3.connect(to) as b:
        a.backup(b)
    return to


DAMAGE = [
    "DROP TRIGGER commitments_no_update",
    "UPDATE commitments SET account = CAST(x'ff41' AS TEXT) WHERE account = 'bob'",
    "UPDATE commitments SET commitment = 'not a number' WHERE account = 'carol'",
    "UPDATE commitments SET commitment = x'0102' WHERE account = 'dave'",
    "DROP TRIGGER epochs_no_update",
    """UPDATE epochs SET snapshot_json = '{"index_prices": null, "markets": [{"id": "X", "size_decimals": -3}], '
       || '"open_interest": {"X": 5}, "assets": 7}'""",
    "DROP TRIGGER settlements_no_update",
    "UPDATE settlements SET facts_json = '[1, 2'",
    "DROP TRIGGER verdicts_no_delete",
    "DELETE FROM verdicts WHERE account = 'erin'",
]


def test_damaged_rows_are_shown_as_damaged_never_a_500(venue: Path, tmp_path: Path) -> None:
    """What the audit names (text that is not UTF-8, a value of the wrong type, a JSON
    that does not parse, an entry without its row) renders, marked, on every page."""
    copy = _copy(venue, tmp_path / "damaged.db")
    with sqlite3.connect(copy) as db:
        missing = db.execute("SELECT seq FROM verdicts WHERE account = 'erin'").fetchone()[0]
        for statement in DAMAGE:
            db.execute(statement)
    client = TestClient(create_app(copy), raise_server_exceptions=False)
    report = audited(client)["report"]
    assert not report["ok"] and missing in report["problem_entries"]
    for url in ("/", f"/epochs/{EPOCH}", f"/api/epochs/{EPOCH}", f"/api/epochs/{EPOCH}/accounts", "/audit",
                "/api/audit", f"/entries/{missing}", f"/api/entries/{missing}", "/entries/1", "/entries/3"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:300])
    rows = {a["commitment"] for a in client.get(f"/api/epochs/{EPOCH}/accounts").json()["accounts"]}
    assert "damaged: 'not a number'" in rows and "damaged: 0x0102" in rows
    names = {a["account"] for a in client.get(f"/api/epochs/{EPOCH}/accounts").json()["accounts"]}
    assert "\\udcffA" in names  # the stored bytes, escaped
    page = client.get(f"/epochs/{EPOCH}").text
    assert "damaged: &#39;not a number&#39;" in page and "\\udcffA" in page
    assert "damaged: ValidationError" in page or "damaged: JSONDecodeError" in page
    assert client.get(f"/api/epochs/{EPOCH}").json()["snapshot"]["damaged"].startswith("TypeError")
    entry = client.get(f"/api/entries/{missing}").json()
    assert entry["content"] == {} and not entry["content_hash_ok"]
    assert "no row of verdicts" in client.get(f"/entries/{missing}").text
    assert client.get(f"/entries/{missing}/proof.json").status_code == 404


def test_an_edit_in_the_middle_of_the_chain_is_caught_by_the_next_audit(venue: Path, tmp_path: Path) -> None:
    """The head does not move when a row in the middle is edited: a report ages out and
    the next audit finds the edit."""
    copy = _copy(venue, tmp_path / "edited.db")
    client = TestClient(create_app(copy, audit_max_age=0.0), raise_server_exceptions=False)
    assert audited_once(client)["report"]["ok"]
    with sqlite3.connect(copy) as db:
        db.execute("DROP TRIGGER verdicts_no_update")
        db.execute("UPDATE verdicts SET reason = 'looks fine' WHERE account = 'alice'")
    deadline = time.monotonic() + 120
    while client.get("/api/audit").json()["report"]["ok"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "AUDIT FAILED" in client.get("/audit").text


def audited_once(client: TestClient) -> dict[str, Any]:
    """/api/audit once a report exists (with a zero max age it is never `current`)."""
    deadline = time.monotonic() + 120
    while (status := client.get("/api/audit").json())["report"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return status  # type: ignore[no-any-return]
