// ABI encoding of verifyProof (calldata.hpp): every argument is a fixed array of uint256, so the
// encoding is the selector followed by the values as 32-byte big-endian words, in order
// (Solidity ABI specification, "Formal Specification of the Encoding": static types in place).
#include "chain/calldata.hpp"

#include "chain/keccak.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::chain {

namespace {
constexpr char kHex[] = "0123456789abcdef";

void append_word(std::string& out, const crypto::Limbs& v) {
  for (int limb = 3; limb >= 0; --limb) {
    for (int shift = 60; shift >= 0; shift -= 4)
      out.push_back(kHex[(v[static_cast<std::size_t>(limb)] >> shift) & 0x0f]);
  }
}

struct Encoder {
  std::string hex;
  std::string add(const crypto::Limbs& v) {
    append_word(hex, v);
    return crypto::snarkjs::to_decimal(v);
  }
};
}  // namespace

VerifierCall encode_verify_call(const crypto::Proof& proof,
                                const std::vector<crypto::Fr>& publics) {
  VerifierCall call;
  call.function = "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[" +
                  std::to_string(publics.size()) + "])";
  const Hash32 h = keccak256(call.function);
  call.selector = "0x";
  for (int i = 0; i < 4; ++i) {
    call.selector.push_back(kHex[h[i] >> 4]);
    call.selector.push_back(kHex[h[i] & 0x0f]);
  }
  Encoder e;
  e.hex.reserve(8 + 64 * (8 + publics.size()));
  e.hex = call.selector.substr(2);
  call.a = {e.add(proof.a.x.to_canonical()), e.add(proof.a.y.to_canonical())};
  call.b[0] = {e.add(proof.b.x.c1.to_canonical()), e.add(proof.b.x.c0.to_canonical())};
  call.b[1] = {e.add(proof.b.y.c1.to_canonical()), e.add(proof.b.y.c0.to_canonical())};
  call.c = {e.add(proof.c.x.to_canonical()), e.add(proof.c.y.to_canonical())};
  for (const auto& s : publics) call.pub_signals.push_back(e.add(s.to_canonical()));
  call.calldata = "0x" + e.hex;
  return call;
}

}  // namespace pg::chain
