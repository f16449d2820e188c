// Transactions this service sends: EIP-1559 (type 2) for everything it does, and the legacy
// EIP-155 form only to check the signer against that EIP's published example.
#pragma once

#include <cstdint>
#include <optional>

#include "chain/abi.hpp"
#include "chain/keccak.hpp"
#include "chain/signer.hpp"

namespace pg::chain {

/// An EIP-1559 transaction (eips.ethereum.org/EIPS/eip-1559) with an empty access list.
struct Eip1559Transaction {
  std::uint64_t chain_id = 0;
  std::uint64_t nonce = 0;
  std::uint64_t max_priority_fee_per_gas = 0;  // wei
  std::uint64_t max_fee_per_gas = 0;           // wei
  std::uint64_t gas_limit = 0;
  std::optional<Address> to;  // none: contract creation
  Word value{};               // wei
  Bytes data;

  /// keccak256(0x02 || rlp([chain_id, nonce, tip, fee cap, gas, to, value, data, []])).
  Hash32 signing_hash() const;
  /// 0x02 || rlp([... , access_list, y_parity, r, s]): what eth_sendRawTransaction takes.
  Bytes sign(const PrivateKey& key) const;
};

/// A legacy transaction signed with EIP-155 replay protection (v = recovery_id + 35 + 2 chain_id).
struct LegacyTransaction {
  std::uint64_t chain_id = 0;
  std::uint64_t nonce = 0;
  std::uint64_t gas_price = 0;
  std::uint64_t gas_limit = 0;
  std::optional<Address> to;
  Word value{};
  Bytes data;

  Hash32 signing_hash() const;
  Bytes sign(const PrivateKey& key) const;
};

/// The hash a node reports for a raw transaction: keccak256 of its bytes.
inline Hash32 transaction_hash(const Bytes& raw) {
  return keccak256(raw);
}

/// The address of a contract created by `sender` with `nonce`: keccak256(rlp([sender,
/// nonce]))[12:].
Address create_address(const Address& sender, std::uint64_t nonce);

}  // namespace pg::chain
