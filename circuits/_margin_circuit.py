"""The margin circuit: an account's health from its commitment, without revealing it.

`MarginHealth(shape)` proves, for a committed account and a hashed market snapshot:

    equity >= requirement          (requirement = maintenance or initial, public choice)

with the margin engine's integer formulas (`engine._margin`): satisfiable exactly when
the engine says the account meets the requirement. It is parameterised by the snapshot's
SHAPE (`MarginShape`: number of assets and their decimals, each market's kind, bracket
count, size decimals and underlying, the scenario grid's dimensions); every value is
private but the snapshot's, which is public and hashed.

Public inputs (in this order, the proof's public signals):

- `commitment`: the account commitment, sponge("zkmargin.account.v1", [salt, *account]);
- `snapshot_hash`: sponge("zkmargin.snapshot.v1", snapshot), the engine's snapshot hash;
- `requirement`: 0 proves equity >= maintenance requirement, 1 equity >= initial;
- `max_margin_ratio_ppm`: 0 disables; otherwise also proves the engine's margin ratio
  ceil(MMR * 10**6 / equity) exists (equity > 0) and is <= this (< 2**64).

Anonymous mode, `MarginHealth(shape, anonymous_depth=d)` with d >= 1: the commitment
is no longer public; the proof shows it is a leaf of a public Poseidon Merkle tree of
depth d (`circuits._gadgets_merkle`: node = poseidon([left, right]), index bits
little-endian) and publishes a nullifier. Public inputs, in this order:

- `merkle_root`: the root of the ledger's tree of commitments;
- `nullifier`: poseidon([NULLIFIER_TAG, salt, snapshot_hash]), NULLIFIER_TAG =
  "zkmargin.nullifier.v1" as a field element: one per committed account (salt) and
  snapshot, so a ledger can refuse a second proof for the same account and snapshot
  without learning which leaf it is;
- `snapshot_hash`, `requirement`, `max_margin_ratio_ppm` as above.

Its extra secret inputs are `siblings` (d) and `index_bits` (d, boolean). Scopes:
`membership` (`membership/merkle/level{k}/index_bit`, `membership/merkle/root`) and
`nullifier` (`nullifier/matches`); everything else is unchanged.

Secret inputs: `account` and `snapshot`, the two encodings declared once in
`circuits._encoding` (the engine writes them by that declaration, `encode_account` and
`MarketSnapshot.field_encoding()`), sized from the shape's layouts and read by field name
(`Reader`): market parameters and prices are values, not constants; each range check's
width is the field's declared bound (`_ranged`); and `salt`.

Supported (everything else is refused in-circuit, so a witness cannot smuggle it):
both margin modes (the mode is a private bit of the account: one key serves both);
cross and isolated positions in perpetuals and futures (live or expired), fraction
rules with size premia, or notional brackets, and initial fractions scaled by open
interest (dYdX v4; the increase is public, published in the snapshot encoding); options
(live or expired, cross only: an option's position record has no isolated margin),
margined per underlying by the public scenario grid with the short option minimum; in
portfolio mode, cross perpetuals and futures joining their underlying's grid;
multi-asset collateral with haircuts.

Portfolio mode (engine: a cross linear position of a portfolio-mode account carries no
linear requirement; its losses join its underlying's portfolio): per linear market,
with mode bit p and isolated flag f, ``in_portfolio = p (1 - f)`` (times ``1 -
expired`` for a future) gates its scenario losses, and ``standard = 1 - f -
in_portfolio`` gates its linear IMR and MMR into the cross sums. A linear market's
exact value change depends on the scenario's price class only (its price move, or one
of the two extremes), so its loss terms are computed once per class
(`MarginShape.scenario_classes`) and shared by the class's volatility moves.

Isolated positions (engine: `healthy` requires isolated_margin + value >= MMR of every
isolated position, whichever requirement the cross account is held to; `equity`, the
cross requirements and `margin_ratio_ppm` leave them out): per linear market the
boolean flag f of the account encoding routes the position's value, IMR and MMR either
into the cross sums (f = 0) or into its own check (f = 1)::

    cross value/IMR/MMR = (1 - f) * value/IMR/MMR
    isolated_margin + f * value - f * MMR   in [0, 2**133)

with isolated_margin < 2**96 and (1 - f) * isolated_margin = 0 (the encoding's 0 for a
cross position), so with f = 0 the check is the vacuous 0 in range. The isolated check
is against the MMR also when `requirement` = 1 (initial): the engine has no initial
verdict for an isolated position.

Constraint groups (scopes; a failure names its group):

- `statement`: `requirement` is boolean, `max_margin_ratio_ppm` < 2**64;
- `commitment`: the account re-hashed with the salt equals `commitment`;
- `snapshot_hash`: the snapshot encoding hashes to `snapshot_hash`;
- `shape`: the encoding's counts, market kinds, decimals and bracket counts are the
  circuit's shape;
- `account`: the margin mode is boolean, quote balance recovered from its offset
  (< 2**96 in abs);
- `asset{j}`: amount < 2**64, collateral <= floor(amount * index * weight / (10**dec *
  10**6)) (a bound from below: see "Bounds");
- `market{k}`: size split into sign and magnitude (< 2**64), quote (< 2**96), entry
  funding (< 2**64), value <= quote + floor(s * (mark - owed) / 10**d), notional =
  ceil(|s| * mark / 10**d) (exact: it selects the bracket; < 2**96), size premia, IMF/MMF
  with min(10**6, .) and the published open-interest increase, bracket selection,
  IMR/MMR, expiry (an expired future has no requirement); `market{k}/isolated`: the
  flag's routing and the isolated position's own check `margin+value>=mmr`;
  `market{k}/portfolio_leg`: the gated loss terms per price class (see `_linear_leg`);
- `option{k}`: size split into long and short parts, value <= quote + floor((long *
  lower - short * upper) / 10**d), per scenario s (`scenario{s}`) the loss term
  (short * hi_s - long * lo_s) * 10**(12 + d_u - d);
- `grid`: the linear price classes' multipliers;
- `portfolio{u}` (options on asset u, and its linear markets' gated legs): the short
  option minimum sum, MMR >= max(0, SOM, ceil(sum of loss terms / 10**(12 + d_u)) per
  scenario) (`ceiling_bound`), IMR >= ceil(MMR * multiplier / 10**6);
- `health`: equity - requirement in [0, 2**K) (equality is healthy), K from the
  bounds the range checks enforce on every term, so a negative difference (a field
  element above r - 2**K) cannot pass;
- `margin_ratio`: the optional ratio bound.

Bounds. Where a quantity enters the statement monotonically (equity terms positively,
requirement terms as requirements), the circuit proves a bound on it instead of its
exact value (`div_bound`, `ceiling_bound`: no remainder < divisor check, no chain of
maxima): a prover can only understate equity or overstate requirements, which makes
the statement harder to meet, and the honest values are the engine's, so the circuit is
satisfiable exactly when the engine says healthy. The notional stays exact (it selects
the bracket).

Overflow (DESIGN.md decision 6): each private input is range-checked to the engine's
bound (the snapshot's values are public: the encoder writes only values within the
declared bounds, and an auditor re-encodes the published snapshot); every quotient is
range-checked to its numerator's width and every division's equation is checked at
build time to stay below 2**252, so it holds over the integers, not just modulo r. The
engine refuses what would exceed the widths sized from its bounds (a notional of
2**96 or more, an option's scenario loss of 2**100 or more).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from algebra import ACCOUNT_TAG, NULLIFIER_TAG, SNAPSHOT_TAG

from ._builder import API, Circuit, Public, Secret, Value
from ._encoding import (
    AMOUNT_BITS,
    KIND_FUTURE,
    KIND_OPTION,
    KIND_PERPETUAL,
    MAX_DECIMALS,
    MULTIPLIER_BITS,
    NOTIONAL_BITS,
    PPM,
    PPM_BITS,
    PRICE_BITS,
    QUOTE_BITS,
    SCENARIO_LOSS_BITS,
    SIGNED_OFFSET,
    SIZE_BITS,
    TIME_BITS,
    Layout,
    View,
    account_layout,
    snapshot_layout,
)
from ._errors import CircuitDefinitionError
from ._gadgets_arith import ceiling_bound, div, div_bound, minimum, offset_signed, sign_magnitude
from ._gadgets_bits import MAX_BITS, range_check
from ._gadgets_compare import greater_or_equal, is_zero, less_than, select
from ._gadgets_merkle import assert_merkle_path
from ._gadgets_poseidon import poseidon_hash, poseidon_sponge
from ._lc import LinearCombination, as_lc

# Widths of intermediate values (the inputs' widths are the encodings' bounds, `_encoding`).
RATIO_BITS = 64  # public margin-ratio bound < 2**64
#: |isolated_margin + value - MMR| < 2**96 + (2**96 + 2**130) + 2**132 < 2**133.
ISOLATED_BITS = (2 * 2**QUOTE_BITS + 2 ** (SIZE_BITS + 66) + 2**132).bit_length()


# ---- shape and layout -----------------------------------------------------------------


@dataclass(frozen=True)
class MarketShape:
    """A market's kind (1 perpetual, 2 future, 3 option), bracket count (linear only) and
    the position of its underlying among the assets (public structure: it groups the
    options, and in portfolio mode the cross linear positions, into one portfolio per
    underlying, and names the index price of the short option minimum)."""

    kind: int
    n_brackets: int = 0
    base: int = 0
    #: The market's size decimals d (10**d quantums a contract): a constant of the
    #: circuit, so that its divisions by 10**d are by a constant; the snapshot's is
    #: asserted equal to it.
    decimals: int = 0

    def __post_init__(self) -> None:
        if self.kind not in (KIND_PERPETUAL, KIND_FUTURE, KIND_OPTION):
            raise CircuitDefinitionError(f"market kind must be 1, 2 or 3, got {self.kind!r}")
        if not 0 <= self.decimals <= MAX_DECIMALS:
            raise CircuitDefinitionError(f"size decimals {self.decimals} outside 0..{MAX_DECIMALS}")
        if self.n_brackets < 0 or (self.kind == KIND_OPTION and self.n_brackets):
            raise CircuitDefinitionError(f"bad bracket count {self.n_brackets} for market kind {self.kind}")


@dataclass(frozen=True)
class MarginShape:
    """What the margin circuit is compiled for: the snapshot's shape, not its values."""

    n_assets: int
    markets: tuple[MarketShape, ...]
    n_price_moves: int
    n_vol_moves: int
    #: Each asset's decimals (constants, as the markets' size decimals).
    asset_decimals: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.n_assets < 1 or self.n_price_moves < 1 or self.n_vol_moves < 1:
            raise CircuitDefinitionError(f"a snapshot needs at least one asset and grid move: {self}")
        if len(self.asset_decimals) != self.n_assets or not all(0 <= d <= MAX_DECIMALS for d in self.asset_decimals):
            raise CircuitDefinitionError(f"asset decimals {self.asset_decimals} for {self.n_assets} assets")
        for k, m in enumerate(self.markets):
            if not 0 <= m.base < self.n_assets:
                raise CircuitDefinitionError(f"market {k}: base asset {m.base} is not one of {self.n_assets}")

    @property
    def n_markets(self) -> int:
        return len(self.markets)

    @property
    def n_scenarios(self) -> int:
        return self.n_price_moves * self.n_vol_moves + 2

    @property
    def snapshot_layout(self) -> Layout:
        """The layout of `MarketSnapshot.field_encoding()` for this shape."""
        markets = tuple((m.kind, m.n_brackets) for m in self.markets)
        return snapshot_layout(self.n_assets, markets, self.n_price_moves, self.n_vol_moves)

    @property
    def account_layout(self) -> Layout:
        """The layout of the dense account encoding (a position record per market kind)."""
        return account_layout(self.n_assets, tuple(m.kind for m in self.markets))

    @property
    def account_length(self) -> int:
        return self.account_layout.length

    @property
    def snapshot_length(self) -> int:
        return self.snapshot_layout.length

    def portfolio_decimals(self, base: int) -> int:
        """The largest size decimals among the markets on underlying `base`: the legs'
        scenario terms share the denominator 10**(12 + this)."""
        return max((m.decimals for m in self.markets if m.base == base), default=0)

    def scenario_classes(self) -> list[int]:
        """For each scenario, its price class: the index of its price move (0 ..
        n_price_moves - 1), then n_price_moves and n_price_moves + 1 for the extreme down
        and up moves. A linear market's value change depends on the class only."""
        regular = [i for i in range(self.n_price_moves) for _ in range(self.n_vol_moves)]
        return [*regular, self.n_price_moves, self.n_price_moves + 1]


