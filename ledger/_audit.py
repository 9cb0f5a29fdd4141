"""Auditing a ledger: the hash chain, every row, and every proof re-verified.

`audit_ledger(ledger)` reads the whole ledger and reports every problem at the entry
it concerns ("entry 17 (proof, epoch 3, alice): ..."):

0. the schema: every table there with its declared columns (`audit_ledger_file`
   reports a damaged one instead of refusing the file);
1. the chain: entries numbered 1, 2, ... without gaps, each `prev_hash` the entry
   before's `entry_hash`, each `entry_hash` recomputed;
2. the rows: each entry has exactly one row with its seq in its kind's table, whose
   digest (every column) is the entry's `content_hash` and whose epoch and account are
   the entry's; a row that no entry chains is reported too;
3. the epochs: the snapshot JSON parses and is the epoch's, its published field
   encoding hashes to the recorded snapshot hash (`algebra.sponge`), and, given a
   `snapshot_check` (the CLI's `--snapshots`, which loads the engine), the JSON encodes
   to that encoding; the verification key parses; a published Merkle root is the root
   of the commitments registered before it, and none is registered after it;
4. the proofs: each is verified again (public signals, and the pairing check of all an
   epoch's proofs as one batch, which names each failing one); an `accepted` one
   must verify for the account's registered commitment, a `rejected` one must not; an
   account has at most MAX_REJECTED_PROOFS rejected ones in an epoch, and none after
   its verdict;
   anonymous proofs likewise, against the epoch's root and anonymous key, each
   nullifier once per epoch;
5. the verdicts: `proven` points at an accepted proof of the same account and epoch;
   a closure's counts are the epoch's, and nothing of the epoch follows its closure;
6. the solvency rounds (`ledger._solvency`): each round's batches are its rows, and
   the round passes `solvency_problems` (its proofs verified when `verify_proofs`);
7. the settlements (`ledger._settlement`): each passes `settlement_problems` against
   the ledger before it (the fund continues from the last settlement and moves by the
   published amounts; the market facts are the snapshot's; the named commitments are
   registered), and its transitions pass `transition_problems` (the chain of
   commitments from the previous epoch, the proven ones verified in one batch, every
   account of a closed epoch accounted for);
8. optionally, the head hash is the one published (`expected_head`).

Every value is untrusted: one that is not of its column's type (a blob, a float, text
where a number belongs, JSON nested without end) is reported at its entry, never
raised.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from algebra import R
from verifier import Proof, PublicSignals, VerificationInputError, VerifyingKey, batch_verify

from ._anonymous import ANONYMOUS_N_PUBLIC, anonymous_problem, root_of
from ._chain import GENESIS, KIND_TABLES, content_hash, entry_hash
from ._errors import DamagedLedgerError, LedgerError
from ._settlement import SettlementFacts, listing, settlement_problems, transition_of, transition_problems
from ._solvency import Statement, round_of, solvency_problems
from ._statement import PAIRING_FAILED, SnapshotCheck, margin_signals, signals_problem
from ._store import MAX_REJECTED_PROOFS, SCHEMA_COLUMNS, Ledger, proof_digest, snapshot_hash_of, table_rows

#: What reading a tampered value can raise (a blob in a hashed column, text where a
#: number belongs, a value out of range): reported as a problem of its entry.
_UNREADABLE = (TypeError, ValueError, KeyError, OverflowError, RecursionError, LedgerError)

#: Given an epoch's snapshot JSON and its published encoding: why they differ, or None.


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

    def problem(self, seq: Any, kind: Any, epoch: Any, account: Any, message: str) -> None:
        self.problems.append(AuditProblem(seq if isinstance(seq, int) else 0, str(kind), epoch, account, message))

    @contextmanager
    def reading(self, seq: Any, kind: Any, epoch: Any, account: Any) -> Iterator[None]:
        """Report a value that cannot be read as a problem of its entry, and go on."""
        try:
            yield
        except _UNREADABLE as exc:
            self.problem(seq, kind, epoch, account, f"a value is not readable: {type(exc).__name__}: {exc}")


@dataclass
class _Tables:
    """The ledger's rows, read once."""

    entries: list[dict[str, Any]]
    rows: dict[str, list[dict[str, Any]]]

    def by_seq(self, table: str) -> dict[Any, dict[str, Any]]:
        return {r.get("seq"): r for r in self.rows[table]}


