"""An epoch's settlement stage, before its margin proofs: the accounts settled (funding,
expiry, liquidation: `settle_epoch`), written as the next version of the account state,
recorded in the ledger, and the transitions of untouched accounts proven.

    key = check_settling(ledger, epoch, snapshot, settling)     # before anything is written
    stage = settle_stage(ledger, epoch, accounts, snapshot, settling, salts_dir, key)
    # ... the margin proofs of stage.accounts, then stage.jobs proven and recorded

Write-ahead, so that a crash anywhere followed by a rerun applies each settlement once:

1. Already recorded (the ledger has the epoch's settlement): nothing is recomputed; the
   settled accounts are read back from the state's version N and must open the
   commitments the ledger registered for them (with the salts kept), else
   `SettlementInputError`.
2. Otherwise the phase runs on the accounts given with the fund the last settlement
   left (`--insurance-fund` seeds the ledger's first). Everything recorded about it is
   computed first (a refusal writes nothing); then it is written, in order: the state's
   version N (`write_state`: whole or absent, never replacing another version), a salt
   per settled account (an existing one is reused: a crashed run wrote it and nothing
   published its commitment), then the ledger's one transaction
   (`Ledger.record_settlement`): every new commitment, the public facts, and the
   transitions that no proof can carry (liquidated, deleveraged, counterparty, traded,
   new, relisted). Only that transaction acknowledges the settlement.
3. The remaining registered accounts' transitions are proven (`TransitionJob`: the
   account given opens its previous epoch's commitment and settles to the one
   registered) and recorded in batches; a rerun proves only those not yet recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ledger import AccountFact, Ledger, LiquidationFact, SettlementFacts, Transition, listing, market_facts
from prover import Prover, read_zkey
from verifier import Proof, PublicSignals, VerifyingKey

from ._account_files import read_salt_or_none, read_state, salt_path, write_state
from ._commitment import commit, random_salt, write_salt_file
from ._errors import MalformedInputError
from ._models import Account, MarketSnapshot, Name, load_model
from ._prove_account import check_zkey_matches
from ._settlement import LiquidationParams
from ._settlement_phase import EpochSettlement, settle_epoch
from ._transition import TransitionJob, settle_transition, transition_circuit_with_key, transition_job


class SettlementInputError(MalformedInputError):
    """A settlement that cannot run as asked: no insurance fund to start from (or another
    one than the ledger's), state or salts that do not open what the ledger recorded,
    accounts other than the ones the epoch settled."""


class SettlementConfig(BaseModel):
    """The venue's settlement configuration file (JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    counterparty: Name = Field(
        description="The account that takes liquidated positions over (the order book's stand-in; never liquidated)."
    )
    liquidation: LiquidationParams = Field(default_factory=LiquidationParams, description="dYdX v4 parameters (ppm).")

    @classmethod
    def load(cls, path: str | Path) -> SettlementConfig:
        """The configuration in `path` (bounded read, named errors)."""
        return load_model(cls, path)


@dataclass(frozen=True)
class Settling:
    """What `run_epoch` needs to settle an epoch before its margin proofs."""

    config: SettlementConfig
    transition_zkey: Path
    state_dir: Path
    initial_fund: int | None = None


@dataclass(frozen=True)
class SettledStage:
    """The stage's outcome: the settled accounts and the transitions left to prove."""

    accounts: list[Account]
    jobs: list[TransitionJob]


def settle_stage(
    ledger: Ledger,
    epoch: int,
    accounts: Sequence[Account],
    snapshot: MarketSnapshot,
    settling: Settling,
    salts_dir: Path,
    key: VerifyingKey,
) -> SettledStage:
    """Steps 1 and 2 of the module doc, and the jobs of step 3 (`key`: `check_settling`'s)."""
    if ledger.settlement(epoch) is None:
        settled = list(_apply(ledger, epoch, accounts, snapshot, settling, salts_dir, key).accounts)
    else:
        settled = _recorded_state(ledger, epoch, snapshot, settling.state_dir, salts_dir)
    return SettledStage(settled, _pending_jobs(ledger, epoch, accounts, snapshot, salts_dir))


def check_settling(ledger: Ledger, epoch: int, snapshot: MarketSnapshot, settling: Settling) -> VerifyingKey:
    """What can be refused before anything is written: the transition key (its verification
    key is returned) and, for an epoch not yet settled, the fund to start from."""
    key = _transition_key(snapshot, settling.transition_zkey)
    if ledger.settlement(epoch) is None:
        _opening_fund(ledger, epoch, settling.initial_fund)
    return key


