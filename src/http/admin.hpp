// The admin API under /api/admin: webhook deliveries by partner and state, one delivery with its
// attempts, replay, a test event and revoking a partner's API key (the last three audited). A thin
// caller of core::AdminService: decode, call, present. Authenticated by an admin account's session
// cookie (with X-CSRF-Token on state changes; core::AccountService, admin_accounts.cpp) or by the
// admin token for automation, whose SHA-256 is the `admin_token_sha256` setting (the token itself
// is never stored) and whose role is `admin_token_role`. required_role (routes.hpp) says who may
// call what.
#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/accounts.hpp"
#include "core/admin_service.hpp"
#include "http/api.hpp"

namespace pg::http {

class AdminApi {
 public:
  /// `token_sha256` empty: the admin API is off (every call answers UNAUTHORIZED saying so).
  /// Every use case runs in `admin` (core::AdminService), audited as admin_api with the token's
  /// digest prefix as its id.
  /// `accounts` null: no admin accounts (sign-in routes answer NOT_FOUND), the token only.
  /// `usage_min_count`: GET /api/admin/usage's k (counts below it shown as "<k").
  AdminApi(core::AdminService& admin, std::optional<std::array<std::uint8_t, 32>> token_sha256,
           core::Role token_role = core::Role::kOperator, core::AccountService* accounts = nullptr,
           std::int64_t usage_min_count = 5);

  HttpReply handle(RouteId route, const HttpRequest& request,
                   const std::vector<std::string_view>& params);

  /// The session cookie's name.
  static constexpr std::string_view kCookie = "pg_admin";

  /// Webhook URLs on loopback accepted at create, update and rotation: the server's
  /// webhook_allow_loopback (development and tests only), off by default.
  void allow_loopback_webhooks(bool allow) { allow_loopback_webhooks_ = allow; }

  /// The acting admin for `route` (which needs a role): authenticated (token, or session
  /// cookie with its CSRF token on a state change) and holding at least the route's role; or the
  /// refusal. For the admin routes served outside this class (LifecycleApi).
  std::variant<core::Actor, HttpReply> admit(RouteId route, const HttpRequest& request);

 private:
  /// Who is calling: the token's actor, or a signed-in admin with their session.
  struct Caller {
    core::Actor actor;
    std::optional<core::CurrentAdmin> session;
    std::string session_token;
  };
  /// The caller, or the refusal: 401 without valid credentials, 403 for a cookie-authenticated
  /// state change without the session's X-CSRF-Token.
  std::variant<Caller, HttpReply> authenticate(const HttpRequest& request);
  /// The routes without a role (admin_accounts.cpp): enrolment and sign-in.
  HttpReply account_route(RouteId route, const HttpRequest& request);
  /// Who am I and sign-out (admin_accounts.cpp).
  HttpReply session_route(RouteId route, const Caller& caller);
  /// The partner routes (is_partner_admin_route), in admin_partners.cpp; the caller is authorized.
  HttpReply partners(RouteId route, const core::Actor& actor, std::string_view query,
                     const std::vector<std::string_view>& params, std::string_view body);

 private:
  core::AdminService& admin_;
  std::optional<std::array<std::uint8_t, 32>> token_sha256_;
  core::AccountService* accounts_;
  core::Actor actor_;
  std::int64_t usage_min_count_;
  bool allow_loopback_webhooks_ = false;
};

/// A partner as the admin API and CLI show it (never a key, key hash or webhook secret); the
/// detail adds its keys by prefix with their state at `now`. In admin_partners.cpp.
boost::json::object client_json(const core::Client& c);
boost::json::object client_detail_json(const core::ClientDetail& d, core::UnixMillis now);

/// A new admin token ("pga_" + 43 base64url chars) and its SHA-256 in hex.
std::pair<std::string, std::string> new_admin_token();

/// The value of `name` in a query string (no decoding beyond '+' and %XX), or nullopt.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace pg::http
