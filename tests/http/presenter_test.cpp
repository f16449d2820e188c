// The one presenter (src/http/presenter.cpp): every error code's status, the problem+json
// envelope and its headers, the verify answers (verified, refused and recorded, replayed), the
// proof request's QR code.
#include "http/presenter.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "http/qr.hpp"

namespace pg::http {
namespace {

namespace json = boost::json;
using core::ApiError;
using core::ErrorCode;

std::string header(const HttpReply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

TEST(PresenterTest, problem_json_carries_the_code_status_field_and_extra_members) {
  const HttpReply r =
      problem({ErrorCode::kNonceReplay, "request.nonce", "used"}, json::object{{"extra", 7}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_EQ(r.error_code, "NONCE_REPLAY");
  const json::value v = json::parse(r.body);
  EXPECT_EQ(v.at("status").as_int64(), 409);
  EXPECT_EQ(v.at("error_code").as_string(), "NONCE_REPLAY");
  EXPECT_EQ(v.at("field").as_string(), "request.nonce");
  EXPECT_EQ(v.at("detail").as_string(), "request.nonce: used");
  EXPECT_EQ(v.at("extra").as_int64(), 7);
  EXPECT_EQ(v.at("type").as_string(), "https://proofgate.dev/errors/nonce_replay");
  EXPECT_FALSE(v.as_object().contains("proof_id"));
  EXPECT_EQ(header(r, "Retry-After"), "<absent>");
}

TEST(PresenterTest, every_error_code_has_a_4xx_or_5xx_status_and_a_title) {
  for (const ErrorCode code : core::kErrorCodes) {
    EXPECT_GE(status_of(code), 400) << core::error_name(code);
    EXPECT_LT(status_of(code), 600) << core::error_name(code);
    EXPECT_FALSE(title_of(code).empty()) << core::error_name(code);
  }
  // The brief's contract for the codes partners branch on.
  EXPECT_EQ(status_of(ErrorCode::kUnauthorized), 401);
  EXPECT_EQ(status_of(ErrorCode::kUnauthorizedScope), 403);
  EXPECT_EQ(status_of(ErrorCode::kNonceReplay), 409);
  EXPECT_EQ(status_of(ErrorCode::kRequestExpired), 410);
  EXPECT_EQ(status_of(ErrorCode::kInvalidProof), 422);
  EXPECT_EQ(status_of(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(status_of(ErrorCode::kNotReady), 503);
}

TEST(PresenterTest, retry_hints_and_authentication_challenges_become_headers) {
  ApiError limited{ErrorCode::kRateLimited, "", "slow down"};
  limited.retry_after_s = 3;
  EXPECT_EQ(header(problem(limited), "Retry-After"), "3");
  const HttpReply unauthorized = problem({ErrorCode::kUnauthorized, "Authorization", "no key"});
  EXPECT_EQ(header(unauthorized, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(header(problem({ErrorCode::kInvalidProof, "proof", "x"}), "WWW-Authenticate"),
            "<absent>");
}

TEST(PresenterTest, a_recorded_refusal_names_its_proof_and_a_replay_says_so) {
  ApiError e{ErrorCode::kInvalidProof, "proof", "the Groth16 check fails"};
  e.proof_id = "11111111-1111-4111-8111-111111111111";
  const HttpReply r = present_verify({e, true});
  EXPECT_EQ(r.status, 422);
  const json::value v = json::parse(r.body);
  EXPECT_EQ(v.at("outcome").as_string(), "rejected");
  EXPECT_EQ(v.at("proof_id").as_string(), e.proof_id);
  EXPECT_EQ(header(r, "Idempotent-Replayed"), "true");
  const HttpReply ok = present_verify(
      {core::Verified{"p", "age_over_18", "1.0.0", "42", 1'795'651'200'000, "moha", 3, 12}, false});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body).at("ts").as_string(), "2026-11-26T00:00:00Z");
  EXPECT_EQ(json::parse(ok.body).at("nullifier").as_string(), "42");
  // How fresh the root was: the issuer, the feed seq and the age, for the partner's own policy.
  EXPECT_EQ(json::parse(ok.body).at("issuer").as_string(), "moha");
  EXPECT_EQ(json::parse(ok.body).at("root_seq").to_number<std::uint64_t>(), 3u);
  EXPECT_EQ(json::parse(ok.body).at("root_age_seconds").as_int64(), 12);
  EXPECT_EQ(header(ok, "Idempotent-Replayed"), "<absent>");
}

TEST(PresenterTest, a_proof_request_carries_its_wallet_uri_and_qr_code) {
  core::ProofRequest req;
  req.id = "r";
  req.nonce = "AAAAAAAAAAAAAAAAAAAAAA";
  req.claim_type = "age_over_18";
  req.circuit_version = "1.0.0";
  req.verifier_domain = "bank.example";
  req.params = {{"today", 20261126}};
  req.expires_at = 1'795'651'200'000;
  const HttpReply r = present_request(req);
  EXPECT_EQ(r.status, 201);
  const json::value v = json::parse(r.body);
  EXPECT_EQ(v.at("qr").at("uri").as_string(), core::wallet_request_uri(req));
  EXPECT_TRUE(v.at("qr").at("svg").as_string().starts_with("<svg"));
  EXPECT_EQ(v.at("params").at("today").as_int64(), 20261126);
}

TEST(PresenterTest, the_onchain_bundle_names_what_a_partner_contract_checks_besides_verify_proof) {
  chain::Deployment d;
  d.chain_id = 31337;
  d.circuit_registry =
      *chain::parse_address("0x5fbdb2315678afecb367f032d93f642f64180aa3", "circuit_registry");
  d.root_registry =
      *chain::parse_address("0xe7f1725e7734ce288f8367e1bb143e90bb3f0512", "root_registry");
  const chain::DeployedVerifier v{"age_over_18", "1.0.0", d.root_registry, 5, ""};
  chain::VerifierCall call;
  call.pub_signals = {"1", "2", "3", "4", "5"};
  const std::vector<std::string> names{"nullifier", "root", "binding", "scope", "today"};
  const json::object b = onchain_bundle(d, v, call, "moha", names);
  // EIP-55, the keys as ethers' id() computes them (keccak256 of the UTF-8 bytes).
  EXPECT_EQ(b.at("circuit_registry"), "0x5FbDB2315678afecb367f032d93F642f64180aa3");
  EXPECT_EQ(b.at("root_registry"), "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");
  EXPECT_EQ(b.at("claim_key"),
            "0x4e2d45f7cfa0544b3794dbb7dbba4342032a39f53ce76cb590ab0f9d4c8c9b2e");
  EXPECT_EQ(b.at("semver"), "1.0.0");
  EXPECT_EQ(b.at("issuer"), "moha");
  EXPECT_EQ(b.at("issuer_key"),
            "0x9cbe4a0a8c693a13367c6e1446edfe72ec99ba42a402773d76e8affdf09f6dee");
  EXPECT_EQ(b.at("public_signal_names"),
            (json::array{"nullifier", "root", "binding", "scope", "today"}));
  EXPECT_EQ(b.at("args").at("pubSignals").as_array().size(), names.size());
}

TEST(PresenterTest, qr_svg_draws_a_square_code_and_refuses_oversized_text) {
  const std::string svg = qr_svg("proofgate:request?d=abc");
  EXPECT_TRUE(svg.starts_with("<svg"));
  EXPECT_NE(svg.find("<path"), std::string::npos);
  EXPECT_THROW(qr_svg(std::string(8000, 'x')), std::runtime_error);
}

}  // namespace
}  // namespace pg::http
