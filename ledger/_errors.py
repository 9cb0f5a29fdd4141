"""The ledger's errors: every refusal is named, and nothing is written when one is raised."""

from __future__ import annotations


class LedgerError(Exception):
    """The settlement ledger refuses an operation (nothing was written)."""


class UnknownEpochError(LedgerError):
    """No epoch with this number is in the ledger."""


class EpochConflictError(LedgerError):
    """An epoch with this number exists with another snapshot, key or requirement."""


class AppendRefusedError(LedgerError):
    """An append that could change nothing is refused: nothing is written, not even a
    rejection (so nobody can grow the public ledger with submissions that cannot count)."""


class EpochClosedError(AppendRefusedError):
    """The epoch is closed: it takes no more commitments, proofs or verdicts."""


class UnknownAccountError(AppendRefusedError):
    """No commitment is registered for this account in this epoch."""


class AccountDecidedError(AppendRefusedError):
    """The account already has a verdict (proven or flagged) in this epoch: no proof,
    whatever its bytes, can change it."""


class RejectionLimitError(AppendRefusedError):
    """A wrong proof for an account that already has the most rejected proofs the ledger
    records per epoch."""


class SignalCountError(AppendRefusedError):
    """The public signals are not a margin proof's four: no such proof can prove anything."""


class NullifierUsedError(AppendRefusedError):
    """An anonymous proof whose nullifier already proved an account in this epoch: one
    proof per committed account and snapshot."""


class RegistrationClosedError(AppendRefusedError):
    """The epoch's Merkle root of commitments is published: no commitment can join it."""


class AnonymousProofRefusedError(AppendRefusedError):
    """An anonymous proof that does not verify against the epoch's published root and
    statement: refused unrecorded (no account is named, so nobody's quota could bound
    such records)."""


class NoRootError(AppendRefusedError):
    """The epoch has no published Merkle root of commitments: anonymous proofs need one."""


class RootConflictError(LedgerError):
    """The epoch's Merkle root is already published (with another key or depth), or the
    key given for anonymous proofs is not one."""


class StatementError(LedgerError, ValueError):
    """A value of an epoch's statement or of an append is not one: a requirement other
    than maintenance or initial, a ratio bound outside [0, 2**64), an account name or a
    commitment out of range."""


class CommitmentConflictError(LedgerError):
    """The account has another commitment in this epoch, or the commitment is another account's."""


class NotALedgerError(LedgerError):
    """The file is not a zkmargin ledger (or one of an unknown schema version)."""


class DamagedLedgerError(NotALedgerError):
    """The file is a zkmargin ledger whose tables are missing or reshaped: it is neither
    written nor read, and its audit fails naming each damaged table."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class SolvencyRefusedError(LedgerError):
    """A solvency round the ledger will not record: it has a violation (named), or the
    epoch already has another round."""


class MalformedReservesError(LedgerError):
    """A reserves file that is not the reserves' JSON (a negative amount, a float, an unknown field)."""


class MalformedInclusionError(LedgerError):
    """An inclusion proof file that is not an inclusion proof's JSON (or far too long)."""


class SettlementRefusedError(LedgerError):
    """A settlement or transition the ledger will not record: it has a violation (named),
    or the epoch already has another settlement."""
