"""CLI commands that prove an account's margin health with the margin circuit:

    zkmargin margin-setup --snapshot <snapshot.json> --out-dir <dir> (--ptau <pot.ptau> | --dev)
    zkmargin prove-account <account.json> --snapshot <snapshot.json> --zkey <margin.zkey>
        --proof <proof.json> --public <public.json> [--requirement maintenance|initial]
        [--max-margin-ratio-ppm N] [--salt-file <file> | --salt <int>]

`margin-setup` compiles the margin circuit for the snapshot's *shape* (asset and market
counts, kinds, bracket counts, grid size; not its prices) and writes ``margin.r1cs``,
``margin.zkey`` and ``verification_key.json``. Any snapshot of the same shape proves
with the same key.

`prove-account` writes ``proof.json`` and ``public.json`` in snarkjs's format; the
public signals are ``[commitment, snapshot_hash, requirement, max_margin_ratio_ppm]``.

Salt (the secret that hides the account inside the public commitment): by default a
fresh salt is drawn from the OS's CSPRNG and written to ``<proof>.salt`` (created
exclusively, mode 0600; an existing file is never overwritten, since it may be the
opening of an earlier commitment). ``--salt-file`` reuses a salt, to prove again
against a commitment already published. ``--salt`` takes it on the command line
(visible in shell history and process lists: a warning says so). A salt below 2**128
is refused (`WeakSaltError`): a guessable salt lets anyone brute-force the committed
account from the public commitment. The salt is never printed.

Exit codes: 0 proof written; 1 the account does not meet the requirement (one
``NOT PROVED: ...`` line naming the equity and the requirement; no file is written);
2 malformed, unsupported or mismatched input (one ``ERROR: <ErrorName>: ...`` line; no
file is written).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated

import typer

from algebra import MismatchedFilesError
from engine import (
    Claim,
    EngineError,
    EpochContext,
    MalformedInputError,
    UnhealthyAccountError,
    ValueOutOfRangeError,
    anonymous_circuit_for,
    check_zkey_matches,
    commit,
    load_account,
    load_snapshot,
    margin_circuit_for,
    margin_circuit_with_key,
    margin_shape,
    prove_account_anonymously,
    random_salt,
    read_salt_file,
    save_margin_circuit,
    write_salt_file,
)
from ledger import Ledger, NoRootError
from prover import (
    Prover,
    ZkeyFile,
    read_ptau,
    read_zkey,
)
from verifier import Proof, PublicSignals, verify

from ._base import EXIT_INVALID, RequirementChoice, _err, _fail, _out, _say, reported_errors, stages
from ._margin import format_ppm, format_quote
from ._setup import KeyFiles, check_setup_choice, report_keys, write_keys

R1CS_NAME = "margin.r1cs"
ZKEY_NAME = "margin.zkey"
VK_NAME = "verification_key.json"
#: Smallest salt accepted from the user: below it the commitment could be brute-forced.
MIN_SALT = 1 << 128


class WeakSaltError(ValueOutOfRangeError):
    """A salt small enough to guess: the public commitment would not hide the account."""


class SaltFileExistsError(EngineError):
    """The file a fresh salt would be written to exists (it may open another commitment)."""


def margin_setup(
    snapshot: Annotated[Path, typer.Option("--snapshot", "-s", help="snapshot.json: the circuit takes its shape.")],
    out_dir: Annotated[
        Path, typer.Option("--out-dir", "-o", help="Folder for margin.r1cs, margin.zkey, verification_key.json.")
    ],
    ptau: Annotated[
        Path | None, typer.Option("--ptau", help="A powers-of-tau file prepared for phase 2 (snarkjs phase 2).")
    ] = None,
    dev: Annotated[
        bool, typer.Option("--dev", help="INSECURE single-party setup instead (tests and demos only).")
    ] = False,
    anonymous_depth: Annotated[
        int, typer.Option("--anonymous-depth", min=0, help="The anonymous circuit for a tree of this depth.")
    ] = 0,
) -> None:
    """Compile the margin circuit for a snapshot's shape and make its Groth16 keys.

    Exactly one of --ptau (phase 2 like `snarkjs groth16 setup`: the key has no
    contribution yet, add some with `zkey contribute` and re-export the verification
    key before using it for anything of value) or --dev (INSECURE: one process knew
    the toxic waste).
    """
    check_setup_choice(ptau, dev)
    start = time.perf_counter()
    files = KeyFiles(out_dir, R1CS_NAME, ZKEY_NAME, VK_NAME)
    with reported_errors():
        snapshot_obj = load_snapshot(snapshot)
        ptau_file = read_ptau(ptau) if ptau is not None else None
        shape = margin_shape(snapshot_obj)
        circuit = (
            anonymous_circuit_for(snapshot_obj, anonymous_depth)
            if anonymous_depth
            else margin_circuit_for(snapshot_obj)
        )
        key = write_keys(circuit, files, ptau_file)
        if not anonymous_depth:  # provers load the compiled circuit beside the key
            save_margin_circuit(snapshot_obj, files.path(ZKEY_NAME))
    cs = circuit.cs
    _say(
        _out,
        f"margin circuit: {len(shape.markets)} markets, {shape.n_assets} assets, "
        f"{cs.n_constraints:,} constraints, {cs.n_wires:,} wires, {cs.n_public} public",
        "",
    )
    report_keys(files, key, ptau_file is not None, time.perf_counter() - start)


def _not_proved(claim: Claim, requirement: RequirementChoice, max_margin_ratio_ppm: int) -> str:
    report = claim.report
    initial = requirement is RequirementChoice.initial
    required = report.initial_requirement if initial else report.maintenance_requirement
    text = (
        f"NOT PROVED: account {claim.account.id} does not meet the {requirement.value} requirement: "
        f"equity {format_quote(report.equity)}, {requirement.value} requirement {format_quote(required)}"
    )
    if max_margin_ratio_ppm:
        text += f", margin ratio {format_ppm(report.margin_ratio_ppm)} (at most {format_ppm(max_margin_ratio_ppm)})"
    return text + " (quote units); no proof was made"


def prove_account_cmd(
    account: Annotated[Path, typer.Argument(help="account.json (an Account).")],
    snapshot: Annotated[Path, typer.Option("--snapshot", "-s", help="snapshot.json (a MarketSnapshot).")],
    zkey: Annotated[Path, typer.Option("--zkey", "-k", help="margin.zkey for the snapshot's shape.")],
    proof: Annotated[Path, typer.Option("--proof", help="Where to write proof.json.")],
    public: Annotated[Path, typer.Option("--public", help="Where to write public.json.")],
    requirement: Annotated[
        RequirementChoice, typer.Option("--requirement", "-r", help="The requirement equity must meet.")
    ] = RequirementChoice.maintenance,
    max_margin_ratio_ppm: Annotated[
        int,
        typer.Option(
            "--max-margin-ratio-ppm", min=0, max=2**64 - 1, help="Also prove margin ratio <= N ppm (0: no bound)."
        ),
    ] = 0,
    salt_file: Annotated[
        Path | None, typer.Option("--salt-file", help="Reuse the salt in this file (one integer).")
    ] = None,
    salt: Annotated[
        str | None, typer.Option("--salt", help="The salt itself (visible in shell history: prefer --salt-file).")
    ] = None,
) -> None:
    """Prove that an account meets its margin requirement, without revealing it.

    Without --salt/--salt-file a fresh random salt is drawn and written to
    <proof>.salt (mode 0600, never overwritten): keep it secret, it opens the
    commitment. Exit 0: proof written; 1: the account does not meet the requirement
    (nothing written); 2: bad, unsupported or mismatched input (nothing written).
    """
    if salt is not None and salt_file is not None:
        _fail("give at most one of --salt and --salt-file")
    start = time.perf_counter()
    with reported_errors():
        salt_value, new_salt_path = _salt_from(salt, salt_file, proof)
        account_obj = load_account(account)
        snapshot_obj = load_snapshot(snapshot)
        key = read_zkey(zkey, copy_on_write=True)
        # Refusals first, before any progress bar: each is one line.
        ctx = EpochContext.build(
            snapshot_obj,
            None,
            requirement=requirement.value,
            max_margin_ratio_ppm=max_margin_ratio_ppm,
            circuit=margin_circuit_with_key(snapshot_obj, zkey),
        )
        claim = ctx.claim(account_obj, salt_value)
        if not claim.healthy:
            _say(_out, _not_proved(claim, requirement, max_margin_ratio_ppm), "bold red")
            raise typer.Exit(EXIT_INVALID)
        check_zkey_matches(key, ctx.circuit, str(zkey))
        with stages(2, first="prove") as on_stage:
            prover = Prover(key)
            proof_obj, signals = dataclasses.replace(ctx, prover=prover).prove(claim)
            on_stage("self-check")
            _self_check(prover, proof_obj, signals, zkey)
        if new_salt_path is not None:
            write_salt_file(new_salt_path, salt_value, exclusive=True)
        proof_obj.save(proof)
        signals.save(public)
    _say(_out, f"commitment: {claim.commitment}", "")
    _say(_out, f"snapshot hash: {ctx.snapshot_hash}", "")
    _say(_out, f"requirement: {requirement.value}, max margin ratio ppm: {max_margin_ratio_ppm}", "")
    _report_salt(new_salt_path, salt_file)
    _report_key(key)
    _say(_err, f"proved in {time.perf_counter() - start:.2f} s: {proof}, {public}", "green")


def _salt_from(salt: str | None, salt_file: Path | None, proof: Path) -> tuple[int, Path | None]:
    """The salt to prove with, and where a fresh one will be written (None when given):
    from --salt-file, --salt, or fresh beside the proof (refused if that file exists)."""
    new_salt_path: Path | None = None
    if salt_file is not None:
        salt_value = read_salt_file(salt_file)
    elif salt is not None:
        try:
            salt_value = int(salt, 0)
        except ValueError:
            raise MalformedInputError(f"--salt {salt!r} is not an integer") from None
        _say(_err, "warning: a salt on the command line shows in shell history and process lists", "yellow")
    else:
        salt_value = random_salt()
        new_salt_path = proof.with_name(proof.name + ".salt")
        if new_salt_path.exists():
            raise SaltFileExistsError(
                f"{new_salt_path} exists (it may open an earlier commitment); move it away, "
                "or prove with it: --salt-file"
            )
    if salt_value < MIN_SALT:
        raise WeakSaltError(
            "a salt below 2**128 could be guessed, revealing the account from its commitment; "
            "omit --salt/--salt-file for a fresh random one"
        )
    return salt_value, new_salt_path


def _self_check(prover: Prover, proof: Proof, signals: PublicSignals, zkey: Path) -> None:
    """A key whose sizes match but which is not this circuit's (or is damaged) gives a
    proof that does not verify under the key's own verifying key: MismatchedFilesError."""
    if not verify(prover.verifying_key, signals, proof):
        raise MismatchedFilesError(
            f"the proof does not verify under {zkey}'s own verification key: "
            "the key is not one for this snapshot's margin circuit"
        )


