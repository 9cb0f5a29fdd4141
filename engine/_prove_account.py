"""Proving an account's margin health with the margin circuit (`circuits.MarginHealth`).

    circuit = margin_circuit_for(snapshot)              # compiled once per snapshot shape
    pk = prover.dev_setup(circuit.cs)                   # or a key from a ceremony
    proof, public = prove_account(account, snapshot, pk, salt=salt)

The public signals are ``[commitment, snapshot_hash, requirement, max_margin_ratio_ppm]``
(`public_signals_for`); anyone holding the snapshot and the published commitment can
rebuild them and verify the proof with `verifier.verify`.

The circuit covers accounts in either margin mode (standard, or portfolio with cross
perpetuals and futures on the scenario grid) whose positions are cross or isolated
positions in perpetuals and futures (live or expired) and cross options (scenario-grid
portfolios per underlying, short option minimum), initial fractions scaled by open
interest included. `check_supported` refuses the rest with `UnsupportedInCircuitError`:
isolated options (which `validate_account` refuses as well).
`prove_account` refuses an account that does not meet the requirement with
`UnhealthyAccountError` and never emits a proof for it; the circuit itself cannot be
satisfied by such an account with any witness.

Anonymous mode (`MarginHealth(shape, anonymous_depth=d)`): the proof shows that the
committed account is a leaf of the ledger's Poseidon Merkle tree of commitments,
without saying which, and publishes a per-snapshot nullifier::

    circuit = anonymous_circuit_for(snapshot, depth)
    proof, public = prove_account_anonymously(account, snapshot, pk, salt=salt, leaves=leaves, index=i)

The public signals are ``[merkle_root, nullifier, snapshot_hash, requirement,
max_margin_ratio_ppm]`` (`public_signals_for_anonymous`), with `merkle_root =
membership(leaves, i, depth).root` and `nullifier(salt, snapshot)`. A ledger accepts
one proof per nullifier and snapshot: a second proof for the same committed account
and snapshot repeats the nullifier.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from algebra import (
    NULLIFIER_TAG,
    EncodingError,
    FileFormatError,
    MismatchedFilesError,
    R,
    merkle_depth,
    merkle_path,
    poseidon,
)
from circuits import (
    CompiledCircuit,
    MarginHealth,
    MarginShape,
    MarketShape,
    compile_circuit,
    file_checksum,
    load_compiled,
    save_compiled,
)
from ledger import Requirement, check_ratio_bound, margin_signals, requirement_code
from prover import Prover, ProvingKey, ZkeyFile, domain_size_for
from verifier import Proof, PublicSignals

from ._commitment import commit, commit_encoding, encode_account
from ._errors import UnhealthyAccountError, UnsupportedInCircuitError, ValueOutOfRangeError
from ._margin import compute_margin
from ._models import MARKET_KIND_CODES, Account, MarginReport, MarketSnapshot, OptionMarket


def margin_shape(snapshot: MarketSnapshot) -> MarginShape:
    """The shape the margin circuit is compiled for: counts, kinds, bracket counts and each
    market's underlying (public structure), no values."""
    position = {a.symbol: i for i, a in enumerate(snapshot.assets)}
    return MarginShape(
        n_assets=len(snapshot.assets),
        markets=tuple(
            MarketShape(
                MARKET_KIND_CODES[m.kind],
                0 if isinstance(m, OptionMarket) else len(m.risk.brackets),
                base=position[m.base],
                decimals=m.size_decimals,
            )
            for m in snapshot.markets
        ),
        n_price_moves=len(snapshot.grid.price_moves_ppm),
        n_vol_moves=len(snapshot.grid.vol_moves_ppm),
        asset_decimals=tuple(a.decimals for a in snapshot.assets),
    )


@cache
def _compiled(shape: MarginShape) -> CompiledCircuit:
    return compile_circuit(MarginHealth(shape))


def margin_circuit_for(snapshot: MarketSnapshot) -> CompiledCircuit:
    """The compiled margin circuit of the snapshot's shape (cached per shape)."""
    return _compiled(margin_shape(snapshot))


def circuit_path(zkey: str | Path) -> Path:
    """Where the compiled circuit of a margin key is saved: beside it, `<stem>.circuit.npz`."""
    zkey = Path(zkey)
    return zkey.with_name(zkey.stem + ".circuit.npz")


def save_margin_circuit(snapshot: MarketSnapshot, zkey: str | Path) -> Path:
    """Save the snapshot's compiled margin circuit beside its (written) key."""
    path = circuit_path(zkey)
    shape = margin_shape(snapshot)
    save_compiled(_compiled(shape), path, key_checksum=file_checksum(zkey), shape=repr(shape))
    return path