def _transition_key(snapshot: MarketSnapshot, zkey: Path) -> VerifyingKey:
    """The transition key's verification key, once the key is checked to be the circuit's."""
    key = read_zkey(zkey, copy_on_write=True)
    check_zkey_matches(key, transition_circuit_with_key(snapshot, zkey), str(zkey))
    return Prover(key).verifying_key


def _opening_fund(ledger: Ledger, epoch: int, initial: int | None) -> int:
    fund = ledger.fund(epoch)
    if fund is None and initial is None:
        raise SettlementInputError(
            "the ledger's first settlement needs the insurance fund's balance (--insurance-fund)"
        )
    if fund is not None and initial is not None and initial != fund:
        raise SettlementInputError(f"the ledger's insurance fund is {fund}, not the {initial} given")
    return fund if fund is not None else initial  # type: ignore[return-value]


def _apply(
    ledger: Ledger,
    epoch: int,
    accounts: Sequence[Account],
    snapshot: MarketSnapshot,
    settling: Settling,
    salts_dir: Path,
    key: VerifyingKey,
) -> EpochSettlement:
    """Step 2: the phase and everything recorded about it computed first (a refusal writes
    nothing), then written ahead (state, salts) and recorded in one transaction."""
    fund = _opening_fund(ledger, epoch, settling.initial_fund)
    config = settling.config
    phase = settle_epoch(accounts, snapshot, fund, config.liquidation, counterparty=config.counterparty)
    salts = {a.id: _kept_salt(salts_dir, epoch, a.id) for a in phase.accounts}
    commitments = {a.id: commit(a, snapshot, salts[a.id][0]) for a in phase.accounts}
    previous = ledger.previous_epoch(epoch)
    unproven = _unproven(ledger, previous, accounts, snapshot, phase, commitments, salts_dir)
    facts = _facts(ledger, epoch, previous, snapshot, phase, commitments, config.counterparty)
    write_state(settling.state_dir, epoch, phase.accounts)
    for account, (salt, kept) in salts.items():
        if not kept:
            write_salt_file(salt_path(salts_dir, epoch, account), salt)
    ledger.record_settlement(facts, key, list(commitments.items()), unproven)
    return phase


def _kept_salt(salts_dir: Path, epoch: int, account: str) -> tuple[int, bool]:
    """(salt, kept): the salt a crashed run wrote for the account (nothing published its
    commitment), or a fresh one to be written."""
    salt = read_salt_or_none(salt_path(salts_dir, epoch, account))
    return (salt, True) if salt is not None else (random_salt(), False)


def _facts(
    ledger: Ledger,
    epoch: int,
    previous: int | None,
    snapshot: MarketSnapshot,
    phase: EpochSettlement,
    commitments: dict[str, int],
    counterparty: str,
) -> SettlementFacts:
    """The public facts of the phase (`ledger.SettlementFacts`)."""
    totals: dict[str, list[int]] = {}
    for r in phase.liquidations:  # an account liquidated in two passes is one fact
        t = totals.setdefault(r.account.id, [0, 0, 0, 0])
        for i, v in enumerate((len(r.closes), r.penalty, r.fund_used, r.deleveraged_shortfall)):
            t[i] += v
    previous_json = None if previous is None else ledger.epoch(previous).snapshot_json
    before = {} if previous is None else dict(ledger.registered(previous))
    return SettlementFacts(
        epoch=epoch,
        previous_epoch=previous,
        fund_before=phase.fund_before,
        funding_delta=phase.funding_delta,
        expiry_delta=phase.expiry_delta,
        fund_after=phase.fund_after,
        counterparty=counterparty,
        markets=market_facts(snapshot.model_dump_json(), previous_json),
        liquidations=tuple(
            LiquidationFact(
                account=a, commitment=commitments[a], closes=c, penalty=p, fund_used=u, deleveraged_shortfall=s
            )
            for a, (c, p, u, s) in totals.items()
        ),
        deleveraged=tuple(AccountFact(account=a, commitment=commitments[a]) for a in phase.deleveraged),
        departed=tuple(AccountFact(account=a, commitment=c) for a, c in before.items() if a not in commitments),
    )


