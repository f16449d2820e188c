// Request binding and partner scope (see binding.hpp and docs/protocol.md).
#include "core/binding.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>
#include <string>

#include "crypto/poseidon.hpp"

namespace pg::core {

namespace {

constexpr std::string_view kPrefix = "proofgate.v1.";

crypto::Fr tag(std::string_view name) {
  return field_from_text("tag", name);
}

}  // namespace

crypto::Fr field_from_text(std::string_view label, std::string_view text) {
  std::string message;
  message.reserve(kPrefix.size() + label.size() + 1 + text.size());
  message.append(kPrefix).append(label).push_back('\0');
  message.append(text);
  std::array<unsigned char, 32> digest{};
  unsigned int len = 0;
  if (EVP_Digest(message.data(), message.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != digest.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  // Bytes 0..30 as a big-endian 248-bit integer.
  crypto::Limbs limbs{0, 0, 0, 0};
  for (int i = 0; i < 31; ++i) {
    const int bit = 8 * (30 - i);
    limbs[bit / 64] |= static_cast<std::uint64_t>(digest[i]) << (bit % 64);
  }
  return crypto::Fr::from_canonical(limbs);
}

crypto::Fr request_binding(const RequestBinding& request) {
  const std::array<crypto::Fr, 5> inputs{
      tag("binding"), field_from_text("nonce", request.nonce),
      field_from_text("verifier_domain", request.verifier_domain),
      field_from_text("claim_type", request.claim_type),
      field_from_text("circuit_version", request.circuit_version)};
  return crypto::poseidon_hash(inputs);
}

crypto::Fr partner_scope(std::string_view verifier_domain) {
  const std::array<crypto::Fr, 2> inputs{tag("scope"),
                                         field_from_text("verifier_domain", verifier_domain)};
  return crypto::poseidon_hash(inputs);
}

}  // namespace pg::core
