// The audit chain's hash, canonical details and the offline check of an export: an intact chain
// passes, and each tampering (an edited field, a removed middle line, two swapped lines, a dropped
// first line against --anchor, a truncated end against --head) is named at the first bad entry.
#include "core/audit_chain.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/secrets.hpp"

namespace pg::core {
namespace {

using Verdict = AuditChainCheck::Verdict;

/// Five chained entries as export lines.
std::vector<std::string> export_of_five(std::vector<AuditEntry>* entries_out = nullptr) {
  AuditChainHead head;
  std::vector<std::string> lines;
  for (int n = 1; n <= 5; ++n) {
    AuditEntry e;
    e.id = n;
    e.actor_type = "admin_cli";
    e.actor_id = "operator";
    e.action = "client.created";
    e.details_json =
        R"({"n":)" + std::to_string(n) + R"(,"client_id":"c-)" + std::to_string(n) + "\"}";
    e.at = 1'790'000'000'000 + n;
    head = chain_audit_entry(e, head);
    lines.push_back(audit_export_line(e));
    if (entries_out != nullptr) entries_out->push_back(e);
  }
  return lines;
}

std::string hash_of(const std::string& line) {
  return std::string(boost::json::parse(line).at("hash").as_string());
}

TEST(AuditChain, the_hash_is_sha256_of_the_documented_encoding) {
  // Recomputed by hand: tag, seq (8 bytes BE), prev hex, then length-prefixed fields, at (8 BE).
  std::string in = "proofgate-audit-v1";
  in += std::string("\0\0\0\0\0\0\0\1", 8);
  in += kAuditGenesisHash;
  for (std::string_view f : {"system", "", "x", "{}"}) {
    in += std::string("\0\0\0", 3);
    in += static_cast<char>(f.size());
    in += f;
  }
  in += std::string("\0\0\0\0\0\0\0\x07", 8);
  EXPECT_EQ(audit_entry_hash(1, kAuditGenesisHash, "system", "", "x", "{}", 7), hex(sha256(in)));
  // Every field counts.
  const std::string base = audit_entry_hash(1, kAuditGenesisHash, "system", "", "x", "{}", 7);
  EXPECT_NE(audit_entry_hash(2, kAuditGenesisHash, "system", "", "x", "{}", 7), base);
  EXPECT_NE(audit_entry_hash(1, kAuditGenesisHash, "system", "a", "x", "{}", 7), base);
  EXPECT_NE(audit_entry_hash(1, kAuditGenesisHash, "system", "", "x", "{}", 8), base);
  // Field boundaries are unambiguous: moving a byte from one field to the next changes the hash.
  EXPECT_NE(audit_entry_hash(1, kAuditGenesisHash, "systemx", "", "", "{}", 7),
            audit_entry_hash(1, kAuditGenesisHash, "system", "x", "", "{}", 7));
}

TEST(AuditChain, canonical_details_sort_members_drop_spacing_and_are_idempotent) {
  const auto c = canonical_details(R"( { "b" : 1, "a" : { "d":[3, {"f":1,"e":2}], "c":null } } )");
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, R"({"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1})");
  EXPECT_EQ(canonical_details(*c), c);
  EXPECT_EQ(canonical_details(""), "{}");
  EXPECT_FALSE(canonical_details("[1]"));
  EXPECT_FALSE(canonical_details("{"));
}

TEST(AuditChain, an_intact_export_verifies_with_its_anchor_and_head) {
  const auto lines = export_of_five();
  const AuditChainCheck check = check_audit_export(lines, kAuditGenesisHash, hash_of(lines[4]));
  EXPECT_EQ(check.verdict, Verdict::kIntact) << check.reason;
  EXPECT_EQ(check.entries, 5u);
  EXPECT_EQ(check.first_seq, 1);
  EXPECT_EQ(check.last_seq, 5);
  EXPECT_EQ(check.head, hash_of(lines[4]));
  // A middle part verifies on its own, anchored on its predecessor's hash.
  const std::vector<std::string> middle(lines.begin() + 2, lines.end());
  EXPECT_EQ(check_audit_export(middle, hash_of(lines[1]), std::nullopt).verdict, Verdict::kIntact);
}

