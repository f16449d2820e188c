// The signed root feed: signing text, Ed25519 through OpenSSL's EVP interface (RFC 8032 pure
// Ed25519: EVP_DigestSign with no digest), strict decoding and the chain rules.
#include "feed/root_feed.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "core/secrets.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::feed {
namespace json = boost::json;

namespace {

/// What a member decoder says is wrong (a distinct type: members are strings themselves).
struct Problem {
  std::string what;
};
template <class T>
using R = crypto::Result<T, Problem>;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

EVP_PKEY* as_pkey(void* p) {
  return static_cast<EVP_PKEY*>(p);
}

bool is_hex16(std::string_view s) {
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

/// A canonical unsigned integer of at most 2^53 - 1 (what every JSON reader keeps exactly).
R<std::uint64_t> uint_member(const json::object& o, std::string_view name, std::uint64_t min) {
  const auto* v = o.if_contains(name);
  if (!v) return Problem{std::string(name) + ": is required"};
  std::uint64_t n = 0;
  if (v->is_uint64()) {
    n = v->as_uint64();
  } else if (v->is_int64() && v->as_int64() >= 0) {
    n = static_cast<std::uint64_t>(v->as_int64());
  } else {
    return Problem{std::string(name) + ": must be a non-negative integer"};
  }
  if (n > (std::uint64_t{1} << 53) - 1) return Problem{std::string(name) + ": is too large"};
  if (n < min) return Problem{std::string(name) + ": must be at least " + std::to_string(min)};
  return n;
}

R<std::string> string_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v) return Problem{std::string(name) + ": is required"};
  if (!v->is_string()) return Problem{std::string(name) + ": must be a string"};
  return std::string(v->as_string());
}

R<std::string> field_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v) return Problem{std::string(name) + ": is required"};
  auto fr = crypto::snarkjs::fr_from_decimal(*v, std::string(name));
  if (!fr) return Problem{std::string(name) + ": is not a canonical field element"};
  return std::string(v->as_string());
}

bool valid_public_key(std::string_view b64) {
  const auto raw = core::base64url_decode(b64);
  return raw && raw->size() == 32;
}

R<KeyAnnouncement> announcement_from_json(const json::value& v) {
  if (!v.is_object()) return Problem{std::string("next_key: must be an object")};
  const auto& o = v.as_object();
  for (const auto& m : o) {
    if (m.key() != "key_id" && m.key() != "public_key" && m.key() != "previous_valid_until") {
      return Problem{"next_key." + std::string(m.key()) +
                     ": is not a member of a key announcement"};
    }
  }
  KeyAnnouncement a;
  auto id = string_member(o, "key_id");
  if (!id) return Problem{"next_key." + id.error().what};
  a.key_id = *id;
  auto pk = string_member(o, "public_key");
  if (!pk) return Problem{"next_key." + pk.error().what};
  a.public_key = *pk;
  auto until = uint_member(o, "previous_valid_until", 0);
  if (!until) return Problem{"next_key." + until.error().what};
  a.previous_valid_until = static_cast<std::int64_t>(*until);
  if (!valid_public_key(a.public_key)) {
    return Problem{std::string("next_key.public_key: is not base64url of 32 bytes")};
  }
  if (!is_hex16(a.key_id) || a.key_id != key_id_of(*core::base64url_decode(a.public_key))) {
    return Problem{std::string("next_key.key_id: is not the key id of next_key.public_key")};
  }
  return a;
}

}  // namespace

std::string signing_text(const FeedEntry& e) {
  std::string t = "proofgate.root-feed.v1\n";
  t += std::to_string(e.issuer_id) + "\n" + std::to_string(e.seq) + "\n" + e.root + "\n" +
       e.prev_root + "\n" + std::to_string(e.leaf_count) + "\n" + std::to_string(e.issued_at) +
       "\n" + e.key_id + "\n";
  if (e.next_key) {
    t += e.next_key->key_id + "\n" + e.next_key->public_key + "\n" +
         std::to_string(e.next_key->previous_valid_until);
  } else {
    t += "\n\n";
  }
  return t;
}

json::object to_json(const FeedEntry& e) {
  json::object o{{"issuer_id", e.issuer_id},
                 {"seq", e.seq},
                 {"root", e.root},
                 {"prev_root", e.prev_root},
                 {"leaf_count", e.leaf_count},
                 {"issued_at", e.issued_at},
                 {"key_id", e.key_id},
                 {"signature", e.signature}};
  if (e.next_key) {
    o["next_key"] = json::object{{"key_id", e.next_key->key_id},
                                 {"public_key", e.next_key->public_key},
                                 {"previous_valid_until", e.next_key->previous_valid_until}};
  }
  return o;
}

