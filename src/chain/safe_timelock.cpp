// Safe transaction hashes and signatures, timelock operation ids and calldata.
#include "chain/safe_timelock.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace pg::chain {

Hash32 safe_domain_separator(std::uint64_t chain_id, const Address& safe) {
  const Hash32 type_hash = keccak256("EIP712Domain(uint256 chainId,address verifyingContract)");
  return keccak256(
      encode({AbiValue::bytes32(type_hash), AbiValue::uint(chain_id), AbiValue::address(safe)}));
}

Hash32 safe_tx_hash(std::uint64_t chain_id, const Address& safe, const SafeTx& tx) {
  const Hash32 type_hash = keccak256(
      "SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,"
      "uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)");
  const Bytes fields = encode({
      AbiValue::bytes32(type_hash),
      AbiValue::address(tx.to),
      AbiValue::uint(tx.value),
      AbiValue::bytes32(keccak256(tx.data)),
      AbiValue::uint(std::uint64_t{tx.operation}),
      AbiValue::uint(std::uint64_t{0}),  // safeTxGas
      AbiValue::uint(std::uint64_t{0}),  // baseGas
      AbiValue::uint(std::uint64_t{0}),  // gasPrice
      AbiValue::address(Address{}),      // gasToken
      AbiValue::address(Address{}),      // refundReceiver
      AbiValue::uint(tx.nonce),
  });
  const Hash32 struct_hash = keccak256(fields);
  const Hash32 domain = safe_domain_separator(chain_id, safe);
  Bytes message{0x19, 0x01};
  message.insert(message.end(), domain.begin(), domain.end());
  message.insert(message.end(), struct_hash.begin(), struct_hash.end());
  return keccak256(message);
}

Bytes approved_hash_signatures(std::vector<Address> owners) {
  std::sort(owners.begin(), owners.end(),
            [](const Address& a, const Address& b) { return a.bytes < b.bytes; });
  Bytes out;
  for (const Address& owner : owners) {
    out.insert(out.end(), 12, 0);
    out.insert(out.end(), owner.bytes.begin(), owner.bytes.end());
    out.insert(out.end(), 32, 0);
    out.push_back(1);
  }
  return out;
}

Bytes exec_transaction_calldata(const SafeTx& tx, const Bytes& signatures) {
  return must_encode_call(
      "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)",
      {AbiValue::address(tx.to), AbiValue::uint(tx.value), AbiValue::bytes(tx.data),
       AbiValue::uint(std::uint64_t{tx.operation}), AbiValue::uint(std::uint64_t{0}),
       AbiValue::uint(std::uint64_t{0}), AbiValue::uint(std::uint64_t{0}),
       AbiValue::address(Address{}), AbiValue::address(Address{}), AbiValue::bytes(signatures)});
}

Hash32 timelock_operation_id(const TimelockOp& op) {
  return keccak256(
      encode({AbiValue::address(op.target), AbiValue::uint(op.value), AbiValue::bytes(op.data),
              AbiValue::bytes32(op.predecessor), AbiValue::bytes32(op.salt)}));
}

Bytes timelock_schedule_calldata(const TimelockOp& op, const Word& delay) {
  return must_encode_call(
      "schedule(address,uint256,bytes,bytes32,bytes32,uint256)",
      {AbiValue::address(op.target), AbiValue::uint(op.value), AbiValue::bytes(op.data),
       AbiValue::bytes32(op.predecessor), AbiValue::bytes32(op.salt), AbiValue::uint(delay)});
}

Bytes timelock_execute_calldata(const TimelockOp& op) {
  return must_encode_call(
      "execute(address,uint256,bytes,bytes32,bytes32)",
      {AbiValue::address(op.target), AbiValue::uint(op.value), AbiValue::bytes(op.data),
       AbiValue::bytes32(op.predecessor), AbiValue::bytes32(op.salt)});
}

}  // namespace pg::chain
