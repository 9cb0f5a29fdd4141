"""`MarginLedger`: the margin ledger's acceptance rule as an Ethereum contract.

`margin_ledger_contract(key)` writes the Solidity source for one margin verification
key. The venue (the deployer) opens an epoch with its public statement (snapshot hash,
requirement code, margin-ratio bound), registers the accounts' commitments and closes
the epoch; anyone submits a margin proof for a registered commitment of an open epoch,
and the contract records the commitment as proven. A proof for another epoch fails its
pairing check (the epoch's statement is part of vk_x, and no two epochs may share a
snapshot hash); a proven commitment refuses a second `submit`, and a batch naming one
verifies its proof but records it no further (a batch is not undone by one of its
proofs submitted ahead of it), unless every one of its commitments is proven. Every
step emits an event; every refusal is a custom error. Before the precompiles run, the
gas left must pay their EIP-1108 prices, else `NotEnoughGas`: a valid proof is never
refused for want of gas.

Gas: opening an epoch folds its three public signals into a point once (`base` = IC0 +
hash IC2 + requirement IC3 + ratio IC4, for the order of `SIGNAL_NAMES`), so a proof
costs one ecMul for its commitment. `submitBatch` checks n proofs with one random
linear combination (bellman's batch verification):

    prod e(z_i A_i, B_i) * e(-sum z_i C_i, delta) * e(-(sum z_i) base - (sum z_i c_i) IC1, gamma)
        * e(-(sum z_i) alpha, beta) == 1

n + 3 pairings and 2n + 1 ecMuls for n proofs, where one at a time costs 4n pairings
(a batch of one is checked as one proof: four pairings, no randomizer).
z_0 = 1 and z_i = 1 + (Keccak-256(seed, i) mod 2**128), seed = Keccak-256(epoch, base,
the contract's address, the chain id, every commitment, every proof): everything the
check depends on. A batch with a proof that does not verify passes with probability
about 2**-128 per attempt, and neither the submitter nor the venue (who sets the
statement) can choose the z_i without changing what they hash.
"""

from __future__ import annotations

from verifier import (
    EC_ADD,
    EC_MUL,
    EC_PAIRING,
    GAS_SPARE,
    MUL_ADD_GAS,
    PAIR_GAS,
    PAIRING_GAS,
    PRAGMA,
    VerifyingKey,
    all_below,
    comment_line,
    key_constants,
    yul_mul_add,
    yul_point,
)

from ._errors import StatementError
from ._statement import SIGNAL_NAMES

#: Most proofs one submitBatch takes (its memory grows with n).
MAX_BATCH = 64
#: The contract's functions, as the ABI names them.
OPEN_EPOCH = "openEpoch(uint64,uint256,uint8,uint64)"
REGISTER = "registerCommitments(uint64,uint256[])"
SUBMIT = "submit(uint64,uint256,uint256[8])"
SUBMIT_BATCH = "submitBatch(uint64,uint256[],uint256[8][])"
CLOSE_EPOCH = "closeEpoch(uint64)"
STATUS = "status(uint64,uint256)"
#: status(epoch, commitment): what the contract knows of a commitment.
UNKNOWN, REGISTERED, PROVEN = 0, 1, 2


def _ic(signal: str) -> str:
    """The IC constant's prefix of a margin signal (IC0 is the constant term)."""
    return f"IC{SIGNAL_NAMES.index(signal) + 1}"


def _base_function() -> str:
    """_base(hash, requirement, ratio): the epoch's part of vk_x."""
    ind = " " * 12
    terms = "".join(
        yul_mul_add(_ic(signal), value, 0, "m", ind)
        for signal, value in (
            ("snapshot hash", "snapshotHash"),
            ("requirement", "requirement"),
            ("max margin ratio", "maxMarginRatioPpm"),
        )
    )
    return f"""    function _base(uint256 snapshotHash, uint256 requirement, uint256 maxMarginRatioPpm)
        internal view returns (uint256 x, uint256 y)
    {{
        bool ok = true;
        assembly ("memory-safe") {{
            let m := mload(0x40)
            mstore(m, IC0_X)
            mstore(add(m, 0x20), IC0_Y)
{terms}            x := mload(m)
            y := mload(add(m, 0x20))
        }}
        if (!ok) revert PrecompileFailed();
    }}"""


