// Release signatures of circuit manifests (see release_signature.hpp). Ed25519 through OpenSSL's
// EVP interface (RFC 8032 pure Ed25519: EVP_DigestVerify with no digest), as src/feed does.
#include "core/release_signature.hpp"

#include <openssl/evp.h>

#include <boost/json.hpp>
#include <memory>
#include <stdexcept>

#include "core/secrets.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {
struct PkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

bool is_hex16(std::string_view s) noexcept {
  if (s.size() != 16) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}
}  // namespace

std::string manifest_signing_text(std::string_view manifest_bytes) {
  std::string text(kManifestSigningPrefix);
  text += manifest_bytes;
  return text;
}

std::string release_key_id(std::string_view raw_public_key) {
  return hex(sha256(raw_public_key)).substr(0, 16);
}

crypto::Result<ReleaseKey, std::string> release_key_of(std::string_view public_key_b64) {
  const auto raw = base64url_decode(public_key_b64);
  if (!raw || raw->size() != 32) {
    return std::string("is not base64url (no padding) of a raw 32-byte Ed25519 public key");
  }
  return ReleaseKey{release_key_id(*raw), std::string(public_key_b64)};
}

crypto::Result<std::vector<ReleaseKey>, std::string> parse_release_keys(std::string_view list) {
  std::vector<ReleaseKey> keys;
  if (trimmed(list).empty()) return keys;
  std::size_t n = 0;
  while (true) {
    const auto comma = list.find(',');
    const std::string item = trimmed(list.substr(0, comma));
    ++n;
    auto key = release_key_of(item);
    if (!key) return "key " + std::to_string(n) + ": " + key.error();
    for (const auto& k : keys) {
      if (k.key_id == key->key_id) return "key " + std::to_string(n) + ": is listed twice";
    }
    keys.push_back(*key);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return keys;
}

crypto::Result<ManifestSignature, std::string> parse_manifest_signature(std::string_view text) {
  auto doc = crypto::snarkjs::parse_json(text, "manifest.sig");
  if (!doc || !doc->is_object()) return std::string("is not a JSON object");
  const json::object& o = doc->get_object();
  for (const auto& m : o) {
    if (m.key() != "alg" && m.key() != "key_id" && m.key() != "signature") {
      return std::string(m.key()) + ": is not a member of manifest.sig";
    }
  }
  ManifestSignature sig;
  for (auto [name, out] : {std::pair{"alg", &sig.alg}, std::pair{"key_id", &sig.key_id},
                           std::pair{"signature", &sig.signature}}) {
    const auto* v = o.if_contains(name);
    if (!v) return std::string(name) + ": is required";
    if (!v->is_string()) return std::string(name) + ": must be a string";
    *out = std::string(v->get_string());
  }
  if (sig.alg != "Ed25519") return std::string("alg: must be \"Ed25519\"");
  if (!is_hex16(sig.key_id)) return std::string("key_id: must be 16 lowercase hex digits");
  const auto raw = base64url_decode(sig.signature);
  if (!raw || raw->size() != 64) return std::string("signature: is not base64url of 64 bytes");
  return sig;
}

std::string manifest_signature_json(std::string_view key_id, std::string_view signature_b64) {
  return json::serialize(
             json::object{{"alg", "Ed25519"}, {"key_id", key_id}, {"signature", signature_b64}}) +
         "\n";
}

bool verify_ed25519_raw(std::string_view public_key, std::string_view message,
                        std::string_view signature) noexcept {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  const std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()), 32));
  const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!key || !ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), 64,
                          reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

bool verify_ed25519(std::string_view public_key_b64, std::string_view message,
                    std::string_view signature_b64) noexcept {
  try {
    const auto raw = base64url_decode(public_key_b64);
    const auto sig = base64url_decode(signature_b64);
    return raw && sig && verify_ed25519_raw(*raw, message, *sig);
  } catch (...) {  // allocation failure: not verified
    return false;
  }
}

crypto::Result<std::string, SignatureError> check_manifest_signature(
    std::string_view manifest_bytes, const std::optional<std::string>& signature_text,
    std::span<const ReleaseKey> keys) {
  if (!signature_text) {
    return SignatureError{SignatureRefusal::kMissing,
                          "missing: the version is not signed with a release key, and "
                          "release_public_keys is set"};
  }
  auto sig = parse_manifest_signature(*signature_text);
  if (!sig) return SignatureError{SignatureRefusal::kMalformed, sig.error()};
  for (const ReleaseKey& key : keys) {
    if (key.key_id != sig->key_id) continue;
    if (!verify_ed25519(key.public_key, manifest_signing_text(manifest_bytes), sig->signature)) {
      return SignatureError{SignatureRefusal::kBadSignature,
                            "the signature does not verify under release key " + key.key_id +
                                " (manifest.json or manifest.sig was changed after signing)"};
    }
    return key.key_id;
  }
  std::string trusted;
  for (const ReleaseKey& key : keys) trusted += (trusted.empty() ? "" : ", ") + key.key_id;
  return SignatureError{
      SignatureRefusal::kUnknownKey,
      "key_id " + sig->key_id + " is not a trusted release key (" + trusted + ")"};
}

std::string require_release_signature(const ArtifactSource& source, std::string_view claim_type,
                                      std::string_view version, std::string_view manifest_bytes,
                                      std::span<const ReleaseKey> keys) {
  if (keys.empty()) return {};
  const auto text =
      source.read(claim_type, version, kManifestSignatureFile, kMaxManifestSignatureBytes);
  auto key_id = check_manifest_signature(manifest_bytes, text, keys);
  if (!key_id) {
    throw std::runtime_error(source.describe(claim_type, version, kManifestSignatureFile) +
                             ": refused: " + std::string(claim_type) + " " + std::string(version) +
                             ": " + key_id.error().message);
  }
  return *key_id;
}

}  // namespace pg::core
