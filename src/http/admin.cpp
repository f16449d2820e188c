// The admin API (see admin.hpp).
#include "http/admin.hpp"

#include <boost/json.hpp>

#include "core/secrets.hpp"
#include "core/service.hpp"
#include "http/admin_reports.hpp"
#include "http/presenter.hpp"

namespace pg::http {

namespace json = boost::json;

namespace {
HttpReply err(core::ErrorCode code, std::string field, std::string detail) {
  return problem({code, std::move(field), std::move(detail)});
}

/// An admin use case's refusal, presented like every other (src/http/presenter.cpp).
HttpReply refusal(const core::ApiError& e) {
  return problem(e);
}

json::object delivery_json(const core::Delivery& d) {
  json::object o{
      {"event_id", d.event.event_id},     {"client_id", d.event.client_id},
      {"event_type", d.event.event_type}, {"status", d.status},
      {"attempts", d.attempts},           {"created_at", core::rfc3339(d.event.created_at)}};
  o["proof_id"] = d.event.proof_id.empty() ? json::value(nullptr) : json::value(d.event.proof_id);
  o["next_attempt_at"] = d.status == core::kDeliveryPending
                             ? json::value(core::rfc3339(d.next_attempt_at))
                             : json::value(nullptr);
  o["delivered_at"] =
      d.delivered_at ? json::value(core::rfc3339(d.delivered_at)) : json::value(nullptr);
  o["last_error"] = d.last_error.empty() ? json::value(nullptr) : json::value(d.last_error);
  return o;
}

}  // namespace

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  std::size_t start = 0;
  while (start <= query.size()) {
    const auto amp = query.find('&', start);
    const std::string_view pair =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      std::string out;
      const std::string_view v =
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '+') {
          out.push_back(' ');
        } else if (v[i] == '%' && i + 2 < v.size() + 0 && i + 2 <= v.size() - 1 + 1 &&
                   core::hex_digit_value(v[i + 1]) >= 0 && i + 2 < v.size() &&
                   core::hex_digit_value(v[i + 2]) >= 0) {
          out.push_back(static_cast<char>(core::hex_digit_value(v[i + 1]) * 16 +
                                          core::hex_digit_value(v[i + 2])));
          i += 2;
        } else {
          out.push_back(v[i]);
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return std::nullopt;
}

std::pair<std::string, std::string> new_admin_token() {
  const std::string token = "pga_" + core::base64url(core::random_bytes(32));
  const auto digest = core::sha256(token);
  return {token, core::hex(digest)};
}

AdminApi::AdminApi(core::AdminService& admin,
                   std::optional<std::array<std::uint8_t, 32>> token_sha256, core::Role token_role,
                   core::AccountService* accounts, std::int64_t usage_min_count)
    : admin_(admin),
      token_sha256_(token_sha256),
      accounts_(accounts),
      // The actor is the token, by the first 12 hex digits of its configured SHA-256 (never the
      // token).
      actor_{std::string(core::kActorAdminApi),
             token_sha256 ? "token:" + core::hex(*token_sha256).substr(0, 12) : std::string(),
             token_role},
      usage_min_count_(usage_min_count) {}

std::variant<core::Actor, HttpReply> AdminApi::admit(RouteId route, const HttpRequest& request) {
  const auto needed = required_role(route);
  if (!needed) return err(core::ErrorCode::kNotFound, "", "no such admin route");
  auto who = authenticate(request);
  if (auto* denied = std::get_if<HttpReply>(&who)) return std::move(*denied);
  const Caller& caller = std::get<Caller>(who);
  if (!core::role_allows(caller.actor.role, *needed)) {
    return err(core::ErrorCode::kUnauthorizedScope, "role",
               "this needs the " + std::string(core::role_name(*needed)) +
                   " role (yours: " + std::string(core::role_name(caller.actor.role)) + ")");
  }
  return caller.actor;
}

HttpReply AdminApi::handle(RouteId route, const HttpRequest& request,
                           const std::vector<std::string_view>& params) {
  const auto needed = required_role(route);
  if (!needed) return account_route(route, request);
  auto who = authenticate(request);
  if (auto* denied = std::get_if<HttpReply>(&who)) return std::move(*denied);
  const Caller& caller = std::get<Caller>(who);
  if (!core::role_allows(caller.actor.role, *needed)) {
    return err(core::ErrorCode::kUnauthorizedScope, "role",
               "this needs the " + std::string(core::role_name(*needed)) +
                   " role (yours: " + std::string(core::role_name(caller.actor.role)) + ")");
  }
  if (route == RouteId::kAdminWhoAmI || route == RouteId::kAdminSignOut)
    return session_route(route, caller);
  const core::Actor& actor = caller.actor;
  const auto q = request.target.find('?');
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);
  if (is_partner_admin_route(route)) return partners(route, actor, query, params, request.body);
  const auto json_reply = [](int status, const json::value& body) {
    HttpReply r;
    r.status = status;
    r.body = json::serialize(body);
    return r;
  };
  switch (route) {
    case RouteId::kAdminDeliveries: {
      std::size_t limit = 100;
      if (const auto l = query_param(query, "limit")) {
        if (l->empty() || l->size() > 4 || l->find_first_not_of("0123456789") != std::string::npos)
          return err(core::ErrorCode::kInvalidRequest, "limit",
                     "must be an integer from 1 to 1000");
        limit = std::stoul(*l);
      }
      auto found = admin_.list_deliveries(query_param(query, "client_id").value_or(""),
                                          query_param(query, "status").value_or(""), limit);
      if (!found) return refusal(found.error());
      json::array items;
      for (const auto& d : found.value()) items.push_back(delivery_json(d));
      return json_reply(200, json::object{{"deliveries", items}});
    }
    case RouteId::kAdminDelivery: {
      auto found = admin_.find_delivery(params.at(0));
      if (!found) return refusal(found.error());
      json::object o = delivery_json(found->delivery);
      json::array attempts;
      for (const auto& a : found->attempts) {
        json::object ao{{"attempt", a.attempt},
                        {"started_at", core::rfc3339(a.started_at)},
                        {"latency_ms", a.latency_ms}};
        ao["status_code"] = a.status_code ? json::value(a.status_code) : json::value(nullptr);
        ao["error"] = a.error.empty() ? json::value(nullptr) : json::value(a.error);
        attempts.push_back(ao);
      }
      o["attempts"] = attempts;
      o["payload"] = json::parse(found->delivery.event.payload);
      return json_reply(200, o);
    }
    case RouteId::kAdminReplay: {
      auto replayed = admin_.replay(actor, params.at(0));
      if (!replayed) return refusal(replayed.error());
      return json_reply(202, delivery_json(replayed.value()));
    }
    case RouteId::kAdminTestWebhook: {
      auto sent = admin_.test_webhook(actor, params.at(0));
      if (!sent) return refusal(sent.error());
      return json_reply(202, json::object{{"event_id", sent->event_id}, {"status", "pending"}});
    }
    case RouteId::kAdminRevokeKey: {
      const std::string client_id(params.at(0));
      if (!core::is_uuid(client_id))
        return err(core::ErrorCode::kNotFound, "client_id", "no partner with this id");
      auto revoked = admin_.revoke_key(actor, client_id);
      if (!revoked) return refusal(revoked.error());
      json::object o{{"client_id", revoked->client_id},
                     {"revoked", true},
                     {"already_revoked", revoked->already_revoked}};
      o["revoked_at"] = revoked->already_revoked ? json::value(nullptr)
                                                 : json::value(core::rfc3339(revoked->revoked_at));
      return json_reply(200, o);
    }
    case RouteId::kAdminAudit:
      return latest_audit_reply(admin_, query);
    case RouteId::kAdminUsage:
      return usage_reply(admin_, query, request.accept, usage_min_count_);
    default:
      return err(core::ErrorCode::kNotFound, "", "no such admin route");
  }
}

}  // namespace pg::http
