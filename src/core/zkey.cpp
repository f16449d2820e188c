// Reading the verification key out of a snarkjs .zkey (see zkey.hpp).
#include "core/zkey.hpp"

#include <cstdint>
#include <cstring>

#include "crypto/bn254.hpp"

namespace pg::core {

namespace {

constexpr std::uint32_t kSectionProtocol = 1;
constexpr std::uint32_t kSectionGroth16Header = 2;
constexpr std::uint32_t kSectionIc = 3;
constexpr std::uint32_t kProtocolGroth16 = 1;
constexpr std::size_t kN8 = 32;  // BN254: both fields in 32 bytes

/// A bounds-checked little-endian reader over one byte range.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : b_(bytes) {}
  bool take(std::size_t n, std::string_view& out) {
    if (b_.size() - pos_ < n) return false;
    out = b_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool u32(std::uint32_t& v) { return uint(4, v); }
  bool u64(std::uint64_t& v) { return uint(8, v); }

 private:
  template <class T>
  bool uint(std::size_t n, T& v) {
    std::string_view s;
    if (!take(n, s)) return false;
    v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(s[i]);
    return true;
  }
  std::string_view b_;
  std::size_t pos_ = 0;
};

crypto::Fp fp_lem(std::string_view s) {
  crypto::Limbs limbs{};
  for (std::size_t i = 0; i < 4; ++i) {
    std::uint64_t w = 0;
    for (std::size_t j = 8; j-- > 0;) w = (w << 8) | static_cast<unsigned char>(s[i * 8 + j]);
    limbs[i] = w;
  }
  return crypto::Fp::from_montgomery(limbs);
}

bool g1(Reader& r, crypto::G1Affine& p) {
  std::string_view s;
  if (!r.take(2 * kN8, s)) return false;
  p = crypto::G1Affine::from_xy(fp_lem(s.substr(0, kN8)), fp_lem(s.substr(kN8, kN8)));
  return true;
}

bool g2(Reader& r, crypto::G2Affine& p) {
  std::string_view s;
  if (!r.take(4 * kN8, s)) return false;
  const crypto::Fp2 x{fp_lem(s.substr(0, kN8)), fp_lem(s.substr(kN8, kN8))};
  const crypto::Fp2 y{fp_lem(s.substr(2 * kN8, kN8)), fp_lem(s.substr(3 * kN8, kN8))};
  p = crypto::G2Affine::from_xy(x, y);
  return true;
}

/// The little-endian bytes of BN254's base-field modulus, to refuse another curve's zkey.
std::string bn254_q_le() {
  // 21888242871839275222246405745257275088696311157297823662689037894645226208583
  const crypto::Limbs q = crypto::FpConfig::kModulus;
  std::string out(kN8, '\0');
  for (std::size_t i = 0; i < kN8; ++i) out[i] = static_cast<char>(q[i / 8] >> (8 * (i % 8)));
  return out;
}

}  // namespace

std::variant<ZkeyKey, std::string> read_zkey_key(std::string_view zkey) {
  Reader r(zkey);
  std::string_view magic;
  std::uint32_t version = 0, n_sections = 0;
  if (!r.take(4, magic) || magic != "zkey")
    return std::string("not a snarkjs zkey (no \"zkey\" magic)");
  if (!r.u32(version) || !r.u32(n_sections)) return std::string("truncated file header");
  std::string_view protocol, header, ic;
  for (std::uint32_t i = 0; i < n_sections; ++i) {
    std::uint32_t id = 0;
    std::uint64_t size = 0;
    std::string_view body;
    if (!r.u32(id) || !r.u64(size) || size > zkey.size() || !r.take(size, body))
      return "section " + std::to_string(i + 1) + " of " + std::to_string(n_sections) +
             ": truncated";
    if (id == kSectionProtocol) protocol = body;
    if (id == kSectionGroth16Header) header = body;
    if (id == kSectionIc) ic = body;
  }
  Reader p(protocol);
  std::uint32_t protocol_id = 0;
  if (!p.u32(protocol_id) || protocol_id != kProtocolGroth16)
    return std::string("not a Groth16 zkey (section 1)");
  Reader h(header);
  std::uint32_t n8q = 0, n8r = 0, n_vars = 0, domain_size = 0;
  ZkeyKey out;
  std::string_view q, field_r;
  if (!h.u32(n8q) || n8q != kN8 || !h.take(n8q, q) || q != bn254_q_le())
    return std::string("the curve is not BN254 (section 2)");
  if (!h.u32(n8r) || n8r != kN8 || !h.take(n8r, field_r) || !h.u32(n_vars) ||
      !h.u32(out.n_public) || !h.u32(domain_size))
    return std::string("section 2: truncated Groth16 header");
  crypto::G1Affine beta1, delta1;
  crypto::VerifyingKey& k = out.key;
  if (!g1(h, k.alpha) || !g1(h, beta1) || !g2(h, k.beta) || !g2(h, k.gamma) || !g1(h, delta1) ||
      !g2(h, k.delta))
    return std::string("section 2: truncated key points");
  Reader ics(ic);
  for (std::uint32_t i = 0; i <= out.n_public; ++i) {
    crypto::G1Affine point;
    if (!g1(ics, point)) return "section 3: truncated at IC[" + std::to_string(i) + "]";
    k.ic.push_back(point);
  }
  return out;
}

std::optional<std::string> zkey_mismatch(std::string_view zkey, const crypto::VerifyingKey& vk) {
  auto read = read_zkey_key(zkey);
  if (const auto* why = std::get_if<std::string>(&read)) return *why;
  const ZkeyKey& z = std::get<ZkeyKey>(read);
  if (z.key.ic.size() != vk.ic.size())
    return std::to_string(z.n_public) + " public signals, the verification key has " +
           std::to_string(vk.ic.empty() ? 0 : vk.ic.size() - 1);
  if (!(z.key.alpha == vk.alpha)) return std::string("vk_alpha_1 differs");
  if (!(z.key.beta == vk.beta)) return std::string("vk_beta_2 differs");
  if (!(z.key.gamma == vk.gamma)) return std::string("vk_gamma_2 differs");
  if (!(z.key.delta == vk.delta)) return std::string("vk_delta_2 differs");
  for (std::size_t i = 0; i < vk.ic.size(); ++i) {
    if (!(z.key.ic[i] == vk.ic[i])) return "IC[" + std::to_string(i) + "] differs";
  }
  return std::nullopt;
}

}  // namespace pg::core