def _proof_in_range(p: str) -> str:
    return all_below((f"calldataload(add({p}, {32 * k:#x}))" for k in range(8)), "Q")


def _verify_function() -> str:
    """_verify: one proof's four-pairing check against base + commitment IC1."""
    c = _ic("commitment")
    return f"""    /// @dev Memory from the free pointer: -A, B, alpha, beta, vk_x (0x180), gamma (0x1c0,
    /// ecMul scratch before), C, delta: one 768-byte pairing input.
    function _verify(uint256 baseX, uint256 baseY, uint256 commitment, uint256[8] calldata proof)
        internal view returns (bool ok)
    {{
        assembly ("memory-safe") {{
            ok := {_proof_in_range("proof")}
            if ok {{
                let m := mload(0x40)
                mstore(add(m, 0x180), baseX)
                mstore(add(m, 0x1a0), baseY)
                mstore(add(m, 0x1c0), {c}_X)
                mstore(add(m, 0x1e0), {c}_Y)
                mstore(add(m, 0x200), commitment)
                ok := staticcall(gas(), {EC_MUL}, add(m, 0x1c0), 0x60, add(m, 0x1c0), 0x40)
                ok := and(ok, staticcall(gas(), {EC_ADD}, add(m, 0x180), 0x80, add(m, 0x180), 0x40))
                mstore(m, calldataload(proof))
                mstore(add(m, 0x20), mod(sub(Q, calldataload(add(proof, 0x20))), Q))
                calldatacopy(add(m, 0x40), add(proof, 0x40), 0x80)
{yul_point("ALPHA", 0xC0, "m", " " * 16)}
{yul_point("BETA", 0x100, "m", " " * 16)}
{yul_point("GAMMA", 0x1C0, "m", " " * 16)}
                calldatacopy(add(m, 0x240), add(proof, 0xc0), 0x40)
{yul_point("DELTA", 0x280, "m", " " * 16)}
                ok := and(ok, staticcall(gas(), {EC_PAIRING}, m, 0x300, m, 0x20))
                ok := and(ok, mload(m))
            }}
        }}
    }}"""


