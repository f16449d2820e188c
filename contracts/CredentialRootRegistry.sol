// SPDX-License-Identifier: Apache-2.0
// Each issuer's credential root chain on chain, under the rules the verifier applies to an issuer's
// signed root feed (docs/issuers.md): seq without gaps, prevRoot the current root, a root the issuer
// ever had never accepted again (a revocation cannot be undone), and a replaced root accepted for
// the grace in force when it was replaced.
pragma solidity ^0.8.20;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract CredentialRootRegistry is Ownable {
    /// BN254's scalar field order r: a root is a field element, 0 < root < r.
    uint256 public constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416230826773162783034934839297;
    /// The server's upper bound for root_grace_seconds (src/cli/config.cpp): one day.
    uint64 public constant MAX_GRACE_SECONDS = 86400;

    struct Current {
        uint256 root;
        uint64 seq;
        uint64 publishedAt;
    }

    /// seen: the root was this issuer's at some point; acceptedUntil: the first second it is no
    /// longer accepted, fixed when it is replaced (replacement time + the grace then), 0 while
    /// current. Fixing it then keeps a later, longer grace from accepting a root again whose grace
    /// had already ended (a revocation undone). One slot per (issuer, root).
    struct RootInfo {
        bool seen;
        uint64 acceptedUntil;
    }

    mapping(bytes32 => Current) private currents;
    mapping(bytes32 => mapping(uint256 => RootInfo)) private roots;

    /// How long a replaced root stays accepted, in seconds.
    uint64 public graceSeconds;

    event RootPublished(bytes32 indexed issuer, uint64 seq, uint256 root, uint256 prevRoot);
    event GraceSecondsUpdated(uint64 previous, uint64 current);

    error RootZero();
    error RootNotInField(uint256 root);
    error SeqNotNext(uint64 expected, uint64 given);
    error PrevRootMismatch(uint256 expected, uint256 given);
    error RootAlreadySeen(uint256 root);
    error GraceTooLong(uint64 given, uint64 maximum);

    /// The grace starts at the server's default (3600 s); the owner changes it with setGraceSeconds.
    constructor(address initialOwner) Ownable(initialOwner) {
        graceSeconds = 3600;
        emit GraceSecondsUpdated(0, 3600);
    }

    /// Appends the issuer's next root: seq = current seq + 1 (the first root has seq 1 and
    /// prevRoot 0, as the feed's first entry), prevRoot = the current root, root never seen for
    /// this issuer. The replaced root stays accepted for the current graceSeconds from now.
    function publishRoot(bytes32 issuer, uint64 seq, uint256 root, uint256 prevRoot) external onlyOwner {
        if (root == 0) revert RootZero();
        if (root >= SNARK_SCALAR_FIELD) revert RootNotInField(root);
        Current storage cur = currents[issuer];
        if (seq != cur.seq + 1) revert SeqNotNext(cur.seq + 1, seq);
        if (prevRoot != cur.root) revert PrevRootMismatch(cur.root, prevRoot);
        RootInfo storage info = roots[issuer][root];
        if (info.seen) revert RootAlreadySeen(root);
        info.seen = true;
        // block.timestamp + graceSeconds < 2^64 until the year 584 billion; checked all the same.
        if (cur.root != 0) roots[issuer][cur.root].acceptedUntil = uint64(block.timestamp) + graceSeconds;
        cur.root = root;
        cur.seq = seq;
        cur.publishedAt = uint64(block.timestamp);
        emit RootPublished(issuer, seq, root, prevRoot);
    }

    /// Sets how long a replaced root stays accepted, 0 (only the current root) to MAX_GRACE_SECONDS.
    /// It applies to replacements from now on: a root already replaced keeps the grace it got.
    function setGraceSeconds(uint64 seconds_) external onlyOwner {
        if (seconds_ > MAX_GRACE_SECONDS) revert GraceTooLong(seconds_, MAX_GRACE_SECONDS);
        emit GraceSecondsUpdated(graceSeconds, seconds_);
        graceSeconds = seconds_;
    }

    /// The issuer's current root, its seq and when it was published; all 0 before the first.
    function current(bytes32 issuer) external view returns (uint256 root, uint64 seq, uint64 publishedAt) {
        Current storage cur = currents[issuer];
        return (cur.root, cur.seq, cur.publishedAt);
    }

    /// True when root is the issuer's current root, or was replaced less than the grace in force at
    /// its replacement ago. With grace 0 at the replacement, acceptedUntil is the replacement time
    /// itself, never after block.timestamp.
    function isAcceptedRoot(bytes32 issuer, uint256 root) external view returns (bool) {
        if (root == 0) return false;
        if (root == currents[issuer].root) return true;
        return block.timestamp < roots[issuer][root].acceptedUntil;
    }
}
