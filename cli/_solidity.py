"""The snarkjs verbs for Ethereum:

    zkmargin zkey export solidityverifier <circuit.zkey | verification_key.json> <Verifier.sol>
    zkmargin zkey export soliditycalldata <public.json> <proof.json>

The contract is ours (`verifier.solidity_verifier`), with snarkjs's interface; the
calldata is printed exactly as snarkjs prints it. A .zkey is recognised by its magic
bytes, not its name, and only then is the prover's reader loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from verifier import Proof, PublicSignals, VerifyingKey, solidity_calldata, solidity_verifier

from ._base import _err, _out, _say, reported_errors

_ZKEY_MAGIC = b"zkey"


def _key_of(path: Path) -> VerifyingKey:
    """The verifying key of a .zkey or of a verification_key.json."""
    with path.open("rb") as f:
        magic = f.read(len(_ZKEY_MAGIC))
    if magic != _ZKEY_MAGIC:
        return VerifyingKey.load(path)
    from prover import export_verification_key, read_zkey

    return export_verification_key(read_zkey(path))


def zkey_export_solidityverifier(
    key: Annotated[Path, typer.Argument(help="circuit.zkey or verification_key.json.")],
    contract: Annotated[Path, typer.Argument(help="Where to write the Solidity source (Verifier.sol).")],
) -> None:
    """Write a Solidity Groth16 verifier for the key, like `snarkjs zkey export solidityverifier`.

    Contract `Groth16Verifier`, function verifyProof(uint[2] a, uint[2][2] b, uint[2] c,
    uint[N] input) returns (bool): snarkjs's interface, cheaper in gas.
    """
    with reported_errors():
        source = solidity_verifier(_key_of(key))
        contract.write_text(source)
    _say(_err, f"wrote {contract}", "green")


def zkey_export_soliditycalldata(
    public: Annotated[Path, typer.Argument(help="public.json: the public signals.")],
    proof: Annotated[Path, typer.Argument(help="proof.json (snarkjs format).")],
) -> None:
    """Print verifyProof's arguments for a proof, like `snarkjs zkey export soliditycalldata`."""
    with reported_errors():
        text = solidity_calldata(Proof.load(proof), PublicSignals.load(public).values)
    _out.print(text, soft_wrap=True, markup=False, highlight=False)