def _batch_function() -> str:
    """_verifyBatch: n proofs, one random linear combination, n + 3 pairings."""
    c = _ic("commitment")
    return f"""    /// @dev Memory from the free pointer m: m..m+0x40 the running sum of z_i C_i, then 0x60
    /// of ecMul scratch, then the n + 3 pairs of the pairing input (0xc0 each) from m+0xa0.
    function _verifyBatch(
        uint64 epoch, uint256 baseX, uint256 baseY, uint256[] calldata cs, uint256[8][] calldata ps
    ) internal view returns (bool ok) {{
        assembly ("memory-safe") {{
            // out = s * (x, y) on ecMul, its input written at w
            function mulTo(w, out, x, y, s) -> good {{
                mstore(w, x)
                mstore(add(w, 0x20), y)
                mstore(add(w, 0x40), s)
                good := staticcall(gas(), {EC_MUL}, w, 0x60, out, 0x40)
            }}
            // the pair (-(x, y), G2 point) at `at`, the G2 point stored after by the caller
            function negTo(at, x, y) {{
                mstore(at, x)
                mstore(add(at, 0x20), mod(sub(Q, y), Q))
            }}
            // pair i: (z_i A_i, B_i) at `slot`; z_i C_i added to the sum at m; returns z_i
            function addProof(m, p, slot, seed, i) -> z, good {{
                good := {_proof_in_range("p")}
                z := 1
                switch i
                case 0 {{
                    calldatacopy(slot, p, 0x40)
                    calldatacopy(m, add(p, 0xc0), 0x40)
                }}
                default {{
                    mstore(add(m, 0x40), seed)
                    mstore(add(m, 0x60), i)
                    z := add(and(keccak256(add(m, 0x40), 0x40), MASK128), 1)
                    good := and(good, mulTo(add(m, 0x40), slot, calldataload(p), calldataload(add(p, 0x20)), z))
                    let cx := calldataload(add(p, 0xc0))
                    good := and(good, mulTo(add(m, 0x40), add(m, 0x40), cx, calldataload(add(p, 0xe0)), z))
                    good := and(good, staticcall(gas(), {EC_ADD}, m, 0x80, m, 0x40))
                }}
                calldatacopy(add(slot, 0x40), add(p, 0x40), 0x80)
            }}
            // the last three pairs, from `tail`: (-sum z C, delta), (-vk, gamma), (-sum z alpha, beta)
            function addKeyPairs(m, tail, bx, by, sumZ, sumZc) -> good {{
                negTo(tail, mload(m), mload(add(m, 0x20)))
{yul_point("DELTA", 0x40, "tail", " " * 16)}
                good := mulTo(add(m, 0x40), m, bx, by, sumZ)
                good := and(good, mulTo(add(m, 0x40), add(m, 0x40), {c}_X, {c}_Y, sumZc))
                good := and(good, staticcall(gas(), {EC_ADD}, m, 0x80, m, 0x40))
                negTo(add(tail, 0xc0), mload(m), mload(add(m, 0x20)))
{yul_point("GAMMA", 0x100, "tail", " " * 16)}
                good := and(good, mulTo(add(m, 0x40), m, ALPHA_X, ALPHA_Y, sumZ))
                negTo(add(tail, 0x180), mload(m), mload(add(m, 0x20)))
{yul_point("BETA", 0x1C0, "tail", " " * 16)}
            }}
            let m := mload(0x40)
            mstore(m, epoch)
            mstore(add(m, 0x20), baseX)
            mstore(add(m, 0x40), baseY)
            mstore(add(m, 0x60), address())
            mstore(add(m, 0x80), chainid())
            calldatacopy(add(m, 0xa0), cs.offset, shl(5, ps.length))
            calldatacopy(add(add(m, 0xa0), shl(5, ps.length)), ps.offset, shl(8, ps.length))
            let seed := keccak256(m, add(0xa0, mul(ps.length, 0x120)))
            let sumZ := 0
            let sumZc := 0
            ok := 1
            for {{ let i := 0 }} lt(i, ps.length) {{ i := add(i, 1) }} {{
                let z, good := addProof(m, add(ps.offset, shl(8, i)), add(add(m, 0xa0), mul(i, 0xc0)), seed, i)
                ok := and(ok, good)
                sumZ := add(sumZ, z)
                sumZc := addmod(sumZc, mulmod(z, calldataload(add(cs.offset, shl(5, i))), R), R)
            }}
            ok := and(ok, addKeyPairs(m, add(add(m, 0xa0), mul(ps.length, 0xc0)), baseX, baseY, sumZ, sumZc))
            let n := ps.length
            ok := and(ok, staticcall(gas(), {EC_PAIRING}, add(m, 0xa0), mul(add(n, 3), 0xc0), m, 0x20))
            ok := and(ok, mload(m))
        }}
    }}"""