def margin_circuit_with_key(snapshot: MarketSnapshot, zkey: str | Path) -> CompiledCircuit:
    """The margin circuit saved beside `zkey` (`save_margin_circuit`) when it is this
    key's and this shape's, else compiled: the saved one is a cache, never trusted over
    the key (its checksum) or the snapshot (its shape)."""
    path = circuit_path(zkey)
    shape = margin_shape(snapshot)
    if path.exists():
        with contextlib.suppress(FileFormatError, MismatchedFilesError):
            return load_compiled(path, key_checksum=file_checksum(zkey), shape=repr(shape))
    return _compiled(shape)


@cache
def _compiled_anonymous(shape: MarginShape, depth: int) -> CompiledCircuit:
    return compile_circuit(MarginHealth(shape, anonymous_depth=depth))


def anonymous_circuit_for(snapshot: MarketSnapshot, depth: int) -> CompiledCircuit:
    """The compiled anonymous margin circuit for the snapshot's shape and a Merkle tree of
    depth `depth` >= 1 (cached per shape and depth)."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueOutOfRangeError(f"Merkle depth must be an int >= 1, got {depth!r}")
    return _compiled_anonymous(margin_shape(snapshot), depth)


# ---- anonymous mode -------------------------------------------------------------------


def nullifier(salt: int, snapshot: MarketSnapshot) -> int:
    """poseidon([NULLIFIER_TAG, salt, snapshot_hash]): the anonymous proof's public
    nullifier, one per committed account (its salt) and snapshot."""
    if not 0 <= salt < R:
        raise ValueOutOfRangeError(f"salt {salt} is not in [0, r)")
    return poseidon([NULLIFIER_TAG, salt, snapshot.snapshot_hash()])


@dataclass(frozen=True)
class MerkleMembership:
    """A leaf's path in a Poseidon Merkle tree (`circuits._gadgets_merkle`): siblings
    leaf level first, index bits little-endian (1 = the node is the right child)."""

    root: int
    siblings: tuple[int, ...]
    index_bits: tuple[int, ...]

    @property
    def depth(self) -> int:
        return len(self.siblings)


def membership(leaves: list[int], index: int, depth: int | None = None) -> MerkleMembership:
    """The root and the path of `leaves[index]` in the tree of `leaves`, padded with 0
    leaves to 2**depth (default: the smallest depth >= 1 that holds them)."""
    try:
        root, siblings, bits = merkle_path(leaves, index, merkle_depth(len(leaves)) if depth is None else depth)
    except EncodingError as exc:
        raise ValueOutOfRangeError(str(exc)) from None
    return MerkleMembership(root, tuple(siblings), tuple(bits))


def public_signals_for_anonymous(
    root: int,
    nullifier: int,
    snapshot: MarketSnapshot,
    requirement: Requirement = "maintenance",
    max_margin_ratio_ppm: int = 0,
) -> PublicSignals:
    """The public signals an anonymous margin proof must carry:
    [merkle_root, nullifier, snapshot_hash, requirement, max_margin_ratio_ppm]."""
    return PublicSignals.from_values(
        [root, nullifier, snapshot.snapshot_hash(), requirement_code(requirement), max_margin_ratio_ppm]
    )


def assign_anonymous_witness(
    account: Account,
    snapshot: MarketSnapshot,
    salt: int,
    path: MerkleMembership,
    requirement: Requirement = "maintenance",
    *,
    max_margin_ratio_ppm: int = 0,
) -> dict[str, int | list[int]]:
    """The anonymous circuit's input assignment (no health or membership check: `solve`
    rejects a bad one at its constraint)."""
    plain = assign_witness(account, snapshot, salt, requirement, max_margin_ratio_ppm=max_margin_ratio_ppm)
    del plain["commitment"]
    return {
        "merkle_root": path.root,
        "nullifier": nullifier(salt, snapshot),
        **plain,
        "siblings": list(path.siblings),
        "index_bits": list(path.index_bits),
    }


def check_supported(account: Account, snapshot: MarketSnapshot) -> None:
    """Raise `UnsupportedInCircuitError` unless the circuit can prove this account."""
    for p in account.positions:
        m = snapshot.market(p.market)
        if p.isolated and isinstance(m, OptionMarket):
            raise UnsupportedInCircuitError(f"{account.id}: option {p.market} cannot be isolated in the circuit")


def public_signals_for(
    commitment: int, snapshot: MarketSnapshot, requirement: Requirement = "maintenance", max_margin_ratio_ppm: int = 0
) -> PublicSignals:
    """The public signals a margin proof of `commitment` under `snapshot` must carry."""
    return PublicSignals.from_values(
        margin_signals(commitment, snapshot.snapshot_hash(), requirement, max_margin_ratio_ppm)
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
    encoding = encode_account(account, snapshot)
    return margin_assignment(
        commit_encoding(encoding, salt),
        snapshot.snapshot_hash(),
        requirement,
        max_margin_ratio_ppm,
        salt,
        encoding,
        snapshot.field_encoding(),
    )


def margin_assignment(
    commitment: int,
    snapshot_hash: int,
    requirement: Requirement,
    max_margin_ratio_ppm: int,
    salt: int,
    account_encoding: Sequence[int],
    snapshot_encoding: Sequence[int],
) -> dict[str, int | list[int]]:
    """The margin circuit's inputs by name, from values already computed."""
    return {
        "commitment": commitment,
        "snapshot_hash": snapshot_hash,
        "requirement": requirement_code(requirement),
        "max_margin_ratio_ppm": max_margin_ratio_ppm,
        "salt": salt,
        "account": list(account_encoding),
        "snapshot": list(snapshot_encoding),
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


def _check_provable(
    account: Account, snapshot: MarketSnapshot, requirement: Requirement, max_margin_ratio_ppm: int
) -> None:
    """The refusals of the anonymous prover (`prove_account` does the same through its context)."""
    requirement_code(requirement)
    check_ratio_bound(max_margin_ratio_ppm)
    check_supported(account, snapshot)
    report = compute_margin(account, snapshot)
    if not meets(report, requirement, max_margin_ratio_ppm):
        raise UnhealthyAccountError(unhealthy_reason(account.id, report, requirement, max_margin_ratio_ppm))


def unhealthy_reason(account: str, report: MarginReport, requirement: Requirement, max_margin_ratio_ppm: int) -> str:
    """Why no proof is made for an account that does not meet the statement."""
    initial = requirement == "initial"
    required = report.initial_requirement if initial else report.maintenance_requirement
    ratio = max_margin_ratio_ppm
    ratio_text = f", margin ratio {report.margin_ratio_ppm} ppm vs at most {ratio}" if ratio else ""
    isolated = "".join(
        f", isolated {p.market} below its maintenance requirement" for p in report.positions if p.healthy is False
    )
    return (
        f"{account}: equity {report.equity} against {requirement} requirement {required}"
        f"{ratio_text}{isolated}: no proof is made for an account that does not meet it"
    )


def prove_account_anonymously(
    account: Account,
    snapshot: MarketSnapshot,
    proving_key: ProvingKey | Prover,
    *,
    salt: int,
    leaves: list[int],
    index: int,
    depth: int | None = None,
    requirement: Requirement = "maintenance",
    max_margin_ratio_ppm: int = 0,
) -> tuple[Proof, PublicSignals]:
    """An anonymous margin proof: the account committed with `salt` is `leaves[index]` of
    the ledger's tree (padded with 0 leaves to 2**depth; default the smallest depth),
    meets `requirement` under `snapshot`, and the public signals are
    `public_signals_for_anonymous(root, nullifier(salt, snapshot), snapshot, ...)`.

    `proving_key` is for `anonymous_circuit_for(snapshot, depth)`. Raises as
    `prove_account`, and `ValueOutOfRangeError` when the leaf is not the commitment.
    """
    _check_provable(account, snapshot, requirement, max_margin_ratio_ppm)
    path = membership(leaves, index, depth)
    if leaves[index] != commit(account, snapshot, salt):
        raise ValueOutOfRangeError(f"{account.id}: leaf {index} is not the account's commitment under this salt")
    circuit = anonymous_circuit_for(snapshot, path.depth)
    witness = circuit.solve_limbs(
        assign_anonymous_witness(account, snapshot, salt, path, requirement, max_margin_ratio_ppm=max_margin_ratio_ppm)
    )
    prover = proving_key if isinstance(proving_key, Prover) else Prover(proving_key)
    return prover.prove(witness)


def check_zkey_matches(
    zkey: ZkeyFile,
    circuit: CompiledCircuit,
    zkey_name: str,
    what: str = "this snapshot's margin circuit",
    setup: str = "zkmargin margin-setup --snapshot ...",
) -> None:
    """Raise MismatchedFilesError unless the key's sizes are the circuit's."""
    cs = circuit.cs
    want = {
        "n_vars": cs.n_wires,
        "n_public": cs.n_public,
        "domain size": domain_size_for(cs.n_constraints, cs.n_public),
    }
    got = {"n_vars": zkey.n_vars, "n_public": zkey.n_public, "domain size": zkey.domain_size}
    diffs = [f"{k} {got[k]} (circuit: {want[k]})" for k in want if got[k] != want[k]]
    if diffs:
        raise MismatchedFilesError(f"{zkey_name} is not a key for {what}: {', '.join(diffs)}; make one with `{setup}`")


def n_private_inputs(circuit: CompiledCircuit) -> int:
    """The circuit's number of private input wires (the .r1cs header's nPrvIn)."""
    return sum(len(s.wires) for s in circuit.inputs if not s.public)
