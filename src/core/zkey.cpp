// Reading the verification key and the contribution record out of a snarkjs .zkey (see zkey.hpp).
#include "core/zkey.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <cstring>

#include "core/ceremony_transcript.hpp"
#include "core/secrets.hpp"
#include "crypto/bn254.hpp"

namespace pg::core {

namespace {

constexpr std::uint32_t kSectionProtocol = 1;
constexpr std::uint32_t kSectionGroth16Header = 2;
constexpr std::uint32_t kSectionIc = 3;
constexpr std::uint32_t kSectionMpcParams = 10;
constexpr std::uint32_t kProtocolGroth16 = 1;
constexpr std::size_t kN8 = 32;            // BN254: both fields in 32 bytes
constexpr std::size_t kMpcHashBytes = 64;  // csHash and each contribution's transcript

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
  bool u8(std::uint8_t& v) { return uint(1, v); }
  bool u32(std::uint32_t& v) { return uint(4, v); }
  bool u64(std::uint64_t& v) { return uint(8, v); }
  std::size_t left() const noexcept { return b_.size() - pos_; }

 private:
  template <class T>
  bool uint(std::size_t n, T& v) {
    std::string_view s;
    if (!take(n, s)) return false;
    v = 0;
    for (std::size_t i = n; i-- > 0;)
      v = static_cast<T>((v << 8) | static_cast<unsigned char>(s[i]));
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

/// The sections read_zkey_key and read_zkey_contributions need, each the body of its last copy
/// (snarkjs reads section 10 as a unique section: `mpc_copies` counts them).
struct Sections {
  std::string_view protocol, header, ic, mpc;
  std::uint32_t mpc_copies = 0;
};

/// The file header and section table of `zkey`, or why they cannot be read.
std::variant<Sections, std::string> read_sections(std::string_view zkey) {
  Reader r(zkey);
  std::string_view magic;
  std::uint32_t version = 0, n_sections = 0;
  if (!r.take(4, magic) || magic != "zkey")
    return std::string("not a snarkjs zkey (no \"zkey\" magic)");
  if (!r.u32(version) || !r.u32(n_sections)) return std::string("truncated file header");
  Sections out;
  for (std::uint32_t i = 0; i < n_sections; ++i) {
    std::uint32_t id = 0;
    std::uint64_t size = 0;
    std::string_view body;
    if (!r.u32(id) || !r.u64(size) || size > zkey.size() || !r.take(size, body))
      return "section " + std::to_string(i + 1) + " of " + std::to_string(n_sections) +
             ": truncated";
    // snarkjs reads one of each: a second copy would make our reading and the prover's differ.
    for (auto [want, slot] :
         {std::pair{kSectionProtocol, &out.protocol}, std::pair{kSectionGroth16Header, &out.header},
          std::pair{kSectionIc, &out.ic}}) {
      if (id != want) continue;
      if (slot->data() != nullptr)
        return "section " + std::to_string(id) + " appears twice; snarkjs reads one";
      *slot = body;
    }
    if (id == kSectionMpcParams) {
      out.mpc = body;
      ++out.mpc_copies;
    }
  }
  Reader p(out.protocol);
  std::uint32_t protocol_id = 0;
  if (!p.u32(protocol_id) || protocol_id != kProtocolGroth16)
    return std::string("not a Groth16 zkey (section 1)");
  Reader h(out.header);
  std::uint32_t n8q = 0;
  std::string_view q;
  if (!h.u32(n8q) || n8q != kN8 || !h.take(n8q, q) || q != bn254_q_le())
    return std::string("the curve is not BN254 (section 2)");
  return out;
}

/// Appends the canonical big-endian bytes of the base-field element whose little-endian
/// Montgomery form is `lem` (kN8 bytes); false when `lem` is not below the modulus.
bool append_canonical_be(std::string_view lem, std::string& out) {
  crypto::Limbs m{};
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t j = 8; j-- > 0;)
      m[i] = (m[i] << 8) | static_cast<unsigned char>(lem[i * 8 + j]);
  }
  const crypto::Limbs& q = crypto::FpConfig::kModulus;
  const bool below = std::lexicographical_compare(m.rbegin(), m.rend(), q.rbegin(), q.rend());
  if (!below) return false;
  const crypto::Limbs c = crypto::Fp::from_montgomery(m).to_canonical();
  for (std::size_t i = kN8; i-- > 0;) out.push_back(static_cast<char>(c[i / 8] >> (8 * (i % 8))));
  return true;
}

/// True when `s` is well-formed UTF-8 (RFC 3629 §4: no overlong form, surrogate or value above
/// U+10FFFF).
bool is_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0, min = 0;
    if (b0 < 0x80) {
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      n = 1, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 2, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      n = 3, cp = b0 & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::string hex_of(std::string_view bytes) {
  return hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

/// Section 10: csHash and the contributions.
struct MpcRecord {
  std::string cs_hash_hex;
  std::vector<ZkeyContribution> contributions;
};

/// The parameters of one contribution (snarkjs readContribution: tags strictly increasing; 1 the
/// name, u8 length + UTF-8; 2 numIterationsExp, u8; 3 the beacon hash, u8 length + bytes), or why
/// they cannot be read.
std::optional<std::string> read_params(std::string_view params, ZkeyContribution& c) {
  Reader r(params);
  std::uint8_t last = 0;
  while (r.left() > 0) {
    std::uint8_t tag = 0, len = 0;
    std::string_view bytes;
    r.u8(tag);
    if (tag <= last) {
      return "parameters not sorted by tag (tag " + std::to_string(tag) + " after tag " +
             std::to_string(last) + ")";
    }
    last = tag;
    const std::string truncated = "parameter tag " + std::to_string(tag) + " truncated";
    switch (tag) {
      case 1:
        if (!r.u8(len) || !r.take(len, bytes)) return truncated;
        if (!is_utf8(bytes)) return std::string("its name is not UTF-8");
        c.name = bytes;
        break;
      case 2:
        if (!r.u8(len)) return truncated;
        c.iterations_exp = len;  // numIterationsExp is one byte
        break;
      case 3:
        if (!r.u8(len) || !r.take(len, bytes)) return truncated;
        c.beacon_hex = hex_of(bytes);
        break;
      default:
        return "unknown parameter tag " + std::to_string(tag);
    }
  }
  return std::nullopt;
}

/// One contribution (snarkjs readContribution) with its hash (hashPubKey), or why not.
std::optional<std::string> read_contribution(Reader& r, ZkeyContribution& c) {
  std::string_view points, transcript, params;
  std::uint32_t params_len = 0;
  // deltaAfter, g1_s, g1_sx (G1: x, y) then g2_spx (G2: x.c0, x.c1, y.c0, y.c1).
  if (!r.take(10 * kN8, points) || !r.take(kMpcHashBytes, transcript) || !r.u32(c.type) ||
      !r.u32(params_len) || !r.take(params_len, params))
    return std::string("truncated");
  if (c.type > 1) return "unknown type " + std::to_string(c.type) + " (0 contribution, 1 beacon)";
  // hashPubKey over toRprUncompressed: G1 as x, y; the Fp2 coordinates of G2 as c1, c0 (wasmcurves
  // LEMtoU reverses each 64-byte Fp2 coordinate whole).
  constexpr std::array<std::size_t, 10> kOrder{0, 1, 2, 3, 4, 5, 7, 6, 9, 8};
  std::string pub;
  pub.reserve(10 * kN8 + kMpcHashBytes);
  for (const std::size_t k : kOrder) {
    if (!append_canonical_be(points.substr(k * kN8, kN8), pub))
      return std::string("a point coordinate is not below the field modulus");
  }
  pub.append(transcript);
  std::array<std::uint8_t, kMpcHashBytes> digest{};
  unsigned int digest_len = 0;
  if (EVP_Digest(pub.data(), pub.size(), digest.data(), &digest_len, EVP_blake2b512(), nullptr) !=
          1 ||
      digest_len != digest.size())
    return std::string("BLAKE2b-512 failed");
  c.hash_hex = hex(digest);
  if (auto why = read_params(params, c)) return why;
  if (c.type == 1 && (c.beacon_hex.empty() || c.iterations_exp < 0))
    return std::string("a beacon without its beacon hash or iteration count");
  return std::nullopt;
}

std::variant<MpcRecord, std::string> read_mpc(std::string_view zkey) {
  auto sections = read_sections(zkey);
  if (const auto* why = std::get_if<std::string>(&sections)) return *why;
  const Sections& s = std::get<Sections>(sections);
  if (s.mpc_copies == 0)
    return std::string("the zkey has no section 10 (the record of its contributions)");
  if (s.mpc_copies > 1)
    return "the zkey has " + std::to_string(s.mpc_copies) + " sections 10, snarkjs reads one";
  Reader r(s.mpc);
  std::string_view cs_hash;
  std::uint32_t n = 0;
  if (!r.take(kMpcHashBytes, cs_hash) || !r.u32(n))
    return std::string("section 10: truncated before the contributions");
  MpcRecord out;
  out.cs_hash_hex = hex_of(cs_hash);
  for (std::uint32_t i = 0; i < n; ++i) {
    ZkeyContribution c{};
    if (auto why = read_contribution(r, c))
      return "section 10: contribution " + std::to_string(i + 1) + " of " + std::to_string(n) +
             ": " + *why;
    out.contributions.push_back(std::move(c));
  }
  if (r.left() > 0)
    return "section 10: " + std::to_string(r.left()) + (r.left() == 1 ? " byte" : " bytes") +
           " after the last contribution";
  return out;
}

}  // namespace

std::variant<ZkeyKey, std::string> read_zkey_key(std::string_view zkey) {
  auto sections = read_sections(zkey);
  if (const auto* why = std::get_if<std::string>(&sections)) return *why;
  const Sections& s = std::get<Sections>(sections);
  Reader h(s.header);
  std::uint32_t n8q = 0, n8r = 0, n_vars = 0, domain_size = 0;
  ZkeyKey out;
  std::string_view q, field_r;
  h.u32(n8q);  // checked by read_sections
  h.take(n8q, q);
  if (!h.u32(n8r) || n8r != kN8 || !h.take(n8r, field_r) || !h.u32(n_vars) ||
      !h.u32(out.n_public) || !h.u32(domain_size))
    return std::string("section 2: truncated Groth16 header");
  crypto::G1Affine beta1, delta1;
  crypto::VerifyingKey& k = out.key;
  if (!g1(h, k.alpha) || !g1(h, beta1) || !g2(h, k.beta) || !g2(h, k.gamma) || !g1(h, delta1) ||
      !g2(h, k.delta))
    return std::string("section 2: truncated key points");
  Reader ics(s.ic);
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

std::variant<std::vector<ZkeyContribution>, std::string> read_zkey_contributions(
    std::string_view zkey) {
  auto mpc = read_mpc(zkey);
  if (auto* why = std::get_if<std::string>(&mpc)) return std::move(*why);
  return std::move(std::get<MpcRecord>(mpc).contributions);
}

namespace {

const boost::json::string* string_member(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? &v->get_string() : nullptr;
}

/// "8041f5b0..." for a long hex value in a reason; short values whole.
std::string abbreviated(std::string_view hex_value) {
  constexpr std::size_t kShown = 16;
  return hex_value.size() <= kShown ? std::string(hex_value)
                                    : std::string(hex_value.substr(0, kShown)) + "...";
}

/// What differs between the transcript's record `t` of contribution `index` and the zkey's `z`.
std::optional<std::string> record_mismatch(const boost::json::value& t, const ZkeyContribution& z,
                                           std::size_t index) {
  const std::string where = "contribution " + std::to_string(index) + ": ";
  if (!t.is_object()) return where + "the transcript's record is not an object";
  const boost::json::object& o = t.get_object();
  const std::string_view zkind = z.type == 1 ? "beacon" : "contribution";
  const auto* kind = string_member(o, "kind");
  if (!kind || *kind != zkind) {
    std::string why = where + "the transcript's kind is ";
    if (kind) {
      why.append("\"").append(kind->data(), kind->size()).append("\"");
    } else {
      why.append("missing");
    }
    return why.append(", the zkey records a ").append(zkind);
  }
  const auto* name = string_member(o, "name");
  if (!name || *name != z.name) {
    return where + "its name differs from the zkey's (the zkey records \"" + z.name + "\")";
  }
  const auto* hash = string_member(o, "hash");
  if (!hash || *hash != z.hash_hex) {
    return where + "its hash differs from the zkey's (the zkey records " + abbreviated(z.hash_hex) +
           ")";
  }
  const auto* beacon = string_member(o, "beacon");
  if (o.contains("beacon") && !beacon) return where + "the transcript's beacon is not a string";
  if ((beacon ? std::string_view(*beacon) : std::string_view()) != z.beacon_hex) {
    return where + "its beacon hash differs from the zkey's (the zkey records " +
           (z.beacon_hex.empty() ? std::string("none") : abbreviated(z.beacon_hex)) + ")";
  }
  const auto* iterations = o.if_contains("iterations_exp");
  const bool same_iterations =
      iterations ? iterations->is_int64() && iterations->get_int64() == z.iterations_exp
                 : z.iterations_exp < 0;
  if (!same_iterations) {
    return where + "its iterations_exp differs from the zkey's (the zkey records " +
           (z.iterations_exp < 0 ? std::string("none") : std::to_string(z.iterations_exp)) + ")";
  }
  // Checked last: a record out of place is better named by what it holds than by its number.
  if (const auto* i = o.if_contains("index");
      i && !(i->is_int64() && i->get_int64() == static_cast<std::int64_t>(index))) {
    return where + "the transcript numbers it " + boost::json::serialize(*i);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> transcript_zkey_mismatch(const boost::json::object& transcript,
                                                    std::string_view zkey) {
  if (const auto* format = string_member(transcript, "format");
      !format || *format != kTranscriptFormat) {
    return "the transcript's format is not \"" + std::string(kTranscriptFormat) + "\"";
  }
  const std::string zkey_sha256 = hex(sha256(zkey));
  if (const auto* final_sha = string_member(transcript, "final_zkey_sha256");
      !final_sha || *final_sha != zkey_sha256) {
    return "the transcript's final_zkey_sha256 is not the zkey's SHA-256 " + zkey_sha256;
  }
  auto mpc = read_mpc(zkey);
  if (const auto* why = std::get_if<std::string>(&mpc)) return *why;
  const MpcRecord& record = std::get<MpcRecord>(mpc);
  if (const auto* circuit = string_member(transcript, "circuit_hash");
      !circuit || *circuit != record.cs_hash_hex) {
    return "the transcript's circuit_hash differs from the zkey's (the zkey records " +
           abbreviated(record.cs_hash_hex) + ")";
  }
  const auto* listed = transcript.if_contains("contributions");
  if (!listed || !listed->is_array())
    return std::string("the transcript has no contributions array");
  const boost::json::array& records = listed->get_array();
  const auto& zkeys = record.contributions;
  if (records.size() != zkeys.size()) {
    return "the transcript lists " + std::to_string(records.size()) +
           " contributions, the zkey records " + std::to_string(zkeys.size());
  }
  for (std::size_t i = 0; i < zkeys.size(); ++i) {
    if (auto why = record_mismatch(records[i], zkeys[i], i + 1)) return why;
  }
  return std::nullopt;
}

}  // namespace pg::core
