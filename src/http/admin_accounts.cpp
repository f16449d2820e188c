// The admin API's credentials (see admin.hpp): who is calling (admin token or session cookie with
// its CSRF token), enrolment, sign-in, who-am-I and sign-out.
#include <boost/json.hpp>

#include "core/secrets.hpp"
#include "core/service.hpp"
#include "http/admin.hpp"
#include "http/presenter.hpp"
#include "http/qr.hpp"

namespace pg::http {

namespace json = boost::json;

namespace {
HttpReply err(core::ErrorCode code, std::string field, std::string detail) {
  return problem({code, std::move(field), std::move(detail)});
}

HttpReply json_reply(int status, const json::value& body) {
  HttpReply r;
  r.status = status;
  r.body = json::serialize(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

/// The value of cookie `name` in a Cookie header, or "".
std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (pair.starts_with(' ')) pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return {};
}

bool changes_state(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

/// The body as a JSON object whose members `fields` are strings (those in `optional` may be
/// absent), or the refusal naming the first wrong one.
std::variant<json::object, HttpReply> body_object(
    const HttpRequest& request, std::initializer_list<std::string_view> fields,
    std::initializer_list<std::string_view> optional) {
  const auto semi = request.content_type.find(';');
  std::string base(request.content_type.substr(0, semi));
  for (char& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  if (base != "application/json")
    return err(core::ErrorCode::kUnsupportedMediaType, "Content-Type", "must be application/json");
  boost::system::error_code ec;
  json::value v = json::parse(request.body, ec);
  if (ec || !v.is_object()) return err(core::ErrorCode::kInvalidRequest, "", "not a JSON object");
  json::object o = std::move(v.as_object());
  for (const auto f : fields) {
    const auto* m = o.if_contains(f);
    if (!m || !m->is_string())
      return err(core::ErrorCode::kInvalidRequest, std::string(f), "a string is required");
  }
  for (const auto f : optional) {
    const auto* m = o.if_contains(f);
    if (m && !m->is_string())
      return err(core::ErrorCode::kInvalidRequest, std::string(f), "must be a string");
  }
  return o;
}

std::string_view str(const json::object& o, std::string_view name) {
  const auto* m = o.if_contains(name);
  return m && m->is_string() ? std::string_view(m->as_string()) : std::string_view();
}

std::string session_cookie(std::string_view value, std::int64_t max_age_seconds) {
  return std::string(AdminApi::kCookie) + "=" + std::string(value) +
         "; HttpOnly; Secure; SameSite=Strict; Path=/api/admin; Max-Age=" +
         std::to_string(max_age_seconds);
}
}  // namespace

std::variant<AdminApi::Caller, HttpReply> AdminApi::authenticate(const HttpRequest& request) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!request.authorization.empty()) {
    if (!token_sha256_)
      return err(core::ErrorCode::kUnauthorized, "Authorization",
                 "no admin token is configured (admin_token_sha256); sign in instead");
    if (!request.authorization.starts_with(kBearer) ||
        !core::equal_ct(core::sha256(request.authorization.substr(kBearer.size())), *token_sha256_))
      return err(core::ErrorCode::kUnauthorized, "Authorization", "the admin token is not valid");
    return Caller{actor_, std::nullopt, {}};
  }
  const std::string_view token = cookie_value(request.cookie, kCookie);
  if (token.empty() || !accounts_)
    return err(core::ErrorCode::kUnauthorized, "Authorization",
               "sign in (POST /api/admin/session) or send the admin token "
               "(Authorization: Bearer <token>)");
  auto current = accounts_->session(token);
  if (!current)
    return err(core::ErrorCode::kUnauthorized, std::string(kCookie),
               "the session has ended or is not valid; sign in again");
  if (changes_state(request.method)) {
    const auto expected = core::sha256(request.csrf_token);
    std::array<std::uint8_t, 32> stored{};
    bool ok = !request.csrf_token.empty() && current->session.csrf_sha256.size() == 64;
    for (std::size_t i = 0; ok && i < 32; ++i) {
      const int hi = core::hex_digit_value(current->session.csrf_sha256[2 * i]);
      const int lo = core::hex_digit_value(current->session.csrf_sha256[2 * i + 1]);
      stored[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    if (!ok || !core::equal_ct(expected, stored))
      return err(core::ErrorCode::kUnauthorizedScope, "X-CSRF-Token",
                 "a state change needs the session's CSRF token (X-CSRF-Token)");
  }
  const core::Actor actor = core::admin_actor(current->account);
  return Caller{actor, std::move(current), std::string(token)};
}

HttpReply AdminApi::account_route(RouteId route, const HttpRequest& request) {
  if (!accounts_) return err(core::ErrorCode::kNotFound, "", "admin accounts are not served here");
  switch (route) {
    case RouteId::kAdminEnrolment: {
      auto body = body_object(request, {"token", "password"}, {"algorithm"});
      if (auto* bad = std::get_if<HttpReply>(&body)) return std::move(*bad);
      const auto& o = std::get<json::object>(body);
      auto started =
          accounts_->start_enrolment(str(o, "token"), str(o, "password"), str(o, "algorithm"));
      if (!started) return problem(started.error());
      return json_reply(200, json::object{{"admin_id", started->admin_id},
                                          {"email", started->email},
                                          {"secret", started->secret_base32},
                                          {"algorithm", started->algorithm},
                                          {"digits", 6},
                                          {"period", 30},
                                          {"otpauth_uri", started->otpauth_uri},
                                          {"qr_svg", qr_svg(started->otpauth_uri)}});
    }
    case RouteId::kAdminEnrolmentConfirm: {
      auto body = body_object(request, {"token", "code"}, {});
      if (auto* bad = std::get_if<HttpReply>(&body)) return std::move(*bad);
      const auto& o = std::get<json::object>(body);
      auto done = accounts_->confirm_enrolment(str(o, "token"), str(o, "code"));
      if (!done) return problem(done.error());
      return json_reply(200, json::object{{"admin_id", done->id},
                                          {"email", done->email},
                                          {"role", done->role},
                                          {"status", done->status}});
    }
    case RouteId::kAdminSignIn: {
      auto body = body_object(request, {"email", "password", "code"}, {});
      if (auto* bad = std::get_if<HttpReply>(&body)) return std::move(*bad);
      const auto& o = std::get<json::object>(body);
      auto outcome = accounts_->sign_in(str(o, "email"), str(o, "password"), str(o, "code"),
                                        request.peer_address);
      if (const auto* refused = std::get_if<core::SignInRefused>(&outcome)) {
        if (refused->retry_after_seconds > 0) {
          HttpReply r = err(core::ErrorCode::kRateLimited, "",
                            "too many failed sign-ins: the account is locked for a while");
          r.headers.emplace_back("Retry-After", std::to_string(refused->retry_after_seconds));
          return r;
        }
        // One answer for a wrong email, password or code: no account enumeration.
        return err(core::ErrorCode::kUnauthorized, "", "the email, password or code is wrong");
      }
      const auto& in = std::get<core::SignedIn>(outcome);
      HttpReply r = json_reply(200, json::object{{"admin_id", in.account.id},
                                                 {"email", in.account.email},
                                                 {"role", in.account.role},
                                                 {"csrf_token", in.csrf_token},
                                                 {"expires_at", core::rfc3339(in.expires_at)}});
      r.headers.emplace_back(
          "Set-Cookie", session_cookie(in.session_token, (in.expires_at - in.issued_at) / 1000));
      return r;
    }
    default:
      return err(core::ErrorCode::kNotFound, "", "no such admin route");
  }
}

HttpReply AdminApi::session_route(RouteId route, const Caller& caller) {
  if (route == RouteId::kAdminSignOut) {
    if (!caller.session_token.empty()) (void)accounts_->sign_out(caller.session_token);
    HttpReply r;
    r.status = 204;
    r.content_type.clear();
    r.headers.emplace_back("Set-Cookie", session_cookie("", 0));
    return r;
  }
  json::object o{{"actor_type", caller.actor.type}, {"role", core::role_name(caller.actor.role)}};
  if (caller.session) {
    o["admin_id"] = caller.session->account.id;
    o["email"] = caller.session->account.email;
    o["expires_at"] = core::rfc3339(caller.session->session.expires_at);
  }
  return json_reply(200, o);
}

}  // namespace pg::http
