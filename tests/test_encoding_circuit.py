"""The margin circuit reads every field of the encodings' declaration (`circuits._encoding`)
by its name and declared bound: a value just past the bound is refused at that field's own
check, the largest value inside it is not, and the fields the circuit does not read are
bound by the hash alone. (The engine's side: tests/test_encoding.py.)"""

from __future__ import annotations

from functools import cache
from typing import Any

from algebra import ACCOUNT_TAG, SNAPSHOT_TAG, sponge
from circuits import SIGNED_OFFSET, Field, Layout, UnsatisfiedConstraintError, account_layout
from engine import Account, MarketSnapshot, load_example_account, load_example_snapshot
from engine._prove_account import assign_witness, margin_circuit_for

#: Fields the margin formulas do not read: the hash binds them (or, for the account id,
#: the commitment), and the circuit accepts any element there.
HASHED_ONLY = {
    ("header", "epoch"),
    ("asset", "symbol"),
    ("market", "id"),
    ("market", "settlement_price"),
    ("option", "type"),
    ("option", "strike"),
    ("option", "vol"),
    ("vol_move", "move"),  # the engine's scenario values carry the vol moves
    ("account", "id"),
}
#: How the circuit refuses a field it reads other than by its own `{name}_range` check.
REFUSED_AT = {
    "n": "shape/",
    "n_assets": "shape/n_assets",
    "n_markets": "shape/n_markets",
    "n_brackets": "shape/",
    "kind": "shape/",
    "base": "base",
    "decimals": "pow10_decimals",
    "size_decimals": "pow10_size_decimals",
    "mode": "mode_is_boolean",
    "isolated": "isolated",
    "size": "/size/",
    "move": "price_move0_range",
}


def _snapshot() -> MarketSnapshot:
    return load_example_snapshot()


def _account() -> Account:
    return load_example_account("options_portfolio")


# ---- the circuit reads every field by the declaration -----------------------------------


@cache
def _base() -> dict[str, Any]:
    snap, account = _snapshot(), _account()
    witness = assign_witness(account, snap, 11)
    margin_circuit_for(snap).solve(witness)  # a healthy account: everything holds
    return witness


def _outcome(input_name: str, at: int, element: int) -> str | None:
    """The first failing constraint once element `at` of `input_name` is replaced (the
    snapshot hash or the commitment recomputed, so only the value itself is at stake)."""
    witness = dict(_base())
    encoding = list(witness[input_name])
    encoding[at] = element
    witness[input_name] = encoding
    if input_name == "snapshot":
        witness["snapshot_hash"] = sponge(SNAPSHOT_TAG, encoding)
    else:
        witness["commitment"] = sponge(ACCOUNT_TAG, [witness["salt"], *encoding])
    try:
        margin_circuit_for(_snapshot()).solve(witness)
    except UnsatisfiedConstraintError as exc:
        return exc.name
    return None


def _element(f: Field, value: int) -> int:
    return value + SIGNED_OFFSET if f.signed else value


def _walk(input_name: str, layout: Layout) -> list[str]:
    """Per (record, field): past the bound is refused at the field's own check by some
    slot of that record (or, hashed-only, accepted everywhere); the largest value inside
    the bound does not fail that check. Returns what went wrong."""
    wrong = []
    roles: dict[tuple[str, str], list[int]] = {}
    for key, record in layout.plan:
        for i, f in enumerate(record.fields):
            roles.setdefault((str(key[0]), f.name), []).append(layout.offsets[key] + i)
    for (role, name), places in roles.items():
        record = next(r for k, r in layout.plan if k[0] == role)
        f = record.field(name)
        past = _element(f, 2**f.bits)
        if (role, name) in HASHED_ONLY:
            if w := _outcome(input_name, places[0], past):
                wrong.append(f"{role}.{name}: refused at {w}")
            continue
        own = REFUSED_AT.get(name, f"{name}_range")
        hit = next(((at, w) for at in places if (w := _outcome(input_name, at, past))), None)
        if hit is None or own not in hit[1]:
            wrong.append(f"{role}.{name}: past the bound gives {hit}, expected {own!r}")
        elif own.endswith("_range") and (w := _outcome(input_name, hit[0], _element(f, 2**f.bits - 1))):
            if own in w:
                wrong.append(f"{role}.{name}: the largest value inside the bound fails at {w}")
    return wrong


def test_the_circuit_reads_every_snapshot_field_by_name_and_bound() -> None:
    assert _walk("snapshot", _snapshot().layout()) == []


def test_the_circuit_reads_every_account_field_by_name_and_bound() -> None:
    snap = _snapshot()
    assert _walk("account", account_layout(len(snap.assets), len(snap.markets))) == []