def public_field(view: View[LinearCombination], name: str) -> LinearCombination:
    """A field of the public snapshot read by name, a signed one as its signed value. Not
    range-checked: the snapshot is public and its hash a public input, so a verifier
    checks the published snapshot against the declared bounds once (the engine encodes
    only values within them; `zkmargin ledger audit --snapshots` re-encodes it), not
    every proof."""
    return view[name] - SIGNED_OFFSET if view.field(name).signed else view[name]


def ranged_field(api: API, view: View[LinearCombination], name: str, label: str | None = None) -> LinearCombination:
    """A field read by name and range-checked to its declared bound (constraint
    `{label or name}_range`); a signed field is returned as its signed value."""
    f = view.field(name)
    check = f"{label or name}_range"
    if f.signed:
        return offset_signed(api, view[name], f.bits, SIGNED_OFFSET, name=check)
    range_check(api, view[name], f.bits, name=check)
    return view[name]


# ---- the circuit ------------------------------------------------------------------------


@dataclass(frozen=True)
class _LinearClass:
    """One price class of the grid for linear markets: the exact value change of one
    whole contract is mark * multiplier / 10**12 (multiplier = move * 10**6 for a regular
    move, +/- extreme_move * extreme_fraction for an extreme one; |multiplier| < 2**44)."""

    multiplier: LinearCombination


