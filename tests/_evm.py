"""A real EVM for the contract tests: solc (the npm `solc` package, a peer in
.npm-peers) compiles, pyrevm (revm, with Ethereum's precompiles) runs.

Both are dev-only: the package never imports them. `compile_solidity` caches by source
text for the session (solc-js takes a second or two per compile); `Chain` deploys and
calls, and every call reports the gas the transaction used (21,000 intrinsic gas and
calldata included, as a wallet would pay).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pyrevm import EVM

from tests._node import run_node

#: solc's optimizer settings for every contract compared here (the same for ours and
#: the peers', so the gas figures compare the code, not the compiler's settings).
OPTIMIZER_RUNS = 200
EVM_VERSION = "cancun"

_SOLC = r"""
const solc = require("solc");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => process.stdout.write(solc.compile(input)));
"""


@dataclass(frozen=True)
class Compiled:
    name: str
    bytecode: bytes
    abi: list[dict[str, Any]]
    selectors: dict[str, str]  # "verifyProof(uint256[2],...)" -> "43753b4d"


class SolcError(RuntimeError):
    """solc refused a source (its errors are the message)."""


@functools.lru_cache(maxsize=32)
def compile_solidity(source: str, contract: str) -> Compiled:
    """`contract` of `source`, compiled by the pinned solc-js with the optimizer on."""
    request = {
        "language": "Solidity",
        "sources": {"Main.sol": {"content": source}},
        "settings": {
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.methodIdentifiers"]}},
        },
    }
    out = run_node(_SOLC, request, packages=["solc"])
    errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise SolcError("\n".join(e.get("formattedMessage", e.get("message", "")) for e in errors))
    found = out["contracts"]["Main.sol"][contract]
    return Compiled(
        contract,
        bytes.fromhex(found["evm"]["bytecode"]["object"]),
        found["abi"],
        found["evm"]["methodIdentifiers"],
    )


@dataclass(frozen=True)
class Call:
    """One transaction's outcome: success, its return or revert data, the gas used and
    the logs' topics (hex) it emitted."""

    ok: bool
    output: bytes
    gas: int
    logs: list[list[str]]

    @property
    def word(self) -> int:
        """The first returned word (a bool or uint return)."""
        return int.from_bytes(self.output[:32], "big")

    def reverted_with(self, selector: str) -> bool:
        """True when the call reverted with the custom error of this 4-byte selector."""
        return not self.ok and self.output[:4].hex() == selector


class Chain:
    """A fresh in-memory EVM with funded accounts."""

    GAS_LIMIT = 30_000_000

    def __init__(self) -> None:
        self.evm = EVM(gas_limit=self.GAS_LIMIT)
        self.accounts = [f"0x{i:040x}" for i in range(0x1001, 0x1005)]
        for account in self.accounts:
            self.evm.set_balance(account, 10**24)

    def deploy(self, compiled: Compiled, *, sender: int = 0) -> str:
        """Deploy and return the contract's address."""
        return self.evm.deploy(self.accounts[sender], compiled.bytecode, gas=self.GAS_LIMIT)

    def call(self, to: str, calldata: bytes, *, sender: int = 0, gas: int | None = None) -> Call:
        """Run one transaction with `gas` (default: the block's limit); state is kept
        when it succeeds."""
        try:
            output = self.evm.message_call(self.accounts[sender], to, calldata, gas=gas or self.GAS_LIMIT)
        except RuntimeError as exc:  # pyrevm: "Revert { gas_used: N, output: 0x... }", or a halt
            return Call(False, _revert_data(exc), self._gas(), [])
        result = self.evm.result
        logs = [[t if isinstance(t, str) else t.hex() for t in log.topics] for log in (result.logs or [])]
        return Call(True, bytes(output), result.gas_used, logs)

    def _gas(self) -> int:
        result = self.evm.result
        return result.gas_used if result is not None else 0


def _revert_data(exc: RuntimeError) -> bytes:
    """The revert data pyrevm puts in its error message (0x-hex), or b''."""
    text = str(exc)
    start = text.find("0x")
    if start < 0:
        return b""
    end = start + 2
    while end < len(text) and text[end] in "0123456789abcdefABCDEF":
        end += 1
    try:
        return bytes.fromhex(text[start + 2 : end])
    except ValueError:
        return b""
