"""Account commitments: a fixed encoding of an account into field elements, and its
salted Poseidon commitment.

The encoding is DENSE over a universe (the snapshot's assets and markets, in snapshot
order), so its length depends only on the numbers of assets A and markets M, which is
what the margin circuit is parameterised by. The same vector is the circuit's private
input. Its layout is declared once, in `circuits._encoding` (`account_layout`): the
account record (id, margin mode, quote balance), a collateral amount per asset (0 when
absent), and a position per market in its kind's record (size and quote; a perpetual's
entry funding index; a perpetual's or future's isolated flag and margin). A market
without a position encodes as a zero position, which margins exactly like no position.

Commitment::

    commit(account, universe, salt) = sponge("zkmargin.account.v1", [salt, *encoding])

with the sponge of `algebra.sponge` (``h = poseidon([tag, len]); h = poseidon([h,
15 elements])...``) and a uniformly random salt below r (`random_salt`), which hides
the account: the commitment reveals nothing about it without the salt.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from algebra import ACCOUNT_TAG, R, sponge
from circuits import Key, Layout, account_layout

from ._errors import (
    MalformedInputError,
    UnknownAssetError,
    UnknownMarketError,
    UnsupportedPositionError,
    ValueOutOfRangeError,
)
from ._models import MARKET_KIND_CODES, Account, MarketSnapshot, Position, Universe


def account_layout_of(universe: Universe | MarketSnapshot) -> Layout:
    """The account encoding's layout for a universe (`circuits.account_layout`)."""
    u = universe.universe() if isinstance(universe, MarketSnapshot) else universe
    return account_layout(len(u.assets), tuple(MARKET_KIND_CODES[k] for k in u.kinds))


def encoding_length(universe: Universe | MarketSnapshot) -> int:
    """3 + #assets + 5 per perpetual, 4 per future, 2 per option."""
    return account_layout_of(universe).length


def encode_account(account: Account, universe: Universe | MarketSnapshot) -> list[int]:
    """The account as the dense field vector of the module docstring.

    Raises `UnknownAssetError` / `UnknownMarketError` for collateral or positions
    outside the universe.
    """
    u = universe.universe() if isinstance(universe, MarketSnapshot) else universe
    asset_index = {s: i for i, s in enumerate(u.assets)}
    market_index = {m: k for k, m in enumerate(u.markets)}
    mode = 1 if account.margin_mode == "portfolio" else 0
    values: dict[Key, dict[str, int | str]] = {
        ("account",): {"id": account.id, "mode": mode, "quote_balance": account.quote_balance}
    }
    values |= {("collateral", j): {"amount": 0} for j in range(len(u.assets))}
    records = account_layout_of(u).plan
    values |= {key: {f.name: 0 for f in record.fields} for key, record in records if key[0] == "position"}
    for symbol, amount in account.collateral.items():
        if symbol not in asset_index:
            raise UnknownAssetError(f"{account.id}: collateral {symbol} is not in the universe {list(u.assets)}")
        values[("collateral", asset_index[symbol])] = {"amount": amount}
    for p in account.positions:
        if p.market not in market_index:
            raise UnknownMarketError(f"{account.id}: position in {p.market}, not in the universe {list(u.markets)}")
        k = market_index[p.market]
        values[("position", k)] = _position_values(account.id, p, u.kinds[k])
    return account_layout_of(u).encode(values)


def _position_values(account: str, p: Position, kind: str) -> dict[str, int | str]:
    """A position's fields in its market kind's record; UnsupportedPositionError for what
    the kind's record cannot hold (a future's or option's funding index, an isolated
    option)."""
    if kind != "perpetual" and p.funding_index:
        raise UnsupportedPositionError(f"{account}: {p.market} is a {kind}: it has no funding index")
    if kind == "option" and p.isolated:
        raise UnsupportedPositionError(f"{account}: option {p.market} cannot be isolated")
    out: dict[str, int | str] = {"size": p.size, "quote": p.quote}
    if kind == "perpetual":
        out["entry_funding"] = p.funding_index
    if kind != "option":
        out |= {"isolated": int(p.isolated), "isolated_margin": p.isolated_margin or 0}
    return out


def random_salt() -> int:
    """A uniformly random salt in [0, r) from the OS's CSPRNG."""
    return secrets.randbelow(R)


#: A salt file holds one integer below r (78 digits): anything longer is not one.
_MAX_SALT_FILE_BYTES = 256


def write_salt_file(path: Path, salt: int, *, exclusive: bool = False) -> None:
    """Write a salt durably and privately: a 0600 temporary file in the same folder
    (created 0700 if missing), fsynced, then renamed over `path` (or, `exclusive`, linked
    to it: FileExistsError if `path` exists), and the folder fsynced. A crash leaves the
    old file or the new one, never a partial salt."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"{salt}\n")
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            os.link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_salt_file(path: Path) -> int:
    """The salt kept in `path` (decimal or 0x hex, whitespace around it ignored), read
    without trusting the file: MalformedInputError for anything else (OSError if unreadable)."""
    with path.open("rb") as f:
        raw = f.read(_MAX_SALT_FILE_BYTES + 1)
    if len(raw) <= _MAX_SALT_FILE_BYTES:
        with contextlib.suppress(ValueError):  # not ASCII, not an integer
            return int(raw.decode("ascii").strip(), 0)
    raise MalformedInputError(f"{path}: a salt file holds one integer (decimal or 0x hex)")


def commit(account: Account, universe: Universe | MarketSnapshot, salt: int) -> int:
    """Poseidon commitment to the account: sponge(ACCOUNT_TAG, [salt, *encode_account(...)])."""
    return commit_encoding(encode_account(account, universe), salt)


def commit_encoding(encoding: Sequence[int], salt: int) -> int:
    """The commitment to an account's encoding (`encode_account`) under `salt` in [0, r)."""
    if not 0 <= salt < R:
        raise ValueOutOfRangeError(f"salt {salt} is not in [0, r)")
    return sponge(ACCOUNT_TAG, [salt, *encoding])