#: A leg's exact loss in a scenario is its term over the portfolio's denominator
#: 10**(12 + d_u), d_u the largest size decimals on its underlying (`portfolio_decimals`;
#: `engine._margin` sums the same exact losses). The engine refuses a leg whose loss
#: reaches 2**SCENARIO_LOSS_BITS, so |term| < 2**(SCENARIO_LOSS_BITS + bits(10**(12 + d_u)))
#: for every account it proves; in any witness |term| < 2**216 (an option's |size| *
#: |value change| * 10**(12 + d_u - d) < 2**64 * 2**52 * 2**100, a linear leg's |size| *
#: mark * |multiplier| * 10**(d_u - d) < 2**64 * 2**48 * 2**44 * 2**60), far from wrapping.


@dataclass
class _LinearLeg:
    """What a portfolio needs from one perpetual or future position: its loss term in
    every scenario, zero unless the position is in the portfolio (portfolio mode, cross,
    live)."""

    terms: list[LinearCombination]


@dataclass
class _OptionLeg:
    """What a portfolio needs from one option position."""

    value: LinearCombination
    value_bound: int
    terms: list[LinearCombination]
    short_exposure: LinearCombination
    scale: int
    live: LinearCombination


@dataclass(frozen=True)
class _Position:
    """A linear position's slot, checked: cross or isolated, size as sign and magnitude."""

    isolated: LinearCombination
    isolated_margin: LinearCombination
    size: LinearCombination
    size_abs: LinearCombination
    short: LinearCombination
    quote: LinearCombination


def _size(api: API, slot: View[LinearCombination]) -> tuple[LinearCombination, LinearCombination, LinearCombination]:
    """A position's size as (size, |size|, short) (`sign_magnitude`, scope `size`)."""
    return sign_magnitude(api, slot["size"], slot.field("size").bits, SIGNED_OFFSET, name="size")


def _linear_position(api: API, slot: View[LinearCombination]) -> _Position:
    """Cross or isolated (boolean flag; a cross position's isolated margin is 0, an
    isolated one's < 2**96), the size split into sign and magnitude, the quote."""
    isolated = api.assert_boolean(slot["isolated"], name="isolated_is_boolean")
    isolated_margin = ranged_field(api, slot, "isolated_margin")
    api.assert_product(1 - isolated, isolated_margin, 0, name="cross_has_no_isolated_margin")
    size, size_abs, short = _size(api, slot)
    quote = ranged_field(api, slot, "quote")
    return _Position(isolated, isolated_margin, size, size_abs, short, quote)


def _linear_value(
    api: API,
    perpetual: View[LinearCombination] | None,
    slot: View[LinearCombination],
    pos: _Position,
    scale: int,
    mark: LinearCombination,
) -> LinearCombination:
    """value = quote + floor(s * (mark - owed funding) / 10**d), |s (mark - owed)| < 2**130."""
    if perpetual is not None:
        entry = ranged_field(api, slot, "entry_funding")
        now = public_field(perpetual, "funding_index")
        owed: LinearCombination = now - entry  # |owed| < 2**65
    else:  # a future's position record has no funding index
        owed = api.constant(0)
    exposure = api.mul(pos.size, mark - owed, name="size*(mark-owed)")
    n_bits = SIZE_BITS + 66
    return pos.quote + _div_by_constant(api, exposure, scale, n_bits, signed=True, name="value")


