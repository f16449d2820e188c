// Domain outcomes as HTTP answers (see presenter.hpp): the status table of docs/api.md and the
// RFC 9457 problem+json envelope.
#include "http/presenter.hpp"

#include <algorithm>

#include "chain/hex.hpp"
#include "chain/keccak.hpp"
#include "http/qr.hpp"

namespace pg::http {

namespace json = boost::json;

namespace {
struct Row {
  int status;
  std::string_view title;
};

constexpr Row row(core::ErrorCode code) noexcept {
  using core::ErrorCode;
  switch (code) {
    case ErrorCode::kInvalidRequest:
      return {400, "Invalid request"};
    case ErrorCode::kUnauthorized:
      return {401, "Unauthorized"};
    case ErrorCode::kUnauthorizedScope:
      return {403, "Not in the partner's scope"};
    case ErrorCode::kClientSuspended:
      return {403, "Partner suspended"};
    case ErrorCode::kNotFound:
      return {404, "Not found"};
    case ErrorCode::kMethodNotAllowed:
      return {405, "Method not allowed"};
    case ErrorCode::kUnknownCircuit:
      return {404, "Unknown circuit"};
    case ErrorCode::kCircuitDisabled:
      return {422, "Circuit version disabled"};
    case ErrorCode::kRequestExpired:
      return {410, "Proof request expired"};
    case ErrorCode::kNonceReplay:
      return {409, "Nonce already used"};
    case ErrorCode::kIdempotencyConflict:
      return {409, "Idempotency key conflict"};
    case ErrorCode::kConflict:
      return {409, "Conflict with the current state"};
    case ErrorCode::kBindingMismatch:
      return {422, "Public signal does not match the request"};
    case ErrorCode::kStaleRoot:
      return {422, "Credential root is not current"};
    case ErrorCode::kRootModeMismatch:
      return {422, "Credential root belongs to the other mode"};
    case ErrorCode::kInvalidProof:
      return {422, "Invalid proof"};
    case ErrorCode::kPayloadTooLarge:
      return {413, "Payload too large"};
    case ErrorCode::kUnsupportedMediaType:
      return {415, "Unsupported media type"};
    case ErrorCode::kRateLimited:
      return {429, "Rate limited"};
    case ErrorCode::kWrongCode:
      return {401, "Wrong sign-in code"};
    case ErrorCode::kCodeExpired:
      return {410, "Sign-in code expired"};
    case ErrorCode::kOnchainUnavailable:
      return {422, "No on-chain verifier for this circuit version"};
    case ErrorCode::kChainDisagrees:
      return {502, "The chain's verifier disagrees with the server"};
    case ErrorCode::kChainUnavailable:
      return {503, "The chain could not be asked"};
    case ErrorCode::kNotReady:
      return {503, "Not ready"};
    case ErrorCode::kInternal:
      return {500, "Internal error"};
  }
  return {500, "Internal error"};
}

HttpReply json_reply(int status, const json::object& body) {
  HttpReply r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}
}  // namespace

int status_of(core::ErrorCode code) noexcept {
  return row(code).status;
}

std::string_view title_of(core::ErrorCode code) noexcept {
  return row(code).title;
}

HttpReply problem(const core::ApiError& error, const json::object& extra) {
  const std::string name(core::error_name(error.code));
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(std::tolower(c)); });
  json::object body;
  body["type"] = "https://proofgate.dev/errors/" + lower;
  body["title"] = title_of(error.code);
  body["status"] = status_of(error.code);
  body["error_code"] = name;
  body["detail"] = error.field.empty() ? error.detail : error.field + ": " + error.detail;
  if (!error.field.empty()) body["field"] = error.field;
  if (!error.proof_id.empty()) {
    body["outcome"] = "rejected";
    body["proof_id"] = error.proof_id;
  }
  for (const auto& [k, v] : extra) body[k] = v;
  HttpReply r;
  r.status = status_of(error.code);
  r.content_type = "application/problem+json";
  r.body = json::serialize(body);
  r.error_code = name;
  if (error.retry_after_s)
    r.headers.emplace_back("Retry-After", std::to_string(*error.retry_after_s));
  if (error.code == core::ErrorCode::kUnauthorized) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  return r;
}

