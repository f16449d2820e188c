// Release signatures of manifests (core/release_signature.hpp): the RFC 8032 vector, the sign →
// verify round trip with the key type `proofgate release` signs with, and every refusal: a
// flipped byte in the manifest or the signature, a wrong key, an unknown key id, a missing or
// malformed manifest.sig (naming the member), and the catalog's hook refusing an unsigned version.
#include "core/release_signature.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "core/catalog.hpp"
#include "core/secrets.hpp"
#include "feed/root_feed.hpp"

namespace pg::core {
namespace {

const std::string kManifest =
    R"({"claim_type":"age_over_18","version":"1.0.0","sha256":{"circuit.wasm":"00"}})"
    "\n";

/// A manifest.sig for `manifest` signed by `key`.
std::string signed_by(const feed::SigningKey& key, std::string_view manifest) {
  return manifest_signature_json(key.key_id(), key.sign(manifest_signing_text(manifest)));
}

std::vector<ReleaseKey> trusting(const feed::SigningKey& key) {
  auto k = release_key_of(key.public_key_b64());
  EXPECT_TRUE(k.ok());
  return {*k};
}

std::string hex_to_bytes(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<char>(hex_digit_value(h[i]) * 16 + hex_digit_value(h[i + 1])));
  }
  return out;
}

TEST(ReleaseSignatureTest, verifies_the_rfc8032_test_1_vector) {
  // RFC 8032 §7.1, TEST 1 (empty message).
  const std::string pk =
      base64url(hex_to_bytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  const std::string sig = base64url(hex_to_bytes(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701c"
      "f9b46bd25bf5f0595bbe24655141438e7a100b"));
  EXPECT_TRUE(verify_ed25519(pk, "", sig));
  EXPECT_FALSE(verify_ed25519(pk, "x", sig));
}

TEST(ReleaseSignatureTest, signing_text_is_the_prefix_then_the_exact_manifest_bytes) {
  EXPECT_EQ(manifest_signing_text("{}\n"), "proofgate.manifest.v1\n{}\n");
}

TEST(ReleaseSignatureTest, round_trip_names_the_key_that_signed) {
  const auto key = feed::SigningKey::generate();
  const auto keys = trusting(key);
  auto ok = check_manifest_signature(kManifest, signed_by(key, kManifest), keys);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, key.key_id());
  EXPECT_EQ(keys[0].key_id, release_key_id(key.public_key_raw()));
}

TEST(ReleaseSignatureTest, refuses_a_manifest_with_any_byte_flipped) {
  const auto key = feed::SigningKey::generate();
  const auto keys = trusting(key);
  const std::string sig = signed_by(key, kManifest);
  for (std::size_t i = 0; i < kManifest.size(); ++i) {
    std::string changed = kManifest;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    auto r = check_manifest_signature(changed, sig, keys);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.error().reason, SignatureRefusal::kBadSignature);
    EXPECT_NE(r.error().message.find("does not verify under release key " + key.key_id()),
              std::string::npos)
        << r.error().message;
  }
}

TEST(ReleaseSignatureTest, refuses_a_signature_with_a_byte_flipped) {
  const auto key = feed::SigningKey::generate();
  const auto keys = trusting(key);
  auto raw = *base64url_decode(key.sign(manifest_signing_text(kManifest)));
  for (const std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
    std::string changed = raw;
    changed[i] = static_cast<char>(changed[i] ^ 0x80);
    auto r = check_manifest_signature(
        kManifest, manifest_signature_json(key.key_id(), base64url(changed)), keys);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.error().reason, SignatureRefusal::kBadSignature);
  }
}

TEST(ReleaseSignatureTest, refuses_a_signature_by_another_key_under_a_trusted_key_id) {
  const auto trusted = feed::SigningKey::generate();
  const auto other = feed::SigningKey::generate();
  // Another key's signature presented with the trusted key's id.
  const std::string forged =
      manifest_signature_json(trusted.key_id(), other.sign(manifest_signing_text(kManifest)));
  auto r = check_manifest_signature(kManifest, forged, trusting(trusted));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, SignatureRefusal::kBadSignature);
}

TEST(ReleaseSignatureTest, refuses_a_key_id_that_is_not_trusted_naming_both) {
  const auto trusted = feed::SigningKey::generate();
  const auto other = feed::SigningKey::generate();
  auto r = check_manifest_signature(kManifest, signed_by(other, kManifest), trusting(trusted));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, SignatureRefusal::kUnknownKey);
  EXPECT_EQ(r.error().message, "key_id " + other.key_id() + " is not a trusted release key (" +
                                   trusted.key_id() + ")");
}

TEST(ReleaseSignatureTest, refuses_a_missing_signature) {
  const auto key = feed::SigningKey::generate();
  auto r = check_manifest_signature(kManifest, std::nullopt, trusting(key));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, SignatureRefusal::kMissing);
}