def _flat_mmr(
    api: API,
    risk: View[LinearCombination],
    size_abs: LinearCombination,
    scale: int,
    notional: LinearCombination,
    notional_bits: int,
    frac_bits: int,
) -> tuple[LinearCombination, LinearCombination]:
    """(base IMF with its open-interest increase, MMR) of a market without brackets:
    MMR = ceil(notional * min(10**6, mmf + ceil(k_mm * |s| / 10**d)) / 10**6)."""
    base_imf = public_field(risk, "imf") + public_field(risk, "oi_increase")
    mmf = public_field(risk, "mmf")
    k_mm = public_field(risk, "mm_size_premium")
    premium_num = api.mul(k_mm, size_abs, name="k_mm*|size|")
    n_bits = PPM_BITS + SIZE_BITS
    mm_premium = _div_by_constant(api, premium_num, scale, n_bits, ceil=True, name="mm_size_premium")
    mmf_total = minimum(api, mmf + mm_premium, PPM, frac_bits, name="mmf")
    mmr_num = api.mul(notional, mmf_total, name="notional*mmf")
    mmr = div_bound(api, mmr_num, PPM, n_bits=notional_bits + PPM_BITS, d_bits=PPM_BITS, ceil=True, name="mmr")
    return base_imf, mmr


def _brackets(
    api: API, brackets: list[View[LinearCombination]], notional: LinearCombination, notional_bits: int
) -> tuple[LinearCombination, LinearCombination]:
    """(base IMF with its open-interest increase, MMR) from the bracket of `notional`: the
    first whose cap is >= it, else the last. MMR = ceil(notional * mmr_b / 10**6) - cum_b."""
    n = len(brackets)
    with api.scope("brackets"):
        remaining: LinearCombination = api.constant(1)  # no earlier bracket selected
        imf = mmr_rate = cum = api.constant(0)
        for i, bracket in enumerate(brackets):
            with api.scope(f"bracket{i}"):
                rate = public_field(bracket, "mmr")
                c = public_field(bracket, "cum")
                b_imf = public_field(bracket, "imf")
                if i < n - 1:
                    cap = public_field(bracket, "cap")
                    # caps are at most 2**96 ("no cap"): one bit more than a notional.
                    fits = 1 - less_than(api, cap, notional, notional_bits + 1, name="notional<=cap")
                    chosen = api.mul(remaining, fits, name="chosen")
                    remaining = remaining - chosen
                else:
                    chosen = remaining  # the last bracket catches everything above
                imf = imf + api.mul(chosen, b_imf + public_field(bracket, "oi_increase"), name="chosen*imf")
                mmr_rate = mmr_rate + api.mul(chosen, rate, name="chosen*mmr")
                cum = cum + api.mul(chosen, c, name="chosen*cum")
        mmr_num = api.mul(notional, mmr_rate, name="notional*mmr")
        mmr = (
            div_bound(api, mmr_num, PPM, n_bits=notional_bits + PPM_BITS, d_bits=PPM_BITS, ceil=True, name="mmr") - cum
        )
    return imf, mmr


def _short_option_minimum(
    api: API, legs: list[_OptionLeg | _LinearLeg], som_ppm: LinearCombination
) -> tuple[LinearCombination, int, int]:
    """SOM = sum over live options of ceil(short * S * min_ppm / (10**d 10**6)), with the
    number of its terms and their bit width (scope `leg{i}/short_option_minimum`)."""
    som_bits = SIZE_BITS + PRICE_BITS + PPM_BITS
    som_terms = []
    for i, leg in enumerate(legs):
        if not isinstance(leg, _OptionLeg):
            continue
        with api.scope(f"leg{i}/short_option_minimum"):
            numerator = api.mul(leg.short_exposure, som_ppm, name="short*spot*min")
            divisor = leg.scale * PPM
            q = div_bound(
                api,
                numerator,
                divisor,
                n_bits=som_bits,
                d_bits=divisor.bit_length(),
                ceil=True,
                q_bits=NOTIONAL_BITS,
                name="div",
            )
            som_terms.append(api.mul(leg.live, q, name="live*minimum"))
    return api.sum(som_terms), len(som_terms), NOTIONAL_BITS


def _div_by_constant(
    api: API, n: LinearCombination, divisor: int, n_bits: int, *, signed: bool = False, ceil: bool = False, name: str
) -> LinearCombination:
    """`div_bound` by a constant divisor: the slack and the quotient as wide as they need."""
    d_bits = divisor.bit_length()
    q_bits = n_bits - d_bits + 1
    return div_bound(api, n, divisor, n_bits=n_bits, d_bits=d_bits, signed=signed, ceil=ceil, q_bits=q_bits, name=name)


class Reader:
    """An encoded input (wires) read through its layout: `reader("market", k)` is the
    view of that record's fields by name."""

    def __init__(self, layout: Layout, seq: Sequence[LinearCombination]) -> None:
        self.layout, self.seq = layout, seq

    def __call__(self, *key: object) -> View[LinearCombination]:
        return self.layout.view(self.seq, *key)


def check_snapshot(
    api: API, shape: MarginShape, snap: Reader, snapshot: Sequence[LinearCombination], snapshot_hash: Value
) -> None:
    """The snapshot encoding hashes to the public snapshot hash (scope `snapshot_hash`)
    and has the circuit's shape (scope `shape`): shared by every circuit that reads a
    snapshot."""
    with api.scope("snapshot_hash"):
        digest = poseidon_sponge(api, SNAPSHOT_TAG, snapshot, name="sponge")
        api.assert_equal(digest, snapshot_hash, name="matches")
    with api.scope("shape"):
        api.assert_equal(snap("header")["n_assets"], shape.n_assets, name="n_assets")
        api.assert_equal(snap("header")["n_markets"], shape.n_markets, name="n_markets")
        api.assert_equal(snap("price_moves")["n"], shape.n_price_moves, name="n_price_moves")
        api.assert_equal(snap("vol_moves")["n"], shape.n_vol_moves, name="n_vol_moves")
        for j, decimals in enumerate(shape.asset_decimals):
            api.assert_equal(snap("asset", j)["decimals"], decimals, name=f"asset{j}/decimals")
        for k, m in enumerate(shape.markets):
            api.assert_equal(snap("market", k)["kind"], m.kind, name=f"market{k}/kind")
            api.assert_equal(snap("market", k)["size_decimals"], m.decimals, name=f"market{k}/size_decimals")
            if m.kind != KIND_OPTION:
                api.assert_equal(snap("market", k)["base"], m.base, name=f"market{k}/base_asset")
                api.assert_equal(snap("linear_risk", k)["n_brackets"], m.n_brackets, name=f"market{k}/n_brackets")


