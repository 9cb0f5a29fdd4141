"""The public settlement ledger: SQLite, append-only, hash-chained.

    with Ledger.open("ledger.db") as ledger:
        ledger.open_epoch(snapshot, verifying_key)             # the epoch's public statement
        outcome = ledger.record_account(epoch, "alice", commitment, proof, public)
        ledger.close_epoch(epoch)                              # flags whoever has no proof

Tables (one row per append in the table of its kind, plus one row in `entries`):

- `epochs`: number, snapshot (JSON), its field encoding (a JSON list of decimal
  strings) and the encoding's Poseidon sponge (the snapshot hash), the verification key
  (snarkjs JSON), the requirement proven (maintenance or initial) and the public
  margin-ratio bound;
- `commitments`: each account's commitment in an epoch (unique per account and epoch,
  and a commitment belongs to one account);
- `proofs`: every proof submitted, with its public signals, `accepted` or `rejected`
  and the reason;
- `verdicts`: one per account and epoch: `proven` (pointing at the accepted proof) or
  `flagged` for liquidation, with the reason;
- `roots`: an epoch's published Merkle root of its commitments, with the anonymous
  circuit's verification key (`ledger._anonymous`);
- `anonymous_proofs`: accepted anonymous proofs, one per nullifier and epoch;
- `closures`: an epoch's close, with its counts;
- `solvency_batches`, `solvency`: a closed epoch's solvency round, its batch proofs and
  then its root, key, totals and reserves (`ledger._solvency`);
- `settlements`, `transitions`: an epoch's settlement facts (the insurance fund, funding
  and settlement prices, liquidations) and how each account's commitment came from the
  previous epoch's (`ledger._settlement`);
- `entries`: the hash chain over all of them (`ledger._chain`).

Every append is one `BEGIN IMMEDIATE` transaction (WAL, synchronous FULL, foreign keys
on): a killed process leaves whole appends or none, and every precondition (the epoch
is open, the account registered and undecided) is read inside that transaction, after
the write lock is taken, so concurrent writers cannot interleave around a check.

Appends verify first: a proof whose public signals are not [the account's registered
commitment, the epoch's snapshot hash, the epoch's requirement, its ratio bound], or
whose pairing check fails, is recorded as `rejected` with the reason and never makes
the account proven; at most MAX_REJECTED_PROOFS per account and epoch are recorded.
A submission that cannot change anything is refused with a named AppendRefusedError
and nothing is appended: a closed epoch, an unregistered account, an account that
already has a verdict (whatever the proof's bytes: re-randomized copies of a proof
included), public signals that are not four, a wrong proof for an account at the
rejection limit (a valid one is still accepted: nobody's spam blocks an account).
Re-submitting the same proof for the same account and epoch is idempotent (the first
outcome is returned, nothing is appended); `record_account`, the venue's path,
returns a verdict already there instead of raising. Malformed input (a proof that
does not parse, an unknown epoch) raises a named error and writes nothing. Triggers
make the tables append-only for SQLite clients; `audit_ledger` detects edits made
around them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, Self

from verifier import Proof, PublicSignals, VerifyingKey, batch_verify, verify

from ._anonymous import ANONYMOUS_N_PUBLIC, RootRecord, anonymous_problem, anonymous_row, root_of, tree_depth
from ._chain import GENESIS, KIND_TABLES, canonical, content_hash, entry_hash
from ._errors import (
    AccountDecidedError,
    AnonymousProofRefusedError,
    CommitmentConflictError,
    DamagedLedgerError,
    EpochClosedError,
    EpochConflictError,
    NoRootError,
    NotALedgerError,
    NullifierUsedError,
    RegistrationClosedError,
    RejectionLimitError,
    RootConflictError,
    SettlementRefusedError,
    SignalCountError,
    SolvencyRefusedError,
    StatementError,
    UnknownAccountError,
    UnknownEpochError,
)
from ._settlement import (
    SettlementFacts,
    Transition,
    listing,
    settlement_problems,
    transition_of,
    transition_problems,
    transition_row,
)
from ._solvency import SolvencyRound, Statement, batch_row, round_of, round_row, solvency_problems
from ._statement import (
    PAIRING_FAILED,
    Requirement,
    SnapshotCheck,
    check_ratio_bound,
    margin_signals,
    requirement_code,
    signals_problem,
    snapshot_hash_of,
)

#: v5: settlements and transitions (`ledger._settlement`). v4: solvency rounds
#: (`ledger._solvency`). v3: the snapshot's field encoding published
#: with its JSON (the audit re-hashes it without the engine), Merkle roots of commitments
#: and anonymous proofs. v2: no appends that cannot count (a proof after a verdict,
#: rejections past MAX_REJECTED_PROOFS).
SCHEMA_VERSION = "zkmargin.ledger.v5"

#: Rejected proofs recorded per account and epoch; further ones are refused unrecorded.
MAX_REJECTED_PROOFS = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('epoch', 'commitment', 'proof', 'verdict', 'root', 'anonymous', 'close',
                                       'solvency_batch', 'solvency', 'settlement', 'transition')),
    epoch INTEGER NOT NULL,
    account TEXT,
    content_hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS epochs (
    epoch INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE REFERENCES entries(seq),
    snapshot_hash TEXT NOT NULL UNIQUE,
    snapshot_json TEXT NOT NULL,
    snapshot_encoding TEXT NOT NULL,
    verification_key_json TEXT NOT NULL,
    requirement TEXT NOT NULL CHECK (requirement IN ('maintenance', 'initial')),
    max_margin_ratio_ppm INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS commitments (
    epoch INTEGER NOT NULL REFERENCES epochs(epoch),
    account TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE REFERENCES entries(seq),
    commitment TEXT NOT NULL,
    PRIMARY KEY (epoch, account),
    UNIQUE (epoch, commitment)
);
CREATE TABLE IF NOT EXISTS proofs (
    seq INTEGER PRIMARY KEY REFERENCES entries(seq),
    epoch INTEGER NOT NULL REFERENCES epochs(epoch),
    account TEXT NOT NULL,
    digest TEXT NOT NULL,
    proof_json TEXT NOT NULL,
    public_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reason TEXT NOT NULL,
    UNIQUE (epoch, account, digest)
);
CREATE TABLE IF NOT EXISTS verdicts (
    epoch INTEGER NOT NULL,
    account TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE REFERENCES entries(seq),
    verdict TEXT NOT NULL CHECK (verdict IN ('proven', 'flagged')),
    proof_seq INTEGER REFERENCES proofs(seq),
    reason TEXT NOT NULL,
    PRIMARY KEY (epoch, account),
    FOREIGN KEY (epoch, account) REFERENCES commitments(epoch, account),
    CHECK ((verdict = 'proven') = (proof_seq IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS roots (
    epoch INTEGER PRIMARY KEY REFERENCES epochs(epoch),
    seq INTEGER NOT NULL UNIQUE REFERENCES entries(seq),
    depth INTEGER NOT NULL,
    leaves INTEGER NOT NULL,
    merkle_root TEXT NOT NULL,
    verification_key_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS anonymous_proofs (
    seq INTEGER PRIMARY KEY REFERENCES entries(seq),
    epoch INTEGER NOT NULL REFERENCES roots(epoch),
    nullifier TEXT NOT NULL,
    digest TEXT NOT NULL,
    proof_json TEXT NOT NULL,
    public_json TEXT NOT NULL,
    UNIQUE (epoch, nullifier)
);
CREATE TABLE IF NOT EXISTS closures (
    epoch INTEGER PRIMARY KEY REFERENCES epochs(epoch),
    seq INTEGER NOT NULL UNIQUE REFERENCES entries(seq),
    accounts INTEGER NOT NULL,
    proven INTEGER NOT NULL,
    flagged INTEGER NOT NULL,
    anonymous INTEGER NOT NULL,
    closed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS solvency_batches (
    seq INTEGER PRIMARY KEY REFERENCES entries(seq),
    epoch INTEGER NOT NULL REFERENCES closures(epoch),
    batch INTEGER NOT NULL,
    proof_json TEXT NOT NULL,
    public_json TEXT NOT NULL,
    UNIQUE (epoch, batch)
);
CREATE TABLE IF NOT EXISTS solvency (
    epoch INTEGER PRIMARY KEY REFERENCES closures(epoch),
    seq INTEGER NOT NULL UNIQUE REFERENCES entries(seq),
    depth INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    accounts INTEGER NOT NULL,
    batches INTEGER NOT NULL,
    merkle_root TEXT NOT NULL,
    verification_key_json TEXT NOT NULL,
    totals_json TEXT NOT NULL,
    blind TEXT NOT NULL,
    reserves_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settlements (
    epoch INTEGER PRIMARY KEY REFERENCES epochs(epoch),
    seq INTEGER NOT NULL UNIQUE REFERENCES entries(seq),
    previous_epoch INTEGER,
    fund_after TEXT NOT NULL,
    facts_json TEXT NOT NULL,
    transition_key_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transitions (
    seq INTEGER PRIMARY KEY REFERENCES entries(seq),
    epoch INTEGER NOT NULL REFERENCES settlements(epoch),
    account TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('proven', 'liquidated', 'deleveraged', 'counterparty', 'traded', 'new',
                                       'relisted')),
    old_commitment TEXT,
    new_commitment TEXT NOT NULL,
    reason TEXT NOT NULL,
    proof_json TEXT,
    public_json TEXT,
    UNIQUE (epoch, account),
    FOREIGN KEY (epoch, account) REFERENCES commitments(epoch, account),
    CHECK ((kind = 'proven') = (proof_json IS NOT NULL))
);
"""