def audit_ledger_file(path: str | Path, **options: Any) -> AuditReport:
    """Audit the ledger at `path`; a damaged schema is a failed audit, not an error.

    NotALedgerError still propagates for a file that is no ledger at all.
    """
    try:
        ledger = Ledger.open(path, create=False)
    except DamagedLedgerError as exc:
        report = AuditReport()
        for message in exc.problems:
            report.problem(0, "schema", None, None, message)
        return report
    with ledger:
        return audit_ledger(ledger, **options)


def audit_ledger(
    ledger: Ledger,
    *,
    expected_head: str | None = None,
    verify_proofs: bool = True,
    on_proof: Callable[[int, int], None] | None = None,
    snapshot_check: SnapshotCheck | None = None,
) -> AuditReport:
    """Check everything (module doc); `on_proof(done, total)` reports progress.
    `verify_proofs=False` skips step 4's pairing checks (the chain and rows only);
    `snapshot_check` also ties each snapshot's JSON to its published encoding."""
    report = AuditReport()
    tables = _read_tables(ledger.connection, report)
    tables.entries.sort(key=lambda e: e["seq"] if isinstance(e["seq"], int) else -1)
    report.entries = len(tables.entries)
    _check_chain(tables, report)
    if expected_head is not None and expected_head != report.head:
        report.problem(
            len(tables.entries), "head", None, None, f"head hash {report.head} is not the published {expected_head}"
        )
    epochs = _check_epochs(tables, report, snapshot_check)
    roots = _check_roots(tables, report)
    accepted = _check_proofs(tables, report, epochs, roots, verify_proofs, on_proof)
    _check_verdicts(tables, report, accepted)
    _check_solvency(tables, report, verify_proofs, snapshot_check)
    _check_settlements(tables, report, verify_proofs)
    return report


def _tolerant_text(raw: bytes) -> str:
    """TEXT as stored: bytes that are not UTF-8 survive as surrogates (and hash differently)."""
    return raw.decode("utf-8", "surrogateescape")


def _read_tables(db: sqlite3.Connection, report: AuditReport) -> _Tables:
    """Every row of every table; a table SQLite cannot read (a corrupt page) is a problem
    of the ledger and reads as empty."""
    rows: dict[str, list[dict[str, Any]]] = {}
    factory, db.text_factory = db.text_factory, _tolerant_text
    try:
        for table in (t for t in SCHEMA_COLUMNS if t != "meta"):
            try:
                rows[table] = table_rows(db, table)
            except sqlite3.DatabaseError as exc:
                report.problem(0, "schema", None, None, f"table {table} cannot be read: {exc}")
                rows[table] = []
    finally:
        db.text_factory = factory
    return _Tables(rows.pop("entries"), rows)


def _check_chain(tables: _Tables, report: AuditReport) -> None:
    """Steps 1 and 2: the chain, and each entry's row."""
    seqs_by_table = {t: tables.by_seq(t) for t in tables.rows}
    chained: dict[Any, dict[str, Any]] = {}
    prev = GENESIS
    for i, e in enumerate(tables.entries, start=1):
        seq, kind, epoch, account = e["seq"], e["kind"], e["epoch"], e["account"]
        chained[seq] = e
        with report.reading(seq, kind, epoch, account):
            _check_entry(e, i, prev, seqs_by_table, report)
        prev = e["entry_hash"]
    report.head = prev if isinstance(prev, str) else repr(prev)
    for table, rows in tables.rows.items():
        for row in rows:
            entry = chained.get(row.get("seq"))
            if entry is None or KIND_TABLES.get(entry["kind"]) != table:
                report.problem(
                    0,
                    table,
                    row.get("epoch"),
                    row.get("account"),
                    f"a {table} row (seq {row.get('seq')!r}) is in no entry",
                )


def _check_entry(
    e: dict[str, Any], i: int, prev: Any, seqs_by_table: dict[str, dict[Any, dict[str, Any]]], report: AuditReport
) -> None:
    seq, kind, epoch, account = e["seq"], e["kind"], e["epoch"], e["account"]
    if seq != i:
        report.problem(
            seq, kind, epoch, account, f"out of sequence: expected entry {i} (an entry was removed or renumbered)"
        )
    if e["prev_hash"] != prev:
        report.problem(
            seq, kind, epoch, account, "prev_hash is not the previous entry's hash (the chain is broken here)"
        )
    if kind not in KIND_TABLES:
        report.problem(seq, kind, epoch, account, f"unknown entry kind {kind!r}")
        return
    if e["entry_hash"] != entry_hash(e["prev_hash"], seq, kind, epoch, account, e["content_hash"]):
        report.problem(
            seq, kind, epoch, account, "entry_hash does not match the entry's columns (the entry was edited)"
        )
    table = KIND_TABLES[kind]
    row = seqs_by_table[table].get(seq)
    if row is None:
        report.problem(seq, kind, epoch, account, f"its {table} row is missing")
        return
    if content_hash(table, row) != e["content_hash"]:
        report.problem(seq, kind, epoch, account, f"its {table} row was edited (content hash mismatch)")
    if row.get("epoch") != epoch or row.get("account", account) != account:
        report.problem(seq, kind, epoch, account, f"its {table} row names another epoch or account")


