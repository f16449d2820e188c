// The admin API under /api/admin: webhook deliveries by partner and state, one delivery with its
// attempts, replay, and a test event (both audited). Authenticated by the admin token, whose
// SHA-256 is the `admin_token_sha256` setting (the token itself is never stored).
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/audit.hpp"
#include "core/outbox.hpp"
#include "core/ports.hpp"
#include "http/api.hpp"

namespace pg::http {

class AdminApi {
 public:
  /// `token_sha256` empty: the admin API is off (every call answers UNAUTHORIZED saying so).
  /// Replays and test events leave an entry in `audit` (actor admin_api) once they are done.
  AdminApi(core::OutboxStore& outbox, core::Store& store, core::AuditStore& audit,
           const core::Clock& clock, std::optional<std::array<std::uint8_t, 32>> token_sha256,
           std::function<void()> notify_worker);

  HttpReply handle(RouteId route, std::string_view authorization, std::string_view query,
                   const std::vector<std::string_view>& params);

 private:
  std::optional<HttpReply> authorize(std::string_view authorization) const;
  /// Records an admin API action after it succeeded; when the write fails, the INTERNAL answer
  /// to give instead (saying the action was done).
  std::optional<HttpReply> record(std::string_view action, std::string details_json);

  core::OutboxStore& outbox_;
  core::Store& store_;
  core::AuditStore& audit_;
  const core::Clock& clock_;
  std::optional<std::array<std::uint8_t, 32>> token_sha256_;
  std::function<void()> notify_worker_;
};

/// A new admin token ("pga_" + 43 base64url chars) and its SHA-256 in hex.
std::pair<std::string, std::string> new_admin_token();

/// The value of `name` in a query string (no decoding beyond '+' and %XX), or nullopt.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace pg::http