_TABLES = (
    "entries",
    "epochs",
    "commitments",
    "proofs",
    "verdicts",
    "roots",
    "anonymous_proofs",
    "closures",
    "solvency_batches",
    "solvency",
    "settlements",
    "transitions",
)


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")]


def _schema_columns() -> dict[str, list[str]]:
    with closing(sqlite3.connect(":memory:")) as db:
        db.executescript(_SCHEMA)
        return {t: _columns(db, t) for t in ("meta", *_TABLES)}


#: Each table's columns, in order, as _SCHEMA declares them.
SCHEMA_COLUMNS = _schema_columns()


def schema_problems(db: sqlite3.Connection) -> dict[str, str]:
    """Each table of the schema that is missing or does not have the declared columns,
    with what is wrong (empty for a sound ledger). sqlite3.DatabaseError if not SQLite."""
    problems = {}
    for table, want in SCHEMA_COLUMNS.items():
        got = _columns(db, table)
        if not got:
            problems[table] = f"table {table} is missing"
        elif got != want:
            problems[table] = f"table {table} has columns {got}, the schema declares {want}"
    return problems


_APPEND_ONLY = "".join(
    f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op} BEFORE {op.upper()} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {t} rows cannot be {op}d'); END;\n"
    for t in _TABLES
    for op in ("update", "delete")
)


# ---- records ----------------------------------------------------------------------------


class PublishedSnapshot(Protocol):
    """What the ledger publishes of an epoch's snapshot (the engine's MarketSnapshot is
    one): its number, its JSON, and its field encoding, whose sponge is the hash every
    proof of the epoch names."""

    @property
    def epoch(self) -> int: ...

    def model_dump_json(self) -> str: ...

    def field_encoding(self) -> list[int]: ...


