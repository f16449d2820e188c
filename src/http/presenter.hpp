// The one presenter of the service: turns core's domain outcomes and error values into HTTP
// statuses, headers and bodies (RFC 9457 problem+json for every refusal). Nothing else decides a
// status code.
#pragma once

#include <boost/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "chain/calldata.hpp"
#include "chain/deployment.hpp"
#include "core/errors.hpp"
#include "core/model.hpp"
#include "core/service.hpp"
#include "http/message.hpp"

namespace pg::http {

/// The HTTP status an error code is answered with (docs/api.md's error table).
int status_of(core::ErrorCode code) noexcept;
/// A short human title for the problem+json `title`.
std::string_view title_of(core::ErrorCode code) noexcept;

/// The problem+json answer for a refusal, with `extra` members merged into the body. Adds
/// `Retry-After` when the error carries a retry hint, `WWW-Authenticate` for UNAUTHORIZED, and
/// `"outcome":"rejected","proof_id"` when the refused attempt was recorded.
HttpReply problem(const core::ApiError& error, const boost::json::object& extra = {});

/// 201 with the stored proof request, its wallet URI and the URI's QR code (SVG).
HttpReply present_request(const core::ProofRequest& request, core::Mode mode = core::Mode::kLive);
/// 200 {status, proof_id, claim_type, circuit_version, nullifier, ts}, or the refusal;
/// `Idempotent-Replayed: true` on a stored outcome.
/// `mode`: the partner client's, in the verified answer (api.cpp adds it to refusals).
/// `onchain`, when given, is added to a verified answer as its "onchain" member.
HttpReply present_verify(const core::VerifyOutcome& outcome, core::Mode mode = core::Mode::kLive,
                         const boost::json::object* onchain = nullptr);
/// The calldata bundle of a "mode":"onchain" answer (docs/onchain.md): chain_id, verifier,
/// function, selector, calldata, args {a, b, c, pubSignals}, and what a partner's contract checks
/// besides verifyProof: circuit_registry, root_registry, claim_key (keccak256(claim_type)),
/// semver, issuer, issuer_key (keccak256(issuer)) and public_signal_names (pubSignals' order).
/// `issuer`: the issuer whose root the proof uses; `signal_names`: the circuit's public signals.
boost::json::object onchain_bundle(const chain::Deployment& deployment,
                                   const chain::DeployedVerifier& verifier,
                                   const chain::VerifierCall& call, std::string_view issuer,
                                   std::span<const std::string> signal_names);
/// 200 with a proof's metadata.
HttpReply present_status(const core::ProofRecord& proof, core::Mode mode = core::Mode::kLive);

}  // namespace pg::http