HttpReply present_request(const core::ProofRequest& req, core::Mode mode) {
  json::object params;
  for (const auto& [k, v] : req.params) params[k] = v;
  const std::string uri = core::wallet_request_uri(req);
  json::object o{{"request_id", req.id},
                 {"nonce", req.nonce},
                 {"claim_type", req.claim_type},
                 {"circuit_version", req.circuit_version},
                 {"verifier_domain", req.verifier_domain},
                 {"mode", core::mode_name(mode)},
                 {"params", params},
                 {"expires_at", core::rfc3339(req.expires_at)},
                 {"qr", json::object{{"uri", uri}, {"svg", qr_svg(uri)}}}};
  if (!req.accepted_versions.empty())
    o["accepted_versions"] =
        json::array(req.accepted_versions.begin(), req.accepted_versions.end());
  return json_reply(201, o);
}

HttpReply present_verify(const core::VerifyOutcome& outcome, core::Mode mode,
                         const json::object* onchain) {
  HttpReply r;
  if (const auto* v = std::get_if<core::Verified>(&outcome.result)) {
    json::object body{{"status", "verified"},          {"proof_id", v->proof_id},
                      {"claim_type", v->claim_type},   {"circuit_version", v->circuit_version},
                      {"mode", core::mode_name(mode)}, {"nullifier", v->nullifier},
                      {"ts", core::rfc3339(v->at)},    {"issuer", v->issuer},
                      {"root_seq", v->root_seq},       {"root_age_seconds", v->root_age_seconds}};
    if (onchain) body["onchain"] = *onchain;
    r = json_reply(200, body);
  } else {
    r = problem(std::get<core::ApiError>(outcome.result));
  }
  if (outcome.replayed) r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

json::object onchain_bundle(const chain::Deployment& deployment,
                            const chain::DeployedVerifier& verifier,
                            const chain::VerifierCall& call, std::string_view issuer,
                            std::span<const std::string> signal_names) {
  const auto pair = [](const std::array<std::string, 2>& v) { return json::array{v[0], v[1]}; };
  const auto key = [](std::string_view text) { return chain::to_hex(chain::keccak256(text)); };
  json::array pub;
  for (const auto& s : call.pub_signals) pub.push_back(json::string(s));
  json::array names;
  for (const auto& n : signal_names) names.push_back(json::string(n));
  return json::object{{"chain_id", deployment.chain_id},
                      {"verifier", verifier.address.to_checksum()},
                      {"function", call.function},
                      {"selector", call.selector},
                      {"calldata", call.calldata},
                      {"args", json::object{{"a", pair(call.a)},
                                            {"b", json::array{pair(call.b[0]), pair(call.b[1])}},
                                            {"c", pair(call.c)},
                                            {"pubSignals", std::move(pub)}}},
                      // What verifyProof does not check (docs/onchain.md): the verifier is the
                      // registry's for this claim and version, the root is the issuer's.
                      {"circuit_registry", deployment.circuit_registry.to_checksum()},
                      {"root_registry", deployment.root_registry.to_checksum()},
                      {"claim_key", key(verifier.claim_type)},
                      {"semver", verifier.version},
                      {"issuer", issuer},
                      {"issuer_key", key(issuer)},
                      {"public_signal_names", std::move(names)}};
}

HttpReply present_status(const core::ProofRecord& proof, core::Mode mode) {
  json::object out{{"proof_id", proof.id},
                   {"status", proof.status},
                   {"mode", core::mode_name(mode)},
                   {"claim_type", proof.claim_type},
                   {"circuit_version", proof.circuit_version},
                   {"created_at", core::rfc3339(proof.created_at)}};
  out["verified_at"] =
      proof.verified_at ? json::value(core::rfc3339(proof.verified_at)) : json::value(nullptr);
  if (!proof.error_code.empty()) out["error_code"] = proof.error_code;
  return json_reply(200, out);
}

}  // namespace pg::http
