// EIP-1559 and EIP-155 transaction encoding and signing.
#include "chain/transaction.hpp"

#include <algorithm>

#include "chain/rlp.hpp"

namespace pg::chain {
namespace {

Bytes to_item(const std::optional<Address>& to) {
  if (!to) return rlp::encode_bytes({});
  return rlp::encode_bytes(to->bytes);
}

std::vector<Bytes> eip1559_fields(const Eip1559Transaction& t) {
  return {rlp::encode_uint(t.chain_id),
          rlp::encode_uint(t.nonce),
          rlp::encode_uint(t.max_priority_fee_per_gas),
          rlp::encode_uint(t.max_fee_per_gas),
          rlp::encode_uint(t.gas_limit),
          to_item(t.to),
          rlp::encode_uint(t.value),
          rlp::encode_bytes(t.data),
          rlp::encode_list({})};
}

Bytes typed(std::uint8_t type, const Bytes& payload) {
  Bytes out(payload.size() + 1);
  out[0] = type;
  std::copy(payload.begin(), payload.end(), out.begin() + 1);
  return out;
}

std::vector<Bytes> legacy_fields(const LegacyTransaction& t) {
  return {rlp::encode_uint(t.nonce),     rlp::encode_uint(t.gas_price),
          rlp::encode_uint(t.gas_limit), to_item(t.to),
          rlp::encode_uint(t.value),     rlp::encode_bytes(t.data)};
}

}  // namespace

Hash32 Eip1559Transaction::signing_hash() const {
  return keccak256(typed(0x02, rlp::encode_list(eip1559_fields(*this))));
}

Bytes Eip1559Transaction::sign(const PrivateKey& key) const {
  const Signature sig = key.sign(signing_hash());
  auto fields = eip1559_fields(*this);
  fields.push_back(rlp::encode_uint(static_cast<std::uint64_t>(sig.recovery_id)));
  fields.push_back(rlp::encode_uint(sig.r));
  fields.push_back(rlp::encode_uint(sig.s));
  return typed(0x02, rlp::encode_list(fields));
}

Hash32 LegacyTransaction::signing_hash() const {
  auto fields = legacy_fields(*this);
  fields.push_back(rlp::encode_uint(chain_id));
  fields.push_back(rlp::encode_uint(0));
  fields.push_back(rlp::encode_uint(0));
  return keccak256(rlp::encode_list(fields));
}

Bytes LegacyTransaction::sign(const PrivateKey& key) const {
  const Signature sig = key.sign(signing_hash());
  auto fields = legacy_fields(*this);
  fields.push_back(
      rlp::encode_uint(static_cast<std::uint64_t>(sig.recovery_id) + 35 + 2 * chain_id));
  fields.push_back(rlp::encode_uint(sig.r));
  fields.push_back(rlp::encode_uint(sig.s));
  return rlp::encode_list(fields);
}

Address create_address(const Address& sender, std::uint64_t nonce) {
  const Hash32 h =
      keccak256(rlp::encode_list({rlp::encode_bytes(sender.bytes), rlp::encode_uint(nonce)}));
  Address a;
  std::copy(h.begin() + 12, h.end(), a.bytes.begin());
  return a;
}

}  // namespace pg::chain