crypto::Result<FeedEntry, std::string> entry_from_json(const json::value& value) {
  if (!value.is_object()) return std::string("entry: must be an object");
  const auto& o = value.as_object();
  static constexpr std::string_view kMembers[] = {"issuer_id", "seq",        "root",
                                                  "prev_root", "leaf_count", "issued_at",
                                                  "key_id",    "signature",  "next_key"};
  for (const auto& m : o) {
    if (std::find(std::begin(kMembers), std::end(kMembers), m.key()) == std::end(kMembers)) {
      return std::string(m.key()) + ": is not a member of a feed entry";
    }
  }
  FeedEntry e;
  auto issuer = uint_member(o, "issuer_id", 1);
  if (!issuer) return issuer.error().what;
  if (*issuer > 0xffffffffu) return std::string("issuer_id: is too large");
  e.issuer_id = static_cast<std::uint32_t>(*issuer);
  auto seq = uint_member(o, "seq", 1);
  if (!seq) return seq.error().what;
  e.seq = *seq;
  auto root = field_member(o, "root");
  if (!root) return root.error().what;
  e.root = *root;
  auto prev = field_member(o, "prev_root");
  if (!prev) return prev.error().what;
  e.prev_root = *prev;
  auto count = uint_member(o, "leaf_count", 0);
  if (!count) return count.error().what;
  e.leaf_count = *count;
  auto at = uint_member(o, "issued_at", 0);
  if (!at) return at.error().what;
  e.issued_at = static_cast<std::int64_t>(*at);
  auto key_id = string_member(o, "key_id");
  if (!key_id) return key_id.error().what;
  if (!is_hex16(*key_id)) return std::string("key_id: must be 16 lowercase hex digits");
  e.key_id = *key_id;
  auto sig = string_member(o, "signature");
  if (!sig) return sig.error().what;
  const auto raw_sig = core::base64url_decode(*sig);
  if (!raw_sig || raw_sig->size() != 64) {
    return std::string("signature: is not base64url of 64 bytes");
  }
  e.signature = *sig;
  if (const auto* nk = o.if_contains("next_key")) {
    auto a = announcement_from_json(*nk);
    if (!a) return a.error().what;
    e.next_key = *a;
  }
  return e;
}

crypto::Result<std::vector<FeedEntry>, std::string> parse_feed_answer(std::string_view body,
                                                                      std::uint32_t issuer_id) {
  auto doc = crypto::snarkjs::parse_json(body, "feed");
  if (!doc) return std::string("feed: is not JSON");
  if (!doc->is_object()) return std::string("feed: must be an object");
  const auto& o = doc->as_object();
  for (const auto& m : o) {
    if (m.key() != "issuer_id" && m.key() != "entries") {
      return "feed." + std::string(m.key()) + ": is not a member of a feed answer";
    }
  }
  auto issuer = uint_member(o, "issuer_id", 1);
  if (!issuer) return "feed." + issuer.error().what;
  if (*issuer != issuer_id) {
    return "feed.issuer_id: " + std::to_string(*issuer) + " is not issuer " +
           std::to_string(issuer_id);
  }
  const auto* entries = o.if_contains("entries");
  if (!entries || !entries->is_array()) return std::string("feed.entries: must be an array");
  if (entries->as_array().size() > kMaxEntriesPerAnswer) {
    return std::string("feed.entries: more than ") + std::to_string(kMaxEntriesPerAnswer);
  }
  std::vector<FeedEntry> out;
  out.reserve(entries->as_array().size());
  for (std::size_t i = 0; i < entries->as_array().size(); ++i) {
    auto e = entry_from_json(entries->as_array()[i]);
    if (!e) return "feed.entries[" + std::to_string(i) + "]." + e.error();
    out.push_back(std::move(*e));
  }
  return out;
}

std::string key_id_of(std::string_view raw_public_key) {
  const auto digest = core::sha256(raw_public_key);
  return core::hex(std::span(digest).first(8));
}

SigningKey::SigningKey(SigningKey&& o) noexcept : pkey_(std::exchange(o.pkey_, nullptr)) {}
SigningKey& SigningKey::operator=(SigningKey&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(as_pkey(pkey_));
    pkey_ = std::exchange(o.pkey_, nullptr);
  }
  return *this;
}
SigningKey::~SigningKey() {
  EVP_PKEY_free(as_pkey(pkey_));
}

SigningKey SigningKey::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) throw std::runtime_error("cannot generate an Ed25519 key");
  return SigningKey(key);
}

crypto::Result<SigningKey, std::string> SigningKey::load(const std::filesystem::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return file.string() + ": cannot open";
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!key) return file.string() + ": is not a PEM private key";
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return file.string() + ": is not an Ed25519 key";
  }
  return SigningKey(key);
}

void SigningKey::save(const std::filesystem::path& file) const {
  const auto tmp = file.string() + ".tmp";
  const mode_t old = ::umask(077);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  ::umask(old);
  if (!f) throw std::runtime_error(tmp + ": cannot write");
  const bool ok = PEM_write_PrivateKey(f, as_pkey(pkey_), nullptr, nullptr, 0, nullptr, nullptr);
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed || ::chmod(tmp.c_str(), 0600) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error(tmp + ": cannot write the key");
  }
  std::filesystem::rename(tmp, file);
}

std::string SigningKey::public_key_raw() const {
  std::string raw(32, '\0');
  std::size_t n = raw.size();
  if (EVP_PKEY_get_raw_public_key(as_pkey(pkey_), reinterpret_cast<unsigned char*>(raw.data()),
                                  &n) != 1 ||
      n != 32) {
    throw std::runtime_error("cannot read the Ed25519 public key");
  }
  return raw;
}

