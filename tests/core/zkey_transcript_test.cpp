// core::read_zkey_contributions / transcript_zkey_mismatch: the contribution record a snarkjs zkey
// keeps (section 10) against the ceremony transcript. Vectors: the production fixture
// (PROOFGATE_PRODUCTION_ARTIFACTS, made by tests/integration/make_production_artifacts.mjs with
// snarkjs 0.7.6), whose transcript.json holds the hashes snarkjs computed; and the development
// zkeys (PROOFGATE_ARTIFACTS), whose one beacon the manifest describes.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/secrets.hpp"
#include "core/zkey.hpp"

namespace pg::core {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in) << p;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path version_dir(const char* variable, const std::string& claim) {
  const char* root = std::getenv(variable);
  EXPECT_NE(root, nullptr) << "set " << variable;
  return fs::path(root ? root : ".") / claim / "1.0.0";
}

fs::path production_dir() {
  return version_dir("PROOFGATE_PRODUCTION_ARTIFACTS", "age_over_18");
}

std::string production_zkey() {
  return slurp(production_dir() / "circuit.zkey");
}

json::object production_transcript() {
  return json::parse(slurp(production_dir() / "transcript.json")).as_object();
}

std::vector<ZkeyContribution> contributions_of(std::string_view zkey) {
  auto read = read_zkey_contributions(zkey);
  if (const auto* why = std::get_if<std::string>(&read)) ADD_FAILURE() << *why;
  return std::holds_alternative<std::string>(read) ? std::vector<ZkeyContribution>{}
                                                   : std::get<std::vector<ZkeyContribution>>(read);
}

/// The reason read_zkey_contributions gives for `zkey`, "" when it reads.
std::string read_refusal(std::string_view zkey) {
  auto read = read_zkey_contributions(zkey);
  const auto* why = std::get_if<std::string>(&read);
  return why ? *why : std::string();
}

