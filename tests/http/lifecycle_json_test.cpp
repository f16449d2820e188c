// http::approval_json, the form the admin API and the CLI print for a pending action: its
// approvals with their times and how many it needs, with exactly the fields docs/openapi.json's
// PendingAction schema names.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "core/lifecycle.hpp"
#include "http/lifecycle_api.hpp"

namespace pg::http {
namespace {

namespace json = boost::json;

constexpr core::UnixMillis kNow = 1'790'000'000'000;  // 2026-09-21T14:13:20Z

core::PendingAction enable_with_one_approval() {
  core::PendingAction a;
  a.id = "5f0c2a6e-3b7d-4e1a-9c2f-8d4b6a1e0f33";
  a.kind = std::string(core::kActionCircuitEnable);
  a.params_json = R"({"claim_type":"age_over_18","version":"2.0.0"})";
  a.requested_by = {std::string(core::kActorAdminApi), "token:abc"};
  a.requested_at = kNow;
  a.expires_at = kNow + 86'400'000;
  a.state = std::string(core::kApprovalPending);
  a.approvals.push_back({{std::string(core::kActorAdminCli), "bob"}, kNow + 1000});
  return a;
}

json::object schema(const std::string& name) {
  std::ifstream in(std::string(PROOFGATE_SOURCE_DIR) + "/docs/openapi.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str()).at("components").at("schemas").at(name).as_object();
}

TEST(ApprovalJson, lists_the_approvals_given_and_how_many_the_kind_needs) {
  const json::object o = approval_json(enable_with_one_approval());
  EXPECT_EQ(o.at("state"), "pending");
  EXPECT_EQ(o.at("approvals_required").to_number<int>(), 2);
  const json::array& votes = o.at("approvals").as_array();
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0],
            (json::object{{"type", "admin_cli"}, {"id", "bob"}, {"at", "2026-09-21T14:13:21Z"}}))
      << json::serialize(votes[0]);
  EXPECT_TRUE(o.at("decided_by").is_null());

  core::PendingAction resume = enable_with_one_approval();
  resume.kind = std::string(core::kActionClientResume);
  resume.approvals.clear();
  const json::object r = approval_json(resume);
  EXPECT_EQ(r.at("approvals_required").to_number<int>(), 1);
  EXPECT_TRUE(r.at("approvals").as_array().empty());
}

TEST(ApprovalJson, has_exactly_the_fields_of_the_documented_schema) {
  const json::object s = schema("PendingAction");
  const json::object printed_json = approval_json(enable_with_one_approval());
  std::set<std::string> documented, required, printed;
  for (const auto& p : s.at("properties").as_object()) documented.emplace(p.key());
  for (const auto& r : s.at("required").as_array()) required.emplace(r.as_string());
  for (const auto& f : printed_json) printed.emplace(f.key());
  EXPECT_EQ(printed, documented);
  EXPECT_EQ(printed, required);
  std::set<std::string> vote_fields, printed_vote;
  for (const auto& p : s.at("properties").at("approvals").at("items").at("properties").as_object())
    vote_fields.emplace(p.key());
  for (const auto& f : printed_json.at("approvals").at(0).as_object())
    printed_vote.emplace(f.key());
  EXPECT_FALSE(vote_fields.empty());
  EXPECT_EQ(printed_vote, vote_fields);
}

}  // namespace
}  // namespace pg::http
