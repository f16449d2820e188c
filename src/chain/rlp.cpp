// Recursive Length Prefix encoding (Yellow Paper appendix B).
#include "chain/rlp.hpp"

#include <algorithm>

namespace pg::chain::rlp {
namespace {

/// The prefix of a payload of `length` bytes: offset + length below 56, else offset + 55 + the
/// length of the big-endian length, then that length.
Bytes prefix(std::size_t length, std::uint8_t offset) {
  if (length < 56) return {static_cast<std::uint8_t>(offset + length)};
  Bytes len;
  for (std::size_t n = length; n != 0; n >>= 8)
    len.insert(len.begin(), static_cast<std::uint8_t>(n));
  len.insert(len.begin(), static_cast<std::uint8_t>(offset + 55 + len.size()));
  return len;
}

}  // namespace

Bytes encode_bytes(std::span<const std::uint8_t> data) {
  if (data.size() == 1 && data[0] < 0x80) return {data[0]};
  Bytes out = prefix(data.size(), 0x80);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes encode_uint(std::uint64_t value) {
  return encode_uint(word_from_u64(value));
}

Bytes encode_uint(const Word& value) {
  const auto first =
      std::find_if(value.begin(), value.end(), [](std::uint8_t b) { return b != 0; });
  return encode_bytes(std::span(first, value.end()));
}

Bytes encode_list(const std::vector<Bytes>& items) {
  std::size_t length = 0;
  for (const auto& item : items) length += item.size();
  Bytes out = prefix(length, 0xc0);
  for (const auto& item : items) out.insert(out.end(), item.begin(), item.end());
  return out;
}

}  // namespace pg::chain::rlp
