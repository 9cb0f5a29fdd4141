"""Proving an account's margin health with the margin circuit (`circuits.MarginHealth`).

    circuit = margin_circuit_for(snapshot)              # compiled once per snapshot shape
    pk = prover.dev_setup(circuit.cs)                   # or a key from a ceremony
    proof, public = prove_account(account, snapshot, pk, salt=salt)

The public signals are ``[commitment, snapshot_hash, requirement, max_margin_ratio_ppm]``
(`public_signals_for`); anyone holding the snapshot and the published commitment can
rebuild them and verify the proof with `verifier.verify`.

The circuit covers standard-mode accounts whose positions are cross or isolated
positions in perpetuals and futures (live or expired) and cross options (scenario-grid
portfolios per underlying, short option minimum), initial fractions scaled by open
interest included. `check_supported` refuses the rest with `UnsupportedInCircuitError`:
portfolio mode and isolated options.
`prove_account` refuses an account that does not meet the requirement with
`UnhealthyAccountError` and never emits a proof for it; the circuit itself cannot be
satisfied by such an account with any witness.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from circuits import CompiledCircuit, MarginHealth, MarginShape, MarketShape, compile_circuit
from prover import Prover, ProvingKey
from verifier import Proof, PublicSignals

from ._commitment import commit, encode_account
from ._errors import UnhealthyAccountError, UnsupportedInCircuitError, ValueOutOfRangeError
from ._margin import compute_margin
from ._models import MARKET_KIND_CODES, Account, MarginReport, MarketSnapshot, OptionMarket

Requirement = Literal["maintenance", "initial"]
#: The `requirement` public input of each choice.
REQUIREMENT_CODES: dict[str, int] = {"maintenance": 0, "initial": 1}


def margin_shape(snapshot: MarketSnapshot) -> MarginShape:
    """The shape the margin circuit is compiled for: counts, kinds, bracket counts and each
    option's underlying (public structure), no values."""
    position = {a.symbol: i for i, a in enumerate(snapshot.assets)}
    return MarginShape(
        n_assets=len(snapshot.assets),
        markets=tuple(
            MarketShape(MARKET_KIND_CODES[m.kind], base=position[m.base])
            if isinstance(m, OptionMarket)
            else MarketShape(MARKET_KIND_CODES[m.kind], len(m.risk.brackets))
            for m in snapshot.markets
        ),
        n_price_moves=len(snapshot.grid.price_moves_ppm),
        n_vol_moves=len(snapshot.grid.vol_moves_ppm),
    )


@cache
def _compiled(shape: MarginShape) -> CompiledCircuit:
    return compile_circuit(MarginHealth(shape))


def margin_circuit_for(snapshot: MarketSnapshot) -> CompiledCircuit:
    """The compiled margin circuit of the snapshot's shape (cached per shape)."""
    return _compiled(margin_shape(snapshot))


def check_supported(account: Account, snapshot: MarketSnapshot) -> None:
    """Raise `UnsupportedInCircuitError` unless the circuit can prove this account."""
    if account.margin_mode != "standard":
        raise UnsupportedInCircuitError(f"{account.id}: portfolio margin mode is not in the margin circuit yet")
    for p in account.positions:
        m = snapshot.market(p.market)
        if p.isolated and isinstance(m, OptionMarket):
            raise UnsupportedInCircuitError(f"{account.id}: option {p.market} cannot be isolated in the circuit")


def _requirement_code(requirement: str) -> int:
    if requirement not in REQUIREMENT_CODES:
        raise ValueOutOfRangeError(f"requirement must be 'maintenance' or 'initial', got {requirement!r}")
    return REQUIREMENT_CODES[requirement]


def public_signals_for(
    commitment: int, snapshot: MarketSnapshot, requirement: Requirement = "maintenance", max_margin_ratio_ppm: int = 0
) -> PublicSignals:
    """The public signals a margin proof of `commitment` under `snapshot` must carry."""
    return PublicSignals.from_values(
        [commitment, snapshot.snapshot_hash(), _requirement_code(requirement), max_margin_ratio_ppm]
    )


def assign_witness(
    account: Account,
    snapshot: MarketSnapshot,
    salt: int,
    requirement: Requirement = "maintenance",
    *,
    max_margin_ratio_ppm: int = 0,
) -> dict[str, int | list[int]]:
    """The margin circuit's input assignment for the account (no health check: an
    unhealthy account gives an assignment that `solve` rejects at `health/...`)."""
    return {
        "commitment": commit(account, snapshot, salt),
        "snapshot_hash": snapshot.snapshot_hash(),
        "requirement": _requirement_code(requirement),
        "max_margin_ratio_ppm": max_margin_ratio_ppm,
        "salt": salt,
        "account": encode_account(account, snapshot),
        "snapshot": snapshot.field_encoding(),
    }


def meets(report: MarginReport, requirement: Requirement, max_margin_ratio_ppm: int = 0) -> bool:
    """The engine's verdict on what the circuit proves: cross equity >= the chosen
    requirement, every isolated position healthy (margin + value >= its maintenance
    requirement, whichever requirement is proven), and, with a ratio bound,
    margin_ratio_ppm exists and is <= it."""
    required = report.initial_requirement if requirement == "initial" else report.maintenance_requirement
    if report.equity < required:
        return False
    if any(p.healthy is False for p in report.positions):
        return False
    if max_margin_ratio_ppm:
        return report.margin_ratio_ppm is not None and report.margin_ratio_ppm <= max_margin_ratio_ppm
    return True


def prove_account(
    account: Account,
    snapshot: MarketSnapshot,
    proving_key: ProvingKey | Prover,
    *,
    salt: int,
    requirement: Requirement = "maintenance",
    max_margin_ratio_ppm: int = 0,
) -> tuple[Proof, PublicSignals]:
    """A Groth16 proof that the committed account meets `requirement` under `snapshot`.

    Raises `UnsupportedInCircuitError` (see `check_supported`), `UnhealthyAccountError`
    when the engine says the account does not meet the requirement (no proof is made),
    and the engine's validation errors.
    """
    code = _requirement_code(requirement)
    if not 0 <= max_margin_ratio_ppm < 2**64:
        raise ValueOutOfRangeError(f"max_margin_ratio_ppm = {max_margin_ratio_ppm} is outside [0, 2**64)")
    check_supported(account, snapshot)
    report = compute_margin(account, snapshot)
    if not meets(report, requirement, max_margin_ratio_ppm):
        raise UnhealthyAccountError(
            f"{account.id}: equity {report.equity} against {requirement} requirement "
            f"{report.initial_requirement if code else report.maintenance_requirement}"
            + (
                f", margin ratio {report.margin_ratio_ppm} ppm vs at most {max_margin_ratio_ppm}"
                if max_margin_ratio_ppm
                else ""
            )
            + "".join(
                f", isolated {p.market} below its maintenance requirement"
                for p in report.positions
                if p.healthy is False
            )
            + ": no proof is made for an account that does not meet it"
        )
    circuit = margin_circuit_for(snapshot)
    witness = circuit.solve(
        assign_witness(account, snapshot, salt, requirement, max_margin_ratio_ppm=max_margin_ratio_ppm)
    )
    prover = proving_key if isinstance(proving_key, Prover) else Prover(proving_key)
    return prover.prove(witness.values)