TEST(AuditChain, an_edited_field_is_named_at_its_line) {
  auto lines = export_of_five();
  boost::json::object o = boost::json::parse(lines[2]).as_object();
  o["actor_id"] = "someone-else";
  lines[2] = boost::json::serialize(o);
  const AuditChainCheck check = check_audit_export(lines, std::nullopt, std::nullopt);
  EXPECT_EQ(check.verdict, Verdict::kBroken);
  EXPECT_EQ(check.line, 3u);
  EXPECT_EQ(check.seq, 3);
  EXPECT_TRUE(check.reason.starts_with("edited")) << check.reason;

  // Edited details (the hash is over their canonical form, so reordering members alone is fine).
  auto details = export_of_five();
  boost::json::object d = boost::json::parse(details[1]).as_object();
  d["details"].as_object()["n"] = 99;
  details[1] = boost::json::serialize(d);
  const AuditChainCheck edited = check_audit_export(details, std::nullopt, std::nullopt);
  EXPECT_EQ(edited.line, 2u);
  EXPECT_TRUE(edited.reason.starts_with("edited")) << edited.reason;
}

TEST(AuditChain, an_edited_entry_whose_hash_was_recomputed_breaks_the_next_link) {
  std::vector<AuditEntry> entries;
  auto lines = export_of_five(&entries);
  AuditEntry forged = entries[1];
  forged.action = "nothing.happened";
  forged.hash = audit_entry_hash(forged.seq, forged.prev_hash, forged.actor_type, forged.actor_id,
                                 forged.action, forged.details_json, forged.at);
  lines[1] = audit_export_line(forged);
  const AuditChainCheck check = check_audit_export(lines, std::nullopt, std::nullopt);
  EXPECT_EQ(check.verdict, Verdict::kBroken);
  EXPECT_EQ(check.line, 3u);
  EXPECT_EQ(check.seq, 3);
  EXPECT_NE(check.reason.find("prev_hash is not the hash of seq 2"), std::string::npos)
      << check.reason;
}

TEST(AuditChain, a_removed_middle_line_is_named_as_a_removal) {
  auto lines = export_of_five();
  lines.erase(lines.begin() + 2);
  const AuditChainCheck check = check_audit_export(lines, std::nullopt, std::nullopt);
  EXPECT_EQ(check.verdict, Verdict::kBroken);
  EXPECT_EQ(check.line, 3u);
  EXPECT_EQ(check.seq, 4);
  EXPECT_TRUE(check.reason.starts_with("removed: seq 3 missing")) << check.reason;
}

TEST(AuditChain, two_swapped_lines_are_named_as_a_reordering) {
  auto lines = export_of_five();
  std::swap(lines[1], lines[2]);
  const AuditChainCheck check = check_audit_export(lines, std::nullopt, std::nullopt);
  EXPECT_EQ(check.verdict, Verdict::kBroken);
  EXPECT_EQ(check.line, 2u);
  EXPECT_EQ(check.seq, 3);
  EXPECT_TRUE(check.reason.starts_with("reordered")) << check.reason;
}

TEST(AuditChain, a_dropped_first_line_is_found_by_the_anchor) {
  auto lines = export_of_five();
  lines.erase(lines.begin());
  EXPECT_EQ(check_audit_export(lines, std::nullopt, std::nullopt).verdict, Verdict::kIntact);
  const AuditChainCheck check = check_audit_export(lines, kAuditGenesisHash, std::nullopt);
  EXPECT_EQ(check.verdict, Verdict::kBroken);
  EXPECT_EQ(check.line, 1u);
  EXPECT_EQ(check.seq, 2);
  EXPECT_TRUE(check.reason.starts_with("removed")) << check.reason;
}

TEST(AuditChain, a_truncated_end_is_found_by_the_head) {
  const auto full = export_of_five();
  const std::vector<std::string> lines(full.begin(), full.end() - 2);
  const AuditChainCheck check = check_audit_export(lines, std::nullopt, hash_of(full[4]));
  EXPECT_EQ(check.verdict, Verdict::kBroken);
  EXPECT_EQ(check.line, 3u);
  EXPECT_EQ(check.seq, 3);
  EXPECT_TRUE(check.reason.starts_with("truncated")) << check.reason;
}

TEST(AuditChain, a_line_that_is_no_export_entry_is_malformed_and_blank_lines_are_skipped) {
  auto lines = export_of_five();
  lines.insert(lines.begin() + 1, "");
  EXPECT_EQ(check_audit_export(lines, std::nullopt, std::nullopt).verdict, Verdict::kIntact);
  lines[3] = "{\"seq\": \"three\"}";
  const AuditChainCheck check = check_audit_export(lines, std::nullopt, std::nullopt);
  EXPECT_EQ(check.verdict, Verdict::kMalformed);
  EXPECT_EQ(check.line, 4u);
  EXPECT_NE(check.reason.find("seq"), std::string::npos);
  EXPECT_EQ(check_audit_export({"not json"}, std::nullopt, std::nullopt).verdict,
            Verdict::kMalformed);
}

}  // namespace
}  // namespace pg::core
