// SPDX-License-Identifier: Apache-2.0
// Which Groth16 verifier contract answers for a claim type's circuit version, and whether that
// version is enabled: the on-chain mirror of the server's circuit catalog (docs/onchain.md).
pragma solidity ^0.8.20;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract CircuitRegistry is Ownable {
    struct Entry {
        address verifier;
        bool enabled;
    }

    /// claimKey = keccak256(bytes(claim_type)) → keccak256(bytes(semver)) → entry.
    mapping(bytes32 => mapping(bytes32 => Entry)) private entries;

    event CircuitUpdated(bytes32 indexed claimKey, address verifier, string semver, bool enabled);

    /// An enabled version needs a verifier that is a contract.
    error VerifierNotContract(address verifier);
    /// The empty version string names nothing.
    error EmptySemver();

    /// The owner is given explicitly (a deployer transfers it to the timelock once set up).
    constructor(address initialOwner) Ownable(initialOwner) {}

    /// Registers, replaces or disables (enabled = false) the verifier of one version of a claim
    /// type. A disabled version may keep its address (for the record) or be address(0).
    function setCircuit(bytes32 claimKey, address verifier, string calldata semver, bool enabled)
        external
        onlyOwner
    {
        if (bytes(semver).length == 0) revert EmptySemver();
        if (enabled && verifier.code.length == 0) revert VerifierNotContract(verifier);
        entries[claimKey][keccak256(bytes(semver))] = Entry(verifier, enabled);
        emit CircuitUpdated(claimKey, verifier, semver, enabled);
    }

    /// The verifier registered for that version and whether it is enabled; (address(0), false)
    /// when the version was never registered.
    function circuit(bytes32 claimKey, string calldata semver)
        external
        view
        returns (address verifier, bool enabled)
    {
        Entry storage e = entries[claimKey][keccak256(bytes(semver))];
        return (e.verifier, e.enabled);
    }
}
