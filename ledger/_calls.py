"""An epoch of the SQLite ledger as the `MarginLedger` calls that replay it on chain.

`epoch_calls(ledger, epoch)` lists, in order: `openEpoch` with the epoch's statement;
`registerCommitments` with every registered commitment, in registration order, at most
REGISTER_CHUNK a call; the accepted proofs of the proven accounts, `batch` a call
(`submitBatch`, or `submit` for a call of one); and `closeEpoch` when the epoch is
closed. Each call carries its function's signature, its arguments (integers as
decimal strings, as snarkjs writes them) and its ABI calldata, so ethers, cast or a
wallet can send it as is. Flagged accounts stay registered without a proof on chain,
as in the ledger; anonymous proofs and settlement transitions are other circuits'
and are not replayed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from verifier import encode_call, proof_words

from ._contract import CLOSE_EPOCH, MAX_BATCH, OPEN_EPOCH, REGISTER, SUBMIT, SUBMIT_BATCH
from ._errors import StatementError
from ._statement import requirement_code
from ._store import Ledger

#: Most commitments one registerCommitments call carries (about 25,000 gas each).
REGISTER_CHUNK = 256
#: Proofs per submitBatch call by default.
DEFAULT_BATCH = 16
CALLS_FORMAT = "zkmargin.contract-calls.v1"


class ContractCall(BaseModel):
    """One transaction to the MarginLedger contract."""

    model_config = ConfigDict(frozen=True)

    function: str = Field(description="The canonical signature, e.g. 'closeEpoch(uint64)'.")
    args: list[Any] = Field(description="The arguments, integers as decimal strings, arrays as lists.")
    calldata: str = Field(description="0x-hex ABI calldata: the selector, then the encoded arguments.")


def _call(function: str, args: Sequence[Any]) -> ContractCall:
    return ContractCall(function=function, args=_decimal(list(args)), calldata="0x" + encode_call(function, args).hex())


def _decimal(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_decimal(v) for v in value]
    return str(value)


def epoch_calls(ledger: Ledger, epoch: int, *, batch: int = DEFAULT_BATCH) -> list[ContractCall]:
    """The calls replaying `epoch` (module doc); UnknownEpochError for an epoch the
    ledger does not have, StatementError for a batch size outside [1, MAX_BATCH]."""
    if not 1 <= batch <= MAX_BATCH:
        raise StatementError(f"--batch must be between 1 and {MAX_BATCH}, got {batch}")
    record = ledger.epoch(epoch)
    code = requirement_code(record.requirement)
    calls = [_call(OPEN_EPOCH, [epoch, record.snapshot_hash, code, record.max_margin_ratio_ppm])]
    commitments = [c for _, c in ledger.registered(epoch)]
    for i in range(0, len(commitments), REGISTER_CHUNK):
        calls.append(_call(REGISTER, [epoch, commitments[i : i + REGISTER_CHUNK]]))
    proven = ledger.proven(epoch)
    for i in range(0, len(proven), batch):
        group = proven[i : i + batch]
        if len(group) == 1:
            _, commitment, proof = group[0]
            calls.append(_call(SUBMIT, [epoch, commitment, list(proof_words(proof))]))
        else:
            calls.append(
                _call(SUBMIT_BATCH, [epoch, [c for _, c, _ in group], [list(proof_words(p)) for *_, p in group]])
            )
    if record.closed:
        calls.append(_call(CLOSE_EPOCH, [epoch]))
    return calls


def calls_document(ledger: Ledger, epoch: int, *, batch: int = DEFAULT_BATCH) -> dict[str, Any]:
    """The JSON document `zkmargin ledger export-calls` writes."""
    calls = epoch_calls(ledger, epoch, batch=batch)
    return {
        "format": CALLS_FORMAT,
        "contract": "MarginLedger",
        "epoch": epoch,
        "calls": [c.model_dump() for c in calls],
    }
