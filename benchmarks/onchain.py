"""Gas on a real EVM: our Solidity verifier against snarkjs's and groth16py's on the same
keys and proofs, and the MarginLedger contract's submit against submitBatch.

    .venv/bin/python benchmarks/onchain.py [--inputs 1 2 4 8 16] [--accounts 64]
        [--batches 1 2 4 8 16 32 64] [--keys benchmarks/results/epoch-keys]
        [--out benchmarks/results/onchain.json] [--plot benchmarks/results/onchain.png]

Every contract is compiled by the same solc (npm `solc`, in .npm-peers) with the same
optimizer settings and run on pyrevm (revm, Ethereum's precompiles), in one run. Gas is
what the transaction uses: 21,000 intrinsic gas and calldata included, as a wallet pays.

- verifyProof: for circuits of k public inputs (a product chain, every input nonzero),
  and for the example margin circuit's key with a maintenance proof (inputs [commitment,
  snapshot hash, 0, 0]). Keys: INSECURE dev setups.
- MarginLedger: an epoch of generated accounts (the example snapshot) proven by
  `run_epoch`; for each batch size n, n proofs sent as n `submit` calls and as one
  `submitBatch`, on fresh deployments with the epoch open and the commitments
  registered (registration is not counted).

Gas is deterministic: the figures do not depend on the machine's load. Prints a table,
writes JSON and a PNG.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import groth16py  # noqa: E402

from circuits import compile_circuit  # noqa: E402
from engine import dev_keys, generate_accounts, load_example_snapshot, run_epoch  # noqa: E402
from ledger import OPEN_EPOCH, REGISTER, SUBMIT, SUBMIT_BATCH, Ledger, margin_ledger_contract  # noqa: E402
from prover import (  # noqa: E402
    InsecureSetupWarning,
    Prover,
    ZkeyFile,
    dev_setup,
    export_verification_key,
    write_zkey,
)
from tests._circuits import powers_circuit  # noqa: E402
from tests._evm import Chain, compile_solidity  # noqa: E402
from tests._snarkjs import snarkjs  # noqa: E402
from verifier import Proof, encode_call, proof_words, solidity_verifier  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PEERS = ("zkmargin", "snarkjs", "groth16py")


def _sources(zkey: Path, vk_json: Path, work: Path) -> dict[str, str]:
    """Our, snarkjs's and groth16py's verifier of one key."""
    key = export_verification_key_of(zkey)
    snarkjs("zkey", "export", "solidityverifier", zkey, work / "snarkjs.sol")
    return {
        "zkmargin": solidity_verifier(key),
        "snarkjs": (work / "snarkjs.sol").read_text(),
        "groth16py": groth16py.VerifyingKey.from_snarkjs_file(str(vk_json)).to_solidity(),
    }


def export_verification_key_of(zkey: Path) -> Any:
    from prover import read_zkey

    return export_verification_key(read_zkey(zkey))


def _verify_gas(sources: dict[str, str], proof: Proof, public: list[int]) -> dict[str, int]:
    """verifyProof's gas on each verifier (each must accept the proof)."""
    words = list(proof_words(proof))
    args = [words[0:2], [words[2:4], words[4:6]], words[6:8], public]
    calldata = encode_call(f"verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[{len(public)}])", args)
    chain, gas = Chain(), {}
    for who, source in sources.items():
        name = re.findall(r"^contract (\w+)", source, re.M)[-1]
        call = chain.call(chain.deploy(compile_solidity(source, name)), calldata)
        if not (call.ok and call.word == 1):
            raise SystemExit(f"{who}'s verifier refused a valid proof")
        gas[who] = call.gas
    return gas


