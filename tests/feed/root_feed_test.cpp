// The signed root feed: Ed25519 against RFC 8032's vector, the signing text, strict decoding,
// every chain rule a follower applies (docs/issuers.md), and the `issuer_feeds` setting.
#include "feed/root_feed.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "core/secrets.hpp"
#include "feed/follower.hpp"

namespace pg::feed {
namespace {

std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(
        static_cast<char>(core::hex_digit_value(h[i]) * 16 + core::hex_digit_value(h[i + 1])));
  }
  return out;
}

// RFC 8032 §7.1, TEST 1 (empty message).
TEST(Ed25519, Rfc8032Test1Verifies) {
  const std::string pk =
      core::base64url(unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  const std::string sig = core::base64url(
      unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
            "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
  EXPECT_TRUE(verify_signature(pk, "", sig));
  EXPECT_FALSE(verify_signature(pk, "x", sig));
}

TEST(Base64Url, StrictDecoding) {
  EXPECT_EQ(core::base64url_decode("AQID"), std::string("\x01\x02\x03"));
  EXPECT_EQ(core::base64url_decode(core::base64url("hello!!")), std::string("hello!!"));
  EXPECT_FALSE(core::base64url_decode("AQI="));  // padding
  EXPECT_FALSE(core::base64url_decode("A"));     // a lone character
  EXPECT_FALSE(core::base64url_decode("AR"));    // unused bits set: not canonical
  EXPECT_FALSE(core::base64url_decode("a+b/"));  // standard alphabet
}

struct Issuer {
  SigningKey key = SigningKey::generate();
  std::uint32_t id = 1;
  std::uint64_t seq = 0;
  std::string root = "0";
  std::int64_t at = 1000;

  FeedEntry next(std::string new_root, std::optional<KeyAnnouncement> announce = std::nullopt) {
    FeedEntry e{id, ++seq, new_root, root, seq - 1, at += 10, key.key_id(), "", announce};
    e.signature = key.sign(signing_text(e));
    root = new_root;
    return e;
  }
  std::vector<TrustedKey> trust() const { return {{key.key_id(), key.public_key_b64(), 0}}; }
};

TEST(FeedEntry, JsonRoundTripAndSigningText) {
  Issuer is;
  const FeedEntry e = is.next("5");
  const auto back = entry_from_json(to_json(e));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, e);
  EXPECT_EQ(signing_text(e), "proofgate.root-feed.v1\n1\n1\n5\n0\n0\n1010\n" + e.key_id + "\n\n\n");
}

TEST(FeedEntry, StrictDecodingNamesTheMember) {
  Issuer is;
  const auto good = to_json(is.next("5"));
  auto with = [&](std::string_view k, boost::json::value v) {
    auto o = good;
    o[k] = std::move(v);
    return entry_from_json(o);
  };
  EXPECT_EQ(with("extra", 1).error(), "extra: is not a member of a feed entry");
  EXPECT_EQ(with("root", "05").error(), "root: is not a canonical field element");
  EXPECT_EQ(with("root", 5).error(), "root: is not a canonical field element");
  EXPECT_EQ(with("seq", 0).error(), "seq: must be at least 1");
  EXPECT_EQ(with("seq", -1).error(), "seq: must be a non-negative integer");
  EXPECT_EQ(with("key_id", "ABCDEF0123456789").error(), "key_id: must be 16 lowercase hex digits");
  EXPECT_EQ(with("signature", "AAAA").error(), "signature: is not base64url of 64 bytes");
  EXPECT_EQ(
      with("root", "21888242871839275222246405745257275088548364400416034343698204186575808495617")
          .error(),
      "root: is not a canonical field element");
  auto missing = good;
  missing.erase("prev_root");
  EXPECT_EQ(entry_from_json(missing).error(), "prev_root: is required");
}

TEST(FeedAnswer, RefusesAnotherIssuerAndTooManyEntries) {
  Issuer is;
  boost::json::array entries{to_json(is.next("5"))};
  const auto body =
      boost::json::serialize(boost::json::object{{"issuer_id", 1}, {"entries", entries}});
  ASSERT_TRUE(parse_feed_answer(body, 1));
  EXPECT_EQ(parse_feed_answer(body, 2).error(), "feed.issuer_id: 1 is not issuer 2");
  EXPECT_EQ(parse_feed_answer("{", 1).error(), "feed: is not JSON");
  boost::json::array many(kMaxEntriesPerAnswer + 1, to_json(is.next("6")));
  EXPECT_EQ(parse_feed_answer(
                boost::json::serialize(boost::json::object{{"issuer_id", 1}, {"entries", many}}), 1)
                .error(),
            "feed.entries: more than 500");
}

TEST(Chain, AcceptsAChainAndRefusesEachBreak) {
  Issuer is;
  ChainState chain(1, is.trust());
  EXPECT_FALSE(chain.accept(is.next("11"), false).refusal);
  const FeedEntry second = is.next("12");
  EXPECT_FALSE(chain.accept(second, false).refusal);
  EXPECT_EQ(chain.seq(), 2u);
  EXPECT_EQ(chain.root(), "12");

  // Replayed, out of order (gap), forked, tampered, reused root, time going backwards.
  EXPECT_EQ(chain.accept(second, false).refusal, Refusal::kReplay);
  Issuer ahead = std::move(is);
  const FeedEntry third = ahead.next("13");
  const FeedEntry fourth = ahead.next("14");
  EXPECT_EQ(chain.accept(fourth, false).refusal, Refusal::kGap);
  FeedEntry tampered = third;
  tampered.root = "99";
  EXPECT_EQ(chain.accept(tampered, false).refusal, Refusal::kBadSignature);
  FeedEntry fork{1, 3, "15", "11", 3, 5000, ahead.key.key_id(), "", std::nullopt};
  fork.signature = ahead.key.sign(signing_text(fork));
  EXPECT_EQ(chain.accept(fork, false).refusal, Refusal::kFork);
  EXPECT_EQ(chain.accept(third, true).refusal, Refusal::kRootReused);
  FeedEntry early{1, 3, "13", "12", 3, 1, ahead.key.key_id(), "", std::nullopt};
  early.signature = ahead.key.sign(signing_text(early));
  EXPECT_EQ(chain.accept(early, false).refusal, Refusal::kTimeBackwards);
  // The refusals changed nothing: the true next entry is still accepted.
  EXPECT_EQ(chain.seq(), 2u);
  EXPECT_FALSE(chain.accept(third, false).refusal);
}

TEST(Chain, RefusesUnknownKeysAndOtherIssuers) {
  Issuer is, stranger;
  ChainState chain(1, is.trust());
  EXPECT_EQ(chain.accept(stranger.next("7"), false).refusal, Refusal::kUnknownKey);
  Issuer other;
  other.id = 2;
  ChainState chain2(1, other.trust());
  EXPECT_EQ(chain2.accept(other.next("7"), false).refusal, Refusal::kWrongIssuer);
  // A signature made by a stranger under the trusted key id does not verify.
  FeedEntry forged = stranger.next("8");
  forged.key_id = is.key.key_id();
  forged.signature = stranger.key.sign(signing_text(forged));
  EXPECT_EQ(chain.accept(forged, false).refusal, Refusal::kBadSignature);
}

TEST(Chain, RotationTrustsTheAnnouncedKeyAndRetiresTheOldOne) {
  Issuer is;
  ChainState chain(1, is.trust());
  SigningKey next = SigningKey::generate();
  const KeyAnnouncement a{next.key_id(), next.public_key_b64(), 1100};
  ASSERT_FALSE(chain.accept(is.next("21", a), false).refusal);  // issued_at 1010
  ASSERT_EQ(chain.keys().size(), 2u);
  // The old key may still sign within the overlap...
  EXPECT_FALSE(chain.accept(is.next("22"), false).refusal);  // 1020
  // ...the new key signs from now on, and the old one is refused after the overlap.
  SigningKey old = std::exchange(is.key, std::move(next));
  EXPECT_FALSE(chain.accept(is.next("23"), false).refusal);  // 1030
  is.at = 2000;
  FeedEntry late{1, 4, "24", "23", 3, 2000, old.key_id(), "", std::nullopt};
  late.signature = old.sign(signing_text(late));
  EXPECT_EQ(chain.accept(late, false).refusal, Refusal::kKeyRetired);
}

TEST(Chain, AnAnnouncementMustBoundTheOldKeyAndARetiringKeyAnnouncesNoOther) {
  Issuer is;
  ChainState chain(1, is.trust());
  SigningKey next = SigningKey::generate();
  // previous_valid_until before the announcing entry (0: "forever") is refused.
  EXPECT_EQ(
      chain.accept(is.next("31", KeyAnnouncement{next.key_id(), next.public_key_b64(), 0}), false)
          .refusal,
      Refusal::kMalformed);
  Issuer again;
  again.key = std::move(is.key);
  ChainState chain2(1, again.trust());
  ASSERT_FALSE(
      chain2
          .accept(again.next("41", KeyAnnouncement{next.key_id(), next.public_key_b64(), 1100}),
                  false)
          .refusal);
  // A leaked old key cannot name a successor of its own during the overlap.
  SigningKey attacker = SigningKey::generate();
  EXPECT_EQ(chain2
                .accept(again.next("42", KeyAnnouncement{attacker.key_id(),
                                                         attacker.public_key_b64(), 9000}),
                        false)
                .refusal,
            Refusal::kKeyRetired);
  EXPECT_EQ(chain2.keys().size(), 2u);
}

TEST(SigningKey, SavedMode0600AndLoadsBack) {
  const auto dir = std::filesystem::temp_directory_path() / ("pg-feed-" + core::uuid_v4());
  std::filesystem::create_directories(dir);
  const SigningKey key = SigningKey::generate();
  key.save(dir / "signing.key");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "signing.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = SigningKey::load(dir / "signing.key");
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->key_id(), key.key_id());
  EXPECT_TRUE(verify_signature(key.public_key_b64(), "m", back->sign("m")));
  EXPECT_FALSE(SigningKey::load(dir / "missing"));
  std::filesystem::remove_all(dir);
}