_Epoch = tuple[VerifyingKey | None, dict[str, Any]]


def _check_epochs(tables: _Tables, report: AuditReport, snapshot_check: SnapshotCheck | None) -> dict[Any, _Epoch]:
    """Step 3: each epoch's snapshot is the epoch's and hashes to the recorded hash;
    its key parses."""
    epochs: dict[Any, _Epoch] = {}
    for row in tables.rows["epochs"]:
        n, seq = row["epoch"], row["seq"]
        with report.reading(seq, "epoch", n, None):
            problem = _snapshot_problem(row, snapshot_check)
            if problem is not None:
                report.problem(seq, "epoch", n, None, problem)
        vk: VerifyingKey | None = None
        try:
            vk = VerifyingKey.from_json(row["verification_key_json"])
        except (VerificationInputError, TypeError) as exc:
            report.problem(seq, "epoch", n, None, f"the verification key does not parse: {exc}")
        epochs[n] = (vk, row)
    report.epochs = len(epochs)
    return epochs


def _snapshot_problem(row: dict[str, Any], snapshot_check: SnapshotCheck | None) -> str | None:
    """Why an epoch row's snapshot is not its statement's, or None."""
    snapshot = json.loads(row["snapshot_json"])
    if not isinstance(snapshot, dict) or snapshot.get("epoch") != row["epoch"]:
        return "the snapshot JSON is not an object of this epoch"
    raw = json.loads(row["snapshot_encoding"])
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.isdigit() and int(v) < R for v in raw):
        return "the snapshot encoding is not a list of field elements"
    encoding = [int(v) for v in raw]
    if str(snapshot_hash_of(encoding)) != row["snapshot_hash"]:
        return "the snapshot encoding does not hash to the recorded snapshot hash"
    return snapshot_check(row["snapshot_json"], encoding) if snapshot_check else None


#: An epoch's published root: (its row, the anonymous key or None).
_Root = tuple[dict[str, Any], VerifyingKey | None]


def _check_roots(tables: _Tables, report: AuditReport) -> dict[Any, _Root]:
    """Step 3 for roots: each is the root of the commitments registered before it (in
    entry order), none is registered after it, and its key is an anonymous proof's."""
    commitments = _by_epoch(sorted(tables.rows["commitments"], key=lambda r: _int_or(r["seq"], -1)))
    roots: dict[Any, _Root] = {}
    for row in tables.rows["roots"]:
        n, seq = row["epoch"], row["seq"]
        vk: VerifyingKey | None = None
        with report.reading(seq, "root", n, None):
            leaves = [int(c["commitment"]) for c in commitments[n] if c["seq"] < seq]
            if len(leaves) != row["leaves"] or str(root_of(leaves, row["depth"])) != row["merkle_root"]:
                report.problem(seq, "root", n, None, "not the Merkle root of the commitments registered before it")
            for c in commitments[n]:
                if c["seq"] > seq:
                    report.problem(c["seq"], "commitment", n, c["account"], "registered after the root was published")
            vk = VerifyingKey.from_json(row["verification_key_json"])
            if vk.n_public != ANONYMOUS_N_PUBLIC:
                report.problem(seq, "root", n, None, f"its key has {vk.n_public} public inputs, not 5")
                vk = None
        roots[n] = (row, vk)
    return roots


