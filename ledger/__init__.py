"""The public settlement ledger: SQLite, append-only, hash-chained, verified on append
and audited by anyone with the small verifier.

    with Ledger.open("ledger.db") as ledger:
        ledger.open_epoch(snapshot, verifying_key)         # the epoch's public statement
        outcome = ledger.record_account(epoch, "alice", commitment, proof, public)
        ledger.publish_root(epoch, anonymous_key)          # optional: anonymous proofs
        ledger.submit_anonymous(epoch, proof, public)
        ledger.record_settlement(facts, transition_key, commitments, unproven)  # optional
        ledger.record_transitions(epoch, proven)          # before the close
        ledger.close_epoch(epoch)
        ledger.record_solvency(solvency_round)             # after the close: solvency
    report = audit_ledger_file("ledger.db")

Modules: `_store` (the tables and verify-first appends), `_chain` (the hash chain),
`_statement` (a margin proof's public signals and the one acceptance rule used by
appends, anonymous submissions and the audit), `_anonymous` (Merkle roots of
commitments and nullifiers), `_solvency` (solvency rounds: the venue's liabilities
against its reserves, checked without the prover), `_inclusion` (a user's leaf in a
round), `_settlement` (an epoch's settlement facts and the transitions chaining each
account's commitment from epoch to epoch), `_contract` (the MarginLedger contract for
Ethereum) and `_calls` (an epoch as the contract calls that replay it), `_audit` (the chain, every row,
every proof re-verified in batches), `_errors`.

Layering: this package imports the verifier, algebra (Poseidon, for the snapshot hash
and Merkle roots) and the standard library only, never the prover, circuits or engine:
`import ledger` loads no numba (the verifier's kernels load with the first pairing).
An epoch's snapshot is published as its JSON and its field encoding
(`PublishedSnapshot`: the engine's MarketSnapshot is one); the audit re-hashes the
encoding, and ties it to the JSON only when given a `snapshot_check` (the CLI's
`ledger audit --snapshots` passes the engine's).
"""

