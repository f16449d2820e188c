// The issuer node's HTTP routes (docs/issuers.md, "The issuer node's API") as an http::Handler for
// run_server: strict JSON bodies, the error table's status codes, admin routes behind a bearer
// token whose SHA-256 alone is kept.
#pragma once

#include <array>
#include <cstdint>

#include "http/message.hpp"
#include "http/server.hpp"
#include "issuer/node.hpp"

namespace pg::issuer {

/// The HTTP status of each error code (docs/issuers.md, "Errors").
int http_status(NodeErrorCode code) noexcept;

/// Answers one request (never throws).
http::HttpReply handle_issuer_request(IssuerNode& node,
                                      const std::array<std::uint8_t, 32>& admin_token_sha256,
                                      const http::HttpRequest& request);

/// The handler for run_server: everything but /healthz runs on the worker pool (authority calls
/// and long polls block).
http::Handler issuer_handler(IssuerNode& node, std::array<std::uint8_t, 32> admin_token_sha256);

}  // namespace pg::issuer