@dataclass
class _Bounds:
    """Bounds on |equity| and on the requirements' sums, as the range checks enforce them;
    they size the final comparisons so that a negative difference cannot pass for a
    positive one. Equity starts with the quote balance (< 2**QUOTE_BITS)."""

    equity: int = 2**QUOTE_BITS
    initial: int = 0
    maintenance: int = 0


class MarginHealth(Circuit):
    """equity >= requirement for a committed account under a hashed snapshot (module doc).

    `MarginHealth(shape)` sizes the `account` and `snapshot` inputs from `shape`;
    `MarginHealth(shape, anonymous_depth=d)` (d >= 1) is the anonymous mode (module doc):
    public [merkle_root, nullifier, snapshot_hash, requirement, max_margin_ratio_ppm].
    """

    commitment = Public(doc="sponge('zkmargin.account.v1', [salt, *account])")
    snapshot_hash = Public(doc="sponge('zkmargin.snapshot.v1', snapshot)")
    requirement = Public(doc="0: maintenance, 1: initial")
    max_margin_ratio_ppm = Public(doc="0: no bound; else ceil(MMR * 10**6 / equity) <= this and equity > 0")
    salt = Secret(doc="the commitment's blinding")

    shape: MarginShape
    anonymous_depth: int

    # Sized from the shape by `inputs` (and the anonymous mode's, from its depth).
    account: list[LinearCombination]
    snapshot: list[LinearCombination]
    merkle_root: LinearCombination
    nullifier: LinearCombination
    siblings: list[LinearCombination]
    index_bits: list[LinearCombination]

    def __init__(self, shape: MarginShape, anonymous_depth: int = 0) -> None:
        if not isinstance(anonymous_depth, int) or anonymous_depth < 0:
            raise CircuitDefinitionError(f"anonymous_depth must be an int >= 0, got {anonymous_depth!r}")
        self.shape = shape
        self.anonymous_depth = anonymous_depth

    def input_declarations(self) -> list[tuple[str, Any]]:
        """The declared inputs, then `account` and `snapshot` sized from the shape; in the
        anonymous mode without `commitment`, `ANONYMOUS_PUBLIC` first (compile_circuit
        numbers public wires in this order), then `siblings` and `index_bits`."""
        decls = [
            *type(self).declared_inputs(),
            ("account", Secret(self.shape.account_length, doc="the dense account encoding (circuits._encoding)")),
            ("snapshot", Secret(self.shape.snapshot_length, doc="MarketSnapshot.field_encoding()")),
        ]
        d = self.anonymous_depth
        if not d:
            return decls
        decls += [
            ("merkle_root", Public(doc="root of the Poseidon Merkle tree of account commitments")),
            ("nullifier", Public(doc="poseidon([NULLIFIER_TAG, salt, snapshot_hash])")),
            ("siblings", Secret(d, doc="the commitment's Merkle path, leaf level first")),
            ("index_bits", Secret(d, doc="the leaf index, little-endian bits")),
        ]
        order = {name: i for i, name in enumerate(ANONYMOUS_PUBLIC)}
        return sorted((x for x in decls if x[0] != "commitment"), key=lambda x: order.get(x[0], len(order)))

    def define(self, api: API) -> None:
        snap, acct = (
            Reader(self.shape.snapshot_layout, self.snapshot),
            Reader(self.shape.account_layout, self.account),
        )
        which = self._statement(api)
        self._open_commitment(api, self.account)
        check_snapshot(api, self.shape, snap, self.snapshot, self.snapshot_hash)
        with api.scope("account"):
            # 0 standard, 1 portfolio (cross linear positions join their underlying's grid).
            portfolio_mode = api.assert_boolean(acct("account")["mode"], name="mode_is_boolean")
            quote_balance = ranged_field(api, acct("account"), "quote_balance")
        timestamp: LinearCombination | None = None
        if any(m.kind != KIND_PERPETUAL for m in self.shape.markets):
            timestamp = public_field(snap("header"), "timestamp")
        bounds = _Bounds()
        collateral, index_prices = self._collateral(api, acct, snap, bounds)
        values, initial, maintenance = self._markets(api, acct, snap, timestamp, portfolio_mode, index_prices, bounds)
        equity = api.sum([*collateral, quote_balance, *values])
        self._health(api, which, equity, api.sum(initial), api.sum(maintenance), bounds)

    def _statement(self, api: API) -> LinearCombination:
        """The public statement's own checks; returns the requirement bit (1: initial)."""
        with api.scope("statement"):
            which = api.assert_boolean(self.requirement, name="requirement_is_boolean")
            range_check(api, self.max_margin_ratio_ppm, RATIO_BITS, name="max_margin_ratio_range")
        return which

    def _open_commitment(self, api: API, acct: list[LinearCombination]) -> None:
        """The account opens the commitment: the public one, or (anonymous) a leaf of the
        public Merkle root, with the nullifier of its salt and the snapshot."""
        with api.scope("commitment"):
            commitment = poseidon_sponge(api, ACCOUNT_TAG, [self.salt, *acct], name="sponge")
            if not self.anonymous_depth:
                api.assert_equal(commitment, self.commitment, name="opens")
        if not self.anonymous_depth:
            return
        with api.scope("membership"):
            assert_merkle_path(api, commitment, self.merkle_root, self.siblings, self.index_bits, name="merkle")
        with api.scope("nullifier"):
            nullifier = poseidon_hash(api, [NULLIFIER_TAG, self.salt, self.snapshot_hash], name="hash")
            api.assert_equal(nullifier, self.nullifier, name="matches")

    def _collateral(
        self, api: API, acct: Reader, snap: Reader, bounds: _Bounds
    ) -> tuple[list[LinearCombination], list[LinearCombination]]:
        """Each asset's collateral value floor(amount * index * weight / (10**dec * 10**6))
        (< 2**132), and the assets' index prices."""
        collateral: list[LinearCombination] = []
        index_prices: list[LinearCombination] = []
        for j in range(self.shape.n_assets):
            asset = snap("asset", j)
            with api.scope(f"asset{j}"):
                amount = ranged_field(api, acct("collateral", j), "amount")
                weight = public_field(asset, "weight")
                index = public_field(asset, "index_price")
                index_prices.append(index)
                amount_index = api.mul(amount, index, name="amount*index")
                weighted = api.mul(amount_index, weight, name="amount*index*weight")
                collateral_bits = AMOUNT_BITS + PRICE_BITS + PPM_BITS
                denominator = 10 ** self.shape.asset_decimals[j] * PPM
                collateral.append(
                    _div_by_constant(api, weighted, denominator, collateral_bits, name="collateral_value")
                )
                bounds.equity += 2**collateral_bits
        return collateral, index_prices

    def _markets(
        self,
        api: API,
        acct: Reader,
        snap: Reader,
        timestamp: LinearCombination | None,
        portfolio_mode: LinearCombination,
        index_prices: list[LinearCombination],
        bounds: _Bounds,
    ) -> tuple[list[LinearCombination], list[LinearCombination], list[LinearCombination]]:
        """Every position's value and the requirements: linear markets' own IMR and MMR,
        then each underlying's portfolio (options, and linear legs in portfolio mode)."""
        sh = self.shape
        values: list[LinearCombination] = []
        initial: list[LinearCombination] = []
        maintenance: list[LinearCombination] = []
        legs: dict[int, list[_OptionLeg | _LinearLeg]] = {}
        classes = self._linear_classes(api, snap) if any(m.kind != KIND_OPTION for m in sh.markets) else []
        for k, m in enumerate(sh.markets):
            slot = acct("position", k)
            if m.kind == KIND_OPTION:
                with api.scope(f"option{k}"):
                    leg = self._option(api, m, snap, k, slot, timestamp, index_prices[m.base])
                legs.setdefault(m.base, []).append(leg)
                values.append(leg.value)
                bounds.equity += leg.value_bound
                continue
            with api.scope(f"market{k}"):
                value, imr, mmr, linear_leg = self._linear_market(
                    api, m, snap, k, slot, timestamp, portfolio_mode, classes
                )
            legs.setdefault(m.base, []).append(linear_leg)
            values.append(value)
            initial.append(imr)
            maintenance.append(mmr)
            bounds.equity += 2**QUOTE_BITS + 2 ** (SIZE_BITS + 66)
            bounds.initial += 2 ** (NOTIONAL_BITS + PPM_BITS)  # the IMR's and MMR's quotient ranges
            bounds.maintenance += 2 ** (NOTIONAL_BITS + PPM_BITS)
        if legs:
            with api.scope("grid"):
                som_ppm = public_field(snap("grid"), "short_option_min")
                multiplier = public_field(snap("grid"), "initial_multiplier")
            for u in sorted(legs):
                with api.scope(f"portfolio{u}"):
                    imr, mmr, imr_bound, mmr_bound = self._portfolio(api, u, legs[u], som_ppm, multiplier)
                initial.append(imr)
                maintenance.append(mmr)
                bounds.initial += imr_bound
                bounds.maintenance += mmr_bound
        return values, initial, maintenance

    def _health(
        self,
        api: API,
        which: LinearCombination,
        equity: LinearCombination,
        total_initial: LinearCombination,
        total_maintenance: LinearCombination,
        bounds: _Bounds,
    ) -> None:
        """equity >= the chosen requirement, and the margin-ratio bound when enabled."""
        # |equity - requirement| < 2**health_bits; T * equity - MMR * 10**6 below 2**ratio_bits.
        health_bits = (bounds.equity + max(bounds.initial, bounds.maintenance)).bit_length()
        ratio_bits = (2**RATIO_BITS * bounds.equity + bounds.maintenance * PPM).bit_length()
        if ratio_bits > MAX_BITS - 1:
            raise CircuitDefinitionError(f"shape too large for the health comparison: {self.shape}")
        with api.scope("health"):
            required = select(api, which, total_initial, total_maintenance, name="requirement")
            # equity - requirement in [0, 2**K): a negative difference is r - |diff| > 2**K.
            range_check(api, equity - required, health_bits, name="equity>=requirement")
        with api.scope("margin_ratio"):
            # T = max_margin_ratio_ppm; enabled = T != 0. ceil(MMR 10**6 / E) <= T with E > 0
            # iff E >= 1 and T E - MMR 10**6 >= 0 (T an integer). Both gated by enabled.
            threshold = as_lc(self.max_margin_ratio_ppm)
            enabled = 1 - is_zero(api, threshold, name="enabled")
            positive = api.mul(enabled, equity - 1, name="enabled*(equity-1)")
            range_check(api, positive, bounds.equity.bit_length(), name="equity>0")
            slack = api.mul(threshold, equity, name="T*equity") - total_maintenance * PPM
            gated = api.mul(enabled, slack, name="enabled*slack")
            range_check(api, gated, ratio_bits, name="ratio<=T")

    def _option(
        self,
        api: API,
        m: MarketShape,
        snap: Reader,
        k: int,
        slot: View[LinearCombination],
        timestamp: LinearCombination | None,
        spot: LinearCombination,
    ) -> _OptionLeg:
        """One option position (cross, standard mode): its value, and per scenario its
        leg loss ceil((neg * upper_s - pos * lower_s) / 10**d), and its short option
        minimum ceil(neg * S * min_ppm / (10**d 10**6)) (the minimum without min_ppm
        applied yet: see `_portfolio`). Expired options carry no loss and no minimum."""
        assert timestamp is not None
        market, option = snap("market", k), snap("option", k)
        api.assert_equal(market["base"], m.base, name="base_asset")
        _signed_size, size_abs, short = _size(api, slot)
        long = size_abs - short  # max(size, 0); short = max(-size, 0)
        quote = ranged_field(api, slot, "quote")
        scale = 10**m.decimals
        complement = 10 ** (self.shape.portfolio_decimals(m.base) - m.decimals + 12)  # to 10**(12 + d_u)
        with api.scope("expiry"):
            expiry = public_field(market, "expiry")
            live = 1 - greater_or_equal(api, timestamp, expiry, TIME_BITS, name="expired")
        lower = public_field(option, "lower_bound")
        upper = public_field(option, "upper_bound")
        # value = quote + floor(size * P' / 10**d), P' = lower for a long, upper for a short:
        # size * P' = long * lower - short * upper (one of long, short is 0).
        worth = api.mul(long, lower, name="long*lower") - api.mul(short, upper, name="short*upper")
        value_bits = SIZE_BITS + PRICE_BITS
        value = quote + _div_by_constant(api, worth, scale, value_bits, signed=True, name="value")
        # Loss terms over 10**30 (`engine._margin.option_leg_numerators`): the snapshot's
        # value changes are 0 once the option has expired.
        short_scaled, long_scaled = short * complement, long * complement
        terms: list[LinearCombination] = []
        for s in range(self.shape.n_scenarios):
            with api.scope(f"scenario{s}"):
                lo = public_field(snap("scenario", k, s), "lower")
                hi = public_field(snap("scenario", k, s), "upper")
                terms.append(
                    api.mul(short_scaled, hi, name="short*upper") - api.mul(long_scaled, lo, name="long*lower")
                )
        # The minimum's numerator before min_ppm: short * S (< 2**112); see `_portfolio`.
        exposure = api.mul(short, spot, name="short*spot")
        return _OptionLeg(
            value=value,
            value_bound=2**QUOTE_BITS + 2**value_bits,
            terms=terms,
            short_exposure=exposure,
            scale=scale,
            live=live,
        )

    def _portfolio(
        self,
        api: API,
        u: int,
        legs: list[_OptionLeg | _LinearLeg],
        som_ppm: LinearCombination,
        multiplier: LinearCombination,
    ) -> tuple[LinearCombination, LinearCombination, int, int]:
        """(IMR, MMR, bounds) of the portfolio of one underlying (its options, and its
        linear markets' legs, zero unless in the portfolio), `engine._margin`'s rules:

        loss_s = ceil(sum_i term_i,s / 10**(12 + d_u));  scan = max(0, max_s loss_s)
        SOM    = sum_i ceil(short_i * S * min_ppm / (10**d_i 10**6))   (live options)
        MMR    = max(scan, SOM);  IMR = ceil(MMR * initial_multiplier / 10**6)

        proven as an upper bound: the hinted MMR is at least SOM, 0 and every loss_s
        (`ceiling_bound`: MMR * 10**(12 + d_u) >= sum_i term_i,s), the honest one being equal;
        a larger one only raises the requirement. Without options, scenarios of one price
        class have equal losses: one per class is checked."""
        som, n_som, som_bits = _short_option_minimum(api, legs, som_ppm)
        scenarios: Sequence[int] = range(self.shape.n_scenarios)
        if not n_som:
            classes = self.shape.scenario_classes()
            scenarios = [classes.index(c) for c in sorted(set(classes))]
        sums = [api.sum([leg.terms[s] for leg in legs]) for s in scenarios]
        denominator = 10 ** (12 + self.shape.portfolio_decimals(u))
        n_bits = (len(legs) * 2 ** (SCENARIO_LOSS_BITS + denominator.bit_length())).bit_length()
        loss_bits = (len(legs) * 2**SCENARIO_LOSS_BITS).bit_length()
        floor_bits = max(1, (n_som * 2**som_bits).bit_length())
        mmr = ceiling_bound(
            api,
            sums,
            denominator,
            som,
            n_bits=n_bits,
            m_bits=loss_bits,
            floor_bits=floor_bits,
            name="maintenance",
        )
        mmr_bits = max(loss_bits, floor_bits) + 1
        imr_bits = mmr_bits + MULTIPLIER_BITS
        imr = div_bound(
            api,
            api.mul(mmr, multiplier, name="mmr*multiplier"),
            PPM,
            n_bits=imr_bits,
            d_bits=PPM_BITS,
            ceil=True,
            name="initial",
        )
        return imr, mmr, 2**imr_bits, 2**mmr_bits

    def _linear_classes(self, api: API, snap: Reader) -> list[_LinearClass]:
        """The grid's price classes for linear markets (`MarginShape.scenario_classes`),
        scope `grid/linear`: price moves signed with |move| < 2**24, the extreme move and
        fraction < 2**20; a regular move's change is mark * move / 10**6 (its fraction is
        10**6: floor(mark * move * 10**6 / 10**12) is the same integer), an extreme one's
        +/- mark * extreme * fraction / 10**12."""
        out = []
        with api.scope("grid/linear"):
            for i in range(self.shape.n_price_moves):
                move = public_field(snap("price_move", i), "move")
                out.append(_LinearClass(move * PPM))
            extreme = public_field(snap("grid"), "extreme_move")
            fraction = public_field(snap("grid"), "extreme_fraction")
            both = api.mul(extreme, fraction, name="extreme*fraction")
            out.append(_LinearClass(-both))
            out.append(_LinearClass(both))
        return out

    def _linear_leg(
        self,
        api: API,
        classes: list[_LinearClass],
        mark: LinearCombination,
        size: LinearCombination,
        complement: int,
        gate: LinearCombination,
    ) -> _LinearLeg:
        """The position's loss terms (`engine._margin.linear_leg_numerators`), scope
        `portfolio_leg`: per price class c, -gate * size * mark * multiplier_c *
        10**(18 - d) (`complement` = 10**(18 - d)), the exact loss over 10**30; gate = 1
        only for a live cross position of a portfolio-mode account."""
        with api.scope("portfolio_leg"):
            gated = api.mul(gate, size, name="gate*size")
            exposure = api.mul(gated, mark, name="gate*size*mark") * complement
            per_class = [-api.mul(exposure, cls.multiplier, name=f"class{c}") for c, cls in enumerate(classes)]
        return _LinearLeg([per_class[c] for c in self.shape.scenario_classes()])

    def _linear_market(
        self,
        api: API,
        m: MarketShape,
        snap: Reader,
        k: int,
        slot: View[LinearCombination],
        timestamp: LinearCombination | None,
        portfolio_mode: LinearCombination,
        classes: list[_LinearClass],
    ) -> tuple[LinearCombination, LinearCombination, LinearCombination, _LinearLeg]:
        """The cross contributions (value, IMR, MMR) and the portfolio leg of one position
        in a perpetual or future. A cross position of a standard-mode account carries its
        own IMR and MMR (linear rules); an isolated one carries none and is checked on its
        own (isolated_margin + value >= MMR, scope `isolated`); a cross position of a
        portfolio-mode account carries none either: its losses join its underlying's
        portfolio (the leg's gate). Its value counts in equity unless isolated."""
        pos = _linear_position(api, slot)
        market = snap("market", k)
        scale = 10**m.decimals
        complement = 10 ** (self.shape.portfolio_decimals(m.base) - m.decimals)  # to 10**(12 + d_u)
        mark = public_field(market, "mark")
        perpetual = snap("perpetual", k) if m.kind == KIND_PERPETUAL else None
        value = _linear_value(api, perpetual, slot, pos, scale, mark)
        brackets = [snap("bracket", k, i) for i in range(m.n_brackets)]
        imr, mmr = self._linear_requirements(api, market, snap("linear_risk", k), brackets, pos.size_abs, scale, mark)

        # In the portfolio: a cross position (f = 0) of a portfolio-mode account.
        in_portfolio = api.mul(portfolio_mode, 1 - pos.isolated, name="portfolio*cross")
        gate = in_portfolio
        if m.kind == KIND_FUTURE:
            # Expired (expiry <= timestamp): valued at settlement (= mark), no requirement,
            # out of any portfolio.
            assert timestamp is not None
            with api.scope("expiry"):
                expiry = public_field(market, "expiry")
                expired = greater_or_equal(api, timestamp, expiry, TIME_BITS, name="expired")
                imr = api.mul(1 - expired, imr, name="live*imr")
                mmr = api.mul(1 - expired, mmr, name="live*mmr")
                gate = api.mul(1 - expired, in_portfolio, name="live*in_portfolio")
        leg = self._linear_leg(api, classes, mark, pos.size, complement, gate)

        with api.scope("isolated"):
            # f * (isolated_margin + value - MMR) = isolated_margin + f value - f MMR (the
            # margin is 0 when f = 0); in [0, 2**133): a negative difference is r - |diff|.
            iso_value = api.mul(pos.isolated, value, name="flag*value")
            iso_mmr = api.mul(pos.isolated, mmr, name="flag*mmr")
            range_check(api, pos.isolated_margin + iso_value - iso_mmr, ISOLATED_BITS, name="margin+value>=mmr")
        # Linear rules count for the cross account only for standard = (1 - f)(1 - mode).
        standard = 1 - pos.isolated - in_portfolio
        cross_imr = api.mul(standard, imr, name="standard*imr")
        cross_mmr = api.mul(standard, mmr, name="standard*mmr")
        return value - iso_value, cross_imr, cross_mmr, leg

    def _linear_requirements(
        self,
        api: API,
        market: View[LinearCombination],
        risk: View[LinearCombination],
        brackets: list[View[LinearCombination]],
        size_abs: LinearCombination,
        scale: int,
        mark: LinearCombination,
    ) -> tuple[LinearCombination, LinearCombination]:
        """(IMR, MMR) of a linear position by the market's flat or bracketed rules:
        IMR = ceil(notional * min(10**6, base + oi_increase + premium) / 10**6)."""
        # notional = ceil(|s| * mark / 10**d) < 2**96 (the engine refuses a larger one).
        notional_bits = NOTIONAL_BITS
        notional_num = api.mul(size_abs, mark, name="|size|*mark")
        n_bits = SIZE_BITS + PRICE_BITS
        notional = div(
            api,
            notional_num,
            scale,
            n_bits=n_bits,
            d_bits=scale.bit_length(),
            ceil=True,
            q_bits=notional_bits,
            name="notional",
        )
        # Size premium: ceil(k * |s| / 10**d) < 2**84.
        k = public_field(risk, "size_premium")
        premium_num = api.mul(k, size_abs, name="k*|size|")
        n_bits = PPM_BITS + SIZE_BITS
        premium = _div_by_constant(api, premium_num, scale, n_bits, ceil=True, name="size_premium")
        frac_bits = PPM_BITS + SIZE_BITS + 1  # base (< 2**20) + premium (< 2**84)
        if not brackets:
            base_imf, mmr = _flat_mmr(api, risk, size_abs, scale, notional, notional_bits, frac_bits)
        else:
            base_imf, mmr = _brackets(api, brackets, notional, notional_bits)
        # base + oi_increase <= 10**6 (published with the snapshot), so the sum stays below 2**frac_bits.
        imf_total = minimum(api, base_imf + premium, PPM, frac_bits, name="imf")
        imr_num = api.mul(notional, imf_total, name="notional*imf")
        imr = div_bound(api, imr_num, PPM, n_bits=notional_bits + PPM_BITS, d_bits=PPM_BITS, ceil=True, name="imr")
        return imr, mmr


#: Public inputs of the anonymous mode, in order (they replace `commitment`).
#: The inputs every account of an epoch shares: the wires they determine (the snapshot's
#: hash chain and what follows from public values alone) have equal values in every
#: witness of the epoch (`CompiledCircuit.wires_determined_by`, `Prover.share_wires`).
EPOCH_INPUTS = ("snapshot_hash", "requirement", "max_margin_ratio_ppm", "snapshot")
ANONYMOUS_PUBLIC = ("merkle_root", "nullifier", "snapshot_hash", "requirement", "max_margin_ratio_ppm")