@dataclass(frozen=True)
class EpochRecord:
    """An epoch's public statement."""

    epoch: int
    snapshot_hash: int
    snapshot_json: str
    verification_key_json: str
    requirement: str
    max_margin_ratio_ppm: int
    closed: bool

    @property
    def verifying_key(self) -> VerifyingKey:
        return _parse_verifying_key(self.verification_key_json)

    def expected_signals(self, commitment: int) -> list[int]:
        """The public signals a proof for `commitment` must carry in this epoch."""
        return margin_signals(commitment, self.snapshot_hash, self.requirement, self.max_margin_ratio_ppm)


@dataclass(frozen=True)
class Outcome:
    """What the ledger did with one account's append: `proven`, `flagged` or `rejected`
    (a proof refused, the account still without a verdict), with the reason. `new` is
    False when nothing was appended (the same proof again; in `record_account` and
    `flag`, a verdict already there)."""

    account: str
    status: Literal["proven", "flagged", "rejected"]
    reason: str
    new: bool


@dataclass(frozen=True)
class VerdictRecord:
    epoch: int
    account: str
    commitment: int
    verdict: str
    reason: str
    seq: int


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    snapshot_hash: int
    accounts: int
    proven: int
    flagged: int
    rejected_proofs: int
    closed: bool


def _stored_text(raw: bytes) -> str:
    """TEXT as stored: bytes that are not UTF-8 survive as surrogates (a reader shows a
    damaged value instead of failing on it; its hash still differs)."""
    return raw.decode("utf-8", "surrogateescape")


@lru_cache(maxsize=8)
def _parse_verifying_key(text: str) -> VerifyingKey:
    """An epoch's key, parsed once per process (every append of the epoch reads it)."""
    return VerifyingKey.from_json(text)


def proof_digest(proof: Proof, public: PublicSignals) -> str:
    """Identity of a submission: sha256 of the canonical proof and public signals."""
    return hashlib.sha256(canonical([proof.to_json_obj(), public.to_json_obj()])).hexdigest()


# ---- the ledger -------------------------------------------------------------------------