def _check_proofs(
    tables: _Tables,
    report: AuditReport,
    epochs: dict[Any, _Epoch],
    roots: dict[Any, _Root],
    verify_proofs: bool,
    on_proof: Callable[[int, int], None] | None,
) -> dict[Any, tuple[Any, Any]]:
    """Step 4: every proof re-verified (an epoch's in one batch); returns the accepted
    ones, seq -> (epoch, account)."""
    commitments = {(r["epoch"], r["account"]): r["commitment"] for r in tables.rows["commitments"]}
    verdict_seq = {(r["epoch"], r["account"]): r["seq"] for r in tables.rows["verdicts"]}
    proofs = tables.rows["proofs"]
    accepted: dict[Any, tuple[Any, Any]] = {}
    rejected: dict[tuple[Any, Any], int] = {}
    pending: defaultdict[Any, list[tuple[dict[str, Any], _Statement]]] = defaultdict(list)
    _check_anonymous(tables, report, epochs, roots, pending if verify_proofs else None)
    for row in proofs:
        seq, n, account, status = row["seq"], row["epoch"], row["account"], row["status"]
        if status == "accepted":
            accepted[seq] = (n, account)
        elif status == "rejected":
            rejected[(n, account)] = rejected.get((n, account), 0) + 1
            if rejected[(n, account)] == MAX_REJECTED_PROOFS + 1:
                report.problem(seq, "proof", n, account, f"more than {MAX_REJECTED_PROOFS} rejected proofs recorded")
        else:
            report.problem(seq, "proof", n, account, f"unknown status {status!r}")
        with report.reading(seq, "proof", n, account):
            decided = verdict_seq.get((n, account))
            if decided is not None and seq > decided:
                report.problem(seq, "proof", n, account, f"appended after the account's verdict (entry {decided})")
            if verify_proofs:
                statement = _statement(row, epochs.get(n), commitments.get((n, account)))
                if isinstance(statement, str):
                    _record(row, statement, report)
                else:
                    pending[n].append((row, statement))
    if verify_proofs:
        _verify_batches(pending, report, len(proofs) + len(tables.rows["anonymous_proofs"]), on_proof)
    return accepted


def _check_anonymous(
    tables: _Tables,
    report: AuditReport,
    epochs: dict[Any, _Epoch],
    roots: dict[Any, _Root],
    pending: defaultdict[Any, list[tuple[dict[str, Any], _Statement]]] | None,
) -> None:
    """Step 4 for anonymous proofs: after the epoch's root, each nullifier once, the
    signals the root's and the statement's; queued for the batch pairing check."""
    seen: set[tuple[Any, Any]] = set()
    for row in tables.rows["anonymous_proofs"]:
        seq, n = row["seq"], row["epoch"]
        with report.reading(seq, "anonymous", n, None):
            if (n, row["nullifier"]) in seen:
                report.problem(seq, "anonymous", n, None, "its nullifier already proved an account in the epoch")
            seen.add((n, row["nullifier"]))
            root = roots.get(n)
            if root is None or root[0]["seq"] > seq:
                report.problem(seq, "anonymous", n, None, "appended before its epoch's root was published")
            if pending is None:
                continue
            statement = _anonymous_statement(row, epochs.get(n), root)
            if isinstance(statement, str):
                _record(row, statement, report)
            else:
                pending[(n, "anonymous")].append((row, statement))


def _anonymous_statement(row: dict[str, Any], epoch: _Epoch | None, root: _Root | None) -> _Statement | str:
    """The root's key, the signals and the parsed proof, or why it cannot verify."""
    if epoch is None or root is None or root[1] is None:
        return "its epoch or its epoch's root and anonymous key is missing or does not parse"
    proof = Proof.from_json(row["proof_json"])
    public = PublicSignals.from_json(row["public_json"])
    signals = list(public.root)
    erow = epoch[1]
    if proof_digest(proof, public) != row["digest"]:
        return "its digest is not its proof's"
    if len(signals) != ANONYMOUS_N_PUBLIC or str(signals[1]) != row["nullifier"]:
        return "its public signals are not an anonymous proof's with its nullifier"
    problem = anonymous_problem(
        signals,
        int(root[0]["merkle_root"]),
        int(erow["snapshot_hash"]),
        erow["requirement"],
        erow["max_margin_ratio_ppm"],
        erow["epoch"],
    )
    return problem if problem is not None else (root[1], signals, proof)


#: Proofs verified per batch (an epoch's proofs go in batches of at most this many).
AUDIT_BATCH = 1024

_Statement = tuple[VerifyingKey, list[int], Proof]


