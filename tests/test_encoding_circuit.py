"""The margin circuit reads the encodings' declaration (`circuits._encoding`) by name: every
account field with its declared bound (a value just past it is refused at that field's own
check, the largest value inside it is not; the id is bound by the commitment alone), and
every snapshot field but the epoch (public values: their bounds are the encoder's).
(The engine's side: tests/test_encoding.py.)"""

from __future__ import annotations

from functools import cache
from typing import Any

from algebra import ACCOUNT_TAG, SNAPSHOT_TAG, sponge
from circuits import SIGNED_OFFSET, Field, Layout, UnsatisfiedConstraintError
from engine import Account, MarketSnapshot, load_example_account, load_example_snapshot
from engine._commitment import account_layout_of
from engine._prove_account import assign_witness, margin_circuit_for

#: Account fields the margin formulas do not read: the commitment binds them.
HASHED_ONLY = {("account", "id")}
#: Snapshot fields the margin formulas do not read: the epoch makes each epoch's hash its own.
SNAPSHOT_HASHED_ONLY = {("header", "epoch")}
#: How the circuit refuses an account field other than by its own `{name}_range` check.
REFUSED_AT = {
    "mode": "mode_is_boolean",
    "isolated": "isolated",
    "size": "/size/",
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


def _walk(input_name: str, layout: Layout) -> list[str]:  # the account's fields
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


def _reads(at: int) -> bool:
    """The circuit reads snapshot element `at`: one more changes a wire outside the
    snapshot's hash, or fails a constraint outside it."""
    cc = margin_circuit_for(_snapshot())
    names = cc.cs.wire_names
    outside = [w for w, n in enumerate(names) if not n.startswith(("snapshot_hash/", "snapshot[", "snapshot_hash"))]
    witness = dict(_base())
    encoding = list(witness["snapshot"])
    encoding[at] += 1
    witness |= {"snapshot": encoding, "snapshot_hash": sponge(SNAPSHOT_TAG, encoding)}
    base = cc.solve_limbs(_base(), check=False)
    changed = cc.solve_limbs(witness, check=False)
    if (base[outside] != changed[outside]).any():
        return True
    try:
        cc.solve_limbs(witness)
    except UnsatisfiedConstraintError as exc:
        return not exc.name.startswith("snapshot_hash/")
    return False


def test_the_circuit_reads_every_snapshot_field_but_the_epoch() -> None:
    """Every snapshot field the declaration lays out is one the circuit reads (somewhere:
    a future's expiry, not a perpetual's), except the epoch; the snapshot is public, so
    its bounds are the encoder's to enforce (tests/test_encoding.py), not each proof's."""
    layout = _snapshot().layout()
    roles: dict[tuple[str, str], list[int]] = {}
    for key, record in layout.plan:
        for i, f in enumerate(record.fields):
            roles.setdefault((str(key[0]), f.name), []).append(layout.offsets[key] + i)
    read = {role for role, places in roles.items() if any(_reads(at) for at in places)}
    assert set(roles) - read == SNAPSHOT_HASHED_ONLY


def test_the_circuit_reads_every_account_field_by_name_and_bound() -> None:
    snap = _snapshot()
    assert _walk("account", account_layout_of(snap)) == []
