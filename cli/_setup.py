"""Making a circuit's Groth16 keys, the one way `margin-setup` and `solvency setup` do it:
phase 2 from a prepared ptau (the key then needs contributions) or the INSECURE dev
setup, writing the circuit's .r1cs, .zkey and verification key (and, for the dev setup,
a notice file saying so)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from circuits import CompiledCircuit, read_r1cs, write_r1cs
from engine import n_private_inputs
from prover import (
    INSECURE_NOTICE,
    InsecureSetupWarning,
    PtauFile,
    ZkeyFile,
    dev_setup,
    export_verification_key,
    new_zkey,
    verifying_key,
    write_zkey,
)

from ._base import _err, _fail, _out, _say, stages
from ._demo import NOTICE_FILE

_DEV_STAGES = 6  # lagrange, A, B1, B2, C, H
_PTAU_STAGES = 7  # A, B1, B2, C, H, coefficients, circuit hash


@dataclass(frozen=True)
class KeyFiles:
    """Where a setup writes: the folder and the three file names."""

    out_dir: Path
    r1cs: str
    zkey: str
    vk: str

    def path(self, name: str) -> Path:
        return self.out_dir / name


def check_setup_choice(ptau: Path | None, dev: bool) -> None:
    if (ptau is None) == (not dev):
        _fail("give exactly one of --ptau <pot.ptau> (phase 2 from a ceremony) or --dev (INSECURE dev setup)")


def write_keys(circuit: CompiledCircuit, files: KeyFiles, ptau_file: PtauFile | None) -> ZkeyFile:
    """Write the circuit's .r1cs, its key (phase 2 from `ptau_file`, or the dev setup)
    and its verification key, with a progress bar; returns the key."""
    r1cs_path, zkey_path = files.path(files.r1cs), files.path(files.zkey)
    with stages((_PTAU_STAGES if ptau_file else _DEV_STAGES) + 2, first="write r1cs") as on_stage:
        files.out_dir.mkdir(parents=True, exist_ok=True)
        write_r1cs(circuit.cs, r1cs_path, n_prv_in=n_private_inputs(circuit))
        on_stage("setup (phase 2)" if ptau_file else "setup (INSECURE dev setup)")
        if ptau_file is not None:
            key = new_zkey(read_r1cs(r1cs_path), ptau_file, on_stage=on_stage)
            vk = export_verification_key(key)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureSetupWarning)  # said loudly by `report_keys`
                pk = dev_setup(circuit.cs, on_stage=on_stage)
            key = ZkeyFile.from_proving_key(pk)
            vk = verifying_key(pk)  # carries the INSECURE notice
        on_stage("write")
        write_zkey(key, zkey_path)
        vk.save(files.path(files.vk))
        if ptau_file is None:
            (files.out_dir / NOTICE_FILE).write_text(
                INSECURE_NOTICE + ".\nThe keys in this folder come from zkmargin's dev setup.\n"
            )
    return key


def report_keys(files: KeyFiles, key: ZkeyFile, from_ptau: bool, seconds: float) -> None:
    """What was written, and what the key still needs."""
    if from_ptau:
        _say(_out, f"circuit hash: {key.cs_hash.hex()}", "")
    written = ", ".join(str(files.path(n)) for n in (files.r1cs, files.zkey, files.vk))
    _say(_err, f"wrote {written} in {seconds:.1f} s", "green")
    if from_ptau:
        _say(_err, "the key has no contribution yet: add one with `zkmargin zkey contribute` before use", "yellow")
    else:
        _say(_err, f"WARNING: {INSECURE_NOTICE}.", "bold yellow")
