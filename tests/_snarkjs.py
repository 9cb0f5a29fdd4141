"""Running snarkjs and circom2 (npm peers) from tests.

The peers live in the node_modules folder given by tests._node.node_peers_dir()
(ZKMARGIN_NODE_PEERS, default .npm-peers). If they are missing, NodePeersMissing is
raised: tests fail with an installation hint, they do not skip.

All paths may be absolute; each tool runs with `node <package cli>` so that nothing
depends on node_modules/.bin being on PATH.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests._node import NodePeersMissing, node_peers_dir

__all__ = [
    "CircomBuild",
    "circom2",
    "groth16_prove",
    "groth16_setup",
    "make_ptau",
    "snarkjs",
    "wtns_calculate",
]

_TIMEOUT_S = 600.0


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise NodePeersMissing("`node` executable not found on PATH (snarkjs and circom2 need Node.js >= 18)")
    return node


def _run(cmd: list[str], cwd: Path | None, check: bool) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} exited with status {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"
        )
    return proc


def snarkjs(*args: str | Path, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `snarkjs <args>`; RuntimeError with its output if it fails and `check`.

    With check=False the caller reads returncode (e.g. `groth16 verify` exits 1 for an
    invalid proof).
    """
    cli = node_peers_dir(["snarkjs"]) / "snarkjs" / "build" / "cli.cjs"
    return _run([_node(), str(cli), *map(str, args)], cwd, check)


@dataclass(frozen=True)
class CircomBuild:
    """What `circom2 --r1cs --wasm --sym` wrote for one circuit."""

    r1cs: Path
    wasm: Path
    sym: Path


def circom2(src_path: Path, out_dir: Path, include: tuple[Path, ...] = (), optimize: str = "--O1") -> CircomBuild:
    """Compile a .circom file with circom2 (circom 2 in WebAssembly) into out_dir.

    `include "circomlib/circuits/poseidon.circom";` resolves: circomlib's circuits are
    copied beside the source when it includes them.
    """
    modules = node_peers_dir(["circom2"])
    out_dir.mkdir(parents=True, exist_ok=True)
    if "circomlib/" in src_path.read_text():
        # circom2 runs under WASI and only sees paths below its working directory's
        # ancestors as it spells them; an include path outside them is not found, so
        # circomlib's circuits are copied beside the build.
        lib = node_peers_dir(["circomlib"]) / "circomlib" / "circuits"
        target = src_path.parent / "circomlib" / "circuits"
        if not target.exists():
            shutil.copytree(lib, target)
    cmd = [_node(), str(modules / "circom2" / "cli.js"), str(src_path), "--r1cs", "--wasm", "--sym", optimize]
    cmd += ["-o", str(out_dir)]
    for path in (modules, *include):
        cmd += ["-l", str(path)]
    _run(cmd, out_dir, check=True)
    name = src_path.stem
    build = CircomBuild(out_dir / f"{name}.r1cs", out_dir / f"{name}_js" / f"{name}.wasm", out_dir / f"{name}.sym")
    for path in (build.r1cs, build.wasm, build.sym):
        if not path.is_file():
            raise RuntimeError(f"circom2 reported success but did not write {path}")
    return build


def make_ptau(out_dir: Path, power: int = 8, entropy: str = "zkmargin test ptau") -> Path:
    """A small prepared powers-of-tau file for circuits of up to 2^power constraints.

    `powersoftau new bn128 <power>`, one `contribute` with fixed entropy, `prepare
    phase2`. Insecure (dev only). About 5 s at power 8, 20 s at power 10.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    p0, p1, final = out_dir / f"pot{power}_0.ptau", out_dir / f"pot{power}_1.ptau", out_dir / f"pot{power}.ptau"
    snarkjs("powersoftau", "new", "bn128", str(power), p0)
    snarkjs("powersoftau", "contribute", p0, p1, "--name=zkmargin tests", f"-e={entropy}")
    snarkjs("powersoftau", "prepare", "phase2", p1, final)
    p0.unlink()
    p1.unlink()
    return final


def groth16_setup(r1cs: Path, ptau: Path, out_dir: Path, entropy: str = "zkmargin test zkey") -> tuple[Path, Path]:
    """`groth16 setup` plus one phase-2 contribution; returns (circuit.zkey, verification_key.json)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    zkey0, zkey = out_dir / f"{r1cs.stem}_0.zkey", out_dir / f"{r1cs.stem}.zkey"
    vk = out_dir / "verification_key.json"
    snarkjs("groth16", "setup", r1cs, ptau, zkey0)
    snarkjs("zkey", "contribute", zkey0, zkey, "--name=zkmargin tests", f"-e={entropy}")
    snarkjs("zkey", "export", "verificationkey", zkey, vk)
    zkey0.unlink()
    return zkey, vk


def wtns_calculate(wasm: Path, input_json: Path, wtns: Path) -> Path:
    """`snarkjs wtns calculate`: the witness of the inputs in input_json."""
    snarkjs("wtns", "calculate", wasm, input_json, wtns)
    return wtns


def groth16_prove(zkey: Path, wtns: Path, proof_json: Path, public_json: Path) -> tuple[Path, Path]:
    """`snarkjs groth16 prove`; returns (proof.json, public.json)."""
    snarkjs("groth16", "prove", zkey, wtns, proof_json, public_json)
    return proof_json, public_json