class Ledger:
    """A settlement ledger in one SQLite file (created on first open)."""

    def __init__(self, path: str | Path, *, create: bool = True, read_only: bool = False) -> None:
        self.path = Path(path)
        # (epoch key JSON, proof digest) of proofs this object verified in a batch
        # (`preverify`): their submission skips its own pairing check.
        self._verified: set[tuple[str, str]] = set()
        if not self.path.exists() and (read_only or not create):
            raise NotALedgerError(f"{self.path}: no such ledger")
        if read_only:  # SQLite's own read-only mode: no method can write through it
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
            self._db.text_factory = _stored_text
        else:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        mode = "wal"
        try:
            if not read_only:
                mode = self._prepare(create)
            self._check_schema()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise NotALedgerError(f"{self.path}: not a zkmargin ledger ({exc})") from exc
        except BaseException:
            self._db.close()
            raise
        if mode.lower() != "wal":  # pragma: no cover - a filesystem without shared memory
            raise NotALedgerError(f"{self.path}: SQLite refused WAL mode ({mode})")

    def _prepare(self, create: bool) -> str:
        """A writer's connection set up (foreign keys, WAL, full sync) and an empty
        database given the schema, in one transaction of IF NOT EXISTS statements
        (creators racing make it once); returns the journal mode SQLite took."""
        self._db.execute("PRAGMA foreign_keys = ON")
        mode = str(self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        self._db.execute("PRAGMA synchronous = FULL")
        exists = self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] > 0
        if not exists and not create:
            raise NotALedgerError(f"{self.path}: an empty database, not a ledger")
        if not exists:
            self._db.executescript(
                "BEGIN IMMEDIATE;"
                + _SCHEMA
                + _APPEND_ONLY
                + f"INSERT OR IGNORE INTO meta VALUES ('schema', '{SCHEMA_VERSION}');COMMIT;"
            )
        return mode

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True, read_only: bool = False) -> Self:
        """The ledger at `path`, created if missing unless `create` is False. `read_only`:
        opened by SQLite read-only (`mode=ro`), so no method can write it (a write raises
        sqlite3.OperationalError); it reads a WAL ledger another process appends to, each
        `reading()` block one consistent snapshot."""
        return cls(path, create=create, read_only=read_only)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One read transaction: every query inside sees the same ledger, whatever a
        writer appends meanwhile."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")

    def _check_schema(self) -> None:
        """NotALedgerError for another database or another schema version;
        DamagedLedgerError for a ledger with a table missing or reshaped."""
        problems = schema_problems(self._db)
        version = None
        if "meta" not in problems:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            version = row[0] if row else None
        if version is not None and version != SCHEMA_VERSION:
            raise NotALedgerError(f"{self.path}: schema {version!r}, expected {SCHEMA_VERSION!r}")
        if version is None and all(t in problems for t in _TABLES):  # none of the ledger's tables
            raise NotALedgerError(f"{self.path}: not a zkmargin ledger (it has none of the ledger's tables)")
        if problems:
            found = list(problems.values())
            raise DamagedLedgerError(f"{self.path}: a damaged ledger: {'; '.join(found)}", found)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection (read it; writes go through the methods)."""
        return self._db

    # ---- transactions and the chain -------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        """One append: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    @contextmanager
    def _appending(self, epoch: int) -> Iterator[tuple[sqlite3.Cursor, EpochRecord]]:
        """A write transaction on an open epoch: the epoch is read after the write lock is
        taken, so no other writer can close it between this check and the append."""
        with self._transaction() as cur:
            yield cur, self._open_epoch(epoch)

    def head(self) -> tuple[int, str]:
        """(seq, entry_hash) of the last entry; (0, GENESIS) for an empty ledger."""
        row = self._db.execute("SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def _append(self, cur: sqlite3.Cursor, kind: str, epoch: int, account: str | None, row: Mapping[str, Any]) -> int:
        """Insert `row` into the kind's table and chain it; returns the new seq."""
        seq, prev = self.head()
        seq += 1
        table = KIND_TABLES[kind]
        # Values are int, str, float or None, which SQLite stores as given in these
        # columns: the stored row (what audit re-hashes) is this dict.
        full = {**row, "seq": seq}
        digest = content_hash(table, full)
        cur.execute(
            "INSERT INTO entries (seq, kind, epoch, account, content_hash, prev_hash, entry_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seq, kind, epoch, account, digest, prev, entry_hash(prev, seq, kind, epoch, account, digest)),
        )
        cols = ", ".join(full)
        cur.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(full))})", tuple(full.values()))
        return seq

    # ---- epochs ---------------------------------------------------------------------------

    def open_epoch(
        self,
        snapshot: PublishedSnapshot,
        verifying_key: VerifyingKey,
        *,
        requirement: Requirement = "maintenance",
        max_margin_ratio_ppm: int = 0,
    ) -> EpochRecord:
        """Record the epoch's statement (idempotent for the same statement; an epoch
        number with another snapshot, key or requirement raises EpochConflictError)."""
        requirement_code(requirement)
        check_ratio_bound(max_margin_ratio_ppm)
        if verifying_key.n_public != 4:
            raise EpochConflictError(
                f"the verification key has {verifying_key.n_public} public inputs; a margin proof has 4"
            )
        snapshot_json = snapshot.model_dump_json()
        encoding = snapshot.field_encoding()
        vk_json = verifying_key.to_json()
        snapshot_hash = snapshot_hash_of(encoding)
        with self._transaction() as cur:  # the check and the append under one write lock
            existing = self.epoch(snapshot.epoch, missing_ok=True)
            if existing is not None:
                same = (
                    existing.snapshot_hash == snapshot_hash
                    and existing.verification_key_json == vk_json
                    and existing.requirement == requirement
                    and existing.max_margin_ratio_ppm == max_margin_ratio_ppm
                )
                if not same:
                    raise EpochConflictError(
                        f"epoch {snapshot.epoch} is already in the ledger with another "
                        "snapshot, verification key, requirement or ratio bound"
                    )
                return existing
            self._append(
                cur,
                "epoch",
                snapshot.epoch,
                None,
                {
                    "epoch": snapshot.epoch,
                    "snapshot_hash": str(snapshot_hash),
                    "snapshot_json": snapshot_json,
                    "snapshot_encoding": json.dumps([str(v) for v in encoding]),
                    "verification_key_json": vk_json,
                    "requirement": requirement,
                    "max_margin_ratio_ppm": max_margin_ratio_ppm,
                    "created_at": time.time(),
                },
            )
        return self.epoch(snapshot.epoch)

    def epoch(self, epoch: int, *, missing_ok: bool = False) -> EpochRecord:  # type: ignore[return]
        row = self._db.execute(
            "SELECT e.epoch, e.snapshot_hash, e.snapshot_json, e.verification_key_json, e.requirement, "
            "e.max_margin_ratio_ppm, c.epoch IS NOT NULL FROM epochs e LEFT JOIN closures c USING (epoch) "
            "WHERE e.epoch = ?",
            (epoch,),
        ).fetchone()
        if row is None:
            if missing_ok:
                return None  # type: ignore[return-value]
            raise UnknownEpochError(f"epoch {epoch} is not in the ledger")
        return EpochRecord(row[0], int(row[1]), row[2], row[3], row[4], row[5], bool(row[6]))

    def epochs(self) -> list[EpochStats]:
        out = []
        for (n,) in self._db.execute("SELECT epoch FROM epochs ORDER BY epoch").fetchall():
            e = self.epoch(n)
            counts = dict(
                self._db.execute("SELECT verdict, COUNT(*) FROM verdicts WHERE epoch = ? GROUP BY verdict", (n,))
            )
            (accounts,) = self._db.execute("SELECT COUNT(*) FROM commitments WHERE epoch = ?", (n,)).fetchone()
            (rejected,) = self._db.execute(
                "SELECT COUNT(*) FROM proofs WHERE epoch = ? AND status = 'rejected'", (n,)
            ).fetchone()
            out.append(
                EpochStats(
                    n, e.snapshot_hash, accounts, counts.get("proven", 0), counts.get("flagged", 0), rejected, e.closed
                )
            )
        return out

    def _open_epoch(self, epoch: int) -> EpochRecord:
        record = self.epoch(epoch)
        if record.closed:
            raise EpochClosedError(f"epoch {epoch} is closed")
        return record

    # ---- accounts -------------------------------------------------------------------------

    def commitment(self, epoch: int, account: str) -> int | None:
        row = self._db.execute(
            "SELECT commitment FROM commitments WHERE epoch = ? AND account = ?", (epoch, account)
        ).fetchone()
        return int(row[0]) if row else None

    def verdict(self, epoch: int, account: str) -> tuple[str, str] | None:
        """(verdict, reason) of the account in the epoch, or None."""
        row = self._db.execute(
            "SELECT verdict, reason FROM verdicts WHERE epoch = ? AND account = ?", (epoch, account)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def verdicts(self, epoch: int) -> list[VerdictRecord]:
        rows = self._db.execute(
            "SELECT c.epoch, c.account, c.commitment, v.verdict, v.reason, c.seq FROM commitments c "
            "LEFT JOIN verdicts v USING (epoch, account) WHERE c.epoch = ? ORDER BY c.account",
            (epoch,),
        ).fetchall()
        return [VerdictRecord(r[0], r[1], int(r[2]), r[3] or "pending", r[4] or "", r[5]) for r in rows]

    def _register(self, cur: sqlite3.Cursor, epoch: int, account: str, commitment: int) -> bool:
        if not account or len(account) > 200:
            raise StatementError(f"an account name has 1 to 200 characters, got {account!r}")
        if not 0 <= commitment < 2**254:
            raise StatementError(f"{account}: commitment {commitment} is not a field element")
        current = self.commitment(epoch, account)
        if current is not None:
            if current != commitment:
                raise CommitmentConflictError(f"{account} already has another commitment in epoch {epoch}")
            return False
        if self.root(epoch) is not None:
            raise RegistrationClosedError(f"epoch {epoch}'s Merkle root of commitments is published: {account} is late")
        owner = self._db.execute(
            "SELECT account FROM commitments WHERE epoch = ? AND commitment = ?", (epoch, str(commitment))
        ).fetchone()
        if owner is not None:
            raise CommitmentConflictError(f"commitment {commitment} is {owner[0]}'s in epoch {epoch}")
        self._append(
            cur, "commitment", epoch, account, {"epoch": epoch, "account": account, "commitment": str(commitment)}
        )
        return True

    def register(self, epoch: int, account: str, commitment: int) -> bool:
        """Register the account's commitment for the epoch (False if already registered)."""
        with self._appending(epoch) as (cur, _):
            return self._register(cur, epoch, account, commitment)

    def register_all(self, epoch: int, accounts: Sequence[tuple[str, int]]) -> int:
        """Register many (account, commitment) in one transaction (one fsync): all or,
        on any refusal, none. Returns how many were new."""
        with self._appending(epoch) as (cur, _):
            return sum(self._register(cur, epoch, account, commitment) for account, commitment in accounts)

    def _refuse_useless(self, record: EpochRecord, account: str, public: PublicSignals) -> int:
        """The account's commitment, unless no proof with these signals could change
        anything for it (AppendRefusedError: unregistered, decided, not four signals)."""
        commitment = self.commitment(record.epoch, account)
        if commitment is None:
            raise UnknownAccountError(f"no commitment is registered for {account} in epoch {record.epoch}")
        verdict = self.verdict(record.epoch, account)
        if verdict is not None:
            raise AccountDecidedError(f"{account} already has a verdict in epoch {record.epoch} ({verdict[0]})")
        expected = len(record.expected_signals(commitment))
        if len(public) != expected:
            raise SignalCountError(f"{len(public)} public signals, a margin proof has {expected}")
        return commitment

    def _refuse_past_limit(self, epoch: int, account: str) -> None:
        """RejectionLimitError when the account's rejections already fill its quota
        (checked only for a wrong proof: a valid one is never refused by spam)."""
        (rejected,) = self._db.execute(
            "SELECT COUNT(*) FROM proofs WHERE epoch = ? AND account = ? AND status = 'rejected'", (epoch, account)
        ).fetchone()
        if rejected >= MAX_REJECTED_PROOFS:
            raise RejectionLimitError(
                f"{account} has {rejected} rejected proofs in epoch {epoch}, the most the ledger records"
            )

    def preverify(self, epoch: int, items: Sequence[tuple[Proof, PublicSignals]]) -> list[bool]:
        """Pairing-check proofs for `epoch` in one batch (`verifier.batch_verify`) ahead of
        their appends: submitting a valid one later through this object skips its own
        pairing check (every other check still runs). Returns one verdict per item."""
        record = self.epoch(epoch)
        verdicts = batch_verify(record.verifying_key, [(public, proof) for proof, public in items])
        for (proof, public), verdict in zip(items, verdicts):
            if verdict:
                self._verified.add((record.verification_key_json, proof_digest(proof, public)))
        return [v.valid for v in verdicts]

    def _check_submission(
        self, record: EpochRecord, commitment: int, proof: Proof, public: PublicSignals, digest: str
    ) -> str | None:
        """Why the proof is refused, or None when it verifies for this commitment and epoch."""
        signals = list(public.root)
        problem = signals_problem(signals, record.expected_signals(commitment), record.epoch)
        if problem is not None:
            return problem
        batch_verified = (record.verification_key_json, digest)
        if batch_verified in self._verified:
            self._verified.discard(batch_verified)
        elif not verify(record.verifying_key, signals, proof):
            return PAIRING_FAILED
        return None

    def _existing_submission(self, epoch: int, account: str, digest: str) -> Outcome | None:
        row = self._db.execute(
            "SELECT status, reason FROM proofs WHERE epoch = ? AND account = ? AND digest = ?", (epoch, account, digest)
        ).fetchone()
        if row is None:
            return None
        return Outcome(account, "proven" if row[0] == "accepted" else "rejected", row[1], new=False)

    def _submit(
        self, cur: sqlite3.Cursor, record: EpochRecord, account: str, proof: Proof, public: PublicSignals
    ) -> Outcome:
        digest = proof_digest(proof, public)
        again = self._existing_submission(record.epoch, account, digest)
        if again is not None:
            return again
        commitment = self._refuse_useless(record, account, public)
        reason = self._check_submission(record, commitment, proof, public, digest)
        if reason is not None:
            self._refuse_past_limit(record.epoch, account)
        row = {
            "epoch": record.epoch,
            "account": account,
            "digest": digest,
            "proof_json": proof.to_json(),
            "public_json": public.to_json(),
            "status": "rejected" if reason else "accepted",
            "reason": reason or "verified",
        }
        seq = self._append(cur, "proof", record.epoch, account, row)
        if reason is not None:
            return Outcome(account, "rejected", reason, new=True)
        self._append(
            cur,
            "verdict",
            record.epoch,
            account,
            {"epoch": record.epoch, "account": account, "verdict": "proven", "proof_seq": seq, "reason": "verified"},
        )
        return Outcome(account, "proven", "verified", new=True)

    def submit(self, epoch: int, account: str, proof: Proof, public: PublicSignals) -> Outcome:
        """Verify and append a proof for a registered, undecided account (module doc).
        AppendRefusedError (nothing appended) when the proof could change nothing."""
        with self._appending(epoch) as (cur, record):
            return self._submit(cur, record, account, proof, public)

    def _flag(self, cur: sqlite3.Cursor, epoch: int, account: str, reason: str) -> Outcome:
        verdict = self.verdict(epoch, account)
        if verdict is not None:
            return Outcome(account, "proven" if verdict[0] == "proven" else "flagged", verdict[1], new=False)
        if self.commitment(epoch, account) is None:
            raise UnknownAccountError(f"no commitment is registered for {account} in epoch {epoch}")
        self._append(
            cur,
            "verdict",
            epoch,
            account,
            {"epoch": epoch, "account": account, "verdict": "flagged", "proof_seq": None, "reason": reason},
        )
        return Outcome(account, "flagged", reason, new=True)

    def flag(self, epoch: int, account: str, reason: str) -> Outcome:
        """Flag a registered account for liquidation (no-op if it already has a verdict)."""
        with self._appending(epoch) as (cur, _):
            return self._flag(cur, epoch, account, reason)

    def record_account(
        self,
        epoch: int,
        account: str,
        commitment: int,
        proof: Proof | None = None,
        public: PublicSignals | None = None,
        *,
        flag_reason: str | None = None,
    ) -> Outcome:
        """One account's whole epoch in ONE transaction: register the commitment, then
        submit the proof (a rejected one flags the account too) or, without a proof, flag
        it with `flag_reason`. An account that already has a verdict keeps it (returned,
        new=False): a venue's rerun or a trader's earlier submission is not an error."""
        if (proof is None) != (public is None) or (proof is None) == (flag_reason is None):
            raise ValueError("give a proof with its public signals, or a flag reason")
        with self._appending(epoch) as (cur, record):
            self._register(cur, epoch, account, commitment)
            if proof is None or self.verdict(epoch, account) is not None:  # decided: the verdict stands
                return self._flag(cur, epoch, account, flag_reason or "")
            assert public is not None
            try:
                outcome = self._submit(cur, record, account, proof, public)
            except RejectionLimitError as exc:  # others' rejections fill the quota: flag unrecorded
                return self._flag(cur, epoch, account, f"proof rejected (not recorded: {exc})")
            if outcome.status == "rejected" and outcome.new:
                self._flag(cur, epoch, account, f"proof rejected: {outcome.reason}")
            return outcome

    # ---- anonymous proofs (`ledger._anonymous`) -------------------------------------------

    def leaves(self, epoch: int) -> list[int]:
        """The epoch's commitments in registration order: the leaves of its Merkle tree."""
        return [c for _, c in self.registered(epoch)]

    def registered(self, epoch: int) -> list[tuple[str, int]]:
        """(account, commitment) of the epoch in registration order: leaf i is the i-th."""
        rows = self._db.execute("SELECT account, commitment FROM commitments WHERE epoch = ? ORDER BY seq", (epoch,))
        return [(r[0], int(r[1])) for r in rows.fetchall()]

    def proven(self, epoch: int) -> list[tuple[str, int, Proof]]:
        """(account, commitment, accepted proof) of the epoch's proven accounts, in
        registration order."""
        rows = self._db.execute(
            "SELECT c.account, c.commitment, p.proof_json FROM commitments c "
            "JOIN verdicts v USING (epoch, account) JOIN proofs p ON p.seq = v.proof_seq "
            "WHERE c.epoch = ? AND v.verdict = 'proven' ORDER BY c.seq",
            (epoch,),
        )
        return [(r[0], int(r[1]), Proof.from_json(r[2])) for r in rows.fetchall()]

    def root(self, epoch: int) -> RootRecord | None:
        """The epoch's published Merkle root, or None."""
        row = self._db.execute(
            "SELECT epoch, depth, leaves, merkle_root, verification_key_json FROM roots WHERE epoch = ?", (epoch,)
        ).fetchone()
        return RootRecord(row[0], row[1], row[2], int(row[3]), row[4]) if row else None

    def publish_root(self, epoch: int, verifying_key: VerifyingKey, *, depth: int | None = None) -> RootRecord:
        """Publish the Merkle root of the epoch's commitments (at `depth`, default the
        smallest that holds them) with the anonymous circuit's verification key; the
        epoch then takes no new commitment. Idempotent for the same key and depth;
        RootConflictError otherwise."""
        if verifying_key.n_public != ANONYMOUS_N_PUBLIC:
            raise RootConflictError(
                f"the verification key has {verifying_key.n_public} public inputs; "
                f"an anonymous margin proof has {ANONYMOUS_N_PUBLIC}"
            )
        vk_json = verifying_key.to_json()
        with self._appending(epoch) as (cur, _):
            existing = self.root(epoch)
            if existing is not None:
                if existing.verification_key_json != vk_json or depth not in (None, existing.depth):
                    raise RootConflictError(f"epoch {epoch}'s root is already published with another key or depth")
                return existing
            leaves = self.leaves(epoch)
            d = tree_depth(len(leaves), depth)
            row = {
                "epoch": epoch,
                "depth": d,
                "leaves": len(leaves),
                "merkle_root": str(root_of(leaves, d)),
                "verification_key_json": vk_json,
            }
            self._append(cur, "root", epoch, None, row)
        record = self.root(epoch)
        assert record is not None
        return record

    def submit_anonymous(self, epoch: int, proof: Proof, public: PublicSignals) -> Outcome:
        """Verify and append an anonymous proof against the epoch's published root: its
        signals must be [root, nullifier, snapshot hash, requirement, ratio bound] and its
        nullifier unused in the epoch. The same proof again returns its outcome (new=False);
        refusals append nothing: NoRootError, SignalCountError, NullifierUsedError,
        AnonymousProofRefusedError (signals or pairing), EpochClosedError."""
        digest = proof_digest(proof, public)
        with self._appending(epoch) as (cur, record):
            root = self.root(epoch)
            if root is None:
                raise NoRootError(f"epoch {epoch} has no published Merkle root of commitments")
            signals = list(public.root)
            if len(signals) != ANONYMOUS_N_PUBLIC:
                raise SignalCountError(f"{len(signals)} public signals, an anonymous margin proof has 5")
            label = f"nullifier {signals[1]:#x}"
            used = self._db.execute(
                "SELECT digest FROM anonymous_proofs WHERE epoch = ? AND nullifier = ?", (epoch, str(signals[1]))
            ).fetchone()
            if used is not None:
                if used[0] == digest:
                    return Outcome(label, "proven", "verified", new=False)
                raise NullifierUsedError(f"{label} already proved an account in epoch {epoch}")
            problem = anonymous_problem(
                signals, root.merkle_root, record.snapshot_hash, record.requirement, record.max_margin_ratio_ppm, epoch
            )
            if problem is None and not verify(root.verifying_key, signals, proof):
                problem = PAIRING_FAILED
            if problem is not None:
                raise AnonymousProofRefusedError(f"{label}: {problem}")
            self._append(cur, "anonymous", epoch, None, anonymous_row(epoch, digest, proof, public))
        return Outcome(label, "proven", "verified", new=True)

    def close_epoch(self, epoch: int) -> EpochStats:
        """Flag every registered account without a verdict ("no valid proof") and close
        the epoch, all in one transaction (a closed epoch returns its stats)."""
        with self._transaction() as cur:  # closed or not is read under the write lock
            if not self.epoch(epoch).closed:
                pending = [v.account for v in self.verdicts(epoch) if v.verdict == "pending"]
                for account in pending:
                    self._flag(cur, epoch, account, "no valid proof before the epoch closed")
                counts = dict(
                    cur.execute("SELECT verdict, COUNT(*) FROM verdicts WHERE epoch = ? GROUP BY verdict", (epoch,))
                )
                (accounts,) = cur.execute("SELECT COUNT(*) FROM commitments WHERE epoch = ?", (epoch,)).fetchone()
                (anonymous,) = cur.execute("SELECT COUNT(*) FROM anonymous_proofs WHERE epoch = ?", (epoch,)).fetchone()
                self._append(
                    cur,
                    "close",
                    epoch,
                    None,
                    {
                        "epoch": epoch,
                        "accounts": accounts,
                        "proven": counts.get("proven", 0),
                        "flagged": counts.get("flagged", 0),
                        "anonymous": anonymous,
                        "closed_at": time.time(),
                    },
                )
        return next(s for s in self.epochs() if s.epoch == epoch)

    # ---- solvency rounds (`ledger._solvency`) ----------------------------------------------

    def solvency(self, epoch: int) -> SolvencyRound | None:
        """The epoch's recorded solvency round, or None."""
        c = self._db.execute("SELECT * FROM solvency WHERE epoch = ?", (epoch,))
        names = [d[0] for d in c.description]
        row = c.fetchone()
        if row is None:
            return None
        batches = table_rows_where(self._db, "solvency_batches", "epoch = ? ORDER BY batch", (epoch,))
        return round_of(dict(zip(names, row, strict=True)), batches)

    def solvency_problem(self, rnd: SolvencyRound, snapshot_check: SnapshotCheck | None = None) -> str | None:
        """The first violation of `rnd` against this ledger's epoch (`solvency_problems`;
        `snapshot_check` ties the snapshot's JSON to its hashed encoding)."""
        record = self.epoch(rnd.epoch)
        (raw,) = self._db.execute("SELECT snapshot_encoding FROM epochs WHERE epoch = ?", (rnd.epoch,)).fetchone()
        statement = Statement(record.snapshot_hash, record.snapshot_json, [int(v) for v in json.loads(raw)])
        return solvency_problems(rnd, self.leaves(rnd.epoch), statement, record.closed, snapshot_check=snapshot_check)

    def record_solvency(self, rnd: SolvencyRound, snapshot_check: SnapshotCheck | None = None) -> SolvencyRound:
        """Append a round that `solvency_problems` finds nothing wrong with, its batches and
        itself in one transaction; the same round again is a no-op. SolvencyRefusedError
        (nothing written) for a violation or another round of the same epoch."""
        with self._transaction() as cur:  # everything is read under the write lock
            existing = self.solvency(rnd.epoch)
            if existing is not None:
                if round_row(existing) == round_row(rnd) and existing.batches == rnd.batches:
                    return existing
                raise SolvencyRefusedError(f"epoch {rnd.epoch} already has a solvency round")
            problem = self.solvency_problem(rnd, snapshot_check)
            if problem is not None:
                raise SolvencyRefusedError(f"epoch {rnd.epoch}: {problem}")
            for b, batch in enumerate(rnd.batches):
                self._append(cur, "solvency_batch", rnd.epoch, None, batch_row(rnd.epoch, b, batch))
            self._append(cur, "solvency", rnd.epoch, None, round_row(rnd))
        return rnd

    # ---- settlements and transitions (`ledger._settlement`) --------------------------------

    def previous_epoch(self, epoch: int) -> int | None:
        """The ledger's last epoch before `epoch`, or None."""
        (n,) = self._db.execute("SELECT MAX(epoch) FROM epochs WHERE epoch < ?", (epoch,)).fetchone()
        return n

    def fund(self, before_epoch: int | None = None) -> int | None:
        """The insurance fund after the last settlement (before `before_epoch`), or None."""
        row = self._db.execute(
            "SELECT fund_after FROM settlements WHERE epoch < ? ORDER BY epoch DESC LIMIT 1",
            (2**63 - 1 if before_epoch is None else before_epoch,),
        ).fetchone()
        return None if row is None else int(row[0])

    def settlement(self, epoch: int) -> tuple[SettlementFacts, VerifyingKey] | None:
        """The epoch's settlement facts and transition key, or None."""
        row = self._db.execute(
            "SELECT facts_json, transition_key_json FROM settlements WHERE epoch = ?", (epoch,)
        ).fetchone()
        return None if row is None else (SettlementFacts.model_validate_json(row[0]), _parse_verifying_key(row[1]))

    def transitions(self, epoch: int) -> list[Transition]:
        """The epoch's recorded transitions, in order."""
        return [transition_of(r) for r in table_rows_where(self._db, "transitions", "epoch = ? ORDER BY seq", (epoch,))]

    def _settlement_problem(self, facts: SettlementFacts) -> str | None:
        record = self.epoch(facts.epoch)
        previous = self.previous_epoch(facts.epoch)
        previous_json = None if previous is None else self.epoch(previous).snapshot_json
        registered = dict(self.registered(facts.epoch))
        before = {} if previous is None else dict(self.registered(previous))
        return settlement_problems(
            facts, record.snapshot_json, previous_json, previous, self.fund(facts.epoch), registered, before
        )

    def _transition_problems(
        self, epoch: int, transitions: Sequence[Transition], *, verify: bool
    ) -> list[tuple[str, str]]:
        settled = self.settlement(epoch)
        if settled is None:
            return [(t.account, f"epoch {epoch} has no settlement") for t in transitions]
        facts, key = settled
        previous = {} if facts.previous_epoch is None else dict(self.registered(facts.previous_epoch))
        registered = dict(self.registered(epoch))
        record = self.epoch(epoch)
        relisted = facts.previous_epoch is not None and listing(record.snapshot_json) != listing(
            self.epoch(facts.previous_epoch).snapshot_json
        )
        return transition_problems(
            transitions, facts, record.snapshot_hash, registered, previous, key,
            relisted=relisted, closed=False, verify=verify,
        )  # fmt: skip

    def record_settlement(
        self,
        facts: SettlementFacts,
        transition_key: VerifyingKey,
        commitments: Sequence[tuple[str, int]],
        unproven: Sequence[Transition],
    ) -> bool:
        """Append an epoch's settlement in one transaction: every settled account's new
        commitment registered, the facts, and the transitions no proof can carry. False
        (nothing written) when the same settlement is recorded; SettlementRefusedError
        (nothing written) for a violation or another settlement of the epoch."""
        with self._appending(facts.epoch) as (cur, _):
            existing = self.settlement(facts.epoch)
            if existing is not None:
                if existing[0] == facts and existing[1] == transition_key:
                    return False
                raise SettlementRefusedError(f"epoch {facts.epoch} already has another settlement")
            (last,) = cur.execute("SELECT MAX(epoch) FROM settlements").fetchone()
            if last is not None and last > facts.epoch:
                raise SettlementRefusedError(f"epoch {last} is settled: settlements are recorded in epoch order")
            if any(t.kind == "proven" for t in unproven):
                raise SettlementRefusedError("a proven transition is recorded with its proof (record_transitions)")
            for account, commitment in commitments:
                self._register(cur, facts.epoch, account, commitment)
            problem = self._settlement_problem(facts)
            if problem is not None:
                raise SettlementRefusedError(f"epoch {facts.epoch}: {problem}")
            row = {
                "epoch": facts.epoch,
                "previous_epoch": facts.previous_epoch,
                "fund_after": str(facts.fund_after),
                "facts_json": facts.model_dump_json(),
                "transition_key_json": transition_key.to_json(),
            }
            self._append(cur, "settlement", facts.epoch, None, row)
            self._append_transitions(cur, facts.epoch, unproven, verify=False)
        return True

    def _append_transitions(
        self, cur: sqlite3.Cursor, epoch: int, transitions: Sequence[Transition], *, verify: bool
    ) -> None:
        problems = self._transition_problems(epoch, transitions, verify=verify)
        if problems:
            account, problem = problems[0]
            raise SettlementRefusedError(f"epoch {epoch}, {account}: {problem}")
        for t in transitions:
            self._append(cur, "transition", epoch, t.account, transition_row(epoch, t))

    def record_transitions(self, epoch: int, proven: Sequence[Transition]) -> int:
        """Append proven transitions in one transaction once all verify (one batch check)
        and say what they claim; accounts whose transition is recorded are skipped. Returns
        how many were appended; SettlementRefusedError (nothing written) otherwise."""
        if any(t.kind != "proven" for t in proven):
            raise SettlementRefusedError("record_transitions takes proven transitions only")
        with self._appending(epoch) as (cur, _):
            recorded = {t.account for t in self.transitions(epoch)}
            new = [t for t in proven if t.account not in recorded]
            self._append_transitions(cur, epoch, new, verify=True)
        return len(new)


def read_row(cur: sqlite3.Cursor | sqlite3.Connection, table: str, seq: int) -> dict[str, Any]:
    """The row of `table` with this seq, as {column: value} (raises KeyError if none)."""
    c = cur.execute(f"SELECT * FROM {table} WHERE seq = ?", (seq,))
    names = [d[0] for d in c.description]
    rows = c.fetchall()
    if len(rows) != 1:
        raise KeyError(f"{len(rows)} rows of {table} with seq {seq}")
    return dict(zip(names, rows[0], strict=True))


def table_rows_where(db: sqlite3.Connection, table: str, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    c = db.execute(f"SELECT * FROM {table} WHERE {where}", args)
    names = [d[0] for d in c.description]
    return [dict(zip(names, r, strict=True)) for r in c.fetchall()]


def table_rows(db: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    c = db.execute(f"SELECT * FROM {table}")
    names = [d[0] for d in c.description]
    return [dict(zip(names, r, strict=True)) for r in c.fetchall()]