std::string SigningKey::public_key_b64() const {
  return core::base64url(public_key_raw());
}

std::string SigningKey::key_id() const {
  return key_id_of(public_key_raw());
}

std::string SigningKey::sign(std::string_view text) const {
  MdCtx ctx(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  std::size_t n = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, as_pkey(pkey_)) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n,
                     reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1 ||
      n != 64) {
    throw std::runtime_error("Ed25519 signing failed");
  }
  return core::base64url(sig);
}

bool verify_signature(std::string_view public_key_b64, std::string_view text,
                      std::string_view signature_b64) noexcept {
  const auto raw = core::base64url_decode(public_key_b64);
  const auto sig = core::base64url_decode(signature_b64);
  if (!raw || raw->size() != 32 || !sig || sig->size() != 64) return false;
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(raw->data()), 32));
  MdCtx ctx(EVP_MD_CTX_new());
  if (!key || !ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), 64,
                          reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
}

std::string_view refusal_name(Refusal r) noexcept {
  switch (r) {
    case Refusal::kWrongIssuer:
      return "wrong_issuer";
    case Refusal::kUnknownKey:
      return "unknown_key";
    case Refusal::kKeyRetired:
      return "key_retired";
    case Refusal::kBadSignature:
      return "bad_signature";
    case Refusal::kGap:
      return "gap";
    case Refusal::kReplay:
      return "replay";
    case Refusal::kFork:
      return "fork";
    case Refusal::kRootReused:
      return "root_reused";
    case Refusal::kTimeBackwards:
      return "time_backwards";
    case Refusal::kMalformed:
      return "malformed";
  }
  return "malformed";
}

void ChainState::resume(std::uint64_t seq, std::string root, std::int64_t issued_at) {
  seq_ = seq;
  root_ = std::move(root);
  issued_at_ = issued_at;
}

ChainState::Verdict ChainState::accept(const FeedEntry& e, bool root_seen_before) {
  auto refuse = [](Refusal r, std::string detail) { return Verdict{r, std::move(detail)}; };
  const std::string at = "entry seq " + std::to_string(e.seq) + ": ";
  if (e.issuer_id != issuer_id_) {
    return refuse(Refusal::kWrongIssuer, at + "names issuer " + std::to_string(e.issuer_id));
  }
  const auto key = std::find_if(keys_.begin(), keys_.end(),
                                [&](const TrustedKey& k) { return k.key_id == e.key_id; });
  if (key == keys_.end())
    return refuse(Refusal::kUnknownKey, at + "key " + e.key_id + " is not trusted");
  // The signature first: nothing an unsigned entry says is believed, not even its seq.
  if (!verify_signature(key->public_key, signing_text(e), e.signature)) {
    return refuse(Refusal::kBadSignature, at + "the signature does not verify under " + e.key_id);
  }
  if (key->valid_until != 0 && e.issued_at > key->valid_until) {
    return refuse(Refusal::kKeyRetired, at + "key " + e.key_id + " was retired");
  }
  if (e.seq <= seq_) {
    return refuse(Refusal::kReplay,
                  at + "is at or below the last accepted seq " + std::to_string(seq_));
  }
  if (e.seq != seq_ + 1) {
    return refuse(Refusal::kGap, at + "skips from seq " + std::to_string(seq_));
  }
  if (e.prev_root != root_) {
    return refuse(Refusal::kFork, at + "prev_root is not the last accepted root");
  }
  if (root_seen_before || e.root == root_) {
    return refuse(Refusal::kRootReused, at + "root was a root of this issuer before");
  }
  if (e.issued_at < issued_at_) {
    return refuse(Refusal::kTimeBackwards, at + "issued_at goes backwards");
  }
  if (e.next_key && e.next_key->previous_valid_until < e.issued_at) {
    return refuse(Refusal::kMalformed,
                  at + "next_key.previous_valid_until is before the announcing entry");
  }
  if (e.next_key && key->valid_until != 0) {
    return refuse(
        Refusal::kKeyRetired,
        at + "key " + e.key_id + " already announced its successor; it announces no other");
  }
  if (e.next_key && e.next_key->key_id == e.key_id) {
    return refuse(Refusal::kMalformed, at + "next_key announces the signing key itself");
  }
  seq_ = e.seq;
  root_ = e.root;
  issued_at_ = e.issued_at;
  if (e.next_key) {
    const auto signer = std::find_if(keys_.begin(), keys_.end(),
                                     [&](const TrustedKey& k) { return k.key_id == e.key_id; });
    // A retirement only ever comes sooner: a later announcement cannot extend it.
    const std::int64_t until = e.next_key->previous_valid_until;
    signer->valid_until = signer->valid_until == 0 ? until : std::min(signer->valid_until, until);
    if (std::none_of(keys_.begin(), keys_.end(),
                     [&](const TrustedKey& k) { return k.key_id == e.next_key->key_id; })) {
      keys_.push_back({e.next_key->key_id, e.next_key->public_key, 0});
    }
  }
  return {};
}

}  // namespace pg::feed