def _report_salt(new_salt_path: Path | None, salt_file: Path | None) -> None:
    if new_salt_path is not None:
        _say(_out, f"salt: fresh, written to {new_salt_path}", "")
        _say(
            _err,
            f"WARNING: {new_salt_path} is the secret opening of the commitment: keep it private, "
            "and keep it to prove again against the same commitment (--salt-file)",
            "bold yellow",
        )
    else:
        _say(_out, f"salt: from {'--salt-file ' + str(salt_file) if salt_file else '--salt'}", "")


def _report_key(key: ZkeyFile) -> None:
    if key.cs_hash == bytes(64) and not key.contributions:
        _say(_err, "WARNING: this key has no circuit hash: it looks like an INSECURE dev-setup key", "bold yellow")
    elif not key.contributions:
        _say(_err, "warning: this key has no phase-2 contribution", "yellow")


def prove_anonymous_cmd(
    account: Annotated[Path, typer.Argument(help="account.json (an Account).")],
    snapshot: Annotated[Path, typer.Option("--snapshot", "-s", help="snapshot.json (a MarketSnapshot).")],
    zkey: Annotated[Path, typer.Option("--zkey", "-k", help="The anonymous margin circuit's .zkey.")],
    ledger: Annotated[Path, typer.Option("--ledger", "-l", help="The ledger with the epoch's published root.")],
    salt_file: Annotated[Path, typer.Option("--salt-file", help="The salt of the registered commitment.")],
    proof: Annotated[Path, typer.Option("--proof", help="Where to write proof.json.")],
    public: Annotated[Path, typer.Option("--public", help="Where to write public.json.")],
    requirement: Annotated[
        RequirementChoice, typer.Option("--requirement", "-r", help="The epoch's requirement.")
    ] = RequirementChoice.maintenance,
    max_margin_ratio_ppm: Annotated[
        int, typer.Option("--max-margin-ratio-ppm", min=0, max=2**64 - 1, help="The epoch's ratio bound.")
    ] = 0,
) -> None:
    """Prove that an account of the epoch's published tree is healthy, without naming it.

    The proof carries the tree's root and the account's nullifier (one per account and
    snapshot), not its commitment.

    The account's commitment (under --salt-file) must be a leaf of the root the ledger
    published for the snapshot's epoch (`zkmargin ledger publish-root`). Exit 0: proof
    written; 1: the account does not meet the requirement; 2: bad or mismatched input.
    """
    start = time.perf_counter()
    with reported_errors():
        salt_value, _ = _salt_from(None, salt_file, proof)
        account_obj, snapshot_obj = load_account(account), load_snapshot(snapshot)
        leaves, depth = _published_tree(ledger, snapshot_obj.epoch)
        commitment = commit(account_obj, snapshot_obj, salt_value)
        if commitment not in leaves:
            raise MalformedInputError(
                f"{account_obj.id}'s commitment is not a leaf of epoch {snapshot_obj.epoch}'s root"
            )
        key = read_zkey(zkey, copy_on_write=True)
        check_zkey_matches(key, anonymous_circuit_for(snapshot_obj, depth), str(zkey))
        prover = Prover(key)
        try:
            with stages(1, first="prove"):
                proof_obj, signals = prove_account_anonymously(
                    account_obj,
                    snapshot_obj,
                    prover,
                    salt=salt_value,
                    leaves=leaves,
                    index=leaves.index(commitment),
                    depth=depth,
                    requirement=requirement.value,
                    max_margin_ratio_ppm=max_margin_ratio_ppm,
                )
        except UnhealthyAccountError as exc:
            _say(_out, f"NOT PROVED: {exc}", "bold red")
            raise typer.Exit(EXIT_INVALID) from None
        _self_check(prover, proof_obj, signals, zkey)
        proof_obj.save(proof)
        signals.save(public)
    _say(_out, f"merkle root: {signals.root[0]}", "")
    _say(_out, f"nullifier: {signals.root[1]}", "")
    _report_key(key)
    _say(_err, f"proved in {time.perf_counter() - start:.2f} s: {proof}, {public}", "green")


def _published_tree(path: Path, epoch: int) -> tuple[list[int], int]:
    """The leaves and depth of the root the ledger published for `epoch`."""
    with Ledger.open(path, create=False) as db:
        root = db.root(epoch)
        if root is None:
            raise NoRootError(f"epoch {epoch} has no published Merkle root in {path}")
        return db.leaves(epoch)[: root.leaves], root.depth


__all__ = ["SaltFileExistsError", "WeakSaltError", "check_zkey_matches"]
