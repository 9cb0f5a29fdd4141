"""Account commitments: a fixed encoding of an account into field elements, and its
salted Poseidon commitment.

The encoding is DENSE over a universe (the snapshot's assets and markets, in snapshot
order), so its length depends only on the numbers of assets A and markets M, which is
what the margin circuit is parameterised by. The same vector is the circuit's private
input. With ``OFF = 2**100`` (`engine._encoding.SIGNED_OFFSET`; every signed value is
bounded by 2**96, so ``v + OFF`` is in (0, 2**101)):

| index | element | range |
| --- | --- | --- |
| 0 | account id, ASCII big-endian | < 2**248 |
| 1 | margin mode: 0 standard, 1 portfolio | {0, 1} |
| 2 | quote_balance + OFF | (0, 2**101) |
| 3 + j, j < A | collateral amount of asset j (0 when absent) | [0, 2**64) |
| 3 + A + 5k | size of the position in market k + OFF (size 0 when none) | (0, 2**101) |
| 3 + A + 5k + 1 | its quote + OFF | (0, 2**101) |
| 3 + A + 5k + 2 | its funding index at entry + OFF | (0, 2**101) |
| 3 + A + 5k + 3 | isolated flag: 1 isolated, 0 cross or none | {0, 1} |
| 3 + A + 5k + 4 | isolated margin (0 when cross or none) | [0, 2**96) |

Length ``3 + A + 5 M``. A market without a position encodes as a zero position
(size, quote, funding 0, cross), which margins exactly like no position.

Commitment::

    commit(account, universe, salt) = sponge("zkmargin.account.v1", [salt, *encoding])

with the sponge of `engine._encoding` (``h = poseidon([tag, len]); h = poseidon([h,
15 elements])...``) and a uniformly random salt below r (`random_salt`), which hides
the account: the commitment reveals nothing about it without the salt.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from algebra import R

from ._encoding import ACCOUNT_TAG, signed, sponge, text_to_field
from ._errors import MalformedInputError, UnknownAssetError, UnknownMarketError, ValueOutOfRangeError
from ._models import Account, MarketSnapshot, Universe

#: Elements per market in the encoding: size, quote, funding index, isolated flag, isolated margin.
MARKET_FIELDS = 5
#: Elements before the collateral amounts: account id, margin mode, quote balance.
HEADER_FIELDS = 3


def encoding_length(universe: Universe | MarketSnapshot) -> int:
    """3 + #assets + 5 * #markets."""
    u = universe.universe() if isinstance(universe, MarketSnapshot) else universe
    return HEADER_FIELDS + len(u.assets) + MARKET_FIELDS * len(u.markets)


def encode_account(account: Account, universe: Universe | MarketSnapshot) -> list[int]:
    """The account as the dense field vector of the module docstring.

    Raises `UnknownAssetError` / `UnknownMarketError` for collateral or positions
    outside the universe.
    """
    u = universe.universe() if isinstance(universe, MarketSnapshot) else universe
    asset_index = {s: i for i, s in enumerate(u.assets)}
    market_index = {m: k for k, m in enumerate(u.markets)}
    out = [text_to_field(account.id), 1 if account.margin_mode == "portfolio" else 0, signed(account.quote_balance)]
    amounts = [0] * len(u.assets)
    for symbol, amount in account.collateral.items():
        if symbol not in asset_index:
            raise UnknownAssetError(f"{account.id}: collateral {symbol} is not in the universe {list(u.assets)}")
        amounts[asset_index[symbol]] = amount
    out += amounts
    markets = [[signed(0), signed(0), signed(0), 0, 0] for _ in u.markets]
    for p in account.positions:
        if p.market not in market_index:
            raise UnknownMarketError(f"{account.id}: position in {p.market}, not in the universe {list(u.markets)}")
        markets[market_index[p.market]] = [
            signed(p.size),
            signed(p.quote),
            signed(p.funding_index),
            1 if p.isolated else 0,
            p.isolated_margin or 0,
        ]
    for fields in markets:
        out += fields
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