TEST(ReleaseSignatureTest, refuses_a_malformed_signature_file_naming_the_member) {
  const auto key = feed::SigningKey::generate();
  const std::string id = key.key_id();
  const std::string sig = key.sign(manifest_signing_text(kManifest));
  const std::map<std::string, std::string> cases{
      {"not json", "is not a JSON object"},
      {"[]", "is not a JSON object"},
      {R"({"key_id":")" + id + R"(","signature":")" + sig + R"("})", "alg: is required"},
      {R"({"alg":"RS256","key_id":")" + id + R"(","signature":")" + sig + R"("})",
       "alg: must be \"Ed25519\""},
      {R"({"alg":"Ed25519","signature":")" + sig + R"("})", "key_id: is required"},
      {R"({"alg":"Ed25519","key_id":"ABCDEF0123456789","signature":")" + sig + R"("})",
       "key_id: must be 16 lowercase hex digits"},
      {R"({"alg":"Ed25519","key_id":")" + id + R"("})", "signature: is required"},
      {R"({"alg":"Ed25519","key_id":")" + id + R"(","signature":7})",
       "signature: must be a string"},
      {R"({"alg":"Ed25519","key_id":")" + id + R"(","signature":")" + sig.substr(4) + R"("})",
       "signature: is not base64url of 64 bytes"},
      {R"({"alg":"Ed25519","key_id":")" + id + R"(","signature":")" + sig + R"(","x":1})",
       "x: is not a member of manifest.sig"},
  };
  for (const auto& [text, message] : cases) {
    auto r = check_manifest_signature(kManifest, text, trusting(key));
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().reason, SignatureRefusal::kMalformed) << text;
    EXPECT_EQ(r.error().message, message) << text;
  }
}

TEST(ReleaseSignatureTest, parses_the_release_public_keys_setting) {
  const auto a = feed::SigningKey::generate();
  const auto b = feed::SigningKey::generate();
  auto none = parse_release_keys(" ");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto two = parse_release_keys(a.public_key_b64() + ", " + b.public_key_b64());
  ASSERT_TRUE(two.ok()) << two.error();
  ASSERT_EQ(two->size(), 2U);
  EXPECT_EQ((*two)[1].key_id, b.key_id());
  auto bad = parse_release_keys(a.public_key_b64() + ",AAAA");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(),
            "key 2: is not base64url (no padding) of a raw 32-byte Ed25519 public key");
  auto twice = parse_release_keys(a.public_key_b64() + "," + a.public_key_b64());
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error(), "key 2: is listed twice");
}

/// Files of versions in memory.
class Files final : public ArtifactSource {
 public:
  std::map<std::string, std::string> files;  // "claim/version/file" -> bytes
  std::vector<std::pair<std::string, std::string>> versions() const override {
    return {{"age_over_18", "1.0.0"}};
  }
  std::optional<std::string> read(std::string_view claim, std::string_view version,
                                  std::string_view file, std::size_t) const override {
    const auto it = files.find(describe(claim, version, file));
    if (it == files.end()) return std::nullopt;
    return it->second;
  }
  std::string describe(std::string_view claim, std::string_view version,
                       std::string_view file) const override {
    return std::string(claim) + "/" + std::string(version) + "/" + std::string(file);
  }
};

std::string refusal_of(const Files& source, const KeyPolicy& policy) {
  try {
    (void)CircuitCatalog::load(source, policy);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "loaded";
}

TEST(ReleaseSignatureTest, catalog_refuses_an_unsigned_or_badly_signed_version_with_keys_set) {
  const auto key = feed::SigningKey::generate();
  Files source;
  source.files["age_over_18/1.0.0/manifest.json"] = kManifest;
  const KeyPolicy policy{.allow_development_keys = true, .release_keys = trusting(key)};
  EXPECT_EQ(refusal_of(source, policy),
            "age_over_18/1.0.0/manifest.sig: refused: age_over_18 1.0.0: missing: the version is "
            "not signed with a release key, and release_public_keys is set");
  source.files["age_over_18/1.0.0/manifest.sig"] = signed_by(key, kManifest + " ");
  EXPECT_EQ(refusal_of(source, policy),
            "age_over_18/1.0.0/manifest.sig: refused: age_over_18 1.0.0: the signature does not "
            "verify under release key " +
                key.key_id() + " (manifest.json or manifest.sig was changed after signing)");
  // Signed: the signature passes and the catalog goes on to the manifest's own checks (this
  // one has no public_signals).
  source.files["age_over_18/1.0.0/manifest.sig"] = signed_by(key, kManifest);
  EXPECT_EQ(refusal_of(source, policy),
            "age_over_18/1.0.0/manifest.json: missing member public_signals");
  // Without release keys, signatures are not looked at.
  source.files.erase("age_over_18/1.0.0/manifest.sig");
  EXPECT_EQ(refusal_of(source, KeyPolicy{.allow_development_keys = true}),
            "age_over_18/1.0.0/manifest.json: missing member public_signals");
}

}  // namespace
}  // namespace pg::core
