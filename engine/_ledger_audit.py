"""Auditing a ledger: the hash chain, every row, and every proof re-verified.

`audit_ledger(ledger)` reads the whole ledger and reports every problem at the entry
it concerns ("entry 17 (proof, epoch 3, alice): ..."):

1. the chain: entries numbered 1, 2, ... without gaps, each `prev_hash` the entry
   before's `entry_hash`, each `entry_hash` recomputed;
2. the rows: each entry has exactly one row with its seq in its kind's table, whose
   digest (every column) is the entry's `content_hash` and whose epoch and account are
   the entry's; a row that no entry chains is reported too;
3. the epochs: the snapshot JSON parses, is the epoch's, and hashes to the recorded
   snapshot hash; the verification key parses;
4. the proofs: each is verified again (public signals and pairing); an `accepted` one
   must verify for the account's registered commitment, a `rejected` one must not;
5. the verdicts: `proven` points at an accepted proof of the same account and epoch;
   a closure's counts are the epoch's;
6. optionally, the head hash is the one published (`expected_head`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from verifier import Proof, PublicSignals, VerificationInputError, VerifyingKey, verify

from ._errors import EngineError
from ._ledger import Ledger, table_rows
from ._ledger_chain import GENESIS, KIND_TABLES, content_hash, entry_hash
from ._models import MarketSnapshot
from ._statement import margin_signals


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    kind: str
    epoch: int | None
    account: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(
            str(x) for x in (self.kind, f"epoch {self.epoch}" if self.epoch is not None else None, self.account) if x
        )
        return f"entry {self.seq} ({where}): {self.message}" if self.seq else f"{where}: {self.message}"


@dataclass
class AuditReport:
    entries: int = 0
    epochs: int = 0
    proofs_verified: int = 0
    head: str = GENESIS
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_ledger(
    ledger: Ledger,
    *,
    expected_head: str | None = None,
    verify_proofs: bool = True,
    on_proof: Callable[[int, int], None] | None = None,
) -> AuditReport:
    """Check everything (module doc); `on_proof(done, total)` reports progress.
    `verify_proofs=False` skips step 4's pairing checks (the chain and rows only)."""
    db = ledger.connection
    report = AuditReport()
    entries = table_rows(db, "entries")
    entries.sort(key=lambda e: e["seq"] if isinstance(e["seq"], int) else -1)
    report.entries = len(entries)
    by_seq: dict[int, dict[str, Any]] = {}

    def problem(seq: int, kind: str, epoch: Any, account: Any, message: str) -> None:
        report.problems.append(AuditProblem(seq, str(kind), epoch, account, message))

    # 1-2. chain and rows.
    rows_by_table = {t: table_rows(db, t) for t in set(KIND_TABLES.values())}
    seqs_by_table = {t: {r.get("seq"): r for r in rows} for t, rows in rows_by_table.items()}
    prev = GENESIS
    for i, e in enumerate(entries, start=1):
        seq, kind, epoch, account = e["seq"], e["kind"], e["epoch"], e["account"]
        by_seq[seq] = e
        if seq != i:
            problem(
                seq, kind, epoch, account, f"out of sequence: expected entry {i} (an entry was removed or renumbered)"
            )
        if e["prev_hash"] != prev:
            problem(seq, kind, epoch, account, "prev_hash is not the previous entry's hash (the chain is broken here)")
        if kind not in KIND_TABLES:
            problem(seq, kind, epoch, account, f"unknown entry kind {kind!r}")
            prev = e["entry_hash"]
            continue
        want = entry_hash(e["prev_hash"], seq, kind, epoch, account, e["content_hash"])
        if e["entry_hash"] != want:
            problem(seq, kind, epoch, account, "entry_hash does not match the entry's columns (the entry was edited)")
        prev = e["entry_hash"]
        table = KIND_TABLES[kind]
        row = seqs_by_table[table].get(seq)
        if row is None:
            problem(seq, kind, epoch, account, f"its {table} row is missing")
            continue
        if content_hash(table, row) != e["content_hash"]:
            problem(seq, kind, epoch, account, f"its {table} row was edited (content hash mismatch)")
        if row.get("epoch") != epoch or row.get("account", account) != account:
            problem(seq, kind, epoch, account, f"its {table} row names another epoch or account")
    report.head = prev
    for table, rows in rows_by_table.items():
        for row in rows:
            chained = by_seq.get(row.get("seq"))  # type: ignore[arg-type]
            if chained is None or KIND_TABLES.get(chained["kind"]) != table:
                problem(
                    0,
                    table,
                    row.get("epoch"),
                    row.get("account"),
                    f"a {table} row (seq {row.get('seq')!r}) is in no entry",
                )
    if expected_head is not None and expected_head != report.head:
        problem(len(entries), "head", None, None, f"head hash {report.head} is not the published {expected_head}")

    # 3. epochs.
    epochs: dict[int, tuple[MarketSnapshot | None, VerifyingKey | None, dict[str, Any]]] = {}
    for row in rows_by_table["epochs"]:
        n = row["epoch"]
        snapshot: MarketSnapshot | None = None
        vk: VerifyingKey | None = None
        try:
            snapshot = MarketSnapshot.model_validate_json(row["snapshot_json"])
            if snapshot.epoch != n:
                problem(row["seq"], "epoch", n, None, f"the snapshot is epoch {snapshot.epoch}'s")
            if str(snapshot.snapshot_hash()) != row["snapshot_hash"]:
                problem(row["seq"], "epoch", n, None, "the snapshot does not hash to the recorded snapshot hash")
        except (ValueError, EngineError, TypeError) as exc:
            problem(row["seq"], "epoch", n, None, f"the snapshot does not parse: {exc}")
        try:
            vk = VerifyingKey.from_json(row["verification_key_json"])
        except (VerificationInputError, TypeError) as exc:
            problem(row["seq"], "epoch", n, None, f"the verification key does not parse: {exc}")
        epochs[n] = (snapshot, vk, row)
    report.epochs = len(epochs)

    # 4. proofs.
    commitments = {(r["epoch"], r["account"]): r["commitment"] for r in rows_by_table["commitments"]}
    proofs = rows_by_table["proofs"]
    accepted: dict[int, tuple[int, str]] = {}
    for done, row in enumerate(proofs, start=1):
        seq, n, account = row["seq"], row["epoch"], row["account"]
        if not verify_proofs:
            if row["status"] == "accepted":
                accepted[seq] = (n, account)
            continue
        verified = _verify_row(row, epochs.get(n), commitments.get((n, account)))
        report.proofs_verified += 1
        if row["status"] == "accepted":
            if verified is not True:
                problem(seq, "proof", n, account, f"recorded accepted but {verified}")
            accepted[seq] = (n, account)
        elif row["status"] == "rejected":
            if verified is True and "already has a verdict" not in str(row["reason"]):
                problem(seq, "proof", n, account, "recorded rejected but it verifies")
        else:
            problem(seq, "proof", n, account, f"unknown status {row['status']!r}")
        if on_proof is not None:
            on_proof(done, len(proofs))

    # 5. verdicts and closures.
    for row in rows_by_table["verdicts"]:
        seq, n, account = row["seq"], row["epoch"], row["account"]
        if row["verdict"] == "proven" and accepted.get(row["proof_seq"]) != (n, account):
            problem(seq, "verdict", n, account, "proven, but not by an accepted proof of this account and epoch")
    for row in rows_by_table["closures"]:
        n = row["epoch"]
        verdicts = [v for v in rows_by_table["verdicts"] if v["epoch"] == n]
        counts = (
            sum(1 for c in commitments if c[0] == n),
            sum(v["verdict"] == "proven" for v in verdicts),
            sum(v["verdict"] == "flagged" for v in verdicts),
        )
        if counts != (row["accounts"], row["proven"], row["flagged"]):
            problem(row["seq"], "close", n, None, f"counts {counts} are not the recorded ones")
    return report


def _verify_row(
    row: dict[str, Any],
    epoch: tuple[MarketSnapshot | None, VerifyingKey | None, dict[str, Any]] | None,
    commitment: Any,
) -> bool | str:
    """True if the proof verifies for the account's commitment in its epoch, else why not."""
    if epoch is None:
        return "its epoch is not in the ledger"
    _snapshot, vk, erow = epoch
    if vk is None:
        return "its epoch's verification key does not parse"
    if commitment is None:
        return "no commitment is registered for the account"
    try:
        proof = Proof.from_json(row["proof_json"])
        public = PublicSignals.from_json(row["public_json"])
    except (VerificationInputError, TypeError) as exc:
        return f"it does not parse: {exc}"
    try:
        expected = margin_signals(
            int(commitment), int(erow["snapshot_hash"]), erow["requirement"], erow["max_margin_ratio_ppm"]
        )
    except (EngineError, ValueError, TypeError) as exc:  # a requirement or number that is not one
        return f"its commitment or its epoch's statement is not readable: {exc}"
    if list(public.root) != expected:
        return "its public signals are not this account's and epoch's"
    if not verify(vk, expected, proof):
        return "its pairing check fails"
    return True


__all__ = ["AuditProblem", "AuditReport", "audit_ledger"]