def _verify_batches(
    pending: dict[Any, list[tuple[dict[str, Any], _Statement]]],
    report: AuditReport,
    total: int,
    on_proof: Callable[[int, int], None] | None,
) -> None:
    """Each epoch's parsed proofs verified by batch_verify; each outcome recorded."""
    done = report.proofs_verified
    for rows in pending.values():
        for lo in range(0, len(rows), AUDIT_BATCH):
            chunk = rows[lo : lo + AUDIT_BATCH]
            vk = chunk[0][1][0]
            verdicts = batch_verify(vk, [(signals, proof) for _, (_, signals, proof) in chunk])
            for (row, _), verdict in zip(chunk, verdicts):
                why = f"it is malformed: {verdict.error}" if verdict.error else PAIRING_FAILED
                _record(row, True if verdict else why, report)
            if on_proof is not None:
                on_proof(report.proofs_verified - done, total)


def _record(row: dict[str, Any], verified: bool | str, report: AuditReport) -> None:
    """A proof's outcome against its recorded status."""
    report.proofs_verified += 1
    seq, n, account = row["seq"], row["epoch"], row.get("account")
    kind = "anonymous" if "nullifier" in row else "proof"  # anonymous rows hold accepted proofs only
    if row.get("status", "accepted") == "accepted" and verified is not True:
        report.problem(seq, kind, n, account, f"recorded accepted but {verified}")
    elif row.get("status") == "rejected" and verified is True:
        report.problem(seq, kind, n, account, "recorded rejected but it verifies")


def _int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) else default


def _by_epoch(rows: list[dict[str, Any]]) -> defaultdict[Any, list[dict[str, Any]]]:
    out: defaultdict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r["epoch"]].append(r)
    return out


def _check_verdicts(tables: _Tables, report: AuditReport, accepted: dict[Any, tuple[Any, Any]]) -> None:
    """Step 5: proven verdicts rest on accepted proofs; closures count their epoch and end it."""
    for row in tables.rows["verdicts"]:
        seq, n, account = row["seq"], row["epoch"], row["account"]
        if row["verdict"] == "proven" and accepted.get(row["proof_seq"]) != (n, account):
            report.problem(seq, "verdict", n, account, "proven, but not by an accepted proof of this account and epoch")
    entries, verdicts_of = _by_epoch(tables.entries), _by_epoch(tables.rows["verdicts"])
    accounts = Counter(c["epoch"] for c in tables.rows["commitments"])
    anonymous = Counter(a["epoch"] for a in tables.rows["anonymous_proofs"])
    for row in tables.rows["closures"]:
        n, seq = row["epoch"], row["seq"]
        verdicts = verdicts_of[n]
        counts = (
            accounts[n],
            sum(v["verdict"] == "proven" for v in verdicts),
            sum(v["verdict"] == "flagged" for v in verdicts),
            anonymous[n],
        )
        if counts != (row["accounts"], row["proven"], row["flagged"], row["anonymous"]):
            report.problem(seq, "close", n, None, f"counts {counts} are not the recorded ones")
        with report.reading(seq, "close", n, None):
            for e in entries[n]:
                if e["kind"] not in ("close", *AFTER_CLOSE) and e["seq"] > seq:
                    report.problem(
                        e["seq"], e["kind"], n, e["account"], f"appended after epoch {n} closed (entry {seq})"
                    )


#: Entry kinds that follow an epoch's closure (a solvency round needs its final accounts).
AFTER_CLOSE = ("solvency_batch", "solvency")


def _check_solvency(
    tables: _Tables, report: AuditReport, verify_proofs: bool, snapshot_check: SnapshotCheck | None
) -> None:
    """Step 6: every round re-checked from its rows; batch rows outside a round reported."""
    commitments = _by_epoch(sorted(tables.rows["commitments"], key=lambda r: _int_or(r["seq"], -1)))
    batches = _by_epoch(sorted(tables.rows["solvency_batches"], key=lambda r: _int_or(r["batch"], -1)))
    epochs = {r["epoch"]: r for r in tables.rows["epochs"]}
    closed = {r["epoch"] for r in tables.rows["closures"]}
    for row in tables.rows["solvency"]:
        n, seq = row["epoch"], row["seq"]
        with report.reading(seq, "solvency", n, None):
            mine = batches.pop(n, [])
            if [b["batch"] for b in mine] != list(range(row["batches"])) or any(b["seq"] > seq for b in mine):
                report.problem(seq, "solvency", n, None, "its batch rows are not batches 0.. recorded before it")
                continue
            rnd = round_of(row, mine)
            epoch = epochs[n]
            leaves = [int(c["commitment"]) for c in commitments[n]]
            statement = Statement(
                int(epoch["snapshot_hash"]),
                epoch["snapshot_json"],
                [int(v) for v in json.loads(epoch["snapshot_encoding"])],
            )
            problem = solvency_problems(
                rnd, leaves, statement, n in closed, verify=verify_proofs, snapshot_check=snapshot_check
            )
            if problem is not None:
                report.problem(seq, "solvency", n, None, problem)
    for n, rows in batches.items():
        for b in rows:
            report.problem(b["seq"], "solvency_batch", n, None, "a solvency batch of no recorded round")


