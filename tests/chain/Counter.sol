// SPDX-License-Identifier: MIT
// A tiny contract for tests/chain/rpc_test.cpp: a constructor argument, state, an event, a dynamic
// return value and a revert. Its creation bytecode is in rpc_test.cpp, compiled with
// `node scripts/chain/solc.mjs out.json tests/chain/Counter.sol` (solc-js 0.8.37, optimizer 200, cancun).
pragma solidity ^0.8.24;

contract Counter {
    uint256 public count;
    event Bumped(address indexed by, uint256 count);

    constructor(uint256 start) {
        count = start;
    }

    function bump(uint256 by) external returns (uint256) {
        count += by;
        emit Bumped(msg.sender, count);
        return count;
    }

    function greet(string calldata name) external pure returns (string memory) {
        return string.concat("hi ", name);
    }

    function fail() external pure {
        revert("nope");
    }
}