def _powers_row(k: int, work: Path) -> dict[str, Any]:
    cc = compile_circuit(powers_circuit(k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSetupWarning)
        pk = dev_setup(cc.cs)
    zkey = work / f"powers{k}.zkey"
    write_zkey(ZkeyFile.from_proving_key(pk), zkey)
    export_verification_key_of(zkey).save(work / f"powers{k}.json")
    witness = cc.solve({"x": 3, **{f"y{i}": 3 ** (i + 2) for i in range(k)}})
    proof, public = Prover(pk).prove(witness.values)
    gas = _verify_gas(_sources(zkey, work / f"powers{k}.json", work), proof, list(public.values))
    return {"circuit": f"{k} input" + ("s" if k > 1 else ""), "inputs": k, "gas": gas}


def _epoch(keys: Path, accounts: int, work: Path) -> tuple[Path, int]:
    snapshot = load_example_snapshot()
    zkey = dev_keys(snapshot, keys)
    with Ledger.open(work / "ledger.db") as ledger:
        run_epoch(generate_accounts(snapshot, accounts, seed=0), snapshot, zkey, ledger, workers=None)
    return zkey, snapshot.epoch


def _margin_row(zkey: Path, ledger_path: Path, epoch: int, work: Path) -> dict[str, Any]:
    export_verification_key_of(zkey).save(work / "margin_vk.json")
    with Ledger.open(ledger_path, create=False) as ledger:
        record = ledger.epoch(epoch)
        _, commitment, proof = ledger.proven(epoch)[0]
    gas = _verify_gas(_sources(zkey, work / "margin_vk.json", work), proof, record.expected_signals(commitment))
    return {"circuit": "margin (maintenance)", "inputs": 4, "gas": gas}


def _ledger_rows(ledger_path: Path, epoch: int, batches: list[int]) -> list[dict[str, Any]]:
    with Ledger.open(ledger_path, create=False) as ledger:
        record = ledger.epoch(epoch)
        proven = [(c, list(proof_words(p))) for _, c, p in ledger.proven(epoch)]
    compiled = compile_solidity(margin_ledger_contract(record.verifying_key), "MarginLedger")
    statement = [epoch, record.snapshot_hash, 0 if record.requirement == "maintenance" else 1,
                 record.max_margin_ratio_ppm]  # fmt: skip

    def fresh(group: list[tuple[int, list[int]]]) -> tuple[Chain, str]:
        chain = Chain()
        address = chain.deploy(compiled)
        for call in (encode_call(OPEN_EPOCH, statement), encode_call(REGISTER, [epoch, [c for c, _ in group]])):
            if not chain.call(address, call).ok:
                raise SystemExit("the MarginLedger refused to open the epoch")
        return chain, address

    rows = []
    for n in (b for b in batches if b <= len(proven)):
        group = proven[:n]
        chain, address = fresh(group)
        singles = [chain.call(address, encode_call(SUBMIT, [epoch, c, p])).gas for c, p in group]
        chain, address = fresh(group)
        batch = chain.call(address, encode_call(SUBMIT_BATCH, [epoch, [c for c, _ in group], [p for _, p in group]]))
        if not batch.ok:
            raise SystemExit(f"submitBatch of {n} valid proofs was refused")
        rows.append({"proofs": n, "submit_gas": sum(singles), "batch_gas": batch.gas})
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        zkey, epoch = _epoch(args.keys, args.accounts, work)
        verify_rows = [_powers_row(k, work) for k in args.inputs]
        verify_rows.append(_margin_row(zkey, work / "ledger.db", epoch, work))
        ledger_rows = _ledger_rows(work / "ledger.db", epoch, args.batches)
    return {"verify": verify_rows, "ledger": ledger_rows}


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="verifyProof gas on the same EVM, same key and proof (lower is better)")
    for col in ("circuit", *PEERS, "zkmargin / snarkjs", "zkmargin / groth16py"):
        t.add_column(col, justify="right")
    for r in result["verify"]:
        g = r["gas"]
        t.add_row(r["circuit"], *(f"{g[p]:,}" for p in PEERS), f"{g['zkmargin'] / g['snarkjs']:.3f}",
                  f"{g['zkmargin'] / g['groth16py']:.3f}")  # fmt: skip
    Console(width=160).print(t)
    t = Table(title="MarginLedger: n proofs as n submit calls and as one submitBatch")
    for col in ("proofs", "n x submit", "submitBatch", "per proof (batch)", "batch / singles"):
        t.add_column(col, justify="right")
    for r in result["ledger"]:
        t.add_row(str(r["proofs"]), f"{r['submit_gas']:,}", f"{r['batch_gas']:,}",
                  f"{r['batch_gas'] // r['proofs']:,}", f"{r['batch_gas'] / r['submit_gas']:.2f}")  # fmt: skip
    Console(width=160).print(t)


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    rows = [r for r in result["verify"] if not r["circuit"].startswith("margin")]
    for peer in PEERS:
        left.plot([r["inputs"] for r in rows], [r["gas"][peer] / 1000 for r in rows], marker="o", label=peer)
    left.set_xlabel("public inputs (all nonzero)")
    left.set_ylabel("verifyProof gas (thousands)")
    left.set_title("one Groth16 verification")
    left.legend()
    ledger = result["ledger"]
    n = [r["proofs"] for r in ledger]
    right.plot(n, [r["submit_gas"] / r["proofs"] / 1000 for r in ledger], marker="o", label="submit, one at a time")
    right.plot(n, [r["batch_gas"] / r["proofs"] / 1000 for r in ledger], marker="o", label="submitBatch")
    right.set_xscale("log", base=2)
    right.set_xlabel("proofs")
    right.set_ylabel("gas per proof (thousands)")
    right.set_title("MarginLedger, margin circuit proofs")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--keys", type=Path, default=RESULTS / "epoch-keys")
    parser.add_argument("--out", type=Path, default=RESULTS / "onchain.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "onchain.png")
    args = parser.parse_args()
    result = run(args)
    print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.plot)
    print(f"wrote {args.out} and {args.plot}", file=sys.stderr)


if __name__ == "__main__":
    main()
