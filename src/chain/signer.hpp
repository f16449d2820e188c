// An Ethereum account key: secp256k1 (libsecp256k1) ECDSA with recoverable, low-s signatures
// (RFC 6979 nonces), the account address, and loading the key from a file an operator keeps
// private. The key's bytes are never printed, logged or put into an error message.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "chain/abi.hpp"
#include "chain/error.hpp"
#include "chain/keccak.hpp"

namespace pg::chain {

/// r, s (s <= n/2, EIP-2) and the recovery id (y parity of R, 0 or 1).
struct Signature {
  Word r{};
  Word s{};
  int recovery_id = 0;
};

class PrivateKey {
 public:
  /// A key from its 32 bytes; refused when zero or >= the group order.
  static Result<PrivateKey> from_bytes(std::span<const std::uint8_t> secret);
  /// A key from a file holding 64 hex digits (optionally "0x", surrounding whitespace allowed).
  /// Opened without following a symbolic link and checked on the open descriptor: refused
  /// unless it is a regular file owned by the effective user with no permission for group or
  /// others (0600, 0400). Errors name the path and the reason, never the content.
  static Result<PrivateKey> from_file(const std::string& path);

  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  PrivateKey(PrivateKey&& other) noexcept;
  PrivateKey& operator=(PrivateKey&& other) noexcept;
  ~PrivateKey();

  /// The account: the last 20 bytes of keccak256 of the uncompressed public key's 64 bytes.
  const Address& address() const noexcept { return address_; }
  /// Signs a 32-byte digest.
  Signature sign(const Hash32& digest) const;

 private:
  PrivateKey() = default;
  std::array<std::uint8_t, 32> secret_{};
  Address address_;
};

}  // namespace pg::chain