// --- the `issuer_feeds` setting (docs/issuers.md, "The verifier's settings") ---

const std::string kKeyA = core::base64url(std::string(32, '\x01'));
const std::string kKeyB = core::base64url(std::string(32, '\xfe'));

/// The error parse_feed_sources gives for `text`, or "(parsed)" when it takes it.
std::string feed_error(std::string_view text) {
  const auto parsed = parse_feed_sources(text);
  return parsed ? std::string("(parsed)") : parsed.error();
}

TEST(FeedSources, EmptyIsNoFeed) {
  const auto parsed = parse_feed_sources("");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_TRUE(parsed->empty());
}

TEST(FeedSources, OneSourceWithOneKey) {
  ASSERT_EQ(kKeyA.size(), 43u);
  const auto parsed = parse_feed_sources("moha|http://127.0.0.1:7101|" + kKeyA);
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_EQ(parsed->size(), 1u);
  const FeedSource& s = parsed->front();
  EXPECT_EQ(s.issuer, "moha");
  EXPECT_EQ(s.issuer_id, 1u);
  EXPECT_EQ(s.url, "http://127.0.0.1:7101");
  EXPECT_EQ(s.public_keys, std::vector<std::string>{kKeyA});
}

TEST(FeedSources, SeveralSourcesInOrderWithSeveralKeysAndTrailingSlashesTrimmed) {
  const auto parsed = parse_feed_sources(
      "moha|https://moha-issuer.example/|" + kKeyA + "+" + kKeyB + ",tu|http://127.0.0.1:7102|" +
      kKeyB + ",nrb|https://nrb.example:8443/|" + kKeyA + "+" + kKeyB + "+" + kKeyA);
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_EQ(parsed->size(), 3u);
  const std::vector<FeedSource>& s = *parsed;
  EXPECT_EQ(s[0].issuer, "moha");
  EXPECT_EQ(s[0].issuer_id, 1u);
  EXPECT_EQ(s[0].url, "https://moha-issuer.example");
  EXPECT_EQ(s[0].public_keys, (std::vector<std::string>{kKeyA, kKeyB}));
  EXPECT_EQ(s[1].issuer, "tu");
  EXPECT_EQ(s[1].issuer_id, 2u);
  EXPECT_EQ(s[1].url, "http://127.0.0.1:7102");
  EXPECT_EQ(s[1].public_keys, std::vector<std::string>{kKeyB});
  EXPECT_EQ(s[2].issuer, "nrb");
  EXPECT_EQ(s[2].issuer_id, 3u);
  EXPECT_EQ(s[2].url, "https://nrb.example:8443");
  EXPECT_EQ(s[2].public_keys, (std::vector<std::string>{kKeyA, kKeyB, kKeyA}));
}

