// The Solidity contract ABI (docs.soliditylang.org/en/latest/abi-spec.html) for what the on-chain
// mode needs: uintN, bool, address, bytesN, bytes, string, fixed and dynamic arrays and tuples of
// them; function selectors; EIP-55 checksummed addresses. Decoding of return data is strict: every
// word is checked (padding, ranges, offsets) and the data must have exactly the encoded length.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/error.hpp"
#include "chain/hex.hpp"

namespace pg::chain {

/// One 32-byte ABI word; unsigned integers in it are big-endian.
using Word = std::array<std::uint8_t, 32>;

/// A 20-byte account address.
struct Address {
  std::array<std::uint8_t, 20> bytes{};

  /// "0x" + 40 hex digits with the EIP-55 mixed-case checksum.
  std::string to_checksum() const;
  bool is_zero() const noexcept;
  friend bool operator==(const Address&, const Address&) = default;
};

/// Parses "0x" + 40 hex digits. All-lowercase and all-uppercase are accepted as they are; a mixed
/// case must be the EIP-55 checksum (eips.ethereum.org/EIPS/eip-55), else it is refused as a
/// probable typo. `what` names the field in the error.
Result<Address> parse_address(std::string_view text, std::string_view what);

/// A word holding `value`.
Word word_from_u64(std::uint64_t value) noexcept;
/// A word from a canonical decimal string (as snarkjs writes numbers) below 2^256.
Result<Word> word_from_decimal(std::string_view decimal, std::string_view what);
/// The value of a word when it fits in 64 bits.
std::optional<std::uint64_t> word_to_u64(const Word& w) noexcept;
/// The decimal string of a word's unsigned value.
std::string word_to_decimal(const Word& w);

/// An ABI type, as parsed from its canonical name ("uint256", "bytes32[2]", "(address,bool)").
struct AbiType {
  enum class Kind {
    kUint,
    kBool,
    kAddress,
    kFixedBytes,
    kBytes,
    kString,
    kFixedArray,
    kArray,
    kTuple
  };
  Kind kind = Kind::kUint;
  unsigned size = 0;             // bits of uintN, bytes of bytesN, length of T[N]
  std::vector<AbiType> members;  // the element type of an array; the members of a tuple

  /// Encoded out of place (behind an offset): bytes, string, T[], and what contains one of them.
  bool is_dynamic() const;
  /// Bytes taken in the head of the enclosing tuple (32 when dynamic).
  std::size_t head_size() const;
  /// The canonical name, as hashed into selectors ("uint256", "(address,bool)[]").
  std::string canonical() const;
};

/// Parses a type name ("uint" is read as "uint256"). Signed integers, fixed-point numbers and
/// function types are not supported and are refused.
Result<AbiType> parse_abi_type(std::string_view name);

/// A value to encode, or a decoded one.
struct AbiValue {
  AbiType::Kind kind = AbiType::Kind::kUint;
  Word word{};                  // uintN, bool, address (right-aligned), bytesN (left-aligned)
  Bytes data;                   // bytes, string
  std::vector<AbiValue> items;  // arrays and tuples
  unsigned fixed_size = 0;      // N of bytesN

  static AbiValue uint(const Word& w);
  static AbiValue uint(std::uint64_t v);
  static AbiValue boolean(bool b);
  static AbiValue address(const Address& a);
  static AbiValue bytes32(const Word& w);
  /// bytesN for N = data.size(), 1 <= N <= 32 (longer data is refused by encode_checked).
  static AbiValue fixed_bytes(std::span<const std::uint8_t> data);
  static AbiValue bytes(Bytes data);
  static AbiValue string(std::string_view text);
  static AbiValue fixed_array(std::vector<AbiValue> items);
  static AbiValue array(std::vector<AbiValue> items);
  static AbiValue tuple(std::vector<AbiValue> items);

  bool as_bool() const noexcept { return word[31] != 0; }
  Address as_address() const noexcept;
  std::optional<std::uint64_t> as_u64() const noexcept { return word_to_u64(word); }
  std::string as_string() const { return {data.begin(), data.end()}; }
};

/// The 4-byte selector of a function signature such as "transfer(address,uint256)": the first four
/// bytes of keccak256 of its canonical form ("uint" is written "uint256" before hashing).
Result<std::array<std::uint8_t, 4>> selector(std::string_view signature);

/// The encoding of `values` as the members of one tuple (a function's arguments, a constructor's
/// arguments after the bytecode). The caller's values decide the layout; see encode_call for a
/// checked form.
Bytes encode(const std::vector<AbiValue>& values);

/// Calldata of a call: the selector of `signature`, then the arguments, after checking that each
/// value has the kind, size and length its parameter type says.
Result<Bytes> encode_call(std::string_view signature, const std::vector<AbiValue>& args);
/// encode_call for values built by the caller with the kinds the signature names: a refusal is a
/// bug, thrown as std::logic_error.
Bytes must_encode_call(std::string_view signature, const std::vector<AbiValue>& args);

/// Checks `values` against the member types of `types` (a tuple) and encodes them.
Result<Bytes> encode_checked(std::string_view types, const std::vector<AbiValue>& values);

/// Decodes `data` as a tuple of `types` (e.g. "(uint256,uint64,uint64)" or "(bool)"), strictly:
/// the data must be exactly as long as its encoding, uintN must fit N bits, bool be 0 or 1,
/// addresses and bytesN zero-padded, offsets in bounds. `what` names the data in errors
/// ("current() result"); the error's field is "<what>[i]..." for the value that is wrong.
Result<std::vector<AbiValue>> decode(std::string_view types, std::span<const std::uint8_t> data,
                                     std::string_view what);

}  // namespace pg::chain