def _unproven(
    ledger: Ledger,
    previous: int | None,
    accounts: Sequence[Account],
    snapshot: MarketSnapshot,
    phase: EpochSettlement,
    commitments: dict[str, int],
    salts_dir: Path,
) -> list[Transition]:
    """The transitions no proof can carry (`ledger._settlement`), with their reasons."""
    before = {a.id: a for a in accounts}
    liquidated, deleveraged = set(phase.liquidated), set(phase.deleveraged)
    # the ledger's own test of a relisting, so that what is claimed is what it checks
    same_universe = previous is not None and (
        listing(ledger.epoch(previous).snapshot_json) == listing(snapshot.model_dump_json())
    )
    out = []
    for a in phase.accounts:
        old = None if previous is None else ledger.commitment(previous, a.id)
        why = _why_unproven(a, before[a.id], old, previous, snapshot, same_universe, liquidated, deleveraged, salts_dir)
        if why is not None:
            out.append(Transition(a.id, why[0], commitments[a.id], old, why[1]))
    return out


def _why_unproven(
    after: Account,
    before: Account,
    old: int | None,
    previous: int | None,
    snapshot: MarketSnapshot,
    same_universe: bool,
    liquidated: set[str],
    deleveraged: set[str],
    salts_dir: Path,
) -> tuple[str, str] | None:
    """(kind, reason) of an account whose transition cannot be proven, or None."""
    if after.id in liquidated:
        return "liquidated", "liquidated below maintenance: positions closed by the settlement"
    if after.id in deleveraged:
        return "deleveraged", "took positions over from a liquidated account at its bankruptcy price"
    if after != settle_transition(before, snapshot):
        return "counterparty", "took liquidated positions over (the order book's side)"
    if old is None:
        return "new", "no commitment in the previous epoch" if previous is not None else "the ledger's first epoch"
    if not same_universe:
        return "relisted", f"the listed markets or assets changed since epoch {previous}"
    salt = read_salt_or_none(salt_path(salts_dir, previous, after.id))  # type: ignore[arg-type]
    if salt is None or commit(before, snapshot, salt) != old:
        return "traded", f"not the account its epoch-{previous} commitment opens to: it traded or changed since"
    return None


def _recorded_state(
    ledger: Ledger, epoch: int, snapshot: MarketSnapshot, state_dir: Path, salts_dir: Path
) -> list[Account]:
    """Step 1: the recorded settlement's accounts, read back and checked against the ledger."""
    settled = read_state(state_dir, epoch)
    if settled is None:
        raise SettlementInputError(
            f"epoch {epoch} is settled in the ledger but its state {state_dir} has no epoch-{epoch}"
        )
    by_id = {a.id: a for a in settled}
    for account, commitment in ledger.registered(epoch):
        salt = read_salt_or_none(salt_path(salts_dir, epoch, account))
        if account not in by_id or salt is None or commit(by_id[account], snapshot, salt) != commitment:
            raise SettlementInputError(
                f"{account}: the state and salts of epoch {epoch} do not open its recorded commitment"
            )
    return settled


def _pending_jobs(
    ledger: Ledger,
    epoch: int,
    accounts: Sequence[Account],
    snapshot: MarketSnapshot,
    salts_dir: Path,
) -> list[TransitionJob]:
    """Step 3's work: every registered account without a recorded transition."""
    recorded = {t.account for t in ledger.transitions(epoch)}
    previous = ledger.previous_epoch(epoch)
    before = {a.id: a for a in accounts}
    jobs = []
    for account, commitment in ledger.registered(epoch):
        if account in recorded:
            continue
        old_salt = None if previous is None else read_salt_or_none(salt_path(salts_dir, previous, account))
        new_salt = read_salt_or_none(salt_path(salts_dir, epoch, account))
        if account not in before or old_salt is None or new_salt is None:
            raise SettlementInputError(f"{account}: its account, or a salt of epoch {previous} or {epoch}, is missing")
        job = transition_job(before[account], old_salt, snapshot, new_salt)
        if (job.old_commitment, job.new_commitment) != (ledger.commitment(previous, account), commitment):  # type: ignore[arg-type]
            raise SettlementInputError(f"{account}: the accounts given are not the ones epoch {epoch} settled")
        jobs.append(job)
    return jobs


def transition_of(job: TransitionJob, proof: Proof, public: PublicSignals) -> Transition:
    """A proven transition as the ledger records it."""
    reason = "funding and expiry at the published rates and prices, proven"
    return Transition(job.account, "proven", job.new_commitment, job.old_commitment, reason, proof, public)


#: Proven transitions recorded per ledger transaction (one batch verification each).
TRANSITION_BATCH = 64


def record_proven(ledger: Ledger, epoch: int, proven: list[Transition]) -> None:
    """Record proven transitions in batches of TRANSITION_BATCH."""
    for lo in range(0, len(proven), TRANSITION_BATCH):
        ledger.record_transitions(epoch, proven[lo : lo + TRANSITION_BATCH])