TEST(FeedSources, AnUnknownIssuerIsNamed) {
  EXPECT_EQ(feed_error("ird|http://127.0.0.1:7103|" + kKeyA),
            "issuer_feeds: \"ird\" is not an issuer (moha, tu, nrb)");
  EXPECT_EQ(feed_error("MOHA|http://127.0.0.1:7101|" + kKeyA),
            "issuer_feeds: \"MOHA\" is not an issuer (moha, tu, nrb)");
  EXPECT_EQ(feed_error("|http://127.0.0.1:7101|" + kKeyA),
            "issuer_feeds: \"\" is not an issuer (moha, tu, nrb)");
}

TEST(FeedSources, AnIssuerNamedTwiceIsRefused) {
  EXPECT_EQ(feed_error("tu|http://127.0.0.1:7102|" + kKeyA + ",moha|http://127.0.0.1:7101|" +
                       kKeyA + ",tu|http://127.0.0.1:7104|" + kKeyB),
            "issuer_feeds: tu is named twice");
}

TEST(FeedSources, TheUrlMustBeTheNodesBaseUrl) {
  EXPECT_EQ(feed_error("moha|http://127.0.0.1:7101/issuer/v1|" + kKeyA),
            "issuer_feeds: moha: the URL must be the issuer node's base URL");
  EXPECT_EQ(feed_error("moha|http://127.0.0.1:7101/moha/|" + kKeyA),
            "issuer_feeds: moha: the URL must be the issuer node's base URL");
  EXPECT_EQ(feed_error("moha|http://127.0.0.1:7101/?x=1|" + kKeyA),
            "issuer_feeds: moha: the URL must be the issuer node's base URL");
  // Not an http(s) URL: the URL parser's own reason, after the issuer.
  EXPECT_EQ(feed_error("nrb|ftp://127.0.0.1:7103|" + kKeyA),
            "issuer_feeds: nrb: scheme \"ftp\" is not allowed (only http and https)");
  EXPECT_EQ(feed_error("nrb||" + kKeyA), "issuer_feeds: nrb: URL is empty");
  EXPECT_EQ(feed_error("nrb|http://user@127.0.0.1:7103|" + kKeyA),
            "issuer_feeds: nrb: userinfo ('@' in the authority) is not allowed");
}

