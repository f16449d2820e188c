// Recursive Length Prefix encoding (Ethereum Yellow Paper, appendix B) of what transactions need:
// byte strings, unsigned integers (big-endian, no leading zeros) and lists.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "chain/abi.hpp"
#include "chain/hex.hpp"

namespace pg::chain::rlp {

/// A byte string item.
Bytes encode_bytes(std::span<const std::uint8_t> data);
/// An unsigned integer item: its big-endian bytes without leading zeros (0 is the empty string).
Bytes encode_uint(std::uint64_t value);
Bytes encode_uint(const Word& value);
/// A list of already encoded items.
Bytes encode_list(const std::vector<Bytes>& items);

}  // namespace pg::chain::rlp