std::uint32_t u32_at(std::string_view b, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 4; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

void append_le(std::string& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

/// `zkey` rebuilt with section 10's body passed through `edit` (nullopt drops the section), so
/// the rest of the file stays well-formed.
std::string with_section_10(std::string_view zkey,
                            const std::function<std::optional<std::string>(std::string)>& edit) {
  std::vector<std::pair<std::uint32_t, std::string>> sections;
  std::size_t at = 12;
  for (std::uint32_t i = 0, n = u32_at(zkey, 8); i < n; ++i) {
    const std::uint32_t id = u32_at(zkey, at);
    std::uint64_t size = 0;
    for (std::size_t k = 8; k-- > 0;)
      size = (size << 8) | static_cast<unsigned char>(zkey[at + 4 + k]);
    std::string body(zkey.substr(at + 12, size));
    at += 12 + size;
    if (id == 10) {
      auto edited = edit(std::move(body));
      if (!edited) continue;
      body = std::move(*edited);
    }
    sections.emplace_back(id, std::move(body));
  }
  std::string out(zkey.substr(0, 8));
  append_le(out, sections.size(), 4);
  for (const auto& [id, body] : sections) {
    append_le(out, id, 4);
    append_le(out, body.size(), 8);
    out += body;
  }
  return out;
}

// Section 10 of the production zkey: csHash (64) and the count (4), then per contribution the
// points (320), transcript (64), type (4), parameter length (4) and parameters. Contribution 1 is
// the development beacon: name (tag 1, a 64-byte name), numIterationsExp (tag 2), beacon (tag 3).
constexpr std::size_t kFirst = 68;
constexpr std::size_t kFirstType = kFirst + 320 + 64;
constexpr std::size_t kFirstParams = kFirstType + 8;

std::string patched(std::string_view zkey, std::size_t offset, std::string_view bytes) {
  return with_section_10(zkey, [&](std::string body) -> std::optional<std::string> {
    body.replace(offset, bytes.size(), bytes);
    return body;
  });
}

TEST(ZkeyContributions, the_production_zkey_records_the_hashes_snarkjs_printed) {
  const auto zkey = contributions_of(production_zkey());
  const json::object transcript = production_transcript();
  const json::array& listed = transcript.at("contributions").as_array();
  ASSERT_EQ(zkey.size(), 3u);
  ASSERT_EQ(listed.size(), 3u);
  for (std::size_t i = 0; i < zkey.size(); ++i) {
    const json::object& t = listed[i].as_object();
    const bool beacon = t.at("kind").as_string() == "beacon";
    EXPECT_EQ(zkey[i].type, beacon ? 1u : 0u) << i;
    EXPECT_EQ(zkey[i].name, std::string(t.at("name").as_string())) << i;
    EXPECT_EQ(zkey[i].hash_hex, std::string(t.at("hash").as_string())) << i;
    EXPECT_EQ(zkey[i].beacon_hex, beacon ? std::string(t.at("beacon").as_string()) : "") << i;
    EXPECT_EQ(zkey[i].iterations_exp, beacon ? t.at("iterations_exp").as_int64() : -1) << i;
  }
  // Two beacons around one contribution, as the fixture made them.
  EXPECT_EQ(zkey[0].type, 1u);
  EXPECT_EQ(zkey[1].type, 0u);
  EXPECT_EQ(zkey[2].type, 1u);
  // The contribution's hash is the fixture's own (its randomness is new in each build tree).
  EXPECT_EQ(zkey[1].hash_hex.size(), 128u);
}

TEST(ZkeyContributions, the_development_zkeys_record_the_beacon_their_manifest_names) {
  for (const std::string claim : {"age_over_18", "citizenship", "education", "income_gte"}) {
    const fs::path dir = version_dir("PROOFGATE_ARTIFACTS", claim);
    const json::object manifest = json::parse(slurp(dir / "manifest.json")).as_object();
    const json::object& ceremony = manifest.at("ceremony").as_object();
    const auto zkey = contributions_of(slurp(dir / "circuit.zkey"));
    ASSERT_EQ(zkey.size(), 1u) << claim;
    EXPECT_EQ(zkey[0].type, 1u) << claim;
    // snarkjs keeps the first 64 characters of a name (zkey_utils.js writeContribution).
    EXPECT_EQ(zkey[0].name, std::string(ceremony.at("label").as_string()).substr(0, 64)) << claim;
    EXPECT_EQ(zkey[0].beacon_hex, std::string(ceremony.at("zkey_beacon").as_string())) << claim;
    EXPECT_EQ(zkey[0].iterations_exp, ceremony.at("iterations_exp").as_int64()) << claim;
    EXPECT_EQ(zkey[0].hash_hex.size(), 128u) << claim;
  }
  // The production fixture continues the development zkey: its first record is this beacon.
  const auto dev =
      contributions_of(slurp(version_dir("PROOFGATE_ARTIFACTS", "age_over_18") / "circuit.zkey"));
  ASSERT_EQ(dev.size(), 1u);
  EXPECT_EQ(dev[0].hash_hex,
            std::string(
                production_transcript().at("contributions").as_array()[0].at("hash").as_string()));
}

TEST(TranscriptZkeyMismatch, the_real_pair_agrees) {
  EXPECT_EQ(transcript_zkey_mismatch(production_transcript(), production_zkey()), std::nullopt);
}

TEST(TranscriptZkeyMismatch, an_edited_transcript_is_refused_naming_what_differs) {
  const std::string zkey = production_zkey();
  // What the fixture recorded (its secret contribution is new in each build tree).
  const json::object original = production_transcript();
  const auto field = [&](std::size_t i, const char* name) {
    return std::string(original.at("contributions").as_array()[i].at(name).as_string());
  };
  const std::string contribution_hash = field(1, "hash").substr(0, 16);
  const std::string beacon_hash = field(2, "beacon").substr(0, 16);
  const std::string circuit_hash =
      std::string(original.at("circuit_hash").as_string()).substr(0, 16);
  const std::string zkey_sha256(original.at("final_zkey_sha256").as_string());
  struct Case {
    const char* what;
    std::function<void(json::object&)> edit;
    std::string reason;
  };
  const auto record = [](json::object& t, std::size_t i) -> json::object& {
    return t.at("contributions").as_array()[i].as_object();
  };
  const std::vector<Case> cases = {
      {"one hash edited",
       [&](json::object& t) {
         auto& h = record(t, 1)["hash"].as_string();
         h[0] = h[0] == '0' ? '1' : '0';
       },
       "contribution 2: its hash differs from the zkey's (the zkey records " + contribution_hash +
           "...)"},
      {"a name edited", [&](json::object& t) { record(t, 1)["name"] = "someone else"; },
       "contribution 2: its name differs from the zkey's (the zkey records \"test fixture: one "
       "secret contribution\")"},
      {"a contribution removed",
       [](json::object& t) {
         auto& a = t.at("contributions").as_array();
         a.erase(a.begin() + 1);
       },
       "the transcript lists 2 contributions, the zkey records 3"},
      {"order swapped",
       [](json::object& t) {
         auto& a = t.at("contributions").as_array();
         std::swap(a[1], a[2]);
       },
       "contribution 2: the transcript's kind is \"beacon\", the zkey records a contribution"},
      {"two beacons swapped",
       [](json::object& t) {
         auto& a = t.at("contributions").as_array();
         std::swap(a[0], a[2]);
       },
       "contribution 1: its name differs from the zkey's (the zkey records \"DEVELOPMENT ONLY"},
      {"a beacon hash edited",
       [&](json::object& t) { record(t, 2)["beacon"] = std::string(64, 'a'); },
       "contribution 3: its beacon hash differs from the zkey's (the zkey records " + beacon_hash +
           "...)"},
      {"iterations_exp edited", [&](json::object& t) { record(t, 2)["iterations_exp"] = 11; },
       "contribution 3: its iterations_exp differs from the zkey's (the zkey records 10)"},
      {"a beacon given to a contribution",
       [&](json::object& t) { record(t, 1)["beacon"] = std::string(64, 'a'); },
       "contribution 2: its beacon hash differs from the zkey's (the zkey records none)"},
      {"a record renumbered", [&](json::object& t) { record(t, 2)["index"] = 4; },
       "contribution 3: the transcript numbers it 4"},
      {"final_zkey_sha256 edited",
       [](json::object& t) { t["final_zkey_sha256"] = std::string(64, '0'); },
       "the transcript's final_zkey_sha256 is not the zkey's SHA-256 " + zkey_sha256},
      {"circuit_hash edited", [](json::object& t) { t["circuit_hash"] = std::string(128, '0'); },
       "the transcript's circuit_hash differs from the zkey's (the zkey records " + circuit_hash +
           "...)"},
      {"another format", [](json::object& t) { t["format"] = "proofgate-ceremony-transcript/2"; },
       "the transcript's format is not \"proofgate-ceremony-transcript/1\""},
      {"no contributions", [](json::object& t) { t.erase("contributions"); },
       "the transcript has no contributions array"},
  };
  for (const Case& c : cases) {
    json::object t = production_transcript();
    c.edit(t);
    const auto why = transcript_zkey_mismatch(t, zkey);
    ASSERT_TRUE(why) << c.what;
    EXPECT_EQ(why->substr(0, c.reason.size()), c.reason) << c.what << ": " << *why;
  }
}

TEST(TranscriptZkeyMismatch,
     a_zkey_whose_record_was_edited_is_refused_even_when_its_digest_was_updated) {
  const std::string zkey = production_zkey();
  // Contribution 2's own 64-byte transcript is part of its hash (hashPubKey).
  const std::size_t second = kFirst + 392 + 107;  // contribution 1 has 107 bytes of parameters
  const std::string edited = patched(zkey, second + 320, "x");
  json::object t = production_transcript();
  t["final_zkey_sha256"] = hex(sha256(edited));
  const auto why = transcript_zkey_mismatch(t, edited);
  ASSERT_TRUE(why);
  EXPECT_EQ(why->rfind("contribution 2: its hash differs", 0), 0u) << *why;

  const std::string without = with_section_10(zkey, [](std::string) { return std::nullopt; });
  t["final_zkey_sha256"] = hex(sha256(without));
  const auto missing = transcript_zkey_mismatch(t, without);
  ASSERT_TRUE(missing);
  EXPECT_EQ(*missing, "the zkey has no section 10 (the record of its contributions)");
}

TEST(ReadZkeyContributions, a_malformed_record_is_refused_naming_the_problem) {
  const std::string zkey = production_zkey();
  ASSERT_EQ(read_refusal(zkey), "");
  const auto cut = [&](std::size_t keep) {
    return with_section_10(
        zkey, [&](std::string body) -> std::optional<std::string> { return body.substr(0, keep); });
  };
  EXPECT_EQ(read_refusal(with_section_10(zkey, [](std::string) { return std::nullopt; })),
            "the zkey has no section 10 (the record of its contributions)");
  EXPECT_EQ(read_refusal(cut(1440 - 1)), "section 10: contribution 3 of 3: truncated");
  EXPECT_EQ(read_refusal(cut(kFirst + 100)), "section 10: contribution 1 of 3: truncated");
  EXPECT_EQ(read_refusal(cut(40)), "section 10: truncated before the contributions");
  // The file itself ending inside section 10 (the last section).
  EXPECT_EQ(read_refusal(std::string_view(zkey).substr(0, zkey.size() - 10)),
            "section 10 of 10: truncated");
  EXPECT_EQ(read_refusal(with_section_10(
                zkey, [](std::string body) -> std::optional<std::string> { return body + '\0'; })),
            "section 10: 1 byte after the last contribution");
  EXPECT_EQ(read_refusal(patched(zkey, kFirstParams, "\x07")),
            "section 10: contribution 1 of 3: unknown parameter tag 7");
  // Tag 2 rewritten as a second tag 1.
  EXPECT_EQ(read_refusal(patched(zkey, kFirstParams + 2 + 64, "\x01")),
            "section 10: contribution 1 of 3: parameters not sorted by tag (tag 1 after tag 1)");
  EXPECT_EQ(read_refusal(patched(zkey, kFirstParams + 2, "\xff")),
            "section 10: contribution 1 of 3: its name is not UTF-8");
  // A name length running past the parameters.
  EXPECT_EQ(read_refusal(patched(zkey, kFirstParams + 1, "\xff")),
            "section 10: contribution 1 of 3: parameter tag 1 truncated");
  EXPECT_EQ(read_refusal(patched(zkey, kFirstType, "\x02")),
            "section 10: contribution 1 of 3: unknown type 2 (0 contribution, 1 beacon)");
  EXPECT_EQ(read_refusal(patched(zkey, kFirst, std::string(32, '\xff'))),
            "section 10: contribution 1 of 3: a point coordinate is not below the field modulus");
  // A parameter count of 0 leaves the beacon without its hash.
  EXPECT_EQ(read_refusal(patched(zkey, kFirstType + 4, std::string(4, '\0'))),
            "section 10: contribution 1 of 3: a beacon without its beacon hash or iteration count");
  // A contribution count larger than the section holds.
  EXPECT_EQ(read_refusal(patched(zkey, 64, std::string("\xff\xff\xff\xff", 4))),
            "section 10: contribution 4 of 4294967295: truncated");
  // Two sections 10.
  const std::string twice =
      with_section_10(zkey, [](std::string body) -> std::optional<std::string> { return body; });
  std::string doubled = twice.substr(0, 8);
  append_le(doubled, u32_at(twice, 8) + 1, 4);
  doubled += twice.substr(12);
  append_le(doubled, 10, 4);
  append_le(doubled, 1440, 8);
  doubled += twice.substr(twice.size() - 1440);
  EXPECT_EQ(read_refusal(doubled), "the zkey has 2 sections 10, snarkjs reads one");
  EXPECT_EQ(read_refusal("not a zkey"), "not a snarkjs zkey (no \"zkey\" magic)");
}

/// A small zkey holding only what the record needs: sections 1 (protocol), 2 (header) and 10.
std::string record_only(std::string_view zkey, std::string_view section_10) {
  std::string out(zkey.substr(0, 8));
  append_le(out, 3, 4);
  std::size_t at = 12;
  for (std::uint32_t i = 0, n = u32_at(zkey, 8); i < n; ++i) {
    const std::uint32_t id = u32_at(zkey, at);
    std::uint64_t size = 0;
    for (std::size_t k = 8; k-- > 0;)
      size = (size << 8) | static_cast<unsigned char>(zkey[at + 4 + k]);
    if (id == 1 || id == 2) out += zkey.substr(at, 12 + size);
    at += 12 + size;
  }
  append_le(out, 10, 4);
  append_le(out, section_10.size(), 8);
  out += section_10;
  return out;
}

TEST(ReadZkeyContributions, every_truncation_is_refused_and_every_public_key_byte_moves_its_hash) {
  const std::string zkey = production_zkey();
  const std::string body = zkey.substr(zkey.size() - 1440);
  const auto whole = contributions_of(record_only(zkey, body));
  ASSERT_EQ(whole.size(), 3u);
  for (std::size_t keep = 0; keep < body.size(); ++keep) {
    EXPECT_NE(read_refusal(record_only(zkey, body.substr(0, keep))), "") << keep;
  }
  // Each contribution's points and transcript (384 bytes) are what its hash covers: changing any
  // byte changes that hash alone, or is refused as a coordinate not below the modulus.
  const std::size_t starts[] = {kFirst, kFirst + 392 + 107, kFirst + 392 + 107 + 392 + 39};
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t k = 0; k < 384; ++k) {
      std::string flipped = body;
      flipped[starts[c] + k] = static_cast<char>(flipped[starts[c] + k] ^ 0x01);
      auto read = read_zkey_contributions(record_only(zkey, flipped));
      if (const auto* why = std::get_if<std::string>(&read)) {
        EXPECT_NE(why->find("not below the field modulus"), std::string::npos) << *why;
        continue;
      }
      const auto& got = std::get<std::vector<ZkeyContribution>>(read);
      for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(got[i].hash_hex == whole[i].hash_hex, i != c) << c << " " << k;
      }
    }
  }
}

}  // namespace
}  // namespace pg::core
