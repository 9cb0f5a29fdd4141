"""The venue's private files: account folders, commitment salts and the versioned
account state that settlement writes.

    accounts = load_accounts("accounts/")                 # *.json, named errors
    salt_path(salts_dir, epoch, "alice")                  # <salts>/epoch-N/alice.salt
    write_state(state_dir, epoch, settled_accounts)       # <state>/epoch-N/alice.json, once

Account state is versioned per epoch: `write_state` writes the accounts of version N
into a fresh temporary folder beside it (each file and the folder fsynced), then
renames it to `epoch-N`, which never replaces an existing version (a second writer's
rename fails; the same version again is a no-op; another one is refused). A crash
leaves the version whole or absent (a temporary folder at worst, which nothing reads).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ._commitment import read_salt_file
from ._errors import DuplicateEntryError, MalformedInputError
from ._models import Account, load_account


class StateConflictError(MalformedInputError):
    """An epoch's account state exists with other accounts than the ones to be written."""


def load_accounts(folder: str | Path) -> list[Account]:
    """Every `*.json` in the folder as an Account, sorted by file name; malformed files and
    duplicate account ids raise named errors before anything runs."""
    paths = sorted(Path(folder).glob("*.json"))
    if not paths:
        raise MalformedInputError(f"{folder}: no account files (*.json)")
    accounts = [load_account(p) for p in paths]
    seen: dict[str, Path] = {}
    for a, p in zip(accounts, paths, strict=True):
        if a.id in seen:
            raise DuplicateEntryError(f"account {a.id!r} is in both {seen[a.id].name} and {p.name}")
        seen[a.id] = p
    return accounts


def _file_stem(account: str) -> str:
    """An account's file name stem: its id when that is a safe name, else its sha256."""
    return account if re.fullmatch(r"[A-Za-z0-9._-]{1,100}", account) else hashlib.sha256(account.encode()).hexdigest()


def salt_path(salts_dir: Path, epoch: int, account: str) -> Path:
    """Where the salt of an account's commitment in an epoch is kept."""
    return salts_dir / f"epoch-{epoch}" / f"{_file_stem(account)}.salt"


def read_salt_or_none(path: Path) -> int | None:
    """The salt in `path`, or None when it is missing or not a salt file."""
    try:
        return read_salt_file(path)
    except (OSError, MalformedInputError):
        return None


def state_path(state_dir: Path, epoch: int) -> Path:
    """The folder of an epoch's account state (version N)."""
    return state_dir / f"epoch-{epoch}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_state(state_dir: Path, epoch: int) -> list[Account] | None:
    """Version N of the account state, or None when it was never written."""
    folder = state_path(state_dir, epoch)
    return load_accounts(folder) if folder.is_dir() else None


def write_state(state_dir: Path, epoch: int, accounts: Sequence[Account]) -> Path:
    """Write version N of the account state once (module doc); StateConflictError when
    version N exists with other accounts."""
    final = state_path(state_dir, epoch)
    existing = read_state(state_dir, epoch)
    if existing is not None:
        if sorted(existing, key=lambda a: a.id) == sorted(accounts, key=lambda a: a.id):
            return final
        raise StateConflictError(
            f"{final} holds other accounts than this settlement's: a run whose settlement the ledger did not "
            "record wrote it from other input; move it away to settle these accounts"
        )
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = Path(tempfile.mkdtemp(prefix=f".epoch-{epoch}.", dir=state_dir))
    try:
        for a in accounts:
            with (tmp / f"{_file_stem(a.id)}.json").open("w") as f:
                f.write(a.model_dump_json(indent=2, exclude_defaults=True) + "\n")
                f.flush()
                os.fsync(f.fileno())
        _fsync_dir(tmp)
        os.rename(tmp, final)  # never over an existing version: a racing writer's rename fails
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(state_dir)
    return final
