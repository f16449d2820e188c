// The governance's transaction formats: a Safe 1.4.1 transaction's EIP-712 hash (the safeTxHash
// owners approve), its "pre-approved" signatures, and OpenZeppelin TimelockController operation ids
// and calldata. Pure functions, checked against ethers and the contracts (tests/chain/).
#pragma once

#include <cstdint>
#include <vector>

#include "chain/abi.hpp"
#include "chain/keccak.hpp"

namespace pg::chain {

/// A Safe transaction with no gas refund (safeTxGas, baseGas, gasPrice 0; gasToken and
/// refundReceiver zero): the Safe then reverts the whole execTransaction when the call fails.
struct SafeTx {
  Address to;
  Word value{};
  Bytes data;
  std::uint8_t operation = 0;  // 0 call, 1 delegatecall
  Word nonce{};
};

/// The Safe's EIP-712 domain separator: keccak256(abi.encode(keccak256("EIP712Domain(uint256
/// chainId,address verifyingContract)"), chainId, safe)) — Safe 1.4.1 has no name or version.
Hash32 safe_domain_separator(std::uint64_t chain_id, const Address& safe);

/// safeTxHash = keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(SafeTx)), what
/// Safe.getTransactionHash returns and Safe.approveHash records.
Hash32 safe_tx_hash(std::uint64_t chain_id, const Address& safe, const SafeTx& tx);

/// The signatures field of execTransaction for owners who approved the hash on chain (or send the
/// transaction): per owner r = the owner's address, s = 0, v = 1; sorted by address ascending as
/// the Safe requires.
Bytes approved_hash_signatures(std::vector<Address> owners);

/// Calldata of Safe.execTransaction(tx, signatures) with the refund fields zero.
Bytes exec_transaction_calldata(const SafeTx& tx, const Bytes& signatures);

/// A TimelockController operation: one call, no predecessor unless given.
struct TimelockOp {
  Address target;
  Word value{};
  Bytes data;
  Word predecessor{};
  Word salt{};
};

/// hashOperation: keccak256(abi.encode(target, value, data, predecessor, salt)).
Hash32 timelock_operation_id(const TimelockOp& op);

/// Calldata of schedule(op, delay) and execute(op).
Bytes timelock_schedule_calldata(const TimelockOp& op, const Word& delay);
Bytes timelock_execute_calldata(const TimelockOp& op);

/// OpenZeppelin 5's TimelockController.OperationState.
enum class OperationState : std::uint8_t { kUnset = 0, kWaiting = 1, kReady = 2, kDone = 3 };

}  // namespace pg::chain