TEST(FeedSources, ABadKeyIsRefusedNamingTheIssuer) {
  const std::string kBadKey =
      "issuer_feeds: tu: a key is not base64url of a 32-byte Ed25519 public key";
  const std::string url = "tu|http://127.0.0.1:7102|";
  EXPECT_EQ(feed_error(url + kKeyA.substr(0, 42)), kBadKey);  // one character short
  EXPECT_EQ(feed_error(url + kKeyA + "A"), kBadKey);          // one too many
  EXPECT_EQ(feed_error(url + core::base64url(std::string(31, '\x01'))), kBadKey);  // 31 bytes
  std::string padded = kKeyA;
  padded.back() = '=';
  EXPECT_EQ(feed_error(url + padded), kBadKey);
  std::string plus_slash = kKeyA;
  plus_slash[5] = '/';  // base64, not base64url
  EXPECT_EQ(feed_error(url + plus_slash), kBadKey);
  EXPECT_EQ(feed_error(url), kBadKey);                                  // no key
  EXPECT_EQ(feed_error(url + kKeyA + "+"), kBadKey);                    // an empty second key
  EXPECT_EQ(feed_error(url + kKeyA + "+" + kKeyB.substr(1)), kBadKey);  // the second key is bad
}

TEST(FeedSources, AMissingOrExtraPartIsRefusedQuotingTheItem) {
  EXPECT_EQ(feed_error("moha|http://127.0.0.1:7101"),
            "issuer_feeds: \"moha|http://127.0.0.1:7101\" is not ISSUER|URL|KEY[+KEY...]");
  EXPECT_EQ(feed_error("moha"), "issuer_feeds: \"moha\" is not ISSUER|URL|KEY[+KEY...]");
  EXPECT_EQ(feed_error("moha|http://127.0.0.1:7101|" + kKeyA + "|" + kKeyB),
            "issuer_feeds: \"moha|http://127.0.0.1:7101|" + kKeyA + "|" + kKeyB +
                "\" is not ISSUER|URL|KEY[+KEY...]");
  // An empty item between commas (or after the last) is a missing source, not skipped.
  EXPECT_EQ(feed_error("moha|http://127.0.0.1:7101|" + kKeyA + ","),
            "issuer_feeds: \"\" is not ISSUER|URL|KEY[+KEY...]");
  EXPECT_EQ(
      feed_error("moha|http://127.0.0.1:7101|" + kKeyA + ",,tu|http://127.0.0.1:7102|" + kKeyB),
      "issuer_feeds: \"\" is not ISSUER|URL|KEY[+KEY...]");
}

}  // namespace
}  // namespace pg::feed
