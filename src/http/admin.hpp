// The admin API under /api/admin: webhook deliveries by partner and state, one delivery with its
// attempts, replay, a test event and revoking a partner's API key (the last three audited). A thin
// caller of core::AdminService: decode, call, present. Authenticated by the admin token, whose
// SHA-256 is the `admin_token_sha256` setting (the token itself is never stored).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/admin_service.hpp"
#include "http/api.hpp"

namespace pg::http {

class AdminApi {
 public:
  /// `token_sha256` empty: the admin API is off (every call answers UNAUTHORIZED saying so).
  /// Every use case runs in `admin` (core::AdminService), audited as admin_api with the token's
  /// digest prefix as its id.
  /// `usage_min_count`: GET /api/admin/usage's k (counts below it shown as "<k").
  AdminApi(core::AdminService& admin, std::optional<std::array<std::uint8_t, 32>> token_sha256,
           std::int64_t usage_min_count = 5);

  /// `accept`: the request's Accept header (the usage report answers CSV for text/csv).
  HttpReply handle(RouteId route, std::string_view authorization, std::string_view query,
                   const std::vector<std::string_view>& params, std::string_view accept = {});

 private:
  std::optional<HttpReply> authorize(std::string_view authorization) const;

  core::AdminService& admin_;
  std::optional<std::array<std::uint8_t, 32>> token_sha256_;
  core::Actor actor_;
  std::int64_t usage_min_count_;
};

/// A new admin token ("pga_" + 43 base64url chars) and its SHA-256 in hex.
std::pair<std::string, std::string> new_admin_token();

/// The value of `name` in a query string (no decoding beyond '+' and %XX), or nullopt.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace pg::http