from ._anonymous import ANONYMOUS_N_PUBLIC, MAX_DEPTH, RootRecord
from ._audit import AUDIT_BATCH, AuditProblem, AuditReport, audit_ledger, audit_ledger_file
from ._calls import CALLS_FORMAT, DEFAULT_BATCH, REGISTER_CHUNK, ContractCall, calls_document, epoch_calls
from ._chain import GENESIS, KIND_TABLES, canonical, content_hash, entry_hash
from ._contract import (
    CLOSE_EPOCH,
    MAX_BATCH,
    OPEN_EPOCH,
    PROVEN,
    REGISTER,
    REGISTERED,
    STATUS,
    SUBMIT,
    SUBMIT_BATCH,
    UNKNOWN,
    margin_ledger_contract,
)
from ._errors import (
    AccountDecidedError,
    AnonymousProofRefusedError,
    AppendRefusedError,
    CommitmentConflictError,
    DamagedLedgerError,
    EpochClosedError,
    EpochConflictError,
    LedgerError,
    MalformedInclusionError,
    MalformedReservesError,
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
from ._inclusion import Inclusion, inclusion_of, inclusion_problem
from ._settlement import (
    TRANSITION_KINDS,
    TRANSITION_N_PUBLIC,
    UNPROVEN_KINDS,
    AccountFact,
    LiquidationFact,
    MarketFact,
    SettlementFacts,
    Transition,
    listing,
    market_facts,
    settlement_problems,
    transition_problems,
)
from ._solvency import (
    MAX_SOLVENCY_DEPTH,
    SOLVENCY_N_PUBLIC,
    PublishedTotals,
    Reserves,
    SolvencyBatchProof,
    SolvencyRound,
    Statement,
    economics_problem,
    snapshot_names,
    solvency_problems,
)
from ._statement import (
    ANONYMOUS_SIGNAL_NAMES,
    PAIRING_FAILED,
    RATIO_BOUND,
    REQUIREMENT_CODES,
    SIGNAL_NAMES,
    Requirement,
    SnapshotCheck,
    anonymous_signals,
    check_ratio_bound,
    margin_signals,
    requirement_code,
    signals_problem,
)
from ._store import (
    MAX_REJECTED_PROOFS,
    SCHEMA_COLUMNS,
    SCHEMA_VERSION,
    EpochRecord,
    EpochStats,
    Ledger,
    Outcome,
    PublishedSnapshot,
    VerdictRecord,
    proof_digest,
    read_row,
    schema_problems,
    snapshot_hash_of,
    table_rows,
)
from ._units import QUOTE_DECIMALS, decimal_units, ppm_percent, quote_units

__all__ = [
    "QUOTE_DECIMALS",
    "decimal_units",
    "ppm_percent",
    "quote_units",
    "CALLS_FORMAT",
    "DEFAULT_BATCH",
    "REGISTER_CHUNK",
    "ContractCall",
    "calls_document",
    "epoch_calls",
    "CLOSE_EPOCH",
    "MAX_BATCH",
    "OPEN_EPOCH",
    "PROVEN",
    "REGISTER",
    "REGISTERED",
    "STATUS",
    "SUBMIT",
    "SUBMIT_BATCH",
    "UNKNOWN",
    "margin_ledger_contract",
    "TRANSITION_KINDS",
    "TRANSITION_N_PUBLIC",
    "UNPROVEN_KINDS",
    "AccountFact",
    "LiquidationFact",
    "MarketFact",
    "SettlementFacts",
    "SettlementRefusedError",
    "Transition",
    "listing",
    "market_facts",
    "settlement_problems",
    "transition_problems",
    "Inclusion",
    "inclusion_of",
    "inclusion_problem",
    "MAX_SOLVENCY_DEPTH",
    "SOLVENCY_N_PUBLIC",
    "PublishedTotals",
    "Reserves",
    "SolvencyBatchProof",
    "SolvencyRefusedError",
    "SolvencyRound",
    "Statement",
    "economics_problem",
    "snapshot_names",
    "solvency_problems",
    "ANONYMOUS_N_PUBLIC",
    "ANONYMOUS_SIGNAL_NAMES",
    "AUDIT_BATCH",
    "GENESIS",
    "KIND_TABLES",
    "MAX_DEPTH",
    "MAX_REJECTED_PROOFS",
    "PAIRING_FAILED",
    "RATIO_BOUND",
    "REQUIREMENT_CODES",
    "SCHEMA_COLUMNS",
    "SCHEMA_VERSION",
    "SIGNAL_NAMES",
    "AccountDecidedError",
    "AnonymousProofRefusedError",
    "AppendRefusedError",
    "AuditProblem",
    "AuditReport",
    "CommitmentConflictError",
    "DamagedLedgerError",
    "EpochClosedError",
    "EpochConflictError",
    "EpochRecord",
    "EpochStats",
    "Ledger",
    "LedgerError",
    "MalformedInclusionError",
    "MalformedReservesError",
    "NoRootError",
    "NotALedgerError",
    "NullifierUsedError",
    "Outcome",
    "PublishedSnapshot",
    "RegistrationClosedError",
    "RejectionLimitError",
    "Requirement",
    "RootConflictError",
    "RootRecord",
    "SignalCountError",
    "SnapshotCheck",
    "StatementError",
    "UnknownAccountError",
    "UnknownEpochError",
    "VerdictRecord",
    "anonymous_signals",
    "audit_ledger",
    "audit_ledger_file",
    "canonical",
    "check_ratio_bound",
    "content_hash",
    "entry_hash",
    "margin_signals",
    "proof_digest",
    "read_row",
    "requirement_code",
    "schema_problems",
    "signals_problem",
    "snapshot_hash_of",
    "table_rows",
]