def _check_settlements(tables: _Tables, report: AuditReport, verify_proofs: bool) -> None:
    """Step 7: every settlement against the ledger before it, and its transitions."""
    registered: dict[Any, dict[str, int]] = defaultdict(dict)
    for c in tables.rows["commitments"]:  # an unreadable one is reported by the chain's checks
        if isinstance(c["commitment"], str) and c["commitment"].isdigit():
            registered[c["epoch"]][c["account"]] = int(c["commitment"])
    epochs = {r["epoch"]: r for r in tables.rows["epochs"]}
    closed = {r["epoch"] for r in tables.rows["closures"]}
    transitions = _by_epoch(tables.rows["transitions"])
    fund: int | None = None
    for row in sorted(tables.rows["settlements"], key=lambda r: _int_or(r["epoch"], -1)):
        n, seq = row["epoch"], row["seq"]
        rows = transitions.pop(n, [])
        with report.reading(seq, "settlement", n, None):
            facts = SettlementFacts.model_validate_json(row["facts_json"])
            key = VerifyingKey.from_json(row["transition_key_json"])
            earlier = [e for e in epochs if isinstance(e, int) and e < n]
            previous = max(earlier) if earlier else None
            before = registered.get(previous, {}) if previous is not None else {}
            previous_json = epochs[previous]["snapshot_json"] if previous is not None else None
            mine = registered.get(n, {})
            problem = settlement_problems(
                facts, epochs[n]["snapshot_json"], previous_json, previous, fund, mine, before
            )
            if (
                facts.epoch != n
                or str(facts.fund_after) != row["fund_after"]
                or facts.previous_epoch != row["previous_epoch"]
            ):
                problem = problem or "its columns are not its facts'"
            if problem is not None:
                report.problem(seq, "settlement", n, None, problem)
            fund = facts.fund_after
            relisted = previous_json is not None and listing(previous_json) != listing(epochs[n]["snapshot_json"])
            statement = _SettledEpoch(facts, key, int(epochs[n]["snapshot_hash"]), relisted, n in closed)
            _check_transitions(rows, statement, mine, before, verify_proofs, report)
    for n, rows in transitions.items():
        for r in rows:
            report.problem(r["seq"], "transition", n, r["account"], "a transition of an epoch with no settlement")


@dataclass(frozen=True)
class _SettledEpoch:
    """What an epoch's transitions are checked against."""

    facts: SettlementFacts
    key: VerifyingKey
    snapshot_hash: int
    relisted: bool
    closed: bool


def _check_transitions(
    rows: list[dict[str, Any]],
    settled: _SettledEpoch,
    registered: dict[str, int],
    previous: dict[str, int],
    verify_proofs: bool,
    report: AuditReport,
) -> None:
    """An epoch's transitions (`transition_problems`), each problem at its row."""
    n = settled.facts.epoch
    seqs = {r["account"]: r["seq"] for r in rows}
    parsed = []
    for r in rows:
        with report.reading(r["seq"], "transition", n, r["account"]):
            parsed.append(transition_of(r))
    problems = transition_problems(
        parsed, settled.facts, settled.snapshot_hash, registered, previous, settled.key,
        relisted=settled.relisted, closed=settled.closed, verify=verify_proofs,
    )  # fmt: skip
    report.proofs_verified += sum(t.proof is not None for t in parsed) if verify_proofs else 0
    for account, problem in problems:
        report.problem(seqs.get(account, 0), "transition", n, account, problem)


def _statement(row: dict[str, Any], epoch: _Epoch | None, commitment: Any) -> _Statement | str:
    """The key, the account's expected signals and the parsed proof to verify, or why the
    proof cannot verify for the account's commitment in its epoch."""
    if epoch is None:
        return "its epoch is not in the ledger"
    vk, erow = epoch
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
    except _UNREADABLE as exc:  # a requirement or number that is not one
        return f"its commitment or its epoch's statement is not readable: {exc}"
    problem = signals_problem(list(public.root), expected, erow["epoch"])
    if problem is not None:
        return problem
    return vk, expected, proof
