// OAuth2 client credentials over HTTP (see oauth_api.hpp).
#include "http/oauth_api.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "core/admin_service.hpp"
#include "core/secrets.hpp"
#include "http/admin.hpp"
#include "http/presenter.hpp"

namespace pg::http {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxFormBytes = 8192;

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::optional<std::string> form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = core::hex_digit_value(s[i + 1]);
      const int lo = core::hex_digit_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// Standard base64 with padding (RFC 4648 §4), strictly: through the strict base64url decoder.
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  std::string url(text.substr(0, text.size() - pad));
  for (char& c : url) {
    if (c == '+') {
      c = '-';
    } else if (c == '/') {
      c = '_';
    } else if (c == '-' || c == '_' || c == '=') {
      return std::nullopt;
    }
  }
  return core::base64url_decode(url);
}

HttpReply oauth_json(int status, const json::object& body) {
  HttpReply r;
  r.status = status;
  r.body = json::serialize(body);
  // RFC 6749 §5.1: tokens and their errors are never cached.
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

HttpReply oauth_error(const core::OAuthError& e, bool challenge) {
  HttpReply r = oauth_json(e.status(),
                           json::object{{"error", e.error}, {"error_description", e.description}});
  if (e.status() == 401) {
    // Counted by the failed-authentication throttle like any UNAUTHORIZED answer.
    r.error_code = std::string(core::error_name(core::ErrorCode::kUnauthorized));
    if (challenge) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"proofgate\"");
  } else {
    r.error_code = "INVALID_REQUEST";
  }
  return r;
}

}  // namespace

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i <= body.size() && !body.empty()) {
    const auto end = std::min(body.find('&', i), body.size());
    const std::string_view pair = body.substr(i, end - i);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      auto name = form_decode(pair.substr(0, eq));
      auto value = form_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (!name || !value) return std::nullopt;
      out.emplace_back(std::move(*name), std::move(*value));
    }
    i = end + 1;
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> basic_credentials(
    std::string_view authorization) {
  if (!iequals_prefix(authorization, "basic ")) return std::nullopt;
  const auto decoded = base64_decode(authorization.substr(6));
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto id = form_decode(std::string_view(*decoded).substr(0, colon));
  auto secret = form_decode(std::string_view(*decoded).substr(colon + 1));
  if (!id || !secret) return std::nullopt;
  return std::pair{std::move(*id), std::move(*secret)};
}

HttpReply OAuthApi::handle(RouteId route, const HttpRequest& request,
                           const std::vector<std::string_view>& params) {
  switch (route) {
    case RouteId::kOAuthToken:
      return token(request);
    case RouteId::kJwks: {
      HttpReply r;
      r.body = oauth_.jwks_json();
      // Briefly: a rotated-in key shows within a minute to verifiers that cache the set.
      r.headers.emplace_back("Cache-Control", "public, max-age=60");
      return r;
    }
    case RouteId::kAdminRotateClientSecret: {
      if (!admin_)
        return problem({core::ErrorCode::kNotFound, "", "the admin API is not served here"});
      auto admitted = admin_->admit(route, request);
      if (auto* denied = std::get_if<HttpReply>(&admitted)) return std::move(*denied);
      const core::Actor& actor = std::get<core::Actor>(admitted);
      const std::string_view client_id = params.at(0);
      core::AuditEntry audit;
      audit.actor_type = actor.type;
      audit.actor_id = actor.id;
      audit.action = "client.secret_rotated";
      audit.details_json = json::serialize(json::object{{"client_id", client_id}});
      audit.at = clock_.now_ms();
      auto rotated = core::rotate_client_secret(store_, client_id, audit.at, audit);
      if (!rotated) return problem(rotated.error());
      HttpReply r;
      r.body = json::serialize(json::object{{"client_id", rotated->client_id},
                                            {"client_secret", rotated->client_secret}});
      return r;
    }
    default:
      return problem({core::ErrorCode::kNotFound, "", "no such route"});
  }
}

HttpReply OAuthApi::token(const HttpRequest& request) {
  const auto invalid_request = [](std::string description) {
    return oauth_error({"invalid_request", std::move(description), false}, false);
  };
  const std::string_view type = request.content_type.substr(0, request.content_type.find(';'));
  std::string lowered(type);
  while (!lowered.empty() && lowered.back() == ' ') lowered.pop_back();
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lowered != "application/x-www-form-urlencoded")
    return invalid_request("the body must be application/x-www-form-urlencoded");
  if (request.body.size() > kMaxFormBytes) return invalid_request("the body is too large");
  const auto form = parse_form(request.body);
  if (!form) return invalid_request("the body is not valid form encoding");
  core::TokenRequest t;
  std::optional<std::string> body_id, body_secret;
  for (const auto& [name, value] : *form) {
    std::optional<std::string>* slot = name == "grant_type"      ? &t.grant_type
                                       : name == "scope"         ? &t.scope
                                       : name == "client_id"     ? &body_id
                                       : name == "client_secret" ? &body_secret
                                                                 : nullptr;
    if (!slot) continue;  // RFC 6749 §3.2: unknown parameters are ignored
    if (*slot) return invalid_request(name + " is given more than once");
    *slot = value;
  }
  const bool has_authorization = !request.authorization.empty();
  if (has_authorization) {
    if (body_id || body_secret)
      return invalid_request("use one client authentication: Basic or client_secret_post");
    auto basic = basic_credentials(request.authorization);
    if (!basic) {
      return oauth_error({"invalid_client", "the Authorization header is not valid Basic", true},
                         true);
    }
    t.client_id = std::move(basic->first);
    t.client_secret = std::move(basic->second);
    t.basic = true;
  } else {
    if (!body_id || !body_secret) {
      return oauth_error({"invalid_client",
                          "client authentication is required (Basic or client_secret_post)", false},
                         true);
    }
    t.client_id = std::move(*body_id);
    t.client_secret = std::move(*body_secret);
  }
  auto issued = oauth_.issue(t);
  if (!issued) return oauth_error(issued.error(), t.basic);
  HttpReply r = oauth_json(200, json::object{{"access_token", issued->access_token},
                                             {"token_type", "Bearer"},
                                             {"expires_in", issued->expires_in},
                                             {"scope", issued->scope}});
  r.partner_id = issued->client_id;
  r.mode = std::string(core::mode_name(issued->mode));  // for the log line
  return r;
}

}  // namespace pg::http