#: The contract's source, `str.format`ted by margin_ledger_contract (Solidity braces doubled).
_LEDGER_SOURCE = """// SPDX-License-Identifier: MIT
// Generated by zkmargin from the margin circuit's Groth16 verification key (BN254).
{notice}{pragma}

/// @title MarginLedger: a venue's margin epochs, proven on chain
/// @notice The venue opens an epoch with its public statement and registers the accounts'
/// commitments; anyone submits a margin proof for a registered commitment, one at a time
/// or many in one batch, and the contract records the commitment as proven for the epoch.
/// A proof is [ax, ay, bx1, bx0, by1, by0, cx, cy]: G2 imaginary part first, as
/// `zkmargin zkey export soliditycalldata` prints it.
contract MarginLedger {{
{constants}
    uint256 internal constant MASK128 = (1 << 128) - 1;
    uint256 public constant MAX_BATCH = {max_batch};
    uint8 internal constant UNKNOWN = {unknown};
    uint8 internal constant REGISTERED = {registered};
    uint8 internal constant PROVEN = {proven};
    uint8 internal constant OPEN = 1;
    uint8 internal constant CLOSED = 2;

    struct Epoch {{
        uint256 snapshotHash;
        uint256 baseX; // IC0 + snapshotHash IC2 + requirement IC3 + ratio IC4: the epoch's part of vk_x
        uint256 baseY;
        uint64 maxMarginRatioPpm;
        uint8 requirement; // 0 maintenance, 1 initial
        uint8 state; // 0 never opened, OPEN, CLOSED
        uint64 registered;
        uint64 proven;
    }}

    address public immutable venue;
    /// @notice Epochs open in increasing order: the next one's number is at least this.
    uint64 public nextEpoch;
    mapping(uint64 => Epoch) public epochs;
    /// @notice UNKNOWN (0), REGISTERED (1) or PROVEN (2), per epoch and commitment.
    mapping(uint64 => mapping(uint256 => uint8)) public status;
    /// @notice Snapshot hashes of the epochs opened: each opens one epoch only.
    mapping(uint256 => bool) public snapshotUsed;

    event EpochOpened(uint64 indexed epoch, uint256 snapshotHash, uint8 requirement, uint64 maxMarginRatioPpm);
    event CommitmentRegistered(uint64 indexed epoch, uint256 indexed commitment);
    event AccountProven(uint64 indexed epoch, uint256 indexed commitment, address indexed submitter);
    event EpochClosed(uint64 indexed epoch, uint64 registered, uint64 proven);

    error NotVenue(address caller);
    error EpochOutOfOrder(uint64 epoch, uint64 nextEpoch);
    error BadStatement(uint64 epoch);
    error EpochNotOpen(uint64 epoch);
    error BadCommitment(uint256 commitment);
    error AlreadyRegistered(uint64 epoch, uint256 commitment);
    error NotRegistered(uint64 epoch, uint256 commitment);
    error AlreadyProven(uint64 epoch, uint256 commitment);
    error InvalidProof(uint64 epoch, uint256 commitment);
    error InvalidBatch(uint64 epoch, uint256 size);
    error BadBatch(uint256 commitments, uint256 proofs);
    error PrecompileFailed();
    error SnapshotReused(uint256 snapshotHash);
    error NotEnoughGas(uint256 needed);

    constructor() {{
        venue = msg.sender;
    }}

    modifier onlyVenue() {{
        if (msg.sender != venue) revert NotVenue(msg.sender);
        _;
    }}

    /// @notice Open `epoch` with its public statement (the venue; numbers increase).
    function openEpoch(uint64 epoch, uint256 snapshotHash, uint8 requirement, uint64 maxMarginRatioPpm)
        external onlyVenue
    {{
        if (epoch < nextEpoch) revert EpochOutOfOrder(epoch, nextEpoch);
        if (snapshotHash >= R || requirement > 1) revert BadStatement(epoch);
        if (snapshotUsed[snapshotHash]) revert SnapshotReused(snapshotHash);
        snapshotUsed[snapshotHash] = true;
        (uint256 x, uint256 y) = _base(snapshotHash, requirement, maxMarginRatioPpm);
        epochs[epoch] = Epoch(snapshotHash, x, y, maxMarginRatioPpm, requirement, OPEN, 0, 0);
        nextEpoch = epoch + 1;
        emit EpochOpened(epoch, snapshotHash, requirement, maxMarginRatioPpm);
    }}

    /// @notice Register the accounts' commitments for an open epoch (the venue).
    function registerCommitments(uint64 epoch, uint256[] calldata commitments) external onlyVenue {{
        Epoch storage e = _open(epoch);
        mapping(uint256 => uint8) storage s = status[epoch];
        for (uint256 i = 0; i < commitments.length; ++i) {{
            uint256 c = commitments[i];
            if (c >= R) revert BadCommitment(c);
            if (s[c] != UNKNOWN) revert AlreadyRegistered(epoch, c);
            s[c] = REGISTERED;
            emit CommitmentRegistered(epoch, c);
        }}
        e.registered += uint64(commitments.length);
    }}

    /// @notice Close an epoch (the venue): no registration or proof after this.
    function closeEpoch(uint64 epoch) external onlyVenue {{
        Epoch storage e = _open(epoch);
        e.state = CLOSED;
        emit EpochClosed(epoch, e.registered, e.proven);
    }}

    /// @notice Prove one registered commitment of an open epoch (anyone).
    function submit(uint64 epoch, uint256 commitment, uint256[8] calldata proof) external {{
        Epoch storage e = _open(epoch);
        if (!_markProven(epoch, commitment)) revert AlreadyProven(epoch, commitment);
        _needGas(4, 1);
        if (!_verify(e.baseX, e.baseY, commitment, proof)) revert InvalidProof(epoch, commitment);
        e.proven += 1;
        emit AccountProven(epoch, commitment, msg.sender);
    }}

    /// @notice Prove up to MAX_BATCH registered commitments of an open epoch at once
    /// (anyone): all are recorded, or none when one proof does not verify. A commitment
    /// proven already (or twice in the batch) has its proof verified and is not recorded
    /// again; a batch with nothing new is refused.
    function submitBatch(uint64 epoch, uint256[] calldata commitments, uint256[8][] calldata proofs) external {{
        uint256 n = proofs.length;
        if (n == 0 || n > MAX_BATCH || commitments.length != n) revert BadBatch(commitments.length, n);
        Epoch storage e = _open(epoch);
        uint256 fresh = 0;
        for (uint256 i = 0; i < n; ++i) {{
            if (_markProven(epoch, commitments[i])) {{
                ++fresh;
                emit AccountProven(epoch, commitments[i], msg.sender); // dropped if the batch reverts
            }}
        }}
        if (fresh == 0) revert AlreadyProven(epoch, commitments[0]);
        if (n == 1) _needGas(4, 1);
        else _needGas(n + 3, 2 * n + 1);
        bool ok = n == 1
            ? _verify(e.baseX, e.baseY, commitments[0], proofs[0])
            : _verifyBatch(epoch, e.baseX, e.baseY, commitments, proofs);
        if (!ok) revert InvalidBatch(epoch, n);
        e.proven += uint64(fresh);
    }}

    function _open(uint64 epoch) internal view returns (Epoch storage e) {{
        e = epochs[epoch];
        if (e.state != OPEN) revert EpochNotOpen(epoch);
    }}

    /// @dev Marks a registered commitment proven (undone with the call when its proof
    /// fails); false when it is proven already (or earlier in the same batch).
    function _markProven(uint64 epoch, uint256 commitment) internal returns (bool fresh) {{
        mapping(uint256 => uint8) storage s = status[epoch];
        uint8 current = s[commitment];
        if (current == UNKNOWN) revert NotRegistered(epoch, commitment);
        if (current == PROVEN) return false;
        s[commitment] = PROVEN;
        return true;
    }}

    /// @dev NotEnoughGas unless the gas left pays `pairs` pairings and `muls` ecMul+ecAdd
    /// at EIP-1108's prices, each call getting 63/64 of what is left, with room to spare
    /// (zkmargin's `precompile_gas`).
    function _needGas(uint256 pairs, uint256 muls) internal view {{
        uint256 needed = (({pairing_gas} + {pair_gas} * pairs + {mul_add_gas} * muls) * 65) / 63 + {gas_spare};
        if (gasleft() < needed) revert NotEnoughGas(needed);
    }}

{base_function}

{verify_function}

{batch_function}
}}
"""


def margin_ledger_contract(key: VerifyingKey) -> str:
    """Solidity source of `MarginLedger` for the margin circuit's verifying key `key`;
    StatementError when the key's public signals are not a margin proof's."""
    if key.n_public != len(SIGNAL_NAMES):
        raise StatementError(
            f"the key has {key.n_public} public signals, a margin proof has {len(SIGNAL_NAMES)}: "
            + ", ".join(SIGNAL_NAMES)
        )
    notice = comment_line(key.setup_notice) if key.setup_notice else ""
    return _LEDGER_SOURCE.format(
        notice=notice,
        pragma=PRAGMA,
        constants=key_constants(key),
        max_batch=MAX_BATCH,
        unknown=UNKNOWN,
        registered=REGISTERED,
        proven=PROVEN,
        pairing_gas=PAIRING_GAS,
        pair_gas=PAIR_GAS,
        mul_add_gas=MUL_ADD_GAS,
        gas_spare=GAS_SPARE,
        base_function=_base_function(),
        verify_function=_verify_function(),
        batch_function=_batch_function(),
    )
